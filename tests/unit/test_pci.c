/*
 * test_pci.c - PCI config space as the guest sees it through ECAM: the host
 * bridge, ids and class, header type, BAR sizing for 32-bit, 64-bit and I/O
 * BARs, write masks and read-only fields, RW1C status bits, the capability
 * list, BAR assignment from the windows, and registration errors.
 * (test_pci_access.c covers CF8/CFC, dispatch and hostile input.)
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

#define DEV_SLOT 3
#define DEV_FN   PCI_DEVFN(DEV_SLOT, 0)

struct fixture {
	struct pci_bus bus;
	struct pci_dev dev;
	struct pci_dev extra[PCI_MAX_DEVICES];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (f == NULL || pci_bus_init(&f->bus, NULL) != 0) {
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

/* ECAM accessors: bus 0, devfn, register, little-endian. */
static uint32_t cfg_rd(struct fixture *f, uint8_t devfn, unsigned off, unsigned len)
{
	uint8_t b[4];
	pci_ecam_io_ops.read(&f->bus, (uint64_t)devfn << 12 | off, b, len);
	return (uint32_t)le_get(b, len);
}

static void cfg_wr(struct fixture *f, uint8_t devfn, unsigned off, uint32_t v, unsigned len)
{
	uint8_t b[4];
	le_put(b, v, len);
	pci_ecam_io_ops.write(&f->bus, (uint64_t)devfn << 12 | off, b, len);
}

static struct pci_dev_info test_info(void)
{
	return (struct pci_dev_info){
		.vendor = 0x1af4, .device = 0x1041, .subsys_vendor = 0x1af4, .subsys_id = 0x0001,
		.class_code = 0x020000, .revision = 1,
		.bar = {
			[0] = { .type = PCI_BAR_MEM32, .size = 0x1000 },
			[2] = { .type = PCI_BAR_MEM64, .size = 0x4000, .prefetchable = true },
			[4] = { .type = PCI_BAR_IO, .size = 0x20 },
		},
	};
}

static void add_test_dev(struct fixture *f)
{
	struct pci_dev_info info = test_info();
	assert_int_equal(pci_dev_init(&f->dev, &info), 0);
	assert_int_equal(pci_bus_add(&f->bus, &f->dev, DEV_FN), 0);
}

static void test_host_bridge(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(cfg_rd(f, 0, PCI_VENDOR_ID, 2), PCI_HOST_VENDOR);
	assert_int_equal(cfg_rd(f, 0, PCI_DEVICE_ID, 2), PCI_HOST_DEVICE);
	assert_int_equal(cfg_rd(f, 0, PCI_CLASS_PROG, 1), 0x00);
	assert_int_equal(cfg_rd(f, 0, PCI_CLASS_PROG + 1, 2), 0x0600);
	assert_int_equal(cfg_rd(f, 0, PCI_HEADER_TYPE, 1), 0);
	for (unsigned i = 0; i < PCI_NUM_BARS; i++)
		assert_int_equal(cfg_rd(f, 0, PCI_BAR0 + 4 * i, 4), 0);
	assert_int_equal(cfg_rd(f, 0, PCI_CAP_PTR, 1), 0);
	assert_int_equal(cfg_rd(f, 0, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, 0);
	/* Every other slot and function is empty: vendor reads all-ones. */
	for (unsigned d = 1; d < 256; d++) {
		assert_int_equal(cfg_rd(f, (uint8_t)d, PCI_VENDOR_ID, 2), 0xffff);
		assert_int_equal(cfg_rd(f, (uint8_t)d, PCI_VENDOR_ID, 4), 0xffffffff);
	}
	/* Writes to a missing function go nowhere and do not crash. */
	cfg_wr(f, PCI_DEVFN(7, 3), PCI_COMMAND, 0xffff, 2);
	assert_int_equal(cfg_rd(f, PCI_DEVFN(7, 3), PCI_COMMAND, 2), 0xffff);
}

static void test_ids_and_read_only(void **state)
{
	struct fixture *f = *state;
	add_test_dev(f);
	assert_int_equal(cfg_rd(f, DEV_FN, 0, 4), 0x10411af4);
	assert_int_equal(cfg_rd(f, DEV_FN, PCI_REVISION_ID, 4), 0x02000001);
	assert_int_equal(cfg_rd(f, DEV_FN, PCI_SUBSYS_VENDOR, 4), 0x00011af4);
	assert_int_equal(cfg_rd(f, DEV_FN, PCI_HEADER_TYPE, 1), 0);
	assert_int_equal(cfg_rd(f, DEV_FN, PCI_INTERRUPT_PIN, 1), 0);

	/* Read-only fields ignore writes of any width. */
	static const unsigned ro[] = { 0x00, 0x02, 0x08, 0x09, 0x0e, 0x0f, 0x2c, 0x2e,
				       0x30, 0x34, 0x3d, 0x3e, 0x3f };
	for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
		uint32_t before = cfg_rd(f, DEV_FN, ro[i], 1);
		cfg_wr(f, DEV_FN, ro[i], 0xa5, 1);
		assert_int_equal(cfg_rd(f, DEV_FN, ro[i], 1), before);
	}
	cfg_wr(f, DEV_FN, 0, 0xffffffff, 4);
	assert_int_equal(cfg_rd(f, DEV_FN, 0, 4), 0x10411af4);
	/* No expansion ROM: sizing reads 0. */
	cfg_wr(f, DEV_FN, PCI_ROM_ADDRESS, 0xfffff801, 4);
	assert_int_equal(cfg_rd(f, DEV_FN, PCI_ROM_ADDRESS, 4), 0);

	/* Command: only the defined writable bits stick. */
	cfg_wr(f, DEV_FN, PCI_COMMAND, 0xffff, 2);
	assert_int_equal(cfg_rd(f, DEV_FN, PCI_COMMAND, 2), 0x0547);
	cfg_wr(f, DEV_FN, PCI_COMMAND, 0, 2);
	assert_int_equal(cfg_rd(f, DEV_FN, PCI_COMMAND, 2), 0);
	/* Scratch bytes: cache line size and interrupt line. */
	cfg_wr(f, DEV_FN, PCI_CACHE_LINE, 0x10, 1);
	cfg_wr(f, DEV_FN, PCI_INTERRUPT_LINE, 0x0b, 1);
	assert_int_equal(cfg_rd(f, DEV_FN, PCI_CACHE_LINE, 1), 0x10);
	assert_int_equal(cfg_rd(f, DEV_FN, PCI_INTERRUPT_LINE, 1), 0x0b);
	/* Header bytes beyond the header and the extended space are read-only 0. */
	cfg_wr(f, DEV_FN, 0x80, 0xffffffff, 4);
	cfg_wr(f, DEV_FN, 0x100, 0xffffffff, 4);
	assert_int_equal(cfg_rd(f, DEV_FN, 0x80, 4), 0);
	assert_int_equal(cfg_rd(f, DEV_FN, 0x100, 4), 0);
	assert_int_equal(cfg_rd(f, DEV_FN, 0xffc, 4), 0);
}

static void test_status_rw1c(void **state)
{
	struct fixture *f = *state;
	add_test_dev(f);
	/* As if the device had seen a master abort and a parity error. */
	pthread_mutex_lock(&f->bus.lock);
	pci_cfg_set(&f->dev, PCI_STATUS, 0x2000 | 0x8000 | PCI_STATUS_CAP_LIST, 2);
	pthread_mutex_unlock(&f->bus.lock);
	/* Writing 0 changes nothing; RO bits ignore 1s. */
	cfg_wr(f, DEV_FN, PCI_STATUS, 0x0000, 2);
	assert_int_equal(cfg_rd(f, DEV_FN, PCI_STATUS, 2), 0xa010);
	cfg_wr(f, DEV_FN, PCI_STATUS, 0x2010, 2);
	assert_int_equal(cfg_rd(f, DEV_FN, PCI_STATUS, 2), 0x8010);
	/* A dword write of command + status: command set, status clears. */
	cfg_wr(f, DEV_FN, PCI_COMMAND, 0xffff0006, 4);
	assert_int_equal(cfg_rd(f, DEV_FN, PCI_COMMAND, 4), 0x00100006);
	/* A 1 written to a clear RW1C bit does not set it. */
	cfg_wr(f, DEV_FN, PCI_STATUS, 0xf900, 2);
	assert_int_equal(cfg_rd(f, DEV_FN, PCI_STATUS, 2), 0x0010);
}

static void test_bar_assignment(void **state)
{
	struct fixture *f = *state;
	add_test_dev(f);
	uint32_t b0 = cfg_rd(f, DEV_FN, PCI_BAR0, 4);
	uint32_t b2 = cfg_rd(f, DEV_FN, PCI_BAR0 + 8, 4), b3 = cfg_rd(f, DEV_FN, PCI_BAR0 + 12, 4);
	uint32_t b4 = cfg_rd(f, DEV_FN, PCI_BAR0 + 16, 4);
	assert_int_equal(b0 & 0xf, 0);                       /* 32-bit, not prefetchable */
	assert_int_equal(b2 & 0xf, PCI_BAR_MEM64_FLAG | PCI_BAR_PREFETCH);
	assert_int_equal(b4 & 0x3, PCI_BAR_IO_FLAG);
	uint64_t m0 = b0 & ~0xfu, m2 = (b2 & ~0xfu) | (uint64_t)b3 << 32, io = b4 & ~0x3u;
	/* Inside the windows, naturally aligned, not overlapping. */
	assert_true(m0 >= BOOT_PCI_MMIO_GPA && m0 + 0x1000 <= BOOT_PCI_MMIO_GPA + BOOT_PCI_MMIO_SIZE);
	assert_true(m2 >= BOOT_PCI_MMIO_GPA && m2 + 0x4000 <= BOOT_PCI_MMIO_GPA + BOOT_PCI_MMIO_SIZE);
	assert_int_equal(m0 % 0x1000, 0);
	assert_int_equal(m2 % 0x4000, 0);
	assert_true(m0 + 0x1000 <= m2 || m2 + 0x4000 <= m0);
	assert_true(io >= BOOT_PCI_IO_BASE && io + 0x20 <= BOOT_PCI_IO_BASE + BOOT_PCI_IO_SIZE);
	assert_int_equal(io % 0x20, 0);
	/* Unused BAR slots are 0 and read-only. */
	cfg_wr(f, DEV_FN, PCI_BAR0 + 4, 0xffffffff, 4);
	cfg_wr(f, DEV_FN, PCI_BAR0 + 20, 0xffffffff, 4);
	assert_int_equal(cfg_rd(f, DEV_FN, PCI_BAR0 + 4, 4), 0);
	assert_int_equal(cfg_rd(f, DEV_FN, PCI_BAR0 + 20, 4), 0);
	/* Not decoded until the guest enables memory / I/O. */
	for (unsigned i = 0; i < PCI_NUM_BARS; i++)
		assert_true(pci_dev_bar_addr(&f->dev, i) == PCI_BAR_UNMAPPED);
	cfg_wr(f, DEV_FN, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO, 2);
	assert_int_equal(pci_dev_bar_addr(&f->dev, 0), m0);
	assert_int_equal(pci_dev_bar_addr(&f->dev, 2), m2);
	assert_true(pci_dev_bar_addr(&f->dev, 3) == PCI_BAR_UNMAPPED);
	assert_int_equal(pci_dev_bar_addr(&f->dev, 4), io);
	assert_true(pci_dev_bar_addr(&f->dev, 9) == PCI_BAR_UNMAPPED);
	/* A second device gets different, still aligned, addresses. */
	struct pci_dev_info info = test_info();
	assert_int_equal(pci_dev_init(&f->extra[0], &info), 0);
	assert_int_equal(pci_bus_add(&f->bus, &f->extra[0], PCI_DEVFN(4, 0)), 0);
	uint64_t n0 = cfg_rd(f, PCI_DEVFN(4, 0), PCI_BAR0, 4) & ~0xfu;
	uint64_t nio = cfg_rd(f, PCI_DEVFN(4, 0), PCI_BAR0 + 16, 4) & ~0x3u;
	assert_true(n0 != m0 && n0 != m2 && n0 % 0x1000 == 0);
	assert_true(nio != io && nio % 0x20 == 0);
}

/* Linux's __pci_read_base: save, write all-ones, read the mask, restore. */
static uint32_t size_bar(struct fixture *f, unsigned off)
{
	uint32_t save = cfg_rd(f, DEV_FN, off, 4);
	cfg_wr(f, DEV_FN, off, 0xffffffff, 4);
	uint32_t mask = cfg_rd(f, DEV_FN, off, 4);
	cfg_wr(f, DEV_FN, off, save, 4);
	assert_int_equal(cfg_rd(f, DEV_FN, off, 4), save);
	return mask;
}

static void test_bar_sizing(void **state)
{
	struct fixture *f = *state;
	add_test_dev(f);
	assert_int_equal(size_bar(f, PCI_BAR0), 0xfffff000);
	assert_int_equal(size_bar(f, PCI_BAR0 + 8), 0xffffc000 | PCI_BAR_MEM64_FLAG | PCI_BAR_PREFETCH);
	assert_int_equal(size_bar(f, PCI_BAR0 + 12), 0xffffffff);
	assert_int_equal(size_bar(f, PCI_BAR0 + 16), 0xffffffe0 | PCI_BAR_IO_FLAG);
	/* Byte-wise sizing gives the same answer. */
	for (unsigned i = 0; i < 4; i++)
		cfg_wr(f, DEV_FN, PCI_BAR0 + i, 0xff, 1);
	assert_int_equal(cfg_rd(f, DEV_FN, PCI_BAR0, 4), 0xfffff000);
	/* Low bits of an address write are dropped (alignment kept). */
	cfg_wr(f, DEV_FN, PCI_BAR0, 0xc0123fff, 4);
	assert_int_equal(cfg_rd(f, DEV_FN, PCI_BAR0, 4), 0xc0123000);
	cfg_wr(f, DEV_FN, PCI_BAR0 + 16, 0x000023ff, 4);
	assert_int_equal(cfg_rd(f, DEV_FN, PCI_BAR0 + 16, 4), 0x000023e1);

	/* A 64-bit BAR larger than 4 GiB is refused; 1 GiB is the limit. */
	struct pci_dev_info info = { .vendor = 1, .bar[0] = { PCI_BAR_MEM64, 1ULL << 30, false, NULL, NULL } };
	assert_int_equal(pci_dev_init(&f->extra[0], &info), 0);
	assert_int_equal(f->extra[0].wmask[PCI_BAR0 + 4], 0xff);
	assert_int_equal(f->extra[0].wmask[PCI_BAR0 + 3], 0xc0);
}

static void test_bad_bar_info(void **state)
{
	struct fixture *f = *state;
	static const struct pci_bar_info bad[][2] = {
		{ { PCI_BAR_MEM32, 0x1800, false, NULL, NULL } },          /* not a power of 2 */
		{ { PCI_BAR_MEM32, 8, false, NULL, NULL } },               /* below 16 */
		{ { PCI_BAR_MEM32, 0, false, NULL, NULL } },
		{ { PCI_BAR_MEM32, 1ULL << 31, false, NULL, NULL } },      /* above 1 GiB */
		{ { PCI_BAR_IO, 512, false, NULL, NULL } },                /* I/O above 256 */
		{ { PCI_BAR_IO, 2, false, NULL, NULL } },
		{ { PCI_BAR_IO, 16, true, NULL, NULL } },                  /* prefetchable I/O */
		{ { PCI_BAR_MEM64, 0x1000, false, NULL, NULL },
		  { PCI_BAR_IO, 16, false, NULL, NULL } },                 /* upper slot taken */
		{ { (enum pci_bar_type)7, 0x1000, false, NULL, NULL } },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pci_dev_info info = { .vendor = 1 };
		info.bar[0] = bad[i][0];
		info.bar[1] = bad[i][1];
		assert_int_equal(pci_dev_init(&f->dev, &info), -EINVAL);
	}
	/* A 64-bit BAR in the last slot has no upper half. */
	struct pci_dev_info info = { .vendor = 1 };
	info.bar[5] = (struct pci_bar_info){ PCI_BAR_MEM64, 0x1000, false, NULL, NULL };
	assert_int_equal(pci_dev_init(&f->dev, &info), -EINVAL);
	assert_int_equal(pci_dev_init(NULL, &info), -EINVAL);
	assert_int_equal(pci_dev_init(&f->dev, NULL), -EINVAL);
}

/* Walk the capability list through config reads; returns the count. */
static unsigned walk_caps(struct fixture *f, uint8_t devfn, unsigned *offs, unsigned max)
{
	unsigned n = 0;
	assert_true(cfg_rd(f, devfn, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	unsigned p = cfg_rd(f, devfn, PCI_CAP_PTR, 1);
	while (p != 0) {
		assert_true(n < max);
		assert_int_equal(p & 3, 0);
		assert_true(p >= PCI_CAP_START && p < PCI_CFG_LEGACY);
		offs[n++] = p;
		p = cfg_rd(f, devfn, p + 1, 1);
	}
	return n;
}

static void test_capabilities(void **state)
{
	struct fixture *f = *state;
	struct pci_dev_info info = test_info();
	assert_int_equal(pci_dev_init(&f->dev, &info), 0);

	/* MSI-X-like: only the two top bits of message control are writable. */
	const uint8_t msix[12] = { 0x11, 0x77, 0x02, 0x00, 0x01, 0, 0, 0, 0x01, 0x08, 0, 0 };
	const uint8_t msix_w[12] = { 0xff, 0xff, 0x00, 0xc0 };
	const uint8_t vndr[5] = { 0x09, 0, 5, 0xaa, 0xbb };
	const uint8_t vndr16[16] = { 0x09, 0, 16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 };
	const uint8_t vndr16_w[16] = { [8] = 0xff, [9] = 0x0f };
	unsigned o1 = 0, o2 = 0, o3 = 0;
	assert_int_equal(pci_dev_add_cap(&f->dev, msix, msix_w, sizeof(msix), &o1), 0);
	assert_int_equal(pci_dev_add_cap(&f->dev, vndr, NULL, sizeof(vndr), &o2), 0);
	assert_int_equal(pci_dev_add_cap(&f->dev, vndr16, vndr16_w, sizeof(vndr16), &o3), 0);
	assert_int_equal(o1, PCI_CAP_START);
	assert_int_equal(o2, o1 + 12);
	assert_int_equal(o3, 0x50 + 4);             /* 0x4c + 5 rounded up */
	assert_int_equal(pci_dev_add_cap(&f->dev, vndr, NULL, 1, NULL), -EINVAL);
	assert_int_equal(pci_dev_add_cap(&f->dev, NULL, NULL, 4, NULL), -EINVAL);
	assert_int_equal(pci_bus_add(&f->bus, &f->dev, DEV_FN), 0);

	unsigned offs[8];
	assert_int_equal(walk_caps(f, DEV_FN, offs, 8), 3);
	assert_int_equal(offs[0], o1);
	assert_int_equal(offs[1], o2);
	assert_int_equal(offs[2], o3);
	assert_int_equal(cfg_rd(f, DEV_FN, o1, 1), 0x11);
	assert_int_equal(cfg_rd(f, DEV_FN, o2, 1), 0x09);
	assert_int_equal(cfg_rd(f, DEV_FN, o3 + 2, 4), 0x03020110);   /* len, 1, 2, 3 */
	assert_int_equal(cfg_rd(f, DEV_FN, o2 + 3, 2), 0xbbaa);

	/* Message control: enable and mask bits stick, table size does not. */
	cfg_wr(f, DEV_FN, o1 + 2, 0xffff, 2);
	assert_int_equal(cfg_rd(f, DEV_FN, o1 + 2, 2), 0xc002);
	/* The id / next bytes stay read-only even with a mask that says otherwise. */
	cfg_wr(f, DEV_FN, o1, 0xffff, 2);
	assert_int_equal(cfg_rd(f, DEV_FN, o1, 2), (o2 << 8) | 0x11);
	cfg_wr(f, DEV_FN, o1 + 4, 0xffffffff, 4);       /* table offset/BIR: RO */
	assert_int_equal(cfg_rd(f, DEV_FN, o1 + 4, 4), 1);
	cfg_wr(f, DEV_FN, o3 + 8, 0xffff, 2);
	assert_int_equal(cfg_rd(f, DEV_FN, o3 + 8, 2), 0x0fff);
	cfg_wr(f, DEV_FN, o2 + 3, 0, 2);
	assert_int_equal(cfg_rd(f, DEV_FN, o2 + 3, 2), 0xbbaa);

	/* The list stops at 0x100. */
	struct pci_dev *d = &f->extra[0];
	assert_int_equal(pci_dev_init(d, &info), 0);
	uint8_t big[0xc0] = { 0x09 };
	assert_int_equal(pci_dev_add_cap(d, big, NULL, sizeof(big), NULL), 0);
	assert_int_equal(pci_dev_add_cap(d, vndr, NULL, sizeof(vndr), NULL), -ENOSPC);
	assert_int_equal(pci_dev_add_cap(d, big, NULL, 0xffffffffu, NULL), -ENOSPC);
}

static void test_windows_full(void **state)
{
	struct fixture *f = *state;
	struct pci_windows w = {
		.mmio_base = 0xe0000000, .mmio_size = 0x8000,
		.io_base = 0x2000, .io_size = 0x40, .ecam_base = BOOT_PCI_ECAM_GPA,
	};
	pci_bus_destroy(&f->bus);
	assert_int_equal(pci_bus_init(&f->bus, &w), 0);
	struct pci_dev_info info = test_info();   /* 4 KiB + 16 KiB MMIO, 32 ports */
	assert_int_equal(pci_dev_init(&f->extra[0], &info), 0);
	assert_int_equal(pci_bus_add(&f->bus, &f->extra[0], PCI_DEVFN(1, 0)), 0);
	assert_int_equal(cfg_rd(f, PCI_DEVFN(1, 0), PCI_BAR0, 4), 0xe0000000);
	assert_int_equal(cfg_rd(f, PCI_DEVFN(1, 0), PCI_BAR0 + 8, 4), 0xe0004000 | 0xc);
	assert_int_equal(cfg_rd(f, PCI_DEVFN(1, 0), PCI_BAR0 + 16, 4), 0x2001);
	/* The next one does not fit: nothing is assigned, nothing is added. */
	assert_int_equal(pci_dev_init(&f->extra[1], &info), 0);
	assert_int_equal(pci_bus_add(&f->bus, &f->extra[1], PCI_DEVFN(2, 0)), -ENOSPC);
	assert_int_equal(cfg_rd(f, PCI_DEVFN(2, 0), 0, 2), 0xffff);
	assert_int_equal(f->extra[1].cfg[PCI_BAR0 + 1], 0);
	/* A device with only an I/O BAR still fits in what is left. */
	struct pci_dev_info io_only = { .vendor = 2, .bar[1] = { PCI_BAR_IO, 0x20, false, NULL, NULL } };
	assert_int_equal(pci_dev_init(&f->extra[2], &io_only), 0);
	assert_int_equal(pci_bus_add(&f->bus, &f->extra[2], PCI_DEVFN(2, 0)), 0);
	assert_int_equal(cfg_rd(f, PCI_DEVFN(2, 0), PCI_BAR0 + 4, 4), 0x2021);

	struct pci_windows wrap = { .mmio_base = UINT64_MAX - 10, .mmio_size = 100 };
	assert_int_equal(pci_bus_init(&f->bus, &wrap), -EINVAL);
	struct pci_windows io_big = { .io_base = 0xff00, .io_size = 0x200 };
	assert_int_equal(pci_bus_init(&f->bus, &io_big), -EINVAL);
	assert_int_equal(pci_bus_init(NULL, NULL), -EINVAL);
	/* The failed inits left the initialised bus alone. */
	assert_int_equal(cfg_rd(f, 0, 0, 2), PCI_HOST_VENDOR);
}

static void test_add_errors(void **state)
{
	struct fixture *f = *state;
	add_test_dev(f);
	struct pci_dev_info info = { .vendor = 3 };
	assert_int_equal(pci_dev_init(&f->extra[0], &info), 0);
	assert_int_equal(pci_bus_add(&f->bus, &f->extra[0], DEV_FN), -EBUSY);
	assert_int_equal(pci_bus_add(&f->bus, &f->extra[0], 0), -EBUSY);       /* host */
	assert_int_equal(pci_bus_add(&f->bus, &f->dev, PCI_DEVFN(9, 0)), -EBUSY); /* twice */
	assert_int_equal(pci_bus_add(NULL, &f->dev, 1), -EINVAL);
	assert_int_equal(pci_bus_add(&f->bus, NULL, 1), -EINVAL);
	/* Host + test device + 30 more fill the table. */
	unsigned added = 2;
	for (unsigned i = 0; i < PCI_MAX_DEVICES; i++) {
		assert_int_equal(pci_dev_init(&f->extra[i], &info), 0);
		int ret = pci_bus_add(&f->bus, &f->extra[i], (uint8_t)(0x40 + i));
		if (added < PCI_MAX_DEVICES) {
			assert_int_equal(ret, 0);
			added++;
		} else {
			assert_int_equal(ret, -ENOSPC);
		}
	}
	assert_int_equal(f->bus.ndev, PCI_MAX_DEVICES);
}

static void test_multifunction(void **state)
{
	struct fixture *f = *state;
	struct pci_dev_info info = { .vendor = 4, .device = 5 };
	assert_int_equal(pci_dev_init(&f->extra[0], &info), 0);
	assert_int_equal(pci_dev_init(&f->extra[1], &info), 0);
	assert_int_equal(pci_dev_init(&f->extra[2], &info), 0);
	/* Function 2 before function 0, then a single-function slot. */
	assert_int_equal(pci_bus_add(&f->bus, &f->extra[0], PCI_DEVFN(5, 2)), 0);
	assert_int_equal(pci_bus_add(&f->bus, &f->extra[1], PCI_DEVFN(5, 0)), 0);
	assert_int_equal(pci_bus_add(&f->bus, &f->extra[2], PCI_DEVFN(6, 0)), 0);
	assert_int_equal(cfg_rd(f, PCI_DEVFN(5, 0), PCI_HEADER_TYPE, 1), PCI_HEADER_MULTIFUNCTION);
	assert_int_equal(cfg_rd(f, PCI_DEVFN(5, 2), 0, 4), 0x00050004);
	assert_int_equal(cfg_rd(f, PCI_DEVFN(5, 1), 0, 4), 0xffffffff);
	assert_int_equal(cfg_rd(f, PCI_DEVFN(6, 0), PCI_HEADER_TYPE, 1), 0);
	assert_int_equal(cfg_rd(f, 0, PCI_HEADER_TYPE, 1), 0);
	/* The multi-function bit is read-only like the rest of the byte. */
	cfg_wr(f, PCI_DEVFN(5, 0), PCI_HEADER_TYPE, 0, 1);
	assert_int_equal(cfg_rd(f, PCI_DEVFN(5, 0), PCI_HEADER_TYPE, 1), PCI_HEADER_MULTIFUNCTION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_host_bridge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ids_and_read_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_rw1c, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_assignment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_sizing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_bar_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capabilities, setup, teardown),
		cmocka_unit_test_setup_teardown(test_windows_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multifunction, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
