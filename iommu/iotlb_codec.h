/*
 * iotlb_codec.h - section 2 of the iommu/ interface (iommu.h includes it):
 * the vhost IOTLB message codec. It depends on nothing else in iommu/, so
 * the 32-bit probe (tests/iotlb-probe) builds it alone.
 */
#ifndef IOMMU_IOTLB_CODEC_H
#define IOMMU_IOTLB_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ======================================================================
 * 2. vhost IOTLB message codec (iotlb_codec.c)
 * ====================================================================== */

/*
 * Wire formats of messages read from / written to a vhost fd.
 *   V1_64: struct vhost_msg as laid out by an x86-64 kernel/user space:
 *          int type, 4-byte hole, iotlb at offset 8, 72 bytes in all.
 *   V1_32: struct vhost_msg on i386: no hole, iotlb at offset 4, 68 bytes.
 *   V2:    struct vhost_msg_v2: u32 type, u32 asid, iotlb at 8, 72 bytes,
 *          identical on every ABI. Use it whenever the kernel offers
 *          VHOST_BACKEND_F_IOTLB_MSG_V2.
 * The kernel speaks the v1 layout of its own ABI; IOTLB_WIRE_V1_NATIVE is
 * the one matching this build (a 32-bit VMM on a 64-bit kernel would go
 * through the compat path, which vhost does not provide: use V2 there).
 */
enum iotlb_wire {
	IOTLB_WIRE_V1_64,
	IOTLB_WIRE_V1_32,
	IOTLB_WIRE_V2,
};

#if defined(__x86_64__) || defined(__LP64__)
#define IOTLB_WIRE_V1_NATIVE IOTLB_WIRE_V1_64
#else
#define IOTLB_WIRE_V1_NATIVE IOTLB_WIRE_V1_32
#endif

/* Largest wire message; a read buffer of this size fits every format. */
#define IOTLB_WIRE_MAX 72u

/* Values of struct vhost_iotlb_msg.type / .perm (uapi vhost_types.h). */
#define IOTLB_MISS        1u
#define IOTLB_UPDATE      2u
#define IOTLB_INVALIDATE  3u
#define IOTLB_ACCESS_FAIL 4u

/* The payload, independent of the wire format. */
struct iotlb_msg {
	uint64_t iova;
	uint64_t size;
	uint64_t uaddr;
	uint8_t perm; /* VTD_PERM_* == VHOST_ACCESS_* */
	uint8_t type; /* IOTLB_MISS .. IOTLB_ACCESS_FAIL */
};

/* Byte size of a message in format w, or 0 for an unknown format. */
size_t iotlb_wire_size(enum iotlb_wire w);

/*
 * Is m acceptable? type must be MISS, UPDATE, INVALIDATE or ACCESS_FAIL
 * (the batch types 5/6 are vhost-vdpa only); perm must be R, W or RW,
 * except for INVALIDATE where the kernel ignores it and 0 is also allowed.
 * Ranges are not checked here: that is the bridge's job (note that the
 * kernel computes last = iova + size - 1 and rejects an UPDATE of size 0).
 */
bool iotlb_msg_valid(const struct iotlb_msg *m);

/*
 * Encode m into buf in format w. All bytes of the message are written
 * (padding and asid zeroed), so no stack garbage reaches the kernel.
 * Returns the number of bytes written, -ENOSPC if buflen is too small, or
 * -EINVAL for an unknown format or an invalid message.
 */
int iotlb_encode(enum iotlb_wire w, const struct iotlb_msg *m, void *buf, size_t buflen);

/*
 * Decode exactly len bytes in format w into *m. Rejects (-EINVAL) a length
 * that is not exactly the format's size (a short read is not a message),
 * an outer type other than VHOST_IOTLB_MSG (v1) / VHOST_IOTLB_MSG_V2 (v2),
 * asid != 0 (v2; vhost-net has one address space), and a payload that
 * fails iotlb_msg_valid(). *m is only written on success.
 */
int iotlb_decode(enum iotlb_wire w, const void *buf, size_t len, struct iotlb_msg *m);

#endif
