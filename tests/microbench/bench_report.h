/*
 * bench_report.h - percentiles of the IOTLB miss benchmark and how they are
 * printed: a table for people, one JSON object for scripts (`--json`, and
 * `--json-file` for make microbench). The JSON starts with the keys the
 * bench suite reads (median_ns, p90_ns, p99_ns, max_ns, misses) and adds
 * the goal and the per-step medians after them.
 */
#ifndef MICROBENCH_BENCH_REPORT_H
#define MICROBENCH_BENCH_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct bench_stat {
	uint32_t median, p90, p99, max; /* ns */
};

struct bench_result {
	size_t misses;
	uint32_t goal_ns;        /* the median must not exceed it */
	size_t n4k, n2m;         /* mappings in the guest tables */
	unsigned ntables;        /* page-table pages, root and context included */
	struct bench_stat miss;  /* vtd_handle_miss, socketpair peer: the headline */
	struct bench_stat walk;  /* vtd_translate_extent alone */
	struct bench_stat encode; /* iotlb_encode of the UPDATE alone */
	struct bench_stat write_sock; /* write() of 72 bytes to the socketpair */
	struct bench_stat write_null; /* write() of 72 bytes to /dev/null */
	struct bench_stat miss_null;  /* vtd_handle_miss with /dev/null as the sink */
	struct bench_stat clock;      /* an empty clock_gettime pair */
	unsigned resync_entries;      /* held entries re-walked per domain flush */
	struct bench_stat resync;     /* one domain flush answered by the re-walk */
};

/* Sort ns[0..n) in place (n > 0) and take the percentiles (nearest rank). */
void bench_summarize(uint32_t *ns, size_t n, struct bench_stat *st);

void bench_print_text(FILE *f, const struct bench_result *r);
void bench_print_json(FILE *f, const struct bench_result *r);
/* The JSON object into path; -1 with a message on stderr if it cannot. */
int bench_write_json_file(const char *path, const struct bench_result *r);

#endif
