/*
 * iommu.h - the emulated Intel VT-d and its bridge to kernel vhost IOTLBs.
 *
 * This header is the whole interface of the iommu/ subsystem. Everything in
 * iommu/ is pure: functions take guest memory (struct guest_mem) and state
 * as arguments, never call ioctl/read/write on file descriptors, never exit
 * or abort, and report errors as 0/-errno or as a typed status. The caller
 * (vmm/, devices/) owns the file descriptors and the threads.
 *
 * Threat model: every byte the guest controls -- root, context and page
 * tables, register values, queued descriptors -- is hostile. Nothing here
 * dereferences a guest address except through guest_mem (bounds-checked,
 * one region at a time), every shift and sum on a guest value is written so
 * that it cannot overflow, and a malformed structure yields a fault status,
 * never a crash or a read outside guest RAM.
 *
 * Contents:
 *   1. Second-level walker (vtd_walk.c): requester id + IOVA -> GPA,
 *      legacy (non-scalable) mode, and the extent helper that grows one
 *      translation over neighbouring PTEs for a single vhost UPDATE.
 *   2. vhost IOTLB message codec (iotlb_codec.h, .c): struct vhost_msg (v1, both
 *      ABIs) and struct vhost_msg_v2 to and from byte buffers.
 *   3. Register file (vtd_regs.c): the VT-d MMIO registers as a pure state
 *      machine; side effects leave through one event callback.
 *   4. Invalidations (vtd_qi.c): the invalidation queue and the mapping of
 *      register-based invalidations, both to one struct vtd_inval.
 *   5. vhost IOTLB bridge (iotlb_bridge.c): MISS -> walk -> UPDATE for one
 *      device on one vhost fd; vtd_inval -> INVALIDATE; counters. It only
 *      write()s whole messages on an fd the caller owns (tests: a socketpair).
 *   6. The VT-d unit (vtd.c): register file + queue + bridges behind ONE
 *      mutex; the ordering invariant of the miss and invalidation paths.
 *
 * Exceptions to "no syscalls": the bridge writes to its vhost fd,
 * vtd_service_fd reads from it, and vtd.c uses a pthread mutex.
 *
 * Locking: the walker and the codec keep no state; they are reentrant and
 * may run on any thread. Register file, queue and bridges are serialised by
 * struct vtd's lock (section 6). The walker reads guest tables without a lock, so a
 * vCPU may change them under its feet: the result is then some mix of old
 * and new entries, but every address it returns has still been checked
 * (table reads through guest_mem, extents clipped to one RAM region). The
 * ordering "walk + UPDATE" versus "INVALIDATE + wait completion" (see
 * docs/design-sketch.md) is struct vtd's, not the walker's: section 6.
 */
#ifndef IOMMU_IOMMU_H
#define IOMMU_IOMMU_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../vmm/guest_mem.h"

/* ======================================================================
 * 1. Legacy-mode second-level translation (vtd_walk.c)
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

/* 2. vhost IOTLB message codec: iotlb_codec.h (self-contained). */
#include "iotlb_codec.h"

/* ======================================================================
 * 3. Register file (vtd_regs.c)
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

/* ======================================================================
 * 5. vhost IOTLB bridge (iotlb_bridge.c): one device, one vhost fd
 * ====================================================================== */

#define IOTLB_HIST_BUCKETS 32 /* bucket i: service time in [2^i, 2^(i+1)) ns; last open */

struct iotlb_stats {
	uint64_t misses;        /* MISS messages handled */
	uint64_t updates;       /* UPDATE messages written */
	uint64_t invalidates;   /* INVALIDATE messages written */
	uint64_t faults;        /* translation faults (recorded or FPD-suppressed) */
	uint64_t unmappable;    /* translated/untranslated target not guest RAM */
	uint64_t bad_msgs;      /* unreadable / undecodable / unexpected messages */
	uint64_t write_errors;  /* write() on the vhost fd failed or was short */
	uint64_t bytes_mapped;  /* sum of UPDATE sizes */
	uint64_t prefetched;    /* UPDATEs sent unasked, next to a miss */
	uint64_t eager;         /* UPDATEs sent on a caching-mode map notification */
	uint64_t ringscans;     /* ring scans after a miss (iotlb_ringscan.c) */
	uint64_t ringscanned;   /* UPDATEs those scans sent, for buffers not yet used */
	uint64_t resyncs;       /* domain/global IOTLB flushes answered by a re-walk */
	uint64_t resync_kept;   /* held entries a re-walk found still valid (not dropped) */
	uint64_t resync_stale;  /* held entries a re-walk found changed (invalidated, coalesced) */
	int last_write_errno;   /* errno of the last failed write (0: short write) */
	uint16_t last_status;   /* enum vtd_status of the last translated miss */
	uint64_t svc_ns_sum;    /* miss service time (walk + write of its UPDATE) */
	uint64_t svc_ns_max;
	uint64_t svc_hist[IOTLB_HIST_BUCKETS];
};

/*
 * Largest UPDATE the bridge sends, and the window of identity mappings
 * while translation is off. 1 GiB: one 1 GiB superpage or a full 2 MiB
 * -> 4 KiB run fits, while the extent walk stays bounded (about one PTE
 * read per 4 KiB covered, see vtd_translate_extent) on the miss path.
 */
#define IOTLB_BRIDGE_MAX_LEN_DEFAULT (1ull << 30)

/*
 * 5b. A shadow of vhost's device IOTLB (iotlb_shadow.c), a debugging aid:
 * the bridge feeds it every UPDATE and INVALIDATE it writes, and the VT-d
 * unit re-checks it against the guest's tables after each invalidation
 * queue run. 2048 entries = vhost's default max_iotlb_entries.
 */
#define IOTLB_SHADOW_MAX 2048

struct iotlb_shadow_ent {
	uint64_t iova, len, gpa, seq;
	uint16_t did;
	uint8_t perm;
	bool translated;        /* false: an identity window (TE off) */
	unsigned stale_checks;  /* consecutive checks that found it stale */
};

typedef void (*iotlb_shadow_report_fn)(void *opaque, const char *msg);

struct iotlb_shadow {
	struct iotlb_shadow_ent e[IOTLB_SHADOW_MAX]; /* oldest first */
	unsigned n;
	uint64_t seq, checks, stale_found;
	iotlb_shadow_report_fn report;
	void *opaque;
};

void iotlb_shadow_init(struct iotlb_shadow *s, iotlb_shadow_report_fn report, void *opaque);
void iotlb_shadow_update(struct iotlb_shadow *s, uint64_t iova, uint64_t len, uint64_t gpa,
			 uint8_t perm, uint16_t did, bool translated);
/* vhost's rule: delete every entry overlapping [iova, iova + size - 1]. */
void iotlb_shadow_invalidate(struct iotlb_shadow *s, uint64_t iova, uint64_t size);
/* Re-translate every page of every entry; returns the stale entries found
 * and reports each (first and third time) through the report callback. */
unsigned iotlb_shadow_check(struct iotlb_shadow *s, const struct guest_mem *gm,
			    const struct vtd_regs *regs, uint16_t rid, const char *when);

/*
 * 5c. What vhost may hold (iotlb_held.c): every translated UPDATE the
 * bridge wrote since its last total flush, minus what its INVALIDATEs
 * removed since. It lets a domain or global IOTLB flush re-walk just those
 * entries and INVALIDATE the ones whose translation changed, instead of
 * emptying vhost (which made every live buffer and both rings miss again
 * after each of lazy mode's periodic flushes), and lets a page flush skip
 * the INVALIDATE when vhost cannot hold anything in its range.
 *
 * Invariant (what makes both shortcuts safe): every translated entry vhost
 * may hold lies inside a live held entry with the same IOVA -> GPA, or
 * `overflow` is set. Entries vhost retired on its own (its table is
 * bounded) may still be listed: that only costs a needless INVALIDATE.
 * When an UPDATE cannot be recorded (table full of live entries) or its
 * write fails halfway, `overflow` is set and the next domain flush is
 * total, which resets the table.
 */
#define IOTLB_HELD_MAX 4096

struct iotlb_held_ent {
	uint64_t iova, len, gpa;
	uint16_t did;
	uint8_t perm;
	bool live;              /* false: removed by an INVALIDATE, slot not yet reused */
};

/* Scratch for a re-walk (iotlb_sync.c): a live entry, in IOVA order. */
struct iotlb_held_sorted {
	uint64_t iova;
	uint16_t idx;           /* into iotlb_held.e */
	bool stale;             /* its translation changed: to be invalidated */
};

struct iotlb_held {
	struct iotlb_held_ent e[IOTLB_HELD_MAX]; /* slots [0, n), oldest first */
	unsigned n;             /* slots in use, live or not */
	unsigned live;
	bool overflow;          /* an entry vhost may hold is missing: flush totally */
	struct iotlb_held_sorted sorted[IOTLB_HELD_MAX]; /* resync scratch only */
};

void iotlb_held_reset(struct iotlb_held *h);
void iotlb_held_add(struct iotlb_held *h, uint64_t iova, uint64_t len, uint64_t gpa,
		    uint8_t perm, uint16_t did);
/* An INVALIDATE of [first, last] was written: vhost dropped every entry
 * overlapping it (whole entries), so do the same. */
void iotlb_held_drop(struct iotlb_held *h, uint64_t first, uint64_t last);
/* May vhost hold a translated entry overlapping [first, last]? */
bool iotlb_held_overlaps(const struct iotlb_held *h, uint64_t first, uint64_t last);

#define IOTLB_PUSHED_SLOTS 4096
/* Off since the ring scan (5d) finds the buffers vhost will want: in a
 * three-way A/B in one L1 boot (2026-11-28 02:23) prefetch 32 on top of
 * it was no faster and sent a third more UPDATEs. VMM_IOTLB_PREFETCH=N. */
#define IOTLB_PREFETCH_DEFAULT 0

/*
 * 5d. The device's split virtqueues, as the driver set them up (IOVAs), for
 * the ring scan (iotlb_ringscan.c): after a miss, the bridge reads the
 * buffers the driver has made available and the device has not used yet,
 * and pushes their translations before vhost asks for them one miss at a
 * time. Everything read there is guest-written and only a hint: it is read
 * through the guest's own VT-d tables, bounds-checked, with bounded work,
 * and it can only select which present mappings get pushed.
 */
#define IOTLB_VRINGS 2
#define IOTLB_RINGSCAN_DEFAULT 128 /* UPDATEs per scan */
#define IOTLB_RINGSCAN_WORK 1024   /* descriptor reads + page walks per scan */

struct iotlb_vring {
	uint64_t desc, avail, used; /* IOVAs of the three parts */
	uint16_t num;               /* queue size, a power of two <= 32768 */
	bool live;                  /* the device is started with this ring */
	uint16_t scanned;           /* avail index up to which the last scan pushed */
	uint16_t scanned_used;      /* the used index that scan saw */
};

struct iotlb_bridge {
	int fd;                 /* vhost fd (or a fake); owned by the caller */
	enum iotlb_wire wire;   /* negotiated message format */
	uint16_t rid;           /* requester id of the device behind this fd */
	uint64_t max_len;       /* power of two >= 4096 */
	const struct guest_mem *gm;
	struct vtd_regs *regs;  /* the VT-d this device sits behind */
	/*
	 * What vhost may hold, so invalidations that cannot concern it are
	 * not forwarded: a bit per domain id that an UPDATE was tagged with,
	 * plus "identity" for untranslated UPDATEs and "unknown" (everything
	 * possible: set at init). An everything-INVALIDATE clears all three.
	 */
	bool unknown;
	bool identity;
	uint8_t did_map[65536 / 8];
	struct iotlb_stats st;
	struct iotlb_shadow *shadow; /* NULL unless checking (VMM_IOTLB_CHECK=1) */
	/*
	 * Prefetch (iotlb_prefetch.c): after a translated miss, up to
	 * `prefetch` more UPDATEs for the live mappings around it (0: off).
	 * pushed[] remembers recently pushed IOVA pages (pfn + 1, hashed) so
	 * the same page is not pushed twice before an invalidation covers it.
	 */
	unsigned prefetch;
	uint64_t pushed[IOTLB_PUSHED_SLOTS];
	struct iotlb_held held; /* see 5c */
	/* Ring scan (5d): at most `ringscan` UPDATEs per miss (0: off). */
	unsigned ringscan;
	/* Also scan after each invalidation queue run. Off: it was faster in
	 * strict mode, but every test-bed boot with it saw DMA faults (vhost
	 * reading descriptors the guest had not queued) that boots without it
	 * almost never do; docs/BENCHMARKS.md. VMM_IOTLB_SCAN_ON_INVAL=1. */
	bool ringscan_on_inval;
	struct iotlb_vring vring[IOTLB_VRINGS];
};

/*
 * Set up a bridge. max_len 0 selects IOTLB_BRIDGE_MAX_LEN_DEFAULT; else it
 * must be a power of two >= 4096. -EINVAL for NULL pointers, a bad format
 * or max_len. Does no I/O.
 */
int iotlb_bridge_init(struct iotlb_bridge *b, int fd, enum iotlb_wire wire, uint16_t rid,
		      const struct guest_mem *gm, struct vtd_regs *regs, uint64_t max_len);

/*
 * Answer one MISS (m->type must be IOTLB_MISS, m->perm R/W/RW):
 *   - GSTS.TES = 0: DMA is untranslated: UPDATE(iova -> the same GPA), the
 *     max_len-aligned window holding iova clipped to its RAM region, RW.
 *   - else vtd_translate_extent(rid, iova, perm, max_len): UPDATE(extent,
 *     uaddr = host address of the extent's GPA, perm = the extent's full
 *     permission, which includes the one asked for).
 *   - a translation fault is recorded with vtd_regs_record_fault (unless
 *     the context has FPD) and nothing is sent; vhost's virtqueue stays
 *     stalled, as a device would after a DMA fault.
 *   - a target that is not guest RAM: nothing is sent (counted).
 * Every uaddr range is checked against the guest_mem region right before
 * the write: nothing outside guest RAM's host mapping ever reaches vhost.
 * After a translated answer, the ring scan (5d) and the neighbour prefetch
 * push more; the service time counted is that of the answer alone.
 * Allocation-free. Locking: caller holds the VT-d lock (see section 6).
 * Returns 0 when an UPDATE was written, -EFAULT when a fault or non-RAM
 * target left nothing to send, -EINVAL for a bad message, -EIO when the
 * write failed.
 */
int iotlb_bridge_handle_miss(struct iotlb_bridge *b, const struct iotlb_msg *m);

/*
 * Forward inv to vhost if it concerns this device:
 *   RESET, CC_* (conservatively, any context-cache invalidation: the
 *   device's context may have changed domain) -> everything;
 *   IOTLB_GLOBAL, IOTLB_DOMAIN (if an UPDATE was sent for .did), IOTLB_PAGE
 *   with .all -> re-walk the held entries and INVALIDATE the changed ones
 *   (iotlb_bridge_resync), or everything when the held list is incomplete;
 *   IOTLB_PAGE -> the range if an UPDATE was sent for .did and vhost may
 *   hold part of it; with CAP.CM, then UPDATEs for the range's present
 *   mappings (iotlb_bridge_eager);
 *   DEVTLB -> the range (or everything) if .sid == rid.
 * "Everything" is INVALIDATE(iova 0, size UINT64_MAX): vhost deletes
 * [iova, iova + size - 1] = [0, 2^64 - 2]; the one byte left out can never
 * be mapped (UPDATEs stay below 2^48 translated, below the end of RAM
 * untranslated). A range [first, last] is sent as size last - first + 1,
 * or UINT64_MAX when that would be 2^64.
 * Returns the number of messages written (0: not concerned) or -EIO.
 * Locking: caller holds the VT-d lock.
 */
int iotlb_bridge_invalidate(struct iotlb_bridge *b, const struct vtd_inval *inv);

/*
 * For iotlb_prefetch.c: send the UPDATE for a translated extent (checked
 * against guest RAM like every UPDATE), tag its domain, mark its pages
 * pushed. 0 or -errno as handle_miss. Caller holds the VT-d lock.
 */
int iotlb_bridge_push(struct iotlb_bridge *b, const struct vtd_extent *x);

/* INVALIDATE [first, last] (a range, not everything); 0 or -EIO. */
int iotlb_bridge_inval_range(struct iotlb_bridge *b, uint64_t first, uint64_t last);

/*
 * iotlb_sync.c, for iotlb_bridge_invalidate (caller holds the VT-d lock):
 * resync re-walks the live held entries of domain did (any_did: all) and
 * INVALIDATEs those that no longer translate to the same GPA with at least
 * their permission in their domain, one INVALIDATE per run of such entries
 * with no entry vhost keeps between them in IOVA order; it returns the
 * INVALIDATEs written or -EIO. It is only correct while the held list is
 * complete (not overflowed, no identity or unknown entries). eager pushes
 * the present mappings of a page-selective flush's range (at most 2 MiB,
 * 64 UPDATEs, domain inv->did only), for CAP.CM; it returns the UPDATEs
 * written and never fails the flush.
 */
int iotlb_bridge_resync(struct iotlb_bridge *b, bool any_did, uint16_t did);
int iotlb_bridge_eager(struct iotlb_bridge *b, const struct vtd_inval *inv);

/* Prefetch around a served miss (iotlb_prefetch.c); see struct iotlb_bridge. */
void iotlb_prefetch_around(struct iotlb_bridge *b, const struct vtd_walk_cfg *cfg,
			   uint64_t root, const struct vtd_extent *ext);
/*
 * Ring scan after a served miss in domain did (iotlb_ringscan.c): for each
 * live vring, the avail entries from the used index (or from where the
 * last scan stopped, if that lies between) to the avail index, each
 * descriptor chain and indirect table in them, and for every page of
 * every buffer not pushed yet, the UPDATE for its present mapping in did.
 * Sends nothing for what does not translate and records no fault.
 * Bounded by b->ringscan UPDATEs and IOTLB_RINGSCAN_WORK reads and walks.
 * Caller holds the VT-d lock.
 */
void iotlb_ringscan(struct iotlb_bridge *b, const struct vtd_walk_cfg *cfg, uint64_t root,
		    uint16_t did);
/*
 * For the log of a faulting miss: is iova inside a buffer the driver has
 * queued (avail entries from the used index to the avail index, chains
 * and indirect tables followed as the scan does)? Then the driver handed
 * the device an IOVA it had not mapped; if not, the device is reading a
 * descriptor that is not (or no longer) queued. 1 and *hit when found, 0
 * when not, -ENOENT when no live ring could be read. Bounded like a scan;
 * pushes nothing. Caller holds the VT-d lock.
 */
struct iotlb_ring_hit {
	unsigned queue;
	uint16_t used_idx, avail_idx, avail_pos, head, desc; /* desc: index in its table */
	bool indirect;          /* desc indexes the indirect table of head */
	uint64_t addr;
	uint32_t len;
};
int iotlb_ringscan_find(struct iotlb_bridge *b, uint64_t iova, struct iotlb_ring_hit *hit);

/* The same outside a miss (after an invalidation queue run, with
 * ringscan_on_inval): the domain is the one the device's first live ring
 * translates in; nothing is done while translation is off, for a
 * pass-through device, or when that ring does not translate. */
void iotlb_bridge_scan_rings(struct iotlb_bridge *b);
bool iotlb_pushed_test(const struct iotlb_bridge *b, uint64_t iova);
void iotlb_pushed_mark(struct iotlb_bridge *b, uint64_t iova, uint64_t len);
void iotlb_pushed_forget(struct iotlb_bridge *b, uint64_t first, uint64_t last);

/* ======================================================================
 * 6. The VT-d unit (vtd.c): register file + queue + bridges, one lock
 * ====================================================================== */

/*
 * THE LOCKING INVARIANT. One mutex, struct vtd.lock, is held across
 *   (a) a miss: walk the guest tables + write the UPDATE, and
 *   (b) a register write: for IQT, every descriptor's INVALIDATE writes
 *       and the wait descriptor's status write (and the register-based
 *       CCMD/IOTLB commands, and TE/SRTP changes).
 * Why that is enough: the guest clears a PTE before it queues the
 * invalidation for it (program order on its vCPU; the IQT write is a
 * synchronous MMIO exit, so the store is visible to the VMM before the
 * vCPU thread takes the lock). If a miss section (a) runs before section
 * (b), its UPDATE reached vhost before (b)'s INVALIDATE (write() on a vhost
 * fd is processed synchronously), so the INVALIDATE removes it. If it runs
 * after, the lock orders its walk after the PTE clear: it sees the cleared
 * PTE and sends no UPDATE. Either way, once the guest sees the wait
 * status, vhost holds no translation for the unmapped IOVA and never gets
 * one again until the guest maps it again.
 *
 * Nothing else needs the lock: reading a MISS from the fd happens outside
 * it. Callbacks (msi) run with the lock held and must not call vtd_*.
 */
#define VTD_MAX_BRIDGES 8

typedef void (*vtd_msi_fn)(void *opaque, uint64_t addr, uint32_t data);

struct vtd {
	pthread_mutex_t lock;
	struct vtd_regs regs;
	const struct guest_mem *gm;
	struct iotlb_bridge *bridge[VTD_MAX_BRIDGES];
	unsigned nbridges;
	vtd_msi_fn msi;
	void *msi_opaque;
	struct vtd_qi_stats qi;
	uint64_t inval_by_kind[VTD_INVAL_DEVTLB + 1];
};

/* Initialise (power-on state). msi may be NULL. -EINVAL on NULL v/gm. */
int vtd_init(struct vtd *v, const struct guest_mem *gm, bool caching_mode, vtd_msi_fn msi,
	     void *msi_opaque);
void vtd_destroy(struct vtd *v);

/* MMIO from a vCPU: vtd_regs_read/write under the lock (see invariant). */
int vtd_mmio_read(struct vtd *v, uint64_t off, unsigned size, uint64_t *val);
int vtd_mmio_write(struct vtd *v, uint64_t off, unsigned size, uint64_t val);

/* Attach a bridge (set up with &v->regs); -ENOSPC when full. */
int vtd_add_bridge(struct vtd *v, struct iotlb_bridge *b);

/* Tell b where its device's rings are (n <= IOTLB_VRINGS; n = 0 when the
 * device stops), under the lock. -EINVAL for a bad size or NULL. */
int vtd_set_vrings(struct vtd *v, struct iotlb_bridge *b, const struct iotlb_vring *r,
		   unsigned n);

/* iotlb_ringscan_find for b, under the lock. */
int vtd_find_in_rings(struct vtd *v, struct iotlb_bridge *b, uint64_t iova,
		      struct iotlb_ring_hit *hit);

/* Handle one decoded MISS for b under the lock. */
int vtd_handle_miss(struct vtd *v, struct iotlb_bridge *b, const struct iotlb_msg *m);

/*
 * Read one message from b->fd (without the lock), decode it in b->wire and
 * handle it if it is a MISS. For the event loop on POLLIN. Returns 0 when
 * handled (or ignored: counted in bad_msgs), -EAGAIN when nothing was
 * there, -EPIPE at end of file, or the miss status.
 */
int vtd_service_fd(struct vtd *v, struct iotlb_bridge *b);

/* Device reset: registers to power-on state, every bridge flushed. */
void vtd_reset(struct vtd *v);

#endif
