/*
 * config.c - command line and config file parsing (see config.h): the
 * config object, the option setter, config files and argv. The values
 * themselves (sizes, MACs, --net, --iommu) are parsed in config_values.c.
 *
 * libinih reads the files: a small, well-kept parser packaged by Debian
 * (libinih-dev), so the project keeps no INI tokenizer of its own.
 */
#include "config.h"
#include "errmsg.h"

#include <errno.h>
#include <ini.h>
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
