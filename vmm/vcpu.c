/*
 * vcpu.c - vCPU creation, the boot CPU's 64-bit entry state, and the
 * KVM_RUN loop that dispatches exits to the PIO/MMIO buses.
 *
 * Application processors are created with CPUID only: the in-kernel LAPIC
 * holds them in wait-for-SIPI until Linux starts them with INIT/SIPI.
 */
#include "vm.h"
#include "errmsg.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../boot/boot.h"

#define VCPU_KICK_SIGNAL SIGUSR1

#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_MTRR_DEF_TYPE    0x2ff
#define CPUID_HYPERVISOR     (1U << 31)

/* Give each vCPU its own APIC id in the leaves Linux reads topology from. */
static void cpuid_patch(struct kvm_cpuid2 *c, unsigned apic_id, unsigned ncpus)
{
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		switch (e->function) {
		case 1:
			e->ebx = (e->ebx & 0x0000ffffU) | (apic_id << 24) | ((ncpus & 0xff) << 16);
			e->ecx |= CPUID_HYPERVISOR;
			break;
		case 0xb:
		case 0x1f:
			e->edx = apic_id;
			break;
		case 0x8000001e:
			e->eax = apic_id;
			break;
		}
	}
}

static void kick_handler(int sig)
{
	(void)sig;
}

int vcpu_create(struct vm *vm, unsigned id, char *err, size_t errlen)
{
	struct vcpu *v = &vm->vcpu[id];
	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0)
		return errmsg(err, errlen, VMM_EXIT_ERROR, "KVM_CREATE_VCPU %u: %s", id, strerror(errno));
	v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return errmsg(err, errlen, VMM_EXIT_ERROR, "mmap kvm_run %u: %s", id, strerror(errno));
	}

	size_t sz = sizeof(*vm->cpuid) + vm->cpuid->nent * sizeof(vm->cpuid->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);
	if (c == NULL)
		return errmsg(err, errlen, VMM_EXIT_ERROR, "out of memory");
	memcpy(c, vm->cpuid, sz);
	cpuid_patch(c, id, vm->cfg->cpus);
	int rc = ioctl(v->fd, KVM_SET_CPUID2, c);
	free(c);
	if (rc < 0)
		return errmsg(err, errlen, VMM_EXIT_ERROR, "KVM_SET_CPUID2 %u: %s", id, strerror(errno));

	/* Fast strings on, MTRRs enabled with write-back default: what firmware leaves. */
	union {
		struct kvm_msrs hdr;
		uint8_t bytes[sizeof(struct kvm_msrs) + 2 * sizeof(struct kvm_msr_entry)];
	} msrs = { .hdr.nmsrs = 2 };
	msrs.hdr.entries[0] = (struct kvm_msr_entry){ .index = MSR_IA32_MISC_ENABLE, .data = 1 };
	msrs.hdr.entries[1] = (struct kvm_msr_entry){ .index = MSR_MTRR_DEF_TYPE,
						      .data = (1 << 11) | 6 };
	if (ioctl(v->fd, KVM_SET_MSRS, &msrs) != 2)
		return errmsg(err, errlen, VMM_EXIT_ERROR, "KVM_SET_MSRS %u failed", id);
	return 0;
}

int vcpu_setup_boot_cpu(struct vcpu *v, char *err, size_t errlen)
{
	struct kvm_sregs s;
	if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
		return errmsg(err, errlen, VMM_EXIT_ERROR, "KVM_GET_SREGS: %s", strerror(errno));

	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = BOOT_SEL_CODE, .type = 0xb,
		.present = 1, .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1,
	};
	struct kvm_segment data = code;
	data.selector = BOOT_SEL_DATA;
	data.type = 0x3;
	data.l = 0;
	data.db = 1;
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.gdt.base = BOOT_GDT_GPA;
	s.gdt.limit = 4 * 8 - 1;
	s.cr3 = BOOT_PML4_GPA;
	s.cr4 = 1U << 5;                                 /* PAE */
	s.cr0 = (1U << 0) | (1U << 4) | (1U << 31);      /* PE, ET, PG */
	s.efer = (1U << 8) | (1U << 10);                 /* LME, LMA */
	if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0)
		return errmsg(err, errlen, VMM_EXIT_ERROR, "KVM_SET_SREGS: %s", strerror(errno));

	struct kvm_regs r = {
		.rflags = 2,
		.rip = v->vm->entry_gpa,        /* startup_64, of the bzImage or the vmlinux */
		.rsi = BOOT_PARAMS_GPA,
	};
	if (ioctl(v->fd, KVM_SET_REGS, &r) < 0)
		return errmsg(err, errlen, VMM_EXIT_ERROR, "KVM_SET_REGS: %s", strerror(errno));

	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
	if (ioctl(v->fd, KVM_SET_FPU, &fpu) < 0)
		return errmsg(err, errlen, VMM_EXIT_ERROR, "KVM_SET_FPU: %s", strerror(errno));
	return 0;
}

/* KVM's names for the states a vCPU of an x86 guest can be in. */
static const char *mp_state_name(__u32 st)
{
	switch (st) {
	case KVM_MP_STATE_RUNNABLE: return "runnable";
	case KVM_MP_STATE_UNINITIALIZED: return "uninitialized";
	case KVM_MP_STATE_INIT_RECEIVED: return "init-received";
	case KVM_MP_STATE_HALTED: return "halted";
	case KVM_MP_STATE_SIPI_RECEIVED: return "sipi-received";
	default: return "other";
	}
}

int vcpu_describe(const struct vcpu *v, char *buf, size_t len)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	struct kvm_mp_state mp;
	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 || ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	/*
	 * mp_state says whether KVM holds a wake-up for a halted vCPU: it
	 * reads "runnable" for a vCPU halted with a kick pending (KVM's
	 * pv_unhalted), "halted" only when nothing will wake it but an
	 * interrupt. In a Linux guest halted in kvm_wait (the paravirtual
	 * spinlock's wait), rdi and rsi are still the byte it waits on and
	 * the value it halted on (tests/testbed/crash-dump-check.py).
	 */
	const char *mps = ioctl(v->fd, KVM_GET_MP_STATE, &mp) < 0 ? "unreadable"
								  : mp_state_name(mp.mp_state);
	snprintf(buf, len,
		 "cs=0x%x ss=0x%x cpl=%u efer=0x%llx cr0=0x%llx cr2=0x%llx cr3=0x%llx "
		 "cr4=0x%llx rip=0x%llx rsp=0x%llx rflags=0x%llx rax=0x%llx rsi=0x%llx "
		 "rdi=0x%llx fs_base=0x%llx gs_base=0x%llx tr_base=0x%llx idt_base=0x%llx "
		 "idt_limit=0x%x mp_state=%s",
		 s.cs.selector, s.ss.selector, s.ss.dpl /* SS.DPL is the CPL */,
		 (unsigned long long)s.efer,
		 (unsigned long long)s.cr0, (unsigned long long)s.cr2, (unsigned long long)s.cr3,
		 (unsigned long long)s.cr4, (unsigned long long)r.rip, (unsigned long long)r.rsp,
		 (unsigned long long)r.rflags, (unsigned long long)r.rax,
		 (unsigned long long)r.rsi, (unsigned long long)r.rdi,
		 (unsigned long long)s.fs.base, (unsigned long long)s.gs.base,
		 (unsigned long long)s.tr.base, (unsigned long long)s.idt.base, s.idt.limit, mps);
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	/*
	 * immediate_exit covers a vCPU that is about to enter KVM_RUN; the
	 * signal covers one that is inside it.
	 */
	if (v->run)
		__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELEASE);
	if (__atomic_load_n(&v->thread_started, __ATOMIC_ACQUIRE) &&
	    !pthread_equal(v->thread, pthread_self()))
		pthread_kill(v->thread, VCPU_KICK_SIGNAL);
}

static void vcpu_handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;
	unsigned size = run->io.size;
	/* data_offset and count*size come from KVM, and stay within the run page. */
	for (uint32_t i = 0; i < run->io.count; i++)
		if (!io_bus_access(&v->vm->pio, run->io.port, data + i * size, size, out) &&
		    v->vm->trace_unclaimed)
			fprintf(stderr, "vmm: unclaimed %s port 0x%x size %u\n", out ? "out" : "in",
				run->io.port, size);
}

/*
 * Apply the port writes KVM queued instead of exiting, before this exit's
 * own access is dispatched (io_bus.h: the ordering invariant). The check
 * without the lock is enough to skip: 'first' moves only after a write
 * was applied.
 */
static void vcpu_drain_coalesced(struct vm *vm)
{
	if (vm->coalesced == NULL || !io_bus_coalesced_pending(vm->coalesced))
		return;
	pthread_mutex_lock(&vm->coalesced_lock);
	int n = io_bus_drain_coalesced(vm->coalesced, vm->coalesced_max, &vm->pio, &vm->mmio);
	pthread_mutex_unlock(&vm->coalesced_lock);
	if (n > 0)
		__atomic_fetch_add(&vm->stats.coalesced, (uint64_t)n, __ATOMIC_RELAXED);
	else if (n < 0)
		vm_request_stop(vm, VMM_EXIT_ERROR,
				"KVM's coalesced I/O ring holds an entry vmm cannot use; stopping");
}

/* Returns false when the loop must end. */
static bool vcpu_handle_exit(struct vcpu *v)
{
	struct vm *vm = v->vm;
	struct kvm_run *run = v->run;
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		__atomic_fetch_add(&vm->stats.exit_io, 1, __ATOMIC_RELAXED);
		vcpu_drain_coalesced(vm);
		vcpu_handle_io(v);
		return true;
	case KVM_EXIT_MMIO:
		__atomic_fetch_add(&vm->stats.exit_mmio, 1, __ATOMIC_RELAXED);
		vcpu_drain_coalesced(vm);
		if (!io_bus_access(&vm->mmio, run->mmio.phys_addr, run->mmio.data,
				   run->mmio.len <= 8 ? run->mmio.len : 8, run->mmio.is_write) &&
		    vm->trace_unclaimed)
			fprintf(stderr, "vmm: unclaimed mmio %s 0x%llx len %u\n",
				run->mmio.is_write ? "write" : "read",
				(unsigned long long)run->mmio.phys_addr, run->mmio.len);
		return true;
	case KVM_EXIT_HLT:
	case KVM_EXIT_INTR:
		__atomic_fetch_add(&vm->stats.exit_other, 1, __ATOMIC_RELAXED);
		return true;
	case KVM_EXIT_SHUTDOWN:
		/* Read by main after the vCPU threads have been told to stop. */
		__atomic_store_n(&vm->guest_triple_fault, true, __ATOMIC_RELEASE);
		vm_request_stop(vm, VMM_EXIT_ERROR, "vCPU %u: guest triple fault (KVM_EXIT_SHUTDOWN)",
				v->id);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		if (run->system_event.type == KVM_SYSTEM_EVENT_RESET)
			vm_request_stop(vm, VMM_EXIT_REBOOT, "guest requested a reboot");
		else
			vm_request_stop(vm, VMM_EXIT_POWEROFF, "guest powered off");
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		vm_request_stop(vm, VMM_EXIT_ERROR, "vCPU %u: KVM entry failed, reason 0x%llx",
				v->id,
				(unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		vm_request_stop(vm, VMM_EXIT_ERROR, "vCPU %u: KVM internal error, suberror %u",
				v->id, run->internal.suberror);
		return false;
	default:
		vm_request_stop(vm, VMM_EXIT_ERROR, "vCPU %u: unexpected KVM exit reason %u", v->id,
				run->exit_reason);
		return false;
	}
}

void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;

	struct sigaction sa = { .sa_handler = kick_handler };
	sigemptyset(&sa.sa_mask);
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL); /* no SA_RESTART: KVM_RUN must return EINTR */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	thread_sched_read(&v->sched_start);
	if (v->id == 0) {
		uint64_t zero = 0;
		__atomic_compare_exchange_n(&vm->stats.first_run_ns, &zero, now_ns(), false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	}
	while (!__atomic_load_n(&vm->stopping, __ATOMIC_ACQUIRE)) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			vm_request_stop(vm, VMM_EXIT_ERROR, "vCPU %u: KVM_RUN: %s", v->id,
					strerror(errno));
			break;
		}
		if (!vcpu_handle_exit(v))
			break;
	}
	thread_sched_read(&v->sched_end);
	__atomic_store_n(&v->sched_done, true, __ATOMIC_RELEASE);
	return NULL;
}
