/*
 * config.h - the VM's configuration, from the command line and config files.
 *
 * `vmm run --kernel F [--initrd F] [--cmdline S] [--cpus N] [--memory SIZE]
 *  [--serial stdio|none] [--net tap=NAME,...]... [--iommu caching-mode=on]
 *  [--stats FILE] [--crash-dump FILE] [--config FILE]`
 *
 * A config file holds the same options as `key = value` lines (INI syntax,
 * parsed by libinih; an optional [vm] section; `net` may repeat, like
 * --net on the command line). Options apply in the order
 * given, so `--config demo.cfg --cpus 2` overrides the file's cpus.
 * Relative paths in a config file are taken relative to the file's folder,
 * so configs/ can name build outputs without knowing the caller's cwd.
 *
 * Pure apart from reading the config file; every error comes back as -errno
 * with a one-line message in err.
 */
#ifndef VMM_CONFIG_H
#define VMM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_MIN_MEMORY   (32ULL << 20)
#define CONFIG_MAX_MEMORY   (1ULL << 40)
#define CONFIG_MAX_CPUS     64
#define CONFIG_ERR_LEN      256
#define CONFIG_MAX_NETS     4
#define CONFIG_IFNAMSIZ     16  /* IFNAMSIZ, including the NUL */

enum serial_mode { SERIAL_STDIO = 0, SERIAL_NONE };

/* One `--net tap=NAME[,mac=MAC][,iommu=on|off]`. */
struct net_config {
	char tap[CONFIG_IFNAMSIZ];
	uint8_t mac[6];
	bool has_mac;   /* else one is derived from the device index */
	bool iommu;     /* behind the emulated VT-d (VIRTIO_F_ACCESS_PLATFORM) */
};

struct vmm_config {
	char *kernel;      /* required */
	char *initrd;      /* NULL: none */
	char *cmdline;     /* NULL: the default below */
	char *stats_path;  /* NULL: no JSON stats */
	char *crash_dump_path; /* NULL: no guest RAM dump at a triple fault or signal */
	unsigned cpus;
	uint64_t memory;   /* bytes */
	enum serial_mode serial;
	struct net_config net[CONFIG_MAX_NETS];
	unsigned nnets;
	bool iommu_caching_mode; /* --iommu caching-mode=on: VT-d CAP.CM */
};

#define CONFIG_DEFAULT_CMDLINE "console=ttyS0 reboot=k panic=-1"

/* Exit statuses of the vmm process (documented in README and --help). */
enum vmm_exit {
	VMM_EXIT_POWEROFF = 0, /* the guest powered off */
	VMM_EXIT_ERROR = 1,    /* KVM error, guest triple fault, internal failure */
	VMM_EXIT_USAGE = 2,    /* bad command line, config, kernel image, no /dev/kvm */
	VMM_EXIT_REBOOT = 3,   /* the guest asked for a reboot */
	VMM_EXIT_SIGNAL = 4,   /* stopped by SIGINT/SIGTERM */
};

void config_init(struct vmm_config *cfg);
void config_free(struct vmm_config *cfg);

/* config_values.c: the parsers of single option values, pure. */

/* "52:54:00:12:34:56" -> 6 bytes; -EINVAL unless six hex pairs, unicast. */
int config_parse_mac(const char *s, uint8_t mac[6]);

/* "tap=NAME[,mac=MAC][,iommu=on|off]" -> net; -EINVAL with a message in err. */
int config_parse_net(const char *s, struct net_config *net, char *err, size_t errlen);

/*
 * "caching-mode=on|off" (comma-separated key=value, for later keys): the
 * emulated VT-d's options. -EINVAL with a message in err.
 */
int config_parse_iommu(const char *s, struct vmm_config *cfg, char *err, size_t errlen);

/* "512M", "1G", "65536K", "1073741824" (bytes). -EINVAL if not a size. */
int config_parse_size(const char *s, uint64_t *bytes);

/* Apply one option by its long name (without dashes). */
int config_set(struct vmm_config *cfg, const char *key, const char *value,
	       const char *base_dir, char *err, size_t errlen);

/* Read a config file; later keys override earlier ones. */
int config_load_file(struct vmm_config *cfg, const char *path, char *err, size_t errlen);

/*
 * Parse the arguments after `run` (argv[0] is the first option). Accepts
 * `--key value` and `--key=value`.
 */
int config_parse_args(struct vmm_config *cfg, int argc, char *const argv[],
		      char *err, size_t errlen);

/* Cross-option checks once everything is applied (kernel given, ...). */
int config_validate(const struct vmm_config *cfg, char *err, size_t errlen);

#endif
