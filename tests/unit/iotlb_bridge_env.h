/*
 * iotlb_bridge_env.h - the fixture shared by test_iotlb_bridge.c and
 * test_iotlb_sync.c: two RAM regions, a root + context for one requester
 * id in domain DID with 4-level tables, the invalidation queue at QBASE,
 * a struct vtd with one bridge whose "vhost fd" is a socketpair, and
 * helpers to map pages, send misses, queue descriptors and read back
 * what the bridge wrote. Everything is static inline so that each test
 * file takes only what it uses.
 */
#ifndef TEST_IOTLB_BRIDGE_ENV_H
#define TEST_IOTLB_BRIDGE_ENV_H

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../iommu/iommu.h"
#include "vtd_test_util.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define A_SIZE (32 * MiB)
#define B_GPA (33 * MiB)
#define B_SIZE (4 * MiB)
#define RTA 0x100000ull
#define QBASE 0x10000ull
#define STATUS 0x20000ull
#define RID 0x0010 /* 00:02.0 */
#define DID 5
#define RW 3ull
#define PS (1ull << 7)

struct env {
	uint8_t *a, *b;
	struct guest_mem gm;
	uint64_t next;
	struct vtd v;
	struct iotlb_bridge br;
	int sv[2]; /* sv[0]: the bridge's fd; sv[1]: fake vhost */
	uint64_t top;
	uint64_t qtail;
	unsigned nmsi;
	uint64_t msi_addr;
};

static inline void on_msi(void *opaque, uint64_t addr, uint32_t data)
{
	struct env *e = opaque;
	(void)data;
	e->nmsi++;
	e->msi_addr = addr;
}

static inline void wr64(struct env *e, uint64_t gpa, uint64_t v) { vtd_test_wr64(&e->gm, gpa, v); }
static inline uint64_t rd64(struct env *e, uint64_t gpa) { return vtd_test_rd64(&e->gm, gpa); }
static inline uint64_t alloc_table(struct env *e) { return vtd_test_alloc_table(&e->next); }

static inline void reg_wr(struct env *e, uint64_t off, unsigned size, uint64_t val)
{
	assert_int_equal(vtd_mmio_write(&e->v, off, size, val), 0);
}

static inline uint64_t reg_rd(struct env *e, uint64_t off, unsigned size)
{
	uint64_t v;
	assert_int_equal(vtd_mmio_read(&e->v, off, size, &v), 0);
	return v;
}

static inline void expect_inval(struct env *e, uint64_t iova, uint64_t size);
static inline void expect_none(struct env *e);

static bool setup_cm; /* CAP.CM for the next setup */

/* Root + context (4-level, DID) for RID; QI on; translation off. */
static inline int setup_wire(void **state, enum iotlb_wire wire)
{
	struct env *e = calloc(1, sizeof(*e));
	assert_non_null(e);
	vtd_test_ram2(&e->gm, &e->a, A_SIZE, &e->b, B_GPA, B_SIZE);
	e->next = RTA + 0x1000;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, e->sv), 0);
	assert_int_equal(vtd_init(&e->v, &e->gm, setup_cm, on_msi, e), 0);
	assert_int_equal(iotlb_bridge_init(&e->br, e->sv[0], wire, RID, &e->gm, &e->v.regs, 0), 0);
	assert_int_equal(vtd_add_bridge(&e->v, &e->br), 0);

	uint64_t ctp = alloc_table(e);
	wr64(e, RTA + (RID >> 8) * 16, ctp | 1);
	e->top = alloc_table(e);
	wr64(e, ctp + (RID & 0xff) * 16, e->top | 1);
	wr64(e, ctp + (RID & 0xff) * 16 + 8, (uint64_t)DID << 8 | 2);

	reg_wr(e, VTD_REG_IQA, 8, QBASE); /* QS 0: 256 descriptors */
	reg_wr(e, VTD_REG_IQT, 8, 0);
	reg_wr(e, VTD_REG_GCMD, 4, 1u << 26);
	reg_wr(e, VTD_REG_RTADDR, 8, RTA);
	reg_wr(e, VTD_REG_GCMD, 4, 1u << 26 | 1u << 30);
	/* SRTP: the bridge starts "unknown", so the first flush is total. */
	*state = e;
	expect_inval(e, 0, UINT64_MAX);
	expect_none(e);
	return 0;
}

static inline int setup(void **state)
{
	return setup_wire(state, IOTLB_WIRE_V2);
}

static inline int setup_caching_mode(void **state)
{
	setup_cm = true;
	int ret = setup_wire(state, IOTLB_WIRE_V2);
	setup_cm = false;
	return ret;
}

static inline int setup_v1(void **state)
{
	return setup_wire(state, IOTLB_WIRE_V1_NATIVE);
}

static inline int teardown(void **state)
{
	struct env *e = *state;
	close(e->sv[0]);
	close(e->sv[1]);
	vtd_destroy(&e->v);
	free(e->a);
	free(e->b);
	free(e);
	return 0;
}

/* Next message from the bridge, or false if none is waiting. */
static inline bool next_msg(struct env *e, struct iotlb_msg *m)
{
	uint8_t buf[128];
	ssize_t n = recv(e->sv[1], buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0) {
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		return false;
	}
	assert_int_equal(n, iotlb_wire_size(e->br.wire));
	assert_int_equal(iotlb_decode(e->br.wire, buf, (size_t)n, m), 0);
	return true;
}

static inline void expect_none(struct env *e)
{
	struct iotlb_msg m;
	assert_false(next_msg(e, &m));
}

static inline struct iotlb_msg expect_msg(struct env *e, uint8_t type)
{
	struct iotlb_msg m;
	assert_true(next_msg(e, &m));
	assert_int_equal(m.type, type);
	return m;
}

static inline void expect_inval(struct env *e, uint64_t iova, uint64_t size)
{
	struct iotlb_msg m = expect_msg(e, IOTLB_INVALIDATE);
	assert_int_equal(m.iova, iova);
	assert_int_equal(m.size, size);
}

static inline uint64_t host_of(struct env *e, uint64_t gpa)
{
	return (uint64_t)(uintptr_t)guest_mem_ptr(&e->gm, gpa, 1);
}

/* PTE slot of iova at level (4-level tables), creating the tables above. */
static inline uint64_t slot(struct env *e, uint64_t iova, unsigned level)
{
	return vtd_test_slot(&e->gm, &e->next, e->top, 4, iova, level, RW);
}

static inline void map(struct env *e, uint64_t iova, uint64_t gpa, unsigned level, uint64_t perm)
{
	wr64(e, slot(e, iova, level), gpa | perm | (level > 1 ? PS : 0));
}

static inline void te_on(struct env *e)
{
	reg_wr(e, VTD_REG_GCMD, 4, 1u << 26 | 1u << 31);
	assert_true(vtd_regs_translation_enabled(&e->v.regs));
	/* Nothing was mapped since the setup's flush: TE on sends nothing. */
	expect_none(e);
}

/* A MISS read when vhost queued it in a queue that was empty before: what
 * the event loop sees when it keeps up (iommu.h 5e). */
static inline int miss(struct env *e, uint64_t iova, uint8_t perm)
{
	vtd_queue_empty(&e->v, &e->br, vtd_queue_mark(&e->v, &e->br));
	struct iotlb_msg m = { .type = IOTLB_MISS, .iova = iova, .perm = perm };
	return vtd_handle_miss(&e->v, &e->br, &m);
}

/* A MISS that waited in vhost's queue since before everything the test did
 * after the queue was last seen empty: possibly late. */
static inline int late_miss(struct env *e, uint64_t iova, uint8_t perm)
{
	struct iotlb_msg m = { .type = IOTLB_MISS, .iova = iova, .perm = perm };
	return vtd_handle_miss(&e->v, &e->br, &m);
}

/* Queue one descriptor at the current tail (no IQT write). */
static inline void queue(struct env *e, uint64_t q0, uint64_t q1)
{
	vtd_test_queue(&e->gm, QBASE, &e->qtail, q0, q1);
}

static inline void queue_wait(struct env *e, uint32_t data)
{
	queue(e, (uint64_t)data << 32 | 1u << 5 | VTD_QI_WAIT, STATUS);
}

static inline void submit(struct env *e)
{
	reg_wr(e, VTD_REG_IQT, 8, e->qtail);
	assert_int_equal(reg_rd(e, VTD_REG_IQH, 8), e->qtail);
}

static inline uint32_t status_word(struct env *e) { return vtd_test_rd32(&e->gm, STATUS); }

#endif
