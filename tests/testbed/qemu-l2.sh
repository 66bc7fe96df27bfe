#!/bin/bash
# Boot a guest with Debian's QEMU as the KVM monitor: the reference the vmm
# is compared with (benchmarks) and the way to check the test bed itself
# without build/vmm. Needs a usable /dev/kvm, i.e. run it inside L1:
#
#   tests/testbed/run-in-l1.sh tests/testbed/qemu-l2.sh
#   tests/testbed/qemu-l2.sh [--kernel F] [--initrd F] [--cmdline S]
#                            [--cpus N] [--memory SIZE] [-- extra qemu args]
#
# Defaults: build/testbed/vmlinuz, build/testbed/guest.cpio.gz, 1 CPU, 512M.
# The guest console goes to stdout; QEMU exits when the guest powers off
# (-no-reboot turns a guest reboot into an exit too). Exit status is QEMU's.
set -eu
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

kernel=$TESTBED/vmlinuz
initrd=$TESTBED/guest.cpio.gz
cmdline="console=ttyS0 quiet panic=-1"
cpus=1
memory=512M
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=$2; shift 2 ;;
	--initrd) initrd=$2; shift 2 ;;
	--cmdline) cmdline=$2; shift 2 ;;
	--cpus) cpus=$2; shift 2 ;;
	--memory) memory=$2; shift 2 ;;
	--) shift; break ;;
	*) die "unknown option '$1' (see the header of $0)" ;;
	esac
done
[ -r "$kernel" ] || die "kernel '$kernel' not readable (run tests/testbed/fetch-kernel.sh)"
[ -r "$initrd" ] || die "initrd '$initrd' not readable (run tests/testbed/build-guest-initrd.sh)"
[ -c /dev/kvm ] || die "no /dev/kvm here; run this inside L1 (tests/testbed/run-in-l1.sh)"

# -nodefaults: no VGA, NIC or floppy; only the serial console on stdio, the
# closest match to the vmm's microVM device set.
exec qemu-system-x86_64 -accel kvm -cpu host -M q35 -nodefaults \
	-smp "$cpus" -m "$memory" -display none -serial stdio -no-reboot \
	-kernel "$kernel" -initrd "$initrd" -append "$cmdline" \
	"$@" </dev/null
