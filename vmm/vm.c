/* vm.c - VM creation, start, stop and teardown (see vm.h); guest RAM is
 * mapped in vm_ram.c, the devices are wired in vm_devices.c. */
#include "vm.h"
#include "errmsg.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../boot/boot.h"
#include "../iommu/iommu.h"
#include "net.h"

static int vm_get_supported_cpuid(struct vm *vm, char *err, size_t errlen)
{
	for (unsigned n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (c == NULL)
			return errmsg(err, errlen, VMM_EXIT_ERROR, "out of memory");
		c->nent = n;
		if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			vm->cpuid = c;
			return 0;
		}
		free(c);
		if (errno != E2BIG)
			break;
	}
	return errmsg(err, errlen, VMM_EXIT_ERROR, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
}

int vm_create(struct vm *vm, const struct vmm_config *cfg, char *err, size_t errlen)
{
	uint64_t start = vm->stats.start_ns;
	memset(vm, 0, sizeof(*vm));
	pthread_mutex_init(&vm->stop_lock, NULL); /* first: vm_request_stop works from here on */
	vm->stats.start_ns = start;
	vm->cfg = cfg;
	vm->kvm_fd = vm->vm_fd = vm->stop_fd = -1;
	const char *trace = getenv("VMM_TRACE_UNCLAIMED");
	vm->trace_unclaimed = trace && strcmp(trace, "1") == 0;

	const char *dev = getenv("VMM_KVM_DEVICE");
	if (dev == NULL || dev[0] == '\0')
		dev = "/dev/kvm";
	vm->kvm_fd = open(dev, O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return errmsg(err, errlen, VMM_EXIT_USAGE,
			    "cannot open %s: %s (is KVM available? try `make run`, which uses the QEMU test bed)",
			    dev, strerror(errno));
	int api = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION)
		return errmsg(err, errlen, VMM_EXIT_USAGE, "%s: KVM API version %d, need %d", dev, api,
			    KVM_API_VERSION);
	static const struct { int cap; const char *name; } need[] = {
		{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
		{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
		{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
		{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	};
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, need[i].cap) <= 0)
			return errmsg(err, errlen, VMM_EXIT_ERROR, "KVM lacks %s", need[i].name);

	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return errmsg(err, errlen, VMM_EXIT_ERROR, "KVM_CREATE_VM: %s", strerror(errno));
	int rs = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (rs <= 0)
		return errmsg(err, errlen, VMM_EXIT_ERROR, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
	vm->run_size = (size_t)rs;

	/* Needed on Intel hosts (real-mode emulation), harmless on AMD. */
	uint64_t idmap = VM_IDENTITY_MAP_GPA;
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0 ||
	    ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)VM_TSS_GPA) < 0)
		return errmsg(err, errlen, VMM_EXIT_ERROR, "KVM_SET_TSS_ADDR: %s", strerror(errno));
	/* The irqchip must exist before any vCPU is created. */
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return errmsg(err, errlen, VMM_EXIT_ERROR, "KVM_CREATE_IRQCHIP: %s", strerror(errno));

	vm->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_fd < 0)
		return errmsg(err, errlen, VMM_EXIT_ERROR, "eventfd: %s", strerror(errno));

	int rc = vm_map_ram(vm, err, errlen);
	if (rc == 0)
		rc = vm_get_supported_cpuid(vm, err, errlen);
	if (rc == 0)
		rc = vm_wire_devices(vm, err, errlen);
	return rc;
}

/*
 * Let KVM queue the guest's writes to the PCI address latch (0xCF8)
 * instead of exiting for each: every config access through CF8/CFC is a
 * latch write and a data access, and Linux makes tens of thousands at
 * boot (on an AMD family 0xf CPU, as the test bed's, its GART aperture
 * search reads every bus, slot and function). Half of those exits go.
 * Where KVM cannot (no KVM_CAP_COALESCED_PIO), every write still exits;
 * nothing else changes. Needs vCPU 0's run mapping, which holds the ring.
 */
static void vm_coalesce_conf1(struct vm *vm)
{
	long page = sysconf(_SC_PAGESIZE);
	int off = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);
	if (off <= 0 || page <= 0 || ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_PIO) <= 0 ||
	    (size_t)(off + 1) * (size_t)page > vm->run_size)
		return;
	struct kvm_coalesced_mmio_zone zone = { .addr = PCI_CONF1_PORT, .size = 4, .pio = 1 };
	if (ioctl(vm->vm_fd, KVM_REGISTER_COALESCED_MMIO, &zone) < 0)
		return;
	pthread_mutex_init(&vm->coalesced_lock, NULL);
	vm->coalesced_max = (unsigned)(((size_t)page - sizeof(struct kvm_coalesced_mmio_ring)) /
				       sizeof(struct kvm_coalesced_mmio));
	vm->coalesced = (struct kvm_coalesced_mmio_ring *)((uint8_t *)vm->vcpu[0].run +
							   (size_t)off * (size_t)page);
}

int vm_start(struct vm *vm, char *err, size_t errlen)
{
	/* ncpus counts created vCPUs only, so teardown never sees a half-made one. */
	for (unsigned i = 0; i < vm->cfg->cpus; i++) {
		int rc = vcpu_create(vm, i, err, errlen);
		if (rc)
			return rc;
		vm->ncpus = i + 1;
	}
	int rc = vcpu_setup_boot_cpu(&vm->vcpu[0], err, errlen);
	if (rc)
		return rc;
	vm_coalesce_conf1(vm);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		int e = thread_start_small_pages(&vm->vcpu[i].thread, vcpu_thread, &vm->vcpu[i],
						 VCPU_STACK_SIZE, &vm->vcpu[i].stack);
		if (e != 0) {
			vm_request_stop(vm, VMM_EXIT_ERROR, "cannot start vCPU %u thread: %s", i,
					strerror(e));
			return errmsg(err, errlen, VMM_EXIT_ERROR, "cannot start vCPU %u thread: %s", i,
				    strerror(e));
		}
		/* Release: a stopper that sees it (vcpu_kick) sees the thread id. */
		__atomic_store_n(&vm->vcpu[i].thread_started, true, __ATOMIC_RELEASE);
	}
	return 0;
}

void vm_request_stop(struct vm *vm, int status, const char *fmt, ...)
{
	/*
	 * The first caller wins. Its status and message are written before
	 * `stopping` is set, with release, so a thread that sees `stopping`
	 * (acquire) reads them whole: main() reads them as soon as the event
	 * loop returns, before it joins the vCPU that may be writing them.
	 * (Setting `stopping` first, as a compare-and-swap did, let the loop
	 * return in between, and a triple fault could be reported as status 0.)
	 */
	pthread_mutex_lock(&vm->stop_lock);
	bool first = __atomic_load_n(&vm->stopping, __ATOMIC_RELAXED) == 0;
	if (first) {
		vm->exit_status = status;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(vm->exit_message, sizeof(vm->exit_message), fmt, ap);
		va_end(ap);
		__atomic_store_n(&vm->stopping, 1, __ATOMIC_RELEASE);
		/* Still under the lock, which vm_join_vcpus waits for, so no
		 * kick can reach a thread that has been joined. Neither call
		 * blocks. */
		uint64_t one = 1;
		if (vm->stop_fd >= 0 && write(vm->stop_fd, &one, sizeof(one)) < 0)
			fprintf(stderr, "vmm: cannot signal stop: %s\n", strerror(errno));
		for (unsigned i = 0; i < vm->ncpus; i++)
			vcpu_kick(&vm->vcpu[i]);
	}
	pthread_mutex_unlock(&vm->stop_lock);
}

void vm_join_vcpus(struct vm *vm)
{
	/*
	 * A vCPU that saw `stopping` may have exited while the first
	 * vm_request_stop is still kicking the others: wait for it to finish
	 * (it kicks under stop_lock) before any thread is joined. Later
	 * callers kick nobody.
	 */
	pthread_mutex_lock(&vm->stop_lock);
	pthread_mutex_unlock(&vm->stop_lock);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpu[i];
		if (__atomic_load_n(&v->thread_started, __ATOMIC_ACQUIRE))
			pthread_join(v->thread, NULL);
		__atomic_store_n(&v->thread_started, false, __ATOMIC_RELAXED);
	}
}

void vm_destroy(struct vm *vm)
{
	vm_join_vcpus(vm);
	if (vm->coalesced) {
		pthread_mutex_destroy(&vm->coalesced_lock);
		vm->coalesced = NULL; /* it lives in vCPU 0's mapping, unmapped below */
	}
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpu[i];
		if (v->run)
			munmap(v->run, vm->run_size);
		if (v->fd >= 0)
			close(v->fd);
		thread_stack_release(&v->stack); /* joined above */
	}
	/* vCPUs are gone: nothing can touch the devices any more. */
	/* The counters are final now; a VM that never ran has none worth a line. */
	if (vm->vtd && __atomic_load_n(&vm->stats.first_run_ns, __ATOMIC_RELAXED))
		vm_print_iommu_summary(vm);
	for (unsigned i = 0; i < vm->nnets; i++) {
		net_destroy(vm->net[i]);
		free(vm->net[i]);
	}
	/* After the nets: their bridges were attached to it. */
	if (vm->vtd) {
		vtd_destroy(vm->vtd);
		free(vm->vtd);
		vm->vtd = NULL;
	}
	if (vm->pci_ready)
		pci_bus_destroy(&vm->pci);
	free(vm->cpuid);
	if (vm->ram)
		munmap(vm->ram, vm->ram_size);
	if (vm->stop_fd >= 0)
		close(vm->stop_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
}
