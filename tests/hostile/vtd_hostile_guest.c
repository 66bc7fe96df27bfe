/*
 * vtd_hostile_guest.c - the hostile VT-d guest's platform inside the test
 * guest, and main.
 *
 *   vtd_hostile [-r ROUNDS] [-s SEED] [-i IFNAME] [-a ADDR/PREFIX] [-p PEER]
 *
 * The VT-d's register page (and a page on either side when the kernel lets
 * it) and the scratch window W are mapped through /dev/mem; registers are
 * accessed with single mov instructions of the size asked, as a driver's
 * readl/writeq would, so the VMM sees every size and alignment. W is the
 * top 16 MiB (2 MiB aligned) of the VM's RAM as the firmware map tells,
 * and must lie above the kernel's own RAM (/proc/iomem): the guest is
 * booted with mem= well below the VM's size. The second CPU for the race
 * phases is a forked child pinned to CPU 1. Exit status: 1 when setup
 * fails (VMM-HOSTILE-VTD-ERROR=), else hostile_run's.
 */
#include "vtd_hostile_guest.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile uint8_t *g_regs; /* VTD_BASE + nb_lo */

static uint64_t mmio_rd(long off, unsigned size)
{
	volatile void *p = g_regs + (off - P.nb_lo);
	uint64_t v = 0;
	switch (size) {
	case 1: { uint8_t x; __asm__ volatile("movb %1, %0" : "=q"(x) : "m"(*(volatile uint8_t *)p)); v = x; break; }
	case 2: { uint16_t x; __asm__ volatile("movw %1, %0" : "=r"(x) : "m"(*(volatile uint16_t *)p)); v = x; break; }
	case 4: { uint32_t x; __asm__ volatile("movl %1, %0" : "=r"(x) : "m"(*(volatile uint32_t *)p)); v = x; break; }
	default: __asm__ volatile("movq %1, %0" : "=r"(v) : "m"(*(volatile uint64_t *)p)); break;
	}
	return v;
}

static void mmio_wr(long off, unsigned size, uint64_t v)
{
	volatile void *p = g_regs + (off - P.nb_lo);
	switch (size) {
	case 1: __asm__ volatile("movb %1, %0" : "=m"(*(volatile uint8_t *)p) : "q"((uint8_t)v) : "memory"); break;
	case 2: __asm__ volatile("movw %1, %0" : "=m"(*(volatile uint16_t *)p) : "r"((uint16_t)v) : "memory"); break;
	case 4: __asm__ volatile("movl %1, %0" : "=m"(*(volatile uint32_t *)p) : "r"((uint32_t)v) : "memory"); break;
	default: __asm__ volatile("movq %1, %0" : "=m"(*(volatile uint64_t *)p) : "r"(v) : "memory"); break;
	}
}

void g_sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

static int g_race(void (*fn)(uint64_t, unsigned), uint64_t seed, unsigned ms, void (*work)(void))
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu < 2)
		return -1;
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(1, &set);
		(void)sched_setaffinity(0, sizeof(set), &set);
		fn(seed, ms);
		_exit(0);
	}
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	cpu_set_t old;
	(void)sched_getaffinity(0, sizeof(old), &old);
	(void)sched_setaffinity(0, sizeof(set), &set);
	work();
	kill(pid, SIGKILL);
	int st;
	(void)waitpid(pid, &st, 0);
	(void)sched_setaffinity(0, sizeof(old), &old);
	return 0;
}

/*
 * End of the VM's RAM (the e820 the VMM gave, before mem= cut it), which
 * must all be below 4 GiB: then everything from its end up is not RAM.
 * 0 when unknown or when there is RAM above 4 GiB.
 */
static uint64_t fw_ram_end(void)
{
	uint64_t best = 0;
	DIR *d = opendir("/sys/firmware/memmap");
	if (d == NULL)
		return 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char path[300], buf[64];
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/firmware/memmap/%s/type", e->d_name);
		if (read_file(path, buf, sizeof(buf)) < 0 || strncmp(buf, "System RAM", 10) != 0)
			continue;
		snprintf(path, sizeof(path), "/sys/firmware/memmap/%s/start", e->d_name);
		if (read_file(path, buf, sizeof(buf)) < 0)
			continue;
		uint64_t start = strtoull(buf, NULL, 16);
		snprintf(path, sizeof(path), "/sys/firmware/memmap/%s/end", e->d_name);
		if (read_file(path, buf, sizeof(buf)) < 0)
			continue;
		uint64_t end = strtoull(buf, NULL, 16) + 1;
		if (end > (1ull << 32)) {
			best = 0;
			break;
		}
		if (end > best)
			best = end;
		(void)start;
	}
	closedir(d);
	return best;
}

/* End of the kernel's own RAM (top-level "System RAM" in /proc/iomem). */
static uint64_t kernel_ram_end(void)
{
	FILE *f = fopen("/proc/iomem", "r");
	if (f == NULL)
		return ~0ull;
	char line[256];
	uint64_t best = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long long a, b;
		if (line[0] == ' ' || strstr(line, "System RAM") == NULL)
			continue;
		if (sscanf(line, "%llx-%llx", &a, &b) == 2 && b + 1 > best)
			best = b + 1;
	}
	fclose(f);
	return best ? best : ~0ull;
}

static void usage(void)
{
	fprintf(stderr, "usage: vtd_hostile [-r ROUNDS] [-s SEED] [-i IFNAME] [-a ADDR/PREFIX] [-p PEER]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned rounds = 400;
	uint64_t seed = 1;
	int opt;
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "r:s:i:a:p:")) != -1) {
		switch (opt) {
		case 'r': rounds = (unsigned)strtoul(optarg, NULL, 0); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'i': g_ifname = optarg; break;
		case 'a': g_addr = optarg; break;
		case 'p': g_peer = optarg; break;
		default: usage();
		}
	}
	uint64_t fw_end = fw_ram_end(), k_end = kernel_ram_end();
	uint64_t top = fw_end & ~((2ull << 20) - 1);
	if (fw_end == 0 || top < W_SIZE || top - W_SIZE < ((k_end + (2ull << 20) - 1) & ~((2ull << 20) - 1))) {
		say("VMM-HOSTILE-VTD-ERROR=no scratch RAM: the VM's RAM ends at 0x%" PRIx64
		    " (0: unknown or above 4 GiB), the kernel's at 0x%" PRIx64
		    " (use at most 3 GiB, and mem= at least 18 MiB below it)", fw_end, k_end);
		return 1;
	}
	int fd = open("/dev/mem", O_RDWR | O_SYNC | O_CLOEXEC);
	if (fd < 0) {
		say("VMM-HOSTILE-VTD-ERROR=/dev/mem: %s", strerror(errno));
		return 1;
	}
	/* The register page and one page on either side, or just the page. */
	void *m = mmap(NULL, 3 * VTD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		       (off_t)(VTD_BASE - VTD_SIZE));
	if (m != MAP_FAILED) {
		P.nb_lo = -(long)VTD_SIZE;
		P.nb_hi = 2 * (long)VTD_SIZE;
	} else {
		m = mmap(NULL, VTD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)VTD_BASE);
		if (m == MAP_FAILED) {
			say("VMM-HOSTILE-VTD-ERROR=mmap of the VT-d registers: %s (boot with iomem=relaxed)",
			    strerror(errno));
			return 1;
		}
		P.nb_lo = 0;
		P.nb_hi = VTD_SIZE;
	}
	g_regs = m;
	void *w = mmap(NULL, W_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)(top - W_SIZE));
	if (w == MAP_FAILED) {
		say("VMM-HOSTILE-VTD-ERROR=mmap of scratch RAM at 0x%" PRIx64 ": %s", top - W_SIZE,
		    strerror(errno));
		return 1;
	}
	P.rd = mmio_rd;
	P.wr = mmio_wr;
	P.w = w;
	P.w_gpa = top - W_SIZE;
	P.ram_end = top;
	P.dma = g_dma;
	P.rebind = g_rebind;
	P.net_ok = g_net_ok;
	P.race = g_race;
	P.sleep_ms = g_sleep_ms;
	if (find_virtio_net() < 0)
		say("VMM-HOSTILE-VTD-NOTE: no virtio-net device: no DMA, no rebind");
	if (wait_if(3000) == 0)
		if_config();
	signal(SIGPIPE, SIG_IGN);
	return hostile_run(rounds, seed);
}
