/*
 * pci_cfg.c - one function's config space: the type 0 header with its
 * write masks, the capability list builder, and the masked byte-wise
 * accessor that both config paths (CF8/CFC and ECAM) end in.
 *
 * Every guest write goes through new = (old & ~wmask) | (val & wmask),
 * then clears the RW1C bits written as 1. A byte whose masks are zero can
 * therefore never change, whatever offset or length the guest uses: this
 * one rule is what keeps ids, class, header type, capability bytes and BAR
 * flag bits read-only, and what makes BAR sizing work (the low bits of a
 * BAR's mask are zero, so all-ones reads back as the size mask).
 */
#include "pci.h"

#include <errno.h>
#include <string.h>

/* Writable command bits: I/O, memory, bus master, parity, SERR, INTx off. */
#define PCI_COMMAND_WMASK (PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | \
			   PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE)

#define PCI_MEM_BAR_MIN   16
#define PCI_MEM_BAR_MAX   (1ULL << 30)
#define PCI_IO_BAR_MIN    4
#define PCI_IO_BAR_MAX    256

uint32_t pci_cfg_get(const struct pci_dev *d, unsigned off, unsigned len)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < len && i < 4; i++) {
		uint64_t o = (uint64_t)off + i;
		if (o < PCI_CFG_SIZE)
			v |= (uint32_t)d->cfg[o] << (8 * i);
	}
	return v;
}

void pci_cfg_set(struct pci_dev *d, unsigned off, uint32_t val, unsigned len)
{
	for (unsigned i = 0; i < len && i < 4; i++) {
		uint64_t o = (uint64_t)off + i;
		if (o < PCI_CFG_SIZE)
			d->cfg[o] = (uint8_t)(val >> (8 * i));
	}
}

static void set_mask(uint8_t *mask, unsigned off, uint32_t val, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		mask[off + i] = (uint8_t)(val >> (8 * i));
}

static bool is_pow2(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

static int check_bars(const struct pci_dev_info *info)
{
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		const struct pci_bar_info *b = &info->bar[i];
		switch (b->type) {
		case PCI_BAR_NONE:
			break;
		case PCI_BAR_MEM64:
			/* The upper half lives in the next slot, which must be free. */
			if (i + 1 >= PCI_NUM_BARS || info->bar[i + 1].type != PCI_BAR_NONE)
				return -EINVAL;
			i++;
			/* fall through */
		case PCI_BAR_MEM32:
			if (!is_pow2(b->size) || b->size < PCI_MEM_BAR_MIN ||
			    b->size > PCI_MEM_BAR_MAX)
				return -EINVAL;
			break;
		case PCI_BAR_IO:
			if (!is_pow2(b->size) || b->size < PCI_IO_BAR_MIN ||
			    b->size > PCI_IO_BAR_MAX || b->prefetchable)
				return -EINVAL;
			break;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

int pci_dev_init(struct pci_dev *d, const struct pci_dev_info *info)
{
	if (d == NULL || info == NULL)
		return -EINVAL;
	memset(d, 0, sizeof(*d));
	int ret = check_bars(info);
	if (ret < 0)
		return ret;
	d->info = *info;
	d->cap_next = PCI_CAP_START;
	for (unsigned i = 0; i < PCI_NUM_BARS; i++)
		d->bar_addr[i] = PCI_BAR_UNMAPPED;

	pci_cfg_set(d, PCI_VENDOR_ID, info->vendor, 2);
	pci_cfg_set(d, PCI_DEVICE_ID, info->device, 2);
	pci_cfg_set(d, PCI_REVISION_ID, info->revision, 1);
	pci_cfg_set(d, PCI_CLASS_PROG, info->class_code & 0xffffff, 3);
	pci_cfg_set(d, PCI_SUBSYS_VENDOR, info->subsys_vendor, 2);
	pci_cfg_set(d, PCI_SUBSYS_ID, info->subsys_id, 2);
	/* Interrupt pin 0: no INTx, MSI-X only, so no _PRT is needed. */

	set_mask(d->wmask, PCI_COMMAND, PCI_COMMAND_WMASK, 2);
	set_mask(d->w1cmask, PCI_STATUS, PCI_STATUS_RW1C, 2);
	d->wmask[PCI_CACHE_LINE] = 0xff;
	/* Firmware's IRQ routing note for the OS; a plain scratch byte here. */
	d->wmask[PCI_INTERRUPT_LINE] = 0xff;

	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		const struct pci_bar_info *b = &info->bar[i];
		unsigned off = PCI_BAR0 + 4 * i;
		uint32_t flags = b->prefetchable ? PCI_BAR_PREFETCH : 0;
		switch (b->type) {
		case PCI_BAR_MEM32:
			pci_cfg_set(d, off, flags, 4);
			set_mask(d->wmask, off, (uint32_t)~(b->size - 1) & ~0xfu, 4);
			break;
		case PCI_BAR_MEM64:
			pci_cfg_set(d, off, flags | PCI_BAR_MEM64_FLAG, 4);
			set_mask(d->wmask, off, (uint32_t)~(b->size - 1) & ~0xfu, 4);
			set_mask(d->wmask, off + 4, (uint32_t)(~(b->size - 1) >> 32), 4);
			i++;
			break;
		case PCI_BAR_IO:
			pci_cfg_set(d, off, PCI_BAR_IO_FLAG, 4);
			set_mask(d->wmask, off, (uint32_t)~(b->size - 1) & ~0x3u, 4);
			break;
		case PCI_BAR_NONE:
			break;
		}
	}
	/* Expansion ROM, capability pointer, header type: read-only (mask 0). */
	return 0;
}

int pci_dev_add_cap(struct pci_dev *d, const uint8_t *bytes, const uint8_t *wmask,
		    unsigned len, unsigned *off)
{
	if (d == NULL || bytes == NULL || len < 2)
		return -EINVAL;
	/* The low two bits of every capability pointer are reserved: align. */
	unsigned at = (d->cap_next + 3) & ~3u;
	if (at >= PCI_CFG_LEGACY || len > PCI_CFG_LEGACY - at)
		return -ENOSPC;
	memcpy(d->cfg + at, bytes, len);
	d->cfg[at + 1] = 0;
	if (wmask != NULL)
		memcpy(d->wmask + at, wmask, len);
	d->wmask[at] = d->wmask[at + 1] = 0;
	if (d->cap_last == 0) {
		d->cfg[PCI_CAP_PTR] = (uint8_t)at;
		d->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	} else {
		d->cfg[d->cap_last + 1] = (uint8_t)at;
	}
	d->cap_last = at;
	d->cap_next = at + len;
	if (off != NULL)
		*off = at;
	return 0;
}

void pci_cfg_read_locked(struct pci_bus *bus, uint8_t devfn, unsigned off, uint8_t *data,
			 unsigned len)
{
	struct pci_dev *d = bus->devfn[devfn];
	memset(data, 0xff, len);
	if (d == NULL || off >= PCI_CFG_SIZE)
		return;
	/* Bytes past the end of this function's space stay all-ones. */
	unsigned n = len < PCI_CFG_SIZE - off ? len : PCI_CFG_SIZE - off;
	memcpy(data, d->cfg + off, n);
	if (d->info.cfg_read)
		d->info.cfg_read(d->info.opaque, d, off, data, n);
}

void pci_cfg_write_locked(struct pci_bus *bus, uint8_t devfn, unsigned off,
			  const uint8_t *data, unsigned len)
{
	struct pci_dev *d = bus->devfn[devfn];
	if (d == NULL || off >= PCI_CFG_SIZE || len == 0)
		return;
	unsigned n = len < PCI_CFG_SIZE - off ? len : PCI_CFG_SIZE - off;
	for (unsigned i = 0; i < n; i++) {
		unsigned o = off + i;
		uint8_t v = (uint8_t)((d->cfg[o] & ~d->wmask[o]) | (data[i] & d->wmask[o]));
		d->cfg[o] = (uint8_t)(v & ~(data[i] & d->w1cmask[o]));
	}
	/* Command or BAR bits may have changed what the device decodes. */
	pci_dev_update_decode(d);
	if (d->info.cfg_write)
		d->info.cfg_write(d->info.opaque, d, off, n);
}

void pci_cfg_access_read(struct pci_bus *bus, uint8_t devfn, unsigned off, uint8_t *data,
			 unsigned len)
{
	pthread_mutex_lock(&bus->lock);
	pci_cfg_read_locked(bus, devfn, off, data, len);
	pthread_mutex_unlock(&bus->lock);
}

void pci_cfg_access_write(struct pci_bus *bus, uint8_t devfn, unsigned off,
			  const uint8_t *data, unsigned len)
{
	pthread_mutex_lock(&bus->lock);
	pci_cfg_write_locked(bus, devfn, off, data, len);
	pthread_mutex_unlock(&bus->lock);
}
