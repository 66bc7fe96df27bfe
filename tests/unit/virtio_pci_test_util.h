/*
 * virtio_pci_test_util.h - helpers shared by the virtio-pci unit tests
 * (test_virtio_pci.c, test_virtio_pci_irq.c, test_virtio_pci_fuzz.c):
 * (with pci_test_util.h) little-endian config-space reads and writes of one function through
 * pci_cfg_access_*, BAR reads and writes through the bus's MMIO window,
 * and the teardown of a device on its bus. Static inline: each test is its
 * own program.
 */
#ifndef VIRTIO_PCI_TEST_UTIL_H
#define VIRTIO_PCI_TEST_UTIL_H

#include <stdint.h>
#include <stdlib.h>

#include "../../devices/pci.h"
#include "../../devices/virtio_pci.h"
#include "pci_test_util.h"

/* Config space of devfn, len (1..4) bytes at off, little-endian. */
static inline uint32_t vp_cfg_rd(struct pci_bus *bus, uint8_t devfn, unsigned off, unsigned len)
{
	uint8_t b[4];
	pci_cfg_access_read(bus, devfn, off, b, len);
	return (uint32_t)le_get(b, len);
}

static inline void vp_cfg_wr(struct pci_bus *bus, uint8_t devfn, unsigned off, uint32_t v,
			     unsigned len)
{
	uint8_t b[4];
	le_put(b, v, len);
	pci_cfg_access_write(bus, devfn, off, b, len);
}

/* len (1..8) bytes at off in the BAR at GPA bar, through the MMIO window. */
static inline uint64_t vp_bar_rd(struct pci_bus *bus, uint64_t bar, unsigned off, unsigned len)
{
	uint8_t b[8];
	pci_mmio_window_ops.read(bus, bar - bus->win.mmio_base + off, b, len);
	return le_get(b, len);
}

static inline void vp_bar_wr(struct pci_bus *bus, uint64_t bar, unsigned off, uint64_t v,
			     unsigned len)
{
	uint8_t b[8];
	le_put(b, v, len);
	pci_mmio_window_ops.write(bus, bar - bus->win.mmio_base + off, b, len);
}

/* Destroy vd, then its bus, then free the fixture that holds them. */
static inline int vp_teardown(struct virtio_pci *vd, struct pci_bus *bus, void *fixture)
{
	virtio_pci_destroy(vd);
	pci_bus_destroy(bus);
	free(fixture);
	return 0;
}

#endif
