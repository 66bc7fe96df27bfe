/*
 * net_ops.c - virtio-net over vhost-net: the VMM side of the ops (see
 * net.h): the virtio-pci callbacks (features, start and stop, kicks,
 * MSI-X, BAR moves) and the doorbell moves they and net_relay_switch make.
 * Apart from net.c, which makes and tears down the device, because these
 * run later, on vCPU and event-loop threads, under the locks net.h orders.
 */
#include "net.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kvm_irq.h"
#include "vm.h"

/* virtio-net feature bits (virtio 1.2, 5.1.3) */
#define NET_F_CSUM        0
#define NET_F_GUEST_CSUM  1
#define NET_F_MAC         5
#define NET_F_GUEST_TSO4  7
#define NET_F_GUEST_TSO6  8
#define NET_F_GUEST_ECN   9
#define NET_F_HOST_TSO4   11
#define NET_F_HOST_TSO6   12
#define NET_F_HOST_ECN    13
#define NET_F_MRG_RXBUF   15
#define NET_F_STATUS      16
#define F_INDIRECT_DESC   28
#define F_EVENT_IDX       29

#define BIT(n) (1ULL << (n))

/*
 * Offloads are the TAP's business and always available; ring features are
 * vhost's, so only those this kernel's vhost-net implements are offered.
 */
uint64_t net_offered_features(uint64_t vhost_features)
{
	uint64_t f = BIT(NET_F_CSUM) | BIT(NET_F_GUEST_CSUM) | BIT(NET_F_MAC) | BIT(NET_F_STATUS) |
		     BIT(NET_F_GUEST_TSO4) | BIT(NET_F_GUEST_TSO6) | BIT(NET_F_GUEST_ECN) |
		     BIT(NET_F_HOST_TSO4) | BIT(NET_F_HOST_TSO6) | BIT(NET_F_HOST_ECN);
	f |= vhost_features & (BIT(NET_F_MRG_RXBUF) | BIT(F_INDIRECT_DESC) | BIT(F_EVENT_IDX));
	return f;
}

/* Doorbells follow the BAR, to the relay or to vhost; net->lock held.
 * Returns how many ioeventfds could not be added or removed (logged). */
static unsigned net_doorbells(struct net_dev *n, uint64_t bar, bool assign)
{
	unsigned bad = 0;
	if (bar == PCI_BAR_UNMAPPED)
		return 0;
	for (unsigned q = 0; q < VHOST_NET_QUEUES; q++) {
		int fd = n->relaying ? n->kick_fd[q] : n->vhost_kick_fd[q];
		int rc = kvm_ioeventfd(n->vm->vm_fd, fd,
				       bar + (uint64_t)virtio_pci_notify_offset(&n->vpci, q), 2,
				       assign);
		if (rc < 0) {
			fprintf(stderr, "vmm: net%u: %s ioeventfd for queue %u: %s\n", n->index,
				assign ? "cannot add" : "cannot remove", q, strerror(-rc));
			bad++;
		}
	}
	return bad;
}

static void net_unbind_irqfds(struct net_dev *n)
{
	for (unsigned q = 0; q < VHOST_NET_QUEUES; q++) {
		if (n->irqfd_gsi[q] >= 0)
			kvm_irqfd(n->vm->vm_fd, n->call_fd[q], (uint32_t)n->irqfd_gsi[q], false);
		n->irqfd_gsi[q] = -1;
	}
}

/* Undo what net_start wired, after vhost stopped or failed to start: the
 * bridge forgets the rings (no ring scan), the doorbells lose their
 * ioeventfds, the queues their irqfds. */
static void net_detach(struct net_dev *n)
{
	if (n->iommu)
		(void)vtd_set_vrings(n->vm->vtd, &n->bridge, NULL, 0);
	pthread_mutex_lock(&n->lock);
	net_doorbells(n, n->bar_addr, false);
	n->started = false;
	pthread_mutex_unlock(&n->lock);
	net_unbind_irqfds(n);
}

static int net_start(void *opaque, uint64_t features, const struct virtio_pci_queue *q,
		     unsigned nq)
{
	struct net_dev *n = opaque;
	char err[256];
	struct vhost_net_queue vq[VHOST_NET_QUEUES];
	if (nq < VHOST_NET_QUEUES || !q[0].enabled || !q[1].enabled) {
		fprintf(stderr, "vmm: net%u: driver started without both queues enabled\n",
			n->index);
		return -EINVAL;
	}
	for (unsigned i = 0; i < VHOST_NET_QUEUES; i++) {
		vq[i] = (struct vhost_net_queue){ .size = q[i].size, .desc = q[i].desc,
						  .driver = q[i].driver, .device = q[i].device,
						  .kick_fd = n->vhost_kick_fd[i],
						  .call_fd = n->call_fd[i] };
		if (q[i].msix_vector < NET_VECTORS) {
			uint32_t gsi = n->gsi_base + q[i].msix_vector;
			if (kvm_irqfd(n->vm->vm_fd, n->call_fd[i], gsi, true) == 0)
				n->irqfd_gsi[i] = (int)gsi;
		}
	}
	pthread_mutex_lock(&n->lock);
	net_doorbells(n, n->bar_addr, true);
	n->started = true;
	pthread_mutex_unlock(&n->lock);
	if (n->iommu && (features & BIT(VIRTIO_F_ACCESS_PLATFORM))) {
		/* For the ring scan after misses (iommu/iotlb_bridge.h, 5d); before vhost starts,
		 * so its first misses already find them. */
		struct iotlb_vring r[VHOST_NET_QUEUES];
		for (unsigned i = 0; i < VHOST_NET_QUEUES; i++)
			r[i] = (struct iotlb_vring){ .desc = q[i].desc, .avail = q[i].driver,
						     .used = q[i].device, .num = q[i].size };
		if (vtd_set_vrings(n->vm->vtd, &n->bridge, r, VHOST_NET_QUEUES) < 0)
			fprintf(stderr, "vmm: net%u: queue sizes not powers of two: no ring scan\n",
				n->index);
	}
	int rc = vhost_net_start(&n->vhost, features, vq, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "vmm: net%u: cannot start vhost-net: %s\n", n->index, err);
		net_detach(n);
	}
	return rc;
}

static void net_stop(void *opaque)
{
	struct net_dev *n = opaque;
	int rc = vhost_net_stop(&n->vhost);
	if (rc < 0)
		fprintf(stderr, "vmm: net%u: stopping vhost-net: %s\n", n->index, strerror(-rc));
	net_detach(n);
}

/* A kick that missed the ioeventfd (e.g. a 1-byte write): pass it on by hand,
 * through the kick relay when there is one. */
static void net_notify(void *opaque, unsigned queue)
{
	struct net_dev *n = opaque;
	uint64_t one = 1;
	if (queue < VHOST_NET_QUEUES && write(n->kick_fd[queue], &one, sizeof(one)) < 0)
		fprintf(stderr, "vmm: net%u: kick queue %u: %s\n", n->index, queue, strerror(errno));
}

static void net_msix_update(void *opaque, unsigned vector, uint64_t addr, uint32_t data,
			    bool masked)
{
	struct net_dev *n = opaque;
	if (vector >= NET_VECTORS)
		return;
	n->vec[vector].addr = addr;
	n->vec[vector].data = data;
	int rc = kvm_irq_set_msi(&n->vm->irq, n->gsi_base + vector, addr, data, !masked);
	if (rc < 0)
		fprintf(stderr, "vmm: net%u: MSI route for vector %u: %s\n", n->index, vector,
			strerror(-rc));
}

static void net_msix_signal(void *opaque, unsigned vector)
{
	struct net_dev *n = opaque;
	if (vector < NET_VECTORS)
		kvm_irq_signal_msi(n->vm->vm_fd, n->vec[vector].addr, n->vec[vector].data);
}

void net_relay_switch(struct net_dev *n, bool on)
{
	pthread_mutex_lock(&n->lock);
	if (n->kick_relay && n->relaying != on) {
		/* A kick between the two is an MMIO exit, passed on by
		 * net_notify to kick_fd, which the loop still relays; kicks
		 * already in kick_fd are relayed too. None is lost. */
		unsigned bad = n->started ? net_doorbells(n, n->bar_addr, false) : 0;
		n->relaying = on;
		bad += n->started ? net_doorbells(n, n->bar_addr, true) : 0;
		/* Kicks still reach vhost whichever fd a doorbell is left on
		 * (or none: MMIO exits); but one that will not move would fail
		 * and log on every switch, so auto stops switching. */
		if (bad != 0) {
			n->relay_auto = false;
			fprintf(stderr, "vmm: net%u: cannot move the doorbells between the kick "
				"relay and vhost; the relay stops switching\n", n->index);
		}
	}
	pthread_mutex_unlock(&n->lock);
}

static void net_bar_moved(void *opaque, uint64_t old_addr, uint64_t new_addr)
{
	struct net_dev *n = opaque;
	pthread_mutex_lock(&n->lock);
	if (n->started) {
		net_doorbells(n, old_addr, false);
		net_doorbells(n, new_addr, true);
	}
	n->bar_addr = new_addr;
	pthread_mutex_unlock(&n->lock);
}

/* Behind the VT-d the driver must use IOVAs: refuse FEATURES_OK without ACCESS_PLATFORM. */
static bool net_validate_features(void *opaque, uint64_t features)
{
	struct net_dev *n = opaque;
	if (n->iommu && !(features & BIT(VIRTIO_F_ACCESS_PLATFORM))) {
		fprintf(stderr,
			"vmm: net%u: the driver did not accept VIRTIO_F_ACCESS_PLATFORM; the device "
			"is behind the VT-d (iommu=on) and cannot work without it\n",
			n->index);
		return false;
	}
	return true;
}

const struct virtio_pci_ops net_ops = {
	.validate_features = net_validate_features,
	.start = net_start,
	.stop = net_stop,
	.notify = net_notify,
	.msix_update = net_msix_update,
	.msix_signal = net_msix_signal,
	.bar_moved = net_bar_moved,
};
