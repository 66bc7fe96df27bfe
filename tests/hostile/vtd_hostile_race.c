/*
 * vtd_hostile_race.c - phases two-cpus and start-vs-flush: the second
 * vCPU at the VT-d while the first restarts the driver (P.race: the
 * simulation has none, and skips both).
 *
 * two-cpus (hostile): the second vCPU hammers GCMD/SRTP/TE, the context
 *   and IOTLB invalidation registers, FSTS and the fault records, and
 *   RTADDR (into W, the read-only garbage, or outside RAM), while the first
 *   restarts the driver and sends frames: the VMM's locking between vCPU
 *   threads and its event loop must hold. Then a clean restart must work.
 * start-vs-flush (not hostile): with translation off the second vCPU only
 *   flushes the IOTLB, as a guest's lazy flush does on any CPU, while the
 *   first restarts the driver max(6, ROUNDS/64) times. The VMM prefills the
 *   rings' translations and then attaches vhost; a flush in between must
 *   not make the start fail. VMM-HOSTILE-VTD-START-VS-FLUSH=F/N counts the
 *   starts that failed (the device reports NEEDS_RESET).
 */
#include "vtd_hostile.h"

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

void phase_start_vs_flush(unsigned rounds)
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

void phase_race(void)
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
