/*
 * test_pci_access.c - how the guest reaches PCI, end to end through the
 * io_bus ranges pci_bus_attach registers: the 0xCF8 latch, CF8/CFC and
 * ECAM agreeing on every read and write, odd lengths and unaligned
 * accesses, BAR dispatch following the current BAR address (with the
 * bar_moved callback), decode gating by the command register, hook and
 * locking contracts, and 100k hostile accesses that must neither crash
 * nor change a read-only bit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../boot/boot.h"
#include "../../devices/pci.h"
#include "pci_test_util.h"
#include "../../vmm/io_bus.h"

#include <linux/kvm.h>

#define DEV_FN   PCI_DEVFN(2, 0)
#define MEM_SIZE 0x1000
#define IO_SIZE  0x20

/* A fake BAR target: records the last access, answers with a pattern. */
struct target {
	struct pci_bus *bus;
	uint64_t size;
	unsigned reads, writes;
	uint64_t last_off;
	uint8_t last_data[8];
	unsigned last_len;
	bool lock_was_free;
};

struct moved {
	unsigned bar;
	uint64_t old_addr, new_addr;
};

struct fixture {
	struct pci_bus bus;
	struct pci_dev dev;
	struct io_bus pio, mmio;
	struct target mem, io, mem64;
	struct moved moves[64];
	unsigned nmoves;
	unsigned cfg_writes, last_wr_off, last_wr_len;
	bool hook_lock_held;
};

static void tgt_read(void *opaque, uint64_t off, uint8_t *data, unsigned len)
{
	struct target *t = opaque;
	assert_true(off < t->size);
	t->reads++;
	t->last_off = off;
	t->last_len = len;
	if (pthread_mutex_trylock(&t->bus->lock) == 0) {
		t->lock_was_free = true;
		pthread_mutex_unlock(&t->bus->lock);
	}
	for (unsigned i = 0; i < len; i++)
		data[i] = (uint8_t)(off + i + 0x40);
}

static void tgt_write(void *opaque, uint64_t off, const uint8_t *data, unsigned len)
{
	struct target *t = opaque;
	assert_true(off < t->size);
	t->writes++;
	t->last_off = off;
	t->last_len = len;
	memcpy(t->last_data, data, len < 8 ? len : 8);
}

static const struct io_ops tgt_ops = { tgt_read, tgt_write };

static void on_moved(void *opaque, struct pci_dev *d, unsigned bar, uint64_t old_addr,
		     uint64_t new_addr)
{
	struct fixture *f = opaque;
	assert_ptr_equal(d, &f->dev);
	assert_int_equal(pthread_mutex_trylock(&f->bus.lock), EBUSY);
	if (f->nmoves < 64)
		f->moves[f->nmoves++] = (struct moved){ bar, old_addr, new_addr };
}

static void on_cfg_write(void *opaque, struct pci_dev *d, unsigned off, unsigned len)
{
	struct fixture *f = opaque;
	assert_ptr_equal(d, &f->dev);
	assert_true(off < PCI_CFG_SIZE && len >= 1 && off + len <= PCI_CFG_SIZE);
	f->hook_lock_held = pthread_mutex_trylock(&f->bus.lock) == EBUSY;
	f->cfg_writes++;
	f->last_wr_off = off;
	f->last_wr_len = len;
}

/* Byte 0xF0 reads as a live value the device computes (like a virtio window). */
static void on_cfg_read(void *opaque, struct pci_dev *d, unsigned off, uint8_t *data,
			unsigned len)
{
	(void)opaque;
	assert_true(off + len <= PCI_CFG_SIZE);
	if (off <= 0xf0 && off + len > 0xf0)
		data[0xf0 - off] = (uint8_t)(d->cfg[PCI_INTERRUPT_LINE] ^ 0x5a);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (f == NULL || pci_bus_init(&f->bus, NULL) != 0) {
		free(f);
		return -1;
	}
	f->mem = (struct target){ .bus = &f->bus, .size = MEM_SIZE };
	f->io = (struct target){ .bus = &f->bus, .size = IO_SIZE };
	f->mem64 = (struct target){ .bus = &f->bus, .size = 0x4000 };
	struct pci_dev_info info = {
		.vendor = 0x1af4, .device = 0x1041, .class_code = 0x020000,
		.bar = {
			[0] = { PCI_BAR_MEM32, MEM_SIZE, false, &tgt_ops, &f->mem },
			[1] = { PCI_BAR_IO, IO_SIZE, false, &tgt_ops, &f->io },
			[2] = { PCI_BAR_MEM64, 0x4000, true, &tgt_ops, &f->mem64 },
		},
		.cfg_write = on_cfg_write, .cfg_read = on_cfg_read, .bar_moved = on_moved,
		.opaque = f,
	};
	const uint8_t cap[8] = { 0x09, 0, 8, 0x11, 0x22, 0x33, 0x44, 0x55 };
	const uint8_t capw[8] = { [4] = 0xff, [5] = 0x0f };
	if (pci_dev_init(&f->dev, &info) != 0 || pci_dev_add_cap(&f->dev, cap, capw, 8, NULL) != 0 ||
	    pci_bus_add(&f->bus, &f->dev, DEV_FN) != 0 ||
	    pci_bus_attach(&f->bus, &f->pio, &f->mmio) != 0) {
		pci_bus_destroy(&f->bus);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	pci_bus_destroy(&f->bus);
	free(f);
	return 0;
}

static uint64_t pio(struct fixture *f, uint64_t port, uint64_t v, unsigned len, bool wr)
{
	uint8_t b[8];
	le_put(b, v, len);
	io_bus_access(&f->pio, port, b, len, wr);
	return le_get(b, len);
}

static uint64_t mmio(struct fixture *f, uint64_t gpa, uint64_t v, unsigned len, bool wr)
{
	uint8_t b[8];
	le_put(b, v, len);
	assert_true(io_bus_access(&f->mmio, gpa, b, len, wr));
	return le_get(b, len);
}

static uint32_t conf1_addr(uint8_t bus, uint8_t devfn, unsigned reg)
{
	return 0x80000000u | (uint32_t)bus << 16 | (uint32_t)devfn << 8 | (reg & 0xfc);
}

/* Config access through 0xCF8/0xCFC+: latch, then the data port. */
static uint64_t c1(struct fixture *f, uint8_t devfn, unsigned off, uint64_t v, unsigned len,
		   bool wr)
{
	pio(f, PCI_CONF1_PORT, conf1_addr(0, devfn, off), 4, true);
	return pio(f, PCI_CONF1_PORT + 4 + (off & 3), v, len, wr);
}

static uint64_t ecam(struct fixture *f, uint8_t devfn, unsigned off, uint64_t v, unsigned len,
		     bool wr)
{
	return mmio(f, BOOT_PCI_ECAM_GPA + ((uint64_t)devfn << 12) + off, v, len, wr);
}

static void test_attach_ranges(void **state)
{
	struct fixture *f = *state;
	const struct io_range *r = io_bus_find(&f->pio, 0xcf8);
	assert_non_null(r);
	assert_int_equal(r->base, 0xcf8);
	assert_int_equal(r->len, 8);
	r = io_bus_find(&f->pio, BOOT_PCI_IO_BASE + BOOT_PCI_IO_SIZE - 1);
	assert_non_null(r);
	assert_int_equal(r->base, BOOT_PCI_IO_BASE);
	assert_null(io_bus_find(&f->pio, 0x600));
	assert_null(io_bus_find(&f->pio, 0x3f8));
	r = io_bus_find(&f->mmio, BOOT_PCI_MMIO_GPA);
	assert_non_null(r);
	assert_int_equal(r->len, BOOT_PCI_MMIO_SIZE);
	r = io_bus_find(&f->mmio, BOOT_PCI_ECAM_GPA + BOOT_PCI_ECAM_SIZE - 1);
	assert_non_null(r);
	assert_int_equal(r->base, BOOT_PCI_ECAM_GPA);
	assert_null(io_bus_find(&f->mmio, BOOT_PCI_ECAM_GPA + BOOT_PCI_ECAM_SIZE));
	assert_null(io_bus_find(&f->mmio, BOOT_IOAPIC_GPA));
	/* Attaching twice overlaps and fails. */
	assert_int_equal(pci_bus_attach(&f->bus, &f->pio, &f->mmio), -EINVAL);
	assert_int_equal(pci_bus_attach(&f->bus, NULL, &f->mmio), -EINVAL);
}

/*
 * A config read whose CF8 write KVM coalesced: the write sits in the ring
 * until the CFC read's exit drains it. Drained first, the read reaches the
 * device; not drained, it would use the old latch, which is why every exit
 * handler drains before it dispatches (io_bus.h).
 */
static void test_conf1_coalesced_latch(void **state)
{
	struct fixture *f = *state;
	static union {
		struct kvm_coalesced_mmio_ring r;
		uint8_t page[4096];
	} ring;
	const unsigned max = (4096 - sizeof(struct kvm_coalesced_mmio_ring)) /
			     sizeof(struct kvm_coalesced_mmio);
	memset(&ring, 0, sizeof(ring));

	pio(f, PCI_CONF1_PORT, conf1_addr(0, PCI_DEVFN(9, 0), 0), 4, true); /* empty slot */
	struct kvm_coalesced_mmio *e = &ring.r.coalesced_mmio[0];
	e->phys_addr = PCI_CONF1_PORT;
	e->len = 4;
	e->pio = 1;
	le_put(e->data, conf1_addr(0, DEV_FN, PCI_VENDOR_ID), 4);
	ring.r.last = 1;

	assert_int_equal(pio(f, PCI_CONF1_PORT + 4, 0, 4, false), 0xffffffff);
	assert_int_equal(io_bus_drain_coalesced(&ring.r, max, &f->pio, &f->mmio), 1);
	assert_int_equal(pio(f, PCI_CONF1_PORT + 4, 0, 4, false), 0x10411af4);
}

static void test_conf1_latch(void **state)
{
	struct fixture *f = *state;
	/* Linux's pci_check_type1: byte to 0xCFB, then 0x80000000 must read back. */
	pio(f, 0xcfb, 0x01, 1, true);
	pio(f, 0xcf8, 0x80000000, 4, true);
	assert_int_equal(pio(f, 0xcf8, 0, 4, false), 0x80000000);
	/* Reserved and low bits read back as 0; byte writes do not touch the latch. */
	pio(f, 0xcf8, 0xffffffff, 4, true);
	assert_int_equal(pio(f, 0xcf8, 0, 4, false), 0x80fffffc);
	pio(f, 0xcf8, 0, 1, true);
	pio(f, 0xcfa, 0, 2, true);
	assert_int_equal(pio(f, 0xcf8, 0, 4, false), 0x80fffffc);
	/* Narrow reads of the latch see nothing (type-2 probe must fail). */
	assert_int_equal(pio(f, 0xcf8, 0, 1, false), 0xff);
	assert_int_equal(pio(f, 0xcfa, 0, 2, false), 0xffff);
	/* Bus 0xff selected: all-ones, writes dropped. */
	assert_int_equal(pio(f, 0xcfc, 0, 4, false), 0xffffffff);
	/* Enable bit clear: the data port reads all-ones and takes no writes. */
	pio(f, 0xcf8, conf1_addr(0, DEV_FN, PCI_COMMAND) & ~0x80000000u, 4, true);
	assert_int_equal(pio(f, 0xcfc, 0, 4, false), 0xffffffff);
	pio(f, 0xcfc, PCI_COMMAND_MASTER, 2, true);
	assert_int_equal(ecam(f, DEV_FN, PCI_COMMAND, 0, 2, false), 0);
	/* Other buses and missing functions. */
	pio(f, 0xcf8, conf1_addr(1, 0, 0), 4, true);
	assert_int_equal(pio(f, 0xcfc, 0, 4, false), 0xffffffff);
	assert_int_equal(c1(f, PCI_DEVFN(31, 7), 0, 0, 2, false), 0xffff);
	assert_int_equal(c1(f, 0, 0, 0, 2, false), PCI_HOST_VENDOR);
	assert_int_equal(c1(f, 0, 0x0a, 0, 2, false), 0x0600);
	/* ECAM beyond bus 0 (should a larger region be registered) is all-ones. */
	uint8_t b[4];
	pci_ecam_io_ops.read(&f->bus, 1u << 20, b, 4);
	assert_int_equal(b[0] & b[1] & b[2] & b[3], 0xff);
	pci_ecam_io_ops.write(&f->bus, (1u << 20) | PCI_COMMAND, b, 2);
}

static void test_paths_agree(void **state)
{
	struct fixture *f = *state;
	static const unsigned lens[] = { 1, 2, 4 };
	/* Reads: every aligned offset and width of the 256-byte space, two devices. */
	const uint8_t fns[] = { 0, DEV_FN, PCI_DEVFN(9, 0) };
	for (unsigned k = 0; k < 3; k++)
		for (unsigned off = 0; off < PCI_CFG_LEGACY; off++)
			for (unsigned l = 0; l < 3; l++) {
				if (off % lens[l] != 0)
					continue;
				assert_int_equal(c1(f, fns[k], off, 0, lens[l], false),
						 ecam(f, fns[k], off, 0, lens[l], false));
			}
	/* Writes through one path are seen through the other. */
	c1(f, DEV_FN, PCI_COMMAND, PCI_COMMAND_MASTER, 2, true);
	assert_int_equal(ecam(f, DEV_FN, PCI_COMMAND, 0, 2, false), PCI_COMMAND_MASTER);
	ecam(f, DEV_FN, PCI_INTERRUPT_LINE, 0x0a, 1, true);
	assert_int_equal(c1(f, DEV_FN, PCI_INTERRUPT_LINE, 0, 1, false), 0x0a);
	c1(f, DEV_FN, PCI_BAR0, 0xffffffff, 4, true);
	assert_int_equal(ecam(f, DEV_FN, PCI_BAR0, 0, 4, false), 0xfffff000);
	ecam(f, DEV_FN, PCI_BAR0, 0xc8000000, 4, true);
	assert_int_equal(c1(f, DEV_FN, PCI_BAR0, 0, 4, false), 0xc8000000);
	c1(f, DEV_FN, 0x44, 0xabcd, 2, true);         /* capability bytes 4-5 */
	assert_int_equal(ecam(f, DEV_FN, 0x44, 0, 2, false), 0x3bcd);  /* 0x33: low nibble only */
	/* The cfg_read hook answers on both paths. */
	assert_int_equal(c1(f, DEV_FN, 0xf0, 0, 1, false), 0x0a ^ 0x5a);
	assert_int_equal(ecam(f, DEV_FN, 0xf0, 0, 1, false), 0x0a ^ 0x5a);
	assert_int_equal(ecam(f, DEV_FN, 0xee, 0, 4, false), (0x0a ^ 0x5a) << 16);
	/* The write hook saw the in-range part of each write, with the lock held. */
	assert_int_equal(f->last_wr_off, 0x44);
	assert_int_equal(f->last_wr_len, 2);
	assert_true(f->hook_lock_held);
}

static void test_odd_accesses(void **state)
{
	struct fixture *f = *state;
	/* 2 bytes at 0xCFE: the device id (register 0 + 2). */
	assert_int_equal(c1(f, DEV_FN, 2, 0, 2, false), 0x1041);
	/* 4 bytes at 0xCFD run past the data ports: the last byte is all-ones. */
	pio(f, 0xcf8, conf1_addr(0, DEV_FN, 0), 4, true);
	assert_int_equal(pio(f, 0xcfd, 0, 4, false), 0xff10411a);
	/* Unaligned dword in the data window takes bytes 1-3 of the register. */
	assert_int_equal(pio(f, 0xcfd, 0, 2, false), 0x411a);
	/* Register 0xFC + 3 is the last byte mechanism #1 reaches. */
	assert_int_equal(c1(f, DEV_FN, 0xff, 0, 1, false), 0);
	pio(f, 0xcf8, conf1_addr(0, DEV_FN, 0xfc), 4, true);
	assert_int_equal(pio(f, 0xcff, 0, 2, false), 0xff00);
	/* ECAM: unaligned, 3-byte and 8-byte accesses are byte-wise. */
	assert_int_equal(ecam(f, DEV_FN, 1, 0, 4, false), 0x0010411a);
	assert_int_equal(ecam(f, DEV_FN, 0, 0, 3, false), 0x411af4);
	assert_int_equal(ecam(f, DEV_FN, 0, 0, 8, false), 0x0010000010411af4ULL);
	/* 8 bytes from 0x03: only the command byte at 0x05 has writable bits. */
	ecam(f, DEV_FN, PCI_COMMAND - 1, 0xffffffff00040000ULL, 8, true);
	assert_int_equal(ecam(f, DEV_FN, PCI_COMMAND, 0, 2, false), 0x0400);
	assert_int_equal(ecam(f, DEV_FN, PCI_REVISION_ID, 0, 4, false), 0x02000000);
	assert_int_equal(ecam(f, DEV_FN, 0, 0, 4, false), 0x10411af4);
	/* The end of a function's page does not spill into the next function. */
	assert_int_equal(ecam(f, DEV_FN, 0xffe, 0, 4, false), 0xffff0000);
	assert_int_equal(ecam(f, DEV_FN, 0xfff, 0, 8, false), 0xffffffffffffff00ULL);
	ecam(f, DEV_FN - 1, 0xffc, 0xffffffffffffffffULL, 8, true);
	assert_int_equal(ecam(f, DEV_FN, PCI_VENDOR_ID, 0, 8, false), 0x0010040010411af4ULL);
	/* Extended space exists (ECAM only) and reads 0. */
	assert_int_equal(ecam(f, DEV_FN, 0x100, 0, 4, false), 0);
}

static void enable(struct fixture *f, uint16_t cmd)
{
	ecam(f, DEV_FN, PCI_COMMAND, cmd, 2, true);
}

static void test_bar_dispatch(void **state)
{
	struct fixture *f = *state;
	uint64_t m = ecam(f, DEV_FN, PCI_BAR0, 0, 4, false) & ~0xfull;
	uint64_t io = ecam(f, DEV_FN, PCI_BAR0 + 4, 0, 4, false) & ~0x3ull;

	/* Decoding off: nothing reaches the device. */
	assert_int_equal(mmio(f, m + 8, 0, 4, false), 0xffffffff);
	mmio(f, m + 8, 1, 4, true);
	assert_int_equal(pio(f, io, 0, 1, false), 0xff);
	assert_int_equal(f->mem.reads + f->mem.writes + f->io.reads, 0);
	assert_int_equal(f->nmoves, 0);

	/* Memory on: BAR 0 and the 64-bit BAR decode; I/O still off. */
	enable(f, PCI_COMMAND_MEMORY);
	assert_int_equal(f->nmoves, 2);
	assert_int_equal(f->moves[0].bar, 0);
	assert_true(f->moves[0].old_addr == PCI_BAR_UNMAPPED);
	assert_int_equal(f->moves[0].new_addr, m);
	assert_int_equal(f->moves[1].bar, 2);
	assert_int_equal(mmio(f, m + 0x10, 0, 4, false), 0x53525150);
	assert_int_equal(f->mem.last_off, 0x10);
	assert_true(f->mem.lock_was_free);     /* BAR ops run without the bus lock */
	mmio(f, m + MEM_SIZE - 2, 0xbeef, 2, true);
	assert_int_equal(f->mem.last_off, MEM_SIZE - 2);
	assert_int_equal(f->mem.last_data[0] | f->mem.last_data[1] << 8, 0xbeef);
	assert_int_equal(pio(f, io, 0, 1, false), 0xff);
	/* Just past the BAR: unclaimed space in the window reads all-ones. */
	assert_int_equal(mmio(f, m + MEM_SIZE, 0, 4, false) & 0xffff, 0xffff);

	/* I/O on too. */
	enable(f, PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
	assert_int_equal(f->nmoves, 3);
	assert_int_equal(f->moves[2].bar, 1);
	assert_int_equal(pio(f, io + 3, 0, 1, false), 0x43);
	pio(f, io + 4, 0x12345678, 4, true);
	assert_int_equal(f->io.last_off, 4);
	assert_int_equal(f->io.writes, 1);

	/* The guest moves BAR 0: the old address goes dark, the new one answers. */
	uint64_t m2 = BOOT_PCI_MMIO_GPA + 0x10000000;
	unsigned before = f->nmoves, reads = f->mem.reads;
	ecam(f, DEV_FN, PCI_BAR0, m2, 4, true);
	assert_int_equal(f->nmoves, before + 1);
	assert_int_equal(f->moves[before].old_addr, m);
	assert_int_equal(f->moves[before].new_addr, m2);
	assert_int_equal(pci_dev_bar_addr(&f->dev, 0), m2);
	assert_int_equal(mmio(f, m + 0x10, 0, 4, false), 0xffffffff);
	assert_int_equal(f->mem.reads, reads);
	assert_int_equal(mmio(f, m2 + 0x20, 0, 2, false), 0x6160);
	assert_int_equal(f->mem.last_off, 0x20);

	/* The same BAR written again with the same value fires nothing. */
	ecam(f, DEV_FN, PCI_BAR0, m2, 4, true);
	assert_int_equal(f->nmoves, before + 1);

	/* Moving the I/O BAR. */
	ecam(f, DEV_FN, PCI_BAR0 + 4, 0x8000, 4, true);
	assert_int_equal(pio(f, 0x8001, 0, 1, false), 0x41);
	assert_int_equal(pio(f, io + 1, 0, 1, false), 0xff);

	/* 64-bit BAR: lo then hi; parking it above 4 GiB leaves the window. */
	uint64_t m64 = pci_dev_bar_addr(&f->dev, 2);
	assert_int_equal(mmio(f, m64 + 0x3ffc, 0, 1, false), (0x3ffc + 0x40) & 0xff);
	before = f->nmoves;
	ecam(f, DEV_FN, PCI_BAR0 + 12, 1, 4, true);
	assert_int_equal(f->nmoves, before + 1);
	assert_int_equal(f->moves[before].bar, 2);
	assert_true(f->moves[before].new_addr == PCI_BAR_UNMAPPED);
	assert_int_equal(mmio(f, m64, 0, 4, false), 0xffffffff);
	ecam(f, DEV_FN, PCI_BAR0 + 12, 0, 4, true);
	assert_int_equal(pci_dev_bar_addr(&f->dev, 2), m64);

	/* Just past the window (on ECAM): no decode; the last page: decodes. */
	ecam(f, DEV_FN, PCI_BAR0, BOOT_PCI_MMIO_GPA + BOOT_PCI_MMIO_SIZE, 4, true);
	assert_true(pci_dev_bar_addr(&f->dev, 0) == PCI_BAR_UNMAPPED);
	assert_int_equal(ecam(f, DEV_FN, PCI_VENDOR_ID, 0, 4, false), 0x10411af4);
	ecam(f, DEV_FN, PCI_BAR0, BOOT_PCI_MMIO_GPA + BOOT_PCI_MMIO_SIZE - MEM_SIZE, 4, true);
	assert_int_equal(pci_dev_bar_addr(&f->dev, 0), BOOT_PCI_MMIO_GPA + BOOT_PCI_MMIO_SIZE - MEM_SIZE);

	/* Memory off again: every memory BAR reports unmapped, I/O stays. */
	before = f->nmoves;
	enable(f, PCI_COMMAND_IO);
	assert_int_equal(f->nmoves, before + 2);
	assert_true(f->moves[before].new_addr == PCI_BAR_UNMAPPED);
	assert_true(f->moves[before + 1].new_addr == PCI_BAR_UNMAPPED);
	assert_int_equal(pci_dev_bar_addr(&f->dev, 1), 0x8000);
}

static void test_sizing_while_decoding(void **state)
{
	struct fixture *f = *state;
	enable(f, PCI_COMMAND_MEMORY);
	uint64_t m = pci_dev_bar_addr(&f->dev, 0);
	unsigned before = f->nmoves;
	/* All-ones lands outside the window: unmapped, then back on restore. */
	ecam(f, DEV_FN, PCI_BAR0, 0xffffffff, 4, true);
	assert_true(pci_dev_bar_addr(&f->dev, 0) == PCI_BAR_UNMAPPED);
	ecam(f, DEV_FN, PCI_BAR0, m, 4, true);
	assert_int_equal(pci_dev_bar_addr(&f->dev, 0), m);
	assert_int_equal(f->nmoves, before + 2);
	assert_int_equal(f->moves[before + 1].new_addr, m);
}

/* xorshift64*: a fixed, reproducible stream. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static void test_hostile(void **state)
{
	struct fixture *f = *state;
	static const unsigned lens[] = { 1, 2, 4, 8, 3 };
	struct pci_dev *devs[2] = { &f->bus.host, &f->dev };
	static uint8_t snap[2][PCI_CFG_SIZE];
	for (unsigned k = 0; k < 2; k++)
		memcpy(snap[k], devs[k]->cfg, PCI_CFG_SIZE);
	uint64_t s = 0x9e3779b97f4a7c15ULL;

	for (unsigned it = 0; it < 100000; it++) {
		uint64_t r = rnd(&s), v = rnd(&s);
		if (it % 512 == 0) {
			/* Now and then a sane setup, so BAR dispatch gets hammered too. */
			ecam(f, DEV_FN, PCI_BAR0, BOOT_PCI_MMIO_GPA, 4, true);
			ecam(f, DEV_FN, PCI_BAR0 + 4, BOOT_PCI_IO_BASE, 4, true);
			ecam(f, DEV_FN, PCI_BAR0 + 8, BOOT_PCI_MMIO_GPA + 0x4000, 4, true);
			ecam(f, DEV_FN, PCI_BAR0 + 12, 0, 4, true);
			enable(f, PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
		}
		unsigned len = lens[r % 5];
		uint8_t buf[8];
		memcpy(buf, &v, 8);
		bool wr = (r >> 3) & 1;
		switch ((r >> 4) % 6) {
		case 0: /* the latch: anything, mostly enabled bus 0 near our devices */
			if ((r >> 8) & 1)
				v = conf1_addr(0, (r >> 9) & 1 ? DEV_FN : (uint8_t)(r >> 10), (unsigned)(r >> 20));
			pio(f, PCI_CONF1_PORT, v, 4, true);
			break;
		case 1: /* any port offset, any length */
			io_bus_access(&f->pio, PCI_CONF1_PORT + ((r >> 8) % 8), buf, len, wr);
			break;
		case 2: /* ECAM: our device's page or anywhere */
			io_bus_access(&f->mmio, BOOT_PCI_ECAM_GPA +
				      ((r >> 8) & 1 ? ((uint64_t)DEV_FN << 12) + ((r >> 9) & 0xfff)
						    : (r >> 9) % BOOT_PCI_ECAM_SIZE),
				      buf, len, wr);
			break;
		case 3: /* the host bridge */
			io_bus_access(&f->mmio, BOOT_PCI_ECAM_GPA + ((r >> 8) & 0xfff), buf, len, wr);
			break;
		case 4: /* the MMIO window, near our BARs or anywhere */
			io_bus_access(&f->mmio, BOOT_PCI_MMIO_GPA +
				      ((r >> 8) & 1 ? (r >> 9) & 0xffff : (r >> 9) % BOOT_PCI_MMIO_SIZE),
				      buf, len, wr);
			break;
		default: /* the I/O window */
			io_bus_access(&f->pio, BOOT_PCI_IO_BASE + (r >> 8) % BOOT_PCI_IO_SIZE, buf,
				      len, wr);
			break;
		}
	}
	/* Every read-only bit kept its value; RW1C bits only ever cleared. */
	for (unsigned k = 0; k < 2; k++) {
		const struct pci_dev *d = devs[k];
		for (unsigned o = 0; o < PCI_CFG_SIZE; o++) {
			uint8_t ro = (uint8_t)~(d->wmask[o] | d->w1cmask[o]);
			assert_int_equal(d->cfg[o] & ro, snap[k][o] & ro);
			assert_int_equal(d->cfg[o] & d->w1cmask[o] & ~snap[k][o], 0);
		}
		assert_int_equal(d->cfg[PCI_VENDOR_ID], snap[k][PCI_VENDOR_ID]);
	}
	/* The device was really exercised: writes reached config space and BARs. */
	assert_true(f->cfg_writes > 1000);
	assert_true(f->mem.reads + f->mem.writes + f->io.reads + f->io.writes +
		    f->mem64.reads + f->mem64.writes > 0);
	/* And it still works normally afterwards. */
	assert_int_equal(c1(f, DEV_FN, 0, 0, 4, false), 0x10411af4);
	assert_int_equal(ecam(f, DEV_FN, 0, 0, 4, false), 0x10411af4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_attach_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conf1_latch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conf1_coalesced_latch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paths_agree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_odd_accesses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_dispatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sizing_while_decoding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
