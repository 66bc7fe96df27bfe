/*
 * pci.h - PCI bus 0: config space, BAR assignment and BAR dispatch.
 *
 * The model is what firmware plus a root complex give a Linux guest:
 *  - a host bridge at 00:00.0 (class 0x0600) so the type-1 probe succeeds;
 *  - up to PCI_MAX_DEVICES devices at any devfn of bus 0, each with 4 KiB
 *    of config space whose every byte has a write mask and an RW1C mask:
 *    the guest can only ever change the bits a mask allows, so read-only
 *    fields (ids, class, header type, capability bytes, BAR flag bits)
 *    cannot be corrupted by any write, whatever its offset or length;
 *  - BARs assigned at registration from fixed windows (boot.h), the way
 *    firmware leaves them, so Linux with ACPI keeps them. The guest may
 *    move them; dispatch always follows the CURRENT decoded address;
 *  - two config access paths that end in the same byte-wise accessor, so
 *    they cannot disagree: ports 0xCF8-0xCFF (mechanism #1) and ECAM.
 *
 * Wiring (vmm/vm_devices.c): pci_bus_init(), pci_dev_init() + pci_dev_add_cap() +
 * pci_bus_add() per device, then pci_bus_attach(), which registers on the
 * (immutable after setup) io_buses:
 *     PIO   0xCF8, 8 ports        pci_conf1_io_ops     (CF8 + CFC..CFF)
 *     PIO   I/O window             pci_io_window_ops    (I/O BARs)
 *     MMIO  MMIO window            pci_mmio_window_ops  (memory BARs)
 *     MMIO  ECAM, 1 MiB            pci_ecam_io_ops      (bus 0 config)
 * The window ops find, under the bus lock, the BAR that decodes the address
 * right now and forward the access with the BAR-relative offset.
 *
 * Decoding: a BAR decodes when its command-register enable bit (memory or
 * I/O) is set and its whole range lies inside the window of its kind. A BAR
 * the guest parks elsewhere decodes nothing, as behind a root complex that
 * forwards only its windows; this keeps ioeventfds inside the windows too.
 * Overlapping BARs: the device added first wins.
 *
 * Locking: one mutex per bus protects every config space, the CF8 latch
 * and the decode state. It is held while these device callbacks run:
 * cfg_write, cfg_read, bar_moved. They may use the pci_cfg_* raw helpers
 * and take their own device lock, but must not call any function below
 * that is documented as taking the bus lock. Lock order: bus lock, then
 * device lock; a device never takes the bus lock while holding its own
 * (it learns config changes through its hooks and keeps its own copy).
 * BAR io_ops are called WITHOUT the bus lock: the lookup is done under it,
 * the access after it, so device data paths on several vCPUs do not
 * serialise on the bus and a BAR handler may take its device lock freely.
 * Devices are never removed, so the opaque stays valid.
 *
 * Pure: no syscalls. pci_bus_attach() only fills io_bus tables.
 */
#ifndef DEVICES_PCI_H
#define DEVICES_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "../vmm/io_bus.h"

#define PCI_CFG_SIZE       4096   /* per function (ECAM); CF8/CFC reaches 256 */
#define PCI_CFG_LEGACY     256
#define PCI_NUM_BARS       6
#define PCI_MAX_DEVICES    32     /* host bridge included */
#define PCI_DEVFN(slot, fn) ((uint8_t)(((slot) & 0x1f) << 3 | ((fn) & 7)))
#define PCI_BAR_UNMAPPED   UINT64_MAX

/* Config space layout (type 0 header). */
#define PCI_VENDOR_ID      0x00
#define PCI_DEVICE_ID      0x02
#define PCI_COMMAND        0x04
#define PCI_STATUS         0x06
#define PCI_REVISION_ID    0x08
#define PCI_CLASS_PROG     0x09
#define PCI_CACHE_LINE     0x0c
#define PCI_HEADER_TYPE    0x0e
#define PCI_BAR0           0x10
#define PCI_SUBSYS_VENDOR  0x2c
#define PCI_SUBSYS_ID      0x2e
#define PCI_ROM_ADDRESS    0x30
#define PCI_CAP_PTR        0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN  0x3d
#define PCI_CAP_START      0x40   /* first byte after the header */

#define PCI_COMMAND_IO     0x0001
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_COMMAND_PARITY 0x0040
#define PCI_COMMAND_SERR   0x0100
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS_CAP_LIST 0x0010
/* Error bits software clears by writing 1 (parity, aborts, SERR). */
#define PCI_STATUS_RW1C    0xf900
#define PCI_HEADER_MULTIFUNCTION 0x80

#define PCI_BAR_IO_FLAG    0x1    /* bit 0 of an I/O BAR */
#define PCI_BAR_MEM64_FLAG 0x4    /* type 10b: 64-bit */
#define PCI_BAR_PREFETCH   0x8

/* The host bridge's identity: QEMU's generic host bridge id, which no Linux
 * driver binds to or quirks (an Intel chipset id would attract agp/edac). */
#define PCI_HOST_VENDOR    0x1b36
#define PCI_HOST_DEVICE    0x0008
#define PCI_CLASS_HOST_BRIDGE 0x060000

/* Config mechanism #1: address latch at 0xCF8, data at 0xCFC-0xCFF. */
#define PCI_CONF1_PORT     0xcf8
#define PCI_CONF1_NPORTS   8

enum pci_bar_type { PCI_BAR_NONE = 0, PCI_BAR_MEM32, PCI_BAR_MEM64, PCI_BAR_IO };

struct pci_bar_info {
	enum pci_bar_type type;
	/*
	 * Power of two. MEM: >= 16, <= 1 GiB (assigned 4 KiB-aligned at least,
	 * so no two BARs share a page); I/O: 4..256 (the PCI limit).
	 */
	uint64_t size;
	bool prefetchable;             /* memory BARs only */
	/* Accesses at BAR-relative offsets (offset < size; an access may run
	 * past the end, as on io_bus). NULL: reads all-ones, writes dropped. */
	const struct io_ops *ops;
	void *opaque;
};

struct pci_dev;

struct pci_dev_info {
	uint16_t vendor, device;
	uint16_t subsys_vendor, subsys_id;
	uint32_t class_code;           /* base << 16 | sub << 8 | prog-if */
	uint8_t revision;
	/* A MEM64 BAR uses slots i and i+1: bar[i+1] must be PCI_BAR_NONE. */
	struct pci_bar_info bar[PCI_NUM_BARS];
	/*
	 * Optional hooks, bus lock held (see top). cfg_write runs after a
	 * guest write of [off, off+len) was applied through the masks (the
	 * range is within the function's config space); cfg_read may rewrite
	 * the bytes a guest read is about to get. bar_moved reports a change
	 * of BAR bar's decoded address (PCI_BAR_UNMAPPED = not decoded),
	 * e.g. to move ioeventfds; for a MEM64 BAR, bar is the low slot.
	 */
	void (*cfg_write)(void *opaque, struct pci_dev *d, unsigned off, unsigned len);
	void (*cfg_read)(void *opaque, struct pci_dev *d, unsigned off, uint8_t *data,
			 unsigned len);
	void (*bar_moved)(void *opaque, struct pci_dev *d, unsigned bar, uint64_t old_addr,
			  uint64_t new_addr);
	void *opaque;
};

struct pci_bus;

struct pci_dev {
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];   /* bits a guest write may change */
	uint8_t w1cmask[PCI_CFG_SIZE]; /* bits a guest write of 1 clears */
	struct pci_dev_info info;
	uint64_t bar_addr[PCI_NUM_BARS]; /* decoded address or PCI_BAR_UNMAPPED */
	unsigned cap_next;             /* first free byte for a capability */
	unsigned cap_last;             /* offset of the last capability, 0: none */
	struct pci_bus *bus;           /* set by pci_bus_add */
	uint8_t devfn;
};

/* Windows BARs are assigned from (and decode in). */
struct pci_windows {
	uint64_t mmio_base, mmio_size;
	uint64_t io_base, io_size;
	uint64_t ecam_base;            /* where pci_bus_attach puts ECAM */
};

struct pci_bus {
	pthread_mutex_t lock;
	struct pci_windows win;
	uint64_t mmio_next, io_next;   /* bump allocators for assignment */
	uint32_t conf1_addr;           /* the 0xCF8 latch */
	struct pci_dev *devfn[256];    /* config lookup */
	struct pci_dev *list[PCI_MAX_DEVICES]; /* BAR lookup, in add order */
	unsigned ndev;
	struct pci_dev host;           /* 00:00.0 */
};

/* --- setup (before any vCPU runs; not thread-safe against accesses) ------ */

/*
 * Initialise the bus with win (NULL: the boot.h layout) and add the host
 * bridge at 00:00.0. -EINVAL for windows that wrap or an I/O window beyond
 * 0xFFFF.
 */
int pci_bus_init(struct pci_bus *bus, const struct pci_windows *win);
void pci_bus_destroy(struct pci_bus *bus);

/*
 * Build d's config space from info: ids, class, header, BAR registers and
 * masks, command/status masks. -EINVAL (d untouched beyond zeroing) for a
 * BAR that breaks the pci_bar_info rules.
 */
int pci_dev_init(struct pci_dev *d, const struct pci_dev_info *info);

/*
 * Append a capability to d's list (before pci_bus_add, or under the bus
 * lock). bytes[0] is the capability id, bytes[1] (next pointer) is ignored
 * and chained by us; wmask (NULL: read-only) gives the guest-writable bits
 * of each byte, bytes 0-1 are always read-only. Placed dword-aligned from
 * 0x40; *off (may be NULL) receives its offset. -ENOSPC when it does not
 * fit below 0x100, -EINVAL for len < 2.
 */
int pci_dev_add_cap(struct pci_dev *d, const uint8_t *bytes, const uint8_t *wmask,
		    unsigned len, unsigned *off);

/*
 * Put d on bus at devfn and assign its BARs from the windows (naturally
 * aligned). Decoding stays off until the guest sets the command bits.
 * -EBUSY if devfn is taken or d is on a bus already, -ENOSPC if a window or the device table is
 * full (nothing assigned then), -EINVAL for a NULL argument. Takes the
 * bus lock.
 */
int pci_bus_add(struct pci_bus *bus, struct pci_dev *d, uint8_t devfn);

/* Register the four ranges listed at the top. -errno from io_bus_register. */
int pci_bus_attach(struct pci_bus *bus, struct io_bus *pio, struct io_bus *mmio);

/* --- runtime ---------------------------------------------------------------- */

/*
 * Config access to bus 0 at devfn, any length 1..8, byte-wise: a byte
 * outside [0, PCI_CFG_SIZE) or of a missing function reads 0xFF and takes
 * no write. These are what the CF8 and ECAM paths call. Take the bus lock.
 */
void pci_cfg_access_read(struct pci_bus *bus, uint8_t devfn, unsigned off, uint8_t *data,
			 unsigned len);
void pci_cfg_access_write(struct pci_bus *bus, uint8_t devfn, unsigned off,
			  const uint8_t *data, unsigned len);

/* The address BAR bar of d decodes now, or PCI_BAR_UNMAPPED. Takes the bus lock. */
uint64_t pci_dev_bar_addr(struct pci_dev *d, unsigned bar);

/*
 * Raw little-endian config helpers: no masks, no hooks. Out-of-range bytes
 * read as 0 / are skipped; len 1..4. For device code: before pci_bus_add,
 * or with the bus lock held (i.e. inside a hook).
 */
uint32_t pci_cfg_get(const struct pci_dev *d, unsigned off, unsigned len);
void pci_cfg_set(struct pci_dev *d, unsigned off, uint32_t val, unsigned len);

extern const struct io_ops pci_conf1_io_ops;    /* opaque: struct pci_bus */
extern const struct io_ops pci_ecam_io_ops;     /* opaque: struct pci_bus */
extern const struct io_ops pci_mmio_window_ops; /* opaque: struct pci_bus */
extern const struct io_ops pci_io_window_ops;   /* opaque: struct pci_bus */

/* --- internal, shared between devices/pci*.c --------------------------------- */

/* Recompute d's decoded BAR addresses and fire bar_moved; bus lock held. */
void pci_dev_update_decode(struct pci_dev *d);

/* pci_cfg_access_read/write with the bus lock already held. */
void pci_cfg_read_locked(struct pci_bus *bus, uint8_t devfn, unsigned off, uint8_t *data,
			 unsigned len);
void pci_cfg_write_locked(struct pci_bus *bus, uint8_t devfn, unsigned off,
			  const uint8_t *data, unsigned len);

#endif
