/*
 * vm_boot.c - read the kernel (a bzImage or an ELF vmlinux) and initrd
 * files and lay out guest memory for the 64-bit Linux entry. The files are
 * opened and read here (the edge), the kernel's and initrd's bytes with
 * pread straight into guest RAM; parsing and placement are the pure
 * builders of boot/.
 */
#include "vm.h"
#include "errmsg.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../boot/boot.h"

/* Largest kernel or initrd file the VMM will read; guards against typos like /dev/zero. */
#define VM_MAX_FILE (1ULL << 31)

/*
 * struct boot_file's read(): ctx is the fd. A file that ends before the
 * length fstat gave was cut short after it was opened: -EIO.
 */
static int file_read(void *ctx, uint64_t off, void *dst, size_t n)
{
	int fd = (int)(intptr_t)ctx;
	uint8_t *p = dst;
	while (n > 0) {
		ssize_t r = pread(fd, p, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO;
		p += r;
		off += (uint64_t)r;
		n -= (size_t)r;
	}
	return 0;
}

/*
 * Open a regular file of at most VM_MAX_FILE bytes as a boot_file with no
 * head yet. On error the message names the file and why.
 */
static int open_file(const char *what, const char *path, int *fdp, struct boot_file *f,
		     char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errmsg(err, errlen, VMM_EXIT_USAGE, "cannot open %s %s: %s", what, path,
			    strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return errmsg(err, errlen, VMM_EXIT_USAGE, "%s %s is not a regular file", what, path);
	}
	if ((uint64_t)st.st_size > VM_MAX_FILE) {
		close(fd);
		return errmsg(err, errlen, VMM_EXIT_USAGE, "%s %s is too large (%lld bytes)", what,
			    path, (long long)st.st_size);
	}
	*f = (struct boot_file){
		.len = (uint64_t)st.st_size, .read = file_read, .ctx = (void *)(intptr_t)fd,
	};
	*fdp = fd;
	return 0;
}

/* Read the kernel file's first BOOT_FILE_HEAD_MAX bytes into *head, as f's head. */
static int read_head(struct boot_file *f, uint8_t **head, const char *path, char *err,
		     size_t errlen)
{
	size_t n = f->len < BOOT_FILE_HEAD_MAX ? (size_t)f->len : BOOT_FILE_HEAD_MAX;
	*head = malloc(n ? n : 1);
	if (*head == NULL)
		return errmsg(err, errlen, VMM_EXIT_ERROR, "out of memory reading %s", path);
	int e = file_read(f->ctx, 0, *head, n);
	if (e < 0)
		return errmsg(err, errlen, VMM_EXIT_USAGE, "cannot read kernel %s: %s", path,
			    strerror(-e));
	f->head = *head;
	f->head_len = n;
	return 0;
}

/*
 * A kernel file is an ELF vmlinux when it starts with the ELF magic, and
 * otherwise taken for a bzImage (which starts with a boot sector). Each
 * parser then says what is wrong with it as that kind.
 */
static int parse_kernel(struct vm_images *img, const struct boot_file *f, const char *path,
			char *err, size_t errlen)
{
	const char *why = NULL;
	const char *as;
	int e;
	if (f->head_len >= SELFMAG && memcmp(f->head, ELFMAG, SELFMAG) == 0) {
		as = "as an ELF vmlinux";
		struct vmlinux vl;
		e = vmlinux_parse_file(f, &vl, &why);
		if (e == 0)
			e = boot_kernel_from_vmlinux(&img->boot, &vl, &why);
	} else {
		as = "as a bzImage";
		struct bzimage bz;
		e = bzimage_parse_file(f, &bz, &why);
		if (e == 0)
			e = boot_kernel_from_bzimage(&img->boot, &bz, &why);
	}
	if (e < 0)
		return errmsg(err, errlen, VMM_EXIT_USAGE,
			      "kernel %s is neither a bzImage nor an x86-64 ELF vmlinux that vmm can boot "
			      "(%s: %s)", path, as, why);
	return 0;
}

int vm_read_images(struct vm_images *img, const struct vmm_config *cfg, char *err,
		   size_t errlen)
{
	memset(img, 0, sizeof(*img));
	img->kernel_fd = img->initrd_fd = -1;
	struct boot_file kernel;
	int rc = open_file("kernel", cfg->kernel, &img->kernel_fd, &kernel, err, errlen);
	if (rc == 0)
		rc = read_head(&kernel, &img->kernel_head, cfg->kernel, err, errlen);
	if (rc == 0)
		rc = parse_kernel(img, &kernel, cfg->kernel, err, errlen);
	if (rc == 0 && cfg->initrd) {
		rc = open_file("initrd", cfg->initrd, &img->initrd_fd, &img->initrd, err, errlen);
		/* Said here, before KVM is opened, like everything else wrong with a file. */
		if (rc == 0 && img->initrd.len == 0)
			rc = errmsg(err, errlen, VMM_EXIT_USAGE, "initrd %s is empty", cfg->initrd);
	}
	if (rc)
		vm_free_images(img);
	return rc;
}

void vm_free_images(struct vm_images *img)
{
	if (img->kernel_fd >= 0)
		close(img->kernel_fd);
	if (img->initrd_fd >= 0)
		close(img->initrd_fd);
	free(img->kernel_head);
	memset(img, 0, sizeof(*img));
	img->kernel_fd = img->initrd_fd = -1;
}

int vm_load(struct vm *vm, const struct vm_images *img, char *err, size_t errlen)
{
	const struct vmm_config *cfg = vm->cfg;
	const char *why = NULL;
	struct boot_args args = { .cmdline = cfg->cmdline ? cfg->cmdline : CONFIG_DEFAULT_CMDLINE };

	int e = boot_kernel_load(&vm->mem, &img->boot, &why);
	if (e < 0)
		return errmsg(err, errlen, VMM_EXIT_USAGE, "cannot load kernel %s: %s", cfg->kernel,
			    why);
	if (img->initrd_fd >= 0) {
		if (initrd_load_file(&vm->mem, &img->boot, &img->initrd, &args.initrd_gpa, &why) < 0)
			return errmsg(err, errlen, VMM_EXIT_USAGE, "cannot load initrd %s: %s",
				    cfg->initrd, why);
		args.initrd_size = img->initrd.len;
	}

	struct acpi_config acpi = {
		.ncpus = cfg->cpus, .ioapic_gpa = BOOT_IOAPIC_GPA, .pm_port = VM_PM_PORT,
		/* The DMAR describes the VT-d that vm_create made for iommu=on nets. */
		.iommu = vm->vtd != NULL,
	};
	e = acpi_build(&vm->mem, &acpi, &args.rsdp_gpa);
	if (e < 0)
		return errmsg(err, errlen, VMM_EXIT_ERROR, "cannot build ACPI tables: %s",
			    strerror(-e));
	if (boot_params_build(&vm->mem, &img->boot, &args, &why) < 0)
		return errmsg(err, errlen, VMM_EXIT_USAGE, "cannot build boot parameters: %s", why);
	e = boot_setup_page_tables(&vm->mem);
	if (e == 0)
		e = boot_setup_reset_vector(&vm->mem);
	if (e < 0)
		return errmsg(err, errlen, VMM_EXIT_ERROR, "cannot write the entry page tables or reset vector: %s",
			    strerror(-e));
	vm->entry_gpa = img->boot.entry;
	return 0;
}
