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
 *   update-after-exit    an UPDATE right after a guest exit, and
 *   update-after-switch  right after a switch to another thread and back
 *                 (cost_after.c): the same message with its code and data
 *                 cold, as vmm sends most of them
 *
 * Times are per unit, wall clock (the process is alone and never sleeps),
 * the median over rounds with the min and max. Numbers with no device
 * behind them (no /dev/kvm, no /dev/vhost-net) are reported as absent
 * with the reason, never as zero. They are lower bounds of what the same
 * unit costs in a running VM, where a message usually comes cold, right
 * after an exit or a wakeup (the two "after" units say how much that
 * adds), may wait for the virtqueue mutexes the vhost worker holds, and
 * every thread competes for the CPUs.
 *
 *   testbed-cost [--json]       exit 0 when every unit the host has was
 *                               measured, 1 when a device failed
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cost.h"

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void record(struct unit *u, uint64_t t0, unsigned count)
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
int vhost_open(const char **why)
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

bool vhost_send(int fd, const struct iotlb_msg *m)
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
			printf("%-20s %10.2f µs  (%.2f–%.2f, %u rounds)\n", u->name, med / 1e3, lo / 1e3,
			       hi / 1e3, u->n);
		else
			printf("%-20s %10s     (%s)\n", u->name, "-", u->absent);
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
		{ .name = "syscall" },	   { .name = "update" },	    { .name = "invalidate" },
		{ .name = "exit-kernel" }, { .name = "exit-user" },	    { .name = "exit-mmio" },
		{ .name = "update-after-exit" }, { .name = "update-after-switch" },
	};
	time_syscall(&us[0]);
	bool ok = time_vhost(&us[1], &us[2]);
	ok &= time_exits(&us[3], guest_pio, sizeof(guest_pio), true);
	ok &= time_exits(&us[4], guest_pio, sizeof(guest_pio), false);
	ok &= time_exits(&us[5], guest_mmio, sizeof(guest_mmio), false);
	ok &= time_after(&us[6], &us[7]);
	print_units(us, sizeof(us) / sizeof(us[0]), json);
	return ok ? 0 : 1;
}
