/*
 * iotlb_bridge.h - section 5 of the iommu/ interface: the vhost IOTLB
 * bridge of one device (iotlb_bridge.c, iotlb_inval.c), what vhost may
 * hold (5b-5c), the ring scan (5d) and late misses (5e). Included through
 * iommu.h, whose header comment states the rules (purity, threat model,
 * locking) these follow.
 */
#ifndef IOMMU_IOTLB_BRIDGE_H
#define IOMMU_IOTLB_BRIDGE_H

#include "vtd_model.h"

/* ======================================================================
 * 5. vhost IOTLB bridge (iotlb_bridge.c; invalidations: iotlb_inval.c):
 *    one device, one vhost fd
 * ====================================================================== */

#define IOTLB_HIST_BUCKETS 32 /* bucket i: service time in [2^i, 2^(i+1)) ns; last open */

/*
 * Time spent in write() for one kind of message on the vhost fd. vhost
 * handles each message under its device mutex and every virtqueue mutex,
 * so this is what a message costs the thread that sends it (the event
 * loop for UPDATEs, mostly; the guest's vCPU, waiting in its flush, for
 * INVALIDATEs), including any wait for the vhost worker to let go of a
 * virtqueue. Failed writes are counted too.
 */
struct iotlb_write_time {
	uint64_t n, ns_sum, ns_max;
	uint64_t hist[IOTLB_HIST_BUCKETS]; /* buckets as svc_hist */
};
/* Add ns to a log2 histogram of IOTLB_HIST_BUCKETS buckets. */
void iotlb_hist_add(uint64_t *hist, uint64_t ns);

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
	uint64_t ringscans;     /* ring scans, after a miss or a kick (iotlb_ringscan.c) */
	uint64_t ringscanned;   /* UPDATEs those scans sent, for buffers not yet used */
	uint64_t kick_scans;    /* ... of them on a relayed kick (vtd_kick_scan) */
	uint64_t kick_scanned;  /* ... and the UPDATEs those sent */
	uint64_t relay_switches; /* times the auto kick relay turned on or off */
	uint64_t resyncs;       /* domain/global IOTLB flushes answered by a re-walk */
	uint64_t resync_kept;   /* held entries a re-walk found still valid (not dropped) */
	uint64_t resync_stale;  /* held entries a re-walk found changed (invalidated, coalesced) */
	uint64_t stale_misses;  /* MISSes answered before they were read, then unmapped (5e) */
	int last_write_errno;   /* errno of the last failed write (0: short write) */
	uint16_t last_status;   /* enum vtd_status of the last translated miss */
	uint64_t resync_ns_sum; /* time in resyncs: the guest's flush waits for it */
	uint64_t resync_walk_ns_sum; /* ... of which re-walking and sorting (the rest: writes) */
	uint64_t resync_ns_max;
	uint64_t svc_ns_sum;    /* miss service time (walk + write of its UPDATE) */
	uint64_t svc_ns_max;
	uint64_t svc_hist[IOTLB_HIST_BUCKETS];
	struct iotlb_write_time wr_update, wr_inval;
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
	/*
	 * The live entries in IOVA order, as iotlb_held_sort left them. While
	 * sorted_valid (no add or reset since), it lists every entry that
	 * can be live (drops only mark entries dead, and slots do not move),
	 * so a drop can binary-search it instead of scanning every slot: a
	 * flush's re-walk sorts once and then sends tens of INVALIDATEs.
	 */
	struct iotlb_held_sorted sorted[IOTLB_HELD_MAX];
	unsigned nsorted;
	uint64_t sorted_maxlen; /* longest entry listed: how far back a drop looks */
	bool sorted_valid;
};

void iotlb_held_reset(struct iotlb_held *h);
void iotlb_held_add(struct iotlb_held *h, uint64_t iova, uint64_t len, uint64_t gpa,
		    uint8_t perm, uint16_t did);
/* An INVALIDATE of [*first, *last] was written: vhost dropped every entry
 * overlapping it (whole entries), so do the same; widens [*first, *last]
 * to cover the entries dropped. */
void iotlb_held_drop(struct iotlb_held *h, uint64_t *first, uint64_t *last);
/* May vhost hold a translated entry overlapping [first, last]? */
bool iotlb_held_overlaps(const struct iotlb_held *h, uint64_t first, uint64_t last);
/* List the live entries in IOVA order in h->sorted (and make drops use
 * it until the next add or reset); returns how many. */
unsigned iotlb_held_sort(struct iotlb_held *h);

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

/*
 * 5e. Late misses (iotlb_stale.c). vhost may queue a MISS twice, or have
 * it answered by a push before it is read; by the time it is read the
 * guest may have used and unmapped the buffer, and the walk fails. Such a
 * MISS is stale, not a DMA fault: it gets no answer and records nothing
 * (st.stale_misses). The bridge logs what its INVALIDATEs took from
 * vhost (and "everything" when the device stops), and the event loop
 * tells it when vhost's read queue was seen empty; iotlb_stale.c has the
 * rule and why it is sound.
 */
#define IOTLB_RETIRED_MAX 256

struct iotlb_retired_range {
	uint64_t first, last;
};

struct iotlb_retired {
	struct iotlb_retired_range range[IOTLB_RETIRED_MAX]; /* range i at slot i % MAX */
	uint64_t seq;           /* ranges logged, ever */
	uint64_t window;        /* seq when vhost's read queue was last seen empty */
};

/* vhost forgot [first, last] (everything: 0, UINT64_MAX). */
void iotlb_retired_log(struct iotlb_retired *r, uint64_t first, uint64_t last);

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
	/* Also scan after each invalidation queue run (VMM_IOTLB_SCAN_ON_INVAL=1;
	 * docs/BENCHMARKS-LOG.md). Its pushes answer misses the event loop has
	 * read but not served yet; those are late misses (5e), once taken for
	 * DMA faults. */
	bool ringscan_on_inval;
	struct iotlb_vring vring[IOTLB_VRINGS];
	struct iotlb_retired retired; /* see 5e */
	/* Page-selective IOTLB invalidations since the last domain or global
	 * one (saturating): how the guest flushes, for the auto kick relay. */
	uint32_t page_run;
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
 *   - a translation fault on an IOVA the guest invalidated a moment ago
 *     (iotlb_miss_is_stale, 5e) is a late MISS: nothing is sent, nothing
 *     recorded, st.stale_misses counts it.
 *   - a target that is not guest RAM: nothing is sent (counted).
 * Every uaddr range is checked against the guest_mem region right before
 * the write: nothing outside guest RAM's host mapping ever reaches vhost.
 * After a translated answer, the ring scan (5d) and the neighbour prefetch
 * push more; the service time counted is that of the answer alone.
 * Allocation-free. Locking: caller holds the VT-d lock (see section 6).
 * Returns 0 when an UPDATE was written, -EFAULT when a fault or non-RAM
 * target left nothing to send, -ESTALE for a late MISS, -EINVAL for a bad
 * message, -EIO when the write failed.
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

/* The one write path of both halves (iotlb_bridge.c, iotlb_inval.c):
 * encode m in b->wire, write() it whole on b->fd; 0, or -EIO (counted in
 * st.write_errors). */
int iotlb_bridge_send_msg(struct iotlb_bridge *b, const struct iotlb_msg *m);

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
/* CLOCK_MONOTONIC in ns, for the service-time counters. */
uint64_t iotlb_now_ns(void);
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
/* The same for ring `only` (IOTLB_VRINGS: all), and at most max entries
 * past where the last scan of each stopped (0: all). */
void iotlb_bridge_scan_ring(struct iotlb_bridge *b, unsigned only, uint16_t max);

/*
 * 5d, internal to iommu/ (not for vmm/ or devices/): the guarded ring
 * reader (iotlb_ringread.c) that the scan and iotlb_ringscan_find
 * (iotlb_ringscan.c) read the rings through. Why reading guest-written
 * rings this way is safe: the top of iotlb_ringread.c.
 */
#define IOTLB_RING_CACHE 8u /* translated ring pages kept during a scan */

/* One scan or find in progress: the translation it reads (and pushes)
 * through, what it may still spend, and the ring pages it translated. */
struct iotlb_ring_scan {
	struct iotlb_bridge *b;
	const struct vtd_walk_cfg *cfg;
	uint64_t root;
	uint16_t did;
	unsigned budget;         /* UPDATEs left */
	unsigned work;           /* reads + walks left */
	/* One cursor for the scan: ring pages and buffers mostly share their
	 * upper tables (see vtd_model.h for why this is as sound as fresh walks
	 * under the VT-d lock). */
	struct vtd_walk_cursor cur;
	uint64_t page[IOTLB_RING_CACHE];
	const uint8_t *host[IOTLB_RING_CACHE];
	unsigned next;
};

/* The little-endian u16 at iova, read as the device would (read permission,
 * b->rid, guest RAM only; a page walk costs one unit of work); false if not. */
bool iotlb_ring_rd16(struct iotlb_ring_scan *s, uint64_t iova, uint16_t *v);

/* One buffer of a queued chain, as iotlb_ring_walk_queued hands them out. */
struct iotlb_ring_buf {
	uint16_t pos, head, desc; /* avail position, chain head, index in its table */
	bool indirect;            /* desc indexes head's indirect table */
	uint64_t addr;
	uint32_t len;
};

/* Called for each buffer; false stops the walk. */
typedef bool (*iotlb_ring_buf_fn)(struct iotlb_ring_scan *s, const struct iotlb_ring_buf *rb,
				  void *opaque);

/*
 * Hand fn each buffer of the chains queued at avail positions [from, to):
 * direct descriptors in chain order; for an indirect head, the table itself
 * (vhost reads it through the IOTLB too) and then its first IND_MAX (64)
 * entries, nested indirect ones skipped (invalid in virtio). A chain stops
 * after num hops or at an unreadable descriptor, the walk at an unreadable
 * avail entry. Returns the position fn stopped at; else `to`, or, when the
 * work budget ran out, the position in progress then.
 */
uint16_t iotlb_ring_walk_queued(struct iotlb_ring_scan *s, const struct iotlb_vring *r,
				uint16_t from, uint16_t to, iotlb_ring_buf_fn fn, void *opaque);

/*
 * The kick relay's auto mode (vmm/net.h). A guest that invalidates page by
 * page (Linux iommu.strict=1: every unmap) posts buffers that only its kick
 * announces, and the relay's scan saves vhost a miss on each; a guest that
 * flushes by domain (Linux's lazy default) would pay the hop through the
 * event loop on every kick for buffers the scans after misses push anyway
 * (docs/BENCHMARKS-LOG.md, "The kick relay"). So: relay once
 * IOTLB_RELAY_PAGE_RUN page-selective invalidations came with no domain or
 * global IOTLB flush among them, and stop at the next such flush. A strict
 * guest sends that many within a few packets; a lazy one sends none, and
 * a few strays (a big unmap, another device's strict domain) do not flip
 * the relay on.
 */
#define IOTLB_RELAY_PAGE_RUN 16
bool iotlb_bridge_relay_wanted(const struct iotlb_bridge *b);

bool iotlb_pushed_test(const struct iotlb_bridge *b, uint64_t iova);
void iotlb_pushed_mark(struct iotlb_bridge *b, uint64_t iova, uint64_t len);
void iotlb_pushed_forget(struct iotlb_bridge *b, uint64_t first, uint64_t last);

/*
 * Late misses (5e). Before reading vhost's queue the caller takes a mark;
 * when a read then finds the queue empty it hands that mark back, and the
 * invalidations logged before it leave the window. iotlb_miss_is_stale:
 * may the walk of iova have failed because the guest unmapped it after
 * the MISS was queued (held by vhost, or invalidated in the window)?
 * Caller holds the VT-d lock.
 */
uint64_t iotlb_bridge_queue_mark(const struct iotlb_bridge *b);
void iotlb_bridge_queue_empty(struct iotlb_bridge *b, uint64_t mark);
bool iotlb_miss_is_stale(const struct iotlb_bridge *b, uint64_t iova);

#endif
