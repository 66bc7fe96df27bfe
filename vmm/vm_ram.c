/*
 * vm_ram.c - guest RAM: one anonymous mapping, aligned for KVM's large
 * pages, given to KVM as memslots and to vm->mem (see vm.h). Kept out of
 * vm.c, the VM's lifecycle, which calls vm_map_ram once from vm_create:
 * where the RAM lands in our address space, and why, is a concern of its own.
 */
#include "vm.h"
#include "errmsg.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../boot/boot.h"

/*
 * Guest RAM starts on a 2 MiB boundary of our address space because KVM
 * maps a guest 2 MiB page with one large NPT/EPT entry only where the
 * memslot's guest-physical and host-virtual addresses agree modulo 2 MiB;
 * where they do not, it turns large pages off for the whole slot, and every
 * 4 KiB page the guest touches first costs an exit (in the test bed an
 * emulated world switch). Both slots' guest addresses are 2 MiB-aligned, so
 * an aligned start aligns both. Linux before 6.7 (Debian 12's 6.1, the test
 * bed's L1) places a large anonymous mapping on any page boundary.
 */
void *vm_map_ram_aligned(size_t size, size_t align)
{
	long page = sysconf(_SC_PAGESIZE);
	if (size == 0 || page <= 0 || align < (size_t)page || (align & (align - 1)) != 0 ||
	    size > SIZE_MAX - align - (size_t)page) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	size_t len = (size + (size_t)page - 1) & ~((size_t)page - 1);
	size_t span = len + align - (size_t)page; /* holds an aligned start */
	uint8_t *p = mmap(NULL, span, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return MAP_FAILED;
	uintptr_t start = ((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1);
	size_t head = start - (uintptr_t)p, tail = span - head - len;
	/* Page-aligned pieces of our own mapping: these cannot fail. */
	if (head)
		munmap(p, head);
	if (tail)
		munmap((uint8_t *)start + len, tail);
	return (void *)start;
}

int vm_map_ram(struct vm *vm, char *err, size_t errlen)
{
	uint64_t low = vm->cfg->memory < BOOT_LOW_RAM_END ? vm->cfg->memory : BOOT_LOW_RAM_END;
	uint64_t high = vm->cfg->memory - low;

	vm->ram_size = vm->cfg->memory;
	vm->ram = vm_map_ram_aligned(vm->ram_size, VM_RAM_ALIGN);
	if (vm->ram == MAP_FAILED) {
		vm->ram = NULL;
		return errmsg(err, errlen, VMM_EXIT_USAGE, "cannot map %llu MiB of guest RAM: %s",
			    (unsigned long long)(vm->ram_size >> 20), strerror(errno));
	}
	/* Transparent huge pages cut EPT/NPT misses; advisory only. */
	madvise(vm->ram, vm->ram_size, MADV_HUGEPAGE);

	struct { uint64_t gpa, size; uint8_t *host; } slot[2] = {
		{ 0, low, vm->ram },
		{ BOOT_HIGH_RAM_GPA, high, vm->ram + low },
	};
	for (unsigned i = 0; i < 2 && slot[i].size; i++) {
		struct kvm_userspace_memory_region r = {
			.slot = i,
			.guest_phys_addr = slot[i].gpa,
			.memory_size = slot[i].size,
			.userspace_addr = (uintptr_t)slot[i].host,
		};
		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
			return errmsg(err, errlen, VMM_EXIT_ERROR, "KVM_SET_USER_MEMORY_REGION: %s",
				    strerror(errno));
		if (guest_mem_add(&vm->mem, slot[i].gpa, slot[i].size, slot[i].host) < 0)
			return errmsg(err, errlen, VMM_EXIT_ERROR, "guest memory layout rejected");
	}
	return 0;
}
