/*
 * fuzz_vtd_walk.c - vtd_translate and vtd_translate_extent on fuzzed
 * root, context and page tables.
 *
 * Guest RAM: A = [0, 1 MiB) holds the tables (bump-allocated from 4 KiB)
 * and data; B = [0x110000, 0x140000) after a 64 KiB hole; C right after B,
 * GPA-contiguous with it but a separate host mapping, so an extent that
 * ran from B into C would be one GPA range but two host ranges.
 *
 * The script builds tables with vtd_tables.h (well-formed contexts and runs
 * of leaves at any level, raw words, single-bit flips of table words) under
 * a fuzzed walker configuration; queries ask for IOVAs near what was
 * mapped. Invariants, per query:
 *   - vtd_translate: a fault has a fault code, never a gpa; VTD_OK has a
 *     4K/2M/1G page, the wanted permission, the IOVA's page offset, and
 *     agrees with a plain reference walk (no reserved-bit checks) of the
 *     same tables; an entry the reference finds not present is never OK.
 *     Asking with want = NONE and then with want decides the status the
 *     way iommu.h says.
 *   - vtd_translate_extent: same status and context fields; VTD_OK iff
 *     the page translates into RAM; [gpa, gpa + len) inside ONE region;
 *     page-aligned; len <= max_len; it contains the iova at the right
 *     offset; and every 4 KiB page of it, translated alone, lands at the
 *     same offset with at least the extent's permission, i.e. the extent
 *     is exactly a union of single-page translations.
 *   - vtd_translate_extent_at with one cursor kept across the queries
 *     (zeroed whenever the tables, the root pointer or the configuration
 *     change) returns exactly what vtd_translate_extent returns.
 */
#include <errno.h>
#include <string.h>

#include "../../iommu/iommu.h"
#include "fuzz_util.h"
#include "vtd_tables.h"

#define A_SIZE    0x100000ull
#define B_GPA     0x110000ull
#define B_SIZE    0x30000ull
#define C_GPA     (B_GPA + B_SIZE)
#define C_SIZE    0x10000ull
#define POOL_END  0x80000ull /* tables come from [4 KiB, POOL_END) */

static const uint16_t rids[4] = { 0x0010, 0x0008, 0x0100, 0xffff };
static const uint64_t bases[4] = { 0, B_GPA, C_GPA, B_GPA + B_SIZE - 0x2000 };

struct st {
	struct fuzz_ram ram;
	struct vtd_walk_cfg cfg;
	struct vtd_tables t;
	struct vtd_walk_cursor cur; /* valid while the tables stay as they are */
};

static uint64_t rd(struct st *s, uint64_t gpa, bool *ok)
{
	return vt_rd(&s->t, gpa, ok);
}

/* The walk as plainly as it can be written: no reserved bits, no widths. */
static int ref_walk(struct st *s, uint16_t rid, uint64_t iova, uint64_t *gpa, uint8_t *perm,
		    uint64_t *psize)
{
	uint64_t m = VT_ADDR_MASK & ((1ull << s->cfg.haw) - 1);
	bool ok;
	uint64_t e = rd(s, (s->t.rta & ~0xfffull) + (rid >> 8) * 16u, &ok);
	if (!ok || !(e & 1))
		return 0;
	uint64_t lo = rd(s, (e & m) + (rid & 0xff) * 16u, &ok);
	uint64_t hi = rd(s, (e & m) + (rid & 0xff) * 16u + 8, &ok);
	if (!ok || !(lo & 1))
		return 0;
	if (((lo >> 2) & 3) == 2) {
		*gpa = iova, *perm = VTD_PERM_RW, *psize = FUZZ_PAGE;
		return 1;
	}
	if ((hi & 7) == 0 || (hi & 7) > 2)
		return -1; /* no such table depth (the walker faults: 0x3) */
	uint64_t table = lo & m;
	*perm = VTD_PERM_RW;
	for (unsigned l = (hi & 7) + 2;; l--) {
		e = rd(s, table + vt_idx(iova, l) * 8u, &ok);
		if (!ok || (e & 3) == 0)
			return 0;
		*perm &= (uint8_t)(e & 3);
		if (l == 1 || (l <= 3 && (e & VT_PS))) {
			*psize = 1ull << (12 + 9 * (l - 1));
			*gpa = (e & m & ~(*psize - 1)) | (iova & (*psize - 1));
			return 1;
		}
		table = e & m;
	}
}

static void check_xlate(struct st *s, uint16_t rid, uint64_t iova, unsigned want,
			const struct vtd_xlate *x)
{
	uint64_t gpa = 0, psize = 0;
	uint8_t perm = 0;
	int ref = ref_walk(s, rid, iova, &gpa, &perm, &psize);
	if (x->status != VTD_OK) {
		FUZZ_CHECK(vtd_status_is_fault(x->status), "status %#x", x->status);
		FUZZ_CHECK(x->status != VTD_FR_WRITE || (want & VTD_PERM_W), "write fault, want %u",
			   want);
		return;
	}
	FUZZ_CHECK(ref == 1, "OK but the reference walk finds iova %#lx not present",
		   (unsigned long)iova);
	FUZZ_CHECK(x->gpa == gpa && x->perm == perm && x->page_size == psize,
		   "iova %#lx: gpa %#lx perm %u size %#lx, reference %#lx %u %#lx",
		   (unsigned long)iova, (unsigned long)x->gpa, x->perm,
		   (unsigned long)x->page_size, (unsigned long)gpa, perm, (unsigned long)psize);
	/* want NONE only probes: R on one level and W on another AND to no access. */
	FUZZ_CHECK((x->perm & want) == want, "perm %u want %u", x->perm, want);
	FUZZ_CHECK((x->gpa & (x->page_size - 1)) == (iova & (x->page_size - 1)), "page offset");
	FUZZ_CHECK(x->gpa >> s->cfg.haw == 0, "gpa %#lx beyond HAW", (unsigned long)x->gpa);
}

static void check_query(struct st *s, uint16_t rid, uint64_t iova, unsigned want, uint64_t max_len)
{
	const struct guest_mem *gm = &s->ram.gm;
	struct vtd_xlate x, any;
	struct vtd_extent e;
	FUZZ_CHECK(vtd_translate(gm, &s->cfg, s->t.rta, rid, iova, want, &x) == 0, "translate");
	check_xlate(s, rid, iova, want, &x);
	/* want = NONE only probes presence; the wanted bits then decide. */
	FUZZ_CHECK(vtd_translate(gm, &s->cfg, s->t.rta, rid, iova, VTD_PERM_NONE, &any) == 0, "probe");
	if (any.status == VTD_OK) {
		unsigned lack = want & ~any.perm;
		enum vtd_status exp = !lack ? VTD_OK : (lack & VTD_PERM_W) ? VTD_FR_WRITE : VTD_FR_READ;
		FUZZ_CHECK(x.status == exp, "perm %u want %u: status %#x", any.perm, want, x.status);
	} else if (any.status != VTD_FR_READ) {
		FUZZ_CHECK(x.status == any.status, "probe %#x vs %#x", any.status, x.status);
	}
	FUZZ_CHECK(vtd_translate_extent(gm, &s->cfg, s->t.rta, rid, iova, want, max_len + 1, &e) ==
			   -EINVAL, "max_len not a page multiple accepted");
	FUZZ_CHECK(vtd_translate_extent(gm, &s->cfg, s->t.rta, rid, iova, want, max_len, &e) == 0,
		   "extent");
	struct vtd_extent ec;
	FUZZ_CHECK(vtd_translate_extent_at(gm, &s->cfg, s->t.rta, rid, iova, want, max_len, &s->cur,
					   &ec) == 0, "extent with a cursor");
	FUZZ_CHECK(ec.status == e.status && ec.domain_id == e.domain_id &&
			   ec.pass_through == e.pass_through && ec.fpd == e.fpd &&
			   (e.status != VTD_OK || (ec.perm == e.perm && ec.iova == e.iova &&
						   ec.len == e.len && ec.gpa == e.gpa)),
		   "iova %#lx: the cursor gives status %#x %#lx+%#lx -> %#lx perm %u, "
		   "a fresh walk %#x %#lx+%#lx -> %#lx perm %u", (unsigned long)iova, ec.status,
		   (unsigned long)ec.iova, (unsigned long)ec.len, (unsigned long)ec.gpa, ec.perm,
		   e.status, (unsigned long)e.iova, (unsigned long)e.len, (unsigned long)e.gpa, e.perm);
	const struct guest_region *rg = x.status == VTD_OK ? guest_mem_region(gm, x.gpa) : NULL;
	enum vtd_status exp = x.status != VTD_OK ? x.status : rg ? VTD_OK : VTD_ST_NOT_RAM;
	FUZZ_CHECK(e.status == exp, "extent status %#x, expected %#x", e.status, exp);
	/* iommu.h: the context fields are valid from the context entry on. */
	if (x.status == VTD_OK || (x.status >= VTD_FR_ADDR_WIDTH && x.status <= VTD_FR_PTE_ACCESS) ||
	    x.status == VTD_FR_PTE_RSVD)
		FUZZ_CHECK(e.domain_id == x.domain_id && e.pass_through == x.pass_through &&
				   e.fpd == x.fpd, "context fields differ");
	if (e.status != VTD_OK)
		return;
	FUZZ_CHECK(e.len >= FUZZ_PAGE && e.len <= max_len && e.len % FUZZ_PAGE == 0 &&
			   e.iova % FUZZ_PAGE == 0, "extent %#lx+%#lx, max %#lx",
		   (unsigned long)e.iova, (unsigned long)e.len, (unsigned long)max_len);
	FUZZ_CHECK(iova >= e.iova && iova - e.iova < e.len, "iova %#lx outside extent %#lx+%#lx",
		   (unsigned long)iova, (unsigned long)e.iova, (unsigned long)e.len);
	FUZZ_CHECK(e.gpa + (iova - e.iova) == x.gpa && e.perm == x.perm, "extent disagrees");
	FUZZ_CHECK(e.gpa >= rg->gpa && e.len <= rg->size && e.gpa - rg->gpa <= rg->size - e.len,
		   "extent gpa %#lx+%#lx leaves region %#lx+%#lx", (unsigned long)e.gpa,
		   (unsigned long)e.len, (unsigned long)rg->gpa, (unsigned long)rg->size);
	for (uint64_t off = 0; off < e.len; off += FUZZ_PAGE) {
		struct vtd_xlate p;
		(void)vtd_translate(gm, &s->cfg, s->t.rta, rid, e.iova + off, e.perm, &p);
		FUZZ_CHECK(p.status == VTD_OK && p.gpa == e.gpa + off && (p.perm & e.perm) == e.perm,
			   "page %#lx of extent %#lx+%#lx: status %#x gpa %#lx perm %u",
			   (unsigned long)off, (unsigned long)e.iova, (unsigned long)e.len, p.status,
			   (unsigned long)p.gpa, p.perm);
	}
}

static void op_query(struct st *s, struct fin *in)
{
	static const uint64_t lens[] = { 0x1000, 0x2000, 0x10000, 0x200000, 1ull << 30 };
	uint8_t f = fin_u8(in);
	uint16_t rid = (s->t.nctx && !(f & 1)) ? s->t.ctx[(f >> 1) % s->t.nctx].rid : fin_u16(in);
	uint64_t iova = vt_pick_iova(&s->t, in, f);
	unsigned want = (f >> 5) & 3;
	unsigned k = fin_pick(in, 6);
	uint64_t max_len = k < 5 ? lens[k] : (1 + (uint64_t)fin_u16(in)) << 12;
	check_query(s, rid, iova, want, max_len);
}

static void set_cfg(struct st *s, struct fin *in)
{
	static const uint8_t haws[] = { 48, 39, 46, 52 }, mgaws[] = { 48, 39, 57, 64 };
	uint8_t a = fin_u8(in), b = fin_u8(in);
	s->cfg = (struct vtd_walk_cfg){
		.haw = (a & 4) ? 32 + (a >> 3) % 21 : haws[a & 3],
		.mgaw = (b & 4) ? 30 + (b >> 3) % 35 : mgaws[b & 3],
		.sagaw = (uint8_t)(2 << ((a >> 6) % 2)) | ((b & 0x80) ? 6 : 0),
		.sllps = (b >> 5) & 3, .dt = a & 0x10, .pt = !(a & 0x20), .sc = b & 0x10,
	};
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct st s;
	if (s.ram.n == 0) {
		fuzz_ram_add(&s.ram, 0, A_SIZE);
		fuzz_ram_add(&s.ram, B_GPA, B_SIZE);
		fuzz_ram_add(&s.ram, C_GPA, C_SIZE);
	}
	fuzz_ram_reset(&s.ram);
	vt_init(&s.t, &s.ram.gm, 0, POOL_END, rids, bases);
	struct fin in = { data, size };
	set_cfg(&s, &in);
	s.cur = (struct vtd_walk_cursor){ .valid = false };
	for (unsigned steps = 0; !fin_empty(&in) && steps < 256; steps++) {
		unsigned op = fin_pick(&in, 8);
		if (op <= 5) /* the tables or the root pointer may change */
			s.cur = (struct vtd_walk_cursor){ .valid = false };
		switch (op) {
		case 0: vt_op_ctx(&s.t, &in); break;
		case 1: case 2: vt_op_map(&s.t, &in); break;
		case 3: case 4: vt_op_raw(&s.t, &in, A_SIZE + 0x60000); break;
		case 5: if (fin_pick(&in, 16) == 0) s.t.rta = fin_u64(&in); break;
		default: op_query(&s, &in); break;
		}
	}
	return 0;
}
