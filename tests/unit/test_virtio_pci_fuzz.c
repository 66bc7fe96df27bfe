/*
 * test_virtio_pci_fuzz.c - a hostile guest against the virtio-pci
 * transport: 100k random BAR and config-space accesses (any offset, any
 * length, any value, biased towards the registers that matter so the state
 * machine gets deep), mixed with backend calls, checking after every step
 * the invariants the VMM relies on. Then the same from several threads at
 * once, which must neither deadlock (bus lock -> device lock order) nor
 * trip the sanitizers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../../devices/pci.h"
#include "../../devices/virtio_pci.h"
#include "virtio_pci_test_util.h"

#define SLOT   PCI_DEVFN(5, 0)
#define NQ     4
#define NV     (NQ + 1)
#define QMAX   128
#define OFFERED ((1ULL << 5) | (1ULL << 16) | (1ULL << VIRTIO_F_VERSION_1) | \
		 (1ULL << VIRTIO_F_ACCESS_PLATFORM) | (1ULL << VIRTIO_F_RING_PACKED))
#define STEPS  100000

struct fake {
	unsigned starts, stops, bad; /* bad: a callback saw something it must never see */
	unsigned why;                /* line of the last bad */
	bool running;
};

struct fixture {
	struct pci_bus bus;
	struct virtio_pci vd;
	struct fake fake;
	uint8_t cfg0[PCI_CFG_LEGACY]; /* config space as built, for read-only checks */
	uint64_t rng;
};

static int fake_start(void *o, uint64_t feat, const struct virtio_pci_queue *q, unsigned nq)
{
	struct fake *k = o;
	bool packed = feat & (1ULL << VIRTIO_F_RING_PACKED);
	k->starts++;
	if (k->running || nq != NQ || (feat & ~OFFERED) || !(feat & (1ULL << VIRTIO_F_VERSION_1)))
		k->bad++, k->why = __LINE__;
	for (unsigned i = 0; i < nq; i++) {
		if (!q[i].enabled)
			continue;
		unsigned s = q[i].size;
		if (s == 0 || s > QMAX || (!packed && (s & (s - 1))) || q[i].desc % 16 ||
		    q[i].device % 4 || (q[i].msix_vector >= NV && q[i].msix_vector != 0xffff))
			k->bad++, k->why = __LINE__;
	}
	/* Fail now and then, like a backend out of resources. */
	if (k->starts % 7 == 0)
		return -1;
	k->running = true;
	return 0;
}

static void fake_stop(void *o)
{
	struct fake *k = o;
	k->stops++;
	if (!k->running)
		k->bad++, k->why = __LINE__;
	k->running = false;
}

static void fake_update(void *o, unsigned v, uint64_t a, uint32_t d, bool m)
{
	(void)a, (void)d, (void)m;
	if (v >= NV)
		((struct fake *)o)->bad++, ((struct fake *)o)->why = __LINE__;
}

static void fake_signal(void *o, unsigned v)
{
	if (v >= NV)
		((struct fake *)o)->bad++, ((struct fake *)o)->why = __LINE__;
}

static void fake_notify(void *o, unsigned q)
{
	struct fake *k = o;
	if (q >= NQ || !k->running)
		k->bad++, k->why = __LINE__;
}

static void fake_config_write(void *o, uint8_t *cfg, unsigned off, const uint8_t *d, unsigned len)
{
	if (off >= 12 || len == 0 || len > 12 - off)
		((struct fake *)o)->bad++, ((struct fake *)o)->why = __LINE__;
	else
		memcpy(cfg + off, d, len);
}

static const struct virtio_pci_ops fake_ops = {
	.start = fake_start, .stop = fake_stop, .notify = fake_notify,
	.config_write = fake_config_write, .msix_update = fake_update,
	.msix_signal = fake_signal,
};

static uint64_t rnd(struct fixture *f)
{
	f->rng ^= f->rng << 13;
	f->rng ^= f->rng >> 7;
	f->rng ^= f->rng << 17;
	return f->rng;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (f == NULL || pci_bus_init(&f->bus, NULL) != 0)
		return -1;
	static const uint8_t cfg[12] = { 1, 2, 3, 4, 5, 6 };
	const struct virtio_pci_params p = {
		.device_id = VIRTIO_ID_NET, .class_code = VIRTIO_PCI_CLASS_NET,
		.features = OFFERED, .iommu_platform = true, .num_queues = NQ,
		.queue_max_size = QMAX, .config = cfg, .config_len = sizeof(cfg),
		.ops = &fake_ops, .opaque = &f->fake,
	};
	if (virtio_pci_init(&f->vd, &p) != 0 || pci_bus_add(&f->bus, &f->vd.pci, SLOT) != 0)
		return -1;
	pci_cfg_access_read(&f->bus, SLOT, 0, f->cfg0, sizeof(f->cfg0));
	f->rng = 0x9e3779b97f4a7c15ULL;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	return vp_teardown(&f->vd, &f->bus, f);
}

static const unsigned lens[] = { 1, 2, 4, 8, 1, 2, 4, 3, 5, 8 };

/* A BAR offset: mostly inside a structure, sometimes anywhere or past the end. */
static unsigned pick_bar_off(struct fixture *f)
{
	static const unsigned bases[] = { VIRTIO_PCI_COMMON_OFF, VIRTIO_PCI_COMMON_OFF,
					  VIRTIO_PCI_COMMON_OFF, VIRTIO_PCI_ISR_OFF,
					  VIRTIO_PCI_DEVCFG_OFF, VIRTIO_PCI_NOTIFY_OFF,
					  VIRTIO_PCI_MSIX_TABLE_OFF, VIRTIO_PCI_MSIX_PBA_OFF };
	uint64_t r = rnd(f);
	if (r % 16 == 0)
		return (unsigned)(rnd(f) % (VIRTIO_PCI_BAR_SIZE + 64));
	unsigned b = bases[(r >> 8) % 8];
	return b + (unsigned)((r >> 16) % (b == VIRTIO_PCI_COMMON_OFF ? 0x40 : 0x60));
}

/* Values that mean something to the state machine, else random. */
static uint64_t pick_val(struct fixture *f, unsigned off)
{
	uint64_t r = rnd(f);
	if (r % 4 == 0)
		return rnd(f);
	switch (off) {
	case VIRTIO_PCI_COMMON_STATUS: {
		static const uint8_t st[] = { 0, 0, 1, 3, 11, 11, 15, 15, 15, 0x8b, 0x4f, 7 };
		return st[(r >> 4) % sizeof(st)];
	}
	case VIRTIO_PCI_COMMON_GF:
		/* Mostly the offered half for the current select (peeked). */
		return (r >> 4) % 4 == 0 ? (uint32_t)(r >> 8) & (uint32_t)OFFERED
		       : f->vd.gfselect == 1 ? (uint32_t)(OFFERED >> 32) : (uint32_t)OFFERED;
	case VIRTIO_PCI_COMMON_GFSELECT: case VIRTIO_PCI_COMMON_DFSELECT:
		return (r >> 4) % 3;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		return (r >> 4) % (NQ + 2);
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		return 1;
	case VIRTIO_PCI_COMMON_Q_SIZE:
		return 1u << ((r >> 4) % 9);
	default:
		return (r >> 4) & ~0xfULL;
	}
}

static void one_step(struct fixture *f)
{
	uint64_t r = rnd(f);
	uint8_t buf[16] = { 0 }; /* config_changed reads up to 15 */
	unsigned len = lens[(r >> 4) % 10];
	switch (r % 16) {
	case 0: { /* config space: anywhere, including the caps and the window */
		unsigned off = (unsigned)(rnd(f) % 0x110);
		if (r & 0x100) {
			uint64_t v = rnd(f);
			memcpy(buf, &v, 8);
			pci_cfg_access_write(&f->bus, SLOT, off, buf, len > 4 ? 4 : len);
		} else {
			pci_cfg_access_read(&f->bus, SLOT, off, buf, len > 4 ? 4 : len);
		}
		break;
	}
	case 1: /* the backend */
		if (r & 0x100)
			virtio_pci_signal(&f->vd, (unsigned)(rnd(f) % (NV + 3)));
		else
			virtio_pci_config_changed(&f->vd, (unsigned)(rnd(f) % 16), buf,
						  (unsigned)(rnd(f) % 16));
		break;
	case 2: case 3: case 4: case 5: { /* a well-formed write, as a driver would */
		static const uint8_t field[][2] = {
			{ VIRTIO_PCI_COMMON_STATUS, 1 }, { VIRTIO_PCI_COMMON_STATUS, 1 },
			{ VIRTIO_PCI_COMMON_GF, 4 }, { VIRTIO_PCI_COMMON_GFSELECT, 4 },
			{ VIRTIO_PCI_COMMON_Q_SELECT, 2 }, { VIRTIO_PCI_COMMON_Q_SIZE, 2 },
			{ VIRTIO_PCI_COMMON_Q_ENABLE, 2 }, { VIRTIO_PCI_COMMON_Q_MSIX, 2 },
			{ VIRTIO_PCI_COMMON_Q_DESCLO, 4 }, { VIRTIO_PCI_COMMON_Q_USEDLO, 4 },
			{ VIRTIO_PCI_COMMON_MSIX, 2 }, { VIRTIO_PCI_COMMON_DFSELECT, 4 },
		};
		unsigned k = (unsigned)((r >> 8) % (sizeof(field) / sizeof(field[0])));
		uint64_t v = pick_val(f, field[k][0]);
		memcpy(buf, &v, 8);
		virtio_pci_bar_ops.write(&f->vd, field[k][0], buf, field[k][1]);
		break;
	}
	default: {
		unsigned off = pick_bar_off(f);
		if (r & 0x100) {
			uint64_t v = pick_val(f, off);
			memcpy(buf, &v, 8);
			virtio_pci_bar_ops.write(&f->vd, off, buf, len);
		} else {
			virtio_pci_bar_ops.read(&f->vd, off, buf, len);
		}
	}
	}
}

static void check_invariants(struct fixture *f)
{
	uint8_t now[PCI_CFG_LEGACY];
	uint8_t s = virtio_pci_status(&f->vd);
	if (f->fake.bad)
		fail_msg("callback check at line %u failed", f->fake.why);
	if (s & VIRTIO_STATUS_DRIVER_OK)
		assert_true(s & VIRTIO_STATUS_FEATURES_OK);
	assert_true(f->fake.starts >= f->fake.stops);
	assert_true(f->fake.running == f->vd.started);
	uint64_t feat = virtio_pci_features(&f->vd);
	if (s & VIRTIO_STATUS_FEATURES_OK)
		assert_int_equal(feat & ~OFFERED, 0);
	pci_cfg_access_read(&f->bus, SLOT, 0, now, sizeof(now));
	/* ids, class, header type, capability pointer never change. */
	assert_memory_equal(now, f->cfg0, 4);
	assert_memory_equal(now + PCI_REVISION_ID, f->cfg0 + PCI_REVISION_ID, 4);
	assert_int_equal(now[PCI_HEADER_TYPE], f->cfg0[PCI_HEADER_TYPE]);
	assert_int_equal(now[PCI_CAP_PTR], f->cfg0[PCI_CAP_PTR]);
	assert_int_equal(now[PCI_INTERRUPT_PIN], 0);
	/* Capability ids, chain and type bytes never change. */
	for (unsigned p = now[PCI_CAP_PTR], n = 0; p != 0 && n < 16; p = now[p + 1], n++) {
		assert_int_equal(now[p], f->cfg0[p]);
		assert_int_equal(now[p + 1], f->cfg0[p + 1]);
		if (now[p] == PCI_CAP_ID_VNDR) /* cfg_type; MSI-X has control bits there */
			assert_int_equal(now[p + 3], f->cfg0[p + 3]);
	}
}

static void test_random_accesses(void **state)
{
	struct fixture *f = *state;
	uint8_t cmd[2] = { PCI_COMMAND_MEMORY, 0 };
	pci_cfg_access_write(&f->bus, SLOT, PCI_COMMAND, cmd, 2);
	unsigned max_status = 0;
	for (unsigned i = 0; i < STEPS; i++) {
		one_step(f);
		check_invariants(f);
		max_status |= virtio_pci_status(&f->vd);
	}
	print_message("%u steps: %u starts, %u stops\n", STEPS, f->fake.starts, f->fake.stops);
	/* The walk got deep enough to be worth something. */
	assert_true(max_status & VIRTIO_STATUS_FEATURES_OK);
	assert_true(f->fake.starts > 0);
	assert_true(f->fake.stops > 0);
	/* And a reset still brings it back. */
	uint8_t zero = 0;
	virtio_pci_bar_ops.write(&f->vd, VIRTIO_PCI_COMMON_STATUS, &zero, 1);
	assert_int_equal(virtio_pci_status(&f->vd), 0);
	assert_false(f->fake.running);
}

/* --- the same from several threads ----------------------------------------- */

struct worker {
	struct fixture *f;
	uint64_t rng;
	unsigned kind;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	struct fixture *f = w->f;
	uint8_t buf[8] = { 0 };
	for (unsigned i = 0; i < 20000; i++) {
		w->rng ^= w->rng << 13;
		w->rng ^= w->rng >> 7;
		w->rng ^= w->rng << 17;
		uint64_t r = w->rng;
		unsigned len = lens[(r >> 4) % 10];
		memcpy(buf, &r, 8);
		switch (w->kind) {
		case 0: /* config space: MSI-X control and the PCI_CFG window */
			if (r & 1)
				pci_cfg_access_write(&f->bus, SLOT, f->vd.msix_cap + 2 + (r >> 8) % 2,
						     buf, 1);
			else
				pci_cfg_access_write(&f->bus, SLOT,
						     f->vd.pcfg_cap + 4 + (unsigned)((r >> 8) % 20),
						     buf, len > 4 ? 4 : len);
			pci_cfg_access_read(&f->bus, SLOT, f->vd.pcfg_cap + 16, buf, 4);
			break;
		case 1: /* BAR through the bus window */
			if (r & 1)
				pci_mmio_window_ops.write(&f->bus, (r >> 8) % 0x8000, buf, len);
			else
				pci_mmio_window_ops.read(&f->bus, (r >> 8) % 0x8000, buf, len);
			break;
		default: /* the backend */
			virtio_pci_signal(&f->vd, (unsigned)(r % NV));
			if (r % 16 == 0)
				virtio_pci_config_changed(&f->vd, 0, buf, 2);
			break;
		}
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct fixture *f = *state;
	uint8_t cmd[2] = { PCI_COMMAND_MEMORY, 0 };
	pci_cfg_access_write(&f->bus, SLOT, PCI_COMMAND, cmd, 2);
	pthread_t t[4];
	struct worker w[4];
	for (unsigned i = 0; i < 4; i++) {
		w[i] = (struct worker){ f, 0x1234567ULL * (i + 1), i % 3 };
		assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	check_invariants(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_random_accesses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
