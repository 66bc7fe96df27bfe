#!/bin/sh
# Run each cmocka test binary; report a total and fail if any failed.
# A test that hangs (a blocking read on a fake vhost fd did, once) is a
# failure after UNIT_TIMEOUT seconds, not a CI job that never ends.
pass=0 fail=0
limit=${UNIT_TIMEOUT:-300}
for t in "$@"; do
	if timeout "$limit" "$t"; then
		pass=$((pass + 1))
	else
		rc=$?
		fail=$((fail + 1))
		[ "$rc" -eq 124 ] && echo "TIMED OUT after ${limit} s: $t"
		echo "FAILED: $t"
	fi
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
