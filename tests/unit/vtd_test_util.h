/*
 * vtd_test_util.h - helpers shared by the VT-d unit tests (test_vtd_walk.c,
 * test_iotlb_bridge.c, test_vtd_qi.c): a fake guest RAM of two regions,
 * checked 64/32-bit guest reads and writes, a bump allocator for 4 KiB
 * tables, a second-level page-table builder (slot of an IOVA at a level,
 * creating the tables above it) and the invalidation-queue descriptor
 * writer. All take the guest_mem (and the test's own state) explicitly and
 * are static inline: each test is its own program.
 */
#ifndef VTD_TEST_UTIL_H
#define VTD_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>

#include "../../iommu/iommu.h"

/* Tables come from the bump allocator below this (data pages live above). */
#define VTD_TEST_TABLE_LIMIT (8ull << 20)

/* Zeroed RAM A = [0, a_size) and B = [b_gpa, b_gpa + b_size) in gm. */
static inline void vtd_test_ram2(struct guest_mem *gm, uint8_t **a, uint64_t a_size,
				 uint8_t **b, uint64_t b_gpa, uint64_t b_size)
{
	*a = calloc(1, a_size);
	*b = calloc(1, b_size);
	assert_non_null(*a);
	assert_non_null(*b);
	assert_int_equal(guest_mem_add(gm, 0, a_size, *a), 0);
	assert_int_equal(guest_mem_add(gm, b_gpa, b_size, *b), 0);
}

static inline void vtd_test_wr64(struct guest_mem *gm, uint64_t gpa, uint64_t v)
{
	assert_int_equal(guest_mem_write(gm, gpa, &v, 8), 0);
}

static inline uint64_t vtd_test_rd64(struct guest_mem *gm, uint64_t gpa)
{
	uint64_t v;
	assert_int_equal(guest_mem_read_u64(gm, gpa, &v), 0);
	return v;
}

/* The 32-bit word at gpa (an invalidation-wait status word). */
static inline uint32_t vtd_test_rd32(struct guest_mem *gm, uint64_t gpa)
{
	uint32_t v;
	assert_int_equal(guest_mem_read(gm, gpa, &v, 4), 0);
	return v;
}

/* Next 4 KiB table from the bump allocator *next. */
static inline uint64_t vtd_test_alloc_table(uint64_t *next)
{
	uint64_t t = *next;
	*next += 0x1000;
	assert_true(*next <= VTD_TEST_TABLE_LIMIT);
	return t;
}

/* Index of iova at level L (bits 12+9(L-1) .. +8). */
static inline unsigned vtd_test_idx(uint64_t iova, unsigned level)
{
	return (unsigned)((iova >> (12 + 9 * (level - 1))) & 511);
}

/*
 * Address of the entry for iova at 'level' in the 'levels'-level tables
 * under top, creating the tables above it (from *next) with permission
 * nl_perm; an existing entry is reused as it is.
 */
static inline uint64_t vtd_test_slot(struct guest_mem *gm, uint64_t *next, uint64_t top,
				     unsigned levels, uint64_t iova, unsigned level,
				     uint64_t nl_perm)
{
	uint64_t table = top;
	for (unsigned l = levels; l > level; l--) {
		uint64_t s = table + vtd_test_idx(iova, l) * 8u;
		uint64_t v = vtd_test_rd64(gm, s);
		if ((v & 3) == 0) {
			v = vtd_test_alloc_table(next) | nl_perm;
			vtd_test_wr64(gm, s, v);
		}
		table = v & 0x000ffffffffff000ull;
	}
	return table + vtd_test_idx(iova, level) * 8u;
}

/* Queue one descriptor at *qtail of the 4 KiB queue at qbase (no IQT write). */
static inline void vtd_test_queue(struct guest_mem *gm, uint64_t qbase, uint64_t *qtail,
				  uint64_t q0, uint64_t q1)
{
	vtd_test_wr64(gm, qbase + *qtail, q0);
	vtd_test_wr64(gm, qbase + *qtail + 8, q1);
	*qtail = (*qtail + 16) % 4096;
}

#endif
