/*
 * virtio_pci_cfg.c - the transport's face in PCI config space: the
 * vendor-specific virtio capabilities and the MSI-X capability, and the
 * hooks the PCI bus calls under its lock: MSI-X message control writes,
 * the PCI_CFG access window (cfg_type 5), and BAR decode changes.
 */
#include "virtio_pci.h"

#include <string.h>

/* struct virtio_pci_cap: vndr, next, len, cfg_type, bar, id, pad[2], offset, length */
#define VCAP_LEN       16
#define VCAP_BAR       4
#define VCAP_OFFSET    8
#define VCAP_LENGTH    12
#define VCAP_NOTIFY_MULT 16   /* struct virtio_pci_notify_cap */
#define VCAP_PCFG_DATA 16     /* struct virtio_pci_cfg_cap */

/* MSI-X capability: id, next, message control, table BIR/offset, PBA BIR/offset */
#define MSIX_CAP_LEN   12
#define MSIX_CAP_CTRL  2

static void put32(uint8_t *p, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int add_vcap(struct pci_dev *d, uint8_t type, uint32_t off, uint32_t len,
		    const uint8_t *extra, unsigned extra_len, const uint8_t *wmask,
		    unsigned *at)
{
	uint8_t b[VCAP_LEN + 4] = { PCI_CAP_ID_VNDR, 0, (uint8_t)(VCAP_LEN + extra_len), type,
				    VIRTIO_PCI_BAR };
	put32(b + VCAP_OFFSET, off);
	put32(b + VCAP_LENGTH, len);
	if (extra_len > 0)
		memcpy(b + VCAP_LEN, extra, extra_len);
	return pci_dev_add_cap(d, b, wmask, VCAP_LEN + extra_len, at);
}

int virtio_pci_add_caps(struct virtio_pci *vd)
{
	struct pci_dev *d = &vd->pci;
	uint8_t mult[4], zero[4] = { 0 };
	put32(mult, VIRTIO_PCI_NOTIFY_MULT);

	int ret = add_vcap(d, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFF,
			   VIRTIO_PCI_COMMON_LEN, NULL, 0, NULL, NULL);
	if (ret == 0)
		ret = add_vcap(d, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFF,
			       (uint32_t)vd->num_queues * VIRTIO_PCI_NOTIFY_MULT, mult, 4, NULL,
			       NULL);
	if (ret == 0)
		ret = add_vcap(d, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFF, VIRTIO_PCI_ISR_LEN,
			       NULL, 0, NULL, NULL);
	/* A device without config (length 0) gets no DEVICE capability. */
	if (ret == 0 && vd->config_len > 0)
		ret = add_vcap(d, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVCFG_OFF,
			       vd->config_len, NULL, 0, NULL, NULL);
	if (ret == 0) {
		/* The window: bar, offset, length and data are driver-writable. */
		uint8_t wm[VCAP_LEN + 4] = { 0 };
		wm[VCAP_BAR] = 0xff;
		memset(wm + VCAP_OFFSET, 0xff, 8);
		memset(wm + VCAP_PCFG_DATA, 0xff, 4);
		ret = add_vcap(d, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, zero, 4, wm, &vd->pcfg_cap);
	}
	if (ret == 0) {
		uint8_t m[MSIX_CAP_LEN] = { PCI_CAP_ID_MSIX }, wm[MSIX_CAP_LEN] = { 0 };
		uint16_t ctrl = (uint16_t)(vd->nvectors - 1);
		m[MSIX_CAP_CTRL] = (uint8_t)ctrl;
		m[MSIX_CAP_CTRL + 1] = (uint8_t)(ctrl >> 8);
		/* Only enable and function mask are the guest's to change. */
		wm[MSIX_CAP_CTRL + 1] = (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) >> 8;
		put32(m + 4, VIRTIO_PCI_MSIX_TABLE_OFF | VIRTIO_PCI_BAR);
		put32(m + 8, VIRTIO_PCI_MSIX_PBA_OFF | VIRTIO_PCI_BAR);
		ret = pci_dev_add_cap(d, m, wm, MSIX_CAP_LEN, &vd->msix_cap);
	}
	return ret;
}

/* --- PCI hooks (bus lock held) --------------------------------------------- */

/*
 * The PCI_CFG window (spec 4.1.4.9): bar/offset/length select a BAR access
 * of 1, 2 or 4 bytes, aligned, that a read or write of pci_cfg_data
 * performs. Anything else is not an access.
 */
static bool window_target(struct virtio_pci *vd, unsigned *off, unsigned *len)
{
	unsigned cap = vd->pcfg_cap;
	uint32_t bar = pci_cfg_get(&vd->pci, cap + VCAP_BAR, 1);
	uint32_t o = pci_cfg_get(&vd->pci, cap + VCAP_OFFSET, 4);
	uint32_t l = pci_cfg_get(&vd->pci, cap + VCAP_LENGTH, 4);
	if (bar != VIRTIO_PCI_BAR || (l != 1 && l != 2 && l != 4) || o % l != 0 ||
	    o >= VIRTIO_PCI_BAR_SIZE)
		return false;
	*off = o;
	*len = l;
	return true;
}

static bool overlaps_data(const struct virtio_pci *vd, unsigned off, unsigned len)
{
	unsigned d = vd->pcfg_cap + VCAP_PCFG_DATA;
	return vd->pcfg_cap != 0 && off < d + 4 && off + len > d;
}

void virtio_pci_hook_cfg_write(void *opaque, struct pci_dev *d, unsigned off, unsigned len)
{
	struct virtio_pci *vd = opaque;
	unsigned ctrl = vd->msix_cap + MSIX_CAP_CTRL;
	unsigned boff, blen;

	if (off < ctrl + 2 && off + len > ctrl) {
		uint16_t v = (uint16_t)pci_cfg_get(d, ctrl, 2);
		pthread_mutex_lock(&vd->lock);
		virtio_pci_msix_control(vd, v);
		pthread_mutex_unlock(&vd->lock);
	}
	if (overlaps_data(vd, off, len) && window_target(vd, &boff, &blen)) {
		uint8_t buf[4];
		for (unsigned i = 0; i < blen; i++)
			buf[i] = d->cfg[vd->pcfg_cap + VCAP_PCFG_DATA + i];
		virtio_pci_bar_ops.write(vd, boff, buf, blen);
	}
}

void virtio_pci_hook_cfg_read(void *opaque, struct pci_dev *d, unsigned off, uint8_t *data,
			      unsigned len)
{
	struct virtio_pci *vd = opaque;
	unsigned boff, blen;
	(void)d;
	if (!overlaps_data(vd, off, len) || !window_target(vd, &boff, &blen))
		return;
	uint8_t buf[4] = { 0 };
	virtio_pci_bar_ops.read(vd, boff, buf, blen);
	unsigned base = vd->pcfg_cap + VCAP_PCFG_DATA;
	for (unsigned i = 0; i < len; i++) {
		unsigned o = off + i;
		if (o >= base && o < base + 4)
			data[i] = buf[o - base];
	}
}

void virtio_pci_hook_bar_moved(void *opaque, struct pci_dev *d, unsigned bar,
			       uint64_t old_addr, uint64_t new_addr)
{
	struct virtio_pci *vd = opaque;
	(void)d;
	/* ops are fixed at init: no device lock needed (and none is taken). */
	if (bar == VIRTIO_PCI_BAR && vd->ops.bar_moved)
		vd->ops.bar_moved(vd->opaque, old_addr, new_addr);
}
