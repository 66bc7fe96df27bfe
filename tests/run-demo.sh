#!/bin/bash
# `make run`: boot the demo microVM (configs/demo.cfg) with build/vmm and
# show its console. Uses this machine's /dev/kvm when it can really boot a
# guest, otherwise runs the vmm inside the nested test bed (QEMU-TCG L1, see
# tests/testbed/run-in-l1.sh). Extra arguments go to `vmm run`.
#   VMM_FORCE_TESTBED=1   always use the test bed
#   VMM_HOST_KVM=1        use host /dev/kvm without probing it
set -eu
# shellcheck source-path=SCRIPTDIR source=testbed/common.sh
. "$(dirname "$0")/testbed/common.sh"
cd "$ROOT"

CONFIG=${VMM_DEMO_CONFIG:-configs/demo.cfg}
[ -x build/vmm ] || die "build/vmm not built; run 'make' first"
[ -f "$CONFIG" ] || die "$CONFIG missing"

# The demo's kernel and initrd (build/testbed/vmlinux, unpacked from the
# Debian package's vmlinuz by fetch-kernel.sh, and guest.cpio.gz).
"$TBSRC/setup-deps.sh"
"$TBSRC/fetch-kernel.sh" >/dev/null
"$TBSRC/build-guest-initrd.sh"

if host_kvm_usable; then
	log "booting with this machine's /dev/kvm"
	exec build/vmm run --config "$CONFIG" "$@"
fi
log "no usable /dev/kvm here: booting inside the nested test bed (L1 boot ~10 s)"
# run-in-l1.sh joins its arguments into one shell command line: quote them.
cmd="build/vmm run --config $(printf '%q' "$CONFIG")"
if [ $# -gt 0 ]; then
	cmd="$cmd $(printf '%q ' "$@")"
fi
exec "$TBSRC/run-in-l1.sh" "$cmd"
