/*
 * vtd_hostile_sim.c - the hostile VT-d guest's attack (tests/hostile/
 * vtd_hostile.c and the phase files it drives, HOSTILE_ATTACK_SRCS in
 * hostile.mk) run on this machine against the VMM's own VT-d unit
 * (iommu/: struct vtd, its register file, queue and one vhost IOTLB
 * bridge), under ASan + UBSan. No KVM needed.
 *
 * It stands in for the guest platform (vtd_hostile_guest*.c) and plays the
 * parts the guest program gets from the real VM:
 *   - MMIO: vtd_mmio_read/write, as vmm/vm_devices.c wires the register page
 *     (accesses the model refuses read 0; the pages around it are
 *     unclaimed, reads give all ones);
 *   - guest RAM: SIM_RAM bytes; W is its last 16 MiB, and everything
 *     below W is filled with a pattern that must be intact at the end
 *     (nothing the attack makes the VMM do may write the "kernel's" RAM);
 *   - vhost: the far end of a socketpair. "DMA" is a batch of misses on
 *     ring-like IOVAs (vtd_handle_miss, as the event loop does); every
 *     UPDATE that comes back must lie in guest RAM, and a writable one
 *     inside W or an identity mapping; vhost's writes are simulated by
 *     scribbling over the writable ones inside W;
 *   - the fault and completion MSIs must go to the address that targets
 *     no CPU.
 *
 *   vtd_hostile_sim [ROUNDS [SEED [RUNS]]]   RUNS seeds from SEED up
 * Exit status 0 when every run finished with no anomaly and no safety
 * violation; the marker lines are the guest program's.
 */
#include "vtd_hostile.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../iommu/iommu.h"

#define SIM_RAM ((uint64_t)64 << 20)

static struct guest_mem sim_gm;
static struct vtd sim_vtd;
static struct iotlb_bridge sim_bridge;
static uint8_t *sim_ram;
static int sim_fd[2];
static unsigned sim_violations, sim_updates, sim_msis;
static pthread_t sim_vhost;
static uint64_t vhost_rng = 42;

static void violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void violation(const char *fmt, ...)
{
	va_list ap;
	if (__atomic_add_fetch(&sim_violations, 1, __ATOMIC_RELAXED) > 20)
		return;
	printf("SIM-VIOLATION: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static uint64_t sim_rd(long off, unsigned size)
{
	if (off < 0 || off >= VTD_SIZE)
		return size == 8 ? ~0ull : (1ull << (8 * size)) - 1; /* unclaimed */
	/* KVM splits an access that crosses the page: the part inside is ours. */
	unsigned in = off + (long)size > VTD_SIZE ? (unsigned)(VTD_SIZE - off) : size;
	uint64_t v = 0;
	if (vtd_mmio_read(&sim_vtd, (uint64_t)off, in, &v) < 0)
		v = 0;
	return v;
}

static void sim_wr(long off, unsigned size, uint64_t v)
{
	if (off >= 0 && off < VTD_SIZE) {
		unsigned in = off + (long)size > VTD_SIZE ? (unsigned)(VTD_SIZE - off) : size;
		(void)vtd_mmio_write(&sim_vtd, (uint64_t)off, in, v);
	}
}

static uint64_t vhost_rnd(void)
{
	vhost_rng ^= vhost_rng << 13;
	vhost_rng ^= vhost_rng >> 7;
	vhost_rng ^= vhost_rng << 17;
	return vhost_rng;
}

/*
 * The fake vhost, on a thread of its own like the kernel's (so the
 * bridge's blocking writes complete as vhost's synchronous ones do): check
 * each UPDATE, then play vhost's writes inside W, concurrently with the
 * walks, as a device would. Ends at end of file.
 */
static void *vhost_thread(void *arg)
{
	(void)arg;
	uint8_t buf[IOTLB_WIRE_MAX];
	ssize_t n;
	while ((n = recv(sim_fd[1], buf, sizeof(buf), 0)) > 0) {
		struct iotlb_msg m;
		if (iotlb_decode(IOTLB_WIRE_V2, buf, (size_t)n, &m) < 0) {
			violation("undecodable message from the bridge");
			continue;
		}
		if (m.type != IOTLB_UPDATE)
			continue;
		__atomic_add_fetch(&sim_updates, 1, __ATOMIC_RELAXED);
		uint64_t host = m.uaddr, base = (uint64_t)(uintptr_t)sim_ram;
		if (host < base || m.size > SIM_RAM || host - base > SIM_RAM - m.size) {
			violation("UPDATE iova 0x%" PRIx64 " size 0x%" PRIx64 " outside guest RAM",
				  m.iova, m.size);
			continue;
		}
		uint64_t gpa = host - base;
		bool in_w = gpa >= P.w_gpa;
		/* Read-only is harmless: the walk ANDs W, so vhost could only read. */
		if (!in_w && gpa != m.iova && (m.perm & VTD_PERM_W))
			violation("UPDATE iova 0x%" PRIx64 " -> gpa 0x%" PRIx64 " (size 0x%" PRIx64
				  ", perm %u) lets vhost write the kernel's RAM", m.iova, gpa, m.size,
				  m.perm);
		if (in_w && (m.perm & VTD_PERM_W)) {
			/* A packet lands somewhere in it. */
			uint64_t len = m.size < 4096 ? m.size : 4096;
			uint64_t at = gpa + (len > 64 ? vhost_rnd() % (len - 64) : 0);
			for (unsigned i = 0; i < 64 && at + i < gpa + m.size; i++)
				__atomic_store_n(&sim_ram[at + i], (uint8_t)vhost_rnd(), __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

static void sim_miss(uint64_t iova, uint8_t perm)
{
	struct iotlb_msg m = { .type = IOTLB_MISS, .iova = iova, .perm = perm };
	(void)vtd_handle_miss(&sim_vtd, &sim_bridge, &m);
}

/* Ring-like IOVAs: where a guest's dma-direct addresses would be. */
static const uint64_t sim_iovas[] = { 0x1000000, 0x1001040, 0x2345000, 0x0, 0x7fff000,
				      0xfff000, 0x2ffffc0, 0x100000 };

static uint64_t dma_rng = 7;

/* A batch of DMA: its misses were queued after the event loop had read
 * the queue empty (iommu.h 5e). */
static void sim_queue_drained(void)
{
	vtd_queue_empty(&sim_vtd, &sim_bridge, vtd_queue_mark(&sim_vtd, &sim_bridge));
}

static void sim_dma(unsigned ms)
{
	(void)ms;
	sim_queue_drained();
	for (unsigned i = 0; i < sizeof(sim_iovas) / sizeof(sim_iovas[0]); i++)
		sim_miss(sim_iovas[i], (uint8_t)(1 + i % 3));
	/* And anywhere: below 2^39, below 2^48, anything. */
	for (unsigned i = 0; i < 3; i++) {
		dma_rng = dma_rng * 6364136223846793005ull + 1442695040888963407ull;
		uint64_t iova = dma_rng >> (i == 0 ? 25 : i == 1 ? 16 : 0);
		sim_miss(iova, (uint8_t)(1 + (dma_rng >> 8) % 3));
	}
}

static int sim_rebind(void)
{
	sim_queue_drained();
	for (unsigned i = 0; i < 6; i++)
		sim_miss(sim_iovas[i], VTD_PERM_R);
	return 0;
}

static int sim_net_ok(void) { return -1; }
static void sim_sleep(unsigned ms) { (void)ms; }

static void sim_msi(void *opaque, uint64_t addr, uint32_t data)
{
	(void)opaque;
	sim_msis++;
	if (addr != SAFE_MSI_ADDR || (data & 0x700) != 0)
		violation("MSI 0x%" PRIx64 "/0x%x: not the address that targets no CPU", addr, data);
}

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)((i * 0x9E3779B1u) >> 13);
}

static int sim_run(unsigned rounds, uint64_t seed)
{
	memset(&sim_gm, 0, sizeof(sim_gm));
	sim_ram = malloc(SIM_RAM);
	if (sim_ram == NULL || guest_mem_add(&sim_gm, 0, SIM_RAM, sim_ram) != 0)
		return 1;
	uint64_t w_gpa = SIM_RAM - W_SIZE;
	for (uint64_t i = 0; i < w_gpa; i++)
		sim_ram[i] = pattern(i);
	if (vtd_init(&sim_vtd, &sim_gm, false, sim_msi, NULL) != 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sim_fd) != 0 ||
	    iotlb_bridge_init(&sim_bridge, sim_fd[0], IOTLB_WIRE_V2, 0x0008, &sim_gm,
			      &sim_vtd.regs, 0) != 0 ||
	    vtd_add_bridge(&sim_vtd, &sim_bridge) != 0)
		return 1;
	/* The neighbour prefetch is off in vmm by default; keep it exercised here. */
	sim_bridge.prefetch = 32;
	if (pthread_create(&sim_vhost, NULL, vhost_thread, NULL) != 0)
		return 1;

	memset(&P, 0, sizeof(P));
	P.rd = sim_rd;
	P.wr = sim_wr;
	P.w = sim_ram + w_gpa;
	P.w_gpa = w_gpa;
	P.ram_end = SIM_RAM;
	P.nb_lo = -(long)VTD_SIZE;
	P.nb_hi = 2 * (long)VTD_SIZE;
	P.dma = sim_dma;
	P.rebind = sim_rebind;
	P.net_ok = sim_net_ok;
	P.race = NULL;
	P.sleep_ms = sim_sleep;
	g_anomalies = g_faults = g_iqe = g_mmio = 0;
	sim_violations = sim_updates = sim_msis = 0;

	int rc = hostile_run(rounds, seed);
	shutdown(sim_fd[0], SHUT_WR);
	pthread_join(sim_vhost, NULL);
	uint64_t bad = 0;
	for (uint64_t i = 0; i < w_gpa; i++)
		if (sim_ram[i] != pattern(i) && bad++ == 0)
			violation("RAM below W changed, first at 0x%" PRIx64, i);
	const struct iotlb_stats *st = &sim_bridge.st;
	printf("SIM seed=%" PRIu64 ": misses %" PRIu64 " updates %" PRIu64 " (prefetched %" PRIu64
	       ") invalidates %" PRIu64 " faults %" PRIu64 " unmappable %" PRIu64
	       " write_errors %" PRIu64 "; queue runs %" PRIu64 " descs %" PRIu64 " errors %" PRIu64
	       " waits_status %" PRIu64 "; msis %u; bytes below W changed %" PRIu64
	       "; violations %u\n",
	       seed, st->misses, st->updates, st->prefetched, st->invalidates, st->faults,
	       st->unmappable, st->write_errors, sim_vtd.qi.runs, sim_vtd.qi.descs,
	       sim_vtd.qi.errors, sim_vtd.qi.waits_status, sim_msis, bad, sim_violations);
	close(sim_fd[0]);
	close(sim_fd[1]);
	vtd_destroy(&sim_vtd);
	free(sim_ram);
	return rc != 0 || sim_violations != 0 || g_anomalies != 0 || g_faults == 0;
}

int main(int argc, char **argv)
{
	unsigned rounds = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 400;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;
	unsigned runs = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 0) : 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	unsigned failed = 0;
	for (unsigned i = 0; i < runs; i++)
		failed += (unsigned)sim_run(rounds, seed + i);
	printf("SIM: %u of %u runs failed\n", failed, runs);
	return failed != 0;
}
