/*
 * iotlb_bridge.c - answers vhost IOTLB misses for one device and forwards
 * the guest's invalidations to it.
 *
 * The bridge only write()s complete messages on the vhost fd (reading is
 * the caller's, see vtd_service_fd), so a socketpair can stand in for
 * vhost in tests. Nothing here allocates: the miss path is a walk, a range
 * check, an encode into a stack buffer and one write.
 *
 * Safety argument for uaddr: every UPDATE goes through send_update(),
 * which looks up the guest_mem region of the GPA again and refuses a range
 * that does not lie entirely inside it. The walker already guarantees that,
 * but this is the one place where a guest-derived address becomes a host
 * address handed to the kernel, so it is checked where it is used.
 */
#include "iommu.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int iotlb_bridge_init(struct iotlb_bridge *b, int fd, enum iotlb_wire wire, uint16_t rid,
		      const struct guest_mem *gm, struct vtd_regs *regs, uint64_t max_len)
{
	if (b == NULL || gm == NULL || regs == NULL || iotlb_wire_size(wire) == 0)
		return -EINVAL;
	if (max_len == 0)
		max_len = IOTLB_BRIDGE_MAX_LEN_DEFAULT;
	if (max_len < 4096 || (max_len & (max_len - 1)) != 0)
		return -EINVAL;
	memset(b, 0, sizeof(*b));
	b->fd = fd;
	b->wire = wire;
	b->rid = rid;
	b->max_len = max_len;
	b->gm = gm;
	b->regs = regs;
	b->prefetch = 0; /* the caller opts in, see struct iotlb_bridge */
	/* vhost may hold entries from before we existed: the first flush is total. */
	b->unknown = true;
	return 0;
}

static int send_msg(struct iotlb_bridge *b, const struct iotlb_msg *m)
{
	uint8_t buf[IOTLB_WIRE_MAX];
	int n = iotlb_encode(b->wire, m, buf, sizeof(buf));
	if (n < 0) {
		b->st.write_errors++;
		return -EIO;
	}
	ssize_t w;
	do {
		w = write(b->fd, buf, (size_t)n);
	} while (w < 0 && errno == EINTR);
	if (w != n) {
		b->st.write_errors++;
		b->st.last_write_errno = w < 0 ? errno : 0;
		return -EIO;
	}
	return 0;
}

/* The only way a uaddr is made: [gpa, gpa + len) must be in one RAM region. */
static int send_update(struct iotlb_bridge *b, uint64_t iova, uint64_t gpa, uint64_t len,
		       uint8_t perm, uint16_t did, bool translated)
{
	const struct guest_region *rg = guest_mem_region(b->gm, gpa);
	if (rg == NULL || len == 0 || gpa < rg->gpa || len > rg->size - (gpa - rg->gpa) ||
	    iova > UINT64_MAX - (len - 1) || perm == VTD_PERM_NONE) {
		b->st.unmappable++;
		return -EFAULT;
	}
	struct iotlb_msg m = {
		.type = IOTLB_UPDATE, .iova = iova, .size = len, .perm = perm,
		.uaddr = (uint64_t)(uintptr_t)(rg->host + (gpa - rg->gpa)),
	};
	int ret = send_msg(b, &m);
	if (ret == 0) {
		b->st.updates++;
		b->st.bytes_mapped += len;
		if (translated)
			iotlb_held_add(&b->held, iova, len, gpa, perm, did);
		if (b->shadow != NULL)
			iotlb_shadow_update(b->shadow, iova, len, gpa, perm, did, translated);
	} else {
		b->held.overflow = true; /* vhost may have taken part of it */
	}
	return ret;
}

static int identity_miss(struct iotlb_bridge *b, uint64_t iova)
{
	const struct guest_region *rg = guest_mem_region(b->gm, iova);
	if (rg == NULL) {
		b->st.unmappable++;
		return -EFAULT;
	}
	/* The max_len window holding iova, clipped to the region. */
	uint64_t start = iova & ~(b->max_len - 1);
	uint64_t end_incl = start | (b->max_len - 1); /* cannot wrap: start aligned */
	uint64_t rg_last = rg->gpa + (rg->size - 1);  /* guest_mem_add rejects wrapping */
	if (start < rg->gpa)
		start = rg->gpa;
	if (end_incl > rg_last)
		end_incl = rg_last;
	int ret = send_update(b, start, start, end_incl - start + 1, VTD_PERM_RW, 0, false);
	if (ret == 0)
		b->identity = true;
	return ret;
}

static int translated_miss(struct iotlb_bridge *b, uint64_t iova, uint8_t perm,
			   struct vtd_extent *out)
{
	struct vtd_walk_cfg cfg;
	struct vtd_extent ext;
	vtd_regs_walk_cfg(b->regs, &cfg);
	if (vtd_translate_extent(b->gm, &cfg, vtd_regs_root(b->regs), b->rid, iova, perm,
				 b->max_len, &ext) < 0) {
		b->st.bad_msgs++;
		return -EINVAL;
	}
	b->st.last_status = (uint16_t)ext.status;
	if (vtd_status_is_fault(ext.status)) {
		if (iotlb_miss_is_stale(b, iova)) {
			b->st.stale_misses++;
			return -ESTALE;
		}
		b->st.faults++;
		/* fpd is only meaningful once the context entry was accepted; the
		 * walker leaves it false otherwise, so root/context faults record. */
		if (!ext.fpd)
			(void)vtd_regs_record_fault(b->regs, b->rid, iova, (uint8_t)ext.status,
						    ext.status == VTD_FR_WRITE ||
						    (ext.status != VTD_FR_READ &&
						     (perm & VTD_PERM_W)));
		return -EFAULT;
	}
	if (ext.status != VTD_OK) {
		b->st.unmappable++;
		return -EFAULT;
	}
	*out = ext;
	return iotlb_bridge_push(b, &ext);
}

/* After a translated miss was answered: vhost resumes while these go out. */
static void after_miss(struct iotlb_bridge *b, const struct vtd_extent *ext)
{
	struct vtd_walk_cfg cfg;
	vtd_regs_walk_cfg(b->regs, &cfg);
	if (b->ringscan > 0 && !ext->pass_through)
		iotlb_ringscan(b, &cfg, vtd_regs_root(b->regs), ext->domain_id);
	if (b->prefetch > 0)
		iotlb_prefetch_around(b, &cfg, vtd_regs_root(b->regs), ext);
}

int iotlb_bridge_push(struct iotlb_bridge *b, const struct vtd_extent *x)
{
	int ret = send_update(b, x->iova, x->gpa, x->len, x->perm, x->domain_id, true);
	/* Mark the domain even if the write failed: vhost may have taken part. */
	b->did_map[x->domain_id / 8] |= (uint8_t)(1u << (x->domain_id % 8));
	if (ret == 0)
		iotlb_pushed_mark(b, x->iova, x->len);
	return ret;
}

uint64_t iotlb_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void account_time(struct iotlb_stats *st, uint64_t ns)
{
	st->svc_ns_sum += ns;
	if (ns > st->svc_ns_max)
		st->svc_ns_max = ns;
	unsigned bucket = ns == 0 ? 0 : 63u - (unsigned)__builtin_clzll(ns);
	if (bucket >= IOTLB_HIST_BUCKETS)
		bucket = IOTLB_HIST_BUCKETS - 1;
	st->svc_hist[bucket]++;
}

int iotlb_bridge_handle_miss(struct iotlb_bridge *b, const struct iotlb_msg *m)
{
	if (b == NULL || m == NULL)
		return -EINVAL;
	if (m->type != IOTLB_MISS || m->perm == VTD_PERM_NONE || m->perm > VTD_PERM_RW) {
		b->st.bad_msgs++;
		return -EINVAL;
	}
	uint64_t t0 = iotlb_now_ns();
	b->st.misses++;
	struct vtd_extent ext;
	bool translated = vtd_regs_translation_enabled(b->regs);
	int ret = translated ? translated_miss(b, m->iova, m->perm, &ext) : identity_miss(b, m->iova);
	/* The service time is the miss's own answer: what vhost waits for. */
	account_time(&b->st, iotlb_now_ns() - t0);
	if (ret == 0 && translated)
		after_miss(b, &ext);
	return ret;
}

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
	int ret = send_msg(b, &m);
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
