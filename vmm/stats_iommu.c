/*
 * stats_iommu.c - the VT-d and vhost IOTLB counters: the "iommu" member of
 * the --stats JSON and the one-line summary on stderr at exit.
 *
 * The counters live in struct vtd and in each net's iotlb_bridge and are
 * written under vtd.lock (event loop: misses; vCPUs: invalidations), so
 * they are copied under that lock, once, and printed from the copy.
 */
#include "vm.h"

#include <inttypes.h>
#include <pthread.h>
#include <string.h>

#include "../iommu/iommu.h"
#include "net.h"

struct iommu_snap {
	unsigned nbridges;
	struct { unsigned index; uint16_t rid; enum iotlb_wire wire; struct iotlb_stats st; }
		b[CONFIG_MAX_NETS];
	struct iotlb_stats total; /* sum over the bridges; max for svc_ns_max */
	struct vtd_qi_stats qi;
	uint64_t inval_by_kind[VTD_INVAL_DEVTLB + 1];
	bool translating;
};

static void add_write_time(struct iotlb_write_time *t, const struct iotlb_write_time *s)
{
	t->n += s->n;
	t->ns_sum += s->ns_sum;
	if (s->ns_max > t->ns_max)
		t->ns_max = s->ns_max;
	for (unsigned i = 0; i < IOTLB_HIST_BUCKETS; i++)
		t->hist[i] += s->hist[i];
}

static void add_stats(struct iotlb_stats *t, const struct iotlb_stats *s)
{
	t->misses += s->misses;
	t->updates += s->updates;
	t->invalidates += s->invalidates;
	t->faults += s->faults;
	t->unmappable += s->unmappable;
	t->bad_msgs += s->bad_msgs;
	t->write_errors += s->write_errors;
	t->bytes_mapped += s->bytes_mapped;
	t->prefetched += s->prefetched;
	t->eager += s->eager;
	t->ringscans += s->ringscans;
	t->ringscanned += s->ringscanned;
	t->kick_scans += s->kick_scans;
	t->kick_scanned += s->kick_scanned;
	t->relay_switches += s->relay_switches;
	t->resyncs += s->resyncs;
	t->resync_kept += s->resync_kept;
	t->resync_stale += s->resync_stale;
	t->stale_misses += s->stale_misses;
	t->resync_ns_sum += s->resync_ns_sum;
	t->resync_walk_ns_sum += s->resync_walk_ns_sum;
	if (s->resync_ns_max > t->resync_ns_max)
		t->resync_ns_max = s->resync_ns_max;
	t->svc_ns_sum += s->svc_ns_sum;
	if (s->svc_ns_max > t->svc_ns_max)
		t->svc_ns_max = s->svc_ns_max;
	for (unsigned i = 0; i < IOTLB_HIST_BUCKETS; i++)
		t->svc_hist[i] += s->svc_hist[i];
	add_write_time(&t->wr_update, &s->wr_update);
	add_write_time(&t->wr_inval, &s->wr_inval);
}

static void snapshot(const struct vm *vm, struct iommu_snap *s)
{
	memset(s, 0, sizeof(*s));
	struct vtd *v = vm->vtd;
	pthread_mutex_lock(&v->lock);
	for (unsigned i = 0; i < vm->nnets && s->nbridges < CONFIG_MAX_NETS; i++) {
		const struct net_dev *n = vm->net[i];
		if (n == NULL || !n->iommu)
			continue;
		s->b[s->nbridges].index = n->index;
		s->b[s->nbridges].rid = n->bridge.rid;
		s->b[s->nbridges].wire = n->bridge.wire;
		s->b[s->nbridges].st = n->bridge.st;
		add_stats(&s->total, &n->bridge.st);
		s->nbridges++;
	}
	s->qi = v->qi;
	memcpy(s->inval_by_kind, v->inval_by_kind, sizeof(s->inval_by_kind));
	s->translating = vtd_regs_translation_enabled(&v->regs);
	pthread_mutex_unlock(&v->lock);
}

/*
 * Median of a log2 histogram (a miss service time, a write time): the upper
 * bound of the bucket holding the middle sample (bucket i is [2^i, 2^(i+1))
 * ns), so the true median is below it and at least half of it. 0 when
 * there were none.
 */
static uint64_t hist_median_ns(const uint64_t *hist)
{
	uint64_t total = 0, seen = 0;
	for (unsigned i = 0; i < IOTLB_HIST_BUCKETS; i++)
		total += hist[i];
	if (total == 0)
		return 0;
	for (unsigned i = 0; i < IOTLB_HIST_BUCKETS; i++) {
		seen += hist[i];
		if (seen * 2 >= total)
			return i + 1 < 64 ? 1ULL << (i + 1) : UINT64_MAX;
	}
	return UINT64_MAX;
}

static const char *wire_name(enum iotlb_wire w)
{
	switch (w) {
	case IOTLB_WIRE_V2:
		return "v2";
	case IOTLB_WIRE_V1_64:
		return "v1-64";
	case IOTLB_WIRE_V1_32:
		return "v1-32";
	}
	return "?";
}

static void json_write_time(FILE *f, const char *name, const struct iotlb_write_time *w)
{
	fprintf(f,
		", \"%s\": { \"n\": %" PRIu64 ", \"ns_sum\": %" PRIu64 ", \"ns_max\": %" PRIu64
		", \"ns_median_le\": %" PRIu64 ", \"ns_log2_hist\": [",
		name, w->n, w->ns_sum, w->ns_max, hist_median_ns(w->hist));
	for (unsigned i = 0; i < IOTLB_HIST_BUCKETS; i++)
		fprintf(f, "%s%" PRIu64, i ? ", " : "", w->hist[i]);
	fprintf(f, "] }");
}

static void json_bridge_stats(FILE *f, const struct iotlb_stats *st)
{
	fprintf(f,
		"\"misses\": %" PRIu64 ", \"updates\": %" PRIu64 ", \"invalidates\": %" PRIu64
		", \"faults\": %" PRIu64 ", \"unmappable\": %" PRIu64 ", \"bad_msgs\": %" PRIu64
		", \"write_errors\": %" PRIu64 ", \"bytes_mapped\": %" PRIu64
		", \"prefetched\": %" PRIu64 ", \"eager\": %" PRIu64 ", \"ringscans\": %" PRIu64
		", \"ringscanned\": %" PRIu64 ", \"kick_scans\": %" PRIu64
		", \"kick_scanned\": %" PRIu64 ", \"relay_switches\": %" PRIu64
		", \"resyncs\": %" PRIu64
		", \"resync_kept\": %" PRIu64 ", \"resync_stale\": %" PRIu64
		", \"resync_ns_sum\": %" PRIu64 ", \"resync_walk_ns_sum\": %" PRIu64
		", \"resync_ns_max\": %" PRIu64 ", \"stale_misses\": %" PRIu64
		", \"miss_ns_sum\": %" PRIu64 ", \"miss_ns_max\": %" PRIu64
		", \"miss_ns_median_le\": %" PRIu64 ", \"miss_ns_log2_hist\": [",
		st->misses, st->updates, st->invalidates, st->faults, st->unmappable, st->bad_msgs,
		st->write_errors, st->bytes_mapped, st->prefetched, st->eager, st->ringscans,
		st->ringscanned, st->kick_scans, st->kick_scanned, st->relay_switches, st->resyncs,
		st->resync_kept, st->resync_stale, st->resync_ns_sum, st->resync_walk_ns_sum,
		st->resync_ns_max, st->stale_misses, st->svc_ns_sum, st->svc_ns_max,
		hist_median_ns(st->svc_hist));
	for (unsigned i = 0; i < IOTLB_HIST_BUCKETS; i++)
		fprintf(f, "%s%" PRIu64, i ? ", " : "", st->svc_hist[i]);
	fputc(']', f);
	json_write_time(f, "write_update", &st->wr_update);
	json_write_time(f, "write_invalidate", &st->wr_inval);
}

void vm_write_iommu_json(FILE *f, const struct vm *vm, const char *in)
{
	static struct iommu_snap s; /* large-ish; only the main thread writes stats */
	snapshot(vm, &s);
	static const char *const kind[VTD_INVAL_DEVTLB + 1] = {
		[VTD_INVAL_RESET] = "reset",
		[VTD_INVAL_CC_GLOBAL] = "cc_global",
		[VTD_INVAL_CC_DOMAIN] = "cc_domain",
		[VTD_INVAL_CC_DEVICE] = "cc_device",
		[VTD_INVAL_IOTLB_GLOBAL] = "iotlb_global",
		[VTD_INVAL_IOTLB_DOMAIN] = "iotlb_domain",
		[VTD_INVAL_IOTLB_PAGE] = "iotlb_page",
		[VTD_INVAL_DEVTLB] = "devtlb",
	};

	/* Linux turns translation off again when it shuts down. */
	fprintf(f, "%s\"translation_enabled_at_exit\": %s,\n", in, s.translating ? "true" : "false");
	fprintf(f, "%s\"iotlb\": { ", in);
	json_bridge_stats(f, &s.total);
	fprintf(f, " },\n");
	fprintf(f, "%s\"devices\": [", in);
	for (unsigned i = 0; i < s.nbridges; i++) {
		fprintf(f, "%s\n%s  { \"net\": %u, \"rid\": \"%02x:%02x.%x\", \"wire\": \"%s\", ",
			i ? "," : "", in, s.b[i].index, s.b[i].rid >> 8, (s.b[i].rid >> 3) & 0x1f,
			s.b[i].rid & 7, wire_name(s.b[i].wire));
		json_bridge_stats(f, &s.b[i].st);
		fprintf(f, " }");
	}
	if (s.nbridges)
		fprintf(f, "\n%s", in);
	fprintf(f, "],\n");
	fprintf(f, "%s\"invalidations\": { ", in);
	for (unsigned k = 0; k <= VTD_INVAL_DEVTLB; k++)
		fprintf(f, "%s\"%s\": %" PRIu64, k ? ", " : "", kind[k], s.inval_by_kind[k]);
	fprintf(f, " },\n");
	fprintf(f,
		"%s\"queued_invalidation\": { \"runs\": %" PRIu64 ", \"descs\": %" PRIu64
		", \"cc\": %" PRIu64 ", \"iotlb\": %" PRIu64 ", \"devtlb\": %" PRIu64
		", \"iec\": %" PRIu64 ", \"wait\": %" PRIu64 ", \"waits_status\": %" PRIu64
		", \"waits_irq\": %" PRIu64 ", \"errors\": %" PRIu64 ", \"aborted\": %" PRIu64
		" }\n",
		in, s.qi.runs, s.qi.descs, s.qi.by_type[VTD_QI_CC], s.qi.by_type[VTD_QI_IOTLB],
		s.qi.by_type[VTD_QI_DEVTLB], s.qi.by_type[VTD_QI_IEC], s.qi.by_type[VTD_QI_WAIT],
		s.qi.waits_status, s.qi.waits_irq, s.qi.errors, s.qi.aborted);
}

void vm_print_iommu_summary(const struct vm *vm)
{
	static struct iommu_snap s;
	snapshot(vm, &s);
	const struct iotlb_stats *t = &s.total;
	uint64_t inv = 0;
	for (unsigned k = 0; k <= VTD_INVAL_DEVTLB; k++)
		inv += s.inval_by_kind[k];
	fprintf(stderr,
		"vmm: iotlb: misses %" PRIu64 " updates %" PRIu64 " (prefetched %" PRIu64
		", eager %" PRIu64 ", from ring scans %" PRIu64 ", of which on kicks %" PRIu64
		") invalidates %" PRIu64
		" (domain flushes re-walked %" PRIu64 ", entries kept %" PRIu64 ", changed %" PRIu64 ")"
		" faults %" PRIu64 " (late misses, not faults: %" PRIu64 ") mapped %" PRIu64
		" KiB, miss service median <%.1f us max %.1f us"
		", write median UPDATE <%.1f us INVALIDATE <%.1f us"
		"; guest invalidations %" PRIu64 " (queued descriptors %" PRIu64 ")\n",
		t->misses, t->updates, t->prefetched, t->eager, t->ringscanned, t->kick_scanned,
		t->invalidates, t->resyncs,
		t->resync_kept, t->resync_stale, t->faults, t->stale_misses,
		t->bytes_mapped >> 10,
		(double)hist_median_ns(t->svc_hist) / 1000.0, (double)t->svc_ns_max / 1000.0,
		(double)hist_median_ns(t->wr_update.hist) / 1000.0,
		(double)hist_median_ns(t->wr_inval.hist) / 1000.0, inv,
		s.qi.descs);
}
