/*
 * fuzz_config.c - the command line and config file parser (vmm/config.c,
 * config files through libinih).
 *
 * Input: a mode byte, a 16-bit length and that many bytes of config file
 * (kept in a memfd, read back through /proc/self/fd), then NUL-separated
 * strings: the arguments after `run`, or for mode 2 the strings handed to
 * config_parse_size, config_parse_mac and config_parse_net. A --config
 * argument always names the memfd, whatever path the input gives, so the
 * fuzzer never opens files of this machine.
 * Invariants:
 *   - every call returns 0 or a negative errno, and an error comes with a
 *     message (it may quote the input, newlines and all: the command line
 *     and the config file are the user's, not the guest's);
 *   - whatever the outcome, the config stays in its documented ranges:
 *     1..64 CPUs, 32 MiB..1 TiB of memory, serial stdio or none, at most 4
 *     nets, each with a 1..15 character TAP name without '/' and, if
 *     given, a unicast non-zero MAC; strings stay NUL-terminated;
 *   - config_parse_size and config_parse_mac agree with a reference parser
 *     written here from config.h's description;
 *   - config_free leaves nothing allocated (LeakSanitizer).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../vmm/config.h"
#include "fuzz_util.h"

#define MAXARGS 32

static void check_err(int rc, const char *err)
{
	FUZZ_CHECK(rc <= 0 && rc > -4096, "returned %d", rc);
	size_t n = strnlen(err, CONFIG_ERR_LEN);
	FUZZ_CHECK(rc == 0 || (n > 0 && n < CONFIG_ERR_LEN) || rc == -ENOMEM,
		   "error %d with message \"%.*s\"", rc, (int)n, err);
}

static void check_config(const struct vmm_config *c)
{
	FUZZ_CHECK(c->cpus >= 1 && c->cpus <= CONFIG_MAX_CPUS, "cpus %u", c->cpus);
	FUZZ_CHECK(c->memory >= CONFIG_MIN_MEMORY && c->memory <= CONFIG_MAX_MEMORY, "memory %llu",
		   (unsigned long long)c->memory);
	FUZZ_CHECK(c->serial == SERIAL_STDIO || c->serial == SERIAL_NONE, "serial %d", c->serial);
	FUZZ_CHECK(c->nnets <= CONFIG_MAX_NETS, "%u nets", c->nnets);
	for (unsigned i = 0; i < c->nnets; i++) {
		const struct net_config *n = &c->net[i];
		size_t len = strnlen(n->tap, sizeof(n->tap));
		FUZZ_CHECK(len >= 1 && len < CONFIG_IFNAMSIZ && !strchr(n->tap, '/'), "tap name");
		FUZZ_CHECK(!n->has_mac || (!(n->mac[0] & 1) && (n->mac[0] | n->mac[1] | n->mac[2] |
								  n->mac[3] | n->mac[4] | n->mac[5])),
			   "net %u: MAC not unicast", i);
	}
	const char *s[] = { c->kernel, c->initrd, c->cmdline, c->stats_path };
	size_t total = 0;
	for (unsigned i = 0; i < 4; i++)
		total += s[i] ? strlen(s[i]) : 0; /* ASan: each is a terminated string */
	(void)total;
}

/* config.h: digits, then optionally K/M/G/T (either case) and "B" or "iB". */
static int ref_size(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	const char *units = "kKmMgGtT", *u = *p ? strchr(units, *p) : NULL;
	unsigned shift = u ? 10 * (unsigned)(1 + (u - units) / 2) : 0;
	if (u != NULL && (strcmp(p + 1, "") == 0 || strcmp(p + 1, "B") == 0 || strcmp(p + 1, "iB") == 0))
		p = "";
	if (*p != '\0' || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*out = v << shift;
	return 0;
}

/* Six pairs of hex digits separated by ':', unicast and not all zero. */
static int ref_mac(const char *s, uint8_t mac[6])
{
	if (strlen(s) != 17)
		return -EINVAL;
	for (unsigned i = 0; i < 6; i++) {
		const char *p = s + 3 * i;
		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) ||
		    (i < 5 && p[2] != ':'))
			return -EINVAL;
		char hex[3] = { p[0], p[1], 0 };
		mac[i] = (uint8_t)strtoul(hex, NULL, 16);
	}
	return (mac[0] & 1) || !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) ? -EINVAL : 0;
}

static void fuzz_pieces(char *const *argv, int argc)
{
	for (int i = 0; i < argc; i++) {
		const char *s = argv[i];
		uint64_t a = 0, b = 0;
		int ra = config_parse_size(s, &a), rb = ref_size(s, &b);
		FUZZ_CHECK(ra == rb && (ra < 0 || a == b), "size \"%s\": %d %llu, reference %d %llu", s,
			   ra, (unsigned long long)a, rb, (unsigned long long)b);
		uint8_t m1[6], m2[6];
		ra = config_parse_mac(s, m1), rb = ref_mac(s, m2);
		FUZZ_CHECK(ra == rb && (ra < 0 || memcmp(m1, m2, 6) == 0), "mac \"%s\": %d, reference %d",
			   s, ra, rb);
		struct vmm_config c;
		char err[CONFIG_ERR_LEN] = "";
		config_init(&c);
		int rc = config_parse_net(s, &c.net[0], err, sizeof(err));
		check_err(rc, err);
		c.nnets = rc == 0;
		check_config(&c);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64], buf[4096 + 1];
	if (fd < 0) {
		fd = memfd_create("fuzz-config", 0);
		FUZZ_CHECK(fd >= 0, "memfd_create");
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	struct fin in = { data, size };
	uint8_t mode = fin_u8(&in);
	size_t flen = fin_u16(&in);
	flen = flen < in.n ? flen : in.n;
	FUZZ_CHECK(ftruncate(fd, 0) == 0 && pwrite(fd, in.p, flen, 0) == (ssize_t)flen, "memfd");
	in.p += flen, in.n -= flen;

	/* The rest as NUL-separated strings; --config always means the memfd. */
	size_t n = in.n < sizeof(buf) - 1 ? in.n : sizeof(buf) - 1;
	memcpy(buf, in.p, n);
	buf[n] = '\0';
	char *argv[MAXARGS], cfgarg[80];
	int argc = 0;
	snprintf(cfgarg, sizeof(cfgarg), "--config=%s", path);
	for (char *p = buf; p <= buf + n && argc < MAXARGS; p += strlen(p) + 1)
		argv[argc++] = strncmp(p, "--config", 8) == 0 ? cfgarg : p; /* never a real file */
	if (mode % 3 == 2) {
		fuzz_pieces(argv, argc);
		return 0;
	}
	struct vmm_config c;
	char err[CONFIG_ERR_LEN] = "";
	config_init(&c);
	int rc = mode % 3 == 0 ? config_parse_args(&c, argc, argv, err, sizeof(err))
			       : config_load_file(&c, path, err, sizeof(err));
	check_err(rc, err);
	check_config(&c);
	if (rc == 0) {
		err[0] = '\0';
		rc = config_validate(&c, err, sizeof(err));
		check_err(rc, err);
		FUZZ_CHECK((rc == 0) == (c.kernel != NULL && c.kernel[0] != '\0'), "validate: %d", rc);
	}
	config_free(&c);
	return 0;
}
