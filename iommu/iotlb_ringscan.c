/*
 * iotlb_ringscan.c - after answering a miss, push the translations of the
 * buffers the driver has queued and the device has not used yet.
 *
 * Why: a miss stops the virtqueue for a round trip through the event loop
 * (vhost worker -> MISS -> walk -> UPDATE -> vhost re-polls), and the
 * driver maps every buffer afresh, so without help vhost misses on each new
 * buffer in turn. The buffers vhost will touch next are exactly those in
 * the avail ring past the used index; the neighbour prefetch
 * (iotlb_prefetch.c) can only guess at them from IOVA order.
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

#include <errno.h>
#include <string.h>

#define PAGE 4096ull
#define DESC_SIZE 16u
#define F_NEXT 1u
#define F_INDIRECT 4u
#define IND_MAX 64u     /* entries read from one indirect table */
#define BUF_PAGES 32u   /* pages looked at per buffer (128 KiB) */
#define CACHE 8u        /* translated ring pages kept during a scan */

struct scan {
	struct iotlb_bridge *b;
	const struct vtd_walk_cfg *cfg;
	uint64_t root;
	uint16_t did;
	unsigned budget;         /* UPDATEs left */
	unsigned work;           /* reads + walks left */
	/* One cursor for the scan: ring pages and buffers mostly share their
	 * upper tables (see vtd_model.h for why this is as sound as fresh walks
	 * under the VT-d lock). */
	struct vtd_walk_cursor cur;
	uint64_t page[CACHE];
	const uint8_t *host[CACHE];
	unsigned next;
};

/* Host address of the 4 KiB page holding iova, as the device reads it. */
static const uint8_t *page_of(struct scan *s, uint64_t iova)
{
	uint64_t pg = iova & ~(PAGE - 1);
	for (unsigned i = 0; i < CACHE; i++)
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
	s->next = (s->next + 1) % CACHE;
	return h;
}

static bool rd(struct scan *s, uint64_t iova, void *dst, size_t len)
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

static bool rd16(struct scan *s, uint64_t iova, uint16_t *v)
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

static bool rd_desc(struct scan *s, uint64_t iova, struct desc *d)
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

/* Push the present mappings of [addr, addr + len) not pushed yet. */
static void push_buffer(struct scan *s, uint64_t addr, uint64_t len)
{
	if (len == 0)
		return;
	uint64_t last = addr + (len - 1) < addr ? UINT64_MAX : addr + (len - 1);
	uint64_t at = addr & ~(PAGE - 1);
	for (unsigned pages = 0; pages < BUF_PAGES && s->budget > 0 && s->work > 0; pages++) {
		if (!iotlb_pushed_test(s->b, at)) {
			uint64_t room = (last - at) / PAGE + 1; /* pages left in the buffer */
			uint64_t max = (room > BUF_PAGES ? BUF_PAGES : room) * PAGE;
			struct vtd_extent x;
			s->work--;
			if (vtd_translate_extent_at(s->b->gm, s->cfg, s->root, s->b->rid, at,
						    VTD_PERM_NONE, max, &s->cur, &x) == 0 &&
			    x.status == VTD_OK && x.domain_id == s->did && !x.pass_through) {
				s->budget--;
				if (iotlb_bridge_push(s->b, &x) == 0)
					s->b->st.ringscanned++;
				uint64_t end = x.iova + x.len; /* > at; 0 if it wrapped */
				if (end == 0 || end - 1 >= last)
					return;
				pages += (unsigned)((end - at) / PAGE) - 1;
				at = end;
				continue;
			}
		}
		if (last - at < PAGE)
			return;
		at += PAGE;
	}
}

/* One buffer of a queued chain, as walk_queued hands them out. */
struct ring_buf {
	uint16_t pos, head, desc; /* avail position, chain head, index in its table */
	bool indirect;            /* desc indexes head's indirect table */
	uint64_t addr;
	uint32_t len;
};

/* Called for each buffer; false stops the walk. */
typedef bool (*ring_buf_fn)(struct scan *s, const struct ring_buf *rb, void *opaque);

/*
 * Hand fn each buffer of the chains queued at avail positions [from, to):
 * direct descriptors in chain order; for an indirect head, the table itself
 * (vhost reads it through the IOTLB too) and then its first IND_MAX
 * entries, nested indirect ones skipped (invalid in virtio). A chain stops
 * after num hops or at an unreadable descriptor, the walk at an unreadable
 * avail entry. Returns the position fn stopped at; else `to`, or, when the
 * work budget ran out, the position in progress then.
 */
static uint16_t walk_queued(struct scan *s, const struct iotlb_vring *r, uint16_t from,
			    uint16_t to, ring_buf_fn fn, void *opaque)
{
	uint16_t k = from;
	for (; k != to && s->work > 0; k++) {
		struct ring_buf rb = { .pos = k };
		if (!rd16(s, r->avail + 4 + 2ull * (k & (r->num - 1)), &rb.head))
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

static bool push_one(struct scan *s, const struct ring_buf *rb, void *opaque)
{
	(void)opaque;
	push_buffer(s, rb->addr, rb->len);
	return s->budget > 0;
}

/* Scan r's pending entries, at most max of them (0: all). */
static void scan_ring(struct scan *s, struct iotlb_vring *r, uint16_t max)
{
	uint16_t avail_idx, used_idx;
	if (s->budget == 0 || s->work == 0 || !rd16(s, r->avail + 2, &avail_idx) ||
	    !rd16(s, r->used + 2, &used_idx))
		return;
	uint16_t pending = (uint16_t)(avail_idx - used_idx);
	if (pending > r->num)
		return; /* not a state a sane driver and device produce */
	/*
	 * Resume where the last scan stopped if the device has not passed that
	 * point since (used moved forward by no more than the scan had covered)
	 * and it lies in the pending window. The indices are 16 bits, so after
	 * 65536 buffers without a miss the old point could alias into the
	 * window; the first test catches all but exact multiples of 65536.
	 */
	uint16_t from = used_idx;
	if ((uint16_t)(used_idx - r->scanned_used) <= (uint16_t)(r->scanned - r->scanned_used) &&
	    (uint16_t)(r->scanned - used_idx) <= pending)
		from = r->scanned;
	uint16_t to = avail_idx;
	if (max != 0 && (uint16_t)(avail_idx - from) > max)
		to = (uint16_t)(from + max);
	uint16_t end = walk_queued(s, r, from, to, push_one, NULL);
	/* Entries before `end` were pushed or found unmapped; the one at `end`
	 * did not fit the budget and is redone next time. */
	r->scanned = (s->budget > 0 && s->work > 0) ? to : end;
	r->scanned_used = used_idx;
}

/* Rings `only` (IOTLB_VRINGS: all), at most max entries of each (0: all). */
static void ringscan(struct iotlb_bridge *b, const struct vtd_walk_cfg *cfg, uint64_t root,
		     uint16_t did, unsigned only, uint16_t max)
{
	struct scan s = { .b = b, .cfg = cfg, .root = root, .did = did,
			  .budget = b->ringscan, .work = IOTLB_RINGSCAN_WORK };
	bool any = false;
	for (unsigned q = 0; q < IOTLB_VRINGS; q++) {
		struct iotlb_vring *r = &b->vring[q];
		if ((only < IOTLB_VRINGS && q != only) || !r->live || r->num == 0 ||
		    (r->num & (r->num - 1)) != 0 || r->num > 32768)
			continue;
		any = true;
		scan_ring(&s, r, max);
	}
	if (any)
		b->st.ringscans++;
}

void iotlb_ringscan(struct iotlb_bridge *b, const struct vtd_walk_cfg *cfg, uint64_t root,
		    uint16_t did)
{
	ringscan(b, cfg, root, did, IOTLB_VRINGS, 0);
}

void iotlb_bridge_scan_ring(struct iotlb_bridge *b, unsigned only, uint16_t max)
{
	if (b->ringscan == 0 || !vtd_regs_translation_enabled(b->regs))
		return;
	for (unsigned q = 0; q < IOTLB_VRINGS; q++) {
		if (!b->vring[q].live)
			continue;
		struct vtd_walk_cfg cfg;
		struct vtd_extent x;
		vtd_regs_walk_cfg(b->regs, &cfg);
		uint64_t root = vtd_regs_root(b->regs);
		if (vtd_translate_extent(b->gm, &cfg, root, b->rid, b->vring[q].avail & ~(PAGE - 1),
					 VTD_PERM_R, PAGE, &x) == 0 &&
		    x.status == VTD_OK && !x.pass_through)
			ringscan(b, &cfg, root, x.domain_id, only, max);
		return;
	}
}

void iotlb_bridge_scan_rings(struct iotlb_bridge *b)
{
	iotlb_bridge_scan_ring(b, IOTLB_VRINGS, 0);
}

struct find {
	uint64_t iova;
	struct iotlb_ring_hit *hit;
	bool found;
};

static bool find_one(struct scan *s, const struct ring_buf *rb, void *opaque)
{
	struct find *f = opaque;
	(void)s;
	if (rb->len == 0 || f->iova < rb->addr || f->iova - rb->addr >= rb->len)
		return true;
	f->hit->avail_pos = rb->pos;
	f->hit->head = rb->head;
	f->hit->desc = rb->desc;
	f->hit->indirect = rb->indirect;
	f->hit->addr = rb->addr;
	f->hit->len = rb->len;
	f->found = true;
	return false;
}

int iotlb_ringscan_find(struct iotlb_bridge *b, uint64_t iova, struct iotlb_ring_hit *hit)
{
	if (!vtd_regs_translation_enabled(b->regs))
		return -ENOENT;
	struct vtd_walk_cfg cfg;
	vtd_regs_walk_cfg(b->regs, &cfg);
	struct scan s = { .b = b, .cfg = &cfg, .root = vtd_regs_root(b->regs),
			  .work = IOTLB_RINGSCAN_WORK };
	struct find f = { .iova = iova, .hit = hit };
	bool read_one = false;
	for (unsigned q = 0; q < IOTLB_VRINGS && !f.found; q++) {
		const struct iotlb_vring *r = &b->vring[q];
		uint16_t avail_idx, used_idx;
		if (!r->live || r->num == 0 || (r->num & (r->num - 1)) != 0 ||
		    !rd16(&s, r->avail + 2, &avail_idx) || !rd16(&s, r->used + 2, &used_idx))
			continue;
		read_one = true;
		uint16_t pending = (uint16_t)(avail_idx - used_idx);
		*hit = (struct iotlb_ring_hit){ .queue = q, .used_idx = used_idx,
						.avail_idx = avail_idx };
		(void)walk_queued(&s, r, used_idx,
				  (uint16_t)(used_idx + (pending > r->num ? r->num : pending)), find_one,
				  &f);
	}
	if (f.found)
		return 1;
	return read_one ? 0 : -ENOENT;
}
