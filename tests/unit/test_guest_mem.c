/* test_guest_mem.c - region table and bounds-checked guest memory access. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../vmm/guest_mem.h"
#include "../../vmm/vm.h"

#define TOP_GPA 0xffffffffffffe000ULL /* a region just below the top */

static struct guest_mem gm;
/* Separate heap blocks, so ASan catches any access that leaves a region. */
static uint8_t *lo, *mid, *hi, *top;

static int setup(void **state)
{
	(void)state;
	memset(&gm, 0, sizeof(gm));
	lo = calloc(1, 0x1000);
	mid = calloc(1, 0x1000);
	hi = calloc(1, 0x2000);
	top = calloc(1, 0x1000);
	assert_int_equal(guest_mem_add(&gm, 0, 0x1000, lo), 0);
	assert_int_equal(guest_mem_add(&gm, 0x1000, 0x1000, mid), 0); /* adjacent */
	assert_int_equal(guest_mem_add(&gm, 0x100000, 0x2000, hi), 0);
	assert_int_equal(guest_mem_add(&gm, TOP_GPA, 0x1000, top), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(lo);
	free(mid);
	free(hi);
	free(top);
	return 0;
}

static void test_add(void **state)
{
	(void)state;
	static struct guest_mem g;
	static uint8_t buf[16];
	memset(&g, 0, sizeof(g));

	assert_int_equal(guest_mem_add(&g, 0x1000, 0x1000, buf), 0);
	/* Overlaps of every shape. */
	assert_int_equal(guest_mem_add(&g, 0x1000, 0x1000, buf), -EINVAL);
	assert_int_equal(guest_mem_add(&g, 0x0800, 0x1000, buf), -EINVAL);
	assert_int_equal(guest_mem_add(&g, 0x1fff, 0x10, buf), -EINVAL);
	assert_int_equal(guest_mem_add(&g, 0x1800, 0x10, buf), -EINVAL);
	assert_int_equal(guest_mem_add(&g, 0, 0x10000, buf), -EINVAL);
	/* Size 0, wrap, NULL host. */
	assert_int_equal(guest_mem_add(&g, 0x10000, 0, buf), -EINVAL);
	assert_int_equal(guest_mem_add(&g, UINT64_MAX, 2, buf), -EINVAL);
	assert_int_equal(guest_mem_add(&g, 0x10000, UINT64_MAX, buf), -EINVAL);
	assert_int_equal(guest_mem_add(&g, 0x10000, 0x10, NULL), -EINVAL);
	assert_int_equal(g.nregions, 1);
	/* Adjacent regions are fine, until the table is full. */
	assert_int_equal(guest_mem_add(&g, 0x0, 0x1000, buf), 0);
	assert_int_equal(guest_mem_add(&g, 0x2000, 0x1000, buf), 0);
	assert_int_equal(guest_mem_add(&g, 0x3000, 0x1000, buf), 0);
	assert_int_equal(guest_mem_add(&g, 0x4000, 0x1000, buf), -ENOSPC);
	assert_int_equal(g.nregions, GUEST_MEM_MAX_REGIONS);
	assert_int_equal(guest_mem_total(&g), 0x4000);
}

static void test_ptr_bounds(void **state)
{
	(void)state;
	assert_ptr_equal(guest_mem_ptr(&gm, 0, 1), lo);
	assert_ptr_equal(guest_mem_ptr(&gm, 0x10, 0x10), lo + 0x10);
	/* len 0 means "the byte at gpa must exist". */
	assert_ptr_equal(guest_mem_ptr(&gm, 0xfff, 0), lo + 0xfff);
	assert_null(guest_mem_ptr(&gm, 0x2000, 0));
	/* Ranges ending exactly at a region's end, and one byte further. */
	assert_ptr_equal(guest_mem_ptr(&gm, 0, 0x1000), lo);
	assert_ptr_equal(guest_mem_ptr(&gm, 0xff8, 8), lo + 0xff8);
	assert_ptr_equal(guest_mem_ptr(&gm, 0x101ff0, 0x10), hi + 0x1ff0);
	assert_null(guest_mem_ptr(&gm, 0x101ff0, 0x11));
	assert_null(guest_mem_ptr(&gm, 0, 0x1001));
	/* Two adjacent regions are not one: a straddling range fails. */
	assert_null(guest_mem_ptr(&gm, 0xfff, 2));
	assert_null(guest_mem_ptr(&gm, 0, 0x2000));
	assert_ptr_equal(guest_mem_ptr(&gm, 0x1000, 0x1000), mid);
	/* Holes. */
	assert_null(guest_mem_ptr(&gm, 0x2000, 1));
	assert_null(guest_mem_ptr(&gm, 0xfffff, 1));
	assert_null(guest_mem_ptr(&gm, 0xfffff, 2)); /* starts in a hole */
	assert_null(guest_mem_ptr(&gm, 0x102000, 1));
	/* Huge lengths and wraparound. */
	assert_null(guest_mem_ptr(&gm, 0, UINT64_MAX));
	assert_null(guest_mem_ptr(&gm, 0x100000, UINT64_MAX));
	assert_null(guest_mem_ptr(&gm, 0x100001, UINT64_MAX - 0x100000)); /* sum == 0 */
	assert_null(guest_mem_ptr(&gm, TOP_GPA + 0x10, UINT64_MAX - 0xf));
	assert_null(guest_mem_ptr(&gm, TOP_GPA + 0xfff, 0x2000));
	assert_ptr_equal(guest_mem_ptr(&gm, TOP_GPA + 0xfff, 1), top + 0xfff);
	assert_null(guest_mem_ptr(&gm, TOP_GPA + 0x1000, 1));
	assert_null(guest_mem_ptr(&gm, UINT64_MAX, 1));
	assert_null(guest_mem_ptr(&gm, UINT64_MAX, UINT64_MAX));
}

static void test_region(void **state)
{
	(void)state;
	const struct guest_region *r = guest_mem_region(&gm, 0x1fff);
	assert_non_null(r);
	assert_int_equal(r->gpa, 0x1000);
	assert_ptr_equal(r->host, mid);
	r = guest_mem_region(&gm, 0x100000);
	assert_non_null(r);
	assert_int_equal(r->size, 0x2000);
	assert_null(guest_mem_region(&gm, 0x2000));
	assert_null(guest_mem_region(&gm, UINT64_MAX));
	assert_int_equal(guest_mem_total(&gm), 0x1000 + 0x1000 + 0x2000 + 0x1000);

	static struct guest_mem empty;
	memset(&empty, 0, sizeof(empty));
	assert_null(guest_mem_region(&empty, 0));
	assert_null(guest_mem_ptr(&empty, 0, 1));
	assert_int_equal(guest_mem_total(&empty), 0);
}

static void test_read_write(void **state)
{
	(void)state;
	uint8_t buf[32], out[32];
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(0x80 + i);

	assert_int_equal(guest_mem_write(&gm, 0x100ff0, buf, sizeof(buf)), 0);
	assert_memory_equal(hi + 0xff0, buf, sizeof(buf));
	memset(out, 0, sizeof(out));
	assert_int_equal(guest_mem_read(&gm, 0x100ff0, out, sizeof(out)), 0);
	assert_memory_equal(out, buf, sizeof(buf));

	/* Ending exactly at the end works; one byte over fails and copies nothing. */
	assert_int_equal(guest_mem_write(&gm, 0xfe0, buf, 32), 0);
	memset(out, 0xcc, sizeof(out));
	assert_int_equal(guest_mem_read(&gm, 0xfe1, out, 32), -EFAULT);
	assert_int_equal(out[0], 0xcc);
	mid[0] = 0x11;
	assert_int_equal(guest_mem_write(&gm, 0xff0, buf, 32), -EFAULT);
	assert_int_equal(mid[0], 0x11);
	assert_int_equal(lo[0xff0], buf[0x10]); /* untouched by the failed write */
	assert_int_equal(guest_mem_read(&gm, 0x5000, out, 1), -EFAULT);
	assert_int_equal(guest_mem_write(&gm, UINT64_MAX, buf, 1), -EFAULT);
	assert_int_equal(guest_mem_read(&gm, 0x100000, out, SIZE_MAX), -EFAULT);
	assert_int_equal(guest_mem_read(&gm, 0x100000, out, 0), 0);

	/* Little-endian helpers. */
	uint64_t v = 0;
	memcpy(hi + 8, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	assert_int_equal(guest_mem_read_u64(&gm, 0x100008, &v), 0);
	assert_int_equal(v, 0x0807060504030201ULL);
	assert_int_equal(guest_mem_write_u32(&gm, 0x100010, 0xdeadbeef), 0);
	assert_memory_equal(hi + 0x10, "\xef\xbe\xad\xde", 4);
	v = 42;
	assert_int_equal(guest_mem_read_u64(&gm, 0x1ffc, &v), -EFAULT);
	assert_int_equal(v, 42);
	assert_int_equal(guest_mem_write_u32(&gm, 0xffe, 1), -EFAULT);
	assert_int_equal(guest_mem_read_u64(&gm, TOP_GPA + 0xff8, &v), 0);
	assert_int_equal(guest_mem_write_u32(&gm, TOP_GPA + 0xffd, 1), -EFAULT);
}

/*
 * --crash-dump: every non-zero page lands at file offset = GPA, zero pages
 * and the gaps between regions read back as zeros without being written,
 * and the file ends where RAM ends.
 */
static void test_dump(void **state)
{
	(void)state;
	struct guest_mem d = { 0 };
	uint8_t *a = calloc(1, 0x3000), *b = calloc(1, 0x1800);
	assert_non_null(a);
	assert_non_null(b);
	memset(a + 0x1000, 0xa5, 0x1000); /* only the middle page of region a */
	a[0x1fff] = 0x5a;
	memset(b, 0x3c, 0x1800);          /* a partial last page */
	assert_int_equal(guest_mem_add(&d, 0, 0x3000, a), 0);
	assert_int_equal(guest_mem_add(&d, 0x200000, 0x1800, b), 0);

	int fd = memfd_create("dump", 0); /* tmpfs: holes are real */
	assert_true(fd >= 0);
	assert_int_equal(guest_mem_dump_fd(&d, fd), 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 0x201800);
	/* 3 pages of data (one in a, two in b), not 0x201800 bytes. */
	assert_true((uint64_t)st.st_blocks * 512 <= 4 * 0x1000);

	uint8_t *img = malloc(0x201800);
	assert_non_null(img);
	assert_int_equal(pread(fd, img, 0x201800, 0), 0x201800);
	assert_memory_equal(img, a, 0x3000);
	for (size_t i = 0x3000; i < 0x200000; i++)
		if (img[i] != 0)
			fail_msg("byte 0x%zx between regions is 0x%x", i, img[i]);
	assert_memory_equal(img + 0x200000, b, 0x1800);
	free(img);
	close(fd);

	/* A file that cannot be written is an error, not a crash. */
	assert_int_equal(guest_mem_dump_fd(&d, -1), -EBADF);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add),
		cmocka_unit_test_setup_teardown(test_ptr_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_region, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_write, setup, teardown),
		cmocka_unit_test(test_dump),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
