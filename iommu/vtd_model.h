/*
 * vtd_model.h - the VT-d model without the vhost side: the second-level
 * walker (section 1), the register file (3) and the invalidations and
 * their queue (4); section 2, the vhost message codec, is iotlb_codec.h.
 * Included through iommu.h, whose header comment states the rules
 * (purity, threat model, locking) these follow.
 */
#ifndef IOMMU_VTD_MODEL_H
#define IOMMU_VTD_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../vmm/guest_mem.h"

/* ======================================================================
 * 1. Legacy-mode second-level translation (vtd_walk.c; extents: vtd_extent.c)
 * ====================================================================== */

/*
 * Access permissions. The bit values are those of the VT-d PTE (bit 0 R,
 * bit 1 W) and, not by accident, those of VHOST_ACCESS_RO/WO/RW (1/2/3), so
 * a perm can be passed between the walker and the vhost messages unchanged.
 */
#define VTD_PERM_NONE 0u
#define VTD_PERM_R    1u
#define VTD_PERM_W    2u
#define VTD_PERM_RW   3u

/*
 * Walk status. Values 1..0xC are the VT-d non-recoverable fault reason codes
 * (VT-d spec, appendix "Non-Recoverable Fault Reason Encodings") so the
 * fault-recording registers can store them as they are. Values from 0x100 up
 * are not VT-d faults: they describe a translation that the hardware would
 * accept but that the VMM cannot hand to vhost.
 */
enum vtd_status {
	VTD_OK = 0,
	VTD_FR_ROOT_NOT_PRESENT = 0x1,  /* root entry P = 0 */
	VTD_FR_CTX_NOT_PRESENT = 0x2,   /* context entry P = 0 */
	VTD_FR_CTX_INVALID = 0x3,       /* bad TT or AW in a present context entry */
	VTD_FR_ADDR_WIDTH = 0x4,        /* IOVA >= 2^min(AGAW, MGAW) */
	VTD_FR_WRITE = 0x5,             /* write wanted, not writable / not present */
	VTD_FR_READ = 0x6,              /* read wanted, not readable / not present */
	VTD_FR_PTE_ACCESS = 0x7,        /* page-table pointer outside guest RAM */
	VTD_FR_ROOT_ACCESS = 0x8,       /* root table (RTADDR) outside guest RAM */
	VTD_FR_CTX_ACCESS = 0x9,        /* context-table pointer outside guest RAM */
	VTD_FR_ROOT_RSVD = 0xA,         /* reserved bit set in a present root entry */
	VTD_FR_CTX_RSVD = 0xB,          /* reserved bit set in a present context entry */
	VTD_FR_PTE_RSVD = 0xC,          /* reserved bit set in a present PTE */
	VTD_ST_NOT_RAM = 0x100,         /* translated GPA is not guest RAM (extent only) */
};

/* True for the statuses that the VT-d model records as DMA remapping faults. */
static inline bool vtd_status_is_fault(enum vtd_status s)
{
	return s >= VTD_FR_ROOT_NOT_PRESENT && s <= VTD_FR_PTE_RSVD;
}

/*
 * What the emulated hardware supports; the walker checks entries against
 * it, so it must agree with what CAP/ECAP advertise.
 *   haw:   host address width in bits (DMAR table "host address width" + 1),
 *          32..52. Address bits HAW..51 of every table pointer and PTE are
 *          reserved; bits 52..63 of PTEs are ignored except bit 62 (TM).
 *   mgaw:  CAP.MGAW + 1, 30..64: the largest IOVA width accepted.
 *   sagaw: CAP.SAGAW bits (bit 1 = 3-level/39-bit, bit 2 = 4-level/48-bit);
 *          a context entry whose AW has no matching bit is invalid (0x3).
 *   sllps: CAP.SLLPS (bit 0 = 2 MiB, bit 1 = 1 GiB); PS=1 at a level whose
 *          size is not advertised is a reserved-bit fault (0xC).
 *   dt:    ECAP.DT: allows context TT=1 and PTE bit 62 (TM) in leaves.
 *   pt:    ECAP.PT: allows context TT=2 (pass-through).
 *   sc:    ECAP.SC: PTE bit 11 (SNP) is defined; without SC it is reserved.
 *          Linux sets SNP only when the domain enforces cache coherency,
 *          which it refuses unless ECAP.SC is set, so a Linux guest never
 *          trips this check; QEMU treats it the same way.
 */
struct vtd_walk_cfg {
	unsigned haw;
	unsigned mgaw;
	uint8_t sagaw;
	uint8_t sllps;
	bool dt;
	bool pt;
	bool sc;
};

/*
 * Result of one translation. Fields are valid as follows:
 *   status       always.
 *   domain_id, pass_through, fpd, tt
 *                once the context entry has been accepted, i.e. for VTD_OK
 *                and for statuses 0x4..0x7 and 0xC.
 *   level        the paging level at which the walk stopped (leaf level on
 *                success, 0 when it stopped before the page tables).
 *   gpa, page_size, perm
 *                only for VTD_OK. gpa is the translation of the IOVA itself
 *                (not aligned); page_size is the leaf size (4 KiB, 2 MiB or
 *                1 GiB; 4 KiB for pass-through); perm is the AND of R/W over
 *                all levels (VTD_PERM_RW for pass-through).
 */
struct vtd_xlate {
	enum vtd_status status;
	uint16_t domain_id;
	uint8_t tt;     /* context TT: 0 translate, 1 + device-TLB, 2 pass-through */
	bool pass_through;
	bool fpd;       /* context FPD: the guest asked not to record faults */
	uint8_t level;
	uint8_t perm;
	uint64_t gpa;
	uint64_t page_size;
};

/*
 * Translate iova for requester id rid (bus << 8 | devfn) through the legacy
 * root table at rtaddr (the value latched by SRTP; bits 11:0 are ignored).
 *
 * want is the access asked for (VTD_PERM_R, _W or _RW). If the effective
 * permission lacks a wanted bit the status is VTD_FR_WRITE when W is missing
 * and wanted, else VTD_FR_READ. want = VTD_PERM_NONE only requires the
 * entries to be present (used to probe, e.g. by the extent helper).
 *
 * Semantics chosen where the spec leaves room (documented in vtd_walk.c):
 *   - A PTE with R = W = 0 is not present at any level; its other bits are
 *     not checked (VT-d checks reserved bits of present entries only).
 *   - PS at level 1 is ignored (bit 7 of a 4 KiB PTE is "ignored" in the
 *     spec); PS at level 4 is reserved (0xC).
 *   - Pass-through (TT=2) yields gpa = iova; AW must still be a supported
 *     value (Linux programs the largest one) and iova must be < 2^haw.
 *
 * Returns 0 and fills *out (status inside), or -EINVAL if an argument is
 * NULL or cfg is out of range. Reads at most 2 + 4 entries of guest memory.
 */
int vtd_translate(const struct guest_mem *gm, const struct vtd_walk_cfg *cfg,
		  uint64_t rtaddr, uint16_t rid, uint64_t iova, unsigned want,
		  struct vtd_xlate *out);

/*
 * One contiguous, uniformly-permitted piece of a translation: what one vhost
 * UPDATE may cover. [iova, iova + len) maps to [gpa, gpa + len) with
 * permission perm, and [gpa, gpa + len) lies inside a single guest_mem
 * region, so it is one contiguous host range.
 */
struct vtd_extent {
	enum vtd_status status; /* as vtd_xlate.status, plus VTD_ST_NOT_RAM */
	uint16_t domain_id;
	bool pass_through;
	bool fpd;
	uint8_t perm;
	uint64_t iova;
	uint64_t len;
	uint64_t gpa;
};

/*
 * Translate iova with access want (as vtd_translate), then grow the result
 * over the following IOVAs while the GPA stays contiguous, the permission
 * stays exactly the same, and the GPA stays inside the guest_mem region of
 * the first byte.
 *
 * The extent starts at the start of iova's leaf page, raised to the start
 * of the RAM region if the leaf begins before it, and raised to iova's
 * 4 KiB page if the leaf start would make the extent exceed max_len. It
 * always contains iova and never exceeds max_len bytes.
 *
 * max_len must be a multiple of 4096 and >= 4096 (-EINVAL otherwise); it
 * also bounds the work done (about one PTE read per 4 KiB page covered; a
 * step re-reads only the levels whose index changes), so keep it modest on
 * the miss path.
 *
 * Returns 0 and fills *out; out->status != VTD_OK means nothing may be
 * mapped (a VT-d fault, or VTD_ST_NOT_RAM when the translation of iova is
 * not guest RAM). Returns -EINVAL for NULL arguments or a bad cfg/max_len.
 */
int vtd_translate_extent(const struct guest_mem *gm, const struct vtd_walk_cfg *cfg,
			 uint64_t rtaddr, uint16_t rid, uint64_t iova, unsigned want,
			 uint64_t max_len, struct vtd_extent *out);

/*
 * Where a walk went: table[L] is the table read at level L and perm_in[L]
 * the permission ANDed over the levels above it; levels is the depth (0
 * for pass-through) and width the IOVA width (min(AGAW, MGAW), or HAW for
 * pass-through). The extent helper and the cursor resume a walk at the
 * highest level whose table index changes instead of from the top.
 */
#define VTD_MAX_LEVELS 4
struct vtd_walk_path {
	unsigned levels;
	unsigned width;
	uint64_t table[VTD_MAX_LEVELS + 1];
	uint8_t perm_in[VTD_MAX_LEVELS + 1];
};

/*
 * A walk cursor, for many translations of one requester in a row (the
 * re-walk that answers a domain flush, iotlb_sync.c, and the ring scan,
 * iotlb_ringscan.c): it keeps the root and
 * context lookup and the tables of its last walk, so the next one re-reads
 * only the levels whose index differs (for IOVAs in one 2 MiB window: the
 * leaf alone, instead of 2 + 4 entries). Zero it before the first call; a
 * call for another rtaddr, rid or cfg starts afresh by itself.
 *
 * While the tables do not change between calls, every result is exactly
 * what vtd_translate_extent returns (the walk fuzzer checks this). If the
 * guest changes them meanwhile, every entry a result rests on was still
 * read during the series, as with separate walks, only over a longer
 * window: a caller under the VT-d lock is covered by iommu.h section 6
 * (a change made meanwhile is followed by its own invalidation, which
 * walks again after this series). Zero it again after the caller itself
 * changed the tables.
 */
struct vtd_walk_cursor {
	bool valid;             /* the context below was accepted for (rtaddr, rid, cfg) */
	uint16_t rid;
	uint64_t rtaddr;
	struct vtd_walk_cfg cfg;
	struct vtd_xlate ctx;   /* the context's fields: domain_id, tt, pass_through, fpd */
	uint64_t last_iova;     /* the IOVA the tables in path were read for */
	unsigned stop;          /* the level the last walk stopped at (levels: none yet) */
	struct vtd_walk_path path;
};

/* vtd_translate_extent, resuming from and updating *cur (not NULL). */
int vtd_translate_extent_at(const struct guest_mem *gm, const struct vtd_walk_cfg *cfg,
			    uint64_t rtaddr, uint16_t rid, uint64_t iova, unsigned want,
			    uint64_t max_len, struct vtd_walk_cursor *cur, struct vtd_extent *out);

/*
 * Internal to the walker files (vtd_walk.c defines them, vtd_extent.c grows
 * extents with them); everyone else calls the vtd_translate* functions.
 */
/* The argument checks of every vtd_translate* entry point (-EINVAL if false). */
bool vtd_walk_args_valid(const struct guest_mem *gm, const struct vtd_walk_cfg *cfg,
			 const void *out, unsigned want);
/* Root, context and page walk of iova into *x, from *c when it holds this
 * rtaddr, rid and cfg (else *c is refilled); returns the status. */
enum vtd_status vtd_walk_translate(const struct guest_mem *gm, const struct vtd_walk_cfg *cfg,
				   uint64_t rtaddr, uint16_t rid, uint64_t iova, unsigned want,
				   struct vtd_walk_cursor *c, struct vtd_xlate *x);
/* The walk of iova from a valid *c (its context and tables), re-reading only
 * the levels whose index differs from its last walk; returns the status. */
enum vtd_status vtd_walk_resume(const struct guest_mem *gm, const struct vtd_walk_cfg *cfg,
				struct vtd_walk_cursor *c, uint64_t iova, unsigned want,
				struct vtd_xlate *x);

/* 2. vhost IOTLB message codec: iotlb_codec.h (self-contained). */
#include "iotlb_codec.h"

/* ======================================================================
 * 3. Register file (vtd_regs.c, vtd_fault.c, vtd_regs_state.c)
 * ====================================================================== */

/*
 * Size of the register page, and the width the model implements: CAP.SAGAW
 * advertises 39- and 48-bit tables, CAP.MGAW is 48 bits, and the DMAR table
 * should report a host address width of 48 (byte 36 = 47) to match.
 */
#define VTD_REGS_SIZE 0x1000u
#define VTD_AW_BITS   48u
#define VTD_NFR       8u      /* fault recording registers */
#define VTD_IRO_OFF   0x100u  /* IVA at +0, IOTLB register at +8 */
#define VTD_FRO_OFF   0x200u  /* 16 bytes per fault recording register */
#define VTD_MAMV      18u     /* largest page-selective address mask */

/* Register offsets (legacy mode) used by Linux. */
enum {
	VTD_REG_VER = 0x00, VTD_REG_CAP = 0x08, VTD_REG_ECAP = 0x10,
	VTD_REG_GCMD = 0x18, VTD_REG_GSTS = 0x1c, VTD_REG_RTADDR = 0x20,
	VTD_REG_CCMD = 0x28, VTD_REG_FSTS = 0x34, VTD_REG_FECTL = 0x38,
	VTD_REG_FEDATA = 0x3c, VTD_REG_FEADDR = 0x40, VTD_REG_FEUADDR = 0x44,
	VTD_REG_IQH = 0x80, VTD_REG_IQT = 0x88, VTD_REG_IQA = 0x90,
	VTD_REG_ICS = 0x9c, VTD_REG_IECTL = 0xa0, VTD_REG_IEDATA = 0xa4,
	VTD_REG_IEADDR = 0xa8, VTD_REG_IEUADDR = 0xac,
	VTD_REG_IVA = VTD_IRO_OFF, VTD_REG_IOTLB = VTD_IRO_OFF + 8,
	VTD_REG_FRCD = VTD_FRO_OFF,
};

/* Invalidation granularities: the G field values of CCMD/IOTLB and of QI. */
enum vtd_gran {
	VTD_GRAN_NONE = 0,   /* reserved request: nothing done */
	VTD_GRAN_GLOBAL = 1,
	VTD_GRAN_DOMAIN = 2,
	VTD_GRAN_DEVICE = 3, /* context cache: one source id */
	VTD_GRAN_PAGE = 3,   /* IOTLB: 2^am pages at addr */
};

enum vtd_event_type {
	VTD_EV_TE,          /* translation enable changed: .enabled */
	VTD_EV_ROOT,        /* SRTP: a new root table is active: .addr */
	VTD_EV_QIE,         /* queued invalidation enabled/disabled: .enabled */
	VTD_EV_IQ_TAIL,     /* IQT written while QI is enabled: .addr = new tail */
	VTD_EV_CC_INVAL,    /* context-cache invalidation: .gran, .did, .sid, .fm */
	VTD_EV_IOTLB_INVAL, /* IOTLB invalidation: .gran, .did, .addr, .am, .ih */
	VTD_EV_FAULT_MSI,   /* send MSI .addr/.data (fault event) */
	VTD_EV_INV_MSI,     /* send MSI .addr/.data (invalidation completion) */
};

struct vtd_event {
	enum vtd_event_type type;
	bool enabled;
	uint8_t gran;  /* enum vtd_gran, as actually performed */
	uint8_t fm;
	uint8_t am;
	bool ih;
	uint16_t did;
	uint16_t sid;
	uint32_t data;
	uint64_t addr;
};

/*
 * Called synchronously from inside vtd_regs_write() (and from
 * vtd_regs_record_fault() for VTD_EV_FAULT_MSI). The handler must finish
 * the work before returning: when vtd_regs_write() returns to the vCPU the
 * guest sees the invalidation as complete (ICC/IVT clear). It may call
 * vtd_regs_* accessors (e.g. vtd_regs_set_iqh) but not vtd_regs_write.
 */
typedef void (*vtd_event_fn)(void *opaque, const struct vtd_event *ev);

struct vtd_regs {
	uint64_t cap, ecap;
	uint32_t gsts;
	uint64_t rtaddr_reg; /* as written */
	uint64_t rtaddr;     /* latched by SRTP: what the walker uses */
	uint64_t ccmd;
	uint32_t fsts;       /* PFO, IQE, ICE, ITE (PPF and FRI are computed) */
	unsigned fri;
	uint32_t fectl, fedata, feaddr, feuaddr;
	uint64_t iqh, iqt, iqa;
	uint32_t ics, iectl, iedata, ieaddr, ieuaddr;
	uint64_t iva, iotlb;
	uint64_t frcd[VTD_NFR][2];
	vtd_event_fn event;
	void *opaque;
};

/*
 * Reset to power-on state (translation off, nothing latched). caching_mode
 * sets CAP.CM (the guest then reports new mappings with invalidations).
 * event may be NULL (events dropped). Returns -EINVAL if r is NULL.
 *
 * Locking: a vtd_regs is not thread-safe. The owner (one VT-d lock) must
 * serialise vtd_regs_read/write/record_fault and every accessor; events run
 * under that lock.
 */
int vtd_regs_init(struct vtd_regs *r, bool caching_mode, vtd_event_fn event, void *opaque);

/*
 * MMIO access at byte offset off of the register page: size 4 or 8,
 * naturally aligned, inside VTD_REGS_SIZE (-EINVAL otherwise; the access is
 * then ignored / reads 0). A 64-bit register may be accessed whole or as two
 * 32-bit halves; its command (CCMD.ICC, IOTLB.IVT) runs when the half that
 * holds the command bit is written, with the other half as last written. A
 * 64-bit access over two 32-bit registers is two 32-bit accesses, low first.
 * Unimplemented offsets read 0 and ignore writes.
 */
int vtd_regs_read(struct vtd_regs *r, uint64_t off, unsigned size, uint64_t *val);
int vtd_regs_write(struct vtd_regs *r, uint64_t off, unsigned size, uint64_t val);

/*
 * Record a primary DMA remapping fault (reason = enum vtd_status fault code,
 * is_write = the request type) in the next fault recording register and
 * raise the fault event (an MSI, or FECTL.IP if masked). Returns 0, or
 * -ENOSPC when the next register still holds an unread fault (FSTS.PFO is
 * set, the fault is dropped). The caller skips faults whose context entry
 * has FPD set.
 */
int vtd_regs_record_fault(struct vtd_regs *r, uint16_t sid, uint64_t addr, uint8_t reason,
			  bool is_write);

/* State the rest of the model needs. */
bool vtd_regs_translation_enabled(const struct vtd_regs *r); /* GSTS.TES */
bool vtd_regs_qi_enabled(const struct vtd_regs *r);          /* GSTS.QIES */
bool vtd_regs_caching_mode(const struct vtd_regs *r);        /* CAP.CM */
uint64_t vtd_regs_root(const struct vtd_regs *r);            /* latched RTADDR */
/* Walker configuration matching CAP/ECAP. */
void vtd_regs_walk_cfg(const struct vtd_regs *r, struct vtd_walk_cfg *cfg);
/* The invalidation queue owner moves the head (bits 18:4 kept). */
void vtd_regs_set_iqh(struct vtd_regs *r, uint64_t head);

/*
 * Invalidation-queue state for its owner (vtd_qi.c): IQA as stored (base
 * bits 63:12, QS bits 2:0), IQH and IQT (byte offsets, bits 18:4).
 */
void vtd_regs_iq(const struct vtd_regs *r, uint64_t *iqa, uint64_t *iqh, uint64_t *iqt);

/*
 * FSTS.IQE: an invalid queued descriptor stopped the queue. Setting it
 * raises the fault event (like a primary fault). While it is set the queue
 * is not processed; when the guest clears it (W1C on FSTS) with QI still
 * enabled, the register file emits VTD_EV_IQ_TAIL again so that processing
 * resumes from IQH -- Linux's qi_check_fault() overwrites the bad
 * descriptor, clears IQE and expects the hardware to carry on.
 */
void vtd_regs_set_iqe(struct vtd_regs *r);
bool vtd_regs_iqe(const struct vtd_regs *r);

/*
 * FSTS.ITE: an invalidation could not be completed. The hardware meaning
 * is a device-TLB invalidation time-out; here it is also raised when an
 * INVALIDATE could not be written to vhost, because completing the wait
 * would tell the guest a translation is gone that vhost may still use.
 * vtd_qi_process then drops every pending descriptor up to IQT (the
 * spec's "pending wait descriptors are aborted"; no status is written) and
 * does nothing while ITE is set; clearing it resumes from IQH as for IQE.
 * Linux's qi_check_fault() sees ITE, marks its waits aborted, clears ITE
 * and resubmits. Raises the fault event.
 */
void vtd_regs_set_ite(struct vtd_regs *r);
bool vtd_regs_ite(const struct vtd_regs *r);

/*
 * A wait descriptor with IF=1 completed: set ICS.IWC and, if it was clear,
 * raise the invalidation completion event (VTD_EV_INV_MSI, or IECTL.IP
 * while IECTL.IM masks it). Clearing IWC (W1C on ICS) clears IECTL.IP.
 */
void vtd_regs_inv_complete(struct vtd_regs *r);

/* ======================================================================
 * 4. Invalidations and the invalidation queue (vtd_qi.c)
 * ====================================================================== */

/*
 * One invalidation request, from the queue or from the register-based
 * interface, in a form the consumers (the vhost bridges) can act on
 * without knowing the descriptor encodings.
 */
enum vtd_inval_kind {
	VTD_INVAL_RESET,        /* model-level: TE toggled, new root, reset: drop everything */
	VTD_INVAL_CC_GLOBAL,    /* context cache, all devices */
	VTD_INVAL_CC_DOMAIN,    /* context cache, .did */
	VTD_INVAL_CC_DEVICE,    /* context cache, .sid under function mask .fm (.did too) */
	VTD_INVAL_IOTLB_GLOBAL, /* IOTLB, all domains */
	VTD_INVAL_IOTLB_DOMAIN, /* IOTLB, every IOVA of .did */
	VTD_INVAL_IOTLB_PAGE,   /* IOTLB, .did, IOVAs [.first, .last] (or .all) */
	VTD_INVAL_DEVTLB,       /* device-TLB of .sid, IOVAs [.first, .last] (or .all) */
};

/*
 * Ranges are inclusive so that the whole 64-bit space is representable:
 * [first, last] with first <= last, both valid; .all = true means "every
 * IOVA" (then first = 0, last = UINT64_MAX). A range whose size would be
 * 2^64 (AM + 12 >= 64, or a device-TLB S-bit size of 2^64 or more) is
 * reported as .all, never computed with a shift that overflows.
 */
struct vtd_inval {
	enum vtd_inval_kind kind;
	uint16_t did;
	uint16_t sid;
	uint8_t fm;     /* CC_DEVICE: SID bits masked out (0 none, 1 bit 2, 2 bits 2:1, 3 bits 2:0) */
	bool ih;        /* IOTLB_PAGE: invalidation hint (leaves only); informational */
	bool all;
	uint64_t first;
	uint64_t last;
};

/*
 * Called once per invalidation, in queue order. When it returns the
 * invalidation must be complete (for a bridge: the INVALIDATE messages are
 * written), because the next wait descriptor may tell the guest so.
 */
typedef void (*vtd_inval_fn)(void *opaque, const struct vtd_inval *inv);

/*
 * Map a register-file event (VTD_EV_CC_INVAL, VTD_EV_IOTLB_INVAL, VTD_EV_TE,
 * VTD_EV_ROOT) to an invalidation. Returns false for other events (nothing
 * to invalidate) and for reserved granularities.
 */
bool vtd_inval_from_event(const struct vtd_event *ev, struct vtd_inval *out);

/* Decoded fields of 128-bit (legacy) descriptors. */
#define VTD_QI_DESC_SIZE 16u
enum vtd_qi_type {
	VTD_QI_CC = 1, VTD_QI_IOTLB = 2, VTD_QI_DEVTLB = 3, VTD_QI_IEC = 4, VTD_QI_WAIT = 5,
};

/* What the queue did; kept by the owner, updated by vtd_qi_process. */
struct vtd_qi_stats {
	uint64_t runs;         /* vtd_qi_process calls that found the queue runnable */
	uint64_t descs;        /* descriptors completed */
	uint64_t by_type[6];   /* index = descriptor type 1..5; 0 unused */
	uint64_t waits_status; /* status writes done */
	uint64_t waits_irq;    /* IF completions */
	uint64_t errors;       /* IQE raised */
	uint64_t aborted;      /* runs stopped by ITE (an invalidation not completed) */
};

/*
 * Process the invalidation queue from IQH to IQT (the register file's
 * VTD_EV_IQ_TAIL handler calls this). Descriptors are read from guest RAM
 * at IQA.base + IQH through guest_mem, one at a time, in order:
 *   type 1/2/3 -> decoded and passed to fn (a vtd_inval);
 *   type 4     -> accepted and ignored (interrupt remapping is off);
 *   type 5     -> after every earlier descriptor's fn returned: with SW,
 *                 the 4-byte status data is written at the status address;
 *                 with IF, vtd_regs_inv_complete(). FN is implied: the
 *                 queue is processed strictly in order.
 * IQH advances past each completed descriptor. A descriptor that cannot be
 * fetched (queue outside RAM), has an unknown type, reserved bits set, or a
 * status address outside RAM stops the queue with FSTS.IQE and IQH left
 * on it; a tail beyond the queue size (IQA.QS) does the same at the
 * current head. Nothing is done while QI is disabled or IQE is pending.
 * If fn raises FSTS.ITE (vtd_regs_set_ite: it could not complete the
 * invalidation), processing stops there, every pending descriptor up to
 * IQT is dropped without its status write (IQH = IQT), and -ETIMEDOUT is
 * returned; nothing is done while ITE is pending.
 *
 * Bounded: at most one pass over the queue (<= 32768 descriptors).
 * Locking: caller holds the VT-d lock (the one serialising r).
 * st may be NULL. Returns the number of descriptors completed, or -EINVAL
 * for NULL r/gm/fn, or -EIO when it stopped on an error (IQE set).
 */
int vtd_qi_process(struct vtd_regs *r, const struct guest_mem *gm, vtd_inval_fn fn,
		   void *opaque, struct vtd_qi_stats *st);

#endif
