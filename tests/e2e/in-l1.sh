#!/bin/bash
# End-to-end checks that need KVM: boot the stock guest (build/vmm, or
# Debian's QEMU with E2E_MONITOR=qemu to validate the checks themselves)
# and check the markers printed by tests/testbed/guest-init.
# Normally run inside the test bed by tests/e2e/run.sh:
#
#   tests/testbed/run-in-l1.sh tests/e2e/in-l1.sh OUTDIR
#
# Writes each guest's console to OUTDIR/<check>.console and the PASS/FAIL
# lines to OUTDIR/in-l1.results. To add a check: write a function and list
# it at the bottom.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$ROOT/tests/e2e/lib.sh"

OUT=${1:?usage: $0 OUTDIR}
mkdir -p "$OUT"
export E2E_RESULTS=$OUT/in-l1.results
: >"$E2E_RESULTS"

KERNEL=${E2E_KERNEL:-$ROOT/build/testbed/vmlinuz}
INITRD=${E2E_INITRD:-$ROOT/build/testbed/guest.cpio.gz}
CMDLINE=${E2E_CMDLINE:-console=ttyS0 quiet panic=-1}
MONITOR=${E2E_MONITOR:-vmm}
BOOT_TIMEOUT=${E2E_BOOT_TIMEOUT:-300}
case $MONITOR in
vmm)
	monitor=("${E2E_VMM:-$ROOT/build/vmm}" run)
	reboot_status=3 # the vmm's exit status for a guest reboot
	;;
qemu)
	monitor=("$ROOT/tests/testbed/qemu-l2.sh")
	reboot_status=0 # QEMU -no-reboot exits 0 on a guest reboot
	;;
*)
	echo "in-l1.sh: error: E2E_MONITOR must be vmm or qemu, not '$MONITOR'" >&2
	exit 2
	;;
esac

# boot NAME CPUS EXTRA_CMDLINE: run one guest, leave its console in
# $OUT/NAME.console and its exit status in $OUT/NAME.status.
boot() {
	local name=$1 cpus=$2 extra=$3 rc=0 start
	start=$(date +%s)
	timeout -k 10 "$BOOT_TIMEOUT" "${monitor[@]}" --kernel "$KERNEL" --initrd "$INITRD" \
		--cmdline "$CMDLINE $extra" --cpus "$cpus" --memory 512M \
		</dev/null >"$OUT/$name.console" 2>"$OUT/$name.stderr" || rc=$?
	echo "$rc" >"$OUT/$name.status"
	echo "$name: $MONITOR exited $rc after $(($(date +%s) - start))s"
}

# Why a check failed, with the end of the guest console for context.
why() {
	tail -n 15 "$OUT/$1.console" "$OUT/$1.stderr" 2>/dev/null | tr -d '\r'
	echo "$2"
}

check_status() { # NAME EXPECTED
	local rc
	rc=$(cat "$OUT/$1.status")
	[ "$rc" = "$2" ] || { why "$1" "exit status $rc, expected $2"; return 1; }
}

check_marker() { # NAME MARKER
	has_marker "$2" "$OUT/$1.console" || { why "$1" "no '$2' line on the console"; return 1; }
}

check_value() { # NAME KEY EXPECTED
	local v
	v=$(marker_value "$2" "$OUT/$1.console")
	[ "$v" = "$3" ] || { why "$1" "$2='$v', expected '$3'"; return 1; }
}

# A guest that boots, describes itself and powers off.
poweroff_case() { # CPUS
	local n=boot-${1}cpu
	boot "$n" "$1" ""
	run_check "$n: init marker" check_marker "$n" VMM-GUEST-INIT-OK
	run_check "$n: ACPI tables found" check_value "$n" VMM-GUEST-ACPI yes
	run_check "$n: guest sees $1 CPUs" check_value "$n" VMM-GUEST-NCPUS "$1"
	run_check "$n: poweroff marker" check_marker "$n" VMM-GUEST-POWEROFF
	run_check "$n: exit status 0" check_status "$n" 0
}

reboot_case() {
	local n=reboot
	boot "$n" 1 vmmtest=reboot
	run_check "$n: reboot marker" check_marker "$n" VMM-GUEST-REBOOT
	run_check "$n: exit status $reboot_status" check_status "$n" "$reboot_status"
}

poweroff_case 1
poweroff_case 2
reboot_case
e2e_summary in-l1
