/*
 * vtd_walk.c - legacy-mode (non-scalable) VT-d second-level translation.
 *
 * requester id -> root entry -> context entry -> 3 or 4 levels of paging
 * entries -> guest physical address. All tables live in guest RAM and are
 * read only through guest_mem, so a hostile pointer becomes a fault status.
 *
 * Choices where the specification leaves room, and why:
 *  - Reserved bits are checked only in present entries (R|W != 0 for PTEs,
 *    P = 1 for root/context entries), as the hardware does: a not-present
 *    entry may hold anything, and Linux leaves stale bits in cleared PTEs.
 *  - PTE bits 10:8, 6:2 and 63, 61:52 are ignored (available to software,
 *    or EMT/IPAT/X which legacy mode without the matching ECAP bits ignores).
 *    Bit 11 (SNP) is reserved unless ECAP.SC, bit 62 (TM) unless ECAP.DT and
 *    the entry is a leaf, like QEMU; Linux sets neither in that situation.
 *  - PS in a level-1 entry: the 4 KiB PTE format calls bit 7 "ignored", so
 *    the entry is a 4 KiB leaf whatever bit 7 says. PS in a level-4 entry is
 *    reserved. PS at level 2/3 for a size CAP.SLLPS does not advertise is
 *    reserved too, as are the address bits below a superpage's alignment.
 *  - A not-present entry faults with the reason of the access: write if a
 *    write was wanted (a read+write request reports the write), else read.
 *
 * Growing a translation into an extent for vhost is vtd_extent.c.
 */
#include "iommu.h"

#include <errno.h>

#define PAGE_SHIFT 12
#define LEVEL_BITS 9
#define PTE_R      (1ull << 0)
#define PTE_W      (1ull << 1)
#define PTE_PS     (1ull << 7)
#define PTE_SNP    (1ull << 11)
#define PTE_TM     (1ull << 62)

/* Bits [hi:lo], hi < 64. */
static uint64_t bits(unsigned hi, unsigned lo)
{
	uint64_t upto_hi = (hi >= 63) ? ~0ull : ((1ull << (hi + 1)) - 1);
	return upto_hi & ~((1ull << lo) - 1);
}

/* Address field of a table pointer / PTE: bits HAW-1:12. */
static uint64_t addr_mask(const struct vtd_walk_cfg *cfg)
{
	return bits(cfg->haw - 1, PAGE_SHIFT);
}

/* Address bits HAW..51 (bits 63:52 are ignored in paging entries). */
static uint64_t above_haw_pte(const struct vtd_walk_cfg *cfg)
{
	return bits(51, cfg->haw);
}

static bool cfg_valid(const struct vtd_walk_cfg *cfg)
{
	return cfg->haw >= 32 && cfg->haw <= 52 && cfg->mgaw >= 30 && cfg->mgaw <= 64 &&
	       (cfg->sagaw & 0x6) != 0 && (cfg->sagaw & ~0x6) == 0 && (cfg->sllps & ~0x3) == 0;
}

static unsigned level_shift(unsigned level)
{
	return PAGE_SHIFT + LEVEL_BITS * (level - 1);
}

static enum vtd_status missing(unsigned want)
{
	return (want & VTD_PERM_W) ? VTD_FR_WRITE : VTD_FR_READ;
}

static uint64_t pte_rsvd_mask(const struct vtd_walk_cfg *cfg, unsigned level, bool ps)
{
	bool leaf = level == 1 || ps;
	uint64_t m = above_haw_pte(cfg);

	if (!cfg->sc)
		m |= PTE_SNP;
	if (!(leaf && cfg->dt))
		m |= PTE_TM;
	if (level == 4)
		m |= PTE_PS;
	if (level == 3 && ps)
		m |= (cfg->sllps & 2) ? bits(29, 12) : PTE_PS;
	if (level == 2 && ps)
		m |= (cfg->sllps & 1) ? bits(20, 12) : PTE_PS;
	return m;
}

static enum vtd_status walk_from(const struct guest_mem *gm, const struct vtd_walk_cfg *cfg,
				 struct vtd_walk_path *p, unsigned level, uint64_t iova,
				 unsigned want, struct vtd_xlate *x)
{
	uint8_t perm = p->perm_in[level];

	for (;; level--) {
		unsigned shift = level_shift(level);
		uint64_t slot = p->table[level] + ((iova >> shift) & 511) * 8;
		uint64_t pte;

		p->perm_in[level] = perm;
		x->level = (uint8_t)level;
		if (guest_mem_read_u64(gm, slot, &pte) != 0)
			return VTD_FR_PTE_ACCESS;
		if ((pte & (PTE_R | PTE_W)) == 0)
			return missing(want);
		bool ps = level > 1 && (pte & PTE_PS);
		if (pte & pte_rsvd_mask(cfg, level, ps))
			return VTD_FR_PTE_RSVD;
		perm &= (uint8_t)(pte & (PTE_R | PTE_W));
		if (level == 1 || ps) {
			uint64_t size = 1ull << shift;
			x->page_size = size;
			x->gpa = (pte & addr_mask(cfg) & ~(size - 1)) | (iova & (size - 1));
			x->perm = perm;
			if (want & ~perm & VTD_PERM_RW)
				return missing(want & ~perm);
			return VTD_OK;
		}
		p->table[level - 1] = pte & addr_mask(cfg);
	}
}

static bool same_cfg(const struct vtd_walk_cfg *a, const struct vtd_walk_cfg *b)
{
	return a->haw == b->haw && a->mgaw == b->mgaw && a->sagaw == b->sagaw &&
	       a->sllps == b->sllps && a->dt == b->dt && a->pt == b->pt && a->sc == b->sc;
}

/* Highest level whose table index differs between two IOVAs (both < 2^width). */
static unsigned resume_level(const struct vtd_walk_path *p, uint64_t a, uint64_t b)
{
	for (unsigned level = p->levels; level > 1; level--) {
		unsigned s = level_shift(level);
		if (((a >> s) & 511) != ((b >> s) & 511))
			return level;
	}
	return 1;
}

/* walk_from on the cursor's path, remembering where it stopped. */
static enum vtd_status cursor_walk(const struct guest_mem *gm, const struct vtd_walk_cfg *cfg,
				   struct vtd_walk_cursor *c, unsigned level, uint64_t iova,
				   unsigned want, struct vtd_xlate *x)
{
	enum vtd_status st = walk_from(gm, cfg, &c->path, level, iova, want, x);
	c->last_iova = iova;
	c->stop = x->level;
	return st;
}

/*
 * The walk from where the cursor's tables still hold: the highest level
 * whose index differs from the last walk's IOVA, but not below the level
 * that walk stopped at (the tables under it were not read for that IOVA).
 */
enum vtd_status vtd_walk_resume(const struct guest_mem *gm, const struct vtd_walk_cfg *cfg,
				struct vtd_walk_cursor *c, uint64_t iova, unsigned want,
				struct vtd_xlate *x)
{
	x->domain_id = c->ctx.domain_id;
	x->tt = c->ctx.tt;
	x->fpd = c->ctx.fpd;
	x->pass_through = c->ctx.pass_through;
	if (iova >> c->path.width)
		return VTD_FR_ADDR_WIDTH;
	if (x->pass_through) {
		x->gpa = iova;
		x->page_size = 1ull << PAGE_SHIFT;
		x->perm = VTD_PERM_RW;
		return VTD_OK;
	}
	unsigned level = resume_level(&c->path, c->last_iova, iova);
	return cursor_walk(gm, cfg, c, level > c->stop ? level : c->stop, iova, want, x);
}

/* Root and context entry lookup, then the page walk (or pass-through);
 * from the cursor's context and tables when they are for this requester. */
enum vtd_status vtd_walk_translate(const struct guest_mem *gm, const struct vtd_walk_cfg *cfg,
				   uint64_t rtaddr, uint16_t rid, uint64_t iova, unsigned want,
				   struct vtd_walk_cursor *c, struct vtd_xlate *x)
{
	uint64_t e[2];
	uint64_t rta = rtaddr & ~0xfffull;
	unsigned bus = rid >> 8, devfn = rid & 0xff;
	struct vtd_walk_path *p = &c->path;

	*x = (struct vtd_xlate){ .status = VTD_OK };
	if (c->valid && c->rtaddr == rtaddr && c->rid == rid && same_cfg(&c->cfg, cfg))
		return vtd_walk_resume(gm, cfg, c, iova, want, x);
	c->valid = false;
	/* rta <= 2^64 - 4096, so adding at most 0xff0 cannot wrap. */
	if (guest_mem_read(gm, rta + bus * 16u, e, sizeof(e)) != 0)
		return VTD_FR_ROOT_ACCESS;
	if (!(e[0] & 1))
		return VTD_FR_ROOT_NOT_PRESENT;
	if ((e[0] & (bits(11, 1) | ~bits(cfg->haw - 1, 0))) || e[1] != 0)
		return VTD_FR_ROOT_RSVD;

	uint64_t ctp = e[0] & addr_mask(cfg);
	if (guest_mem_read(gm, ctp + devfn * 16u, e, sizeof(e)) != 0)
		return VTD_FR_CTX_ACCESS;
	if (!(e[0] & 1))
		return VTD_FR_CTX_NOT_PRESENT;
	if ((e[0] & (bits(11, 4) | ~bits(cfg->haw - 1, 0))) || (e[1] & (bits(63, 24) | (1ull << 7))))
		return VTD_FR_CTX_RSVD;

	unsigned tt = (e[0] >> 2) & 3, aw = e[1] & 7;
	if (tt == 3 || (tt == 1 && !cfg->dt) || (tt == 2 && !cfg->pt))
		return VTD_FR_CTX_INVALID;
	if (aw > 2 || !(cfg->sagaw & (1u << aw)))
		return VTD_FR_CTX_INVALID;

	x->tt = (uint8_t)tt;
	x->fpd = (e[0] >> 1) & 1;
	x->domain_id = (uint16_t)(e[1] >> 8);
	x->pass_through = tt == 2;
	*c = (struct vtd_walk_cursor){ .valid = true, .rid = rid, .rtaddr = rtaddr, .cfg = *cfg,
				       .ctx = *x, .last_iova = iova };

	if (x->pass_through) {
		p->levels = 0;
		p->width = cfg->haw;
		if (iova >> p->width)
			return VTD_FR_ADDR_WIDTH;
		x->gpa = iova;
		x->page_size = 1ull << PAGE_SHIFT;
		x->perm = VTD_PERM_RW;
		return VTD_OK;
	}

	unsigned agaw = 30 + LEVEL_BITS * aw;
	p->levels = aw + 2;
	p->width = agaw < cfg->mgaw ? agaw : cfg->mgaw;
	p->table[p->levels] = e[0] & addr_mask(cfg);
	p->perm_in[p->levels] = VTD_PERM_RW;
	c->stop = p->levels; /* nothing below the top read yet */
	if (iova >> p->width)
		return VTD_FR_ADDR_WIDTH;
	return cursor_walk(gm, cfg, c, p->levels, iova, want, x);
}

bool vtd_walk_args_valid(const struct guest_mem *gm, const struct vtd_walk_cfg *cfg,
			 const void *out, unsigned want)
{
	return gm != NULL && cfg != NULL && out != NULL && cfg_valid(cfg) &&
	       (want & ~VTD_PERM_RW) == 0;
}

int vtd_translate(const struct guest_mem *gm, const struct vtd_walk_cfg *cfg,
		  uint64_t rtaddr, uint16_t rid, uint64_t iova, unsigned want,
		  struct vtd_xlate *out)
{
	struct vtd_walk_cursor c = { .valid = false };
	struct vtd_xlate x;

	if (!vtd_walk_args_valid(gm, cfg, out, want))
		return -EINVAL;
	x.status = vtd_walk_translate(gm, cfg, rtaddr, rid, iova, want, &c, &x);
	*out = x;
	return 0;
}
