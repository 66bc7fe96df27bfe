#!/bin/sh
# run.sh smoke|long FUZZDIR TARGET... - run libFuzzer targets built by fuzz.mk.
#
#   smoke: each target from its seeds (tests/fuzz/corpus/<t>) for
#          FUZZ_SMOKE_RUNS inputs (at most 60 s), in a scratch corpus that
#          is thrown away, so every smoke run starts from the same seeds.
#   long:  each target for FUZZ_SECONDS, or FUZZ_RUNS inputs if set, growing
#          FUZZDIR/corpus/<t> across runs.
# Any finding (crash, trapped invariant, leak, timeout) makes the run fail;
# its input is in FUZZDIR/artifacts/<t>/ and the log's tail is printed.
# Every target runs even after a failure, so one run reports them all.
set -u
mode=$1 dir=$2
shift 2
nice_cmd=${FUZZ_NICE-nice -n 19}
failed=""
for t in "$@"; do
	seeds=tests/fuzz/corpus/$t
	art=$dir/artifacts/$t
	log=$dir/$t.$mode.log
	mkdir -p "$art" "$seeds"
	dict=""
	[ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
	if [ "$mode" = smoke ]; then
		work=$dir/smoke/$t
		rm -rf "$work" && mkdir -p "$work"
		limits="-runs=${FUZZ_SMOKE_RUNS:-20000} -max_total_time=60"
	else
		work=$dir/corpus/$t
		mkdir -p "$work"
		if [ -n "${FUZZ_RUNS:-}" ]; then
			limits="-runs=$FUZZ_RUNS"
		else
			limits="-max_total_time=${FUZZ_SECONDS:-600}"
		fi
	fi
	echo "  FUZZ    $t ($mode)"
	start=$(date +%s%N)
	# shellcheck disable=SC2086 # $nice_cmd, $limits and $dict are word lists
	if $nice_cmd "$dir/$t" $limits $dict -timeout=20 -print_final_stats=1 \
		-artifact_prefix="$art/" "$work" "$seeds" >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		ms=$((($(date +%s%N) - start) / 1000000))
		echo "          $runs runs in $ms ms ($((runs * 1000 / (ms + 1))) exec/s), no finding"
	else
		echo "FUZZ FINDING: $t (log $log, inputs in $art/):"
		tail -n 40 "$log"
		failed="$failed $t"
	fi
done
if [ -n "$failed" ]; then
	echo "fuzz: findings in:$failed"
	exit 1
fi
