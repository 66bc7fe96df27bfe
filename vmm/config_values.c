/*
 * config_values.c - the parsers of single option values: sizes, MAC
 * addresses, a --net device and the --iommu options (see config.h). Pure
 * functions of one string, apart from config.c, which applies them to the
 * config object from config files and argv.
 */
#include "config.h"
#include "errmsg.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
