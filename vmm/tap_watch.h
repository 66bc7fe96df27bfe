/*
 * tap_watch.h - notice when a net's TAP goes down or is deleted on the
 * host, and say so on stderr (an edge: a netlink socket).
 *
 * Why not the TAP fd: tun wakes its pollers only with EPOLLIN-keyed
 * wakeups, also when its interface is deleted, so an epoll watch for
 * EPOLLERR alone never fires, and one that includes EPOLLIN or EPOLLPRI
 * would wake the event loop for every packet vhost moves. rtnetlink link
 * notifications (RTNLGRP_LINK, open to any user) arrive only when some
 * interface changes, and they also tell "set down", which tun's poll
 * cannot.
 *
 * What happens then is vhost's business: it drops the device's packets, as
 * a pulled cable would. The VM keeps running; the message tells the user
 * why the guest's network went quiet (and when the TAP is up again).
 * Used by the event loop only (main thread); no locking.
 */
#ifndef VMM_TAP_WATCH_H
#define VMM_TAP_WATCH_H

#include <stdbool.h>

#include "config.h"

struct tap_watch {
	int fd;                 /* rtnetlink socket, non-blocking; -1 when closed */
	unsigned ntaps;
	struct {
		unsigned net;   /* device index, for "netN" */
		int ifindex;
		bool up;        /* IFF_UP as last seen */
		bool gone;      /* deleted (or moved to another namespace) */
		char name[CONFIG_IFNAMSIZ];
	} tap[CONFIG_MAX_NETS];
};

/*
 * Watch the TAPs named in cfg. Returns the socket to poll for input, or
 * -errno (nothing to watch: -ENOENT; no netlink: the socket's errno) with
 * w->fd = -1, which tap_watch_event and tap_watch_close accept.
 */
int tap_watch_open(struct tap_watch *w, const struct vmm_config *cfg);

/* Read the pending notifications; log each state change of a watched TAP. */
void tap_watch_event(struct tap_watch *w);

void tap_watch_close(struct tap_watch *w);

#endif
