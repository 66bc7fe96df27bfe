/*
 * test_iotlb_sync.c - keeping vhost's IOTLB in step without emptying it
 * (iommu/iotlb_held.c, iommu/iotlb_sync.c): the re-walk that answers a
 * domain or global flush, the held list under it, and the caching-mode
 * pushes of new mappings.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "iotlb_bridge_env.h"

/*
 * A domain flush re-walks every held entry: unchanged and widened ones
 * stay; cleared, moved, narrowed and re-domained ones are invalidated;
 * when the held list is incomplete the flush is total again.
 */
static void test_domain_flush_rewalk(void **state)
{
	struct env *e = *state;
	const uint64_t base = 0x600000;
	/* Six single pages with scattered GPAs, so each is its own UPDATE. */
	for (uint64_t i = 0; i < 6; i++)
		map(e, base + i * 0x2000, 0x800000 + i * 0x3000, 1, i == 4 ? 1 : RW);
	te_on(e);
	for (uint64_t i = 0; i < 6; i++) {
		assert_int_equal(miss(e, base + i * 0x2000, VTD_PERM_R), 0);
		assert_int_equal(expect_msg(e, IOTLB_UPDATE).iova, base + i * 0x2000);
	}
	expect_none(e);
	assert_int_equal(e->br.held.live, 6);
	wr64(e, slot(e, base + 0x2000, 1), 0);                     /* 1: unmapped */
	wr64(e, slot(e, base + 0x4000, 1), 0x900000 | RW);         /* 2: moved */
	wr64(e, slot(e, base + 0x6000, 1), (0x800000 + 0x9000) | 1); /* 3: RW -> R */
	wr64(e, slot(e, base + 0x8000, 1), (0x800000 + 0xc000) | RW); /* 4: R -> RW */
	queue(e, (uint64_t)DID << 16 | 2u << 4 | VTD_QI_IOTLB, 0);
	queue_wait(e, 5);
	submit(e);
	/* One INVALIDATE for the run 1-3: the pages between them were never
	 * handed to vhost, and nothing kept lies inside it. */
	expect_inval(e, base + 0x2000, 0x5000);
	expect_none(e);
	assert_int_equal(status_word(e), 5);
	assert_int_equal(e->br.held.live, 3); /* 0, 4 (widened) and 5 */
	/* The context moves the device to another domain without a context
	 * flush (a guest bug): a global IOTLB flush still drops everything
	 * tagged with the old domain, since it no longer translates there. */
	uint64_t ctp = rd64(e, RTA + (RID >> 8) * 16) & ~0xfffull;
	wr64(e, ctp + (RID & 0xff) * 16 + 8, (uint64_t)(DID + 1) << 8 | 2);
	queue(e, 1u << 4 | VTD_QI_IOTLB, 0);
	submit(e);
	expect_inval(e, base, 0xb000);
	expect_none(e);
	assert_int_equal(e->br.held.live, 0);
	wr64(e, ctp + (RID & 0xff) * 16 + 8, (uint64_t)DID << 8 | 2);
	/* An UPDATE whose write failed (EBADF here) may still have reached
	 * vhost in part: the list is incomplete, the next flush is total. */
	int saved = e->br.fd, ro = open("/dev/null", O_RDONLY);
	assert_true(ro >= 0);
	e->br.fd = ro;
	assert_int_equal(miss(e, base, VTD_PERM_R), -EIO);
	e->br.fd = saved;
	close(ro);
	assert_true(e->br.held.overflow);
	queue(e, (uint64_t)DID << 16 | 2u << 4 | VTD_QI_IOTLB, 0);
	submit(e);
	expect_inval(e, 0, UINT64_MAX);
	expect_none(e);
	assert_false(e->br.held.overflow);
	assert_int_equal(e->br.held.n, 0);
}

/*
 * The re-walk sends one INVALIDATE per run of stale entries in IOVA order:
 * a kept entry, or one of another domain, ends a run (vhost drops whole
 * overlapping entries, so covering it would throw it away); a page vhost
 * was never given does not.
 */
static void test_resync_coalesces_runs(void **state)
{
	struct env *e = *state;
	const uint64_t base = 0x400000;
	e->br.prefetch = 0; /* one UPDATE per miss, so the held list is known */
	for (uint64_t i = 0; i < 10; i++)
		map(e, base + i * 0x1000, 0x800000 + i * 0x3000, 1, RW);
	te_on(e);
	/* Held in reverse IOVA order, as Linux's top-down allocator hands
	 * them out; our domain never asks for page 5. */
	for (uint64_t i = 10; i-- > 0;) {
		if (i == 5)
			continue;
		assert_int_equal(miss(e, base + i * 0x1000, VTD_PERM_R), 0);
		assert_int_equal(expect_msg(e, IOTLB_UPDATE).iova, base + i * 0x1000);
	}
	expect_none(e);
	/* Page 5 is held for another domain: it splits the run 4, 6, 7. */
	iotlb_held_add(&e->br.held, base + 0x5000, 0x1000, 0x900000, VTD_PERM_R, DID + 1);
	for (uint64_t i = 0; i < 10; i++)
		if (i != 3 && i != 8)
			wr64(e, slot(e, base + i * 0x1000, 1), 0);
	queue(e, (uint64_t)DID << 16 | 2u << 4 | VTD_QI_IOTLB, 0);
	queue_wait(e, 7);
	submit(e);
	expect_inval(e, base, 0x3000);          /* 0-2 */
	expect_inval(e, base + 0x4000, 0x1000); /* 4: 5 belongs to another domain */
	expect_inval(e, base + 0x6000, 0x2000); /* 6-7 */
	expect_inval(e, base + 0x9000, 0x1000); /* 9 */
	expect_none(e);
	assert_int_equal(status_word(e), 7);
	assert_int_equal(e->br.st.resync_stale, 7);
	assert_int_equal(e->br.st.resync_kept, 2);
	/* One resync, timed: the walk is part of it, the max is the one run. */
	assert_int_equal(e->br.st.resyncs, 1);
	assert_true(e->br.st.resync_ns_sum > 0);
	assert_true(e->br.st.resync_walk_ns_sum <= e->br.st.resync_ns_sum);
	assert_int_equal(e->br.st.resync_ns_max, e->br.st.resync_ns_sum);
	assert_int_equal(e->br.held.live, 3); /* 3, 8 and the other domain's */
	assert_true(iotlb_held_overlaps(&e->br.held, base + 0x3000, base + 0x3fff));
	assert_true(iotlb_held_overlaps(&e->br.held, base + 0x8000, base + 0x8fff));
	assert_false(iotlb_held_overlaps(&e->br.held, base + 0x6000, base + 0x7fff));
}

/* A failed UPDATE write may have reached vhost: the list is then incomplete. */
static void test_held_overflow_paths(void **state)
{
	(void)state;
	struct iotlb_held *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	for (unsigned i = 0; i < IOTLB_HELD_MAX; i++)
		iotlb_held_add(h, (uint64_t)i << 12, 0x1000, 0, VTD_PERM_R, 1);
	assert_false(h->overflow);
	assert_true(iotlb_held_overlaps(h, 5ull << 12, 5ull << 12));
	assert_false(iotlb_held_overlaps(h, (uint64_t)IOTLB_HELD_MAX << 12, UINT64_MAX));
	/* Dead slots are reused by compaction... */
	uint64_t lo = 0, hi = (10ull << 12) - 1;
	iotlb_held_drop(h, &lo, &hi);
	assert_int_equal(h->live, IOTLB_HELD_MAX - 10);
	assert_true(lo == 0 && hi == (10ull << 12) - 1);
	/* The range widens to the whole entries dropped (for late misses). */
	lo = (20ull << 12) + 0x10;
	hi = (20ull << 12) + 0x20;
	iotlb_held_drop(h, &lo, &hi);
	assert_true(lo == 20ull << 12 && hi == (21ull << 12) - 1);
	iotlb_held_add(h, 20ull << 12, 0x1000, 0, VTD_PERM_R, 1);
	assert_false(iotlb_held_overlaps(h, 0, (10ull << 12) - 1));
	iotlb_held_add(h, 1ull << 40, 0x1000, 0, VTD_PERM_R, 1);
	assert_false(h->overflow);
	assert_int_equal(h->n, IOTLB_HELD_MAX - 9);
	assert_true(iotlb_held_overlaps(h, 1ull << 40, 1ull << 40));
	/* ... but a table full of live entries overflows, and then every
	 * range may be held until a reset. */
	for (unsigned i = 0; i < 10; i++)
		iotlb_held_add(h, (2ull << 40) + ((uint64_t)i << 12), 0x1000, 0, VTD_PERM_R, 1);
	assert_true(h->overflow);
	assert_true(iotlb_held_overlaps(h, 3ull << 40, 3ull << 40));
	iotlb_held_reset(h);
	assert_false(iotlb_held_overlaps(h, 0, UINT64_MAX));
	free(h);
}

/* A fixed xorshift sequence: the same lists on every run. */
static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(uint64_t n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state % n;
}

/*
 * A drop through the sorted list (after iotlb_held_sort) must take exactly
 * what the scan of every slot takes, and widen the range the same way:
 * random lists with long entries among short ones, overlaps, dead slots,
 * and drops that start before, inside and past them. A failed binary
 * search bound (an entry starting before `first` that reaches into it)
 * shows up as a live entry here that the scan dropped.
 */
static void test_held_sorted_drop_matches_scan(void **state)
{
	(void)state;
	static struct iotlb_held a, b;
	for (unsigned round = 0; round < 200; round++) {
		iotlb_held_reset(&a);
		unsigned entries = 1 + (unsigned)rnd(600);
		for (unsigned i = 0; i < entries; i++) {
			uint64_t iova = rnd(4096) << 12;
			uint64_t len = (rnd(8) == 0 ? 1 + rnd(64) : 1) << 12;
			iotlb_held_add(&a, iova, len, iova, VTD_PERM_R, 1);
		}
		/* Some dead slots before the sort, as after earlier flushes. */
		for (unsigned i = 0; i < 5; i++) {
			uint64_t lo = rnd(4096) << 12, hi = lo + 0xfff;
			iotlb_held_drop(&a, &lo, &hi);
		}
		b = a;
		assert_int_equal(iotlb_held_sort(&b), b.live);
		for (unsigned k = 0; k < 40; k++) {
			uint64_t first = rnd(4200) << 12, last = first + (rnd(16) << 12) + rnd(4096);
			uint64_t alo = first, ahi = last, blo = first, bhi = last;
			iotlb_held_drop(&a, &alo, &ahi);
			iotlb_held_drop(&b, &blo, &bhi);
			assert_int_equal(alo, blo);
			assert_int_equal(ahi, bhi);
			assert_int_equal(a.live, b.live);
		}
		for (unsigned i = 0; i < a.n; i++)
			assert_int_equal(a.e[i].live, b.e[i].live);
		/* An add ends the sorted view: the new entry must be droppable. */
		iotlb_held_add(&b, 1ull << 40, 0x1000, 0, VTD_PERM_R, 1);
		assert_false(b.sorted_valid);
		uint64_t lo = 1ull << 40, hi = lo;
		iotlb_held_drop(&b, &lo, &hi);
		assert_false(iotlb_held_overlaps(&b, 1ull << 40, 1ull << 40));
	}
}

/*
 * CAP.CM: the guest flushes after it maps, and the bridge pushes the new
 * mapping then, so vhost never misses on it; the unmap's flush takes it
 * back. Other domains, non-present pages and big ranges push nothing.
 */
static void test_caching_mode_eager(void **state)
{
	struct env *e = *state;
	assert_true(vtd_regs_caching_mode(&e->v.regs));
	te_on(e);
	for (uint64_t i = 0; i < 3; i++)
		map(e, 0x700000 + i * 0x1000, 0x900000 + i * 0x1000, 1, RW);
	/* Linux rounds the notification up to 4 pages (AM 2). */
	queue(e, (uint64_t)DID << 16 | 3u << 4 | VTD_QI_IOTLB, 0x700000 | 2);
	queue_wait(e, 1);
	submit(e);
	struct iotlb_msg m = expect_msg(e, IOTLB_UPDATE);
	assert_int_equal(m.iova, 0x700000);
	assert_int_equal(m.size, 0x3000);
	assert_int_equal(m.uaddr, host_of(e, 0x900000));
	assert_int_equal(m.perm, VTD_PERM_RW);
	expect_none(e); /* vhost could not hold anything there: no INVALIDATE */
	assert_int_equal(status_word(e), 1);
	assert_int_equal(e->br.st.eager, 1);
	/* Another domain's notification for the same range: not ours. */
	queue(e, (uint64_t)(DID + 1) << 16 | 3u << 4 | VTD_QI_IOTLB, 0x700000 | 2);
	submit(e);
	expect_none(e);
	/* Unmap: INVALIDATE, and nothing pushed for the cleared pages. */
	for (uint64_t i = 0; i < 3; i++)
		wr64(e, slot(e, 0x700000 + i * 0x1000, 1), 0);
	queue(e, (uint64_t)DID << 16 | 3u << 4 | VTD_QI_IOTLB, 0x700000 | 2);
	queue_wait(e, 2);
	submit(e);
	expect_inval(e, 0x700000, 0x4000);
	expect_none(e);
	assert_int_equal(status_word(e), 2);
	/* A 4 MiB range (AM 10) is left to misses. */
	map(e, 0x800000, 0x900000, 1, RW);
	queue(e, (uint64_t)DID << 16 | 3u << 4 | VTD_QI_IOTLB, 0x800000 | 10);
	submit(e);
	expect_none(e);
	assert_int_equal(e->br.st.eager, 1);
	assert_int_equal(e->br.st.misses, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_domain_flush_rewalk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resync_coalesces_runs, setup, teardown),
		cmocka_unit_test(test_held_overflow_paths),
		cmocka_unit_test(test_held_sorted_drop_matches_scan),
		cmocka_unit_test_setup_teardown(test_caching_mode_eager, setup_caching_mode, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
