#!/bin/bash
# tests/bench/rerun-test.sh [CASE]: check in-l1.sh's rerun_if_testbed_lost
# without the test bed. The function is taken from in-l1.sh itself; the
# boot it would rerun is a stub, and the boot's files are the ones
# tests/testbed/failures-test.sh builds. What matters: a boot the test bed
# killed is set aside and booted again; one with a stall: a failed test or
# a dead network before it died keeps its record; one that died of
# anything else is left alone. --list prints the cases.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CASES="clean-death stall-before failed-before netdead-before other-death aborted"

if [ "${1:-}" = --list ]; then
	echo "$CASES"
	exit 0
fi

# shellcheck source-path=SCRIPTDIR source=../testbed/failures.sh
. "$ROOT/tests/testbed/failures.sh"
fn=$(sed -n '/^rerun_if_testbed_lost() {/,/^}/p' "$ROOT/tests/bench/in-l1.sh")
[ -n "$fn" ] || { echo "FAIL: no rerun_if_testbed_lost in tests/bench/in-l1.sh"; exit 1; }
eval "$fn"

D=$(mktemp -d "${TMPDIR:-/tmp}/rerun-test.XXXXXX") || exit 2
trap 'rm -rf "$D"' EXIT
# Stubs for what the function calls (shellcheck cannot see through eval).
# shellcheck disable=SC2317
progress() { :; }
# shellcheck disable=SC2317
boot_one() { BOOTED="$BOOTED $1-$2"; mkdir -p "$OUT/$1-$2"; echo rerun >"$OUT/$1-$2/boot.txt"; }

# A lazy boot whose guest died in guest->host P=4, after EVENTS (the
# events.tsv rows before the death), of the test bed's failed walk or not.
setup() { # WALK-FAILURE(0/1) EVENT-ROWS...
	# shellcheck disable=SC2034 # B_NAME, B_STEP: read by the function
	OUT=$D/out B_DIR=$D/out/vmm-lazy-2 B_NAME="vmm-lazy rep 2/3" B_STEP=65 SUITE_ABORT='' BOOTED=''
	rm -rf "$OUT"
	mkdir -p "$B_DIR"
	echo first >"$B_DIR/boot.txt"
	printf 'VMM-GUEST-INIT-OK\n' >"$B_DIR/console"
	local info=0x1080000b0e
	[ "$1" = 1 ] || info=0x80000303
	printf 'l2_shutdown: (shutdown_interception+0x0/0x80 [kvm_amd]) exitcode=0x7f exitintinfo=%s cs=0x10 cr2=0xfffffe0000000080\n' "$info" >"$B_DIR/triple-fault.txt"
	printf '%s\n' 'rip      0xffffffff8787e916: mapped -> L5[511]=0x1' \
		'cr2      0xfffffe0000000080: mapped -> L5[511]=0x1' \
		"VERDICT: the kernel half of CR3's table is the reference one: the tables in memory were intact" \
		>"$B_DIR/crash-dump-check"
	shift
	{
		printf 't_s\tevent\ttest\ttap_rx\ttap_tx\tutime\tstime\tgtime\tvhost_ticks\tkp_miss\tkp_update\tkp_inval\trss_kib\trss_guest_kib\tnote\n'
		printf '0.1\tstart\t-\t\t\t\t\t\t\t\t\t\t\t\t\n'
		local row ev t note
		for row in "$@"; do
			IFS=: read -r ev t note <<<"$row"
			printf '1.0\t%s\t%s\t\t\t\t\t\t\t\t\t\t\t\t%s\n' "$ev" "$t" "$note"
		done
		printf '49.8\texit\t-\t\t\t\t\t\t\t\t\t\t\t\tstatus=1\n'
	} >"$B_DIR/events.tsv"
}

# Rows: EVENT:TEST:NOTE.
OK_ROWS=(begin:rr: end:rr:status=ok begin:tx1: end:tx1:status=ok begin:tx4:)

reran() {
	[ "$BOOTED" = " vmm-lazy-2" ] || { echo "FAIL $CASE: not booted again (booted:$BOOTED)"; return 1; }
	[ "$(cat "$OUT/testbed-lost/vmm-lazy-2/boot.txt")" = first ] || { echo "FAIL $CASE: first attempt not in testbed-lost/"; return 1; }
	grep -q "^vmm-lazy	2	the test bed's failed page walk" "$OUT/testbed-lost.tsv" || { echo "FAIL $CASE: testbed-lost.tsv: $(cat "$OUT/testbed-lost.tsv")"; return 1; }
	[ "$(cat "$OUT/vmm-lazy-2/boot.txt")" = rerun ] || { echo "FAIL $CASE: the rerun's record is not in place"; return 1; }
	echo "ok $CASE"
}

kept() {
	[ -z "$BOOTED" ] || { echo "FAIL $CASE: booted again:$BOOTED"; return 1; }
	if [ -e "$OUT/testbed-lost" ] || [ -e "$OUT/testbed-lost.tsv" ]; then
		echo "FAIL $CASE: set aside"
		return 1
	fi
	[ "$(cat "$OUT/vmm-lazy-2/boot.txt")" = first ] || { echo "FAIL $CASE: its record changed"; return 1; }
	echo "ok $CASE"
}

# shellcheck disable=SC2034 # SUITE_ABORT: read by the function
run_case() {
	CASE=$1
	case $1 in
	clean-death) setup 1 "${OK_ROWS[@]}" && rerun_if_testbed_lost vmm-lazy 2 60 && reran ;;
	stall-before) setup 1 begin:rr: end:rr:status=ok begin:tx1: stall:tx1:no_data end:tx1:status=ok begin:tx4: &&
		rerun_if_testbed_lost vmm-lazy 2 60 && kept ;;
	failed-before) setup 1 begin:rr: end:rr:status=failed begin:tx1: end:tx1:status=ok begin:tx4: &&
		rerun_if_testbed_lost vmm-lazy 2 60 && kept ;;
	netdead-before) setup 1 begin:rr: end:rr:status=ok netdead:-: && rerun_if_testbed_lost vmm-lazy 2 60 && kept ;;
	other-death) setup 0 "${OK_ROWS[@]}" && rerun_if_testbed_lost vmm-lazy 2 60 && kept ;;
	aborted) setup 1 "${OK_ROWS[@]}" && SUITE_ABORT=wedged && rerun_if_testbed_lost vmm-lazy 2 60 && kept ;;
	*) echo "unknown case $1"; return 2 ;;
	esac
}

rc=0
for c in ${1:-$CASES}; do
	run_case "$c" || rc=1
done
exit "$rc"
