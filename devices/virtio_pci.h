/*
 * virtio_pci.h - the modern (virtio 1.x, non-transitional) virtio-over-PCI
 * transport, spec section 4.1. It is control plane only: the virtqueues
 * are run by a backend (for virtio-net: the host kernel's vhost-net), so
 * the transport never reads guest memory and never interprets a ring
 * address; it negotiates, latches and hands over.
 *
 * PCI identity: vendor 0x1af4, device 0x1040 + virtio device id, revision
 * 1, class from the device, subsystem 0x1af4 / device id, interrupt pin 0
 * (MSI-X only: no INTx, so no _PRT and no ISR-driven interrupt path).
 *
 * One 64-bit non-prefetchable memory BAR (slot VIRTIO_PCI_BAR, 16 KiB;
 * non-prefetchable because the ISR read clears it) holds every structure:
 *
 *   offset  length            what                       capability
 *   0x0000  0x38              common config              vendor, cfg_type 1
 *   0x1000  4                 ISR (read-to-clear)        vendor, cfg_type 3
 *   0x1800  device cfg len    device-specific config     vendor, cfg_type 4
 *   0x2000  4 * num_queues    notify (one dword / queue) vendor, cfg_type 2
 *   0x3000  16 * vectors      MSI-X table                MSI-X (0x11)
 *   0x3800  8 * ceil(v / 64)  MSI-X PBA                  (same)
 *
 * plus a cfg_type 5 (PCI_CFG) window capability in config space. Vectors =
 * num_queues + 1. Queue n's notify_off is n and the multiplier is 4, so
 *
 *   notify address of queue n = BAR address + VIRTIO_PCI_NOTIFY_OFF + 4 * n
 *
 * (virtio_pci_notify_offset() gives the BAR-relative part). Linux writes
 * the queue index there with a 16-bit store; we do not offer
 * VIRTIO_F_NOTIFICATION_DATA, so the value carries nothing else.
 *
 * Wiring (the VMM, before any vCPU runs):
 *     virtio_pci_init(&vd, &params);           builds config space + caps
 *     pci_bus_add(bus, virtio_pci_pci_dev(&vd), PCI_DEVFN(slot, 0));
 * The BAR is assigned by pci_bus_add; it decodes once the guest sets the
 * memory enable bit, and every decode change (enable, move, disable) is
 * reported through ops->bar_moved, which is where ioeventfds belong.
 *
 * Interrupts: each MSI-X vector is reported to the VMM with msix_update
 * whenever its effective (address, data, masked) changes; the VMM maps it
 * to a KVM GSI route + irqfd. Queue interrupts are raised by vhost writing
 * that irqfd and never pass through this file (so the PBA cannot show
 * them; a masked irqfd is the VMM's business, e.g. detach it while masked
 * and re-attach on unmask: KVM then fires the pending count). Interrupts
 * the transport itself raises (config change, or an in-process backend
 * calling virtio_pci_signal / virtio_pci_queue_signal) honour the masks and set PBA bits while masked; a
 * pending vector is sent through ops->msix_signal when it is unmasked.
 *
 * Hostile guest: every offset, length and value is checked. Accesses of a
 * width the spec does not allow for a common-config field read 0 and write
 * nothing; out-of-range queue_select reads 0 and takes no write; bad queue
 * sizes and vectors are refused; queue_enable with misaligned or wrapping
 * ring addresses sets DEVICE_NEEDS_RESET; FEATURES_OK is refused for features not
 * offered or without VERSION_1; DRIVER_OK without FEATURES_OK sets
 * DEVICE_NEEDS_RESET instead. Nothing aborts.
 *
 * Locking. Each device has one mutex (vd->lock) protecting all transport
 * state. Order: PCI bus lock, then device lock; the transport never takes
 * the bus lock while holding its own (MSI-X enable/mask live in config
 * space, so the cfg_write hook, which runs under the bus lock, copies them
 * into device state). Callbacks run with these locks held:
 *   - BAR accesses (io_ops through the PCI MMIO window) run WITHOUT the bus
 *     lock; common config, ISR, notify, device config, MSI-X table writes
 *     call ops with only the device lock held. This is the normal path for
 *     start (DRIVER_OK) and stop (reset).
 *   - Config space accesses run with the bus lock held: MSI-X message
 *     control writes call msix_update/msix_signal with bus + device lock;
 *     the PCI_CFG window (cfg_type 5) forwards to the BAR handler with the
 *     bus lock held, so a driver using it may cause start/stop under both
 *     locks (Linux 6.1 never uses the window).
 *   - bar_moved runs with the bus lock only (not the device lock).
 * Therefore no callback may call back into this device or take the bus
 * lock (pci_dev_bar_addr, pci_cfg_access_*, pci_bus_add, ...). Syscalls
 * (ioctl on KVM or vhost fds) are fine: that is what the callbacks are for.
 *
 * Pure: no syscalls; everything KVM/vhost goes through struct virtio_pci_ops.
 */
#ifndef DEVICES_VIRTIO_PCI_H
#define DEVICES_VIRTIO_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "pci.h"

/* --- identity --------------------------------------------------------------- */

#define VIRTIO_PCI_VENDOR       0x1af4
#define VIRTIO_PCI_DEVICE_BASE  0x1040  /* + virtio device id */
#define VIRTIO_PCI_REVISION     1
#define VIRTIO_ID_NET           1
#define VIRTIO_PCI_CLASS_NET    0x020000

/* --- BAR layout ------------------------------------------------------------- */

#define VIRTIO_PCI_BAR          0       /* MEM64: slots 0 and 1 */
#define VIRTIO_PCI_BAR_SIZE     0x4000
#define VIRTIO_PCI_COMMON_OFF   0x0000
#define VIRTIO_PCI_COMMON_LEN   0x38    /* through queue_device_hi */
#define VIRTIO_PCI_ISR_OFF      0x1000
#define VIRTIO_PCI_ISR_LEN      4
#define VIRTIO_PCI_DEVCFG_OFF   0x1800
#define VIRTIO_PCI_DEVCFG_MAX   256     /* device config bytes we keep */
#define VIRTIO_PCI_NOTIFY_OFF   0x2000
#define VIRTIO_PCI_NOTIFY_MULT  4
#define VIRTIO_PCI_MSIX_TABLE_OFF 0x3000
#define VIRTIO_PCI_MSIX_PBA_OFF 0x3800

#define VIRTIO_PCI_MAX_QUEUES   64
#define VIRTIO_PCI_MAX_VECTORS  (VIRTIO_PCI_MAX_QUEUES + 1)
#define VIRTIO_PCI_QUEUE_MAX_SIZE 32768 /* the spec's limit */
#define VIRTIO_MSI_NO_VECTOR    0xffff

/* --- virtio constants (spec 2.1, 4.1.4, 6) ---------------------------------- */

#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER      0x02
#define VIRTIO_STATUS_DRIVER_OK   0x04
#define VIRTIO_STATUS_FEATURES_OK 0x08
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED      0x80

#define VIRTIO_F_VERSION_1        32
#define VIRTIO_F_ACCESS_PLATFORM  33
#define VIRTIO_F_RING_PACKED      34
/*
 * Features this transport cannot carry and therefore never offers, even if
 * the device asks: SR_IOV (37), NOTIFICATION_DATA (38), NOTIF_CONFIG_DATA
 * (39), RING_RESET (40, needs queue_reset), ADMIN_VQ (41).
 */
#define VIRTIO_PCI_F_UNSUPPORTED  (0x1fULL << 37)

#define VIRTIO_PCI_ISR_QUEUE      0x1
#define VIRTIO_PCI_ISR_CONFIG     0x2

/* Capability cfg_type values (struct virtio_pci_cap). */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG    3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG    5
#define PCI_CAP_ID_VNDR           0x09
#define PCI_CAP_ID_MSIX           0x11

/* Common config register offsets (struct virtio_pci_common_cfg). */
#define VIRTIO_PCI_COMMON_DFSELECT  0x00
#define VIRTIO_PCI_COMMON_DF        0x04
#define VIRTIO_PCI_COMMON_GFSELECT  0x08
#define VIRTIO_PCI_COMMON_GF        0x0c
#define VIRTIO_PCI_COMMON_MSIX      0x10
#define VIRTIO_PCI_COMMON_NUMQ      0x12
#define VIRTIO_PCI_COMMON_STATUS    0x14
#define VIRTIO_PCI_COMMON_CFGGEN    0x15
#define VIRTIO_PCI_COMMON_Q_SELECT  0x16
#define VIRTIO_PCI_COMMON_Q_SIZE    0x18
#define VIRTIO_PCI_COMMON_Q_MSIX    0x1a
#define VIRTIO_PCI_COMMON_Q_ENABLE  0x1c
#define VIRTIO_PCI_COMMON_Q_NOFF    0x1e
#define VIRTIO_PCI_COMMON_Q_DESCLO  0x20
#define VIRTIO_PCI_COMMON_Q_DESCHI  0x24
#define VIRTIO_PCI_COMMON_Q_AVAILLO 0x28
#define VIRTIO_PCI_COMMON_Q_AVAILHI 0x2c
#define VIRTIO_PCI_COMMON_Q_USEDLO  0x30
#define VIRTIO_PCI_COMMON_Q_USEDHI  0x34

/* MSI-X capability (PCI spec): message control bits, entry layout. */
#define PCI_MSIX_FLAGS_QSIZE      0x07ff
#define PCI_MSIX_FLAGS_MASKALL    0x4000
#define PCI_MSIX_FLAGS_ENABLE     0x8000
#define PCI_MSIX_ENTRY_SIZE       16
#define PCI_MSIX_ENTRY_CTRL_MASK  0x1

/* --- the device's view ---------------------------------------------------- */

/* One queue as the driver configured it; what start() receives. */
struct virtio_pci_queue {
	uint16_t size;        /* current size (max until the driver lowers it) */
	uint16_t msix_vector; /* VIRTIO_MSI_NO_VECTOR: no interrupt */
	bool enabled;         /* queue_enable was accepted: fields are latched */
	/*
	 * Guest physical addresses, or IOVAs when VIRTIO_F_ACCESS_PLATFORM
	 * was negotiated. Never interpreted here: alignment (16/2/4) and
	 * non-wrapping ring extents are the only checks made at enable.
	 */
	uint64_t desc, driver, device;
};

/*
 * Implemented by the VMM (and a fake in tests). Every member may be NULL
 * (the call is then skipped; a NULL start succeeds, a NULL validate
 * accepts). opaque is virtio_pci_params.opaque. See the top for locks.
 */
struct virtio_pci_ops {
	/*
	 * The driver asked for FEATURES_OK with these features, already
	 * checked to be a subset of the offered ones including VERSION_1.
	 * Return false to refuse (FEATURES_OK stays clear), e.g. to insist on
	 * ACCESS_PLATFORM when behind the IOMMU.
	 */
	bool (*validate_features)(void *opaque, uint64_t features);
	/*
	 * DRIVER_OK: start the backend (vhost: SET_FEATURES, SET_VRING_*,
	 * kick/call fds, SET_BACKEND). q[0..nq) are all queues; disabled ones
	 * must be left alone. Non-zero: the transport sets DEVICE_NEEDS_RESET
	 * and raises a config interrupt; stop() will NOT be called for it.
	 */
	int (*start)(void *opaque, uint64_t features, const struct virtio_pci_queue *q,
		     unsigned nq);
	/* Reset (status 0) of a started device: stop the backend. Called
	 * exactly once per successful start, before the state is cleared. */
	void (*stop)(void *opaque);
	/* A guest write to queue's notify address that reached us (no
	 * ioeventfd there). Only for an enabled queue of a started
	 * device (DRIVER_OK and start() succeeded). */
	void (*notify)(void *opaque, unsigned queue);
	/*
	 * The driver wrote device config bytes [off, off+len) (bounded by the
	 * config length). config is the device's byte array, which the
	 * callback may update; NULL callback: the config is read-only.
	 */
	void (*config_write)(void *opaque, uint8_t *config, unsigned off, const uint8_t *data,
			     unsigned len);
	/*
	 * Vector's effective state changed. masked = entry mask || function
	 * mask || MSI-X disabled. At start every vector is (0, 0, masked).
	 */
	void (*msix_update)(void *opaque, unsigned vector, uint64_t addr, uint32_t data,
			    bool masked);
	/* Send vector's message now (e.g. KVM_SIGNAL_MSI or write its irqfd). */
	void (*msix_signal)(void *opaque, unsigned vector);
	/* The BAR's decoded guest address changed (PCI_BAR_UNMAPPED: none). */
	void (*bar_moved)(void *opaque, uint64_t old_addr, uint64_t new_addr);
};

struct virtio_pci_params {
	uint16_t device_id;      /* virtio device id, 1..0x3f (VIRTIO_ID_NET) */
	uint32_t class_code;     /* e.g. VIRTIO_PCI_CLASS_NET */
	uint64_t features;       /* device features; VERSION_1 is always added */
	bool iommu_platform;     /* behind the vIOMMU: offer ACCESS_PLATFORM */
	uint16_t num_queues;     /* 1..VIRTIO_PCI_MAX_QUEUES */
	uint16_t queue_max_size; /* power of two, 1..32768, for every queue */
	const uint8_t *config;   /* initial device config (copied) */
	unsigned config_len;     /* 0..VIRTIO_PCI_DEVCFG_MAX */
	const struct virtio_pci_ops *ops;
	void *opaque;
};

struct virtio_pci_msix_entry {
	uint32_t addr_lo, addr_hi, data, ctrl;
};

struct virtio_pci {
	struct pci_dev pci;      /* first: config space, owned by the bus */
	pthread_mutex_t lock;    /* everything below */
	struct virtio_pci_ops ops;
	void *opaque;
	unsigned pcfg_cap;       /* config offset of the PCI_CFG window cap */
	unsigned msix_cap;       /* config offset of the MSI-X capability */

	/* fixed at init */
	uint64_t host_features;  /* offered */
	uint16_t num_queues, queue_max_size, device_id;
	unsigned config_len;

	/* virtio state; cleared by reset */
	uint32_t dfselect, gfselect;
	uint64_t guest_features;
	uint16_t config_vector;
	uint8_t status;
	uint8_t config_gen;
	uint16_t queue_sel;
	uint8_t isr;
	bool started;            /* start() succeeded, stop() owed */
	struct virtio_pci_queue queue[VIRTIO_PCI_MAX_QUEUES];
	uint8_t config[VIRTIO_PCI_DEVCFG_MAX];

	/* MSI-X; PCI function state, NOT cleared by a virtio reset */
	uint16_t nvectors;
	bool msix_enabled, msix_maskall;
	struct virtio_pci_msix_entry msix[VIRTIO_PCI_MAX_VECTORS];
	uint64_t pba[(VIRTIO_PCI_MAX_VECTORS + 63) / 64];
	struct virtio_pci_msix_entry reported[VIRTIO_PCI_MAX_VECTORS]; /* last msix_update */
	bool reported_masked[VIRTIO_PCI_MAX_VECTORS];
};

/* --- API -------------------------------------------------------------------- */

/*
 * Build vd (config space, capabilities, BAR with our io_ops, hooks) and
 * initialise its mutex. Then pci_bus_add(bus, &vd->pci, devfn). -EINVAL
 * for bad params (queue count, sizes, config length, device id, NULL ops).
 */
int virtio_pci_init(struct virtio_pci *vd, const struct virtio_pci_params *p);
void virtio_pci_destroy(struct virtio_pci *vd);

static inline struct pci_dev *virtio_pci_pci_dev(struct virtio_pci *vd)
{
	return &vd->pci;
}

/*
 * BAR-relative offset of queue's notify address, or -1 if no such queue.
 * Reads only init-time fields: callable anywhere, bar_moved included.
 */
int64_t virtio_pci_notify_offset(const struct virtio_pci *vd, unsigned queue);

/*
 * For the backend/VMM (takes the device lock; do not call from a callback).
 * virtio_pci_signal: send vector (or set its PBA bit while masked); a
 * vector outside the table or with MSI-X disabled does nothing.
 * virtio_pci_queue_signal: for a backend in this process (not vhost): set
 * ISR bit 0 and signal queue's vector, if the queue is enabled and the
 * device started.
 * virtio_pci_config_changed: replace device config bytes [off, off+len)
 * (bounded), bump config_generation, set ISR bit 1 and, after DRIVER_OK,
 * signal the config vector.
 */
void virtio_pci_signal(struct virtio_pci *vd, unsigned vector);
void virtio_pci_queue_signal(struct virtio_pci *vd, unsigned queue);
void virtio_pci_config_changed(struct virtio_pci *vd, unsigned off, const uint8_t *data,
			       unsigned len);

/* Snapshot for the VMM/tests (takes the device lock). */
uint8_t virtio_pci_status(struct virtio_pci *vd);
uint64_t virtio_pci_features(struct virtio_pci *vd); /* negotiated (driver's) */

/* The BAR handler; opaque is the struct virtio_pci. */
extern const struct io_ops virtio_pci_bar_ops;

/* --- internal, shared between devices/virtio_pci*.c --------------------------- */

/* virtio_pci_cfg.c: capabilities (at init) and the pci_dev_info hooks. */
int virtio_pci_add_caps(struct virtio_pci *vd);
void virtio_pci_hook_cfg_write(void *opaque, struct pci_dev *d, unsigned off, unsigned len);
void virtio_pci_hook_cfg_read(void *opaque, struct pci_dev *d, unsigned off, uint8_t *data,
			      unsigned len);
void virtio_pci_hook_bar_moved(void *opaque, struct pci_dev *d, unsigned bar,
			       uint64_t old_addr, uint64_t new_addr);

/* The rest: device lock held. */

void virtio_pci_common_read(struct virtio_pci *vd, unsigned off, uint8_t *data, unsigned len);
void virtio_pci_common_write(struct virtio_pci *vd, unsigned off, const uint8_t *data,
			     unsigned len);
void virtio_pci_reset_locked(struct virtio_pci *vd);
void virtio_pci_msix_init(struct virtio_pci *vd);
void virtio_pci_msix_table_read(struct virtio_pci *vd, unsigned off, uint8_t *data,
				unsigned len);
void virtio_pci_msix_table_write(struct virtio_pci *vd, unsigned off, const uint8_t *data,
				 unsigned len);
void virtio_pci_msix_pba_read(struct virtio_pci *vd, unsigned off, uint8_t *data,
			      unsigned len);
/* New message control value from config space (bus lock also held). */
void virtio_pci_msix_control(struct virtio_pci *vd, uint16_t ctrl);
void virtio_pci_signal_locked(struct virtio_pci *vd, unsigned vector);
/* Set DEVICE_NEEDS_RESET; after DRIVER_OK also a config interrupt. */
void virtio_pci_needs_reset(struct virtio_pci *vd);

#endif
