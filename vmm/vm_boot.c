/*
 * vm_boot.c - read the kernel (a bzImage or an ELF vmlinux) and initrd
 * files and lay out guest memory for the 64-bit Linux entry. The files are
 * read here (the edge); parsing and placement are the pure builders of
 * boot/.
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

/* Read a whole regular file; on error the message names the file and why. */
static int read_file(const char *what, const char *path, uint8_t **data, size_t *len,
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
	uint8_t *buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (buf == NULL) {
		close(fd);
		return errmsg(err, errlen, VMM_EXIT_ERROR, "out of memory reading %s", path);
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			free(buf);
			close(fd);
			return errmsg(err, errlen, VMM_EXIT_USAGE, "cannot read %s %s: %s", what, path,
				    strerror(e));
		}
		got += (size_t)n;
	}
	close(fd);
	*data = buf;
	*len = got;
	return 0;
}

/*
 * A kernel file is an ELF vmlinux when it starts with the ELF magic, and
 * otherwise taken for a bzImage (which starts with a boot sector). Each
 * parser then says what is wrong with it as that kind.
 */
static int parse_kernel(struct vm_images *img, const char *path, char *err, size_t errlen)
{
	const char *why = NULL;
	const char *as;
	int e;
	if (img->kernel_len >= SELFMAG && memcmp(img->kernel, ELFMAG, SELFMAG) == 0) {
		as = "as an ELF vmlinux";
		struct vmlinux vl;
		e = vmlinux_parse(img->kernel, img->kernel_len, &vl, &why);
		if (e == 0)
			e = boot_kernel_from_vmlinux(&img->boot, &vl, &why);
	} else {
		as = "as a bzImage";
		struct bzimage bz;
		e = bzimage_parse(img->kernel, img->kernel_len, &bz, &why);
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
	int rc = read_file("kernel", cfg->kernel, &img->kernel, &img->kernel_len, err, errlen);
	if (rc == 0)
		rc = parse_kernel(img, cfg->kernel, err, errlen);
	if (rc == 0 && cfg->initrd)
		rc = read_file("initrd", cfg->initrd, &img->initrd, &img->initrd_len, err, errlen);
	if (rc)
		vm_free_images(img);
	return rc;
}

void vm_free_images(struct vm_images *img)
{
	free(img->kernel);
	free(img->initrd);
	memset(img, 0, sizeof(*img));
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
	if (img->initrd) {
		if (initrd_load(&vm->mem, &img->boot, img->initrd, img->initrd_len, &args.initrd_gpa,
				&why) < 0)
			return errmsg(err, errlen, VMM_EXIT_USAGE, "cannot load initrd %s: %s",
				    cfg->initrd, why);
		args.initrd_size = img->initrd_len;
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
