/*
 * pci_fake.h - the devices behind fuzz_pci_config.c: a fake virtio backend
 * that checks everything the transport hands it, and fake BAR handlers
 * for a plain device with a 32-bit, a 64-bit and an I/O BAR. Each callback
 * traps on what the transport or the bus must never pass on (a queue that
 * was not validated, a vector past the table, a BAR offset past its size).
 */
#ifndef PCI_FAKE_H
#define PCI_FAKE_H

#include <string.h>

#include "../../devices/pci.h"
#include "../../devices/virtio_pci.h"
#include "fuzz_util.h"

#define NQ      3
#define NV      (NQ + 1)
#define QMAX    256
#define CFG_LEN 12
#define OFFERED ((1ULL << 5) | (1ULL << 16) | (1ULL << VIRTIO_F_VERSION_1) | \
		 (1ULL << VIRTIO_F_ACCESS_PLATFORM) | (1ULL << VIRTIO_F_RING_PACKED))

struct fake {
	struct virtio_pci *vd;
	unsigned starts;
	bool running;
	uint64_t bar_size[PCI_NUM_BARS]; /* of the plain device */
};

static bool fake_queue_ok(const struct virtio_pci_queue *q, bool packed)
{
	unsigned s = q->size;
	return s != 0 && s <= QMAX && (packed || (s & (s - 1)) == 0) && q->desc % 16 == 0 &&
	       q->driver % (packed ? 4 : 2) == 0 && q->device % 4 == 0 &&
	       (q->msix_vector < NV || q->msix_vector == VIRTIO_MSI_NO_VECTOR);
}

static int fake_start(void *o, uint64_t feat, const struct virtio_pci_queue *q, unsigned nq)
{
	struct fake *k = o;
	bool packed = feat & (1ULL << VIRTIO_F_RING_PACKED);
	FUZZ_CHECK(!k->running && nq == NQ && !(feat & ~OFFERED) &&
			   (feat & (1ULL << VIRTIO_F_VERSION_1)), "start: features %#llx",
		   (unsigned long long)feat);
	for (unsigned i = 0; i < nq; i++)
		FUZZ_CHECK(!q[i].enabled || fake_queue_ok(&q[i], packed),
			   "start: queue %u size %u desc %#llx driver %#llx device %#llx vector %u", i,
			   q[i].size, (unsigned long long)q[i].desc, (unsigned long long)q[i].driver,
			   (unsigned long long)q[i].device, q[i].msix_vector);
	if (++k->starts % 5 == 0)
		return -1; /* a backend out of resources now and then */
	k->running = true;
	return 0;
}

static void fake_stop(void *o)
{
	struct fake *k = o;
	FUZZ_CHECK(k->running, "stop without a successful start");
	k->running = false;
}

static void fake_notify(void *o, unsigned q)
{
	struct fake *k = o;
	FUZZ_CHECK(q < NQ && k->running && k->vd->queue[q].enabled, "notify queue %u", q);
}

static void fake_config_write(void *o, uint8_t *cfg, unsigned off, const uint8_t *d, unsigned len)
{
	(void)o;
	FUZZ_CHECK(off < CFG_LEN && len > 0 && len <= CFG_LEN - off, "config write %u+%u", off, len);
	memcpy(cfg + off, d, len);
}

static void fake_msix_update(void *o, unsigned v, uint64_t a, uint32_t d, bool m)
{
	(void)a, (void)d, (void)m, (void)o;
	FUZZ_CHECK(v < NV, "msix_update vector %u", v);
}

static void fake_msix_signal(void *o, unsigned v)
{
	struct virtio_pci *vd = ((struct fake *)o)->vd;
	FUZZ_CHECK(v < NV && vd->msix_enabled && !vd->msix_maskall &&
			   !(vd->msix[v].ctrl & PCI_MSIX_ENTRY_CTRL_MASK),
		   "signal of vector %u while masked or disabled", v);
}

static const struct virtio_pci_ops fake_ops = {
	.start = fake_start, .stop = fake_stop, .notify = fake_notify,
	.config_write = fake_config_write, .msix_update = fake_msix_update,
	.msix_signal = fake_msix_signal,
};

/* The plain device's BARs: opaque is &fake->bar_size[i]. */
static void bar_check(void *opaque, uint64_t off, unsigned len)
{
	FUZZ_CHECK(off < *(const uint64_t *)opaque && len >= 1 && len <= 8,
		   "BAR access at %#llx+%u of a %#llx BAR", (unsigned long long)off, len,
		   (unsigned long long)*(const uint64_t *)opaque);
}

static void bar_rd(void *opaque, uint64_t off, uint8_t *data, unsigned len)
{
	bar_check(opaque, off, len);
	memset(data, 0x5a, len);
}

static void bar_wr(void *opaque, uint64_t off, const uint8_t *data, unsigned len)
{
	(void)data;
	bar_check(opaque, off, len);
}

static const struct io_ops bar_ops = { bar_rd, bar_wr };

#endif
