/*
 * pci.c - bus 0: the host bridge, device registration with firmware-style
 * BAR assignment, the decode state of every BAR, and the window io_ops
 * that route a BAR access to whichever device decodes the address now.
 *
 * The io_bus tables are immutable once vCPUs run, yet the guest may move a
 * BAR at any time. So the whole MMIO and I/O windows are registered once,
 * with ops owned by this file, and each access is looked up against the
 * current decode state (pci_dev_update_decode keeps it, under the bus lock,
 * after every config write).
 */
#include "pci.h"

#include <errno.h>
#include <string.h>

#include "../boot/boot.h"

#define PCI_ECAM_BUS_SIZE (1ULL << 20)  /* 32 slots x 8 functions x 4 KiB */
#define PCI_PAGE          4096ULL

static const struct pci_windows default_windows = {
	.mmio_base = BOOT_PCI_MMIO_GPA, .mmio_size = BOOT_PCI_MMIO_SIZE,
	.io_base = BOOT_PCI_IO_BASE, .io_size = BOOT_PCI_IO_SIZE,
	.ecam_base = BOOT_PCI_ECAM_GPA,
};

int pci_bus_init(struct pci_bus *bus, const struct pci_windows *win)
{
	if (bus == NULL)
		return -EINVAL;
	if (win == NULL)
		win = &default_windows;
	if (win->mmio_base + win->mmio_size < win->mmio_base ||
	    win->io_base + win->io_size < win->io_base || win->io_base + win->io_size > 0x10000 ||
	    win->ecam_base + PCI_ECAM_BUS_SIZE < win->ecam_base)
		return -EINVAL;
	memset(bus, 0, sizeof(*bus));
	bus->win = *win;
	bus->mmio_next = win->mmio_base;
	bus->io_next = win->io_base;
	pthread_mutex_init(&bus->lock, NULL);

	const struct pci_dev_info host = {
		.vendor = PCI_HOST_VENDOR, .device = PCI_HOST_DEVICE,
		.class_code = PCI_CLASS_HOST_BRIDGE,
	};
	int ret = pci_dev_init(&bus->host, &host);
	if (ret == 0)
		ret = pci_bus_add(bus, &bus->host, PCI_DEVFN(0, 0));
	if (ret < 0)
		pthread_mutex_destroy(&bus->lock);
	return ret;
}

void pci_bus_destroy(struct pci_bus *bus)
{
	pthread_mutex_destroy(&bus->lock);
}

/* Next naturally aligned address for size in [*next, base+wsize), or -ENOSPC. */
static int alloc(uint64_t *next, uint64_t base, uint64_t wsize, uint64_t size,
		 uint64_t align, uint64_t *addr)
{
	uint64_t a = (*next + align - 1) & ~(align - 1);
	if (a < *next || a - base > wsize || size > wsize - (a - base))
		return -ENOSPC;
	*addr = a;
	*next = a + size;
	return 0;
}

/* Assign every BAR of d, all or nothing. Bus lock held. */
static int assign_bars(struct pci_bus *bus, struct pci_dev *d)
{
	uint64_t mmio = bus->mmio_next, io = bus->io_next, addr[PCI_NUM_BARS] = { 0 };
	const struct pci_windows *w = &bus->win;

	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		const struct pci_bar_info *b = &d->info.bar[i];
		int ret = 0;
		if (b->type == PCI_BAR_IO)
			ret = alloc(&io, w->io_base, w->io_size, b->size, b->size, &addr[i]);
		else if (b->type != PCI_BAR_NONE)
			ret = alloc(&mmio, w->mmio_base, w->mmio_size, b->size,
				    b->size > PCI_PAGE ? b->size : PCI_PAGE, &addr[i]);
		if (ret < 0)
			return ret;
	}
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		const struct pci_bar_info *b = &d->info.bar[i];
		unsigned off = PCI_BAR0 + 4 * i;
		/* Keep the read-only flag bits; the address goes in the rest. */
		uint32_t lo = pci_cfg_get(d, off, 4) & (b->type == PCI_BAR_IO ? 0x3u : 0xfu);
		if (b->type == PCI_BAR_NONE)
			continue;
		pci_cfg_set(d, off, lo | (uint32_t)addr[i], 4);
		if (b->type == PCI_BAR_MEM64)
			pci_cfg_set(d, off + 4, (uint32_t)(addr[i++] >> 32), 4);
	}
	bus->mmio_next = mmio;
	bus->io_next = io;
	return 0;
}

int pci_bus_add(struct pci_bus *bus, struct pci_dev *d, uint8_t devfn)
{
	if (bus == NULL || d == NULL)
		return -EINVAL;
	pthread_mutex_lock(&bus->lock);
	int ret = 0;
	if (bus->devfn[devfn] != NULL || d->bus != NULL)
		ret = -EBUSY;
	else if (bus->ndev >= PCI_MAX_DEVICES)
		ret = -ENOSPC;
	else
		ret = assign_bars(bus, d);
	if (ret == 0) {
		d->bus = bus;
		d->devfn = devfn;
		bus->devfn[devfn] = d;
		bus->list[bus->ndev++] = d;
		/*
		 * Linux scans functions 1-7 of a slot only when function 0
		 * says multi-function: keep that bit true for every slot.
		 */
		uint8_t slot0 = devfn & ~7u;
		bool multi = false;
		for (unsigned fn = 1; fn < 8; fn++)
			multi |= bus->devfn[slot0 + fn] != NULL;
		if (multi && bus->devfn[slot0] != NULL)
			bus->devfn[slot0]->cfg[PCI_HEADER_TYPE] |= PCI_HEADER_MULTIFUNCTION;
	}
	pthread_mutex_unlock(&bus->lock);
	return ret;
}

/* True when [addr, addr+size) lies inside [base, base+wsize). */
static bool inside(uint64_t addr, uint64_t size, uint64_t base, uint64_t wsize)
{
	return addr >= base && size <= wsize && addr - base <= wsize - size;
}

void pci_dev_update_decode(struct pci_dev *d)
{
	const struct pci_windows *w = &d->bus->win;
	uint16_t cmd = (uint16_t)pci_cfg_get(d, PCI_COMMAND, 2);

	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		const struct pci_bar_info *b = &d->info.bar[i];
		unsigned off = PCI_BAR0 + 4 * i, idx = i;
		uint64_t addr, now = PCI_BAR_UNMAPPED;

		switch (b->type) {
		case PCI_BAR_IO:
			addr = pci_cfg_get(d, off, 4) & ~0x3u;
			if ((cmd & PCI_COMMAND_IO) && inside(addr, b->size, w->io_base, w->io_size))
				now = addr;
			break;
		case PCI_BAR_MEM32:
		case PCI_BAR_MEM64:
			addr = pci_cfg_get(d, off, 4) & ~0xfu;
			if (b->type == PCI_BAR_MEM64) {
				addr |= (uint64_t)pci_cfg_get(d, off + 4, 4) << 32;
				i++;
			}
			if ((cmd & PCI_COMMAND_MEMORY) &&
			    inside(addr, b->size, w->mmio_base, w->mmio_size))
				now = addr;
			break;
		default:
			continue;
		}
		if (now == d->bar_addr[idx])
			continue;
		uint64_t old = d->bar_addr[idx];
		d->bar_addr[idx] = now;
		if (d->info.bar_moved)
			d->info.bar_moved(d->info.opaque, d, idx, old, now);
	}
}

uint64_t pci_dev_bar_addr(struct pci_dev *d, unsigned bar)
{
	if (d == NULL || d->bus == NULL || bar >= PCI_NUM_BARS)
		return PCI_BAR_UNMAPPED;
	pthread_mutex_lock(&d->bus->lock);
	uint64_t a = d->bar_addr[bar];
	pthread_mutex_unlock(&d->bus->lock);
	return a;
}

struct bar_hit {
	const struct io_ops *ops;
	void *opaque;
	uint64_t offset;
};

/* The BAR of the given kind decoding addr now; copied out under the lock. */
static bool lookup(struct pci_bus *bus, bool io, uint64_t addr, struct bar_hit *hit)
{
	bool found = false;
	pthread_mutex_lock(&bus->lock);
	for (unsigned n = 0; n < bus->ndev && !found; n++) {
		const struct pci_dev *d = bus->list[n];
		for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
			const struct pci_bar_info *b = &d->info.bar[i];
			uint64_t base = d->bar_addr[i];
			if (base == PCI_BAR_UNMAPPED || (b->type == PCI_BAR_IO) != io)
				continue;
			if (addr >= base && addr - base < b->size) {
				*hit = (struct bar_hit){ b->ops, b->opaque, addr - base };
				found = true;
				break;
			}
		}
	}
	pthread_mutex_unlock(&bus->lock);
	return found;
}

static void window_read(struct pci_bus *bus, bool io, uint64_t addr, uint8_t *data,
			unsigned len)
{
	struct bar_hit h;
	memset(data, 0xff, len);
	if (lookup(bus, io, addr, &h) && h.ops != NULL && h.ops->read != NULL)
		h.ops->read(h.opaque, h.offset, data, len);
}

static void window_write(struct pci_bus *bus, bool io, uint64_t addr, const uint8_t *data,
			 unsigned len)
{
	struct bar_hit h;
	if (lookup(bus, io, addr, &h) && h.ops != NULL && h.ops->write != NULL)
		h.ops->write(h.opaque, h.offset, data, len);
}

static void mmio_read(void *opaque, uint64_t offset, uint8_t *data, unsigned len)
{
	struct pci_bus *bus = opaque;
	window_read(bus, false, bus->win.mmio_base + offset, data, len);
}

static void mmio_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct pci_bus *bus = opaque;
	window_write(bus, false, bus->win.mmio_base + offset, data, len);
}

static void pio_read(void *opaque, uint64_t offset, uint8_t *data, unsigned len)
{
	struct pci_bus *bus = opaque;
	window_read(bus, true, bus->win.io_base + offset, data, len);
}

static void pio_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct pci_bus *bus = opaque;
	window_write(bus, true, bus->win.io_base + offset, data, len);
}

const struct io_ops pci_mmio_window_ops = { mmio_read, mmio_write };
const struct io_ops pci_io_window_ops = { pio_read, pio_write };

int pci_bus_attach(struct pci_bus *bus, struct io_bus *pio, struct io_bus *mmio)
{
	if (bus == NULL || pio == NULL || mmio == NULL)
		return -EINVAL;
	int ret = io_bus_register(pio, PCI_CONF1_PORT, PCI_CONF1_NPORTS, &pci_conf1_io_ops, bus,
				  "pci-conf1");
	if (ret == 0)
		ret = io_bus_register(pio, bus->win.io_base, bus->win.io_size, &pci_io_window_ops,
				      bus, "pci-io");
	if (ret == 0)
		ret = io_bus_register(mmio, bus->win.mmio_base, bus->win.mmio_size,
				      &pci_mmio_window_ops, bus, "pci-mmio");
	if (ret == 0)
		ret = io_bus_register(mmio, bus->win.ecam_base, PCI_ECAM_BUS_SIZE,
				      &pci_ecam_io_ops, bus, "pci-ecam");
	return ret;
}
