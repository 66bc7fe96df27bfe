/*
 * crash_dump.c - `--crash-dump FILE`: guest RAM written to a file when the
 * guest triple-faults, or when a signal stops vmm (a hung guest; main.c
 * then also prints each vCPU's registers, vcpu_describe).
 *
 * A triple fault is the one guest death that leaves nothing on the console,
 * and on AMD KVM resets the vCPU before user space hears of it, so its
 * registers are gone too (tests/testbed/l2-shutdown-probe.sh reads them in
 * the test bed). Guest memory is not: it still holds the page tables, the
 * kernel's log buffer and whatever overwrote them. The dump is a raw image
 * indexed by guest physical address (file offset = GPA), sparse: pages that
 * are all zero are holes, so a 512 MiB guest that used 100 MiB writes about
 * 100 MiB. Any tool reads it with a seek; nothing to parse.
 *
 * Written after the vCPU threads have been joined (vm_join_vcpus), so no
 * vCPU changes RAM while it is copied, and before teardown, so RAM is still
 * mapped.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "vm.h"

#define DUMP_PAGE 4096u

static bool page_is_zero(const uint8_t *p, size_t len)
{
	static const uint8_t zero[DUMP_PAGE];
	return memcmp(p, zero, len) == 0;
}

static int write_all_at(int fd, const uint8_t *buf, size_t len, uint64_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, buf, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int guest_mem_dump_fd(const struct guest_mem *gm, int fd)
{
	uint64_t end = 0;
	for (unsigned i = 0; i < gm->nregions; i++) {
		const struct guest_region *r = &gm->region[i];
		for (uint64_t off = 0; off < r->size; off += DUMP_PAGE) {
			size_t len = r->size - off < DUMP_PAGE ? (size_t)(r->size - off) : DUMP_PAGE;
			if (page_is_zero(r->host + off, len))
				continue;
			int rc = write_all_at(fd, r->host + off, len, r->gpa + off);
			if (rc < 0)
				return rc;
		}
		if (r->gpa + r->size > end)
			end = r->gpa + r->size;
	}
	/* The file covers all of RAM, so a read past the last data finds zeros. */
	return ftruncate(fd, (off_t)end) < 0 ? -errno : 0;
}

int vm_write_crash_dump(const struct vm *vm, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int rc = guest_mem_dump_fd(&vm->mem, fd);
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}
