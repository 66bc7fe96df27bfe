/*
 * l1-scrub - write once to MIB MiB of fresh memory and free it again, so
 * that the test bed's L1 pays, outside the next measured boot, what the
 * last guest left behind.
 *
 *   l1-scrub MIB      prints the seconds it took
 *
 * Why, as far as measured: the first process to write to the memory the
 * last L2 guest left pays seconds for it, growing over a run
 * (2026-11-29: an ELF vmlinux load took vmm 0.5 s in a fresh L1 and 2 to
 * 4.6 s in the bench's last boots; docs/BENCHMARKS.md, "The previous
 * guest's debris"). The explanation that fits: the test bed's L0 is
 * QEMU-TCG, which runs L2 code by translating it and must invalidate the
 * translations when their page is written, and a guest's RAM goes back
 * to L1's free lists with them. The page allocator hands out the pages
 * freed last first, so writing as much as the last guest had takes them;
 * with hardware virtualization nothing of this exists. Huge pages where
 * the kernel gives them, as the monitors' guest RAM gets: their clearing
 * writes every byte.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	char *end = NULL;
	unsigned long mib = argc == 2 ? strtoul(argv[1], &end, 10) : 0;
	if (argc != 2 || end == argv[1] || *end != '\0' || mib == 0 || mib > 65536) {
		fprintf(stderr, "usage: l1-scrub MIB (1 to 65536)\n");
		return 2;
	}
	size_t len = (size_t)mib << 20;
	double t0 = now_s();
	volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "l1-scrub: cannot map %lu MiB: %s\n", mib, strerror(errno));
		return 1;
	}
	madvise((void *)p, len, MADV_HUGEPAGE); /* advisory */
	for (size_t off = 0; off < len; off += 4096)
		p[off] = 1;
	munmap((void *)p, len);
	printf("%.3f\n", now_s() - t0);
	return 0;
}
