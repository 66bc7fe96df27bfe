/*
 * vhost_net.h - the host side of virtio-net: a TAP interface and a kernel
 * vhost-net instance that moves packets between it and the guest's rings.
 *
 * This is an edge of the VMM: every function here makes system calls
 * (/dev/net/tun, /dev/vhost-net ioctls). The transport (virtio_pci) and the
 * virtio-net device model stay pure and call these through the device's
 * backend ops.
 *
 * Lifecycle: tap_open() and vhost_net_open() at VM creation (so a missing
 * TAP or /dev/vhost-net is a clear start-up error); vhost_net_start() when
 * the driver sets DRIVER_OK; vhost_net_stop() on device reset and at exit.
 * Start and stop may repeat (driver unbind/rebind).
 *
 * Threads: start/stop run on the vCPU thread that wrote the status
 * register, under the virtio device's lock; prefill is called there too.
 * Behind an IOMMU the event loop also reads IOTLB misses from vhost_fd and
 * writes UPDATEs, and vCPUs write INVALIDATEs (VT-d register writes) to
 * it: message I/O on the fd needs no lock here, because vhost processes
 * each write() and each ioctl synchronously and never waits for user
 * space (a miss is queued, not waited for).
 */
#ifndef DEVICES_VHOST_NET_H
#define DEVICES_VHOST_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../vmm/guest_mem.h"

#define VHOST_NET_QUEUES 2  /* 0 receive, 1 transmit */

struct vhost_net_queue {
	uint16_t size;
	uint64_t desc, driver, device; /* guest physical, or IOVA with ACCESS_PLATFORM */
	int kick_fd;                   /* eventfd: guest notify (ioeventfd) -> vhost */
	int call_fd;                   /* eventfd: vhost -> guest interrupt (irqfd) */
};

/*
 * Behind an IOMMU: give vhost the translation of [iova, iova + len) before
 * it needs it (for net_iommu.c: a synthetic IOTLB miss answered by the VT-d).
 * Best effort: a range that stays untranslated only costs a real miss,
 * except for the used ring at VHOST_NET_SET_BACKEND (see vhost_net_start).
 */
typedef void (*vhost_net_prefill_fn)(void *opaque, uint64_t iova, uint64_t len);

struct vhost_net {
	int vhost_fd;
	int tap_fd;
	uint64_t features;       /* what /dev/vhost-net offers (VHOST_GET_FEATURES) */
	uint64_t backend_features; /* VHOST_GET_BACKEND_FEATURES, 0 if unsupported */
	bool running;
	bool iotlb;              /* vhost_net_enable_iotlb done: rings are IOVAs */
	bool iotlb_v2;           /* VHOST_BACKEND_F_IOTLB_MSG_V2 negotiated */
	vhost_net_prefill_fn prefill;
	void *prefill_opaque;
	const struct guest_mem *gm;
	uint16_t last_avail[VHOST_NET_QUEUES]; /* from GET_VRING_BASE at the last stop */
};

/*
 * Open (and create, when the VMM has CAP_NET_ADMIN) the TAP `name` with
 * IFF_TAP | IFF_NO_PI | IFF_VNET_HDR and a 12-byte virtio-net header.
 * Returns the fd or -errno with a message in err.
 */
int tap_open(const char *name, char *err, size_t errlen);

/* Enable the TAP offloads matching the guest's receive features (GUEST_CSUM, GUEST_TSO*). */
int tap_set_offload(int tap_fd, uint64_t guest_features);

/*
 * Open /dev/vhost-net (or $VMM_VHOST_NET_DEVICE), take ownership, read its
 * features and give it the guest memory table. Takes ownership of tap_fd.
 */
int vhost_net_open(struct vhost_net *vn, const struct guest_mem *gm, int tap_fd, char *err,
		   size_t errlen);

/*
 * Put this vhost-net behind an IOMMU (after vhost_net_open). Refuses, with
 * -EOPNOTSUPP and a message, a kernel whose vhost-net lacks
 * VIRTIO_F_ACCESS_PLATFORM (no device IOTLB). Negotiates
 * VHOST_BACKEND_F_IOTLB_MSG_V2 when VHOST_GET_BACKEND_FEATURES offers it
 * (*v2 = true); otherwise (older kernels answer ENOTTY) the IOTLB messages
 * are struct vhost_msg in this build's own layout (*v2 = false). Then sets
 * VHOST_SET_FEATURES with ACCESS_PLATFORM at once, so the device IOTLB
 * exists from now on: an INVALIDATE the guest causes before its driver
 * starts the device is accepted instead of failing with EFAULT.
 * prefill (may be NULL) is called by vhost_net_start for every ring.
 * After this, IOTLB messages are read from / written to vn->vhost_fd by
 * the caller (it is O_NONBLOCK; one read returns one whole message).
 */
int vhost_net_enable_iotlb(struct vhost_net *vn, vhost_net_prefill_fn prefill, void *opaque,
			   bool *v2, char *err, size_t errlen);

/*
 * Program both queues and attach the TAP. features are the driver's
 * negotiated features; only those vhost implements are passed to it.
 * With VIRTIO_F_ACCESS_PLATFORM (only after vhost_net_enable_iotlb) the
 * ring addresses go to vhost unchanged, as IOVAs, and every ring is
 * prefilled before VHOST_NET_SET_BACKEND: that ioctl writes the used
 * ring's flags and reads its index at once and fails with EFAULT while
 * vhost has no translation for them (it queues a miss but does not wait).
 * An EFAULT is retried a few times after prefilling again (an invalidation
 * from another vCPU may have emptied vhost's IOTLB in between). On failure
 * no queue is left attached.
 */
int vhost_net_start(struct vhost_net *vn, uint64_t features,
		    const struct vhost_net_queue q[VHOST_NET_QUEUES], char *err, size_t errlen);

/* Detach the TAP and read back the ring positions. Idempotent. */
int vhost_net_stop(struct vhost_net *vn);

void vhost_net_close(struct vhost_net *vn);

#endif
