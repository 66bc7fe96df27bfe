/*
 * vtd_hostile.h - what the files of the hostile VT-d guest share.
 *
 * The attack (see vtd_hostile.c for what it does and why the guest
 * survives it) is split by phase:
 *
 *   vtd_hostile.c           the driver: phases in order, restore, recover
 *   vtd_hostile_core.c      output, the VT-d's commands, translation on and
 *                           off, driver restarts, fault collection, phases
 *   vtd_hostile_scratch.c   the scratch window W and the guest-safety rules
 *   vtd_hostile_regs.c      phases read-all, random-registers, root-pointers,
 *                           register-invalidations: the register file
 *   vtd_hostile_crafted.c   phase crafted-tables
 *   vtd_hostile_queue.c     phase invalidation-queue
 *   vtd_hostile_garbage.c   phase garbage-tables
 *   vtd_hostile_race.c      phases two-cpus and start-vs-flush
 *   vtd_hostile_guest.c     the guest platform (/dev/mem, main), and
 *   vtd_hostile_guest_net.c its virtio-net device (vtd_hostile_guest.h);
 *                           vtd_hostile_sim.c replaces both on the host.
 *
 * The platform is reached only through P (struct plat): the guest program
 * fills it with MMIO through /dev/mem, sysfs and eth0, the simulation with
 * the VT-d model. The PRNG and the register accessors are static inline
 * here. A seed's run repeats with the same compiler only: a few
 * expressions call rnd() twice in an unspecified order (gcc and clang
 * differ).
 */
#ifndef VTD_HOSTILE_H
#define VTD_HOSTILE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the VT-d as the guest sees it (see iommu/iommu.h, the VT-d spec) ---- */

#define VTD_BASE     0xFED90000ull
#define VTD_SIZE     0x1000u

#define R_VER     0x00
#define R_CAP     0x08
#define R_ECAP    0x10
#define R_GCMD    0x18
#define R_GSTS    0x1c
#define R_RTADDR  0x20
#define R_CCMD    0x28
#define R_FSTS    0x34
#define R_FECTL   0x38
#define R_FEDATA  0x3c
#define R_FEADDR  0x40
#define R_FEUADDR 0x44
#define R_IQH     0x80
#define R_IQT     0x88
#define R_IQA     0x90
#define R_ICS     0x9c
#define R_IECTL   0xa0
#define R_IEDATA  0xa4
#define R_IEADDR  0xa8
#define R_IEUADDR 0xac

#define G_TE   (1u << 31)
#define G_SRTP (1u << 30)
#define G_WBF  (1u << 27)
#define G_QIE  (1u << 26)
#define G_IRE  (1u << 25)
#define GSTS_KNOWN (G_TE | G_SRTP | G_QIE)

#define FSTS_PFO (1u << 0)
#define FSTS_PPF (1u << 1)
#define FSTS_IQE (1u << 4)
#define FSTS_W1C (FSTS_PFO | FSTS_IQE | (1u << 5) | (1u << 6))
#define XCTL_IM  (1u << 31)
#define FRCD_F   (1ull << 63)

#define CCMD_ICC  (1ull << 63)
#define IOTLB_IVT (1ull << 63)

/* An MSI no CPU takes: physical destination 0xFE, which no vCPU has. */
#define SAFE_MSI_ADDR 0xFEEFE000u

/* Context / root / paging entry bits. */
#define E_P     1ull
#define PTE_R   1ull
#define PTE_W   2ull
#define PTE_RW  3ull
#define PTE_PS  (1ull << 7)
#define PTE_SNP (1ull << 11)
#define PTE_TM  (1ull << 62)

/* Invalidation descriptor types (legacy 128-bit). */
#define D_CC     1ull
#define D_IOTLB  2ull
#define D_DEVTLB 3ull
#define D_IEC    4ull
#define D_WAIT   5ull
#define W_IF     (1ull << 4)
#define W_SW     (1ull << 5)
#define W_FN     (1ull << 6)

/* ---- the scratch window W: offsets inside it ---- */

#define W_SIZE      ((uint64_t)16 << 20)
#define W_ROOT      0x000000ull /* root table */
#define W_CTX       0x001000ull /* context table */
#define W_PML4      0x002000ull /* crafted 4-level tables */
#define W_PDPT      0x003000ull
#define W_PD        0x004000ull
#define W_PT        0x005000ull
#define W_ZERO      0x006000ull /* stays zero: "not present" everything */
#define W_STATUS    0x007000ull /* wait-descriptor status words */
#define W_IDPD      0x008000ull /* identity map (recovery/race): PDPT, PD */
#define W_IDPDPT    0x009000ull
#define W_IDPML4    0x00a000ull
#define W_IDCTX     0x00b000ull
#define W_IDROOT    0x00c000ull
#define W_GARBAGE   0x010000ull /* random tables: 240 pages */
#define W_GARBAGE_N 240u
#define W_IQ        0x100000ull /* invalidation queue, up to 512 KiB (QS = 7) */
#define W_DMA       0x200000ull /* 2 MiB target of valid translations */
#define W_TOP       (W_SIZE - 0x1000) /* last page of RAM */

/* ---- platform: the guest (real MMIO) or the host simulation ---- */

struct plat {
	/* VT-d register access at off (may be < 0 or >= 4096: the neighbours). */
	uint64_t (*rd)(long off, unsigned size);
	void (*wr)(long off, unsigned size, uint64_t v);
	uint8_t *w;         /* W, mapped */
	uint64_t w_gpa;     /* its guest physical address */
	uint64_t ram_end;   /* end of the VM's RAM below 4 GiB (= w_gpa + W_SIZE) */
	long nb_lo, nb_hi;  /* offsets accessible: [nb_lo, nb_hi) */
	/* Make the device DMA (frames out, wait for frames in). */
	void (*dma)(unsigned ms);
	/*
	 * Unbind and bind the virtio-net driver: the VMM restarts vhost. 0: the
	 * device started; 1: it reports NEEDS_RESET (the VMM could not start
	 * it); -1: no device or the rebind failed.
	 */
	int (*rebind)(void);
	/* Does the network work? 1 yes, 0 no, -1 cannot tell. */
	int (*net_ok)(void);
	/* Run fn on the other CPU (for at most ms) while main does work(); may be NULL. */
	int (*race)(void (*fn)(uint64_t seed, unsigned ms), uint64_t seed, unsigned ms,
		    void (*work)(void));
	void (*sleep_ms)(unsigned ms);
};

extern struct plat P;

/* ---- output (vtd_hostile_core.c) ---- */

/* Anomalies, fault records, IQEs seen; register accesses made. */
extern unsigned g_anomalies, g_faults, g_iqe, g_mmio;

void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Register behaviour the model promises but did not show. */
void anomaly(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t now_ms(void);

/* ---- PRNG (splitmix64: seeded, reproducible) ---- */

extern uint64_t rng_state;

static inline uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static inline unsigned rndn(unsigned n)
{
	return n ? (unsigned)(rnd() % n) : 0;
}

/* A value with structure: zeros, ones, single bits, small, random. */
static inline uint64_t rnd_value(void)
{
	switch (rndn(8)) {
	case 0: return 0;
	case 1: return ~0ull;
	case 2: return 1ull << rndn(64);
	case 3: return ~(1ull << rndn(64));
	case 4: return rndn(4096);
	case 5: return rnd() & rnd(); /* sparse */
	case 6: return rnd() | rnd(); /* dense */
	default: return rnd();
	}
}

/* ---- register access ---- */

static inline uint32_t r32(long off) { g_mmio++; return (uint32_t)P.rd(off, 4); }
static inline uint64_t r64(long off) { g_mmio++; return P.rd(off, 8); }
static inline void w32(long off, uint32_t v) { g_mmio++; P.wr(off, 4, v); }
static inline void w64(long off, uint64_t v) { g_mmio++; P.wr(off, 8, v); }

/* What the VT-d said at the start (CAP, ECAP, VER must not change), and
 * where its fault records and IOTLB registers are. */
extern uint64_t cap0, ecap0;
extern uint32_t ver0;
extern unsigned fro, nfr, iro;

/* ---- W (vtd_hostile_scratch.c) ---- */

static inline uint64_t W(uint64_t off) { return P.w_gpa + off; }

/* The guest-safety rules: see vtd_hostile_scratch.c. */
uint64_t tame_ptr(uint64_t q);
void wq(uint64_t off, uint64_t v);
void wq_ctx_hi(uint64_t off, uint64_t v);
void put_desc(uint64_t qoff, unsigned idx, uint64_t q0, uint64_t q1);
uint32_t rw32(uint64_t off);
void wfill_random(uint64_t off, uint64_t len);
void wzero(uint64_t off, uint64_t len);
void safe_event_regs(void);
void hostile_write(long off, unsigned size, uint64_t v);

/* ---- commands (vtd_hostile_core.c) ---- */

static inline uint32_t gsts(void) { return r32(R_GSTS); }
void gcmd(bool te, bool qie, uint32_t pulse);
void set_root(uint64_t rtaddr);
void ccmd_global(void);
void iotlb_global(void);
void flush_caches(void);
void translate_on(uint64_t rtaddr);
void translate_off(void);
void rebind_clean(const char *why);
void rebind_broken(const char *what);

/* ---- what the guest sees: faults (vtd_hostile_core.c) ---- */

struct obs {
	unsigned faults, pfo, iqe;
	unsigned reasons[256];
};

/* What the current phase has seen so far. */
extern struct obs phase_obs;

void collect(struct obs *o, bool clear_iqe);
void phase_begin(const char *name);
void phase_end(void);
unsigned dma_and_collect(unsigned ms);

/* ---- the phases, and what they lend each other ---- */

void phase_read_all(void);                  /* vtd_hostile_regs.c */
void phase_random_regs(unsigned rounds);
void phase_root_pointers(void);
void phase_register_invalidations(void);
void phase_crafted(void);                   /* vtd_hostile_crafted.c */
void c_pte_valid(void);
void phase_queue(void);                     /* vtd_hostile_queue.c */
void qi_setup(uint64_t iqa);
void qi_off(void);
bool qi_tail(uint64_t tail);
void clear_iqe(void);
void phase_garbage_tables(unsigned rounds); /* vtd_hostile_garbage.c */
uint64_t garbage_page(void);
void phase_race(void);                      /* vtd_hostile_race.c */
void phase_start_vs_flush(unsigned rounds);

/* The whole attack (vtd_hostile.c); 1 when there is no VT-d to attack. */
int hostile_run(unsigned rounds, uint64_t seed);

#endif /* VTD_HOSTILE_H */
