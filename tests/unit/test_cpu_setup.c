/* test_cpu_setup.c - entry page tables, GDT and the reset vector stub. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../boot/boot.h"

#define MEM (2u << 20)

static uint8_t *ram;
static struct guest_mem gm;

static int setup(void **state)
{
	(void)state;
	ram = calloc(1, MEM);
	memset(&gm, 0, sizeof(gm));
	return ram && guest_mem_add(&gm, 0, MEM, ram) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(ram);
	return 0;
}

static uint64_t rd64(uint64_t gpa)
{
	uint64_t v;
	assert_int_equal(guest_mem_read_u64(&gm, gpa, &v), 0);
	return v;
}

/* Translate va through the guest's 4-level tables the way the MMU would. */
static uint64_t walk(uint64_t va)
{
	uint64_t pml4e = rd64(BOOT_PML4_GPA + ((va >> 39) & 511) * 8);
	assert_true(pml4e & 1);
	uint64_t pdpte = rd64((pml4e & ~0xfffULL) + ((va >> 30) & 511) * 8);
	assert_true(pdpte & 1);
	assert_false(pdpte & 0x80);
	uint64_t pde = rd64((pdpte & ~0xfffULL) + ((va >> 21) & 511) * 8);
	assert_true((pde & 0x83) == 0x83); /* present, writable, 2 MiB */
	return (pde & ~0x1fffffULL) | (va & 0x1fffff);
}

static void test_identity_map(void **state)
{
	(void)state;
	assert_int_equal(boot_setup_page_tables(&gm), 0);
	const uint64_t va[] = { 0, BOOT_PARAMS_GPA, BOOT_KERNEL_GPA + 0x200, 0x12345678,
				BOOT_LOW_RAM_END - 1, 0xFFFFFFFFULL };
	for (size_t i = 0; i < sizeof(va) / sizeof(va[0]); i++)
		assert_true(walk(va[i]) == va[i]);
	/* Nothing is mapped beyond 4 GiB: PML4 entry 0 only, PDPT entries 0-3. */
	assert_true(rd64(BOOT_PDPT_GPA + 4 * 8) == 0);
	assert_true(rd64(BOOT_PML4_GPA + 8) == 0);
}

static void test_gdt(void **state)
{
	(void)state;
	assert_int_equal(boot_setup_page_tables(&gm), 0);
	uint64_t code = rd64(BOOT_GDT_GPA + BOOT_SEL_CODE);
	uint64_t data = rd64(BOOT_GDT_GPA + BOOT_SEL_DATA);
	assert_true(code & (1ULL << 47));  /* present */
	assert_true(code & (1ULL << 53));  /* L: 64-bit code */
	assert_true(code & (1ULL << 43));  /* executable */
	assert_false(data & (1ULL << 43)); /* data: not executable */
	assert_true(data & (1ULL << 41));  /* writable */
}

static void test_reset_vector(void **state)
{
	(void)state;
	assert_int_equal(boot_setup_reset_vector(&gm), 0);
	const uint8_t *p = ram + BOOT_RESET_VECTOR_GPA;
	/* mov al, 0xfe; out 0x64, al: the i8042 reset the VMM turns into reboot. */
	assert_int_equal(p[0], 0xb0);
	assert_int_equal(p[1], 0xfe);
	assert_int_equal(p[2], 0xe6);
	assert_int_equal(p[3], 0x64);
	/* then halt forever rather than run off the end of the segment */
	assert_int_equal(p[4], 0xf4);
	assert_int_equal(p[5], 0xeb);
	assert_int_equal((int8_t)p[6], -3);

	/* Without RAM below 1 MiB there is nowhere to put it. */
	struct guest_mem high = { 0 };
	assert_int_equal(guest_mem_add(&high, 1u << 20, MEM - (1u << 20), ram), 0);
	assert_int_equal(boot_setup_reset_vector(&high), -EFAULT);
	assert_int_equal(boot_setup_page_tables(&high), -EFAULT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identity_map, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gdt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_vector, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
