/*
 * iotlb_shadow.c - a model of what vhost's device IOTLB holds, to check
 * the bridge against the guest's page tables (debugging aid, off by
 * default: VMM_IOTLB_CHECK=1).
 *
 * It mirrors vhost's own rules (drivers/vhost/iotlb.c): an UPDATE adds an
 * entry, an INVALIDATE deletes every entry that overlaps its range (whole
 * entries, never split), and when the table is full the oldest entry is
 * retired. iotlb_shadow_check() re-translates every page of every entry:
 * after the guest's invalidation queue has been processed (every wait
 * descriptor completed), an entry whose pages no longer translate to what
 * vhost was told is a translation vhost may still use although the guest
 * believes it gone - the bug class that corrupts guest memory. One vCPU
 * may legitimately be between "clear PTE" and "queue its invalidation"
 * while another one's queue is processed, so a mismatch is reported with
 * the number of consecutive checks it survived; only a persistent one is
 * a bug.
 */
#include "iommu.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void iotlb_shadow_init(struct iotlb_shadow *s, iotlb_shadow_report_fn report, void *opaque)
{
	memset(s, 0, sizeof(*s));
	s->report = report;
	s->opaque = opaque;
}

static void drop(struct iotlb_shadow *s, unsigned i)
{
	memmove(&s->e[i], &s->e[i + 1], (s->n - i - 1) * sizeof(s->e[0]));
	s->n--;
}

void iotlb_shadow_update(struct iotlb_shadow *s, uint64_t iova, uint64_t len, uint64_t gpa,
			 uint8_t perm, uint16_t did, bool translated)
{
	if (s->n == IOTLB_SHADOW_MAX)
		drop(s, 0); /* vhost retires its oldest entry the same way */
	s->e[s->n++] = (struct iotlb_shadow_ent){
		.iova = iova, .len = len, .gpa = gpa, .perm = perm, .did = did,
		.translated = translated, .seq = ++s->seq,
	};
}

void iotlb_shadow_invalidate(struct iotlb_shadow *s, uint64_t iova, uint64_t size)
{
	uint64_t last = iova + (size - 1); /* vhost's own formula; size >= 1 */
	if (last < iova)
		last = UINT64_MAX;
	for (unsigned i = 0; i < s->n;) {
		const struct iotlb_shadow_ent *e = &s->e[i];
		if (e->iova <= last && iova <= e->iova + (e->len - 1))
			drop(s, i);
		else
			i++;
	}
}

static void report(struct iotlb_shadow *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void report(struct iotlb_shadow *s, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s->report != NULL)
		s->report(s->opaque, msg);
}

unsigned iotlb_shadow_check(struct iotlb_shadow *s, const struct guest_mem *gm,
			    const struct vtd_regs *regs, uint16_t rid, const char *when)
{
	struct vtd_walk_cfg cfg;
	vtd_regs_walk_cfg(regs, &cfg);
	bool te = vtd_regs_translation_enabled(regs);
	uint64_t root = vtd_regs_root(regs);
	unsigned bad = 0;
	s->checks++;
	for (unsigned i = 0; i < s->n; i++) {
		struct iotlb_shadow_ent *e = &s->e[i];
		if (!e->translated)
			continue; /* identity windows: only a TE change moves them */
		uint64_t off;
		struct vtd_xlate x = { .status = VTD_OK };
		for (off = 0; off < e->len; off += 4096) {
			if (!te || vtd_translate(gm, &cfg, root, rid, e->iova + off, VTD_PERM_NONE,
						 &x) < 0 || x.status != VTD_OK || x.gpa != e->gpa + off ||
			    (x.perm & e->perm) != e->perm)
				break;
		}
		if (off >= e->len) {
			e->stale_checks = 0;
			continue;
		}
		bad++;
		e->stale_checks++;
		s->stale_found++;
		if (e->stale_checks == 1 || e->stale_checks == 3)
			report(s, "iotlb-check(%s #%" PRIu64 "): entry #%" PRIu64 " iova 0x%" PRIx64
			       "+0x%" PRIx64 " -> gpa 0x%" PRIx64 " perm %u did %u: page +0x%" PRIx64
			       " now %s gpa 0x%" PRIx64 " perm %u (stale for %u checks)",
			       when, s->checks, e->seq, e->iova, e->len, e->gpa, e->perm, e->did, off,
			       !te ? "TE off" : x.status == VTD_OK ? "maps to" : "faults,", x.gpa,
			       x.perm, e->stale_checks);
	}
	return bad;
}
