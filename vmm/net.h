/*
 * net.h - one virtio-net device: the pure virtio-pci transport
 * (devices/virtio_pci.h) joined to a TAP and kernel vhost-net
 * (devices/vhost_net.h), with KVM doing the fast paths: guest kicks reach
 * vhost through ioeventfds at the notify addresses, and vhost's interrupts
 * reach the guest through irqfds on MSI routes. The VMM sees only control
 * traffic (common config, MSI-X table writes).
 *
 * Locks, in order: PCI bus lock -> virtio device lock -> net->lock.
 * net->lock guards the doorbell registration (BAR address, started flag),
 * which start/stop (device lock held) and bar_moved (bus lock held only)
 * both change.
 */
#ifndef VMM_NET_H
#define VMM_NET_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "../devices/vhost_net.h"
#include "../devices/virtio_pci.h"
#include "config.h"

#define NET_QUEUE_SIZE  256
#define NET_VECTORS     (VHOST_NET_QUEUES + 1)
#define NET_CONFIG_LEN  12   /* mac[6], status, max_virtqueue_pairs, mtu */

struct vm;

struct net_dev {
	struct virtio_pci vpci;     /* first: its pci_dev sits on the bus */
	struct vm *vm;
	unsigned index;
	struct vhost_net vhost;
	pthread_mutex_t lock;
	uint64_t bar_addr;          /* decoded BAR, PCI_BAR_UNMAPPED if none */
	bool started;
	int kick_fd[VHOST_NET_QUEUES];
	int call_fd[VHOST_NET_QUEUES];
	uint32_t gsi_base;          /* vector v routes through gsi_base + v */
	int irqfd_gsi[VHOST_NET_QUEUES]; /* bound GSI per queue, -1: none */
	struct { uint64_t addr; uint32_t data; } vec[NET_VECTORS];
};

/*
 * Create device index from cfg: TAP, vhost-net, transport, and put it on
 * the VM's PCI bus at slot 1 + index. 0 or a VMM_EXIT_* status with err.
 */
int net_create(struct net_dev *n, struct vm *vm, unsigned index, const struct net_config *cfg,
	       char *err, size_t errlen);
void net_destroy(struct net_dev *n);

#endif
