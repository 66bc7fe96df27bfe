/*
 * vtd_tables.h - script operations that build VT-d root, context and page
 * tables in guest RAM, shared by fuzz_vtd_walk.c and fuzz_iotlb_bridge.c.
 *
 * Random words almost never form a present root -> context -> PTE chain,
 * so most operations write well-formed entries from a few script bytes:
 * a context for a requester id (translated or pass-through, 3 or 4 levels,
 * a small domain id most of the time so that invalidations can name it),
 * and runs of leaves at any level, whose tables are bump-allocated below
 * pool_end. Raw words and single-bit flips of table words cover the rest
 * (reserved bits, pointers out of RAM). Mapped IOVAs are kept as hints so
 * that queries and misses land where something is mapped.
 */
#ifndef VTD_TABLES_H
#define VTD_TABLES_H

#include <string.h>

#include "fuzz_util.h"

#define VT_PS        (1ull << 7)
#define VT_ADDR_MASK 0x000ffffffffff000ull
#define VT_MAX_CTX   4
#define VT_MAX_HINT  16

struct vt_ctx { uint16_t rid; uint64_t top; unsigned levels; };

struct vtd_tables {
	const struct guest_mem *gm;
	uint64_t rta, next, pool_end;
	const uint16_t *rids;   /* four requester ids the script names by index */
	const uint64_t *bases;  /* four GPAs leaves are placed from */
	struct vt_ctx ctx[VT_MAX_CTX];
	unsigned nctx, nhint;
	uint64_t hint[VT_MAX_HINT];
};

/* Empty tables: root at rta, tables allocated from 4 KiB to pool_end. */
static inline void vt_init(struct vtd_tables *t, const struct guest_mem *gm, uint64_t rta,
			   uint64_t pool_end, const uint16_t *rids, const uint64_t *bases)
{
	*t = (struct vtd_tables){ .gm = gm, .rta = rta, .next = FUZZ_PAGE, .pool_end = pool_end,
				  .rids = rids, .bases = bases };
}

static inline uint64_t vt_rd(const struct vtd_tables *t, uint64_t gpa, bool *ok)
{
	uint64_t v = 0;
	*ok = guest_mem_read_u64(t->gm, gpa, &v) == 0;
	return v;
}

static inline void vt_wr(const struct vtd_tables *t, uint64_t gpa, uint64_t v)
{
	(void)guest_mem_write(t->gm, gpa, &v, 8); /* outside RAM: dropped, as a guest's would be */
}

static inline uint64_t vt_alloc(struct vtd_tables *t)
{
	if (t->next >= t->pool_end)
		return 0;
	t->next += FUZZ_PAGE;
	return t->next - FUZZ_PAGE;
}

static inline unsigned vt_idx(uint64_t iova, unsigned level)
{
	return (unsigned)((iova >> (12 + 9 * (level - 1))) & 511);
}

/* Entry for iova at level under c, creating the tables above it; 0 if none. */
static inline uint64_t vt_slot(struct vtd_tables *t, const struct vt_ctx *c, uint64_t iova,
			       unsigned level)
{
	uint64_t table = c->top;
	for (unsigned l = c->levels; l > level; l--) {
		bool ok;
		uint64_t at = table + vt_idx(iova, l) * 8u, e = vt_rd(t, at, &ok);
		if (!ok)
			return 0;
		if ((e & 3) == 0) {
			uint64_t n = vt_alloc(t);
			if (n == 0)
				return 0;
			e = n | 3;
			vt_wr(t, at, e);
		}
		table = e & VT_ADDR_MASK;
	}
	return table + vt_idx(iova, level) * 8u;
}

/* A domain id: mostly one of eight, so descriptors and contexts meet. */
static inline uint16_t vt_did(struct fin *in)
{
	uint8_t b = fin_u8(in);
	return (b & 0x80) ? fin_u16(in) : b & 7;
}

/* Context for a requester id: f bits 7:6 TT (when 5:4 = 3), 3 raw AW, 2 FPD. */
static inline void vt_op_ctx(struct vtd_tables *t, struct fin *in)
{
	unsigned k = fin_pick(in, 5);
	uint16_t rid = k < 4 ? t->rids[k] : fin_u16(in);
	uint8_t f = fin_u8(in);
	unsigned tt = (f & 0x30) == 0x30 ? (f >> 6) : 0;
	unsigned aw = (f & 8) ? (f & 7) : 1 + (f & 1);
	uint16_t did = vt_did(in);
	bool ok;
	uint64_t rslot = (t->rta & ~0xfffull) + (rid >> 8) * 16u, re = vt_rd(t, rslot, &ok);
	if (!ok)
		return;
	if (!(re & 1)) {
		uint64_t n = vt_alloc(t);
		if (n == 0)
			return;
		re = n | 1;
		vt_wr(t, rslot, re);
	}
	uint64_t top = vt_alloc(t);
	if (top == 0)
		return;
	uint64_t cslot = (re & VT_ADDR_MASK) + (rid & 0xff) * 16u;
	vt_wr(t, cslot, top | tt << 2 | (uint64_t)((f >> 2) & 1) << 1 | 1);
	vt_wr(t, cslot + 8, (uint64_t)did << 8 | aw);
	if (t->nctx < VT_MAX_CTX && aw >= 1 && aw <= 2)
		t->ctx[t->nctx++] = (struct vt_ctx){ rid, top, aw + 2 };
}

/* Remember a mapped IOVA; the oldest goes when full. */
static inline void vt_hint(struct vtd_tables *t, uint64_t iova)
{
	if (t->nhint == VT_MAX_HINT)
		memmove(t->hint, t->hint + 1, sizeof(t->hint) - sizeof(t->hint[0]));
	else
		t->nhint++;
	t->hint[t->nhint - 1] = iova;
}

/*
 * A run of 1..16 leaves: f bits 1:0 level - 1 (3 = 4 KiB), 3:2 GPA base,
 * 5:4 permission, 6 one stray bit, 7 raw GPA.
 */
static inline void vt_op_map(struct vtd_tables *t, struct fin *in)
{
	if (t->nctx == 0)
		return;
	const struct vt_ctx *c = &t->ctx[fin_pick(in, t->nctx)];
	uint8_t f = fin_u8(in);
	unsigned level = 1 + (f & 3) % 3;
	if (level > c->levels)
		level = 1;
	uint64_t psize = 1ull << (12 + 9 * (level - 1));
	uint64_t iova = ((uint64_t)fin_u32(in) << 12) & ((1ull << 48) - 1) & ~(psize - 1);
	uint64_t gpa = (f & 0x80) ? fin_u64(in) & ~0xfffull
				  : t->bases[(f >> 2) & 3] + ((uint64_t)fin_u8(in) << 12);
	uint64_t perm = (f >> 4) & 3, extra = 0;
	if ((f & 0x40) && !fin_empty(in))
		extra = 1ull << fin_pick(in, 64); /* reserved or ignored, depending */
	unsigned count = 1 + fin_pick(in, 16);
	vt_hint(t, iova);
	for (unsigned i = 0; i < count; i++) {
		uint64_t at = vt_slot(t, c, iova + i * psize, level);
		if (at == 0)
			return;
		vt_wr(t, at, ((gpa + i * psize) & ~(psize - 1)) | perm | (level > 1 ? VT_PS : 0) | extra);
	}
}

/* A raw word somewhere below span, or one bit of a table word flipped. */
static inline void vt_op_raw(struct vtd_tables *t, struct fin *in, uint64_t span)
{
	uint8_t f = fin_u8(in);
	if (f & 1) {
		uint64_t at = fin_u32(in) % span & ~7ull;
		vt_wr(t, at, fin_u64(in));
		return;
	}
	bool ok;
	uint64_t at = (fin_u16(in) * 8ull) % t->pool_end, v = vt_rd(t, at, &ok);
	vt_wr(t, at, v ^ (1ull << (f >> 2)));
}

/* An IOVA to ask about: near a mapped one (f bit clear), or anything. */
static inline uint64_t vt_pick_iova(const struct vtd_tables *t, struct fin *in, uint8_t f)
{
	if (t->nhint && !(f & 2))
		return t->hint[(f >> 2) % t->nhint] + fin_u32(in);
	return fin_u64(in);
}

#endif
