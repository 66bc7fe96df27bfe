/*
 * test_vm_stop.c - vm_request_stop: the first caller's status and message
 * win, and whoever sees `stopping` reads them whole (vmm/vm.h). main()
 * reads them as soon as the event loop sees `stopping`, before it joins
 * the vCPU thread that may have asked, so a status written after the flag
 * could be read as 0 ("the guest powered off") after a triple fault.
 *
 * No KVM: a zeroed struct vm with no vCPUs and no stop eventfd is all
 * vm_request_stop touches.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmm/vm.h"

static struct vm vm;

static void vm_reset(void)
{
	memset(&vm, 0, sizeof(vm));
	pthread_mutex_init(&vm.stop_lock, NULL);
	vm.stop_fd = -1;
}

static void test_first_caller_wins(void **state)
{
	(void)state;
	vm_reset();
	vm_request_stop(&vm, VMM_EXIT_ERROR, "first: %d", 1);
	vm_request_stop(&vm, VMM_EXIT_SIGNAL, "second");
	assert_int_equal(__atomic_load_n(&vm.stopping, __ATOMIC_ACQUIRE), 1);
	assert_int_equal(vm.exit_status, VMM_EXIT_ERROR);
	assert_string_equal(vm.exit_message, "first: 1");
}

#define STOPPERS 3
#define ROUNDS 1000

static int go;

static void *stopper(void *arg)
{
	int status = (int)(intptr_t)arg;
	while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
		;
	vm_request_stop(&vm, status, "stopped with %d", status);
	return NULL;
}

/*
 * Threads race to stop; the reader, like the event loop, leaves its loop
 * the moment it sees `stopping` and reads status and message at once.
 * They must be one caller's, never the zeroes from before.
 */
static void test_status_published_with_flag(void **state)
{
	(void)state;
	for (unsigned r = 0; r < ROUNDS; r++) {
		vm_reset();
		__atomic_store_n(&go, 0, __ATOMIC_RELEASE);
		pthread_t t[STOPPERS];
		for (int i = 0; i < STOPPERS; i++)
			assert_int_equal(pthread_create(&t[i], NULL, stopper,
							(void *)(intptr_t)(VMM_EXIT_ERROR + i)), 0);
		__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
		while (!__atomic_load_n(&vm.stopping, __ATOMIC_ACQUIRE))
			;
		int status = vm.exit_status;
		char msg[sizeof(vm.exit_message)];
		memcpy(msg, vm.exit_message, sizeof(msg));
		msg[sizeof(msg) - 1] = '\0';
		char want[64];
		snprintf(want, sizeof(want), "stopped with %d", status);
		if (status < VMM_EXIT_ERROR || status >= VMM_EXIT_ERROR + STOPPERS ||
		    strcmp(msg, want) != 0)
			fail_msg("round %u: saw stopping with status %d and message '%s'", r, status,
				 msg);
		for (int i = 0; i < STOPPERS; i++)
			pthread_join(t[i], NULL);
		/* And it stays the winner's after every caller returned. */
		assert_int_equal(vm.exit_status, status);
		pthread_mutex_destroy(&vm.stop_lock);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_caller_wins),
		cmocka_unit_test(test_status_published_with_flag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
