/*
 * coalesced_io.c - apply the writes KVM queued in its coalesced ring
 * instead of exiting (io_bus.h: ordering and locking).
 *
 * Pure: the ring is plain memory here (the VMM maps it from the vCPU fd;
 * the unit tests build one), and every write goes through io_bus_access.
 */
#include "io_bus.h"

#include <errno.h>
#include <linux/kvm.h>

bool io_bus_coalesced_pending(const struct kvm_coalesced_mmio_ring *ring)
{
	return __atomic_load_n(&ring->first, __ATOMIC_ACQUIRE) !=
	       __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE);
}

int io_bus_drain_coalesced(struct kvm_coalesced_mmio_ring *ring, unsigned max,
			   struct io_bus *pio, struct io_bus *mmio)
{
	int n = 0;
	uint32_t first = ring->first;
	/* KVM fills an entry, then publishes it by moving 'last' (smp_wmb). */
	uint32_t last = __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE);

	if (first >= max || last >= max)
		return -EIO;
	while (first != last) {
		struct kvm_coalesced_mmio *e = &ring->coalesced_mmio[first];
		uint8_t data[8];
		uint32_t len = e->len;
		if (len == 0 || len > sizeof(data))
			return -EIO;
		for (uint32_t i = 0; i < len; i++)
			data[i] = e->data[i];
		io_bus_access(e->pio ? pio : mmio, e->phys_addr, data, len, true);
		first = (first + 1) % max;
		/* Release: the write above is done before the slot is freed. */
		__atomic_store_n(&ring->first, first, __ATOMIC_RELEASE);
		n++;
	}
	return n;
}
