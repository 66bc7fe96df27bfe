#!/bin/bash
# Unpack the ELF vmlinux that a bzImage carries, so vmm can boot the stock
# kernel without running its decompressor in the guest (in the nested test
# bed that decompressor takes about 4.5 s of every boot; here, on the build
# machine, unpacking takes well under a second, once).
#
#   tests/testbed/extract-vmlinux.sh VMLINUZ OUT
#
# The payload is located the way the boot protocol says (setup header:
# setup_sects at 0x1f1, payload_offset/payload_length at 0x248/0x24c,
# relative to the protected-mode code at (setup_sects + 1) * 512), not by
# searching for a compressor's magic, so it is exactly the kernel that
# bzImage would have unpacked. The result must be an x86-64 ELF file; it is
# written beside OUT and renamed, so OUT is whole or absent. Nothing is done
# when OUT is newer than VMLINUZ.
set -eu
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

[ $# -eq 2 ] || die "usage: $0 VMLINUZ OUT"
in=$1 out=$2
[ -r "$in" ] || die "cannot read $in"
[ -s "$out" ] && [ "$out" -nt "$in" ] && exit 0

# u32/u8/bytes at an offset of the file, as decimal or hex.
u32() { od -An -tu4 -j "$1" -N 4 "$in" | tr -d ' '; }
u8() { od -An -tu1 -j "$1" -N 1 "$in" | tr -d ' '; }
hex() { od -An -tx1 -j "$1" -N "$2" "$in" | tr -d ' \n'; }

[ "$(hex 0x202 4)" = 48647253 ] || die "$in is not a bzImage (no HdrS at 0x202)"
[ "$(od -An -tu2 -j 0x206 -N 2 "$in" | tr -d ' ')" -ge $((0x208)) ] ||
	die "$in: boot protocol older than 2.08 has no payload fields"
sects=$(u8 0x1f1)
[ "$sects" -ne 0 ] || sects=4
pm=$(((sects + 1) * 512))
off=$(u32 0x248) len=$(u32 0x24c)
size=$(stat -L -c %s "$in")
if [ "$len" -le 4 ] || [ $((pm + off + len)) -gt "$size" ]; then
	die "$in: payload (offset $off, $len bytes) lies outside the file ($size bytes)"
fi

case $(hex $((pm + off)) 6) in
fd377a585a00) dec=(xz -dc) ;;
1f8b*) dec=(gzip -dc) ;;
28b52ffd*) dec=(zstd -dcq) ;;
*) die "$in: payload compressed with an unsupported format (magic $(hex $((pm + off)) 6))" ;;
esac
command -v "${dec[0]}" >/dev/null || die "${dec[0]} is needed to unpack $in"

tmp=$out.tmp.$$
trap 'rm -f "$tmp"' EXIT
# The kernel build appends the uncompressed size (le32) to the compressed
# stream (size_append): the decompressor gets the stream alone, and the
# size checks that the whole kernel came out.
tail -c +$((pm + off + 1)) "$in" | head -c $((len - 4)) | "${dec[@]}" >"$tmp" ||
	die "cannot unpack the payload of $in with ${dec[*]}"
want=$(u32 $((pm + off + len - 4)))
[ $(($(stat -c %s "$tmp") & 0xffffffff)) -eq "$want" ] ||
	die "$in: unpacked $(stat -c %s "$tmp") bytes, the image says $want"
[ "$(od -An -tx1 -N 5 "$tmp" | tr -d ' \n')" = 7f454c4602 ] ||
	die "$in: the payload did not unpack to a 64-bit ELF file"
[ "$(od -An -tu2 -j 18 -N 2 "$tmp" | tr -d ' ')" = 62 ] || die "$in: the unpacked ELF is not x86-64"
mv "$tmp" "$out"
trap - EXIT
log "unpacked $(basename "$in") to $out ($(($(stat -c %s "$out") >> 20)) MiB)"
