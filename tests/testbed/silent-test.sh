#!/bin/bash
# tests/testbed/silent-test.sh [CASE]: check run-in-l1.sh's silent-L1
# watcher without booting L1. A stand-in for qemu-system-x86_64 plays L1:
# it finds its run directory on the -append line, bumps the heartbeat as
# l1-init does, and then either keeps beating and ends with a status
# (beating: must not be stopped although it outlives TESTBED_SILENT_S), or
# stops beating and hangs (silent: must be stopped with status 125 and
# an L1-HUNG line, well before TESTBED_TIMEOUT). --list prints the cases.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
CASES="beating silent"
if [ "${1:-}" = --list ]; then
	echo "$CASES"
	exit 0
fi
case ${1:-} in beating | silent) CASE=$1 ;; *) echo "usage: $0 beating|silent|--list" >&2; exit 2 ;; esac

D=$(mktemp -d "${TMPDIR:-/tmp}/silent-test.XXXXXX") || exit 2
trap 'rm -rf "$D"' EXIT
cat >"$D/qemu-system-x86_64" <<'STUB'
#!/bin/bash
# Stand-in L1 for silent-test.sh; the case comes from SILENT_TEST_CASE.
project='' run=''
for a in "$@"; do
	for w in $a; do
		case $w in
		tb.project=*) project=${w#tb.project=} ;;
		tb.run=*) run=${w#tb.run=} ;;
		esac
	done
done
dir=$project/$run
[ -d "$dir" ] || { echo "stub: no run directory in '$*'"; exit 3; }
echo "L1: stand-in started"
for n in $(seq 1 12); do
	echo "$n" >"$dir/heartbeat"
	sleep 1
	# silent: beat three times, then hang with nothing more to say.
	[ "$SILENT_TEST_CASE" = silent ] && [ "$n" -ge 3 ] && while :; do sleep 1; done
done
echo 0 >"$dir/status"
echo "L1-EXIT-STATUS=0"
STUB
chmod +x "$D/qemu-system-x86_64"

start=$(date +%s)
rc=0
PATH=$D:$PATH SILENT_TEST_CASE=$CASE TESTBED_SILENT_S=5 TESTBED_TIMEOUT=60 \
	"$HERE/run-in-l1.sh" true >"$D/out" 2>&1 </dev/null || rc=$?
took=$(($(date +%s) - start))
log=$(sed -n 's/.*log: \(.*console\.log\).*/\1/p' "$D/out" | tail -n 1)
case $CASE in
beating)
	if [ "$rc" -ne 0 ] || grep -q 'L1-HUNG' "$log" 2>/dev/null; then
		echo "FAIL beating: an L1 that kept beating for 12 s (limit 5 s) ended with $rc"
		tail -n 5 "$D/out"
		exit 1
	fi
	;;
silent)
	if [ "$rc" -ne 125 ] || ! grep -q '^L1-HUNG: no heartbeat' "$log" 2>/dev/null || [ "$took" -ge 55 ]; then
		echo "FAIL silent: an L1 that stopped beating ended with $rc after ${took}s (want 125, an L1-HUNG line, < 55 s)"
		tail -n 5 "$D/out"
		exit 1
	fi
	;;
esac
echo "ok $CASE (status $rc after ${took}s)"
