/*
 * vtd_regs.c - the VT-d register file as a pure state machine: MMIO decode
 * and the commands (GCMD, CCMD, IOTLB). Faults and interrupts are in
 * vtd_fault.c, power-on state and accessors in vtd_regs_state.c.
 *
 * Guest MMIO accesses come in through vtd_regs_read/write; everything that
 * must happen outside the register page (forwarding invalidations to vhost,
 * processing the invalidation queue, injecting an MSI) leaves as an event
 * through one callback, synchronously, so that a command bit the guest polls
 * (CCMD.ICC, IOTLB.IVT) is only seen clear once the work is done.
 *
 * Only legacy mode is modelled (ECAP.SMTS = 0). Features not advertised
 * (interrupt remapping, advanced fault logging, write-buffer flushing) have
 * their command bits ignored, as hardware without them does.
 */
#include "vtd_regs_priv.h"

#include <errno.h>

#define LO32 0x00000000ffffffffull
#define HI32 0xffffffff00000000ull

void vtd_regs_emit(struct vtd_regs *r, const struct vtd_event *ev)
{
	if (r->event != NULL)
		r->event(r->opaque, ev);
}

static void write_gcmd(struct vtd_regs *r, uint32_t val)
{
	/* Linux writes its cached level bits (TE, QIE) with one one-shot bit. */
	if ((val & G_QIE) != (r->gsts & G_QIE)) {
		r->gsts ^= G_QIE;
		r->iqh = 0; /* the queue restarts at the head */
		struct vtd_event ev = { .type = VTD_EV_QIE, .enabled = (val & G_QIE) != 0 };
		vtd_regs_emit(r, &ev);
	}
	if (val & G_SRTP) {
		r->rtaddr = r->rtaddr_reg;
		r->gsts |= G_SRTP; /* RTPS: the operation completes at once */
		struct vtd_event ev = { .type = VTD_EV_ROOT, .addr = r->rtaddr };
		vtd_regs_emit(r, &ev);
	}
	if ((val & G_TE) != (r->gsts & G_TE)) {
		r->gsts ^= G_TE;
		struct vtd_event ev = { .type = VTD_EV_TE, .enabled = (val & G_TE) != 0 };
		vtd_regs_emit(r, &ev);
	}
	/* WBF completes instantly (WBFS stays 0); SFL, EAFL, IRE, SIRTP, CFI
	 * belong to features CAP/ECAP do not advertise. */
}

static void run_ccmd(struct vtd_regs *r)
{
	uint64_t v = r->ccmd;
	unsigned gran = (v >> 61) & 3;
	if (gran != VTD_GRAN_NONE) {
		struct vtd_event ev = { .type = VTD_EV_CC_INVAL, .gran = (uint8_t)gran,
					.did = (uint16_t)v, .sid = (uint16_t)(v >> 16),
					.fm = (uint8_t)((v >> 32) & 3) };
		vtd_regs_emit(r, &ev);
	}
	/* CAIG (60:59) reports what was done; 0 flags a reserved request. */
	r->ccmd = (v & ~(CCMD_ICC | 3ull << 59)) | (uint64_t)gran << 59;
}

static void run_iotlb(struct vtd_regs *r)
{
	uint64_t v = r->iotlb;
	unsigned gran = (v >> 60) & 3;
	struct vtd_event ev = { .type = VTD_EV_IOTLB_INVAL, .did = (uint16_t)(v >> 32) };
	if (gran == VTD_GRAN_PAGE) {
		unsigned am = r->iva & 0x3f;
		if (am > VTD_MAMV) {
			gran = VTD_GRAN_DOMAIN; /* a coarser flush is always allowed */
		} else {
			ev.am = (uint8_t)am;
			ev.ih = (r->iva >> 6) & 1;
			/* The hardware ignores address bits below the mask. */
			ev.addr = r->iva & ~((1ull << (12 + am)) - 1);
		}
	}
	if (gran != VTD_GRAN_NONE) {
		ev.gran = (uint8_t)gran;
		vtd_regs_emit(r, &ev);
	}
	/* IAIG (58:57) must report the granularity done or Linux complains. */
	r->iotlb = (v & ~(IOTLB_IVT | 3ull << 57)) | (uint64_t)gran << 57;
}

static bool is_frcd(uint64_t slot)
{
	return slot >= VTD_FRO_OFF && slot < VTD_FRO_OFF + 16 * VTD_NFR;
}

static bool is_reg64(uint64_t slot)
{
	switch (slot) {
	case VTD_REG_CAP: case VTD_REG_ECAP: case VTD_REG_RTADDR: case VTD_REG_CCMD:
	case VTD_REG_IQH: case VTD_REG_IQT: case VTD_REG_IQA:
	case VTD_REG_IVA: case VTD_REG_IOTLB:
		return true;
	}
	return is_frcd(slot);
}

static uint64_t read64(const struct vtd_regs *r, uint64_t slot)
{
	switch (slot) {
	case VTD_REG_CAP: return r->cap;
	case VTD_REG_ECAP: return r->ecap;
	case VTD_REG_RTADDR: return r->rtaddr_reg;
	case VTD_REG_CCMD: return r->ccmd;
	case VTD_REG_IQH: return r->iqh;
	case VTD_REG_IQT: return r->iqt;
	case VTD_REG_IQA: return r->iqa;
	case VTD_REG_IVA: return r->iva;
	case VTD_REG_IOTLB: return r->iotlb;
	}
	uint64_t rel = slot - VTD_FRO_OFF;
	return r->frcd[rel / 16][(rel / 8) & 1];
}

/* mask: which halves this access writes. */
static void write64(struct vtd_regs *r, uint64_t slot, uint64_t v, uint64_t mask)
{
#define MERGE(old, keep) (((old) & ~(mask & (keep))) | (v & mask & (keep)))
	switch (slot) {
	case VTD_REG_RTADDR:
		r->rtaddr_reg = MERGE(r->rtaddr_reg, ~0x3ffull);
		return;
	case VTD_REG_CCMD:
		r->ccmd = MERGE(r->ccmd, CCMD_ICC | 3ull << 61 | 3ull << 32 | 0xffffffffull);
		if ((mask & HI32) && (r->ccmd & CCMD_ICC))
			run_ccmd(r);
		return;
	case VTD_REG_IQT:
		r->iqt = MERGE(r->iqt, 0x7fff0ull);
		if ((mask & LO32) && (r->gsts & G_QIE)) {
			struct vtd_event ev = { .type = VTD_EV_IQ_TAIL, .addr = r->iqt };
			vtd_regs_emit(r, &ev);
		}
		return;
	case VTD_REG_IQA:
		r->iqa = MERGE(r->iqa, ~0xfffull | 7);
		return;
	case VTD_REG_IVA:
		r->iva = MERGE(r->iva, ~0xfffull | 0x7f);
		return;
	case VTD_REG_IOTLB:
		r->iotlb = MERGE(r->iotlb, IOTLB_IVT | 3ull << 60 | 3ull << 48 | 0xffffull << 32);
		if ((mask & HI32) && (r->iotlb & IOTLB_IVT))
			run_iotlb(r);
		return;
	}
#undef MERGE
	if (is_frcd(slot) && ((slot - VTD_FRO_OFF) & 8) && (mask & v & FRCD_F)) {
		r->frcd[(slot - VTD_FRO_OFF) / 16][1] &= ~FRCD_F; /* F is RW1C */
		vtd_fault_settle_ip(r);
	}
	/* CAP, ECAP, IQH and the rest of the fault records are read-only. */
}

static uint32_t read32(const struct vtd_regs *r, uint64_t off)
{
	switch (off) {
	case VTD_REG_VER: return 0x10; /* 1.0 */
	case VTD_REG_GSTS: return r->gsts;
	case VTD_REG_FSTS:
		return r->fsts | (vtd_fault_pending(r) ? FSTS_PPF : 0) | (uint32_t)r->fri << 8;
	case VTD_REG_FECTL: return r->fectl;
	case VTD_REG_FEDATA: return r->fedata;
	case VTD_REG_FEADDR: return r->feaddr;
	case VTD_REG_FEUADDR: return r->feuaddr;
	case VTD_REG_ICS: return r->ics;
	case VTD_REG_IECTL: return r->iectl;
	case VTD_REG_IEDATA: return r->iedata;
	case VTD_REG_IEADDR: return r->ieaddr;
	case VTD_REG_IEUADDR: return r->ieuaddr;
	}
	return 0; /* GCMD is write-only; unimplemented offsets read 0 */
}

static void write32(struct vtd_regs *r, uint64_t off, uint32_t v)
{
	switch (off) {
	case VTD_REG_GCMD: write_gcmd(r, v); return;
	case VTD_REG_FSTS: {
		bool stop_cleared = (r->fsts & v & (FSTS_IQE | FSTS_ITE)) != 0;
		r->fsts &= ~(v & FSTS_W1C);
		vtd_fault_settle_ip(r);
		/* A queue stopped on IQE or ITE resumes from IQH once that is cleared. */
		if (stop_cleared && (r->gsts & G_QIE)) {
			struct vtd_event ev = { .type = VTD_EV_IQ_TAIL, .addr = r->iqt };
			vtd_regs_emit(r, &ev);
		}
		return;
	}
	case VTD_REG_FECTL:
		vtd_xctl_write(r, &r->fectl, v, VTD_EV_FAULT_MSI, r->fedata, r->feaddr, r->feuaddr);
		return;
	case VTD_REG_FEDATA: r->fedata = v; return;
	case VTD_REG_FEADDR: r->feaddr = v & ~3u; return;
	case VTD_REG_FEUADDR: r->feuaddr = v; return;
	case VTD_REG_ICS:
		/* Servicing IWC retires a pending (masked) completion interrupt. */
		if (r->ics & v & ICS_IWC) {
			r->ics &= ~ICS_IWC;
			r->iectl &= ~XCTL_IP;
		}
		return;
	case VTD_REG_IECTL:
		vtd_xctl_write(r, &r->iectl, v, VTD_EV_INV_MSI, r->iedata, r->ieaddr, r->ieuaddr);
		return;
	case VTD_REG_IEDATA: r->iedata = v; return;
	case VTD_REG_IEADDR: r->ieaddr = v & ~3u; return;
	case VTD_REG_IEUADDR: r->ieuaddr = v; return;
	}
}

static bool access_ok(uint64_t off, unsigned size)
{
	return (size == 4 || size == 8) && (off & (size - 1)) == 0 && off < VTD_REGS_SIZE;
}

int vtd_regs_read(struct vtd_regs *r, uint64_t off, unsigned size, uint64_t *val)
{
	if (r == NULL || val == NULL || !access_ok(off, size)) {
		if (val != NULL)
			*val = 0;
		return -EINVAL;
	}
	uint64_t slot = off & ~7ull;
	if (is_reg64(slot)) {
		uint64_t v = read64(r, slot);
		*val = size == 8 ? v : (off & 4) ? v >> 32 : v & LO32;
	} else if (size == 8) {
		*val = read32(r, slot) | (uint64_t)read32(r, slot + 4) << 32;
	} else {
		*val = read32(r, off);
	}
	return 0;
}

int vtd_regs_write(struct vtd_regs *r, uint64_t off, unsigned size, uint64_t val)
{
	if (r == NULL || !access_ok(off, size))
		return -EINVAL;
	uint64_t slot = off & ~7ull;
	if (is_reg64(slot)) {
		if (size == 8)
			write64(r, slot, val, ~0ull);
		else if (off & 4)
			write64(r, slot, val << 32, HI32);
		else
			write64(r, slot, val & LO32, LO32);
	} else if (size == 8) {
		write32(r, slot, (uint32_t)val);
		write32(r, slot + 4, (uint32_t)(val >> 32));
	} else {
		write32(r, off, (uint32_t)val);
	}
	return 0;
}
