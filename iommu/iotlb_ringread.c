/*
 * iotlb_ringread.c - the guarded ring reader under the ring scan
 * (iotlb_ringscan.c): reads the device's split virtqueues, which the
 * driver writes, through the device's own VT-d with bounded work, and
 * hands out the buffers queued in them.
 *
 * Separate from the scan because this file is what makes reading hostile
 * rings safe at all; the scan and iotlb_ringscan_find only decide what to
 * do with the buffers it finds. The struct and the two shared functions
 * are declared in iotlb_bridge.h, section 5d (internal).
 *
 * Safety: the rings are guest memory, written concurrently by the driver,
 * and hostile in general. Nothing read here is trusted:
 *   - every read goes through the device's own VT-d translation (read
 *     permission, this requester id) and guest_mem's bounds checks, as a
 *     DMA read by the device would;
 *   - indices are reduced modulo the queue size, chains stop after `num`
 *     hops, indirect tables after IND_MAX entries, buffers after BUF_PAGES
 *     pages, and the whole scan after IOTLB_RINGSCAN_WORK reads and walks;
 *   - what is read only chooses which IOVAs are looked up; what is pushed
 *     is the guest's present mapping in the miss's domain, as a miss for
 *     that IOVA would push it (iotlb_bridge_push checks it against RAM).
 *     No fault is recorded: the device did not access those pages.
 * So a lying ring can at worst make us push mappings the guest has
 * anyway, which a real IOTLB may cache at any time, and the invalidation
 * path covers them like any other UPDATE (iotlb_bridge.h 5c, iommu.h section 6).
 */
#include "iommu.h"

#include <string.h>

#define PAGE 4096ull
#define DESC_SIZE 16u
#define F_NEXT 1u
#define F_INDIRECT 4u
#define IND_MAX 64u     /* entries read from one indirect table */

/* Host address of the 4 KiB page holding iova, as the device reads it. */
static const uint8_t *page_of(struct iotlb_ring_scan *s, uint64_t iova)
{
	uint64_t pg = iova & ~(PAGE - 1);
	for (unsigned i = 0; i < IOTLB_RING_CACHE; i++)
		if (s->host[i] != NULL && s->page[i] == pg)
			return s->host[i];
	if (s->work == 0)
		return NULL;
	s->work--;
	struct vtd_extent x;
	if (vtd_translate_extent_at(s->b->gm, s->cfg, s->root, s->b->rid, pg, VTD_PERM_R, PAGE,
				    &s->cur, &x) < 0 ||
	    x.status != VTD_OK || x.iova != pg)
		return NULL;
	const uint8_t *h = guest_mem_ptr(s->b->gm, x.gpa, PAGE);
	if (h == NULL)
		return NULL;
	s->page[s->next] = pg;
	s->host[s->next] = h;
	s->next = (s->next + 1) % IOTLB_RING_CACHE;
	return h;
}

static bool rd(struct iotlb_ring_scan *s, uint64_t iova, void *dst, size_t len)
{
	uint8_t *d = dst;
	while (len > 0) {
		const uint8_t *h = page_of(s, iova);
		if (h == NULL)
			return false;
		size_t off = (size_t)(iova & (PAGE - 1));
		size_t n = PAGE - off < len ? PAGE - off : len;
		memcpy(d, h + off, n);
		d += n;
		iova += n;
		len -= n;
	}
	return true;
}

bool iotlb_ring_rd16(struct iotlb_ring_scan *s, uint64_t iova, uint16_t *v)
{
	uint8_t b[2];
	if (!rd(s, iova, b, 2))
		return false;
	*v = (uint16_t)(b[0] | b[1] << 8); /* virtio 1.x rings are little-endian */
	return true;
}

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static bool rd_desc(struct iotlb_ring_scan *s, uint64_t iova, struct desc *d)
{
	uint8_t b[DESC_SIZE];
	if (s->work == 0 || !rd(s, iova, b, sizeof(b)))
		return false;
	s->work--;
	d->addr = 0;
	for (unsigned i = 0; i < 8; i++)
		d->addr |= (uint64_t)b[i] << (8 * i);
	d->len = (uint32_t)b[8] | (uint32_t)b[9] << 8 | (uint32_t)b[10] << 16 | (uint32_t)b[11] << 24;
	d->flags = (uint16_t)(b[12] | b[13] << 8);
	d->next = (uint16_t)(b[14] | b[15] << 8);
	return true;
}

uint16_t iotlb_ring_walk_queued(struct iotlb_ring_scan *s, const struct iotlb_vring *r,
				uint16_t from, uint16_t to, iotlb_ring_buf_fn fn, void *opaque)
{
	uint16_t k = from;
	for (; k != to && s->work > 0; k++) {
		struct iotlb_ring_buf rb = { .pos = k };
		if (!iotlb_ring_rd16(s, r->avail + 4 + 2ull * (k & (r->num - 1)), &rb.head))
			return to;
		uint16_t i = rb.head;
		for (unsigned hops = 0; hops < r->num && i < r->num; hops++) {
			struct desc d;
			if (!rd_desc(s, r->desc + (uint64_t)i * DESC_SIZE, &d))
				break;
			rb.desc = i;
			rb.addr = d.addr;
			rb.len = d.len;
			if (!fn(s, &rb, opaque))
				return k;
			if (d.flags & F_INDIRECT) {
				unsigned n = d.len / DESC_SIZE < IND_MAX ? d.len / DESC_SIZE : IND_MAX;
				rb.indirect = true;
				for (unsigned j = 0; j < n; j++) {
					struct desc e;
					if (!rd_desc(s, d.addr + (uint64_t)j * DESC_SIZE, &e))
						break;
					if (e.flags & F_INDIRECT)
						continue;
					rb.desc = (uint16_t)j;
					rb.addr = e.addr;
					rb.len = e.len;
					if (!fn(s, &rb, opaque))
						return k;
				}
				break;
			}
			if (!(d.flags & F_NEXT))
				break;
			i = d.next;
		}
	}
	return s->work > 0 ? to : (uint16_t)(k - 1);
}
