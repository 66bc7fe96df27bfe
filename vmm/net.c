/*
 * net.c - virtio-net over vhost-net: making a device (TAP, vhost-net,
 * transport, PCI slot), tearing it down, and the host check before any of
 * it (see net.h). Its callbacks, the VMM side of the ops, are in net_ops.c.
 */
#include "net.h"
#include "errmsg.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "kvm_irq.h"
#include "vm.h"

/* virtio-net config status bit (virtio 1.2, 5.1.4) */
#define NET_S_LINK_UP     1

int net_create(struct net_dev *n, struct vm *vm, unsigned index, const struct net_config *cfg,
	       char *err, size_t errlen)
{
	memset(n, 0, sizeof(*n));
	n->vm = vm;
	n->index = index;
	n->bar_addr = PCI_BAR_UNMAPPED;
	n->vhost.vhost_fd = n->vhost.tap_fd = -1;
	pthread_mutex_init(&n->lock, NULL);
	for (unsigned q = 0; q < VHOST_NET_QUEUES; q++)
		n->kick_fd[q] = n->vhost_kick_fd[q] = n->call_fd[q] = n->irqfd_gsi[q] = -1;
	for (unsigned q = 0; q < VHOST_NET_QUEUES; q++) {
		n->kick_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		n->call_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (n->kick_fd[q] < 0 || n->call_fd[q] < 0)
			return errmsg(err, errlen, VMM_EXIT_ERROR, "net%u: eventfd: %s", index,
				    strerror(errno));
	}
	int tap = tap_open(cfg->tap, err, errlen);
	if (tap < 0)
		return VMM_EXIT_USAGE;
	if (vhost_net_open(&n->vhost, &vm->mem, tap, err, errlen) < 0)
		return VMM_EXIT_USAGE;
	if (cfg->iommu) {
		int st = net_attach_vtd(n, err, errlen);
		if (st)
			return st;
	}
	for (unsigned q = 0; q < VHOST_NET_QUEUES; q++) {
		n->vhost_kick_fd[q] = n->kick_relay ? eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)
						    : n->kick_fd[q];
		if (n->vhost_kick_fd[q] < 0)
			return errmsg(err, errlen, VMM_EXIT_ERROR, "net%u: eventfd: %s", index,
				    strerror(errno));
	}
	if (kvm_irq_alloc(&vm->irq, NET_VECTORS, &n->gsi_base) < 0)
		return errmsg(err, errlen, VMM_EXIT_ERROR, "net%u: out of interrupt routes", index);

	uint8_t config[NET_CONFIG_LEN] = { 0 };
	if (cfg->has_mac)
		memcpy(config, cfg->mac, 6);
	else /* locally administered, stable per device index */
		memcpy(config, (uint8_t[6]){ 0x52, 0x54, 0x00, 0x12, 0x34, (uint8_t)(0x56 + index) }, 6);
	config[6] = NET_S_LINK_UP;
	config[8] = 1; /* max_virtqueue_pairs */
	struct virtio_pci_params p = {
		.device_id = VIRTIO_ID_NET,
		.class_code = VIRTIO_PCI_CLASS_NET,
		.features = net_offered_features(n->vhost.features),
		.iommu_platform = cfg->iommu,
		.num_queues = VHOST_NET_QUEUES,
		.queue_max_size = NET_QUEUE_SIZE,
		.config = config,
		.config_len = sizeof(config),
		.ops = &net_ops,
		.opaque = n,
	};
	int rc = virtio_pci_init(&n->vpci, &p);
	if (rc == 0)
		rc = pci_bus_add(&vm->pci, virtio_pci_pci_dev(&n->vpci), PCI_DEVFN(1 + index, 0));
	if (rc < 0)
		return errmsg(err, errlen, VMM_EXIT_ERROR, "net%u: PCI device: %s", index,
			    strerror(-rc));
	return 0;
}

void net_destroy(struct net_dev *n)
{
	vhost_net_close(&n->vhost);
	if (n->bridge.shadow != NULL) {
		fprintf(stderr, "vmm: net%u: iotlb-check: %" PRIu64 " checks, %" PRIu64
			" stale entries found\n", n->index, n->bridge.shadow->checks,
			n->bridge.shadow->stale_found);
		free(n->bridge.shadow);
		n->bridge.shadow = NULL;
	}
	for (unsigned q = 0; q < VHOST_NET_QUEUES; q++) {
		if (n->vhost_kick_fd[q] >= 0 && n->vhost_kick_fd[q] != n->kick_fd[q])
			close(n->vhost_kick_fd[q]);
		if (n->kick_fd[q] >= 0)
			close(n->kick_fd[q]);
		if (n->call_fd[q] >= 0)
			close(n->call_fd[q]);
	}
}

int net_check_host(const struct vmm_config *cfg, char *err, size_t errlen)
{
	if (cfg->nnets == 0)
		return 0;
	const char *vhost = getenv("VMM_VHOST_NET_DEVICE");
	if (vhost == NULL || vhost[0] == '\0')
		vhost = "/dev/vhost-net";
	const char *need[] = { vhost, "/dev/net/tun" };
	for (unsigned i = 0; i < 2; i++) {
		int fd = open(need[i], O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return errmsg(err, errlen, VMM_EXIT_USAGE, "--net needs %s: %s%s", need[i],
				    strerror(errno),
				    i == 0 ? " (load the vhost_net module)" : " (load the tun module)");
		close(fd);
	}
	return 0;
}
