/*
 * test_iotlb_bridge.c - the vhost IOTLB bridge behind a struct vtd, with a
 * socketpair(AF_UNIX, SOCK_SEQPACKET) standing in for the vhost fd: the
 * bridge writes on one end, the test reads (and writes MISSes) on the other.
 *
 * Guest RAM: A = [0, 32 MiB) and B = [33 MiB, 37 MiB). Tables are built
 * from 1 MiB up, the invalidation queue sits at 64 KiB, data from 8 MiB.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "iotlb_bridge_env.h"

/* ------------------------------------------------------------- misses */

static void test_identity_when_te_off(void **state)
{
	struct env *e = *state;
	assert_int_equal(miss(e, 0x123456, VTD_PERM_W), 0);
	struct iotlb_msg m = expect_msg(e, IOTLB_UPDATE);
	/* The 1 GiB window at 0 clipped to region A. */
	assert_int_equal(m.iova, 0);
	assert_int_equal(m.size, A_SIZE);
	assert_int_equal(m.uaddr, host_of(e, 0));
	assert_int_equal(m.perm, VTD_PERM_RW);
	/* Region B: starts at B, never runs into the hole or past its end. */
	assert_int_equal(miss(e, B_GPA + 0x3000, VTD_PERM_R), 0);
	m = expect_msg(e, IOTLB_UPDATE);
	assert_int_equal(m.iova, B_GPA);
	assert_int_equal(m.size, B_SIZE);
	assert_int_equal(m.uaddr, host_of(e, B_GPA));
	/* The hole between A and B and addresses past RAM: nothing. */
	assert_int_equal(miss(e, A_SIZE + 0x1000, VTD_PERM_R), -EFAULT);
	assert_int_equal(miss(e, UINT64_MAX, VTD_PERM_R), -EFAULT);
	expect_none(e);
	assert_int_equal(e->br.st.unmappable, 2);
	assert_int_equal(e->br.st.updates, 2);
	assert_int_equal(e->br.st.bytes_mapped, A_SIZE + B_SIZE);
}

/* w counted n writes, each in one bucket, the longest no longer than all. */
static void assert_write_time(const struct iotlb_write_time *w, uint64_t n)
{
	uint64_t h = 0;
	for (unsigned i = 0; i < IOTLB_HIST_BUCKETS; i++)
		h += w->hist[i];
	assert_int_equal(w->n, n);
	assert_int_equal(h, n);
	assert_true(w->ns_max <= w->ns_sum);
	if (n > 0)
		assert_true(w->ns_sum > 0);
}

static void test_translated_extent_merged(void **state)
{
	struct env *e = *state;
	for (unsigned i = 0; i < 4; i++)
		map(e, 0x100000 + i * 0x1000ull, 0x800000 + i * 0x1000ull, 1, RW);
	map(e, 0x104000, 0x900000, 1, RW); /* not contiguous: ends the extent */
	te_on(e);
	assert_int_equal(miss(e, 0x101345, VTD_PERM_R), 0);
	struct iotlb_msg m = expect_msg(e, IOTLB_UPDATE);
	/* From the missed page forward, while the GPAs stay contiguous. */
	assert_int_equal(m.iova, 0x101000);
	assert_int_equal(m.size, 0x3000);
	assert_int_equal(m.uaddr, host_of(e, 0x801000));
	assert_int_equal(m.perm, VTD_PERM_RW); /* the full permission, not just R */
	expect_none(e);
	assert_int_equal(e->br.st.misses, 1);
	assert_int_equal(e->br.st.updates, 1);
	assert_int_equal(e->br.st.bytes_mapped, 0x3000);
	uint64_t h = 0;
	for (unsigned i = 0; i < IOTLB_HIST_BUCKETS; i++)
		h += e->br.st.svc_hist[i];
	assert_int_equal(h, 1);
	assert_true(e->br.st.svc_ns_max <= e->br.st.svc_ns_sum);
	/* Its one write is timed as an UPDATE's; setup's INVALIDATE as one. */
	assert_write_time(&e->br.st.wr_update, 1);
	assert_write_time(&e->br.st.wr_inval, e->br.st.invalidates);
	assert_true(e->br.st.wr_update.ns_sum <= e->br.st.svc_ns_sum);
}

static void test_translated_superpage(void **state)
{
	struct env *e = *state;
	map(e, 0x40000000, 0x1000000, 2, 1); /* 2 MiB read-only at 16 MiB */
	te_on(e);
	assert_int_equal(miss(e, 0x40123000, VTD_PERM_R), 0);
	struct iotlb_msg m = expect_msg(e, IOTLB_UPDATE);
	assert_int_equal(m.iova, 0x40000000);
	assert_int_equal(m.size, 2 * MiB);
	assert_int_equal(m.uaddr, host_of(e, 0x1000000));
	assert_int_equal(m.perm, VTD_PERM_R);
}

static void test_fault_sends_nothing(void **state)
{
	struct env *e = *state;
	map(e, 0x200000, 0x800000, 1, 1); /* read-only */
	reg_wr(e, VTD_REG_FEADDR, 4, 0xfee00000);
	te_on(e);
	assert_int_equal(miss(e, 0x300000, VTD_PERM_R), -EFAULT); /* not mapped */
	expect_none(e);
	assert_int_equal(e->br.st.faults, 1);
	assert_int_equal(e->nmsi, 1);
	assert_int_equal(e->msi_addr, 0xfee00000);
	assert_true(reg_rd(e, VTD_REG_FSTS, 4) & 2); /* PPF */
	uint64_t hi = reg_rd(e, VTD_REG_FRCD + 8, 8);
	assert_true(hi >> 63);                      /* F */
	assert_int_equal((hi >> 32) & 0xff, VTD_FR_READ);
	assert_int_equal(hi & 0xffff, RID);
	assert_int_equal(reg_rd(e, VTD_REG_FRCD, 8), 0x300000);
	/* Write to a read-only page: a write fault (T = 0). */
	assert_int_equal(miss(e, 0x200000, VTD_PERM_W), -EFAULT);
	expect_none(e);
	hi = reg_rd(e, VTD_REG_FRCD + 16 + 8, 8);
	assert_int_equal((hi >> 32) & 0xff, VTD_FR_WRITE);
	assert_false((hi >> 62) & 1);
}

static void test_hostile_misses(void **state)
{
	struct env *e = *state;
	te_on(e);
	/* IOVA beyond the 48-bit width. */
	assert_int_equal(miss(e, 1ull << 50, VTD_PERM_R), -EFAULT);
	uint64_t hi = reg_rd(e, VTD_REG_FRCD + 8, 8);
	assert_int_equal((hi >> 32) & 0xff, VTD_FR_ADDR_WIDTH);
	/* perm 0 and non-MISS types are refused before any walk. */
	assert_int_equal(miss(e, 0x1000, VTD_PERM_NONE), -EINVAL);
	assert_int_equal(miss(e, 0x1000, 7), -EINVAL);
	struct iotlb_msg up = { .type = IOTLB_UPDATE, .iova = 0, .size = 1, .perm = 3 };
	assert_int_equal(vtd_handle_miss(&e->v, &e->br, &up), -EINVAL);
	assert_int_equal(e->br.st.bad_msgs, 3);
	/* Page tables outside RAM. */
	wr64(e, slot(e, 0x5000, 2), 0x80000000ull | RW); /* level-1 table at 2 GiB */
	assert_int_equal(miss(e, 0x5000, VTD_PERM_R), -EFAULT);
	hi = reg_rd(e, VTD_REG_FRCD + 16 + 8, 8);
	assert_int_equal((hi >> 32) & 0xff, VTD_FR_PTE_ACCESS);
	/* A leaf pointing at the MMIO hole: no fault, nothing mapped. */
	map(e, 0x40000000, A_SIZE, 1, RW);
	assert_int_equal(miss(e, 0x40000000, VTD_PERM_R), -EFAULT);
	assert_int_equal(e->br.st.unmappable, 1);
	/* Root table outside RAM. */
	reg_wr(e, VTD_REG_RTADDR, 8, 0x7ffff000ull);
	reg_wr(e, VTD_REG_GCMD, 4, 1u << 26 | 1u << 31 | 1u << 30);
	assert_int_equal(miss(e, 0x1000, VTD_PERM_R), -EFAULT);
	hi = reg_rd(e, VTD_REG_FRCD + 32 + 8, 8);
	assert_int_equal((hi >> 32) & 0xff, VTD_FR_ROOT_ACCESS);
	/* SRTP asked for a flush, but nothing was mapped since TE on. */
	expect_none(e);
	assert_int_equal(e->br.st.updates, 0);
}

static void test_fpd_suppresses_record(void **state)
{
	struct env *e = *state;
	uint64_t ctp = rd64(e, RTA) & ~0xfffull;
	wr64(e, ctp + (RID & 0xff) * 16, e->top | 1 | 2); /* FPD */
	te_on(e);
	assert_int_equal(miss(e, 0x300000, VTD_PERM_R), -EFAULT);
	assert_int_equal(e->br.st.faults, 1);
	assert_false(reg_rd(e, VTD_REG_FSTS, 4) & 2);
	assert_int_equal(e->nmsi, 0);
}

/* ------------------------------------------------------- invalidation */

struct order_ctx {
	struct env *e;
	unsigned calls;
};

/* Stands in for vtd.c's dispatcher and checks the order at each call. */
static void order_cb(void *opaque, const struct vtd_inval *inv)
{
	struct order_ctx *c = opaque;
	c->calls++;
	assert_int_equal(status_word(c->e), 0); /* the wait has not completed yet */
	assert_int_equal(iotlb_bridge_invalidate(&c->e->br, inv), 1);
	/* ... and the INVALIDATE is already on the wire when we return. */
	expect_inval(c->e, 0x200000, 0x2000);
}

static void test_invalidate_before_wait_status(void **state)
{
	struct env *e = *state;
	map(e, 0x200000, 0x800000, 1, RW);
	map(e, 0x201000, 0x801000, 1, RW);
	te_on(e);
	assert_int_equal(miss(e, 0x200000, VTD_PERM_R), 0);
	assert_int_equal(expect_msg(e, IOTLB_UPDATE).size, 0x2000);
	/* Unmap: clear the PTEs, then page-selective flush (AM 1) + wait. */
	wr64(e, slot(e, 0x200000, 1), 0);
	wr64(e, slot(e, 0x201000, 1), 0);
	queue(e, (uint64_t)DID << 16 | 3u << 4 | VTD_QI_IOTLB, 0x200000 | 1);
	queue_wait(e, 2);
	/* Drive the queue with a checking callback. */
	struct order_ctx c = { .e = e };
	pthread_mutex_lock(&e->v.lock);
	e->v.regs.iqt = e->qtail; /* as an IQT write would latch it */
	assert_int_equal(vtd_qi_process(&e->v.regs, &e->gm, order_cb, &c, NULL), 2);
	pthread_mutex_unlock(&e->v.lock);
	assert_int_equal(c.calls, 1);
	assert_int_equal(status_word(e), 2);
	/* The same through the real path: INVALIDATE and status both done. */
	map(e, 0x200000, 0x800000, 1, RW);
	map(e, 0x201000, 0x801000, 1, RW);
	assert_int_equal(miss(e, 0x200000, VTD_PERM_W), 0);
	assert_int_equal(expect_msg(e, IOTLB_UPDATE).size, 0x2000);
	wr64(e, slot(e, 0x200000, 1), 0);
	wr64(e, slot(e, 0x201000, 1), 0);
	queue(e, (uint64_t)DID << 16 | 3u << 4 | VTD_QI_IOTLB, 0x200000 | 1);
	queue_wait(e, 3);
	submit(e);
	expect_inval(e, 0x200000, 0x2000);
	assert_int_equal(status_word(e), 3);
	assert_write_time(&e->br.st.wr_inval, e->br.st.invalidates);
	assert_write_time(&e->br.st.wr_update, e->br.st.updates);
	/* A miss now faults and sends nothing. */
	assert_int_equal(miss(e, 0x200000, VTD_PERM_R), -EFAULT);
	expect_none(e);
}

/* The debugging shadow (VMM_IOTLB_CHECK): it mirrors vhost and flags an
 * entry whose pages no longer translate as vhost was told. */
static unsigned shadow_reports;
static void count_report(void *opaque, const char *msg)
{
	(void)opaque;
	assert_non_null(strstr(msg, "iova 0x300000+0x3000"));
	shadow_reports++;
}

static void test_shadow_flags_missed_invalidation(void **state)
{
	struct env *e = *state;
	struct iotlb_shadow *sh = calloc(1, sizeof(*sh));
	assert_non_null(sh);
	iotlb_shadow_init(sh, count_report, NULL);
	e->br.shadow = sh;
	shadow_reports = 0;
	for (unsigned i = 0; i < 3; i++)
		map(e, 0x300000 + i * 0x1000ull, 0x800000 + i * 0x1000ull, 1, RW);
	map(e, 0x400000, 0x900000, 1, RW);
	te_on(e);
	assert_int_equal(miss(e, 0x300000, VTD_PERM_W), 0);
	assert_int_equal(expect_msg(e, IOTLB_UPDATE).size, 0x3000);
	assert_int_equal(miss(e, 0x400000, VTD_PERM_W), 0);
	expect_msg(e, IOTLB_UPDATE);
	assert_int_equal(sh->n, 2);
	/* The guest remaps the middle page but "forgets" to invalidate it. */
	map(e, 0x301000, 0xa00000, 1, RW);
	queue_wait(e, 7);
	submit(e);
	assert_int_equal(sh->stale_found, 1);
	assert_int_equal(shadow_reports, 1);
	/* Now it invalidates that page only: vhost drops the whole entry that
	 * overlaps it, so does the shadow, and nothing is stale any more. */
	queue(e, (uint64_t)DID << 16 | 3u << 4 | VTD_QI_IOTLB, 0x301000);
	queue_wait(e, 8);
	submit(e);
	expect_inval(e, 0x301000, 0x1000);
	assert_int_equal(sh->n, 1);
	assert_int_equal(sh->e[0].iova, 0x400000);
	assert_int_equal(sh->stale_found, 1);
	assert_int_equal(sh->checks, 2);
	/* A total flush (a global context-cache one) empties it. */
	queue(e, 1u << 4 | VTD_QI_CC, 0);
	queue_wait(e, 9);
	submit(e);
	expect_inval(e, 0, UINT64_MAX);
	assert_int_equal(sh->n, 0);
	e->br.shadow = NULL;
	free(sh);
}

/* Prefetch: live neighbours are pushed (downwards first), never unmapped
 * pages, never twice until an invalidation covers them. */
static void test_prefetch_neighbours(void **state)
{
	struct env *e = *state;
	const uint64_t x = 0x508000;
	/* Scattered GPAs (no extent merging), a hole at x + 2 pages. */
	for (int i = -3; i <= 3; i++)
		if (i != 2)
			map(e, x + (uint64_t)(i * 0x1000), 0x800000 + (uint64_t)((3 - i) * 0x3000), 1,
			    i == 1 ? 1 : RW);
	te_on(e);
	e->br.prefetch = 5;
	assert_int_equal(miss(e, x + 0x10, VTD_PERM_W), 0);
	struct iotlb_msg m = expect_msg(e, IOTLB_UPDATE);
	assert_int_equal(m.iova, x);
	const uint64_t want[] = { x - 0x1000, x - 0x2000, x - 0x3000, x + 0x1000, x + 0x3000 };
	for (unsigned i = 0; i < 5; i++) {
		m = expect_msg(e, IOTLB_UPDATE);
		assert_int_equal(m.iova, want[i]);
		assert_int_equal(m.size, 0x1000);
		int k = (int)((int64_t)(want[i] - x) / 0x1000);
		assert_int_equal(m.uaddr, host_of(e, 0x800000 + (uint64_t)((3 - k) * 0x3000)));
		assert_int_equal(m.perm, k == 1 ? VTD_PERM_R : VTD_PERM_RW);
	}
	expect_none(e);
	assert_int_equal(e->br.st.prefetched, 5);
	assert_int_equal(e->br.st.misses, 1);
	/* A miss on a pushed page is answered; its neighbours were pushed
	 * already and are not sent again. */
	assert_int_equal(miss(e, x - 0x1000, VTD_PERM_R), 0);
	assert_int_equal(expect_msg(e, IOTLB_UPDATE).iova, x - 0x1000);
	expect_none(e);
	/* The guest unmaps x - 2 pages and invalidates it; it remaps it: the
	 * next miss nearby pushes it again, with the new translation. */
	wr64(e, slot(e, x - 0x2000, 1), 0x880000 | RW);
	queue(e, (uint64_t)DID << 16 | 3u << 4 | VTD_QI_IOTLB, x - 0x2000);
	queue_wait(e, 4);
	submit(e);
	expect_inval(e, x - 0x2000, 0x1000);
	assert_int_equal(miss(e, x, VTD_PERM_R), 0);
	assert_int_equal(expect_msg(e, IOTLB_UPDATE).iova, x);
	m = expect_msg(e, IOTLB_UPDATE);
	assert_int_equal(m.iova, x - 0x2000);
	assert_int_equal(m.uaddr, host_of(e, 0x880000));
	expect_none(e);
	assert_int_equal(e->br.st.prefetched, 6);
}

static void test_domain_selective(void **state)
{
	struct env *e = *state;
	map(e, 0x200000, 0x800000, 1, RW);
	te_on(e);
	/* Nothing mapped since TE on: a domain flush sends nothing. */
	queue(e, (uint64_t)DID << 16 | 2u << 4 | VTD_QI_IOTLB, 0);
	submit(e);
	expect_none(e);
	assert_int_equal(miss(e, 0x200000, VTD_PERM_R), 0);
	expect_msg(e, IOTLB_UPDATE);
	/* Another domain: not ours. */
	queue(e, (uint64_t)(DID + 1) << 16 | 2u << 4 | VTD_QI_IOTLB, 0);
	queue(e, (uint64_t)(DID + 1) << 16 | 3u << 4 | VTD_QI_IOTLB, 0x200000);
	submit(e);
	expect_none(e);
	/* Ours (as Linux's lazy flush queue does it), the mapping unchanged:
	 * the re-walk keeps vhost's entry, nothing is sent. */
	queue(e, (uint64_t)DID << 16 | 2u << 4 | VTD_QI_IOTLB, 0);
	queue(e, (uint64_t)DID << 16 | 2u << 4 | VTD_QI_IOTLB, 0);
	queue_wait(e, 9);
	submit(e);
	expect_none(e);
	assert_int_equal(status_word(e), 9);
	assert_int_equal(e->br.st.resyncs, 2);
	assert_int_equal(e->br.st.resync_kept, 2);
	/* Lazy unmap: the PTE is cleared, the flush comes later: exactly that
	 * entry goes, before the wait completes. */
	wr64(e, slot(e, 0x200000, 1), 0);
	queue(e, (uint64_t)DID << 16 | 2u << 4 | VTD_QI_IOTLB, 0);
	queue_wait(e, 10);
	submit(e);
	expect_inval(e, 0x200000, 0x1000);
	expect_none(e);
	assert_int_equal(status_word(e), 10);
	assert_int_equal(e->br.st.invalidates, 2); /* setup's SRTP + this one */
	assert_int_equal(e->br.held.live, 0);
}

static void test_devtlb_and_hostile_ranges(void **state)
{
	struct env *e = *state;
	te_on(e);
	map(e, 0x200000, 0x800000, 1, RW);
	assert_int_equal(miss(e, 0x200000, VTD_PERM_R), 0);
	expect_msg(e, IOTLB_UPDATE);
	/* Other SID: ignored. Ours, S=0: one page. S=1 with bit 12 set: 16 KiB. */
	queue(e, (uint64_t)(RID + 1) << 32 | VTD_QI_DEVTLB, 0x200000);
	queue(e, (uint64_t)RID << 32 | VTD_QI_DEVTLB, 0x200000);
	queue(e, (uint64_t)RID << 32 | VTD_QI_DEVTLB, 0x201000 | 1);
	/* Page flush with AM 18 at the top of the 64-bit space. Nothing of
	 * ours is mapped there; say vhost may hold anything, to see the range. */
	e->br.unknown = true;
	queue(e, (uint64_t)DID << 16 | 3u << 4 | VTD_QI_IOTLB, 0xffffffffffe00000ull | 9);
	submit(e);
	expect_inval(e, 0x200000, 0x1000);
	expect_inval(e, 0x200000, 0x4000);
	/* Last byte 2^64 - 1: the size still fits (first > 0). */
	expect_inval(e, 0xffffffffffe00000ull, 0x200000);
	expect_none(e);
	/* Huge AM (63, > MAMV) degrades to a domain flush: everything. */
	queue(e, (uint64_t)DID << 16 | 3u << 4 | VTD_QI_IOTLB, 0x1000 | 63);
	submit(e);
	expect_inval(e, 0, UINT64_MAX);
	/* Device-TLB whose S-bit range covers 2^64 (Linux's full flush). */
	assert_int_equal(miss(e, 0x200000, VTD_PERM_R), 0);
	expect_msg(e, IOTLB_UPDATE);
	queue(e, (uint64_t)RID << 32 | VTD_QI_DEVTLB, 0x7ffffffffffff000ull | 1);
	queue_wait(e, 4);
	submit(e);
	expect_inval(e, 0, UINT64_MAX);
	expect_none(e);
	assert_int_equal(status_word(e), 4);
}

static void test_context_and_register_invalidation(void **state)
{
	struct env *e = *state;
	map(e, 0x200000, 0x800000, 1, RW);
	te_on(e);
	assert_int_equal(miss(e, 0x200000, VTD_PERM_R), 0);
	expect_msg(e, IOTLB_UPDATE);
	/* Device-selective context-cache flush for another SID: still everything
	 * (documented: context changes are rare, the flush is conservative). */
	queue(e, (uint64_t)0x99 << 32 | (uint64_t)7 << 16 | 3u << 4 | VTD_QI_CC, 0);
	submit(e);
	expect_inval(e, 0, UINT64_MAX);
	/* Register-based IOTLB flush with QI off. */
	reg_wr(e, VTD_REG_GCMD, 4, 1u << 31);
	assert_int_equal(miss(e, 0x200000, VTD_PERM_R), 0);
	expect_msg(e, IOTLB_UPDATE);
	reg_wr(e, VTD_REG_IVA, 8, 0x200000);
	reg_wr(e, VTD_REG_IOTLB, 8, 1ull << 63 | 3ull << 60 | (uint64_t)DID << 32);
	expect_inval(e, 0x200000, 0x1000);
	reg_wr(e, VTD_REG_CCMD, 8, 1ull << 63 | 1ull << 61); /* global */
	expect_inval(e, 0, UINT64_MAX);
	expect_none(e);
	/* Reset flushes (when something is mapped) and turns TE off. */
	assert_int_equal(miss(e, 0x200000, VTD_PERM_R), 0);
	expect_msg(e, IOTLB_UPDATE);
	vtd_reset(&e->v);
	expect_inval(e, 0, UINT64_MAX);
	assert_false(vtd_regs_translation_enabled(&e->v.regs));
	assert_int_equal(e->v.inval_by_kind[VTD_INVAL_CC_DEVICE], 1);
	assert_int_equal(e->v.inval_by_kind[VTD_INVAL_IOTLB_PAGE], 1);
}

/*
 * How the guest flushes drives the auto kick relay (vmm/net.h): a run of
 * IOTLB_RELAY_PAGE_RUN page-selective invalidations (Linux strict) turns
 * it on, a domain or global IOTLB flush (Linux lazy) off; context-cache and
 * device-TLB invalidations say nothing about it. vtd_relay_wanted counts
 * the switches its answers ask for.
 */
static void page_flushes(struct env *e, unsigned n, uint16_t did)
{
	for (unsigned i = 0; i < n; i++)
		queue(e, (uint64_t)did << 16 | 3u << 4 | VTD_QI_IOTLB, 0x200000 + i * 0x1000ull);
	submit(e);
}

static void test_relay_follows_flush_style(void **state)
{
	struct env *e = *state;
	te_on(e);
	assert_false(vtd_relay_wanted(&e->v, &e->br, false));
	page_flushes(e, IOTLB_RELAY_PAGE_RUN - 1, DID);
	assert_false(vtd_relay_wanted(&e->v, &e->br, false));
	assert_int_equal(e->br.st.relay_switches, 0);
	page_flushes(e, 1, DID + 1); /* any domain's: the style is the guest's */
	assert_true(vtd_relay_wanted(&e->v, &e->br, false));
	assert_int_equal(e->br.st.relay_switches, 1);
	assert_true(vtd_relay_wanted(&e->v, &e->br, true)); /* already on: no switch */
	assert_int_equal(e->br.st.relay_switches, 1);
	queue(e, 3u << 4 | VTD_QI_CC, 0);                              /* context, global */
	queue(e, (uint64_t)(RID + 8) << 32 | VTD_QI_DEVTLB, 0x200000); /* device TLB page */
	submit(e);
	assert_true(iotlb_bridge_relay_wanted(&e->br));
	queue(e, (uint64_t)(DID + 1) << 16 | 2u << 4 | VTD_QI_IOTLB, 0); /* domain flush */
	submit(e);
	assert_false(vtd_relay_wanted(&e->v, &e->br, true));
	assert_int_equal(e->br.st.relay_switches, 2);
	page_flushes(e, IOTLB_RELAY_PAGE_RUN, DID);
	assert_true(iotlb_bridge_relay_wanted(&e->br));
	queue(e, 1u << 4 | VTD_QI_IOTLB, 0); /* global flush */
	submit(e);
	assert_false(iotlb_bridge_relay_wanted(&e->br));
	/* The register interface counts the same as the queue. */
	reg_wr(e, VTD_REG_GCMD, 4, 1u << 31); /* QI off */
	for (unsigned i = 0; i < IOTLB_RELAY_PAGE_RUN; i++) {
		reg_wr(e, VTD_REG_IVA, 8, 0x200000);
		reg_wr(e, VTD_REG_IOTLB, 8, 1ull << 63 | 3ull << 60 | (uint64_t)DID << 32);
	}
	assert_true(iotlb_bridge_relay_wanted(&e->br));
	reg_wr(e, VTD_REG_IOTLB, 8, 1ull << 63 | 2ull << 60 | (uint64_t)DID << 32);
	assert_false(iotlb_bridge_relay_wanted(&e->br));
	expect_none(e); /* nothing was mapped: none of it reached vhost */
}

/* ------------------------------------------------------ fd service, v1 */

static void test_service_fd_and_v1(void **state)
{
	struct env *e = *state;
	assert_int_equal(e->br.wire, IOTLB_WIRE_V1_NATIVE);
	uint8_t buf[IOTLB_WIRE_MAX];
	struct iotlb_msg m = { .type = IOTLB_MISS, .iova = 0x5000, .perm = VTD_PERM_R };
	int n = iotlb_encode(e->br.wire, &m, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(write(e->sv[1], buf, (size_t)n), n);
	assert_int_equal(vtd_service_fd(&e->v, &e->br), 0);
	struct iotlb_msg u = expect_msg(e, IOTLB_UPDATE); /* decoded as v1: right format */
	assert_int_equal(u.iova, 0);
	/* A truncated message and garbage are counted and dropped. */
	assert_int_equal(write(e->sv[1], buf, 10), 10);
	assert_int_equal(vtd_service_fd(&e->v, &e->br), 0);
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(write(e->sv[1], buf, (size_t)n), n);
	assert_int_equal(vtd_service_fd(&e->v, &e->br), 0);
	assert_int_equal(e->br.st.bad_msgs, 2);
	expect_none(e);
	/* End of file. */
	assert_int_equal(shutdown(e->sv[1], SHUT_WR), 0);
	assert_int_equal(vtd_service_fd(&e->v, &e->br), -EPIPE);
}

static void test_init_rejects(void **state)
{
	struct env *e = *state;
	struct iotlb_bridge b;
	assert_int_equal(iotlb_bridge_init(&b, 0, IOTLB_WIRE_V2, 0, &e->gm, &e->v.regs, 12288),
			 -EINVAL);
	assert_int_equal(iotlb_bridge_init(&b, 0, IOTLB_WIRE_V2, 0, &e->gm, &e->v.regs, 2048),
			 -EINVAL);
	assert_int_equal(iotlb_bridge_init(&b, 0, (enum iotlb_wire)9, 0, &e->gm, &e->v.regs, 0),
			 -EINVAL);
	assert_int_equal(iotlb_bridge_init(&b, 0, IOTLB_WIRE_V2, 0, NULL, &e->v.regs, 0), -EINVAL);
	/* A bridge of another unit, and a full table. */
	struct vtd other;
	assert_int_equal(vtd_init(&other, &e->gm, false, NULL, NULL), 0);
	assert_int_equal(vtd_add_bridge(&other, &e->br), -EINVAL);
	for (unsigned i = 1; i < VTD_MAX_BRIDGES; i++)
		assert_int_equal(vtd_add_bridge(&e->v, &e->br), 0);
	assert_int_equal(vtd_add_bridge(&e->v, &e->br), -ENOSPC);
	vtd_destroy(&other);
}

static void test_small_max_len(void **state)
{
	struct env *e = *state;
	assert_int_equal(iotlb_bridge_init(&e->br, e->sv[0], IOTLB_WIRE_V2, RID, &e->gm,
					   &e->v.regs, 0x4000), 0);
	for (unsigned i = 0; i < 8; i++)
		map(e, 0x100000 + i * 0x1000ull, 0x800000 + i * 0x1000ull, 1, RW);
	reg_wr(e, VTD_REG_GCMD, 4, 1u << 26 | 1u << 31);
	expect_inval(e, 0, UINT64_MAX); /* a fresh bridge starts "unknown" */
	assert_int_equal(miss(e, 0x105000, VTD_PERM_R), 0);
	struct iotlb_msg m = expect_msg(e, IOTLB_UPDATE);
	assert_true(m.iova <= 0x105000 && 0x105000 - m.iova < m.size);
	assert_true(m.size <= 0x4000);
	assert_int_equal(m.uaddr, host_of(e, 0x800000 + (m.iova - 0x100000)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identity_when_te_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_translated_extent_merged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_translated_superpage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_sends_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_misses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fpd_suppresses_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalidate_before_wait_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shadow_flags_missed_invalidation, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_prefetch_neighbours, setup, teardown),
		cmocka_unit_test_setup_teardown(test_domain_selective, setup, teardown),
		cmocka_unit_test_setup_teardown(test_devtlb_and_hostile_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_context_and_register_invalidation, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_relay_follows_flush_style, setup, teardown),
		cmocka_unit_test_setup_teardown(test_service_fd_and_v1, setup_v1, teardown),
		cmocka_unit_test_setup_teardown(test_init_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_small_max_len, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
