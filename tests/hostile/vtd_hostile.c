/*
 * vtd_hostile.c - a hostile guest for the VMM's emulated Intel VT-d (issue 6).
 *
 * Runs as root (PID 1's child) in the test guest, started by
 * tests/testbed/guest-init for  vmmhostilevtd=ROUNDS,SEED[,ADDR/PREFIX,PEER].
 * It does what a malicious guest kernel could do to the VT-d:
 *
 *   - maps the register page (0xFED90000) and its neighbours through
 *     /dev/mem and reads and writes every register with every size, aligned
 *     and not, with random and with targeted values;
 *   - builds root, context and page tables and invalidation queues in guest
 *     RAM that the guest kernel does not use (the VM has more RAM than the
 *     guest's mem= lets the kernel see; that top part is reached through
 *     /dev/mem too): garbage, and crafted entries with reserved bits, bad
 *     TT/AW, pointers outside RAM or into MMIO, tables that point to
 *     themselves, queues outside RAM or past the end of RAM, tails past the
 *     queue's end, wait descriptors whose status address is outside RAM or
 *     in the VT-d's own window, huge page-selective and device-TLB ranges;
 *   - while translation is on with such tables, makes the virtio-net device
 *     do DMA (raw frames sent on eth0, frames received from L1, the driver
 *     unbound and bound again), so vhost misses and the VMM must walk the
 *     tables and record faults;
 *   - with 2 CPUs, hammers the registers from the second CPU while the
 *     first one rebinds the driver (the VMM's locking under concurrency),
 *     and checks that legitimate IOTLB flushes from the second CPU do not
 *     make the device's start fail (VMM-HOSTILE-VTD-START-VS-FLUSH=);
 *   - restores a sane state at the end and checks the device works again.
 *
 * After each phase it reads FSTS and the fault recording registers and
 * prints what the guest sees:
 *   VMM-HOSTILE-VTD-PHASE=NAME ms=.. faults=.. iqe=.. pfo=.. reasons=..
 * and at the end
 *   VMM-HOSTILE-VTD-FAULTS=N      fault records the guest saw, in total
 *   VMM-HOSTILE-VTD-IQE=N         invalidation queue errors it saw
 *   VMM-HOSTILE-VTD-ANOMALIES=N   register behaviour the model promises but
 *                                 did not show (VMM-HOSTILE-VTD-ANOMALY: lines)
 *   VMM-HOSTILE-VTD-RECOVER=ok|fail|skipped   device works after the restore
 *   VMM-HOSTILE-VTD-DONE
 * A setup failure prints VMM-HOSTILE-VTD-ERROR=why and exits 1.
 *
 * Guest safety. The guest must survive its own attack to report, so every
 * address this program hands the VT-d points into its own scratch window W
 * (the last 16 MiB of the VM's RAM), outside RAM, or is an identity mapping
 * (what the driver expects with intel_iommu=off): the VMM may read the
 * kernel's memory as tables, but never writes it (wait-descriptor status
 * writes) or lets vhost DMA into it. The tame_*() rules below enforce this
 * for every qword written into W and every pointer register, no writable
 * translation ever lands on a page that is also walked as a table, and the
 * fault/completion interrupt registers always hold an MSI address that
 * targets no CPU.
 *
 * Boot the guest with  intel_iommu=off iomem=relaxed mem=480M  in a 512 MiB
 * VM: no driver owns the VT-d, /dev/mem may map it (the Debian kernel has
 * STRICT_DEVMEM and IO_STRICT_DEVMEM; iomem=relaxed lifts the latter, and
 * non-RAM pages are allowed by the former), and 32 MiB of RAM are the
 * kernel's no more. W is found from /sys/firmware/memmap (the VM's e820)
 * and /proc/iomem (what the kernel uses).
 *
 * Build: gcc -static -O2 (tests/testbed/build-guest-initrd.sh). With
 * -DVTD_HOSTILE_SIM the same attack runs on the host against the VMM's
 * VT-d model itself (tests/hostile/vtd_hostile_sim.c), under ASan.
 */
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

static struct plat P;

/* ---- output ---- */

static unsigned g_anomalies, g_faults, g_iqe, g_mmio;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void anomaly(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void anomaly(const char *fmt, ...)
{
	va_list ap;
	g_anomalies++;
	if (g_anomalies > 40)
		return; /* counted, not printed */
	printf("VMM-HOSTILE-VTD-ANOMALY: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- PRNG (splitmix64: seeded, reproducible) ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static unsigned rndn(unsigned n)
{
	return n ? (unsigned)(rnd() % n) : 0;
}

/* A value with structure: zeros, ones, single bits, small, random. */
static uint64_t rnd_value(void)
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

static uint32_t r32(long off) { g_mmio++; return (uint32_t)P.rd(off, 4); }
static uint64_t r64(long off) { g_mmio++; return P.rd(off, 8); }
static void w32(long off, uint32_t v) { g_mmio++; P.wr(off, 4, v); }
static void w64(long off, uint64_t v) { g_mmio++; P.wr(off, 8, v); }

static uint64_t cap0, ecap0;
static uint32_t ver0;
static unsigned fro, nfr, iro;

/* ---- W ---- */

static uint64_t W(uint64_t off) { return P.w_gpa + off; }

/*
 * The guest-safety rules (see the top of the file). A pointer below W is
 * moved out of RAM by setting bit 46 (still below the 48-bit width, so no
 * new reserved-bit fault comes of it); pointers into W, beyond the end of
 * RAM and into MMIO are kept.
 *   tame_ptr:   for RTADDR and IQA, pointers whatever their low bits;
 *   tame_entry: for a qword of a table. Root and context entries (which
 *               carry no permission: the danger is a valid walk from them
 *               into the kernel's RAM) start 16-byte aligned, P = bit 0.
 *               Any qword may be read as a PTE, but R-only ones are safe
 *               (the walk ANDs R/W over the levels: vhost could only read)
 *               so a qword at 8 mod 16 is moved only when W (bit 1) is set;
 *   tame_pair:  for a 16-byte slot that may be read as a queued
 *               descriptor: a wait with SW writes its status address.
 */
static uint64_t tame_ptr(uint64_t q)
{
	if ((q & 0x000FFFFFFFFFF000ull) < P.w_gpa)
		q |= 1ull << 46;
	return q;
}

static uint64_t tame_entry(uint64_t off, uint64_t q)
{
	return (q & ((off & 8) ? 2 : 3)) ? tame_ptr(q) : q;
}

static void tame_pair(uint64_t off16)
{
	uint64_t q[2];
	memcpy(q, P.w + off16, 16);
	if ((q[0] & 0xf) == D_WAIT && (q[0] & W_SW) && (q[1] & ~3ull) < P.w_gpa) {
		q[1] |= 1ull << 46;
		memcpy(P.w + off16 + 8, &q[1], 8);
	}
}

static bool in_garbage(uint64_t off)
{
	return off >= W_GARBAGE && off < W_GARBAGE + 0x1000ull * W_GARBAGE_N;
}

/*
 * A qword of a table into W. In the garbage pages, where every pointer
 * leads to another garbage page and so every translation lands on a table,
 * W (bit 1) is cleared: vhost may read tables as rings but never write
 * them (its writes could forge entries pointing into the kernel).
 */
static void wq(uint64_t off, uint64_t v)
{
	if (in_garbage(off))
		v &= ~PTE_W;
	v = tame_entry(off, v);
	memcpy(P.w + off, &v, 8);
	tame_pair(off & ~15ull);
}

/*
 * The high qword of a context entry (AW, DID) in the fixed context table,
 * which is never walked as a page table: written as it is (tame_entry
 * would take AW=2 for a writable PTE and move it).
 */
static void wq_ctx_hi(uint64_t off, uint64_t v)
{
	memcpy(P.w + off, &v, 8);
}

/* A descriptor into a queue in W: only the status address is tamed. */
static void put_desc(uint64_t qoff, unsigned idx, uint64_t q0, uint64_t q1)
{
	uint64_t off = qoff + 16 * (uint64_t)idx;
	if (in_garbage(off))
		q0 &= ~PTE_W, q1 &= ~PTE_W;
	memcpy(P.w + off, &q0, 8);
	memcpy(P.w + off + 8, &q1, 8);
	tame_pair(off);
}

static uint32_t rw32(uint64_t off)
{
	uint32_t v;
	memcpy(&v, P.w + off, 4);
	return v;
}

static void wfill_random(uint64_t off, uint64_t len)
{
	for (uint64_t i = 0; i + 8 <= len; i += 8)
		wq(off + i, rnd_value());
}

static void wzero(uint64_t off, uint64_t len)
{
	memset(P.w + off, 0, len);
}

/* ---- keeping the VT-d's pointers and interrupt targets safe ---- */

/* RTADDR and IQA must always hold a tame base (they are latched later). */
static void fix_pointer_regs(void)
{
	uint64_t v = r64(R_RTADDR);
	if (tame_ptr(v) != v)
		w64(R_RTADDR, tame_ptr(v));
	v = r64(R_IQA);
	if (tame_ptr(v) != v)
		w64(R_IQA, tame_ptr(v));
}

static void safe_event_regs(void)
{
	w32(R_FEADDR, SAFE_MSI_ADDR);
	w32(R_FEUADDR, 0);
	w32(R_FEDATA, 0x4000 | 0xEE); /* fixed, vector 0xEE: irrelevant, no target */
	w32(R_IEADDR, SAFE_MSI_ADDR);
	w32(R_IEUADDR, 0);
	w32(R_IEDATA, 0x4000 | 0xED);
}

/*
 * Bytes of a random write that land on the interrupt data/address
 * registers get safe values (a 4- or 8-byte aligned write is the only kind
 * the model honours, but any write is filtered).
 */
static uint64_t filter_event_bytes(long off, unsigned size, uint64_t v)
{
	static const struct { long reg; uint32_t val; } safe[] = {
		{ R_FEDATA, 0x40EE }, { R_FEADDR, SAFE_MSI_ADDR }, { R_FEUADDR, 0 },
		{ R_IEDATA, 0x40ED }, { R_IEADDR, SAFE_MSI_ADDR }, { R_IEUADDR, 0 },
	};
	for (unsigned b = 0; b < size; b++) {
		long a = off + (long)b;
		for (unsigned i = 0; i < sizeof(safe) / sizeof(safe[0]); i++) {
			if (a >= safe[i].reg && a < safe[i].reg + 4) {
				uint64_t byte = (safe[i].val >> (8 * (a - safe[i].reg))) & 0xff;
				v = (v & ~(0xffull << (8 * b))) | byte << (8 * b);
			}
		}
	}
	return v;
}

static bool overlaps(long off, unsigned size, long reg, unsigned len)
{
	return off < reg + (long)len && reg < off + (long)size;
}

/* Any access the guest may make, made safe; returns what a read gave. */
static void hostile_write(long off, unsigned size, uint64_t v)
{
	v = filter_event_bytes(off, size, v);
	g_mmio++;
	P.wr(off, size, v);
	if (overlaps(off, size, R_RTADDR, 8) || overlaps(off, size, R_IQA, 8))
		fix_pointer_regs();
}

/* ---- commands ---- */

static uint32_t gsts(void) { return r32(R_GSTS); }

/* GCMD with the level bits (TE, QIE) as wanted; one-shot bits in 'pulse'. */
static void gcmd(bool te, bool qie, uint32_t pulse)
{
	w32(R_GCMD, (te ? G_TE : 0) | (qie ? G_QIE : 0) | pulse);
}

static void set_root(uint64_t rtaddr)
{
	w64(R_RTADDR, tame_ptr(rtaddr));
	uint32_t s = gsts();
	gcmd(s & G_TE, s & G_QIE, G_SRTP);
	if (!(gsts() & G_SRTP))
		anomaly("GSTS.RTPS clear after SRTP (gsts 0x%x)", gsts());
}

static void ccmd_global(void)
{
	w64(R_CCMD, CCMD_ICC | 1ull << 61);
	uint64_t v = r64(R_CCMD);
	if (v & CCMD_ICC)
		anomaly("CCMD.ICC still set after a global invalidation (0x%" PRIx64 ")", v);
}

static void iotlb_global(void)
{
	w64(iro + 8, IOTLB_IVT | 1ull << 60);
	uint64_t v = r64(iro + 8);
	if (v & IOTLB_IVT)
		anomaly("IOTLB.IVT still set after a global invalidation (0x%" PRIx64 ")", v);
}

static void flush_caches(void)
{
	ccmd_global();
	iotlb_global();
}

/* ---- what the guest sees: faults ---- */

struct obs {
	unsigned faults, pfo, iqe;
	unsigned reasons[256];
};

static void check_invariants(const char *where)
{
	uint64_t c = r64(R_CAP), e = r64(R_ECAP);
	uint32_t v = r32(R_VER), s = gsts();
	if (c != cap0 || e != ecap0 || v != ver0)
		anomaly("%s: CAP/ECAP/VER changed: 0x%" PRIx64 "/0x%" PRIx64 "/0x%x", where, c, e, v);
	if (s & ~GSTS_KNOWN)
		anomaly("%s: GSTS has bits the model never sets: 0x%x", where, s);
}

/* Read and clear the fault records; clear IQE too when clear_iqe. */
static void collect(struct obs *o, bool clear_iqe)
{
	uint32_t fsts = r32(R_FSTS);
	for (unsigned i = 0; i < nfr; i++) {
		long at = (long)fro + 16 * (long)i;
		uint64_t hi = r64(at + 8);
		if (!(hi & FRCD_F))
			continue;
		unsigned reason = (unsigned)(hi >> 32) & 0xff;
		o->faults++;
		o->reasons[reason]++;
		if (reason == 0 || reason > 0xC)
			anomaly("fault record %u has reason 0x%x (hi 0x%016" PRIx64 ")", i, reason, hi);
		/* F is RW1C. (Not re-read: the event loop may record a new fault
		 * into this very slot at any moment.) */
		w32(at + 12, 1u << 31);
	}
	if (fsts & FSTS_PFO)
		o->pfo++;
	if (fsts & FSTS_IQE)
		o->iqe++;
	w32(R_FSTS, (fsts & (FSTS_W1C & ~FSTS_IQE)) | (clear_iqe ? (fsts & FSTS_IQE) : 0));
}

static uint64_t phase_t0;
static const char *phase_name;
static struct obs phase_obs;

static void phase_begin(const char *name)
{
	phase_name = name;
	phase_t0 = now_ms();
	memset(&phase_obs, 0, sizeof(phase_obs));
	struct obs junk = { 0 };
	collect(&junk, true); /* a phase starts with nothing pending */
	phase_obs.faults = junk.faults; /* leftovers count for this phase */
	for (unsigned i = 0; i < 256; i++)
		phase_obs.reasons[i] = junk.reasons[i];
}

static void phase_end(void)
{
	collect(&phase_obs, true);
	check_invariants(phase_name);
	char rs[256] = "";
	size_t n = 0;
	for (unsigned i = 0; i < 256 && n + 16 < sizeof(rs); i++)
		if (phase_obs.reasons[i])
			n += (size_t)snprintf(rs + n, sizeof(rs) - n, "%s0x%x:%u", n ? "," : "", i,
					      phase_obs.reasons[i]);
	say("VMM-HOSTILE-VTD-PHASE=%s ms=%" PRIu64 " faults=%u iqe=%u pfo=%u reasons=%s mmio=%u",
	    phase_name, now_ms() - phase_t0, phase_obs.faults, phase_obs.iqe, phase_obs.pfo,
	    n ? rs : "-", g_mmio);
	g_faults += phase_obs.faults;
	g_iqe += phase_obs.iqe;
}

/*
 * DMA (frames out; frames in come from L1 all along), then wait up to ms
 * for a fault record to show (FSTS.PPF), and collect.
 */
static unsigned dma_and_collect(unsigned ms)
{
	unsigned before = phase_obs.faults;
	P.dma(0);
	for (unsigned t = 0; t < ms; t += 25) {
		if (r32(R_FSTS) & FSTS_PPF)
			break;
		P.sleep_ms(25);
	}
	collect(&phase_obs, false);
	return phase_obs.faults - before;
}

/* ---- phase 1: read everything ---- */

static void phase_read_all(void)
{
	phase_begin("read-all");
	for (long off = 0; off < VTD_SIZE; off += 4)
		(void)r32(off);
	for (long off = 0; off < VTD_SIZE; off += 8)
		(void)r64(off);
	/* Bytes, words and unaligned accesses over the implemented registers. */
	for (long off = 0; off < 0x110; off++) {
		g_mmio += 3;
		(void)P.rd(off, 1);
		(void)P.rd(off, 2);
		(void)P.rd(off, (off & 3) ? 4 : 8);
	}
	for (long off = (long)fro; off < (long)fro + 16 * (long)nfr; off += 3) {
		g_mmio++;
		(void)P.rd(off, 8);
	}
	/* Across the page edges, and the pages around it. */
	long edges[] = { -8, -4, -2, -1, VTD_SIZE - 8, VTD_SIZE - 6, VTD_SIZE - 4, VTD_SIZE - 2,
			 VTD_SIZE - 1, VTD_SIZE, VTD_SIZE + 8 };
	for (unsigned i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		for (unsigned size = 1; size <= 8; size *= 2)
			if (edges[i] >= P.nb_lo && edges[i] + (long)size <= P.nb_hi) {
				g_mmio++;
				(void)P.rd(edges[i], size);
			}
	phase_end();
}

/* ---- phase 2: random writes everywhere ---- */

/* Offsets of registers the spec has (implemented here or not). */
static const long known_regs[] = {
	0x00, 0x04, 0x08, 0x0c, 0x10, 0x14, 0x18, 0x1c, 0x20, 0x24, 0x28, 0x2c, 0x30, 0x34,
	0x38, 0x3c, 0x40, 0x44, 0x48, 0x4c, 0x50, 0x58, 0x5c, 0x64, 0x68, 0x6c, 0x70, 0x78,
	0x80, 0x84, 0x88, 0x8c, 0x90, 0x94, 0x98, 0x9c, 0xa0, 0xa4, 0xa8, 0xac, 0xb0, 0xb4,
	0xb8, 0xbc, 0xc0, 0xc8, 0xd0, 0xdc, 0xe0, 0xe4, 0xe8, 0xec, 0xf0, 0xf8,
	0x100, 0x104, 0x108, 0x10c, 0x110, 0x200, 0x208, 0x210, 0x218, 0x270, 0x278, 0x280,
	0x400, 0x800, 0xe00, 0xff8, 0xffc,
};

static long random_offset(void)
{
	long off;
	switch (rndn(8)) {
	case 0: /* anywhere, neighbours included */
		off = P.nb_lo + (long)rndn((unsigned)(P.nb_hi - P.nb_lo - 8));
		break;
	case 1: /* anywhere in the page */
		off = (long)rndn(VTD_SIZE);
		break;
	case 2: /* the fault records and the IOTLB registers */
		off = rndn(2) ? (long)fro + (long)rndn(16 * nfr) : (long)iro + (long)rndn(16);
		break;
	default: /* a known register, sometimes misaligned */
		off = known_regs[rndn(sizeof(known_regs) / sizeof(known_regs[0]))];
		if (rndn(4) == 0)
			off += (long)rndn(8) - 3;
		break;
	}
	if (off < P.nb_lo)
		off = P.nb_lo;
	if (off > P.nb_hi - 8)
		off = P.nb_hi - 8;
	return off;
}

static void phase_random_regs(unsigned rounds)
{
	phase_begin("random-registers");
	for (unsigned r = 0; r < rounds; r++) {
		long off = random_offset();
		unsigned size = 1u << rndn(4);
		hostile_write(off, size, rnd_value());
		if (rndn(2)) {
			g_mmio++;
			(void)P.rd(random_offset(), 1u << rndn(4));
		}
		/* Now and then: DMA in whatever state this left. */
		if (r % 64 == 63)
			(void)dma_and_collect(20);
		if (r % 16 == 15)
			collect(&phase_obs, rndn(2));
	}
	phase_end();
}

/* ---- phase 3: root table pointers ---- */

static void translate_on(uint64_t rtaddr)
{
	uint32_t s = gsts();
	w64(R_RTADDR, tame_ptr(rtaddr));
	gcmd(s & G_TE, s & G_QIE, G_SRTP);
	flush_caches();
	gcmd(true, s & G_QIE, 0);
	if (!(gsts() & G_TE))
		anomaly("GSTS.TES clear after TE");
}

static void translate_off(void)
{
	gcmd(false, gsts() & G_QIE, 0);
	if (gsts() & G_TE)
		anomaly("GSTS.TES set after TE off");
}

/*
 * With translation off the device must start: vhost runs again for the
 * next phase's DMA (a restart under broken tables leaves it stopped).
 */
static void rebind_clean(const char *why)
{
	translate_off();
	int rc = P.rebind();
	if (rc == 1)
		anomaly("%s: the device did not start with translation off (NEEDS_RESET)", why);
	else if (rc < 0)
		say("VMM-HOSTILE-VTD-NOTE: %s: driver restart failed", why);
}

/* A driver restart while translation is broken: faults, no start. */
static void rebind_broken(const char *what)
{
	unsigned before = phase_obs.faults;
	int rc = P.rebind();
	collect(&phase_obs, false);
	say("VMM-HOSTILE-VTD-REBIND=%s faults=%u device=%s", what, phase_obs.faults - before,
	    rc == 0 ? "started" : rc == 1 ? "needs-reset" : "none");
}

static void phase_root_pointers(void)
{
	phase_begin("root-pointers");
	const uint64_t ptrs[] = {
		P.ram_end,                    /* just past RAM */
		P.ram_end - 0x1000 + 0x10,    /* top page of RAM, zero, unaligned */
		W(W_ZERO) | 0xabc,            /* unaligned: bits 11:0 are ignored */
		W(W_ROOT) + 0x800,            /* half a table */
		VTD_BASE,                     /* the VT-d's own registers */
		0xFEE00000ull,                /* the LAPIC */
		0xC0000000ull,                /* the PCI window */
		0xFFFFF000ull,                /* top of 4 GiB */
		1ull << 46, 1ull << 47,       /* far beyond RAM, inside/at the width */
		1ull << 52, 1ull << 63,       /* beyond any width */
		~0xfffull,                    /* 2^64 - 4 KiB: the walk's sums must not wrap */
		~0ull,
	};
	wzero(W_ROOT, 0x1000);
	for (unsigned i = 0; i < sizeof(ptrs) / sizeof(ptrs[0]); i++) {
		translate_on(ptrs[i]);
		(void)dma_and_collect(400);
	}
	/* One DMA source that does not depend on traffic: the driver's restart. */
	translate_on(P.ram_end);
	rebind_broken("root-outside-ram");
	rebind_clean("after root-pointers");
	phase_end();
}

/* ---- phase 4: crafted root, context and page-table entries ---- */

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
static void c_pte_valid(void) { chain4(pdpt_to_pd(), pd_to_pt(), W(W_DMA) | PTE_RW); }

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

static void phase_crafted(void)
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

/* ---- phase 5: the invalidation queue ---- */

static uint64_t wait_desc(uint32_t data, bool sw, bool iflag)
{
	return D_WAIT | (sw ? W_SW : 0) | (iflag ? W_IF : 0) | (uint64_t)data << 32;
}

/* QI off, IQE cleared (no rerun while off), queue at iqa, head 0; QI on. */
static void qi_setup(uint64_t iqa)
{
	uint32_t s = gsts();
	gcmd(s & G_TE, false, 0);
	w32(R_FSTS, FSTS_IQE);
	w64(R_IQT, 0);
	w64(R_IQA, tame_ptr(iqa));
	gcmd(s & G_TE, true, 0);
	if (!(gsts() & G_QIE))
		anomaly("GSTS.QIES clear after QIE");
	if (r64(R_IQH) != 0)
		anomaly("IQH 0x%" PRIx64 " after enabling the queue, expected 0", r64(R_IQH));
}

static void qi_off(void)
{
	gcmd(gsts() & G_TE, false, 0);
}

/* Write IQT; returns FSTS.IQE afterwards. */
static bool qi_tail(uint64_t tail)
{
	w64(R_IQT, tail);
	return (r32(R_FSTS) & FSTS_IQE) != 0;
}

static void expect_iqe(const char *what, bool iqe, bool want)
{
	if (iqe != want)
		anomaly("queue test '%s': IQE %s, expected %s", what, iqe ? "set" : "clear",
			want ? "set" : "clear");
}

static void clear_iqe(void)
{
	collect(&phase_obs, true);
}

/* A queue of n valid descriptors of every kind; the last is a status wait. */
static void fill_valid_queue(uint64_t qoff, unsigned n, uint32_t status)
{
	for (unsigned i = 0; i + 1 < n; i++) {
		uint64_t q0, q1;
		switch (i % 8) {
		case 0: /* context cache, global / domain / device */
			q0 = D_CC | (1ull + rndn(3)) << 4 | (uint64_t)rndn(65536) << 16 |
			     (uint64_t)rndn(65536) << 32 | (uint64_t)rndn(4) << 48;
			q1 = 0;
			break;
		case 1: /* IOTLB page: 2^64 - 4 KiB, the largest and a bigger mask */
			q0 = D_IOTLB | 3ull << 4 | (uint64_t)rndn(8) << 16 | (rndn(2) ? 3ull << 6 : 0);
			q1 = ~0xfffull | (uint64_t)rndn(64) | (uint64_t)rndn(2) << 6;
			break;
		case 2: /* IOTLB global / domain */
			q0 = D_IOTLB | (1ull + rndn(2)) << 4 | (uint64_t)rndn(65536) << 16;
			q1 = 0;
			break;
		case 3: /* device-TLB, all sizes up to "everything", for device 00:01.0 */
			q0 = D_DEVTLB | 0x0008ull << 32 | (uint64_t)rndn(32) << 16;
			q1 = rndn(2) ? (~0ull << rndn(64)) | 1 : (rnd() & ~0xfffull) | 1;
			q1 &= ~0xffeull;
			break;
		case 4: /* device-TLB of another device, one page */
			q0 = D_DEVTLB | (uint64_t)rndn(65536) << 32;
			q1 = rnd() & ~0xfffull;
			break;
		case 5: /* interrupt entry cache: accepted, ignored */
			q0 = D_IEC | (uint64_t)rndn(2) << 4;
			q1 = 0;
			break;
		case 6: /* a wait without status and without interrupt */
			q0 = wait_desc(0, false, false);
			q1 = 0;
			break;
		default: /* a wait writing a status word into W */
			q0 = wait_desc((uint32_t)rnd(), true, rndn(4) == 0);
			q1 = W(W_STATUS) + 4 * rndn(1024);
			break;
		}
		put_desc(qoff, i, q0, q1);
	}
	put_desc(qoff, n - 1, wait_desc(status, true, false), W(W_STATUS));
}

static void phase_queue(void)
{
	phase_begin("invalidation-queue");
	uint64_t iqa = W(W_IQ);
	bool iqe;

	/* Q1: the queue outside RAM. */
	qi_setup(P.ram_end);
	iqe = qi_tail(0x10);
	expect_iqe("queue outside RAM", iqe, true);
	clear_iqe(); /* the model retries from IQH: IQE again */
	iqe = (r32(R_FSTS) & FSTS_IQE) != 0;
	expect_iqe("queue outside RAM, after clearing IQE", iqe, true);
	clear_iqe();

	/* Q2: a queue that starts on the last page of RAM and runs past it. */
	wzero(W_TOP, 0x1000);
	for (unsigned i = 0; i < 256; i++)
		put_desc(W_TOP, i, wait_desc(0, false, false), 0);
	qi_setup(W(W_TOP) | 1 /* QS=1: 2 pages */);
	iqe = qi_tail(0x1010);
	expect_iqe("queue past the end of RAM", iqe, true);
	if (r64(R_IQH) != 0x1000)
		anomaly("queue past the end of RAM: IQH 0x%" PRIx64 ", expected 0x1000", r64(R_IQH));
	clear_iqe();
	qi_off();
	wzero(W_TOP, 0x1000); /* the top page serves as an empty table too */

	/* Q3: tail past the queue's end (QS=0: 4 KiB), then the largest tail. */
	wzero(W_IQ, 0x80000);
	qi_setup(iqa);
	iqe = qi_tail(0x1000);
	expect_iqe("tail past the end", iqe, true);
	clear_iqe();
	qi_setup(iqa);
	iqe = qi_tail(~0ull);
	expect_iqe("tail all ones", iqe, true);
	clear_iqe();

	/* Q4: unaligned and partial tail writes. */
	qi_setup(iqa);
	put_desc(W_IQ, 0, wait_desc(0x11111111, true, false), W(W_STATUS));
	w32(R_IQT + 4, 0xffffffff);         /* high half only: no run */
	w32(R_IQT, 0x1f);                   /* low bits 3:0 are not part of the tail */
	g_mmio += 2;
	P.wr(R_IQT + 1, 1, 0x20);           /* byte and unaligned: ignored */
	P.wr(R_IQT + 2, 4, 0x20);
	if (r64(R_IQH) != 0x10 || rw32(W_STATUS) != 0x11111111)
		anomaly("tail 0x1f: IQH 0x%" PRIx64 " status 0x%x, expected 0x10, 0x11111111",
			r64(R_IQH), rw32(W_STATUS));
	clear_iqe();

	/* Q5: wait descriptors with status addresses out of bounds. */
	static const struct { const char *what; uint64_t addr; bool ok; } st[] = {
		{ "status in W", 0, true },
		{ "status at the last word of RAM", 1, true },
		{ "status just past RAM", 2, false },
		{ "status in the VT-d registers (IQH)", VTD_BASE + R_IQH, false },
		{ "status in the VT-d registers (GCMD)", VTD_BASE + R_GCMD, false },
		{ "status at the LAPIC", 0xFEE000B0ull, false },
		{ "status at 2^64 - 4", ~3ull, false },
		{ "status address with bits 1:0 set", 3, false },
	};
	for (unsigned i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
		uint64_t a = st[i].addr;
		if (a == 0)
			a = W(W_STATUS) + 8;
		else if (a == 1)
			a = P.ram_end - 4;
		else if (a == 2)
			a = P.ram_end;
		else if (a == 3)
			a = W(W_STATUS) + 0x13; /* bits 1:0 of the address qword are reserved */
		uint32_t data = 0xC0DE0000u | i;
		qi_setup(iqa);
		put_desc(W_IQ, 0, wait_desc(data, true, true), a);
		iqe = qi_tail(0x10);
		expect_iqe(st[i].what, iqe, !st[i].ok);
		if (st[i].ok) {
			uint64_t woff = (a & ~3ull) - P.w_gpa;
			if (rw32(woff) != data)
				anomaly("%s: status word 0x%x, expected 0x%x", st[i].what, rw32(woff), data);
		}
		if (!iqe && (r32(R_ICS) & 1) == 0)
			anomaly("%s: ICS.IWC clear after a wait with IF", st[i].what);
		w32(R_ICS, 1);
		clear_iqe();
	}
	if (r32(VTD_SIZE - 4) != 0) /* the window stays what it was */
		anomaly("register 0xffc reads 0x%x", r32(VTD_SIZE - 4));

	/* Q6: reserved bits and unknown types, one at a time. */
	static const struct { uint64_t q0, q1; } bad[] = {
		{ 0, 0 },                                   /* type 0 */
		{ 6, 0 }, { 7, 0 }, { 0xf, 0 },             /* PASID and unknown types */
		{ D_WAIT | 1ull << 9, 0 },                  /* type bits 11:9 */
		{ D_CC | 1ull << 4 | 1ull << 8, 0 },        /* CC bits 15:6 */
		{ D_CC | 1ull << 4, 1 },                    /* CC qword 1 */
		{ D_CC, 0 },                                /* CC G=0 */
		{ D_IOTLB | 1ull << 4 | 1ull << 40, 0 },    /* IOTLB bits 63:32 */
		{ D_IOTLB | 3ull << 4, 1ull << 8 },         /* IOTLB qword 1 bits 11:7 */
		{ D_IOTLB, 0 },                             /* IOTLB G=0 */
		{ D_DEVTLB | 1ull << 5, 0 },                /* DEVTLB bits 11:4 */
		{ D_DEVTLB, 2 },                            /* DEVTLB qword 1 bits 11:1 */
		{ D_IEC | 1ull << 10, 0 },                  /* IEC bits 26:5 */
		{ D_IEC, 1 },                               /* IEC qword 1 */
		{ D_WAIT | 1ull << 7, 0 },                  /* WAIT PD without ECAP.PDS */
		{ D_WAIT | W_SW, 1 },                       /* WAIT qword 1 bits 1:0 */
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		qi_setup(iqa);
		put_desc(W_IQ, 0, wait_desc(0, false, false), 0);
		put_desc(W_IQ, 1, bad[i].q0, bad[i].q1);
		put_desc(W_IQ, 2, wait_desc(0x5a5a5a5a, true, false), W(W_STATUS));
		iqe = qi_tail(0x30);
		if (!iqe || r64(R_IQH) != 0x10)
			anomaly("bad descriptor %u (0x%" PRIx64 ", 0x%" PRIx64 "): IQE %d IQH 0x%" PRIx64
				", expected IQE at 0x10", i, bad[i].q0, bad[i].q1, iqe, r64(R_IQH));
		/* Overwrite it, clear IQE: the queue goes on (what Linux does). */
		put_desc(W_IQ, 1, wait_desc(0, false, false), 0);
		clear_iqe();
		if (r64(R_IQH) != 0x30 || rw32(W_STATUS) != 0x5a5a5a5a)
			anomaly("bad descriptor %u: after the fix IQH 0x%" PRIx64 " status 0x%x", i,
				r64(R_IQH), rw32(W_STATUS));
		wq(W_STATUS, 0);
	}

	/* Q7: a full queue (QS=7, 32768 slots) of valid descriptors, in two runs. */
	qi_setup(iqa | 7);
	fill_valid_queue(W_IQ, 32767, 0xfeedf00d);
	iqe = qi_tail(0x7fff0 - 0x4000);
	expect_iqe("full queue, first part", iqe, false);
	iqe = qi_tail(0x7fff0);
	expect_iqe("full queue", iqe, false);
	if (r64(R_IQH) != 0x7fff0 || rw32(W_STATUS) != 0xfeedf00d)
		anomaly("full queue: IQH 0x%" PRIx64 " status 0x%x", r64(R_IQH), rw32(W_STATUS));
	/* And around the end: head 0x7fff0 -> 0 -> 0x20. */
	put_desc(W_IQ, 32767, wait_desc(0, false, false), 0);
	put_desc(W_IQ, 0, wait_desc(0, false, false), 0);
	put_desc(W_IQ, 1, wait_desc(0xabcd0001, true, false), W(W_STATUS));
	iqe = qi_tail(0x20);
	expect_iqe("wrap-around", iqe, false);
	if (r64(R_IQH) != 0x20 || rw32(W_STATUS) != 0xabcd0001)
		anomaly("wrap-around: IQH 0x%" PRIx64 " status 0x%x", r64(R_IQH), rw32(W_STATUS));
	clear_iqe();

	/* Q8: IQA shrunk under a running queue: the head is now past its end. */
	qi_setup(iqa | 1);
	for (unsigned i = 0; i < 300; i++)
		put_desc(W_IQ, i, wait_desc(0, false, false), 0);
	(void)qi_tail(0x12c0);
	w64(R_IQA, iqa); /* QS=0 while enabled */
	iqe = qi_tail(0x10);
	expect_iqe("queue shrunk under the head", iqe, true);
	clear_iqe();
	/* IQA moved out of RAM while enabled. */
	w64(R_IQA, P.ram_end | 2);
	(void)qi_tail(0x20);
	clear_iqe();

	/* Q9: random descriptors, many runs; DMA in between. */
	for (unsigned run = 0; run < 24; run++) {
		unsigned qs = rndn(8);
		uint64_t base = W(W_IQ) + (rndn(4) == 0 ? 0x1000ull * rndn(64) : 0);
		if (base + (0x1000ull << qs) > W(W_DMA))
			qs = 0;
		qi_setup(base | qs);
		unsigned slots = 256u << qs;
		for (unsigned i = 0; i < slots && i < 4096; i++) {
			uint64_t q0 = rnd_value(), q1 = rnd_value();
			if (rndn(2))
				q0 = (q0 & ~0xfull) | (1 + rndn(5)); /* a known type, junk elsewhere */
			if (rndn(4) == 0)
				q0 &= 0xffffffff0000007full; /* fewer reserved bits */
			put_desc(base - P.w_gpa, i, q0, q1);
		}
		for (unsigned k = 0; k < 4; k++) {
			uint64_t tail = rndn(2) ? 16ull * rndn(slots) : rnd_value();
			(void)qi_tail(tail);
			if (rndn(2))
				clear_iqe();
		}
		if (run % 6 == 5)
			(void)dma_and_collect(20);
		clear_iqe();
	}
	qi_off();
	phase_end();
}

/* ---- phase 6: register-based invalidations ---- */

static void phase_register_invalidations(void)
{
	phase_begin("register-invalidations");
	for (unsigned g = 0; g < 4; g++) {
		for (unsigned k = 0; k < 8; k++) {
			uint64_t v = CCMD_ICC | (uint64_t)g << 61 | (uint64_t)rndn(4) << 32 |
				     (rnd() & 0xffffffffull);
			w64(R_CCMD, v);
			uint64_t back = r64(R_CCMD);
			if (back & CCMD_ICC)
				anomaly("CCMD G=%u: ICC still set (0x%" PRIx64 ")", g, back);
			if (((back >> 59) & 3) != g)
				anomaly("CCMD G=%u: CAIG %u", g, (unsigned)((back >> 59) & 3));
			/* The same as two halves, high last. */
			w32(R_CCMD, (uint32_t)v);
			w32(R_CCMD + 4, (uint32_t)(v >> 32));
		}
	}
	static const uint64_t ivas[] = { ~0xfffull, ~0xfffull | 18, ~0xfffull | 19, ~0xfffull | 63,
					 ~0xfffull | 0x7f, 0, 0x3f, 0x1000 | 12 };
	for (unsigned g = 0; g < 4; g++) {
		for (unsigned i = 0; i < sizeof(ivas) / sizeof(ivas[0]); i++) {
			w64(iro, ivas[i]);
			uint64_t v = IOTLB_IVT | (uint64_t)g << 60 | (uint64_t)rndn(65536) << 32 |
				     (uint64_t)rndn(4) << 48;
			w64(iro + 8, v);
			uint64_t back = r64(iro + 8);
			if (back & IOTLB_IVT)
				anomaly("IOTLB G=%u: IVT still set (0x%" PRIx64 ")", g, back);
			w32(iro + 8, 0);
			w32(iro + 12, (uint32_t)(v >> 32));
		}
	}
	/* With translation on and valid tables: flushes that reach vhost. */
	wzero(0, W_GARBAGE);
	c_pte_valid();
	translate_on(W(W_ROOT));
	(void)dma_and_collect(100);
	for (unsigned i = 0; i < 16; i++) {
		w64(iro, ivas[rndn(sizeof(ivas) / sizeof(ivas[0]))]);
		w64(iro + 8, IOTLB_IVT | 3ull << 60 | 3ull << 32);
		ccmd_global();
	}
	rebind_clean("after register-invalidations"); /* vhost used W as rings */
	phase_end();
}

/* ---- phase 7: garbage tables, garbage everywhere ---- */

/*
 * The garbage pages form a random graph of plausible tables: root-shaped
 * pages point to context-shaped ones, those to page-table-shaped ones,
 * which point among themselves; a quarter of the page tables and a
 * tenth of all entries are plain junk. Every qword has W cleared (wq),
 * so vhost may read through them but never write.
 */
#define G_ROOTS 16u
#define G_CTXS  32u

static uint64_t garbage_page(void)
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

static void phase_garbage_tables(unsigned rounds)
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

/* ---- phase 8: two CPUs at once ---- */

static void race_hammer(uint64_t seed, unsigned ms)
{
	rng_state = seed;
	uint64_t end = now_ms() + ms;
	while (now_ms() < end) {
		switch (rndn(8)) {
		case 0: case 1:
			gcmd(rndn(2), false, rndn(2) ? G_SRTP : 0);
			break;
		case 2:
			w64(R_CCMD, CCMD_ICC | 1ull << 61);
			break;
		case 3:
			w64(iro + 8, IOTLB_IVT | 1ull << 60);
			break;
		case 4:
			w32(R_FSTS, ~0u);
			break;
		case 5: /* a fault record cleared under the event loop's feet */
			w32((long)fro + 16 * (long)rndn(nfr) + 12, 1u << 31);
			break;
		case 6: /* valid (into W), garbage (read-only) or outside RAM */
			w64(R_RTADDR, tame_ptr(rndn(3) == 0 ? W(W_ROOT) : rndn(2) ? garbage_page()
									   : P.ram_end));
			break;
		default:
			(void)r64(R_FSTS);
			break;
		}
	}
}

static void race_work(void)
{
	for (unsigned i = 0; i < 3; i++) {
		(void)P.rebind();
		(void)dma_and_collect(50);
	}
}

/*
 * Not hostile: with translation off, the second CPU only invalidates the
 * IOTLB (what a guest's lazy flush does on any CPU) while the first one
 * restarts the driver. The VMM prefills the rings' translations and then
 * attaches vhost; an invalidation in between must not make the start fail.
 */
static unsigned sf_tries, sf_fails, sf_n;

static void flush_hammer(uint64_t seed, unsigned ms)
{
	(void)seed;
	uint64_t end = now_ms() + ms;
	while (now_ms() < end)
		w64(iro + 8, IOTLB_IVT | 1ull << 60);
}

static void flush_work(void)
{
	for (unsigned i = 0; i < sf_n; i++) {
		int rc = P.rebind();
		sf_tries += rc >= 0;
		sf_fails += rc == 1;
	}
}

static void phase_start_vs_flush(unsigned rounds)
{
	if (P.race == NULL)
		return;
	sf_n = rounds / 64 > 6 ? rounds / 64 : 6;
	phase_begin("start-vs-flush");
	rebind_clean("before start-vs-flush");
	sf_tries = sf_fails = 0;
	if (P.race(flush_hammer, 0, 2000 * sf_n, flush_work) == 0)
		say("VMM-HOSTILE-VTD-START-VS-FLUSH=%u/%u device starts failed", sf_fails, sf_tries);
	rebind_clean("after start-vs-flush");
	phase_end();
}

static void phase_race(void)
{
	if (P.race == NULL)
		return;
	phase_begin("two-cpus");
	wzero(0, W_GARBAGE);
	c_pte_valid();
	set_root(W(W_ROOT));
	int rc = P.race(race_hammer, rnd(), 3000, race_work);
	rebind_clean("after two-cpus");
	phase_end();
	if (rc < 0)
		say("VMM-HOSTILE-VTD-NOTE: no second CPU: phase two-cpus skipped");
}

/* ---- restore ---- */

static void restore(void)
{
	phase_begin("restore");
	translate_off();
	qi_off();
	w64(R_RTADDR, W(W_ZERO));
	gcmd(false, false, G_SRTP);
	safe_event_regs();
	w32(R_FECTL, XCTL_IM);
	w32(R_IECTL, XCTL_IM);
	w32(R_ICS, 1);
	w64(R_IQT, 0);
	flush_caches();
	phase_end();
	if (gsts() & (G_TE | G_QIE))
		anomaly("restore: GSTS 0x%x, translation or queue still on", gsts());
}

static void recover(void)
{
	int rc = P.rebind(), ok = rc == 0 ? P.net_ok() : 0;
	say("VMM-HOSTILE-VTD-RECOVER=%s", ok > 0 ? "ok" : ok == 0 ? "fail" : "skipped");
}

/* ---- the whole attack ---- */

static int hostile_run(unsigned rounds, uint64_t seed)
{
	rng_state = seed;
	ver0 = (uint32_t)P.rd(R_VER, 4);
	cap0 = P.rd(R_CAP, 8);
	ecap0 = P.rd(R_ECAP, 8);
	if (cap0 == 0 || cap0 == ~0ull || ver0 == 0 || ver0 == ~0u) {
		say("VMM-HOSTILE-VTD-ERROR=no VT-d at 0x%llx (CAP 0x%" PRIx64 ")", VTD_BASE, cap0);
		return 1;
	}
	fro = (unsigned)((cap0 >> 24) & 0x3ff) * 16;
	nfr = (unsigned)((cap0 >> 40) & 0xff) + 1;
	iro = (unsigned)((ecap0 >> 8) & 0x3ff) * 16;
	if (fro + 16 * nfr > VTD_SIZE || iro + 16 > VTD_SIZE) {
		say("VMM-HOSTILE-VTD-ERROR=fault records or IOTLB registers outside the page");
		return 1;
	}
	say("VMM-HOSTILE-VTD-START rounds=%u seed=%" PRIu64 " ver=0x%x cap=0x%" PRIx64
	    " ecap=0x%" PRIx64 " fro=0x%x nfr=%u iro=0x%x scratch=0x%" PRIx64 "-0x%" PRIx64,
	    rounds, seed, ver0, cap0, ecap0, fro, nfr, iro, P.w_gpa, P.ram_end);

	/* Safe starting point: no interrupt to anyone, tame pointers. */
	wzero(0, W_SIZE);
	safe_event_regs();
	w32(R_FECTL, XCTL_IM);
	w32(R_IECTL, XCTL_IM);
	w64(R_RTADDR, W(W_ZERO));
	w64(R_IQA, W(W_IQ));

	phase_read_all();
	phase_random_regs(rounds);
	phase_root_pointers();
	phase_crafted();
	phase_queue();
	phase_register_invalidations();
	phase_garbage_tables(rounds);
	phase_random_regs(rounds / 2); /* again, now with garbage everywhere */
	phase_race();
	phase_start_vs_flush(rounds);
	restore();
	recover();
	say("VMM-HOSTILE-VTD-FAULTS=%u", g_faults);
	say("VMM-HOSTILE-VTD-IQE=%u", g_iqe);
	say("VMM-HOSTILE-VTD-MMIO=%u", g_mmio);
	say("VMM-HOSTILE-VTD-ANOMALIES=%u", g_anomalies);
	say("VMM-HOSTILE-VTD-DONE");
	return 0;
}

#ifndef VTD_HOSTILE_SIM
/* ======================================================================
 * The guest platform: /dev/mem, sysfs, eth0.
 * ====================================================================== */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile uint8_t *g_regs; /* VTD_BASE + nb_lo */
static const char *g_ifname = "eth0";
static const char *g_addr, *g_peer;
static char g_pci[32];

static uint64_t mmio_rd(long off, unsigned size)
{
	volatile void *p = g_regs + (off - P.nb_lo);
	uint64_t v = 0;
	switch (size) {
	case 1: { uint8_t x; __asm__ volatile("movb %1, %0" : "=q"(x) : "m"(*(volatile uint8_t *)p)); v = x; break; }
	case 2: { uint16_t x; __asm__ volatile("movw %1, %0" : "=r"(x) : "m"(*(volatile uint16_t *)p)); v = x; break; }
	case 4: { uint32_t x; __asm__ volatile("movl %1, %0" : "=r"(x) : "m"(*(volatile uint32_t *)p)); v = x; break; }
	default: __asm__ volatile("movq %1, %0" : "=r"(v) : "m"(*(volatile uint64_t *)p)); break;
	}
	return v;
}

static void mmio_wr(long off, unsigned size, uint64_t v)
{
	volatile void *p = g_regs + (off - P.nb_lo);
	switch (size) {
	case 1: __asm__ volatile("movb %1, %0" : "=m"(*(volatile uint8_t *)p) : "q"((uint8_t)v) : "memory"); break;
	case 2: __asm__ volatile("movw %1, %0" : "=m"(*(volatile uint16_t *)p) : "r"((uint16_t)v) : "memory"); break;
	case 4: __asm__ volatile("movl %1, %0" : "=m"(*(volatile uint32_t *)p) : "r"((uint32_t)v) : "memory"); break;
	default: __asm__ volatile("movq %1, %0" : "=m"(*(volatile uint64_t *)p) : "r"(v) : "memory"); break;
	}
}

static void g_sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* The first virtio-net PCI device (1af4:1041), as "0000:00:01.0". */
static int find_virtio_net(void)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	if (d == NULL)
		return -1;
	struct dirent *e;
	int rc = -1;
	while ((e = readdir(d)) != NULL && rc < 0) {
		char path[300], v[16], dv[16];
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", e->d_name);
		if (read_file(path, v, sizeof(v)) < 0)
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device", e->d_name);
		if (read_file(path, dv, sizeof(dv)) < 0)
			continue;
		if (strncmp(v, "0x1af4", 6) == 0 && strncmp(dv, "0x1041", 6) == 0) {
			snprintf(g_pci, sizeof(g_pci), "%.31s", e->d_name);
			rc = 0;
		}
	}
	closedir(d);
	return rc;
}

static int if_up(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", g_ifname);
	int rc = ioctl(s, SIOCGIFFLAGS, &ifr);
	if (rc == 0 && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		rc = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
	return rc;
}

static int run(const char *cmd)
{
	int rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Address on eth0 (and up) when -a was given. */
static void if_config(void)
{
	if_up();
	if (g_addr != NULL) {
		char cmd[200];
		snprintf(cmd, sizeof(cmd), "ip addr add %s dev %s 2>/dev/null", g_addr, g_ifname);
		(void)run(cmd);
	}
}

static int wait_if(unsigned ms)
{
	char path[128];
	snprintf(path, sizeof(path), "/sys/class/net/%s", g_ifname);
	for (unsigned t = 0; t < ms; t += 50) {
		struct stat st;
		if (stat(path, &st) == 0)
			return 0;
		g_sleep_ms(50);
	}
	return -1;
}

/* Raw broadcast frames on eth0: the TX queue does DMA (vhost reads the rings). */
static void send_frames(unsigned n)
{
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));
	if (s < 0)
		return;
	unsigned idx = if_nametoindex(g_ifname);
	if (idx == 0) {
		close(s);
		return;
	}
	struct sockaddr_ll sa;
	memset(&sa, 0, sizeof(sa));
	sa.sll_family = AF_PACKET;
	sa.sll_ifindex = (int)idx;
	sa.sll_halen = 6;
	memset(sa.sll_addr, 0xff, 6);
	for (unsigned i = 0; i < n; i++) {
		uint8_t f[128];
		for (unsigned k = 0; k < sizeof(f); k++)
			f[k] = (uint8_t)rnd();
		memset(f, 0xff, 6);                /* broadcast */
		f[6] = 0x02;                       /* a locally administered source */
		f[12] = 0x88, f[13] = 0xb5;        /* local experimental ethertype */
		(void)sendto(s, f, 60 + rndn(sizeof(f) - 60), 0, (struct sockaddr *)&sa, sizeof(sa));
	}
	close(s);
}

static void g_dma(unsigned ms)
{
	send_frames(2);
	g_sleep_ms(ms);
}

/* The virtio status byte of the device (sysfs "status"), or -1. */
static int virtio_status(void)
{
	char path[300], buf[32];
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", g_pci);
	DIR *d = opendir(path);
	if (d == NULL)
		return -1;
	struct dirent *e;
	int st = -1;
	while ((e = readdir(d)) != NULL && st < 0) {
		if (strncmp(e->d_name, "virtio", 6) != 0)
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%.40s/status", g_pci, e->d_name);
		if (read_file(path, buf, sizeof(buf)) == 0)
			st = (int)strtol(buf, NULL, 16);
	}
	closedir(d);
	return st;
}

static int g_rebind(void)
{
	if (g_pci[0] == '\0')
		return -1;
	(void)write_file("/sys/bus/pci/drivers/virtio-pci/unbind", g_pci);
	if (write_file("/sys/bus/pci/drivers/virtio-pci/bind", g_pci) < 0)
		return -1;
	if (wait_if(5000) < 0)
		return -1;
	if_config();
	int st = virtio_status();
	return st >= 0 && (st & 0x40) ? 1 : 0; /* VIRTIO_CONFIG_S_NEEDS_RESET */
}

static int g_net_ok(void)
{
	if (g_peer == NULL)
		return -1;
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "ping -c 3 -W 3 %s >/dev/null 2>&1 || ping -c 3 -W 3 %s >/dev/null 2>&1",
		 g_peer, g_peer);
	return run(cmd) == 0;
}

static int g_race(void (*fn)(uint64_t, unsigned), uint64_t seed, unsigned ms, void (*work)(void))
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu < 2)
		return -1;
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(1, &set);
		(void)sched_setaffinity(0, sizeof(set), &set);
		fn(seed, ms);
		_exit(0);
	}
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	cpu_set_t old;
	(void)sched_getaffinity(0, sizeof(old), &old);
	(void)sched_setaffinity(0, sizeof(set), &set);
	work();
	kill(pid, SIGKILL);
	int st;
	(void)waitpid(pid, &st, 0);
	(void)sched_setaffinity(0, sizeof(old), &old);
	return 0;
}

/*
 * End of the VM's RAM (the e820 the VMM gave, before mem= cut it), which
 * must all be below 4 GiB: then everything from its end up is not RAM.
 * 0 when unknown or when there is RAM above 4 GiB.
 */
static uint64_t fw_ram_end(void)
{
	uint64_t best = 0;
	DIR *d = opendir("/sys/firmware/memmap");
	if (d == NULL)
		return 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char path[300], buf[64];
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/firmware/memmap/%s/type", e->d_name);
		if (read_file(path, buf, sizeof(buf)) < 0 || strncmp(buf, "System RAM", 10) != 0)
			continue;
		snprintf(path, sizeof(path), "/sys/firmware/memmap/%s/start", e->d_name);
		if (read_file(path, buf, sizeof(buf)) < 0)
			continue;
		uint64_t start = strtoull(buf, NULL, 16);
		snprintf(path, sizeof(path), "/sys/firmware/memmap/%s/end", e->d_name);
		if (read_file(path, buf, sizeof(buf)) < 0)
			continue;
		uint64_t end = strtoull(buf, NULL, 16) + 1;
		if (end > (1ull << 32)) {
			best = 0;
			break;
		}
		if (end > best)
			best = end;
		(void)start;
	}
	closedir(d);
	return best;
}

/* End of the kernel's own RAM (top-level "System RAM" in /proc/iomem). */
static uint64_t kernel_ram_end(void)
{
	FILE *f = fopen("/proc/iomem", "r");
	if (f == NULL)
		return ~0ull;
	char line[256];
	uint64_t best = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long long a, b;
		if (line[0] == ' ' || strstr(line, "System RAM") == NULL)
			continue;
		if (sscanf(line, "%llx-%llx", &a, &b) == 2 && b + 1 > best)
			best = b + 1;
	}
	fclose(f);
	return best ? best : ~0ull;
}

static void usage(void)
{
	fprintf(stderr, "usage: vtd_hostile [-r ROUNDS] [-s SEED] [-i IFNAME] [-a ADDR/PREFIX] [-p PEER]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned rounds = 400;
	uint64_t seed = 1;
	int opt;
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "r:s:i:a:p:")) != -1) {
		switch (opt) {
		case 'r': rounds = (unsigned)strtoul(optarg, NULL, 0); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'i': g_ifname = optarg; break;
		case 'a': g_addr = optarg; break;
		case 'p': g_peer = optarg; break;
		default: usage();
		}
	}
	uint64_t fw_end = fw_ram_end(), k_end = kernel_ram_end();
	uint64_t top = fw_end & ~((2ull << 20) - 1);
	if (fw_end == 0 || top < W_SIZE || top - W_SIZE < ((k_end + (2ull << 20) - 1) & ~((2ull << 20) - 1))) {
		say("VMM-HOSTILE-VTD-ERROR=no scratch RAM: the VM's RAM ends at 0x%" PRIx64
		    " (0: unknown or above 4 GiB), the kernel's at 0x%" PRIx64
		    " (use at most 3 GiB, and mem= at least 18 MiB below it)", fw_end, k_end);
		return 1;
	}
	int fd = open("/dev/mem", O_RDWR | O_SYNC | O_CLOEXEC);
	if (fd < 0) {
		say("VMM-HOSTILE-VTD-ERROR=/dev/mem: %s", strerror(errno));
		return 1;
	}
	/* The register page and one page on either side, or just the page. */
	void *m = mmap(NULL, 3 * VTD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		       (off_t)(VTD_BASE - VTD_SIZE));
	if (m != MAP_FAILED) {
		P.nb_lo = -(long)VTD_SIZE;
		P.nb_hi = 2 * (long)VTD_SIZE;
	} else {
		m = mmap(NULL, VTD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)VTD_BASE);
		if (m == MAP_FAILED) {
			say("VMM-HOSTILE-VTD-ERROR=mmap of the VT-d registers: %s (boot with iomem=relaxed)",
			    strerror(errno));
			return 1;
		}
		P.nb_lo = 0;
		P.nb_hi = VTD_SIZE;
	}
	g_regs = m;
	void *w = mmap(NULL, W_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)(top - W_SIZE));
	if (w == MAP_FAILED) {
		say("VMM-HOSTILE-VTD-ERROR=mmap of scratch RAM at 0x%" PRIx64 ": %s", top - W_SIZE,
		    strerror(errno));
		return 1;
	}
	P.rd = mmio_rd;
	P.wr = mmio_wr;
	P.w = w;
	P.w_gpa = top - W_SIZE;
	P.ram_end = top;
	P.dma = g_dma;
	P.rebind = g_rebind;
	P.net_ok = g_net_ok;
	P.race = g_race;
	P.sleep_ms = g_sleep_ms;
	if (find_virtio_net() < 0)
		say("VMM-HOSTILE-VTD-NOTE: no virtio-net device: no DMA, no rebind");
	if (wait_if(3000) == 0)
		if_config();
	signal(SIGPIPE, SIG_IGN);
	return hostile_run(rounds, seed);
}
#endif /* !VTD_HOSTILE_SIM */
