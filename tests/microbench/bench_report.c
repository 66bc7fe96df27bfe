/* bench_report.c - see bench_report.h. */
#include "bench_report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Nearest rank: the smallest sample with at least p of them at or below it. */
static uint32_t rank(const uint32_t *sorted, size_t n, unsigned pct)
{
	size_t k = (n * pct + 99) / 100;
	return sorted[k == 0 ? 0 : k - 1];
}

void bench_summarize(uint32_t *ns, size_t n, struct bench_stat *st)
{
	qsort(ns, n, sizeof(*ns), cmp_u32);
	st->median = rank(ns, n, 50);
	st->p90 = rank(ns, n, 90);
	st->p99 = rank(ns, n, 99);
	st->max = ns[n - 1];
}

static bool met(const struct bench_result *r)
{
	return r->miss.median <= r->goal_ns;
}

static void row(FILE *f, const char *what, const struct bench_stat *s)
{
	fprintf(f, "  %-44s %7u %7u %7u %9u\n", what, s->median, s->p90, s->p99, s->max);
}

void bench_print_text(FILE *f, const struct bench_result *r)
{
	fprintf(f, "IOTLB miss service time: %zu misses over %zu x 4 KiB + %zu x 2 MiB mappings "
		   "(4-level tables, %u table pages); fake vhost: SOCK_SEQPACKET socketpair\n",
		r->misses, r->n4k, r->n2m, r->ntables);
	fprintf(f, "  %-44s %7s %7s %7s %9s\n", "ns", "median", "p90", "p99", "max");
	row(f, "miss: vtd_handle_miss until UPDATE written", &r->miss);
	fprintf(f, "where the time goes (each step alone, same misses):\n");
	row(f, "walk + extent (vtd_translate_extent)", &r->walk);
	row(f, "encode UPDATE (iotlb_encode)", &r->encode);
	row(f, "write 72 bytes to the socketpair", &r->write_sock);
	row(f, "write 72 bytes to /dev/null", &r->write_null);
	row(f, "miss with /dev/null as the sink", &r->miss_null);
	row(f, "clock_gettime pair (in every figure)", &r->clock);
	if (r->resync_entries > 0) {
		char what[64];
		snprintf(what, sizeof(what), "domain flush, %u entries re-walked", r->resync_entries);
		row(f, what, &r->resync);
	}
	fprintf(f, "goal: median <= %u ns: %s (median %u ns)\n", r->goal_ns,
		met(r) ? "met" : "not met", r->miss.median);
	if (!met(r)) {
		/* Name the biggest share so the next step is obvious. */
		uint32_t walk = r->walk.median, wr = r->write_sock.median;
		uint32_t rest = r->miss.median > walk + wr ? r->miss.median - walk - wr : 0;
		fprintf(f, "  largest part: %s (walk %u, write %u, lock + encode + checks %u ns)\n",
			wr >= walk && wr >= rest ? "the write to the peer"
			: walk >= rest		? "the table walk"
						: "lock, encode and bookkeeping",
			walk, wr, rest);
	}
}

void bench_print_json(FILE *f, const struct bench_result *r)
{
	fprintf(f,
		"{\"median_ns\":%u,\"p90_ns\":%u,\"p99_ns\":%u,\"max_ns\":%u,\"misses\":%zu,"
		"\"goal_median_ns\":%u,\"met\":%s,\"walk_median_ns\":%u,\"encode_median_ns\":%u,"
		"\"write_socket_median_ns\":%u,\"write_null_median_ns\":%u,"
		"\"miss_null_sink_median_ns\":%u,\"clock_pair_median_ns\":%u,"
		"\"resync_entries\":%u,\"resync_median_ns\":%u}\n",
		r->miss.median, r->miss.p90, r->miss.p99, r->miss.max, r->misses, r->goal_ns,
		met(r) ? "true" : "false", r->walk.median, r->encode.median, r->write_sock.median,
		r->write_null.median, r->miss_null.median, r->clock.median, r->resync_entries,
		r->resync.median);
}

int bench_write_json_file(const char *path, const struct bench_result *r)
{
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		fprintf(stderr, "iotlb-miss-bench: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	bench_print_json(f, r);
	if (fclose(f) != 0) {
		fprintf(stderr, "iotlb-miss-bench: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}
