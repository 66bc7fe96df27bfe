/*
 * vtd.c - the VT-d unit: register file, invalidation queue and the vhost
 * bridges of the devices behind it, under one lock.
 *
 * Why one lock and not finer ones: the invariant that matters (iommu.h,
 * section 6) relates a miss on the event-loop thread to an invalidation on
 * a vCPU thread. Both must see the guest's tables and vhost's state in one
 * order; a single mutex held across "walk + UPDATE" and across "all
 * INVALIDATEs + wait status" gives exactly that order, and the sections are
 * short (a walk of at most max_len / 4 KiB PTE reads, a few write()s).
 * A generation counter could avoid holding the lock during the walk, but it
 * would still need the UPDATE write and the INVALIDATE writes to be
 * ordered, i.e. a lock around the write; the simple form is kept until a
 * measurement says otherwise.
 */
#include "iommu.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* Runs with v->lock held, from inside vtd_regs_write or record_fault. */
static void dispatch_inval(void *opaque, const struct vtd_inval *inv)
{
	struct vtd *v = opaque;
	if ((unsigned)inv->kind <= VTD_INVAL_DEVTLB)
		v->inval_by_kind[inv->kind]++;
	for (unsigned i = 0; i < v->nbridges; i++)
		/* Counted in the bridge; the guest must not see this one complete. */
		if (iotlb_bridge_invalidate(v->bridge[i], inv) < 0)
			vtd_regs_set_ite(&v->regs);
}

static void on_event(void *opaque, const struct vtd_event *ev)
{
	struct vtd *v = opaque;
	struct vtd_inval inv;
	switch (ev->type) {
	case VTD_EV_IQ_TAIL:
		(void)vtd_qi_process(&v->regs, v->gm, dispatch_inval, v, &v->qi);
		/* After the invalidations: what is pushed is what the tables say now. */
		for (unsigned i = 0; i < v->nbridges; i++)
			if (v->bridge[i]->ringscan_on_inval)
				iotlb_bridge_scan_rings(v->bridge[i]);
		for (unsigned i = 0; i < v->nbridges; i++)
			if (v->bridge[i]->shadow != NULL)
				(void)iotlb_shadow_check(v->bridge[i]->shadow, v->gm, &v->regs,
							 v->bridge[i]->rid, "queue");
		return;
	case VTD_EV_FAULT_MSI:
	case VTD_EV_INV_MSI:
		if (v->msi != NULL)
			v->msi(v->msi_opaque, ev->addr, ev->data);
		return;
	default:
		if (vtd_inval_from_event(ev, &inv))
			dispatch_inval(v, &inv);
		return;
	}
}

int vtd_init(struct vtd *v, const struct guest_mem *gm, bool caching_mode, vtd_msi_fn msi,
	     void *msi_opaque)
{
	if (v == NULL || gm == NULL)
		return -EINVAL;
	memset(v, 0, sizeof(*v));
	int ret = pthread_mutex_init(&v->lock, NULL);
	if (ret != 0)
		return -ret;
	v->gm = gm;
	v->msi = msi;
	v->msi_opaque = msi_opaque;
	return vtd_regs_init(&v->regs, caching_mode, on_event, v);
}

void vtd_destroy(struct vtd *v)
{
	if (v != NULL)
		pthread_mutex_destroy(&v->lock);
}

int vtd_mmio_read(struct vtd *v, uint64_t off, unsigned size, uint64_t *val)
{
	pthread_mutex_lock(&v->lock);
	int ret = vtd_regs_read(&v->regs, off, size, val);
	pthread_mutex_unlock(&v->lock);
	return ret;
}

int vtd_mmio_write(struct vtd *v, uint64_t off, unsigned size, uint64_t val)
{
	pthread_mutex_lock(&v->lock);
	int ret = vtd_regs_write(&v->regs, off, size, val);
	pthread_mutex_unlock(&v->lock);
	return ret;
}

int vtd_add_bridge(struct vtd *v, struct iotlb_bridge *b)
{
	if (v == NULL || b == NULL || b->regs != &v->regs)
		return -EINVAL;
	pthread_mutex_lock(&v->lock);
	int ret = -ENOSPC;
	if (v->nbridges < VTD_MAX_BRIDGES) {
		v->bridge[v->nbridges++] = b;
		ret = 0;
	}
	pthread_mutex_unlock(&v->lock);
	return ret;
}

int vtd_set_vrings(struct vtd *v, struct iotlb_bridge *b, const struct iotlb_vring *r,
		   unsigned n)
{
	if (v == NULL || b == NULL || n > IOTLB_VRINGS || (n > 0 && r == NULL))
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (r[i].num == 0 || (r[i].num & (r[i].num - 1)) != 0 || r[i].num > 32768)
			return -EINVAL;
	pthread_mutex_lock(&v->lock);
	/* A stopped vhost asks nothing more: every MISS read after a stop was
	 * queued before it, for buffers the driver may now unmap unused. */
	if (n == 0)
		iotlb_retired_log(&b->retired, 0, UINT64_MAX);
	for (unsigned i = 0; i < IOTLB_VRINGS; i++) {
		b->vring[i] = i < n ? r[i] : (struct iotlb_vring){ 0 };
		b->vring[i].live = i < n;
		b->vring[i].scanned = b->vring[i].scanned_used = 0; /* a started device counts from 0 */
	}
	pthread_mutex_unlock(&v->lock);
	return 0;
}

int vtd_find_in_rings(struct vtd *v, struct iotlb_bridge *b, uint64_t iova,
		      struct iotlb_ring_hit *hit)
{
	pthread_mutex_lock(&v->lock);
	int ret = iotlb_ringscan_find(b, iova, hit);
	pthread_mutex_unlock(&v->lock);
	return ret;
}

void vtd_kick_scan(struct vtd *v, struct iotlb_bridge *b, unsigned queue, uint16_t max)
{
	pthread_mutex_lock(&v->lock);
	uint64_t before = b->st.ringscanned, scans = b->st.ringscans;
	iotlb_bridge_scan_ring(b, queue, max);
	if (b->st.ringscans != scans)
		b->st.kick_scans++;
	b->st.kick_scanned += b->st.ringscanned - before;
	pthread_mutex_unlock(&v->lock);
}

bool vtd_relay_wanted(struct vtd *v, struct iotlb_bridge *b, bool relaying)
{
	pthread_mutex_lock(&v->lock);
	bool want = iotlb_bridge_relay_wanted(b);
	if (want != relaying)
		b->st.relay_switches++;
	pthread_mutex_unlock(&v->lock);
	return want;
}

int vtd_handle_miss(struct vtd *v, struct iotlb_bridge *b, const struct iotlb_msg *m)
{
	pthread_mutex_lock(&v->lock);
	int ret = iotlb_bridge_handle_miss(b, m);
	pthread_mutex_unlock(&v->lock);
	return ret;
}

uint64_t vtd_queue_mark(struct vtd *v, struct iotlb_bridge *b)
{
	pthread_mutex_lock(&v->lock);
	uint64_t mark = iotlb_bridge_queue_mark(b);
	pthread_mutex_unlock(&v->lock);
	return mark;
}

void vtd_queue_empty(struct vtd *v, struct iotlb_bridge *b, uint64_t mark)
{
	pthread_mutex_lock(&v->lock);
	iotlb_bridge_queue_empty(b, mark);
	pthread_mutex_unlock(&v->lock);
}

int vtd_service_fd(struct vtd *v, struct iotlb_bridge *b)
{
	uint8_t buf[IOTLB_WIRE_MAX];
	ssize_t n;
	uint64_t mark = vtd_queue_mark(v, b);
	do {
		n = read(b->fd, buf, sizeof(buf));
	} while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		vtd_queue_empty(v, b, mark);
		return -EAGAIN;
	}
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EPIPE;
	struct iotlb_msg m;
	if (iotlb_decode(b->wire, buf, (size_t)n, &m) < 0 || m.type != IOTLB_MISS) {
		/* bad_msgs is bridge state: update it under the lock too. */
		pthread_mutex_lock(&v->lock);
		b->st.bad_msgs++;
		pthread_mutex_unlock(&v->lock);
		return 0;
	}
	return vtd_handle_miss(v, b, &m);
}

void vtd_reset(struct vtd *v)
{
	pthread_mutex_lock(&v->lock);
	struct vtd_inval inv = { .kind = VTD_INVAL_RESET, .all = true, .last = UINT64_MAX };
	dispatch_inval(v, &inv);
	(void)vtd_regs_init(&v->regs, (v->regs.cap >> 7) & 1, on_event, v);
	pthread_mutex_unlock(&v->lock);
}
