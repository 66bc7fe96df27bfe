/*
 * vtd_regs_follow.h - the checking half of fuzz_vtd_regs.c (see its top
 * comment): the RAM model, the event callback that runs the invalidation
 * queue and follows the run descriptor by descriptor, and the register
 * write wrapper that knows which events a write must raise.
 */
#ifndef VTD_REGS_FOLLOW_H
#define VTD_REGS_FOLLOW_H

#include <errno.h>
#include <string.h>

#include "../../iommu/iommu.h"
#include "fuzz_util.h"
#include "qi_model.h"

#define A_SIZE 0x40000ull
#define B_GPA  0x80000ull
#define B_SIZE 0x20000ull
#define SPAN   (B_GPA + B_SIZE + 0x1000) /* where the script aims guest addresses */
#define G_TE   (1u << 31)
#define G_SRTP (1u << 30)
#define G_QIE  (1u << 26)
#define FSTS_IQE 0x10u
#define MAXSTATUS 64

struct h {
	struct fuzz_ram ram;
	uint8_t model[2][B_SIZE > A_SIZE ? B_SIZE : A_SIZE];
	struct vtd_regs r;
	uint64_t cap0, ecap0;
	uint64_t ccmd, iva, iotlb, rtaddr;  /* as the script wrote them */
	bool want_cmd;                      /* this write must raise want */
	struct qm_desc want;
	unsigned ev[VTD_EV_INV_MSI + 1];    /* events seen during this op */
	uint64_t base, size, sim, tail;     /* the run being followed */
	bool irq_due;
	uint64_t status[MAXSTATUS];
	unsigned nstatus;
	struct vtd_qi_stats st;
	unsigned fail_in;  /* the n-th callback from now cannot complete (ITE) */
	bool ite_raised;   /* ...and this run's did */
};

static struct h H;

static uint8_t *model_ptr(struct h *h, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < h->ram.n; i++)
		if (gpa >= h->ram.gpa[i] && gpa - h->ram.gpa[i] < h->ram.size[i] &&
		    len <= h->ram.size[i] - (gpa - h->ram.gpa[i]))
			return h->model[i] + (gpa - h->ram.gpa[i]);
	return NULL;
}

static void gwrite(struct h *h, uint64_t gpa, const void *src, size_t len)
{
	uint8_t *m = model_ptr(h, gpa, len);
	if (m != NULL)
		memcpy(m, src, len);
	FUZZ_CHECK((guest_mem_write(&h->ram.gm, gpa, src, len) == 0) == (m != NULL), "gm bounds");
}

static uint64_t reg(struct h *h, uint64_t off, unsigned size)
{
	uint64_t v;
	FUZZ_CHECK(vtd_regs_read(&h->r, off, size, &v) == 0, "read %#lx", (unsigned long)off);
	return v;
}

/* Follow the run up to IQH = to: each descriptor passed was completed. */
static void sim_to(struct h *h, uint64_t to)
{
	while (h->sim != to) {
		uint64_t q[2];
		const uint8_t *m = model_ptr(h, h->base + h->sim, 16);
		FUZZ_CHECK(m != NULL, "completed a descriptor outside RAM at %#lx",
			   (unsigned long)(h->base + h->sim));
		memcpy(q, m, 16);
		struct qm_desc d = qm_decode(q[0], q[1]);
		FUZZ_CHECK(d.type >= 1 && d.type <= 5 && !(q[0] & 0xe00), "completed type %#lx",
			   (unsigned long)q[0]);
		FUZZ_CHECK(!qm_is_inval(&d), "descriptor %#lx %#lx completed without its callback",
			   (unsigned long)q[0], (unsigned long)q[1]);
		if (d.kind == QM_WAIT && d.sw) {
			uint8_t *s = model_ptr(h, d.status, 4);
			FUZZ_CHECK(s != NULL, "wait completed with status %#lx outside RAM",
				   (unsigned long)d.status);
			memcpy(s, &d.data, 4);
			if (h->nstatus < MAXSTATUS)
				h->status[h->nstatus++] = d.status;
		}
		h->irq_due |= d.kind == QM_WAIT && d.irq;
		h->sim = (h->sim + 16) % h->size;
	}
}

static void on_inval(void *opaque, const struct vtd_inval *inv)
{
	struct h *h = opaque;
	uint64_t head = h->r.iqh;
	FUZZ_CHECK(qm_inval_wellformed(inv), "inval kind %d [%#lx, %#lx]", inv->kind,
		   (unsigned long)inv->first, (unsigned long)inv->last);
	/* The descriptor being worked on lies between what was followed and IQT. */
	FUZZ_CHECK((head - h->sim) % h->size < (h->tail - h->sim) % h->size, "callback at IQH %#lx",
		   (unsigned long)head);
	sim_to(h, head);
	uint64_t q[2];
	memcpy(q, model_ptr(h, h->base + head, 16), 16);
	struct qm_desc d = qm_decode(q[0], q[1]);
	FUZZ_CHECK(qm_inval_covers(&d, inv), "descriptor %#lx %#lx -> inval kind %d did %u sid %u "
		   "[%#lx, %#lx] all %d", (unsigned long)q[0], (unsigned long)q[1], inv->kind, inv->did,
		   inv->sid, (unsigned long)inv->first, (unsigned long)inv->last, inv->all);
	h->sim = (h->sim + 16) % h->size;
	/* A consumer that could not complete it says so, as vtd.c does for vhost. */
	if (h->fail_in > 0 && --h->fail_in == 0) {
		vtd_regs_set_ite(&h->r);
		h->ite_raised = true;
	}
}

/* Status words the run wrote must be the model's; IF must have set IWC. */
static void check_waits(struct h *h)
{
	for (unsigned i = 0; i < h->nstatus; i++) {
		uint32_t got;
		FUZZ_CHECK(guest_mem_read(&h->ram.gm, h->status[i], &got, 4) == 0 &&
				   memcmp(&got, model_ptr(h, h->status[i], 4), 4) == 0,
			   "status word at %#lx", (unsigned long)h->status[i]);
	}
	if (h->irq_due)
		FUZZ_CHECK(reg(h, VTD_REG_ICS, 4) & 1, "wait with IF left ICS.IWC clear");
}

static void run_queue(struct h *h)
{
	uint64_t iqa, head0;
	bool runnable = vtd_regs_qi_enabled(&h->r) && !vtd_regs_iqe(&h->r) && !vtd_regs_ite(&h->r);
	vtd_regs_iq(&h->r, &iqa, &head0, &h->tail);
	h->size = 4096ull << (iqa & 7);
	h->base = iqa & ~0xfffull;
	h->sim = head0;
	h->irq_due = false;
	h->nstatus = 0;
	h->ite_raised = false;
	bool sane = head0 < h->size && h->tail < h->size && h->base <= UINT64_MAX - h->size;
	if (!sane)
		h->tail = h->sim = 0, h->size = 16; /* nothing may be completed */
	struct vtd_qi_stats st0 = h->st;
	int ret = vtd_qi_process(&h->r, &h->ram.gm, on_inval, h, &h->st);
	uint64_t head1 = h->r.iqh;
	FUZZ_CHECK(h->st.errors - st0.errors == (ret == -EIO), "IQE not counted");
	FUZZ_CHECK(runnable || (ret == 0 && head1 == head0), "ran while stopped");
	if (!sane) {
		FUZZ_CHECK(!runnable || (ret == -EIO && head1 == head0), "bad queue: ret %d", ret);
		return;
	}
	FUZZ_CHECK(head1 < h->size, "IQH %#lx outside a queue of %#lx", (unsigned long)head1,
		   (unsigned long)h->size);
	FUZZ_CHECK((ret == -ETIMEDOUT) == h->ite_raised, "ITE raised: %d, run returned %d",
		   h->ite_raised, ret);
	if (ret == -ETIMEDOUT) {
		/* Stopped after the failed one; the rest dropped, their waits unwritten. */
		FUZZ_CHECK(vtd_regs_ite(&h->r) && head1 == h->tail &&
				   h->st.aborted - st0.aborted == 1 &&
				   h->st.descs - st0.descs == (h->sim - head0) % h->size / 16,
			   "aborted run: IQH %#lx IQT %#lx", (unsigned long)head1,
			   (unsigned long)h->tail);
		check_waits(h);
		return;
	}
	sim_to(h, head1);
	FUZZ_CHECK(h->st.descs - st0.descs == (head1 - head0) % h->size / 16, "descs counted");
	FUZZ_CHECK(ret == -EIO ? vtd_regs_iqe(&h->r)
			       : ret == (int)((head1 - head0) % h->size / 16) &&
					 (!runnable || head1 == h->tail),
		   "run returned %d, IQH %#lx -> %#lx, IQT %#lx", ret, (unsigned long)head0,
		   (unsigned long)head1, (unsigned long)h->tail);
	check_waits(h);
}

static void on_event(void *opaque, const struct vtd_event *ev)
{
	struct h *h = opaque;
	struct vtd_inval inv;
	h->ev[ev->type]++;
	switch (ev->type) {
	case VTD_EV_IQ_TAIL:
		run_queue(h);
		break;
	case VTD_EV_CC_INVAL:
	case VTD_EV_IOTLB_INVAL:
		FUZZ_CHECK(h->want_cmd && vtd_inval_from_event(ev, &inv) &&
				   qm_inval_wellformed(&inv) && qm_inval_covers(&h->want, &inv),
			   "event %d gran %u did %u sid %u am %u addr %#lx; wanted kind %d",
			   ev->type, ev->gran, ev->did, ev->sid, ev->am, (unsigned long)ev->addr,
			   h->want_cmd ? (int)h->want.kind : -1);
		h->want_cmd = false;
		break;
	case VTD_EV_TE:
	case VTD_EV_ROOT:
		FUZZ_CHECK(vtd_inval_from_event(ev, &inv) && inv.kind == VTD_INVAL_RESET && inv.all,
			   "TE/SRTP must drop every cached translation");
		break;
	case VTD_EV_FAULT_MSI:
		FUZZ_CHECK(!(h->r.fectl & (1u << 31)) && ev->data == h->r.fedata &&
				   ev->addr == ((uint64_t)h->r.feuaddr << 32 | h->r.feaddr),
			   "fault MSI while masked or with stale address/data");
		break;
	case VTD_EV_INV_MSI:
		FUZZ_CHECK(!(h->r.iectl & (1u << 31)) && ev->data == h->r.iedata &&
				   ev->addr == ((uint64_t)h->r.ieuaddr << 32 | h->r.ieaddr),
			   "completion MSI while masked or with stale address/data");
		break;
	default:
		break;
	}
}

/* What a CCMD or IOTLB register command asks, from the values written. */
static void expect_cmd(struct h *h, uint64_t slot, bool hi)
{
	uint64_t v = slot == VTD_REG_CCMD ? h->ccmd : h->iotlb;
	if (!hi || !(v >> 63))
		return;
	unsigned g = (unsigned)(v >> (slot == VTD_REG_CCMD ? 61 : 60)) & 3;
	uint64_t q0 = (uint64_t)g << 4, q1 = 0;
	if (slot == VTD_REG_CCMD) {
		q0 |= 1 | (v & 0xffff) << 16 | ((v >> 16) & 0xffff) << 32 | ((v >> 32) & 3) << 48;
		h->ccmd &= ~(1ull << 63);
	} else {
		q0 |= 2 | ((v >> 32) & 0xffff) << 16;
		q1 = h->iva;
		h->iotlb &= ~(1ull << 63);
	}
	h->want = qm_decode(q0, q1);
	h->want_cmd = h->want.kind != QM_NONE;
}

static void merge(uint64_t *shadow, uint64_t v, uint64_t mask)
{
	*shadow = (*shadow & ~mask) | (v & mask);
}

static void reg_write(struct h *h, uint64_t off, unsigned size, uint64_t val)
{
	bool ok = (size == 4 || size == 8) && off % size == 0 && off < VTD_REGS_SIZE;
	uint64_t slot = off & ~7ull, mask = size == 8 ? ~0ull : (off & 4) ? ~0ull << 32 : 0xffffffffull;
	uint64_t v = size == 8 || !(off & 4) ? val : val << 32;
	uint32_t gsts0 = (uint32_t)reg(h, VTD_REG_GSTS, 4);
	uint32_t gcmd = (uint32_t)(size == 8 ? v : v >> (off & 4 ? 32 : 0));
	bool is_gcmd = ok && slot == VTD_REG_GCMD && !(off & 4);
	memset(h->ev, 0, sizeof(h->ev));
	h->want_cmd = false;
	if (ok && slot == VTD_REG_RTADDR)
		merge(&h->rtaddr, v, mask);
	if (ok && slot == VTD_REG_IVA)
		merge(&h->iva, v, mask);
	if (ok && (slot == VTD_REG_CCMD || slot == VTD_REG_IOTLB)) {
		merge(slot == VTD_REG_CCMD ? &h->ccmd : &h->iotlb, v, mask);
		expect_cmd(h, slot, mask >> 63);
	}
	int ret = vtd_regs_write(&h->r, off, size, val);
	FUZZ_CHECK(ret == (ok ? 0 : -EINVAL), "write %#lx/%u returned %d", (unsigned long)off, size,
		   ret);
	FUZZ_CHECK(!h->want_cmd, "register command %d raised nothing", h->want.kind);
	FUZZ_CHECK(!(reg(h, VTD_REG_CCMD, 8) >> 63) && !(reg(h, VTD_REG_IOTLB, 8) >> 63),
		   "ICC/IVT still set after the write returned");
	if (!is_gcmd)
		return;
	uint32_t gsts = (uint32_t)reg(h, VTD_REG_GSTS, 4);
	FUZZ_CHECK((gsts & (G_TE | G_QIE)) == (gcmd & (G_TE | G_QIE)), "GCMD %#x -> GSTS %#x", gcmd,
		   gsts);
	FUZZ_CHECK(h->ev[VTD_EV_TE] == !!((gsts ^ gsts0) & G_TE) &&
			   h->ev[VTD_EV_QIE] == !!((gsts ^ gsts0) & G_QIE) &&
			   h->ev[VTD_EV_ROOT] == !!(gcmd & G_SRTP), "GCMD events");
	if (gcmd & G_SRTP)
		FUZZ_CHECK((gsts & G_SRTP) && ((vtd_regs_root(&h->r) ^ h->rtaddr) & ~0xfffull) == 0,
			   "SRTP latched %#lx, RTADDR was %#lx", (unsigned long)vtd_regs_root(&h->r),
			   (unsigned long)h->rtaddr);
	if ((gsts ^ gsts0) & G_QIE)
		FUZZ_CHECK(h->r.iqh == 0, "QIE toggled but IQH is %#lx", (unsigned long)h->r.iqh);
}

#endif
