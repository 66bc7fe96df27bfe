/*
 * vtd_hostile_regs.c - the hostile guest against the VT-d's register file:
 * phases read-all, random-registers, root-pointers and
 * register-invalidations.
 *
 * read-all: every register at every size and offset, aligned or not,
 *   across the page edges and in the pages around it. Reads must have no
 *   effect the guest can see: only the end-of-phase checks (CAP/ECAP/VER
 *   constant) apply.
 * random-registers: ROUNDS random writes (all sizes and offsets, known
 *   registers favoured, values with structure) and reads, DMA now and then.
 *   Whatever state that leaves, the VMM must survive it and keep its
 *   promises; the writes are filtered only so that the guest survives too
 *   (hostile_write: safe interrupt targets, tame pointers).
 * root-pointers: RTADDR outside RAM, at the top page of RAM, unaligned, at
 *   the VT-d's own registers, the LAPIC, the PCI window, 2^46..2^64-4K;
 *   SRTP + TE + DMA each time (faults expected, and a walk's sums must not
 *   wrap), then a driver restart under a root outside RAM.
 * register-invalidations: CCMD and the IOTLB register with every
 *   granularity, IVA at 2^64-4K with AM up to 63, as whole and half writes;
 *   ICC and IVT must read clear at once (the model invalidates
 *   synchronously) and CAIG must echo the granularity. Then page and
 *   context flushes with translation on and valid tables, so they reach
 *   vhost.
 */
#include "vtd_hostile.h"

/* ---- phase 1: read everything ---- */

void phase_read_all(void)
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

void phase_random_regs(unsigned rounds)
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

void phase_root_pointers(void)
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

/* ---- phase 6: register-based invalidations ---- */

void phase_register_invalidations(void)
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
