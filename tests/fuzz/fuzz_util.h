/*
 * fuzz_util.h - what the libFuzzer harnesses in tests/fuzz/ share: the
 * invariant check, a reader that turns the fuzz input into a script of
 * small integers, and guest RAM regions with guard pages.
 *
 * Why guard pages and not malloc: a guest RAM region is a big mapping, and
 * ASan's redzones are small; a PROT_NONE page on each side turns any access
 * that leaves the region (the bug every guest-facing parser must not have)
 * into a SIGSEGV that libFuzzer reports with the input. Regions are zeroed
 * between runs with MADV_DONTNEED, which costs only the pages a run touched.
 *
 * Only harnesses include this: FUZZ_CHECK traps, which library code never
 * may (project rule), but a fuzz harness must, so the input is kept.
 */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../../vmm/guest_mem.h"

/* An invariant failed: say which and where, then stop so the input is saved. */
#define FUZZ_CHECK(cond, ...)                                                        \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "\nINVARIANT %s:%d: %s\n  ", __FILE__, __LINE__, \
				#cond);                                              \
			fprintf(stderr, __VA_ARGS__);                                \
			fputc('\n', stderr);                                         \
			__builtin_trap();                                            \
		}                                                                    \
	} while (0)

/*
 * FUZZ_TRACE=1 in the environment makes a harness narrate what it does,
 * for reading a reproducer (run the target binary on the one input).
 */
static inline bool fuzz_trace(void)
{
	static int on = -1;
	if (on < 0) {
		const char *e = getenv("FUZZ_TRACE");
		on = e != NULL && e[0] == '1';
	}
	return on;
}

#define FUZZ_TRACE(...)                                    \
	do {                                               \
		if (fuzz_trace())                          \
			fprintf(stderr, __VA_ARGS__);      \
	} while (0)

/*
 * The input as a stream of little-endian integers. Reading past the end
 * yields zeros and sets 'empty', so a truncated input is still a valid
 * script and the mutator never wastes runs on parse failures.
 */
struct fin {
	const uint8_t *p;
	size_t n;
};

static inline bool fin_empty(const struct fin *in)
{
	return in->n == 0;
}

static inline uint64_t fin_bytes(struct fin *in, unsigned k)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < k && in->n > 0; i++, in->p++, in->n--)
		v |= (uint64_t)*in->p << (8 * i);
	return v;
}

static inline uint8_t fin_u8(struct fin *in) { return (uint8_t)fin_bytes(in, 1); }
static inline uint16_t fin_u16(struct fin *in) { return (uint16_t)fin_bytes(in, 2); }
static inline uint32_t fin_u32(struct fin *in) { return (uint32_t)fin_bytes(in, 4); }
static inline uint64_t fin_u64(struct fin *in) { return fin_bytes(in, 8); }

/* One of n choices (n >= 1), from one byte. */
/*
 * The boot loaders' fuzzers start alike: a 16-bit length and that many
 * bytes of command line (at most 0x1fff; cmdline must hold 0x2000 and gets
 * a NUL), then a 16-bit length and that many bytes of initrd (at most
 * 0x3fff, left in the input).
 */
static inline void fin_cmdline_initrd(struct fin *in, char *cmdline, const uint8_t **initrd,
				      size_t *rlen)
{
	size_t clen = fin_u16(in) & 0x1fff;
	clen = clen < in->n ? clen : in->n;
	memcpy(cmdline, in->p, clen);
	cmdline[clen] = '\0';
	in->p += clen, in->n -= clen;
	*rlen = fin_u16(in) & 0x3fff;
	*rlen = *rlen < in->n ? *rlen : in->n;
	*initrd = in->p;
	in->p += *rlen, in->n -= *rlen;
}

static inline unsigned fin_pick(struct fin *in, unsigned n)
{
	return fin_u8(in) % n;
}

/* --- guest RAM ------------------------------------------------------------- */

#define FUZZ_PAGE 4096ull
#define FUZZ_MAX_REGIONS 4

struct fuzz_ram {
	struct guest_mem gm;
	uint8_t *host[FUZZ_MAX_REGIONS];
	uint64_t gpa[FUZZ_MAX_REGIONS], size[FUZZ_MAX_REGIONS];
	unsigned n;
};

/*
 * Add a region [gpa, gpa + size) (page multiples) backed by a fresh
 * mapping between two PROT_NONE pages. Setup failures trap: a harness
 * that cannot build its RAM must not pass as "no finding".
 */
static inline void fuzz_ram_add(struct fuzz_ram *r, uint64_t gpa, uint64_t size)
{
	FUZZ_CHECK(r->n < FUZZ_MAX_REGIONS && size % FUZZ_PAGE == 0, "bad region");
	uint8_t *m = mmap(NULL, size + 2 * FUZZ_PAGE, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	FUZZ_CHECK(m != MAP_FAILED, "mmap");
	FUZZ_CHECK(mprotect(m + FUZZ_PAGE, size, PROT_READ | PROT_WRITE) == 0, "mprotect");
	(void)madvise(m + FUZZ_PAGE, size, MADV_NOHUGEPAGE); /* see fuzz_ram_touched */
	r->host[r->n] = m + FUZZ_PAGE;
	r->gpa[r->n] = gpa;
	r->size[r->n] = size;
	FUZZ_CHECK(guest_mem_add(&r->gm, gpa, size, r->host[r->n]) == 0, "guest_mem_add");
	r->n++;
}

/*
 * Which pages of region i were touched since the last reset (vec[pg] bit
 * 0)? A page that is not resident is still all zeroes (MADV_DONTNEED
 * dropped it and nothing faulted it in), so a check for stray writes only
 * has to look at the resident ones. Regions are mapped without transparent
 * huge pages so that residency is per 4 KiB page.
 */
static inline void fuzz_ram_residency(const struct fuzz_ram *r, unsigned i, unsigned char *vec)
{
	FUZZ_CHECK(mincore(r->host[i], r->size[i], vec) == 0, "mincore");
}

/* Back to all zeroes; only the pages the last run touched cost anything. */
static inline void fuzz_ram_reset(struct fuzz_ram *r)
{
	for (unsigned i = 0; i < r->n; i++)
		FUZZ_CHECK(madvise(r->host[i], r->size[i], MADV_DONTNEED) == 0, "madvise");
}

/* Host address of a guest range [gpa, gpa + len) inside one region, or NULL. */
static inline uint8_t *fuzz_ram_ptr(struct fuzz_ram *r, uint64_t gpa, uint64_t len)
{
	return guest_mem_ptr(&r->gm, gpa, len);
}

/* One write a harness expects in guest RAM: len bytes from p at gpa. */
struct fuzz_piece {
	uint64_t gpa;
	const uint8_t *p;
	size_t len;
};

/*
 * Every page of r touched since the last reset holds exactly what the
 * pieces put there (later pieces over earlier ones) and zeroes elsewhere;
 * the page at skip (UINT64_MAX: none) is left for the harness to check.
 * Traps on the first page that differs.
 */
static inline void fuzz_ram_check_pieces(struct fuzz_ram *r, const struct fuzz_piece *pc,
					 unsigned n, uint64_t skip)
{
	uint8_t page[FUZZ_PAGE];
	for (unsigned i = 0; i < r->n; i++) {
		unsigned char *vec = malloc(r->size[i] / FUZZ_PAGE);
		FUZZ_CHECK(vec != NULL, "malloc");
		fuzz_ram_residency(r, i, vec);
		for (uint64_t pg = 0; pg < r->size[i] / FUZZ_PAGE; pg++) {
			uint64_t gpa = r->gpa[i] + pg * FUZZ_PAGE;
			if (!(vec[pg] & 1) || gpa == skip)
				continue;
			memset(page, 0, sizeof(page));
			for (unsigned k = 0; k < n; k++) {
				uint64_t lo = pc[k].gpa > gpa ? pc[k].gpa : gpa;
				uint64_t end = pc[k].gpa + pc[k].len;
				uint64_t hi = end < gpa + FUZZ_PAGE ? end : gpa + FUZZ_PAGE;
				if (lo < hi)
					memcpy(page + (lo - gpa), pc[k].p + (lo - pc[k].gpa), hi - lo);
			}
			FUZZ_CHECK(memcmp(page, r->host[i] + pg * FUZZ_PAGE, FUZZ_PAGE) == 0,
				   "guest page %#llx holds bytes no loader step put there",
				   (unsigned long long)gpa);
		}
		free(vec);
	}
}

/* True when the host range [p, p + len) lies inside one region's mapping. */
static inline bool fuzz_ram_host_inside(const struct fuzz_ram *r, uint64_t p, uint64_t len)
{
	for (unsigned i = 0; i < r->n; i++) {
		uint64_t h = (uint64_t)(uintptr_t)r->host[i];
		if (p >= h && len <= r->size[i] && p - h <= r->size[i] - len)
			return true;
	}
	return false;
}

#endif
