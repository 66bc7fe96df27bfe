/*
 * cost_guest.c - the tiny real-mode KVM guest of testbed-cost (cost.h):
 * a VM with one page of RAM at 0 and one vCPU, and the loops that time
 * its exits.
 */
#include "cost.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/*
 * Real-mode guest at GPA 0: `mov cx, EXITS; 1: out PORT_LOOP, al` or
 * `mov [0x1000], al` (0x1000 has no memslot: MMIO); `loop 1b; out
 * PORT_DONE, al; hlt`. Every round re-enters it at 0.
 */
const uint8_t guest_pio[10] = { 0xb9, EXITS & 0xff, EXITS >> 8, 0xe6, PORT_LOOP,
				     0xe2, 0xfc, 0xe6, PORT_DONE, 0xf4 };
const uint8_t guest_mmio[11] = { 0xb9, EXITS & 0xff, EXITS >> 8, 0xa2, 0x00, 0x10,
				      0xe2, 0xfb, 0xe6, PORT_DONE, 0xf4 };

int box_open(struct kvm_box *b, const char **why)
{
	memset(b, 0, sizeof(*b));
	b->kvm = b->vm = b->vcpu = -1;
	b->run = MAP_FAILED;
	b->mem = MAP_FAILED;
	b->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (b->kvm < 0) {
		*why = "no /dev/kvm";
		return -1;
	}
	*why = "KVM refused a VM, its memory or a vCPU";
	b->vm = ioctl(b->kvm, KVM_CREATE_VM, 0);
	if (b->vm < 0)
		return -1;
	b->mem = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (b->mem == MAP_FAILED)
		return -1;
	struct kvm_userspace_memory_region slot = {
		.memory_size = PAGE, .userspace_addr = (uint64_t)(uintptr_t)b->mem,
	};
	if (ioctl(b->vm, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
		return -1;
	b->vcpu = ioctl(b->vm, KVM_CREATE_VCPU, 0);
	int sz = ioctl(b->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (b->vcpu < 0 || sz <= 0)
		return -1;
	b->run_size = (size_t)sz;
	b->run = mmap(NULL, b->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, b->vcpu, 0);
	if (b->run == MAP_FAILED)
		return -1;
	/* Real mode with CS at 0 (reset leaves it at 0xffff0000). */
	struct kvm_sregs sr;
	if (ioctl(b->vcpu, KVM_GET_SREGS, &sr) < 0)
		return -1;
	sr.cs.base = 0;
	sr.cs.selector = 0;
	return ioctl(b->vcpu, KVM_SET_SREGS, &sr) < 0 ? -1 : 0;
}

void box_close(struct kvm_box *b)
{
	if (b->run != MAP_FAILED)
		munmap(b->run, b->run_size);
	if (b->mem != MAP_FAILED)
		munmap(b->mem, PAGE);
	if (b->vcpu >= 0)
		close(b->vcpu);
	if (b->vm >= 0)
		close(b->vm);
	if (b->kvm >= 0)
		close(b->kvm);
}

int box_one_exit(struct kvm_box *b)
{
	/* Straight to the loop's port write (offset 3), cx never reaching 0. A
	 * pending port write is completed only where it was made, so moving
	 * rip drops it. */
	struct kvm_regs regs = { .rip = 3, .rflags = 2, .rcx = 100 };
	if (ioctl(b->vcpu, KVM_SET_REGS, &regs) < 0 || ioctl(b->vcpu, KVM_RUN, 0) < 0)
		return -1;
	return b->run->exit_reason == KVM_EXIT_IO && b->run->io.port == PORT_LOOP ? 0 : -1;
}

/* Run the guest from 0 until PORT_DONE; exits to user space on the way
 * are answered at once. Returns their number, or -1. CS stays as
 * box_open set it: the guest loads no segment. */
static long guest_round(struct kvm_box *b)
{
	struct kvm_regs regs = { .rip = 0, .rflags = 2 };
	if (ioctl(b->vcpu, KVM_SET_REGS, &regs) < 0)
		return -1;
	for (long exits = 0;; exits++) {
		if (ioctl(b->vcpu, KVM_RUN, 0) < 0)
			return -1;
		if (b->run->exit_reason == KVM_EXIT_IO && b->run->io.port == PORT_DONE)
			return exits;
		if (b->run->exit_reason != KVM_EXIT_IO && b->run->exit_reason != KVM_EXIT_MMIO)
			return -1;
	}
}

/* kernel_side: the loop's port gets an ioeventfd, so KVM finishes those
 * exits itself and the monitor sees only the last one. */
bool time_exits(struct unit *u, const uint8_t *code, size_t len, bool kernel_side)
{
	struct kvm_box b;
	const char *why = NULL;
	bool ok = box_open(&b, &why) == 0;
	if (ok && kernel_side) {
		int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		struct kvm_ioeventfd ioe = { .addr = PORT_LOOP, .len = 1, .fd = efd,
					     .flags = KVM_IOEVENTFD_FLAG_PIO };
		/* KVM holds its own reference to the eventfd. */
		ok = efd >= 0 && ioctl(b.vm, KVM_IOEVENTFD, &ioe) == 0;
		if (efd >= 0)
			close(efd);
	}
	if (!ok) {
		bool no_kvm = b.kvm < 0; /* the host's, not a failure */
		u->absent = why;
		box_close(&b);
		return no_kvm;
	}
	memcpy(b.mem, code, len);
	long want = kernel_side ? 0 : EXITS;
	for (unsigned r = 0; ok && r < ROUNDS; r++) {
		uint64_t t0 = now_ns();
		long got = guest_round(&b);
		record(u, t0, EXITS);
		ok = got == want;
		if (!ok)
			fprintf(stderr, "testbed-cost: %s: %ld exits to user space, expected %ld\n",
				u->name, got, want);
	}
	if (!ok) {
		u->absent = "the test guest did not run as written";
		u->n = 0;
	}
	box_close(&b);
	return ok;
}
