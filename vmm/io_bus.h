/*
 * io_bus.h - the one PIO/MMIO dispatch table.
 *
 * Every emulated device registers the address ranges it answers on one of
 * two buses (port I/O or MMIO). A vCPU exit is dispatched with a single
 * lookup; an access nobody claims reads as all-ones and writes are dropped,
 * like an empty bus on real hardware.
 *
 * Locking: ranges are registered during VM setup, before any vCPU runs, and
 * the table is read-only afterwards, so dispatch needs no lock. Devices
 * that keep state shared between vCPUs lock it themselves.
 *
 * Pure: no syscalls.
 */
#ifndef VMM_IO_BUS_H
#define VMM_IO_BUS_H

#include <stdbool.h>
#include <stdint.h>

#define IO_BUS_MAX_RANGES 64

/*
 * offset is relative to the range base; len is 1, 2, 4 or 8; data is the
 * little-endian bytes of the access (KVM's exit layout).
 */
struct io_ops {
	void (*read)(void *opaque, uint64_t offset, uint8_t *data, unsigned len);
	void (*write)(void *opaque, uint64_t offset, const uint8_t *data, unsigned len);
};

struct io_range {
	uint64_t base;
	uint64_t len;
	const struct io_ops *ops;
	void *opaque;
	const char *name;
	uint64_t hits;      /* accesses dispatched here (stats; relaxed atomics) */
};

struct io_bus {
	struct io_range range[IO_BUS_MAX_RANGES];
	unsigned nranges;
	uint64_t unclaimed; /* accesses nobody answered (stats) */
};

/* -EINVAL on overlap, zero length or wrap; -ENOSPC when full. */
int io_bus_register(struct io_bus *bus, uint64_t base, uint64_t len,
		    const struct io_ops *ops, void *opaque, const char *name);

/* The range holding addr, or NULL. */
const struct io_range *io_bus_find(const struct io_bus *bus, uint64_t addr);

/*
 * Dispatch one access. Returns true when a device claimed it. An access
 * that starts in a range but runs past its end is still handed to that
 * device, which must bound its own offsets (offset < len always holds).
 */
bool io_bus_access(struct io_bus *bus, uint64_t addr, uint8_t *data,
		   unsigned len, bool is_write);

#endif
