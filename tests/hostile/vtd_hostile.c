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
 * writes) or lets vhost DMA into it. The tame_*() rules
 * (vtd_hostile_scratch.c) enforce this for every qword written into W and
 * every pointer register, no writable translation ever lands on a page
 * that is also walked as a table, and the fault/completion interrupt
 * registers always hold an MSI address that targets no CPU.
 *
 * Boot the guest with  intel_iommu=off iomem=relaxed mem=480M  in a 512 MiB
 * VM: no driver owns the VT-d, /dev/mem may map it (the Debian kernel has
 * STRICT_DEVMEM and IO_STRICT_DEVMEM; iomem=relaxed lifts the latter, and
 * non-RAM pages are allowed by the former), and 32 MiB of RAM are the
 * kernel's no more. W is found from /sys/firmware/memmap (the VM's e820)
 * and /proc/iomem (what the kernel uses).
 *
 * This file is the driver: the phases in that order, then the restore and
 * the recovery check. Each phase (or group of phases) has a file of its
 * own; vtd_hostile.h lists them and holds what they share.
 *
 * Build: gcc -static -O2 of the files in HOSTILE_GUEST_SRCS
 * (tests/hostile/hostile.mk; tests/testbed/build-guest-initrd.sh builds its
 * own copy). Without the guest platform (vtd_hostile_guest*.c) the same
 * attack runs on the host against the VMM's VT-d model itself
 * (tests/hostile/vtd_hostile_sim.c), under ASan.
 */
#include "vtd_hostile.h"

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

int hostile_run(unsigned rounds, uint64_t seed)
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
