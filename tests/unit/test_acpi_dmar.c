/*
 * test_acpi_dmar.c - the DMAR table: byte layout, checksum, publication in
 * the XSDT list, bad arguments, and an independent check by ACPICA's
 * disassembler (iasl -d), which parses every DMAR subtable.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../boot/acpi_dmar.h"
#include "../../iommu/iommu.h"
#include "../../vmm/guest_mem.h"
#include "acpi_test_util.h"

#define MEM_SIZE (2u << 20)

struct fixture {
	uint8_t *buf;
	struct guest_mem gm;
	struct acpi_builder b;
	char tmpdir[32];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (f == NULL || acpi_test_mem_init(&f->buf, &f->gm, MEM_SIZE) != 0) {
		free(f);
		return -1;
	}
	acpi_builder_init(&f->b, &f->gm, BOOT_ACPI_GPA, BOOT_ACPI_END);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	return acpi_test_teardown(f, f->buf, f->tmpdir);
}

static const uint8_t *build(struct fixture *f, uint64_t base)
{
	assert_int_equal(acpi_build_dmar(&f->b, base), 0);
	assert_int_equal(f->b.ntables, 1);
	uint64_t gpa = f->b.table[0];
	assert_true(gpa >= BOOT_ACPI_GPA && gpa + 64 <= BOOT_ACPI_END);
	return f->buf + gpa;
}

static void test_layout(void **state)
{
	struct fixture *f = *state;
	const uint8_t *t = build(f, BOOT_VTD_GPA);
	assert_memory_equal(t, "DMAR", 4);
	assert_int_equal(rd32(t + 4), 64);            /* 48 fixed + one 16-byte DRHD */
	assert_int_equal(t[8], 1);                    /* revision */
	assert_int_equal(sum(t, 64), 0);              /* checksum */
	assert_memory_equal(t + 10, "VMM   ", 6);
	assert_memory_equal(t + 16, "VMMDMAR ", 8);
	assert_int_equal(t[36], 47);                  /* host address width - 1 */
	assert_int_equal(t[36] + 1, VTD_AW_BITS);     /* matches CAP.MGAW */
	assert_int_equal(t[37], 0);                   /* no interrupt remapping */
	for (unsigned i = 38; i < 48; i++)
		assert_int_equal(t[i], 0);
	const uint8_t *d = t + 48;
	assert_int_equal(rd16(d), 0);                 /* DRHD */
	assert_int_equal(rd16(d + 2), 16);
	assert_int_equal(d[4], 1);                    /* INCLUDE_PCI_ALL */
	assert_int_equal(d[5], 0);
	assert_int_equal(rd16(d + 6), 0);             /* segment */
	assert_int_equal(rd64(d + 8), 0xFED90000ull);
	/* The register page sits in the hole, clear of the IOAPIC and the LAPIC. */
	assert_true(BOOT_VTD_GPA >= BOOT_IOAPIC_GPA + 0x1000);
	assert_true(BOOT_VTD_GPA + VTD_REGS_SIZE <= BOOT_LAPIC_GPA);
	assert_true(BOOT_VTD_GPA >= BOOT_PCI_ECAM_GPA + BOOT_PCI_ECAM_SIZE);
}

static void test_other_base_and_errors(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(acpi_build_dmar(&f->b, 0), -EINVAL);
	assert_int_equal(acpi_build_dmar(&f->b, BOOT_VTD_GPA + 0x800), -EINVAL);
	assert_int_equal(acpi_build_dmar(NULL, BOOT_VTD_GPA), -EINVAL);
	assert_int_equal(f->b.ntables, 0);
	const uint8_t *t = build(f, 0x1234567000ull);
	assert_int_equal(rd64(t + 56), 0x1234567000ull);
	assert_int_equal(sum(t, rd32(t + 4)), 0);
	/* Out of room: the builder's error comes back, nothing published. */
	struct acpi_builder small;
	acpi_builder_init(&small, &f->gm, BOOT_ACPI_GPA, BOOT_ACPI_GPA + 32);
	assert_int_equal(acpi_build_dmar(&small, BOOT_VTD_GPA), -ENOSPC);
	assert_int_equal(small.ntables, 0);
}

static void test_iasl_disassembles(void **state)
{
	struct fixture *f = *state;
	if (system("command -v iasl >/dev/null 2>&1") != 0)
		fail_msg("iasl not found on PATH: install acpica-tools (make deps)");
	const uint8_t *t = build(f, BOOT_VTD_GPA);
	strcpy(f->tmpdir, "/tmp/dmar.XXXXXX");
	assert_non_null(mkdtemp(f->tmpdir));
	acpi_test_dump(f->tmpdir, "dmar", t);
	iasl_check(f->tmpdir, "dmar");

	/* The disassembly shows the fields as ACPICA understood them. */
	char path[128], line[512];
	snprintf(path, sizeof(path), "%s/dmar.dsl", f->tmpdir);
	FILE *dsl = fopen(path, "r");
	assert_non_null(dsl);
	bool width = false, base = false, all = false;
	while (fgets(line, sizeof(line), dsl) != NULL) {
		if (strstr(line, "Incorrect") || strstr(line, "Invalid") || strstr(line, "****"))
			fail_msg("%s: %s", path, line);
		if (strstr(line, "Host Address Width") && strstr(line, ": 2F"))
			width = true;
		if (strstr(line, "Register Base Address") && strstr(line, "00000000FED90000"))
			base = true;
		if (strstr(line, "Flags") && strstr(line, ": 01"))
			all = true;
	}
	fclose(dsl);
	assert_true(width);
	assert_true(base);
	assert_true(all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_base_and_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iasl_disassembles, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
