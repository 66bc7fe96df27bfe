/*
 * iotlb_sync.c - keep vhost's IOTLB in step with the guest's tables
 * without emptying it: the re-walk that answers a domain or global IOTLB
 * flush, and the eager UPDATE that answers a caching-mode map notification.
 *
 * Why a re-walk: in lazy mode (Linux's default) the guest clears PTEs at
 * unmap time and flushes the whole domain every few milliseconds (a full
 * flush queue or its 10 ms timer). Forwarding that as "INVALIDATE
 * everything" made vhost miss again on both rings and on every buffer
 * still posted, after every flush. What a domain flush promises is only
 * that no cached translation differs from the tables once its wait
 * completes, so every held entry (iotlb_bridge.h 5c) that still translates the
 * same way may stay; the others are invalidated. That is exactly what a
 * hardware IOTLB that refetched everything would look like.
 *
 * Why eager pushes: with CAP.CM set the guest must invalidate after it
 * makes a PTE present too (Linux then also runs strict), so the VMM learns
 * of every new mapping before the driver hands the buffer to the device.
 * Pushing the UPDATE right there means vhost never has to ask: the miss,
 * which stalls the virtqueue for a round trip through the event loop,
 * becomes one write() on the vCPU's own exit.
 *
 * Both run from iotlb_bridge_invalidate, under the VT-d lock, before the
 * guest's wait descriptor completes: the ordering argument of iommu.h
 * section 6 covers them as it covers a miss.
 */
#include "iommu.h"

#include <errno.h>

#define PAGE 4096ull

/* Does every page of e still translate to the same GPA with at least e's
 * permission, in e's domain? */
static bool still_valid(const struct iotlb_bridge *b, const struct vtd_walk_cfg *cfg,
			uint64_t root, struct vtd_walk_cursor *cur, const struct iotlb_held_ent *e)
{
	uint64_t at = e->iova, end = e->iova + e->len; /* held extents never wrap */
	while (at < end) {
		struct vtd_extent x;
		uint64_t span = (end - at + PAGE - 1) & ~(PAGE - 1);
		if (vtd_translate_extent_at(b->gm, cfg, root, b->rid, at, VTD_PERM_NONE,
					    span < b->max_len ? span : b->max_len, cur, &x) < 0 ||
		    x.status != VTD_OK || x.pass_through || x.domain_id != e->did ||
		    (x.perm & e->perm) != e->perm || x.gpa + (at - x.iova) != e->gpa + (at - e->iova))
			return false;
		at = x.iova + x.len; /* > at: an extent always contains its iova */
	}
	return true;
}

/*
 * Stale entries are invalidated in runs: every stale entry between two
 * entries vhost keeps, in IOVA order, goes in one INVALIDATE from the
 * run's lowest IOVA to its highest last byte. That takes nothing from
 * vhost that one INVALIDATE per entry would not: between stale entries
 * with no kept entry between them, vhost holds nothing but them (the held
 * list is a superset of vhost's table), and a kept entry that overlaps
 * the run also overlaps one of its entries, so vhost (which drops whole
 * overlapping entries) would drop it anyway. Entries of other domains
 * count as kept. Why bother: every message vhost reads takes its device
 * mutex and every virtqueue mutex, and in lazy mode the freed IOVAs of a
 * flush interval lie mostly side by side.
 */
int iotlb_bridge_resync(struct iotlb_bridge *b, bool any_did, uint16_t did)
{
	uint64_t t0 = iotlb_now_ns();
	struct vtd_walk_cfg cfg;
	vtd_regs_walk_cfg(b->regs, &cfg);
	uint64_t root = vtd_regs_root(b->regs);
	struct iotlb_held *h = &b->held;
	struct iotlb_held_sorted *srt = h->sorted;
	b->st.resyncs++;
	/* Sorted once: the INVALIDATEs below drop through it too. */
	unsigned n = iotlb_held_sort(h);
	/* In IOVA order, one cursor: entries in one 2 MiB window share every
	 * table but the leaf, so each costs about one PTE read instead of a
	 * walk from the root (vtd_model.h). The guest's vCPU waits for this. */
	struct vtd_walk_cursor cur = { .valid = false };
	for (unsigned k = 0; k < n; k++) {
		const struct iotlb_held_ent *e = &h->e[srt[k].idx];
		if (!any_did && e->did != did)
			continue; /* another domain's: kept, and not counted */
		srt[k].stale = !still_valid(b, &cfg, root, &cur, e);
		if (srt[k].stale)
			b->st.resync_stale++;
		else
			b->st.resync_kept++;
	}
	b->st.resync_walk_ns_sum += iotlb_now_ns() - t0;
	/* Sending drops entries (marks them dead); nothing moves meanwhile. */
	int sent = 0;
	bool open = false;
	uint64_t first = 0, last = 0;
	for (unsigned k = 0; k <= n; k++) {
		if (k < n && srt[k].stale) {
			const struct iotlb_held_ent *e = &h->e[srt[k].idx];
			uint64_t e_last = e->iova + (e->len - 1);
			if (!open) {
				first = e->iova;
				last = e_last;
				open = true;
			} else if (e_last > last) {
				last = e_last;
			}
			continue;
		}
		if (open) {
			int ret = iotlb_bridge_inval_range(b, first, last);
			if (ret < 0) {
				sent = ret;
				break;
			}
			sent++;
			open = false;
		}
	}
	uint64_t ns = iotlb_now_ns() - t0;
	b->st.resync_ns_sum += ns;
	if (ns > b->st.resync_ns_max)
		b->st.resync_ns_max = ns;
	return sent;
}

int iotlb_bridge_eager(struct iotlb_bridge *b, const struct vtd_inval *inv)
{
	/* A map notification covers the pages just mapped (Linux rounds to a
	 * power of two); a bigger range is an unmap of a big buffer or a
	 * hostile AM, and misses will do. */
	const uint64_t max_span = 2ull << 20, max_updates = 64;
	if (inv->all || inv->last - inv->first >= max_span || inv->last >> 48 != 0 ||
	    !vtd_regs_translation_enabled(b->regs))
		return 0;
	struct vtd_walk_cfg cfg;
	vtd_regs_walk_cfg(b->regs, &cfg);
	uint64_t root = vtd_regs_root(b->regs);
	uint64_t at = inv->first & ~(PAGE - 1), end = (inv->last | (PAGE - 1)) + 1;
	int sent = 0;
	while (at < end && (uint64_t)sent < max_updates) {
		struct vtd_extent x;
		uint64_t span = end - at;
		if (vtd_translate_extent(b->gm, &cfg, root, b->rid, at, VTD_PERM_NONE,
					 span < b->max_len ? span : b->max_len, &x) == 0 &&
		    x.status == VTD_OK && !x.pass_through && x.domain_id == inv->did) {
			/* Best effort: the guest's flush itself did not fail, and
			 * a failed write left held->overflow set (send_update). */
			int ret = iotlb_bridge_push(b, &x);
			if (ret == -EIO)
				break;
			if (ret == 0) {
				b->st.eager++;
				sent++;
			}
			at = x.iova + x.len;
		} else {
			at += PAGE; /* not present (yet): its own miss will fault or map it */
		}
	}
	return sent;
}
