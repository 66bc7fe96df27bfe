#!/bin/bash
# tests/bench/resume-test.sh [CASE]: check, without the test bed, how the
# bench finishes a suite whose L1 was lost: run.sh's l1_lost_why (when a
# second L1 boot runs the rest) and in-l1.sh's resume_keep (what that
# second L1 keeps, sets aside and boots again). Both functions, and
# events_clean which resume_keep calls, are taken from the scripts
# themselves. --list prints the cases.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CASES="keep-ended lost-clean lost-after-stall lost-after-rerun not-started not-resuming
why-silent why-timeout why-watch why-wedged why-finished why-suite-fault why-once why-no-meta why-off"

if [ "${1:-}" = --list ]; then
	echo "$CASES"
	exit 0
fi

# shellcheck source-path=SCRIPTDIR source=../take.sh
. "$ROOT/tests/take.sh"
take events_clean "$ROOT/tests/bench/in-l1.sh"
take resume_keep "$ROOT/tests/bench/in-l1.sh"
take l1_lost_why "$ROOT/tests/bench/run.sh"
cols=$(grep '^EVENTS_COLUMNS=(' "$ROOT/tests/bench/in-l1.sh")
[ -n "$cols" ] || { echo "FAIL: no EVENTS_COLUMNS in tests/bench/in-l1.sh"; exit 1; }
eval "$cols"

D=$(mktemp -d "${TMPDIR:-/tmp}/resume-test.XXXXXX") || exit 2
trap 'rm -rf "$D"' EXIT
# shellcheck disable=SC2317 # called by the functions taken above
progress() { echo "$2" >>"$D/progress"; }

# events.tsv rows T:EVENT:TEST:NOTE, in the bench's columns.
events() {
	(IFS=$'\t' && echo "${EVENTS_COLUMNS[*]}")
	local r t ev test note c out
	for r in "$@"; do
		IFS=: read -r t ev test note <<<"$r"
		out=()
		for c in "${EVENTS_COLUMNS[@]}"; do
			case $c in
			t_s) out+=("$t") ;; event) out+=("$ev") ;; test) out+=("$test") ;; note) out+=("$note") ;;
			*) out+=(1) ;;
			esac
		done
		(IFS=$'\t' && echo "${out[*]}")
	done
}
CLEAN=(0.1:start:-: 1:begin:rr: 2:end:rr:status=ok 3:begin:tx1:)
STALLED=(0.1:start:-: 1:begin:rr: 2:end:rr:status=ok 3:begin:tx1: "8:stall:tx1:no data for 5 s")

# A run directory in which the first L1 finished vmm-plain rep 3 and was
# lost during vmm-lazy rep 3, whose events are ROWS.
setup() { # ROWS...
	# shellcheck disable=SC2034 # REPS, STEPS_PER_BOOT: read by resume_keep
	OUT=$D/out RESUME="status 125: L1 ended without reporting" REPS=3 STEPS_PER_BOOT=6
	rm -rf "$OUT" "$D/progress"
	mkdir -p "$OUT/vmm-plain-3" "$OUT/vmm-lazy-3"
	echo "status=0" >"$OUT/vmm-plain-3/boot.txt"
	events "$@" >"$OUT/vmm-lazy-3/events.tsv"
	echo partial >"$OUT/vmm-lazy-3/console"
}

fail() { echo "FAIL $CASE: $*"; return 1; }
said() { grep -q -- "$1" "$D/progress" 2>/dev/null || fail "no progress line like '$1'"; }
untouched() { # DIR: still in place, nothing set aside
	[ -e "$OUT/$1/events.tsv" ] || [ -e "$OUT/$1/boot.txt" ] || fail "$1 moved"
	[ ! -e "$OUT/testbed-lost.tsv" ] || fail "set aside: $(cat "$OUT/testbed-lost.tsv")"
}

# Writes a meta.txt with LINES, then checks l1_lost_why STATUS's verdict.
why_case() { # STATUS WANT(lost TEXT | not) LINES...
	local st=$1 want=$2 got rc=0
	shift 2
	rm -rf "$D/run"
	mkdir -p "$D/run"
	[ "$1" = none ] || printf '%s\n' "$@" >"$D/run/meta.txt"
	got=$(l1_lost_why "$D/run" "$st") || rc=$?
	if [ "$want" = not ]; then
		[ "$rc" -ne 0 ] || fail "resumed after status $st (said: $got)"
	else
		[ "$rc" -eq 0 ] || fail "not resumed after status $st"
		case $got in *"$want"*) ;; *) fail "said '$got', not '$want'" ;; esac
	fi
}
META=(date=x configs=vmm-plain "kprobes=1")

run_case() {
	CASE=$1
	case $1 in
	# A boot the first L1 finished is kept, whatever its result.
	keep-ended) setup "${CLEAN[@]}" && resume_keep vmm-plain 3 50 && untouched vmm-plain-3 &&
		said "measured in the first L1; kept" ;;
	# The boot L1 was lost in: set aside beside the others and booted again.
	lost-clean) setup "${CLEAN[@]}" && { ! resume_keep vmm-lazy 3 62 || fail "kept"; } &&
		[ ! -e "$OUT/vmm-lazy-3" ] && [ -e "$OUT/testbed-lost/vmm-lazy-3.l1/console" ] &&
		[ "$(cat "$OUT/testbed-lost.tsv")" = "vmm-lazy	3	L1 lost: $RESUME	testbed-lost/vmm-lazy-3.l1" ] &&
		said "first L1 was lost during this boot" || fail "not set aside as it should be" ;;
	# ... unless a stall came first: that could be vmm's, so it stays.
	lost-after-stall) setup "${STALLED[@]}" && resume_keep vmm-lazy 3 62 && untouched vmm-lazy-3 &&
		said "after a stall or a failed test: kept as it is" ;;
	# A guest the test bed killed in that slot before stays on record too.
	lost-after-rerun) setup "${CLEAN[@]}" && mkdir -p "$OUT/testbed-lost/vmm-lazy-3" &&
		echo first >"$OUT/testbed-lost/vmm-lazy-3/boot.txt" &&
		printf 'vmm-lazy\t3\tthe failed page walk\n' >"$OUT/testbed-lost.tsv" &&
		{ ! resume_keep vmm-lazy 3 62 || fail "kept"; } &&
		[ "$(cat "$OUT/testbed-lost/vmm-lazy-3/boot.txt")" = first ] &&
		[ -e "$OUT/testbed-lost/vmm-lazy-3.l1/console" ] && [ "$(wc -l <"$OUT/testbed-lost.tsv")" -eq 2 ] ||
		fail "the earlier record was not kept beside the new one" ;;
	not-started) setup "${CLEAN[@]}" && { ! resume_keep vmm-cm 3 74 || fail "kept a boot never started"; } &&
		untouched vmm-lazy-3 ;;
	# In a first L1 every boot is booted; nothing is moved.
	not-resuming) setup "${CLEAN[@]}" && RESUME='' && { ! resume_keep vmm-plain 3 50 || fail "kept"; } &&
		{ ! resume_keep vmm-lazy 3 62 || fail "kept"; } && untouched vmm-lazy-3 ;;
	why-silent) why_case 125 "status 125" "${META[@]}" ;;
	why-timeout) why_case 124 "timed out, or its QEMU was killed" "${META[@]}" ;;
	why-watch) why_case 143 "no output from L1" "${META[@]}" ;;
	why-wedged) why_case 0 "ended early: vmm-lazy rep 2/3: monitor blocked" "${META[@]}" \
		"aborted=vmm-lazy rep 2/3: monitor blocked in the kernel after x" total_wall_s=1 ;;
	why-finished) why_case 0 not "${META[@]}" total_wall_s=1 && why_case 125 not "${META[@]}" total_wall_s=1 ;;
	# in-l1.sh failing on its own would fail again.
	why-suite-fault) why_case 1 not "${META[@]}" && why_case 2 not "${META[@]}" ;;
	why-once) why_case 125 "status 125" "${META[@]}" && : >"$D/run/meta-l1-2.txt" &&
		{ ! l1_lost_why "$D/run" 125 >/dev/null || fail "resumed twice"; } ;;
	why-no-meta) why_case 125 not none ;;
	why-off) BENCH_RESUME_L1=0 why_case 125 not "${META[@]}" ;;
	*) echo "unknown case $1"; return 2 ;;
	esac || { echo "FAIL $CASE"; return 1; } # a step may fail without saying why
	echo "ok $CASE"
}

rc=0
for c in ${1:-$CASES}; do
	run_case "$c" || rc=1
done
exit "$rc"
