/*
 * test_vtd_qi.c - the invalidation queue: descriptor decoding, wait
 * descriptors (status write and completion interrupt, strictly after the
 * earlier invalidations), queue errors (IQE) and their recovery, hostile
 * ranges and queue registers, and the register-based invalidation mapping.
 *
 * The register file is driven directly; its event callback runs
 * vtd_qi_process on IQ_TAIL and records invalidations and interrupts.
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

#define MEM (4ull << 20)
#define QBASE 0x10000ull
#define STATUS 0x20000ull
#define MAXREC 64

struct fx {
	uint8_t *mem;
	struct guest_mem gm;
	struct vtd_regs regs;
	struct vtd_qi_stats st;
	struct vtd_inval inv[MAXREC];
	uint32_t status_at_call[MAXREC]; /* status word when each inval ran */
	unsigned ninv;
	unsigned nfault_msi, ninv_msi;
	int last_ret;
	uint64_t qtail;
	unsigned fail_at; /* 1-based index of the inval whose completion fails; 0: none */
};

static uint32_t status_word(struct fx *f, uint64_t gpa) { return vtd_test_rd32(&f->gm, gpa); }

static void on_inval(void *opaque, const struct vtd_inval *inv)
{
	struct fx *f = opaque;
	assert_true(f->ninv < MAXREC);
	f->status_at_call[f->ninv] = status_word(f, STATUS);
	f->inv[f->ninv++] = *inv;
	if (f->ninv == f->fail_at)
		vtd_regs_set_ite(&f->regs); /* as vtd.c does when vhost refuses the INVALIDATE */
}

static void on_event(void *opaque, const struct vtd_event *ev)
{
	struct fx *f = opaque;
	struct vtd_inval inv;
	switch (ev->type) {
	case VTD_EV_IQ_TAIL:
		f->last_ret = vtd_qi_process(&f->regs, &f->gm, on_inval, f, &f->st);
		break;
	case VTD_EV_FAULT_MSI:
		f->nfault_msi++;
		break;
	case VTD_EV_INV_MSI:
		f->ninv_msi++;
		break;
	default:
		if (vtd_inval_from_event(ev, &inv))
			on_inval(f, &inv);
		break;
	}
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->mem = calloc(1, MEM);
	assert_non_null(f->mem);
	assert_int_equal(guest_mem_add(&f->gm, 0, MEM, f->mem), 0);
	assert_int_equal(vtd_regs_init(&f->regs, false, on_event, f), 0);
	assert_int_equal(vtd_regs_write(&f->regs, VTD_REG_IQA, 8, QBASE), 0); /* QS 0 */
	assert_int_equal(vtd_regs_write(&f->regs, VTD_REG_GCMD, 4, 1u << 26), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	free(f->mem);
	free(f);
	return 0;
}

static void wr64(struct fx *f, uint64_t gpa, uint64_t v) { vtd_test_wr64(&f->gm, gpa, v); }

static uint64_t reg(struct fx *f, uint64_t off, unsigned size)
{
	uint64_t v;
	assert_int_equal(vtd_regs_read(&f->regs, off, size, &v), 0);
	return v;
}

static void queue(struct fx *f, uint64_t q0, uint64_t q1)
{
	vtd_test_queue(&f->gm, QBASE, &f->qtail, q0, q1);
}

static uint64_t wait_desc(uint32_t data, bool sw, bool irq)
{
	return (uint64_t)data << 32 | (sw ? 1u << 5 : 0) | (irq ? 1u << 4 : 0) | VTD_QI_WAIT;
}

static void submit(struct fx *f)
{
	assert_int_equal(vtd_regs_write(&f->regs, VTD_REG_IQT, 8, f->qtail), 0);
}

static void test_decode_all_types(void **state)
{
	struct fx *f = *state;
	queue(f, 1u << 4 | VTD_QI_CC, 0);                                     /* CC global */
	queue(f, (uint64_t)7 << 16 | 2u << 4 | VTD_QI_CC, 0);                 /* CC domain 7 */
	queue(f, 2ull << 48 | 0x0318ull << 32 | 7ull << 16 | 3u << 4 | VTD_QI_CC, 0);
	queue(f, 3u << 6 | 1u << 4 | VTD_QI_IOTLB, 0);                         /* global, DR DW */
	queue(f, (uint64_t)0x1234 << 16 | 2u << 4 | VTD_QI_IOTLB, 0);
	queue(f, (uint64_t)0x1234 << 16 | 3u << 4 | VTD_QI_IOTLB, 0xabcd5000ull | 1u << 6 | 2);
	queue(f, 0x0318ull << 32 | 0x1full << 16 | 0xfull << 12 | 0xfffull << 52 | VTD_QI_DEVTLB,
	      0x7000);                                                         /* one page, PFSID, MIP */
	queue(f, 0x0318ull << 32 | VTD_QI_DEVTLB, 0x10000 | 0x7000 | 1);       /* S: 64 KiB */
	queue(f, 0x1fu << 27 | 5ull << 32 | 1u << 4 | VTD_QI_IEC, 0);           /* ignored */
	queue(f, wait_desc(2, true, false) | 1u << 6, STATUS);                 /* FN too */
	submit(f);
	assert_int_equal(f->last_ret, 10);
	assert_int_equal(reg(f, VTD_REG_IQH, 8), f->qtail);
	assert_int_equal(f->ninv, 8);
	assert_int_equal(f->inv[0].kind, VTD_INVAL_CC_GLOBAL);
	assert_true(f->inv[0].all);
	assert_int_equal(f->inv[1].kind, VTD_INVAL_CC_DOMAIN);
	assert_int_equal(f->inv[1].did, 7);
	assert_int_equal(f->inv[2].kind, VTD_INVAL_CC_DEVICE);
	assert_int_equal(f->inv[2].sid, 0x0318);
	assert_int_equal(f->inv[2].fm, 2);
	assert_int_equal(f->inv[3].kind, VTD_INVAL_IOTLB_GLOBAL);
	assert_int_equal(f->inv[4].kind, VTD_INVAL_IOTLB_DOMAIN);
	assert_int_equal(f->inv[4].did, 0x1234);
	assert_true(f->inv[4].all);
	assert_int_equal(f->inv[5].kind, VTD_INVAL_IOTLB_PAGE);
	assert_false(f->inv[5].all);
	assert_true(f->inv[5].ih);
	assert_int_equal(f->inv[5].first, 0xabcd4000ull); /* AM 2: bits 13:12 ignored */
	assert_int_equal(f->inv[5].last, 0xabcd7fffull);
	assert_int_equal(f->inv[6].kind, VTD_INVAL_DEVTLB);
	assert_int_equal(f->inv[6].sid, 0x0318);
	assert_int_equal(f->inv[6].first, 0x7000);
	assert_int_equal(f->inv[6].last, 0x7fff);
	assert_int_equal(f->inv[7].first, 0x10000); /* three 1s from bit 12: 2^(13+3) */
	assert_int_equal(f->inv[7].last, 0x1ffff);
	assert_int_equal(status_word(f, STATUS), 2);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(f->status_at_call[i], 0); /* status only after all of them */
	assert_int_equal(f->st.descs, 10);
	assert_int_equal(f->st.by_type[VTD_QI_CC], 3);
	assert_int_equal(f->st.by_type[VTD_QI_IEC], 1);
	assert_int_equal(f->st.waits_status, 1);
	assert_int_equal(f->st.errors, 0);
}

static void test_wait_order_and_interrupt(void **state)
{
	struct fx *f = *state;
	assert_int_equal(vtd_regs_write(&f->regs, VTD_REG_IEADDR, 4, 0xfee00000), 0);
	queue(f, wait_desc(1, true, false), STATUS);
	queue(f, 1u << 4 | VTD_QI_IOTLB, 0);
	queue(f, wait_desc(5, true, true), STATUS);
	queue(f, wait_desc(0, false, true), 0); /* IF only: IWC already set, no 2nd MSI */
	submit(f);
	assert_int_equal(f->ninv, 1);
	assert_int_equal(f->status_at_call[0], 1); /* the first wait had completed */
	assert_int_equal(status_word(f, STATUS), 5);
	assert_int_equal(reg(f, VTD_REG_ICS, 4), 1);
	assert_int_equal(f->ninv_msi, 1);
	/* Clear IWC; with IECTL.IM the next completion only sets IP. */
	assert_int_equal(vtd_regs_write(&f->regs, VTD_REG_ICS, 4, 1), 0);
	assert_int_equal(vtd_regs_write(&f->regs, VTD_REG_IECTL, 4, 1u << 31), 0);
	queue(f, wait_desc(0, false, true), 0);
	submit(f);
	assert_int_equal(f->ninv_msi, 1);
	assert_int_equal(reg(f, VTD_REG_IECTL, 4), 3u << 30);
	assert_int_equal(vtd_regs_write(&f->regs, VTD_REG_IECTL, 4, 0), 0); /* unmask: delivered */
	assert_int_equal(f->ninv_msi, 2);
}

static void test_invalid_descriptor_stops_queue(void **state)
{
	struct fx *f = *state;
	queue(f, 1u << 4 | VTD_QI_IOTLB, 0);
	uint64_t bad = f->qtail;
	queue(f, 6, 0);                        /* PASID type: not in legacy mode */
	queue(f, wait_desc(7, true, false), STATUS);
	submit(f);
	assert_int_equal(f->last_ret, -EIO);
	assert_int_equal(f->ninv, 1);          /* the one before ran */
	assert_int_equal(reg(f, VTD_REG_IQH, 8), bad);
	assert_true(reg(f, VTD_REG_FSTS, 4) & (1u << 4));
	assert_int_equal(f->nfault_msi, 1);
	assert_int_equal(status_word(f, STATUS), 0);
	/* Stopped: more tail writes do nothing while IQE is set. */
	submit(f);
	assert_int_equal(f->ninv, 1);
	assert_int_equal(reg(f, VTD_REG_IQH, 8), bad);
	/* Linux's recovery: overwrite the bad one with a wait, clear IQE. */
	wr64(f, QBASE + bad, wait_desc(3, true, false));
	wr64(f, QBASE + bad + 8, STATUS + 4);
	assert_int_equal(vtd_regs_write(&f->regs, VTD_REG_FSTS, 4, 1u << 4), 0);
	assert_false(reg(f, VTD_REG_FSTS, 4) & (1u << 4));
	assert_int_equal(reg(f, VTD_REG_IQH, 8), f->qtail);
	assert_int_equal(status_word(f, STATUS + 4), 3);
	assert_int_equal(status_word(f, STATUS), 7);
}

static void expect_iqe(struct fx *f, uint64_t q0, uint64_t q1)
{
	uint64_t head = reg(f, VTD_REG_IQH, 8);
	queue(f, q0, q1);
	submit(f);
	assert_int_equal(f->last_ret, -EIO);
	assert_int_equal(reg(f, VTD_REG_IQH, 8), head);
	assert_true(reg(f, VTD_REG_FSTS, 4) & (1u << 4));
	/* Skip it (as the guest would after fixing it) and clear IQE. */
	wr64(f, QBASE + head, wait_desc(0, false, false));
	wr64(f, QBASE + head + 8, 0);
	assert_int_equal(vtd_regs_write(&f->regs, VTD_REG_FSTS, 4, 1u << 4), 0);
	assert_int_equal(reg(f, VTD_REG_IQH, 8), f->qtail);
}

static void test_reserved_bits(void **state)
{
	struct fx *f = *state;
	expect_iqe(f, 0, 0);                                  /* type 0 */
	expect_iqe(f, 1u << 9 | VTD_QI_IOTLB | 1u << 4, 0);    /* type bits 11:9 */
	expect_iqe(f, VTD_QI_CC, 0);                          /* CC granularity 0 */
	expect_iqe(f, 1u << 4 | 1u << 6 | VTD_QI_CC, 0);
	expect_iqe(f, 1u << 4 | 1ull << 50 | VTD_QI_CC, 0);
	expect_iqe(f, 1u << 4 | VTD_QI_CC, 1);
	expect_iqe(f, VTD_QI_IOTLB, 0);                       /* IOTLB granularity 0 */
	expect_iqe(f, 1u << 4 | 1u << 8 | VTD_QI_IOTLB, 0);
	expect_iqe(f, 1u << 4 | 1ull << 32 | VTD_QI_IOTLB, 0);
	expect_iqe(f, 3u << 4 | VTD_QI_IOTLB, 1u << 7);
	expect_iqe(f, 1u << 4 | VTD_QI_DEVTLB, 0);
	expect_iqe(f, 1ull << 21 | VTD_QI_DEVTLB, 0);
	expect_iqe(f, 1ull << 48 | VTD_QI_DEVTLB, 0);
	expect_iqe(f, VTD_QI_DEVTLB, 2);
	expect_iqe(f, 1u << 5 | VTD_QI_IEC, 0);
	expect_iqe(f, VTD_QI_IEC, 1);
	expect_iqe(f, wait_desc(1, true, false) | 1u << 7, STATUS); /* PD without PDS */
	expect_iqe(f, wait_desc(1, true, false), STATUS | 1);
	expect_iqe(f, wait_desc(1, true, false), MEM);       /* status outside RAM */
	expect_iqe(f, wait_desc(1, true, false), UINT64_MAX & ~3ull);
	expect_iqe(f, 15, 0);
	assert_int_equal(f->ninv, 0);
	assert_int_equal(f->st.errors, 21);
}

static void test_hostile_ranges(void **state)
{
	struct fx *f = *state;
	/* AM 63 (above MAMV): a domain flush. AM 18 at the top: ends at 2^64-1. */
	queue(f, 3u << 4 | VTD_QI_IOTLB, 0xfffffffffffff000ull | 63);
	queue(f, 3u << 4 | VTD_QI_IOTLB, 0xfffffffffffff000ull | 18);
	/* Device-TLB: S with all address bits set, and Linux's full flush. */
	queue(f, VTD_QI_DEVTLB, 0xfffffffffffff000ull | 1);
	queue(f, VTD_QI_DEVTLB, 0x7ffffffffffff000ull | 1);
	queue(f, VTD_QI_DEVTLB, 0x3ffffffffffff000ull | 1); /* 2^63 */
	queue(f, VTD_QI_DEVTLB, 0xfffffffffffff000ull);     /* S=0: the last page */
	submit(f);
	assert_int_equal(f->ninv, 6);
	assert_int_equal(f->inv[0].kind, VTD_INVAL_IOTLB_DOMAIN);
	assert_true(f->inv[0].all);
	assert_int_equal(f->inv[1].kind, VTD_INVAL_IOTLB_PAGE);
	assert_int_equal(f->inv[1].first, 0xffffffffc0000000ull);
	assert_int_equal(f->inv[1].last, UINT64_MAX);
	assert_true(f->inv[2].all);
	assert_int_equal(f->inv[2].first, 0);
	assert_int_equal(f->inv[2].last, UINT64_MAX);
	assert_true(f->inv[3].all);
	assert_false(f->inv[4].all);
	assert_int_equal(f->inv[4].first, 0);
	assert_int_equal(f->inv[4].last, 0x7fffffffffffffffull);
	assert_int_equal(f->inv[5].first, 0xfffffffffffff000ull);
	assert_int_equal(f->inv[5].last, UINT64_MAX);
}

static void test_queue_registers_hostile(void **state)
{
	struct fx *f = *state;
	/* Tail past the end of a 1-page queue (256 descriptors). */
	assert_int_equal(vtd_regs_write(&f->regs, VTD_REG_IQT, 8, 0x1000), 0);
	assert_int_equal(f->last_ret, -EIO);
	assert_int_equal(reg(f, VTD_REG_IQH, 8), 0);
	assert_int_equal(vtd_regs_write(&f->regs, VTD_REG_FSTS, 4, 1u << 4), 0);
	assert_int_equal(f->last_ret, -EIO); /* the resumed run hits the same tail */
	/* Queue outside RAM. */
	assert_int_equal(vtd_regs_write(&f->regs, VTD_REG_GCMD, 4, 0), 0);
	assert_int_equal(vtd_regs_write(&f->regs, VTD_REG_IQA, 8, 0x80000000ull | 7), 0);
	assert_int_equal(vtd_regs_write(&f->regs, VTD_REG_IQT, 8, 0x7fff0), 0);
	assert_int_equal(vtd_regs_write(&f->regs, VTD_REG_GCMD, 4, 1u << 26), 0);
	f->last_ret = 0;
	assert_int_equal(vtd_regs_write(&f->regs, VTD_REG_FSTS, 4, 1u << 4), 0); /* resumes */
	assert_int_equal(f->last_ret, -EIO);
	assert_int_equal(reg(f, VTD_REG_IQH, 8), 0);
	/* A queue whose end would wrap past 2^64. */
	assert_int_equal(vtd_regs_write(&f->regs, VTD_REG_GCMD, 4, 0), 0);
	assert_int_equal(vtd_regs_write(&f->regs, VTD_REG_IQA, 8, 0xfffffffffffff000ull | 7), 0);
	assert_int_equal(vtd_regs_write(&f->regs, VTD_REG_IQT, 8, 0x10), 0);
	assert_int_equal(vtd_regs_write(&f->regs, VTD_REG_GCMD, 4, 1u << 26), 0);
	f->last_ret = 0;
	assert_int_equal(vtd_regs_write(&f->regs, VTD_REG_FSTS, 4, 1u << 4), 0);
	assert_int_equal(f->last_ret, -EIO);
	assert_int_equal(f->ninv, 0);
	/* QI disabled: nothing is processed. */
	assert_int_equal(vtd_regs_write(&f->regs, VTD_REG_GCMD, 4, 0), 0);
	assert_int_equal(vtd_qi_process(&f->regs, &f->gm, on_inval, f, NULL), 0);
	assert_int_equal(vtd_qi_process(NULL, &f->gm, on_inval, f, NULL), -EINVAL);
}

static void test_wraparound(void **state)
{
	struct fx *f = *state;
	/* Move head and tail to the last slot, then queue across the end. */
	f->qtail = 4096 - 16;
	queue(f, wait_desc(0, false, false), 0);
	queue(f, 1u << 4 | VTD_QI_IOTLB, 0);
	queue(f, wait_desc(6, true, false), STATUS);
	f->regs.iqh = 4096 - 16; /* as if the earlier slots were consumed */
	submit(f);
	assert_int_equal(f->last_ret, 3);
	assert_int_equal(reg(f, VTD_REG_IQH, 8), 0x20);
	assert_int_equal(f->ninv, 1);
	assert_int_equal(status_word(f, STATUS), 6);
}

static void test_register_based(void **state)
{
	struct fx *f = *state;
	assert_int_equal(vtd_regs_write(&f->regs, VTD_REG_GCMD, 4, 0), 0); /* QI off */
	assert_int_equal(vtd_regs_write(&f->regs, VTD_REG_CCMD, 8,
					1ull << 63 | 3ull << 61 | 1ull << 32 | 0x0318ull << 16 | 4), 0);
	assert_int_equal(vtd_regs_write(&f->regs, VTD_REG_IVA, 8, 0x5000 | 1u << 6 | 1), 0);
	assert_int_equal(vtd_regs_write(&f->regs, VTD_REG_IOTLB, 8,
					1ull << 63 | 3ull << 60 | 4ull << 32), 0);
	assert_int_equal(vtd_regs_write(&f->regs, VTD_REG_IOTLB, 8, 1ull << 63 | 1ull << 60), 0);
	assert_int_equal(vtd_regs_write(&f->regs, VTD_REG_GCMD, 4, 1u << 31), 0); /* TE */
	assert_int_equal(f->ninv, 4);
	assert_int_equal(f->inv[0].kind, VTD_INVAL_CC_DEVICE);
	assert_int_equal(f->inv[0].sid, 0x0318);
	assert_int_equal(f->inv[0].did, 4);
	assert_int_equal(f->inv[0].fm, 1);
	assert_int_equal(f->inv[1].kind, VTD_INVAL_IOTLB_PAGE);
	assert_int_equal(f->inv[1].did, 4);
	assert_int_equal(f->inv[1].first, 0x4000);
	assert_int_equal(f->inv[1].last, 0x5fff);
	assert_true(f->inv[1].ih);
	assert_int_equal(f->inv[2].kind, VTD_INVAL_IOTLB_GLOBAL);
	assert_int_equal(f->inv[3].kind, VTD_INVAL_RESET);
	assert_true(f->inv[3].all);
	/* Events that are not invalidations. */
	struct vtd_inval inv;
	struct vtd_event ev = { .type = VTD_EV_QIE };
	assert_false(vtd_inval_from_event(&ev, &inv));
	ev = (struct vtd_event){ .type = VTD_EV_CC_INVAL, .gran = 0 };
	assert_false(vtd_inval_from_event(&ev, &inv));
	assert_false(vtd_inval_from_event(NULL, &inv));
}

/*
 * An invalidation that could not be completed (vhost refused it) must not
 * let a later wait complete: ITE, the pending descriptors dropped up to
 * IQT without a status write, nothing done while ITE is set, and a
 * resubmission after the guest clears it works (Linux's recovery).
 */
static void test_ite_aborts_pending_waits(void **state)
{
	struct fx *f = *state;
	f->fail_at = 1;
	queue(f, 5ull << 16 | 3u << 4 | VTD_QI_IOTLB, 0x1000);
	queue(f, wait_desc(2, true, false), STATUS);
	queue(f, 5ull << 16 | 3u << 4 | VTD_QI_IOTLB, 0x2000);
	queue(f, wait_desc(3, true, false), STATUS + 4);
	assert_int_equal(vtd_regs_write(&f->regs, VTD_REG_IQT, 8, f->qtail), 0);
	assert_int_equal(f->last_ret, -ETIMEDOUT);
	assert_int_equal(f->ninv, 1);
	assert_int_equal(status_word(f, STATUS), 0);
	assert_int_equal(status_word(f, STATUS + 4), 0);
	assert_true(reg(f, VTD_REG_FSTS, 4) & (1u << 6));
	assert_int_equal(reg(f, VTD_REG_IQH, 8), f->qtail); /* the rest was dropped */
	assert_int_equal(f->nfault_msi, 1);
	assert_int_equal(f->st.aborted, 1);
	/* Resubmitted while ITE is still set: nothing happens. */
	f->fail_at = 0;
	queue(f, 5ull << 16 | 3u << 4 | VTD_QI_IOTLB, 0x1000);
	queue(f, wait_desc(2, true, false), STATUS);
	assert_int_equal(vtd_regs_write(&f->regs, VTD_REG_IQT, 8, f->qtail), 0);
	assert_int_equal(f->ninv, 1);
	assert_int_equal(status_word(f, STATUS), 0);
	/* The guest clears ITE: processing resumes from IQH and completes. */
	assert_int_equal(vtd_regs_write(&f->regs, VTD_REG_FSTS, 4, 1u << 6), 0);
	assert_false(reg(f, VTD_REG_FSTS, 4) & (1u << 6));
	assert_int_equal(f->ninv, 2);
	assert_int_equal(f->inv[1].first, 0x1000);
	assert_int_equal(status_word(f, STATUS), 2);
	assert_int_equal(reg(f, VTD_REG_IQH, 8), f->qtail);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ite_aborts_pending_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decode_all_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_order_and_interrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_descriptor_stops_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserved_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_registers_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wraparound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_based, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
