#!/bin/bash
# tests/bench/tracing-test.sh [CASE]: check, without the test bed, that the
# bench's IOTLB counters (in-l1.sh kp_setup/kp_cleanup, taken from the
# script itself) keep task-name recording off while their kprobe events
# are on, and put the old setting back after. Recording task names
# live-patches __schedule when the first event is enabled and when the
# last is disabled, which hangs the test bed's L1 (docs/STRICT-CRASH.md,
# Session 24). A fake tracefs folder stands in for the kernel's. --list
# prints the cases.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CASES="off-while-counting put-back no-setting"

if [ "${1:-}" = --list ]; then
	echo "$CASES"
	exit 0
fi

# shellcheck source-path=SCRIPTDIR source=../take.sh
. "$ROOT/tests/take.sh"
for f in KP_PROBES kp_setup kp_cleanup; do take "$f" "$ROOT/tests/bench/in-l1.sh"; done

D=$(mktemp -d "${TMPDIR:-/tmp}/tracing-test.XXXXXX") || exit 2
trap 'rm -rf "$D"' EXIT

# A tracefs as kp_setup finds it; record-cmd holds SETTING, or, with an
# empty SETTING, the kernel has no such option (nor can a file be made).
fake_tracefs() { # SETTING
	TRACE=$D/tracefs
	rm -rf "$TRACE"
	mkdir -p "$TRACE/events/vbench"
	: >"$TRACE/kprobe_events"
	echo 0 >"$TRACE/events/vbench/enable"
	echo 1 >"$TRACE/tracing_on"
	[ -z "$1" ] || { mkdir "$TRACE/options" && echo "$1" >"$TRACE/options/record-cmd"; }
}

run_case() {
	local rc
	# shellcheck disable=SC2034 # read by the functions taken from in-l1.sh
	BENCH_KPROBES=1 KP_OK=0 KP_REASON='' KP_MISS_SYM='' KP_RECORD_CMD=''
	case $1 in
	off-while-counting)
		fake_tracefs 1
		kp_setup
		[ "$KP_OK" = 1 ] || { echo "kp_setup failed: $KP_REASON"; return 1; }
		[ "$(cat "$TRACE/events/vbench/enable")" = 1 ] || { echo "the events are not on"; return 1; }
		rc=$(cat "$TRACE/options/record-cmd")
		[ "$rc" = 0 ] || { echo "record-cmd is $rc while the events are on"; return 1; }
		;;
	put-back)
		fake_tracefs 1
		kp_setup
		kp_cleanup
		[ "$(cat "$TRACE/events/vbench/enable")" = 0 ] || { echo "the events are still on"; return 1; }
		rc=$(cat "$TRACE/options/record-cmd")
		[ "$rc" = 1 ] || { echo "record-cmd is $rc after kp_cleanup, not the 1 it was"; return 1; }
		;;
	no-setting) # a kernel without the option: counting works, nothing is made up
		fake_tracefs ''
		kp_setup
		[ "$KP_OK" = 1 ] || { echo "kp_setup failed: $KP_REASON"; return 1; }
		kp_cleanup
		[ ! -e "$TRACE/options" ] || { echo "kp_setup or kp_cleanup made an options folder"; return 1; }
		;;
	*)
		echo "unknown case"
		return 2
		;;
	esac
}

rc=0
for c in ${1:-$CASES}; do
	if out=$(run_case "$c" 2>&1); then
		echo "ok $c"
	else
		echo "FAIL $c: $out"
		rc=1
	fi
done
exit $rc
