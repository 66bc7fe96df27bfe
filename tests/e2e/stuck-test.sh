#!/bin/bash
# tests/e2e/stuck-test.sh [CASE]: check, without the test bed, how in-l1.sh
# runs its stuck guest (stuck_once, taken from the script itself, retried
# by lib.sh's boot_retrying), with a fake monitor in place of vmm. The
# checks run under set -e, as in-l1.sh does: in CI on 2026-11-30 a stuck
# guest whose vmm had exited before its SIGTERM ended all the checks that
# came after it. --list prints the cases.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CASES="stopped-at-spin died-before-spin testbed-death-retried"

if [ "${1:-}" = --list ]; then
	echo "$CASES"
	exit 0
fi

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"
# shellcheck source-path=SCRIPTDIR source=../take.sh
. "$ROOT/tests/take.sh"
take stuck_once "$ROOT/tests/e2e/in-l1.sh"

D=$(mktemp -d "${TMPDIR:-/tmp}/stuck-test.XXXXXX") || exit 2
trap 'rm -rf "$D"' EXIT

# The fake vmm: each run takes the next word of $D/script. spin: print the
# marker, then on SIGTERM say where the vCPU was and exit 4, as vmm does.
# die: the guest dies at once (exit 1). testbed: the same, with a line that
# the testbed_failure stub below takes for the test bed's failure.
cat >"$D/fake-vmm" <<'EOF'
#!/bin/bash
D=$(dirname "$0")
read -r what rest <"$D/script"
echo "$rest" >"$D/script"
echo "run $what" >>"$D/runs"
case $what in
spin)
	trap 'echo "vmm: vCPU 0 was at: rip=0x1" >&2; exit 4' TERM
	echo VMM-GUEST-SPIN
	while :; do sleep 0.1; done
	;;
testbed) echo FAKE-TESTBED-DEATH; exit 1 ;;
*) exit 1 ;;
esac
EOF
chmod +x "$D/fake-vmm"

# What stuck_once reads from in-l1.sh's globals.
# shellcheck disable=SC2034
{
	monitor=("$D/fake-vmm" run)
	MONITOR=vmm KERNEL=k INITRD=i CMDLINE=c BOOT_TIMEOUT=20
}
# The dump and the probe need the test bed; what is checked here is that a
# death is noted in the right file.
# shellcheck disable=SC2317 # called by stuck_once
report_guest_death() { echo "death $1" >>"$3"; }
testbed_failure() { grep -q FAKE-TESTBED-DEATH "$1" && echo "a fake test-bed death"; }

run_case() {
	OUT=$D/out-$1
	mkdir -p "$OUT"
	: >"$D/runs"
	case $1 in
	stopped-at-spin)
		echo "spin" >"$D/script"
		boot_retrying stuck_once stuck >/dev/null
		[ "$(cat "$OUT/stuck.status")" = 4 ] || { echo "status $(cat "$OUT/stuck.status"), not 4"; return 1; }
		[ ! -s "$OUT/guest-deaths" ] || { echo "a stopped spinner was noted as a death"; return 1; }
		[ "$(wc -l <"$D/runs")" = 1 ] || { echo "run $(wc -l <"$D/runs") times, not once"; return 1; }
		;;
	died-before-spin)
		echo "die spin" >"$D/script"
		boot_retrying stuck_once stuck >/dev/null
		# Reached only if set -e did not end the run.
		[ "$(cat "$OUT/stuck.status")" = 1 ] || { echo "status $(cat "$OUT/stuck.status"), not 1"; return 1; }
		grep -q '^death stuck$' "$OUT/guest-deaths" 2>/dev/null || { echo "the death is not noted"; return 1; }
		[ "$(wc -l <"$D/runs")" = 1 ] || { echo "a death not the test bed's was run again"; return 1; }
		;;
	testbed-death-retried)
		echo "testbed spin" >"$D/script"
		boot_retrying stuck_once stuck >/dev/null
		[ "$(wc -l <"$D/runs")" = 2 ] || { echo "run $(wc -l <"$D/runs") times, not twice"; return 1; }
		[ "$(cat "$OUT/stuck.status")" = 4 ] || { echo "the retry's status $(cat "$OUT/stuck.status"), not 4"; return 1; }
		grep -q FAKE-TESTBED-DEATH "$OUT/stuck.testbed-crash.console" 2>/dev/null ||
			{ echo "the first attempt's console was not set aside"; return 1; }
		grep -q '^NOTE stuck: the guest died of a fake test-bed death' "$OUT/testbed-retries" ||
			{ echo "the retry is not recorded"; return 1; }
		;;
	*)
		echo "unknown case"
		return 2
		;;
	esac
}

# One case runs at the top level of its own process, under set -e as in
# in-l1.sh (set -e is ignored inside an if's condition): a case that set -e
# ends prints no "ok".
if [ $# -eq 1 ]; then
	trap 'rc=$?; rm -rf "$D"; [ $rc = 0 ] || echo "FAIL $1: ended with status $rc (set -e stops at a failed command)"' EXIT
	run_case "$1"
	echo "ok $1"
	exit 0
fi
rc=0
for c in $CASES; do
	bash "$0" "$c" || rc=1
done
exit $rc
