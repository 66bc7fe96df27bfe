/*
 * vtd_walk_env.h - the fake guest RAM and table builders shared by the
 * walker tests (test_vtd_walk.c: walks; test_vtd_extent.c: extents and
 * the walk cursor).
 *
 * Guest RAM has two regions: A = [0, 16 MiB) and B = [17 MiB, 21 MiB) with
 * a 1 MiB hole between them. Each test builds root, context and page
 * tables in it; expected results are written out as constants.
 */
#ifndef VTD_WALK_ENV_H
#define VTD_WALK_ENV_H

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

static inline int setup(void **state)
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

static inline int teardown(void **state)
{
	struct env *e = *state;
	free(e->a);
	free(e->b);
	free(e);
	return 0;
}

static inline void wr64(struct env *e, uint64_t gpa, uint64_t v) { vtd_test_wr64(&e->gm, gpa, v); }
static inline uint64_t rd64(struct env *e, uint64_t gpa) { return vtd_test_rd64(&e->gm, gpa); }
static inline uint64_t alloc_table(struct env *e) { return vtd_test_alloc_table(&e->next); }

/* Root + context entry for rid; returns the context entry's address. */
static inline uint64_t set_ctx(struct env *e, uint16_t rid, uint64_t lo, uint64_t hi)
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
static inline uint64_t make_dev(struct env *e, uint16_t rid, unsigned aw, uint16_t did)
{
	uint64_t top = alloc_table(e);
	set_ctx(e, rid, top | 1, (uint64_t)did << 8 | aw);
	return top;
}

static inline unsigned idx(uint64_t iova, unsigned level) { return vtd_test_idx(iova, level); }

/*
 * Address of the entry for iova at 'level', creating the tables above it
 * with permission nl_perm (an existing entry is reused as it is).
 */
static inline uint64_t slot(struct env *e, uint64_t top, unsigned levels, uint64_t iova,
		     unsigned level, uint64_t nl_perm)
{
	return vtd_test_slot(&e->gm, &e->next, top, levels, iova, level, nl_perm);
}

/* Map one leaf of the size of 'level' (PS set above level 1). */
static inline void map(struct env *e, uint64_t top, unsigned levels, uint64_t iova, uint64_t gpa,
		unsigned level, uint64_t perm)
{
	wr64(e, slot(e, top, levels, iova, level, RW), gpa | perm | (level > 1 ? PS : 0));
}

static inline struct vtd_xlate xl(struct env *e, uint16_t rid, uint64_t iova, unsigned want)
{
	struct vtd_xlate x;
	memset(&x, 0xa5, sizeof(x));
	assert_int_equal(vtd_translate(&e->gm, &e->cfg, RTA, rid, iova, want, &x), 0);
	return x;
}

static inline struct vtd_extent ext(struct env *e, uint16_t rid, uint64_t iova, uint64_t max)
{
	struct vtd_extent x;
	memset(&x, 0xa5, sizeof(x));
	assert_int_equal(vtd_translate_extent(&e->gm, &e->cfg, RTA, rid, iova, VTD_PERM_R, max, &x), 0);
	return x;
}

#define RID 0x0318 /* bus 3, device 3, function 0 */

#endif
