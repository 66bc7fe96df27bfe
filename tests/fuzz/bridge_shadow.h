/*
 * bridge_shadow.h - fuzz_iotlb_bridge.c's model of what vhost holds: its
 * device IOTLB rebuilt from the messages the bridge wrote, and the rule
 * for which entries a guest invalidation must have removed.
 *
 * Written from vhost's behaviour (drivers/vhost/iotlb.c), not from the
 * bridge: an UPDATE adds [iova, iova + size - 1] even if it overlaps
 * others; an INVALIDATE deletes every entry e with e.start <= last and
 * e.last >= iova, last = iova + size - 1 computed in 64-bit arithmetic,
 * which is exactly the interval-tree test of vhost_iotlb_del_range (so a
 * range whose end wraps deletes next to nothing). Each entry
 * remembers the domain its translation was made under and when (the
 * script step), so only what existed before an invalidation is required
 * to be gone after it. Independent of iommu/iotlb_shadow.c on purpose.
 */
#ifndef BRIDGE_SHADOW_H
#define BRIDGE_SHADOW_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "qi_model.h"

/* vhost-net keeps 2048 and retires the oldest; more is only more checking. */
#define SH_MAX 4096

struct sh_ent {
	uint64_t iova, last, uaddr, seq;
	uint16_t did;
	uint8_t perm;
	bool translated; /* false: an identity window made while TE was off */
};

struct shadow {
	struct sh_ent e[SH_MAX]; /* oldest first */
	unsigned n;
};

static inline void sh_add(struct shadow *s, const struct sh_ent *e)
{
	if (s->n == SH_MAX) /* forget the oldest: fewer checks, never a false alarm */
		memmove(s->e, s->e + 1, --s->n * sizeof(s->e[0]));
	s->e[s->n++] = *e;
}

static inline void sh_del(struct shadow *s, uint64_t iova, uint64_t size)
{
	uint64_t last = iova + size - 1; /* as vhost computes it */
	unsigned k = 0;
	for (unsigned i = 0; i < s->n; i++)
		if (!(s->e[i].iova <= last && s->e[i].last >= iova))
			s->e[k++] = s->e[i];
	s->n = k;
}

/* SID rid under a context-cache function mask (0: none, 1..3: bits 2, 2:1, 2:0). */
static inline bool sh_sid_match(uint16_t sid, uint8_t fm, uint16_t rid)
{
	static const uint16_t ignore[4] = { 0, 4, 6, 7 };
	return ((sid ^ rid) & ~ignore[fm & 3]) == 0;
}

/*
 * Does invalidation d (VT-d semantics) cover entry e of the device with
 * requester id rid, so that e must be gone afterwards unless it is still
 * exactly what the tables say (an IOTLB may always hold, or refetch, a
 * valid translation)? Identity windows are not translations: only TE
 * changing may retire them. Each kind covers at least:
 *   CC global, IOTLB global: everything translated;
 *   CC domain, IOTLB domain: entries made under that domain id;
 *   CC device: entries of this device under that domain id;
 *   IOTLB page: entries of that domain overlapping the range;
 *   device-TLB: entries of this device (by SID) overlapping the range.
 */
static inline bool sh_must_go(const struct qm_desc *d, const struct sh_ent *e, uint16_t rid)
{
	bool overlap = d->all || (e->iova <= d->last && e->last >= d->first);
	if (!e->translated)
		return false;
	switch (d->kind) {
	case QM_CC_GLOBAL: case QM_IOTLB_GLOBAL: return true;
	case QM_CC_DOMAIN: case QM_IOTLB_DOMAIN: return e->did == d->did;
	case QM_CC_DEVICE: return e->did == d->did && sh_sid_match(d->sid, d->fm, rid);
	case QM_IOTLB_PAGE: return e->did == d->did && overlap;
	case QM_DEVTLB: return d->sid == rid && overlap;
	default: return false;
	}
}

#endif
