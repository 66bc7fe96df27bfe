/*
 * vtd_hostile_core.c - the hostile VT-d guest's common ground: what it
 * prints, the VT-d commands it gives as a driver would, and how it sees
 * faults.
 *
 * Every phase runs between phase_begin() and phase_end(): it starts with
 * nothing pending (leftover records count for it), and ends by reading FSTS
 * and the fault recording registers (clearing them, RW1C) and checking
 * what the model promises whatever was done to it: CAP, ECAP and VER
 * constant, no GSTS bit it never sets. The line it prints,
 *   VMM-HOSTILE-VTD-PHASE=NAME ms=.. faults=.. iqe=.. pfo=.. reasons=.. mmio=..
 * is what the guest saw; a promise broken is a VMM-HOSTILE-VTD-ANOMALY: line
 * (the first 40 are printed, all are counted).
 *
 * Commands check that the model finished them (SRTP sets RTPS, TE sets
 * TES, a global context or IOTLB invalidation clears ICC/IVT at once).
 * DMA comes from P.dma (frames) and from driver restarts: a restart with
 * translation off must start the device again (rebind_clean, what the next
 * phase's DMA needs); one under broken tables is reported as
 * VMM-HOSTILE-VTD-REBIND=case faults=N device=needs-reset|started|none.
 */
#include "vtd_hostile.h"

struct plat P;

/* ---- output ---- */

unsigned g_anomalies, g_faults, g_iqe, g_mmio;

void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

void anomaly(const char *fmt, ...)
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

uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- PRNG state (the generator is in vtd_hostile.h) ---- */

uint64_t rng_state;

/* ---- the VT-d as found at the start ---- */

uint64_t cap0, ecap0;
uint32_t ver0;
unsigned fro, nfr, iro;

/* ---- commands ---- */

/* GCMD with the level bits (TE, QIE) as wanted; one-shot bits in 'pulse'. */
void gcmd(bool te, bool qie, uint32_t pulse)
{
	w32(R_GCMD, (te ? G_TE : 0) | (qie ? G_QIE : 0) | pulse);
}

void set_root(uint64_t rtaddr)
{
	w64(R_RTADDR, tame_ptr(rtaddr));
	uint32_t s = gsts();
	gcmd(s & G_TE, s & G_QIE, G_SRTP);
	if (!(gsts() & G_SRTP))
		anomaly("GSTS.RTPS clear after SRTP (gsts 0x%x)", gsts());
}

void ccmd_global(void)
{
	w64(R_CCMD, CCMD_ICC | 1ull << 61);
	uint64_t v = r64(R_CCMD);
	if (v & CCMD_ICC)
		anomaly("CCMD.ICC still set after a global invalidation (0x%" PRIx64 ")", v);
}

void iotlb_global(void)
{
	w64(iro + 8, IOTLB_IVT | 1ull << 60);
	uint64_t v = r64(iro + 8);
	if (v & IOTLB_IVT)
		anomaly("IOTLB.IVT still set after a global invalidation (0x%" PRIx64 ")", v);
}

void flush_caches(void)
{
	ccmd_global();
	iotlb_global();
}

void translate_on(uint64_t rtaddr)
{
	uint32_t s = gsts();
	w64(R_RTADDR, tame_ptr(rtaddr));
	gcmd(s & G_TE, s & G_QIE, G_SRTP);
	flush_caches();
	gcmd(true, s & G_QIE, 0);
	if (!(gsts() & G_TE))
		anomaly("GSTS.TES clear after TE");
}

void translate_off(void)
{
	gcmd(false, gsts() & G_QIE, 0);
	if (gsts() & G_TE)
		anomaly("GSTS.TES set after TE off");
}

/*
 * With translation off the device must start: vhost runs again for the
 * next phase's DMA (a restart under broken tables leaves it stopped).
 */
void rebind_clean(const char *why)
{
	translate_off();
	int rc = P.rebind();
	if (rc == 1)
		anomaly("%s: the device did not start with translation off (NEEDS_RESET)", why);
	else if (rc < 0)
		say("VMM-HOSTILE-VTD-NOTE: %s: driver restart failed", why);
}

/* A driver restart while translation is broken: faults, no start. */
void rebind_broken(const char *what)
{
	unsigned before = phase_obs.faults;
	int rc = P.rebind();
	collect(&phase_obs, false);
	say("VMM-HOSTILE-VTD-REBIND=%s faults=%u device=%s", what, phase_obs.faults - before,
	    rc == 0 ? "started" : rc == 1 ? "needs-reset" : "none");
}

/* ---- what the guest sees: faults ---- */

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
void collect(struct obs *o, bool clear_iqe)
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
struct obs phase_obs;

void phase_begin(const char *name)
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

void phase_end(void)
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
unsigned dma_and_collect(unsigned ms)
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
