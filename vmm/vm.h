/*
 * vm.h - the VM and its vCPUs: the edge of the VMM where KVM ioctls live.
 *
 * Lifecycle, driven by main():
 *   vm_read_images()  read and check the kernel and initrd files;
 *   vm_create()  open /dev/kvm, create the VM, in-kernel irqchip, guest RAM,
 *                and wire the devices onto the PIO/MMIO buses;
 *   vm_load()    kernel, initrd, ACPI tables and boot_params into guest RAM
 *                (the pure builders in boot/ do the work);
 *   vm_start()   create the vCPUs and start one thread each;
 *   vm_run_event_loop()  the main thread serves console input and signals
 *                until some thread calls vm_request_stop();
 *   vm_destroy() join threads, release everything.
 *
 * Every step returns 0 or a VMM_EXIT_* status (config.h) with a one-line
 * message in err: VMM_EXIT_USAGE for what the user can fix (their kernel,
 * their memory size, no /dev/kvm), VMM_EXIT_ERROR for the rest.
 *
 * Threads and ownership:
 * - one thread per vCPU runs KVM_RUN and dispatches PIO/MMIO exits through
 *   the buses; devices lock their own state;
 * - the main thread runs the event loop;
 * - vm_request_stop() may be called from any thread; the first caller's
 *   status wins. It kicks every vCPU out of KVM_RUN with kvm_run's
 *   immediate_exit plus a signal, so no vCPU can miss the stop by racing
 *   into KVM_RUN after the signal was sent. Under stop_lock it writes the
 *   status and message, then sets `stopping` (release), then kicks: a
 *   thread that sees `stopping` reads the status whole, and
 *   vm_join_vcpus, which takes the lock first, never joins a thread that
 *   is still to be kicked.
 */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../boot/boot.h"
#include "../devices/devices.h"
#include "../devices/pci.h"
#include "config.h"
#include "guest_mem.h"
#include "io_bus.h"
#include "kvm_irq.h"

struct net_dev;
struct vtd;

/* Guest-physical addresses KVM needs for itself on Intel hosts. */
#define VM_IDENTITY_MAP_GPA 0xFFFBC000ULL
#define VM_TSS_GPA          0xFFFBD000ULL
#define VM_PM_PORT          0x600   /* ACPI HW-reduced power registers */
#define VM_I8042_PORT       0x64

struct vm;

/* A thread's stack as thread_start_small_pages mapped it (guard page included). */
struct thread_stack {
	void *map;
	size_t len;
};

/*
 * thread_sched.c: a thread's scheduler accounting at one moment, from
 * /proc/thread-self. Two readings, at the start and the end of a thread's
 * work, give --stats its "threads" section: how long the thread ran, how
 * long it was runnable but had no CPU, and (the rest of the wall time) how
 * long it slept. thread_sched_parse is pure (schedstat and status text);
 * both return 0 or -errno and leave valid false on failure.
 */
struct thread_sched {
	bool valid;
	uint64_t wall_ns;     /* CLOCK_MONOTONIC at the reading */
	uint64_t cpu_ns;      /* on a CPU; a vCPU's guest mode counts too */
	uint64_t runq_ns;     /* runnable, waiting for a CPU */
	uint64_t slices;      /* times it got a CPU */
	uint64_t voluntary;   /* context switches: it slept */
	uint64_t involuntary; /* context switches: it was preempted */
};
int thread_sched_parse(const char *schedstat, const char *status, struct thread_sched *out);
int thread_sched_read(struct thread_sched *out);
/* b - a as a JSON object, or null unless both are valid and in order. */
void thread_sched_json(FILE *f, const struct thread_sched *a, const struct thread_sched *b);

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool thread_started;      /* atomic: set (release) once `thread` is valid */
	struct thread_stack stack; /* released by vm_destroy, after the join */
	/* Written by the thread itself; sched_end is readable once sched_done
	 * (atomic, release) is set, which a thread still stuck in KVM_RUN
	 * never does, so --stats need not wait for the join. */
	struct thread_sched sched_start, sched_end;
	bool sched_done;
};

/* Counters; written by vCPU threads with relaxed atomics. */
struct vm_stats {
	uint64_t start_ns;        /* CLOCK_MONOTONIC at main() entry */
	uint64_t created_ns;      /* vm_create done (KVM VM, RAM, devices) */
	uint64_t loaded_ns;       /* vm_load done (kernel, initrd, tables in RAM) */
	uint64_t first_run_ns;    /* first KVM_RUN entered (0: not yet) */
	uint64_t exit_io;
	uint64_t exit_mmio;
	uint64_t exit_other;
	uint64_t coalesced;       /* port writes KVM queued instead of exiting */
};

struct vm {
	int kvm_fd;
	int vm_fd;
	int stop_fd;              /* eventfd: written once by vm_request_stop() */
	size_t run_size;
	uint8_t *ram;             /* one mapping for all guest RAM */
	uint64_t ram_size;
	struct guest_mem mem;
	struct io_bus pio;
	struct io_bus mmio;
	struct serial_8250 serial;
	struct power_dev power;
	struct pci_bus pci;
	bool pci_ready;           /* pci_bus_init done: destroy it at teardown */
	struct kvm_irq irq;       /* MSI routes for PCI devices */
	struct net_dev *net[CONFIG_MAX_NETS];
	unsigned nnets;
	/*
	 * The emulated VT-d (iommu/iommu.h), only when some --net has
	 * iommu=on; NULL otherwise (no DMAR, nothing at BOOT_VTD_GPA). Its
	 * registers are on the MMIO bus from vm_create on; the nets behind it
	 * attach their vhost IOTLB bridges to it. Freed by vm_destroy after the
	 * vCPUs are joined and the nets are gone.
	 */
	struct vtd *vtd;
	uint64_t entry_gpa;       /* the kernel's 64-bit entry (vm_load): vCPU 0's RIP */
	struct kvm_cpuid2 *cpuid; /* what KVM supports; patched per vCPU */
	const struct vmm_config *cfg;
	unsigned ncpus;
	struct vcpu vcpu[CONFIG_MAX_CPUS];
	pthread_mutex_t stop_lock; /* vm_request_stop: who is first, its writes and
				    * kicks; a leaf (nothing is taken under it) */
	int stopping;             /* atomic: set by the first vm_request_stop(), after
				   * exit_status and exit_message (release) */
	int exit_status;          /* enum vmm_exit, valid once stopping */
	bool guest_triple_fault;  /* a vCPU saw KVM_EXIT_SHUTDOWN (--crash-dump) */
	char exit_message[256];
	bool trace_unclaimed;     /* VMM_TRACE_UNCLAIMED=1: log accesses no device claims */
	struct vm_stats stats;
	struct thread_sched loop_start, loop_end; /* the event loop (main thread) */
	/*
	 * KVM's coalesced-write ring, in vCPU 0's run mapping, when KVM can
	 * coalesce port writes (vm_start registers the PCI address latch);
	 * NULL otherwise. Drained under coalesced_lock by every vCPU before it
	 * dispatches an I/O or MMIO exit (io_bus.h: the ordering invariant).
	 */
	struct kvm_coalesced_mmio_ring *coalesced;
	unsigned coalesced_max;
	pthread_mutex_t coalesced_lock;
};

int vm_create(struct vm *vm, const struct vmm_config *cfg, char *err, size_t errlen);
/*
 * The guest's images, opened and their headers checked before /dev/kvm is
 * opened, so a bad kernel is reported as such whatever the host's KVM.
 * Only the kernel's first BOOT_FILE_HEAD_MAX bytes are read then; vm_load
 * reads the rest, and the initrd, straight into guest RAM through the fds.
 */
struct vm_images {
	int kernel_fd;            /* -1: not open */
	int initrd_fd;            /* -1: none */
	uint8_t *kernel_head;     /* the kernel's head (struct boot_file) */
	struct boot_file initrd;  /* valid when initrd_fd >= 0 */
	/*
	 * The kernel is a bzImage or an ELF vmlinux, told apart by the ELF
	 * magic; boot is the parsed kernel of either kind (its boot_file
	 * points at kernel_head and kernel_fd).
	 */
	struct boot_kernel boot;
};

int vm_read_images(struct vm_images *img, const struct vmm_config *cfg, char *err,
		   size_t errlen);
void vm_free_images(struct vm_images *img);
int vm_load(struct vm *vm, const struct vm_images *img, char *err, size_t errlen);
int vm_start(struct vm *vm, char *err, size_t errlen);
int vm_run_event_loop(struct vm *vm);
/* Wait for every vCPU thread to leave (after vm_request_stop); idempotent. */
void vm_join_vcpus(struct vm *vm);
void vm_destroy(struct vm *vm);

/* Ask the VM to stop with this status; a printf-style reason for the log. */
void vm_request_stop(struct vm *vm, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * An anonymous private mapping (MAP_NORESERVE) of size bytes, rounded up
 * to whole pages, that starts on a multiple of align (a power of two, at
 * least the page size); MAP_FAILED with errno set otherwise. munmap(p,
 * size) releases all of it. Guest RAM is mapped with VM_RAM_ALIGN, KVM's
 * large-page size (vm_ram.c says why).
 */
#define VM_RAM_ALIGN ((size_t)2 << 20)
void *vm_map_ram_aligned(size_t size, size_t align);

/*
 * vm_ram.c, for vm_create: map cfg->memory bytes of guest RAM at
 * VM_RAM_ALIGN (THP advised) into vm->ram, and give it to KVM and vm->mem
 * as slot 0, up to BOOT_LOW_RAM_END, and slot 1, the rest, from
 * BOOT_HIGH_RAM_GPA. 0 or VMM_EXIT_*; vm_destroy unmaps vm->ram, also
 * after a failure here.
 */
int vm_map_ram(struct vm *vm, char *err, size_t errlen);

/*
 * thread_stack.c: pthread_create on a stack of size bytes (rounded up to
 * pages, at least PTHREAD_STACK_MIN, at most 1 GiB) mapped here with a
 * guard page below it and MADV_NOHUGEPAGE, so that THP never spends a
 * 2 MiB page on it (thread_stack.c says why). 0 or an errno value, as
 * pthread_create; on failure nothing is left mapped and *st is empty.
 * thread_stack_release unmaps it: only after the thread has been joined.
 */
#define VCPU_STACK_SIZE ((size_t)8 << 20) /* glibc's usual default */
int thread_start_small_pages(pthread_t *t, void *(*fn)(void *), void *arg, size_t size,
			     struct thread_stack *st);
void thread_stack_release(struct thread_stack *st);

/*
 * vm_devices.c, for vm_create: the devices onto the buses, the VT-d before
 * the nets that attach to it, the PCI bus attached last. 0 or VMM_EXIT_*.
 */
int vm_wire_devices(struct vm *vm, char *err, size_t errlen);

/* vcpu.c */
int vcpu_create(struct vm *vm, unsigned id, char *err, size_t errlen);
int vcpu_setup_boot_cpu(struct vcpu *vcpu, char *err, size_t errlen);
void *vcpu_thread(void *arg);
void vcpu_kick(struct vcpu *vcpu);
/*
 * Where a stopped vCPU was: "rip=0x… rsp=0x… cr3=0x… …" in the key=value
 * form of tests/testbed/l2-shutdown-probe.sh, so crash-dump-check.py reads
 * either. Only after its thread has left KVM_RUN (vm_join_vcpus). -errno.
 */
int vcpu_describe(const struct vcpu *vcpu, char *buf, size_t len);

/* stats.c: JSON counters for --stats, and the VMM's own memory use. */
int vm_write_stats(const struct vm *vm, const char *path);

/*
 * crash_dump.c: guest RAM as a sparse raw image, file offset = guest
 * physical address, all-zero pages left as holes; the file is as long as
 * the end of RAM. For --crash-dump, after a guest triple fault. -errno.
 */
int guest_mem_dump_fd(const struct guest_mem *gm, int fd);
int vm_write_crash_dump(const struct vm *vm, const char *path);
uint64_t now_ns(void);

/*
 * stats_iommu.c: the VT-d and vhost IOTLB counters (only with vm->vtd).
 * vm_write_iommu_json writes the members of a JSON object (no braces),
 * each line indented by indent; vm_print_iommu_summary prints one line on
 * stderr. Both snapshot the counters under vtd.lock.
 */
void vm_write_iommu_json(FILE *f, const struct vm *vm, const char *indent);
void vm_print_iommu_summary(const struct vm *vm);

#endif
