/*
 * thread_sched.c - where a thread's time went, in the kernel's own
 * accounting (see vm.h): on a CPU, runnable but waiting for one, or
 * asleep (the rest of the wall time: poll, a mutex, vhost's locks).
 *
 * Why: behind the vIOMMU the event loop answers vhost's misses and a
 * vCPU writes the INVALIDATEs of a guest flush, and both take far longer
 * in the test bed than their own work costs alone (tests/testbed-cost).
 * Whether the difference is a wait for a CPU (three busy threads on the
 * test bed's two) or a wait for vhost decides what could shorten it, and
 * only the scheduler knows which.
 *
 * The parser is pure; thread_sched_read is the edge that reads
 * /proc/thread-self. Kernels without schedstat info leave valid false.
 */
#include "vm.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The value after `key` at the start of a line of /proc status text. */
static bool status_field(const char *status, const char *key, uint64_t *v)
{
	size_t klen = strlen(key);
	const char *l = status;
	while (l != NULL && *l != '\0') {
		if (strncmp(l, key, klen) == 0)
			return sscanf(l + klen, " %" SCNu64, v) == 1;
		l = strchr(l, '\n');
		if (l != NULL)
			l++;
	}
	return false;
}

int thread_sched_parse(const char *schedstat, const char *status, struct thread_sched *out)
{
	memset(out, 0, sizeof(*out));
	if (schedstat == NULL || status == NULL)
		return -EINVAL;
	/* schedstat: "<on cpu ns> <waiting on a runqueue ns> <timeslices>" */
	if (sscanf(schedstat, "%" SCNu64 " %" SCNu64 " %" SCNu64, &out->cpu_ns, &out->runq_ns,
		   &out->slices) != 3 ||
	    !status_field(status, "voluntary_ctxt_switches:", &out->voluntary) ||
	    !status_field(status, "nonvoluntary_ctxt_switches:", &out->involuntary))
		return -EINVAL;
	out->valid = true;
	return 0;
}

static int read_small(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -errno;
	size_t n = fread(buf, 1, len - 1, f);
	int err = ferror(f) ? -EIO : 0;
	fclose(f);
	buf[n] = '\0';
	return err;
}

int thread_sched_read(struct thread_sched *out)
{
	char st[128], status[4096];
	uint64_t t = now_ns();
	int rc = read_small("/proc/thread-self/schedstat", st, sizeof(st));
	if (rc == 0)
		rc = read_small("/proc/thread-self/status", status, sizeof(status));
	if (rc == 0)
		rc = thread_sched_parse(st, status, out);
	else
		memset(out, 0, sizeof(*out));
	out->wall_ns = t;
	return rc;
}

void thread_sched_json(FILE *f, const struct thread_sched *a, const struct thread_sched *b)
{
	if (!a->valid || !b->valid || b->wall_ns < a->wall_ns) {
		fprintf(f, "null");
		return;
	}
	/* Counters only grow; a wrapped one would say so by a huge value. */
	fprintf(f,
		"{ \"wall_ns\": %" PRIu64 ", \"cpu_ns\": %" PRIu64 ", \"runq_wait_ns\": %" PRIu64
		", \"timeslices\": %" PRIu64 ", \"voluntary_switches\": %" PRIu64
		", \"involuntary_switches\": %" PRIu64 " }",
		b->wall_ns - a->wall_ns, b->cpu_ns - a->cpu_ns, b->runq_ns - a->runq_ns,
		b->slices - a->slices, b->voluntary - a->voluntary, b->involuntary - a->involuntary);
}
