/*
 * net_iommu.c - a net behind the VT-d (iommu=on): vhost's device IOTLB,
 * the message format, the IOTLB bridge and its knobs (the VMM_IOTLB_*
 * variables, README.md), and vhost_net_start's ring prefill.
 */
#include "net.h"
#include "errmsg.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm.h"

/*
 * vhost_net_start's ring prefill: a synthetic miss for the first and the
 * last page of [iova, iova + len), answered like a real one (walk + UPDATE
 * under vtd.lock; counted as a miss). Asks for read only: the UPDATE
 * carries the mapping's full permission anyway, and a ring the guest did
 * not map faults as it would on first use. Called on the vCPU thread that
 * started the device, virtio device lock held, net->lock not held.
 */
static void net_prefill(void *opaque, uint64_t iova, uint64_t len)
{
	struct net_dev *n = opaque;
	if (len == 0 || iova > UINT64_MAX - (len - 1))
		return;
	uint64_t last = iova + (len - 1);
	struct iotlb_msg m = { .type = IOTLB_MISS, .iova = iova, .perm = VTD_PERM_R };
	(void)vtd_handle_miss(n->vm->vtd, &n->bridge, &m); /* failures are counted there */
	if ((last >> 12) != (iova >> 12)) {
		m.iova = last;
		(void)vtd_handle_miss(n->vm->vtd, &n->bridge, &m);
	}
}

static void net_shadow_report(void *opaque, const char *msg)
{
	const struct net_dev *n = opaque;
	fprintf(stderr, "vmm: net%u: %s\n", n->index, msg);
}

/* *out = the decimal count in environment variable name (unset or empty:
 * def); -EINVAL when it is not a number from 0 to max. */
static int env_count(const char *name, unsigned def, unsigned max, unsigned *out)
{
	const char *s = getenv(name);
	*out = def;
	if (s == NULL || s[0] == '\0')
		return 0;
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (*end != '\0' || errno != 0 || v > max || s[0] == '-' || s[0] == '+' || s[0] == ' ')
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

/*
 * iommu=on: vhost's device IOTLB, the message format, and the bridge that
 * answers this device's misses (requester id 00:(1 + index).0).
 */
int net_attach_vtd(struct net_dev *n, char *err, size_t errlen)
{
	char why[200];
	bool v2 = false;
	if (n->vm->vtd == NULL) /* vm_create makes it when any net has iommu=on */
		return errmsg(err, errlen, VMM_EXIT_ERROR, "net%u: iommu=on but no VT-d", n->index);
	int rc = vhost_net_enable_iotlb(&n->vhost, net_prefill, n, &v2, why, sizeof(why));
	if (rc < 0)
		return errmsg(err, errlen, rc == -EOPNOTSUPP ? VMM_EXIT_USAGE : VMM_EXIT_ERROR,
			    "net%u: iommu=on: %s", n->index, why);
	uint16_t rid = (uint16_t)PCI_DEVFN(1 + n->index, 0); /* bus 0 */
	rc = iotlb_bridge_init(&n->bridge, n->vhost.vhost_fd,
			       v2 ? IOTLB_WIRE_V2 : IOTLB_WIRE_V1_NATIVE, rid, &n->vm->mem,
			       &n->vm->vtd->regs, 0);
	/* For measurements: both take 0 (off) .. max; see README.md. */
	if (env_count("VMM_IOTLB_PREFETCH", IOTLB_PREFETCH_DEFAULT, 512, &n->bridge.prefetch) < 0)
		return errmsg(err, errlen, VMM_EXIT_USAGE,
			    "VMM_IOTLB_PREFETCH=%s: want a number from 0 to 512",
			    getenv("VMM_IOTLB_PREFETCH"));
	if (env_count("VMM_IOTLB_RINGSCAN", IOTLB_RINGSCAN_DEFAULT, 1024, &n->bridge.ringscan) < 0)
		return errmsg(err, errlen, VMM_EXIT_USAGE,
			    "VMM_IOTLB_RINGSCAN=%s: want a number from 0 to 1024",
			    getenv("VMM_IOTLB_RINGSCAN"));
	/* Off by default: see the A/Bs in docs/BENCHMARKS-LOG.md. */
	const char *soi = getenv("VMM_IOTLB_SCAN_ON_INVAL");
	n->bridge.ringscan_on_inval = soi != NULL && strcmp(soi, "1") == 0;
	/* The kick relay (net.h): auto by default, i.e. for guests that
	 * invalidate page by page (docs/BENCHMARKS.md); pointless
	 * without the scan, and with caching mode, where every mapping was
	 * pushed when the guest made it. */
	const char *relay = getenv("VMM_IOTLB_KICK_SCAN");
	if (relay == NULL || relay[0] == '\0')
		relay = "auto";
	bool always = strcmp(relay, "1") == 0;
	n->relay_auto = strcmp(relay, "auto") == 0;
	if (strcmp(relay, "0") != 0 && !always && !n->relay_auto)
		return errmsg(err, errlen, VMM_EXIT_USAGE,
			    "VMM_IOTLB_KICK_SCAN=%s: want 0, 1 or auto", relay);
	n->kick_relay = (always || n->relay_auto) && n->bridge.ringscan > 0 &&
			!vtd_regs_caching_mode(&n->vm->vtd->regs);
	n->relay_auto = n->relay_auto && n->kick_relay;
	n->relaying = n->kick_relay && !n->relay_auto; /* auto starts direct */
	unsigned first; /* for the A/B: docs/BENCHMARKS-LOG.md */
	if (env_count("VMM_IOTLB_KICK_FIRST", 1, 256, &first) < 0)
		return errmsg(err, errlen, VMM_EXIT_USAGE,
			    "VMM_IOTLB_KICK_FIRST=%s: want a number from 0 to 256",
			    getenv("VMM_IOTLB_KICK_FIRST"));
	n->kick_first = (uint16_t)first;
	const char *check = getenv("VMM_IOTLB_CHECK"); /* debugging aid: iommu/iotlb_bridge.h, 5b */
	if (rc == 0 && check != NULL && strcmp(check, "1") == 0) {
		n->bridge.shadow = calloc(1, sizeof(*n->bridge.shadow));
		if (n->bridge.shadow == NULL)
			return errmsg(err, errlen, VMM_EXIT_ERROR, "net%u: VMM_IOTLB_CHECK: out of memory",
				    n->index);
		iotlb_shadow_init(n->bridge.shadow, net_shadow_report, n);
	}
	if (rc == 0)
		rc = vtd_add_bridge(n->vm->vtd, &n->bridge);
	if (rc < 0)
		return errmsg(err, errlen, VMM_EXIT_ERROR, "net%u: IOTLB bridge: %s", n->index,
			    strerror(-rc));
	n->iommu = true;
	return 0;
}
