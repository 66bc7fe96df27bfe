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

/*
 * Coalesced writes (KVM_REGISTER_COALESCED_MMIO with .pio for ports):
 * KVM does not exit for a write inside a registered zone but appends it to
 * a ring it shares with us (one page, after the vCPU run structure), and
 * reads in the zone still exit. The VMM registers the PCI address latch
 * (0xCF8): a config access is "write CF8, read or write CFC", and the
 * write no longer costs an exit.
 *
 * Ordering invariant: every exit handler drains the ring before it
 * dispatches its own access, so a read of CFC sees every CF8 write the
 * guest made before it, as on hardware. Several vCPUs may drain at once:
 * the caller holds one lock around io_bus_drain_coalesced. The ring's
 * 'first' index moves only after an entry's write was dispatched, so a
 * caller that sees first == last without the lock knows nothing is
 * pending (io_bus_coalesced_pending).
 *
 * The ring is written by the kernel: an index or length out of bounds ends
 * the drain (-EIO) instead of being trusted.
 */
struct kvm_coalesced_mmio_ring;

bool io_bus_coalesced_pending(const struct kvm_coalesced_mmio_ring *ring);

/*
 * Dispatch every pending entry, oldest first, as a write on pio (entries
 * KVM flags pio) or mmio. max is the ring's capacity in entries
 * (KVM_COALESCED_MMIO_MAX for the page size). Returns the number
 * dispatched, or -EIO for a corrupt ring (nothing more is consumed).
 */
int io_bus_drain_coalesced(struct kvm_coalesced_mmio_ring *ring, unsigned max,
			   struct io_bus *pio, struct io_bus *mmio);

#endif
