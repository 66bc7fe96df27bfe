/*
 * iotlb_miss_bench.c - how long the VMM takes to answer one vhost IOTLB
 * miss: from handing a decoded MISS to vtd_handle_miss until the UPDATE
 * has been written, i.e. vtd.lock + 4-level walk + extent growth + range
 * check + encode + write(), the whole miss section of iommu.h section 6.
 *
 * The fake vhost is the other end of an AF_UNIX SOCK_SEQPACKET socketpair
 * (one write, one message, like the vhost fd), O_NONBLOCK as vhost_net_open
 * leaves the real one. It is drained in this thread between misses, outside
 * the timed part, so a write never waits for buffer space. Every UPDATE is
 * decoded and checked against the mapping it must come from: a run that
 * measured faults or wrong extents would be worthless, so it stops instead.
 *
 * The guest tables (dma_layout.h) are what a Linux guest's DMA API leaves:
 * a few thousand scattered 4 KiB mappings below 4 GiB plus some 2 MiB ones.
 * Misses pick a mapping uniformly and a random byte in it, asking for the
 * mapping's own direction (W for receive pages, R for transmit pages).
 *
 * Then each step is timed alone over the same misses, to say where the time
 * goes: the walk, the encode, write() to the socketpair and to /dev/null,
 * and the whole miss with /dev/null as the sink (the miss minus the cost of
 * the peer). Every figure includes one clock_gettime pair, printed too.
 *
 *   iotlb-miss-bench [--misses N] [--seed S] [--json] [--json-file FILE]
 * Exit status: 0 measured (goal met or not), 1 setup or check failed, 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../iommu/iommu.h"
#include "dma_layout.h"
#include "bench_report.h"

#define RAM_SIZE   (512ull << 20)
#define N_4K       4096
#define N_2M       32
#define WARMUP     10000
#define GOAL_NS    2000

struct miss {
	struct iotlb_msg msg;    /* the MISS */
	const struct dma_map *map;
	uint64_t host;           /* host address the missed byte must map to */
};

struct bench {
	struct dma_layout l;
	struct vtd v;
	struct iotlb_bridge br;
	int sv[2];               /* sv[0]: the bridge's fd; sv[1]: fake vhost */
	int null_fd;
	struct miss *miss;
	size_t n;
	uint32_t *ns;            /* one sample per miss */
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint32_t clamp_ns(uint64_t d)
{
	return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

/* Report why the run cannot go on; returns -1. */
static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "iotlb-miss-bench: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return -1;
}

/* Registers as a Linux guest leaves them: root table latched, translation on. */
static int setup(struct bench *b, size_t n, uint64_t seed)
{
	char err[200];
	if (dma_layout_build(&b->l, RAM_SIZE, N_4K, N_2M, seed, err, sizeof(err)) < 0) {
		fprintf(stderr, "iotlb-miss-bench: %s\n", err);
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, b->sv) < 0 ||
	    fcntl(b->sv[0], F_SETFL, O_NONBLOCK) < 0 ||
	    (b->null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0) {
		perror("iotlb-miss-bench: socketpair or /dev/null");
		return -1;
	}
	if (vtd_init(&b->v, &b->l.gm, false, NULL, NULL) < 0 ||
	    iotlb_bridge_init(&b->br, b->sv[0], IOTLB_WIRE_V2, b->l.rid, &b->l.gm, &b->v.regs, 0) < 0 ||
	    vtd_add_bridge(&b->v, &b->br) < 0 ||
	    vtd_mmio_write(&b->v, VTD_REG_RTADDR, 8, b->l.rtaddr) < 0 ||
	    vtd_mmio_write(&b->v, VTD_REG_GCMD, 4, 1u << 30) < 0 ||            /* SRTP */
	    vtd_mmio_write(&b->v, VTD_REG_GCMD, 4, 1u << 31) < 0 ||            /* TE */
	    !vtd_regs_translation_enabled(&b->v.regs))
		return fail("cannot set up the VT-d (registers or bridge)");
	/* SRTP flushed vhost's (here: nobody's) IOTLB: drop that INVALIDATE. */
	uint8_t buf[128];
	while (recv(b->sv[1], buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	b->n = n;
	b->miss = calloc(n, sizeof(*b->miss));
	b->ns = calloc(n, sizeof(*b->ns));
	if (b->miss == NULL || b->ns == NULL)
		return fail("out of memory for %zu misses", n);
	uint64_t rng = seed ^ 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < n; i++) {
		const struct dma_map *m = &b->l.map[dma_rand(&rng) % b->l.nmap];
		uint64_t off = dma_rand(&rng) % m->size;
		uint8_t perm = m->perm != VTD_PERM_RW ? m->perm
						      : (dma_rand(&rng) & 1) ? VTD_PERM_W : VTD_PERM_R;
		b->miss[i] = (struct miss){
			.msg = { .type = IOTLB_MISS, .iova = m->iova + off, .perm = perm },
			.map = m,
			.host = (uint64_t)(uintptr_t)guest_mem_ptr(&b->l.gm, m->gpa + off, 1),
		};
	}
	return 0;
}

/* The UPDATE for miss i must hold the missed byte, at its host address, with its perm. */
static int check_update(struct bench *b, size_t i)
{
	uint8_t buf[128];
	struct iotlb_msg u;
	ssize_t got = recv(b->sv[1], buf, sizeof(buf), MSG_DONTWAIT);
	if (got < 0 || iotlb_decode(IOTLB_WIRE_V2, buf, (size_t)got, &u) < 0 ||
	    u.type != IOTLB_UPDATE)
		return fail("miss %zu: no UPDATE from the bridge (recv: %zd)", i, got);
	const struct miss *m = &b->miss[i];
	uint64_t iova = m->msg.iova;
	if (iova < u.iova || iova - u.iova >= u.size || u.uaddr + (iova - u.iova) != m->host ||
	    (u.perm & m->msg.perm) != m->msg.perm)
		return fail("miss %zu: wrong UPDATE for iova 0x%" PRIx64 ": [0x%" PRIx64
			    ", +0x%" PRIx64 ") perm %u", i, iova, u.iova, u.size, u.perm);
	return 0;
}

/* Phase "miss": the headline, through vtd_handle_miss, checked. */
static int run_misses(struct bench *b, size_t n, bool check)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t t0 = now_ns();
		int rc = vtd_handle_miss(&b->v, &b->br, &b->miss[i].msg);
		uint64_t t1 = now_ns();
		if (rc != 0)
			return fail("miss %zu (iova 0x%" PRIx64 "): vtd_handle_miss: %s", i,
				    b->miss[i].msg.iova, strerror(-rc));
		b->ns[i] = clamp_ns(t1 - t0);
		if (check && check_update(b, i) < 0)
			return -1;
	}
	return 0;
}

static int run_walks(struct bench *b)
{
	struct vtd_walk_cfg cfg;
	struct vtd_extent ext;
	for (size_t i = 0; i < b->n; i++) {
		const struct iotlb_msg *m = &b->miss[i].msg;
		uint64_t t0 = now_ns();
		vtd_regs_walk_cfg(&b->v.regs, &cfg);
		int rc = vtd_translate_extent(&b->l.gm, &cfg, vtd_regs_root(&b->v.regs), b->l.rid,
					      m->iova, m->perm, b->br.max_len, &ext);
		uint64_t t1 = now_ns();
		if (rc < 0 || ext.status != VTD_OK)
			return fail("walk %zu (iova 0x%" PRIx64 "): rc %d, status 0x%x", i, m->iova,
				    rc, (unsigned)ext.status);
		b->ns[i] = clamp_ns(t1 - t0);
	}
	return 0;
}

/* The UPDATE each miss produces, encoded alone. */
static void run_encodes(struct bench *b)
{
	uint8_t buf[IOTLB_WIRE_MAX];
	for (size_t i = 0; i < b->n; i++) {
		const struct miss *m = &b->miss[i];
		struct iotlb_msg u = { .type = IOTLB_UPDATE, .iova = m->map->iova, .size = m->map->size,
				       .uaddr = m->host - (m->msg.iova - m->map->iova),
				       .perm = m->map->perm };
		uint64_t t0 = now_ns();
		int len = iotlb_encode(IOTLB_WIRE_V2, &u, buf, sizeof(buf));
		uint64_t t1 = now_ns();
		b->ns[i] = clamp_ns(t1 - t0);
		if (len < 0)
			b->ns[i] = UINT32_MAX; /* cannot happen: the message is valid */
	}
}

/* One 72-byte message written to fd n times (drained after each if it is the socketpair). */
static int run_writes(struct bench *b, int fd)
{
	uint8_t buf[IOTLB_WIRE_MAX], rd[128];
	struct iotlb_msg u = { .type = IOTLB_UPDATE, .iova = 0x1000, .size = 0x1000,
			       .uaddr = (uint64_t)(uintptr_t)b->l.ram, .perm = VTD_PERM_RW };
	int len = iotlb_encode(IOTLB_WIRE_V2, &u, buf, sizeof(buf));
	for (size_t i = 0; i < b->n; i++) {
		uint64_t t0 = now_ns();
		ssize_t w = write(fd, buf, (size_t)len);
		uint64_t t1 = now_ns();
		if (w != len)
			return fail("write %zu returned %zd: %s", i, w, w < 0 ? strerror(errno) : "short");
		b->ns[i] = clamp_ns(t1 - t0);
		if (fd == b->sv[0] && recv(b->sv[1], rd, sizeof(rd), MSG_DONTWAIT) != len)
			return fail("write %zu: the peer got no message", i);
	}
	return 0;
}

static void run_clock(struct bench *b)
{
	for (size_t i = 0; i < b->n; i++) {
		uint64_t t0 = now_ns();
		uint64_t t1 = now_ns();
		b->ns[i] = clamp_ns(t1 - t0);
	}
}

/*
 * A lazy-mode domain flush (iotlb_sync.c): the held list filled with k
 * distinct mappings, none changed, so the flush re-walks all k and writes
 * nothing. Timed over `rounds` flushes; checks that nothing was sent.
 */
static int run_resyncs(struct bench *b, unsigned k, size_t rounds)
{
	iotlb_held_reset(&b->br.held);
	b->br.fd = b->sv[0];
	uint8_t buf[128];
	for (unsigned i = 0; i < k && i < b->l.nmap; i++) {
		const struct dma_map *m = &b->l.map[i];
		struct iotlb_msg miss = { .type = IOTLB_MISS, .iova = m->iova,
					  .perm = m->perm == VTD_PERM_W ? VTD_PERM_W : VTD_PERM_R };
		if (vtd_handle_miss(&b->v, &b->br, &miss) != 0)
			return fail("resync setup: miss on mapping %u failed", i);
		while (recv(b->sv[1], buf, sizeof(buf), MSG_DONTWAIT) > 0)
			;
	}
	if (b->br.held.overflow || b->br.held.live < k)
		return fail("resync setup: %u entries held, %u wanted", b->br.held.live, k);
	struct vtd_inval inv = { .kind = VTD_INVAL_IOTLB_DOMAIN, .did = b->l.did };
	uint64_t inval_before = b->br.st.invalidates;
	for (size_t i = 0; i < rounds; i++) {
		uint64_t t0 = now_ns();
		pthread_mutex_lock(&b->v.lock);
		int rc = iotlb_bridge_invalidate(&b->br, &inv);
		pthread_mutex_unlock(&b->v.lock);
		uint64_t t1 = now_ns();
		if (rc != 0)
			return fail("resync %zu: %d messages or error, expected none", i, rc);
		b->ns[i] = clamp_ns(t1 - t0);
	}
	if (b->br.st.invalidates != inval_before || b->br.held.live != k)
		return fail("resync: entries were dropped although no mapping changed");
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: iotlb-miss-bench [--misses N] [--seed S] [--json] [--json-file FILE]\n");
	return 2;
}

int main(int argc, char **argv)
{
	size_t n = 200000;
	uint64_t seed = 42;
	bool json = false;
	const char *json_file = NULL;
	for (int i = 1; i < argc; i++) {
		char *end = NULL;
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--json-file") == 0 && i + 1 < argc)
			json_file = argv[++i];
		else if (strcmp(argv[i], "--misses") == 0 && i + 1 < argc)
			n = strtoul(argv[++i], &end, 0);
		else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			seed = strtoull(argv[++i], &end, 0);
		else
			return usage();
		if (end != NULL && (*end != '\0' || n == 0 || n > 50000000))
			return usage();
	}

	static struct bench b;
	struct bench_result r = { .misses = n, .goal_ns = GOAL_NS, .n4k = N_4K, .n2m = N_2M };
	if (setup(&b, n, seed) < 0)
		return 1;
	r.ntables = b.l.ntables;
	/* Warm caches and branch predictors on the real path first. */
	if (run_misses(&b, n < WARMUP ? n : WARMUP, true) < 0)
		return 1;
	if (run_misses(&b, n, true) < 0)
		return 1;
	bench_summarize(b.ns, n, &r.miss);

	if (run_walks(&b) < 0)
		return 1;
	bench_summarize(b.ns, n, &r.walk);
	run_encodes(&b);
	bench_summarize(b.ns, n, &r.encode);
	if (run_writes(&b, b.sv[0]) < 0)
		return 1;
	bench_summarize(b.ns, n, &r.write_sock);
	if (run_writes(&b, b.null_fd) < 0)
		return 1;
	bench_summarize(b.ns, n, &r.write_null);
	b.br.fd = b.null_fd; /* single-threaded here: no lock needed to swap the sink */
	if (run_misses(&b, n, false) < 0)
		return 1;
	bench_summarize(b.ns, n, &r.miss_null);
	run_clock(&b);
	bench_summarize(b.ns, n, &r.clock);
	/* 1024: about what vhost holds in lazy mode (rings, posted buffers). */
	r.resync_entries = 1024;
	size_t rounds = n < 2000 ? n : 2000;
	if (run_resyncs(&b, r.resync_entries, rounds) < 0)
		return 1;
	bench_summarize(b.ns, rounds, &r.resync);

	if (json)
		bench_print_json(stdout, &r);
	else
		bench_print_text(stdout, &r);
	if (json_file != NULL && bench_write_json_file(json_file, &r) < 0)
		return 1;
	return 0;
}
