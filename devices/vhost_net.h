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
 * register, under the virtio device's lock. Nothing else touches the fds.
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

struct vhost_net {
	int vhost_fd;
	int tap_fd;
	uint64_t features;       /* what /dev/vhost-net offers (VHOST_GET_FEATURES) */
	uint64_t backend_features; /* VHOST_GET_BACKEND_FEATURES, 0 if unsupported */
	bool running;
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
 * Program both queues and attach the TAP. features are the driver's
 * negotiated features; only those vhost implements are passed to it.
 */
int vhost_net_start(struct vhost_net *vn, uint64_t features,
		    const struct vhost_net_queue q[VHOST_NET_QUEUES], char *err, size_t errlen);

/* Detach the TAP and read back the ring positions. Idempotent. */
int vhost_net_stop(struct vhost_net *vn);

void vhost_net_close(struct vhost_net *vn);

#endif
