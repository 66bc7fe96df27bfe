/*
 * kvm-keeper - hold one idle KVM VM open in L1 for the whole test-bed run.
 *
 * Why: creating the first VM and destroying the last one flip kernel static
 * keys in L1 (the preempt-notifier key tested in __schedule, and the local
 * APIC keys), and flipping a key rewrites kernel text with int3 while the
 * other L1 vCPU runs it. The test bed's QEMU-TCG sometimes keeps executing
 * the old translation on that vCPU: it loops on an int3 that memory no
 * longer holds, and L1 hangs for good (docs/STRICT-CRASH.md, Session 4).
 * While this process holds a VM with an in-kernel irqchip and one vCPU
 * that never runs, those keys never return to zero, so the guests the
 * tests start and stop do not rewrite kernel text.
 *
 * Started in the background by run-in-l1.sh's cmd.sh; it exits when L1
 * powers off. Any failure is reported on stderr and is not fatal to the
 * run: without it the test bed works as before, only less reliably.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		fprintf(stderr, "kvm-keeper: /dev/kvm: %s\n", strerror(errno));
		return 1;
	}
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		fprintf(stderr, "kvm-keeper: KVM_CREATE_VM: %s\n", strerror(errno));
		return 1;
	}
	if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0)
		fprintf(stderr, "kvm-keeper: KVM_CREATE_IRQCHIP: %s (keeping the VM)\n",
			strerror(errno));
	else if (ioctl(vm, KVM_CREATE_VCPU, 0) < 0)
		fprintf(stderr, "kvm-keeper: KVM_CREATE_VCPU: %s (keeping the VM)\n",
			strerror(errno));
	for (;;)
		pause();
}
