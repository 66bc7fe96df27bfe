/*
 * iotlb_codec.c - struct vhost_msg / vhost_msg_v2 to and from bytes.
 *
 * The VMM never hands a uapi struct to read()/write() directly: the v1
 * layout depends on the ABI (a 4-byte hole after 'int type' on x86-64, none
 * on i386), so we describe each layout explicitly with packed structs whose
 * sizes and offsets are pinned below, and check at build time that the uapi
 * header of this build agrees with the layout we call "native".
 */
#include "iommu.h"

#include <errno.h>
#include <string.h>

#include <linux/vhost_types.h>

struct __attribute__((packed)) wire_iotlb {
	uint64_t iova;
	uint64_t size;
	uint64_t uaddr;
	uint8_t perm;
	uint8_t type;
};

union __attribute__((packed)) wire_body {
	struct wire_iotlb iotlb;
	uint8_t padding[64];
};

struct __attribute__((packed)) wire_v1_64 {
	uint32_t type;
	uint32_t hole; /* alignment hole of the 64-bit ABI */
	union wire_body u;
};

struct __attribute__((packed)) wire_v1_32 {
	uint32_t type;
	union wire_body u;
};

struct __attribute__((packed)) wire_v2 {
	uint32_t type;
	uint32_t asid;
	union wire_body u;
};

/* Our layouts. */
_Static_assert(sizeof(struct wire_iotlb) == 26, "iotlb payload");
_Static_assert(offsetof(struct wire_iotlb, size) == 8, "iotlb.size");
_Static_assert(offsetof(struct wire_iotlb, uaddr) == 16, "iotlb.uaddr");
_Static_assert(offsetof(struct wire_iotlb, perm) == 24, "iotlb.perm");
_Static_assert(offsetof(struct wire_iotlb, type) == 25, "iotlb.type");
_Static_assert(sizeof(union wire_body) == 64, "body");
_Static_assert(sizeof(struct wire_v1_64) == 72, "v1 x86-64");
_Static_assert(offsetof(struct wire_v1_64, u) == 8, "v1 x86-64 iotlb offset");
_Static_assert(sizeof(struct wire_v1_32) == 68, "v1 i386");
_Static_assert(offsetof(struct wire_v1_32, u) == 4, "v1 i386 iotlb offset");
_Static_assert(sizeof(struct wire_v2) == 72, "v2");
_Static_assert(offsetof(struct wire_v2, asid) == 4, "v2 asid");
_Static_assert(offsetof(struct wire_v2, u) == 8, "v2 iotlb offset");
_Static_assert(IOTLB_WIRE_MAX == 72, "largest message");

/* The uapi header of this build agrees with what we call native. */
#if defined(__x86_64__) || defined(__LP64__)
_Static_assert(sizeof(struct vhost_msg) == sizeof(struct wire_v1_64), "uapi v1 (64-bit)");
_Static_assert(offsetof(struct vhost_msg, iotlb) == offsetof(struct wire_v1_64, u), "uapi v1");
#else
_Static_assert(sizeof(struct vhost_msg) == sizeof(struct wire_v1_32), "uapi v1 (i386)");
_Static_assert(offsetof(struct vhost_msg, iotlb) == offsetof(struct wire_v1_32, u), "uapi v1");
#endif
_Static_assert(sizeof(struct vhost_msg_v2) == sizeof(struct wire_v2), "uapi v2");
_Static_assert(offsetof(struct vhost_msg_v2, asid) == offsetof(struct wire_v2, asid), "uapi v2");
_Static_assert(offsetof(struct vhost_msg_v2, iotlb) == offsetof(struct wire_v2, u), "uapi v2");
_Static_assert(offsetof(struct vhost_iotlb_msg, perm) == 24, "uapi iotlb.perm");
_Static_assert(offsetof(struct vhost_iotlb_msg, type) == 25, "uapi iotlb.type");
_Static_assert(VHOST_IOTLB_MISS == IOTLB_MISS && VHOST_IOTLB_UPDATE == IOTLB_UPDATE &&
	       VHOST_IOTLB_INVALIDATE == IOTLB_INVALIDATE &&
	       VHOST_IOTLB_ACCESS_FAIL == IOTLB_ACCESS_FAIL, "iotlb types");
_Static_assert(VHOST_ACCESS_RO == VTD_PERM_R && VHOST_ACCESS_WO == VTD_PERM_W &&
	       VHOST_ACCESS_RW == VTD_PERM_RW, "perms");

size_t iotlb_wire_size(enum iotlb_wire w)
{
	switch (w) {
	case IOTLB_WIRE_V1_64:
		return sizeof(struct wire_v1_64);
	case IOTLB_WIRE_V1_32:
		return sizeof(struct wire_v1_32);
	case IOTLB_WIRE_V2:
		return sizeof(struct wire_v2);
	}
	return 0;
}

bool iotlb_msg_valid(const struct iotlb_msg *m)
{
	if (m == NULL || m->type < IOTLB_MISS || m->type > IOTLB_ACCESS_FAIL)
		return false;
	if (m->perm >= VTD_PERM_R && m->perm <= VTD_PERM_RW)
		return true;
	return m->type == IOTLB_INVALIDATE && m->perm == VTD_PERM_NONE;
}

_Static_assert(offsetof(struct wire_v1_64, u) == offsetof(struct wire_v2, u), "same body offset");

/* Where struct vhost_iotlb_msg starts in a format. */
static size_t body_offset(enum iotlb_wire w)
{
	return w == IOTLB_WIRE_V1_32 ? offsetof(struct wire_v1_32, u) : offsetof(struct wire_v2, u);
}

/* Outer message type expected for a format. */
static uint32_t outer_type(enum iotlb_wire w)
{
	return w == IOTLB_WIRE_V2 ? VHOST_IOTLB_MSG_V2 : VHOST_IOTLB_MSG;
}

int iotlb_encode(enum iotlb_wire w, const struct iotlb_msg *m, void *buf, size_t buflen)
{
	size_t n = iotlb_wire_size(w);
	if (n == 0 || buf == NULL || !iotlb_msg_valid(m))
		return -EINVAL;
	if (buflen < n)
		return -ENOSPC;

	union wire_body body;
	memset(&body, 0, sizeof(body));
	body.iotlb.iova = m->iova;
	body.iotlb.size = m->size;
	body.iotlb.uaddr = m->uaddr;
	body.iotlb.perm = m->perm;
	body.iotlb.type = m->type;

	/* Copy field by field at fixed offsets; everything else stays zero. */
	uint8_t out[IOTLB_WIRE_MAX];
	uint32_t type = outer_type(w);
	memset(out, 0, sizeof(out));
	memcpy(out, &type, sizeof(type));
	memcpy(out + body_offset(w), &body, sizeof(body));
	memcpy(buf, out, n);
	return (int)n;
}

int iotlb_decode(enum iotlb_wire w, const void *buf, size_t len, struct iotlb_msg *m)
{
	size_t n = iotlb_wire_size(w);
	if (n == 0 || buf == NULL || m == NULL || len != n)
		return -EINVAL;

	const uint8_t *in = buf;
	uint32_t type, asid = 0;
	union wire_body body;
	memcpy(&type, in, sizeof(type));
	if (w == IOTLB_WIRE_V2)
		memcpy(&asid, in + offsetof(struct wire_v2, asid), sizeof(asid));
	memcpy(&body, in + body_offset(w), sizeof(body));

	if (type != outer_type(w) || asid != 0)
		return -EINVAL;
	struct iotlb_msg r = {
		.iova = body.iotlb.iova,
		.size = body.iotlb.size,
		.uaddr = body.iotlb.uaddr,
		.perm = body.iotlb.perm,
		.type = body.iotlb.type,
	};
	if (!iotlb_msg_valid(&r))
		return -EINVAL;
	*m = r;
	return 0;
}
