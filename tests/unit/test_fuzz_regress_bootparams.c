/*
 * test_fuzz_regress_bootparams.c - regression test for a finding of
 * tests/fuzz/fuzz_bzimage.c: without an initrd, boot_params_build left
 * ramdisk_image and ramdisk_size as the kernel file's header had them.
 *
 * Documentation/arch/x86/boot.rst makes both fields "write (obligatory)"
 * for the boot loader: the kernel takes a nonzero pair as an initrd at
 * that address. Real kernel files carry zeroes there, but a file with
 * other bytes made the guest look for an initrd that the VMM never
 * placed. The loader must write 0/0 when there is no initrd.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../boot/boot.h"

#define RAM (4ull << 20)

static uint8_t image[2 * 512 + 1024];

static void put(size_t off, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		image[off + i] = (uint8_t)(v >> (8 * i));
}

/* A minimal 64-bit bzImage whose header holds a stray ramdisk pair. */
static void make_image(void)
{
	memset(image, 0, sizeof(image));
	image[0x1f1] = 1;                /* setup_sects */
	put(0x1f4, 1024 / 16, 4);        /* syssize */
	put(0x1fe, 0xaa55, 2);
	image[0x200] = 0xeb;
	image[0x201] = 0x6a;             /* the header runs to 0x26c */
	memcpy(image + 0x202, "HdrS", 4);
	put(0x206, 0x020f, 2);
	image[0x211] = 0x01;             /* LOADED_HIGH */
	put(0x218, 0x00100000, 4);       /* ramdisk_image: junk in the file */
	put(0x21c, 0x00001000, 4);       /* ramdisk_size: junk in the file */
	put(0x22c, 0x7fffffff, 4);
	put(0x236, 0x0001, 2);           /* XLF_KERNEL_64 */
	put(0x238, 255, 4);              /* cmdline_size */
	put(0x258, 0x100000, 8);         /* pref_address: fixed at 1 MiB */
	put(0x260, 0x10000, 4);          /* init_size */
}

static uint32_t zp32(const uint8_t *ram, size_t off)
{
	uint32_t v;
	memcpy(&v, ram + BOOT_PARAMS_GPA + off, 4);
	return v;
}

static void test_no_initrd_clears_ramdisk_fields(void **state)
{
	(void)state;
	uint8_t *ram = calloc(1, RAM);
	assert_non_null(ram);
	struct guest_mem gm = { 0 };
	assert_int_equal(guest_mem_add(&gm, 0, RAM, ram), 0);
	make_image();
	struct bzimage bz;
	const char *why;
	assert_int_equal(bzimage_parse(image, sizeof(image), &bz, &why), 0);
	struct boot_kernel k;
	assert_int_equal(boot_kernel_from_bzimage(&k, &bz, &why), 0);
	struct boot_args args = { .cmdline = "console=ttyS0" };
	assert_int_equal(boot_params_build(&gm, &k, &args, &why), 0);
	assert_int_equal(zp32(ram, 0x218), 0); /* ramdisk_image */
	assert_int_equal(zp32(ram, 0x21c), 0); /* ramdisk_size */
	assert_int_equal(zp32(ram, 0x0c0), 0); /* ext_ramdisk_image */
	assert_int_equal(zp32(ram, 0x0c4), 0); /* ext_ramdisk_size */
	free(ram);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_initrd_clears_ramdisk_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
