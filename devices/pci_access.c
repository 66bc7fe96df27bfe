/*
 * pci_access.c - the two ways a guest reaches config space: mechanism #1
 * (address latch at 0xCF8, data window at 0xCFC-0xCFF) and ECAM (one 4 KiB
 * page per function, bus 0 only). Both decode to (devfn, offset, length)
 * and call the same masked accessor in pci_cfg.c, so they always agree.
 *
 * The latch and the access it selects are used under one hold of the bus
 * lock, so another vCPU rewriting 0xCF8 cannot split an access in two.
 */
#include "pci.h"

#include <string.h>

#define CONF1_ENABLE    0x80000000u
/* Enable, bus, device, function, dword register; reserved bits read 0. */
#define CONF1_ADDR_MASK 0x80fffffcu
#define CONF1_DATA_OFF  4

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/*
 * Resolve a data-port access: false when the latch does not select an
 * existing bus-0 register window, else devfn, register offset and how many
 * bytes stay inside the 256-byte space mechanism #1 reaches.
 */
static bool conf1_target(const struct pci_bus *bus, uint64_t port_off, unsigned len,
			 uint8_t *devfn, unsigned *reg, unsigned *n)
{
	uint32_t a = bus->conf1_addr;
	if (!(a & CONF1_ENABLE) || ((a >> 16) & 0xff) != 0)
		return false;
	*devfn = (uint8_t)(a >> 8);
	*reg = (a & 0xfc) + (unsigned)(port_off - CONF1_DATA_OFF);
	/* Clip at the end of the data ports and at the end of legacy space. */
	unsigned max = PCI_CONF1_NPORTS - (unsigned)port_off;
	if (max > PCI_CFG_LEGACY - *reg)
		max = PCI_CFG_LEGACY - *reg;
	*n = len < max ? len : max;
	return true;
}

static void conf1_read(void *opaque, uint64_t offset, uint8_t *data, unsigned len)
{
	struct pci_bus *bus = opaque;
	uint8_t devfn;
	unsigned reg, n;

	memset(data, 0xff, len);
	if (offset >= PCI_CONF1_NPORTS)
		return;
	pthread_mutex_lock(&bus->lock);
	if (offset < CONF1_DATA_OFF) {
		/* The latch is a dword register; narrower reads see nothing. */
		if (offset == 0 && len == 4) {
			uint32_t a = bus->conf1_addr;
			for (unsigned i = 0; i < 4; i++)
				data[i] = (uint8_t)(a >> (8 * i));
		}
	} else if (conf1_target(bus, offset, len, &devfn, &reg, &n)) {
		pci_cfg_read_locked(bus, devfn, reg, data, n);
	}
	pthread_mutex_unlock(&bus->lock);
}

static void conf1_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct pci_bus *bus = opaque;
	uint8_t devfn;
	unsigned reg, n;

	if (offset >= PCI_CONF1_NPORTS)
		return;
	pthread_mutex_lock(&bus->lock);
	if (offset < CONF1_DATA_OFF) {
		/*
		 * Only a dword write at 0xCF8 sets the latch. Linux's type-1
		 * probe writes a byte to 0xCFB first and then checks that a
		 * dword write of 0x80000000 reads back unchanged.
		 */
		if (offset == 0 && len == 4)
			bus->conf1_addr = le32(data) & CONF1_ADDR_MASK;
	} else if (conf1_target(bus, offset, len, &devfn, &reg, &n)) {
		pci_cfg_write_locked(bus, devfn, reg, data, n);
	}
	pthread_mutex_unlock(&bus->lock);
}

const struct io_ops pci_conf1_io_ops = { conf1_read, conf1_write };

/*
 * ECAM offset = bus << 20 | devfn << 12 | register. Only bus 0 exists;
 * other buses read all-ones even if a larger region is registered. Bytes
 * past the end of the function's 4 KiB page are dropped (read all-ones)
 * instead of spilling into the next function.
 */
static bool ecam_target(uint64_t offset, unsigned len, uint8_t *devfn, unsigned *reg,
			unsigned *n)
{
	if ((offset >> 20) != 0)
		return false;
	*devfn = (uint8_t)(offset >> 12);
	*reg = (unsigned)(offset & (PCI_CFG_SIZE - 1));
	*n = len < PCI_CFG_SIZE - *reg ? len : PCI_CFG_SIZE - *reg;
	return true;
}

static void ecam_read(void *opaque, uint64_t offset, uint8_t *data, unsigned len)
{
	uint8_t devfn;
	unsigned reg, n;

	memset(data, 0xff, len);
	if (ecam_target(offset, len, &devfn, &reg, &n))
		pci_cfg_access_read(opaque, devfn, reg, data, n);
}

static void ecam_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned len)
{
	uint8_t devfn;
	unsigned reg, n;

	if (ecam_target(offset, len, &devfn, &reg, &n))
		pci_cfg_access_write(opaque, devfn, reg, data, n);
}

const struct io_ops pci_ecam_io_ops = { ecam_read, ecam_write };
