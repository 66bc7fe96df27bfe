/*
 * vtd_hostile_queue.c - phase invalidation-queue: the queued invalidation
 * interface, fed with everything a guest can put in it.
 *
 * Q1-Q2: a queue outside RAM (IQE, and IQE again once cleared: the model
 *   retries from IQH), one running past RAM's end (IQE, IQH at the page
 *   it could not fetch).
 * Q3-Q4: a tail past the queue and all ones (IQE); half, unaligned and
 *   byte tail writes (only aligned 32/64-bit low writes run the queue).
 * Q5: wait status addresses in W, at RAM's last word, just past RAM, in
 *   the VT-d window, at the LAPIC, at 2^64-4, with reserved bits: the word
 *   written when valid and in RAM, IQE otherwise, ICS.IWC after IF.
 * Q6: each reserved bit and unknown type: IQE with IQH at it, and the
 *   queue going on once the guest fixes it and clears IQE (as Linux does).
 * Q7: a full 32768-slot queue of valid descriptors (page-selective
 *   invalidations at 2^64-4K with every AM, device-TLB ones up to
 *   "everything") in two runs, then wrap-around: no IQE, IQH and the
 *   status word where they must be.
 * Q8: IQA shrunk under the head (IQE) and moved out of RAM while enabled.
 * Q9: random queues, DMA in between: the VMM must survive, nothing more.
 * Every status address is tamed (put_desc): the VMM writes only into W.
 */
#include "vtd_hostile.h"

static uint64_t wait_desc(uint32_t data, bool sw, bool iflag)
{
	return D_WAIT | (sw ? W_SW : 0) | (iflag ? W_IF : 0) | (uint64_t)data << 32;
}

/* QI off, IQE cleared (no rerun while off), queue at iqa, head 0; QI on. */
void qi_setup(uint64_t iqa)
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

void qi_off(void)
{
	gcmd(gsts() & G_TE, false, 0);
}

/* Write IQT; returns FSTS.IQE afterwards. */
bool qi_tail(uint64_t tail)
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

void clear_iqe(void)
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

void phase_queue(void)
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
