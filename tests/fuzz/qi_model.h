/*
 * qi_model.h - the harnesses' own reading of legacy (128-bit) invalidation
 * descriptors, written from the VT-d specification (section 6.5.2) and the
 * PCIe ATS invalidate encoding, NOT from iommu/vtd_qi.c: the fuzz targets
 * compare what vtd_qi.c did against it, so it must not share its code.
 *
 * It only extracts what must be invalidated (the scope); which reserved
 * bits make a descriptor invalid is left to the implementation, since the
 * harnesses learn which descriptors completed from the head register.
 */
#ifndef QI_MODEL_H
#define QI_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "../../iommu/iommu.h"
#include "fuzz_util.h"

enum qm_kind {
	QM_NONE,        /* no invalidation (IEC, unknown type, reserved G = 0) */
	QM_CC_GLOBAL, QM_CC_DOMAIN, QM_CC_DEVICE,
	QM_IOTLB_GLOBAL, QM_IOTLB_DOMAIN, QM_IOTLB_PAGE,
	QM_DEVTLB,
	QM_WAIT,
};

struct qm_desc {
	enum qm_kind kind;
	unsigned type;       /* descriptor type, bits 3:0 */
	uint16_t did, sid;
	uint8_t fm;          /* CC device: 0 none, 1..3 = SID bits 2, 2:1, 2:0 ignored */
	bool all;            /* range: every address */
	uint64_t first, last;
	bool sw, irq;        /* wait: status write, interrupt */
	uint32_t data;
	uint64_t status;     /* wait: status address */
};

/* [addr aligned down to 2^shift, + 2^shift - 1], or everything. */
static inline void qm_range(struct qm_desc *d, uint64_t addr, unsigned shift)
{
	if (shift >= 64) {
		d->all = true, d->first = 0, d->last = UINT64_MAX;
		return;
	}
	uint64_t size = 1ull << shift;
	d->all = false;
	d->first = addr / size * size;
	d->last = d->first + (size - 1);
}

static inline struct qm_desc qm_decode(uint64_t q0, uint64_t q1)
{
	struct qm_desc d = { .kind = QM_NONE, .type = (unsigned)(q0 & 0xf) };
	unsigned g = (unsigned)(q0 >> 4) & 3;
	d.did = (uint16_t)(q0 >> 16);
	switch (d.type) {
	case 1: /* context-cache invalidate: G 5:4, DID 31:16, SID 47:32, FM 49:48 */
		d.sid = (uint16_t)(q0 >> 32);
		d.fm = (uint8_t)((q0 >> 48) & 3);
		d.kind = g == 1 ? QM_CC_GLOBAL : g == 2 ? QM_CC_DOMAIN : g == 3 ? QM_CC_DEVICE
										 : QM_NONE;
		qm_range(&d, 0, 64);
		break;
	case 2: /* IOTLB invalidate: G 5:4, DID 31:16; ADDR 63:12, IH 6, AM 5:0 */
		d.kind = g == 1 ? QM_IOTLB_GLOBAL : g == 2 ? QM_IOTLB_DOMAIN
				  : g == 3 ? QM_IOTLB_PAGE : QM_NONE;
		/* 2^AM pages; AM beyond what the unit supports cannot mean less. */
		qm_range(&d, q1 & ~0xfffull, d.kind == QM_IOTLB_PAGE ? 12 + (unsigned)(q1 & 0x3f) : 64);
		break;
	case 3: { /* device-TLB invalidate: SID 47:32; ADDR 63:12, S 0 */
		d.kind = QM_DEVTLB;
		d.sid = (uint16_t)(q0 >> 32);
		uint64_t addr = q1 & ~0xfffull;
		unsigned shift = 12;
		if (q1 & 1) /* S: each 1 from bit 12 up doubles the 8 KiB size */
			for (shift = 13; shift < 64 && ((addr >> (shift - 1)) & 1); shift++)
				;
		qm_range(&d, addr, shift);
		break;
	}
	case 5: /* wait: IF 4, SW 5, status data 63:32; status address 63:2 */
		d.kind = QM_WAIT;
		d.irq = (q0 >> 4) & 1;
		d.sw = (q0 >> 5) & 1;
		d.data = (uint32_t)(q0 >> 32);
		d.status = q1 & ~3ull;
		break;
	default:
		break;
	}
	return d;
}

static inline bool qm_is_inval(const struct qm_desc *d)
{
	return d->kind != QM_NONE && d->kind != QM_WAIT;
}

/* Does [first, last] cover the descriptor's range? */
static inline bool qm_covered(const struct qm_desc *d, bool all, uint64_t first, uint64_t last)
{
	return all || (!d->all && first <= d->first && last >= d->last);
}

/*
 * Is inv (what vtd_qi.c passed on) at least what descriptor d asks for?
 * Coarser is allowed where the spec allows the hardware to do more: a
 * page-selective IOTLB flush may become domain-selective.
 */
static inline bool qm_inval_covers(const struct qm_desc *d, const struct vtd_inval *inv)
{
	switch (d->kind) {
	case QM_CC_GLOBAL: return inv->kind == VTD_INVAL_CC_GLOBAL;
	case QM_CC_DOMAIN: return inv->kind == VTD_INVAL_CC_DOMAIN && inv->did == d->did;
	case QM_CC_DEVICE:
		return inv->kind == VTD_INVAL_CC_DEVICE && inv->sid == d->sid && inv->fm == d->fm &&
		       inv->did == d->did;
	case QM_IOTLB_GLOBAL: return inv->kind == VTD_INVAL_IOTLB_GLOBAL;
	case QM_IOTLB_PAGE:
		if (inv->kind == VTD_INVAL_IOTLB_PAGE)
			return inv->did == d->did && qm_covered(d, inv->all, inv->first, inv->last);
		/* fall through */
	case QM_IOTLB_DOMAIN: return inv->kind == VTD_INVAL_IOTLB_DOMAIN && inv->did == d->did;
	case QM_DEVTLB:
		return inv->kind == VTD_INVAL_DEVTLB && inv->sid == d->sid &&
		       qm_covered(d, inv->all, inv->first, inv->last);
	default: return false;
	}
}

/* A struct vtd_inval as iommu.h defines it: ranges inclusive and natural. */
static inline bool qm_inval_wellformed(const struct vtd_inval *inv)
{
	if ((unsigned)inv->kind > VTD_INVAL_DEVTLB)
		return false;
	if (inv->all)
		return inv->first == 0 && inv->last == UINT64_MAX;
	uint64_t span = inv->last - inv->first; /* size - 1 */
	return inv->first <= inv->last && (span & (span + 1)) == 0 && (inv->first & span) == 0;
}

/*
 * A descriptor from a few script bytes, for the harnesses to queue: t % 6
 * picks raw words, or a well-formed context-cache, IOTLB, device-TLB, IEC
 * or wait descriptor (G = t bits 4:3); t bit 6 then flips one stray bit.
 * Domain ids are mostly 0..7 and source ids mostly one of sids[4], so that
 * they name what the tables use. Wait status addresses fall below span.
 */
static inline void qm_script_desc(struct fin *in, const uint16_t *sids, uint64_t span,
				  uint64_t q[2])
{
	uint8_t t = fin_u8(in), b;
	uint64_t g = (t >> 3) & 3, a;
	q[0] = q[1] = 0;
	switch (t % 6) {
	case 0: q[0] = fin_u64(in), q[1] = fin_u64(in); break;
	case 1: /* context cache: G, DID, SID, FM */
		b = fin_u8(in);
		a = (b & 0x80) ? fin_u16(in) : b & 7;
		b = fin_u8(in);
		q[0] = 1 | g << 4 | a << 16 | (uint64_t)((b & 4) ? fin_u16(in) : sids[b & 3]) << 32 |
		       (uint64_t)(t >> 5 & 3) << 48;
		break;
	case 2: /* IOTLB: G, DID; page: ADDR, IH, AM */
		b = fin_u8(in);
		q[0] = 2 | g << 4 | (uint64_t)((b & 0x80) ? fin_u16(in) : b & 7) << 16;
		a = (uint64_t)fin_u32(in) << 12;
		q[1] = a | (uint64_t)(t >> 5 & 1) << 6 | fin_pick(in, 20);
		break;
	case 3: /* device-TLB: SID; ADDR, S (t bit 7: every address, Linux's flush) */
		b = fin_u8(in);
		q[0] = 3 | (uint64_t)((b & 4) ? fin_u16(in) : sids[b & 3]) << 32;
		q[1] = (t & 0x80) ? ~0xffeull : ((uint64_t)fin_u32(in) << 12) | (t >> 3 & 1);
		break;
	case 4: q[0] = 4; break;
	default: /* wait: IF, SW, data; status mostly below span */
		q[0] = 5 | (uint64_t)(t >> 3 & 3) << 4 | (uint64_t)fin_u32(in) << 32;
		q[1] = (t & 0x80) ? fin_u64(in) : fin_u32(in) % span & ~3ull;
		break;
	}
	if ((t & 0x40) && t % 6 != 0) {
		b = fin_u8(in);
		q[b >> 7] ^= 1ull << (b & 63);
	}
}

/* Where the script puts a descriptor: s bit 15 an absolute slot, else IQT + s. */
static inline uint64_t qm_script_slot(uint16_t s, uint64_t iqa, uint64_t tail)
{
	uint64_t size = 4096ull << (iqa & 7);
	uint64_t off = (s & 0x8000) ? (uint64_t)s * 16 % size : (tail + 16ull * (s & 0xf)) % size;
	return (iqa & ~0xfffull) + off;
}

#endif
