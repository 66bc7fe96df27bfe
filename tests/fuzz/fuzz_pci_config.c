/*
 * fuzz_pci_config.c - PCI bus 0 and the virtio-pci transport under a
 * hostile guest, without KVM (as tests/unit/test_virtio_pci_fuzz.c builds
 * them): a virtio device (fake backend, pci_fake.h) at 00:01.0 and a plain
 * device with a 32-bit, an I/O and a 64-bit BAR at 00:01.1, reached the
 * ways a guest can: the CF8/CFC ports, ECAM, the MMIO and I/O windows, and
 * the virtio BAR itself (well-formed common-config writes, MSI-X entries).
 * Invariants, after every access:
 *   - no byte of any config space changes outside its write mask (ids,
 *     class, header, capability bytes, BAR flag bits are read-only);
 *   - every BAR register holds an address aligned to its size, and a BAR
 *     decodes (bar_addr) exactly when its enable bit is set and it lies in
 *     its window, at the address its register holds;
 *   - BAR handlers only ever see offsets inside the BAR (pci_fake.h);
 *   - the virtio state machine: DRIVER_OK only with FEATURES_OK, features
 *     a subset of the offered ones with VERSION_1, the backend running iff
 *     started, queue sizes and vectors valid, a started device's queues
 *     valid for the negotiated features, ISR
 *     and PBA bits in range; start/notify/signal callbacks only with
 *     validated state (pci_fake.h). ASan/UBSan: no access out of bounds.
 */
#include <string.h>

#include "../../devices/pci.h"
#include "../../devices/virtio_pci.h"
#include "fuzz_util.h"
#include "pci_fake.h"

#define VIRTIO_FN PCI_DEVFN(1, 0)
#define PLAIN_FN  PCI_DEVFN(1, 1)

struct st {
	struct pci_bus bus;
	struct virtio_pci vd;
	struct pci_dev plain;
	struct fake fake;
	struct pci_dev *dev[3];
	uint8_t cfg0[3][PCI_CFG_SIZE]; /* config spaces as set up */
};

static struct st S;

static void setup(struct st *s)
{
	static const uint8_t cfg[CFG_LEN] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56, 1 };
	const struct virtio_pci_params p = {
		.device_id = VIRTIO_ID_NET, .class_code = VIRTIO_PCI_CLASS_NET,
		.features = OFFERED, .iommu_platform = true, .num_queues = NQ,
		.queue_max_size = QMAX, .config = cfg, .config_len = CFG_LEN,
		.ops = &fake_ops, .opaque = &s->fake,
	};
	struct pci_dev_info info = { .vendor = 0x1234, .device = 0x5678, .class_code = 0x020000 };
	info.bar[0] = (struct pci_bar_info){ PCI_BAR_MEM32, 0x1000, false, &bar_ops, NULL };
	info.bar[1] = (struct pci_bar_info){ PCI_BAR_IO, 0x20, false, &bar_ops, NULL };
	info.bar[2] = (struct pci_bar_info){ PCI_BAR_MEM64, 1ull << 20, true, &bar_ops, NULL };
	memset(&s->fake, 0, sizeof(s->fake));
	s->fake.vd = &s->vd;
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		s->fake.bar_size[i] = info.bar[i].size;
		info.bar[i].opaque = &s->fake.bar_size[i];
	}
	FUZZ_CHECK(pci_bus_init(&s->bus, NULL) == 0 && virtio_pci_init(&s->vd, &p) == 0 &&
			   pci_bus_add(&s->bus, &s->vd.pci, VIRTIO_FN) == 0 &&
			   pci_dev_init(&s->plain, &info) == 0 &&
			   pci_bus_add(&s->bus, &s->plain, PLAIN_FN) == 0, "setup");
	s->dev[0] = &s->bus.host, s->dev[1] = &s->vd.pci, s->dev[2] = &s->plain;
	for (unsigned i = 0; i < 3; i++)
		memcpy(s->cfg0[i], s->dev[i]->cfg, PCI_CFG_SIZE);
}

static void check_bars(const struct pci_dev *d, const struct pci_windows *w)
{
	uint16_t cmd = (uint16_t)pci_cfg_get(d, PCI_COMMAND, 2);
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		const struct pci_bar_info *b = &d->info.bar[i];
		if (b->type == PCI_BAR_NONE)
			continue;
		bool io = b->type == PCI_BAR_IO;
		uint64_t addr = pci_cfg_get(d, PCI_BAR0 + 4 * i, 4) & (io ? ~3u : ~0xfu);
		if (b->type == PCI_BAR_MEM64)
			addr |= (uint64_t)pci_cfg_get(d, PCI_BAR0 + 4 * i + 4, 4) << 32;
		FUZZ_CHECK(addr % b->size == 0, "BAR %u holds %#llx, size %#llx", i,
			   (unsigned long long)addr, (unsigned long long)b->size);
		uint64_t base = io ? w->io_base : w->mmio_base, len = io ? w->io_size : w->mmio_size;
		bool on = (cmd & (io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)) && addr >= base &&
			  b->size <= len && addr - base <= len - b->size;
		FUZZ_CHECK(d->bar_addr[i] == (on ? addr : PCI_BAR_UNMAPPED),
			   "BAR %u decodes %#llx, register %#llx, command %#x", i,
			   (unsigned long long)d->bar_addr[i], (unsigned long long)addr, cmd);
		if (b->type == PCI_BAR_MEM64)
			i++;
	}
}

static void check_virtio(struct st *s)
{
	const struct virtio_pci *vd = &s->vd;
	uint8_t st = vd->status;
	bool fok = st & VIRTIO_STATUS_FEATURES_OK;
	bool packed = fok && (vd->guest_features & (1ULL << VIRTIO_F_RING_PACKED));
	FUZZ_CHECK(!(st & VIRTIO_STATUS_DRIVER_OK) || fok, "DRIVER_OK without FEATURES_OK");
	FUZZ_CHECK(!fok || (!(vd->guest_features & ~OFFERED) &&
			    (vd->guest_features & (1ULL << VIRTIO_F_VERSION_1))), "features %#llx",
		   (unsigned long long)vd->guest_features);
	FUZZ_CHECK(s->fake.running == vd->started, "backend running %d, started %d",
		   s->fake.running, vd->started);
	FUZZ_CHECK(!vd->started || (st & VIRTIO_STATUS_DRIVER_OK), "started without DRIVER_OK");
	FUZZ_CHECK((vd->isr & ~3u) == 0, "ISR %#x", vd->isr);
	FUZZ_CHECK(vd->config_vector < NV || vd->config_vector == VIRTIO_MSI_NO_VECTOR, "vector");
	for (unsigned i = 0; i < NQ; i++) {
		const struct virtio_pci_queue *q = &vd->queue[i];
		unsigned n = q->size;
		FUZZ_CHECK(n != 0 && n <= QMAX && (packed || (n & (n - 1)) == 0) &&
				   (q->msix_vector < NV || q->msix_vector == VIRTIO_MSI_NO_VECTOR),
			   "queue %u: size %u vector %u", i, n, q->msix_vector);
		/* Until DRIVER_OK the features may still change what "aligned" means. */
		FUZZ_CHECK(!q->enabled || !vd->started || fake_queue_ok(q, packed),
			   "queue %u of a started device is not valid for its features", i);
	}
	FUZZ_CHECK((vd->pba[0] >> NV) == 0 && vd->pba[1] == 0, "PBA bits past the table");
}

static void check(struct st *s)
{
	for (unsigned k = 0; k < 3; k++) {
		const struct pci_dev *d = s->dev[k];
		/* Byte by byte only where something changed: this runs every step. */
		for (unsigned o = 0; o < PCI_CFG_SIZE; o += 64) {
			if (memcmp(d->cfg + o, s->cfg0[k] + o, 64) == 0)
				continue;
			for (unsigned i = o; i < o + 64; i++)
				FUZZ_CHECK(((d->cfg[i] ^ s->cfg0[k][i]) & ~d->wmask[i]) == 0,
					   "function %u: config byte %#x: %#x -> %#x (mask %#x)",
					   k, i, s->cfg0[k][i], d->cfg[i], d->wmask[i]);
		}
		check_bars(d, &s->bus.win);
	}
	check_virtio(s);
}

static unsigned pick_len(struct fin *in, unsigned max)
{
	static const uint8_t lens[] = { 1, 2, 4, 8, 4, 2, 3, 1 };
	unsigned l = lens[fin_pick(in, sizeof(lens))];
	return l > max ? max : l;
}

static uint8_t pick_devfn(struct fin *in)
{
	static const uint8_t fns[] = { VIRTIO_FN, VIRTIO_FN, PLAIN_FN, 0, PCI_DEVFN(2, 0) };
	unsigned k = fin_pick(in, 6);
	return k < 5 ? fns[k] : fin_u8(in);
}

/* A value that means something to the register at BAR offset off. */
static uint64_t pick_val(struct st *s, struct fin *in, unsigned off)
{
	static const uint8_t status[] = { 0, 1, 3, 11, 15, 0x8b, 0x4f, 7, 0x0b, 0x0f };
	uint8_t f = fin_u8(in);
	if (f & 0x80)
		return fin_u64(in);
	switch (off) {
	case VIRTIO_PCI_COMMON_STATUS: return status[f % sizeof(status)];
	case VIRTIO_PCI_COMMON_GF:
		return (uint32_t)(OFFERED >> (s->vd.gfselect == 1 ? 32 : 0)) & ~(f & 0x40 ? 0u : 1u << 16);
	case VIRTIO_PCI_COMMON_GFSELECT: return f % 3;
	case VIRTIO_PCI_COMMON_Q_SELECT: return f % (NQ + 1);
	case VIRTIO_PCI_COMMON_Q_SIZE: return 1u << (f % 10);
	case VIRTIO_PCI_COMMON_Q_ENABLE: return 1;
	case VIRTIO_PCI_COMMON_MSIX: case VIRTIO_PCI_COMMON_Q_MSIX: return f % (NV + 1);
	default: return fin_u32(in) & ~0xfull;
	}
}

/* A guest access through one of the paths; w: write. */
static void op_access(struct st *s, struct fin *in, unsigned path, bool w)
{
	uint8_t buf[8];
	uint64_t v = fin_u64(in), off;
	memcpy(buf, &v, sizeof(buf));
	unsigned len = pick_len(in, 8);
	const struct io_ops *ops;
	switch (path) {
	case 0: { /* CF8/CFC: a latch naming a function and register, or data */
		uint8_t f = fin_u8(in);
		if (f & 1) {
			uint32_t a = (f & 2) ? (uint32_t)v
					     : 0x80000000u | (uint32_t)pick_devfn(in) << 8 | (f & 0xfc);
			memcpy(buf, &a, 4);
			off = 0, len = 4, w = true;
		} else {
			off = 4 + (f >> 1) % 4, len = pick_len(in, 4);
		}
		ops = &pci_conf1_io_ops;
		break;
	}
	case 1: { /* ECAM: mostly the legacy 256 bytes */
		uint8_t f = fin_u8(in);
		uint16_t reg = (f & 0x80) ? fin_u16(in) : fin_u8(in);
		off = (uint64_t)pick_devfn(in) << 12 | (reg & 0xfff);
		if (f & 0x40)
			off = fin_u32(in) & 0xfffffff; /* any bus of a 256-bus ECAM */
		ops = &pci_ecam_io_ops;
		break;
	}
	case 2: { /* MMIO window: at a BAR (wherever it decodes now) or anywhere */
		static const unsigned bars[] = { 0, 0, 2 };
		uint8_t f = fin_u8(in);
		struct pci_dev *d = (f & 3) == 2 ? &s->plain : &s->vd.pci;
		uint64_t at = (f & 3) == 3 ? fin_u32(in) % s->bus.win.mmio_size
					   : d->bar_addr[bars[f & 3]] - s->bus.win.mmio_base +
						     fin_u16(in) % 0x4400;
		off = at % s->bus.win.mmio_size, ops = &pci_mmio_window_ops; /* io_bus: off < len */
		break;
	}
	default: { /* I/O window: the I/O BAR or anywhere */
		uint8_t f = fin_u8(in);
		off = (f & 1) ? fin_u16(in) : s->plain.bar_addr[1] - s->bus.win.io_base + f % 0x28;
		off %= s->bus.win.io_size;
		ops = &pci_io_window_ops;
		break;
	}
	}
	if (w)
		ops->write(&s->bus, off, buf, len);
	else
		ops->read(&s->bus, off, buf, len);
}

/* A well-formed common-config write, as a driver does it. */
static void op_virtio(struct st *s, struct fin *in)
{
	static const uint8_t field[][2] = {
		{ VIRTIO_PCI_COMMON_STATUS, 1 }, { VIRTIO_PCI_COMMON_STATUS, 1 },
		{ VIRTIO_PCI_COMMON_GF, 4 }, { VIRTIO_PCI_COMMON_GFSELECT, 4 },
		{ VIRTIO_PCI_COMMON_Q_SELECT, 2 }, { VIRTIO_PCI_COMMON_Q_SIZE, 2 },
		{ VIRTIO_PCI_COMMON_Q_ENABLE, 2 }, { VIRTIO_PCI_COMMON_Q_MSIX, 2 },
		{ VIRTIO_PCI_COMMON_Q_DESCLO, 4 }, { VIRTIO_PCI_COMMON_Q_AVAILLO, 4 },
		{ VIRTIO_PCI_COMMON_Q_USEDLO, 4 }, { VIRTIO_PCI_COMMON_Q_DESCLO, 8 },
		{ VIRTIO_PCI_COMMON_MSIX, 2 }, { VIRTIO_PCI_COMMON_DFSELECT, 4 },
	};
	unsigned k = fin_pick(in, sizeof(field) / sizeof(field[0]));
	uint64_t v = pick_val(s, in, field[k][0]);
	uint8_t buf[8];
	memcpy(buf, &v, sizeof(buf));
	virtio_pci_bar_ops.write(&s->vd, field[k][0], buf, field[k][1]);
}

/* The backend side, and MSI-X entries. */
static void op_backend(struct st *s, struct fin *in)
{
	uint8_t f = fin_u8(in), buf[16];
	memset(buf, f, sizeof(buf));
	switch (f % 4) {
	case 0: virtio_pci_signal(&s->vd, fin_pick(in, NV + 2)); break;
	case 1: virtio_pci_queue_signal(&s->vd, fin_pick(in, NQ + 2)); break;
	case 2: virtio_pci_config_changed(&s->vd, fin_pick(in, 16), buf, fin_pick(in, 16)); break;
	default: { /* an MSI-X entry word: mostly the mask bit */
		uint32_t v = (f & 0x80) ? fin_u32(in) : (f >> 2) & 1;
		unsigned off = VIRTIO_PCI_MSIX_TABLE_OFF + fin_pick(in, NV * 4) * 4;
		memcpy(buf, &v, 4);
		virtio_pci_bar_ops.write(&s->vd, (f & 0x40) ? off : off | 12, buf, 4);
	}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct st *s = &S;
	setup(s);
	struct fin in = { data, size };
	for (unsigned steps = 0; !fin_empty(&in) && steps < 512; steps++) {
		unsigned op = fin_pick(&in, 12);
		if (op < 8)
			op_access(s, &in, op / 2, op & 1);
		else if (op < 11)
			op_virtio(s, &in);
		else
			op_backend(s, &in);
		check(s);
	}
	virtio_pci_destroy(&s->vd);
	pci_bus_destroy(&s->bus);
	return 0;
}
