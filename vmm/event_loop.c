/*
 * event_loop.c - the main thread's loop: console input into the UART,
 * SIGINT/SIGTERM, and the stop eventfd that any thread may signal.
 *
 * Later subsystems (vhost IOTLB fds, TAP) join the same epoll set.
 */
#include "vm.h"

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
	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tty) < 0)
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

	uint8_t pending[256];
	size_t npending = 0, pending_off = 0;
	while (!__atomic_load_n(&vm->stopping, __ATOMIC_ACQUIRE)) {
		struct epoll_event evs[4];
		int n = epoll_wait(ep, evs, 4, npending ? CONSOLE_RETRY_MS : -1);
		if (n < 0 && errno != EINTR) {
			vm_request_stop(vm, VMM_EXIT_ERROR, "epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == sfd) {
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
