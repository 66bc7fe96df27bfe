/*
 * fuzz_iotlb_bridge.c - the vhost IOTLB bridge as the VMM runs it: a
 * struct vtd (vtd_init, vtd_add_bridge) with two bridges (requester ids
 * 00:02.0 and 00:03.0), each on one end of a socketpair(AF_UNIX,
 * SOCK_SEQPACKET) that stands in for its vhost fd. The harness reads the
 * other end after every step and keeps a shadow of each vhost IOTLB
 * (bridge_shadow.h), so it knows what vhost would hold.
 *
 * Guest RAM as in fuzz_vtd_walk.c: A = [0, 1 MiB) (tables below 512 KiB,
 * the queue at 0x90000), B = [0x110000, 0x140000), C GPA-adjacent to B.
 * The script: build tables (vtd_tables.h), program the root and TE, MISS
 * on either bridge (vtd_handle_miss, or a message through the fd and
 * vtd_service_fd, or raw bytes), queue descriptors (qi_model.h) and bump
 * IQT through vtd_mmio_write, register-based invalidations, raw register
 * writes, vtd_reset, and the device's split rings (vtd_set_vrings: IOVAs
 * near mapped ones, any queue size, so bad ones must give -EINVAL) with
 * the ring scan's budget b->ringscan; what the rings hold is whatever the
 * script wrote to the RAM behind them (raw words, tables), so after a
 * translated MISS the scan (iotlb_ringscan.c) reads guest-made chains and
 * indirect tables through the device's own translation.
 * Invariants:
 *   (a) every UPDATE's [uaddr, uaddr + size) lies inside one guest RAM
 *       mapping, and every page of it is what the guest tables (or, with
 *       TE off, the identity) give right now, with at least its perm;
 *   (b) when an invalidation descriptor completes (so before any wait
 *       behind it), no shadow entry made before it that it covers
 *       (page-selective or domain for its domain id, global,
 *       context-cache, device-TLB for its source id) survives unless
 *       every page of it still translates exactly as vhost was told (the
 *       bridge keeps those on a domain flush, iotlb_sync.c); the scope
 *       comes from qi_model.h, the harness's own decoder. Register-based
 *       invalidations are checked when the write returns; a TE change or
 *       SRTP and vtd_reset leave vhost empty. INVALIDATEs never wrap.
 *   (c) a MISS whose translation faults (or lands outside RAM, or is
 *       malformed) gets no UPDATE; one that translates gets one answer
 *       first, covering the IOVA at the right host address, then at most
 *       `ringscan + prefetch` more (iotlb_ringscan.c, iotlb_prefetch.c;
 *       none while TE is off, no ring scan after a pass-through answer),
 *       each checked as in (a) and shadowed for (b); the scan counts at
 *       most `ringscan` (st.ringscanned), each one an UPDATE vhost got;
 *       UPDATEs only ever follow a MISS of their own bridge, or, with
 *       CAP.CM (input bit), come while a page-selective IOTLB flush
 *       overlapping them is processed (eager pushes);
 *   (d) only the MISS's own walk records a fault: st.faults grows by one
 *       exactly for a MISS whose translation faults and that is not late,
 *       else by none, and the fault registers (FSTS, FECTL, FRI, the
 *       records) change only then, in at most one record. Scan and
 *       prefetch look; they never fault.
 *   (e) a late MISS (iommu.h 5e) gets -ESTALE, no UPDATE, no record. A
 *       MISS read right after the queue was seen empty is late exactly
 *       when vhost (the shadow, not the bridge's held list) holds a
 *       translated entry covering it, or the held list overflowed; one
 *       that waited (input bit) may also be late through the window, as
 *       iotlb_miss_is_stale says.
 *       vtd_set_vrings takes exactly the valid rings (n <= IOTLB_VRINGS,
 *       sizes powers of two <= 32768) and resets the scan's position.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../iommu/iommu.h"
#include "bridge_follow.h"
#include "fuzz_util.h"
#include "qi_model.h"
#include "vtd_tables.h"

#define A_SIZE   0x100000ull
#define B_GPA    0x110000ull
#define B_SIZE   0x30000ull
#define C_GPA    (B_GPA + B_SIZE)
#define C_SIZE   0x10000ull
#define POOL_END 0x80000ull
#define QBASE    0x90000ull
#define SPAN     (C_GPA + C_SIZE + 0x1000)
#define G_TE     (1u << 31)
#define G_SRTP   (1u << 30)
#define G_QIE    (1u << 26)

static const uint16_t rids[4] = { 0x0010, 0x0018, 0x0008, 0x0100 };
static const uint64_t bases[4] = { 0xa0000, B_GPA, C_GPA, B_GPA + B_SIZE - 0x2000 };
static struct h H;

static void mmio_wr(struct h *h, uint64_t off, unsigned size, uint64_t val)
{
	bool ok = (size == 4 || size == 8) && off % size == 0 && off < VTD_REGS_SIZE;
	FUZZ_CHECK(vtd_mmio_write(&h->v, off, size, val) == (ok ? 0 : -EINVAL), "mmio write");
}

static uint32_t gsts(struct h *h)
{
	uint64_t v;
	FUZZ_CHECK(vtd_mmio_read(&h->v, VTD_REG_GSTS, 4, &v) == 0, "GSTS");
	return (uint32_t)v;
}

/*
 * What the MISS must get, decided before it is served: whether it
 * translates to RAM (host), and if not, whether the walk faulted (the one
 * case that may record a fault); pass-through (no ring scan then).
 */
static bool expect_update(struct h *h, unsigned b, const struct iotlb_msg *m, uint64_t *host,
			  bool *fault, bool *pt)
{
	const struct guest_mem *gm = &h->ram.gm;
	*fault = *pt = false;
	if (m->perm < VTD_PERM_R || m->perm > VTD_PERM_RW)
		return false;
	if (!vtd_regs_translation_enabled(&h->v.regs)) {
		*host = (uintptr_t)guest_mem_ptr(gm, m->iova, 1);
		return *host != 0;
	}
	struct vtd_walk_cfg cfg;
	struct vtd_xlate x;
	vtd_regs_walk_cfg(&h->v.regs, &cfg);
	(void)vtd_translate(gm, &cfg, vtd_regs_root(&h->v.regs), h->br[b].rid, m->iova, m->perm,
			    &x);
	*fault = vtd_status_is_fault(x.status);
	*pt = x.pass_through;
	*host = x.status == VTD_OK ? (uintptr_t)guest_mem_ptr(gm, x.gpa, 1) : 0;
	return *host != 0;
}

/* What a recorded fault changes: the guest's view of fault recording. */
struct fault_view {
	uint32_t fsts, fectl;
	unsigned fri;
	uint64_t frcd[VTD_NFR][2];
};

static void fault_view(const struct h *h, struct fault_view *fv)
{
	const struct vtd_regs *r = &h->v.regs;
	*fv = (struct fault_view){ .fsts = r->fsts, .fectl = r->fectl, .fri = r->fri };
	memcpy(fv->frcd, r->frcd, sizeof(fv->frcd));
}

/*
 * The MISS itself may record one fault (its own walk faulted); nothing
 * after its answer may record any: the ring scan and the prefetch only
 * look, the device did not access those pages (iotlb_ringscan.c).
 */
static void check_faults(struct h *h, unsigned b, const struct fault_view *before,
			 uint64_t faults0, bool may_fault)
{
	struct fault_view now;
	fault_view(h, &now);
	uint64_t nf = h->br[b].st.faults - faults0;
	unsigned slots = 0;
	for (unsigned i = 0; i < VTD_NFR; i++)
		slots += memcmp(now.frcd[i], before->frcd[i], sizeof(now.frcd[i])) != 0;
	FUZZ_CHECK(nf == (may_fault ? 1u : 0u), "MISS counted %lu faults, expected %d",
		   (unsigned long)nf, may_fault);
	FUZZ_CHECK(nf == 1 ? slots <= 1
			   : slots == 0 && now.fsts == before->fsts && now.fri == before->fri &&
				     now.fectl == before->fectl,
		   "fault registers changed by a MISS that may record %lu fault(s): %u records, "
		   "FSTS %#x -> %#x", (unsigned long)nf, slots, before->fsts, now.fsts);
}

/* Does vhost (the shadow) hold a translated entry covering iova? */
static bool vhost_holds(const struct h *h, unsigned b, uint64_t iova)
{
	for (unsigned i = 0; i < h->sh[b].n; i++) {
		const struct sh_ent *e = &h->sh[b].e[i];
		if (e->translated && e->iova <= iova && iova <= e->last)
			return true;
	}
	return false;
}

/* f bit 0 bridge, 2:1 perm (bit 7: raw), 4:3 how: direct, fd, raw bytes;
 * bit 5: the MISS waited in the queue (else the queue was just empty). */
static void op_miss(struct h *h, struct fin *in)
{
	uint8_t f = fin_u8(in), buf[80];
	unsigned b = f & 1, how = (f >> 3) & 3;
	struct iotlb_msg m = { .type = IOTLB_MISS,
			       .perm = (f & 0x80) ? fin_u8(in) : 1 + ((f >> 1) & 3) % 3 };
	m.iova = vt_pick_iova(&h->t, in, fin_u8(in));
	size_t len = 0;
	bool is_miss = true;
	if (how == 2) {
		int n = iotlb_encode(h->wire, &m, buf, sizeof(buf));
		if (n < 0)
			return; /* not encodable (bad perm): the direct path covers it */
		len = (size_t)n;
	} else if (how == 3) {
		len = 1 + fin_pick(in, sizeof(buf));
		for (size_t i = 0; i < len; i++)
			buf[i] = fin_u8(in);
		/* vtd_service_fd reads at most IOTLB_WIRE_MAX; the rest is cut off. */
		size_t got = len < IOTLB_WIRE_MAX ? len : IOTLB_WIRE_MAX;
		is_miss = iotlb_decode(h->wire, buf, got, &m) == 0 && m.type == IOTLB_MISS;
	}
	uint64_t host = 0, bad0 = h->br[b].st.bad_msgs;
	bool fault = false, pt = false;
	bool want = is_miss && expect_update(h, b, &m, &host, &fault, &pt);
	bool waited = f & 0x20;
	if (!waited)
		vtd_queue_empty(&h->v, &h->br[b], vtd_queue_mark(&h->v, &h->br[b]));
	bool late = false;
	if (is_miss && fault) {
		late = vhost_holds(h, b, m.iova) || h->br[b].held.overflow;
		if (waited)
			late = late || iotlb_miss_is_stale(&h->br[b], m.iova);
		else
			FUZZ_CHECK(late == iotlb_miss_is_stale(&h->br[b], m.iova),
				   "fresh MISS iova %#lx: late %d by the shadow, not by the bridge",
				   (unsigned long)m.iova, late);
	}
	const struct iotlb_stats st0 = h->br[b].st;
	struct fault_view fv0;
	fault_view(h, &fv0);
	h->miss = (int)b;
	h->nupd = 0;
	int ret;
	if (how < 2) {
		ret = vtd_handle_miss(&h->v, &h->br[b], &m);
	} else {
		FUZZ_CHECK(write(h->sv[b][1], buf, len) == (ssize_t)len, "write MISS");
		ret = vtd_service_fd(&h->v, &h->br[b]);
	}
	drain(h);
	h->miss = -1;
	const struct iotlb_stats *st = &h->br[b].st;
	FUZZ_TRACE("  step %lu: MISS bridge %u iova %#lx perm %u (%s): ret %d, %u UPDATE "
		   "(%lu from the ring scan)\n", (unsigned long)h->seq, b, (unsigned long)m.iova,
		   m.perm, how < 2 ? "direct" : "fd", ret, h->nupd,
		   (unsigned long)(st->ringscanned - st0.ringscanned));
	check_faults(h, b, &fv0, st0.faults, is_miss && fault && !late);
	FUZZ_CHECK(st->stale_misses - st0.stale_misses == late && (!late || ret == -ESTALE),
		   "MISS iova %#lx late %d: ret %d, stale_misses +%lu", (unsigned long)m.iova, late,
		   ret, (unsigned long)(st->stale_misses - st0.stale_misses));
	/* The scan runs only after a translated, non-pass-through answer, and
	 * every UPDATE it counts was written (the first one is the answer). */
	bool te = vtd_regs_translation_enabled(&h->v.regs);
	unsigned rs = want && te && !pt ? h->br[b].ringscan : 0;
	uint64_t scanned = st->ringscanned - st0.ringscanned;
	FUZZ_CHECK(scanned <= rs && scanned + (h->nupd > 0) <= h->nupd &&
			   st->ringscans - st0.ringscans <= (rs > 0),
		   "MISS iova %#lx: the ring scan sent %lu UPDATEs (%lu scans) with a budget of %u, "
		   "%u UPDATEs in all", (unsigned long)m.iova, (unsigned long)scanned,
		   (unsigned long)(st->ringscans - st0.ringscans), rs, h->nupd);
	if (!is_miss) {
		FUZZ_CHECK(ret == 0 && h->nupd == 0 && h->br[b].st.bad_msgs == bad0 + 1,
			   "a message that is not a MISS: ret %d, %u UPDATEs", ret, h->nupd);
		return;
	}
	unsigned most = !want ? 0 : 1 + rs + (te ? h->br[b].prefetch : 0);
	FUZZ_CHECK(h->nupd >= want && h->nupd <= most,
		   "MISS iova %#lx perm %u: %u UPDATEs, expected %d..%u", (unsigned long)m.iova, m.perm,
		   h->nupd, want, most);
	if (!want) {
		FUZZ_CHECK(ret == (m.perm < 1 || m.perm > 3 ? -EINVAL : late ? -ESTALE : -EFAULT),
			   "ret %d", ret);
		return;
	}
	const struct iotlb_msg *u = &h->upd;
	FUZZ_CHECK(ret == 0 && m.iova >= u->iova && m.iova - u->iova < u->size &&
			   u->uaddr + (m.iova - u->iova) == host && (u->perm & m.perm) == m.perm,
		   "MISS iova %#lx perm %u answered by %#lx+%#lx perm %u", (unsigned long)m.iova,
		   m.perm, (unsigned long)u->iova, (unsigned long)u->size, u->perm);
}

/* Point the unit at the tables: RTADDR, SRTP, then TE as f asks. */
static void op_program(struct h *h, struct fin *in)
{
	uint8_t f = fin_u8(in);
	uint32_t keep = gsts(h) & (G_QIE | G_TE);
	mmio_wr(h, VTD_REG_RTADDR, 8, h->t.rta);
	mmio_wr(h, VTD_REG_GCMD, 4, keep | G_SRTP);
	if (f & 1)
		mmio_wr(h, VTD_REG_GCMD, 4, (keep & G_QIE) | ((f & 2) ? G_TE : 0));
}

static void op_queue_setup(struct h *h, struct fin *in)
{
	uint8_t f = fin_u8(in);
	uint64_t base = (f & 3) == 3 ? fin_u64(in) & ~0xfffull : (f & 1) ? B_GPA : QBASE;
	uint32_t te = gsts(h) & G_TE;
	mmio_wr(h, VTD_REG_GCMD, 4, te);
	mmio_wr(h, VTD_REG_IQA, 8, base | ((f & 0x80) ? (f >> 2) & 7 : 0));
	mmio_wr(h, VTD_REG_IQT, 8, 0);
	mmio_wr(h, VTD_REG_GCMD, 4, te | G_QIE);
}

static void op_desc(struct h *h, struct fin *in)
{
	uint64_t iqa, head, tail, q[2];
	vtd_regs_iq(&h->v.regs, &iqa, &head, &tail);
	uint64_t at = qm_script_slot(fin_u16(in), iqa, tail);
	qm_script_desc(in, rids, SPAN, q);
	(void)guest_mem_write(&h->ram.gm, at, q, sizeof(q));
}

static void op_bump(struct h *h, struct fin *in)
{
	uint8_t f = fin_u8(in);
	uint64_t iqa, head, tail;
	vtd_regs_iq(&h->v.regs, &iqa, &head, &tail);
	uint64_t v = (f & 0x80) ? fin_u32(in) : (tail + 16ull * (1 + f % 32)) % (4096ull << (iqa & 7));
	mmio_wr(h, VTD_REG_IQT, (f & 0x40) ? 8 : 4, v);
}

/* Register-based invalidation: CCMD (f bit 0) or IVA + IOTLB. */
static void op_reg_inval(struct h *h, struct fin *in)
{
	uint8_t f = fin_u8(in);
	uint64_t g = (f >> 1) & 3, did = vt_did(in);
	if (f & 1) {
		uint64_t sid = rids[(f >> 3) & 3];
		mmio_wr(h, VTD_REG_CCMD, 8, 1ull << 63 | g << 61 | (uint64_t)(f >> 5 & 3) << 32 |
					    sid << 16 | did);
		return;
	}
	mmio_wr(h, VTD_REG_IVA, 8, ((uint64_t)fin_u32(in) << 12) | fin_pick(in, 20));
	mmio_wr(h, VTD_REG_IOTLB, 8, 1ull << 63 | g << 60 | did << 32);
}

static void op_reg_raw(struct h *h, struct fin *in)
{
	static const uint16_t offs[] = { VTD_REG_GCMD, VTD_REG_RTADDR, VTD_REG_CCMD, VTD_REG_FSTS,
					 VTD_REG_IQT, VTD_REG_IQA, VTD_REG_IVA, VTD_REG_IOTLB,
					 VTD_REG_FECTL, VTD_REG_ICS };
	uint8_t f = fin_u8(in);
	uint64_t off = offs[(f & 0x7f) % 10] + ((f & 0x80) ? 4 : 0);
	uint8_t g = fin_u8(in);
	mmio_wr(h, off, (g & 1) && off % 8 == 0 ? 8 : 4, fin_u64(in));
}

/* A ring IOVA: a little past a mapped one (g bit 1 clear), or anything. */
static uint64_t ring_iova(struct h *h, struct fin *in)
{
	uint8_t g = fin_u8(in);
	if (h->t.nhint && !(g & 2))
		return h->t.hint[(g >> 2) % h->t.nhint] + fin_u16(in);
	return fin_u64(in);
}

/*
 * The device's split rings (vtd_set_vrings) and the scan's budget
 * (b->ringscan, 0..509). f bit 0 bridge, 2:1 n (0 clears them, 3 is one
 * too many), 3 raw 16-bit sizes (else a power of two), 4 three IOVAs per
 * ring (else one, laid out as a driver does: avail right after the
 * descriptors, used on the next page), 5 a NULL array. What the rings hold
 * is whatever the script wrote to the RAM those IOVAs translate to.
 */
static void op_rings(struct h *h, struct fin *in)
{
	uint8_t f = fin_u8(in);
	unsigned b = f & 1, n = (f >> 1) & 3, rs = fin_u8(in);
	struct iotlb_bridge *br = &h->br[b];
	br->ringscan = rs < 128 ? rs : 128 + (rs - 128) * 3;
	struct iotlb_vring r[IOTLB_VRINGS + 1], old[IOTLB_VRINGS];
	memset(r, 0, sizeof(r));
	memcpy(old, br->vring, sizeof(old));
	bool ok = n <= IOTLB_VRINGS && !(n > 0 && (f & 0x20));
	for (unsigned i = 0; i < n; i++) {
		uint16_t num = (f & 8) ? fin_u16(in) : (uint16_t)(1u << fin_pick(in, 16));
		ok = ok && num != 0 && (num & (num - 1)) == 0 && num <= 32768;
		r[i].num = num;
		if (f & 0x10) {
			r[i].desc = ring_iova(h, in);
			r[i].avail = ring_iova(h, in);
			r[i].used = ring_iova(h, in);
		} else {
			r[i].desc = ring_iova(h, in);
			r[i].avail = r[i].desc + 16ull * num;
			r[i].used = (r[i].avail + 6 + 2ull * num + 4095) & ~4095ull;
		}
		r[i].scanned = fin_u16(in); /* the caller's leftovers: must be reset */
		r[i].scanned_used = fin_u16(in);
	}
	int ret = vtd_set_vrings(&h->v, br, (f & 0x20) ? NULL : r, n);
	FUZZ_TRACE("  step %lu: rings bridge %u n %u num %u desc %#lx avail %#lx used %#lx, "
		   "ringscan %u: ret %d\n", (unsigned long)h->seq, b, n, r[0].num,
		   (unsigned long)r[0].desc, (unsigned long)r[0].avail, (unsigned long)r[0].used,
		   br->ringscan, ret);
	FUZZ_CHECK(ret == (ok ? 0 : -EINVAL), "vtd_set_vrings n %u num %u %u: ret %d", n, r[0].num,
		   r[1].num, ret);
	for (unsigned i = 0; i < IOTLB_VRINGS; i++) {
		const struct iotlb_vring *v = &br->vring[i];
		if (!ok) {
			FUZZ_CHECK(memcmp(v, &old[i], sizeof(*v)) == 0, "rejected rings changed ring %u", i);
			continue;
		}
		bool live = i < n;
		FUZZ_CHECK(v->live == live && v->scanned == 0 && v->scanned_used == 0 &&
				   (!live || (v->num == r[i].num && v->desc == r[i].desc &&
					      v->avail == r[i].avail && v->used == r[i].used)),
			   "ring %u not set as asked", i);
	}
}

static void reset_and_wrap(struct h *h, bool reset)
{
	if (reset)
		vtd_reset(&h->v); /* re-installs vtd.c's handler */
	h->orig = h->v.regs.event;
	h->orig_opaque = h->v.regs.opaque;
	h->v.regs.event = wrap_event;
	h->v.regs.opaque = h;
}

static void setup_once(struct h *h)
{
	fuzz_ram_add(&h->ram, 0, A_SIZE);
	fuzz_ram_add(&h->ram, B_GPA, B_SIZE);
	fuzz_ram_add(&h->ram, C_GPA, C_SIZE);
	for (unsigned b = 0; b < NBR; b++) {
		FUZZ_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, h->sv[b]) == 0, "socketpair");
		/* Never block: a full socket must show as a write error, not a hang. */
		for (unsigned k = 0; k < 2; k++)
			FUZZ_CHECK(fcntl(h->sv[b][k], F_SETFL, O_NONBLOCK) == 0, "O_NONBLOCK");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t max_lens[4] = { 0x1000, 0x10000, 0x200000, 0 };
	static const unsigned prefetch[4] = { 0, 1, 8, 32 };
	struct h *h = &H;
	if (h->ram.n == 0)
		setup_once(h);
	fuzz_ram_reset(&h->ram);
	struct fin in = { data, size };
	uint8_t f = fin_u8(&in);
	h->wire = (f & 2) ? IOTLB_WIRE_V1_NATIVE : IOTLB_WIRE_V2;
	FUZZ_CHECK(vtd_init(&h->v, &h->ram.gm, f & 1, NULL, NULL) == 0, "vtd_init");
	reset_and_wrap(h, false);
	for (unsigned b = 0; b < NBR; b++) {
		FUZZ_CHECK(iotlb_bridge_init(&h->br[b], h->sv[b][0], h->wire, rids[b], &h->ram.gm,
					     &h->v.regs, max_lens[(f >> 2) & 3]) == 0 &&
				   vtd_add_bridge(&h->v, &h->br[b]) == 0, "bridge setup");
		h->br[b].prefetch = prefetch[(f >> 4) & 3]; /* the VMM's default is on */
		h->sh[b].n = 0;
	}
	vt_init(&h->t, &h->ram.gm, 0, POOL_END, rids, bases);
	h->miss = -1;
	for (h->seq = 1; !fin_empty(&in) && h->seq < 256; h->seq++) {
		/* 17: op bytes 0..15 keep their meaning from before the rings. */
		switch (fin_pick(&in, 17)) {
		case 0: vt_op_ctx(&h->t, &in); break;
		case 1: case 2: vt_op_map(&h->t, &in); break;
		case 3: vt_op_raw(&h->t, &in, SPAN); break;
		case 4: op_program(h, &in); break;
		case 5: case 6: case 7: op_miss(h, &in); break;
		case 8: case 9: op_desc(h, &in); break;
		case 10: case 11: op_bump(h, &in); break;
		case 12: op_queue_setup(h, &in); break;
		case 13: op_reg_inval(h, &in); break;
		case 14: op_reg_raw(h, &in); break;
		case 16: op_rings(h, &in); break;
		default:
			if (fin_u8(&in) < 16) {
				reset_and_wrap(h, true);
				drain(h);
				check_all_gone(h, "vtd_reset");
			} else {
				mmio_wr(h, VTD_REG_FSTS, 4, 0x10); /* clear IQE: the queue resumes */
			}
			break;
		}
	}
	drain(h);
	vtd_destroy(&h->v);
	return 0;
}
