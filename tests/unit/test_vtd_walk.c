/*
 * test_vtd_walk.c - the legacy VT-d second-level walker: walks, levels,
 * superpages, permissions, faults, widths (fake RAM: vtd_walk_env.h).
 */
#include "vtd_walk_env.h"

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
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
