/* test_bzimage.c - bzimage_parse/bzimage_load/boot_kernel_from_bzimage/initrd_load on synthetic images. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../../boot/boot.h"
#include "boot_file_fake.h"

#define MiB (1024ULL * 1024)
#define GiB (1024ULL * MiB)

#define T_SETUP_SECTS 4
#define T_SETUP_LEN   ((T_SETUP_SECTS + 1) * 512)
#define T_PM_LEN      8192
#define T_IMAGE_LEN   (T_SETUP_LEN + T_PM_LEN)
#define T_INIT_SIZE   (8 * MiB)
#define T_PREF        (16 * MiB)
/* Relocatable kernel loaded at 1 MiB runs from pref_address: footprint ends at 24 MiB. */
#define T_KERNEL_END  (T_PREF + T_INIT_SIZE)

static void put16(uint8_t *p, size_t off, uint16_t v) { memcpy(p + off, &v, 2); }
static void put32(uint8_t *p, size_t off, uint32_t v) { memcpy(p + off, &v, 4); }
static void put64(uint8_t *p, size_t off, uint64_t v) { memcpy(p + off, &v, 8); }

/* A minimal but valid 64-bit bzImage: header at the documented offsets, patterned payload. */
static void make_image(uint8_t *img)
{
	memset(img, 0, T_IMAGE_LEN);
	img[0x1f1] = T_SETUP_SECTS;
	put32(img, 0x1f4, T_PM_LEN / 16);         /* syssize */
	put16(img, 0x1fe, 0xAA55);                /* boot_flag */
	img[0x200] = 0xEB;                        /* jmp over the header ... */
	img[0x201] = 0x6A;                        /* ... which ends at 0x26c */
	memcpy(img + 0x202, "HdrS", 4);
	put16(img, 0x206, 0x020f);                /* version */
	img[0x211] = 0x01;                        /* LOADED_HIGH */
	put32(img, 0x22c, 0x7fffffff);            /* initrd_addr_max */
	put32(img, 0x230, 2 * MiB);               /* kernel_alignment */
	img[0x234] = 1;                           /* relocatable_kernel */
	put16(img, 0x236, 0x0003);                /* XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G */
	put32(img, 0x238, 2047);                  /* cmdline_size */
	put64(img, 0x258, T_PREF);                /* pref_address */
	put32(img, 0x260, T_INIT_SIZE);           /* init_size */
	for (size_t i = 0; i < T_PM_LEN; i++)
		img[T_SETUP_LEN + i] = (uint8_t)(i * 7 + 3);
}

static uint8_t image[T_IMAGE_LEN];

static void expect_reject(const void *img, size_t len)
{
	struct bzimage bz;
	memset(&bz, 0x5a, sizeof(bz));
	const char *why = NULL;
	assert_int_equal(bzimage_parse(img, len, &bz, &why), -ENOEXEC);
	assert_non_null(why);
	assert_true(strlen(why) > 10);
	/* A failed parse must not leave a half-filled result behind. */
	assert_int_equal(((uint8_t *)&bz)[0], 0x5a);
}

static void test_parse_valid(void **state)
{
	(void)state;
	make_image(image);
	struct bzimage bz;
	const char *why = "unset";
	assert_int_equal(bzimage_parse(image, T_IMAGE_LEN, &bz, &why), 0);
	assert_null(why);
	assert_ptr_equal(bz.file.head, image);
	assert_int_equal(bz.file.len, T_IMAGE_LEN);
	assert_int_equal(bz.file.head_len, T_IMAGE_LEN);
	assert_int_equal(bz.version, 0x020f);
	assert_int_equal(bz.setup_len, T_SETUP_LEN);
	assert_int_equal(bz.pm_len, T_PM_LEN);
	assert_int_equal(bz.init_size, T_INIT_SIZE);
	assert_int_equal(bz.initrd_addr_max, 0x7fffffff);
	assert_int_equal(bz.cmdline_size, 2047);
	assert_int_equal(bz.xloadflags, 0x0003);
}

static void test_parse_setup_sects_zero_means_four(void **state)
{
	(void)state;
	make_image(image);
	image[0x1f1] = 0;
	struct bzimage bz;
	const char *why;
	assert_int_equal(bzimage_parse(image, T_IMAGE_LEN, &bz, &why), 0);
	assert_int_equal(bz.setup_len, 5 * 512);
	assert_int_equal(bz.pm_len, T_IMAGE_LEN - 5 * 512);
}

static void test_reject_too_short(void **state)
{
	(void)state;
	make_image(image);
	expect_reject(image, 0x100);
	expect_reject(image, 0x263);
	expect_reject(NULL, T_IMAGE_LEN);
}

static void test_reject_bad_magic(void **state)
{
	(void)state;
	make_image(image);
	put16(image, 0x1fe, 0x55AA);
	expect_reject(image, T_IMAGE_LEN);
	make_image(image);
	memcpy(image + 0x202, "HdrZ", 4);
	expect_reject(image, T_IMAGE_LEN);
}

static void test_reject_old_protocol(void **state)
{
	(void)state;
	make_image(image);
	put16(image, 0x206, 0x020b);
	expect_reject(image, T_IMAGE_LEN);
	make_image(image);
	put16(image, 0x206, 0x020c);   /* 2.12 is the oldest accepted */
	struct bzimage bz;
	const char *why;
	assert_int_equal(bzimage_parse(image, T_IMAGE_LEN, &bz, &why), 0);
}

static void test_reject_no_64bit_entry(void **state)
{
	(void)state;
	make_image(image);
	put16(image, 0x236, 0x0002);
	struct bzimage bz;
	const char *why = NULL;
	assert_int_equal(bzimage_parse(image, T_IMAGE_LEN, &bz, &why), -ENOEXEC);
	assert_non_null(why);
	assert_non_null(strstr(why, "XLF_KERNEL_64"));
}

static void test_reject_not_loaded_high(void **state)
{
	(void)state;
	make_image(image);
	image[0x211] = 0x80;
	expect_reject(image, T_IMAGE_LEN);
}

static void test_reject_setup_past_eof(void **state)
{
	(void)state;
	make_image(image);
	image[0x1f1] = 20;                       /* 21 * 512 > file */
	expect_reject(image, T_IMAGE_LEN);
	make_image(image);
	image[0x1f1] = 255;                      /* the largest: 128 KiB of setup */
	expect_reject(image, T_IMAGE_LEN);
	make_image(image);
	put32(image, 0x1f4, 0);
	expect_reject(image, T_SETUP_LEN);       /* no protected-mode part at all */
}

static void test_reject_truncated(void **state)
{
	(void)state;
	make_image(image);
	expect_reject(image, T_IMAGE_LEN - 16);
	make_image(image);
	put32(image, 0x1f4, 0xffffffff);         /* syssize * 16 overflows 32 bits */
	expect_reject(image, T_IMAGE_LEN);
}

static void test_reject_unusable_placement(void **state)
{
	(void)state;
	make_image(image);
	put64(image, 0x258, 0xfffffffffff00000ULL);   /* would wrap when aligned */
	expect_reject(image, T_IMAGE_LEN);
	make_image(image);
	put32(image, 0x260, 0xffffffff);               /* 16 MiB + 4 GiB > low RAM */
	expect_reject(image, T_IMAGE_LEN);
	make_image(image);
	image[0x234] = 0;                              /* fixed kernel at 0x1000 */
	put64(image, 0x258, 0x1000);
	expect_reject(image, T_IMAGE_LEN);
}

/* Every prefix of a valid image and every single-byte header corruption is handled. */
static void test_parse_never_overreads(void **state)
{
	(void)state;
	make_image(image);
	for (size_t len = 0; len <= T_IMAGE_LEN; len++) {
		/* Exact-size heap copies let ASan catch a read one past the end. */
		uint8_t *copy = malloc(len ? len : 1);
		assert_non_null(copy);
		memcpy(copy, image, len);
		struct bzimage bz;
		const char *why = NULL;
		int rc = bzimage_parse(copy, len, &bz, &why);
		if (len == T_IMAGE_LEN)
			assert_int_equal(rc, 0);
		else
			assert_true(rc == -ENOEXEC && why != NULL);
		free(copy);
	}
	srand(1);
	for (int iter = 0; iter < 5000; iter++) {
		make_image(image);
		size_t off = 0x1f1 + (size_t)rand() % (0x270 - 0x1f1);
		image[off] = (uint8_t)rand();
		struct bzimage bz;
		const char *why = NULL;
		int rc = bzimage_parse(image, T_IMAGE_LEN, &bz, &why);
		assert_true(rc == 0 || (rc == -ENOEXEC && why != NULL));
		if (rc == 0) {
			assert_true(bz.setup_len + bz.pm_len == T_IMAGE_LEN);
			assert_true(bz.xloadflags & 1);
		}
	}
}

static uint8_t *ram;

static int setup_ram(void **state)
{
	(void)state;
	ram = calloc(1, 64 * MiB);
	return ram ? 0 : -1;
}

static int teardown_ram(void **state)
{
	(void)state;
	free(ram);
	ram = NULL;
	return 0;
}

static void parse_ok(struct bzimage *bz)
{
	const char *why = NULL;
	assert_int_equal(bzimage_parse(image, T_IMAGE_LEN, bz, &why), 0);
}

/* The boot_kernel bz describes; a static, valid until the next call. */
static const struct boot_kernel *kernel_of(const struct bzimage *bz)
{
	static struct boot_kernel k;
	const char *why = "unset";
	assert_int_equal(boot_kernel_from_bzimage(&k, bz, &why), 0);
	assert_null(why);
	return &k;
}

static void test_boot_kernel_from_bzimage(void **state)
{
	(void)state;
	make_image(image);
	struct bzimage bz;
	parse_ok(&bz);
	const struct boot_kernel *k = kernel_of(&bz);
	assert_int_equal(k->kind, BOOT_KERNEL_BZIMAGE);
	assert_int_equal(k->entry, BOOT_KERNEL_GPA + 0x200);   /* startup_64 */
	assert_int_equal(k->end, T_KERNEL_END);
	assert_int_equal(k->initrd_addr_max, 0x7fffffff);
	assert_int_equal(k->cmdline_size, 2047);
	assert_ptr_equal(k->bz.file.head, bz.file.head);
	assert_int_equal(k->bz.file.len, bz.file.len);
	assert_int_equal(k->bz.setup_len, bz.setup_len);
	assert_int_equal(k->bz.pm_len, bz.pm_len);

	/* Anything bzimage_parse did not return is refused. */
	struct boot_kernel out;
	const char *why = NULL;
	struct bzimage blank = { 0 };
	assert_int_equal(boot_kernel_from_bzimage(&out, &blank, &why), -EINVAL);
	assert_non_null(why);
	struct bzimage bad = bz;
	bad.pm_len--;
	assert_int_equal(boot_kernel_from_bzimage(&out, &bad, &why), -EINVAL);
}

static void test_load_places_payload(void **state)
{
	(void)state;
	struct guest_mem gm = { 0 };
	assert_int_equal(guest_mem_add(&gm, 0, 64 * MiB, ram), 0);
	make_image(image);
	struct bzimage bz;
	parse_ok(&bz);
	const char *why = "unset";
	assert_int_equal(bzimage_load(&gm, &bz, &why), 0);
	assert_null(why);
	assert_memory_equal(ram + BOOT_KERNEL_GPA, image + T_SETUP_LEN, T_PM_LEN);
	/* Nothing of the real-mode setup lands below or after the payload. */
	assert_int_equal(ram[BOOT_KERNEL_GPA - 1], 0);
	assert_int_equal(ram[BOOT_KERNEL_GPA + T_PM_LEN], 0);

	/* boot_kernel_load loads a bzImage as bzimage_load does. */
	struct boot_kernel k;
	assert_int_equal(boot_kernel_from_bzimage(&k, &bz, &why), 0);
	memset(ram + BOOT_KERNEL_GPA, 0, T_PM_LEN);
	assert_int_equal(boot_kernel_load(&gm, &k, &why), 0);
	assert_memory_equal(ram + BOOT_KERNEL_GPA, image + T_SETUP_LEN, T_PM_LEN);
	struct boot_kernel blank = { 0 };
	assert_int_equal(boot_kernel_load(&gm, &blank, &why), -EINVAL);
	assert_non_null(why);
}

static void test_load_rejects_small_memory(void **state)
{
	(void)state;
	make_image(image);
	struct bzimage bz;
	parse_ok(&bz);
	const char *why = NULL;
	struct guest_mem gm = { 0 };
	/* The payload fits in 16 MiB but the kernel decompresses at 16..24 MiB. */
	assert_int_equal(guest_mem_add(&gm, 0, 16 * MiB, ram), 0);
	assert_int_equal(bzimage_load(&gm, &bz, &why), -ENOMEM);
	assert_string_equal(why, "guest memory too small for this kernel");
	assert_int_equal(ram[BOOT_KERNEL_GPA], 0);   /* nothing copied */

	struct guest_mem tiny = { 0 };
	assert_int_equal(guest_mem_add(&tiny, 0, 1 * MiB, ram), 0);
	assert_int_equal(bzimage_load(&tiny, &bz, &why), -ENOMEM);

	/* A fixed kernel at 1 MiB needs only 1 + 8 MiB: 16 MiB is enough. */
	image[0x234] = 0;
	put64(image, 0x258, BOOT_KERNEL_GPA);
	parse_ok(&bz);
	assert_int_equal(bzimage_load(&gm, &bz, &why), 0);
	assert_memory_equal(ram + BOOT_KERNEL_GPA, image + T_SETUP_LEN, T_PM_LEN);
}

static uint8_t initrd[3 * 4096 + 123];

/*
 * The edge's form: the setup part in memory, the payload and the initrd
 * read through their files, each in one read of exactly its bytes; a file
 * cut short after it was opened fails the load with the read's error.
 */
static void test_load_through_file(void **state)
{
	(void)state;
	struct guest_mem gm = { 0 };
	assert_int_equal(guest_mem_add(&gm, 0, 64 * MiB, ram), 0);
	make_image(image);
	struct fake_file ff;
	struct boot_file f;
	fake_file_open(&ff, &f, image, T_IMAGE_LEN, T_SETUP_LEN);
	struct bzimage bz;
	const char *why = "unset";
	assert_int_equal(bzimage_parse_file(&f, &bz, &why), 0);
	assert_int_equal(ff.reads, 0);          /* parsing reads the head only */
	assert_int_equal(bz.pm_len, T_PM_LEN);  /* sized by the file, not the head */
	assert_int_equal(bzimage_load(&gm, &bz, &why), 0);
	assert_int_equal(ff.reads, 1);
	assert_int_equal(ff.last_off, T_SETUP_LEN);
	assert_int_equal(ff.last_n, T_PM_LEN);
	assert_memory_equal(ram + BOOT_KERNEL_GPA, image + T_SETUP_LEN, T_PM_LEN);
	ff.cut = T_IMAGE_LEN - 1;
	assert_int_equal(bzimage_load(&gm, &bz, &why), -EIO);
	assert_non_null(strstr(why, "reading the kernel file failed"));

	/* The initrd: one read of the whole file, to where initrd_load puts it. */
	ff.cut = T_IMAGE_LEN;
	const struct boot_kernel *k = kernel_of(&bz);
	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i ^ 0x3c);
	struct fake_file rf;
	struct boot_file r;
	fake_file_open(&rf, &r, initrd, sizeof(initrd), 0);
	uint64_t gpa = 0, mem_gpa = 0;
	assert_int_equal(initrd_load_file(&gm, k, &r, &gpa, &why), 0);
	assert_int_equal(rf.reads, 1);
	assert_int_equal(rf.bytes, sizeof(initrd));
	assert_memory_equal(ram + gpa, initrd, sizeof(initrd));
	assert_int_equal(initrd_load(&gm, k, initrd, sizeof(initrd), &mem_gpa, &why), 0);
	assert_int_equal(gpa, mem_gpa);
	rf.cut = 0;
	assert_int_equal(initrd_load_file(&gm, k, &r, &gpa, &why), -EIO);
	assert_non_null(strstr(why, "reading the initrd file failed"));

	/* A head without the whole setup header is the caller's bug, not the file's. */
	fake_file_open(&ff, &f, image, T_IMAGE_LEN, 0x263);
	assert_int_equal(bzimage_parse_file(&f, &bz, &why), -EINVAL);
	assert_int_equal(ff.reads, 0);
}

static void test_initrd_placement(void **state)
{
	(void)state;
	struct guest_mem gm = { 0 };
	assert_int_equal(guest_mem_add(&gm, 0, 64 * MiB, ram), 0);
	make_image(image);
	struct bzimage bz;
	parse_ok(&bz);
	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i ^ 0xa5);

	uint64_t gpa = 0;
	const char *why = "unset";
	assert_int_equal(initrd_load(&gm, kernel_of(&bz), initrd, sizeof(initrd), &gpa, &why), 0);
	assert_null(why);
	assert_int_equal(gpa & 0xfff, 0);
	assert_true(gpa + sizeof(initrd) <= 64 * MiB);
	assert_true(gpa + sizeof(initrd) + 4096 > 64 * MiB);   /* as high as possible */
	assert_true(gpa >= T_KERNEL_END);
	assert_memory_equal(ram + gpa, initrd, sizeof(initrd));

	/* initrd_addr_max is the last byte the initrd may use. */
	put32(image, 0x22c, 32 * MiB - 1);
	parse_ok(&bz);
	assert_int_equal(initrd_load(&gm, kernel_of(&bz), initrd, sizeof(initrd), &gpa, &why), 0);
	assert_int_equal(gpa & 0xfff, 0);
	assert_true(gpa + sizeof(initrd) <= 32 * MiB);
	assert_true(gpa >= T_KERNEL_END);
}

static void test_initrd_rejected(void **state)
{
	(void)state;
	struct guest_mem gm = { 0 };
	assert_int_equal(guest_mem_add(&gm, 0, 64 * MiB, ram), 0);
	make_image(image);
	struct bzimage bz;
	parse_ok(&bz);
	uint64_t gpa = 0x1234;
	const char *why = NULL;

	/* 40 MiB + 24 MiB of kernel footprint: one page too many after alignment. */
	uint8_t *big = calloc(1, 40 * MiB + 1);
	assert_non_null(big);
	assert_int_equal(initrd_load(&gm, kernel_of(&bz), big, 40 * MiB + 1, &gpa, &why), -ENOMEM);
	assert_non_null(why);
	assert_int_equal(gpa, 0x1234);
	assert_int_equal(initrd_load(&gm, kernel_of(&bz), big, 40 * MiB, &gpa, &why), 0);
	assert_int_equal(gpa, T_KERNEL_END);
	free(big);

	/* Larger than the whole address limit: no underflow. */
	put32(image, 0x22c, 0xfff);
	parse_ok(&bz);
	assert_int_equal(initrd_load(&gm, kernel_of(&bz), initrd, sizeof(initrd), &gpa, &why), -ENOMEM);

	assert_int_equal(initrd_load(&gm, kernel_of(&bz), initrd, 0, &gpa, &why), -EINVAL);
	struct boot_kernel blank = { 0 };
	assert_int_equal(initrd_load(&gm, &blank, initrd, 16, &gpa, &why), -EINVAL);
	assert_non_null(why);
}

/* Low RAM larger than BOOT_LOW_RAM_END: the initrd still ends below 3 GiB. */
static void test_initrd_below_low_ram_end(void **state)
{
	(void)state;
	uint64_t size = BOOT_LOW_RAM_END + 256 * MiB;
	void *big = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (big == MAP_FAILED)
		skip();
	struct guest_mem gm = { 0 };
	assert_int_equal(guest_mem_add(&gm, 0, size, big), 0);
	make_image(image);
	put32(image, 0x22c, 0xffffffff);
	struct bzimage bz;
	parse_ok(&bz);
	uint64_t gpa = 0;
	const char *why;
	assert_int_equal(initrd_load(&gm, kernel_of(&bz), initrd, sizeof(initrd), &gpa, &why), 0);
	assert_true(gpa + sizeof(initrd) <= BOOT_LOW_RAM_END);
	assert_true(gpa + sizeof(initrd) + 4096 > BOOT_LOW_RAM_END);
	assert_memory_equal((uint8_t *)big + gpa, initrd, sizeof(initrd));
	munmap(big, size);
}

/*
 * Optional: a real Debian kernel from the test bed, if one has been
 * fetched; make runs the tests from the project root.
 */
static void test_real_vmlinuz(void **state)
{
	(void)state;
	static const char *const patterns[] = {
		"build/testbed/vmlinuz*",
		"build/testbed/*/vmlinuz*",
		"build/testbed/*/*/vmlinuz*",
	};
	glob_t g;
	const char *path = NULL;
	int globbed = 0;
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]) && !path; i++) {
		if (glob(patterns[i], 0, NULL, &g) == 0) {
			globbed = 1;
			path = g.gl_pathv[0];
		} else {
			globfree(&g);
		}
	}
	if (!path)
		skip();
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	size_t cap = 256 * MiB, len = 0;
	uint8_t *buf = malloc(cap);
	assert_non_null(buf);
	len = fread(buf, 1, cap, f);
	fclose(f);

	struct bzimage bz;
	const char *why = NULL;
	int rc = bzimage_parse(buf, len, &bz, &why);
	if (rc)
		print_message("%s: %s\n", path, why);
	assert_int_equal(rc, 0);
	assert_true(bz.version >= 0x020c);
	assert_true(bz.xloadflags & 1);
	assert_true(bz.init_size >= bz.pm_len);
	assert_true(bz.cmdline_size >= 255);

	uint64_t size = 512 * MiB;
	uint8_t *mem = calloc(1, size);
	assert_non_null(mem);
	struct guest_mem gm = { 0 };
	assert_int_equal(guest_mem_add(&gm, 0, size, mem), 0);
	assert_int_equal(bzimage_load(&gm, &bz, &why), 0);
	assert_memory_equal(mem + BOOT_KERNEL_GPA, buf + bz.setup_len, bz.pm_len);
	free(mem);
	free(buf);
	if (globbed)
		globfree(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_setup_sects_zero_means_four),
		cmocka_unit_test(test_reject_too_short),
		cmocka_unit_test(test_reject_bad_magic),
		cmocka_unit_test(test_reject_old_protocol),
		cmocka_unit_test(test_reject_no_64bit_entry),
		cmocka_unit_test(test_reject_not_loaded_high),
		cmocka_unit_test(test_reject_setup_past_eof),
		cmocka_unit_test(test_reject_truncated),
		cmocka_unit_test(test_reject_unusable_placement),
		cmocka_unit_test(test_parse_never_overreads),
		cmocka_unit_test(test_boot_kernel_from_bzimage),
		cmocka_unit_test_setup_teardown(test_load_places_payload, setup_ram, teardown_ram),
		cmocka_unit_test_setup_teardown(test_load_rejects_small_memory, setup_ram, teardown_ram),
		cmocka_unit_test_setup_teardown(test_load_through_file, setup_ram, teardown_ram),
		cmocka_unit_test_setup_teardown(test_initrd_placement, setup_ram, teardown_ram),
		cmocka_unit_test_setup_teardown(test_initrd_rejected, setup_ram, teardown_ram),
		cmocka_unit_test(test_initrd_below_low_ram_end),
		cmocka_unit_test(test_real_vmlinuz),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
