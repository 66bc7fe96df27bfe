/*
 * vtd_extent.c - growing one translation into an extent: the range of
 * neighbouring IOVAs that one vhost UPDATE may cover.
 *
 * Separate from the walk itself (vtd_walk.c) because it is a different
 * question: vtd_walk.c says where one IOVA goes and what the hardware
 * would fault on; this file only coalesces the results of such walks
 * (contiguous GPA, identical permission, one guest RAM region, at most
 * max_len) and never reads a table entry itself. Each step after the
 * first resumes the caller's cursor, so it re-reads only the levels whose
 * index changes.
 */
#include "iommu.h"

#include <errno.h>

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

int vtd_translate_extent(const struct guest_mem *gm, const struct vtd_walk_cfg *cfg,
			 uint64_t rtaddr, uint16_t rid, uint64_t iova, unsigned want,
			 uint64_t max_len, struct vtd_extent *out)
{
	struct vtd_walk_cursor c = { .valid = false };
	return vtd_translate_extent_at(gm, cfg, rtaddr, rid, iova, want, max_len, &c, out);
}

int vtd_translate_extent_at(const struct guest_mem *gm, const struct vtd_walk_cfg *cfg,
			    uint64_t rtaddr, uint16_t rid, uint64_t iova, unsigned want,
			    uint64_t max_len, struct vtd_walk_cursor *cur, struct vtd_extent *out)
{
	struct vtd_xlate x;

	if (!vtd_walk_args_valid(gm, cfg, out, want) || cur == NULL || max_len < 4096 ||
	    (max_len & 0xfff))
		return -EINVAL;
	const struct vtd_walk_path *p = &cur->path;
	*out = (struct vtd_extent){ 0 };
	out->status = vtd_walk_translate(gm, cfg, rtaddr, rid, iova, want, cur, &x);
	out->domain_id = x.domain_id;
	out->pass_through = x.pass_through;
	out->fpd = x.fpd;
	if (out->status != VTD_OK)
		return 0;

	const struct guest_region *r = guest_mem_region(gm, x.gpa);
	if (r == NULL) {
		out->status = VTD_ST_NOT_RAM;
		return 0;
	}
	/* Cannot wrap: guest_mem_add() rejects regions whose end wraps. */
	uint64_t region_end = r->gpa + r->size;

	/* Start of the leaf, raised into the region and to within max_len of iova. */
	uint64_t in_leaf = iova & (x.page_size - 1);
	uint64_t start = iova - in_leaf, start_gpa = x.gpa - in_leaf;
	if (start_gpa < r->gpa) {
		start += r->gpa - start_gpa;
		start_gpa = r->gpa;
	}
	if (iova - start >= max_len) {
		start = iova & ~0xfffull;
		start_gpa = x.gpa - (iova & 0xfff);
		if (start_gpa < r->gpa) {
			start += r->gpa - start_gpa;
			start_gpa = r->gpa;
		}
	}

	/*
	 * Upper bound of the extent in GPA terms. Pass-through is one flat
	 * mapping of the whole IOVA width; otherwise start with the leaf.
	 */
	uint64_t limit = (max_len < region_end - start_gpa) ? start_gpa + max_len : region_end;
	uint64_t end_gpa;
	if (x.pass_through)
		end_gpa = min_u64(limit, 1ull << p->width);
	else
		end_gpa = min_u64(limit, x.gpa - in_leaf + x.page_size);

	/* Grow over following leaves while they continue the same mapping;
	 * each step re-reads only the levels whose index changes. */
	while (!x.pass_through && end_gpa < limit) {
		uint64_t next = start + (end_gpa - start_gpa);
		struct vtd_xlate n = { .status = VTD_OK };
		if (next >> p->width)
			break;
		if (vtd_walk_resume(gm, cfg, cur, next, VTD_PERM_NONE, &n) != VTD_OK)
			break;
		if (n.perm != x.perm || n.gpa != end_gpa)
			break;
		end_gpa = min_u64(limit, end_gpa + (n.page_size - (next & (n.page_size - 1))));
	}

	out->perm = x.perm;
	out->iova = start;
	out->gpa = start_gpa;
	out->len = end_gpa - start_gpa;
	return 0;
}
