/*
 * iommu.h - the emulated Intel VT-d and its bridge to kernel vhost IOTLBs.
 *
 * This header is the whole interface of the iommu/ subsystem (sections 1-4
 * live in vtd_model.h, section 5 in iotlb_bridge.h; include this one).
 * Everything in iommu/ is pure: functions take guest memory (struct
 * guest_mem) and state as arguments, never call ioctl/read/write on file descriptors, never exit
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
 *      legacy (non-scalable) mode, and the extent helper (vtd_extent.c)
 *      that grows one translation over neighbouring PTEs for a single
 *      vhost UPDATE.
 *   2. vhost IOTLB message codec (iotlb_codec.h, .c): struct vhost_msg (v1, both
 *      ABIs) and struct vhost_msg_v2 to and from byte buffers.
 *   3. Register file (vtd_regs.c; faults and interrupts in vtd_fault.c,
 *      power-on state and accessors in vtd_regs_state.c): the VT-d MMIO
 *      registers as a pure state machine; side effects leave through one
 *      event callback.
 *   4. Invalidations (vtd_qi.c): the invalidation queue and the mapping of
 *      register-based invalidations, both to one struct vtd_inval.
 *   5. vhost IOTLB bridge (iotlb_bridge.c): MISS -> walk -> UPDATE for one
 *      device on one vhost fd; vtd_inval -> INVALIDATE (iotlb_inval.c);
 *      counters. It only write()s whole messages on an fd the caller owns
 *      (tests: a socketpair).
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

#include "iotlb_bridge.h"

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
 * it. (The mark taken before a read, for late misses, 5e, is taken under
 * it: any invalidation logged after the mark is in the window.) Callbacks
 * (msi) run with the lock held and must not call vtd_*.
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

/*
 * The driver kicked queue `queue` of b (vmm/net.h, the kick relay): push
 * the translations of what it queued, under the lock, so that vhost finds
 * them instead of missing on the first new buffer. The relay calls it
 * twice: with max = VMM_IOTLB_KICK_FIRST (default 1) for the next entries
 * of the kicked queue before it wakes vhost, then with queue =
 * IOTLB_VRINGS and max = 0 for everything else while vhost already works
 * (iotlb_bridge_scan_ring); with VMM_IOTLB_KICK_FIRST=0 only once, the
 * whole kicked queue before the kick. Each call that scans counts in
 * b->st.kick_scans, its UPDATEs in kick_scanned.
 */
void vtd_kick_scan(struct vtd *v, struct iotlb_bridge *b, unsigned queue, uint16_t max);

/* The auto kick relay: iotlb_bridge_relay_wanted(b) under the lock,
 * counting a switch in b->st.relay_switches when it differs from
 * `relaying` (the caller then switches). */
bool vtd_relay_wanted(struct vtd *v, struct iotlb_bridge *b, bool relaying);

/* Late misses (5e), under the lock: take a mark before reading b's fd;
 * when a read after the mark found the fd empty, hand it back. */
uint64_t vtd_queue_mark(struct vtd *v, struct iotlb_bridge *b);
void vtd_queue_empty(struct vtd *v, struct iotlb_bridge *b, uint64_t mark);

/* Handle one decoded MISS for b under the lock. */
int vtd_handle_miss(struct vtd *v, struct iotlb_bridge *b, const struct iotlb_msg *m);

/*
 * Read one message from b->fd (without the lock), decode it in b->wire and
 * handle it if it is a MISS. For the event loop on POLLIN. Returns 0 when
 * handled (or ignored: counted in bad_msgs), -EAGAIN when nothing was
 * there (the queue was empty: reported to the bridge, 5e), -EPIPE at end
 * of file, or the miss status.
 */
int vtd_service_fd(struct vtd *v, struct iotlb_bridge *b);

/* Device reset: registers to power-on state, every bridge flushed. */
void vtd_reset(struct vtd *v);

#endif
