/* tap_watch.c - TAP link state from rtnetlink notifications; see tap_watch.h. */
#include "tap_watch.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int tap_watch_open(struct tap_watch *w, const struct vmm_config *cfg)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	for (unsigned i = 0; i < cfg->nnets && i < CONFIG_MAX_NETS; i++) {
		unsigned idx = if_nametoindex(cfg->net[i].tap);
		if (idx == 0)
			continue; /* net_create opened it, so only a race with its deletion */
		w->tap[w->ntaps].net = i;
		w->tap[w->ntaps].ifindex = (int)idx;
		w->tap[w->ntaps].up = true;
		snprintf(w->tap[w->ntaps].name, sizeof(w->tap[0].name), "%s", cfg->net[i].tap);
		w->ntaps++;
	}
	if (w->ntaps == 0)
		return -ENOENT;
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	if (s < 0)
		return -errno;
	struct sockaddr_nl a = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;
		close(s);
		return -e;
	}
	/* Subscribed first, then the state: a change in between arrives as a message. */
	for (unsigned i = 0; i < w->ntaps; i++) {
		struct ifreq ifr = { 0 };
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", w->tap[i].name);
		if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0)
			w->tap[i].up = ifr.ifr_flags & IFF_UP;
	}
	w->fd = s;
	return s;
}

static void link_changed(struct tap_watch *w, bool deleted, const struct ifinfomsg *ifi)
{
	for (unsigned i = 0; i < w->ntaps; i++) {
		__typeof__(w->tap[0]) *t = &w->tap[i];
		/* Once deleted, its index may name another interface some day. */
		if (t->gone || t->ifindex != ifi->ifi_index)
			continue;
		bool up = ifi->ifi_flags & IFF_UP;
		if (deleted) {
			t->gone = true;
			fprintf(stderr, "vmm: net%u: TAP %s was deleted on the host: the device has no "
				"host link any more, its packets are dropped; the VM keeps running\n",
				t->net, t->name);
		} else if (up != t->up) {
			t->up = up;
			if (up)
				fprintf(stderr, "vmm: net%u: TAP %s is up again\n", t->net, t->name);
			else
				fprintf(stderr, "vmm: net%u: TAP %s was set down on the host: its packets "
					"are dropped until it is up again; the VM keeps running\n", t->net,
					t->name);
		}
	}
}

void tap_watch_event(struct tap_watch *w)
{
	/* Link messages carry dozens of attributes: a page is not always enough. */
	static char buf[32768] __attribute__((aligned(8)));
	while (w->fd >= 0) {
		struct sockaddr_nl from;
		socklen_t fromlen = sizeof(from);
		ssize_t got = recvfrom(w->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen);
		if (got < 0) {
			/* ENOBUFS: notifications were lost; the next one carries the full state. */
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				fprintf(stderr, "vmm: cannot read TAP link notifications: %s; a TAP going "
					"down will not be reported\n", strerror(errno));
				tap_watch_close(w);
			}
			return;
		}
		if (from.nl_pid != 0)
			continue; /* only the kernel speaks for interfaces */
		size_t len = (size_t)got, off = 0;
		while (len - off >= sizeof(struct nlmsghdr)) {
			const struct nlmsghdr *nh = (const struct nlmsghdr *)(buf + off);
			if (nh->nlmsg_len < sizeof(*nh) || nh->nlmsg_len > len - off)
				break;
			if ((nh->nlmsg_type == RTM_NEWLINK || nh->nlmsg_type == RTM_DELLINK) &&
			    nh->nlmsg_len >= NLMSG_LENGTH(sizeof(struct ifinfomsg)))
				link_changed(w, nh->nlmsg_type == RTM_DELLINK, NLMSG_DATA(nh));
			off += NLMSG_ALIGN(nh->nlmsg_len);
		}
	}
}

void tap_watch_close(struct tap_watch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}
