/*
 * vhost_net.c - TAP + kernel vhost-net backend for virtio-net (see
 * vhost_net.h). The one place that speaks the vhost ioctl protocol.
 */
#include "vhost_net.h"
#include "../vmm/errmsg.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/vhost.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define VIRTIO_NET_HDR_LEN     12   /* struct virtio_net_hdr_v1 (VERSION_1 / MRG_RXBUF) */
#define F_GUEST_CSUM           1
#define F_GUEST_TSO4           7
#define F_GUEST_TSO6           8
#define F_GUEST_ECN            9
#define F_VERSION_1            32
#define F_ACCESS_PLATFORM      33

int tap_open(const char *name, char *err, size_t errlen)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return errmsg(err, errlen, -errno, "cannot open /dev/net/tun: %s", strerror(errno));
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		close(fd);
		return errmsg(err, errlen, -e, "cannot open TAP %s: %s%s", name, strerror(e),
			    e == EPERM ? " (it does not exist and creating it needs CAP_NET_ADMIN)" : "");
	}
	int hdr = VIRTIO_NET_HDR_LEN;
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		int e = errno;
		close(fd);
		return errmsg(err, errlen, -e, "TAP %s: TUNSETVNETHDRSZ: %s", name, strerror(e));
	}
	/* No offloads until the guest says what it can receive. */
	if (ioctl(fd, TUNSETOFFLOAD, 0) < 0) {
		int e = errno;
		close(fd);
		return errmsg(err, errlen, -e, "TAP %s: TUNSETOFFLOAD: %s", name, strerror(e));
	}
	return fd;
}

int tap_set_offload(int tap_fd, uint64_t f)
{
	unsigned off = 0;
	if (f & (1ULL << F_GUEST_CSUM)) {
		off |= TUN_F_CSUM;
		/* TSO needs checksum offload to be meaningful. */
		if (f & (1ULL << F_GUEST_TSO4))
			off |= TUN_F_TSO4;
		if (f & (1ULL << F_GUEST_TSO6))
			off |= TUN_F_TSO6;
		if ((off & (TUN_F_TSO4 | TUN_F_TSO6)) && (f & (1ULL << F_GUEST_ECN)))
			off |= TUN_F_TSO_ECN;
	}
	return ioctl(tap_fd, TUNSETOFFLOAD, off) < 0 ? -errno : 0;
}

int vhost_net_open(struct vhost_net *vn, const struct guest_mem *gm, int tap_fd, char *err,
		   size_t errlen)
{
	*vn = (struct vhost_net){ .vhost_fd = -1, .tap_fd = tap_fd, .gm = gm };
	const char *dev = getenv("VMM_VHOST_NET_DEVICE");
	if (dev == NULL || dev[0] == '\0')
		dev = "/dev/vhost-net";
	vn->vhost_fd = open(dev, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (vn->vhost_fd < 0)
		return errmsg(err, errlen, -errno, "cannot open %s: %s (load the vhost_net module)",
			    dev, strerror(errno));
	if (ioctl(vn->vhost_fd, VHOST_SET_OWNER) < 0)
		return errmsg(err, errlen, -errno, "VHOST_SET_OWNER: %s", strerror(errno));
	if (ioctl(vn->vhost_fd, VHOST_GET_FEATURES, &vn->features) < 0)
		return errmsg(err, errlen, -errno, "VHOST_GET_FEATURES: %s", strerror(errno));
	/* Kernels before 4.19 lack the ioctl: then only v1 IOTLB messages exist. */
	if (ioctl(vn->vhost_fd, VHOST_GET_BACKEND_FEATURES, &vn->backend_features) < 0)
		vn->backend_features = 0;

	const struct guest_mem *m = gm;
	struct vhost_memory *mem = calloc(1, sizeof(*mem) + m->nregions * sizeof(mem->regions[0]));
	if (mem == NULL)
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	mem->nregions = m->nregions;
	for (unsigned i = 0; i < m->nregions; i++)
		mem->regions[i] = (struct vhost_memory_region){
			.guest_phys_addr = m->region[i].gpa,
			.memory_size = m->region[i].size,
			.userspace_addr = (uintptr_t)m->region[i].host,
		};
	int rc = ioctl(vn->vhost_fd, VHOST_SET_MEM_TABLE, mem);
	free(mem);
	if (rc < 0)
		return errmsg(err, errlen, -errno, "VHOST_SET_MEM_TABLE: %s", strerror(errno));
	return 0;
}

int vhost_net_enable_iotlb(struct vhost_net *vn, vhost_net_prefill_fn prefill, void *opaque,
			   bool *v2, char *err, size_t errlen)
{
	if (!(vn->features & (1ULL << F_ACCESS_PLATFORM)))
		return errmsg(err, errlen, -EOPNOTSUPP,
			    "this kernel's vhost-net has no IOTLB (VHOST_GET_FEATURES 0x%llx lacks "
			    "VIRTIO_F_ACCESS_PLATFORM, bit 33; Linux >= 4.14 has it): use iommu=off",
			    (unsigned long long)vn->features);
	/*
	 * v2 has one layout on every ABI; v1 (struct vhost_msg) is the
	 * kernel's native layout, which this build only matches when it has
	 * the kernel's word size (vhost has no compat path for it).
	 */
	bool use_v2 = vn->backend_features & (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2);
	if (use_v2) {
		uint64_t bf = 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2;
		if (ioctl(vn->vhost_fd, VHOST_SET_BACKEND_FEATURES, &bf) < 0)
			return errmsg(err, errlen, -errno, "VHOST_SET_BACKEND_FEATURES (IOTLB_MSG_V2): %s",
				    strerror(errno));
	}
	/* Creates vhost's device IOTLB (emptied again by every later SET_FEATURES). */
	uint64_t f = vn->features & ((1ULL << F_ACCESS_PLATFORM) | (1ULL << F_VERSION_1));
	if (ioctl(vn->vhost_fd, VHOST_SET_FEATURES, &f) < 0)
		return errmsg(err, errlen, -errno, "VHOST_SET_FEATURES 0x%llx (ACCESS_PLATFORM): %s",
			    (unsigned long long)f, strerror(errno));
	vn->iotlb = true;
	vn->iotlb_v2 = use_v2;
	vn->prefill = prefill;
	vn->prefill_opaque = opaque;
	*v2 = use_v2;
	return 0;
}

/*
 * Without ACCESS_PLATFORM vhost wants the rings' host virtual addresses;
 * a ring the guest placed outside RAM is refused here, never handed on.
 */
static int ring_addr(const struct vhost_net *vn, bool iova, uint64_t gpa, uint64_t len,
		     __u64 *out)
{
	if (iova) {
		*out = gpa;
		return 0;
	}
	void *p = guest_mem_ptr(vn->gm, gpa, len);
	if (p == NULL)
		return -EFAULT;
	*out = (uintptr_t)p;
	return 0;
}

static void prefill_queue(const struct vhost_net *vn, const struct vhost_net_queue *q)
{
	uint64_t n = q->size;
	vn->prefill(vn->prefill_opaque, q->device, 6 + 8 * n);
	vn->prefill(vn->prefill_opaque, q->driver, 6 + 2 * n);
	vn->prefill(vn->prefill_opaque, q->desc, 16 * n);
}

/*
 * Attach the TAP to queue i. Behind an IOMMU the prefilled translations may
 * be gone by now: an invalidation from another vCPU (e.g. a lazy IOTLB
 * flush) is not serialised with this, and vhost then fails with EFAULT at
 * once instead of waiting for a miss to be answered. So prefill again and
 * retry, a few times: a used ring the guest really did not map still fails.
 */
static int attach_queue(struct vhost_net *vn, bool iova, unsigned i,
			const struct vhost_net_queue *q)
{
	struct vhost_vring_file be = { .index = i, .fd = vn->tap_fd };
	for (unsigned tries = 0;; tries++) {
		if (ioctl(vn->vhost_fd, VHOST_NET_SET_BACKEND, &be) == 0)
			return 0;
		if (errno != EFAULT || !iova || vn->prefill == NULL || tries >= 3)
			return -errno;
		prefill_queue(vn, q);
	}
}

int vhost_net_start(struct vhost_net *vn, uint64_t features,
		    const struct vhost_net_queue q[VHOST_NET_QUEUES], char *err, size_t errlen)
{
	if (vn->running)
		vhost_net_stop(vn);
	bool iova = features & (1ULL << F_ACCESS_PLATFORM);
	/* Without the device IOTLB vhost would take IOVAs for host addresses. */
	if (iova && !vn->iotlb)
		return errmsg(err, errlen, -EINVAL, "ACCESS_PLATFORM without an IOMMU");
	/* Device-level bits (CSUM, TSO, MAC) concern the TAP, not vhost. */
	uint64_t vf = features & vn->features;
	if (ioctl(vn->vhost_fd, VHOST_SET_FEATURES, &vf) < 0)
		return errmsg(err, errlen, -errno, "VHOST_SET_FEATURES 0x%llx: %s",
			    (unsigned long long)vf, strerror(errno));
	int rc = tap_set_offload(vn->tap_fd, features);
	if (rc < 0)
		return errmsg(err, errlen, rc, "TUNSETOFFLOAD: %s", strerror(-rc));

	for (unsigned i = 0; i < VHOST_NET_QUEUES; i++) {
		uint64_t n = q[i].size;
		struct vhost_vring_addr a = { .index = i };
		if (ring_addr(vn, iova, q[i].desc, 16 * n, &a.desc_user_addr) < 0 ||
		    ring_addr(vn, iova, q[i].driver, 6 + 2 * n, &a.avail_user_addr) < 0 ||
		    ring_addr(vn, iova, q[i].device, 6 + 8 * n, &a.used_user_addr) < 0)
			return errmsg(err, errlen, -EFAULT, "queue %u: ring outside guest RAM", i);
		struct vhost_vring_state num = { .index = i, .num = q[i].size };
		struct vhost_vring_state base = { .index = i, .num = 0 };
		struct vhost_vring_file kick = { .index = i, .fd = q[i].kick_fd };
		struct vhost_vring_file call = { .index = i, .fd = q[i].call_fd };
		if (ioctl(vn->vhost_fd, VHOST_SET_VRING_NUM, &num) < 0 ||
		    ioctl(vn->vhost_fd, VHOST_SET_VRING_BASE, &base) < 0 ||
		    ioctl(vn->vhost_fd, VHOST_SET_VRING_ADDR, &a) < 0 ||
		    ioctl(vn->vhost_fd, VHOST_SET_VRING_KICK, &kick) < 0 ||
		    ioctl(vn->vhost_fd, VHOST_SET_VRING_CALL, &call) < 0)
			return errmsg(err, errlen, -errno, "queue %u: vhost ring setup: %s", i,
				    strerror(errno));
	}
	/*
	 * IOVAs: SET_FEATURES above gave vhost a new, empty IOTLB, and
	 * SET_BACKEND touches the used ring at once (see vhost_net.h).
	 */
	for (unsigned i = 0; iova && vn->prefill && i < VHOST_NET_QUEUES; i++)
		prefill_queue(vn, &q[i]);
	for (unsigned i = 0; i < VHOST_NET_QUEUES; i++) {
		int rc = attach_queue(vn, iova, i, &q[i]);
		if (rc < 0) {
			int e = -rc;
			/*
			 * Detach the queues already attached: `running` stays false,
			 * so no stop would, and vhost would go on using rings the
			 * driver frees when it resets the failed device (and refuse
			 * every later start with EBUSY).
			 */
			for (unsigned j = 0; j < i; j++) {
				struct vhost_vring_file off = { .index = j, .fd = -1 };
				(void)ioctl(vn->vhost_fd, VHOST_NET_SET_BACKEND, &off);
			}
			return errmsg(err, errlen, -e, "queue %u: VHOST_NET_SET_BACKEND: %s%s", i,
				    strerror(e),
				    iova && e == EFAULT
					    ? " (the used ring's IOVA has no translation: not mapped by the guest?)"
					    : "");
		}
	}
	vn->running = true;
	return 0;
}

int vhost_net_stop(struct vhost_net *vn)
{
	if (!vn->running)
		return 0;
	int rc = 0;
	for (unsigned i = 0; i < VHOST_NET_QUEUES; i++) {
		struct vhost_vring_file be = { .index = i, .fd = -1 };
		if (ioctl(vn->vhost_fd, VHOST_NET_SET_BACKEND, &be) < 0)
			rc = -errno;
		struct vhost_vring_state st = { .index = i };
		if (ioctl(vn->vhost_fd, VHOST_GET_VRING_BASE, &st) == 0)
			vn->last_avail[i] = (uint16_t)st.num;
		else
			rc = -errno;
	}
	vn->running = false;
	return rc;
}

void vhost_net_close(struct vhost_net *vn)
{
	vhost_net_stop(vn);
	if (vn->vhost_fd >= 0)
		close(vn->vhost_fd);
	if (vn->tap_fd >= 0)
		close(vn->tap_fd);
	vn->vhost_fd = vn->tap_fd = -1;
}
