/*
 * stats.c - the counters behind `--stats FILE` (JSON, read by the
 * benchmarks) and the VMM's own memory footprint. The VT-d / IOTLB part
 * is in stats_iommu.c.
 */
#include "vm.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * Resident memory of the VMM process outside the guest RAM mapping, in KiB:
 * what the VMM itself costs. Sums the Rss of every mapping in
 * /proc/self/smaps except the one holding guest RAM.
 */
static long rss_outside_guest_kib(const struct vm *vm)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	if (f == NULL)
		return -1;
	char line[512];
	long total = 0;
	bool in_guest = false;
	uintptr_t ram = (uintptr_t)vm->ram, ram_end = ram + vm->ram_size;
	while (fgets(line, sizeof(line), f)) {
		uintptr_t lo, hi;
		long kib;
		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " ", &lo, &hi) == 2 && strchr(line, '-') &&
		    line[0] != ' ')
			in_guest = vm->ram && lo < ram_end && ram < hi;
		else if (sscanf(line, "Rss: %ld kB", &kib) == 1 && !in_guest)
			total += kib;
	}
	fclose(f);
	return total;
}

/* The message as a JSON string body: quotes, backslashes and controls escaped. */
static void json_escape(char *out, size_t outlen, const char *in)
{
	size_t o = 0;
	for (; *in && o + 7 < outlen; in++) {
		unsigned char c = (unsigned char)*in;
		if (c == '"' || c == '\\')
			o += (size_t)snprintf(out + o, outlen - o, "\\%c", c);
		else if (c < 0x20)
			o += (size_t)snprintf(out + o, outlen - o, "\\u%04x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

int vm_write_stats(const struct vm *vm, const char *path)
{
	char msg[sizeof(vm->exit_message) * 6 + 1];
	json_escape(msg, sizeof(msg), vm->exit_message);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -errno;
	uint64_t first = __atomic_load_n(&vm->stats.first_run_ns, __ATOMIC_RELAXED);
	fprintf(f,
		"{\n"
		"  \"exit_status\": %d,\n"
		"  \"exit_message\": \"%s\",\n"
		"  \"cpus\": %u,\n"
		"  \"memory_bytes\": %" PRIu64 ",\n"
		"  \"startup_us\": %" PRIu64 ",\n"
		"  \"startup_breakdown_us\": { \"create\": %" PRIu64 ", \"load\": %" PRIu64 " },\n"
		"  \"rss_outside_guest_kib\": %ld,\n"
		"  \"exits\": { \"io\": %" PRIu64 ", \"mmio\": %" PRIu64 ", \"other\": %" PRIu64 " },\n"
		"  \"coalesced_writes\": %" PRIu64 ",\n"
		"  \"unclaimed\": { \"pio\": %" PRIu64 ", \"mmio\": %" PRIu64 " }",
		vm->exit_status, msg, vm->ncpus, vm->ram_size,
		first ? (first - vm->stats.start_ns) / 1000 : 0,
		(vm->stats.created_ns - vm->stats.start_ns) / 1000,
		(vm->stats.loaded_ns - vm->stats.created_ns) / 1000, rss_outside_guest_kib(vm),
		vm->stats.exit_io, vm->stats.exit_mmio, vm->stats.exit_other, vm->stats.coalesced,
		vm->pio.unclaimed,
		vm->mmio.unclaimed);
	/* Where the exits went: the first thing to look at when boot is slow. */
	const struct io_bus *buses[2] = { &vm->pio, &vm->mmio };
	const char *bus_names[2] = { "pio_by_device", "mmio_by_device" };
	for (unsigned b = 0; b < 2; b++) {
		fprintf(f, ",\n  \"%s\": {", bus_names[b]);
		const char *sep = " ";
		for (unsigned i = 0; i < buses[b]->nranges; i++) {
			const struct io_range *r = &buses[b]->range[i];
			uint64_t hits = __atomic_load_n(&r->hits, __ATOMIC_RELAXED);
			if (hits == 0)
				continue;
			fprintf(f, "%s\"%s@0x%" PRIx64 "\": %" PRIu64, sep, r->name ? r->name : "?",
				r->base, hits);
			sep = ", ";
		}
		fprintf(f, " }");
	}
	/* Where each thread's time went while the guest ran (thread_sched.c);
	 * null for a vCPU thread that has not finished. */
	fprintf(f, ",\n  \"threads\": { \"event_loop\": ");
	thread_sched_json(f, &vm->loop_start, &vm->loop_end);
	fprintf(f, ", \"vcpus\": [");
	static const struct thread_sched none = { .valid = false };
	for (unsigned i = 0; i < vm->ncpus; i++) {
		const struct vcpu *v = &vm->vcpu[i];
		bool done = __atomic_load_n(&v->sched_done, __ATOMIC_ACQUIRE);
		fprintf(f, "%s", i ? ", " : " ");
		thread_sched_json(f, done ? &v->sched_start : &none, done ? &v->sched_end : &none);
	}
	fprintf(f, " ] }");
	/* Only with a VT-d (some --net iommu=on): stats_iommu.c. */
	if (vm->vtd) {
		fprintf(f, ",\n  \"iommu\": {\n");
		vm_write_iommu_json(f, vm, "    ");
		fprintf(f, "  }");
	}
	fprintf(f, "\n}\n");
	return fclose(f) == 0 ? 0 : -errno;
}
