/*
 * test_vtd_walk.c - the legacy VT-d second-level walker and extent helper.
 *
 * Each test builds root, context and page tables in a fake guest RAM made
 * of two regions: A = [0, 16 MiB) and B = [17 MiB, 21 MiB) with a 1 MiB hole
 * between them. Expected results are written out as constants.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../iommu/iommu.h"
#include "vtd_test_util.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define A_SIZE (16 * MiB)
#define B_GPA (17 * MiB)
#define B_SIZE (4 * MiB)
#define RTA 0x100000ull /* root table at 1 MiB */
#define OUTSIDE 0x80000000ull /* 2 GiB: not RAM */

#define R 1ull
#define W 2ull
#define RW 3ull
#define PS (1ull << 7)

struct env {
	uint8_t *a, *b;
	struct guest_mem gm;
	uint64_t next; /* bump allocator for 4 KiB tables in region A */
	struct vtd_walk_cfg cfg;
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	assert_non_null(e);
	vtd_test_ram2(&e->gm, &e->a, A_SIZE, &e->b, B_GPA, B_SIZE);
	e->next = RTA + 0x1000;
	e->cfg = (struct vtd_walk_cfg){ .haw = 48, .mgaw = 48, .sagaw = 0x6, .sllps = 0x3,
					.dt = true, .pt = true, .sc = false };
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	free(e->a);
	free(e->b);
	free(e);
	return 0;
}

static void wr64(struct env *e, uint64_t gpa, uint64_t v) { vtd_test_wr64(&e->gm, gpa, v); }
static uint64_t rd64(struct env *e, uint64_t gpa) { return vtd_test_rd64(&e->gm, gpa); }
static uint64_t alloc_table(struct env *e) { return vtd_test_alloc_table(&e->next); }

/* Root + context entry for rid; returns the context entry's address. */
static uint64_t set_ctx(struct env *e, uint16_t rid, uint64_t lo, uint64_t hi)
{
	uint64_t root = RTA + (rid >> 8) * 16u;
	uint64_t ctp = rd64(e, root) & ~0xfffull;
	if (ctp == 0) {
		ctp = alloc_table(e);
		wr64(e, root, ctp | 1);
	}
	uint64_t ce = ctp + (rid & 0xff) * 16u;
	wr64(e, ce, lo);
	wr64(e, ce + 8, hi);
	return ce;
}

/* Translated context (TT=0) with a fresh top table; returns the top table. */
static uint64_t make_dev(struct env *e, uint16_t rid, unsigned aw, uint16_t did)
{
	uint64_t top = alloc_table(e);
	set_ctx(e, rid, top | 1, (uint64_t)did << 8 | aw);
	return top;
}

static unsigned idx(uint64_t iova, unsigned level) { return vtd_test_idx(iova, level); }

/*
 * Address of the entry for iova at 'level', creating the tables above it
 * with permission nl_perm (an existing entry is reused as it is).
 */
static uint64_t slot(struct env *e, uint64_t top, unsigned levels, uint64_t iova,
		     unsigned level, uint64_t nl_perm)
{
	return vtd_test_slot(&e->gm, &e->next, top, levels, iova, level, nl_perm);
}

/* Map one leaf of the size of 'level' (PS set above level 1). */
static void map(struct env *e, uint64_t top, unsigned levels, uint64_t iova, uint64_t gpa,
		unsigned level, uint64_t perm)
{
	wr64(e, slot(e, top, levels, iova, level, RW), gpa | perm | (level > 1 ? PS : 0));
}

static struct vtd_xlate xl(struct env *e, uint16_t rid, uint64_t iova, unsigned want)
{
	struct vtd_xlate x;
	memset(&x, 0xa5, sizeof(x));
	assert_int_equal(vtd_translate(&e->gm, &e->cfg, RTA, rid, iova, want, &x), 0);
	return x;
}

static struct vtd_extent ext(struct env *e, uint16_t rid, uint64_t iova, uint64_t max)
{
	struct vtd_extent x;
	memset(&x, 0xa5, sizeof(x));
	assert_int_equal(vtd_translate_extent(&e->gm, &e->cfg, RTA, rid, iova, VTD_PERM_R, max, &x), 0);
	return x;
}

#define RID 0x0318 /* bus 3, device 3, function 0 */

/* ---------------------------------------------------------------- walks */

static void test_4level_4k(void **state)
{
	struct env *e = *state;
	uint64_t top = make_dev(e, RID, 2, 0x1234);
	uint64_t iova = 0x0000123456789000ull;
	map(e, top, 4, iova, 0xabcdef000ull, 1, RW);

	struct vtd_xlate x = xl(e, RID, iova + 0x5a4, VTD_PERM_RW);
	assert_int_equal(x.status, VTD_OK);
	assert_int_equal(x.gpa, 0xabcdef5a4ull);
	assert_int_equal(x.page_size, 4096);
	assert_int_equal(x.perm, VTD_PERM_RW);
	assert_int_equal(x.domain_id, 0x1234);
	assert_int_equal(x.level, 1);
	assert_false(x.pass_through);
	assert_false(x.fpd);
	assert_int_equal(x.tt, 0);

	/* The neighbouring page is not mapped. */
	x = xl(e, RID, iova + 0x1000, VTD_PERM_R);
	assert_int_equal(x.status, VTD_FR_READ);
	assert_int_equal(x.level, 1);
}

static void test_3level_4k(void **state)
{
	struct env *e = *state;
	uint64_t top = make_dev(e, RID, 1, 7);
	uint64_t iova = 0x7fabcde000ull; /* just under 2^39 */
	map(e, top, 3, iova, 0x42000ull, 1, R);
	struct vtd_xlate x = xl(e, RID, iova + 0xfff, VTD_PERM_R);
	assert_int_equal(x.status, VTD_OK);
	assert_int_equal(x.gpa, 0x42fffull);
	assert_int_equal(x.perm, VTD_PERM_R);
	assert_int_equal(x.domain_id, 7);
	/* The same IOVA through a 4-level reading would use other indices:
	 * the 3-level top table is indexed by bits 38:30 = 0x1fe. */
	assert_int_equal(rd64(e, top + 0x1fe * 8) & 3, RW);
}

static void test_superpages(void **state)
{
	struct env *e = *state;
	uint64_t top = make_dev(e, RID, 2, 1);
	map(e, top, 4, 0x40000000ull, 0x200000ull * 9, 2, RW);  /* 2 MiB */
	map(e, top, 4, 0x80000000ull, 3 * GiB, 3, W);          /* 1 GiB */

	struct vtd_xlate x = xl(e, RID, 0x40000000ull + 0x1abcde, VTD_PERM_RW);
	assert_int_equal(x.status, VTD_OK);
	assert_int_equal(x.gpa, 0x1200000ull + 0x1abcde);
	assert_int_equal(x.page_size, 2 * MiB);
	assert_int_equal(x.level, 2);

	x = xl(e, RID, 0x80000000ull + 0x3ffffffe, VTD_PERM_W);
	assert_int_equal(x.status, VTD_OK);
	assert_int_equal(x.gpa, 3 * GiB + 0x3ffffffe);
	assert_int_equal(x.page_size, GiB);
	assert_int_equal(x.perm, VTD_PERM_W);
	assert_int_equal(x.level, 3);

	/* 3-level table: 1 GiB leaf at its top level. */
	uint64_t top3 = make_dev(e, 0x0100, 1, 2);
	map(e, top3, 3, 5 * GiB, 7 * GiB, 3, RW);
	x = xl(e, 0x0100, 5 * GiB + 12345, VTD_PERM_R);
	assert_int_equal(x.status, VTD_OK);
	assert_int_equal(x.gpa, 7 * GiB + 12345);
	assert_int_equal(x.page_size, GiB);
}

static void test_perm_and(void **state)
{
	struct env *e = *state;
	uint64_t top = make_dev(e, RID, 2, 1);
	uint64_t iova = 0x10000000ull;
	/* Level-4 and level-3 entries read-only, level 2 RW, leaf RW. */
	uint64_t t3 = alloc_table(e), t2 = alloc_table(e), t1 = alloc_table(e);
	wr64(e, top + idx(iova, 4) * 8u, t3 | R);
	wr64(e, t3 + idx(iova, 3) * 8u, t2 | R);
	wr64(e, t2 + idx(iova, 2) * 8u, t1 | RW);
	wr64(e, t1 + idx(iova, 1) * 8u, 0x9000 | RW);

	struct vtd_xlate x = xl(e, RID, iova, VTD_PERM_R);
	assert_int_equal(x.status, VTD_OK);
	assert_int_equal(x.perm, VTD_PERM_R);
	assert_int_equal(xl(e, RID, iova, VTD_PERM_W).status, VTD_FR_WRITE);
	assert_int_equal(xl(e, RID, iova, VTD_PERM_RW).status, VTD_FR_WRITE);
	/* Probe without an access: present, perm reported. */
	x = xl(e, RID, iova, VTD_PERM_NONE);
	assert_int_equal(x.status, VTD_OK);
	assert_int_equal(x.perm, VTD_PERM_R);

	/* Upper level W-only, leaf R-only: nothing is left. */
	wr64(e, top + idx(iova, 4) * 8u, t3 | W);
	assert_int_equal(xl(e, RID, iova, VTD_PERM_R).status, VTD_FR_READ);
	assert_int_equal(xl(e, RID, iova, VTD_PERM_W).status, VTD_FR_WRITE);
	x = xl(e, RID, iova, VTD_PERM_NONE);
	assert_int_equal(x.status, VTD_OK);
	assert_int_equal(x.perm, 0);

	/* Leaf W-only under RW levels: a read faults as a read. */
	wr64(e, top + idx(iova, 4) * 8u, t3 | RW);
	wr64(e, t3 + idx(iova, 3) * 8u, t2 | RW);
	wr64(e, t1 + idx(iova, 1) * 8u, 0x9000 | W);
	assert_int_equal(xl(e, RID, iova, VTD_PERM_R).status, VTD_FR_READ);
	assert_int_equal(xl(e, RID, iova, VTD_PERM_W).status, VTD_OK);
}

static void test_not_present_each_level(void **state)
{
	struct env *e = *state;
	uint64_t top = make_dev(e, RID, 2, 1);
	uint64_t iova = 0x0000765432100000ull;
	map(e, top, 4, iova, 0x5000, 1, RW);
	assert_int_equal(xl(e, RID, iova, VTD_PERM_R).status, VTD_OK);

	for (unsigned level = 1; level <= 4; level++) {
		uint64_t s = slot(e, top, 4, iova, level, RW);
		uint64_t saved = rd64(e, s);
		/* Not present (R=W=0) with garbage everywhere else, including
		 * reserved bits: must not be reported as a reserved-bit fault. */
		wr64(e, s, 0xfff0fffffffffffcull);
		struct vtd_xlate x = xl(e, RID, iova, VTD_PERM_R);
		assert_int_equal(x.status, VTD_FR_READ);
		assert_int_equal(x.level, level);
		assert_int_equal(xl(e, RID, iova, VTD_PERM_W).status, VTD_FR_WRITE);
		assert_int_equal(xl(e, RID, iova, VTD_PERM_RW).status, VTD_FR_WRITE);
		wr64(e, s, saved);
	}
	assert_int_equal(xl(e, RID, iova, VTD_PERM_R).status, VTD_OK);
}

static void test_root_and_context(void **state)
{
	struct env *e = *state;
	/* Nothing set up for bus 3: root not present. */
	struct vtd_xlate x = xl(e, RID, 0, VTD_PERM_R);
	assert_int_equal(x.status, VTD_FR_ROOT_NOT_PRESENT);
	assert_int_equal(x.level, 0);

	uint64_t top = make_dev(e, RID, 2, 0xffff);
	map(e, top, 4, 0, 0x3000, 1, RW);
	x = xl(e, RID, 0, VTD_PERM_R);
	assert_int_equal(x.status, VTD_OK);
	assert_int_equal(x.domain_id, 0xffff);

	/* Another function on the same bus has no context entry. */
	assert_int_equal(xl(e, RID + 1, 0, VTD_PERM_R).status, VTD_FR_CTX_NOT_PRESENT);
	/* Another bus, same devfn: root entry absent. */
	assert_int_equal(xl(e, RID + 0x100, 0, VTD_PERM_R).status, VTD_FR_ROOT_NOT_PRESENT);

	uint64_t root = RTA + 3 * 16;
	uint64_t root_lo = rd64(e, root);
	const uint64_t root_bad_lo[] = { 1ull << 1, 1ull << 11, 1ull << 48, 1ull << 63 };
	for (unsigned i = 0; i < 4; i++) {
		wr64(e, root, root_lo | root_bad_lo[i]);
		assert_int_equal(xl(e, RID, 0, VTD_PERM_R).status, VTD_FR_ROOT_RSVD);
	}
	wr64(e, root, root_lo);
	wr64(e, root + 8, 1ull << 12); /* legacy mode: high qword reserved */
	assert_int_equal(xl(e, RID, 0, VTD_PERM_R).status, VTD_FR_ROOT_RSVD);
	wr64(e, root + 8, 0);

	uint64_t ce = (root_lo & ~0xfffull) + (RID & 0xff) * 16u;
	uint64_t lo = rd64(e, ce), hi = rd64(e, ce + 8);
	const uint64_t ctx_bad_lo[] = { 1ull << 4, 1ull << 11, 1ull << 48, 1ull << 63 };
	for (unsigned i = 0; i < 4; i++) {
		wr64(e, ce, lo | ctx_bad_lo[i]);
		assert_int_equal(xl(e, RID, 0, VTD_PERM_R).status, VTD_FR_CTX_RSVD);
	}
	wr64(e, ce, lo);
	const uint64_t ctx_bad_hi[] = { 1ull << 7, 1ull << 24, 1ull << 63 };
	for (unsigned i = 0; i < 3; i++) {
		wr64(e, ce + 8, hi | ctx_bad_hi[i]);
		assert_int_equal(xl(e, RID, 0, VTD_PERM_R).status, VTD_FR_CTX_RSVD);
	}
	/* AVAIL bits 6:3 are free for software. */
	wr64(e, ce + 8, hi | 0x78);
	assert_int_equal(xl(e, RID, 0, VTD_PERM_R).status, VTD_OK);
	/* FPD is reported. */
	wr64(e, ce + 8, hi);
	wr64(e, ce, lo | 2);
	x = xl(e, RID, 0, VTD_PERM_R);
	assert_int_equal(x.status, VTD_OK);
	assert_true(x.fpd);
	/* P = 0 hides reserved bits. */
	wr64(e, ce, (lo & ~1ull) | (1ull << 4));
	assert_int_equal(xl(e, RID, 0, VTD_PERM_R).status, VTD_FR_CTX_NOT_PRESENT);
}

static void test_context_tt_aw(void **state)
{
	struct env *e = *state;
	uint64_t top = make_dev(e, RID, 2, 5);
	map(e, top, 4, 0x1000, 0x7000, 1, RW);
	uint64_t ce = set_ctx(e, RID, top | 1, 5 << 8 | 2);

	/* TT = 3 is reserved. */
	wr64(e, ce, top | 1 | 3 << 2);
	assert_int_equal(xl(e, RID, 0x1000, VTD_PERM_R).status, VTD_FR_CTX_INVALID);

	/* TT = 1 (device-TLB) translates like TT = 0 when DT is supported. */
	wr64(e, ce, top | 1 | 1 << 2);
	struct vtd_xlate x = xl(e, RID, 0x1000, VTD_PERM_R);
	assert_int_equal(x.status, VTD_OK);
	assert_int_equal(x.gpa, 0x7000);
	assert_int_equal(x.tt, 1);
	e->cfg.dt = false;
	assert_int_equal(xl(e, RID, 0x1000, VTD_PERM_R).status, VTD_FR_CTX_INVALID);
	e->cfg.dt = true;

	/* TT = 2: pass-through, SLPTPTR ignored. */
	wr64(e, ce, 1 | 2 << 2);
	x = xl(e, RID, 0x123456789ull, VTD_PERM_RW);
	assert_int_equal(x.status, VTD_OK);
	assert_true(x.pass_through);
	assert_int_equal(x.gpa, 0x123456789ull);
	assert_int_equal(x.perm, VTD_PERM_RW);
	assert_int_equal(x.domain_id, 5);
	assert_int_equal(xl(e, RID, 1ull << 48, VTD_PERM_R).status, VTD_FR_ADDR_WIDTH);
	e->cfg.pt = false;
	assert_int_equal(xl(e, RID, 0x1000, VTD_PERM_R).status, VTD_FR_CTX_INVALID);
	e->cfg.pt = true;

	/* AW: only 1 and 2 are supported, and only if SAGAW says so. */
	wr64(e, ce, top | 1);
	const unsigned bad_aw[] = { 0, 3, 4, 5, 6, 7 };
	for (unsigned i = 0; i < 6; i++) {
		wr64(e, ce + 8, 5 << 8 | bad_aw[i]);
		assert_int_equal(xl(e, RID, 0x1000, VTD_PERM_R).status, VTD_FR_CTX_INVALID);
	}
	wr64(e, ce + 8, 5 << 8 | 2);
	e->cfg.sagaw = 0x2;
	assert_int_equal(xl(e, RID, 0x1000, VTD_PERM_R).status, VTD_FR_CTX_INVALID);
	e->cfg.sagaw = 0x6;
	assert_int_equal(xl(e, RID, 0x1000, VTD_PERM_R).status, VTD_OK);
}

static void test_outside_ram(void **state)
{
	struct env *e = *state;
	struct vtd_xlate x;

	/* Root table outside RAM, including one whose end would wrap. */
	assert_int_equal(vtd_translate(&e->gm, &e->cfg, OUTSIDE, RID, 0, VTD_PERM_R, &x), 0);
	assert_int_equal(x.status, VTD_FR_ROOT_ACCESS);
	assert_int_equal(vtd_translate(&e->gm, &e->cfg, ~0ull, 0xffff, 0, VTD_PERM_R, &x), 0);
	assert_int_equal(x.status, VTD_FR_ROOT_ACCESS);
	/* Root table in the hole between the regions. */
	assert_int_equal(vtd_translate(&e->gm, &e->cfg, A_SIZE, RID, 0, VTD_PERM_R, &x), 0);
	assert_int_equal(x.status, VTD_FR_ROOT_ACCESS);

	/* Context table outside RAM. */
	wr64(e, RTA + 3 * 16, OUTSIDE | 1);
	assert_int_equal(xl(e, RID, 0, VTD_PERM_R).status, VTD_FR_CTX_ACCESS);
	wr64(e, RTA + 3 * 16, 0);

	/* Top-level page table outside RAM, then each lower table. */
	uint64_t top = make_dev(e, RID, 2, 1);
	uint64_t iova = 0x0000008040201000ull;
	map(e, top, 4, iova, 0x8000, 1, RW);
	uint64_t ce = set_ctx(e, RID, OUTSIDE | 1, 1 << 8 | 2);
	x = xl(e, RID, iova, VTD_PERM_R);
	assert_int_equal(x.status, VTD_FR_PTE_ACCESS);
	assert_int_equal(x.level, 4);
	wr64(e, ce, top | 1);
	assert_int_equal(xl(e, RID, iova, VTD_PERM_R).status, VTD_OK);
	for (unsigned level = 4; level >= 2; level--) {
		uint64_t s = slot(e, top, 4, iova, level, RW);
		uint64_t saved = rd64(e, s);
		wr64(e, s, (B_GPA + B_SIZE) | RW); /* just past region B */
		x = xl(e, RID, iova, VTD_PERM_R);
		assert_int_equal(x.status, VTD_FR_PTE_ACCESS);
		assert_int_equal(x.level, level - 1);
		wr64(e, s, saved);
	}
	/* A table in region B works. */
	uint64_t s = slot(e, top, 4, iova, 2, RW);
	wr64(e, B_GPA + idx(iova, 1) * 8u, 0x6000 | RW);
	wr64(e, s, B_GPA | RW);
	x = xl(e, RID, iova, VTD_PERM_R);
	assert_int_equal(x.status, VTD_OK);
	assert_int_equal(x.gpa, 0x6000);
}

static void test_reserved_bits(void **state)
{
	struct env *e = *state;
	uint64_t top = make_dev(e, RID, 2, 1);
	uint64_t iova = 0x0000004000000000ull; /* level-4 index 0, level-3 index 256 */
	map(e, top, 4, iova, 0x9000, 1, RW);

	for (unsigned level = 1; level <= 4; level++) {
		uint64_t s = slot(e, top, 4, iova, level, RW);
		uint64_t v = rd64(e, s);
		/* Bits 51:48 reserved with HAW 48. */
		wr64(e, s, v | 1ull << 48);
		assert_int_equal(xl(e, RID, iova, VTD_PERM_R).status, VTD_FR_PTE_RSVD);
		wr64(e, s, v | 1ull << 51);
		assert_int_equal(xl(e, RID, iova, VTD_PERM_R).status, VTD_FR_PTE_RSVD);
		/* SNP reserved without ECAP.SC. */
		wr64(e, s, v | 1ull << 11);
		assert_int_equal(xl(e, RID, iova, VTD_PERM_R).status, VTD_FR_PTE_RSVD);
		e->cfg.sc = true;
		assert_int_equal(xl(e, RID, iova, VTD_PERM_R).status, VTD_OK);
		e->cfg.sc = false;
		/* Ignored bits: 63, 61:52, 10:8, 6:2. */
		wr64(e, s, v | 1ull << 63 | 0x3ffull << 52 | 0x700 | 0x7c);
		assert_int_equal(xl(e, RID, iova, VTD_PERM_R).status, VTD_OK);
		/* TM (62): leaf only, and only with DT. */
		wr64(e, s, v | 1ull << 62);
		assert_int_equal(xl(e, RID, iova, VTD_PERM_R).status,
				 level == 1 ? VTD_OK : VTD_FR_PTE_RSVD);
		e->cfg.dt = false;
		assert_int_equal(xl(e, RID, iova, VTD_PERM_R).status, VTD_FR_PTE_RSVD);
		e->cfg.dt = true;
		wr64(e, s, v);
	}

	/* With HAW 39, bit 39 of an address becomes reserved. */
	uint64_t s1 = slot(e, top, 4, iova, 1, RW);
	wr64(e, s1, (1ull << 39) | RW);
	assert_int_equal(xl(e, RID, iova, VTD_PERM_R).status, VTD_OK);
	e->cfg.haw = 39;
	assert_int_equal(xl(e, RID, iova, VTD_PERM_R).status, VTD_FR_PTE_RSVD);
	e->cfg.haw = 48;
	wr64(e, s1, 0x9000 | RW);

	/* PS at level 1 is ignored: still a 4 KiB leaf. */
	wr64(e, s1, 0x9000 | RW | PS);
	struct vtd_xlate x = xl(e, RID, iova + 0x10, VTD_PERM_R);
	assert_int_equal(x.status, VTD_OK);
	assert_int_equal(x.gpa, 0x9010);
	assert_int_equal(x.page_size, 4096);

	/* PS at level 4 is reserved. */
	uint64_t s4 = slot(e, top, 4, iova, 4, RW);
	uint64_t v4 = rd64(e, s4);
	wr64(e, s4, v4 | PS);
	assert_int_equal(xl(e, RID, iova, VTD_PERM_R).status, VTD_FR_PTE_RSVD);
	wr64(e, s4, v4);

	/* Superpage address bits below the alignment are reserved. */
	uint64_t s2 = slot(e, top, 4, iova, 2, RW);
	wr64(e, s2, 0x200000 | 0x1000 | RW | PS);
	assert_int_equal(xl(e, RID, iova, VTD_PERM_R).status, VTD_FR_PTE_RSVD);
	wr64(e, s2, 0x200000 | 0x100000 | RW | PS);
	assert_int_equal(xl(e, RID, iova, VTD_PERM_R).status, VTD_FR_PTE_RSVD);
	wr64(e, s2, 0x200000 | RW | PS);
	assert_int_equal(xl(e, RID, iova, VTD_PERM_R).status, VTD_OK);
	e->cfg.sllps = 0x2; /* no 2 MiB pages */
	assert_int_equal(xl(e, RID, iova, VTD_PERM_R).status, VTD_FR_PTE_RSVD);
	e->cfg.sllps = 0x3;

	uint64_t s3 = slot(e, top, 4, iova, 3, RW);
	wr64(e, s3, GiB | 0x20000000 | RW | PS); /* bit 29 set */
	assert_int_equal(xl(e, RID, iova, VTD_PERM_R).status, VTD_FR_PTE_RSVD);
	wr64(e, s3, GiB | RW | PS);
	assert_int_equal(xl(e, RID, iova, VTD_PERM_R).status, VTD_OK);
	e->cfg.sllps = 0x1; /* no 1 GiB pages */
	assert_int_equal(xl(e, RID, iova, VTD_PERM_R).status, VTD_FR_PTE_RSVD);
	e->cfg.sllps = 0x3;
}

static void test_width(void **state)
{
	struct env *e = *state;
	uint64_t top3 = make_dev(e, 0x0200, 1, 1);
	uint64_t top4 = make_dev(e, 0x0300, 2, 1);
	map(e, top3, 3, (1ull << 39) - 4096, 0x1000, 1, RW);
	map(e, top4, 4, (1ull << 48) - 4096, 0x2000, 1, RW);
	map(e, top4, 4, (1ull << 39), 0x3000, 1, RW);

	assert_int_equal(xl(e, 0x0200, (1ull << 39) - 1, VTD_PERM_R).status, VTD_OK);
	struct vtd_xlate x = xl(e, 0x0200, 1ull << 39, VTD_PERM_R);
	assert_int_equal(x.status, VTD_FR_ADDR_WIDTH);
	assert_int_equal(x.domain_id, 1);
	assert_int_equal(xl(e, 0x0200, ~0ull, VTD_PERM_R).status, VTD_FR_ADDR_WIDTH);

	assert_int_equal(xl(e, 0x0300, (1ull << 48) - 1, VTD_PERM_R).status, VTD_OK);
	assert_int_equal(xl(e, 0x0300, 1ull << 48, VTD_PERM_R).status, VTD_FR_ADDR_WIDTH);
	assert_int_equal(xl(e, 0x0300, 1ull << 63, VTD_PERM_R).status, VTD_FR_ADDR_WIDTH);
	assert_int_equal(xl(e, 0x0300, 1ull << 39, VTD_PERM_R).status, VTD_OK);
	/* MGAW smaller than the context's AGAW wins. */
	e->cfg.mgaw = 39;
	assert_int_equal(xl(e, 0x0300, 1ull << 39, VTD_PERM_R).status, VTD_FR_ADDR_WIDTH);
}

static void test_bad_args(void **state)
{
	struct env *e = *state;
	struct vtd_xlate x;
	struct vtd_extent t;
	assert_int_equal(vtd_translate(NULL, &e->cfg, RTA, 0, 0, 1, &x), -EINVAL);
	assert_int_equal(vtd_translate(&e->gm, NULL, RTA, 0, 0, 1, &x), -EINVAL);
	assert_int_equal(vtd_translate(&e->gm, &e->cfg, RTA, 0, 0, 1, NULL), -EINVAL);
	assert_int_equal(vtd_translate(&e->gm, &e->cfg, RTA, 0, 0, 4, &x), -EINVAL);
	struct vtd_walk_cfg c = e->cfg;
	c.haw = 64;
	assert_int_equal(vtd_translate(&e->gm, &c, RTA, 0, 0, 1, &x), -EINVAL);
	c = e->cfg;
	c.sagaw = 0x8;
	assert_int_equal(vtd_translate(&e->gm, &c, RTA, 0, 0, 1, &x), -EINVAL);
	assert_int_equal(vtd_translate_extent(&e->gm, &e->cfg, RTA, 0, 0, 1, 0, &t), -EINVAL);
	assert_int_equal(vtd_translate_extent(&e->gm, &e->cfg, RTA, 0, 0, 1, 4095, &t), -EINVAL);
	assert_int_equal(vtd_translate_extent(&e->gm, &e->cfg, RTA, 0, 0, 1, 6000, &t), -EINVAL);
}

/* -------------------------------------------------------------- extents */

#define DATA (8 * MiB) /* data pages in region A */

static uint64_t map_run(struct env *e, uint64_t top, uint64_t iova, uint64_t gpa, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		map(e, top, 4, iova + i * 4096ull, gpa + i * 4096ull, 1, RW);
	return top;
}

static void test_extent_merge_4k(void **state)
{
	struct env *e = *state;
	uint64_t top = make_dev(e, RID, 2, 9);
	map_run(e, top, 0x100000, DATA, 16);

	struct vtd_extent t = ext(e, RID, 0x100000 + 5 * 4096 + 0x77, 1 * GiB);
	assert_int_equal(t.status, VTD_OK);
	assert_int_equal(t.iova, 0x105000);
	assert_int_equal(t.gpa, DATA + 0x5000);
	assert_int_equal(t.len, 11 * 4096);
	assert_int_equal(t.perm, VTD_PERM_RW);
	assert_int_equal(t.domain_id, 9);

	/* max_len respected. */
	t = ext(e, RID, 0x100000, 4 * 4096);
	assert_int_equal(t.iova, 0x100000);
	assert_int_equal(t.len, 4 * 4096);
	t = ext(e, RID, 0x100fff, 4096);
	assert_int_equal(t.iova, 0x100000);
	assert_int_equal(t.len, 4096);
}

static void test_extent_stops(void **state)
{
	struct env *e = *state;
	uint64_t top = make_dev(e, RID, 2, 1);
	uint64_t base = 0x200000;
	map_run(e, top, base, DATA, 16);
	struct vtd_extent t;

	/* Gap at page 8. */
	uint64_t s8 = slot(e, top, 4, base + 8 * 4096, 1, RW);
	uint64_t v8 = rd64(e, s8);
	wr64(e, s8, 0);
	t = ext(e, RID, base, GiB);
	assert_int_equal(t.len, 8 * 4096);
	/* Permission change at page 8. */
	wr64(e, s8, v8 & ~W);
	t = ext(e, RID, base, GiB);
	assert_int_equal(t.len, 8 * 4096);
	assert_int_equal(t.perm, VTD_PERM_RW);
	/* ...and starting there, the R-only run is one page. */
	t = ext(e, RID, base + 8 * 4096, GiB);
	assert_int_equal(t.len, 4096);
	assert_int_equal(t.perm, VTD_PERM_R);
	/* Non-contiguous GPA at page 8 (page 8 maps page 9's frame). */
	wr64(e, s8, (DATA + 9 * 4096) | RW);
	t = ext(e, RID, base, GiB);
	assert_int_equal(t.len, 8 * 4096);
	/* Reserved bit in page 8's PTE: stop, do not fail. */
	wr64(e, s8, v8 | 1ull << 50);
	t = ext(e, RID, base, GiB);
	assert_int_equal(t.status, VTD_OK);
	assert_int_equal(t.len, 8 * 4096);
	wr64(e, s8, v8);
	t = ext(e, RID, base, GiB);
	assert_int_equal(t.len, 16 * 4096);
}

static void test_extent_region_end(void **state)
{
	struct env *e = *state;
	uint64_t top = make_dev(e, RID, 2, 1);
	/* GPA contiguous from the last 4 pages of A into the hole. */
	map_run(e, top, 0x300000, A_SIZE - 4 * 4096, 8);
	struct vtd_extent t = ext(e, RID, 0x300000, GiB);
	assert_int_equal(t.status, VTD_OK);
	assert_int_equal(t.gpa, A_SIZE - 4 * 4096);
	assert_int_equal(t.len, 4 * 4096);
	/* Starting in the hole: not RAM. */
	t = ext(e, RID, 0x304000, GiB);
	assert_int_equal(t.status, VTD_ST_NOT_RAM);

	/* Ends at the end of region B too. */
	map_run(e, top, 0x400000, B_GPA + B_SIZE - 2 * 4096, 4);
	t = ext(e, RID, 0x400000, GiB);
	assert_int_equal(t.gpa, B_GPA + B_SIZE - 2 * 4096);
	assert_int_equal(t.len, 2 * 4096);

	/* A 2 MiB leaf at GPA 16..18 MiB straddles the start of B (17 MiB). */
	map(e, top, 4, 0x40000000, 16 * MiB, 2, RW);
	t = ext(e, RID, 0x40000000 + MiB + MiB / 2, GiB);
	assert_int_equal(t.status, VTD_OK);
	assert_int_equal(t.iova, 0x40000000 + MiB);
	assert_int_equal(t.gpa, B_GPA);
	assert_int_equal(t.len, MiB);
	assert_int_equal(ext(e, RID, 0x40000000, GiB).status, VTD_ST_NOT_RAM);
}

static void test_extent_superpages(void **state)
{
	struct env *e = *state;
	uint64_t top = make_dev(e, RID, 2, 1);
	/* 2 MiB leaf at GPA 2..4 MiB, then 4 KiB pages continuing at 4 MiB. */
	map(e, top, 4, 0x600000, 2 * MiB, 2, RW);
	map_run(e, top, 0x800000, 4 * MiB, 3);
	struct vtd_extent t = ext(e, RID, 0x600000 + 0x12345, GiB);
	assert_int_equal(t.iova, 0x600000);
	assert_int_equal(t.gpa, 2 * MiB);
	assert_int_equal(t.len, 2 * MiB + 3 * 4096);

	/* max_len smaller than iova's offset in the leaf: start at iova's page. */
	t = ext(e, RID, 0x600000 + 0x12345, 64 * 1024);
	assert_int_equal(t.iova, 0x612000);
	assert_int_equal(t.gpa, 2 * MiB + 0x12000);
	assert_int_equal(t.len, 64 * 1024);

	/* 4 KiB pages crossing a level-1 and a level-2 table boundary. */
	uint64_t cross = (1ull << 30) - 2 * 4096; /* last 2 pages below 1 GiB */
	map_run(e, top, cross, DATA, 4);
	t = ext(e, RID, cross, GiB);
	assert_int_equal(t.iova, cross);
	assert_int_equal(t.len, 4 * 4096);
	/* 4 KiB pages followed by a 2 MiB leaf continuing the GPA. */
	map_run(e, top, 0xa00000 - 2 * 4096, 6 * MiB - 2 * 4096, 2);
	map(e, top, 4, 0xa00000, 6 * MiB, 2, RW);
	t = ext(e, RID, 0xa00000 - 2 * 4096, GiB);
	assert_int_equal(t.len, 2 * 4096 + 2 * MiB);
}

static void test_extent_width_end(void **state)
{
	struct env *e = *state;
	uint64_t top = make_dev(e, RID, 1, 1); /* 3 levels, 39 bits */
	uint64_t last = (1ull << 39) - 2 * 4096;
	for (unsigned i = 0; i < 2; i++)
		wr64(e, slot(e, top, 3, last + i * 4096ull, 1, RW), (DATA + i * 4096ull) | RW);
	/* IOVA 0 continues the GPA: a walker that let 2^39 wrap to index 0
	 * would merge it. */
	wr64(e, slot(e, top, 3, 0, 1, RW), (DATA + 2 * 4096ull) | RW);
	struct vtd_extent t = ext(e, RID, last, GiB);
	assert_int_equal(t.status, VTD_OK);
	assert_int_equal(t.len, 2 * 4096);
}

static void test_extent_faults_and_pt(void **state)
{
	struct env *e = *state;
	struct vtd_extent t = ext(e, RID, 0, GiB);
	assert_int_equal(t.status, VTD_FR_ROOT_NOT_PRESENT);

	uint64_t top = make_dev(e, RID, 2, 3);
	map(e, top, 4, 0x1000, DATA, 1, R);
	struct vtd_extent w;
	assert_int_equal(vtd_translate_extent(&e->gm, &e->cfg, RTA, RID, 0x1000, VTD_PERM_W,
					      GiB, &w), 0);
	assert_int_equal(w.status, VTD_FR_WRITE);
	assert_int_equal(w.domain_id, 3);
	/* Translation to an address that is not RAM. */
	map(e, top, 4, 0x2000, OUTSIDE, 1, RW);
	assert_int_equal(ext(e, RID, 0x2000, GiB).status, VTD_ST_NOT_RAM);

	/* Pass-through: flat up to the end of the region or max_len. */
	set_ctx(e, RID, 1 | 2 << 2, 3 << 8 | 2);
	t = ext(e, RID, 0x5123, GiB);
	assert_int_equal(t.status, VTD_OK);
	assert_true(t.pass_through);
	assert_int_equal(t.iova, 0x5000);
	assert_int_equal(t.gpa, 0x5000);
	assert_int_equal(t.len, A_SIZE - 0x5000);
	assert_int_equal(t.perm, VTD_PERM_RW);
	t = ext(e, RID, B_GPA + 0x5123, 0x10000);
	assert_int_equal(t.iova, B_GPA + 0x5000);
	assert_int_equal(t.len, 0x10000);
	assert_int_equal(ext(e, RID, A_SIZE, GiB).status, VTD_ST_NOT_RAM);
	/* max_len near 2^64 must not overflow. */
	t = ext(e, RID, 0x5000, ~0xfffull);
	assert_int_equal(t.len, A_SIZE - 0x5000);
}

/* ---------------------------------------------------------------- cursor */

/* With a cursor: the same answer as a fresh walk, for every query in turn. */
static struct vtd_extent ext_at(struct env *e, struct vtd_walk_cursor *c, uint16_t rid,
				uint64_t iova, uint64_t max)
{
	struct vtd_extent x, fresh;
	memset(&x, 0xa5, sizeof(x));
	assert_int_equal(vtd_translate_extent_at(&e->gm, &e->cfg, RTA, rid, iova, VTD_PERM_R, max,
						 c, &x), 0);
	fresh = ext(e, rid, iova, max);
	assert_int_equal(x.status, fresh.status);
	assert_int_equal(x.domain_id, fresh.domain_id);
	assert_int_equal(x.pass_through, fresh.pass_through);
	if (fresh.status == VTD_OK) {
		assert_int_equal(x.iova, fresh.iova);
		assert_int_equal(x.len, fresh.len);
		assert_int_equal(x.gpa, fresh.gpa);
		assert_int_equal(x.perm, fresh.perm);
	}
	return x;
}

/*
 * The cases where reusing the last walk's tables would go wrong: a page
 * inside the 2 MiB superpage just walked (no level-1 table was read), an
 * IOVA next to one whose walk stopped at a missing level-3 entry, a switch
 * of requester, pass-through, and an IOVA beyond the width in between.
 */
static void test_cursor_matches_fresh_walks(void **state)
{
	struct env *e = *state;
	uint64_t top = make_dev(e, RID, 2, 9);
	map_run(e, top, 0x100000, DATA, 4);
	map(e, top, 4, 0x40000000ull, 0x200000ull * 2, 2, RW); /* 2 MiB at GPA 4 MiB */
	map(e, top, 4, 0x40200000ull + 0x3000, DATA + 0x10000, 1, R);
	uint64_t top2 = make_dev(e, 0x0100, 1, 5);
	map(e, top2, 3, 0x100000, DATA + 0x20000, 1, RW);
	set_ctx(e, 0x0200, 2u << 2 | 1, 2); /* pass-through */

	struct vtd_walk_cursor c = { .valid = false };
	assert_int_equal(ext_at(e, &c, RID, 0x101000, 4096).gpa, DATA + 0x1000);
	assert_int_equal(ext_at(e, &c, RID, 0x103000, 4096).gpa, DATA + 0x3000);
	assert_int_equal(ext_at(e, &c, RID, 0x104000, 4096).status, VTD_FR_READ);
	assert_int_equal(ext_at(e, &c, RID, 0x40000000ull + 0x5000, 4096).gpa, 4 * MiB + 0x5000);
	/* Same level-2 index, so only level 1 differs: the superpage again. */
	assert_int_equal(ext_at(e, &c, RID, 0x40000000ull + 0x9000, 4096).gpa, 4 * MiB + 0x9000);
	assert_int_equal(ext_at(e, &c, RID, 0x40200000ull + 0x3000, 4096).gpa, DATA + 0x10000);
	assert_int_equal(ext_at(e, &c, RID, 0x40200000ull + 0x4000, 4096).status, VTD_FR_READ);
	/* Nothing at level 3 for 4 GiB up; its neighbour page stops there too. */
	assert_int_equal(ext_at(e, &c, RID, 4 * GiB, 4096).status, VTD_FR_READ);
	assert_int_equal(ext_at(e, &c, RID, 4 * GiB + 0x1000, 4096).status, VTD_FR_READ);
	assert_int_equal(ext_at(e, &c, RID, 0x100000, 1 * GiB).len, 4 * 4096);
	assert_int_equal(ext_at(e, &c, RID, 1ull << 48, 4096).status, VTD_FR_ADDR_WIDTH);
	assert_int_equal(ext_at(e, &c, RID, 0x102000, 4096).gpa, DATA + 0x2000);
	/* Another requester, a 3-level table, then pass-through, then back. */
	assert_int_equal(ext_at(e, &c, 0x0100, 0x100000, 4096).gpa, DATA + 0x20000);
	assert_int_equal(ext_at(e, &c, 0x0100, 1ull << 39, 4096).status, VTD_FR_ADDR_WIDTH);
	assert_int_equal(ext_at(e, &c, 0x0200, 0x123000, 4096).gpa, 0x123000);
	assert_true(ext_at(e, &c, 0x0200, 0x7000, 4096).pass_through);
	assert_int_equal(ext_at(e, &c, RID, 0x100000, 4096).domain_id, 9);
	assert_int_equal(ext_at(e, &c, 0x0300, 0x100000, 4096).status, VTD_FR_CTX_NOT_PRESENT);
	assert_int_equal(ext_at(e, &c, RID, 0x101000, 4096).gpa, DATA + 0x1000);
	assert_int_equal(vtd_translate_extent_at(&e->gm, &e->cfg, RTA, RID, 0, VTD_PERM_R, 4096,
						 NULL, &(struct vtd_extent){ 0 }), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_4level_4k),
		T(test_3level_4k),
		T(test_superpages),
		T(test_perm_and),
		T(test_not_present_each_level),
		T(test_root_and_context),
		T(test_context_tt_aw),
		T(test_outside_ram),
		T(test_reserved_bits),
		T(test_width),
		T(test_bad_args),
		T(test_extent_merge_4k),
		T(test_extent_stops),
		T(test_extent_region_end),
		T(test_extent_superpages),
		T(test_extent_width_end),
		T(test_extent_faults_and_pt),
		T(test_cursor_matches_fresh_walks),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
