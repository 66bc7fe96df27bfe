/*
 * bridge_follow.h - the checking half of fuzz_iotlb_bridge.c (see its top
 * comment): reading what the bridges wrote to their fake vhost fds into
 * the shadows, checking each UPDATE, and following the invalidation queue
 * one descriptor at a time so that each completed invalidation is checked
 * against what vhost holds right then.
 */
#ifndef BRIDGE_FOLLOW_H
#define BRIDGE_FOLLOW_H

#include <errno.h>
#include <sys/socket.h>

#include "../../iommu/iommu.h"
#include "bridge_shadow.h"
#include "fuzz_util.h"
#include "qi_model.h"
#include "vtd_tables.h"

#define NBR     2   /* bridges, requester ids rids[0] and rids[1] */

struct h {
	struct fuzz_ram ram;
	struct vtd_tables t;
	struct vtd v;
	struct iotlb_bridge br[NBR];
	int sv[NBR][2];        /* [0] the bridge's "vhost fd", [1] the harness's end */
	enum iotlb_wire wire;
	struct shadow sh[NBR];
	uint64_t seq;          /* script step: stamps entries and invalidations */
	int miss;              /* the bridge whose MISS is being served, or -1 */
	const struct qm_desc *announce; /* the invalidation being processed, or NULL */
	unsigned nupd;         /* UPDATEs read during that MISS */
	struct iotlb_msg upd;  /* the first of them: the answer */
	vtd_event_fn orig;     /* vtd.c's event handler, which the harness wraps */
	void *orig_opaque;
};

static void on_update(struct h *h, unsigned b, const struct iotlb_msg *m)
{
	/* Unasked UPDATEs: only with CAP.CM, only for a page-selective flush
	 * that announces the range (iotlb_sync.c). */
	const struct qm_desc *ann = h->announce;
	FUZZ_CHECK(h->miss == (int)b ||
			   (ann != NULL && vtd_regs_caching_mode(&h->v.regs) &&
			    ann->kind == QM_IOTLB_PAGE && !ann->all && m->iova <= ann->last &&
			    ann->first <= m->iova + (m->size - 1)),
		   "UPDATE on bridge %u iova %#lx outside a miss of its own or a caching-mode "
		   "page flush of that range", b, (unsigned long)m->iova);
	FUZZ_CHECK(m->size > 0 && m->iova + (m->size - 1) >= m->iova && m->perm >= VTD_PERM_R &&
			   m->perm <= VTD_PERM_RW, "malformed UPDATE %#lx+%#lx perm %u",
		   (unsigned long)m->iova, (unsigned long)m->size, m->perm);
	FUZZ_CHECK(fuzz_ram_host_inside(&h->ram, m->uaddr, m->size),
		   "UPDATE host range %#lx+%#lx is not inside one guest RAM mapping",
		   (unsigned long)m->uaddr, (unsigned long)m->size);
	struct sh_ent e = { .iova = m->iova, .last = m->iova + (m->size - 1), .uaddr = m->uaddr,
			    .seq = h->seq, .perm = m->perm };
	if (!vtd_regs_translation_enabled(&h->v.regs)) {
		FUZZ_CHECK((uintptr_t)fuzz_ram_ptr(&h->ram, m->iova, m->size) == m->uaddr,
			   "untranslated UPDATE %#lx+%#lx is not the identity", (unsigned long)m->iova,
			   (unsigned long)m->size);
		sh_add(&h->sh[b], &e);
		return;
	}
	/* Every page must be what the guest's tables say right now. */
	struct vtd_walk_cfg cfg;
	vtd_regs_walk_cfg(&h->v.regs, &cfg);
	for (uint64_t off = 0; off < m->size; off += FUZZ_PAGE) {
		struct vtd_xlate x;
		(void)vtd_translate(&h->ram.gm, &cfg, vtd_regs_root(&h->v.regs), h->br[b].rid,
				    m->iova + off, VTD_PERM_NONE, &x);
		FUZZ_CHECK(x.status == VTD_OK && (x.perm & m->perm) == m->perm &&
				   (uintptr_t)fuzz_ram_ptr(&h->ram, x.gpa, 1) == m->uaddr + off,
			   "UPDATE %#lx+%#lx perm %u: page +%#lx translates with status %#x perm %u",
			   (unsigned long)m->iova, (unsigned long)m->size, m->perm,
			   (unsigned long)off, x.status, x.perm);
		e.did = x.domain_id;
	}
	e.translated = true;
	sh_add(&h->sh[b], &e);
}

/* Read everything the bridges wrote; vhost would have applied it by now. */
static void drain(struct h *h)
{
	for (unsigned b = 0; b < NBR; b++) {
		uint8_t buf[IOTLB_WIRE_MAX + 8];
		ssize_t n;
		while ((n = recv(h->sv[b][1], buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
			struct iotlb_msg m;
			FUZZ_CHECK(iotlb_decode(h->wire, buf, (size_t)n, &m) == 0,
				   "bridge %u wrote %zd bytes that do not decode", b, n);
			FUZZ_TRACE("  step %lu: bridge %u -> vhost: %s iova %#lx size %#lx uaddr %#lx "
				   "perm %u\n", (unsigned long)h->seq, b,
				   m.type == IOTLB_UPDATE ? "UPDATE" : "INVALIDATE", (unsigned long)m.iova,
				   (unsigned long)m.size, (unsigned long)m.uaddr, m.perm);
			if (m.type == IOTLB_UPDATE) {
				on_update(h, b, &m);
				if (h->nupd++ == 0)
					h->upd = m;
				continue;
			}
			FUZZ_CHECK(m.type == IOTLB_INVALIDATE && m.size > 0 &&
					   m.iova + (m.size - 1) >= m.iova,
				   "bridge %u wrote type %u iova %#lx size %#lx (vhost: nothing deleted)",
				   b, m.type, (unsigned long)m.iova, (unsigned long)m.size);
			sh_del(&h->sh[b], m.iova, m.size);
		}
		FUZZ_CHECK(n < 0 && errno == EAGAIN, "recv on fake vhost %u", b);
		FUZZ_CHECK(h->br[b].st.write_errors == 0,
			   "a write to fake vhost %u failed: the harness lost messages", b);
	}
}

/* Is every page of e still what the tables say, with at least its perm? */
static bool still_valid(struct h *h, unsigned b, const struct sh_ent *e)
{
	struct vtd_walk_cfg cfg;
	vtd_regs_walk_cfg(&h->v.regs, &cfg);
	for (uint64_t off = 0; off <= e->last - e->iova; off += FUZZ_PAGE) {
		struct vtd_xlate x;
		(void)vtd_translate(&h->ram.gm, &cfg, vtd_regs_root(&h->v.regs), h->br[b].rid,
				    e->iova + off, VTD_PERM_NONE, &x);
		if (x.status != VTD_OK || x.domain_id != e->did || (x.perm & e->perm) != e->perm ||
		    (uintptr_t)fuzz_ram_ptr(&h->ram, x.gpa, 1) != e->uaddr + off)
			return false;
	}
	return true;
}

/*
 * Right after d completed: nothing made before step seq that d covers may
 * still be in vhost unless it still translates exactly as vhost was told
 * (then keeping it is what a refetching IOTLB would do). Checked at each
 * invalidation rather than at the next wait, because the guest may change
 * its tables again between the two without invalidating, and an entry
 * that was valid when d ran may legitimately outlive that change.
 */
static void check_gone(struct h *h, const struct qm_desc *d, uint64_t seq, const char *when)
{
	for (unsigned b = 0; b < NBR; b++)
		for (unsigned i = 0; i < h->sh[b].n; i++) {
			const struct sh_ent *e = &h->sh[b].e[i];
			FUZZ_CHECK(e->seq >= seq || !sh_must_go(d, e, h->br[b].rid) ||
					   still_valid(h, b, e),
				   "%s: vhost of bridge %u (rid %#x) still maps [%#lx, %#lx] (domain %u, "
				   "step %lu) after invalidation kind %d did %u sid %u fm %u [%#lx, %#lx] "
				   "(step %lu)", when, b, h->br[b].rid, (unsigned long)e->iova,
				   (unsigned long)e->last, e->did, (unsigned long)e->seq, d->kind, d->did,
				   d->sid, d->fm, (unsigned long)d->first, (unsigned long)d->last,
				   (unsigned long)seq);
		}
}

static void check_all_gone(struct h *h, const char *when)
{
	for (unsigned b = 0; b < NBR; b++)
		FUZZ_CHECK(h->sh[b].n == 0, "%s: vhost of bridge %u still holds %u entries, first "
			   "[%#lx, %#lx]", when, b, h->sh[b].n, (unsigned long)h->sh[b].e[0].iova,
			   (unsigned long)h->sh[b].e[0].last);
}

/*
 * IQT was written: let vtd.c run the queue, but one descriptor per run
 * (IQT lowered to just past the head, then restored), reading what the
 * bridges wrote after each. vtd_qi_process works strictly in order and
 * keeps no state between descriptors but IQH, so this is the same
 * processing, observed at every step. Each completed invalidation is
 * checked at once (check_gone).
 */
static void follow_queue(struct h *h, const struct vtd_event *ev)
{
	struct vtd_regs *r = &h->v.regs;
	uint64_t iqa, head, tail;
	vtd_regs_iq(r, &iqa, &head, &tail);
	uint64_t size = 4096ull << (iqa & 7), base = iqa & ~0xfffull;
	if (head >= size || tail >= size || base > UINT64_MAX - size) {
		h->orig(h->orig_opaque, ev); /* a queue error: nothing completes */
		drain(h);
		return;
	}
	while (head != tail) {
		uint64_t q[2], next = (head + 16) % size;
		bool readable = guest_mem_read(&h->ram.gm, base + head, q, sizeof(q)) == 0;
		struct qm_desc d = qm_decode(q[0], q[1]);
		r->iqt = next;
		h->announce = readable ? &d : NULL;
		h->orig(h->orig_opaque, ev);
		r->iqt = tail;
		drain(h);
		h->announce = NULL;
		/* Every write to the fake vhost succeeds (drain checks), so nothing may fail. */
		FUZZ_CHECK(!vtd_regs_ite(r), "ITE (invalidation not completed) without a failed write");
		if (r->iqh != next)
			return; /* stopped on an error (IQE): nothing after it completes */
		FUZZ_CHECK(readable, "completed a descriptor outside RAM at %#lx",
			   (unsigned long)(base + head));
		FUZZ_TRACE("  step %lu: completed descriptor %#lx %#lx at IQH %#lx\n",
			   (unsigned long)h->seq, (unsigned long)q[0], (unsigned long)q[1],
			   (unsigned long)head);
		/* The bridge completes each invalidation before the queue moves
		 * on (its INVALIDATEs are written by then), which is stronger
		 * than "by the next wait"; check it at once (see check_gone). */
		if (qm_is_inval(&d))
			check_gone(h, &d, h->seq + 1, "invalidation descriptor completed");
		head = next;
	}
}

/* Installed over vtd.c's handler (struct vtd_regs.event) after vtd_init. */
static void wrap_event(void *opaque, const struct vtd_event *ev)
{
	struct h *h = opaque;
	if (ev->type == VTD_EV_IQ_TAIL) {
		follow_queue(h, ev);
		return;
	}
	struct qm_desc d;
	if (ev->type == VTD_EV_IOTLB_INVAL) {
		d = qm_decode(2 | (uint64_t)ev->gran << 4 | (uint64_t)ev->did << 16,
			      ev->addr | (uint64_t)ev->ih << 6 | ev->am);
		h->announce = &d;
	}
	h->orig(h->orig_opaque, ev);
	drain(h);
	h->announce = NULL;
	switch (ev->type) {
	case VTD_EV_TE:
		check_all_gone(h, "translation enable changed");
		break;
	case VTD_EV_ROOT:
		check_all_gone(h, "new root table (iommu.h: VTD_INVAL_RESET)");
		break;
	case VTD_EV_CC_INVAL: /* register-based: complete when the write returns */
		d = qm_decode(1 | (uint64_t)ev->gran << 4 | (uint64_t)ev->did << 16 |
				      (uint64_t)ev->sid << 32 | (uint64_t)ev->fm << 48, 0);
		check_gone(h, &d, h->seq + 1, "CCMD invalidation returned");
		break;
	case VTD_EV_IOTLB_INVAL:
		check_gone(h, &d, h->seq + 1, "IOTLB register invalidation returned");
		break;
	default:
		break;
	}
}

#endif
