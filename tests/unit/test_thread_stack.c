/*
 * test_thread_stack.c - thread_start_small_pages: the thread runs on the
 * stack mapped for it, that mapping has THP turned off (VmFlags "nh" in
 * /proc/self/smaps: where THP is "always", a plain thread stack that
 * holds a whole aligned 2 MiB block gets a 2 MiB page), its lowest page
 * is an inaccessible guard, and it is gone after thread_stack_release.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../vmm/vm.h"

struct seen {
	uintptr_t local;
};

static void *record_stack(void *arg)
{
	struct seen *s = arg;
	volatile uint8_t deep[64 * 1024]; /* touch more than a page or two */
	for (size_t i = 0; i < sizeof(deep); i += 4096)
		deep[i] = (uint8_t)i;
	s->local = (uintptr_t)&deep[0];
	return NULL;
}

/* The smaps entry of the mapping holding addr: its permissions and VmFlags. */
static bool smaps_of(uintptr_t addr, char perms[5], char *flags, size_t flagslen)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	assert_non_null(f);
	char line[512];
	bool in = false, found = false;
	while (fgets(line, sizeof(line), f)) {
		uintptr_t lo, hi;
		char p[5];
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, p) == 3 && line[0] != ' ' &&
		    strncmp(line, "VmFlags", 7) != 0) {
			in = lo <= addr && addr < hi;
			if (in)
				memcpy(perms, p, 5);
		} else if (in && strncmp(line, "VmFlags:", 8) == 0) {
			snprintf(flags, flagslen, "%s", line + 8);
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

static void test_stack_has_thp_off(void **state)
{
	(void)state;
	struct thread_stack st;
	struct seen seen = { 0 };
	pthread_t t;
	assert_int_equal(thread_start_small_pages(&t, record_stack, &seen, VCPU_STACK_SIZE, &st), 0);
	assert_int_equal(pthread_join(t, NULL), 0);

	long page = sysconf(_SC_PAGESIZE);
	uintptr_t lo = (uintptr_t)st.map, hi = lo + st.len;
	assert_int_equal(st.len, VCPU_STACK_SIZE + (size_t)page);
	/* The thread's locals were on the stack mapped for it. */
	assert_true(seen.local >= lo + (uintptr_t)page && seen.local < hi);

	char perms[5], flags[512];
	assert_true(smaps_of(seen.local, perms, flags, sizeof(flags)));
	assert_string_equal(perms, "rw-p");
	assert_non_null(strstr(flags, " nh"));
	assert_true(smaps_of(lo, perms, flags, sizeof(flags)));
	assert_string_equal(perms, "---p"); /* the guard */

	thread_stack_release(&st);
	assert_null(st.map);
	assert_false(smaps_of(seen.local, perms, flags, sizeof(flags)));
	thread_stack_release(&st); /* twice is harmless */
}

static void test_bad_sizes(void **state)
{
	(void)state;
	struct thread_stack st = { (void *)1, 1 };
	struct seen seen;
	pthread_t t;
	assert_int_equal(thread_start_small_pages(&t, record_stack, &seen, 1024, &st), EINVAL);
	assert_null(st.map);
	assert_int_equal(st.len, 0);
	assert_int_equal(thread_start_small_pages(&t, record_stack, &seen, (size_t)2 << 30, &st),
			 EINVAL);
	assert_null(st.map);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stack_has_thp_off),
		cmocka_unit_test(test_bad_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
