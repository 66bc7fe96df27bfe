/*
 * test_vtd_regs.c - the VT-d register file state machine.
 *
 * Register offsets and bit positions are spelled out as numbers from the
 * VT-d specification here, not taken from the implementation's enums.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "../../iommu/iommu.h"

#define MAX_EV 32

struct rec {
	struct vtd_event ev[MAX_EV];
	unsigned n;
};

static void on_event(void *opaque, const struct vtd_event *ev)
{
	struct rec *r = opaque;
	assert_true(r->n < MAX_EV);
	r->ev[r->n++] = *ev;
}

struct fx {
	struct vtd_regs regs;
	struct rec rec;
};

static int setup(void **state)
{
	static struct fx f;
	memset(&f, 0, sizeof(f));
	assert_int_equal(vtd_regs_init(&f.regs, false, on_event, &f.rec), 0);
	*state = &f;
	return 0;
}

static uint64_t rd(struct fx *f, uint64_t off, unsigned size)
{
	uint64_t v;
	assert_int_equal(vtd_regs_read(&f->regs, off, size, &v), 0);
	return v;
}

static void wr(struct fx *f, uint64_t off, unsigned size, uint64_t v)
{
	assert_int_equal(vtd_regs_write(&f->regs, off, size, v), 0);
}

static uint64_t field(uint64_t v, unsigned hi, unsigned lo)
{
	return (v >> lo) & ((2ull << (hi - lo)) - 1);
}

static void test_cap_ecap(void **state)
{
	struct fx *f = *state;
	assert_int_equal(rd(f, 0x00, 4), 0x10);
	uint64_t cap = rd(f, 0x08, 8);
	assert_int_equal(rd(f, 0x08, 4), cap & 0xffffffff);
	assert_int_equal(rd(f, 0x0c, 4), cap >> 32);
	assert_int_equal(field(cap, 2, 0), 6);      /* ND: 2^16 domains */
	assert_int_equal(field(cap, 4, 4), 0);      /* RWBF */
	assert_int_equal(field(cap, 7, 7), 0);      /* CM off */
	assert_int_equal(field(cap, 12, 8), 0x6);   /* SAGAW 39 + 48 */
	assert_int_equal(field(cap, 21, 16), 47);   /* MGAW */
	assert_int_equal(field(cap, 33, 24) * 16, 0x200); /* FRO */
	assert_int_equal(field(cap, 37, 34), 0x3);  /* SLLPS */
	assert_int_equal(field(cap, 39, 39), 1);    /* PSI */
	assert_int_equal(field(cap, 47, 40) + 1, 8); /* NFR */
	assert_int_equal(field(cap, 53, 48), 18);   /* MAMV */

	uint64_t ecap = rd(f, 0x10, 8);
	assert_int_equal(field(ecap, 1, 1), 1);     /* QI */
	assert_int_equal(field(ecap, 2, 2), 1);     /* DT */
	assert_int_equal(field(ecap, 3, 3), 0);     /* IR */
	assert_int_equal(field(ecap, 6, 6), 1);     /* PT */
	assert_int_equal(field(ecap, 7, 7), 0);     /* SC */
	assert_int_equal(field(ecap, 17, 8) * 16, 0x100); /* IRO */
	assert_int_equal(field(ecap, 43, 43), 0);   /* SMTS: legacy mode */

	/* Read-only. */
	wr(f, 0x08, 8, 0);
	wr(f, 0x10, 4, 0);
	assert_int_equal(rd(f, 0x08, 8), cap);
	assert_int_equal(rd(f, 0x10, 8), ecap);

	struct vtd_regs cm;
	assert_int_equal(vtd_regs_init(&cm, true, NULL, NULL), 0);
	uint64_t v;
	assert_int_equal(vtd_regs_read(&cm, 0x08, 8, &v), 0);
	assert_int_equal(field(v, 7, 7), 1);
	assert_int_equal(vtd_regs_init(NULL, false, NULL, NULL), -EINVAL);
}

static void test_walk_cfg_matches(void **state)
{
	struct fx *f = *state;
	struct vtd_walk_cfg c;
	vtd_regs_walk_cfg(&f->regs, &c);
	assert_int_equal(c.haw, 48);
	assert_int_equal(c.mgaw, 48);
	assert_int_equal(c.sagaw, 0x6);
	assert_int_equal(c.sllps, 0x3);
	assert_true(c.dt);
	assert_true(c.pt);
	assert_false(c.sc);
	/* The walker accepts it (no -EINVAL): empty RAM gives a root fault. */
	struct guest_mem gm = { .nregions = 0 };
	struct vtd_xlate x;
	assert_int_equal(vtd_translate(&gm, &c, 0, 0, 0, VTD_PERM_R, &x), 0);
	assert_int_equal(x.status, VTD_FR_ROOT_ACCESS);
}

static void test_srtp(void **state)
{
	struct fx *f = *state;
	assert_int_equal(rd(f, 0x1c, 4), 0);
	wr(f, 0x20, 8, 0x12345000 | 0xfff);
	assert_int_equal(rd(f, 0x20, 8), 0x12345000 | 0xc00); /* 9:0 reserved */
	assert_int_equal(vtd_regs_root(&f->regs), 0);          /* not latched yet */
	wr(f, 0x18, 4, 1u << 30);
	assert_int_equal(rd(f, 0x1c, 4) & (1u << 30), 1u << 30); /* RTPS */
	assert_int_equal(vtd_regs_root(&f->regs) & ~0xfffull, 0x12345000);
	assert_int_equal(f->rec.n, 1);
	assert_int_equal(f->rec.ev[0].type, VTD_EV_ROOT);
	assert_int_equal(f->rec.ev[0].addr & ~0xfffull, 0x12345000);
	/* A new RTADDR takes effect only at the next SRTP; halves work. */
	wr(f, 0x20, 4, 0x777000);
	wr(f, 0x24, 4, 0x1);
	assert_int_equal(rd(f, 0x20, 8), 0x100777000ull);
	assert_int_equal(vtd_regs_root(&f->regs) & ~0xfffull, 0x12345000);
	wr(f, 0x18, 4, 1u << 30);
	assert_int_equal(vtd_regs_root(&f->regs), 0x100777000ull);
	/* GCMD reads as 0. */
	assert_int_equal(rd(f, 0x18, 4), 0);
}

static void test_te_qie_levels(void **state)
{
	struct fx *f = *state;
	wr(f, 0x18, 4, 1u << 26); /* QIE */
	assert_true(vtd_regs_qi_enabled(&f->regs));
	assert_int_equal(rd(f, 0x1c, 4), 1u << 26);
	assert_int_equal(f->rec.n, 1);
	assert_int_equal(f->rec.ev[0].type, VTD_EV_QIE);
	assert_true(f->rec.ev[0].enabled);

	/* Linux style: cached QIE plus one-shot SRTP: QIE not re-announced. */
	wr(f, 0x18, 4, 1u << 26 | 1u << 30);
	assert_int_equal(f->rec.n, 2);
	assert_int_equal(f->rec.ev[1].type, VTD_EV_ROOT);

	wr(f, 0x18, 4, 1u << 26 | 1u << 31); /* + TE */
	assert_true(vtd_regs_translation_enabled(&f->regs));
	assert_int_equal(rd(f, 0x1c, 4), 1u << 31 | 1u << 30 | 1u << 26);
	assert_int_equal(f->rec.n, 3);
	assert_int_equal(f->rec.ev[2].type, VTD_EV_TE);
	assert_true(f->rec.ev[2].enabled);
	wr(f, 0x18, 4, 1u << 26 | 1u << 31); /* same levels: nothing */
	assert_int_equal(f->rec.n, 3);

	wr(f, 0x18, 4, 1u << 26); /* TE off */
	assert_false(vtd_regs_translation_enabled(&f->regs));
	assert_int_equal(f->rec.ev[3].type, VTD_EV_TE);
	assert_false(f->rec.ev[3].enabled);
	wr(f, 0x18, 4, 0); /* QIE off */
	assert_false(vtd_regs_qi_enabled(&f->regs));
	assert_int_equal(f->rec.ev[4].type, VTD_EV_QIE);
	assert_false(f->rec.ev[4].enabled);
	/* WBF and unadvertised bits do nothing visible. */
	wr(f, 0x18, 4, 1u << 27 | 1u << 25 | 1u << 24 | 1u << 29);
	assert_int_equal(f->rec.n, 5);
	assert_int_equal(rd(f, 0x1c, 4), 1u << 30);
}

static void test_ccmd(void **state)
{
	struct fx *f = *state;
	/* Global, as one 64-bit write. */
	wr(f, 0x28, 8, 1ull << 63 | 1ull << 61);
	uint64_t v = rd(f, 0x28, 8);
	assert_int_equal(field(v, 63, 63), 0);  /* ICC self-clears */
	assert_int_equal(field(v, 60, 59), 1);  /* CAIG = global */
	assert_int_equal(f->rec.n, 1);
	assert_int_equal(f->rec.ev[0].type, VTD_EV_CC_INVAL);
	assert_int_equal(f->rec.ev[0].gran, VTD_GRAN_GLOBAL);

	/* Device-selective as two 32-bit writes: low half (SID, DID) first. */
	wr(f, 0x28, 4, 0x0318u << 16 | 0x42);
	assert_int_equal(f->rec.n, 1);
	wr(f, 0x2c, 4, 1u << 31 | 3u << 29 | 2u);   /* ICC, CIRG=3, FM=2 */
	assert_int_equal(f->rec.n, 2);
	assert_int_equal(f->rec.ev[1].gran, VTD_GRAN_DEVICE);
	assert_int_equal(f->rec.ev[1].sid, 0x0318);
	assert_int_equal(f->rec.ev[1].did, 0x42);
	assert_int_equal(f->rec.ev[1].fm, 2);
	assert_int_equal(field(rd(f, 0x28, 8), 60, 59), 3);

	/* Domain-selective. */
	wr(f, 0x28, 8, 1ull << 63 | 2ull << 61 | 0x99);
	assert_int_equal(f->rec.ev[2].gran, VTD_GRAN_DOMAIN);
	assert_int_equal(f->rec.ev[2].did, 0x99);

	/* CIRG = 0 is reserved: nothing done, CAIG = 0, ICC cleared. */
	wr(f, 0x28, 8, 1ull << 63);
	assert_int_equal(f->rec.n, 3);
	v = rd(f, 0x28, 8);
	assert_int_equal(field(v, 63, 63), 0);
	assert_int_equal(field(v, 60, 59), 0);
	/* Without ICC nothing happens. */
	wr(f, 0x28, 8, 1ull << 61);
	assert_int_equal(f->rec.n, 3);
}

static void test_iotlb_reg(void **state)
{
	struct fx *f = *state;
	const uint64_t ivt = 1ull << 63;
	/* Global. */
	wr(f, 0x108, 8, ivt | 1ull << 60);
	uint64_t v = rd(f, 0x108, 8);
	assert_int_equal(field(v, 63, 63), 0);
	assert_int_equal(field(v, 58, 57), 1);
	assert_int_equal(f->rec.ev[0].type, VTD_EV_IOTLB_INVAL);
	assert_int_equal(f->rec.ev[0].gran, VTD_GRAN_GLOBAL);

	/* Domain, with DID in 47:32, DR/DW as Linux sets them. */
	wr(f, 0x108, 8, ivt | 2ull << 60 | 3ull << 48 | 0x1234ull << 32);
	assert_int_equal(f->rec.ev[1].gran, VTD_GRAN_DOMAIN);
	assert_int_equal(f->rec.ev[1].did, 0x1234);
	assert_int_equal(field(rd(f, 0x108, 8), 58, 57), 2);

	/* Page-selective: 4 pages (AM = 2), address bits below 16 ignored. */
	wr(f, 0x100, 8, 0xabcd7000ull | 1 << 6 | 2);
	wr(f, 0x108, 8, ivt | 3ull << 60 | 7ull << 32);
	assert_int_equal(f->rec.ev[2].gran, VTD_GRAN_PAGE);
	assert_int_equal(f->rec.ev[2].addr, 0xabcd4000ull);
	assert_int_equal(f->rec.ev[2].am, 2);
	assert_true(f->rec.ev[2].ih);
	assert_int_equal(f->rec.ev[2].did, 7);
	assert_int_equal(field(rd(f, 0x108, 8), 58, 57), 3);

	/* AM above MAMV (18): done as a domain flush, reported as such. */
	wr(f, 0x100, 8, 0x1000 | 19);
	wr(f, 0x108, 8, ivt | 3ull << 60 | 7ull << 32);
	assert_int_equal(f->rec.ev[3].gran, VTD_GRAN_DOMAIN);
	assert_int_equal(f->rec.ev[3].did, 7);
	assert_int_equal(field(rd(f, 0x108, 8), 58, 57), 2);

	/* Two 32-bit writes: the command runs on the high half. */
	wr(f, 0x100, 4, 0x5000);
	wr(f, 0x104, 4, 0x1);
	wr(f, 0x10c, 4, 1u << 31 | 3u << 28 | 0x55);
	assert_int_equal(f->rec.n, 5);
	assert_int_equal(f->rec.ev[4].addr, 0x100005000ull);
	assert_int_equal(f->rec.ev[4].did, 0x55);
	assert_int_equal(f->rec.ev[4].am, 0);

	/* IIRG = 0: reserved, nothing done, IAIG = 0. */
	wr(f, 0x108, 8, ivt);
	assert_int_equal(f->rec.n, 5);
	v = rd(f, 0x108, 8);
	assert_int_equal(field(v, 63, 63), 0);
	assert_int_equal(field(v, 58, 57), 0);
}

static void test_queue_regs(void **state)
{
	struct fx *f = *state;
	wr(f, 0x90, 8, 0x80000000ull | 0xfff); /* IQA: base + QS, DW/rsvd dropped */
	assert_int_equal(rd(f, 0x90, 8), 0x80000007ull);
	wr(f, 0x88, 8, 0x20);                  /* IQT with QI off: stored only */
	assert_int_equal(rd(f, 0x88, 8), 0x20);
	assert_int_equal(f->rec.n, 0);
	wr(f, 0x18, 4, 1u << 26);
	assert_int_equal(rd(f, 0x80, 8), 0);   /* head restarts */
	wr(f, 0x88, 4, 0x40 | 0xf);            /* low bits reserved */
	assert_int_equal(f->rec.n, 2);
	assert_int_equal(f->rec.ev[1].type, VTD_EV_IQ_TAIL);
	assert_int_equal(f->rec.ev[1].addr, 0x40);
	vtd_regs_set_iqh(&f->regs, 0x40);
	assert_int_equal(rd(f, 0x80, 8), 0x40);
	wr(f, 0x80, 8, 0);                     /* IQH is read-only */
	assert_int_equal(rd(f, 0x80, 8), 0x40);
	wr(f, 0x18, 4, 0);                     /* QI off: head back to 0 */
	assert_int_equal(rd(f, 0x80, 8), 0);
	wr(f, 0x18, 4, 1u << 26);
	f->rec.n = 2;
	/* ICS.IWC is write-1-to-clear; IECTL unmask delivers a pending event. */
	f->regs.ics = 1;
	wr(f, 0x9c, 4, 0);
	assert_int_equal(rd(f, 0x9c, 4), 1);
	wr(f, 0x9c, 4, 1);
	assert_int_equal(rd(f, 0x9c, 4), 0);
	wr(f, 0xa0, 8, (uint64_t)0x4041 << 32 | 1u << 31); /* IECTL.IM + IEDATA */
	wr(f, 0xa8, 8, 0xfee00000ull);
	assert_int_equal(rd(f, 0xa4, 4), 0x4041);
	f->regs.iectl |= 1u << 30;
	wr(f, 0xa0, 4, 0);
	assert_int_equal(f->rec.ev[2].type, VTD_EV_INV_MSI);
	assert_int_equal(f->rec.ev[2].addr, 0xfee00000ull);
	assert_int_equal(f->rec.ev[2].data, 0x4041);
	assert_int_equal(rd(f, 0xa0, 4), 0);
}

static void test_faults(void **state)
{
	struct fx *f = *state;
	wr(f, 0x3c, 4, 0x4022);          /* FEDATA */
	wr(f, 0x40, 8, 0x00000001fee01000ull); /* FEADDR + FEUADDR in one access */
	assert_int_equal(rd(f, 0x40, 4), 0xfee01000);
	assert_int_equal(rd(f, 0x44, 4), 1);

	assert_int_equal(vtd_regs_record_fault(&f->regs, 0x0318, 0xdead1234, 0x6, false), 0);
	assert_int_equal(f->rec.n, 1);
	assert_int_equal(f->rec.ev[0].type, VTD_EV_FAULT_MSI);
	assert_int_equal(f->rec.ev[0].addr, 0x1fee01000ull);
	assert_int_equal(f->rec.ev[0].data, 0x4022);

	/* Read the record the way Linux does: 32-bit at +12 and +8, 64 at +0. */
	uint32_t hi = (uint32_t)rd(f, 0x200 + 12, 4);
	assert_int_equal(hi >> 31, 1);          /* F */
	assert_int_equal((hi >> 30) & 1, 1);    /* T: read */
	assert_int_equal((uint32_t)rd(f, 0x200 + 8, 4) & 0xffff, 0x0318);
	assert_int_equal(hi & 0xff, 0x6);       /* FR in bits 103:96 */
	assert_int_equal(rd(f, 0x200, 8), 0xdead1000ull);
	uint32_t fsts = (uint32_t)rd(f, 0x34, 4);
	assert_int_equal(fsts & 2, 2);          /* PPF */
	assert_int_equal((fsts >> 8) & 0xff, 1); /* FRI moved on */

	/* Second fault while one is pending: recorded, no new interrupt. */
	assert_int_equal(vtd_regs_record_fault(&f->regs, 0x0100, 0x5000, 0x5, true), 0);
	assert_int_equal(f->rec.n, 1);
	assert_int_equal((rd(f, 0x210 + 12, 4) >> 30) & 3, 2); /* F, T = write */

	/* Clear both F bits (RW1C): PPF drops. */
	wr(f, 0x200 + 12, 4, 1u << 31);
	wr(f, 0x210 + 8, 8, 1ull << 63);
	assert_int_equal(rd(f, 0x200 + 12, 4) >> 31, 0);
	assert_int_equal(rd(f, 0x34, 4) & 2, 0);

	/* Mask, fill all 8 records: IP set instead of an MSI; the 9th overflows. */
	wr(f, 0x38, 4, 1u << 31);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(vtd_regs_record_fault(&f->regs, 1, 0x1000 * i, 0x6, false), 0);
	assert_int_equal(f->rec.n, 1);
	assert_int_equal(rd(f, 0x38, 4), 1u << 31 | 1u << 30);
	assert_int_equal(vtd_regs_record_fault(&f->regs, 1, 0, 0x6, false), -ENOSPC);
	assert_int_equal(rd(f, 0x34, 4) & 1, 1); /* PFO */
	/* Unmask: the pending interrupt is delivered once. */
	wr(f, 0x38, 4, 0);
	assert_int_equal(f->rec.n, 2);
	assert_int_equal(f->rec.ev[1].type, VTD_EV_FAULT_MSI);
	assert_int_equal(rd(f, 0x38, 4), 0);
	/* Service everything: PFO is RW1C, records cleared. */
	for (unsigned i = 0; i < 8; i++)
		wr(f, 0x200 + 16 * i + 12, 4, 1u << 31);
	wr(f, 0x34, 4, 1);
	assert_int_equal(rd(f, 0x34, 4) & 3, 0);
	assert_int_equal(vtd_regs_record_fault(&f->regs, 2, 0x2000, 0x4, false), 0);
	assert_int_equal(f->rec.n, 3);
}

/* IP stays pending while any condition remains, and clears with the last. */
static void test_fault_ip_settles(void **state)
{
	struct fx *f = *state;
	wr(f, 0x38, 4, 1u << 31); /* masked */
	for (unsigned i = 0; i < 9; i++)
		vtd_regs_record_fault(&f->regs, 1, 0, 0x6, false);
	assert_int_equal(rd(f, 0x34, 4) & 3, 3); /* PFO + PPF */
	for (unsigned i = 0; i < 8; i++)
		wr(f, 0x200 + 16 * i + 12, 4, 1u << 31);
	assert_int_equal(rd(f, 0x38, 4), 1u << 31 | 1u << 30); /* PFO still set */
	wr(f, 0x34, 4, 1);
	assert_int_equal(rd(f, 0x38, 4), 1u << 31);           /* IP cleared */
	wr(f, 0x38, 4, 0);
	assert_int_equal(f->rec.n, 0);                        /* nothing to deliver */
}

static void test_access_rules(void **state)
{
	struct fx *f = *state;
	uint64_t v = 123;
	assert_int_equal(vtd_regs_read(&f->regs, 0x08, 2, &v), -EINVAL);
	assert_int_equal(v, 0);
	assert_int_equal(vtd_regs_read(&f->regs, 0x0a, 4, &v), -EINVAL);
	assert_int_equal(vtd_regs_read(&f->regs, 0x0c, 8, &v), -EINVAL);
	assert_int_equal(vtd_regs_read(&f->regs, 0x1000, 4, &v), -EINVAL);
	assert_int_equal(vtd_regs_read(&f->regs, ~0ull - 3, 4, &v), -EINVAL);
	assert_int_equal(vtd_regs_write(&f->regs, 0x18, 1, 0xff), -EINVAL);
	assert_int_equal(vtd_regs_write(&f->regs, 0xffc, 8, 0), -EINVAL);
	assert_int_equal(rd(f, 0x1c, 4), 0);
	/* Unimplemented offsets: read 0, writes ignored. */
	wr(f, 0x800, 8, ~0ull);
	assert_int_equal(rd(f, 0x800, 8), 0);
	assert_int_equal(rd(f, 0x04, 4), 0);
	/* A 64-bit read over VER and the reserved word after it. */
	assert_int_equal(rd(f, 0x00, 8), 0x10);
	/* 64-bit read of GCMD/GSTS pair. */
	wr(f, 0x18, 4, 1u << 26);
	assert_int_equal(rd(f, 0x18, 8), (uint64_t)(1u << 26) << 32);
	assert_int_equal(f->rec.n, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_cap_ecap, setup),
		cmocka_unit_test_setup(test_walk_cfg_matches, setup),
		cmocka_unit_test_setup(test_srtp, setup),
		cmocka_unit_test_setup(test_te_qie_levels, setup),
		cmocka_unit_test_setup(test_ccmd, setup),
		cmocka_unit_test_setup(test_iotlb_reg, setup),
		cmocka_unit_test_setup(test_queue_regs, setup),
		cmocka_unit_test_setup(test_faults, setup),
		cmocka_unit_test_setup(test_fault_ip_settles, setup),
		cmocka_unit_test_setup(test_access_rules, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
