/*
 * vtd_hostile_garbage.c - phase garbage-tables: a random graph of
 * plausible root, context and page tables in W, mutated while translation
 * is on, with DMA, plus invalidation queues placed in it.
 *
 * Crafted cases test one rule at a time; this looks for what they miss:
 * walks through tables that are almost right (mostly-valid entries with
 * ignored, reserved and superpage bits sprinkled in, loops, pointers
 * between tables of the wrong kind), root pointers anywhere, and entries
 * changing under the VMM's caches and vhost's. The VMM must survive and
 * keep its promises; the faults it records are counted, not predicted.
 * Every qword written has W cleared (wq), so vhost may read through the
 * garbage but never write it: its writes could forge entries that point
 * into the kernel's RAM.
 */
#include "vtd_hostile.h"

/*
 * The garbage pages form a random graph of plausible tables: root-shaped
 * pages point to context-shaped ones, those to page-table-shaped ones,
 * which point among themselves; a quarter of the page tables and a
 * tenth of all entries are plain junk. Every qword has W cleared (wq),
 * so vhost may read through them but never write.
 */
#define G_ROOTS 16u
#define G_CTXS  32u

uint64_t garbage_page(void)
{
	return W(W_GARBAGE) + 0x1000ull * rndn(W_GARBAGE_N);
}

static uint64_t g_page(unsigned first, unsigned n)
{
	return W(W_GARBAGE) + 0x1000ull * (first + rndn(n));
}

static uint64_t g_root_page(void) { return g_page(0, G_ROOTS); }
static uint64_t g_ctx_page(void) { return g_page(G_ROOTS, G_CTXS); }
static uint64_t g_pt_page(void) { return g_page(G_ROOTS + G_CTXS, W_GARBAGE_N - G_ROOTS - G_CTXS); }

/* A random entry; often pointing to another garbage page. */
static uint64_t garbage_entry(void)
{
	uint64_t v = rnd_value();
	switch (rndn(4)) {
	case 0:
		return v;
	case 1: /* a pointer into the garbage, junk in the low bits */
		return garbage_page() | (v & 0xfff);
	case 2: /* a plausible present entry */
		return garbage_page() | (rndn(2) ? PTE_RW : E_P) | (rndn(8) == 0 ? PTE_PS : 0);
	default: /* plausible, with random high bits */
		return garbage_page() | PTE_RW | (v & 0xfff0000000000000ull);
	}
}

static uint64_t g_pte(void)
{
	if (rndn(10) == 0)
		return garbage_entry();
	uint64_t e = g_pt_page() | PTE_R;
	e |= rnd() & 0x77cull;                      /* ignored bits 10:8, 6:2 */
	if (rndn(16) == 0)
		e |= PTE_PS;                        /* a superpage: often misaligned */
	if (rndn(16) == 0)
		e |= 1ull << (52 + rndn(12));       /* ignored or TM */
	if (rndn(24) == 0)
		e |= rndn(2) ? PTE_SNP : 1ull << (48 + rndn(4)); /* reserved */
	if (rndn(8) == 0)
		e &= ~PTE_R;                        /* not present */
	return e;
}

static void build_garbage(void)
{
	for (unsigned pg = 0; pg < W_GARBAGE_N; pg++) {
		uint64_t off = W_GARBAGE + 0x1000ull * pg;
		for (unsigned i = 0; i < 256; i++) {
			uint64_t lo, hi;
			if (pg < G_ROOTS) {
				lo = rndn(10) ? g_ctx_page() | E_P : garbage_entry();
				hi = rndn(10) ? 0 : rnd_value();
			} else if (pg < G_ROOTS + G_CTXS) {
				unsigned tt = rndn(8);
				tt = tt < 5 ? 0 : tt - 4; /* mostly translate; some DT, PT, 3 */
				lo = rndn(10) ? g_pt_page() | E_P | (uint64_t)tt << 2 |
							(rndn(8) == 0 ? 2ull : 0)
					      : garbage_entry();
				hi = rndn(10) ? (rndn(6) ? 1u : rndn(8)) | (uint64_t)rndn(65536) << 8
					      : rnd_value();
			} else if (pg % 4 == 0) {
				lo = garbage_entry();
				hi = garbage_entry();
			} else {
				lo = g_pte();
				hi = g_pte();
			}
			wq(off + 16 * i, lo);
			wq(off + 16 * i + 8, hi);
		}
	}
}

void phase_garbage_tables(unsigned rounds)
{
	phase_begin("garbage-tables");
	build_garbage();
	unsigned n = rounds / 16 + 8;
	for (unsigned r = 0; r < n; r++) {
		if (r % 8 == 7)
			rebind_clean("garbage-tables");
		translate_on(rndn(4) ? g_root_page() | rndn(4096) : rnd_value());
		/* Mutate a few entries while translation is on. */
		for (unsigned k = 0; k < 64; k++)
			wq(W_GARBAGE + 8 * rndn(512 * W_GARBAGE_N), garbage_entry());
		(void)dma_and_collect(100);
		if (rndn(2)) {
			gcmd(true, false, 0);
			qi_setup(garbage_page() | rndn(2));
			(void)qi_tail(16ull * rndn(512));
			clear_iqe();
			qi_off();
		}
		if (rndn(2))
			flush_caches();
	}
	translate_off();
	phase_end();
}
