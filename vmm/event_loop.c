/*
 * event_loop.c - the main thread's loop: console input into the UART,
 * SIGINT/SIGTERM, the stop eventfd that any thread may signal, the vhost
 * fds of the nets behind the VT-d (IOTLB misses) and their relayed kicks
 * (both served by vmm/iotlb_serve.c), and the TAPs' link state
 * (tap_watch.h).
 */
#include "vm.h"

#include "net.h"
#include "tap_watch.h"

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

/*
 * The nets' fds into the loop: a vhost fd that cannot be polled stops the
 * VM (its misses would never be answered); TAP trouble is only reported.
 */
static void watch_nets(struct vm *vm, int ep, struct tap_watch *taps)
{
	int rc = tap_watch_open(taps, vm->cfg);
	struct epoll_event tev = { .events = EPOLLIN, .data.fd = rc };
	if (rc >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, rc, &tev) < 0)
		rc = -errno;
	if (rc < 0 && rc != -ENOENT) {
		fprintf(stderr, "vmm: cannot watch the TAPs' link state (%s); a TAP going down "
			"will not be reported\n", strerror(-rc));
		tap_watch_close(taps);
	}
	for (unsigned i = 0; i < vm->nnets; i++) {
		struct net_dev *nd = vm->net[i];
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = nd->vhost.vhost_fd };
		if (nd->iommu && epoll_ctl(ep, EPOLL_CTL_ADD, nd->vhost.vhost_fd, &ev) < 0) {
			vm_request_stop(vm, VMM_EXIT_ERROR, "net%u: cannot poll vhost for IOTLB misses: %s",
					i, strerror(errno));
			return;
		}
		for (unsigned q = 0; nd->kick_relay && q < VHOST_NET_QUEUES; q++) {
			ev.data.fd = nd->kick_fd[q];
			if (epoll_ctl(ep, EPOLL_CTL_ADD, nd->kick_fd[q], &ev) < 0) {
				vm_request_stop(vm, VMM_EXIT_ERROR, "net%u: cannot poll the doorbell of "
						"queue %u: %s", i, q, strerror(errno));
				return;
			}
		}
	}
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

	/*
	 * main() blocks SIGINT/SIGTERM: without the signalfd nothing could stop
	 * the VMM from outside, and without stop_fd the loop would sleep
	 * through every stop. Either is a VMM error, not a hang.
	 */
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = vm->stop_fd };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, vm->stop_fd, &ev) < 0)
		vm_request_stop(vm, VMM_EXIT_ERROR, "cannot poll the stop eventfd: %s", strerror(errno));
	ev.data.fd = sfd;
	if (sfd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev) < 0)
		vm_request_stop(vm, VMM_EXIT_ERROR, "cannot receive SIGINT/SIGTERM (signalfd): %s",
				strerror(errno));
	/* Regular files and /dev/null cannot be polled; then the guest gets no input. */
	bool console_in = false;
	if (vm->cfg->serial == SERIAL_STDIO) {
		ev.data.fd = STDIN_FILENO;
		console_in = epoll_ctl(ep, EPOLL_CTL_ADD, STDIN_FILENO, &ev) == 0;
		if (console_in)
			console_raw();
	}

	struct tap_watch taps;
	watch_nets(vm, ep, &taps);

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
			unsigned q;
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
			} else if ((nd = kick_net(vm, fd, &q)) != NULL) {
				kick_relay(vm, nd, q);
			} else if (fd == taps.fd) {
				tap_watch_event(&taps);
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
	tap_watch_close(&taps);
	if (sfd >= 0)
		close(sfd);
	close(ep);
	return 0;
}
