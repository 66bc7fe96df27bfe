#!/bin/bash
# Build the stock test guest's initramfs: busybox-static plus
# tests/testbed/guest-init as /init (see that file for the marker lines).
# No kernel modules yet. Rebuilt only when an input changes.
#
#   tests/testbed/build-guest-initrd.sh [OUT]   (default build/testbed/guest.cpio.gz)
set -eu
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

OUT=${1:-$TESTBED/guest.cpio.gz}
mkdir -p "$(dirname "$OUT")"
OUT=$(cd "$(dirname "$OUT")" && pwd)/${OUT##*/}

key=$(cat "$TBSRC/guest-init" "$0" "$TBSRC/common.sh" /bin/busybox | sha256sum | cut -d' ' -f1)
if [ -f "$OUT" ] && [ "$(cat "$OUT.key" 2>/dev/null)" = "$key" ]; then
	exit 0
fi

work=$OUT.root.tmp
rm -rf "$work"
busybox_root "$work"
install -m 755 "$TBSRC/guest-init" "$work/init"
pack_cpio "$work" "$OUT"
echo "$key" >"$OUT.key"
rm -rf "$work"
log "built $OUT ($(du -h "$OUT" | cut -f1))"
