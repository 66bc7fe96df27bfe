/*
 * vm_boot.c - read the kernel and initrd files and lay out guest memory for
 * the 64-bit Linux entry. The files are read here (the edge); parsing and
 * placement are the pure builders of boot/.
 */
#include "vm.h"

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

static int fail(char *err, size_t errlen, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return status;
}

/* Read a whole regular file; on error the message names the file and why. */
static int read_file(const char *what, const char *path, uint8_t **data, size_t *len,
		     char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(err, errlen, VMM_EXIT_USAGE, "cannot open %s %s: %s", what, path,
			    strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(err, errlen, VMM_EXIT_USAGE, "%s %s is not a regular file", what, path);
	}
	if ((uint64_t)st.st_size > VM_MAX_FILE) {
		close(fd);
		return fail(err, errlen, VMM_EXIT_USAGE, "%s %s is too large (%lld bytes)", what,
			    path, (long long)st.st_size);
	}
	uint8_t *buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (buf == NULL) {
		close(fd);
		return fail(err, errlen, VMM_EXIT_ERROR, "out of memory reading %s", path);
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
			return fail(err, errlen, VMM_EXIT_USAGE, "cannot read %s %s: %s", what, path,
				    strerror(e));
		}
		got += (size_t)n;
	}
	close(fd);
	*data = buf;
	*len = got;
	return 0;
}

int vm_load(struct vm *vm, char *err, size_t errlen)
{
	const struct vmm_config *cfg = vm->cfg;
	const char *why = NULL;
	uint8_t *kernel = NULL, *initrd = NULL;
	size_t kernel_len = 0, initrd_len = 0;
	struct bzimage bz;
	struct boot_args args = { .cmdline = cfg->cmdline ? cfg->cmdline : CONFIG_DEFAULT_CMDLINE };

	int rc = read_file("kernel", cfg->kernel, &kernel, &kernel_len, err, errlen);
	if (rc)
		return rc;
	if (bzimage_parse(kernel, kernel_len, &bz, &why) < 0) {
		rc = fail(err, errlen, VMM_EXIT_USAGE, "kernel %s is not a usable bzImage: %s",
			  cfg->kernel, why);
		goto out;
	}
	if (bzimage_load(&vm->mem, &bz, &why) < 0) {
		rc = fail(err, errlen, VMM_EXIT_USAGE, "cannot load kernel %s: %s", cfg->kernel, why);
		goto out;
	}
	if (cfg->initrd) {
		rc = read_file("initrd", cfg->initrd, &initrd, &initrd_len, err, errlen);
		if (rc)
			goto out;
		if (initrd_load(&vm->mem, &bz, initrd, initrd_len, &args.initrd_gpa, &why) < 0) {
			rc = fail(err, errlen, VMM_EXIT_USAGE, "cannot load initrd %s: %s",
				  cfg->initrd, why);
			goto out;
		}
		args.initrd_size = initrd_len;
	}

	struct acpi_config acpi = {
		.ncpus = cfg->cpus, .ioapic_gpa = BOOT_IOAPIC_GPA, .pm_port = VM_PM_PORT,
	};
	int e = acpi_build(&vm->mem, &acpi, &args.rsdp_gpa);
	if (e < 0) {
		rc = fail(err, errlen, VMM_EXIT_ERROR, "cannot build ACPI tables: %s", strerror(-e));
		goto out;
	}
	if (boot_params_build(&vm->mem, &bz, &args, &why) < 0) {
		rc = fail(err, errlen, VMM_EXIT_USAGE, "cannot build boot parameters: %s", why);
		goto out;
	}
	e = boot_setup_page_tables(&vm->mem);
	if (e < 0)
		rc = fail(err, errlen, VMM_EXIT_ERROR, "cannot write page tables: %s", strerror(-e));
out:
	/* The guest has its copy; the file buffers are not needed any more. */
	free(kernel);
	free(initrd);
	return rc;
}
