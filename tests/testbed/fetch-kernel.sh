#!/bin/bash
# Fetch the current Debian 12 kernel package and unpack it (no install, no
# initramfs hooks). The same vmlinuz is the L1 kernel and the L2 guest kernel;
# its modules give L1 kvm/vhost/9p.
#
# Produces:
#   $TESTBED/cache/<pkg>.deb       downloaded package (kept as a cache)
#   $TESTBED/kernel/               dpkg -x of it
#   $TESTBED/vmlinuz               symlink to kernel/boot/vmlinuz-<kver>
#   $TESTBED/vmlinux               symlink to kernel/vmlinux-<kver>: the ELF
#                                  kernel inside that vmlinuz (extract-vmlinux.sh),
#                                  which vmm boots without the guest decompressing it
#   $TESTBED/kernel.env            KVER=, VMLINUZ=, VMLINUX=, MODDIR= (sourceable)
# Idempotent: nothing is downloaded or unpacked when already done.
set -eu
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

CACHE=$TESTBED/cache
KDIR=$TESTBED/kernel
mkdir -p "$CACHE"

# The meta package names the ABI package, e.g. linux-image-6.1.0-56-amd64.
# Debian drops old ABI packages from the mirror, so resolve every time; if
# there are no apt lists yet (fresh machine), refresh them once.
resolve() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n1
}
pkg=$(resolve)
if [ -z "$pkg" ]; then
	log "no apt lists for linux-image-amd64; running apt-get update"
	as_root apt-get update -q >&2 || die "apt-get update failed"
	pkg=$(resolve)
fi

if [ -z "$pkg" ]; then
	# Offline with a cache: use the newest package already downloaded.
	deb=$(find "$CACHE" -name 'linux-image-*.deb' 2>/dev/null | sort -V | tail -n1)
	[ -n "$deb" ] || die "cannot resolve linux-image-amd64 (apt lists?) and no cached kernel in $CACHE"
	log "cannot resolve linux-image-amd64; using cached $deb"
else
	# The signed package and the -unsigned variant both ship
	# /boot/vmlinuz-* and /lib/modules; either works (no Secure Boot here).
	deb=$(find "$CACHE" -name "${pkg}_*.deb" | sort -V | tail -n1)
	if [ -z "$deb" ]; then
		log "downloading $pkg (~70 MB)"
		# apt-get download writes into the current directory. As root,
		# apt warns that the download is unsandboxed; harmless.
		if ! (cd "$CACHE" && apt-get download -q "$pkg" >&2); then
			log "download failed; refreshing apt lists and retrying"
			as_root apt-get update -q >&2 || die "apt-get update failed"
			(cd "$CACHE" && apt-get download -q "$pkg" >&2) ||
				die "apt-get download $pkg failed"
		fi
		deb=$(find "$CACHE" -name "${pkg}_*.deb" | sort -V | tail -n1)
		[ -n "$deb" ] || die "apt-get download $pkg left no .deb in $CACHE"
	fi
fi

stamp=$KDIR/.unpacked-from
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$(basename "$deb")" ]; then
	log "unpacking $(basename "$deb")"
	rm -rf "$KDIR" "$KDIR.tmp"
	mkdir -p "$KDIR.tmp"
	dpkg -x "$deb" "$KDIR.tmp" || die "dpkg -x $deb failed"
	basename "$deb" >"$KDIR.tmp/.unpacked-from"
	mv "$KDIR.tmp" "$KDIR"
fi

vmlinuz=$(find "$KDIR/boot" -name 'vmlinuz-*' | sort -V | tail -n1)
[ -n "$vmlinuz" ] || die "no boot/vmlinuz-* in $deb"
kver=${vmlinuz##*/vmlinuz-}
moddir=$KDIR/lib/modules/$kver
[ -d "$moddir/kernel" ] || die "no modules at $moddir in $deb"

ln -sfn "kernel/boot/vmlinuz-$kver" "$TESTBED/vmlinuz"
"$(dirname "$0")/extract-vmlinux.sh" "$vmlinuz" "$KDIR/vmlinux-$kver"
ln -sfn "kernel/vmlinux-$kver" "$TESTBED/vmlinux"
cat >"$TESTBED/kernel.env.tmp" <<EOT
KVER=$kver
VMLINUZ=$vmlinuz
VMLINUX=$KDIR/vmlinux-$kver
MODDIR=$moddir
EOT
mv "$TESTBED/kernel.env.tmp" "$TESTBED/kernel.env"
echo "vmlinuz: $vmlinuz"
echo "vmlinux: $KDIR/vmlinux-$kver"
echo "modules: $moddir"
