/*
 * iotlb_bridge.c - answers vhost IOTLB misses for one device (the miss
 * side; forwarding the guest's invalidations to it is iotlb_inval.c).
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

int iotlb_bridge_send_msg(struct iotlb_bridge *b, const struct iotlb_msg *m)
{
	uint8_t buf[IOTLB_WIRE_MAX];
	int n = iotlb_encode(b->wire, m, buf, sizeof(buf));
	if (n < 0) {
		b->st.write_errors++;
		return -EIO;
	}
	ssize_t w;
	uint64_t t0 = iotlb_now_ns();
	do {
		w = write(b->fd, buf, (size_t)n);
	} while (w < 0 && errno == EINTR);
	uint64_t ns = iotlb_now_ns() - t0;
	struct iotlb_write_time *wt = m->type == IOTLB_UPDATE     ? &b->st.wr_update
				      : m->type == IOTLB_INVALIDATE ? &b->st.wr_inval
								    : NULL;
	if (wt != NULL) {
		wt->n++;
		wt->ns_sum += ns;
		if (ns > wt->ns_max)
			wt->ns_max = ns;
		iotlb_hist_add(wt->hist, ns);
	}
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
	int ret = iotlb_bridge_send_msg(b, &m);
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

void iotlb_hist_add(uint64_t *hist, uint64_t ns)
{
	unsigned bucket = ns == 0 ? 0 : 63u - (unsigned)__builtin_clzll(ns);
	if (bucket >= IOTLB_HIST_BUCKETS)
		bucket = IOTLB_HIST_BUCKETS - 1;
	hist[bucket]++;
}

static void account_time(struct iotlb_stats *st, uint64_t ns)
{
	st->svc_ns_sum += ns;
	if (ns > st->svc_ns_max)
		st->svc_ns_max = ns;
	iotlb_hist_add(st->svc_hist, ns);
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
