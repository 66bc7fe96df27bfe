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
 * and hostile in general; every read of them goes through the guarded
 * reader in iotlb_ringread.c, whose header comment has the argument (what
 * is read, what bounds the work, why what is pushed is harmless).
 */
#include "iommu.h"

#include <errno.h>

#define PAGE 4096ull
#define BUF_PAGES 32u   /* pages looked at per buffer (128 KiB) */

/* Push the present mappings of [addr, addr + len) not pushed yet. */
static void push_buffer(struct iotlb_ring_scan *s, uint64_t addr, uint64_t len)
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

static bool push_one(struct iotlb_ring_scan *s, const struct iotlb_ring_buf *rb, void *opaque)
{
	(void)opaque;
	push_buffer(s, rb->addr, rb->len);
	return s->budget > 0;
}

/* Scan r's pending entries, at most max of them (0: all). */
static void scan_ring(struct iotlb_ring_scan *s, struct iotlb_vring *r, uint16_t max)
{
	uint16_t avail_idx, used_idx;
	if (s->budget == 0 || s->work == 0 || !iotlb_ring_rd16(s, r->avail + 2, &avail_idx) ||
	    !iotlb_ring_rd16(s, r->used + 2, &used_idx))
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
	uint16_t end = iotlb_ring_walk_queued(s, r, from, to, push_one, NULL);
	/* Entries before `end` were pushed or found unmapped; the one at `end`
	 * did not fit the budget and is redone next time. */
	r->scanned = (s->budget > 0 && s->work > 0) ? to : end;
	r->scanned_used = used_idx;
}

/* Rings `only` (IOTLB_VRINGS: all), at most max entries of each (0: all). */
static void ringscan(struct iotlb_bridge *b, const struct vtd_walk_cfg *cfg, uint64_t root,
		     uint16_t did, unsigned only, uint16_t max)
{
	struct iotlb_ring_scan s = { .b = b, .cfg = cfg, .root = root, .did = did,
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

static bool find_one(struct iotlb_ring_scan *s, const struct iotlb_ring_buf *rb, void *opaque)
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
	struct iotlb_ring_scan s = { .b = b, .cfg = &cfg, .root = vtd_regs_root(b->regs),
				     .work = IOTLB_RINGSCAN_WORK };
	struct find f = { .iova = iova, .hit = hit };
	bool read_one = false;
	for (unsigned q = 0; q < IOTLB_VRINGS && !f.found; q++) {
		const struct iotlb_vring *r = &b->vring[q];
		uint16_t avail_idx, used_idx;
		if (!r->live || r->num == 0 || (r->num & (r->num - 1)) != 0 ||
		    !iotlb_ring_rd16(&s, r->avail + 2, &avail_idx) ||
		    !iotlb_ring_rd16(&s, r->used + 2, &used_idx))
			continue;
		read_one = true;
		uint16_t pending = (uint16_t)(avail_idx - used_idx);
		*hit = (struct iotlb_ring_hit){ .queue = q, .used_idx = used_idx,
						.avail_idx = avail_idx };
		uint16_t to = (uint16_t)(used_idx + (pending > r->num ? r->num : pending));
		(void)iotlb_ring_walk_queued(&s, r, used_idx, to, find_one, &f);
	}
	if (f.found)
		return 1;
	return read_one ? 0 : -ENOENT;
}
