/*
 * test_fault_inject.c - what the VMM does when its vhost fds, its UPDATE
 * writes or its TAPs fail (issue 6). The real event loop runs on a thread
 * (fault_inject_util.h); faults are injected at the fd level, no syscall is
 * mocked:
 *   write of an UPDATE   /dev/full (ENOSPC), an O_RDONLY fd (EBADF), a pty
 *                        whose master is gone (EIO), the peer shut for
 *                        reading (EPIPE), a 1-byte SO_SNDBUF (EAGAIN);
 *   read of vhost        a truncated message, garbage, a non-MISS message,
 *                        an inotify fd whose next event does not fit
 *                        (EINVAL, forever readable), a pty whose slave is
 *                        gone (EIO), end of file, an endless stream of
 *                        8-byte reads (an eventfd), an fd epoll refuses;
 *   the TAP              a real TAP set down, up again, and deleted under
 *                        the VMM (skipped without CAP_NET_ADMIN).
 * Each case must: say on stderr which device, which IOVA (when there is
 * one) and which errno; keep serving (the other device, or the same one
 * when the fault was one message); not spin (the loop's CPU time while
 * idle); and stop when asked, or stop by itself with an exit message.
 */
#include "fault_inject_util.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "../../devices/vhost_net.h"

struct ctx {
	const void *param;
	struct fi *f;
	char dir[64]; /* an empty scratch directory, removed at teardown if set */
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	c->param = *state;
	c->f = fi_new();
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	fi_free(c->f);
	if (c->dir[0])
		rmdir(c->dir); /* its one file was unlinked once inotify had seen it */
	free(c);
	return 0;
}

/* A pty end whose other end is closed: master -> read EIO, slave -> write EIO. */
static int dead_pty(bool want_master)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	assert_true(m >= 0);
	assert_int_equal(grantpt(m), 0);
	assert_int_equal(unlockpt(m), 0);
	int s = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	assert_true(s >= 0);
	close(want_master ? s : m);
	return want_master ? m : s;
}

/* ------------------------------------------------- writing an UPDATE fails */

struct write_case {
	int err;
	void (*inject)(struct fi *f);
};

static void bridge_fd(struct fi *f, int fd)
{
	assert_true(fd >= 0);
	f->net[0].bridge.fd = fd; /* vhost's read side stays the socketpair */
}

static void inject_full(struct fi *f) { bridge_fd(f, open("/dev/full", O_WRONLY | O_CLOEXEC)); }
static void inject_rdonly(struct fi *f) { bridge_fd(f, open("/dev/null", O_RDONLY | O_CLOEXEC)); }
static void inject_pty(struct fi *f) { bridge_fd(f, dead_pty(false)); }
static void inject_peer_shut(struct fi *f) { assert_int_equal(shutdown(f->peer[0], SHUT_RD), 0); }

static void inject_small_sndbuf(struct fi *f)
{
	int one = 1;
	assert_int_equal(setsockopt(f->net[0].bridge.fd, SOL_SOCKET, SO_SNDBUF, &one, sizeof(one)), 0);
}

static const struct write_case w_enospc = { ENOSPC, inject_full };
static const struct write_case w_ebadf = { EBADF, inject_rdonly };
static const struct write_case w_eio = { EIO, inject_pty };
static const struct write_case w_epipe = { EPIPE, inject_peer_shut };
static const struct write_case w_eagain = { EAGAIN, inject_small_sndbuf };

static void test_update_write_fails(void **state)
{
	struct ctx *c = *state;
	const struct write_case *wc = c->param;
	struct fi *f = c->f;
	wc->inject(f);
	fi_start(f);
	/* Misses until a write fails (the first one, except for a filling buffer). */
	uint64_t iova = 0;
	for (unsigned k = 0; fi_stats(f, 0).write_errors == 0; k++) {
		assert_true(k < 64);
		iova = 0x100000 + k * 0x1000ull;
		fi_send_miss(f, 0, iova, VTD_PERM_W);
		FI_WAIT_STAT(f, 0, misses, k + 1);
	}
	char want[200];
	snprintf(want, sizeof(want), "vmm: net0: cannot write the IOTLB UPDATE for iova 0x%llx "
		 "(write) to vhost: %s;", (unsigned long long)iova, strerror(wc->err));
	fi_expect_log(f, want);
	/* The next failure is counted, not logged again. */
	uint64_t errs = fi_stats(f, 0).write_errors;
	fi_send_miss(f, 0, 0x300000, VTD_PERM_R);
	FI_WAIT_STAT(f, 0, write_errors, errs + 1);
	fi_expect_idle(f, 200);
	assert_int_equal(fi_log_count(f, "cannot write the IOTLB UPDATE"), 1);
	fi_expect_served(f, 1);
	fi_stop(f);
	fi_done(f);
}

/* --------------------------------------- vhost sends what is not a MISS */

struct msg_case {
	const char *log;     /* what stderr must say */
	void (*send)(struct fi *f);
};

static void send_truncated(struct fi *f)
{
	uint8_t buf[IOTLB_WIRE_MAX];
	struct iotlb_msg m = { .type = IOTLB_MISS, .iova = 0x7000, .perm = VTD_PERM_R };
	assert_int_equal(iotlb_encode(IOTLB_WIRE_V2, &m, buf, sizeof(buf)), 72);
	fi_send_raw(f, 0, buf, 40);
}

static void send_garbage(struct fi *f)
{
	uint8_t buf[IOTLB_WIRE_MAX];
	memset(buf, 0xa5, sizeof(buf));
	fi_send_raw(f, 0, buf, sizeof(buf));
}

static void send_update(struct fi *f)
{
	uint8_t buf[IOTLB_WIRE_MAX];
	struct iotlb_msg m = { .type = IOTLB_UPDATE, .iova = 0x7000, .size = 0x1000,
			       .uaddr = 0x1000, .perm = VTD_PERM_R };
	assert_int_equal(iotlb_encode(IOTLB_WIRE_V2, &m, buf, sizeof(buf)), 72);
	fi_send_raw(f, 0, buf, sizeof(buf));
}

static const struct msg_case m_truncated = {
	"vmm: net0: IOTLB message from vhost of 40 bytes, not 72 (truncated?), ignored",
	send_truncated };
static const struct msg_case m_garbage = {
	"vmm: net0: undecodable 72-byte IOTLB message from vhost ignored", send_garbage };
static const struct msg_case m_update = {
	"vmm: net0: IOTLB message of type 2 for iova 0x7000 from vhost ignored", send_update };

static void test_bad_message(void **state)
{
	struct ctx *c = *state;
	const struct msg_case *mc = c->param;
	struct fi *f = c->f;
	fi_start(f);
	mc->send(f);
	fi_expect_log(f, mc->log);
	FI_WAIT_STAT(f, 0, bad_msgs, 1);
	mc->send(f);
	FI_WAIT_STAT(f, 0, bad_msgs, 2);
	assert_int_equal(fi_log_count(f, "vmm: net0:"), 1);
	/* One bad message costs nothing else: the same device goes on. */
	fi_expect_served(f, 0);
	assert_int_equal(fi_stats(f, 0).misses, 1);
	fi_expect_idle(f, 100);
	fi_stop(f);
	fi_done(f);
}

/* ------------------------------------------------ reading vhost fails */

/* inotify: an event whose name does not fit in 72 bytes fails every read with EINVAL. */
static int inotify_stuck(struct ctx *c)
{
	snprintf(c->dir, sizeof(c->dir), "/tmp/vmm-fi-XXXXXX");
	assert_non_null(mkdtemp(c->dir));
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	assert_true(fd >= 0);
	assert_true(inotify_add_watch(fd, c->dir, IN_CREATE) >= 0);
	char path[400];
	snprintf(path, sizeof(path), "%s/%0200d", c->dir, 0);
	int file = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(file >= 0);
	close(file);
	assert_int_equal(unlink(path), 0);
	return fd;
}

static void expect_dropped(struct fi *f, const char *why)
{
	char want[160];
	snprintf(want, sizeof(want), "vmm: net0: no more IOTLB misses from vhost: %s; its queues "
		 "will stall", why);
	fi_expect_log(f, want);
	fi_expect_idle(f, 200);
	fi_expect_served(f, 1);
	fi_stop(f);
	fi_done(f);
}

static void test_read_einval_forever(void **state)
{
	struct ctx *c = *state;
	fi_set_vhost_fd(c->f, 0, inotify_stuck(c));
	fi_start(c->f);
	char why[64];
	snprintf(why, sizeof(why), "read: %s", strerror(EINVAL));
	expect_dropped(c->f, why);
}

static void test_read_eio(void **state)
{
	struct ctx *c = *state;
	fi_set_vhost_fd(c->f, 0, dead_pty(true));
	fi_start(c->f);
	char why[64];
	snprintf(why, sizeof(why), "read: %s", strerror(EIO));
	expect_dropped(c->f, why);
}

static void test_vhost_closed(void **state)
{
	struct ctx *c = *state;
	close(c->f->peer[0]);
	c->f->peer[0] = -1;
	fi_start(c->f);
	expect_dropped(c->f, "end of file");
}

/* Misses queued before the end of the stream are all answered first. */
static void test_queued_misses_before_eof(void **state)
{
	struct ctx *c = *state;
	struct fi *f = c->f;
	for (unsigned k = 0; k < 3; k++)
		fi_send_miss(f, 0, 0x1000 + k * 0x1000ull, VTD_PERM_R);
	assert_int_equal(shutdown(f->peer[0], SHUT_WR), 0);
	fi_start(f);
	for (unsigned k = 0; k < 3; k++)
		fi_expect_update(f, 0);
	assert_int_equal(fi_stats(f, 0).misses, 3);
	expect_dropped(f, "end of file");
}

/* vhost never stops sending (8-byte reads): the other device and a stop still get through. */
static void test_flood_of_short_reads(void **state)
{
	struct ctx *c = *state;
	struct fi *f = c->f;
	int efd = eventfd(0, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(efd >= 0);
	uint64_t lots = UINT64_MAX - 1;
	assert_int_equal(write(efd, &lots, sizeof(lots)), 8);
	fi_set_vhost_fd(f, 0, efd);
	fi_start(f);
	fi_expect_log(f, "vmm: net0: IOTLB message from vhost of 8 bytes, not 72 (truncated?)");
	FI_WAIT_STAT(f, 0, bad_msgs, 1000);
	fi_expect_served(f, 1);
	fi_stop(f);
	assert_int_equal(fi_log_count(f, "vmm: net0:"), 1);
	fi_done(f);
}

/* An fd epoll refuses (a regular file): the VM stops at once, with the reason. */
static void test_unpollable_vhost_stops(void **state)
{
	struct ctx *c = *state;
	struct fi *f = c->f;
	fi_set_vhost_fd(f, 0, memfd_create("not-vhost", MFD_CLOEXEC));
	fi_start(f);
	assert_true(fi_join(f)); /* returned by itself */
	assert_int_equal(f->vm.exit_status, VMM_EXIT_ERROR);
	char want[128];
	snprintf(want, sizeof(want), "net0: cannot poll vhost for IOTLB misses: %s", strerror(EPERM));
	assert_string_equal(f->vm.exit_message, want);
	fi_done(f);
}

/* ------------------------------------------------ a miss with no answer */

static void test_untranslatable_miss(void **state)
{
	struct ctx *c = *state;
	struct fi *f = c->f;
	fi_start(f);
	fi_send_miss(f, 0, 0x40000000, VTD_PERM_W); /* past the end of RAM */
	fi_expect_log(f, "vmm: net0: IOTLB miss for iova 0x40000000 (write) has no translation to "
			 "guest RAM");
	assert_int_equal(fi_stats(f, 0).unmappable, 1);
	fi_expect_served(f, 0);
	fi_stop(f);
	fi_done(f);
}

/* ------------------------------------------------------------- the TAP */

/* One rtnetlink request on interface name (ip link set/del); 0 or -errno. */
static int rtnl_link(const char *name, uint16_t type, unsigned flags, unsigned change)
{
	unsigned idx = if_nametoindex(name);
	if (idx == 0)
		return -errno;
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s < 0)
		return -errno;
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
		.nh = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)), .nlmsg_type = type,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK, .nlmsg_seq = 1 },
		.ifi = { .ifi_family = AF_UNSPEC, .ifi_index = (int)idx, .ifi_flags = flags,
			 .ifi_change = change },
	};
	union { struct nlmsghdr nh; char buf[512]; } ack;
	int rc = -EIO;
	if (send(s, &req, req.nh.nlmsg_len, 0) == (ssize_t)req.nh.nlmsg_len &&
	    recv(s, &ack, sizeof(ack), 0) >= (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) &&
	    ack.nh.nlmsg_type == NLMSG_ERROR)
		rc = ((struct nlmsgerr *)NLMSG_DATA(&ack.nh))->error;
	close(s);
	return rc;
}

static int link_up(const char *name, bool up)
{
	return rtnl_link(name, RTM_NEWLINK, up ? IFF_UP : 0, IFF_UP);
}

/* A real TAP (tap_open, as net_create does) for net0, up; skips without CAP_NET_ADMIN. */
static void real_tap(struct fi *f, char *name, size_t len)
{
	char err[256];
	snprintf(name, len, "vmmfi%u", (unsigned)getpid() % 100000);
	int tap = tap_open(name, err, sizeof(err));
	if (tap < 0) {
		fi_done(f);
		skip();
	}
	f->net[0].vhost.tap_fd = tap; /* closing it (teardown) deletes the TAP */
	snprintf(f->cfg.net[0].tap, sizeof(f->cfg.net[0].tap), "%s", name);
	assert_int_equal(link_up(name, true), 0);
}

static void test_tap_down_and_up(void **state)
{
	struct ctx *c = *state;
	struct fi *f = c->f;
	char name[CONFIG_IFNAMSIZ], want[160];
	real_tap(f, name, sizeof(name));
	fi_start_ready(f);
	fi_expect_idle(f, 50); /* a TAP that does nothing wakes nobody */
	assert_int_equal(link_up(name, false), 0);
	snprintf(want, sizeof(want), "vmm: net0: TAP %s was set down on the host: its packets are "
		 "dropped until it is up again; the VM keeps running", name);
	fi_expect_log(f, want);
	fi_expect_served(f, 0);
	assert_int_equal(link_up(name, true), 0);
	snprintf(want, sizeof(want), "vmm: net0: TAP %s is up again", name);
	fi_expect_log(f, want);
	fi_expect_idle(f, 100);
	fi_stop(f);
	assert_int_equal(fi_log_count(f, "vmm: net0: TAP"), 2);
	fi_done(f);
}

static void test_tap_deleted(void **state)
{
	struct ctx *c = *state;
	struct fi *f = c->f;
	char name[CONFIG_IFNAMSIZ], want[160];
	real_tap(f, name, sizeof(name));
	fi_start_ready(f);
	assert_int_equal(rtnl_link(name, RTM_DELLINK, 0, 0), 0);
	snprintf(want, sizeof(want), "vmm: net0: TAP %s was deleted on the host: the device has no "
		 "host link any more, its packets are dropped; the VM keeps running", name);
	fi_expect_log(f, want);
	fi_expect_idle(f, 200);
	fi_expect_served(f, 0);
	fi_stop(f);
	fi_done(f);
}

/* Named per case: the parameterised tests share a function. */
#define CASE(name, fn, param) { name, fn, setup, teardown, (void *)(param) }

int main(void)
{
	/* The EPIPE case writes to a socket whose peer stopped reading. */
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		CASE("update_write_fails_ENOSPC", test_update_write_fails, &w_enospc),
		CASE("update_write_fails_EBADF", test_update_write_fails, &w_ebadf),
		CASE("update_write_fails_EIO", test_update_write_fails, &w_eio),
		CASE("update_write_fails_EPIPE", test_update_write_fails, &w_epipe),
		CASE("update_write_fails_EAGAIN", test_update_write_fails, &w_eagain),
		CASE("bad_message_truncated", test_bad_message, &m_truncated),
		CASE("bad_message_garbage", test_bad_message, &m_garbage),
		CASE("bad_message_not_a_miss", test_bad_message, &m_update),
		CASE("read_einval_forever", test_read_einval_forever, NULL),
		CASE("read_eio", test_read_eio, NULL),
		CASE("vhost_closed", test_vhost_closed, NULL),
		CASE("queued_misses_before_eof", test_queued_misses_before_eof, NULL),
		CASE("flood_of_short_reads", test_flood_of_short_reads, NULL),
		CASE("unpollable_vhost_stops", test_unpollable_vhost_stops, NULL),
		CASE("untranslatable_miss", test_untranslatable_miss, NULL),
		CASE("tap_down_and_up", test_tap_down_and_up, NULL),
		CASE("tap_deleted", test_tap_deleted, NULL),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
