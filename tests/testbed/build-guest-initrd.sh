#!/bin/bash
# Build the stock test guest's initramfs: busybox-static plus
# tests/testbed/guest-init as /init (see that file for the marker lines),
# the Debian kernel's virtio-net modules (Debian builds them as modules),
# iperf3 with its libraries, for the networking tests, and tcprr
# (tests/bench/tcprr.c, built static as $TESTBED/tcprr, which L1 runs too)
# for the benchmarks. Rebuilt only when an input changes.
#
#   tests/testbed/build-guest-initrd.sh [OUT]   (default build/testbed/guest.cpio.gz)
set -eu
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

OUT=${1:-$TESTBED/guest.cpio.gz}
mkdir -p "$(dirname "$OUT")"
OUT=$(cd "$(dirname "$OUT")" && pwd)/${OUT##*/}

# shellcheck source=/dev/null
. "$TESTBED/kernel.env" # MODDIR, from fetch-kernel.sh
# Load order: each module after the ones it depends on.
GUEST_MODULES="drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev
drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci net/core/failover
drivers/net/net_failover drivers/net/virtio_net"
IPERF3=$(command -v iperf3) || die "iperf3 not found (install package iperf3)"
TCPRR=$TESTBED/tcprr
if [ ! -x "$TCPRR" ] || [ "$ROOT/tests/bench/tcprr.c" -nt "$TCPRR" ]; then
	"${CC:-cc}" -O2 -static -std=gnu11 -Wall -Wextra -o "$TCPRR.tmp" "$ROOT/tests/bench/tcprr.c" ||
		die "cannot build $TCPRR"
	mv "$TCPRR.tmp" "$TCPRR"
fi
# The hostile VT-d guest (vmmhostilevtd=): every tests/hostile/vtd_hostile*.c
# but the host-side simulator, as HOSTILE_GUEST_SRCS in hostile.mk.
VTDHOSTILE=$TESTBED/vtd_hostile
VTDHOSTILE_SRCS=()
for f in "$ROOT"/tests/hostile/vtd_hostile*.c; do
	case $f in *_sim.c) ;; *) VTDHOSTILE_SRCS+=("$f") ;; esac
done
stale=0
[ -x "$VTDHOSTILE" ] || stale=1
for f in "${VTDHOSTILE_SRCS[@]}" "$ROOT"/tests/hostile/vtd_hostile*.h; do
	if [ "$f" -nt "$VTDHOSTILE" ]; then
		stale=1
	fi
done
if [ "$stale" = 1 ]; then
	"${CC:-cc}" -O2 -static -std=gnu11 -Wall -Wextra -o "$VTDHOSTILE.tmp" \
		"${VTDHOSTILE_SRCS[@]}" || die "cannot build $VTDHOSTILE"
	mv "$VTDHOSTILE.tmp" "$VTDHOSTILE"
fi

key=$(cat "$TBSRC/guest-init" "$0" "$TBSRC/common.sh" /bin/busybox "$IPERF3" "$TCPRR" "$VTDHOSTILE" "$MODDIR/modules.builtin" 2>/dev/null |
	sha256sum | cut -d' ' -f1)
if [ -f "$OUT" ] && [ "$(cat "$OUT.key" 2>/dev/null)" = "$key" ]; then
	exit 0
fi

work=$OUT.root.tmp
rm -rf "$work"
busybox_root "$work"
install -m 755 "$TBSRC/guest-init" "$work/init"
mkdir -p "$work/lib/modules"
for m in $GUEST_MODULES; do
	cp "$MODDIR/kernel/$m.ko" "$work/lib/modules/" || die "module $m missing in $MODDIR"
	echo "${m##*/}" >>"$work/lib/modules/load-order"
done
# iperf3 and every library it links, at the same paths as on this machine.
mkdir -p "$work/usr/bin"
cp "$IPERF3" "$work/usr/bin/iperf3"
cp "$TCPRR" "$work/usr/bin/tcprr"
cp "$VTDHOSTILE" "$work/usr/bin/vtd_hostile"
for lib in $(ldd "$IPERF3" | awk '/=>/ { print $3 } /^\t\// { print $1 }'); do
	mkdir -p "$work$(dirname "$lib")"
	cp -L "$lib" "$work$lib"
done
pack_cpio "$work" "$OUT"
echo "$key" >"$OUT.key"
rm -rf "$work"
log "built $OUT ($(du -h "$OUT" | cut -f1))"
