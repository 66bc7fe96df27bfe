/*
 * test_thread_sched.c - the scheduler accounting behind --stats "threads":
 * the parser takes exactly the kernel's fields (at the start of a line,
 * in any order) and refuses text without them; a live reading sees the
 * CPU time this thread spent and the sleep it took; the JSON is the
 * difference of two readings, or null when either is missing or they are
 * out of order.
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
#include <time.h>
#include <unistd.h>

#include "../../vmm/vm.h"

static const char status_text[] = "Name:\tvmm\n"
				  "nonvoluntary_ctxt_switches:\t7\n"
				  "State:\tR (running)\n"
				  "voluntary_ctxt_switches:\t3\n";

static void test_parse(void **state)
{
	(void)state;
	struct thread_sched s;
	assert_int_equal(thread_sched_parse("688627 85728 3\n", status_text, &s), 0);
	assert_true(s.valid);
	assert_int_equal(s.cpu_ns, 688627);
	assert_int_equal(s.runq_ns, 85728);
	assert_int_equal(s.slices, 3);
	/* "voluntary_" inside "nonvoluntary_" must not count: 3, not 7. */
	assert_int_equal(s.voluntary, 3);
	assert_int_equal(s.involuntary, 7);
}

static void test_parse_refuses(void **state)
{
	(void)state;
	struct thread_sched s;
	assert_int_equal(thread_sched_parse("1 2\n", status_text, &s), -EINVAL);
	assert_false(s.valid);
	assert_int_equal(thread_sched_parse("1 2 3", "voluntary_ctxt_switches:\t3\n", &s), -EINVAL);
	assert_false(s.valid);
	assert_int_equal(thread_sched_parse("1 2 3", "voluntary_ctxt_switches: x\n"
						     "nonvoluntary_ctxt_switches: 1\n", &s),
			 -EINVAL);
	assert_int_equal(thread_sched_parse("", "", &s), -EINVAL);
	assert_int_equal(thread_sched_parse(NULL, status_text, &s), -EINVAL);
	assert_int_equal(thread_sched_parse("1 2 3", NULL, &s), -EINVAL);
	assert_false(s.valid);
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void test_read_live(void **state)
{
	(void)state;
	struct thread_sched a, b;
	assert_int_equal(thread_sched_read(&a), 0);
	assert_true(a.valid);
	/* 20 ms of this thread's CPU, then a sleep: a voluntary switch. */
	uint64_t c0 = thread_cpu_ns(), spun;
	do
		spun = thread_cpu_ns() - c0;
	while (spun < 20000000ull);
	usleep(2000);
	assert_int_equal(thread_sched_read(&b), 0);
	/* The kernel's sum for a running thread may lag by up to a tick, so
	 * only what must hold whatever the lag: reading a came before the
	 * spin and reading b after it and the sleep (which brought the sum up
	 * to date). Comparing the CPU delta with the wall delta would not:
	 * a lagging first reading makes the CPU delta the larger (seen under
	 * ASan). */
	assert_true(b.cpu_ns - a.cpu_ns >= spun);
	assert_true(b.wall_ns - a.wall_ns >= spun + 2000000ull);
	assert_true(b.voluntary > a.voluntary);
}

static char *json_of(const struct thread_sched *a, const struct thread_sched *b)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	thread_sched_json(f, a, b);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void test_json(void **state)
{
	(void)state;
	struct thread_sched a = { .valid = true, .wall_ns = 100, .cpu_ns = 10, .runq_ns = 5,
				  .slices = 1, .voluntary = 2, .involuntary = 3 };
	struct thread_sched b = { .valid = true, .wall_ns = 1100, .cpu_ns = 410, .runq_ns = 305,
				  .slices = 9, .voluntary = 12, .involuntary = 4 };
	char *j = json_of(&a, &b);
	assert_string_equal(j, "{ \"wall_ns\": 1000, \"cpu_ns\": 400, \"runq_wait_ns\": 300, "
			       "\"timeslices\": 8, \"voluntary_switches\": 10, "
			       "\"involuntary_switches\": 1 }");
	free(j);
	j = json_of(&b, &a); /* out of order */
	assert_string_equal(j, "null");
	free(j);
	b.valid = false;
	j = json_of(&a, &b);
	assert_string_equal(j, "null");
	free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_refuses),
		cmocka_unit_test(test_read_live),
		cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
