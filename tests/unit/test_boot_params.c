/*
 * test_boot_params.c - e820_build and the zero page, checked byte by byte
 * at bootparam.h offsets, for a bzImage's copied header and the one made
 * for an ELF vmlinux.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../../boot/boot.h"

#define MiB (1024ULL * 1024)
#define GiB (1024ULL * MiB)

#define T_SETUP_LEN   (5 * 512)
#define T_PM_LEN      4096
#define T_IMAGE_LEN   (T_SETUP_LEN + T_PM_LEN)

static void put16(uint8_t *p, size_t off, uint16_t v) { memcpy(p + off, &v, 2); }
static void put32(uint8_t *p, size_t off, uint32_t v) { memcpy(p + off, &v, 4); }
static void put64(uint8_t *p, size_t off, uint64_t v) { memcpy(p + off, &v, 8); }
static uint16_t get16(const uint8_t *p, size_t off) { uint16_t v; memcpy(&v, p + off, 2); return v; }
static uint32_t get32(const uint8_t *p, size_t off) { uint32_t v; memcpy(&v, p + off, 4); return v; }
static uint64_t get64(const uint8_t *p, size_t off) { uint64_t v; memcpy(&v, p + off, 8); return v; }

static uint8_t image[T_IMAGE_LEN];

static void make_image(uint32_t cmdline_size)
{
	memset(image, 0, sizeof(image));
	image[0x1f1] = 4;
	put32(image, 0x1f4, T_PM_LEN / 16);
	put16(image, 0x1fe, 0xAA55);
	image[0x200] = 0xEB;
	image[0x201] = 0x6A;                   /* header ends at 0x26c */
	memcpy(image + 0x202, "HdrS", 4);
	put16(image, 0x206, 0x020f);
	image[0x211] = 0x01;
	put32(image, 0x22c, 0x7fffffff);
	put32(image, 0x230, 2 * MiB);
	image[0x234] = 1;
	put16(image, 0x236, 0x0003);
	put32(image, 0x238, cmdline_size);
	put64(image, 0x258, 16 * MiB);
	put32(image, 0x260, 8 * MiB);
	/* Junk a loader must not copy: before the header and after its declared end. */
	image[0x1ef] = 0x77;                    /* sentinel */
	image[0x1f0] = 0x77;
	memset(image + 0x26c, 0x77, 0x400 - 0x26c);
}

static void parse(struct bzimage *bz)
{
	const char *why = NULL;
	assert_int_equal(bzimage_parse(image, sizeof(image), bz, &why), 0);
}

/* The boot_kernel bz describes; a static, valid until the next call. */
static const struct boot_kernel *kernel_of(const struct bzimage *bz)
{
	static struct boot_kernel k;
	const char *why = NULL;
	assert_int_equal(boot_kernel_from_bzimage(&k, bz, &why), 0);
	return &k;
}

/* Sorted, non-overlapping, non-empty: what the kernel's e820 sanitizer wants. */
static void check_e820_sane(const struct e820_entry *t, int n)
{
	for (int i = 0; i < n; i++) {
		assert_true(t[i].size > 0);
		if (i > 0)
			assert_true(t[i - 1].addr + t[i - 1].size <= t[i].addr);
	}
}

static uint8_t dummy;   /* e820_build reads only gpa/size: a placeholder host pointer will do */

static void test_e820_512m(void **state)
{
	(void)state;
	struct guest_mem gm = { 0 };
	assert_int_equal(guest_mem_add(&gm, 0, 512 * MiB, &dummy), 0);
	struct e820_entry t[8];
	int n = e820_build(&gm, t, 8);
	assert_int_equal(n, 3);
	check_e820_sane(t, n);
	assert_int_equal(t[0].addr, 0);
	assert_int_equal(t[0].size, 0x9FC00);
	assert_int_equal(t[0].type, E820_RAM);
	assert_int_equal(t[1].addr, 0x9FC00);
	assert_int_equal(t[1].size, 0x100000 - 0x9FC00);
	assert_int_equal(t[1].type, E820_RESERVED);
	assert_int_equal(t[2].addr, 0x100000);
	assert_int_equal(t[2].size, 512 * MiB - 0x100000);
	assert_int_equal(t[2].type, E820_RAM);
}

static void test_e820_4g_split(void **state)
{
	(void)state;
	struct guest_mem gm = { 0 };
	assert_int_equal(guest_mem_add(&gm, 0, 3 * GiB, &dummy), 0);
	assert_int_equal(guest_mem_add(&gm, 4 * GiB, 1 * GiB, &dummy), 0);
	struct e820_entry t[8];
	int n = e820_build(&gm, t, 8);
	assert_int_equal(n, 4);
	check_e820_sane(t, n);
	assert_int_equal(t[2].addr, 0x100000);
	assert_int_equal(t[2].size, 3 * GiB - 0x100000);
	assert_int_equal(t[3].addr, 4 * GiB);
	assert_int_equal(t[3].size, 1 * GiB);
	assert_int_equal(t[3].type, E820_RAM);
	/* Nothing claims the MMIO hole between 3 and 4 GiB. */
	for (int i = 0; i < n; i++)
		assert_false(t[i].addr < 4 * GiB && t[i].addr + t[i].size > 3 * GiB);
}

static void test_e820_sorts_regions(void **state)
{
	(void)state;
	struct guest_mem gm = { 0 };
	assert_int_equal(guest_mem_add(&gm, 0, 64 * MiB, &dummy), 0);
	assert_int_equal(guest_mem_add(&gm, 8 * GiB, 1 * GiB, &dummy), 0);
	assert_int_equal(guest_mem_add(&gm, 4 * GiB, 2 * GiB, &dummy), 0);
	struct e820_entry t[8];
	int n = e820_build(&gm, t, 8);
	assert_int_equal(n, 5);
	check_e820_sane(t, n);
	assert_int_equal(t[3].addr, 4 * GiB);
	assert_int_equal(t[4].addr, 8 * GiB);
}

static void test_e820_errors(void **state)
{
	(void)state;
	struct e820_entry t[8];
	struct guest_mem gm = { 0 };
	assert_int_equal(e820_build(&gm, t, 8), -EINVAL);            /* no RAM */
	assert_int_equal(guest_mem_add(&gm, 0, 1 * MiB, &dummy), 0);
	assert_int_equal(e820_build(&gm, t, 8), -EINVAL);            /* < 2 MiB */
	struct guest_mem hi = { 0 };
	assert_int_equal(guest_mem_add(&hi, 4 * GiB, 1 * GiB, &dummy), 0);
	assert_int_equal(e820_build(&hi, t, 8), -EINVAL);            /* not at 0 */
	struct guest_mem two = { 0 };
	assert_int_equal(guest_mem_add(&two, 0, 2 * MiB, &dummy), 0);
	assert_int_equal(guest_mem_add(&two, 4 * GiB, 1 * GiB, &dummy), 0);
	assert_int_equal(e820_build(&two, t, 3), -ENOSPC);
	assert_int_equal(e820_build(&two, t, 4), 4);
}

static uint8_t *ram;
#define RAM_SIZE (64 * MiB)

static int setup_ram(void **state)
{
	(void)state;
	ram = malloc(RAM_SIZE);
	if (!ram)
		return -1;
	/* Poison: the zero page must come out zeroed apart from what is set. */
	memset(ram, 0xCC, 2 * MiB);
	return 0;
}

static int teardown_ram(void **state)
{
	(void)state;
	free(ram);
	return 0;
}

static void test_zero_page_fields(void **state)
{
	(void)state;
	struct guest_mem gm = { 0 };
	assert_int_equal(guest_mem_add(&gm, 0, RAM_SIZE, ram), 0);
	make_image(2047);
	struct bzimage bz;
	parse(&bz);
	const char *cmd = "console=ttyS0 root=/dev/vda quiet";
	struct boot_args args = {
		.cmdline = cmd, .initrd_gpa = 0x3000000, .initrd_size = 0x12345, .rsdp_gpa = 0xE0000,
	};
	const char *why = "unset";
	assert_int_equal(boot_params_build(&gm, kernel_of(&bz), &args, &why), 0);
	assert_null(why);

	const uint8_t *zp = ram + BOOT_PARAMS_GPA;
	/* Setup header copied from the image at the same offsets. */
	assert_int_equal(zp[0x1f1], 4);
	assert_int_equal(get32(zp, 0x1f4), T_PM_LEN / 16);
	assert_int_equal(get16(zp, 0x1fe), 0xAA55);
	assert_memory_equal(zp + 0x202, "HdrS", 4);
	assert_int_equal(get16(zp, 0x206), 0x020f);
	assert_int_equal(get16(zp, 0x236), 0x0003);
	assert_int_equal(get32(zp, 0x260), 8 * MiB);
	/* What the loader fills in. */
	assert_int_equal(zp[0x210], 0xff);
	assert_int_equal(zp[0x211], 0x81);                 /* LOADED_HIGH kept, CAN_USE_HEAP added */
	assert_int_not_equal(get16(zp, 0x224), 0);          /* heap_end_ptr */
	assert_int_equal(get32(zp, 0x228), BOOT_CMDLINE_GPA);
	assert_int_equal(get32(zp, 0x0c8), 0);              /* ext_cmd_line_ptr */
	assert_int_equal(get32(zp, 0x218), 0x3000000);
	assert_int_equal(get32(zp, 0x21c), 0x12345);
	assert_int_equal(get32(zp, 0x0c0), 0);
	assert_int_equal(get32(zp, 0x0c4), 0);
	assert_int_equal(get64(zp, 0x070), 0xE0000);
	/* e820: count and table. */
	assert_int_equal(zp[0x1e8], 3);
	struct e820_entry t[3];
	memcpy(t, zp + 0x2d0, sizeof(t));
	assert_int_equal(t[0].addr, 0);
	assert_int_equal(t[0].size, BOOT_EBDA_GPA);
	assert_int_equal(t[0].type, E820_RAM);
	assert_int_equal(t[1].type, E820_RESERVED);
	assert_int_equal(t[2].addr, 0x100000);
	assert_int_equal(t[2].size, RAM_SIZE - 0x100000);
	assert_int_equal(get32(zp, 0x2d0 + 20 * 2 + 16), E820_RAM);
	/* Not copied: the sentinel, the byte before the header, anything past its end. */
	assert_int_equal(zp[0x1ef], 0);
	assert_int_equal(zp[0x1f0], 0);
	for (size_t off = 0x26c; off < 0x2d0; off++)
		assert_int_equal(zp[off], 0);
	for (size_t off = 0x2d0 + 3 * 20; off < 0x1000; off++)
		assert_int_equal(zp[off], 0);
	for (size_t off = 0; off < 0x70; off++)
		assert_int_equal(zp[off], 0);
	/* Command line, NUL-terminated. */
	assert_string_equal((const char *)ram + BOOT_CMDLINE_GPA, cmd);
}

static void test_no_initrd_no_cmdline(void **state)
{
	(void)state;
	struct guest_mem gm = { 0 };
	assert_int_equal(guest_mem_add(&gm, 0, RAM_SIZE, ram), 0);
	make_image(2047);
	struct bzimage bz;
	parse(&bz);
	struct boot_args args = { 0 };
	const char *why;
	assert_int_equal(boot_params_build(&gm, kernel_of(&bz), &args, &why), 0);
	const uint8_t *zp = ram + BOOT_PARAMS_GPA;
	assert_int_equal(get32(zp, 0x218), 0);
	assert_int_equal(get32(zp, 0x21c), 0);
	assert_int_equal(get64(zp, 0x070), 0);
	assert_int_equal(ram[BOOT_CMDLINE_GPA], 0);
	assert_int_equal(get32(zp, 0x228), BOOT_CMDLINE_GPA);
}

static void test_cmdline_too_long(void **state)
{
	(void)state;
	struct guest_mem gm = { 0 };
	assert_int_equal(guest_mem_add(&gm, 0, RAM_SIZE, ram), 0);
	make_image(16);
	struct bzimage bz;
	parse(&bz);
	struct boot_args args = { .cmdline = "0123456789abcdefX" };   /* 17 > 16 */
	const char *why = NULL;
	assert_int_equal(boot_params_build(&gm, kernel_of(&bz), &args, &why), -E2BIG);
	assert_string_equal(why, "kernel command line too long");
	/* Rejected before anything was written. */
	assert_int_equal(ram[BOOT_PARAMS_GPA + 0x210], 0xCC);
	assert_int_equal(ram[BOOT_CMDLINE_GPA], 0xCC);

	args.cmdline = "0123456789abcdef";                          /* exactly 16 fits */
	assert_int_equal(boot_params_build(&gm, kernel_of(&bz), &args, &why), 0);
	assert_string_equal((const char *)ram + BOOT_CMDLINE_GPA, args.cmdline);

	/* Beyond BOOT_CMDLINE_MAX even if the kernel claims to take more. */
	make_image(0xffffffff);
	parse(&bz);
	char *huge = malloc(BOOT_CMDLINE_MAX + 1);
	assert_non_null(huge);
	memset(huge, 'a', BOOT_CMDLINE_MAX);
	huge[BOOT_CMDLINE_MAX] = 0;
	args.cmdline = huge;
	assert_int_equal(boot_params_build(&gm, kernel_of(&bz), &args, &why), -E2BIG);
	huge[BOOT_CMDLINE_MAX - 1] = 0;
	assert_int_equal(boot_params_build(&gm, kernel_of(&bz), &args, &why), 0);
	free(huge);
}

/* A hostile header-length byte and a short image buffer stay within bounds. */
static void test_header_copy_bounded(void **state)
{
	(void)state;
	struct guest_mem gm = { 0 };
	assert_int_equal(guest_mem_add(&gm, 0, RAM_SIZE, ram), 0);
	make_image(2047);
	image[0x201] = 0xff;                    /* claims a header up to 0x301 */
	struct bzimage bz;
	parse(&bz);
	struct boot_args args = { .cmdline = "x" };
	const char *why;
	assert_int_equal(boot_params_build(&gm, kernel_of(&bz), &args, &why), 0);
	const uint8_t *zp = ram + BOOT_PARAMS_GPA;
	assert_int_equal(zp[0x2cf], 0x77);      /* copied as far as the e820 table ... */
	assert_int_equal(zp[0x1e8], 3);         /* ... which is intact */
	assert_int_equal(get64(zp, 0x2d0), 0);
	assert_int_equal(get64(zp, 0x2d0 + 8), BOOT_EBDA_GPA);

	/* An exact-size heap copy ending inside the header: ASan would catch an overread. */
	size_t short_len = 0x22c;
	uint8_t *copy = malloc(short_len);
	assert_non_null(copy);
	memcpy(copy, image, short_len);
	struct boot_kernel k = *kernel_of(&bz);
	k.bz.file.head = copy;
	k.bz.file.head_len = short_len;
	assert_int_equal(boot_params_build(&gm, &k, &args, &why), 0);
	assert_int_equal(zp[0x22c], 0);        /* initrd_addr_max was beyond the buffer */
	assert_int_equal(zp[0x210], 0xff);
	/* Too short to hold even the jump byte: refused, not read. */
	k.bz.file.head_len = 0x201;
	why = NULL;
	assert_int_equal(boot_params_build(&gm, &k, &args, &why), -EINVAL);
	assert_non_null(why);
	free(copy);

	struct boot_kernel blank = { 0 };
	why = NULL;
	assert_int_equal(boot_params_build(&gm, &blank, &args, &why), -EINVAL);
	assert_non_null(why);
}

static void test_bad_layout_or_initrd(void **state)
{
	(void)state;
	make_image(2047);
	struct bzimage bz;
	parse(&bz);
	struct boot_args args = { .cmdline = "x" };
	const char *why = NULL;
	/* Too little RAM for the fixed low layout. */
	struct guest_mem small = { 0 };
	assert_int_equal(guest_mem_add(&small, 0, 0x10000, ram), 0);
	assert_true(boot_params_build(&small, kernel_of(&bz), &args, &why) < 0);
	assert_non_null(why);
	/* An initrd outside guest RAM. */
	struct guest_mem gm = { 0 };
	assert_int_equal(guest_mem_add(&gm, 0, RAM_SIZE, ram), 0);
	args.initrd_gpa = RAM_SIZE - 4096;
	args.initrd_size = 8192;
	why = NULL;
	assert_int_equal(boot_params_build(&gm, kernel_of(&bz), &args, &why), -EINVAL);
	assert_non_null(why);
}

/* 3 GiB at 0 plus 1 GiB at 4 GiB, with the initrd in the high region: the ext_ fields carry bits 32+. */
static void test_zero_page_high_memory(void **state)
{
	(void)state;
	const int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
	uint8_t *low = mmap(NULL, 3 * GiB, PROT_READ | PROT_WRITE, flags, -1, 0);
	uint8_t *high = mmap(NULL, 1 * GiB, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (low == MAP_FAILED || high == MAP_FAILED)
		skip();
	struct guest_mem gm = { 0 };
	assert_int_equal(guest_mem_add(&gm, 0, 3 * GiB, low), 0);
	assert_int_equal(guest_mem_add(&gm, 4 * GiB, 1 * GiB, high), 0);
	make_image(2047);
	struct bzimage bz;
	parse(&bz);
	struct boot_args args = {
		.cmdline = "x", .initrd_gpa = 4 * GiB + 0x5000, .initrd_size = 0x100000,
	};
	const char *why;
	assert_int_equal(boot_params_build(&gm, kernel_of(&bz), &args, &why), 0);
	const uint8_t *zp = low + BOOT_PARAMS_GPA;
	assert_int_equal(get32(zp, 0x218), 0x5000);
	assert_int_equal(get32(zp, 0x0c0), 1);
	assert_int_equal(get32(zp, 0x21c), 0x100000);
	assert_int_equal(get32(zp, 0x0c4), 0);
	assert_int_equal(zp[0x1e8], 4);
	assert_int_equal(get64(zp, 0x2d0 + 2 * 20 + 8), 3 * GiB - 0x100000);
	assert_int_equal(get64(zp, 0x2d0 + 3 * 20), 4 * GiB);
	assert_int_equal(get64(zp, 0x2d0 + 3 * 20 + 8), 1 * GiB);
	assert_int_equal(get32(zp, 0x2d0 + 3 * 20 + 16), E820_RAM);
	munmap(low, 3 * GiB);
	munmap(high, 1 * GiB);
}

/*
 * An ELF kernel as boot_kernel_from_vmlinux makes it. The vmlinux is
 * written by hand (vmlinux_parse has its own tests): one segment at 16 MiB.
 */
static const struct boot_kernel *elf_kernel(void)
{
	static uint8_t file[64];
	static struct vmlinux vl = {
		.entry = 16 * MiB, .start = 16 * MiB, .end = 20 * MiB, .nsegs = 1,
		.seg = { { .offset = 0, .paddr = 16 * MiB, .filesz = 64, .memsz = 4 * MiB } },
	};
	static struct boot_kernel k;
	const char *why = NULL;
	boot_file_memory(&vl.file, file, sizeof(file));
	assert_int_equal(boot_kernel_from_vmlinux(&k, &vl, &why), 0);
	return &k;
}

/* The setup header made for an ELF vmlinux: what Linux 6.1 reads, as its header.S has it. */
static void test_zero_page_vmlinux(void **state)
{
	(void)state;
	struct guest_mem gm = { 0 };
	assert_int_equal(guest_mem_add(&gm, 0, RAM_SIZE, ram), 0);
	struct boot_args args = {
		.cmdline = "console=ttyS0", .initrd_gpa = 0x3000000, .initrd_size = 0x4321,
		.rsdp_gpa = 0xE0000,
	};
	const char *why = "unset";
	assert_int_equal(boot_params_build(&gm, elf_kernel(), &args, &why), 0);
	assert_null(why);

	const uint8_t *zp = ram + BOOT_PARAMS_GPA;
	assert_int_equal(get16(zp, 0x1f2), 1);              /* root_flags: ROOT_RDONLY */
	assert_int_equal(get16(zp, 0x1fe), 0xAA55);         /* boot_flag */
	assert_memory_equal(zp + 0x202, "HdrS", 4);
	assert_int_equal(get16(zp, 0x206), 0x020f);         /* version: nonzero, 6.1's */
	assert_int_equal(zp[0x210], 0xff);                  /* type_of_loader */
	assert_int_equal(zp[0x211], 0x01);                  /* LOADED_HIGH; no KASLR_FLAG, no heap */
	assert_int_equal(get32(zp, 0x218), 0x3000000);      /* ramdisk_image */
	assert_int_equal(get32(zp, 0x21c), 0x4321);         /* ramdisk_size */
	assert_int_equal(get32(zp, 0x228), BOOT_CMDLINE_GPA);
	assert_int_equal(get32(zp, 0x22c), 0x7fffffff);     /* initrd_addr_max */
	assert_int_equal(get32(zp, 0x230), 2 * MiB);        /* kernel_alignment */
	assert_int_equal(get32(zp, 0x238), 2047);           /* cmdline_size */
	assert_int_equal(get64(zp, 0x070), 0xE0000);
	assert_int_equal(zp[0x1e8], 3);
	assert_string_equal((const char *)ram + BOOT_CMDLINE_GPA, "console=ttyS0");
	/* Every other header byte is zero: hardware_subarch (PC), setup_data, root_dev, ... */
	for (size_t off = 0x1ef; off < 0x2d0; off++) {
		bool set = off == 0x1f2 || off == 0x1fe || off == 0x1ff ||
			   (off >= 0x202 && off < 0x208) || off == 0x210 || off == 0x211 ||
			   (off >= 0x218 && off < 0x220) || (off >= 0x228 && off < 0x234) ||
			   (off >= 0x238 && off < 0x23c);
		if (!set && zp[off] != 0)
			fail_msg("zero page byte %#zx is %#x", off, zp[off]);
	}
	for (size_t off = 0; off < 0x1e8; off++)
		if (!(off >= 0x70 && off < 0x78) && zp[off] != 0)
			fail_msg("zero page byte %#zx is %#x", off, zp[off]);
}

/* COMMAND_LINE_SIZE is 2048 with the NUL: 2047 characters fit, 2048 do not. */
static void test_cmdline_limit_vmlinux(void **state)
{
	(void)state;
	struct guest_mem gm = { 0 };
	assert_int_equal(guest_mem_add(&gm, 0, RAM_SIZE, ram), 0);
	char line[2049];
	memset(line, 'a', 2048);
	line[2048] = 0;
	struct boot_args args = { .cmdline = line };
	const char *why = NULL;
	assert_int_equal(boot_params_build(&gm, elf_kernel(), &args, &why), -E2BIG);
	assert_string_equal(why, "kernel command line too long");
	assert_int_equal(ram[BOOT_PARAMS_GPA + 0x210], 0xCC);   /* nothing written */
	line[2047] = 0;
	assert_int_equal(boot_params_build(&gm, elf_kernel(), &args, &why), 0);
	assert_int_equal(strlen((const char *)ram + BOOT_CMDLINE_GPA), 2047);

	/* A boot_kernel with broken invariants is refused. */
	struct boot_kernel k = *elf_kernel();
	k.end = BOOT_LOW_RAM_END + 1;
	why = NULL;
	assert_int_equal(boot_params_build(&gm, &k, &args, &why), -EINVAL);
	assert_non_null(why);
	k = *elf_kernel();
	k.entry = BOOT_KERNEL_GPA - 1;
	assert_int_equal(boot_params_build(&gm, &k, &args, &why), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_e820_512m),
		cmocka_unit_test(test_e820_4g_split),
		cmocka_unit_test(test_e820_sorts_regions),
		cmocka_unit_test(test_e820_errors),
		cmocka_unit_test_setup_teardown(test_zero_page_fields, setup_ram, teardown_ram),
		cmocka_unit_test_setup_teardown(test_no_initrd_no_cmdline, setup_ram, teardown_ram),
		cmocka_unit_test_setup_teardown(test_cmdline_too_long, setup_ram, teardown_ram),
		cmocka_unit_test_setup_teardown(test_header_copy_bounded, setup_ram, teardown_ram),
		cmocka_unit_test_setup_teardown(test_bad_layout_or_initrd, setup_ram, teardown_ram),
		cmocka_unit_test(test_zero_page_high_memory),
		cmocka_unit_test_setup_teardown(test_zero_page_vmlinux, setup_ram, teardown_ram),
		cmocka_unit_test_setup_teardown(test_cmdline_limit_vmlinux, setup_ram, teardown_ram),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
