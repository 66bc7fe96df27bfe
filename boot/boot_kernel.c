/*
 * boot_kernel.c - what follows the parse for either kind of kernel: the
 * checks of struct boot_kernel, loading it, and the initrd's placement,
 * which depends only on where the kernel ends and on its initrd address
 * limit.
 */
#include "boot.h"

#include <errno.h>

#define BK_PAGE 0x1000ull

int boot_kernel_check(const struct boot_kernel *k, const char **why)
{
	bool ok = (k->kind == BOOT_KERNEL_BZIMAGE || k->kind == BOOT_KERNEL_VMLINUX) &&
		  k->entry >= BOOT_KERNEL_GPA && k->entry < BOOT_LOW_RAM_END &&
		  k->end > BOOT_KERNEL_GPA && k->end <= BOOT_LOW_RAM_END;
	/*
	 * boot_params_build reads the setup header up to its jump byte (0x201)
	 * before clipping the copy to image_len; a parsed bzImage is far longer.
	 */
	if (ok && k->kind == BOOT_KERNEL_BZIMAGE)
		ok = k->bz.image != NULL && k->bz.image_len > 0x201;
	if (!ok) {
		*why = "kernel was not parsed by bzimage_parse or vmlinux_parse";
		return -EINVAL;
	}
	return 0;
}

int boot_kernel_load(const struct guest_mem *gm, const struct boot_kernel *k, const char **why)
{
	*why = NULL;
	int err = boot_kernel_check(k, why);
	if (err)
		return err;
	return k->kind == BOOT_KERNEL_VMLINUX ? vmlinux_load(gm, &k->vl, why)
					      : bzimage_load(gm, &k->bz, why);
}

int initrd_load(const struct guest_mem *gm, const struct boot_kernel *k,
		const void *initrd, size_t len, uint64_t *gpa, const char **why)
{
	*why = NULL;
	int err = boot_kernel_check(k, why);
	if (err)
		return err;
	if (initrd == NULL || len == 0) {
		*why = "initrd is empty";
		return -EINVAL;
	}
	/* The initrd shares the kernel's region: the highest usable low RAM. */
	const struct guest_region *r = guest_mem_region(gm, BOOT_KERNEL_GPA);
	if (r == NULL) {
		*why = "guest memory too small for this kernel";
		return -ENOMEM;
	}
	/* initrd_addr_max is the last byte the initrd may occupy. */
	uint64_t top = r->gpa + r->size;
	if (top > BOOT_LOW_RAM_END)
		top = BOOT_LOW_RAM_END;
	if (top > (uint64_t)k->initrd_addr_max + 1)
		top = (uint64_t)k->initrd_addr_max + 1;

	if ((uint64_t)len > top || ((top - len) & ~(BK_PAGE - 1)) < k->end) {
		*why = "initrd does not fit in guest memory between the kernel and "
		       "the kernel's initrd address limit; use a smaller initrd or more memory";
		return -ENOMEM;
	}
	uint64_t addr = (top - len) & ~(BK_PAGE - 1);
	err = guest_mem_write(gm, addr, initrd, len);
	if (err) {
		*why = "initrd does not fit in guest memory";
		return -ENOMEM;
	}
	*gpa = addr;
	return 0;
}
