/*
 * vtd_fault.c - fault recording and the VT-d's two interrupts: the fault
 * event (FECTL/FEDATA/FEADDR) and the invalidation completion event
 * (IECTL/IEDATA/IEADDR), each delivered at once or left pending (IP)
 * while masked (IM). The register decode that reaches them is vtd_regs.c.
 */
#include "vtd_regs_priv.h"

#include <errno.h>

bool vtd_fault_pending(const struct vtd_regs *r)
{
	for (unsigned i = 0; i < VTD_NFR; i++)
		if (r->frcd[i][1] & FRCD_F)
			return true;
	return false;
}

/* An interrupt condition: deliver now, or leave it pending while masked. */
static void raise_xe(struct vtd_regs *r, uint32_t *ctl, enum vtd_event_type t,
		     uint32_t data, uint32_t addr, uint32_t uaddr)
{
	if (*ctl & XCTL_IP)
		return;
	if (*ctl & XCTL_IM) {
		*ctl |= XCTL_IP;
		return;
	}
	struct vtd_event ev = { .type = t, .data = data, .addr = (uint64_t)uaddr << 32 | addr };
	vtd_regs_emit(r, &ev);
}

/* Once software has cleared every fault condition, nothing is pending. */
void vtd_fault_settle_ip(struct vtd_regs *r)
{
	if (!(r->fsts & FSTS_W1C) && !vtd_fault_pending(r))
		r->fectl &= ~XCTL_IP;
}

static void raise_fault_event(struct vtd_regs *r)
{
	raise_xe(r, &r->fectl, VTD_EV_FAULT_MSI, r->fedata, r->feaddr, r->feuaddr);
}

/* Writing the control register: unmasking delivers a pending interrupt. */
void vtd_xctl_write(struct vtd_regs *r, uint32_t *ctl, uint32_t val, enum vtd_event_type t,
		       uint32_t data, uint32_t addr, uint32_t uaddr)
{
	*ctl = (*ctl & ~XCTL_IM) | (val & XCTL_IM);
	if ((*ctl & (XCTL_IM | XCTL_IP)) == XCTL_IP) {
		*ctl &= ~XCTL_IP;
		struct vtd_event ev = { .type = t, .data = data,
					.addr = (uint64_t)uaddr << 32 | addr };
		vtd_regs_emit(r, &ev);
	}
}

int vtd_regs_record_fault(struct vtd_regs *r, uint16_t sid, uint64_t addr, uint8_t reason,
			  bool is_write)
{
	if (r == NULL)
		return -EINVAL;
	uint64_t *rec = r->frcd[r->fri];
	if (rec[1] & FRCD_F) {
		/* All records full: overflow, the fault is lost. */
		if (!(r->fsts & FSTS_PFO)) {
			r->fsts |= FSTS_PFO;
			raise_fault_event(r);
		}
		return -ENOSPC;
	}
	bool was_pending = vtd_fault_pending(r);
	rec[0] = addr & ~0xfffull;
	rec[1] = FRCD_F | (is_write ? 0 : FRCD_T) | (uint64_t)reason << 32 | sid;
	r->fri = (r->fri + 1) % VTD_NFR;
	if (!was_pending)
		raise_fault_event(r);
	return 0;
}

void vtd_regs_set_iqe(struct vtd_regs *r)
{
	if (r->fsts & FSTS_IQE)
		return; /* already reported; the queue is stopped */
	r->fsts |= FSTS_IQE;
	raise_fault_event(r);
}

bool vtd_regs_iqe(const struct vtd_regs *r)
{
	return (r->fsts & FSTS_IQE) != 0;
}

void vtd_regs_set_ite(struct vtd_regs *r)
{
	if (r->fsts & FSTS_ITE)
		return;
	r->fsts |= FSTS_ITE;
	raise_fault_event(r);
}

bool vtd_regs_ite(const struct vtd_regs *r)
{
	return (r->fsts & FSTS_ITE) != 0;
}

void vtd_regs_inv_complete(struct vtd_regs *r)
{
	/* An IWC that is already set is not a new interrupt condition. */
	if (r->ics & ICS_IWC)
		return;
	r->ics |= ICS_IWC;
	raise_xe(r, &r->iectl, VTD_EV_INV_MSI, r->iedata, r->ieaddr, r->ieuaddr);
}
