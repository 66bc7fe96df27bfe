#!/bin/bash
# tests/bench/rerun-test.sh [CASE]: check in-l1.sh's rerun_if_testbed_lost
# without the test bed. The function (and the helpers and the events.tsv
# columns it reads) are taken from in-l1.sh itself; the boot it would
# rerun is a stub, and the boot's files are the ones
# tests/testbed/failures-test.sh builds. What matters: a boot the test bed
# killed is set aside and booted again; one with a stall, a failed test or
# a dead network before it died keeps its record, except a guest that got
# L1's registers whose one stall is its death by all the evidence; one
# that died of anything else is left alone. --list prints the cases.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CASES="clean-death stall-before failed-before netdead-before other-death aborted
l1-stall-death l1-stall-sent l1-stall-vhost l1-stall-idle l1-stall-earlier walk-stall-death"

if [ "${1:-}" = --list ]; then
	echo "$CASES"
	exit 0
fi

# shellcheck source-path=SCRIPTDIR source=../testbed/failures.sh
. "$ROOT/tests/testbed/failures.sh"
# shellcheck source-path=SCRIPTDIR source=../take.sh
. "$ROOT/tests/take.sh"
for f in events_clean stall_was_the_death rerun_if_testbed_lost; do take "$f" "$ROOT/tests/bench/in-l1.sh"; done
cols=$(grep '^EVENTS_COLUMNS=(' "$ROOT/tests/bench/in-l1.sh")
[ -n "$cols" ] || { echo "FAIL: no EVENTS_COLUMNS in tests/bench/in-l1.sh"; exit 1; }
eval "$cols"

D=$(mktemp -d "${TMPDIR:-/tmp}/rerun-test.XXXXXX") || exit 2
trap 'rm -rf "$D"' EXIT
# Stubs for what the function calls (shellcheck cannot see through eval).
# shellcheck disable=SC2317
progress() { :; }
# shellcheck disable=SC2317
boot_one() { BOOTED="$BOOTED $1-$2"; mkdir -p "$OUT/$1-$2"; echo rerun >"$OUT/$1-$2/boot.txt"; }

# A lazy boot whose guest died in guest->host P=4, after EVENTS (the
# events.tsv rows before the death), of DEATH: the test bed's failed walk
# (walk), L1's registers (l1) or something else (other).
setup() { # DEATH EVENT-ROWS...
	# shellcheck disable=SC2034 # B_NAME, B_STEP: read by the function
	OUT=$D/out B_DIR=$D/out/vmm-lazy-2 B_NAME="vmm-lazy rep 2/3" B_STEP=65 SUITE_ABORT='' BOOTED=''
	rm -rf "$OUT"
	mkdir -p "$B_DIR"
	echo first >"$B_DIR/boot.txt"
	printf 'VMM-GUEST-INIT-OK\n' >"$B_DIR/console"
	local info=0x1080000b0e
	[ "$1" = walk ] || info=0x80000303
	printf 'l2_shutdown: (shutdown_interception+0x0/0x80 [kvm_amd]) exitcode=0x7f exitintinfo=%s cs=0x10 cr2=0xfffffe0000000080\n' "$info" >"$B_DIR/triple-fault.txt"
	if [ "$1" = l1 ]; then
		rm -f "$B_DIR/triple-fault.txt"
		printf '%s\n' "rip is L1's own code, not the guest's: __svm_vcpu_run+0x9c [kvm_amd]" \
			"VERDICT: the vCPU holds L1's registers (rip in L1's kvm_amd, CR3 outside guest RAM): the test bed's emulated #VMEXIT gave the guest L1's state; not a guest or vmm fault" \
			>"$B_DIR/crash-dump-check"
	else
		printf '%s\n' 'rip      0xffffffff8787e916: mapped -> L5[511]=0x1' \
			'cr2      0xfffffe0000000080: mapped -> L5[511]=0x1' \
			"VERDICT: the kernel half of CR3's table is the reference one: the tables in memory were intact" \
			>"$B_DIR/crash-dump-check"
	fi
	shift
	{
		(IFS=$'\t' && echo "${EVENTS_COLUMNS[*]}")
		row "0.1:start:-:"
		local r
		for r in "$@"; do
			row "$r"
		done
		row "99.8:exit:-:status=1"
	} >"$B_DIR/events.tsv"
}

# row T:EVENT:TEST:NOTE[:COLUMN=VALUE,...]: one events.tsv row in the
# columns' order; columns not given are empty.
row() {
	local t ev test note kv c out=() k
	IFS=: read -r t ev test note kv <<<"$1"
	declare -A val=([t_s]=$t [event]=$ev [test]=$test [note]=$note)
	local IFS=,
	for k in $kv; do
		val[${k%%=*}]=${k#*=}
	done
	for c in "${EVENTS_COLUMNS[@]}"; do
		out+=("${val[$c]:-}")
	done
	IFS=$'\t'
	echo "${out[*]}"
}

# Rows: T:EVENT:TEST:NOTE[:COLUMN=VALUE,...].
OK_ROWS=(1:begin:rr: 2:end:rr:status=ok 3:begin:tx1: 14:end:tx1:status=ok 15:begin:tx4:)
# What the bench saw at the stall and at the kill 25 s later in the
# 2026-11-29 runs (gtime in clock ticks): the guest sent nothing, vhost
# did nothing, the vCPU spun in guest mode 22 s of the 25.
AT_STALL=tap_rx=2367763367,vhost_ticks=366,kp_miss=9105,kp_update=265277,kp_inval=159025,gtime=2730
L1_ROWS=("${OK_ROWS[@]}" "24:stall:tx4:no data for 5 s:$AT_STALL")
KILL="49:kill:tx4:test tx4 stalled and did not end within 25 s"
AT_KILL=tap_rx=2367763367,vhost_ticks=366,kp_miss=9105,kp_update=265277,kp_inval=159025,gtime=4928

reran() { # REASON (a part of testbed-lost.tsv's line)
	[ "$BOOTED" = " vmm-lazy-2" ] || { echo "FAIL $CASE: not booted again (booted:$BOOTED)"; return 1; }
	[ "$(cat "$OUT/testbed-lost/vmm-lazy-2/boot.txt")" = first ] || { echo "FAIL $CASE: first attempt not in testbed-lost/"; return 1; }
	grep -q "^vmm-lazy	2	.*$1" "$OUT/testbed-lost.tsv" || { echo "FAIL $CASE: testbed-lost.tsv: $(cat "$OUT/testbed-lost.tsv")"; return 1; }
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
	clean-death) setup walk "${OK_ROWS[@]}" && rerun_if_testbed_lost vmm-lazy 2 60 && reran "failed page walk" ;;
	stall-before) setup walk 1:begin:rr: 2:end:rr:status=ok 3:begin:tx1: 8:stall:tx1:no_data 14:end:tx1:status=ok 15:begin:tx4: &&
		rerun_if_testbed_lost vmm-lazy 2 60 && kept ;;
	failed-before) setup walk 1:begin:rr: 2:end:rr:status=failed 3:begin:tx1: 14:end:tx1:status=ok 15:begin:tx4: &&
		rerun_if_testbed_lost vmm-lazy 2 60 && kept ;;
	netdead-before) setup walk 1:begin:rr: 2:end:rr:status=ok 3:netdead:-: && rerun_if_testbed_lost vmm-lazy 2 60 && kept ;;
	other-death) setup other "${OK_ROWS[@]}" && rerun_if_testbed_lost vmm-lazy 2 60 && kept ;;
	aborted) setup walk "${OK_ROWS[@]}" && SUITE_ABORT=wedged && rerun_if_testbed_lost vmm-lazy 2 60 && kept ;;
	# L1's registers, and its one stall was that death: rerun.
	l1-stall-death) setup l1 "${L1_ROWS[@]}" "$KILL:$AT_KILL" && rerun_if_testbed_lost vmm-lazy 2 60 &&
		reran "L1's own registers.*its one stall was that death" ;;
	# ... but not if the guest still sent something, vhost still worked,
	# or the vCPU was not spinning in guest mode.
	l1-stall-sent) setup l1 "${L1_ROWS[@]}" "$KILL:${AT_KILL/tap_rx=2367763367/tap_rx=2367763999}" &&
		rerun_if_testbed_lost vmm-lazy 2 60 && kept ;;
	l1-stall-vhost) setup l1 "${L1_ROWS[@]}" "$KILL:${AT_KILL/kp_update=265277/kp_update=265280}" &&
		rerun_if_testbed_lost vmm-lazy 2 60 && kept ;;
	l1-stall-idle) setup l1 "${L1_ROWS[@]}" "$KILL:${AT_KILL/gtime=4928/gtime=3900}" &&
		rerun_if_testbed_lost vmm-lazy 2 60 && kept ;;
	# ... nor when a stall came in an earlier test.
	l1-stall-earlier) setup l1 1:begin:rr: 2:end:rr:status=ok 3:begin:tx1: "8:stall:tx1:no_data:$AT_STALL" \
		14:end:tx1:status=ok "15:begin:tx4:" "24:stall:tx4:no data for 5 s:$AT_STALL" "$KILL:$AT_KILL" &&
		rerun_if_testbed_lost vmm-lazy 2 60 && kept ;;
	# The exception is L1's registers' alone.
	walk-stall-death) setup walk "${L1_ROWS[@]}" "$KILL:$AT_KILL" && rerun_if_testbed_lost vmm-lazy 2 60 && kept ;;
	*) echo "unknown case $1"; return 2 ;;
	esac
}

rc=0
for c in ${1:-$CASES}; do
	run_case "$c" || rc=1
done
exit "$rc"
