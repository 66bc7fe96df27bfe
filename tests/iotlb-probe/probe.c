/*
 * probe.c - prove that iommu/iotlb_codec.c speaks the kernel's vhost IOTLB
 * protocol from a 32-bit and a 64-bit process alike (`make probe32` builds
 * both, statically, from the same codec source; tests/e2e/probe-in-l1.sh
 * runs them in the test bed, which has /dev/vhost-net).
 *
 * What it does, against the real /dev/vhost-net:
 *   1. SET_OWNER; checks VIRTIO_F_ACCESS_PLATFORM is offered; negotiates
 *      VHOST_BACKEND_F_IOTLB_MSG_V2 (GET/SET_BACKEND_FEATURES). A 64-bit
 *      build falls back to v1 in its native layout on a kernel without the
 *      ioctl; a 32-bit build cannot (v1's layout differs from the 64-bit
 *      kernel's, which is the point of v2) and fails.
 *   2. SET_FEATURES (VERSION_1 | ACCESS_PLATFORM), SET_MEM_TABLE for a
 *      malloc'd region, and queue 1 with IOVAs (not host addresses) for
 *      its rings, plus kick/call eventfds.
 *   3. Provokes a MISS: VHOST_NET_SET_BACKEND (a TAP) makes vhost write the
 *      used ring's flags at once; with an empty IOTLB that queues a MISS
 *      for the used ring's IOVA and fails with EFAULT. (Should a kernel
 *      not touch the ring there, a kick makes the worker prefetch the
 *      rings, which misses the same way.)
 *   4. Reads the MISS with one read() and decodes it with the codec:
 *      exactly one message of the negotiated size, type MISS, an IOVA
 *      inside the rings. Answers with an UPDATE encoded by the codec that
 *      maps the ring IOVAs to the region, and checks vhost took it:
 *      SET_BACKEND now succeeds (or the kicked ring stops missing).
 *   5. Cross-checks the codec's sizes against the uapi structs as this
 *      compiler lays them out for this ABI.
 * Prints one line
 *   IOTLB-PROBE ok abi=32|64 wire=v2|v1 sizeof_v1=N sizeof_v2=N miss_iova=0x... miss_perm=N
 * and exits 0, or prints IOTLB-PROBE FAIL <why> and exits 1 (2: usage or
 * missing device/module: the environment, not the codec).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/if_tun.h>
#include <linux/vhost.h>
#include <net/if.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../../iommu/iommu.h"

#define F_VERSION_1       32
#define F_ACCESS_PLATFORM 33
#define QSIZE             16
#define QIDX              1           /* the transmit queue: a kick makes it run */
#define IOVA_BASE         0x40000000u /* rings live here in IOVA space: not a host address */
#define REGION            (64u << 10)
#define DESC_OFF          0x0000u
#define AVAIL_OFF         0x1000u
#define USED_OFF          0x2000u
#define RINGS_LEN         0x3000u

#if defined(__x86_64__) || defined(__LP64__)
#define ABI 64
#else
#define ABI 32
#endif

static int failf(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int failf(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("IOTLB-PROBE FAIL abi=%d ", ABI);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return status;
}

static int tap_open(char *name)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "iotlbp%d", ABI);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	int hdr = 12;
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	memcpy(name, ifr.ifr_name, IFNAMSIZ);
	return fd;
}

/* Wait up to ms for one message; returns bytes read, 0 on timeout, -errno. */
static int read_msg(int fd, uint8_t *buf, size_t len, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r = poll(&p, 1, ms);
	if (r < 0)
		return -errno;
	if (r == 0)
		return 0;
	ssize_t n = read(fd, buf, len);
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	return (int)n;
}

int main(void)
{
	/* 5. The codec's idea of the sizes must match the uapi structs of this ABI. */
	size_t sz_v1 = iotlb_wire_size(IOTLB_WIRE_V1_NATIVE), sz_v2 = iotlb_wire_size(IOTLB_WIRE_V2);
	if (sz_v1 != sizeof(struct vhost_msg) || sz_v2 != sizeof(struct vhost_msg_v2))
		return failf(1, "codec sizes v1=%zu v2=%zu, uapi structs %zu/%zu", sz_v1, sz_v2,
			     sizeof(struct vhost_msg), sizeof(struct vhost_msg_v2));
	if (sz_v1 != (ABI == 64 ? 72u : 68u) || sz_v2 != 72u)
		return failf(1, "unexpected sizes v1=%zu v2=%zu for this ABI", sz_v1, sz_v2);

	/* 1. */
	int vfd = open("/dev/vhost-net", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (vfd < 0)
		return failf(2, "cannot open /dev/vhost-net: %s", strerror(errno));
	if (ioctl(vfd, VHOST_SET_OWNER) < 0)
		return failf(1, "VHOST_SET_OWNER: %s", strerror(errno));
	uint64_t feat = 0;
	if (ioctl(vfd, VHOST_GET_FEATURES, &feat) < 0)
		return failf(1, "VHOST_GET_FEATURES: %s", strerror(errno));
	if (!(feat & (1ULL << F_ACCESS_PLATFORM)))
		return failf(1, "vhost-net lacks ACCESS_PLATFORM (features 0x%" PRIx64 ")", feat);
	uint64_t bf = 0;
	enum iotlb_wire wire;
	if (ioctl(vfd, VHOST_GET_BACKEND_FEATURES, &bf) == 0 &&
	    (bf & (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2))) {
		bf = 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2;
		if (ioctl(vfd, VHOST_SET_BACKEND_FEATURES, &bf) < 0)
			return failf(1, "VHOST_SET_BACKEND_FEATURES: %s", strerror(errno));
		wire = IOTLB_WIRE_V2;
	} else if (ABI == 64) {
		wire = IOTLB_WIRE_V1_NATIVE;
	} else {
		return failf(1, "no VHOST_BACKEND_F_IOTLB_MSG_V2: a 32-bit process cannot speak v1 "
			     "to a 64-bit kernel");
	}
	size_t wsize = iotlb_wire_size(wire);

	/* 2. */
	uint64_t f = (1ULL << F_VERSION_1) | (1ULL << F_ACCESS_PLATFORM);
	if (ioctl(vfd, VHOST_SET_FEATURES, &f) < 0)
		return failf(1, "VHOST_SET_FEATURES 0x%" PRIx64 ": %s", f, strerror(errno));
	uint8_t *region = aligned_alloc(4096, REGION);
	if (region == NULL)
		return failf(1, "out of memory");
	memset(region, 0, REGION);
	struct vhost_memory *mem = calloc(1, sizeof(*mem) + sizeof(mem->regions[0]));
	if (mem == NULL)
		return failf(1, "out of memory");
	mem->nregions = 1;
	mem->regions[0].guest_phys_addr = 0x100000;
	mem->regions[0].memory_size = REGION;
	mem->regions[0].userspace_addr = (uintptr_t)region;
	if (ioctl(vfd, VHOST_SET_MEM_TABLE, mem) < 0)
		return failf(1, "VHOST_SET_MEM_TABLE: %s", strerror(errno));
	int kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (kick < 0 || call < 0)
		return failf(1, "eventfd: %s", strerror(errno));
	struct vhost_vring_state num = { .index = QIDX, .num = QSIZE };
	struct vhost_vring_state base = { .index = QIDX, .num = 0 };
	struct vhost_vring_addr addr = {
		.index = QIDX,
		.desc_user_addr = IOVA_BASE + DESC_OFF,
		.avail_user_addr = IOVA_BASE + AVAIL_OFF,
		.used_user_addr = IOVA_BASE + USED_OFF,
	};
	struct vhost_vring_file kf = { .index = QIDX, .fd = kick }, cf = { .index = QIDX, .fd = call };
	if (ioctl(vfd, VHOST_SET_VRING_NUM, &num) < 0 || ioctl(vfd, VHOST_SET_VRING_BASE, &base) < 0 ||
	    ioctl(vfd, VHOST_SET_VRING_ADDR, &addr) < 0 || ioctl(vfd, VHOST_SET_VRING_KICK, &kf) < 0 ||
	    ioctl(vfd, VHOST_SET_VRING_CALL, &cf) < 0)
		return failf(1, "vring setup with IOVAs: %s", strerror(errno));
	char tapname[IFNAMSIZ] = "";
	int tap = tap_open(tapname);
	if (tap < 0)
		return failf(2, "cannot open a TAP: %s", strerror(-tap));

	/* 3. */
	struct vhost_vring_file be = { .index = QIDX, .fd = tap };
	int set_rc = ioctl(vfd, VHOST_NET_SET_BACKEND, &be);
	int set_errno = errno;
	bool kicked = false;
	if (set_rc == 0) {
		uint64_t one = 1;
		kicked = write(kick, &one, sizeof(one)) == sizeof(one);
	} else if (set_errno != EFAULT) {
		return failf(1, "VHOST_NET_SET_BACKEND: %s (expected EFAULT from an IOTLB miss)",
			     strerror(set_errno));
	}

	/* 4. */
	uint8_t buf[IOTLB_WIRE_MAX];
	int n = read_msg(vfd, buf, sizeof(buf), 5000);
	if (n <= 0)
		return failf(1, "no IOTLB message from vhost (%s; SET_BACKEND %s, kicked %d)",
			     n < 0 ? strerror(-n) : "timeout",
			     set_rc == 0 ? "succeeded" : strerror(set_errno), kicked);
	if ((size_t)n != wsize)
		return failf(1, "read %d bytes, the negotiated message is %zu", n, wsize);
	struct iotlb_msg m;
	int rc = iotlb_decode(wire, buf, (size_t)n, &m);
	if (rc < 0)
		return failf(1, "codec rejects vhost's message: %s", strerror(-rc));
	if (m.type != IOTLB_MISS)
		return failf(1, "message type %u, expected MISS", m.type);
	if (m.iova < IOVA_BASE || m.iova >= IOVA_BASE + RINGS_LEN)
		return failf(1, "MISS iova 0x%" PRIx64 " is not in the rings [0x%x, 0x%x)", m.iova,
			     IOVA_BASE, IOVA_BASE + RINGS_LEN);
	if (m.perm < VTD_PERM_R || m.perm > VTD_PERM_RW)
		return failf(1, "MISS perm %u", m.perm);
	/* The other format must refuse the same bytes (outer type or length differ). */
	struct iotlb_msg other;
	if (iotlb_decode(wire == IOTLB_WIRE_V2 ? IOTLB_WIRE_V1_NATIVE : IOTLB_WIRE_V2, buf,
			 (size_t)n, &other) == 0)
		return failf(1, "vhost's message also decodes in the other format");

	struct iotlb_msg up = {
		.type = IOTLB_UPDATE, .iova = IOVA_BASE, .size = RINGS_LEN,
		.uaddr = (uint64_t)(uintptr_t)region, .perm = VTD_PERM_RW,
	};
	n = iotlb_encode(wire, &up, buf, sizeof(buf));
	if (n < 0 || (size_t)n != wsize)
		return failf(1, "codec cannot encode UPDATE: %d", n);
	ssize_t w = write(vfd, buf, (size_t)n);
	if (w != n)
		return failf(1, "UPDATE write: %s", w < 0 ? strerror(errno) : "short");

	if (set_rc != 0) {
		/* vhost must now find the used ring: the UPDATE was understood. */
		if (ioctl(vfd, VHOST_NET_SET_BACKEND, &be) < 0)
			return failf(1, "VHOST_NET_SET_BACKEND after UPDATE: %s", strerror(errno));
	}
	/* Nothing else may be missing now: a kick makes vhost prefetch all three rings. */
	uint64_t one = 1;
	if (write(kick, &one, sizeof(one)) != sizeof(one))
		return failf(1, "kick: %s", strerror(errno));
	n = read_msg(vfd, buf, sizeof(buf), 500);
	if (n > 0 && iotlb_decode(wire, buf, (size_t)n, &other) == 0 && other.type == IOTLB_MISS)
		return failf(1, "still a MISS at 0x%" PRIx64 " after UPDATE [0x%x, +0x%x)", other.iova,
			     IOVA_BASE, RINGS_LEN);

	be.fd = -1;
	(void)ioctl(vfd, VHOST_NET_SET_BACKEND, &be);
	printf("IOTLB-PROBE ok abi=%d wire=%s sizeof_v1=%zu sizeof_v2=%zu miss_iova=0x%" PRIx64
	       " miss_perm=%u set_backend_first=%s tap=%s\n",
	       ABI, wire == IOTLB_WIRE_V2 ? "v2" : "v1", sz_v1, sz_v2, m.iova, m.perm,
	       set_rc == 0 ? "ok" : "EFAULT", tapname);
	close(tap);
	close(vfd);
	free(mem);
	free(region);
	return 0;
}
