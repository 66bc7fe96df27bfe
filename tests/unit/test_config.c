/* test_config.c - command line and config file parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../vmm/config.h"

static void test_sizes(void **state)
{
	(void)state;
	uint64_t b = 0;
	assert_int_equal(config_parse_size("512M", &b), 0);
	assert_true(b == 512ULL * 1024 * 1024);
	assert_int_equal(config_parse_size("2G", &b), 0);
	assert_true(b == 2ULL * 1024 * 1024 * 1024);
	assert_int_equal(config_parse_size("64k", &b), 0);
	assert_true(b == 65536);
	assert_int_equal(config_parse_size("1GiB", &b), 0);
	assert_true(b == 1ULL << 30);
	assert_int_equal(config_parse_size("4096", &b), 0);
	assert_true(b == 4096);

	const char *bad[] = { "", "abc", "-1", "12X", "1.5G", "M", "99999999999999999999",
			      "17179869184T", "1Gx", " 1G" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(config_parse_size(bad[i], &b), -EINVAL);
}

static int parse(struct vmm_config *cfg, char *err, const char *a0, const char *a1,
		 const char *a2, const char *a3)
{
	char *argv[4] = { (char *)a0, (char *)a1, (char *)a2, (char *)a3 };
	int argc = 0;
	while (argc < 4 && argv[argc])
		argc++;
	return config_parse_args(cfg, argc, argv, err, CONFIG_ERR_LEN);
}

static void test_args(void **state)
{
	(void)state;
	struct vmm_config cfg;
	char err[CONFIG_ERR_LEN];
	config_init(&cfg);
	assert_int_equal(cfg.cpus, 1);
	assert_true(cfg.memory == 512ULL << 20);
	assert_int_equal(parse(&cfg, err, "--kernel", "/k", "--cpus=2", NULL), 0);
	assert_string_equal(cfg.kernel, "/k");
	assert_int_equal(cfg.cpus, 2);
	assert_int_equal(parse(&cfg, err, "--memory", "1G", "--serial=none", NULL), 0);
	assert_true(cfg.memory == 1ULL << 30);
	assert_int_equal(cfg.serial, SERIAL_NONE);
	assert_int_equal(config_validate(&cfg, err, sizeof(err)), 0);
	/* Relative paths on the command line stay as given (relative to cwd). */
	assert_int_equal(parse(&cfg, err, "--initrd", "rel/i.cpio", NULL, NULL), 0);
	assert_string_equal(cfg.initrd, "rel/i.cpio");
	assert_null(cfg.crash_dump_path);
	assert_int_equal(parse(&cfg, err, "--crash-dump", "out/ram.img", NULL, NULL), 0);
	assert_string_equal(cfg.crash_dump_path, "out/ram.img");
	config_free(&cfg);
}

static void test_bad_args(void **state)
{
	(void)state;
	struct vmm_config cfg;
	char err[CONFIG_ERR_LEN];
	struct { const char *a0, *a1; const char *needle; } cases[] = {
		{ "--memory", "1K", "--memory" },
		{ "--memory", "abc", "not a size" },
		{ "--memory", "2T", "between" },
		{ "--cpus", "0", "--cpus" },
		{ "--cpus", "65", "--cpus" },
		{ "--cpus", "two", "--cpus" },
		{ "--cpus", "-1", "--cpus" },
		{ "--frobnicate", "1", "unknown option" },
		{ "--serial", "tcp", "--serial" },
		{ "kernel", "x", "unexpected argument" },
		{ "--kernel", NULL, "needs a value" },
		{ "--config", "/nonexistent/vmm.cfg", "cannot open config file" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		config_init(&cfg);
		err[0] = '\0';
		assert_int_not_equal(parse(&cfg, err, cases[i].a0, cases[i].a1, NULL, NULL), 0);
		if (strstr(err, cases[i].needle) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].needle);
		assert_null(strchr(err, '\n'));
		config_free(&cfg);
	}
	config_init(&cfg);
	assert_int_not_equal(config_validate(&cfg, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "kernel"));
	config_free(&cfg);
}

static char *write_tmp(const char *dir, const char *text)
{
	char *path;
	assert_true(asprintf(&path, "%s/vm.cfg", dir) > 0);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/vmm-config-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *path = write_tmp(dir, "# demo\n[vm]\nkernel = ../k/bzImage\ninitrd = /abs/i.cpio\n"
				    "cmdline = console=ttyS0 quiet\ncpus = 2\nmemory = 256M\n"
				    "crash-dump = dumps/ram.img\n");
	struct vmm_config cfg;
	char err[CONFIG_ERR_LEN];
	config_init(&cfg);
	/* The file sets cpus=2; the later option overrides it. */
	assert_int_equal(parse(&cfg, err, "--config", path, "--cpus", "3"), 0);
	char *want;
	assert_true(asprintf(&want, "%s/../k/bzImage", dir) > 0);
	assert_string_equal(cfg.kernel, want);
	assert_string_equal(cfg.initrd, "/abs/i.cpio");
	assert_string_equal(cfg.cmdline, "console=ttyS0 quiet");
	assert_int_equal(cfg.cpus, 3);
	assert_true(cfg.memory == 256ULL << 20);
	free(want);
	/* Relative to the file's folder, like every path in it. */
	assert_true(asprintf(&want, "%s/dumps/ram.img", dir) > 0);
	assert_string_equal(cfg.crash_dump_path, want);
	config_free(&cfg);
	free(want);
	unlink(path);
	free(path);

	const char *bad[] = { "cpus = lots\n", "[net]\nx = 1\n", "colour = blue\n", "garbage line\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		path = write_tmp(dir, bad[i]);
		config_init(&cfg);
		assert_int_not_equal(config_load_file(&cfg, path, err, sizeof(err)), 0);
		/* The message names the file, so a user knows where to look. */
		assert_non_null(strstr(err, path));
		config_free(&cfg);
		unlink(path);
		free(path);
	}
	rmdir(dir);
}

static void test_net(void **state)
{
	(void)state;
	struct net_config n;
	char err[CONFIG_ERR_LEN];
	assert_int_equal(config_parse_net("tap=tap0", &n, err, sizeof(err)), 0);
	assert_string_equal(n.tap, "tap0");
	assert_false(n.has_mac);
	assert_false(n.iommu);
	assert_int_equal(config_parse_net("tap=vm1,mac=52:54:00:AB:cd:0f,iommu=on", &n, err,
					  sizeof(err)), 0);
	assert_true(n.has_mac && n.iommu);
	const uint8_t want[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0x0f };
	assert_memory_equal(n.mac, want, 6);

	struct { const char *arg, *needle; } bad[] = {
		{ "", "missing tap" },
		{ "mac=52:54:00:12:34:56", "missing tap" },
		{ "tap=", "tap name" },
		{ "tap=averyveryverylongname", "tap name" },
		{ "tap=../x", "tap name" },
		{ "tap=t0,mac=52:54:00:12:34", "mac" },
		{ "tap=t0,mac=53:54:00:12:34:56", "unicast" },       /* multicast bit */
		{ "tap=t0,mac=00:00:00:00:00:00", "unicast" },
		{ "tap=t0,mac=52:54:00:12:34:5g", "mac" },
		{ "tap=t0,mac=52:54:00:12:34: 6", "mac" },
		{ "tap=t0,mac=52-54-00-12-34-56", "mac" },
		{ "tap=t0,iommu=yes", "iommu" },
		{ "tap=t0,speed=10", "unknown key" },
		{ "tap=t0,junk", "key=value" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(config_parse_net(bad[i].arg, &n, err, sizeof(err)), -EINVAL);
		if (strstr(err, bad[i].needle) == NULL)
			fail_msg("'%s': '%s' lacks '%s'", bad[i].arg, err, bad[i].needle);
	}

	/* Several --net options accumulate, up to the limit. */
	struct vmm_config cfg;
	config_init(&cfg);
	for (int i = 0; i < CONFIG_MAX_NETS; i++)
		assert_int_equal(parse(&cfg, err, "--net", "tap=t0", NULL, NULL), 0);
	assert_int_equal(cfg.nnets, CONFIG_MAX_NETS);
	assert_int_not_equal(parse(&cfg, err, "--net", "tap=t0", NULL, NULL), 0);
	config_free(&cfg);
}

/* --iommu caching-mode=on|off, on the command line and in a file. */
static void test_iommu(void **state)
{
	(void)state;
	struct vmm_config cfg;
	char err[CONFIG_ERR_LEN];
	config_init(&cfg);
	assert_false(cfg.iommu_caching_mode);
	assert_int_equal(parse(&cfg, err, "--iommu", "caching-mode=on", NULL, NULL), 0);
	assert_true(cfg.iommu_caching_mode);
	assert_int_equal(parse(&cfg, err, "--iommu=caching-mode=off", NULL, NULL, NULL), 0);
	assert_false(cfg.iommu_caching_mode);
	struct { const char *arg, *needle; } bad[] = {
		{ "", "expected caching-mode" },
		{ ",", "expected caching-mode" },
		{ "caching-mode", "key=value" },
		{ "caching-mode=yes", "on or off" },
		{ "cm=on", "unknown key 'cm'" },
		/* All or nothing: a good key before a bad one changes nothing. */
		{ "caching-mode=on,aw=39", "unknown key 'aw'" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(config_parse_iommu(bad[i].arg, &cfg, err, sizeof(err)), -EINVAL);
		if (strstr(err, bad[i].needle) == NULL)
			fail_msg("'%s': '%s' lacks '%s'", bad[i].arg, err, bad[i].needle);
		assert_false(cfg.iommu_caching_mode);
	}
	config_free(&cfg);

	char dir[] = "/tmp/vmm-config-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *path = write_tmp(dir, "kernel = k\niommu = caching-mode=on\n");
	config_init(&cfg);
	assert_int_equal(config_load_file(&cfg, path, err, sizeof(err)), 0);
	assert_true(cfg.iommu_caching_mode);
	config_free(&cfg);
	unlink(path);
	free(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_net),
		cmocka_unit_test(test_iommu),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
