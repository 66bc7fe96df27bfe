/*
 * test_vtd_extent.c - the walker's extent helper (vtd_translate_extent) and
 * the walk cursor (vtd_translate_extent_at) (fake RAM: vtd_walk_env.h).
 */
#include "vtd_walk_env.h"

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
