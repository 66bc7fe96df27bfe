/*
 * test_vhost_net_regress.c - regressions in devices/vhost_net.c found by the
 * hostile VT-d guest work (issue 6).
 *
 * vhost_net_start() attaches the TAP to queue 0, then to queue 1. When the
 * second VHOST_NET_SET_BACKEND fails (behind the VT-d it fails with EFAULT
 * whenever vhost has no translation for the transmit queue's used ring at
 * that moment: the guest did not map it, or an invalidation from another
 * vCPU emptied vhost's IOTLB between the prefill and the ioctl), the
 * function returns an error with queue 0 still attached and `running`
 * false. Nothing detaches it afterwards: vhost_net_stop() returns at once
 * when not running, and virtio_pci does not even call stop for a device
 * whose start failed. So
 *   - after the guest resets the device, vhost still owns the receive
 *     queue and keeps writing received frames through rings the driver
 *     has freed (DMA after reset), and
 *   - every later start fails with EBUSY (vhost refuses VHOST_SET_VRING_NUM
 *     on a queue with a backend): the NIC is dead until the VMM restarts.
 *
 * Behind the VT-d, vhost_net_start() first prefills the rings' translations
 * (synthetic misses answered under the VT-d lock) and then attaches the
 * TAP, without that lock. An invalidation another vCPU makes in between
 * (a global IOTLB flush: Linux's lazy flush queue does them on any CPU)
 * empties vhost's IOTLB, and VHOST_NET_SET_BACKEND, which writes the used
 * ring's flags at once, fails with EFAULT: the device does not start, is
 * flagged NEEDS_RESET (which Linux 6.1's virtio-net ignores), and the
 * guest's NIC stays dead although the guest did nothing wrong.
 *
 * The tests play /dev/vhost-net with an ioctl() of their own that keeps
 * each queue's backend and answers as the kernel does (drivers/vhost).
 * This program's ioctl() takes the place of libc's for every object linked
 * in; requests on other fds go to the real system call.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../devices/vhost_net.h"

static struct {
	int vhost_fd, tap_fd;
	int backend[VHOST_NET_QUEUES]; /* -1: none */
	int fail_backend_index;        /* SET_BACKEND with an fd on it fails (EFAULT) */
	unsigned set_backend_calls;
	/* Device IOTLB model: is the used ring of queue i translated? */
	bool iotlb;
	bool used_mapped[VHOST_NET_QUEUES];
	uint64_t used_iova[VHOST_NET_QUEUES];
	unsigned invalidate_before_backend; /* an INVALIDATE lands before SET_BACKEND call n (1-based) */
} fake = { .vhost_fd = -1, .tap_fd = -1 };

/* net_iommu.c's prefill: a miss answered with an UPDATE for the range. */
static void fake_prefill(void *opaque, uint64_t iova, uint64_t len)
{
	(void)opaque;
	for (unsigned i = 0; i < VHOST_NET_QUEUES; i++)
		if (fake.used_iova[i] >= iova && fake.used_iova[i] - iova < len)
			fake.used_mapped[i] = true;
}

int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	if (fd != fake.vhost_fd || fd < 0) {
		if (fd == fake.tap_fd && fd >= 0)
			return 0; /* TUNSETOFFLOAD */
		return (int)syscall(SYS_ioctl, fd, req, arg);
	}
	switch (req) {
	case VHOST_SET_VRING_NUM:
	case VHOST_SET_VRING_BASE: {
		/* drivers/vhost/vhost.c: not with an active backend. */
		const struct vhost_vring_state *s = arg;
		if (s->index >= VHOST_NET_QUEUES) {
			errno = ENOBUFS;
			return -1;
		}
		if (fake.backend[s->index] >= 0) {
			errno = EBUSY;
			return -1;
		}
		return 0;
	}
	case VHOST_GET_VRING_BASE: {
		struct vhost_vring_state *s = arg;
		s->num = 0;
		return 0;
	}
	case VHOST_NET_SET_BACKEND: {
		const struct vhost_vring_file *f = arg;
		fake.set_backend_calls++;
		if (f->index >= VHOST_NET_QUEUES) {
			errno = ENOBUFS;
			return -1;
		}
		if (fake.set_backend_calls == fake.invalidate_before_backend)
			for (unsigned i = 0; i < VHOST_NET_QUEUES; i++)
				fake.used_mapped[i] = false; /* another vCPU flushed the IOTLB */
		if (f->fd >= 0 && fake.iotlb && !fake.used_mapped[f->index]) {
			errno = EFAULT; /* vhost_vq_init_access: the used ring misses */
			return -1;
		}
		if (f->fd >= 0 && (int)f->index == fake.fail_backend_index) {
			errno = EFAULT; /* vhost_vq_init_access: used ring not accessible */
			return -1;
		}
		fake.backend[f->index] = f->fd;
		return 0;
	}
	default: /* SET_FEATURES, SET_VRING_ADDR/KICK/CALL */
		return 0;
	}
}

#define RAM_SIZE (1u << 20)

struct rig {
	struct guest_mem gm;
	uint8_t *ram;
	struct vhost_net vn;
	struct vhost_net_queue q[VHOST_NET_QUEUES];
};

static int setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->ram = calloc(1, RAM_SIZE);
	assert_non_null(r->ram);
	assert_int_equal(guest_mem_add(&r->gm, 0, RAM_SIZE, r->ram), 0);
	fake.vhost_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	fake.tap_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	assert_true(fake.vhost_fd >= 0 && fake.tap_fd >= 0);
	for (unsigned i = 0; i < VHOST_NET_QUEUES; i++)
		fake.backend[i] = -1;
	fake.fail_backend_index = -1;
	fake.set_backend_calls = 0;
	fake.iotlb = false;
	fake.invalidate_before_backend = 0;
	r->vn = (struct vhost_net){ .vhost_fd = fake.vhost_fd, .tap_fd = fake.tap_fd, .gm = &r->gm,
				    .features = 1ull << 32 /* VERSION_1 */ };
	for (unsigned i = 0; i < VHOST_NET_QUEUES; i++)
		r->q[i] = (struct vhost_net_queue){ .size = 256, .desc = 0x10000 + 0x4000 * i,
						    .driver = 0x11000 + 0x4000 * i,
						    .device = 0x12000 + 0x4000 * i,
						    .kick_fd = -1, .call_fd = -1 };
	for (unsigned i = 0; i < VHOST_NET_QUEUES; i++) {
		fake.used_iova[i] = r->q[i].device;
		fake.used_mapped[i] = false;
	}
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct rig *r = *state;
	close(fake.vhost_fd);
	close(fake.tap_fd);
	fake.vhost_fd = fake.tap_fd = -1;
	free(r->ram);
	free(r);
	return 0;
}

/* The baseline: start attaches both queues, stop detaches both. */
static void test_start_stop(void **state)
{
	struct rig *r = *state;
	char err[256];
	assert_int_equal(vhost_net_start(&r->vn, 1ull << 32, r->q, err, sizeof(err)), 0);
	assert_int_equal(fake.backend[0], fake.tap_fd);
	assert_int_equal(fake.backend[1], fake.tap_fd);
	assert_int_equal(vhost_net_stop(&r->vn), 0);
	assert_int_equal(fake.backend[0], -1);
	assert_int_equal(fake.backend[1], -1);
}

/* A start that fails on the transmit queue must not leave the receive queue attached. */
static void test_failed_start_detaches_earlier_queues(void **state)
{
	struct rig *r = *state;
	char err[256];
	fake.fail_backend_index = 1;
	assert_true(vhost_net_start(&r->vn, 1ull << 32, r->q, err, sizeof(err)) < 0);
	/* The device reset that follows (net_stop -> vhost_net_stop, if at all). */
	(void)vhost_net_stop(&r->vn);
	assert_int_equal(fake.backend[0], -1); /* fails: vhost keeps the RX queue */
	assert_int_equal(fake.backend[1], -1);
}

/* ... and the driver's next start (all well now) must work. */
static void test_start_after_failed_start(void **state)
{
	struct rig *r = *state;
	char err[256] = "";
	fake.fail_backend_index = 1;
	assert_true(vhost_net_start(&r->vn, 1ull << 32, r->q, err, sizeof(err)) < 0);
	(void)vhost_net_stop(&r->vn);
	fake.fail_backend_index = -1;
	int rc = vhost_net_start(&r->vn, 1ull << 32, r->q, err, sizeof(err));
	if (rc != 0)
		print_error("second start: %s\n", err); /* "queue 0: vhost ring setup: Device or resource busy" */
	assert_int_equal(rc, 0);
	assert_int_equal(fake.backend[0], fake.tap_fd);
	assert_int_equal(fake.backend[1], fake.tap_fd);
}

/* Behind the VT-d: with the rings prefilled, the start works. */
static void test_iotlb_start(void **state)
{
	struct rig *r = *state;
	char err[256] = "";
	fake.iotlb = true;
	r->vn.iotlb = true;
	r->vn.prefill = fake_prefill;
	uint64_t f = 1ull << 32 | 1ull << 33; /* VERSION_1, ACCESS_PLATFORM */
	assert_int_equal(vhost_net_start(&r->vn, f, r->q, err, sizeof(err)), 0);
	assert_int_equal(fake.backend[0], fake.tap_fd);
	assert_int_equal(fake.backend[1], fake.tap_fd);
}

/* An invalidation between the prefill and SET_BACKEND must not fail the start. */
static void test_iotlb_start_with_concurrent_invalidation(void **state)
{
	struct rig *r = *state;
	char err[256] = "";
	fake.iotlb = true;
	r->vn.iotlb = true;
	r->vn.prefill = fake_prefill;
	uint64_t f = 1ull << 32 | 1ull << 33;
	for (unsigned at = 1; at <= 2; at++) { /* before queue 0's, before queue 1's */
		fake.set_backend_calls = 0;
		fake.invalidate_before_backend = at;
		int rc = vhost_net_start(&r->vn, f, r->q, err, sizeof(err));
		if (rc != 0)
			print_error("invalidation before SET_BACKEND #%u: %s\n", at, err);
		assert_int_equal(rc, 0);
		assert_int_equal(fake.backend[0], fake.tap_fd);
		assert_int_equal(fake.backend[1], fake.tap_fd);
		assert_int_equal(vhost_net_stop(&r->vn), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_start_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_start_detaches_earlier_queues, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_start_after_failed_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iotlb_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iotlb_start_with_concurrent_invalidation, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
