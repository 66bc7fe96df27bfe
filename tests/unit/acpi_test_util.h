/*
 * acpi_test_util.h - helpers shared by the ACPI unit tests (test_acpi.c,
 * test_acpi_dmar.c): little-endian field reads, the byte checksum, a
 * zeroed guest RAM at GPA 0, removal of a test's temporary directory,
 * and dumping a table to a file and checking it with ACPICA's
 * disassembler (iasl -d). All static inline: each test is its own program.
 */
#ifndef ACPI_TEST_UTIL_H
#define ACPI_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../../vmm/guest_mem.h"

static inline uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/* Byte sum of p[0..len), mod 256: 0 for a correctly checksummed table. */
static inline uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;
	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

/* size bytes of zeroed RAM at GPA 0 in gm; *buf is its host view. 0 or -1. */
static inline int acpi_test_mem_init(uint8_t **buf, struct guest_mem *gm, size_t size)
{
	*buf = calloc(1, size);
	if (*buf == NULL || guest_mem_add(gm, 0, size, *buf) != 0) {
		free(*buf);
		*buf = NULL;
		return -1;
	}
	return 0;
}

/* rm -rf tmpdir if it was created (non-empty); 0, or -1 if that failed. */
static inline int acpi_test_rm_tmpdir(const char *tmpdir)
{
	if (tmpdir[0] == '\0')
		return 0;
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/*
 * Teardown of an ACPI fixture: rm -rf its tmpdir if one was created
 * (non-empty), free its RAM and the fixture; 0, or -1 if the removal failed.
 */
static inline int acpi_test_teardown(void *fixture, uint8_t *buf, const char *tmpdir)
{
	int ret = acpi_test_rm_tmpdir(tmpdir);
	free(buf);
	free(fixture);
	return ret;
}

/* Write the table t (its length from the header) to dir/name.dat. */
static inline void acpi_test_dump(const char *dir, const char *name, const uint8_t *t)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
	FILE *o = fopen(path, "wb");
	assert_non_null(o);
	assert_int_equal(fwrite(t, 1, rd32(t + 4), o), rd32(t + 4));
	assert_int_equal(fclose(o), 0);
}

/* Run iasl -d on dir/name.dat; fail on a bad status, missing output or complaints. */
static inline void iasl_check(const char *dir, const char *name)
{
	char cmd[512], line[512], path[512];
	snprintf(cmd, sizeof(cmd), "cd '%s' && iasl -d %s.dat 2>&1", dir, name);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p) != NULL) {
		/* iasl reports bad checksums as "Firmware Warning ... Incorrect". */
		if (strstr(line, "Error") || strstr(line, "Warning") || strstr(line, "Incorrect"))
			fail_msg("iasl -d %s.dat: %s", name, line);
	}
	int st = pclose(p);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("iasl -d %s.dat failed (status %d)", name, st);

	snprintf(path, sizeof(path), "%s/%s.dsl", dir, name);
	FILE *dsl = fopen(path, "r");
	if (dsl == NULL)
		fail_msg("iasl -d produced no %s", path);
	while (fgets(line, sizeof(line), dsl) != NULL) {
		if (strstr(line, "Incorrect") || strstr(line, "Invalid") || strstr(line, "****"))
			fail_msg("%s: %s", path, line);
	}
	fclose(dsl);
}

#endif
