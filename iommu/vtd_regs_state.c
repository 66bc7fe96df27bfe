/*
 * vtd_regs_state.c - the register file's power-on state, what CAP and
 * ECAP advertise, and the accessors through which the rest of the VT-d
 * (the walker's configuration, the invalidation queue) reads it.
 */
#include "vtd_regs_priv.h"

#include <errno.h>

static uint64_t cap_value(bool cm)
{
	return 6ull                           /* ND: 16-bit domain ids */
	       | (uint64_t)cm << 7            /* CM */
	       | 0x6ull << 8                  /* SAGAW: 39 and 48 bit */
	       | (uint64_t)(VTD_AW_BITS - 1) << 16 /* MGAW */
	       | (uint64_t)(VTD_FRO_OFF / 16) << 24 /* FRO */
	       | 0x3ull << 34                 /* SLLPS: 2 MiB, 1 GiB */
	       | 1ull << 39                   /* PSI */
	       | (uint64_t)(VTD_NFR - 1) << 40 /* NFR */
	       | (uint64_t)VTD_MAMV << 48     /* MAMV */
	       | 1ull << 54 | 1ull << 55;     /* DWD, DRD: draining is free here */
}

static uint64_t ecap_value(void)
{
	return 1ull                            /* C: walks read guest RAM directly,
						* so no clflush is needed */
	       | 1ull << 1                     /* QI */
	       | 1ull << 2                     /* DT */
	       | 1ull << 6                     /* PT */
	       | (uint64_t)(VTD_IRO_OFF / 16) << 8; /* IRO; SMTS (43) = 0 */
}

int vtd_regs_init(struct vtd_regs *r, bool caching_mode, vtd_event_fn event, void *opaque)
{
	if (r == NULL)
		return -EINVAL;
	*r = (struct vtd_regs){ .cap = cap_value(caching_mode), .ecap = ecap_value(),
				.event = event, .opaque = opaque };
	return 0;
}

bool vtd_regs_translation_enabled(const struct vtd_regs *r)
{
	return (r->gsts & G_TE) != 0;
}

bool vtd_regs_caching_mode(const struct vtd_regs *r)
{
	return (r->cap >> 7) & 1;
}

bool vtd_regs_qi_enabled(const struct vtd_regs *r)
{
	return (r->gsts & G_QIE) != 0;
}

uint64_t vtd_regs_root(const struct vtd_regs *r)
{
	return r->rtaddr;
}

void vtd_regs_walk_cfg(const struct vtd_regs *r, struct vtd_walk_cfg *cfg)
{
	*cfg = (struct vtd_walk_cfg){
		.haw = VTD_AW_BITS,
		.mgaw = (unsigned)((r->cap >> 16) & 0x3f) + 1,
		.sagaw = (uint8_t)((r->cap >> 8) & 0x1f),
		.sllps = (uint8_t)((r->cap >> 34) & 0xf),
		.dt = (r->ecap >> 2) & 1,
		.pt = (r->ecap >> 6) & 1,
		.sc = (r->ecap >> 7) & 1,
	};
}

void vtd_regs_set_iqh(struct vtd_regs *r, uint64_t head)
{
	r->iqh = head & 0x7fff0ull;
}

void vtd_regs_iq(const struct vtd_regs *r, uint64_t *iqa, uint64_t *iqh, uint64_t *iqt)
{
	*iqa = r->iqa;
	*iqh = r->iqh;
	*iqt = r->iqt;
}
