/*
 * test_virtio_pci.c - the virtio-pci transport as the guest driver sees it,
 * through the real PCI bus (ECAM for config space, the MMIO window for the
 * BAR): identity, the capability list, feature negotiation, the status
 * state machine with reset, and queue configuration.
 * (test_virtio_pci_irq.c: MSI-X, ISR, notify, device config, PCI_CFG
 * window, BAR moves; test_virtio_pci_fuzz.c: hostile accesses.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../devices/pci.h"
#include "../../devices/virtio_pci.h"
#include "virtio_pci_test_util.h"

#define SLOT  PCI_DEVFN(2, 0)
#define NQ    3
#define QMAX  256
#define F_CSUM     (1ULL << 0)
#define F_MAC      (1ULL << 5)
#define F_V1       (1ULL << VIRTIO_F_VERSION_1)
#define F_PLATFORM (1ULL << VIRTIO_F_ACCESS_PLATFORM)
#define S_ACK  VIRTIO_STATUS_ACKNOWLEDGE
#define S_DRV  VIRTIO_STATUS_DRIVER
#define S_FOK  VIRTIO_STATUS_FEATURES_OK
#define S_DOK  VIRTIO_STATUS_DRIVER_OK

struct fake {
	int start_calls, stop_calls, validate_calls;
	int start_ret;
	bool refuse;
	uint64_t start_features, validated;
	struct virtio_pci_queue q[VIRTIO_PCI_MAX_QUEUES];
	unsigned nq;
};

struct fixture {
	struct pci_bus bus;
	struct virtio_pci vd;
	struct fake fake;
	uint64_t bar;
};

static bool fake_validate(void *o, uint64_t f)
{
	struct fake *k = o;
	k->validate_calls++;
	k->validated = f;
	return !k->refuse;
}

static int fake_start(void *o, uint64_t features, const struct virtio_pci_queue *q, unsigned nq)
{
	struct fake *k = o;
	k->start_calls++;
	k->start_features = features;
	memcpy(k->q, q, nq * sizeof(*q));
	k->nq = nq;
	return k->start_ret;
}

static void fake_stop(void *o)
{
	((struct fake *)o)->stop_calls++;
}

static const struct virtio_pci_ops fake_ops = {
	.validate_features = fake_validate, .start = fake_start, .stop = fake_stop,
};

static const uint8_t net_cfg[12] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56, 1, 0, 1, 0, 0xdc, 0x05 };

static int setup_with(void **state, bool iommu)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (f == NULL || pci_bus_init(&f->bus, NULL) != 0)
		return -1;
	const struct virtio_pci_params p = {
		.device_id = VIRTIO_ID_NET, .class_code = VIRTIO_PCI_CLASS_NET,
		.features = F_CSUM | F_MAC | (1ULL << 40) /* RING_RESET: never offered */,
		.iommu_platform = iommu, .num_queues = NQ, .queue_max_size = QMAX,
		.config = net_cfg, .config_len = sizeof(net_cfg), .ops = &fake_ops,
		.opaque = &f->fake,
	};
	if (virtio_pci_init(&f->vd, &p) != 0 || pci_bus_add(&f->bus, &f->vd.pci, SLOT) != 0)
		return -1;
	/* Memory decode on, as the guest's PCI core does. */
	uint8_t cmd[2] = { PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 0 };
	pci_cfg_access_write(&f->bus, SLOT, PCI_COMMAND, cmd, 2);
	f->bar = pci_dev_bar_addr(&f->vd.pci, VIRTIO_PCI_BAR);
	*state = f;
	return f->bar == PCI_BAR_UNMAPPED ? -1 : 0;
}

static int setup(void **state) { return setup_with(state, false); }
static int setup_iommu(void **state) { return setup_with(state, true); }

static int teardown(void **state)
{
	struct fixture *f = *state;
	return vp_teardown(&f->vd, &f->bus, f);
}

static uint32_t cfg_rd(struct fixture *f, unsigned off, unsigned len)
{
	return vp_cfg_rd(&f->bus, SLOT, off, len);
}

static uint64_t bar_rd(struct fixture *f, unsigned off, unsigned len)
{
	return vp_bar_rd(&f->bus, f->bar, off, len);
}

static void bar_wr(struct fixture *f, unsigned off, uint64_t v, unsigned len)
{
	vp_bar_wr(&f->bus, f->bar, off, v, len);
}

#define CC(reg) (VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_##reg)

static uint64_t dev_features(struct fixture *f)
{
	bar_wr(f, CC(DFSELECT), 0, 4);
	uint64_t lo = bar_rd(f, CC(DF), 4);
	bar_wr(f, CC(DFSELECT), 1, 4);
	return lo | bar_rd(f, CC(DF), 4) << 32;
}

static void drv_features(struct fixture *f, uint64_t v)
{
	bar_wr(f, CC(GFSELECT), 0, 4);
	bar_wr(f, CC(GF), (uint32_t)v, 4);
	bar_wr(f, CC(GFSELECT), 1, 4);
	bar_wr(f, CC(GF), (uint32_t)(v >> 32), 4);
}

static uint8_t status(struct fixture *f) { return (uint8_t)bar_rd(f, CC(STATUS), 1); }
static void set_status(struct fixture *f, uint8_t s) { bar_wr(f, CC(STATUS), s, 1); }

/* ACK, DRIVER, features, FEATURES_OK; returns the status read back. */
static uint8_t negotiate(struct fixture *f, uint64_t feat)
{
	set_status(f, S_ACK);
	set_status(f, S_ACK | S_DRV);
	drv_features(f, feat);
	set_status(f, S_ACK | S_DRV | S_FOK);
	return status(f);
}

static void setup_queue(struct fixture *f, unsigned q, uint16_t size, uint64_t base)
{
	bar_wr(f, CC(Q_SELECT), q, 2);
	bar_wr(f, CC(Q_SIZE), size, 2);
	bar_wr(f, CC(Q_DESCLO), base, 8);
	bar_wr(f, CC(Q_AVAILLO), (uint32_t)(base + 0x1000), 4);
	bar_wr(f, CC(Q_AVAILHI), (base + 0x1000) >> 32, 4);
	bar_wr(f, CC(Q_USEDLO), (uint32_t)(base + 0x2000), 4);
	bar_wr(f, CC(Q_USEDHI), (base + 0x2000) >> 32, 4);
	bar_wr(f, CC(Q_MSIX), q + 1, 2);
	bar_wr(f, CC(Q_ENABLE), 1, 2);
}

/* --- identity and capabilities ---------------------------------------------- */

static void test_identity(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(cfg_rd(f, PCI_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(cfg_rd(f, PCI_DEVICE_ID, 2), 0x1041);
	assert_int_equal(cfg_rd(f, PCI_REVISION_ID, 1), 1);
	assert_int_equal(cfg_rd(f, PCI_CLASS_PROG, 4) & 0xffffff, 0x020000);
	assert_int_equal(cfg_rd(f, PCI_SUBSYS_VENDOR, 2), 0x1af4);
	assert_int_equal(cfg_rd(f, PCI_SUBSYS_ID, 2), 1);
	assert_int_equal(cfg_rd(f, PCI_INTERRUPT_PIN, 1), 0);
	assert_true(cfg_rd(f, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	/* 64-bit memory BAR, non-prefetchable, 16 KiB when sized. */
	uint32_t lo = cfg_rd(f, PCI_BAR0, 4);
	assert_int_equal(lo & 0xf, PCI_BAR_MEM64_FLAG);
	assert_int_equal(f->bar, (lo & ~0xfu) | (uint64_t)cfg_rd(f, PCI_BAR0 + 4, 4) << 32);
	assert_int_equal(f->bar % VIRTIO_PCI_BAR_SIZE, 0);
	uint8_t ones[4] = { 0xff, 0xff, 0xff, 0xff };
	pci_cfg_access_write(&f->bus, SLOT, PCI_BAR0, ones, 4);
	assert_int_equal(cfg_rd(f, PCI_BAR0, 4), (uint32_t)-VIRTIO_PCI_BAR_SIZE | 4);
}

static void test_capabilities(void **state)
{
	struct fixture *f = *state;
	unsigned seen[6] = { 0 }, msix = 0, n = 0;
	for (unsigned p = cfg_rd(f, PCI_CAP_PTR, 1); p != 0; p = cfg_rd(f, p + 1, 1)) {
		assert_true(p >= 0x40 && p < 0x100 && p % 4 == 0);
		assert_true(++n < 16);
		unsigned id = cfg_rd(f, p, 1);
		if (id == PCI_CAP_ID_MSIX) {
			msix = p;
			continue;
		}
		assert_int_equal(id, PCI_CAP_ID_VNDR);
		unsigned len = cfg_rd(f, p + 2, 1), type = cfg_rd(f, p + 3, 1);
		uint32_t off = cfg_rd(f, p + 8, 4), length = cfg_rd(f, p + 12, 4);
		assert_true(type >= 1 && type <= 5);
		assert_int_equal(seen[type], 0);
		seen[type] = p;
		assert_int_equal(cfg_rd(f, p + 4, 1), VIRTIO_PCI_BAR);
		assert_int_equal(len, (type == 2 || type == 5) ? 20 : 16);
		assert_true((uint64_t)off + length <= VIRTIO_PCI_BAR_SIZE);
		switch (type) {
		case VIRTIO_PCI_CAP_COMMON_CFG:
			assert_int_equal(off, VIRTIO_PCI_COMMON_OFF);
			assert_true(length >= 0x38);
			break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			assert_int_equal(off, VIRTIO_PCI_NOTIFY_OFF);
			assert_int_equal(cfg_rd(f, p + 16, 4), VIRTIO_PCI_NOTIFY_MULT);
			/* Every queue's notify_off * multiplier + 2 fits (Linux's check). */
			assert_true((NQ - 1) * VIRTIO_PCI_NOTIFY_MULT + 2 <= length);
			break;
		case VIRTIO_PCI_CAP_ISR_CFG:
			assert_int_equal(off, VIRTIO_PCI_ISR_OFF);
			assert_true(length >= 1);
			break;
		case VIRTIO_PCI_CAP_DEVICE_CFG:
			assert_int_equal(off, VIRTIO_PCI_DEVCFG_OFF);
			assert_int_equal(length, sizeof(net_cfg));
			break;
		}
	}
	for (unsigned t = 1; t <= 5; t++)
		assert_int_not_equal(seen[t], 0);
	assert_int_not_equal(msix, 0);
	uint16_t ctrl = (uint16_t)cfg_rd(f, msix + 2, 2);
	assert_int_equal((ctrl & PCI_MSIX_FLAGS_QSIZE) + 1, NQ + 1);
	assert_int_equal(ctrl & (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL), 0);
	uint32_t table = cfg_rd(f, msix + 4, 4), pba = cfg_rd(f, msix + 8, 4);
	assert_int_equal(table & 7, VIRTIO_PCI_BAR);
	assert_int_equal(pba & 7, VIRTIO_PCI_BAR);
	assert_int_equal(table & ~7u, VIRTIO_PCI_MSIX_TABLE_OFF);
	assert_int_equal(pba & ~7u, VIRTIO_PCI_MSIX_PBA_OFF);
	assert_true((table & ~7u) + (NQ + 1) * 16 <= (pba & ~7u));
	assert_true((pba & ~7u) + 8 <= VIRTIO_PCI_BAR_SIZE);
	/* Capability bytes and the table size are read-only. */
	uint8_t junk[4] = { 0xff, 0xff, 0xff, 0xff };
	pci_cfg_access_write(&f->bus, SLOT, msix, junk, 4);
	pci_cfg_access_write(&f->bus, SLOT, seen[1], junk, 4);
	pci_cfg_access_write(&f->bus, SLOT, seen[1] + 8, junk, 4);
	assert_int_equal(cfg_rd(f, msix, 1), PCI_CAP_ID_MSIX);
	assert_int_equal(cfg_rd(f, msix + 2, 2) & PCI_MSIX_FLAGS_QSIZE, NQ);
	assert_int_equal(cfg_rd(f, seen[1] + 3, 1), 1);
	assert_int_equal(cfg_rd(f, seen[1] + 8, 4), 0);
}

static void test_init_rejects(void **state)
{
	(void)state;
	struct virtio_pci *vd = calloc(1, sizeof(*vd));
	assert_non_null(vd);
	struct virtio_pci_params p = { .device_id = 1, .num_queues = 2, .queue_max_size = 256 };
	assert_int_equal(virtio_pci_init(vd, &p), 0);
	virtio_pci_destroy(vd);
	struct virtio_pci_params bad[] = {
		{ .device_id = 1, .num_queues = 0, .queue_max_size = 256 },
		{ .device_id = 1, .num_queues = VIRTIO_PCI_MAX_QUEUES + 1, .queue_max_size = 256 },
		{ .device_id = 1, .num_queues = 2, .queue_max_size = 100 },
		{ .device_id = 1, .num_queues = 2, .queue_max_size = 0 },
		{ .device_id = 0, .num_queues = 2, .queue_max_size = 256 },
		{ .device_id = 1, .num_queues = 2, .queue_max_size = 256,
		  .config_len = VIRTIO_PCI_DEVCFG_MAX + 1, .config = net_cfg },
		{ .device_id = 1, .num_queues = 2, .queue_max_size = 256, .config_len = 4 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(virtio_pci_init(vd, &bad[i]), -EINVAL);
	assert_int_equal(virtio_pci_notify_offset(NULL, 0), -1);
	free(vd);
}

/* --- features ------------------------------------------------------------------ */

static void test_features_offered(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(dev_features(f), F_CSUM | F_MAC | F_V1);
	bar_wr(f, CC(DFSELECT), 2, 4);
	assert_int_equal(bar_rd(f, CC(DF), 4), 0);
	assert_int_equal(bar_rd(f, CC(DFSELECT), 4), 2);
	/* Read-only: writing device_feature changes nothing. */
	bar_wr(f, CC(DFSELECT), 0, 4);
	bar_wr(f, CC(DF), 0xffffffff, 4);
	assert_int_equal(bar_rd(f, CC(DF), 4), F_CSUM | F_MAC);
	assert_int_equal(bar_rd(f, CC(NUMQ), 2), NQ);
	bar_wr(f, CC(NUMQ), 9, 2);
	assert_int_equal(bar_rd(f, CC(NUMQ), 2), NQ);
}

static void test_features_iommu(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(dev_features(f), F_CSUM | F_MAC | F_V1 | F_PLATFORM);
	assert_int_equal(negotiate(f, F_V1 | F_PLATFORM | F_MAC) & S_FOK, S_FOK);
	assert_int_equal(f->fake.validated, F_V1 | F_PLATFORM | F_MAC);
	assert_int_equal(virtio_pci_features(&f->vd), F_V1 | F_PLATFORM | F_MAC);
}

static void test_features_subset(void **state)
{
	struct fixture *f = *state;
	/* ACCESS_PLATFORM was not offered here: asking for it fails. */
	assert_int_equal(negotiate(f, F_V1 | F_PLATFORM), S_ACK | S_DRV);
	assert_int_equal(f->fake.validate_calls, 0);
	/* Nor is RING_RESET, though the device listed it. */
	drv_features(f, F_V1 | 1ULL << 40);
	set_status(f, S_ACK | S_DRV | S_FOK);
	assert_int_equal(status(f), S_ACK | S_DRV);
	/* VERSION_1 is required. */
	drv_features(f, F_MAC);
	set_status(f, S_ACK | S_DRV | S_FOK);
	assert_int_equal(status(f), S_ACK | S_DRV);
	assert_int_equal(f->fake.validate_calls, 0);
	/* The backend may refuse. */
	f->fake.refuse = true;
	drv_features(f, F_V1 | F_MAC);
	set_status(f, S_ACK | S_DRV | S_FOK);
	assert_int_equal(status(f), S_ACK | S_DRV);
	assert_int_equal(f->fake.validate_calls, 1);
	f->fake.refuse = false;
	set_status(f, S_ACK | S_DRV | S_FOK);
	assert_int_equal(status(f), S_ACK | S_DRV | S_FOK);
	assert_int_equal(f->fake.validated, F_V1 | F_MAC);
}

static void test_features_frozen(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(negotiate(f, F_V1 | F_CSUM), S_ACK | S_DRV | S_FOK);
	drv_features(f, F_V1 | F_MAC);
	bar_wr(f, CC(GFSELECT), 0, 4);
	assert_int_equal(bar_rd(f, CC(GF), 4), F_CSUM);
	bar_wr(f, CC(GFSELECT), 1, 4);
	assert_int_equal(bar_rd(f, CC(GF), 4), 1);
	assert_int_equal(virtio_pci_features(&f->vd), F_V1 | F_CSUM);
	/* Selects beyond 1 store nothing. */
	bar_wr(f, CC(GFSELECT), 7, 4);
	assert_int_equal(bar_rd(f, CC(GF), 4), 0);
}

static void test_feature_ok_needs_driver(void **state)
{
	struct fixture *f = *state;
	set_status(f, S_ACK);
	drv_features(f, F_V1);
	set_status(f, S_ACK | S_FOK);
	assert_int_equal(status(f), S_ACK);
}

/* --- status ----------------------------------------------------------------- */

static void test_status_driver_ok(void **state)
{
	struct fixture *f = *state;
	negotiate(f, F_V1 | F_MAC);
	setup_queue(f, 0, 128, 0x100000);
	setup_queue(f, 2, 64, 0x7ff00000000ULL);
	bar_wr(f, CC(MSIX), 0, 2);
	set_status(f, S_ACK | S_DRV | S_FOK | S_DOK);
	assert_int_equal(status(f), S_ACK | S_DRV | S_FOK | S_DOK);
	assert_int_equal(f->fake.start_calls, 1);
	assert_int_equal(f->fake.start_features, F_V1 | F_MAC);
	assert_int_equal(f->fake.nq, NQ);
	assert_true(f->fake.q[0].enabled);
	assert_int_equal(f->fake.q[0].size, 128);
	assert_int_equal(f->fake.q[0].desc, 0x100000);
	assert_int_equal(f->fake.q[0].driver, 0x101000);
	assert_int_equal(f->fake.q[0].device, 0x102000);
	assert_int_equal(f->fake.q[0].msix_vector, 1);
	assert_false(f->fake.q[1].enabled);
	assert_int_equal(f->fake.q[1].size, QMAX);
	assert_int_equal(f->fake.q[1].msix_vector, VIRTIO_MSI_NO_VECTOR);
	assert_true(f->fake.q[2].enabled);
	assert_int_equal(f->fake.q[2].desc, 0x7ff00000000ULL);
	assert_int_equal(f->fake.q[2].device, 0x7ff00002000ULL);
	assert_int_equal(f->fake.q[2].msix_vector, 3);
	/* Writing the same status again starts nothing new. */
	set_status(f, S_ACK | S_DRV | S_FOK | S_DOK);
	assert_int_equal(f->fake.start_calls, 1);
	assert_int_equal(f->fake.stop_calls, 0);
}

static void test_status_driver_ok_without_features_ok(void **state)
{
	struct fixture *f = *state;
	set_status(f, S_ACK | S_DRV);
	set_status(f, S_ACK | S_DRV | S_DOK);
	assert_int_equal(status(f), S_ACK | S_DRV | VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(f->fake.start_calls, 0);
	/* The driver cannot clear NEEDS_RESET; only a reset does. */
	set_status(f, S_ACK | S_DRV);
	assert_true(status(f) & VIRTIO_STATUS_NEEDS_RESET);
	set_status(f, 0);
	assert_int_equal(status(f), 0);
	assert_int_equal(f->fake.stop_calls, 0);
}

static void test_status_no_clearing(void **state)
{
	struct fixture *f = *state;
	negotiate(f, F_V1);
	/* Clearing bits without a reset is ignored entirely. */
	set_status(f, S_ACK | S_DOK);
	assert_int_equal(status(f), S_ACK | S_DRV | S_FOK);
	assert_int_equal(f->fake.start_calls, 0);
	set_status(f, S_ACK | S_DRV | S_FOK | VIRTIO_STATUS_FAILED);
	assert_int_equal(status(f), S_ACK | S_DRV | S_FOK | VIRTIO_STATUS_FAILED);
	/* After FAILED, DRIVER_OK starts nothing. */
	set_status(f, S_ACK | S_DRV | S_FOK | VIRTIO_STATUS_FAILED | S_DOK);
	assert_int_equal(f->fake.start_calls, 0);
	assert_false(status(f) & S_DOK);
	/* Wrong widths for status do nothing. */
	bar_wr(f, CC(STATUS), 0, 2);
	bar_wr(f, CC(STATUS), 0, 4);
	assert_true(status(f) & S_FOK);
	assert_int_equal(bar_rd(f, CC(STATUS), 2), 0);
}

static void test_start_failure(void **state)
{
	struct fixture *f = *state;
	f->fake.start_ret = -5;
	negotiate(f, F_V1);
	set_status(f, S_ACK | S_DRV | S_FOK | S_DOK);
	assert_int_equal(f->fake.start_calls, 1);
	assert_true(status(f) & VIRTIO_STATUS_NEEDS_RESET);
	/* A failed start owes no stop. */
	set_status(f, 0);
	assert_int_equal(f->fake.stop_calls, 0);
}

static void test_reset(void **state)
{
	struct fixture *f = *state;
	negotiate(f, F_V1 | F_CSUM);
	setup_queue(f, 1, 32, 0x200000);
	bar_wr(f, CC(MSIX), 2, 2);
	bar_wr(f, CC(DFSELECT), 1, 4);
	bar_wr(f, CC(GFSELECT), 1, 4);
	set_status(f, S_ACK | S_DRV | S_FOK | S_DOK);
	assert_int_equal(f->fake.start_calls, 1);

	set_status(f, 0);
	assert_int_equal(f->fake.stop_calls, 1);
	assert_int_equal(status(f), 0);
	assert_int_equal(bar_rd(f, CC(DFSELECT), 4), 0);
	assert_int_equal(bar_rd(f, CC(GFSELECT), 4), 0);
	assert_int_equal(bar_rd(f, CC(GF), 4), 0);
	assert_int_equal(virtio_pci_features(&f->vd), 0);
	assert_int_equal(bar_rd(f, CC(MSIX), 2), VIRTIO_MSI_NO_VECTOR);
	assert_int_equal(bar_rd(f, CC(Q_SELECT), 2), 0);
	for (unsigned q = 0; q < NQ; q++) {
		bar_wr(f, CC(Q_SELECT), q, 2);
		assert_int_equal(bar_rd(f, CC(Q_SIZE), 2), QMAX);
		assert_int_equal(bar_rd(f, CC(Q_ENABLE), 2), 0);
		assert_int_equal(bar_rd(f, CC(Q_MSIX), 2), VIRTIO_MSI_NO_VECTOR);
		assert_int_equal(bar_rd(f, CC(Q_DESCLO), 8), 0);
		assert_int_equal(bar_rd(f, CC(Q_AVAILLO), 8), 0);
		assert_int_equal(bar_rd(f, CC(Q_USEDLO), 8), 0);
	}
	/* A second reset owes no stop; the device works again afterwards. */
	set_status(f, 0);
	assert_int_equal(f->fake.stop_calls, 1);
	assert_int_equal(negotiate(f, F_V1), S_ACK | S_DRV | S_FOK);
	set_status(f, S_ACK | S_DRV | S_FOK | S_DOK);
	assert_int_equal(f->fake.start_calls, 2);
	assert_false(f->fake.q[1].enabled);
	set_status(f, 0);
	assert_int_equal(f->fake.stop_calls, 2);
}

/* --- queues ----------------------------------------------------------------- */

static void test_queue_sizes(void **state)
{
	struct fixture *f = *state;
	negotiate(f, F_V1);
	bar_wr(f, CC(Q_SELECT), 1, 2);
	assert_int_equal(bar_rd(f, CC(Q_SIZE), 2), QMAX);
	assert_int_equal(bar_rd(f, CC(Q_NOFF), 2), 1);
	const uint16_t bad[] = { 0, 3, 100, 255, QMAX * 2, 0xffff };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bar_wr(f, CC(Q_SIZE), bad[i], 2);
		assert_int_equal(bar_rd(f, CC(Q_SIZE), 2), QMAX);
	}
	bar_wr(f, CC(Q_SIZE), 1, 2);
	assert_int_equal(bar_rd(f, CC(Q_SIZE), 2), 1);
	bar_wr(f, CC(Q_SIZE), 64, 2);
	assert_int_equal(bar_rd(f, CC(Q_SIZE), 2), 64);
	/* Byte writes to a 16-bit field are not accesses. */
	bar_wr(f, CC(Q_SIZE), 8, 1);
	assert_int_equal(bar_rd(f, CC(Q_SIZE), 2), 64);
	assert_int_equal(bar_rd(f, CC(Q_SIZE), 1), 0);
}

static void test_queue_select_out_of_range(void **state)
{
	struct fixture *f = *state;
	negotiate(f, F_V1);
	const uint16_t sel[] = { NQ, VIRTIO_PCI_MAX_QUEUES, 0x8000, 0xffff };
	for (size_t i = 0; i < sizeof(sel) / sizeof(sel[0]); i++) {
		bar_wr(f, CC(Q_SELECT), sel[i], 2);
		assert_int_equal(bar_rd(f, CC(Q_SELECT), 2), sel[i]);
		bar_wr(f, CC(Q_SIZE), 16, 2);
		bar_wr(f, CC(Q_MSIX), 1, 2);
		bar_wr(f, CC(Q_DESCLO), 0x1000, 4);
		bar_wr(f, CC(Q_ENABLE), 1, 2);
		assert_int_equal(bar_rd(f, CC(Q_SIZE), 2), 0);
		assert_int_equal(bar_rd(f, CC(Q_MSIX), 2), 0);
		assert_int_equal(bar_rd(f, CC(Q_ENABLE), 2), 0);
		assert_int_equal(bar_rd(f, CC(Q_NOFF), 2), 0);
		assert_int_equal(bar_rd(f, CC(Q_DESCLO), 4), 0);
	}
	assert_int_equal(status(f) & VIRTIO_STATUS_NEEDS_RESET, 0);
	set_status(f, S_ACK | S_DRV | S_FOK | S_DOK);
	for (unsigned q = 0; q < NQ; q++) {
		assert_false(f->fake.q[q].enabled);
		assert_int_equal(f->fake.q[q].desc, 0);
	}
}

static void test_queue_latch(void **state)
{
	struct fixture *f = *state;
	negotiate(f, F_V1);
	setup_queue(f, 0, 128, 0x100000);
	assert_int_equal(bar_rd(f, CC(Q_ENABLE), 2), 1);
	/* Everything about an enabled queue is read-only now. */
	bar_wr(f, CC(Q_SIZE), 64, 2);
	bar_wr(f, CC(Q_DESCLO), 0x900000, 4);
	bar_wr(f, CC(Q_AVAILHI), 5, 4);
	bar_wr(f, CC(Q_USEDLO), 0x12345678abcd0000ULL, 8);
	bar_wr(f, CC(Q_MSIX), 0, 2);
	bar_wr(f, CC(Q_ENABLE), 0, 2);
	assert_int_equal(bar_rd(f, CC(Q_SIZE), 2), 128);
	assert_int_equal(bar_rd(f, CC(Q_DESCLO), 8), 0x100000);
	assert_int_equal(bar_rd(f, CC(Q_AVAILLO), 8), 0x101000);
	assert_int_equal(bar_rd(f, CC(Q_USEDLO), 4), 0x102000);
	assert_int_equal(bar_rd(f, CC(Q_USEDHI), 4), 0);
	assert_int_equal(bar_rd(f, CC(Q_MSIX), 2), 1);
	assert_int_equal(bar_rd(f, CC(Q_ENABLE), 2), 1);
	/* queue_enable takes 1 only. */
	bar_wr(f, CC(Q_SELECT), 1, 2);
	bar_wr(f, CC(Q_DESCLO), 0x300000, 4);
	bar_wr(f, CC(Q_AVAILLO), 0x301000, 4);
	bar_wr(f, CC(Q_USEDLO), 0x302000, 4);
	bar_wr(f, CC(Q_ENABLE), 2, 2);
	assert_int_equal(bar_rd(f, CC(Q_ENABLE), 2), 0);
	/* After DRIVER_OK a queue can no longer be enabled. */
	set_status(f, S_ACK | S_DRV | S_FOK | S_DOK);
	bar_wr(f, CC(Q_ENABLE), 1, 2);
	assert_int_equal(bar_rd(f, CC(Q_ENABLE), 2), 0);
	assert_true(f->fake.q[0].enabled);
	assert_false(f->fake.q[1].enabled);
}

static void test_queue_bad_addresses(void **state)
{
	struct fixture *f = *state;
	const struct { uint64_t desc, avail, used; } bad[] = {
		{ 0x100008, 0x101000, 0x102000 },        /* desc not 16-aligned */
		{ 0x100000, 0x101001, 0x102000 },        /* avail not 2-aligned */
		{ 0x100000, 0x101000, 0x102002 },        /* used not 4-aligned */
		{ 0xfffffffffffff000ULL, 0x1000, 0x2000 }, /* desc table wraps */
		{ 0x1000, 0xfffffffffffffffeULL, 0x2000 },  /* avail ring wraps */
		{ 0x1000, 0x2000, 0xfffffffffffffffcULL },  /* used ring wraps */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		set_status(f, 0);
		negotiate(f, F_V1);
		bar_wr(f, CC(Q_SELECT), 0, 2);
		bar_wr(f, CC(Q_DESCLO), bad[i].desc, 8);
		bar_wr(f, CC(Q_AVAILLO), bad[i].avail, 8);
		bar_wr(f, CC(Q_USEDLO), bad[i].used, 8);
		bar_wr(f, CC(Q_ENABLE), 1, 2);
		assert_int_equal(bar_rd(f, CC(Q_ENABLE), 2), 0);
		assert_true(status(f) & VIRTIO_STATUS_NEEDS_RESET);
	}
	/* Address 0 is a legal IOVA: nothing is assumed about it. */
	set_status(f, 0);
	negotiate(f, F_V1);
	bar_wr(f, CC(Q_ENABLE), 1, 2);
	assert_int_equal(bar_rd(f, CC(Q_ENABLE), 2), 1);
	assert_int_equal(status(f) & VIRTIO_STATUS_NEEDS_RESET, 0);
}

static void test_vectors_checked(void **state)
{
	struct fixture *f = *state;
	bar_wr(f, CC(MSIX), NQ, 2);
	assert_int_equal(bar_rd(f, CC(MSIX), 2), NQ);
	bar_wr(f, CC(MSIX), NQ + 1, 2);
	assert_int_equal(bar_rd(f, CC(MSIX), 2), VIRTIO_MSI_NO_VECTOR);
	bar_wr(f, CC(Q_MSIX), 0, 2);
	assert_int_equal(bar_rd(f, CC(Q_MSIX), 2), 0);
	bar_wr(f, CC(Q_MSIX), 0x7ff, 2);
	assert_int_equal(bar_rd(f, CC(Q_MSIX), 2), VIRTIO_MSI_NO_VECTOR);
	/* Misaligned and odd-width accesses read 0 and write nothing. */
	bar_wr(f, CC(MSIX) + 1, 0x01, 1);
	assert_int_equal(bar_rd(f, CC(MSIX), 2), VIRTIO_MSI_NO_VECTOR);
	assert_int_equal(bar_rd(f, CC(MSIX) + 1, 2), 0);
	assert_int_equal(bar_rd(f, CC(DF) + 2, 4), 0);
	assert_int_equal(bar_rd(f, CC(DF), 8), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capabilities, setup, teardown),
		cmocka_unit_test(test_init_rejects),
		cmocka_unit_test_setup_teardown(test_features_offered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features_iommu, setup_iommu, teardown),
		cmocka_unit_test_setup_teardown(test_features_subset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features_frozen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_feature_ok_needs_driver, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_driver_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_driver_ok_without_features_ok, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_status_no_clearing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_select_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_latch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_bad_addresses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vectors_checked, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
