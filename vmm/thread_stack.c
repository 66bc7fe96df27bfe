/*
 * thread_stack.c - start a thread on a stack that transparent huge pages
 * never back (see vm.h).
 *
 * Why: where THP is "always" (the test bed's L1), the kernel backs the
 * first touch of any whole 2 MiB-aligned block of an anonymous mapping
 * with one huge page. glibc's default thread stack is such a mapping
 * (Linux before 6.7 ignores MAP_STACK for THP), and since guest RAM is
 * 2 MiB-aligned the vCPU stack placed right below it has its top block
 * aligned too: every boot of the 2026-11-29 08:58 bench run showed a
 * 2 MiB huge page there, 2 MiB of RSS per vCPU for a few KiB of stack.
 * MADV_NOHUGEPAGE also keeps the stack's mapping from merging with a
 * neighbour that THP may back. (MAP_STACK is left out: from 6.7 on it
 * turns THP off as well, and the unit test could then not tell whether
 * the madvise is there.)
 */
#include "vm.h"

#include <errno.h>
#include <limits.h>
#include <sys/mman.h>
#include <unistd.h>

int thread_start_small_pages(pthread_t *t, void *(*fn)(void *), void *arg, size_t size,
			     struct thread_stack *st)
{
	long page = sysconf(_SC_PAGESIZE);
	st->map = NULL;
	st->len = 0;
	if (page <= 0 || size < (size_t)PTHREAD_STACK_MIN || size > ((size_t)1 << 30))
		return EINVAL;
	size = (size + (size_t)page - 1) & ~((size_t)page - 1);
	size_t len = size + (size_t)page; /* one guard page below the stack */
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return errno;
	int e = 0;
	if (mprotect(p, (size_t)page, PROT_NONE) < 0 ||
	    madvise(p + page, size, MADV_NOHUGEPAGE) < 0)
		e = errno;
	pthread_attr_t attr;
	if (e == 0)
		e = pthread_attr_init(&attr);
	if (e == 0) {
		e = pthread_attr_setstack(&attr, p + page, size);
		if (e == 0)
			e = pthread_create(t, &attr, fn, arg);
		pthread_attr_destroy(&attr);
	}
	if (e != 0) {
		munmap(p, len);
		return e;
	}
	st->map = p;
	st->len = len;
	return 0;
}

void thread_stack_release(struct thread_stack *st)
{
	if (st->map != NULL)
		munmap(st->map, st->len);
	st->map = NULL;
	st->len = 0;
}
