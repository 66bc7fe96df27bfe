/*
 * test_virtio_pci_irq.c - the virtio-pci transport's interrupt and side
 * paths through the real PCI bus: the MSI-X table, function mask and
 * enable, PBA and pending delivery, ISR read-to-clear, notify addresses,
 * BAR moves, device config with its generation, and the PCI_CFG window.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../devices/pci.h"
#include "../../devices/virtio_pci.h"
#include "virtio_pci_test_util.h"

#define SLOT  PCI_DEVFN(4, 0)
#define NQ    2
#define NV    (NQ + 1)
#define S_ALL (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK)
#define MAXLOG 64

struct msix_rec {
	unsigned vector;
	uint64_t addr;
	uint32_t data;
	bool masked;
};

struct fake {
	struct msix_rec upd[MAXLOG];
	unsigned nupd;
	unsigned sig[MAXLOG], nsig;
	unsigned kick[MAXLOG], nkick;
	uint64_t moved_old, moved_new;
	unsigned nmoved;
	unsigned cw_off, cw_len, ncw;
	int start_calls;
};

struct fixture {
	struct pci_bus bus;
	struct virtio_pci vd;
	struct fake fake;
	uint64_t bar;
	unsigned msix, pcfg;
};

static void fake_update(void *o, unsigned v, uint64_t addr, uint32_t data, bool masked)
{
	struct fake *k = o;
	if (k->nupd < MAXLOG)
		k->upd[k->nupd++] = (struct msix_rec){ v, addr, data, masked };
}

static void fake_signal(void *o, unsigned v)
{
	struct fake *k = o;
	if (k->nsig < MAXLOG)
		k->sig[k->nsig++] = v;
}

static void fake_notify(void *o, unsigned q)
{
	struct fake *k = o;
	if (k->nkick < MAXLOG)
		k->kick[k->nkick++] = q;
}

static void fake_moved(void *o, uint64_t old_addr, uint64_t new_addr)
{
	struct fake *k = o;
	k->nmoved++;
	k->moved_old = old_addr;
	k->moved_new = new_addr;
}

/* virtio-net lets the driver write the MAC (legacy behaviour): bytes 0-5 only. */
static void fake_config_write(void *o, uint8_t *cfg, unsigned off, const uint8_t *d, unsigned len)
{
	struct fake *k = o;
	k->ncw++;
	k->cw_off = off;
	k->cw_len = len;
	for (unsigned i = 0; i < len; i++)
		if (off + i < 6)
			cfg[off + i] = d[i];
}

static int fake_start(void *o, uint64_t f, const struct virtio_pci_queue *q, unsigned nq)
{
	(void)f, (void)q, (void)nq;
	((struct fake *)o)->start_calls++;
	return 0;
}

static const struct virtio_pci_ops fake_ops = {
	.start = fake_start, .notify = fake_notify, .config_write = fake_config_write,
	.msix_update = fake_update, .msix_signal = fake_signal, .bar_moved = fake_moved,
};

static const uint8_t net_cfg[10] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56, 1, 0, 1, 0 };

static uint32_t cfg_rd(struct fixture *f, unsigned off, unsigned len)
{
	return vp_cfg_rd(&f->bus, SLOT, off, len);
}

static void cfg_wr(struct fixture *f, unsigned off, uint32_t v, unsigned len)
{
	vp_cfg_wr(&f->bus, SLOT, off, v, len);
}

static uint64_t bar_rd(struct fixture *f, unsigned off, unsigned len)
{
	return vp_bar_rd(&f->bus, f->bar, off, len);
}

static void bar_wr(struct fixture *f, unsigned off, uint64_t v, unsigned len)
{
	vp_bar_wr(&f->bus, f->bar, off, v, len);
}

/* First capability with this id (and cfg_type for vendor ones), from config space. */
static unsigned find_cap(struct fixture *f, unsigned id, unsigned type)
{
	for (unsigned p = cfg_rd(f, PCI_CAP_PTR, 1), n = 0; p != 0 && n < 48;
	     p = cfg_rd(f, p + 1, 1), n++)
		if (cfg_rd(f, p, 1) == id && (id != PCI_CAP_ID_VNDR || cfg_rd(f, p + 3, 1) == type))
			return p;
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (f == NULL || pci_bus_init(&f->bus, NULL) != 0)
		return -1;
	const struct virtio_pci_params p = {
		.device_id = VIRTIO_ID_NET, .class_code = VIRTIO_PCI_CLASS_NET,
		.num_queues = NQ, .queue_max_size = 256, .config = net_cfg,
		.config_len = sizeof(net_cfg), .ops = &fake_ops, .opaque = &f->fake,
	};
	if (virtio_pci_init(&f->vd, &p) != 0 || pci_bus_add(&f->bus, &f->vd.pci, SLOT) != 0)
		return -1;
	assert_int_equal(f->fake.nmoved, 0);
	cfg_wr(f, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	f->bar = pci_dev_bar_addr(&f->vd.pci, VIRTIO_PCI_BAR);
	f->msix = find_cap(f, PCI_CAP_ID_MSIX, 0);
	f->pcfg = find_cap(f, PCI_CAP_ID_VNDR, VIRTIO_PCI_CAP_PCI_CFG);
	*state = f;
	return f->bar == PCI_BAR_UNMAPPED || f->msix == 0 || f->pcfg == 0 ? -1 : 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	return vp_teardown(&f->vd, &f->bus, f);
}

#define CC(reg) (VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_##reg)
#define ENTRY(v, w) (VIRTIO_PCI_MSIX_TABLE_OFF + 16 * (v) + 4 * (w))

static void msix_ctrl(struct fixture *f, uint16_t bits)
{
	cfg_wr(f, f->msix + 2, bits, 2);
}

static void program(struct fixture *f, unsigned v, uint64_t addr, uint32_t data)
{
	bar_wr(f, ENTRY(v, 0), addr, 8);
	bar_wr(f, ENTRY(v, 2), data, 4);
}

/* The driver up to DRIVER_OK with the config vector and queue 0 enabled. */
static void driver_ok(struct fixture *f, uint16_t cfg_vector)
{
	bar_wr(f, CC(STATUS), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
	bar_wr(f, CC(GFSELECT), 1, 4);
	bar_wr(f, CC(GF), 1, 4);
	bar_wr(f, CC(STATUS), S_ALL, 1);
	bar_wr(f, CC(MSIX), cfg_vector, 2);
	bar_wr(f, CC(Q_SELECT), 0, 2);
	bar_wr(f, CC(Q_ENABLE), 1, 2);
	bar_wr(f, CC(STATUS), S_ALL | VIRTIO_STATUS_DRIVER_OK, 1);
	assert_int_equal(bar_rd(f, CC(STATUS), 1), S_ALL | VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(f->fake.start_calls, 1);
}

/* --- MSI-X ---------------------------------------------------------------------- */

static void test_msix_table(void **state)
{
	struct fixture *f = *state;
	/* Power-on: all entries masked and zero, nothing reported yet. */
	for (unsigned v = 0; v < NV; v++) {
		assert_int_equal(bar_rd(f, ENTRY(v, 0), 8), 0);
		assert_int_equal(bar_rd(f, ENTRY(v, 3), 4), PCI_MSIX_ENTRY_CTRL_MASK);
	}
	assert_int_equal(bar_rd(f, ENTRY(NV, 3), 4), 0); /* beyond the table */
	msix_ctrl(f, PCI_MSIX_FLAGS_ENABLE);
	/* Enable with all entries masked changes no effective state. */
	assert_int_equal(f->fake.nupd, 0);

	program(f, 1, 0xfee01000, 0x4041);
	assert_int_equal(f->fake.nupd, 2); /* address, then data; still masked */
	assert_int_equal(f->fake.upd[1].vector, 1);
	assert_int_equal(f->fake.upd[1].addr, 0xfee01000);
	assert_int_equal(f->fake.upd[1].data, 0x4041);
	assert_true(f->fake.upd[1].masked);
	bar_wr(f, ENTRY(1, 3), 0, 4);
	assert_int_equal(f->fake.nupd, 3);
	assert_false(f->fake.upd[2].masked);
	assert_int_equal(f->fake.upd[2].data, 0x4041);
	/* Rewriting the same value reports nothing. */
	bar_wr(f, ENTRY(1, 2), 0x4041, 4);
	assert_int_equal(f->fake.nupd, 3);
	/* A 64-bit address, written as two dwords. */
	bar_wr(f, ENTRY(2, 0), 0xfee02000, 4);
	bar_wr(f, ENTRY(2, 1), 0x1, 4);
	assert_int_equal(f->fake.upd[f->fake.nupd - 1].addr, 0x1fee02000ULL);
	assert_int_equal(bar_rd(f, ENTRY(2, 0), 8), 0x1fee02000ULL);
	/* Reserved control bits read 0. */
	bar_wr(f, ENTRY(2, 3), 0xfffffffe, 4);
	assert_int_equal(bar_rd(f, ENTRY(2, 3), 4), 0);
	/* Byte, word and misaligned writes are dropped; beyond the table too. */
	unsigned n = f->fake.nupd;
	bar_wr(f, ENTRY(0, 2), 0x55, 1);
	bar_wr(f, ENTRY(0, 2), 0x5555, 2);
	bar_wr(f, ENTRY(0, 2) + 2, 0x55555555, 4);
	bar_wr(f, ENTRY(0, 1), 0x5555555555555555ULL, 8);
	bar_wr(f, ENTRY(NV, 0), 0x5555, 4);
	assert_int_equal(f->fake.nupd, n);
	assert_int_equal(bar_rd(f, ENTRY(0, 2), 4), 0);
	assert_int_equal(bar_rd(f, ENTRY(NV, 0), 4), 0);
}

static void test_msix_function_mask_and_enable(void **state)
{
	struct fixture *f = *state;
	program(f, 0, 0xfee00000, 0x30);
	bar_wr(f, ENTRY(0, 3), 0, 4);
	program(f, 2, 0xfee00000, 0x32);
	bar_wr(f, ENTRY(2, 3), 0, 4);
	f->fake.nupd = 0;
	/* Linux enables with the function masked, then unmasks. */
	msix_ctrl(f, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	assert_int_equal(cfg_rd(f, f->msix + 2, 2) & 0xc000, 0xc000);
	assert_int_equal(f->fake.nupd, 0);
	msix_ctrl(f, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(f->fake.nupd, 2);
	assert_int_equal(f->fake.upd[0].vector, 0);
	assert_int_equal(f->fake.upd[0].data, 0x30);
	assert_false(f->fake.upd[0].masked);
	assert_int_equal(f->fake.upd[1].vector, 2);
	assert_false(f->fake.upd[1].masked);
	/* Function mask masks every unmasked vector. */
	msix_ctrl(f, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	assert_int_equal(f->fake.nupd, 4);
	assert_true(f->fake.upd[2].masked && f->fake.upd[3].masked);
	/* Disabling MSI-X as a whole masks too. */
	msix_ctrl(f, PCI_MSIX_FLAGS_ENABLE);
	msix_ctrl(f, 0);
	assert_int_equal(f->fake.nupd, 8);
	assert_true(f->fake.upd[7].masked);
	/* The table size field cannot be written. */
	cfg_wr(f, f->msix + 2, 0x07ff, 2);
	assert_int_equal(cfg_rd(f, f->msix + 2, 2), NV - 1);
}

static void test_pba_and_signal(void **state)
{
	struct fixture *f = *state;
	program(f, 2, 0xfee00000, 0x42);
	/* MSI-X off: no INTx fallback, nothing happens. */
	virtio_pci_signal(&f->vd, 2);
	assert_int_equal(f->fake.nsig, 0);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_MSIX_PBA_OFF, 8), 0);
	msix_ctrl(f, PCI_MSIX_FLAGS_ENABLE);
	/* Masked entry: pending bit, no message. */
	virtio_pci_signal(&f->vd, 2);
	assert_int_equal(f->fake.nsig, 0);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_MSIX_PBA_OFF, 8), 1u << 2);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_MSIX_PBA_OFF, 4), 1u << 2);
	/* The PBA is read-only. */
	bar_wr(f, VIRTIO_PCI_MSIX_PBA_OFF, 0, 8);
	bar_wr(f, VIRTIO_PCI_MSIX_PBA_OFF, 0xff, 4);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_MSIX_PBA_OFF, 8), 1u << 2);
	/* Unmasking delivers the pending message once and clears the bit. */
	f->fake.nupd = 0;
	bar_wr(f, ENTRY(2, 3), 0, 4);
	assert_int_equal(f->fake.nupd, 1);
	assert_false(f->fake.upd[0].masked);
	assert_int_equal(f->fake.nsig, 1);
	assert_int_equal(f->fake.sig[0], 2);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_MSIX_PBA_OFF, 8), 0);
	/* Unmasked: straight through. */
	virtio_pci_signal(&f->vd, 2);
	assert_int_equal(f->fake.nsig, 2);
	/* Function mask pends too, and its removal delivers. */
	msix_ctrl(f, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	virtio_pci_signal(&f->vd, 2);
	assert_int_equal(f->fake.nsig, 2);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_MSIX_PBA_OFF, 1), 4);
	msix_ctrl(f, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(f->fake.nsig, 3);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_MSIX_PBA_OFF, 8), 0);
	/* Vectors outside the table are ignored. */
	virtio_pci_signal(&f->vd, NV);
	virtio_pci_signal(&f->vd, VIRTIO_MSI_NO_VECTOR);
	virtio_pci_signal(&f->vd, ~0u);
	assert_int_equal(f->fake.nsig, 3);
}

/* --- ISR, device config, notify ---------------------------------------------- */

static void test_isr_and_config_change(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(bar_rd(f, VIRTIO_PCI_ISR_OFF, 1), 0);
	uint8_t gen = (uint8_t)bar_rd(f, CC(CFGGEN), 1);
	/* Before DRIVER_OK: new config and generation, but no interrupt. */
	const uint8_t up[2] = { 0, 0 };
	virtio_pci_config_changed(&f->vd, 6, up, 2);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_DEVCFG_OFF + 6, 2), 0);
	assert_int_equal((uint8_t)bar_rd(f, CC(CFGGEN), 1), (uint8_t)(gen + 1));
	assert_int_equal(bar_rd(f, VIRTIO_PCI_ISR_OFF, 1), 0);
	bar_wr(f, CC(CFGGEN), 0x77, 1);
	assert_int_equal((uint8_t)bar_rd(f, CC(CFGGEN), 1), (uint8_t)(gen + 1));

	program(f, 0, 0xfee00000, 0x50);
	bar_wr(f, ENTRY(0, 3), 0, 4);
	msix_ctrl(f, PCI_MSIX_FLAGS_ENABLE);
	driver_ok(f, 0);
	const uint8_t link_up[2] = { 1, 0 };
	virtio_pci_config_changed(&f->vd, 6, link_up, 2);
	assert_int_equal(f->fake.nsig, 1);
	assert_int_equal(f->fake.sig[0], 0);
	assert_int_equal((uint8_t)bar_rd(f, CC(CFGGEN), 1), (uint8_t)(gen + 2));
	assert_int_equal(bar_rd(f, VIRTIO_PCI_DEVCFG_OFF + 6, 2), 1);
	/* Read-to-clear; writes do nothing. */
	bar_wr(f, VIRTIO_PCI_ISR_OFF, 0, 1);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_ISR_OFF, 4), VIRTIO_PCI_ISR_CONFIG);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_ISR_OFF, 1), 0);
	/* Out-of-range updates are clipped: nothing past the config. */
	const uint8_t big[8] = { 9, 9, 9, 9, 9, 9, 9, 9 };
	virtio_pci_config_changed(&f->vd, 8, big, 8);
	virtio_pci_config_changed(&f->vd, 1000, big, 8);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_DEVCFG_OFF + 8, 4), 0x0909);
	assert_int_equal(f->vd.config[10], 0);
}

static void test_device_config(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(bar_rd(f, VIRTIO_PCI_DEVCFG_OFF, 4), 0x12005452);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_DEVCFG_OFF + 4, 2), 0x5634);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_DEVCFG_OFF, 8), 0x0001563412005452ULL);
	/* Reads past the config are bounded and read 0. */
	assert_int_equal(bar_rd(f, VIRTIO_PCI_DEVCFG_OFF + 8, 4), 1);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_DEVCFG_OFF + 10, 4), 0);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_DEVCFG_OFF + 0x7fc, 4), 0);
	/* Writes go to the device's callback, clipped. */
	bar_wr(f, VIRTIO_PCI_DEVCFG_OFF + 8, 0xaabbccdd, 4);
	assert_int_equal(f->fake.ncw, 1);
	assert_int_equal(f->fake.cw_off, 8);
	assert_int_equal(f->fake.cw_len, 2);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_DEVCFG_OFF + 8, 2), 1);
	bar_wr(f, VIRTIO_PCI_DEVCFG_OFF + 10, 0xaabbccdd, 4);
	assert_int_equal(f->fake.ncw, 1);
	bar_wr(f, VIRTIO_PCI_DEVCFG_OFF + 5, 0x77, 1);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_DEVCFG_OFF + 5, 1), 0x77);
}

static void test_notify(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(virtio_pci_notify_offset(&f->vd, 0), VIRTIO_PCI_NOTIFY_OFF);
	assert_int_equal(virtio_pci_notify_offset(&f->vd, 1), VIRTIO_PCI_NOTIFY_OFF + 4);
	assert_int_equal(virtio_pci_notify_offset(&f->vd, NQ), -1);
	/* The address matches what the driver computes from the caps. */
	unsigned nc = find_cap(f, PCI_CAP_ID_VNDR, VIRTIO_PCI_CAP_NOTIFY_CFG);
	bar_wr(f, CC(Q_SELECT), 1, 2);
	uint64_t noff = bar_rd(f, CC(Q_NOFF), 2);
	assert_int_equal(cfg_rd(f, nc + 8, 4) + noff * cfg_rd(f, nc + 16, 4),
			 virtio_pci_notify_offset(&f->vd, 1));
	/* Before DRIVER_OK kicks go nowhere. */
	bar_wr(f, VIRTIO_PCI_NOTIFY_OFF, 0, 2);
	assert_int_equal(f->fake.nkick, 0);
	driver_ok(f, VIRTIO_MSI_NO_VECTOR);
	bar_wr(f, VIRTIO_PCI_NOTIFY_OFF, 0, 2);
	bar_wr(f, VIRTIO_PCI_NOTIFY_OFF, 0, 4);
	assert_int_equal(f->fake.nkick, 2);
	assert_int_equal(f->fake.kick[0], 0);
	/* Queue 1 is not enabled; unaligned and past-the-end kicks are dropped. */
	bar_wr(f, VIRTIO_PCI_NOTIFY_OFF + 4, 1, 2);
	bar_wr(f, VIRTIO_PCI_NOTIFY_OFF + 2, 0, 2);
	bar_wr(f, VIRTIO_PCI_NOTIFY_OFF + 4 * NQ, NQ, 2);
	assert_int_equal(f->fake.nkick, 2);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_NOTIFY_OFF, 2), 0);
}

static void test_queue_signal(void **state)
{
	struct fixture *f = *state;
	program(f, 1, 0xfee00000, 0x61);
	bar_wr(f, ENTRY(1, 3), 0, 4);
	msix_ctrl(f, PCI_MSIX_FLAGS_ENABLE);
	/* Not started: nothing. */
	virtio_pci_queue_signal(&f->vd, 0);
	assert_int_equal(f->fake.nsig, 0);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_ISR_OFF, 1), 0);
	bar_wr(f, CC(Q_SELECT), 0, 2);
	bar_wr(f, CC(Q_MSIX), 1, 2);
	driver_ok(f, VIRTIO_MSI_NO_VECTOR);
	virtio_pci_queue_signal(&f->vd, 0);
	assert_int_equal(f->fake.nsig, 1);
	assert_int_equal(f->fake.sig[0], 1);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_ISR_OFF, 1), VIRTIO_PCI_ISR_QUEUE);
	/* Disabled or missing queues: nothing. */
	virtio_pci_queue_signal(&f->vd, 1);
	virtio_pci_queue_signal(&f->vd, NQ);
	virtio_pci_queue_signal(&f->vd, ~0u);
	assert_int_equal(f->fake.nsig, 1);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_ISR_OFF, 1), 0);
}

/* --- BAR moves and the PCI_CFG window -------------------------------------- */

static void test_bar_moved(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(f->fake.nmoved, 1);
	assert_int_equal(f->fake.moved_old, PCI_BAR_UNMAPPED);
	assert_int_equal(f->fake.moved_new, f->bar);
	uint64_t to = f->bar + 0x100000;
	cfg_wr(f, PCI_BAR0, (uint32_t)to | PCI_BAR_MEM64_FLAG, 4);
	assert_int_equal(f->fake.nmoved, 2);
	assert_int_equal(f->fake.moved_old, f->bar);
	assert_int_equal(f->fake.moved_new, to);
	f->bar = to;
	assert_int_equal(bar_rd(f, CC(NUMQ), 2), NQ);
	cfg_wr(f, PCI_COMMAND, 0, 2);
	assert_int_equal(f->fake.nmoved, 3);
	assert_int_equal(f->fake.moved_new, PCI_BAR_UNMAPPED);
}

static void window(struct fixture *f, unsigned off, unsigned len)
{
	cfg_wr(f, f->pcfg + 4, VIRTIO_PCI_BAR, 1);
	cfg_wr(f, f->pcfg + 8, off, 4);
	cfg_wr(f, f->pcfg + 12, len, 4);
}

static void test_pci_cfg_window(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(cfg_rd(f, f->pcfg + 2, 1), 20);
	/* Read num_queues and the MAC through the window. */
	window(f, CC(NUMQ), 2);
	assert_int_equal(cfg_rd(f, f->pcfg + 16, 2), NQ);
	window(f, VIRTIO_PCI_DEVCFG_OFF, 4);
	assert_int_equal(cfg_rd(f, f->pcfg + 16, 4), 0x12005452);
	/* Write status through it. */
	window(f, CC(STATUS), 1);
	cfg_wr(f, f->pcfg + 16, VIRTIO_STATUS_ACKNOWLEDGE, 1);
	assert_int_equal(virtio_pci_status(&f->vd), VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(cfg_rd(f, f->pcfg + 16, 1), VIRTIO_STATUS_ACKNOWLEDGE);
	/* An MSI-X entry, with the bus and device locks in the right order. */
	window(f, ENTRY(1, 2), 4);
	cfg_wr(f, f->pcfg + 16, 0x4455, 4);
	assert_int_equal(bar_rd(f, ENTRY(1, 2), 4), 0x4455);
	assert_int_equal(f->fake.nupd, 1);
	/* Bad length, misaligned offset, wrong BAR, offset past the BAR: no access. */
	const struct { unsigned bar, off, len; } bad[] = {
		{ VIRTIO_PCI_BAR, CC(STATUS), 3 }, { VIRTIO_PCI_BAR, CC(NUMQ) + 1, 2 },
		{ 2, CC(NUMQ), 2 }, { VIRTIO_PCI_BAR, VIRTIO_PCI_BAR_SIZE, 4 },
		{ VIRTIO_PCI_BAR, 0xfffffffc, 4 }, { VIRTIO_PCI_BAR, CC(STATUS), 0 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg_wr(f, f->pcfg + 4, bad[i].bar, 1);
		cfg_wr(f, f->pcfg + 8, bad[i].off, 4);
		cfg_wr(f, f->pcfg + 12, bad[i].len, 4);
		cfg_wr(f, f->pcfg + 16, 0, 4);
		assert_int_equal(virtio_pci_status(&f->vd), VIRTIO_STATUS_ACKNOWLEDGE);
	}
	/* Capability type and length are not writable. */
	cfg_wr(f, f->pcfg + 2, 0xffff, 2);
	assert_int_equal(cfg_rd(f, f->pcfg + 3, 1), VIRTIO_PCI_CAP_PCI_CFG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_msix_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msix_function_mask_and_enable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pba_and_signal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_isr_and_config_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_signal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_moved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pci_cfg_window, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
