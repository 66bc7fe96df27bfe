/* guest_mem.c - bounds-checked access to guest physical memory. */
#include "guest_mem.h"

#include <errno.h>
#include <string.h>

int guest_mem_add(struct guest_mem *gm, uint64_t gpa, uint64_t size, void *host)
{
	if (size == 0 || gpa + size < gpa || host == NULL)
		return -EINVAL;
	if (gm->nregions >= GUEST_MEM_MAX_REGIONS)
		return -ENOSPC;
	for (unsigned i = 0; i < gm->nregions; i++) {
		const struct guest_region *r = &gm->region[i];
		if (gpa < r->gpa + r->size && r->gpa < gpa + size)
			return -EINVAL;
	}
	gm->region[gm->nregions++] = (struct guest_region){ gpa, size, host };
	return 0;
}

const struct guest_region *guest_mem_region(const struct guest_mem *gm, uint64_t gpa)
{
	for (unsigned i = 0; i < gm->nregions; i++) {
		const struct guest_region *r = &gm->region[i];
		if (gpa >= r->gpa && gpa - r->gpa < r->size)
			return r;
	}
	return NULL;
}

void *guest_mem_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	const struct guest_region *r = guest_mem_region(gm, gpa);
	if (len == 0)
		len = 1;
	if (r == NULL)
		return NULL;
	/* Written so that no sum can wrap: offset < size holds already. */
	uint64_t off = gpa - r->gpa;
	if (len > r->size - off)
		return NULL;
	return r->host + off;
}

int guest_mem_read(const struct guest_mem *gm, uint64_t gpa, void *dst, size_t len)
{
	void *p = guest_mem_ptr(gm, gpa, len);
	if (p == NULL)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

int guest_mem_write(const struct guest_mem *gm, uint64_t gpa, const void *src, size_t len)
{
	void *p = guest_mem_ptr(gm, gpa, len);
	if (p == NULL)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}

int guest_mem_read_u64(const struct guest_mem *gm, uint64_t gpa, uint64_t *val)
{
	/* x86 is little-endian, like the guest's tables: a plain copy suffices. */
	return guest_mem_read(gm, gpa, val, sizeof(*val));
}

int guest_mem_write_u32(const struct guest_mem *gm, uint64_t gpa, uint32_t val)
{
	return guest_mem_write(gm, gpa, &val, sizeof(val));
}

uint64_t guest_mem_total(const struct guest_mem *gm)
{
	uint64_t total = 0;
	for (unsigned i = 0; i < gm->nregions; i++)
		total += gm->region[i].size;
	return total;
}
