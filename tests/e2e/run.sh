#!/bin/bash
# End-to-end tests of build/vmm.
#  1. Bad input, on this machine (no KVM needed): each case must end with
#     exit status 2, exactly one line on stderr naming the problem, no core.
#  2. Guest boots (tests/e2e/in-l1.sh), all in ONE boot of the nested test
#     bed, or directly when this machine's /dev/kvm can boot guests.
# Prints one PASS/FAIL line per check and ends with
# "e2e: N passed, M failed"; exits non-zero when a check failed.
#
# To add a check: a bad-input case is one bad_input line below; a check that
# boots a guest goes into tests/e2e/in-l1.sh.
#   E2E_MONITOR=qemu   run the in-L1 checks with Debian's QEMU instead of
#                      build/vmm (validates the checks and the test bed)
#   E2E_SKIP_L1=1      only the bad-input checks
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../testbed/common.sh
. "$ROOT/tests/testbed/common.sh"
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$ROOT/tests/e2e/lib.sh"
cd "$ROOT"

VMM=${E2E_VMM:-$ROOT/build/vmm}
MONITOR=${E2E_MONITOR:-vmm}
if [ "$MONITOR" = vmm ]; then
	[ -x "$VMM" ] || die "$VMM not built; run 'make' first"
fi
"$TBSRC/setup-deps.sh"
"$TBSRC/fetch-kernel.sh" >/dev/null
"$TBSRC/build-guest-initrd.sh"
KERNEL=$TESTBED/vmlinuz
INITRD=$TESTBED/guest.cpio.gz

mkdir -p build/e2e
# Keep the 10 newest earlier result folders.
find build/e2e -mindepth 1 -maxdepth 1 -type d -name 'run.*' -printf '%T@ %p\n' |
	sort -n | head -n -10 | cut -d' ' -f2- | while IFS= read -r old; do rm -rf "$old"; done
OUT=$(mktemp -d "$ROOT/build/e2e/run.XXXXXX")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# Results of the checks run here; in-l1.sh writes $OUT/in-l1.results.
export E2E_RESULTS=$OUT/host.results
: >"$E2E_RESULTS"

# ---- 1. bad input -------------------------------------------------------

# check_bad_input KEYWORD [VAR=value...] -- VMM-ARGS...: the vmm must exit
# with status 2 and print one stderr line that contains KEYWORD (case
# insensitive), so the error is about the right thing (arguments and files
# must be checked before /dev/kvm is opened, since this machine has none).
check_bad_input() {
	local kw=$1 rc=0 lines dir
	shift
	local envs=()
	while [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	shift
	dir=$(mktemp -d "$TMP/case.XXXXXX")
	# A fresh cwd, so a core dump would show up as ./core*.
	(cd "$dir" && env ${envs[@]+"${envs[@]}"} ${AS_USER:+$AS_USER} "$VMM" "$@" \
		</dev/null >"$dir/stdout" 2>"$dir/stderr") || rc=$?
	if [ "$rc" -gt 128 ]; then
		echo "killed by signal $((rc - 128))"
		return 1
	fi
	if compgen -G "$dir/core*" >/dev/null; then
		echo "left a core file"
		return 1
	fi
	[ "$rc" -eq 2 ] || { echo "exit status $rc, expected 2"; return 1; }
	lines=$(awk 'END { print NR }' "$dir/stderr")
	[ "$lines" -eq 1 ] || { sed 's/^/stderr: /' "$dir/stderr" | head -n 5; echo "$lines stderr lines, expected 1"; return 1; }
	grep -qiF -- "$kw" "$dir/stderr" || { echo "stderr '$(cat "$dir/stderr")' does not mention '$kw'"; return 1; }
}

bad_input() { # NAME KEYWORD [VAR=value...] -- VMM-ARGS...
	local name=$1
	shift
	run_check "bad input: $name" check_bad_input "$@"
}

# A valid command line; each case breaks one thing.
good=(--initrd "$INITRD" --cmdline "console=ttyS0" --cpus 1)

bad_input_cases() {
	local nokern=$TMP/no-such-bzImage unreadable=$TMP/unreadable-bzImage
	local random=$TMP/random-bytes empty=$TMP/empty cut=$TMP/cut-bzImage
	cp "$KERNEL" "$unreadable"
	chmod 000 "$unreadable"
	head -c 65536 /dev/urandom >"$random"
	: >"$empty"
	# Only the head of a kernel is read before the guest's RAM exists: the
	# file's own length must still catch a kernel cut short in transit.
	head -c 1000000 "$KERNEL" >"$cut"

	bad_input "missing kernel file" "$nokern" -- run --kernel "$nokern" "${good[@]}" --memory 512M
	# root reads mode-000 files anyway: run that case as nobody.
	if [ "$(id -u)" -eq 0 ]; then
		chmod 755 "$TMP"
		local nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
		if $nobody test -x "$VMM"; then
			AS_USER=$nobody \
				bad_input "unreadable kernel" "$unreadable" -- run --kernel "$unreadable" "${good[@]}" --memory 512M
		else
			echo "SKIP bad input: unreadable kernel (user nobody cannot run $VMM)"
		fi
	else
		bad_input "unreadable kernel" "$unreadable" -- run --kernel "$unreadable" "${good[@]}" --memory 512M
	fi
	bad_input "kernel is a directory" "$TMP" -- run --kernel "$TMP" "${good[@]}" --memory 512M
	bad_input "kernel is /bin/true" /bin/true -- run --kernel /bin/true "${good[@]}" --memory 512M
	bad_input "kernel is random bytes" "$random" -- run --kernel "$random" "${good[@]}" --memory 512M
	bad_input "kernel is empty" "$empty" -- run --kernel "$empty" "${good[@]}" --memory 512M
	bad_input "kernel is a bzImage cut short" truncated -- run --kernel "$cut" "${good[@]}" --memory 512M
	bad_input "initrd is empty" "is empty" -- run --kernel "$KERNEL" --initrd "$empty" --cmdline x --memory 512M
	bad_input "--memory 1K" memory -- run --kernel "$KERNEL" "${good[@]}" --memory 1K
	bad_input "--memory abc" memory -- run --kernel "$KERNEL" "${good[@]}" --memory abc
	bad_input "unknown option" --no-such-option -- run --kernel "$KERNEL" "${good[@]}" --memory 512M --no-such-option
	bad_input "missing /dev/kvm" /nonexistent VMM_KVM_DEVICE=/nonexistent -- run --kernel "$KERNEL" "${good[@]}" --memory 512M
	bad_input "--net without a TAP name" "tap" -- run --kernel "$KERNEL" "${good[@]}" --net tap=
	bad_input "--net with no tap= key" "missing tap" -- run --kernel "$KERNEL" "${good[@]}" --net mac=52:54:00:12:34:56
	bad_input "--net with a bad MAC" "mac" -- run --kernel "$KERNEL" "${good[@]}" --net tap=t0,mac=52:54:00:zz:34:56
	bad_input "--net with a multicast MAC" "unicast" -- run --kernel "$KERNEL" "${good[@]}" --net tap=t0,mac=01:00:5e:00:00:01
	bad_input "no /dev/vhost-net" /nonexistent VMM_VHOST_NET_DEVICE=/nonexistent -- run --kernel "$KERNEL" "${good[@]}" --net tap=t0
}

# ---- 1b. the dump checker ------------------------------------------------

# check_cases LABEL CMD...: one check per case that `CMD --list` names,
# each run as `CMD CASE`.
check_cases() {
	local label=$1 c cases
	shift
	# A list that cannot be had must fail, not leave no check at all.
	if ! cases=$("$@" --list) || [ -z "$cases" ]; then
		run_check "$label: list the cases" false
		return
	fi
	for c in $cases; do
		run_check "$label: $c" "$@" "$c"
	done
}

# crash-dump-check.py explains every guest that dies or hangs in the test
# bed; its verdicts are checked here on synthetic guest RAM (no KVM needed).
dump_check_cases() {
	check_cases "dump check on synthetic RAM" python3 "$TBSRC/crash-dump-check-test.py"
	# What makes a guest run once more (here, in the hostile script and
	# in the bench): the test bed's signatures, and their near misses.
	check_cases "test-bed failure signature" bash "$TBSRC/failures-test.sh"
	# run-in-l1.sh stops an L1 that goes silent, and only such an L1.
	check_cases "test bed stops a silent L1 and only that" bash "$TBSRC/silent-test.sh"
	# A hung L1's registers come out named (l1-init's l1-text + kallsyms).
	run_check "a hung L1's rips are named with its KASLR offset" python3 "$TBSRC/hang-watch-test.py"
	# The bench's console reader: whole lines, none lost, never blocking.
	run_check "console reader hands over whole lines and returns each second" bash "$TBSRC/console-pump-test.sh"
	check_cases "bench reruns only a boot the test bed killed" bash "$ROOT/tests/bench/rerun-test.sh"
	# A lost L1 costs the bench its boot, not the suite.
	check_cases "bench finishes a suite in a second L1 when the first is lost" bash "$ROOT/tests/bench/resume-test.sh"
	check_cases "bench report says how the run went" python3 "$ROOT/tests/bench/report-test.py"
	# Its IOTLB counters must not live-patch __schedule, which hangs L1.
	check_cases "bench counts with task names unrecorded" bash "$ROOT/tests/bench/tracing-test.sh"
	# A stuck guest that dies before its SIGTERM must not end in-l1.sh.
	check_cases "e2e's stuck guest, stopped or dead" bash "$ROOT/tests/e2e/stuck-test.sh"
}

# ---- 2. guest boots ------------------------------------------------------

run_l1_checks() { # PHASE OUTDIR-relative-to-ROOT
	"$TBSRC/run-in-l1.sh" "E2E_PHASE=$1 E2E_MONITOR=$MONITOR E2E_VMM=$(printf %q "$VMM")" \
		"E2E_KERNEL=$(printf %q "$KERNEL") E2E_INITRD=$(printf %q "$INITRD")" \
		"${E2E_IOMMU_IPERF:+E2E_IOMMU_IPERF=$E2E_IOMMU_IPERF} ${E2E_NET:+E2E_NET=$E2E_NET}" \
		"tests/e2e/in-l1.sh $(printf %q "$2")"
}

# One L1 boot of the test bed for the checks of PHASE (in-l1.sh); status in rc.
l1_phase() { # PHASE
	local rel=${OUT#"$ROOT"/} crash
	rc=0
	log "running the guest checks ($1) inside the nested test bed"
	run_l1_checks "$1" "$rel" || rc=$?
	# The test bed's own kernel (L1) can die or hang under nested SVM
	# emulated by TCG (docs/STRICT-CRASH.md: a panic with a corrupted
	# per-CPU base; an L1 stopped by run-in-l1.sh after a long soft
	# lockup or a stopped heartbeat, L1-HUNG). That is the test bed
	# failing, not a check, and no user-space VMM can cause it: say so,
	# and run the checks once more in a fresh L1 boot. A second failure
	# is reported as it is.
	if [ "$rc" = 125 ] &&
		{ crash=$(grep -a -m 1 'L1-HUNG' "$ROOT/build/testbed/last-l1.log" 2>/dev/null) ||
			crash=$(grep -a -m 1 -E 'Kernel panic|BUG: (TASK stack guard|unable to handle)' \
				"$ROOT/build/testbed/last-l1.log" 2>/dev/null); }; then
		log "NOTE: the test bed's L1 kernel crashed or hung: ${crash//$'\r'/}"
		log "NOTE: running the guest checks ($1) again in a fresh L1 boot (once)"
		rc=0
		run_l1_checks "$1" "$rel" || rc=$?
	fi
}

# Count what in-l1.sh recorded in RESULTS (the console is only for people).
count_results() { # RESULTS STATUS WHAT
	local line
	if [ -s "$1" ]; then
		while IFS= read -r line; do
			case $line in
			PASS*) E2E_PASSED=$((E2E_PASSED + 1)) ;;
			FAIL*) E2E_FAILED=$((E2E_FAILED + 1)) ;;
			esac
		done <"$1"
	fi
	if [ ! -s "$1" ] || { [ "$2" -ne 0 ] && ! grep -q '^FAIL' "$1"; }; then
		E2E_RESULTS=$OUT/host.results fail "$3" "in-l1.sh reported no results or failed (status $2); see the run-in-l1.sh console log named above"
	fi
}

# In the test bed, the vIOMMU guests (iperf3 through vhost's IOTLB) get an
# L1 boot of their own, after the others: twice, gate runs that had them in
# the same boot lost L1 itself a few guests later, after every vIOMMU check
# had passed (docs/STRICT-CRASH.md). Apart, an L1 that dies afterwards
# costs no other check, and one that dies during them is retried above.
guest_cases() {
	local rc=0
	if [ "$MONITOR" = vmm ] && host_kvm_usable; then
		log "running the guest checks with this machine's /dev/kvm"
		E2E_PHASE=all E2E_MONITOR=$MONITOR E2E_VMM=$VMM E2E_KERNEL=$KERNEL E2E_INITRD=$INITRD \
			"$ROOT/tests/e2e/in-l1.sh" "$OUT" || rc=$?
		count_results "$OUT/in-l1.results" "$rc" "guest checks"
		return
	fi
	l1_phase main
	count_results "$OUT/in-l1.results" "$rc" "guest checks"
	if [ "$MONITOR" = vmm ] && [ "${E2E_NET:-1}" = 1 ]; then
		l1_phase iommu
		count_results "$OUT/in-l1-iommu.results" "$rc" "vIOMMU guest checks"
	fi
}

if [ "$MONITOR" = vmm ]; then
	bad_input_cases
fi
dump_check_cases
if [ "${E2E_SKIP_L1:-0}" != 1 ]; then
	guest_cases
fi

echo "---- e2e results (details and guest consoles in ${OUT#"$ROOT"/}) ----"
cat "$OUT/host.results"
for f in in-l1.results in-l1-iommu.results; do
	if [ -f "$OUT/$f" ]; then
		cat "$OUT/$f"
	fi
done
# Guests rerun because they died of the test bed's own crash, and the
# CPU state of any guest that triple-faulted or hung unexpectedly
# (in-l1.sh, tests/hostile/in-l1-vtd.sh).
for f in testbed-retries guest-deaths; do
	if [ -s "$OUT/$f" ]; then
		cat "$OUT/$f"
	fi
done
e2e_summary e2e
