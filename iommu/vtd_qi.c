/*
 * vtd_qi.c - queued invalidation (legacy 128-bit descriptors) and the
 * mapping of register-based invalidations onto the same struct vtd_inval.
 *
 * The queue is processed synchronously on the vCPU thread that wrote IQT,
 * under the VT-d lock: by the time the guest can observe a wait
 * descriptor's status, every earlier invalidation has been handed to the
 * callback and the callback has returned (for the vhost bridges: the
 * INVALIDATE messages have been written). That ordering is the whole point
 * of the wait descriptor, so nothing here is deferred.
 *
 * Every descriptor is guest-controlled. Reserved bits are checked as the
 * VT-d spec asks (an invalid descriptor sets FSTS.IQE and stops the queue
 * with IQH on it), which also means a guest cannot smuggle meaning into
 * bits a later spec revision gives a use. Ranges are computed without
 * shifts of 64 or more and without overflowing sums.
 */
#include "iommu.h"

#include <errno.h>

/* qword 0, common */
#define D_TYPE_LO(q)   ((unsigned)((q) & 0xf))
#define D_TYPE_HI_MASK (7ull << 9) /* type bits 6:4, scalable mode only: must be 0 */

/* Reserved-bit masks (a set bit = reserved) for each legacy descriptor. */
#define CC_RSVD0    (0x3ffull << 6 | 0x3fffull << 50)    /* 15:6, 63:50 */
#define CC_RSVD1    (~0ull)
#define IOTLB_RSVD0 (0xffull << 8 | 0xffffffffull << 32) /* 15:8, 63:32 */
#define IOTLB_RSVD1 (0x1full << 7)                       /* 11:7 */
#define DEVTLB_RSVD0 (0xffull << 4 | 0x7ffull << 21 | 0xfull << 48) /* 11:4, 31:21, 51:48 */
#define DEVTLB_RSVD1 (0x7ffull << 1)                     /* 11:1 */
#define IEC_RSVD0   (0x3fffffull << 5 | 0xffffull << 48)  /* 26:5, 63:48 */
#define IEC_RSVD1   (~0ull)
#define WAIT_RSVD0  (0xffffffull << 7)                   /* 31:7 (PD needs ECAP.PDS) */
#define WAIT_RSVD1  3ull                                  /* 1:0 */

#define W_IF (1ull << 4)
#define W_SW (1ull << 5)

#define PAGE_SHIFT 12
#define QS_MAX 7u /* IQA.QS is 3 bits: up to 2^7 pages = 32768 descriptors */

/* [base, base + 2^shift - 1], or everything when 2^shift does not fit. */
static void set_aligned_range(struct vtd_inval *inv, uint64_t addr, unsigned shift)
{
	if (shift >= 64) {
		inv->all = true;
		inv->first = 0;
		inv->last = UINT64_MAX;
		return;
	}
	uint64_t mask = (1ull << shift) - 1;
	inv->all = false;
	inv->first = addr & ~mask;
	inv->last = inv->first | mask; /* first is aligned: no carry */
}

static void set_all(struct vtd_inval *inv)
{
	set_aligned_range(inv, 0, 64);
}

/*
 * Page-selective IOTLB: 2^am pages at addr. The hardware ignores address
 * bits below the mask. am above CAP.MAMV is undefined in the spec; doing a
 * domain-selective flush instead is always correct (it covers more).
 */
static void iotlb_page(struct vtd_inval *inv, uint16_t did, uint64_t addr, unsigned am, bool ih)
{
	*inv = (struct vtd_inval){ .did = did };
	if (am > VTD_MAMV) {
		inv->kind = VTD_INVAL_IOTLB_DOMAIN;
		set_all(inv);
		return;
	}
	inv->kind = VTD_INVAL_IOTLB_PAGE;
	inv->ih = ih;
	set_aligned_range(inv, addr, PAGE_SHIFT + am);
}

static bool cc_inval(unsigned gran, uint16_t did, uint16_t sid, uint8_t fm,
		     struct vtd_inval *out)
{
	static const enum vtd_inval_kind kind[4] = {
		0, VTD_INVAL_CC_GLOBAL, VTD_INVAL_CC_DOMAIN, VTD_INVAL_CC_DEVICE,
	};
	if (gran == VTD_GRAN_NONE || gran > 3)
		return false;
	*out = (struct vtd_inval){ .kind = kind[gran], .did = did, .sid = sid, .fm = fm };
	set_all(out);
	return true;
}

bool vtd_inval_from_event(const struct vtd_event *ev, struct vtd_inval *out)
{
	if (ev == NULL || out == NULL)
		return false;
	switch (ev->type) {
	case VTD_EV_TE:
	case VTD_EV_ROOT:
		*out = (struct vtd_inval){ .kind = VTD_INVAL_RESET };
		set_all(out);
		return true;
	case VTD_EV_CC_INVAL:
		return cc_inval(ev->gran, ev->did, ev->sid, ev->fm, out);
	case VTD_EV_IOTLB_INVAL:
		if (ev->gran == VTD_GRAN_GLOBAL || ev->gran == VTD_GRAN_DOMAIN) {
			*out = (struct vtd_inval){ .did = ev->did,
				.kind = ev->gran == VTD_GRAN_GLOBAL ? VTD_INVAL_IOTLB_GLOBAL
								    : VTD_INVAL_IOTLB_DOMAIN };
			set_all(out);
			return true;
		}
		if (ev->gran == VTD_GRAN_PAGE) {
			iotlb_page(out, ev->did, ev->addr, ev->am, ev->ih);
			return true;
		}
		return false;
	default:
		return false;
	}
}

/*
 * Device-TLB range (PCIe ATS invalidate encoding): with S = 0 one 4 KiB
 * page; with S = 1 the number t of consecutive 1s in ADDR from bit 12 up
 * gives a naturally aligned size of 2^(13 + t) bytes. ADDR all ones (t up
 * to 52) means 2^65: everything. Linux's full flush lands there too.
 */
static void devtlb_range(struct vtd_inval *inv, uint64_t q1)
{
	uint64_t addr = q1 & ~0xfffull;
	if (!(q1 & 1)) {
		set_aligned_range(inv, addr, PAGE_SHIFT);
		return;
	}
	uint64_t pages = addr >> PAGE_SHIFT;          /* 52 significant bits */
	unsigned t = (unsigned)__builtin_ctzll(~pages); /* ~pages != 0: bits 63:52 are set */
	set_aligned_range(inv, addr, PAGE_SHIFT + 1 + t);
}

/* Decode one invalidation descriptor; false = invalid (IQE). *have = fn needed. */
static bool decode(uint64_t q0, uint64_t q1, struct vtd_inval *inv, bool *have)
{
	*have = false;
	if (q0 & D_TYPE_HI_MASK)
		return false;
	switch (D_TYPE_LO(q0)) {
	case VTD_QI_CC:
		if ((q0 & CC_RSVD0) || (q1 & CC_RSVD1))
			return false;
		*have = cc_inval((q0 >> 4) & 3, (uint16_t)(q0 >> 16), (uint16_t)(q0 >> 32),
				 (uint8_t)((q0 >> 48) & 3), inv);
		return *have; /* G = 0 is a reserved encoding */
	case VTD_QI_IOTLB: {
		if ((q0 & IOTLB_RSVD0) || (q1 & IOTLB_RSVD1))
			return false;
		unsigned g = (q0 >> 4) & 3;
		uint16_t did = (uint16_t)(q0 >> 16);
		if (g == VTD_GRAN_NONE)
			return false;
		struct vtd_event ev = { .type = VTD_EV_IOTLB_INVAL, .gran = (uint8_t)g,
					.did = did, .addr = q1 & ~0xfffull,
					.am = (uint8_t)(q1 & 0x3f), .ih = (q1 >> 6) & 1 };
		*have = vtd_inval_from_event(&ev, inv);
		return *have;
	}
	case VTD_QI_DEVTLB:
		if ((q0 & DEVTLB_RSVD0) || (q1 & DEVTLB_RSVD1))
			return false;
		*inv = (struct vtd_inval){ .kind = VTD_INVAL_DEVTLB, .sid = (uint16_t)(q0 >> 32) };
		devtlb_range(inv, q1);
		*have = true;
		return true;
	case VTD_QI_IEC:
		return !(q0 & IEC_RSVD0) && !(q1 & IEC_RSVD1);
	case VTD_QI_WAIT:
		return !(q0 & WAIT_RSVD0) && !(q1 & WAIT_RSVD1);
	default:
		return false; /* 0, 6.. (PASID types) need scalable mode */
	}
}

static void count(struct vtd_qi_stats *st, unsigned type)
{
	if (st != NULL) {
		st->descs++;
		st->by_type[type < 6 ? type : 0]++;
	}
}

int vtd_qi_process(struct vtd_regs *r, const struct guest_mem *gm, vtd_inval_fn fn,
		   void *opaque, struct vtd_qi_stats *st)
{
	if (r == NULL || gm == NULL || fn == NULL)
		return -EINVAL;
	if (!vtd_regs_qi_enabled(r) || vtd_regs_iqe(r) || vtd_regs_ite(r))
		return 0;
	uint64_t iqa, head, tail;
	vtd_regs_iq(r, &iqa, &head, &tail);
	unsigned qs = (unsigned)(iqa & 7);
	uint64_t size = 4096ull << (qs <= QS_MAX ? qs : QS_MAX); /* bytes */
	uint64_t base = iqa & ~0xfffull;
	if (st != NULL)
		st->runs++;
	/* A tail past the end, or a queue whose end wraps, is a queue error. */
	if (tail >= size || head >= size || base > UINT64_MAX - size)
		goto error;

	int done = 0;
	while (head != tail) {
		uint64_t q[2];
		if (guest_mem_read(gm, base + head, q, sizeof(q)) < 0)
			goto error;
		struct vtd_inval inv;
		bool have;
		if (!decode(q[0], q[1], &inv, &have))
			goto error;
		unsigned type = D_TYPE_LO(q[0]);
		if (type == VTD_QI_WAIT) {
			/* Every earlier descriptor's fn has returned: report completion. */
			if (q[0] & W_SW) {
				uint32_t data = (uint32_t)(q[0] >> 32);
				if (guest_mem_write_u32(gm, q[1] & ~3ull, data) < 0)
					goto error;
				if (st != NULL)
					st->waits_status++;
			}
			if (q[0] & W_IF) {
				vtd_regs_inv_complete(r);
				if (st != NULL)
					st->waits_irq++;
			}
		} else if (have) {
			fn(opaque, &inv);
			if (vtd_regs_ite(r)) {
				/* fn could not complete it (vtd_regs_set_ite): abort the rest. */
				count(st, type);
				vtd_regs_set_iqh(r, tail);
				if (st != NULL)
					st->aborted++;
				return -ETIMEDOUT;
			}
		}
		count(st, type);
		done++;
		head = (head + VTD_QI_DESC_SIZE) % size;
		vtd_regs_set_iqh(r, head);
	}
	return done;
error:
	vtd_regs_set_iqh(r, head);
	vtd_regs_set_iqe(r);
	if (st != NULL)
		st->errors++;
	return -EIO;
}
