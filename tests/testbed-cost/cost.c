/*
 * cost.c - what one unit of the vIOMMU's work costs on this host: the
 * prices behind the "message-bound" and "exit-bound" verdicts of
 * docs/BENCHMARKS.md, measured instead of inferred.
 *
 * Behind the vIOMMU, vmm's throughput is the guest's minus what the VT-d
 * adds, and that comes in two units: a message to vhost (one write() of
 * an UPDATE or INVALIDATE, which vhost handles under its device mutex and
 * every virtqueue mutex) and a guest exit (strict mode's one per unmap: an
 * MMIO write of the queue tail, decoded by KVM and handed to the monitor).
 * This program times each unit alone, with nothing else running:
 *
 *   syscall       getppid(): the floor under any system call here
 *   update        a 4 KiB UPDATE to a fresh IOVA, /dev/vhost-net (v2)
 *   invalidate    an INVALIDATE of one of those entries
 *   exit-kernel   a port write that the host kernel finishes (ioeventfd)
 *   exit-user     a port write handed to user space (KVM_EXIT_IO)
 *   exit-mmio     a memory write handed to user space (KVM_EXIT_MMIO),
 *                 which KVM must decode first, as it does the IQT write
 *
 * Times are per unit, wall clock (the process is alone and never sleeps),
 * the median over rounds with the min and max. Numbers with no device
 * behind them (no /dev/kvm, no /dev/vhost-net) are reported as absent
 * with the reason, never as zero. Since they are uncontended, they are
 * lower bounds of what the same unit costs under load, when the vhost
 * worker holds the virtqueue mutexes.
 *
 *   testbed-cost [--json]       exit 0 when every unit the host has was
 *                               measured, 1 when a device failed
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/vhost.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../../iommu/iommu.h"

#define ROUNDS     15
#define PAGE       4096u
#define ENTRIES    512u /* per round: below vhost's default 2048, so none is retired */
#define EXITS      2000u
#define PORT_LOOP  0x80
#define PORT_DONE  0x81

struct unit {
	const char *name;
	double ns[ROUNDS]; /* per unit, one per round */
	unsigned n;
	const char *absent; /* why nothing was measured, or NULL */
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void record(struct unit *u, uint64_t t0, unsigned count)
{
	if (u->n < ROUNDS)
		u->ns[u->n++] = (double)(now_ns() - t0) / count;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void time_syscall(struct unit *u)
{
	for (unsigned r = 0; r < ROUNDS; r++) {
		uint64_t t0 = now_ns();
		for (unsigned i = 0; i < 20000; i++)
			(void)syscall(SYS_getppid);
		record(u, t0, 20000);
	}
}

/* A vhost-net fd with a device IOTLB (ACCESS_PLATFORM) speaking v2. */
static int vhost_open(const char **why)
{
	int fd = open("/dev/vhost-net", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		*why = "no /dev/vhost-net";
		return -1;
	}
	uint64_t bf = 1ull << VHOST_BACKEND_F_IOTLB_MSG_V2, have = 0;
	uint64_t f = (1ull << 32) | (1ull << 33); /* VERSION_1 | ACCESS_PLATFORM */
	if (ioctl(fd, VHOST_SET_OWNER) < 0 || ioctl(fd, VHOST_GET_BACKEND_FEATURES, &have) < 0 ||
	    !(have & bf) || ioctl(fd, VHOST_SET_BACKEND_FEATURES, &bf) < 0 ||
	    ioctl(fd, VHOST_SET_FEATURES, &f) < 0) {
		*why = "vhost-net refused owner, v2 messages or ACCESS_PLATFORM";
		close(fd);
		return -1;
	}
	return fd;
}

static bool vhost_send(int fd, const struct iotlb_msg *m)
{
	uint8_t buf[IOTLB_WIRE_MAX];
	int n = iotlb_encode(IOTLB_WIRE_V2, m, buf, sizeof(buf));
	return n > 0 && write(fd, buf, (size_t)n) == n;
}

static bool time_vhost(struct unit *upd, struct unit *inv)
{
	const char *why = NULL;
	int fd = vhost_open(&why);
	if (fd < 0) {
		upd->absent = inv->absent = why;
		return true; /* not a failure: the host has no such device */
	}
	uint8_t *mem = mmap(NULL, ENTRIES * PAGE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	bool ok = mem != MAP_FAILED;
	/* IOVAs advance every round, so each UPDATE makes a new entry, as a
	 * freshly mapped guest buffer does. */
	uint64_t iova = 1ull << 32;
	for (unsigned r = 0; ok && r < ROUNDS; r++, iova += (uint64_t)ENTRIES * PAGE) {
		struct iotlb_msg m = { .type = IOTLB_UPDATE, .size = PAGE, .perm = VTD_PERM_RW };
		uint64_t t0 = now_ns();
		for (unsigned i = 0; ok && i < ENTRIES; i++) {
			m.iova = iova + (uint64_t)i * PAGE;
			m.uaddr = (uint64_t)(uintptr_t)(mem + (size_t)i * PAGE);
			ok = vhost_send(fd, &m);
		}
		record(upd, t0, ENTRIES);
		m = (struct iotlb_msg){ .type = IOTLB_INVALIDATE, .size = PAGE };
		t0 = now_ns();
		for (unsigned i = 0; ok && i < ENTRIES; i++) {
			m.iova = iova + (uint64_t)i * PAGE;
			ok = vhost_send(fd, &m);
		}
		record(inv, t0, ENTRIES);
	}
	if (!ok) {
		fprintf(stderr, "testbed-cost: vhost IOTLB message: %s\n", strerror(errno));
		upd->absent = inv->absent = "a message failed";
		upd->n = inv->n = 0;
	}
	if (mem != MAP_FAILED)
		munmap(mem, ENTRIES * PAGE);
	close(fd);
	return ok;
}

/*
 * Real-mode guest at GPA 0: `mov cx, EXITS; 1: out PORT_LOOP, al` or
 * `mov [0x1000], al` (0x1000 has no memslot: MMIO); `loop 1b; out
 * PORT_DONE, al; hlt`. Every round re-enters it at 0.
 */
static const uint8_t guest_pio[] = { 0xb9, EXITS & 0xff, EXITS >> 8, 0xe6, PORT_LOOP,
				     0xe2, 0xfc, 0xe6, PORT_DONE, 0xf4 };
static const uint8_t guest_mmio[] = { 0xb9, EXITS & 0xff, EXITS >> 8, 0xa2, 0x00, 0x10,
				      0xe2, 0xfb, 0xe6, PORT_DONE, 0xf4 };

struct kvm_box {
	int kvm, vm, vcpu;
	struct kvm_run *run;
	size_t run_size;
	uint8_t *mem;
};

static int box_open(struct kvm_box *b, const char **why)
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
	return b->run == MAP_FAILED ? -1 : 0;
}

static void box_close(struct kvm_box *b)
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

/* Run the guest from 0 until PORT_DONE; exits to user space on the way
 * are answered at once. Returns their number, or -1. */
static long guest_round(struct kvm_box *b)
{
	struct kvm_sregs s;
	struct kvm_regs regs = { .rip = 0, .rflags = 2 };
	if (ioctl(b->vcpu, KVM_GET_SREGS, &s) < 0)
		return -1;
	s.cs.base = 0;
	s.cs.selector = 0;
	if (ioctl(b->vcpu, KVM_SET_SREGS, &s) < 0 || ioctl(b->vcpu, KVM_SET_REGS, &regs) < 0)
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
static bool time_exits(struct unit *u, const uint8_t *code, size_t len, bool kernel_side)
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

static void print_units(struct unit *us, size_t n, bool json)
{
	if (json)
		printf("{");
	for (size_t i = 0; i < n; i++) {
		struct unit *u = &us[i];
		qsort(u->ns, u->n, sizeof(u->ns[0]), cmp_double);
		double med = u->n ? u->ns[u->n / 2] : 0, lo = u->n ? u->ns[0] : 0,
		       hi = u->n ? u->ns[u->n - 1] : 0;
		if (json && u->n)
			printf("%s\"%s\":{\"median_us\":%.3f,\"min_us\":%.3f,\"max_us\":%.3f,\"rounds\":%u}",
			       i ? "," : "", u->name, med / 1e3, lo / 1e3, hi / 1e3, u->n);
		else if (json)
			printf("%s\"%s\":{\"absent\":\"%s\"}", i ? "," : "", u->name, u->absent);
		else if (u->n)
			printf("%-12s %10.2f µs  (%.2f–%.2f, %u rounds)\n", u->name, med / 1e3, lo / 1e3,
			       hi / 1e3, u->n);
		else
			printf("%-12s %10s     (%s)\n", u->name, "-", u->absent);
	}
	if (json)
		printf("}\n");
}

int main(int argc, char **argv)
{
	bool json = argc == 2 && strcmp(argv[1], "--json") == 0;
	if (argc > 2 || (argc == 2 && !json)) {
		fprintf(stderr, "usage: %s [--json]\n", argv[0]);
		return 2;
	}
	struct unit us[] = {
		{ .name = "syscall" },	   { .name = "update" },   { .name = "invalidate" },
		{ .name = "exit-kernel" }, { .name = "exit-user" }, { .name = "exit-mmio" },
	};
	time_syscall(&us[0]);
	bool ok = time_vhost(&us[1], &us[2]);
	ok &= time_exits(&us[3], guest_pio, sizeof(guest_pio), true);
	ok &= time_exits(&us[4], guest_pio, sizeof(guest_pio), false);
	ok &= time_exits(&us[5], guest_mmio, sizeof(guest_mmio), false);
	print_units(us, sizeof(us) / sizeof(us[0]), json);
	return ok ? 0 : 1;
}
