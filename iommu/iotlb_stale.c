/*
 * iotlb_stale.c - telling a late MISS from a DMA fault (iotlb_bridge.h, 5e).
 *
 * vhost queues a MISS each time a translation fails (translate_desc ->
 * vhost_iotlb_miss), also when one for the same IOVA is already queued: a
 * virtqueue woken again (a new kick, a socket event) retries before we have
 * answered. And a queued MISS may be answered before it is read, by the
 * UPDATE for an earlier copy, by the ring scan or by a prefetch. vhost then
 * uses the buffer, the guest reclaims it and unmaps the IOVA, and only
 * then do we read the late copy: its walk fails. Recording that as a DMA
 * fault tells the guest its device touched memory it had not mapped, which
 * the device did not do; the message is late, nothing else. In the test
 * bed these were the faults on IOVAs "in no buffer the guest has queued"
 * (one to ten per boot with the ring scan after each queue run).
 *
 * The rule: a MISS whose walk faults is stale when its IOVA
 *   (a) lies in a translation vhost may still hold (the held list: lazy
 *       mode clears a PTE long before the flush that invalidates it), or
 *   (b) was in what an INVALIDATE took from vhost (its range and the whole
 *       entries it dropped) since vhost's read queue was last seen empty.
 * Why this catches every late MISS for an IOVA X: it was answered by an
 * UPDATE that came after it was queued (had vhost held X then, it would
 * not have missed), vhost used the buffer, the guest unmapped X. From the
 * MISS being queued to its being read the queue was not empty, so the
 * window began before that UPDATE. The UPDATE put X on the held list; it
 * is still there (a), or an INVALIDATE in the window took it off (b), or
 * a total one did (logged as everything), or the list overflowed (then
 * (a) says yes to anything). Only what vhost really held and forgot
 * counts: a guest's flush of IOVAs vhost never had hides no fault.
 * A MISS queued before the device stopped may be read after it, when the
 * driver has already unmapped the buffers it took back without vhost ever
 * having them: stopping the device (vtd_set_vrings) logs "everything", so
 * such a MISS is late too.
 * What it can hide: a real fault on such an IOVA, i.e. a device reading
 * memory the guest unmapped a moment ago. The answer does not change
 * (nothing is sent, the queue waits); only the fault record is not made,
 * and vhost asks again on its next retry, judged afresh once the queue
 * has drained. It can never make the bridge send anything.
 *
 * Pure: the caller (the event loop) reports "empty" with the mark it took
 * before the read that found the queue empty; all under the VT-d lock.
 *
 * Taking the mark under the lock has a second effect, measured in the test
 * bed: while a vCPU holds the lock (a queue run, its INVALIDATEs, the ring
 * scan after it) the event loop waits before reading, not after. A MISS
 * still in vhost's read queue is not woken by a push that covers it
 * (vhost_iotlb_notify_vq only looks at misses already read), so vhost
 * cannot use and release the buffer behind our back, and late misses
 * become rare: with the ring scan after queue runs, VMM_IOTLB_CHECK=1 and
 * a busy host, none in two lazy and two strict boots, against 5 and 10 in
 * the two lazy boots of a build whose mark was a lock-free load.
 */
#include "iommu.h"

void iotlb_retired_log(struct iotlb_retired *r, uint64_t first, uint64_t last)
{
	struct iotlb_retired_range *e = &r->range[r->seq % IOTLB_RETIRED_MAX];
	e->first = first;
	e->last = last;
	r->seq++;
}

uint64_t iotlb_bridge_queue_mark(const struct iotlb_bridge *b)
{
	return b->retired.seq;
}

void iotlb_bridge_queue_empty(struct iotlb_bridge *b, uint64_t mark)
{
	/* Marks come from this bridge's own counter; never move back. */
	if (mark > b->retired.window && mark <= b->retired.seq)
		b->retired.window = mark;
}

static bool retired_covers(const struct iotlb_retired *r, uint64_t iova)
{
	if (r->seq - r->window > IOTLB_RETIRED_MAX)
		return true; /* more than the log holds: anything may have been */
	for (uint64_t i = r->window; i < r->seq; i++) {
		const struct iotlb_retired_range *e = &r->range[i % IOTLB_RETIRED_MAX];
		if (e->first <= iova && iova <= e->last)
			return true;
	}
	return false;
}

bool iotlb_miss_is_stale(const struct iotlb_bridge *b, uint64_t iova)
{
	return iotlb_held_overlaps(&b->held, iova, iova) || retired_covers(&b->retired, iova);
}
