/*
 * dma_layout.h - guest RAM holding VT-d tables shaped like the ones a Linux
 * guest builds for a virtio-net device, for the IOTLB miss micro-benchmark.
 *
 * What Linux does, and so what is built here:
 *   - One requester id (00:01.0) in one DMA domain with 4-level (48-bit)
 *     second-level tables; non-leaf entries are R|W, as intel-iommu writes
 *     them.
 *   - dma-iommu allocates IOVAs top-down, below 4 GiB first for a PCI
 *     device, and streaming mappings are single pages whose frames come
 *     from anywhere in RAM. Frees leave holes, so the 4 KiB mappings are a
 *     scattered run going down from 4 GiB, each to a random guest frame,
 *     R only (transmit, DMA_TO_DEVICE), W only (receive, DMA_FROM_DEVICE)
 *     or R|W (bidirectional). A neighbour is rarely contiguous in GPA, so
 *     an UPDATE mostly covers one page, as the e2e runs measured.
 *   - Some 2 MiB superpages (large coherent buffers): 2 MiB aligned in IOVA
 *     and GPA, R|W, allocated below the 4 KiB run.
 *   - Page-table pages are random frames too, not a tidy block, so the
 *     walk touches memory the way it would in a guest.
 *
 * Pure user-space setup: a malloc'd view through struct guest_mem; nothing
 * here touches KVM or vhost.
 */
#ifndef MICROBENCH_DMA_LAYOUT_H
#define MICROBENCH_DMA_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "../../vmm/guest_mem.h"

struct dma_map {
	uint64_t iova;
	uint64_t gpa;
	uint64_t size;  /* 4 KiB or 2 MiB */
	uint8_t perm;   /* VTD_PERM_R, _W or _RW */
};

struct dma_layout {
	struct guest_mem gm;
	uint8_t *ram;          /* guest RAM [0, ram_size) */
	uint64_t ram_size;
	uint8_t *used;         /* one bit per 4 KiB frame: table or data page */
	uint64_t rng;          /* xorshift64* state */
	uint64_t rtaddr;       /* root table, for RTADDR */
	uint16_t rid;
	uint16_t did;
	uint64_t pml4;         /* top-level table of the domain */
	struct dma_map *map;   /* nmap mappings: the 4 KiB ones, then the 2 MiB ones */
	size_t nmap;
	size_t n4k, n2m;
	unsigned ntables;      /* page-table pages, root and context included */
};

/*
 * Build the layout: ram_size bytes of guest RAM (a multiple of 2 MiB, at
 * most 4 GiB), n4k scattered 4 KiB mappings and n2m 2 MiB ones, from seed.
 * Returns 0, or -errno with a reason in err (out of memory, RAM too small
 * for the mappings asked for).
 */
int dma_layout_build(struct dma_layout *l, uint64_t ram_size, size_t n4k, size_t n2m,
		     uint64_t seed, char *err, size_t errlen);
void dma_layout_free(struct dma_layout *l);

/* The layout's random numbers (xorshift64*), for drawing the misses too. */
uint64_t dma_rand(uint64_t *state);

#endif
