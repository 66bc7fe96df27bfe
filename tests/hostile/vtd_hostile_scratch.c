/*
 * vtd_hostile_scratch.c - the scratch window W and the rules that keep the
 * hostile guest alive through its own attack.
 *
 * W is the last 16 MiB of the VM's RAM, which the guest kernel does not use
 * (mem=); the program's tables and queues live there (the layout is in
 * vtd_hostile.h). The VMM may read anything as tables, but it must never
 * write the kernel's memory (wait-descriptor status writes) nor let vhost
 * DMA into it, or the guest would not live to report. So every address
 * handed to the VT-d points into W, outside RAM, or is an identity mapping
 * (what the driver expects with intel_iommu=off): every qword written into
 * W goes through wq()/put_desc() and every pointer register through
 * tame_ptr(); no writable translation lands on a page that is also walked
 * as a table (the garbage pages are written read-only); and the fault and
 * completion interrupt registers always hold an MSI address that targets
 * no CPU, whatever a random write puts there (hostile_write).
 * vtd_hostile_sim checks these rules against the model.
 */
#include "vtd_hostile.h"

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
uint64_t tame_ptr(uint64_t q)
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
void wq(uint64_t off, uint64_t v)
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
void wq_ctx_hi(uint64_t off, uint64_t v)
{
	memcpy(P.w + off, &v, 8);
}

/* A descriptor into a queue in W: only the status address is tamed. */
void put_desc(uint64_t qoff, unsigned idx, uint64_t q0, uint64_t q1)
{
	uint64_t off = qoff + 16 * (uint64_t)idx;
	if (in_garbage(off))
		q0 &= ~PTE_W, q1 &= ~PTE_W;
	memcpy(P.w + off, &q0, 8);
	memcpy(P.w + off + 8, &q1, 8);
	tame_pair(off);
}

uint32_t rw32(uint64_t off)
{
	uint32_t v;
	memcpy(&v, P.w + off, 4);
	return v;
}

void wfill_random(uint64_t off, uint64_t len)
{
	for (uint64_t i = 0; i + 8 <= len; i += 8)
		wq(off + i, rnd_value());
}

void wzero(uint64_t off, uint64_t len)
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

void safe_event_regs(void)
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
void hostile_write(long off, unsigned size, uint64_t v)
{
	v = filter_event_bytes(off, size, v);
	g_mmio++;
	P.wr(off, size, v);
	if (overlaps(off, size, R_RTADDR, 8) || overlaps(off, size, R_IQA, 8))
		fix_pointer_regs();
}
