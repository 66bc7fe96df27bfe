/*
 * event_loop.c - the main thread's loop: console input into the UART,
 * SIGINT/SIGTERM, the stop eventfd that any thread may signal, and the
 * vhost fds of the nets behind the VT-d (IOTLB misses).
 *
 * IOTLB misses: vhost queues a MISS and stalls the ring until an UPDATE
 * covers it, so every miss left unanswered is a stalled queue. The fds are
 * O_NONBLOCK (vhost_net_open) and level-triggered here: on EPOLLIN a batch
 * of messages is served (each read() returns exactly one whole message;
 * vtd_service_fd takes vtd.lock only, see vmm/net.h for the lock order),
 * then the other fds get their turn and epoll reports the rest.
 */
#include "vm.h"

#include "../iommu/iommu.h"
#include "net.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

/* While the UART's FIFO is full, retry console input this often. */
#define CONSOLE_RETRY_MS 10

/* Misses served per wakeup before the other fds get a turn. */
#define IOTLB_BATCH 64

/* Kinds of IOTLB trouble, each logged once per device (bits of net_dev.iotlb_logged). */
enum { LOG_FAULT = 1, LOG_WRITE = 2, LOG_BADMSG = 4, LOG_OTHER = 8 };

static struct termios saved_tty;
static bool tty_raw;

/* Raw mode so keys reach the guest unbuffered; ISIG stays so ^C stops the VMM. */
static void console_raw(void)
{
	/*
	 * Only the terminal's foreground job may change its modes: from a
	 * background process group (e.g. under `timeout`), tcsetattr would
	 * stop the whole VMM with SIGTTOU.
	 */
	if (!isatty(STDIN_FILENO) || tcgetpgrp(STDIN_FILENO) != getpgrp() ||
	    tcgetattr(STDIN_FILENO, &saved_tty) < 0)
		return;
	struct termios t = saved_tty;
	cfmakeraw(&t);
	t.c_lflag |= ISIG;
	t.c_oflag |= OPOST | ONLCR;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0)
		tty_raw = true;
}

static void console_restore(void)
{
	if (tty_raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
	tty_raw = false;
}

static struct net_dev *iotlb_net(struct vm *vm, int fd)
{
	for (unsigned i = 0; i < vm->nnets; i++)
		if (vm->net[i]->iommu && vm->net[i]->vhost.vhost_fd == fd)
			return vm->net[i];
	return NULL;
}

/* Log the first problem of each kind; the counters in --stats have the rest. */
static void iotlb_log_once(struct net_dev *n, unsigned kind, const char *what, int rc)
{
	if (n->iotlb_logged & kind)
		return;
	n->iotlb_logged |= kind;
	fprintf(stderr, "vmm: net%u: IOTLB %s (%s); further ones are only counted\n", n->index, what,
		strerror(-rc));
}

/* Stop polling a vhost fd that can no longer deliver misses; the device stalls. */
static void iotlb_drop(int ep, struct net_dev *n, const char *why)
{
	fprintf(stderr, "vmm: net%u: no more IOTLB misses from vhost: %s; its queues will stall\n",
		n->index, why);
	epoll_ctl(ep, EPOLL_CTL_DEL, n->vhost.vhost_fd, NULL);
}

static void iotlb_serve(struct vm *vm, int ep, struct net_dev *n, uint32_t events)
{
	if (events & EPOLLIN) {
		for (unsigned k = 0; k < IOTLB_BATCH; k++) {
			int rc = vtd_service_fd(vm->vtd, &n->bridge);
			if (rc == 0)
				continue;
			if (rc == -EAGAIN)
				break;
			if (rc == -EPIPE) {
				iotlb_drop(ep, n, "end of file");
				return;
			}
			if (rc == -EFAULT) /* the guest did not map it: a DMA fault, recorded */
				iotlb_log_once(n, LOG_FAULT, "miss not translatable, nothing mapped", rc);
			else if (rc == -EIO)
				iotlb_log_once(n, LOG_WRITE, "cannot write UPDATE to vhost", rc);
			else if (rc == -EINVAL)
				iotlb_log_once(n, LOG_BADMSG, "bad miss message", rc);
			else { /* read() itself failed: retrying would spin */
				iotlb_log_once(n, LOG_OTHER, "cannot read vhost messages", rc);
				iotlb_drop(ep, n, strerror(-rc));
				return;
			}
		}
	}
	if (events & (EPOLLERR | EPOLLHUP))
		iotlb_drop(ep, n, events & EPOLLERR ? "EPOLLERR" : "EPOLLHUP");
}

int vm_run_event_loop(struct vm *vm)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		vm_request_stop(vm, VMM_EXIT_ERROR, "epoll_create1: %s", strerror(errno));
		return -1;
	}
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	int sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);

	struct epoll_event ev = { .events = EPOLLIN, .data.fd = vm->stop_fd };
	epoll_ctl(ep, EPOLL_CTL_ADD, vm->stop_fd, &ev);
	if (sfd >= 0) {
		ev.data.fd = sfd;
		epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	}
	/* Regular files and /dev/null cannot be polled; then the guest gets no input. */
	bool console_in = false;
	if (vm->cfg->serial == SERIAL_STDIO) {
		ev.data.fd = STDIN_FILENO;
		console_in = epoll_ctl(ep, EPOLL_CTL_ADD, STDIN_FILENO, &ev) == 0;
		if (console_in)
			console_raw();
	}

	for (unsigned i = 0; i < vm->nnets; i++) {
		struct net_dev *nd = vm->net[i];
		if (!nd->iommu)
			continue;
		ev.data.fd = nd->vhost.vhost_fd;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, nd->vhost.vhost_fd, &ev) < 0) {
			/* Misses would never be answered: the device could not work. */
			vm_request_stop(vm, VMM_EXIT_ERROR, "net%u: cannot poll vhost for IOTLB misses: %s",
					i, strerror(errno));
			break;
		}
	}

	uint8_t pending[256];
	size_t npending = 0, pending_off = 0;
	while (!__atomic_load_n(&vm->stopping, __ATOMIC_ACQUIRE)) {
		struct epoll_event evs[8];
		int n = epoll_wait(ep, evs, 8, npending ? CONSOLE_RETRY_MS : -1);
		if (n < 0 && errno != EINTR) {
			vm_request_stop(vm, VMM_EXIT_ERROR, "epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			struct net_dev *nd;
			if (fd == vm->stop_fd) {
				continue; /* the loop condition sees it */
			} else if (fd == sfd) {
				struct signalfd_siginfo si;
				if (read(sfd, &si, sizeof(si)) == sizeof(si))
					vm_request_stop(vm, VMM_EXIT_SIGNAL, "stopped by signal %u",
							si.ssi_signo);
			} else if (fd == STDIN_FILENO) {
				ssize_t got = read(STDIN_FILENO, pending, sizeof(pending));
				if (got < 0 && (errno == EINTR || errno == EAGAIN))
					continue;
				/* Input waits in pending until the UART takes it: stop polling meanwhile. */
				epoll_ctl(ep, EPOLL_CTL_DEL, STDIN_FILENO, NULL);
				if (got > 0) {
					npending = (size_t)got;
					pending_off = 0;
				} else {
					console_in = false; /* EOF or error: no more input */
				}
			} else if ((nd = iotlb_net(vm, fd)) != NULL) {
				iotlb_serve(vm, ep, nd, evs[i].events);
			}
		}
		if (npending) {
			size_t took = serial_receive(&vm->serial, pending + pending_off, npending);
			pending_off += took;
			npending -= took;
			if (npending == 0 && console_in) {
				ev.data.fd = STDIN_FILENO;
				epoll_ctl(ep, EPOLL_CTL_ADD, STDIN_FILENO, &ev);
			}
		}
	}
	console_restore();
	if (sfd >= 0)
		close(sfd);
	close(ep);
	return 0;
}
