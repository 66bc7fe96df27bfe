/*
 * test_iotlb_ringscan.c - the ring scan (iotlb_ringscan.c): after a
 * translated miss, the bridge reads the device's split virtqueues through
 * VT-d and pushes the translations of the buffers the driver made
 * available and the device has not used yet. The fixture is
 * iotlb_bridge_env.h (one RID in domain DID, a socketpair as the vhost
 * fd); prefetch is off, so every UPDATE after the miss's own is the scan's.
 *
 * Guest RAM (region A): page tables from 1 MiB, the descriptor table at
 * 12 MiB, avail ring 13 MiB, used ring 14 MiB, an indirect table 15 MiB,
 * buffer pages from 16 MiB (every other page, so that two buffer pages
 * only merge into one extent where a test wants it), and at 20 MiB the
 * trigger page, target of the misses that are not on a buffer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "iotlb_bridge_env.h"

#define DESC_GPA (12 * MiB)
#define AVAIL_GPA (13 * MiB)
#define USED_GPA (14 * MiB)
#define IND_GPA (15 * MiB)
#define BUF_GPA (16 * MiB)
#define TRIG_GPA (20 * MiB)
#define DESC_IOVA 0x10000000ull
#define AVAIL_IOVA 0x10100000ull
#define USED_IOVA 0x10200000ull
#define IND_IOVA 0x10300000ull
#define BUF_IOVA 0x20000000ull
#define TRIG_IOVA 0x30000000ull
#define NEXT 1
#define INDIRECT 4

static uint64_t buf_iova(unsigned i) { return BUF_IOVA + i * 0x1000ull; }
static uint64_t buf_gpa(unsigned i) { return BUF_GPA + i * 0x2000ull; }

static uint16_t ring_num; /* of ring 0, for avail() */

/* Byte by byte: the rings are little-endian whatever the host is. */
static void wr_le(struct env *e, uint64_t gpa, uint64_t v, unsigned n)
{
	uint8_t b[8];
	for (unsigned i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	assert_int_equal(guest_mem_write(&e->gm, gpa, b, n), 0);
}

static void put_desc(struct env *e, uint64_t gpa, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	wr_le(e, gpa, addr, 8);
	wr_le(e, gpa + 8, len | (uint64_t)flags << 32 | (uint64_t)next << 48, 8);
}

/* Entry i of the descriptor table. */
static void desc(struct env *e, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		 uint16_t next)
{
	put_desc(e, DESC_GPA + 16ull * i, addr, len, flags, next);
}

static void avail(struct env *e, uint16_t idx, uint16_t head)
{
	wr_le(e, AVAIL_GPA + 4 + 2ull * (idx & (ring_num - 1)), head, 2);
}

static void indices(struct env *e, uint16_t avail_idx, uint16_t used_idx)
{
	wr_le(e, AVAIL_GPA + 2, avail_idx, 2);
	wr_le(e, USED_GPA + 2, used_idx, 2);
}

static void set_rings(struct env *e, uint64_t d, uint64_t a, uint64_t u, uint16_t num)
{
	struct iotlb_vring r = { .desc = d, .avail = a, .used = u, .num = num };
	assert_int_equal(vtd_set_vrings(&e->v, &e->br, &r, 1), 0);
	ring_num = num;
}

static void rings_on(struct env *e, uint16_t num, unsigned budget)
{
	set_rings(e, DESC_IOVA, AVAIL_IOVA, USED_IOVA, num);
	e->br.ringscan = budget;
}

static void map_buf(struct env *e, unsigned i, uint64_t perm)
{
	map(e, buf_iova(i), buf_gpa(i), 1, perm);
}

/* Avail index i holds head i, descriptor i is all of buffer page i. */
static void simple_entry(struct env *e, uint16_t i)
{
	map_buf(e, i, RW);
	desc(e, i, buf_iova(i), 0x1000, 0, 0);
	avail(e, i, i);
}

/* An 8-entry ring with buffer 0 pending. */
static void one_pending(struct env *e, unsigned budget)
{
	rings_on(e, 8, budget);
	simple_entry(e, 0);
	indices(e, 1, 0);
}

static int setup_rings(void **state)
{
	setup(state);
	struct env *e = *state;
	map(e, DESC_IOVA, DESC_GPA, 1, RW);
	map(e, AVAIL_IOVA, AVAIL_GPA, 1, RW);
	map(e, USED_IOVA, USED_GPA, 1, RW);
	map(e, TRIG_IOVA, TRIG_GPA, 1, RW);
	te_on(e);
	e->br.prefetch = 0;
	return 0;
}

static void expect_update(struct env *e, uint64_t iova, uint64_t size, uint64_t gpa, unsigned perm)
{
	struct iotlb_msg m = expect_msg(e, IOTLB_UPDATE);
	assert_int_equal(m.iova, iova);
	assert_int_equal(m.size, size);
	assert_int_equal(m.uaddr, host_of(e, gpa));
	assert_int_equal(m.perm, perm);
}

static void expect_buf(struct env *e, unsigned i, unsigned perm)
{
	expect_update(e, buf_iova(i), 0x1000, buf_gpa(i), perm);
}

/* Buffers first..last (RW), in that order, and nothing after them. */
static void expect_bufs(struct env *e, unsigned first, unsigned last)
{
	for (unsigned i = first; i <= last; i++)
		expect_buf(e, i, VTD_PERM_RW);
	expect_none(e);
}

/* A miss on the trigger page: its own UPDATE comes first, the scan's after. */
static void kick(struct env *e)
{
	assert_int_equal(miss(e, TRIG_IOVA, VTD_PERM_R), 0);
	expect_update(e, TRIG_IOVA, 0x1000, TRIG_GPA, VTD_PERM_RW);
}

/* The device never accessed what the scan looked at: no fault anywhere. */
static void expect_no_fault(struct env *e)
{
	assert_int_equal(e->br.st.faults, 0);
	assert_int_equal(reg_rd(e, VTD_REG_FSTS, 4), 0);
	assert_int_equal(reg_rd(e, VTD_REG_FRCD + 8, 8) >> 63, 0);
	assert_int_equal(e->nmsi, 0);
}

static void test_pending_buffers(void **state)
{
	struct env *e = *state;
	rings_on(e, 8, 128);
	/* Heads 0..5 at avail indices 4..9 (slots 4..7, then 0 and 1: the
	 * index wraps the ring); the device has used 4 and 5 (heads 0, 1). */
	for (uint16_t i = 0; i < 6; i++) {
		map_buf(e, i, i == 4 ? 1 : RW);
		desc(e, i, buf_iova(i) + 0x100, 0x800, 0, 0);
		avail(e, (uint16_t)(4 + i), i);
	}
	indices(e, 10, 6);
	assert_int_equal(miss(e, buf_iova(2) + 0x100, VTD_PERM_W), 0);
	expect_buf(e, 2, VTD_PERM_RW); /* the miss's own, first */
	expect_buf(e, 3, VTD_PERM_RW);
	expect_buf(e, 4, VTD_PERM_R);
	expect_bufs(e, 5, 5);
	assert_int_equal(e->br.st.ringscans, 1);
	assert_int_equal(e->br.st.ringscanned, 3);
	/* A miss on a pushed buffer is still answered; nothing else goes. */
	assert_int_equal(miss(e, buf_iova(3), VTD_PERM_R), 0);
	expect_bufs(e, 3, 3);
	/* The driver adds head 6, the device uses one: just head 6 goes. */
	map_buf(e, 6, RW);
	desc(e, 6, buf_iova(6), 0x1000, 0, 0);
	avail(e, 10, 6);
	indices(e, 11, 7);
	kick(e);
	expect_bufs(e, 6, 6);
	assert_int_equal(e->br.st.ringscans, 3);
	assert_int_equal(e->br.st.ringscanned, 4);
	/* The free-running 16-bit indices wrap: 0xfffe..0x0001 pending. */
	indices(e, 0xfff0, 0xfff0);
	kick(e); /* nothing pending; the scan index is now 0xfff0 */
	expect_none(e);
	for (uint16_t i = 0; i < 6; i++) {
		map_buf(e, 10 + i, RW);
		desc(e, i, buf_iova(10 + i), 0x1000, 0, 0);
		avail(e, (uint16_t)(0xfffc + i), i);
	}
	indices(e, 2, 0xfffe);
	kick(e);
	expect_bufs(e, 12, 15);
	expect_no_fault(e);
}

static void test_chains_and_indirect(void **state)
{
	struct env *e = *state;
	rings_on(e, 16, 128);
	for (unsigned i = 0; i < 8; i++)
		map_buf(e, i, RW);
	map(e, IND_IOVA, IND_GPA, 1, RW);
	/* Head 0: buffers 0, 1, 2 linked by NEXT out of table order; entry 1
	 * (buffer 7) is in no chain: reading the table in order would show. */
	desc(e, 0, buf_iova(0), 0x1000, NEXT, 5);
	desc(e, 5, buf_iova(1), 0x1000, NEXT, 2);
	desc(e, 2, buf_iova(2), 0x1000, 0, 0);
	desc(e, 1, buf_iova(7), 0x1000, 0, 0);
	/* Head 9: an indirect table of four, the last a nested indirect
	 * entry, invalid in virtio: skipped, so buffer 6 stays unpushed. */
	desc(e, 9, IND_IOVA, 4 * 16, INDIRECT, 0);
	put_desc(e, IND_GPA, buf_iova(3), 0x1000, NEXT, 1);
	put_desc(e, IND_GPA + 16, buf_iova(4), 0x1000, NEXT, 2);
	put_desc(e, IND_GPA + 32, buf_iova(5), 0x1000, 0, 0);
	put_desc(e, IND_GPA + 48, buf_iova(6), 0x1000, INDIRECT, 0);
	avail(e, 0, 0);
	avail(e, 1, 9);
	indices(e, 2, 0);
	kick(e);
	for (unsigned i = 0; i < 3; i++)
		expect_buf(e, i, VTD_PERM_RW);
	/* vhost reads the table through its IOTLB too: its page goes first. */
	expect_update(e, IND_IOVA, 0x1000, IND_GPA, VTD_PERM_RW);
	expect_bufs(e, 3, 5);
	assert_int_equal(e->br.st.ringscanned, 7);
	expect_no_fault(e);

	/* iotlb_ringscan_find, for the log of a faulting miss: which queued
	 * buffer (if any) covers an IOVA. */
	struct iotlb_ring_hit h;
	assert_int_equal(vtd_find_in_rings(&e->v, &e->br, buf_iova(2) + 0x10, &h), 1);
	assert_int_equal(h.queue, 0);
	assert_int_equal(h.avail_pos, 0);
	assert_int_equal(h.head, 0);
	assert_int_equal(h.desc, 2);
	assert_false(h.indirect);
	assert_int_equal(h.addr, buf_iova(2));
	assert_int_equal(h.used_idx, 0);
	assert_int_equal(h.avail_idx, 2);
	assert_int_equal(vtd_find_in_rings(&e->v, &e->br, buf_iova(4) + 0x800, &h), 1);
	assert_int_equal(h.avail_pos, 1);
	assert_int_equal(h.head, 9);
	assert_true(h.indirect);
	assert_int_equal(h.desc, 1);
	assert_int_equal(vtd_find_in_rings(&e->v, &e->br, IND_IOVA + 8, &h), 1);
	assert_false(h.indirect);
	assert_int_equal(h.desc, 9);
	/* In no chain (buffer 7), behind a nested indirect entry (6), or
	 * used already: not queued. */
	assert_int_equal(vtd_find_in_rings(&e->v, &e->br, buf_iova(7), &h), 0);
	assert_int_equal(vtd_find_in_rings(&e->v, &e->br, buf_iova(6), &h), 0);
	indices(e, 2, 1);
	assert_int_equal(vtd_find_in_rings(&e->v, &e->br, buf_iova(0), &h), 0);
	assert_int_equal(vtd_set_vrings(&e->v, &e->br, NULL, 0), 0);
	assert_int_equal(vtd_find_in_rings(&e->v, &e->br, buf_iova(4), &h), -ENOENT);
	expect_none(e);
}

static void test_buffer_extents(void **state)
{
	struct env *e = *state;
	rings_on(e, 8, 128);
	/* Head 0 covers pages 10..12 from mid-page: page 10 alone, 11 and 12
	 * contiguous in GPA, so one extent; page 13 continues it but lies
	 * past the buffer's end, and the extent stops at that end. */
	map_buf(e, 10, RW);
	map_buf(e, 11, RW);
	map(e, buf_iova(12), buf_gpa(11) + 0x1000, 1, RW);
	map(e, buf_iova(13), buf_gpa(11) + 0x2000, 1, RW);
	desc(e, 0, buf_iova(10) + 0x800, 0x2000, 0, 0);
	/* Head 1 covers 20..22: 21 unmapped (skipped, no fault), 22
	 * write-only (a receive buffer: pushed, the scan asks for no access). */
	map_buf(e, 20, RW);
	map_buf(e, 22, 2);
	desc(e, 1, buf_iova(20), 0x3000, 0, 0);
	/* Head 2 is unmapped altogether; head 3 behind it still goes. */
	desc(e, 2, buf_iova(30), 0x100, 0, 0);
	map_buf(e, 31, RW);
	desc(e, 3, buf_iova(31), 0x100, 0, 0);
	for (uint16_t i = 0; i < 4; i++)
		avail(e, i, i);
	indices(e, 4, 0);
	kick(e);
	expect_buf(e, 10, VTD_PERM_RW);
	expect_update(e, buf_iova(11), 0x2000, buf_gpa(11), VTD_PERM_RW);
	expect_buf(e, 20, VTD_PERM_RW);
	expect_buf(e, 22, VTD_PERM_W);
	expect_bufs(e, 31, 31);
	assert_int_equal(e->br.st.ringscanned, 5);
	expect_no_fault(e);
}

static void test_budget(void **state)
{
	struct env *e = *state;
	rings_on(e, 8, 2);
	for (uint16_t i = 0; i < 5; i++)
		simple_entry(e, i);
	indices(e, 5, 0);
	/* Two per miss, each scan going on where the last one stopped. */
	kick(e);
	expect_bufs(e, 0, 1);
	kick(e);
	expect_bufs(e, 2, 3);
	kick(e);
	expect_bufs(e, 4, 4);
	kick(e);
	expect_none(e);
	assert_int_equal(e->br.st.ringscans, 4);
	assert_int_equal(e->br.st.ringscanned, 5);
	/* Again with the pushed marks dropped after each scan (as a total
	 * INVALIDATE drops them): only the scan index keeps entry 0 back. */
	iotlb_pushed_forget(&e->br, 0, UINT64_MAX);
	rings_on(e, 8, 2);
	kick(e);
	expect_bufs(e, 0, 1);
	iotlb_pushed_forget(&e->br, 0, UINT64_MAX);
	kick(e);
	struct iotlb_msg a = expect_msg(e, IOTLB_UPDATE), b = expect_msg(e, IOTLB_UPDATE);
	expect_none(e);
	assert_true(a.iova != buf_iova(0) && b.iova != buf_iova(0));
	assert_true(a.iova == buf_iova(2) || b.iova == buf_iova(2));
	expect_no_fault(e);
}

/* The saved scan point is dropped once the device has passed it: here
 * 65534 buffers went by without a miss, and the old point (5) lies inside
 * the new pending window [3, 7) only by 16-bit aliasing. */
static void test_resume_not_after_wrap(void **state)
{
	struct env *e = *state;
	rings_on(e, 8, 16);
	indices(e, 5, 5);
	kick(e);
	expect_none(e);
	for (uint16_t i = 3; i < 7; i++)
		simple_entry(e, i);
	indices(e, 7, 3);
	kick(e);
	expect_bufs(e, 3, 6);
	expect_no_fault(e);
}

/* Rings 0 and 1 of 8 entries, sharing the descriptor table; ring 1's
 * avail and used rings sit in the pages after ring 0's (GPA + 8 KiB). */
static void two_rings(struct env *e)
{
	map(e, AVAIL_IOVA + 0x1000, AVAIL_GPA + 0x2000, 1, RW);
	map(e, USED_IOVA + 0x1000, USED_GPA + 0x2000, 1, RW);
	struct iotlb_vring r[2] = {
		{ .desc = DESC_IOVA, .avail = AVAIL_IOVA, .used = USED_IOVA, .num = 8 },
		{ .desc = DESC_IOVA, .avail = AVAIL_IOVA + 0x1000, .used = USED_IOVA + 0x1000,
		  .num = 8 },
	};
	assert_int_equal(vtd_set_vrings(&e->v, &e->br, r, 2), 0);
	ring_num = 8;
}

/* Two rings share one budget, in queue order; a scan is counted once. */
static void test_two_rings(void **state)
{
	struct env *e = *state;
	two_rings(e);
	e->br.ringscan = 1;
	simple_entry(e, 0);
	indices(e, 1, 0);
	simple_entry(e, 1); /* ring 1 shares the table: its slot 0 -> head 1 */
	wr_le(e, AVAIL_GPA + 0x2000 + 4, 1, 2);
	wr_le(e, AVAIL_GPA + 0x2000 + 2, 1, 2);
	kick(e);
	expect_bufs(e, 0, 0);
	kick(e);
	expect_bufs(e, 1, 1);
	assert_int_equal(e->br.st.ringscans, 2);
	assert_int_equal(e->br.st.ringscanned, 2);
}

/* The relay's first call: the next max entries of the kicked ring only;
 * the second call, all rings, resumes after them. */
static void test_kick_scan_first(void **state)
{
	struct env *e = *state;
	two_rings(e);
	e->br.ringscan = 128;
	simple_entry(e, 0); /* ring 0: heads 0 */
	indices(e, 1, 0);
	for (uint16_t i = 1; i <= 3; i++) { /* ring 1: heads 1, 2, 3 */
		simple_entry(e, i);
		wr_le(e, AVAIL_GPA + 0x2000 + 4 + 2ull * (i - 1), i, 2);
	}
	wr_le(e, AVAIL_GPA + 0x2000 + 2, 3, 2);
	vtd_kick_scan(&e->v, &e->br, 1, 1);
	expect_bufs(e, 1, 1);
	vtd_kick_scan(&e->v, &e->br, 1, 1);
	expect_bufs(e, 2, 2);
	assert_int_equal(e->br.st.kick_scans, 2);
	assert_int_equal(e->br.st.kick_scanned, 2);
	vtd_kick_scan(&e->v, &e->br, IOTLB_VRINGS, 0);
	expect_buf(e, 0, VTD_PERM_RW);
	expect_bufs(e, 3, 3);
	vtd_kick_scan(&e->v, &e->br, 1, 1);
	expect_none(e);
	assert_int_equal(e->br.st.kick_scanned, 4);
	expect_no_fault(e);
}

static void test_hostile_indices(void **state)
{
	struct env *e = *state;
	rings_on(e, 8, 128);
	for (uint16_t i = 0; i < 8; i++)
		simple_entry(e, i);
	/* More pending than the ring holds, either way round: nothing. */
	indices(e, 9, 0);
	kick(e);
	indices(e, 0, 1);
	kick(e);
	expect_none(e);
	/* Heads 9 and 0xffff are out of range; 4 loops on itself, 5 and 6
	 * on each other: each buffer once, and the entries after still go. */
	desc(e, 4, buf_iova(4), 0x1000, NEXT, 4);
	desc(e, 5, buf_iova(5), 0x1000, NEXT, 6);
	desc(e, 6, buf_iova(6), 0x1000, NEXT, 5);
	const uint16_t heads[] = { 9, 4, 0xffff, 5, 1 };
	for (uint16_t i = 0; i < 5; i++)
		avail(e, i, heads[i]);
	indices(e, 5, 0);
	kick(e);
	for (unsigned i = 4; i < 7; i++)
		expect_buf(e, i, VTD_PERM_RW);
	expect_bufs(e, 1, 1);
	/* In a 32768-entry ring the self loop would take 32768 hops: the work
	 * bound ends the scan before entry 1 (head 2). */
	rings_on(e, 32768, 128);
	avail(e, 0, 4);
	avail(e, 1, 2);
	indices(e, 2, 0);
	kick(e);
	expect_none(e);
	/* In an 8-entry ring the loop ends after 8 hops and head 2 goes. */
	rings_on(e, 8, 128);
	kick(e);
	expect_bufs(e, 2, 2);
	expect_no_fault(e);
}

static void test_hostile_buffers(void **state)
{
	struct env *e = *state;
	rings_on(e, 8, 128);
	map(e, 0, 21 * MiB, 1, RW); /* where an address that wrapped would land */
	for (unsigned i = 0; i < 110; i++)
		map_buf(e, i, RW);
	map(e, IND_IOVA, IND_GPA, 1, RW);
	/* Head 0: 4 GiB long: its first 32 pages only. */
	desc(e, 0, buf_iova(0), 0xffffffff, 0, 0);
	/* Heads 1..3 at the top of the 64-bit space, their ends wrapping. */
	desc(e, 1, 0xfffffffffffff800ull, 0x1000, 0, 0);
	desc(e, 2, 0xffffffffffff0000ull, 0xffffffff, 0, 0);
	desc(e, 3, UINT64_MAX - 7, 0x400, INDIRECT, 0);
	/* Head 4: an indirect table claiming 4 GiB, 70 entries in it: its
	 * mapped page, then 64 entries at most. */
	desc(e, 4, IND_IOVA, 0xffffffff, INDIRECT, 0);
	for (unsigned j = 0; j < 70; j++)
		put_desc(e, IND_GPA + 16ull * j, buf_iova(40 + j), 0x1000, 0, 0);
	for (uint16_t i = 0; i < 5; i++)
		avail(e, i, i);
	indices(e, 5, 0);
	kick(e);
	for (unsigned i = 0; i < 32; i++)
		expect_buf(e, i, VTD_PERM_RW);
	expect_update(e, IND_IOVA, 0x1000, IND_GPA, VTD_PERM_RW);
	expect_bufs(e, 40, 103);
	assert_int_equal(e->br.st.ringscanned, 97);
	expect_no_fault(e);
}

static void test_hostile_ring_addresses(void **state)
{
	struct env *e = *state;
	one_pending(e, 128);
	/* Good contents seen through a bad IOVA for one part at a time:
	 * unmapped, mapped to the hole after RAM A, write-only (no read
	 * permission), beyond the 48-bit width, wrapping past 2^64, and
	 * straddling into an unmapped page. */
	const uint64_t good[3] = { DESC_IOVA, AVAIL_IOVA, USED_IOVA };
	const uint64_t gpa[3] = { DESC_GPA, AVAIL_GPA, USED_GPA };
	map(e, 0x50000000, A_SIZE, 1, RW);
	for (unsigned part = 0; part < 3; part++) {
		map(e, 0x50001000 + part * 0x1000ull, gpa[part], 1, 2);
		const uint64_t bad[] = { 0x60000000, 0x50000000, 0x50001000 + part * 0x1000ull,
					 1ull << 50, UINT64_MAX - 1, good[part] + 0xffd };
		for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			uint64_t p[3] = { good[0], good[1], good[2] };
			p[part] = bad[i];
			set_rings(e, p[0], p[1], p[2], 8);
			kick(e);
			expect_none(e);
		}
	}
	assert_int_equal(e->br.st.ringscanned, 0);
	/* The contents were good: through the right IOVAs buffer 0 goes. */
	set_rings(e, DESC_IOVA, AVAIL_IOVA, USED_IOVA, 8);
	kick(e);
	expect_bufs(e, 0, 0);
	expect_no_fault(e);
}

/* ringscan_on_inval: a queue run (here a lone wait descriptor) ends with
 * a scan, without any miss; off, or with translation off, it does not. */
static void test_scan_on_inval(void **state)
{
	struct env *e = *state;
	rings_on(e, 8, 16);
	for (uint16_t i = 0; i < 3; i++)
		simple_entry(e, i);
	indices(e, 2, 0);
	queue_wait(e, 1);
	submit(e);
	expect_none(e);
	e->br.ringscan_on_inval = true;
	queue_wait(e, 2);
	submit(e);
	assert_int_equal(status_word(e), 2);
	expect_bufs(e, 0, 1);
	assert_int_equal(e->br.st.misses, 0);
	assert_int_equal(e->br.st.ringscans, 1);
	/* The next run pushes only what was queued since. */
	indices(e, 3, 1);
	queue_wait(e, 3);
	submit(e);
	expect_bufs(e, 2, 2);
	/* Translation off: nothing to push. */
	simple_entry(e, 3);
	indices(e, 4, 1);
	reg_wr(e, VTD_REG_GCMD, 4, 1u << 26);
	expect_inval(e, 0, UINT64_MAX); /* TE off empties vhost */
	queue_wait(e, 4);
	submit(e);
	expect_none(e);
	expect_no_fault(e);
}

/* vtd_kick_scan (the event loop's kick relay, vmm/net.h): pushes what was
 * queued without any miss, counts the scan and its UPDATEs apart, pushes
 * only what is new the next time, and nothing with translation off or a
 * zero budget. */
static void test_kick_scan(void **state)
{
	struct env *e = *state;
	rings_on(e, 8, 16);
	for (uint16_t i = 0; i < 4; i++)
		simple_entry(e, i);
	indices(e, 2, 0);
	vtd_kick_scan(&e->v, &e->br, IOTLB_VRINGS, 0);
	expect_bufs(e, 0, 1);
	assert_int_equal(e->br.st.misses, 0);
	assert_int_equal(e->br.st.kick_scans, 1);
	assert_int_equal(e->br.st.kick_scanned, 2);
	assert_int_equal(e->br.st.ringscans, 1);
	/* Buffer 0 used, buffer 2 queued: only buffer 2 goes. */
	indices(e, 3, 1);
	vtd_kick_scan(&e->v, &e->br, IOTLB_VRINGS, 0);
	expect_bufs(e, 2, 2);
	assert_int_equal(e->br.st.kick_scans, 2);
	assert_int_equal(e->br.st.kick_scanned, 3);
	/* A miss's scan counts as a ring scan, not as a kick's. */
	indices(e, 4, 1);
	kick(e);
	expect_bufs(e, 3, 3);
	assert_int_equal(e->br.st.ringscans, 3);
	assert_int_equal(e->br.st.kick_scans, 2);
	assert_int_equal(e->br.st.kick_scanned, 3);
	/* A zero budget: no scan at all. */
	simple_entry(e, 4);
	indices(e, 5, 1);
	e->br.ringscan = 0;
	vtd_kick_scan(&e->v, &e->br, IOTLB_VRINGS, 0);
	expect_none(e);
	assert_int_equal(e->br.st.kick_scans, 2);
	/* Translation off: nothing to push. */
	e->br.ringscan = 16;
	reg_wr(e, VTD_REG_GCMD, 4, 1u << 26);
	expect_inval(e, 0, UINT64_MAX); /* TE off empties vhost */
	vtd_kick_scan(&e->v, &e->br, IOTLB_VRINGS, 0);
	expect_none(e);
	assert_int_equal(e->br.st.kick_scans, 2);
	expect_no_fault(e);
}

static void test_set_vrings_and_off(void **state)
{
	struct env *e = *state;
	one_pending(e, 128);
	/* Ring 0 of the refused calls points nowhere: had any of them been
	 * applied, the scan below would not find buffer 0. */
	struct iotlb_vring r[3] = { { .desc = 0x60000000, .avail = 0x60000000, .num = 8 },
				    { .num = 8 }, { .num = 8 } };
	const uint16_t bad[] = { 0, 3, 6, 0x8001, 0xffff };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r[1].num = bad[i];
		assert_int_equal(vtd_set_vrings(&e->v, &e->br, r, 2), -EINVAL);
	}
	r[1].num = 8;
	assert_int_equal(vtd_set_vrings(&e->v, &e->br, r, 3), -EINVAL);
	assert_int_equal(vtd_set_vrings(&e->v, &e->br, NULL, 1), -EINVAL);
	assert_int_equal(vtd_set_vrings(NULL, &e->br, r, 1), -EINVAL);
	assert_int_equal(vtd_set_vrings(&e->v, NULL, r, 1), -EINVAL);
	kick(e);
	expect_bufs(e, 0, 0);
	/* Off: the device stopped, or a zero budget. Either way only the
	 * miss's own UPDATE goes, and no scan is counted. */
	assert_int_equal(vtd_set_vrings(&e->v, &e->br, NULL, 0), 0);
	iotlb_pushed_forget(&e->br, 0, UINT64_MAX);
	kick(e);
	expect_none(e);
	rings_on(e, 8, 0);
	kick(e);
	expect_none(e);
	assert_int_equal(e->br.st.ringscans, 1);
	rings_on(e, 8, 128);
	kick(e);
	expect_bufs(e, 0, 0);
	r[0].num = 32768; /* the largest size virtio allows */
	assert_int_equal(vtd_set_vrings(&e->v, &e->br, r, 1), 0);
}

/* The scan run directly (as translated_miss runs it), with the VT-d lock. */
static void scan_for(struct env *e, uint16_t did)
{
	struct vtd_walk_cfg cfg;
	pthread_mutex_lock(&e->v.lock);
	vtd_regs_walk_cfg(&e->v.regs, &cfg);
	iotlb_ringscan(&e->br, &cfg, vtd_regs_root(&e->v.regs), did);
	pthread_mutex_unlock(&e->v.lock);
}

static void test_other_domain_and_pass_through(void **state)
{
	struct env *e = *state;
	one_pending(e, 128);
	/* For another domain: every mapping the scan finds is DID's. */
	scan_for(e, DID + 1);
	expect_none(e);
	assert_int_equal(e->br.st.ringscans, 1);
	/* Pass-through (TT 2), rings and buffer given as GPAs (= IOVAs):
	 * the miss gets its identity UPDATE and no scan runs... */
	uint64_t ctp = rd64(e, RTA) & ~0xfffull;
	wr64(e, ctp + (RID & 0xff) * 16, e->top | 2u << 2 | 1);
	set_rings(e, DESC_GPA, AVAIL_GPA, USED_GPA, 8);
	desc(e, 0, buf_gpa(0), 0x1000, 0, 0);
	assert_int_equal(miss(e, TRIG_GPA, VTD_PERM_R), 0);
	expect_update(e, TRIG_GPA, A_SIZE - TRIG_GPA, TRIG_GPA, VTD_PERM_RW);
	expect_none(e);
	assert_int_equal(e->br.st.ringscans, 1);
	/* ... and one that runs anyway (same DID) pushes nothing. */
	scan_for(e, DID);
	expect_none(e);
	assert_int_equal(e->br.st.ringscans, 2);
	assert_int_equal(e->br.st.ringscanned, 0);
	expect_no_fault(e);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_rings, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_pending_buffers),
		T(test_chains_and_indirect),
		T(test_buffer_extents),
		T(test_budget),
		T(test_resume_not_after_wrap),
		T(test_two_rings),
		T(test_hostile_indices),
		T(test_hostile_buffers),
		T(test_hostile_ring_addresses),
		T(test_scan_on_inval),
		T(test_kick_scan),
		T(test_kick_scan_first),
		T(test_set_vrings_and_off),
		T(test_other_domain_and_pass_through),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
