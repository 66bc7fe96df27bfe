/*
 * virtio_pci_msix.c - the MSI-X table and PBA in the BAR, and the effective
 * state of each vector that the VMM turns into KVM GSI routes and irqfds.
 *
 * The VMM only needs to hear about a vector when what it must program
 * changes, so we keep the last (address, data, masked) reported per vector
 * and call msix_update on a difference only: Linux rewriting an entry with
 * the same values, or toggling a mask that an outer mask already covers,
 * costs no ioctl. Device lock held throughout; the message control path
 * additionally runs under the PCI bus lock (config space hook).
 */
#include "virtio_pci.h"

#include <string.h>

static bool vector_masked(const struct virtio_pci *vd, unsigned v)
{
	return !vd->msix_enabled || vd->msix_maskall || (vd->msix[v].ctrl & PCI_MSIX_ENTRY_CTRL_MASK);
}

static bool pending(const struct virtio_pci *vd, unsigned v)
{
	return (vd->pba[v / 64] >> (v % 64)) & 1;
}

/* Report v if its effective state changed; deliver a pending message on unmask. */
static void sync_vector(struct virtio_pci *vd, unsigned v)
{
	const struct virtio_pci_msix_entry *e = &vd->msix[v];
	struct virtio_pci_msix_entry *r = &vd->reported[v];
	bool masked = vector_masked(vd, v);

	if (e->addr_lo != r->addr_lo || e->addr_hi != r->addr_hi || e->data != r->data ||
	    masked != vd->reported_masked[v]) {
		*r = *e;
		vd->reported_masked[v] = masked;
		if (vd->ops.msix_update)
			vd->ops.msix_update(vd->opaque, v, (uint64_t)e->addr_hi << 32 | e->addr_lo,
					    e->data, masked);
	}
	/* PCI spec: a pending message is sent once the vector is unmasked. */
	if (!masked && pending(vd, v)) {
		vd->pba[v / 64] &= ~(1ULL << (v % 64));
		if (vd->ops.msix_signal)
			vd->ops.msix_signal(vd->opaque, v);
	}
}

void virtio_pci_msix_init(struct virtio_pci *vd)
{
	/* Power-on: every entry masked, MSI-X off; the VMM assumes (0, 0, masked). */
	for (unsigned v = 0; v < VIRTIO_PCI_MAX_VECTORS; v++) {
		vd->msix[v] = (struct virtio_pci_msix_entry){ .ctrl = PCI_MSIX_ENTRY_CTRL_MASK };
		vd->reported[v] = vd->msix[v];
		vd->reported_masked[v] = true;
	}
	memset(vd->pba, 0, sizeof(vd->pba));
	vd->msix_enabled = vd->msix_maskall = false;
}

static uint32_t *entry_word(struct virtio_pci *vd, unsigned off)
{
	struct virtio_pci_msix_entry *e = &vd->msix[off / PCI_MSIX_ENTRY_SIZE];
	switch (off % PCI_MSIX_ENTRY_SIZE / 4) {
	case 0: return &e->addr_lo;
	case 1: return &e->addr_hi;
	case 2: return &e->data;
	default: return &e->ctrl;
	}
}

void virtio_pci_msix_table_read(struct virtio_pci *vd, unsigned off, uint8_t *data,
				unsigned len)
{
	/* Reads are side-effect free, so any width is answered byte by byte. */
	unsigned end = (unsigned)vd->nvectors * PCI_MSIX_ENTRY_SIZE;
	for (unsigned i = 0; i < len; i++) {
		unsigned o = off + i;
		data[i] = o < end ? (uint8_t)(*entry_word(vd, o) >> (8 * (o % 4))) : 0;
	}
}

void virtio_pci_msix_table_write(struct virtio_pci *vd, unsigned off, const uint8_t *data,
				 unsigned len)
{
	/* PCI spec: dword or aligned qword accesses only; others are dropped. */
	if ((len != 4 && len != 8) || off % len != 0 ||
	    off >= (unsigned)vd->nvectors * PCI_MSIX_ENTRY_SIZE)
		return;
	for (unsigned w = 0; w < len / 4; w++) {
		unsigned o = off + 4 * w;
		uint32_t v = (uint32_t)data[4 * w] | (uint32_t)data[4 * w + 1] << 8 |
			     (uint32_t)data[4 * w + 2] << 16 | (uint32_t)data[4 * w + 3] << 24;
		if (o % PCI_MSIX_ENTRY_SIZE == 12)
			v &= PCI_MSIX_ENTRY_CTRL_MASK; /* the other control bits are reserved */
		*entry_word(vd, o) = v;
	}
	sync_vector(vd, off / PCI_MSIX_ENTRY_SIZE);
}

void virtio_pci_msix_pba_read(struct virtio_pci *vd, unsigned off, uint8_t *data,
			      unsigned len)
{
	for (unsigned i = 0; i < len; i++) {
		unsigned o = off + i;
		data[i] = o < sizeof(vd->pba) ? (uint8_t)(vd->pba[o / 8] >> (8 * (o % 8))) : 0;
	}
}

void virtio_pci_msix_control(struct virtio_pci *vd, uint16_t ctrl)
{
	bool en = ctrl & PCI_MSIX_FLAGS_ENABLE, all = ctrl & PCI_MSIX_FLAGS_MASKALL;
	if (en == vd->msix_enabled && all == vd->msix_maskall)
		return;
	vd->msix_enabled = en;
	vd->msix_maskall = all;
	for (unsigned v = 0; v < vd->nvectors; v++)
		sync_vector(vd, v);
}

void virtio_pci_signal_locked(struct virtio_pci *vd, unsigned vector)
{
	/* No INTx fallback: with MSI-X off there is nothing to raise. */
	if (vector >= vd->nvectors || !vd->msix_enabled)
		return;
	if (vector_masked(vd, vector))
		vd->pba[vector / 64] |= 1ULL << (vector % 64);
	else if (vd->ops.msix_signal)
		vd->ops.msix_signal(vd->opaque, vector);
}
