/*
 * guest_mem.h - the one view of guest physical memory that every subsystem
 * uses.
 *
 * Guest RAM is a small set of regions, each a contiguous range of guest
 * physical addresses (GPA) backed by a contiguous host mapping. Nothing in
 * the VMM reads or writes guest memory except through these helpers, and
 * each one checks that the whole access lies inside a single region: an
 * access that straddles a hole or runs past the end of RAM fails instead of
 * touching host memory outside the guest's mapping.
 *
 * The structure is filled once at VM creation and never changes afterwards,
 * so it may be read from any thread without locking.
 *
 * Pure: no syscalls; tests build a guest_mem over a malloc'd buffer.
 */
#ifndef VMM_GUEST_MEM_H
#define VMM_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_MEM_MAX_REGIONS 4

struct guest_region {
	uint64_t gpa;  /* first guest physical address */
	uint64_t size; /* bytes */
	uint8_t *host; /* host virtual address of gpa */
};

struct guest_mem {
	struct guest_region region[GUEST_MEM_MAX_REGIONS];
	unsigned nregions;
};

/*
 * Add a region. Regions must not overlap; returns -EINVAL if they would, if
 * size is 0 or gpa+size wraps, and -ENOSPC when the table is full.
 */
int guest_mem_add(struct guest_mem *gm, uint64_t gpa, uint64_t size, void *host);

/*
 * Host pointer for [gpa, gpa+len), or NULL unless the whole range lies in
 * one region. len 0 is treated as 1 (the byte at gpa must exist).
 */
void *guest_mem_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

/*
 * The region holding gpa, or NULL. Used to clip a range to what is
 * contiguous in host memory (the IOTLB bridge never hands out a host range
 * that leaves the region it started in).
 */
const struct guest_region *guest_mem_region(const struct guest_mem *gm, uint64_t gpa);

/* Copy in or out; -EFAULT unless the whole range lies in one region. */
int guest_mem_read(const struct guest_mem *gm, uint64_t gpa, void *dst, size_t len);
int guest_mem_write(const struct guest_mem *gm, uint64_t gpa, const void *src, size_t len);

/* Little-endian 64-bit read, as guest tables store them; -EFAULT if outside. */
int guest_mem_read_u64(const struct guest_mem *gm, uint64_t gpa, uint64_t *val);
int guest_mem_write_u32(const struct guest_mem *gm, uint64_t gpa, uint32_t val);

/* Total bytes of RAM over all regions. */
uint64_t guest_mem_total(const struct guest_mem *gm);

#endif
