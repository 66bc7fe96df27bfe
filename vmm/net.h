/*
 * net.h - one virtio-net device: the pure virtio-pci transport
 * (devices/virtio_pci.h) joined to a TAP and kernel vhost-net
 * (devices/vhost_net.h), with KVM doing the fast paths: guest kicks reach
 * vhost through ioeventfds at the notify addresses, and vhost's interrupts
 * reach the guest through irqfds on MSI routes. The VMM sees only control
 * traffic (common config, MSI-X table writes).
 *
 * Behind the VT-d (iommu=on): the device offers VIRTIO_F_ACCESS_PLATFORM
 * and refuses FEATURES_OK without it, so its rings and buffers are IOVAs.
 * vhost asks for their translations on its fd (IOTLB MISS); the event loop
 * answers them through net->bridge (vtd_handle_miss, which also pushes the
 * buffers queued in the rings: iommu/iotlb_ringscan.c), and the guest's
 * invalidations reach vhost through the same bridge from the vCPU that
 * writes the VT-d registers. The requester id is bus 0, devfn
 * PCI_DEVFN(1 + index, 0): where net_create puts the device.
 *
 * The kick relay (iommu=on, without caching mode; VMM_IOTLB_KICK_SCAN=auto
 * by default, 1 always, 0 never; see docs/BENCHMARKS.md): the guest maps each
 * buffer afresh, so vhost misses on the first new buffer after a kick and
 * stalls the queue for a round trip (vhost -> MISS -> event loop -> UPDATE
 * -> vhost). With the relay the doorbell's ioeventfd writes kick_fd, which
 * wakes the event loop instead, which pushes the translations of what the
 * driver queued (vtd_kick_scan) and then writes vhost's own kick eventfd
 * (vhost_kick_fd): one hop through the event loop in place of a miss.
 * Without it, and always with caching mode (whose map flushes push every
 * mapping already), kick_fd is vhost's own.
 *
 * In auto mode both eventfds exist and the ioeventfd is moved between
 * them (net_relay_switch, event-loop thread): to kick_fd once the guest
 * invalidates page by page (checked after each batch of misses served),
 * back to vhost_kick_fd at its next domain or global flush (checked on
 * each relayed kick; iotlb_bridge_relay_wanted). Lazy guests thus keep
 * the direct path, on which the hop cost them throughput; strict ones
 * relay.
 *
 * Locks, in order:
 *   PCI bus lock -> virtio device lock -> net->lock
 *   PCI bus lock -> virtio device lock -> vtd.lock
 * net->lock guards the doorbell registration (BAR address, started flag,
 * relaying), which start/stop (device lock held), bar_moved (bus lock
 * held only) and net_relay_switch (event loop, no other lock held)
 * change. vtd.lock (iommu/iommu.h, section 6) is a leaf: it is taken
 *   - on a vCPU thread by VT-d register accesses (no other lock held; the
 *     INVALIDATE writes on the vhost fd, the ring scan's UPDATEs after a
 *     queue run (VMM_IOTLB_SCAN_ON_INVAL=1 only), and the fault/completion
 *     MSI ioctl happen under it),
 *   - on the event-loop thread by vtd_handle_miss and vtd_kick_scan (no
 *     other lock held; the UPDATE writes, the ring scan's included, happen
 *     under it),
 *   - on a vCPU thread by net_start's ring prefill and by vtd_set_vrings
 *     (net_start, net_stop), under the virtio device lock, with net->lock
 *     NOT held.
 * Nothing runs under vtd.lock that takes a PCI, virtio or net lock (the
 * VT-d's callbacks are a write() on a vhost fd and KVM_SIGNAL_MSI), so
 * there is no inversion. vhost itself never waits for user space: a miss
 * is queued and the ring stalls, so a vCPU holding vtd.lock while vhost
 * holds its own mutexes cannot deadlock either.
 */
#ifndef VMM_NET_H
#define VMM_NET_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "../devices/vhost_net.h"
#include "../devices/virtio_pci.h"
#include "../iommu/iommu.h"
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
	int kick_fd[VHOST_NET_QUEUES];       /* the doorbell's ioeventfd */
	int vhost_kick_fd[VHOST_NET_QUEUES]; /* what vhost polls: kick_fd, or the relay's */
	bool kick_relay;            /* the event loop relays kick_fd -> vhost_kick_fd */
	bool relay_auto;            /* kick_relay, switched by how the guest flushes
				     * (event-loop thread; cleared if a switch fails) */
	bool relaying;              /* doorbells write kick_fd (else vhost_kick_fd);
				     * written by net_relay_switch under lock */
	uint16_t kick_first;        /* entries pushed before vhost's kick (0: all) */
	int call_fd[VHOST_NET_QUEUES];
	uint32_t gsi_base;          /* vector v routes through gsi_base + v */
	int irqfd_gsi[VHOST_NET_QUEUES]; /* bound GSI per queue, -1: none */
	struct { uint64_t addr; uint32_t data; } vec[NET_VECTORS];
	/* iommu=on only: */
	bool iommu;
	struct iotlb_bridge bridge; /* on vhost.vhost_fd, attached to vm->vtd */
	/* Event-loop thread only: what it already logged, so a guest cannot flood stderr. */
	unsigned iotlb_logged;
};

/*
 * Create device index from cfg: TAP, vhost-net, transport, and put it on
 * the VM's PCI bus at slot 1 + index. 0 or a VMM_EXIT_* status with err.
 */
int net_create(struct net_dev *n, struct vm *vm, unsigned index, const struct net_config *cfg,
	       char *err, size_t errlen);
void net_destroy(struct net_dev *n);

/*
 * iommu=on, for net_create (vmm/net_iommu.c): turn on vhost's device
 * IOTLB (v2 messages where the kernel has them), make n->bridge on the
 * vhost fd with the VMM_IOTLB_* settings, and attach it to the VM's VT-d.
 * 0 or a VMM_EXIT_* status with err.
 */
int net_attach_vtd(struct net_dev *n, char *err, size_t errlen);

/*
 * vmm/net_ops.c, for net_create: the features the device offers (the
 * TAP's offloads, and those ring features this kernel's vhost-net has,
 * from vhost_features), and the transport's callbacks, opaque being the
 * struct net_dev.
 */
uint64_t net_offered_features(uint64_t vhost_features);
extern const struct virtio_pci_ops net_ops;

/*
 * Point the doorbells at the relay (on) or straight at vhost; nothing when
 * there is no relay. Event-loop thread only (the auto relay, vmm/net.h);
 * takes net->lock, so no VT-d lock may be held.
 */
void net_relay_switch(struct net_dev *n, bool on);

/*
 * The event loop's side (vmm/iotlb_serve.c; event-loop thread only).
 * iotlb_net: the net behind the VT-d whose vhost fd is fd, or NULL.
 * kick_net: the net (and *queue) whose relayed doorbell is fd, or NULL.
 * iotlb_serve: answer a batch of up to IOTLB_BATCH misses on n's vhost fd
 * (events: what epoll reported); a fd that can no longer deliver leaves
 * epoll set ep with a message. Then turns the auto relay on if wanted.
 * kick_relay: pass one relayed kick of queue q on to vhost, scanning the
 * queue first; turns the auto relay off if the guest now flushes by domain.
 */
struct net_dev *iotlb_net(struct vm *vm, int fd);
struct net_dev *kick_net(struct vm *vm, int fd, unsigned *queue);
void iotlb_serve(struct vm *vm, int ep, struct net_dev *n, uint32_t events);
void kick_relay(struct vm *vm, struct net_dev *n, unsigned q);

/*
 * Before anything else is set up: can this host give the configured nets a
 * TAP and vhost-net at all? 0, or VMM_EXIT_USAGE with a message naming the
 * missing device, so the user hears about it before KVM is even opened.
 */
int net_check_host(const struct vmm_config *cfg, char *err, size_t errlen);

#endif
