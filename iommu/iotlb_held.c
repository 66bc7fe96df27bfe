/*
 * iotlb_held.c - the list of translations vhost may hold for one bridge
 * (iotlb_bridge.h, section 5c).
 *
 * A flat array in push order with lazy deletion: an INVALIDATE marks the
 * entries it covers dead, and the next add compacts the array once dead
 * slots outnumber live ones, so a scan costs about twice the live count.
 * That count is small in practice (the rings plus the buffers in flight:
 * a few hundred), which is why a linear scan beats a tree here; the scans
 * run under the VT-d lock on the invalidation path, never per packet.
 * The exception is a domain flush's re-walk, which sends tens of
 * INVALIDATEs in a row: it sorts the live entries once
 * (iotlb_held_sort), and until the next add each drop binary-searches
 * that view instead of scanning.
 *
 * Nothing here allocates or does I/O; the table lives in the bridge.
 */
#include "iommu.h"

#include <stdlib.h>
#include <string.h>

_Static_assert(IOTLB_HELD_MAX <= 65536, "iotlb_held_sorted.idx is 16 bits");

void iotlb_held_reset(struct iotlb_held *h)
{
	h->n = 0;
	h->live = 0;
	h->overflow = false;
	h->sorted_valid = false;
}

static void compact(struct iotlb_held *h)
{
	unsigned j = 0;
	for (unsigned i = 0; i < h->n; i++)
		if (h->e[i].live)
			h->e[j++] = h->e[i];
	h->n = j; /* == h->live */
}

void iotlb_held_add(struct iotlb_held *h, uint64_t iova, uint64_t len, uint64_t gpa,
		    uint8_t perm, uint16_t did)
{
	if (h->overflow || len == 0)
		return; /* already "anything possible" until the next total flush */
	h->sorted_valid = false; /* it would miss this entry, and compact moves slots */
	/* Only here, never in drop: a resync walks the array while it drops. */
	if (h->n == IOTLB_HELD_MAX || h->n - h->live > h->live + 64)
		compact(h);
	if (h->n == IOTLB_HELD_MAX) {
		h->overflow = true; /* cannot list it: the invariant falls back */
		return;
	}
	h->e[h->n++] = (struct iotlb_held_ent){
		.iova = iova, .len = len, .gpa = gpa, .did = did, .perm = perm, .live = true,
	};
	h->live++;
}

static bool overlaps(const struct iotlb_held_ent *e, uint64_t first, uint64_t last)
{
	return e->iova <= last && first <= e->iova + (e->len - 1);
}

static int by_iova(const void *a, const void *b)
{
	uint64_t x = ((const struct iotlb_held_sorted *)a)->iova;
	uint64_t y = ((const struct iotlb_held_sorted *)b)->iova;
	return (x > y) - (x < y);
}

unsigned iotlb_held_sort(struct iotlb_held *h)
{
	unsigned n = 0;
	uint64_t maxlen = 0;
	for (unsigned i = 0; i < h->n; i++) {
		if (!h->e[i].live)
			continue;
		h->sorted[n++] = (struct iotlb_held_sorted){ .iova = h->e[i].iova, .idx = (uint16_t)i };
		if (h->e[i].len > maxlen)
			maxlen = h->e[i].len;
	}
	qsort(h->sorted, n, sizeof(h->sorted[0]), by_iova);
	h->nsorted = n;
	h->sorted_maxlen = maxlen;
	h->sorted_valid = true;
	return n;
}

/* Mark e dead and widen [*lo, *hi] to it, if it is live and overlaps
 * [first, last]. */
static void drop_one(struct iotlb_held *h, struct iotlb_held_ent *e, uint64_t first,
		     uint64_t last, uint64_t *lo, uint64_t *hi)
{
	if (!e->live || !overlaps(e, first, last))
		return;
	e->live = false;
	h->live--;
	if (e->iova < *lo)
		*lo = e->iova;
	if (e->iova + (e->len - 1) > *hi)
		*hi = e->iova + (e->len - 1);
}

void iotlb_held_drop(struct iotlb_held *h, uint64_t *first, uint64_t *last)
{
	uint64_t lo = *first, hi = *last;
	if (!h->sorted_valid) {
		for (unsigned i = 0; i < h->n; i++)
			drop_one(h, &h->e[i], *first, *last, &lo, &hi);
	} else {
		/* An overlapping entry starts in [first - (maxlen - 1), last]. */
		uint64_t from = *first > h->sorted_maxlen ? *first - (h->sorted_maxlen - 1) : 0;
		unsigned a = 0, b = h->nsorted; /* first sorted index with iova >= from */
		while (a < b) {
			unsigned mid = a + (b - a) / 2;
			if (h->sorted[mid].iova < from)
				a = mid + 1;
			else
				b = mid;
		}
		for (unsigned k = a; k < h->nsorted && h->sorted[k].iova <= *last; k++)
			drop_one(h, &h->e[h->sorted[k].idx], *first, *last, &lo, &hi);
	}
	*first = lo;
	*last = hi;
}

bool iotlb_held_overlaps(const struct iotlb_held *h, uint64_t first, uint64_t last)
{
	if (h->overflow)
		return true;
	for (unsigned i = 0; i < h->n; i++)
		if (h->e[i].live && overlaps(&h->e[i], first, last))
			return true;
	return false;
}
