/*
 * virtio_pci.c - setup (identity, the BAR), the BAR handler that routes an
 * access to the structure it hits (common config, ISR, device config,
 * notify, MSI-X table and PBA), and the helpers the backend calls.
 * Register semantics live in virtio_pci_common.c and virtio_pci_msix.c;
 * config space (capabilities, PCI hooks) in virtio_pci_cfg.c.
 */
#include "virtio_pci.h"

#include <errno.h>
#include <string.h>

/* --- the BAR ---------------------------------------------------------------- */

static void bar_access(struct virtio_pci *vd, uint64_t off, uint8_t *data, unsigned len,
		       bool write)
{
	if (off >= VIRTIO_PCI_BAR_SIZE || len == 0 || len > 8)
		return;
	unsigned o = (unsigned)off;
	if (o < VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_LEN) {
		if (write)
			virtio_pci_common_write(vd, o - VIRTIO_PCI_COMMON_OFF, data, len);
		else
			virtio_pci_common_read(vd, o - VIRTIO_PCI_COMMON_OFF, data, len);
	} else if (o == VIRTIO_PCI_ISR_OFF) {
		/* Read-to-clear: the act of reading acknowledges (spec 4.1.4.5). */
		if (!write) {
			data[0] = vd->isr;
			vd->isr = 0;
		}
	} else if (o >= VIRTIO_PCI_DEVCFG_OFF && o < VIRTIO_PCI_DEVCFG_OFF + vd->config_len) {
		unsigned c = o - VIRTIO_PCI_DEVCFG_OFF;
		unsigned n = len < vd->config_len - c ? len : vd->config_len - c;
		if (!write)
			memcpy(data, vd->config + c, n);
		else if (vd->ops.config_write)
			vd->ops.config_write(vd->opaque, vd->config, c, data, n);
	} else if (o >= VIRTIO_PCI_NOTIFY_OFF &&
		   o < VIRTIO_PCI_NOTIFY_OFF + (unsigned)vd->num_queues * VIRTIO_PCI_NOTIFY_MULT) {
		unsigned q = (o - VIRTIO_PCI_NOTIFY_OFF) / VIRTIO_PCI_NOTIFY_MULT;
		/* Kicks before a successful start or for a disabled queue have no one to go to. */
		if (write && o % VIRTIO_PCI_NOTIFY_MULT == 0 && vd->queue[q].enabled &&
		    vd->started && vd->ops.notify)
			vd->ops.notify(vd->opaque, q);
	} else if (o >= VIRTIO_PCI_MSIX_TABLE_OFF && o < VIRTIO_PCI_MSIX_PBA_OFF) {
		if (write)
			virtio_pci_msix_table_write(vd, o - VIRTIO_PCI_MSIX_TABLE_OFF, data, len);
		else
			virtio_pci_msix_table_read(vd, o - VIRTIO_PCI_MSIX_TABLE_OFF, data, len);
	} else if (o >= VIRTIO_PCI_MSIX_PBA_OFF && !write) {
		virtio_pci_msix_pba_read(vd, o - VIRTIO_PCI_MSIX_PBA_OFF, data, len);
	}
}

static void bar_read(void *opaque, uint64_t off, uint8_t *data, unsigned len)
{
	struct virtio_pci *vd = opaque;
	/* Holes and reserved bytes read as zero, as the spec's reserved fields. */
	memset(data, 0, len);
	pthread_mutex_lock(&vd->lock);
	bar_access(vd, off, data, len, false);
	pthread_mutex_unlock(&vd->lock);
}

static void bar_write(void *opaque, uint64_t off, const uint8_t *data, unsigned len)
{
	struct virtio_pci *vd = opaque;
	uint8_t buf[8];
	if (len == 0 || len > sizeof(buf))
		return;
	memcpy(buf, data, len);
	pthread_mutex_lock(&vd->lock);
	bar_access(vd, off, buf, len, true);
	pthread_mutex_unlock(&vd->lock);
}

const struct io_ops virtio_pci_bar_ops = { bar_read, bar_write };
/* --- setup and helpers ------------------------------------------------------ */

static bool is_pow2(unsigned v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

int virtio_pci_init(struct virtio_pci *vd, const struct virtio_pci_params *p)
{
	if (vd == NULL || p == NULL || p->num_queues == 0 ||
	    p->num_queues > VIRTIO_PCI_MAX_QUEUES || !is_pow2(p->queue_max_size) ||
	    p->queue_max_size > VIRTIO_PCI_QUEUE_MAX_SIZE || p->config_len > VIRTIO_PCI_DEVCFG_MAX ||
	    (p->config_len > 0 && p->config == NULL) || p->device_id == 0 ||
	    p->device_id > 0x3f)
		return -EINVAL;
	memset(vd, 0, sizeof(*vd));
	if (p->ops != NULL)
		vd->ops = *p->ops;
	vd->opaque = p->opaque;
	vd->device_id = p->device_id;
	vd->num_queues = p->num_queues;
	vd->queue_max_size = p->queue_max_size;
	vd->nvectors = (uint16_t)(p->num_queues + 1);
	vd->config_len = p->config_len;
	if (p->config_len > 0)
		memcpy(vd->config, p->config, p->config_len);
	vd->host_features = (p->features & ~VIRTIO_PCI_F_UNSUPPORTED &
			     ~(1ULL << VIRTIO_F_ACCESS_PLATFORM)) | 1ULL << VIRTIO_F_VERSION_1;
	if (p->iommu_platform)
		vd->host_features |= 1ULL << VIRTIO_F_ACCESS_PLATFORM;

	const struct pci_dev_info info = {
		.vendor = VIRTIO_PCI_VENDOR,
		.device = (uint16_t)(VIRTIO_PCI_DEVICE_BASE + p->device_id),
		.subsys_vendor = VIRTIO_PCI_VENDOR,
		.subsys_id = p->device_id,
		.class_code = p->class_code,
		.revision = VIRTIO_PCI_REVISION,
		.bar[VIRTIO_PCI_BAR] = { .type = PCI_BAR_MEM64, .size = VIRTIO_PCI_BAR_SIZE,
					 .ops = &virtio_pci_bar_ops, .opaque = vd },
		.cfg_write = virtio_pci_hook_cfg_write,
		.cfg_read = virtio_pci_hook_cfg_read,
		.bar_moved = virtio_pci_hook_bar_moved,
		.opaque = vd,
	};
	int ret = pci_dev_init(&vd->pci, &info);
	if (ret == 0)
		ret = virtio_pci_add_caps(vd);
	if (ret < 0)
		return ret;
	pthread_mutex_init(&vd->lock, NULL);
	virtio_pci_msix_init(vd);
	virtio_pci_reset_locked(vd);
	return 0;
}

void virtio_pci_destroy(struct virtio_pci *vd)
{
	pthread_mutex_destroy(&vd->lock);
}

int64_t virtio_pci_notify_offset(const struct virtio_pci *vd, unsigned queue)
{
	if (vd == NULL || queue >= vd->num_queues)
		return -1;
	return VIRTIO_PCI_NOTIFY_OFF + (int64_t)queue * VIRTIO_PCI_NOTIFY_MULT;
}

void virtio_pci_needs_reset(struct virtio_pci *vd)
{
	vd->status |= VIRTIO_STATUS_NEEDS_RESET;
	if (vd->status & VIRTIO_STATUS_DRIVER_OK) {
		vd->isr |= VIRTIO_PCI_ISR_CONFIG;
		virtio_pci_signal_locked(vd, vd->config_vector);
	}
}

void virtio_pci_signal(struct virtio_pci *vd, unsigned vector)
{
	pthread_mutex_lock(&vd->lock);
	virtio_pci_signal_locked(vd, vector);
	pthread_mutex_unlock(&vd->lock);
}

void virtio_pci_queue_signal(struct virtio_pci *vd, unsigned queue)
{
	pthread_mutex_lock(&vd->lock);
	if (queue < vd->num_queues && vd->queue[queue].enabled && vd->started) {
		vd->isr |= VIRTIO_PCI_ISR_QUEUE;
		virtio_pci_signal_locked(vd, vd->queue[queue].msix_vector);
	}
	pthread_mutex_unlock(&vd->lock);
}

void virtio_pci_config_changed(struct virtio_pci *vd, unsigned off, const uint8_t *data,
			       unsigned len)
{
	pthread_mutex_lock(&vd->lock);
	if (data != NULL && off < vd->config_len) {
		unsigned n = len < vd->config_len - off ? len : vd->config_len - off;
		memcpy(vd->config + off, data, n);
	}
	vd->config_gen++;
	/* Before DRIVER_OK the driver reads config anyway: no notification. */
	if (vd->status & VIRTIO_STATUS_DRIVER_OK) {
		vd->isr |= VIRTIO_PCI_ISR_CONFIG;
		virtio_pci_signal_locked(vd, vd->config_vector);
	}
	pthread_mutex_unlock(&vd->lock);
}

uint8_t virtio_pci_status(struct virtio_pci *vd)
{
	pthread_mutex_lock(&vd->lock);
	uint8_t s = vd->status;
	pthread_mutex_unlock(&vd->lock);
	return s;
}

uint64_t virtio_pci_features(struct virtio_pci *vd)
{
	pthread_mutex_lock(&vd->lock);
	uint64_t f = vd->guest_features;
	pthread_mutex_unlock(&vd->lock);
	return f;
}

