/*
 * iotlb_inval.c - the bridge's invalidation side: forwards the guest's
 * invalidations (struct vtd_inval) to vhost as INVALIDATEs, and keeps what
 * the bridge knows vhost may hold (did_map, identity, unknown, the held
 * list, the pushed marks, the retired log) in step with what it forgot.
 *
 * Separate from iotlb_bridge.c (the miss side) because it answers a
 * different caller at a different time: the invalidation queue or a
 * register command on a vCPU, not a MISS read from the vhost fd. Both
 * halves share one write path, iotlb_bridge_send_msg, and the rules in
 * iotlb_bridge.c's header comment (whole messages only, no allocation).
 */
#include "iommu.h"

#include <errno.h>
#include <string.h>

static int send_inval(struct iotlb_bridge *b, bool all, uint64_t first, uint64_t last)
{
	struct iotlb_msg m = { .type = IOTLB_INVALIDATE };
	if (all || (first == 0 && last == UINT64_MAX)) {
		m.iova = 0;
		m.size = UINT64_MAX; /* vhost: last = 0 + UINT64_MAX - 1, no overflow */
	} else {
		m.iova = first;
		m.size = last - first + 1; /* < 2^64 since first > 0 or last < max */
	}
	int ret = iotlb_bridge_send_msg(b, &m);
	bool total = m.iova == 0 && m.size == UINT64_MAX;
	/* What vhost forgot: the range, widened below to the whole entries it
	 * dropped (vhost deletes every entry the range overlaps). */
	uint64_t lo = m.iova, hi = total ? UINT64_MAX : m.iova + (m.size - 1);
	if (ret == 0) {
		b->st.invalidates++;
		if (total)
			iotlb_held_reset(&b->held);
		else
			iotlb_held_drop(&b->held, &lo, &hi);
		if (b->shadow != NULL)
			iotlb_shadow_invalidate(b->shadow, m.iova, m.size);
	}
	/* Even if the write failed (the held list then keeps its entries):
	 * late misses (5e) may come for it, and the pushed marks in it may no
	 * longer be true. */
	iotlb_retired_log(&b->retired, lo, hi);
	iotlb_pushed_forget(b, lo, hi);
	return ret;
}

static int flush_all(struct iotlb_bridge *b)
{
	bool any = b->unknown || b->identity;
	for (size_t i = 0; !any && i < sizeof(b->did_map); i++)
		any = b->did_map[i] != 0;
	if (!any)
		return 0; /* nothing was handed out since the last total flush */
	int ret = send_inval(b, true, 0, UINT64_MAX);
	if (ret < 0)
		return ret; /* keep the marks: a later flush will retry */
	b->unknown = false;
	b->identity = false;
	memset(b->did_map, 0, sizeof(b->did_map));
	return 1; /* send_inval reset the held list */
}

static bool did_mapped(const struct iotlb_bridge *b, uint16_t did)
{
	return b->unknown || (b->did_map[did / 8] & (1u << (did % 8)));
}

int iotlb_bridge_inval_range(struct iotlb_bridge *b, uint64_t first, uint64_t last)
{
	return send_inval(b, false, first, last);
}

/*
 * A domain (any_did: global) IOTLB flush. The held list can answer it with
 * a re-walk (iotlb_sync.c) only when it accounts for everything vhost may
 * hold: not after an unrecorded UPDATE, not while vhost may still hold
 * identity windows or entries from before this bridge, and not with
 * translation off (then nothing translated may survive at all).
 */
static int domain_flush(struct iotlb_bridge *b, bool any_did, uint16_t did)
{
	if (b->unknown || b->identity || b->held.overflow ||
	    !vtd_regs_translation_enabled(b->regs))
		return flush_all(b);
	return iotlb_bridge_resync(b, any_did, did);
}

/* A page-selective flush: forward it if vhost may hold part of the range;
 * with CAP.CM it may also announce a new mapping, pushed right away. */
static int page_flush(struct iotlb_bridge *b, const struct vtd_inval *inv)
{
	int sent = 0;
	if (did_mapped(b, inv->did) &&
	    (b->unknown || b->identity || iotlb_held_overlaps(&b->held, inv->first, inv->last))) {
		int ret = send_inval(b, false, inv->first, inv->last);
		if (ret < 0)
			return ret;
		sent = 1;
	}
	if (vtd_regs_caching_mode(b->regs))
		sent += iotlb_bridge_eager(b, inv);
	return sent;
}

/* How the guest flushes (iotlb_bridge_relay_wanted): any domain's
 * invalidations count, since the style is the guest's, not a domain's. */
static void note_style(struct iotlb_bridge *b, const struct vtd_inval *inv)
{
	if (inv->kind == VTD_INVAL_IOTLB_PAGE && !inv->all) {
		if (b->page_run < UINT32_MAX)
			b->page_run++;
	} else if (inv->kind == VTD_INVAL_IOTLB_PAGE || inv->kind == VTD_INVAL_IOTLB_DOMAIN ||
		   inv->kind == VTD_INVAL_IOTLB_GLOBAL) {
		b->page_run = 0;
	}
}

bool iotlb_bridge_relay_wanted(const struct iotlb_bridge *b)
{
	return b != NULL && b->page_run >= IOTLB_RELAY_PAGE_RUN;
}

int iotlb_bridge_invalidate(struct iotlb_bridge *b, const struct vtd_inval *inv)
{
	if (b == NULL || inv == NULL)
		return -EINVAL;
	note_style(b, inv);
	int ret;
	switch (inv->kind) {
	case VTD_INVAL_RESET:
	case VTD_INVAL_CC_GLOBAL:
	case VTD_INVAL_CC_DOMAIN:
	case VTD_INVAL_CC_DEVICE:
		/* Context changes may move the device to another domain or to
		 * pass-through; they are rare, so the conservative flush is cheap. */
		return flush_all(b);
	case VTD_INVAL_IOTLB_GLOBAL:
		return domain_flush(b, true, 0);
	case VTD_INVAL_IOTLB_DOMAIN:
		return did_mapped(b, inv->did) ? domain_flush(b, false, inv->did) : 0;
	case VTD_INVAL_IOTLB_PAGE:
		if (inv->all)
			return did_mapped(b, inv->did) ? domain_flush(b, false, inv->did) : 0;
		return page_flush(b, inv);
	case VTD_INVAL_DEVTLB:
		if (inv->sid != b->rid)
			return 0;
		if (inv->all)
			return flush_all(b);
		ret = send_inval(b, false, inv->first, inv->last);
		return ret < 0 ? ret : 1;
	}
	return 0;
}
