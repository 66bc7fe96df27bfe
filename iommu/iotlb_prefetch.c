/*
 * iotlb_prefetch.c - after answering a miss, hand vhost the guest's other
 * live mappings next to it, so the buffers it will touch next do not miss.
 *
 * Why it pays: a miss stops the virtqueue until the UPDATE comes back
 * (vhost worker -> MISS on the fd -> event loop -> walk -> UPDATE -> vhost
 * re-polls the queue), while an unsolicited UPDATE costs one write().
 * Linux's DMA API hands out IOVAs from the top down, and virtio-net maps a
 * whole batch of receive buffers before it kicks, so the next buffers vhost
 * takes sit on the pages just below (and above) the missed one.
 *
 * Why it is safe: only present PTEs are pushed, with the translation they
 * have now. A real IOTLB may cache any present translation too; the guest
 * must invalidate after it unmaps, and every invalidation reaches vhost
 * (iotlb_bridge_invalidate) whether the entry came from a miss or from
 * here. A PTE the guest clears concurrently is covered by the locking
 * invariant exactly as for a miss (iommu.h section 6): this runs inside
 * the same "walk + UPDATE" section, under the VT-d lock.
 *
 * The pushed-page cache only stops us sending vhost the same page twice
 * (vhost keeps duplicates, and they would crowd its 2048-entry table); it
 * never decides whether a miss is answered. A stale "pushed" mark only
 * costs a later miss.
 */
#include "iommu.h"

#include <string.h>

#define PAGE 4096ull

static unsigned slot_of(uint64_t pfn)
{
	return (unsigned)((pfn * 0x9E3779B97F4A7C15ull) >> 52) & (IOTLB_PUSHED_SLOTS - 1);
}

bool iotlb_pushed_test(const struct iotlb_bridge *b, uint64_t iova)
{
	uint64_t pfn = iova / PAGE;
	return b->pushed[slot_of(pfn)] == pfn + 1;
}

void iotlb_pushed_mark(struct iotlb_bridge *b, uint64_t iova, uint64_t len)
{
	/* Marking is best effort: a very long extent marks its first pages. */
	uint64_t pages = len / PAGE < 512 ? len / PAGE : 512;
	for (uint64_t i = 0; i < pages; i++) {
		uint64_t pfn = iova / PAGE + i;
		b->pushed[slot_of(pfn)] = pfn + 1;
	}
}

void iotlb_pushed_forget(struct iotlb_bridge *b, uint64_t first, uint64_t last)
{
	if (last - first >= 64 * PAGE) {
		memset(b->pushed, 0, sizeof(b->pushed));
		return;
	}
	for (uint64_t pfn = first / PAGE; pfn <= last / PAGE; pfn++)
		if (b->pushed[slot_of(pfn)] == pfn + 1)
			b->pushed[slot_of(pfn)] = 0;
}

/*
 * Push the live mappings on either side of [ext->iova, +len): first
 * downwards (the order Linux allocates in), then upwards, within the 2 MiB
 * IOVA window of the miss, each side stopping after a run of unmapped
 * pages, and at most b->prefetch UPDATEs in all.
 */
void iotlb_prefetch_around(struct iotlb_bridge *b, const struct vtd_walk_cfg *cfg,
			   uint64_t root, const struct vtd_extent *ext)
{
	const uint64_t window = 2ull << 20, max_gap = 8;
	uint64_t lo = ext->iova & ~(window - 1), hi = lo + window; /* [lo, hi) */
	unsigned budget = b->prefetch;

	for (int dir = -1; dir <= 1 && budget > 0; dir += 2) {
		uint64_t gap = 0;
		uint64_t at = dir < 0 ? (ext->iova & ~(PAGE - 1)) : ext->iova + ext->len;
		while (budget > 0 && gap < max_gap) {
			if (dir < 0) {
				if (at <= lo)
					break;
				at -= PAGE;
			} else if (at >= hi) {
				break;
			}
			struct vtd_extent x;
			if (iotlb_pushed_test(b, at)) {
				gap = 0;
			} else if (vtd_translate_extent(b->gm, cfg, root, b->rid, at, VTD_PERM_NONE,
							(dir < 0 ? PAGE : hi - at), &x) == 0 &&
				   x.status == VTD_OK && x.domain_id == ext->domain_id &&
				   !x.pass_through) {
				gap = 0;
				budget--;
				if (iotlb_bridge_push(b, &x) == 0)
					b->st.prefetched++;
				if (dir > 0 && x.len > PAGE) {
					at = x.iova + x.len;
					continue;
				}
			} else {
				gap++;
			}
			if (dir > 0)
				at += PAGE;
		}
	}
}
