/*
 * vtd_hostile_crafted.c - phase crafted-tables: 39 root, context and
 * page-table cases, each built in W with translation on and DMA after it.
 *
 * The cases: reserved bits in each kind of entry, TT=3, AW 0 and 7,
 * pointers outside RAM, into MMIO and to 2^64, tables that point to
 * themselves, 1 GiB and 2 MiB leaves outside RAM or misaligned, R-only and
 * W-only leaves, FPD, device-TLB and pass-through contexts, and valid
 * leaves into W. The VMM must turn each bad one into fault records (with a
 * reason the spec has: 1..0xC), never into a writable translation outside
 * W (pass-through's identity aside); VMM-HOSTILE-VTD-CRAFTED: lists the
 * faults per case. Some give none by design: FPD, leaves outside RAM or in
 * MMIO (the VMM counts them as "unmappable" and maps nothing), R-only loops
 * and leaves (vhost finds the used ring unwritable in what it already holds
 * and gives up without asking), and the valid ones.
 *
 * Then driver restarts under TT=3, a self-loop and pass-through
 * (VMM-HOSTILE-VTD-REBIND=): vhost cannot be attached to rings the VMM
 * cannot translate, so the start fails (faults from the ring prefill) and
 * the next clean restart must revive the device.
 */
#include "vtd_hostile.h"

static void fill_root(uint64_t lo, uint64_t hi)
{
	for (unsigned b = 0; b < 256; b++) {
		wq(W_ROOT + 16 * b, lo);
		wq(W_ROOT + 16 * b + 8, hi);
	}
}

static void fill_ctx(uint64_t lo, uint64_t hi)
{
	for (unsigned d = 0; d < 256; d++) {
		wq(W_CTX + 16 * d, lo);
		wq_ctx_hi(W_CTX + 16 * d + 8, hi);
	}
}

static void fill_table(uint64_t off, uint64_t e)
{
	for (unsigned i = 0; i < 512; i++)
		wq(off + 8 * i, e);
}

#define AW39 1ull
#define AW48 2ull
#define CTX_HI(aw, did) ((aw) | (uint64_t)(did) << 8)

struct crafted {
	const char *name;
	void (*build)(void);
};

static void c_root_garbage(void) { wfill_random(W_ROOT, 0x1000); }
static void c_root_rsvd_lo(void) { fill_root(W(W_CTX) | E_P | 1ull << 5, 0); }
static void c_root_rsvd_hi(void) { fill_root(W(W_CTX) | E_P, 1); }
static void c_root_rsvd_addr(void) { fill_root(W(W_CTX) | E_P | 1ull << 50, 0); }
static void c_root_ctp_out(void) { fill_root(P.ram_end | E_P, 0); }
static void c_root_ctp_mmio(void) { fill_root(VTD_BASE | E_P, 0); }
static void c_root_ctp_top(void) { fill_root(W(W_TOP) | E_P, 0); }
static void c_root_ctp_self(void) { fill_root(W(W_ROOT) | E_P, 0); }

static void root_to_ctx(void) { fill_root(W(W_CTX) | E_P, 0); }

static void c_ctx_zero(void) { root_to_ctx(); fill_ctx(0, 0); }
static void c_ctx_garbage(void) { root_to_ctx(); wfill_random(W_CTX, 0x1000); }
static void c_ctx_rsvd_lo(void) { root_to_ctx(); fill_ctx(W(W_PML4) | E_P | 1ull << 4, CTX_HI(AW48, 1)); }
static void c_ctx_rsvd_hi(void) { root_to_ctx(); fill_ctx(W(W_PML4) | E_P, CTX_HI(AW48, 1) | 1ull << 40); }
static void c_ctx_rsvd_b7(void) { root_to_ctx(); fill_ctx(W(W_PML4) | E_P, CTX_HI(AW48, 1) | 1ull << 7); }
static void c_ctx_tt3(void) { root_to_ctx(); fill_ctx(W(W_PML4) | E_P | 3ull << 2, CTX_HI(AW48, 1)); }
static void c_ctx_aw0(void) { root_to_ctx(); fill_ctx(W(W_PML4) | E_P, CTX_HI(0, 1)); }
static void c_ctx_aw7(void) { root_to_ctx(); fill_ctx(W(W_PML4) | E_P, CTX_HI(7, 1)); }
static void c_ctx_slpt_out(void) { root_to_ctx(); fill_ctx(P.ram_end | E_P, CTX_HI(AW48, 1)); }
static void c_ctx_slpt_mmio(void) { root_to_ctx(); fill_ctx(VTD_BASE | E_P | 1ull << 2, CTX_HI(AW48, 1)); }
static void c_ctx_slpt_top(void) { root_to_ctx(); fill_ctx(W(W_TOP) | E_P, CTX_HI(AW39, 1)); }
static void c_ctx_slpt_far(void) { root_to_ctx(); fill_ctx(~0xfffull | E_P, CTX_HI(AW48, 1)); }

/*
 * Every entry of the top table points to the table itself: a loop, which
 * ends as a 4 KiB leaf on the table. Read-only, so vhost never writes it.
 */
static void c_pt_selfref(void)
{
	root_to_ctx();
	fill_ctx(W(W_PML4) | E_P, CTX_HI(AW48, 2));
	fill_table(W_PML4, W(W_PML4) | PTE_R);
}

static void c_pt_selfref_ps4(void)
{
	root_to_ctx();
	fill_ctx(W(W_PML4) | E_P, CTX_HI(AW48, 2));
	fill_table(W_PML4, W(W_PML4) | PTE_RW | PTE_PS);
}

/* PML4 -> PDPT -> PD -> PT; leaf as given (for every IOVA below 512 GiB). */
static void chain4(uint64_t pdpt_e, uint64_t pd_e, uint64_t pt_e)
{
	root_to_ctx();
	fill_ctx(W(W_PML4) | E_P, CTX_HI(AW48, 3));
	fill_table(W_PML4, W(W_PDPT) | PTE_RW);
	fill_table(W_PDPT, pdpt_e);
	fill_table(W_PD, pd_e);
	fill_table(W_PT, pt_e);
}

static uint64_t pd_to_pt(void) { return W(W_PT) | PTE_RW; }
static uint64_t pdpt_to_pd(void) { return W(W_PD) | PTE_RW; }

static void c_pte_rsvd_hi(void) { chain4(pdpt_to_pd(), pd_to_pt(), W(W_DMA) | PTE_RW | 1ull << 49); }
static void c_pte_snp(void) { chain4(pdpt_to_pd(), pd_to_pt(), W(W_DMA) | PTE_RW | PTE_SNP); }
static void c_pte_tm_nonleaf(void) { chain4(pdpt_to_pd(), W(W_PT) | PTE_RW | PTE_TM, W(W_DMA) | PTE_RW); }
static void c_pte_2m_unaligned(void) { chain4(pdpt_to_pd(), W(W_DMA) | 0x1000 | PTE_RW | PTE_PS, 0); }
static void c_pte_1g_out(void) { chain4((1ull << 30) | PTE_RW | PTE_PS, 0, 0); }
static void c_pte_1g_far(void) { chain4((1ull << 46) | PTE_RW | PTE_PS, 0, 0); }
static void c_pte_2m_dma(void) { chain4(pdpt_to_pd(), W(W_DMA) | PTE_RW | PTE_PS, 0); }
static void c_pte_leaf_mmio(void) { chain4(pdpt_to_pd(), pd_to_pt(), VTD_BASE | PTE_RW); }
static void c_pte_leaf_out(void) { chain4(pdpt_to_pd(), pd_to_pt(), P.ram_end | PTE_RW); }
static void c_pte_read_only(void) { chain4(pdpt_to_pd(), pd_to_pt(), W(W_DMA) | PTE_R); }
static void c_pte_write_only(void) { chain4(pdpt_to_pd(), pd_to_pt(), W(W_DMA) | PTE_W); }
static void c_pte_not_present(void) { chain4(pdpt_to_pd(), pd_to_pt(), W(W_DMA) | 0xff0ull << 52); }
static void c_pte_to_top(void) { chain4(pdpt_to_pd(), W(W_TOP) | PTE_RW, 0); }
void c_pte_valid(void) { chain4(pdpt_to_pd(), pd_to_pt(), W(W_DMA) | PTE_RW); }

static void c_fpd(void)
{
	root_to_ctx();
	fill_ctx(W(W_ZERO) | E_P | 2ull /* FPD */, CTX_HI(AW48, 4));
}

static void c_ctx_devtlb(void)
{
	root_to_ctx();
	fill_ctx(W(W_ZERO) | E_P | 1ull << 2 /* TT=1 */, CTX_HI(AW39, 5));
}

static void c_passthrough(void)
{
	root_to_ctx();
	fill_ctx(E_P | 2ull << 2 /* TT=2 */, CTX_HI(AW48, 6));
}

static const struct crafted crafted[] = {
	{ "root-garbage", c_root_garbage },
	{ "root-rsvd-lo", c_root_rsvd_lo },
	{ "root-rsvd-hi", c_root_rsvd_hi },
	{ "root-rsvd-addr", c_root_rsvd_addr },
	{ "root-ctp-outside-ram", c_root_ctp_out },
	{ "root-ctp-mmio", c_root_ctp_mmio },
	{ "root-ctp-top-page", c_root_ctp_top },
	{ "root-ctp-self", c_root_ctp_self },
	{ "ctx-zero", c_ctx_zero },
	{ "ctx-garbage", c_ctx_garbage },
	{ "ctx-rsvd-lo", c_ctx_rsvd_lo },
	{ "ctx-rsvd-hi", c_ctx_rsvd_hi },
	{ "ctx-rsvd-bit7", c_ctx_rsvd_b7 },
	{ "ctx-tt3", c_ctx_tt3 },
	{ "ctx-aw0", c_ctx_aw0 },
	{ "ctx-aw7", c_ctx_aw7 },
	{ "ctx-slpt-outside-ram", c_ctx_slpt_out },
	{ "ctx-slpt-mmio", c_ctx_slpt_mmio },
	{ "ctx-slpt-top-page", c_ctx_slpt_top },
	{ "ctx-slpt-2^64", c_ctx_slpt_far },
	{ "ctx-fpd", c_fpd },
	{ "ctx-tt1", c_ctx_devtlb },
	{ "pt-self-loop", c_pt_selfref },
	{ "pt-self-loop-ps4", c_pt_selfref_ps4 },
	{ "pte-rsvd-hi", c_pte_rsvd_hi },
	{ "pte-snp", c_pte_snp },
	{ "pte-tm-nonleaf", c_pte_tm_nonleaf },
	{ "pte-2m-unaligned", c_pte_2m_unaligned },
	{ "pte-1g-outside-ram", c_pte_1g_out },
	{ "pte-1g-2^46", c_pte_1g_far },
	{ "pte-leaf-mmio", c_pte_leaf_mmio },
	{ "pte-leaf-outside-ram", c_pte_leaf_out },
	{ "pte-read-only", c_pte_read_only },
	{ "pte-write-only", c_pte_write_only },
	{ "pte-not-present", c_pte_not_present },
	{ "pte-pt-top-page", c_pte_to_top },
	/* Valid: vhost reads and writes W as rings, the driver's state is lost. */
	{ "ctx-pass-through", c_passthrough },
	{ "pte-2m-to-scratch", c_pte_2m_dma },
	{ "pte-4k-to-scratch", c_pte_valid },
};

void phase_crafted(void)
{
	phase_begin("crafted-tables");
	rebind_clean("before crafted-tables");
	char seen[1024] = "";
	size_t n = 0;
	for (unsigned i = 0; i < sizeof(crafted) / sizeof(crafted[0]); i++) {
		translate_off();
		wzero(0, W_GARBAGE); /* the fixed tables, not the garbage pages */
		crafted[i].build();
		translate_on(W(W_ROOT));
		unsigned got = dma_and_collect(600);
		if (n + 40 < sizeof(seen))
			n += (size_t)snprintf(seen + n, sizeof(seen) - n, "%s%s:%u", n ? " " : "",
					      crafted[i].name, got);
	}
	say("VMM-HOSTILE-VTD-CRAFTED: %s", seen);
	/* Deterministic DMA under a bad context: the driver restarts. */
	translate_off();
	wzero(0, W_GARBAGE);
	c_ctx_tt3();
	translate_on(W(W_ROOT));
	rebind_broken("ctx-tt3");
	/* Under a self-loop: read-only, so the used ring cannot be written. */
	translate_off();
	wzero(0, W_GARBAGE);
	c_pt_selfref();
	translate_on(W(W_ROOT));
	rebind_broken("pt-self-loop");
	/* Under pass-through the device works as with translation off. */
	translate_off();
	wzero(0, W_GARBAGE);
	c_passthrough();
	translate_on(W(W_ROOT));
	rebind_broken("ctx-pass-through");
	rebind_clean("after crafted-tables");
	phase_end();
}
