/*
 * virtio_pci_common.c - struct virtio_pci_common_cfg (spec 4.1.4.3): feature
 * negotiation, the device status state machine with reset, and per-queue
 * configuration with its latching at queue_enable. Device lock held in
 * every function here (the BAR handler takes it).
 *
 * Access rule (spec 4.1.3.1): a field is accessed with its own width and
 * alignment; 64-bit fields as two dwords (a qword access is also taken).
 * Anything else reads 0 and writes nothing, so a misaligned or oversized
 * access can never touch half of two fields.
 */
#include "virtio_pci.h"

#include <string.h>

#define BIT(n) (1ULL << (n))

/* The width of the field that starts at off, 0 if none does. */
static unsigned field_width(unsigned off)
{
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT: case VIRTIO_PCI_COMMON_DF:
	case VIRTIO_PCI_COMMON_GFSELECT: case VIRTIO_PCI_COMMON_GF:
	case VIRTIO_PCI_COMMON_Q_DESCLO: case VIRTIO_PCI_COMMON_Q_DESCHI:
	case VIRTIO_PCI_COMMON_Q_AVAILLO: case VIRTIO_PCI_COMMON_Q_AVAILHI:
	case VIRTIO_PCI_COMMON_Q_USEDLO: case VIRTIO_PCI_COMMON_Q_USEDHI:
		return 4;
	case VIRTIO_PCI_COMMON_MSIX: case VIRTIO_PCI_COMMON_NUMQ:
	case VIRTIO_PCI_COMMON_Q_SELECT: case VIRTIO_PCI_COMMON_Q_SIZE:
	case VIRTIO_PCI_COMMON_Q_MSIX: case VIRTIO_PCI_COMMON_Q_ENABLE:
	case VIRTIO_PCI_COMMON_Q_NOFF:
		return 2;
	case VIRTIO_PCI_COMMON_STATUS: case VIRTIO_PCI_COMMON_CFGGEN:
		return 1;
	default:
		return 0;
	}
}

static bool is_qword_field(unsigned off)
{
	return off == VIRTIO_PCI_COMMON_Q_DESCLO || off == VIRTIO_PCI_COMMON_Q_AVAILLO ||
	       off == VIRTIO_PCI_COMMON_Q_USEDLO;
}

/* The selected queue, or NULL when queue_select is out of range. */
static struct virtio_pci_queue *cur_queue(struct virtio_pci *vd)
{
	return vd->queue_sel < vd->num_queues ? &vd->queue[vd->queue_sel] : NULL;
}

/* A vector the table has, or NO_VECTOR: what the register reads back. */
static uint16_t checked_vector(const struct virtio_pci *vd, uint16_t v)
{
	return v < vd->nvectors ? v : VIRTIO_MSI_NO_VECTOR;
}

static uint32_t read_field(struct virtio_pci *vd, unsigned off)
{
	struct virtio_pci_queue *q = cur_queue(vd);

	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT: return vd->dfselect;
	case VIRTIO_PCI_COMMON_DF:
		return vd->dfselect < 2 ? (uint32_t)(vd->host_features >> (32 * vd->dfselect)) : 0;
	case VIRTIO_PCI_COMMON_GFSELECT: return vd->gfselect;
	case VIRTIO_PCI_COMMON_GF:
		return vd->gfselect < 2 ? (uint32_t)(vd->guest_features >> (32 * vd->gfselect)) : 0;
	case VIRTIO_PCI_COMMON_MSIX: return vd->config_vector;
	case VIRTIO_PCI_COMMON_NUMQ: return vd->num_queues;
	case VIRTIO_PCI_COMMON_STATUS: return vd->status;
	case VIRTIO_PCI_COMMON_CFGGEN: return vd->config_gen;
	case VIRTIO_PCI_COMMON_Q_SELECT: return vd->queue_sel;
	}
	if (q == NULL)
		return 0;
	switch (off) {
	case VIRTIO_PCI_COMMON_Q_SIZE: return q->size;
	case VIRTIO_PCI_COMMON_Q_MSIX: return q->msix_vector;
	case VIRTIO_PCI_COMMON_Q_ENABLE: return q->enabled;
	case VIRTIO_PCI_COMMON_Q_NOFF: return vd->queue_sel; /* x multiplier 4 */
	case VIRTIO_PCI_COMMON_Q_DESCLO: return (uint32_t)q->desc;
	case VIRTIO_PCI_COMMON_Q_DESCHI: return (uint32_t)(q->desc >> 32);
	case VIRTIO_PCI_COMMON_Q_AVAILLO: return (uint32_t)q->driver;
	case VIRTIO_PCI_COMMON_Q_AVAILHI: return (uint32_t)(q->driver >> 32);
	case VIRTIO_PCI_COMMON_Q_USEDLO: return (uint32_t)q->device;
	case VIRTIO_PCI_COMMON_Q_USEDHI: return (uint32_t)(q->device >> 32);
	}
	return 0;
}

void virtio_pci_common_read(struct virtio_pci *vd, unsigned off, uint8_t *data, unsigned len)
{
	uint64_t v;
	if (len == 8 && is_qword_field(off))
		v = read_field(vd, off) | (uint64_t)read_field(vd, off + 4) << 32;
	else if (field_width(off) == len)
		v = read_field(vd, off);
	else
		v = 0;
	for (unsigned i = 0; i < len; i++)
		data[i] = (uint8_t)(v >> (8 * i));
}

/* --- status ----------------------------------------------------------------- */

void virtio_pci_reset_locked(struct virtio_pci *vd)
{
	/* Stop first: the backend must not touch rings we are about to forget. */
	if (vd->started && vd->ops.stop)
		vd->ops.stop(vd->opaque);
	vd->started = false;
	vd->dfselect = vd->gfselect = 0;
	vd->guest_features = 0;
	vd->config_vector = VIRTIO_MSI_NO_VECTOR;
	vd->status = 0;
	vd->queue_sel = 0;
	vd->isr = 0;
	for (unsigned i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++)
		vd->queue[i] = (struct virtio_pci_queue){
			.size = i < vd->num_queues ? vd->queue_max_size : 0,
			.msix_vector = VIRTIO_MSI_NO_VECTOR,
		};
	/* Device config and its generation, and MSI-X (PCI state), survive. */
}

static bool features_ok(struct virtio_pci *vd)
{
	uint64_t f = vd->guest_features;
	if ((f & ~vd->host_features) != 0 || !(f & BIT(VIRTIO_F_VERSION_1)))
		return false;
	return vd->ops.validate_features == NULL || vd->ops.validate_features(vd->opaque, f);
}

static bool queue_valid(const struct virtio_pci *vd, const struct virtio_pci_queue *q);

static void start(struct virtio_pci *vd)
{
	int ret = 0;
	/* queue_enable checked each queue under the features of that moment,
	 * which the driver could change until FEATURES_OK: check again. */
	for (unsigned i = 0; i < vd->num_queues; i++)
		if (vd->queue[i].enabled && !queue_valid(vd, &vd->queue[i]))
			ret = -1;
	if (ret == 0 && vd->ops.start)
		ret = vd->ops.start(vd->opaque, vd->guest_features, vd->queue, vd->num_queues);
	if (ret == 0)
		vd->started = true;
	else
		virtio_pci_needs_reset(vd);
}

static void status_write(struct virtio_pci *vd, uint8_t v)
{
	if (v == 0) {
		virtio_pci_reset_locked(vd);
		return;
	}
	uint8_t old = vd->status;
	/* NEEDS_RESET is the device's bit: the driver neither sets nor clears it. */
	uint8_t keep = old & VIRTIO_STATUS_NEEDS_RESET;
	v &= (uint8_t)~VIRTIO_STATUS_NEEDS_RESET;
	/* Only a reset clears bits (spec 2.1.1): any other clearing write is void. */
	if ((old & ~VIRTIO_STATUS_NEEDS_RESET & ~v) != 0)
		return;
	uint8_t added = v & ~old;
	if ((added & VIRTIO_STATUS_FEATURES_OK) &&
	    (!(v & VIRTIO_STATUS_DRIVER) || !features_ok(vd)))
		v &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK; /* the driver reads back and fails */
	if ((added & VIRTIO_STATUS_DRIVER_OK) &&
	    (!(v & VIRTIO_STATUS_FEATURES_OK) || (v & VIRTIO_STATUS_FAILED))) {
		v &= (uint8_t)~VIRTIO_STATUS_DRIVER_OK;
		keep |= VIRTIO_STATUS_NEEDS_RESET;
	}
	vd->status = v | keep;
	if ((added & VIRTIO_STATUS_DRIVER_OK) && (v & VIRTIO_STATUS_DRIVER_OK))
		start(vd);
}

/* --- queues ----------------------------------------------------------------- */

/*
 * Ring extents must not wrap (a descriptor table of size 16 * n, and the
 * driver and device areas of the split or packed layout) and must be
 * aligned as spec 2.6/2.7 require. Nothing else is known here: the
 * addresses may be IOVAs.
 */
static bool queue_valid(const struct virtio_pci *vd, const struct virtio_pci_queue *q)
{
	uint64_t n = q->size;
	bool packed = vd->guest_features & BIT(VIRTIO_F_RING_PACKED);
	uint64_t dlen = 16 * n;
	uint64_t alen = packed ? 4 : 6 + 2 * n;
	uint64_t ulen = packed ? 4 : 6 + 8 * n;
	if (n == 0 || q->desc % 16 || q->driver % (packed ? 4 : 2) || q->device % 4)
		return false;
	return q->desc <= UINT64_MAX - dlen && q->driver <= UINT64_MAX - alen &&
	       q->device <= UINT64_MAX - ulen;
}

static bool size_valid(const struct virtio_pci *vd, uint16_t v)
{
	/* Packed rings may have any size; split rings need a power of two. */
	bool packed = (vd->status & VIRTIO_STATUS_FEATURES_OK) &&
		      (vd->guest_features & BIT(VIRTIO_F_RING_PACKED));
	return v != 0 && v <= vd->queue_max_size && (packed || (v & (v - 1)) == 0);
}

static void set_half(uint64_t *r, bool hi, uint32_t v)
{
	if (hi)
		*r = (*r & 0xffffffffULL) | (uint64_t)v << 32;
	else
		*r = (*r & ~0xffffffffULL) | v;
}

static void queue_write(struct virtio_pci *vd, unsigned off, uint32_t v)
{
	struct virtio_pci_queue *q = cur_queue(vd);
	/* Out of range, or latched by queue_enable: read-only until reset. */
	if (q == NULL || q->enabled)
		return;
	switch (off) {
	case VIRTIO_PCI_COMMON_Q_SIZE:
		if (size_valid(vd, (uint16_t)v))
			q->size = (uint16_t)v;
		break;
	case VIRTIO_PCI_COMMON_Q_MSIX:
		q->msix_vector = checked_vector(vd, (uint16_t)v);
		break;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		/* 1 only; after DRIVER_OK the backend has started without it. */
		if (v != 1 || (vd->status & VIRTIO_STATUS_DRIVER_OK))
			break;
		if (queue_valid(vd, q))
			q->enabled = true;
		else
			virtio_pci_needs_reset(vd);
		break;
	case VIRTIO_PCI_COMMON_Q_DESCLO: case VIRTIO_PCI_COMMON_Q_DESCHI:
		set_half(&q->desc, off == VIRTIO_PCI_COMMON_Q_DESCHI, v);
		break;
	case VIRTIO_PCI_COMMON_Q_AVAILLO: case VIRTIO_PCI_COMMON_Q_AVAILHI:
		set_half(&q->driver, off == VIRTIO_PCI_COMMON_Q_AVAILHI, v);
		break;
	case VIRTIO_PCI_COMMON_Q_USEDLO: case VIRTIO_PCI_COMMON_Q_USEDHI:
		set_half(&q->device, off == VIRTIO_PCI_COMMON_Q_USEDHI, v);
		break;
	}
}

static void write_field(struct virtio_pci *vd, unsigned off, uint32_t v)
{
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		vd->dfselect = v;
		break;
	case VIRTIO_PCI_COMMON_GFSELECT:
		vd->gfselect = v;
		break;
	case VIRTIO_PCI_COMMON_GF:
		/* Frozen once FEATURES_OK is accepted (spec 3.1.1 step 5). */
		if (vd->gfselect < 2 && !(vd->status & VIRTIO_STATUS_FEATURES_OK))
			set_half(&vd->guest_features, vd->gfselect == 1, v);
		break;
	case VIRTIO_PCI_COMMON_MSIX:
		vd->config_vector = checked_vector(vd, (uint16_t)v);
		break;
	case VIRTIO_PCI_COMMON_STATUS:
		status_write(vd, (uint8_t)v);
		break;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		vd->queue_sel = (uint16_t)v;
		break;
	case VIRTIO_PCI_COMMON_DF: case VIRTIO_PCI_COMMON_NUMQ:
	case VIRTIO_PCI_COMMON_CFGGEN: case VIRTIO_PCI_COMMON_Q_NOFF:
		break; /* read-only */
	default:
		queue_write(vd, off, v);
		break;
	}
}

void virtio_pci_common_write(struct virtio_pci *vd, unsigned off, const uint8_t *data,
			     unsigned len)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < len && i < 8; i++)
		v |= (uint64_t)data[i] << (8 * i);
	if (len == 8 && is_qword_field(off)) {
		write_field(vd, off, (uint32_t)v);
		write_field(vd, off + 4, (uint32_t)(v >> 32));
	} else if (field_width(off) == len) {
		write_field(vd, off, (uint32_t)v);
	}
}
