/*
 * pci_test_util.h - helpers shared by the PCI and virtio-pci unit tests:
 * packing a value into the little-endian byte buffer an access callback
 * takes (le_put) and reading one back (le_get), len bytes (1..8).
 * Static inline: each test is its own program.
 */
#ifndef PCI_TEST_UTIL_H
#define PCI_TEST_UTIL_H

#include <stdint.h>

static inline void le_put(uint8_t *b, uint64_t v, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t le_get(const uint8_t *b, unsigned len)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < len; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

#endif
