/*
 * boot_kernel.c - what follows the parse for either kind of kernel: the
 * checks of struct boot_kernel, loading it, and the initrd's placement,
 * which depends only on where the kernel ends and on its initrd address
 * limit.
 */
#include "boot.h"

#include <errno.h>
#include <string.h>

#define BK_PAGE 0x1000ull

/* ctx is the file's bytes; loaders stay inside [0, len), so this copies without a check. */
static int memory_read(void *ctx, uint64_t off, void *dst, size_t n)
{
	memcpy(dst, (const uint8_t *)ctx + off, n);
	return 0;
}

void boot_file_memory(struct boot_file *f, const void *data, size_t len)
{
	*f = (struct boot_file){
		.head = data, .head_len = data ? len : 0, .len = data ? len : 0, .read = memory_read,
		.ctx = (void *)data,
	};
}

int boot_kernel_check(const struct boot_kernel *k, const char **why)
{
	bool ok = (k->kind == BOOT_KERNEL_BZIMAGE || k->kind == BOOT_KERNEL_VMLINUX) &&
		  k->entry >= BOOT_KERNEL_GPA && k->entry < BOOT_LOW_RAM_END &&
		  k->end > BOOT_KERNEL_GPA && k->end <= BOOT_LOW_RAM_END;
	/*
	 * boot_params_build reads the setup header up to its jump byte (0x201)
	 * before clipping the copy to head_len; a parsed bzImage's head holds
	 * at least its BZ_MIN_LEN header bytes.
	 */
	if (ok && k->kind == BOOT_KERNEL_BZIMAGE)
		ok = k->bz.file.head != NULL && k->bz.file.head_len > 0x201;
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
	struct boot_file f;
	boot_file_memory(&f, initrd, len);
	return initrd_load_file(gm, k, &f, gpa, why);
}

int initrd_load_file(const struct guest_mem *gm, const struct boot_kernel *k,
		     const struct boot_file *initrd, uint64_t *gpa, const char **why)
{
	*why = NULL;
	int err = boot_kernel_check(k, why);
	if (err)
		return err;
	uint64_t len = initrd->len;
	if (len == 0) {
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

	if (len > top || ((top - len) & ~(BK_PAGE - 1)) < k->end) {
		*why = "initrd does not fit in guest memory between the kernel and "
		       "the kernel's initrd address limit; use a smaller initrd or more memory";
		return -ENOMEM;
	}
	uint64_t addr = (top - len) & ~(BK_PAGE - 1);
	/* len < top <= 3 GiB: it fits a size_t. */
	uint8_t *dst = guest_mem_ptr(gm, addr, len);
	if (dst == NULL) {
		*why = "initrd does not fit in guest memory";
		return -ENOMEM;
	}
	err = initrd->read(initrd->ctx, 0, dst, (size_t)len);
	if (err) {
		*why = "reading the initrd file failed (did it change while vmm started?)";
		return err;
	}
	*gpa = addr;
	return 0;
}
