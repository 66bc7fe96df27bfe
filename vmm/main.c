/*
 * main.c - the `vmm` command: parse the configuration, build and run the VM,
 * and turn how it ended into the process exit status (config.h, enum
 * vmm_exit). Every error is reported here, once, as one line on stderr.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "net.h"
#include "vm.h"

static const char usage[] =
	"usage: vmm run --kernel KERNEL [options]\n"
	"       vmm run --config FILE [options]\n"
	"\n"
	"options:\n"
	"  --kernel FILE      Linux bzImage (64-bit boot protocol) or x86-64 ELF vmlinux\n"
	"  --initrd FILE      initial ramdisk\n"
	"  --cmdline STR      kernel command line (default: \"" CONFIG_DEFAULT_CMDLINE "\")\n"
	"  --cpus N           vCPUs, 1-64 (default 1)\n"
	"  --memory SIZE      guest RAM, e.g. 512M or 2G (default 512M)\n"
	"  --serial MODE      stdio (default) or none\n"
	"  --net tap=NAME[,mac=MAC][,iommu=on]\n"
	"                     virtio-net on vhost-net and TAP NAME (repeatable);\n"
	"                     iommu=on puts it behind the emulated VT-d\n"
	"                     (the guest needs intel_iommu=on)\n"
	"  --iommu caching-mode=on|off\n"
	"                     VT-d caching mode (default off): the guest reports\n"
	"                     new mappings too, and vhost gets them before it\n"
	"                     can miss; Linux then always unmaps strictly\n"
	"  --stats FILE       write counters as JSON at exit\n"
	"  --crash-dump FILE  if the guest triple-faults, or vmm is stopped by\n"
	"                     SIGINT/SIGTERM, write guest RAM to FILE (raw, sparse,\n"
	"                     file offset = guest physical address); on a signal\n"
	"                     also print where each vCPU was\n"
	"  --config FILE      read options from FILE (key = value lines)\n"
	"\n"
	"exit status: 0 guest powered off, 1 VMM or KVM error (incl. guest triple fault),\n"
	"             2 bad usage or input, 3 guest rebooted, 4 stopped by SIGINT/SIGTERM\n";

int main(int argc, char **argv)
{
	static struct vm vm; /* large (vCPU table): keep it off the stack */
	vm.stats.start_ns = now_ns();

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
			  strcmp(argv[1], "help") == 0)) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "run") != 0) {
		fprintf(stderr, "vmm: %s (try `vmm --help`)\n",
			argc < 2 ? "no command given" : "unknown command; the only command is `run`");
		return VMM_EXIT_USAGE;
	}

	struct vmm_config cfg;
	char err[CONFIG_ERR_LEN];
	config_init(&cfg);
	if (config_parse_args(&cfg, argc - 2, argv + 2, err, sizeof(err)) < 0 ||
	    config_validate(&cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "vmm: %s\n", err);
		config_free(&cfg);
		return VMM_EXIT_USAGE;
	}

	/*
	 * SIGINT/SIGTERM are taken by the event loop's signalfd; block them in
	 * every thread before any is created.
	 */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	char msg[512];
	struct vm_images img;
	int status = net_check_host(&cfg, msg, sizeof(msg));
	if (status == 0)
		status = vm_read_images(&img, &cfg, msg, sizeof(msg));
	if (status) {
		fprintf(stderr, "vmm: %s\n", msg);
		config_free(&cfg);
		return status;
	}
	status = vm_create(&vm, &cfg, msg, sizeof(msg));
	vm.stats.created_ns = now_ns();
	if (status == 0)
		status = vm_load(&vm, &img, msg, sizeof(msg));
	vm.stats.loaded_ns = now_ns();
	/* The guest has its copies now. */
	vm_free_images(&img);
	if (status == 0)
		status = vm_start(&vm, msg, sizeof(msg));
	if (status == 0) {
		thread_sched_read(&vm.loop_start);
		vm_run_event_loop(&vm);
		thread_sched_read(&vm.loop_end);
		status = vm.exit_status;
		if (status != VMM_EXIT_POWEROFF)
			fprintf(stderr, "vmm: %s\n", vm.exit_message);
	} else {
		fprintf(stderr, "vmm: %s\n", msg);
		vm_request_stop(&vm, status, "%s", msg); /* stops vCPUs a failed start left */
	}
	/*
	 * Before teardown, while guest RAM is still mapped: after a triple
	 * fault, and when vmm was stopped by a signal (a hung guest killed from
	 * outside), where each vCPU was too. A triple fault's registers are
	 * gone: KVM has reset the vCPU.
	 */
	bool triple = __atomic_load_n(&vm.guest_triple_fault, __ATOMIC_ACQUIRE);
	if (cfg.crash_dump_path && (triple || status == VMM_EXIT_SIGNAL)) {
		vm_join_vcpus(&vm);
		for (unsigned i = 0; !triple && i < vm.ncpus; i++) {
			char where[512];
			int rc = vcpu_describe(&vm.vcpu[i], where, sizeof(where));
			if (rc < 0)
				fprintf(stderr, "vmm: vCPU %u: cannot read its registers: %s\n", i,
					strerror(-rc));
			else
				fprintf(stderr, "vmm: vCPU %u was at: %s\n", i, where);
		}
		int rc = vm_write_crash_dump(&vm, cfg.crash_dump_path);
		if (rc < 0)
			fprintf(stderr, "vmm: cannot write the crash dump to %s: %s\n",
				cfg.crash_dump_path, strerror(-rc));
		else
			fprintf(stderr, "vmm: guest RAM written to %s (crash dump)\n",
				cfg.crash_dump_path);
	}
	/* Before teardown, so the footprint is the running VMM's. */
	if (cfg.stats_path) {
		int rc = vm_write_stats(&vm, cfg.stats_path);
		if (rc < 0)
			fprintf(stderr, "vmm: cannot write stats to %s: %s\n", cfg.stats_path,
				strerror(-rc));
	}
	vm_destroy(&vm);
	config_free(&cfg);
	return status;
}
