/*
 * fuzz_vtd_regs.c - the VT-d register file (vtd_regs_*) and the
 * invalidation queue (vtd_qi_process) under fuzzed MMIO and guest memory.
 *
 * Guest RAM: A = [0, 256 KiB) and B = [512 KiB, 640 KiB). The harness keeps
 * a model of RAM: its own writes, plus the status writes that the wait
 * descriptors it knows were completed must have made. The script writes
 * registers (often the ones that matter), guest words, well-formed
 * descriptors (with a stray bit now and then), bumps IQT, sets up queues
 * and records faults. The event callback runs the queue as vtd.c does and
 * follows it: during a run, IQH is the descriptor being worked on, so each
 * invalidation callback is matched with the descriptor qi_model.h decodes
 * there, from the model.
 * Invariants:
 *   - every completed descriptor was in guest RAM, had type 1..5, and each
 *     invalidation descriptor produced exactly one callback covering what
 *     the descriptor asks (and a well-formed struct vtd_inval);
 *   - a wait's status goes only where the descriptor says, and RAM equals
 *     the model at the end: nothing else was written; IF sets ICS.IWC;
 *   - IQH only moves during a run (or to 0 when QIE toggles), stays in
 *     bits 18:4 and inside the queue; a run ends at IQT or with FSTS.IQE;
 *   - register commands: CCMD/IOTLB raise exactly the invalidation their
 *     fields ask for and read back with ICC/IVT clear; GCMD sets GSTS and
 *     latches RTADDR; CAP/ECAP never change; MSIs only when unmasked;
 *   - an invalidation its consumer cannot complete (the script makes the
 *     callback raise ITE, as vtd.c does when vhost refuses an INVALIDATE)
 *     ends the run: the rest of the queue is dropped, no later wait
 *     writes its status, nothing runs until ITE is cleared;
 *   - fault recording fills the next record or reports overflow.
 */
#include <errno.h>
#include <string.h>

#include "../../iommu/iommu.h"
#include "fuzz_util.h"
#include "qi_model.h"
#include "vtd_regs_follow.h"

/* The registers Linux uses, first; then a fault record and its high half. */
static const uint16_t offs[] = {
	VTD_REG_GCMD, VTD_REG_RTADDR, VTD_REG_CCMD, VTD_REG_FSTS, VTD_REG_FECTL,
	VTD_REG_FEDATA, VTD_REG_FEADDR, VTD_REG_IQT, VTD_REG_IQA, VTD_REG_ICS,
	VTD_REG_IECTL, VTD_REG_IEDATA, VTD_REG_IEADDR, VTD_REG_IVA, VTD_REG_IOTLB,
	VTD_REG_FRCD + 8, VTD_REG_IQH, VTD_REG_GSTS, VTD_REG_CAP, VTD_REG_VER,
};

/* Register offset and size: mostly a known register, sometimes anything. */
static void pick_reg(struct fin *in, uint64_t *off, unsigned *size)
{
	uint8_t sel = fin_u8(in), fl = fin_u8(in);
	*off = offs[(sel & 0x7f) % (sizeof(offs) / sizeof(offs[0]))] + ((sel & 0x80) ? 4 : 0);
	*size = (fl & 1) ? 8 : 4;
	if ((fl & 0x60) == 0x60)
		*off = fin_u16(in), *size = fl >> 4 & 1 ? 8 : (fl >> 1) & 7;
}

static void check_regs(struct h *h)
{
	uint32_t fsts = (uint32_t)reg(h, VTD_REG_FSTS, 4);
	FUZZ_CHECK(reg(h, VTD_REG_CAP, 8) == h->cap0 && reg(h, VTD_REG_ECAP, 8) == h->ecap0,
		   "CAP/ECAP changed");
	FUZZ_CHECK((reg(h, VTD_REG_GSTS, 4) & ~(G_TE | G_SRTP | G_QIE)) == 0, "GSTS bits");
	FUZZ_CHECK((fsts & ~0x773u) == 0, "FSTS %#x", fsts);
	FUZZ_CHECK((reg(h, VTD_REG_IQH, 8) & ~0x7fff0ull) == 0, "IQH bits");
}

static const uint16_t sids[4] = { 0x0010, 0x0018, 0x0008, 0xffff };

static void op_desc(struct h *h, struct fin *in)
{
	uint64_t iqa, head, tail, q[2];
	vtd_regs_iq(&h->r, &iqa, &head, &tail);
	uint64_t at = qm_script_slot(fin_u16(in), iqa, tail);
	qm_script_desc(in, sids, SPAN, q);
	gwrite(h, at, q, 16);
}

static void op_setup_queue(struct h *h, struct fin *in)
{
	static const uint64_t bases[] = { 0x10000, B_GPA, B_GPA + B_SIZE - 0x1000 };
	uint8_t b = fin_u8(in);
	uint64_t base = (b & 3) < 3 ? bases[b & 3] : fin_u64(in) & ~0xfffull;
	uint32_t te = (uint32_t)reg(h, VTD_REG_GSTS, 4) & G_TE;
	reg_write(h, VTD_REG_GCMD, 4, te);
	reg_write(h, VTD_REG_IQA, 8, base | ((b & 0x80) ? (b >> 2) & 7 : 0));
	reg_write(h, VTD_REG_IQT, 8, 0);
	reg_write(h, VTD_REG_GCMD, 4, te | G_QIE);
}

static void op_fault(struct h *h, struct fin *in)
{
	uint16_t sid = fin_u16(in);
	uint64_t addr = fin_u64(in);
	uint8_t f = fin_u8(in), reason = 1 + f % 12;
	bool w = f & 0x80;
	unsigned fri = (unsigned)(reg(h, VTD_REG_FSTS, 4) >> 8) & 0xff;
	uint64_t rec = VTD_REG_FRCD + 16ull * fri;
	bool full = reg(h, rec + 8, 8) >> 63;
	int ret = vtd_regs_record_fault(&h->r, sid, addr, reason, w);
	uint32_t fsts = (uint32_t)reg(h, VTD_REG_FSTS, 4);
	if (full) {
		FUZZ_CHECK(ret == -ENOSPC && (fsts & 1), "overflow: ret %d FSTS %#x", ret, fsts);
		return;
	}
	uint64_t want = 1ull << 63 | (uint64_t)!w << 62 | (uint64_t)reason << 32 | sid;
	FUZZ_CHECK(ret == 0 && reg(h, rec, 8) == (addr & ~0xfffull) && reg(h, rec + 8, 8) == want &&
			   ((fsts >> 8) & 0xff) == (fri + 1) % VTD_NFR,
		   "fault record %u: ret %d", fri, ret);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct h *h = &H;
	if (h->ram.n == 0) {
		fuzz_ram_add(&h->ram, 0, A_SIZE);
		fuzz_ram_add(&h->ram, B_GPA, B_SIZE);
	}
	fuzz_ram_reset(&h->ram);
	memset(h->model, 0, sizeof(h->model));
	memset(&h->st, 0, sizeof(h->st));
	h->fail_in = 0;
	struct fin in = { data, size };
	FUZZ_CHECK(vtd_regs_init(&h->r, fin_u8(&in) & 1, on_event, h) == 0, "init");
	h->cap0 = reg(h, VTD_REG_CAP, 8);
	h->ecap0 = reg(h, VTD_REG_ECAP, 8);
	h->ccmd = h->iva = h->iotlb = h->rtaddr = 0;
	for (unsigned steps = 0; !fin_empty(&in) && steps < 512; steps++) {
		uint64_t off, v;
		unsigned sz;
		switch (fin_pick(&in, 12)) {
		case 0: case 1: case 2:
			pick_reg(&in, &off, &sz);
			reg_write(h, off, sz, fin_u64(&in));
			break;
		case 3:
			pick_reg(&in, &off, &sz);
			bool ok = (sz == 4 || sz == 8) && off % sz == 0 && off < VTD_REGS_SIZE;
			FUZZ_CHECK(vtd_regs_read(&h->r, off, sz, &v) == (ok ? 0 : -EINVAL) &&
					   (ok || v == 0), "read %#lx/%u", (unsigned long)off, sz);
			break;
		case 4:
			v = fin_u64(&in);
			gwrite(h, fin_u32(&in) % SPAN & ~7ull, &v, 8);
			break;
		case 5: case 6: op_desc(h, &in); break;
		case 7: case 8: { /* move IQT: a few descriptors on, or anywhere */
			uint8_t b = fin_u8(&in);
			uint64_t iqa, head, tail;
			vtd_regs_iq(&h->r, &iqa, &head, &tail);
			uint64_t qsize = 4096ull << (iqa & 7);
			v = (b & 0x80) ? fin_u32(&in) : (tail + 16ull * (1 + b % 32)) % qsize;
			reg_write(h, VTD_REG_IQT, (b & 0x40) ? 8 : 4, v);
			break;
		}
		case 9: op_setup_queue(h, &in); break;
		case 10: op_fault(h, &in); break;
		default: { /* FSTS (IQE/ITE are W1C), or make a later invalidation fail */
			uint8_t b = fin_u8(&in);
			if (b & 0x80)
				h->fail_in = 1 + (b & 3);
			else
				reg_write(h, VTD_REG_FSTS, 4, b | FSTS_IQE);
			break;
		}
		}
		check_regs(h);
	}
	for (unsigned i = 0; i < h->ram.n; i++)
		FUZZ_CHECK(memcmp(h->ram.host[i], h->model[i], h->ram.size[i]) == 0,
			   "RAM region %u differs from what the script and completed waits wrote", i);
	return 0;
}
