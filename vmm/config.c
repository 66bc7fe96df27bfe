/*
 * config.c - command line and config file parsing (see config.h).
 *
 * libinih reads the files: a small, well-kept parser packaged by Debian
 * (libinih-dev), so the project keeps no INI tokenizer of its own.
 */
#include "config.h"
#include "errmsg.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void config_init(struct vmm_config *cfg)
{
	*cfg = (struct vmm_config){ .cpus = 1, .memory = 512ULL << 20, .serial = SERIAL_STDIO };
}

void config_free(struct vmm_config *cfg)
{
	free(cfg->kernel);
	free(cfg->initrd);
	free(cfg->cmdline);
	free(cfg->stats_path);
	free(cfg->crash_dump_path);
	config_init(cfg);
}

int config_parse_size(const char *s, uint64_t *bytes)
{
	if (s == NULL || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0)
		return -EINVAL;
	unsigned shift = 0;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: return -EINVAL;
	}
	/* Accept "512M" and "512MiB"/"512MB", nothing else after the unit. */
	if (shift && (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0))
		end += strlen(end);
	if (*end != '\0')
		return -EINVAL;
	if (shift && v > (ULLONG_MAX >> shift))
		return -EINVAL;
	*bytes = (uint64_t)v << shift;
	return 0;
}

int config_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned b[6];
	char tail;
	if (strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6)
		return -EINVAL;
	for (unsigned i = 0; i < 6; i++) {
		/* sscanf's %x skips blanks and takes signs: insist on two hex digits. */
		if (!isxdigit((unsigned char)s[3 * i]) || !isxdigit((unsigned char)s[3 * i + 1]) ||
		    (i < 5 && s[3 * i + 2] != ':'))
			return -EINVAL;
		mac[i] = (uint8_t)b[i];
	}
	/* A NIC address must be unicast; all-zero is no address at all. */
	if ((mac[0] & 1) || (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) == 0)
		return -EINVAL;
	return 0;
}

int config_parse_net(const char *s, struct net_config *net, char *err, size_t errlen)
{
	*net = (struct net_config){ 0 };
	char *copy = strdup(s), *save = NULL;
	if (copy == NULL)
		return -ENOMEM;
	int rc = 0;
	for (char *kv = strtok_r(copy, ",", &save); kv && rc == 0; kv = strtok_r(NULL, ",", &save)) {
		char *val = strchr(kv, '=');
		if (val == NULL) {
			rc = errmsg(err, errlen, -EINVAL, "--net '%s': '%s' is not key=value", s, kv);
			break;
		}
		*val++ = '\0';
		if (strcmp(kv, "tap") == 0) {
			if (val[0] == '\0' || strlen(val) >= CONFIG_IFNAMSIZ || strchr(val, '/'))
				rc = errmsg(err, errlen, -EINVAL,
					  "--net '%s': tap name must be 1-%d characters, no '/'", s,
					  CONFIG_IFNAMSIZ - 1);
			else
				strcpy(net->tap, val);
		} else if (strcmp(kv, "mac") == 0) {
			if (config_parse_mac(val, net->mac) < 0)
				rc = errmsg(err, errlen, -EINVAL,
					  "--net '%s': mac '%s' is not a unicast address like 52:54:00:12:34:56",
					  s, val);
			net->has_mac = true;
		} else if (strcmp(kv, "iommu") == 0) {
			if (strcmp(val, "on") == 0)
				net->iommu = true;
			else if (strcmp(val, "off") != 0)
				rc = errmsg(err, errlen, -EINVAL, "--net '%s': iommu must be on or off", s);
		} else {
			rc = errmsg(err, errlen, -EINVAL, "--net '%s': unknown key '%s'", s, kv);
		}
	}
	if (rc == 0 && net->tap[0] == '\0')
		rc = errmsg(err, errlen, -EINVAL, "--net '%s': missing tap=NAME", s);
	free(copy);
	return rc;
}

int config_parse_iommu(const char *s, struct vmm_config *cfg, char *err, size_t errlen)
{
	char *copy = strdup(s), *save = NULL;
	if (copy == NULL)
		return -ENOMEM;
	bool cm = cfg->iommu_caching_mode;
	int rc = 0;
	unsigned keys = 0;
	for (char *kv = strtok_r(copy, ",", &save); kv && rc == 0; kv = strtok_r(NULL, ",", &save)) {
		keys++;
		char *val = strchr(kv, '=');
		if (val == NULL) {
			rc = errmsg(err, errlen, -EINVAL, "--iommu '%s': '%s' is not key=value", s, kv);
			break;
		}
		*val++ = '\0';
		if (strcmp(kv, "caching-mode") != 0)
			rc = errmsg(err, errlen, -EINVAL,
				  "--iommu '%s': unknown key '%s' (known: caching-mode)", s, kv);
		else if (strcmp(val, "on") == 0 || strcmp(val, "off") == 0)
			cm = val[1] == 'n';
		else
			rc = errmsg(err, errlen, -EINVAL,
				  "--iommu '%s': caching-mode must be on or off", s);
	}
	if (rc == 0 && keys == 0)
		rc = errmsg(err, errlen, -EINVAL, "--iommu '': expected caching-mode=on|off");
	if (rc == 0)
		cfg->iommu_caching_mode = cm; /* all or nothing */
	free(copy);
	return rc;
}

static int set_string(char **slot, const char *value, const char *base_dir, bool is_path)
{
	char *copy;
	if (is_path && base_dir && value[0] != '/' && value[0] != '\0') {
		if (asprintf(&copy, "%s/%s", base_dir, value) < 0)
			return -ENOMEM;
	} else {
		copy = strdup(value);
		if (copy == NULL)
			return -ENOMEM;
	}
	free(*slot);
	*slot = copy;
	return 0;
}

int config_set(struct vmm_config *cfg, const char *key, const char *value,
	       const char *base_dir, char *err, size_t errlen)
{
	if (value == NULL)
		return errmsg(err, errlen, -EINVAL, "option '%s' needs a value", key);
	if (strcmp(key, "kernel") == 0)
		return set_string(&cfg->kernel, value, base_dir, true);
	if (strcmp(key, "initrd") == 0)
		return set_string(&cfg->initrd, value, base_dir, true);
	if (strcmp(key, "stats") == 0)
		return set_string(&cfg->stats_path, value, base_dir, true);
	if (strcmp(key, "crash-dump") == 0)
		return set_string(&cfg->crash_dump_path, value, base_dir, true);
	if (strcmp(key, "cmdline") == 0)
		return set_string(&cfg->cmdline, value, NULL, false);
	if (strcmp(key, "cpus") == 0) {
		char *end;
		errno = 0;
		unsigned long n = strtoul(value, &end, 10);
		if (errno || end == value || *end || value[0] == '-' || n < 1 || n > CONFIG_MAX_CPUS)
			return errmsg(err, errlen, -EINVAL,
				    "--cpus '%s': expected a whole number from 1 to %d",
				    value, CONFIG_MAX_CPUS);
		cfg->cpus = (unsigned)n;
		return 0;
	}
	if (strcmp(key, "memory") == 0) {
		uint64_t bytes;
		if (config_parse_size(value, &bytes) < 0)
			return errmsg(err, errlen, -EINVAL,
				    "--memory '%s': not a size (examples: 512M, 2G)", value);
		if (bytes < CONFIG_MIN_MEMORY || bytes > CONFIG_MAX_MEMORY)
			return errmsg(err, errlen, -EINVAL,
				    "--memory '%s': must be between %lluM and %lluG", value,
				    CONFIG_MIN_MEMORY >> 20, CONFIG_MAX_MEMORY >> 30);
		cfg->memory = bytes;
		return 0;
	}
	if (strcmp(key, "net") == 0) {
		if (cfg->nnets >= CONFIG_MAX_NETS)
			return errmsg(err, errlen, -EINVAL, "at most %d --net devices", CONFIG_MAX_NETS);
		int rc = config_parse_net(value, &cfg->net[cfg->nnets], err, errlen);
		if (rc == 0)
			cfg->nnets++;
		return rc;
	}
	if (strcmp(key, "iommu") == 0)
		return config_parse_iommu(value, cfg, err, errlen);
	if (strcmp(key, "serial") == 0) {
		if (strcmp(value, "stdio") == 0)
			cfg->serial = SERIAL_STDIO;
		else if (strcmp(value, "none") == 0)
			cfg->serial = SERIAL_NONE;
		else
			return errmsg(err, errlen, -EINVAL,
				    "--serial '%s': expected stdio or none", value);
		return 0;
	}
	return errmsg(err, errlen, -EINVAL, "unknown option '%s'", key);
}

struct ini_ctx {
	struct vmm_config *cfg;
	const char *path;
	char *base_dir;
	char *err;
	size_t errlen;
	int rc;
};

static int config_ini_entry(void *user, const char *section, const char *name, const char *value)
{
	struct ini_ctx *ctx = user;
	if (section[0] != '\0' && strcmp(section, "vm") != 0) {
		ctx->rc = errmsg(ctx->err, ctx->errlen, -EINVAL,
			       "%s: unknown section [%s]", ctx->path, section);
		return 0;
	}
	char msg[CONFIG_ERR_LEN];
	int rc = config_set(ctx->cfg, name, value, ctx->base_dir, msg, sizeof(msg));
	if (rc < 0) {
		ctx->rc = errmsg(ctx->err, ctx->errlen, rc, "%s: %s", ctx->path, msg);
		return 0;
	}
	return 1;
}

int config_load_file(struct vmm_config *cfg, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return errmsg(err, errlen, -errno, "cannot open config file %s: %s", path, strerror(errno));
	struct ini_ctx ctx = { .cfg = cfg, .path = path, .err = err, .errlen = errlen };
	ctx.base_dir = strdup(path);
	if (ctx.base_dir == NULL) {
		fclose(f);
		return -ENOMEM;
	}
	char *slash = strrchr(ctx.base_dir, '/');
	if (slash)
		*slash = '\0';
	else
		strcpy(ctx.base_dir, ".");
	int line = ini_parse_file(f, config_ini_entry, &ctx);
	fclose(f);
	free(ctx.base_dir);
	if (ctx.rc < 0)
		return ctx.rc;
	if (line != 0)
		return errmsg(err, errlen, -EINVAL, "%s:%d: syntax error", path, line);
	return 0;
}

int config_parse_args(struct vmm_config *cfg, int argc, char *const argv[],
		      char *err, size_t errlen)
{
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
			return errmsg(err, errlen, -EINVAL, "unexpected argument '%s'", arg);
		char key[64];
		const char *value;
		const char *eq = strchr(arg + 2, '=');
		size_t klen = eq ? (size_t)(eq - (arg + 2)) : strlen(arg + 2);
		if (klen >= sizeof(key))
			return errmsg(err, errlen, -EINVAL, "unknown option '%s'", arg);
		memcpy(key, arg + 2, klen);
		key[klen] = '\0';
		if (eq) {
			value = eq + 1;
		} else {
			if (i + 1 >= argc)
				return errmsg(err, errlen, -EINVAL, "option '--%s' needs a value", key);
			value = argv[++i];
		}
		int rc = strcmp(key, "config") == 0
			     ? config_load_file(cfg, value, err, errlen)
			     : config_set(cfg, key, value, NULL, err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int config_validate(const struct vmm_config *cfg, char *err, size_t errlen)
{
	if (cfg->kernel == NULL || cfg->kernel[0] == '\0')
		return errmsg(err, errlen, -EINVAL, "no kernel given (use --kernel FILE)");
	return 0;
}
