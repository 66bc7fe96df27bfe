/*
 * iotlb_serve.c - the event loop's side of the nets behind the VT-d: it
 * answers the IOTLB misses vhost queues on each device's vhost fd, and
 * relays the guest's kicks when the kick relay is on (vmm/net.h).
 *
 * IOTLB misses: vhost queues a MISS and stalls the ring until an UPDATE
 * covers it, so every miss left unanswered is a stalled queue. The fds are
 * O_NONBLOCK (vhost_net_open) and level-triggered in the loop: a wakeup
 * serves a batch (each read() returns exactly one whole message;
 * vtd_handle_miss takes vtd.lock only, see vmm/net.h for the lock order),
 * then the other fds get their turn and epoll reports the rest.
 *
 * Failures: a miss that gets no UPDATE is counted, and logged once per kind
 * and device with its IOVA and errno; serving goes on. A vhost fd that
 * fails to read, ends, or reports ERR/HUP with nothing left to read leaves
 * epoll with a message (that device stalls, the VM runs on). Every path
 * consumes a message or leaves epoll, so no error can keep the loop
 * spinning.
 *
 * Everything here runs on the event-loop thread.
 */
#include "net.h"
#include "vm.h"

#include "../iommu/iommu.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* Misses served per wakeup before the other fds get a turn. */
#define IOTLB_BATCH 64

/* Kinds of IOTLB trouble, each logged once per device (bits of net_dev.iotlb_logged). */
enum { LOG_FAULT = 1, LOG_WRITE = 2, LOG_BADMSG = 4, LOG_KICK = 8 };

struct net_dev *iotlb_net(struct vm *vm, int fd)
{
	for (unsigned i = 0; i < vm->nnets; i++)
		if (vm->net[i]->iommu && vm->net[i]->vhost.vhost_fd == fd)
			return vm->net[i];
	return NULL;
}

static const char *access_name(unsigned perm)
{
	return perm == VTD_PERM_RW ? "read/write" : perm == VTD_PERM_W ? "write" : "read";
}

/*
 * Log the first problem of each kind per device, naming the IOVA and the
 * errno; the --stats counters have the rest, so neither a guest nor a
 * broken vhost can flood stderr.
 */
static void iotlb_log_once(struct net_dev *n, unsigned kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void iotlb_log_once(struct net_dev *n, unsigned kind, const char *fmt, ...)
{
	if (n->iotlb_logged & kind)
		return;
	n->iotlb_logged |= kind;
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "vmm: net%u: %s; further ones are only counted\n", n->index, msg);
}

/* The net and queue whose relayed doorbell fd is, if any. */
struct net_dev *kick_net(struct vm *vm, int fd, unsigned *queue)
{
	for (unsigned i = 0; i < vm->nnets; i++)
		for (unsigned q = 0; vm->net[i]->kick_relay && q < VHOST_NET_QUEUES; q++)
			if (vm->net[i]->kick_fd[q] == fd) {
				*queue = q;
				return vm->net[i];
			}
	return NULL;
}

/*
 * A relayed kick (vmm/net.h): drain the doorbell first, so that a kick
 * arriving during the scan wakes the loop again instead of being lost;
 * push the next kick_first entries of the kicked queue; wake vhost; then
 * push the rest of both queues while vhost works on those, so vhost does
 * not wait for a whole scan (kick_first = 0: the whole kicked queue before
 * the kick, nothing after; the A/Bs in docs/BENCHMARKS-LOG.md did not tell the
 * two apart). Kicks that piled up while the loop was busy cost one scan.
 * Neither eventfd can fail but by EAGAIN: nothing to read (a spurious
 * wakeup: nothing to pass on), or vhost's counter full (it has a kick
 * pending anyway).
 */
void kick_relay(struct vm *vm, struct net_dev *n, unsigned q)
{
	uint64_t count;
	if (read(n->kick_fd[q], &count, sizeof(count)) != sizeof(count))
		return;
	vtd_kick_scan(vm->vtd, &n->bridge, q, n->kick_first);
	uint64_t one = 1;
	if (write(n->vhost_kick_fd[q], &one, sizeof(one)) < 0 && errno != EAGAIN)
		iotlb_log_once(n, LOG_KICK, "cannot pass a kick of queue %u on to vhost: %s", q,
			       strerror(errno));
	if (n->kick_first != 0)
		vtd_kick_scan(vm->vtd, &n->bridge, IOTLB_VRINGS, 0);
	/* relaying is written on this thread only: no lock to read it. */
	if (n->relay_auto && n->relaying && !vtd_relay_wanted(vm->vtd, &n->bridge, true))
		net_relay_switch(n, false);
}

/* Stop polling a vhost fd that can no longer deliver misses; the device stalls. */
static void iotlb_drop(int ep, struct net_dev *n, const char *why)
{
	fprintf(stderr, "vmm: net%u: no more IOTLB misses from vhost: %s; its queues will stall\n",
		n->index, why);
	epoll_ctl(ep, EPOLL_CTL_DEL, n->vhost.vhost_fd, NULL);
}

/*
 * A miss that got no UPDATE. vtd_handle_miss says -EFAULT (no translation
 * to guest RAM: a fault is recorded for the guest), -EINVAL (malformed) or,
 * for a failed write, -EIO without the cause: the cause is the errno the
 * bridge kept in st.last_write_errno (err, 0 for a short write).
 */
static void iotlb_log_miss(struct vm *vm, struct net_dev *n, const struct iotlb_msg *m, int rc,
			   int err, unsigned status)
{
	unsigned long long iova = m->iova;
	const char *acc = access_name(m->perm);
	if (rc == -EFAULT) {
		if (n->iotlb_logged & LOG_FAULT)
			return;
		/*
		 * Say whether the guest queued that IOVA: if a pending buffer
		 * covers it, the driver handed the device an address it had not
		 * mapped; if none does, the device is reading a descriptor that
		 * is not queued (stale data, e.g. through a stale translation).
		 */
		struct iotlb_ring_hit h;
		char where[160];
		int found = vtd_find_in_rings(vm->vtd, &n->bridge, m->iova, &h);
		if (found == 1)
			snprintf(where, sizeof(where),
				 "queued by the guest: queue %u avail[%u] (used %u, avail %u) head %u, "
				 "%sdescriptor %u [0x%llx, +0x%x)",
				 h.queue, h.avail_pos, h.used_idx, h.avail_idx, h.head,
				 h.indirect ? "indirect " : "", h.desc, (unsigned long long)h.addr, h.len);
		else
			snprintf(where, sizeof(where), "%s",
				 found == 0 ? "in no buffer the guest has queued"
					    : "the rings could not be read");
		char st[32] = "";
		if (status != 0)
			snprintf(st, sizeof(st), " (walk status 0x%x)", status);
		iotlb_log_once(n, LOG_FAULT, "IOTLB miss for iova 0x%llx (%s) has no translation to "
			       "guest RAM%s, nothing sent to vhost; it is %s", iova, acc, st, where);
		return;
	}
	if (rc == -EINVAL) {
		iotlb_log_once(n, LOG_BADMSG, "IOTLB miss for iova 0x%llx (%s) refused as malformed",
			       iova, acc);
		return;
	}
	int e = rc != -EIO ? -rc : err;
	iotlb_log_once(n, LOG_WRITE, "cannot write the IOTLB UPDATE for iova 0x%llx (%s) to vhost: "
		       "%s; the queue that missed waits for vhost to ask again", iova, acc,
		       e ? strerror(e) : "short write");
}

/*
 * Read and answer one message from n's vhost fd: 1 when one was consumed,
 * 0 when none was waiting, -1 when the fd was dropped. Not vtd_service_fd,
 * which does the same read/decode/vtd_handle_miss but folds read() errors
 * into the miss status codes (a read EIO looks like a failed UPDATE, EINVAL
 * like a bad message, so a broken fd was read again and again at full speed)
 * and keeps the message, so no IOVA could be logged.
 */
static int iotlb_serve_one(struct vm *vm, int ep, struct net_dev *n, uint64_t mark)
{
	uint8_t buf[IOTLB_WIRE_MAX];
	ssize_t got;
	do {
		got = read(n->vhost.vhost_fd, buf, sizeof(buf));
	} while (got < 0 && errno == EINTR);
	if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		vtd_queue_empty(vm->vtd, &n->bridge, mark); /* late misses: iommu.h 5e */
		return 0;
	}
	if (got <= 0) { /* vhost never ends its stream; an error here would repeat */
		char why[96] = "end of file";
		if (got < 0)
			snprintf(why, sizeof(why), "read: %s", strerror(errno));
		iotlb_drop(ep, n, why);
		return -1;
	}
	struct iotlb_msg m;
	size_t want = iotlb_wire_size(n->bridge.wire);
	int dec = iotlb_decode(n->bridge.wire, buf, (size_t)got, &m);
	if (dec < 0 || m.type != IOTLB_MISS) {
		pthread_mutex_lock(&vm->vtd->lock); /* bridge counters are vtd.lock's */
		n->bridge.st.bad_msgs++;
		pthread_mutex_unlock(&vm->vtd->lock);
		if ((size_t)got != want)
			iotlb_log_once(n, LOG_BADMSG, "IOTLB message from vhost of %zd bytes, not %zu "
				       "(truncated?), ignored", got, want);
		else if (dec < 0)
			iotlb_log_once(n, LOG_BADMSG, "undecodable %zd-byte IOTLB message from vhost "
				       "ignored", got);
		else
			iotlb_log_once(n, LOG_BADMSG, "IOTLB message of type %u for iova 0x%llx from "
				       "vhost ignored: only MISS is expected", m.type,
				       (unsigned long long)m.iova);
		return 1;
	}
	int rc = vtd_handle_miss(vm->vtd, &n->bridge, &m);
	if (rc != 0 && rc != -ESTALE) { /* a late MISS is only counted */
		/* The bridge keeps the write's errno; read it under the lock it is written under. */
		pthread_mutex_lock(&vm->vtd->lock);
		int err = n->bridge.st.last_write_errno;
		unsigned status = n->bridge.st.last_status;
		pthread_mutex_unlock(&vm->vtd->lock);
		iotlb_log_miss(vm, n, &m, rc, err, status);
	}
	return 1;
}

/*
 * Serve a batch. Read whatever epoll said (EPOLLIN, ERR or HUP): queued
 * misses still get answers, and read() tells why an fd went bad; only a
 * fd that has nothing left to read and still reports ERR/HUP is dropped.
 */
void iotlb_serve(struct vm *vm, int ep, struct net_dev *n, uint32_t events)
{
	/* Taken before the first read: valid for whichever read finds it empty. */
	uint64_t mark = vtd_queue_mark(vm->vtd, &n->bridge);
	for (unsigned k = 0; k < IOTLB_BATCH; k++) {
		int rc = iotlb_serve_one(vm, ep, n, mark);
		if (rc < 0)
			return;
		if (rc == 0) {
			if (events & (EPOLLERR | EPOLLHUP))
				iotlb_drop(ep, n, events & EPOLLERR ? "the fd reports an error (EPOLLERR)"
								    : "hang-up (EPOLLHUP)");
			break;
		}
	}
	/* The auto relay turns on where it pays: on the misses it would save
	 * (it turns off on a relayed kick, kick_relay). */
	if (n->relay_auto && !n->relaying && vtd_relay_wanted(vm->vtd, &n->bridge, false))
		net_relay_switch(n, true);
}
