/* io_bus.c - PIO/MMIO dispatch table (see io_bus.h). */
#include "io_bus.h"

#include <errno.h>
#include <string.h>

int io_bus_register(struct io_bus *bus, uint64_t base, uint64_t len,
		    const struct io_ops *ops, void *opaque, const char *name)
{
	if (len == 0 || base + len < base || ops == NULL)
		return -EINVAL;
	if (bus->nranges >= IO_BUS_MAX_RANGES)
		return -ENOSPC;
	for (unsigned i = 0; i < bus->nranges; i++) {
		const struct io_range *r = &bus->range[i];
		if (base < r->base + r->len && r->base < base + len)
			return -EINVAL;
	}
	bus->range[bus->nranges++] = (struct io_range){
		.base = base, .len = len, .ops = ops, .opaque = opaque, .name = name,
	};
	return 0;
}

const struct io_range *io_bus_find(const struct io_bus *bus, uint64_t addr)
{
	/* A handful of ranges: a linear scan beats anything cleverer here. */
	for (unsigned i = 0; i < bus->nranges; i++) {
		const struct io_range *r = &bus->range[i];
		if (addr >= r->base && addr - r->base < r->len)
			return r;
	}
	return NULL;
}

bool io_bus_access(struct io_bus *bus, uint64_t addr, uint8_t *data,
		   unsigned len, bool is_write)
{
	const struct io_range *r = io_bus_find(bus, addr);
	if (r == NULL) {
		if (!is_write)
			memset(data, 0xff, len);
		__atomic_fetch_add(&bus->unclaimed, 1, __ATOMIC_RELAXED);
		return false;
	}
	/* The table is fixed after setup; only this counter changes. */
	__atomic_fetch_add(&bus->range[r - bus->range].hits, 1, __ATOMIC_RELAXED);
	if (is_write) {
		if (r->ops->write)
			r->ops->write(r->opaque, addr - r->base, data, len);
	} else {
		memset(data, 0xff, len);
		if (r->ops->read)
			r->ops->read(r->opaque, addr - r->base, data, len);
	}
	return true;
}
