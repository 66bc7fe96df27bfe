/*
 * test_iotlb_stale.c - late misses (iommu.h 5e): a MISS that waited in
 * vhost's queue while its IOVA was answered, used and unmapped gets no
 * answer and no fault record; a MISS the guest never mapped, or one read
 * after the queue was seen empty since the unmap, is a fault as before.
 * Same environment as test_iotlb_bridge.c (socketpair as vhost).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>

#include "iotlb_bridge_env.h"

#define X 0x200000ull /* a two-page buffer at GPA 8 MiB */
#define Y 0x300000ull /* never mapped */

static void queue_seen_empty(struct env *e)
{
	vtd_queue_empty(&e->v, &e->br, vtd_queue_mark(&e->v, &e->br));
}

static void map_x_and_answer(struct env *e)
{
	map(e, X, 0x800000, 1, RW);
	map(e, X + 0x1000, 0x801000, 1, RW);
	te_on(e);
	assert_int_equal(miss(e, X, VTD_PERM_R), 0);
	assert_int_equal(expect_msg(e, IOTLB_UPDATE).size, 0x2000);
}

/* Strict unmap of X: clear the PTEs, page flush (AM 1), wait. */
static void strict_unmap_x(struct env *e, uint32_t wait)
{
	wr64(e, slot(e, X, 1), 0);
	wr64(e, slot(e, X + 0x1000, 1), 0);
	queue(e, (uint64_t)DID << 16 | 3u << 4 | VTD_QI_IOTLB, X | 1);
	queue_wait(e, wait);
	submit(e);
	expect_inval(e, X, 0x2000);
	assert_int_equal(status_word(e), wait);
}

static void assert_no_fault_recorded(struct env *e)
{
	assert_int_equal(e->br.st.faults, 0);
	assert_int_equal(e->nmsi, 0);
	assert_false(reg_rd(e, VTD_REG_FSTS, 4) & 2); /* no PPF */
}

static void test_late_copy_after_strict_unmap(void **state)
{
	struct env *e = *state;
	reg_wr(e, VTD_REG_FEADDR, 4, 0xfee00000);
	map_x_and_answer(e);
	strict_unmap_x(e, 1);
	/* The second copy vhost queued before the first was answered. */
	assert_int_equal(late_miss(e, X + 0x1234, VTD_PERM_R), -ESTALE);
	expect_none(e);
	assert_no_fault_recorded(e);
	assert_int_equal(e->br.st.stale_misses, 1);
	assert_int_equal(e->br.st.misses, 2);
	/* Once the queue was seen empty, a MISS for X is new: a real fault. */
	assert_int_equal(miss(e, X, VTD_PERM_R), -EFAULT);
	expect_none(e);
	assert_int_equal(e->br.st.faults, 1);
	assert_int_equal(e->nmsi, 1);
	assert_int_equal(reg_rd(e, VTD_REG_FRCD, 8), X);
	assert_int_equal(e->br.st.stale_misses, 1);
}

static void test_partial_invalidate_forgets_whole_entry(void **state)
{
	struct env *e = *state;
	map_x_and_answer(e); /* one 8 KiB entry */
	assert_true(iotlb_pushed_test(&e->br, X + 0x1000));
	/* Unmap the first page only: vhost drops the whole entry. */
	wr64(e, slot(e, X, 1), 0);
	queue(e, (uint64_t)DID << 16 | 3u << 4 | VTD_QI_IOTLB, X);
	submit(e);
	expect_inval(e, X, 0x1000);
	/* So the second page is neither "pushed" (the ring scan may push it
	 * again) nor held, and a late MISS for it, lazily unmapped since, is
	 * in the window through the dropped entry. */
	assert_false(iotlb_pushed_test(&e->br, X + 0x1000));
	assert_false(iotlb_held_overlaps(&e->br.held, X + 0x1000, X + 0x1000));
	wr64(e, slot(e, X + 0x1000, 1), 0);
	assert_int_equal(late_miss(e, X + 0x1000, VTD_PERM_R), -ESTALE);
	assert_int_equal(miss(e, X + 0x1000, VTD_PERM_R), -EFAULT);
	expect_none(e);
}

static void test_late_miss_for_other_iova_is_a_fault(void **state)
{
	struct env *e = *state;
	map_x_and_answer(e);
	strict_unmap_x(e, 1);
	/* Invalidated in the window, but not this IOVA: the guest never mapped
	 * Y, so the device read memory it was not given. */
	assert_int_equal(late_miss(e, Y, VTD_PERM_R), -EFAULT);
	assert_int_equal(late_miss(e, X + 0x2000, VTD_PERM_W), -EFAULT); /* just past */
	expect_none(e);
	assert_int_equal(e->br.st.faults, 2);
	assert_int_equal(e->br.st.stale_misses, 0);
}

static void test_lazy_unmap_held_until_flush(void **state)
{
	struct env *e = *state;
	map_x_and_answer(e);
	/* Lazy unmap: PTEs cleared, the flush comes later. vhost still holds
	 * X, so a MISS for it cannot be the device's need: stale. */
	wr64(e, slot(e, X, 1), 0);
	wr64(e, slot(e, X + 0x1000, 1), 0);
	assert_int_equal(late_miss(e, X + 0x1000, VTD_PERM_R), -ESTALE);
	assert_int_equal(miss(e, X, VTD_PERM_R), -ESTALE);
	expect_none(e);
	assert_no_fault_recorded(e);
	/* The domain flush takes X from vhost (re-walk), and is in the window. */
	queue(e, (uint64_t)DID << 16 | 2u << 4 | VTD_QI_IOTLB, 0);
	queue_wait(e, 7);
	submit(e);
	expect_inval(e, X, 0x2000);
	assert_int_equal(late_miss(e, X, VTD_PERM_R), -ESTALE);
	assert_int_equal(e->br.st.stale_misses, 3);
	/* After the queue drained: a fault. */
	assert_int_equal(miss(e, X, VTD_PERM_R), -EFAULT);
	assert_int_equal(e->br.st.faults, 1);
}

static void test_log_overflow_is_all_stale(void **state)
{
	struct env *e = *state;
	te_on(e);
	/* More INVALIDATEs than the log holds, none near Y, in one window
	 * (vhost may hold anything: every page flush is forwarded). */
	e->br.unknown = true;
	for (unsigned i = 0; i < IOTLB_RETIRED_MAX + 1; i++) {
		queue(e, (uint64_t)DID << 16 | 3u << 4 | VTD_QI_IOTLB, 0x40000000ull + i * 0x1000ull);
		if ((i & 31) == 31 || i == IOTLB_RETIRED_MAX)
			submit(e); /* the queue holds 256: run it before it wraps */
	}
	for (unsigned i = 0; i < IOTLB_RETIRED_MAX + 1; i++)
		expect_inval(e, 0x40000000ull + i * 0x1000ull, 0x1000);
	assert_int_equal(late_miss(e, Y, VTD_PERM_R), -ESTALE);
	assert_int_equal(miss(e, Y, VTD_PERM_R), -EFAULT);
	/* Exactly full is still exact: Y outside every range is a fault. */
	uint64_t mark = vtd_queue_mark(&e->v, &e->br);
	for (unsigned i = 0; i < IOTLB_RETIRED_MAX; i++)
		iotlb_retired_log(&e->br.retired, 0x40000000ull + i * 0x1000ull,
				  0x40000000ull + i * 0x1000ull + 0xfff);
	vtd_queue_empty(&e->v, &e->br, mark);
	assert_int_equal(late_miss(e, Y, VTD_PERM_R), -EFAULT);
	assert_int_equal(late_miss(e, 0x40000000ull + 5 * 0x1000ull, VTD_PERM_R), -ESTALE);
}

static void test_devtlb_of_other_device_not_logged(void **state)
{
	struct env *e = *state;
	te_on(e);
	queue_seen_empty(e); /* TE on flushed everything: leave that behind */
	queue(e, (uint64_t)(RID + 1) << 32 | VTD_QI_DEVTLB, Y);
	submit(e);
	assert_int_equal(late_miss(e, Y, VTD_PERM_R), -EFAULT);
	/* Ours: forwarded, so logged (vhost may have held Y). */
	queue(e, (uint64_t)RID << 32 | VTD_QI_DEVTLB, Y);
	submit(e);
	expect_inval(e, Y, 0x1000);
	assert_int_equal(late_miss(e, Y, VTD_PERM_R), -ESTALE);
	/* A context-cache flush while vhost holds nothing sends nothing and
	 * hides nothing; once something was handed out, it is total. */
	miss(e, Y, VTD_PERM_R);
	queue(e, 1u << 4 | VTD_QI_CC, 0);
	submit(e);
	expect_none(e);
	assert_int_equal(late_miss(e, 0x7000000, VTD_PERM_R), -EFAULT);
	map(e, X, 0x800000, 1, RW);
	assert_int_equal(miss(e, X, VTD_PERM_R), 0);
	expect_msg(e, IOTLB_UPDATE);
	queue(e, 1u << 4 | VTD_QI_CC, 0);
	submit(e);
	expect_inval(e, 0, UINT64_MAX);
	assert_int_equal(late_miss(e, 0x7000000, VTD_PERM_R), -ESTALE);
	assert_int_equal(e->br.st.faults, 3);
}

static void test_marks_never_move_back(void **state)
{
	struct env *e = *state;
	map_x_and_answer(e);
	uint64_t before = vtd_queue_mark(&e->v, &e->br);
	strict_unmap_x(e, 1);
	uint64_t after = vtd_queue_mark(&e->v, &e->br);
	assert_true(after > before);
	/* A mark from the future (not this bridge's) is ignored. */
	vtd_queue_empty(&e->v, &e->br, after + 5);
	assert_int_equal(late_miss(e, X, VTD_PERM_R), -ESTALE);
	/* The read that found the queue empty began before the unmap: the
	 * unmap stays in the window. */
	vtd_queue_empty(&e->v, &e->br, before);
	assert_int_equal(late_miss(e, X, VTD_PERM_R), -ESTALE);
	vtd_queue_empty(&e->v, &e->br, after);
	vtd_queue_empty(&e->v, &e->br, before); /* older: no effect */
	assert_int_equal(late_miss(e, X, VTD_PERM_R), -EFAULT);
}

static void test_device_stop_makes_queued_misses_late(void **state)
{
	struct env *e = *state;
	te_on(e);
	queue_seen_empty(e);
	struct iotlb_vring r = { .desc = 0x10000000, .avail = 0x10001000, .used = 0x10002000,
				 .num = 256 };
	assert_int_equal(vtd_set_vrings(&e->v, &e->br, &r, 1), 0);
	queue_seen_empty(e);
	assert_int_equal(late_miss(e, Y, VTD_PERM_R), -EFAULT);
	/* The driver unbinds: the device stops, a buffer vhost asked for is
	 * unmapped without a flush yet (lazy); its MISS is read only now. */
	assert_int_equal(vtd_set_vrings(&e->v, &e->br, NULL, 0), 0);
	assert_int_equal(late_miss(e, Y, VTD_PERM_R), -ESTALE);
	assert_int_equal(miss(e, Y, VTD_PERM_R), -EFAULT);
	expect_none(e);
	assert_int_equal(e->br.st.faults, 2);
	assert_int_equal(e->br.st.stale_misses, 1);
}

/* Through the fd, as the event loop reads it. */
static void write_miss(struct env *e, uint64_t iova)
{
	uint8_t buf[IOTLB_WIRE_MAX];
	struct iotlb_msg m = { .type = IOTLB_MISS, .iova = iova, .perm = VTD_PERM_R };
	int n = iotlb_encode(e->br.wire, &m, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(write(e->sv[1], buf, (size_t)n), n);
}

static void test_service_fd_sees_the_queue_empty(void **state)
{
	struct env *e = *state;
	/* vmm opens vhost-net O_NONBLOCK: an empty queue reads EAGAIN. */
	assert_int_equal(fcntl(e->sv[0], F_SETFL, fcntl(e->sv[0], F_GETFL) | O_NONBLOCK), 0);
	map(e, X, 0x800000, 1, RW);
	map(e, X + 0x1000, 0x801000, 1, RW);
	te_on(e);
	assert_int_equal(vtd_service_fd(&e->v, &e->br), -EAGAIN);
	write_miss(e, X);
	write_miss(e, X); /* the retry's copy */
	assert_int_equal(vtd_service_fd(&e->v, &e->br), 0);
	assert_int_equal(expect_msg(e, IOTLB_UPDATE).size, 0x2000);
	strict_unmap_x(e, 3);
	assert_int_equal(vtd_service_fd(&e->v, &e->br), -ESTALE);
	assert_int_equal(vtd_service_fd(&e->v, &e->br), -EAGAIN); /* empty now */
	write_miss(e, X);
	assert_int_equal(vtd_service_fd(&e->v, &e->br), -EFAULT);
	expect_none(e);
	assert_int_equal(e->br.st.stale_misses, 1);
	assert_int_equal(e->br.st.faults, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_late_copy_after_strict_unmap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_invalidate_forgets_whole_entry, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_late_miss_for_other_iova_is_a_fault, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lazy_unmap_held_until_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_overflow_is_all_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_devtlb_of_other_device_not_logged, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_marks_never_move_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_stop_makes_queued_misses_late, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_service_fd_sees_the_queue_empty, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
