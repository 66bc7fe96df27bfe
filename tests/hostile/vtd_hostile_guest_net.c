/*
 * vtd_hostile_guest_net.c - the hostile guest's DMA sources: its own
 * virtio-net device, driven from inside the guest.
 *
 * While translation is on with the attack's tables, the device must DMA so
 * that vhost misses and the VMM walks the tables: raw broadcast frames on
 * eth0 make the TX queue work (g_dma; frames from L1 keep RX busy all
 * along), and unbinding and binding the driver through sysfs restarts
 * vhost (g_rebind): the VMM prefills the rings through the VT-d, and
 * reports a start it could not make as NEEDS_RESET in the virtio status.
 * g_net_ok is the end-of-run check: with the VT-d put back, the network
 * must work again (ping the peer given with -p).
 */
#include "vtd_hostile_guest.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

const char *g_ifname = "eth0";
const char *g_addr, *g_peer;
static char g_pci[32];

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* The first virtio-net PCI device (1af4:1041), as "0000:00:01.0". */
int find_virtio_net(void)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	if (d == NULL)
		return -1;
	struct dirent *e;
	int rc = -1;
	while ((e = readdir(d)) != NULL && rc < 0) {
		char path[300], v[16], dv[16];
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", e->d_name);
		if (read_file(path, v, sizeof(v)) < 0)
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device", e->d_name);
		if (read_file(path, dv, sizeof(dv)) < 0)
			continue;
		if (strncmp(v, "0x1af4", 6) == 0 && strncmp(dv, "0x1041", 6) == 0) {
			snprintf(g_pci, sizeof(g_pci), "%.31s", e->d_name);
			rc = 0;
		}
	}
	closedir(d);
	return rc;
}

static int if_up(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", g_ifname);
	int rc = ioctl(s, SIOCGIFFLAGS, &ifr);
	if (rc == 0 && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		rc = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
	return rc;
}

static int run(const char *cmd)
{
	int rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Address on eth0 (and up) when -a was given. */
void if_config(void)
{
	if_up();
	if (g_addr != NULL) {
		char cmd[200];
		snprintf(cmd, sizeof(cmd), "ip addr add %s dev %s 2>/dev/null", g_addr, g_ifname);
		(void)run(cmd);
	}
}

int wait_if(unsigned ms)
{
	char path[128];
	snprintf(path, sizeof(path), "/sys/class/net/%s", g_ifname);
	for (unsigned t = 0; t < ms; t += 50) {
		struct stat st;
		if (stat(path, &st) == 0)
			return 0;
		g_sleep_ms(50);
	}
	return -1;
}

/* Raw broadcast frames on eth0: the TX queue does DMA (vhost reads the rings). */
static void send_frames(unsigned n)
{
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));
	if (s < 0)
		return;
	unsigned idx = if_nametoindex(g_ifname);
	if (idx == 0) {
		close(s);
		return;
	}
	struct sockaddr_ll sa;
	memset(&sa, 0, sizeof(sa));
	sa.sll_family = AF_PACKET;
	sa.sll_ifindex = (int)idx;
	sa.sll_halen = 6;
	memset(sa.sll_addr, 0xff, 6);
	for (unsigned i = 0; i < n; i++) {
		uint8_t f[128];
		for (unsigned k = 0; k < sizeof(f); k++)
			f[k] = (uint8_t)rnd();
		memset(f, 0xff, 6);                /* broadcast */
		f[6] = 0x02;                       /* a locally administered source */
		f[12] = 0x88, f[13] = 0xb5;        /* local experimental ethertype */
		(void)sendto(s, f, 60 + rndn(sizeof(f) - 60), 0, (struct sockaddr *)&sa, sizeof(sa));
	}
	close(s);
}

void g_dma(unsigned ms)
{
	send_frames(2);
	g_sleep_ms(ms);
}

/* The virtio status byte of the device (sysfs "status"), or -1. */
static int virtio_status(void)
{
	char path[300], buf[32];
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", g_pci);
	DIR *d = opendir(path);
	if (d == NULL)
		return -1;
	struct dirent *e;
	int st = -1;
	while ((e = readdir(d)) != NULL && st < 0) {
		if (strncmp(e->d_name, "virtio", 6) != 0)
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%.40s/status", g_pci, e->d_name);
		if (read_file(path, buf, sizeof(buf)) == 0)
			st = (int)strtol(buf, NULL, 16);
	}
	closedir(d);
	return st;
}

int g_rebind(void)
{
	if (g_pci[0] == '\0')
		return -1;
	(void)write_file("/sys/bus/pci/drivers/virtio-pci/unbind", g_pci);
	if (write_file("/sys/bus/pci/drivers/virtio-pci/bind", g_pci) < 0)
		return -1;
	if (wait_if(5000) < 0)
		return -1;
	if_config();
	int st = virtio_status();
	return st >= 0 && (st & 0x40) ? 1 : 0; /* VIRTIO_CONFIG_S_NEEDS_RESET */
}

int g_net_ok(void)
{
	if (g_peer == NULL)
		return -1;
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "ping -c 3 -W 3 %s >/dev/null 2>&1 || ping -c 3 -W 3 %s >/dev/null 2>&1",
		 g_peer, g_peer);
	return run(cmd) == 0;
}
