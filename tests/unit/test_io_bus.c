/* test_io_bus.c - range registration and PIO/MMIO dispatch. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "../../vmm/io_bus.h"

#include <linux/kvm.h>

/* A fake device that records its last access. */
struct rec {
	unsigned reads, writes;
	uint64_t offset;
	unsigned len;
	uint8_t wdata[8];
	uint8_t fill; /* what reads return in every byte */
};

static void rec_read(void *opaque, uint64_t offset, uint8_t *data, unsigned len)
{
	struct rec *r = opaque;
	r->reads++;
	r->offset = offset;
	r->len = len;
	memset(data, r->fill, len);
}

static void rec_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct rec *r = opaque;
	r->writes++;
	r->offset = offset;
	r->len = len;
	memcpy(r->wdata, data, len);
}

static const struct io_ops rec_ops = { .read = rec_read, .write = rec_write };
static const struct io_ops null_ops = { 0 };

static void byte_read(void *opaque, uint64_t offset, uint8_t *data, unsigned len)
{
	(void)opaque;
	(void)offset;
	(void)len;
	data[0] = 0x60;
}

static const struct io_ops byte_ops = { .read = byte_read };

static void test_register_rejections(void **state)
{
	(void)state;
	static struct io_bus bus;
	memset(&bus, 0, sizeof(bus));
	struct rec a = { 0 };

	assert_int_equal(io_bus_register(&bus, 0x3f8, 8, &rec_ops, &a, "com1"), 0);
	/* Overlaps: same, inside, straddling either end, containing. */
	assert_int_equal(io_bus_register(&bus, 0x3f8, 8, &rec_ops, &a, "x"), -EINVAL);
	assert_int_equal(io_bus_register(&bus, 0x3fa, 1, &rec_ops, &a, "x"), -EINVAL);
	assert_int_equal(io_bus_register(&bus, 0x3f0, 9, &rec_ops, &a, "x"), -EINVAL);
	assert_int_equal(io_bus_register(&bus, 0x3ff, 4, &rec_ops, &a, "x"), -EINVAL);
	assert_int_equal(io_bus_register(&bus, 0x300, 0x200, &rec_ops, &a, "x"), -EINVAL);
	/* Adjacent on both sides is fine. */
	assert_int_equal(io_bus_register(&bus, 0x3f0, 8, &rec_ops, &a, "below"), 0);
	assert_int_equal(io_bus_register(&bus, 0x400, 1, &rec_ops, &a, "above"), 0);
	/* Zero length, wrap past the top of the address space, no ops. */
	assert_int_equal(io_bus_register(&bus, 0x1000, 0, &rec_ops, &a, "x"), -EINVAL);
	assert_int_equal(io_bus_register(&bus, UINT64_MAX, 2, &rec_ops, &a, "x"), -EINVAL);
	assert_int_equal(io_bus_register(&bus, 0x8000, UINT64_MAX, &rec_ops, &a, "x"), -EINVAL);
	assert_int_equal(io_bus_register(&bus, 0x2000, 1, NULL, &a, "x"), -EINVAL);
	assert_int_equal(bus.nranges, 3);

	/* Fill the table; one more is -ENOSPC, and a bad one still -EINVAL. */
	while (bus.nranges < IO_BUS_MAX_RANGES)
		assert_int_equal(io_bus_register(&bus, 0x10000 + bus.nranges * 0x10, 0x10,
						 &rec_ops, &a, "fill"), 0);
	assert_int_equal(io_bus_register(&bus, 0x90000, 1, &rec_ops, &a, "x"), -ENOSPC);
	assert_int_equal(bus.nranges, IO_BUS_MAX_RANGES);
	/* Every registered range is still found at its base. */
	for (unsigned i = 0; i < bus.nranges; i++)
		assert_ptr_equal(io_bus_find(&bus, bus.range[i].base), &bus.range[i]);
}

static void test_dispatch(void **state)
{
	(void)state;
	static struct io_bus bus;
	memset(&bus, 0, sizeof(bus));
	struct rec a = { .fill = 0x5a }, b = { .fill = 0xa5 };
	uint8_t d[8];

	assert_int_equal(io_bus_register(&bus, 0xfec00000, 0x1000, &rec_ops, &a, "ioapic"), 0);
	assert_int_equal(io_bus_register(&bus, 0xfee00000, 0x1000, &rec_ops, &b, "lapic"), 0);

	const struct io_range *r = io_bus_find(&bus, 0xfec00010);
	assert_non_null(r);
	assert_string_equal(r->name, "ioapic");
	assert_null(io_bus_find(&bus, 0xfec01000));
	assert_null(io_bus_find(&bus, 0xfebfffff));

	/* Writes reach the right device at base-relative offsets. */
	memcpy(d, "\x11\x22\x33\x44", 4);
	assert_true(io_bus_access(&bus, 0xfec00010, d, 4, true));
	assert_int_equal(a.writes, 1);
	assert_int_equal(a.offset, 0x10);
	assert_int_equal(a.len, 4);
	assert_memory_equal(a.wdata, "\x11\x22\x33\x44", 4);
	assert_int_equal(b.writes, 0);

	/* Reads return the device's bytes. */
	memset(d, 0, sizeof(d));
	assert_true(io_bus_access(&bus, 0xfee00fff, d, 1, false));
	assert_int_equal(b.reads, 1);
	assert_int_equal(b.offset, 0xfff);
	assert_int_equal(d[0], 0xa5);
	assert_int_equal(d[1], 0);

	/* An access starting on the last byte but running past the end is the device's. */
	assert_true(io_bus_access(&bus, 0xfec00fff, d, 8, false));
	assert_int_equal(a.offset, 0xfff);
	assert_int_equal(a.len, 8);
	assert_int_equal(bus.unclaimed, 0);
}

static void test_unclaimed(void **state)
{
	(void)state;
	static struct io_bus bus;
	memset(&bus, 0, sizeof(bus));
	struct rec a = { .fill = 0 };
	uint8_t d[8];

	assert_int_equal(io_bus_register(&bus, 0x60, 1, &rec_ops, &a, "kbd"), 0);
	assert_int_equal(io_bus_register(&bus, 0x70, 2, &null_ops, NULL, "null"), 0);

	memset(d, 0, sizeof(d));
	assert_false(io_bus_access(&bus, 0x61, d, 4, false));
	assert_memory_equal(d, "\xff\xff\xff\xff\0\0\0\0", 8); /* only len bytes */
	assert_int_equal(bus.unclaimed, 1);
	assert_false(io_bus_access(&bus, 0x5f, d, 1, true));
	assert_int_equal(bus.unclaimed, 2);
	assert_false(io_bus_access(&bus, UINT64_MAX, d, 8, false));
	assert_int_equal(bus.unclaimed, 3);
	assert_int_equal(a.reads + a.writes, 0);

	/* An empty bus claims nothing. */
	static struct io_bus empty;
	memset(&empty, 0, sizeof(empty));
	assert_false(io_bus_access(&empty, 0, d, 2, false));
	assert_int_equal(d[0] & d[1], 0xff);
	assert_int_equal(empty.unclaimed, 1);

	/* A device with no handlers claims the access: reads all-ones, writes dropped. */
	memset(d, 0, sizeof(d));
	assert_true(io_bus_access(&bus, 0x71, d, 2, false));
	assert_int_equal(d[0], 0xff);
	assert_int_equal(d[1], 0xff);
	assert_int_equal(d[2], 0);
	assert_true(io_bus_access(&bus, 0x70, d, 1, true));
	assert_int_equal(bus.unclaimed, 3);

	/* A device that fills only its first byte leaves all-ones in the rest. */
	assert_int_equal(io_bus_register(&bus, 0x3f8, 8, &byte_ops, NULL, "byte"), 0);
	memset(d, 0, sizeof(d));
	assert_true(io_bus_access(&bus, 0x3fd, d, 4, false));
	assert_memory_equal(d, "\x60\xff\xff\xff\0", 5);
}

/*
 * The coalesced ring as KVM fills it: entries appended at 'last', which
 * moves after the entry is written. A page, as KVM maps it.
 */
#define RING_MAX ((4096 - sizeof(struct kvm_coalesced_mmio_ring)) / sizeof(struct kvm_coalesced_mmio))

static union {
	struct kvm_coalesced_mmio_ring r;
	uint8_t page[4096];
} ring_page;

static void ring_push(struct kvm_coalesced_mmio_ring *r, uint64_t addr, uint64_t v, unsigned len,
		      bool pio)
{
	struct kvm_coalesced_mmio *e = &r->coalesced_mmio[r->last];
	e->phys_addr = addr;
	e->len = len;
	e->pio = pio;
	for (unsigned i = 0; i < 8; i++)
		e->data[i] = (uint8_t)(v >> (8 * i));
	r->last = (r->last + 1) % RING_MAX;
}

/* A device that logs every write, to check order across the two buses. */
struct wlog {
	uint64_t off[8];
	uint32_t val[8];
	unsigned n;
};

static void wlog_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct wlog *w = opaque;
	uint32_t v = 0;
	for (unsigned i = 0; i < len && i < 4; i++)
		v |= (uint32_t)data[i] << (8 * i);
	if (w->n < 8) {
		w->off[w->n] = offset;
		w->val[w->n] = v;
	}
	w->n++;
}

static const struct io_ops wlog_ops = { .write = wlog_write };

/* Empty buses with the logger on 0xCF8 (and on some MMIO), an empty ring. */
static struct coalesced_env {
	struct io_bus pio, mmio;
	struct wlog w;
} env;

static struct kvm_coalesced_mmio_ring *coalesced_setup(void)
{
	memset(&env, 0, sizeof(env));
	memset(&ring_page, 0, sizeof(ring_page));
	assert_int_equal(io_bus_register(&env.pio, 0xcf8, 8, &wlog_ops, &env.w, "conf1"), 0);
	assert_int_equal(io_bus_register(&env.mmio, 0xd0000000, 0x1000, &wlog_ops, &env.w, "mem"), 0);
	return &ring_page.r;
}

static void test_coalesced_drain_in_order(void **state)
{
	(void)state;
	struct kvm_coalesced_mmio_ring *r = coalesced_setup();
	struct io_bus *pio = &env.pio, *mmio = &env.mmio;
	struct wlog *w = &env.w;

	assert_false(io_bus_coalesced_pending(r));
	assert_int_equal(io_bus_drain_coalesced(r, RING_MAX, pio, mmio), 0);

	/* Start near the end so the drain wraps around the ring. */
	r->first = r->last = RING_MAX - 2;
	ring_push(r, 0xcf8, 0x80001000, 4, true);
	ring_push(r, 0xd0000010, 0xabcd, 2, false);
	ring_push(r, 0xcfb, 0x01, 1, true);
	assert_true(io_bus_coalesced_pending(r));
	assert_int_equal(io_bus_drain_coalesced(r, RING_MAX, pio, mmio), 3);
	assert_false(io_bus_coalesced_pending(r));
	assert_int_equal(r->first, 1);
	assert_int_equal(w->n, 3);
	assert_int_equal(w->off[0], 0);
	assert_int_equal(w->val[0], 0x80001000);
	assert_int_equal(w->off[1], 0x10);
	assert_int_equal(w->val[1], 0xabcd);
	assert_int_equal(w->off[2], 3);
	assert_int_equal(w->val[2], 1);
	/* Nothing is applied twice. */
	assert_int_equal(io_bus_drain_coalesced(r, RING_MAX, pio, mmio), 0);
	assert_int_equal(w->n, 3);
}

/* The kernel writes the ring; bad indices or lengths stop the drain. */
static void test_coalesced_corrupt_ring(void **state)
{
	(void)state;
	struct kvm_coalesced_mmio_ring *r = coalesced_setup();
	struct io_bus *pio = &env.pio, *mmio = &env.mmio;
	struct wlog *w = &env.w;

	r->last = RING_MAX;
	assert_int_equal(io_bus_drain_coalesced(r, RING_MAX, pio, mmio), -EIO);
	r->last = 0;
	r->first = RING_MAX + 5;
	assert_int_equal(io_bus_drain_coalesced(r, RING_MAX, pio, mmio), -EIO);

	for (unsigned bad = 0; bad < 2; bad++) {
		memset(&ring_page, 0, sizeof(ring_page));
		ring_push(r, 0xcf8, 0x80000000, 4, true);
		ring_push(r, 0xcf8, 0x80000004, bad ? 9 : 0, true);
		ring_push(r, 0xcf8, 0x80000008, 4, true);
		w->n = 0;
		assert_int_equal(io_bus_drain_coalesced(r, RING_MAX, pio, mmio), -EIO);
		/* The good entry before it was applied and freed; the bad one was not consumed. */
		assert_int_equal(w->n, 1);
		assert_int_equal(r->first, 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_rejections),
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_unclaimed),
		cmocka_unit_test(test_coalesced_drain_in_order),
		cmocka_unit_test(test_coalesced_corrupt_ring),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
