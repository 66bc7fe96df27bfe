/* dma_layout.c - the benchmark's guest tables; see dma_layout.h for the shape and why. */
#include "dma_layout.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../../iommu/iommu.h"
#include "../../vmm/errmsg.h"

#define PAGE      0x1000ull
#define HUGE      0x200000ull
#define PTE_RW    3ull
#define PTE_PS    (1ull << 7)
#define IOVA_TOP  0x100000000ull /* dma-iommu tries below 4 GiB first */
/* Tries for a free random frame before giving up (RAM nearly full). */
#define FRAME_TRIES 1000

uint64_t dma_rand(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static bool frame_used(const struct dma_layout *l, uint64_t f)
{
	return l->used[f / 8] & (1u << (f % 8));
}

static void frame_mark(struct dma_layout *l, uint64_t f)
{
	l->used[f / 8] |= (uint8_t)(1u << (f % 8));
}

/* A random free run of `frames` frames aligned to `frames` (1 or 512); its GPA or -1. */
static uint64_t take_frames(struct dma_layout *l, uint64_t frames)
{
	uint64_t nruns = l->ram_size / PAGE / frames;
	for (unsigned t = 0; t < FRAME_TRIES; t++) {
		uint64_t first = (dma_rand(&l->rng) % nruns) * frames;
		bool free_run = true;
		for (uint64_t f = first; free_run && f < first + frames; f++)
			free_run = !frame_used(l, f);
		if (!free_run)
			continue;
		for (uint64_t f = first; f < first + frames; f++)
			frame_mark(l, f);
		return first * PAGE;
	}
	return UINT64_MAX;
}

static uint64_t *entry(struct dma_layout *l, uint64_t gpa)
{
	return guest_mem_ptr(&l->gm, gpa, 8);
}

/* A zeroed table page (the RAM is zero until written), or -1. */
static uint64_t new_table(struct dma_layout *l)
{
	uint64_t t = take_frames(l, 1);
	if (t != UINT64_MAX)
		l->ntables++;
	return t;
}

/* Leaf entry for iova at level (1: 4 KiB, 2: 2 MiB), making the tables above. */
static int map_one(struct dma_layout *l, const struct dma_map *m)
{
	unsigned leaf = m->size == HUGE ? 2 : 1;
	uint64_t table = l->pml4;
	for (unsigned level = 4; level > leaf; level--) {
		uint64_t *e = entry(l, table + ((m->iova >> (12 + 9 * (level - 1))) & 511) * 8);
		if ((*e & PTE_RW) == 0) {
			uint64_t t = new_table(l);
			if (t == UINT64_MAX)
				return -ENOMEM;
			*e = t | PTE_RW;
		}
		table = *e & ~0xfffull;
	}
	*entry(l, table + ((m->iova >> (12 + 9 * (leaf - 1))) & 511) * 8) =
		m->gpa | m->perm | (leaf == 2 ? PTE_PS : 0);
	return 0;
}

/* Root entry -> context table -> context entry (4-level, did) for rid. */
static int make_context(struct dma_layout *l)
{
	l->rtaddr = new_table(l);
	uint64_t ctx = new_table(l);
	l->pml4 = new_table(l);
	if (l->rtaddr == UINT64_MAX || ctx == UINT64_MAX || l->pml4 == UINT64_MAX)
		return -ENOMEM;
	*entry(l, l->rtaddr + (l->rid >> 8) * 16u) = ctx | 1;
	*entry(l, ctx + (l->rid & 0xff) * 16u) = l->pml4 | 1;
	*entry(l, ctx + (l->rid & 0xff) * 16u + 8) = (uint64_t)l->did << 8 | 2; /* AW 2: 48-bit */
	return 0;
}

static uint8_t stream_perm(struct dma_layout *l)
{
	unsigned r = (unsigned)(dma_rand(&l->rng) % 100);
	return r < 45 ? VTD_PERM_W : r < 90 ? VTD_PERM_R : VTD_PERM_RW;
}

int dma_layout_build(struct dma_layout *l, uint64_t ram_size, size_t n4k, size_t n2m,
		     uint64_t seed, char *err, size_t errlen)
{
	memset(l, 0, sizeof(*l));
	l->rng = seed ? seed : 1;
	l->rid = 0x0008; /* 00:01.0, where net_create puts the first device */
	l->did = 1;
	l->n4k = n4k;
	l->n2m = n2m;
	if (ram_size == 0 || ram_size % HUGE || ram_size > IOVA_TOP)
		return errmsg(err, errlen, -EINVAL, "RAM size must be a multiple of 2 MiB up to 4 GiB");
	/* Each 4 KiB mapping costs a data frame and, with the gaps, about 1/200 of a table. */
	if ((n2m + 1) * HUGE + n4k * PAGE * 2 > ram_size / 2)
		return errmsg(err, errlen, -EINVAL, "%zu + %zu mappings do not fit in %llu MiB of RAM",
			      n4k, n2m, (unsigned long long)(ram_size >> 20));
	/* Untouched pages of RAM cost nothing: only the tables are ever written. */
	l->ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (l->ram == MAP_FAILED)
		l->ram = NULL;
	else
		l->ram_size = ram_size;
	l->used = calloc(1, ram_size / PAGE / 8);
	l->map = calloc(n4k + n2m, sizeof(*l->map));
	if (l->ram == NULL || l->used == NULL || l->map == NULL)
		return errmsg(err, errlen, -ENOMEM, "out of memory for %llu MiB of guest RAM",
			      (unsigned long long)(ram_size >> 20));
	if (guest_mem_add(&l->gm, 0, ram_size, l->ram) < 0)
		return errmsg(err, errlen, -EINVAL, "guest_mem_add refused the RAM");

	/* Superpage data first (slots after the 4 KiB ones): they need whole free 2 MiB runs. */
	for (size_t i = 0; i < n2m; i++)
		if ((l->map[n4k + i].gpa = take_frames(l, HUGE / PAGE)) == UINT64_MAX)
			return errmsg(err, errlen, -ENOMEM, "no free 2 MiB run for superpage %zu", i);
	int rc = make_context(l);

	/* 4 KiB: top-down from 4 GiB, skipping 0-3 pages (freed IOVAs) between. */
	uint64_t iova = IOVA_TOP;
	for (size_t i = 0; rc == 0 && i < n4k; i++) {
		iova -= PAGE * (1 + dma_rand(&l->rng) % 4);
		struct dma_map *m = &l->map[l->nmap++];
		*m = (struct dma_map){ .iova = iova, .size = PAGE, .perm = stream_perm(l),
				       .gpa = take_frames(l, 1) };
		rc = m->gpa == UINT64_MAX ? -ENOMEM : map_one(l, m);
	}
	/* 2 MiB: below the 4 KiB run, 2 MiB aligned, with a hole now and then. */
	iova &= ~(HUGE - 1);
	for (size_t i = 0; rc == 0 && i < n2m; i++) {
		iova -= HUGE * (1 + dma_rand(&l->rng) % 2);
		struct dma_map *m = &l->map[l->nmap++];
		m->iova = iova;
		m->size = HUGE;
		m->perm = VTD_PERM_RW;
		rc = map_one(l, m);
	}
	if (rc < 0)
		return errmsg(err, errlen, rc, "guest RAM too small for the tables");
	return 0;
}

void dma_layout_free(struct dma_layout *l)
{
	if (l->ram != NULL)
		munmap(l->ram, l->ram_size);
	free(l->used);
	free(l->map);
	memset(l, 0, sizeof(*l));
}
