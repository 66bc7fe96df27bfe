/*
 * fault_inject_util.h - the VMM's real event loop (vm_run_event_loop) on a
 * thread of its own, over a struct vm without KVM: guest RAM from calloc,
 * one struct vtd (translation off, so a miss in RAM gets an identity
 * UPDATE) and FI_NETS nets behind it. Each net's vhost fd is one end of a
 * SOCK_SEQPACKET socketpair, O_NONBLOCK like the real one; the test plays
 * vhost on the other end (peer[i]) or swaps in a broken fd before fi_start.
 * The TAPs are -1 unless a test injects one.
 *
 * stderr (fd 2) goes to a memfd while the harness exists, so a test can
 * check what the VMM told its user. cmocka writes its failure details to
 * stderr as well: fi_teardown echoes the captured text to the real stderr
 * unless the test reached fi_done(), so a failure still explains itself.
 *
 * A loop that does not stop within FI_TIMEOUT_MS counts as a hang: the
 * test fails and the harness is leaked rather than freed under the thread.
 */
#ifndef FAULT_INJECT_UTIL_H
#define FAULT_INJECT_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../iommu/iommu.h"
#include "../../vmm/net.h"
#include "../../vmm/vm.h"

#define FI_NETS       2
#define FI_RAM_SIZE   (16u << 20)
#define FI_TIMEOUT_MS 5000

struct fi {
	struct vm vm;
	struct vmm_config cfg;
	struct vtd vtd;
	struct net_dev net[FI_NETS];
	uint8_t *ram;
	int peer[FI_NETS];      /* the fake vhost's end of net[i]'s socketpair */
	pthread_t loop;
	bool started, joined, done;
	int log_fd, saved_stderr;
};

static inline void fi_sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static inline struct fi *fi_new(void)
{
	struct fi *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->ram = calloc(1, FI_RAM_SIZE);
	assert_non_null(f->ram);
	assert_int_equal(guest_mem_add(&f->vm.mem, 0, FI_RAM_SIZE, f->ram), 0);
	f->vm.kvm_fd = f->vm.vm_fd = -1;
	f->vm.stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(f->vm.stop_fd >= 0);
	f->vm.cfg = &f->cfg;
	f->cfg.serial = SERIAL_NONE;
	f->cfg.nnets = FI_NETS;
	assert_int_equal(vtd_init(&f->vtd, &f->vm.mem, false, NULL, NULL), 0);
	f->vm.vtd = &f->vtd;
	for (unsigned i = 0; i < FI_NETS; i++) {
		struct net_dev *n = &f->net[i];
		int sv[2];
		assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
		assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
		snprintf(f->cfg.net[i].tap, sizeof(f->cfg.net[i].tap), "fitap%u", i);
		n->vm = &f->vm;
		n->index = i;
		n->iommu = true;
		n->vhost.vhost_fd = sv[0];
		n->vhost.tap_fd = -1;
		f->peer[i] = sv[1];
		assert_int_equal(iotlb_bridge_init(&n->bridge, sv[0], IOTLB_WIRE_V2,
						   (uint16_t)((1 + i) << 3), &f->vm.mem, &f->vtd.regs, 0), 0);
		assert_int_equal(vtd_add_bridge(&f->vtd, &n->bridge), 0);
		f->vm.net[i] = n;
	}
	f->vm.nnets = FI_NETS;
	f->log_fd = memfd_create("vmm-stderr", MFD_CLOEXEC);
	f->saved_stderr = dup(STDERR_FILENO);
	assert_true(f->log_fd >= 0 && f->saved_stderr >= 0);
	assert_int_equal(dup2(f->log_fd, STDERR_FILENO), STDERR_FILENO);
	return f;
}

static inline void *fi_loop_thread(void *arg)
{
	struct fi *f = arg;
	vm_run_event_loop(&f->vm);
	return NULL;
}

static inline void fi_start(struct fi *f)
{
	assert_int_equal(pthread_create(&f->loop, NULL, fi_loop_thread, f), 0);
	f->started = true;
}

static inline void fi_expect_served(struct fi *f, unsigned i);

/*
 * Start, and return once the loop has registered everything it watches: it
 * answers a miss on net 1 only after its setup (net 1 is never broken).
 */
static inline void fi_start_ready(struct fi *f)
{
	fi_start(f);
	fi_expect_served(f, 1);
}

/* Join the loop within FI_TIMEOUT_MS: false means it hangs. */
static inline bool fi_join(struct fi *f)
{
	if (!f->started || f->joined)
		return true;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += FI_TIMEOUT_MS / 1000;
	f->joined = pthread_timedjoin_np(f->loop, NULL, &ts) == 0;
	return f->joined;
}

/* Ask the loop to stop the way a powered-off guest does; it must return. */
static inline void fi_stop(struct fi *f)
{
	vm_request_stop(&f->vm, VMM_EXIT_POWEROFF, "test over");
	assert_true(fi_join(f));
}

/* What the VMM wrote on stderr so far, NUL-terminated, in buf. */
static inline const char *fi_log(struct fi *f, char *buf, size_t len)
{
	ssize_t got = pread(f->log_fd, buf, len - 1, 0);
	buf[got > 0 ? got : 0] = '\0';
	return buf;
}

static inline unsigned fi_log_count(struct fi *f, const char *needle)
{
	static char buf[65536];
	unsigned k = 0;
	for (const char *p = fi_log(f, buf, sizeof(buf)); (p = strstr(p, needle)) != NULL; p++)
		k++;
	return k;
}

/* Wait until stderr holds needle; fails the test after FI_TIMEOUT_MS. */
static inline void fi_expect_log(struct fi *f, const char *needle)
{
	for (unsigned ms = 0; fi_log_count(f, needle) == 0; ms++) {
		if (ms >= FI_TIMEOUT_MS)
			fail_msg("no \"%s\" on stderr after %u ms", needle, ms);
		fi_sleep_ms(1);
	}
}

/* The bridge counters of net i, read under vtd.lock like every writer. */
static inline struct iotlb_stats fi_stats(struct fi *f, unsigned i)
{
	pthread_mutex_lock(&f->vtd.lock);
	struct iotlb_stats st = f->net[i].bridge.st;
	pthread_mutex_unlock(&f->vtd.lock);
	return st;
}

/* Wait for a counter of net i (a struct iotlb_stats member) to reach want. */
#define FI_WAIT_STAT(f, i, member, want)                                                   \
	do {                                                                                \
		unsigned ms_ = 0;                                                           \
		while (fi_stats((f), (i)).member < (want)) {                                \
			if (ms_++ >= FI_TIMEOUT_MS)                                         \
				fail_msg("net%u: " #member " stays below %u", (unsigned)(i), \
					 (unsigned)(want));                                 \
			fi_sleep_ms(1);                                                     \
		}                                                                           \
	} while (0)

/* The fake vhost sends len raw bytes on net i. */
static inline void fi_send_raw(struct fi *f, unsigned i, const void *buf, size_t len)
{
	assert_int_equal(send(f->peer[i], buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

static inline void fi_send_miss(struct fi *f, unsigned i, uint64_t iova, uint8_t perm)
{
	uint8_t buf[IOTLB_WIRE_MAX];
	struct iotlb_msg m = { .type = IOTLB_MISS, .iova = iova, .perm = perm };
	int len = iotlb_encode(IOTLB_WIRE_V2, &m, buf, sizeof(buf));
	assert_true(len > 0);
	fi_send_raw(f, i, buf, (size_t)len);
}

/* The next UPDATE vhost gets on net i (other messages skipped); fails on timeout. */
static inline struct iotlb_msg fi_expect_update(struct fi *f, unsigned i)
{
	uint8_t buf[128];
	struct iotlb_msg m;
	for (;;) {
		struct pollfd p = { .fd = f->peer[i], .events = POLLIN };
		if (poll(&p, 1, FI_TIMEOUT_MS) != 1)
			fail_msg("net%u: no UPDATE within %u ms", i, FI_TIMEOUT_MS);
		ssize_t got = recv(f->peer[i], buf, sizeof(buf), 0);
		assert_true(got > 0);
		assert_int_equal(iotlb_decode(IOTLB_WIRE_V2, buf, (size_t)got, &m), 0);
		if (m.type == IOTLB_UPDATE)
			return m;
	}
}

/* Net i still works: a miss in RAM gets its identity UPDATE. */
static inline void fi_expect_served(struct fi *f, unsigned i)
{
	fi_send_miss(f, i, 0x5000, VTD_PERM_R);
	struct iotlb_msg m = fi_expect_update(f, i);
	assert_true(m.iova <= 0x5000 && 0x5000 - m.iova < m.size);
	assert_int_equal(m.uaddr + (0x5000 - m.iova), (uint64_t)(uintptr_t)(f->ram + 0x5000));
}

/* The loop sleeps: at most a fifth of a CPU over ms (a spinning loop takes all of one). */
static inline void fi_expect_idle(struct fi *f, unsigned ms)
{
	clockid_t cid;
	struct timespec a, b;
	assert_int_equal(pthread_getcpuclockid(f->loop, &cid), 0);
	assert_int_equal(clock_gettime(cid, &a), 0);
	fi_sleep_ms(ms);
	assert_int_equal(clock_gettime(cid, &b), 0);
	int64_t used = (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
	if (used > (int64_t)ms * 1000000 / 5)
		fail_msg("the event loop used %lld ms of CPU in %u ms: it spins",
			 (long long)(used / 1000000), ms);
}

/* Replace net i's vhost fd (read side) with fd, before fi_start. */
static inline void fi_set_vhost_fd(struct fi *f, unsigned i, int fd)
{
	assert_false(f->started);
	close(f->net[i].vhost.vhost_fd);
	f->net[i].vhost.vhost_fd = fd;
}

static inline void fi_done(struct fi *f)
{
	f->done = true;
}

static inline void fi_free(struct fi *f)
{
	if (f->started && !f->joined) {
		vm_request_stop(&f->vm, VMM_EXIT_POWEROFF, "teardown");
		if (!fi_join(f))
			return; /* a hung loop still uses f: leak it (the test has failed) */
	}
	char buf[8192];
	dup2(f->saved_stderr, STDERR_FILENO);
	close(f->saved_stderr);
	if (!f->done)
		fprintf(stderr, "--- the VMM's stderr in this test:\n%s---\n",
			fi_log(f, buf, sizeof(buf)));
	close(f->log_fd);
	for (unsigned i = 0; i < FI_NETS; i++) {
		if (f->net[i].bridge.fd != f->net[i].vhost.vhost_fd && f->net[i].bridge.fd >= 0)
			close(f->net[i].bridge.fd);
		close(f->net[i].vhost.vhost_fd);
		if (f->net[i].vhost.tap_fd >= 0)
			close(f->net[i].vhost.tap_fd);
		if (f->peer[i] >= 0)
			close(f->peer[i]);
	}
	close(f->vm.stop_fd);
	vtd_destroy(&f->vtd);
	free(f->ram);
	free(f);
}

#endif
