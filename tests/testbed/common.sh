# shellcheck shell=bash disable=SC2034 # variables are used by the sourcing scripts
# Shared paths for the test-bed scripts; sourced, not run.
# ROOT is the project checkout; everything generated lives under
# $TESTBED (build/testbed by default) so `make clean` removes it.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TESTBED=${TESTBED:-$ROOT/build/testbed}
TBSRC=$ROOT/tests/testbed

die() {
	echo "${0##*/}: error: $*" >&2
	exit 1
}

log() {
	echo "${0##*/}: $*" >&2
}

# Run a command as root (CI may run as an ordinary user with sudo).
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	else
		sudo "$@"
	fi
}

# Populate DIR with busybox-static and a symlink for each of its applets:
# the base of both the L1 and the guest initramfs.
busybox_root() {
	local dir=$1 bb applet
	bb=/bin/busybox
	[ -x "$bb" ] || die "$bb not found (install package busybox-static)"
	# Debian's dynamically linked "busybox" package would need libc inside.
	if readelf -l "$bb" | grep -q 'program interpreter'; then
		die "$bb is dynamically linked; install busybox-static instead"
	fi
	mkdir -p "$dir"/bin "$dir"/sbin "$dir"/usr/bin "$dir"/usr/sbin \
		"$dir"/proc "$dir"/sys "$dir"/dev "$dir"/tmp "$dir"/run "$dir"/etc "$dir"/root
	cp "$bb" "$dir/bin/busybox"
	for applet in $("$dir/bin/busybox" --list-full); do
		[ -e "$dir/$applet" ] || ln -s /bin/busybox "$dir/$applet"
	done
}

# Pack DIR as a gzip'd newc cpio into OUT (atomically: OUT.tmp then mv).
pack_cpio() {
	local dir=$1 out=$2
	(cd "$dir" && find . -mindepth 1 | LC_ALL=C sort |
		cpio --quiet -o -H newc -R 0:0) | gzip -6 >"$out.tmp" ||
		die "cannot pack $dir into $out"
	mv "$out.tmp" "$out"
}

# A key for "rebuild when inputs change": hash of the given files' contents.
inputs_key() {
	cat "$@" | sha256sum | cut -d' ' -f1
}

# Whether guests can be booted with this machine's own /dev/kvm (else the
# nested test bed is needed). A device node is not enough: some sandboxes
# expose a /dev/kvm that answers ioctls and runs trivial code but cannot
# boot Linux. So the probe boots the stock guest with QEMU -accel kvm and
# waits for its init marker; the answer is cached per host boot.
#   VMM_FORCE_TESTBED=1  always use the test bed
#   VMM_HOST_KVM=1 / 0   use / do not use host KVM, no probe
# Needs $TESTBED/vmlinuz and $TESTBED/guest.cpio.gz.
host_kvm_usable() {
	local cache answer
	[ "${VMM_FORCE_TESTBED:-0}" = 1 ] && return 1
	case ${VMM_HOST_KVM:-} in
	1) return 0 ;;
	0) return 1 ;;
	esac
	[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
	cache=$TESTBED/host-kvm.$(cat /proc/sys/kernel/random/boot_id)
	if [ ! -f "$cache" ]; then
		log "probing /dev/kvm on this host (boots a guest with QEMU, up to 30 s)"
		if timeout -k 5 30 qemu-system-x86_64 -accel kvm -cpu host -M q35 \
			-nodefaults -display none -serial stdio -no-reboot -m 256M \
			-kernel "$TESTBED/vmlinuz" -initrd "$TESTBED/guest.cpio.gz" \
			-append "console=ttyS0 quiet panic=-1" </dev/null 2>/dev/null |
			grep -q VMM-GUEST-INIT-OK; then
			answer=yes
		else
			answer=no
		fi
		rm -f "$TESTBED"/host-kvm.*
		echo "$answer" >"$cache"
		log "host /dev/kvm usable: $answer (cached in $cache)"
	fi
	[ "$(cat "$cache")" = yes ]
}
