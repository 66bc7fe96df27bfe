/*
 * devices.h - emulated devices and the two interfaces they are built on.
 *
 * A device is a state struct, an init function, and a `struct io_ops` that
 * vmm/ registers on the PIO or MMIO bus (vmm/io_bus.h). Devices raise
 * interrupts through `struct irq_line` and never call KVM themselves, so the
 * unit tests drive them with a fake line and no /dev/kvm.
 *
 * Locking: vCPU threads call the io_ops; the event-loop thread may call the
 * input side (serial_receive). Each device serialises itself with its own
 * mutex; callbacks (irq, output) are invoked with that mutex held, so they
 * must not call back into the device.
 */
#ifndef DEVICES_DEVICES_H
#define DEVICES_DEVICES_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../vmm/io_bus.h"

/* An interrupt line to the in-kernel IOAPIC (or a fake in tests). */
struct irq_line {
	void (*set)(void *opaque, unsigned gsi, int level);
	void *opaque;
	unsigned gsi;
};

/* --- 8250/16550A UART ----------------------------------------------------- */

#define SERIAL_COM1_PORT 0x3f8
#define SERIAL_COM1_GSI  4
#define SERIAL_NPORTS    8
#define SERIAL_RX_FIFO   64

struct serial_8250 {
	pthread_mutex_t lock;
	/* Where transmitted bytes go (the console); called per byte. */
	void (*tx)(void *opaque, uint8_t byte);
	void *tx_opaque;
	struct irq_line irq;
	/* registers; everything below is protected by lock */
	uint8_t ier, lcr, mcr, msr, scr, dll, dlm, fcr;
	uint8_t lsr;         /* only the sticky error bits; DR/THRE/TEMT are derived */
	uint8_t iir_pending; /* interrupt sources seen when the line was last driven */
	bool thr_ipending; /* THR-empty interrupt waiting to be read from IIR */
	int irq_level;     /* last level driven on the line */
	uint8_t rx[SERIAL_RX_FIFO];
	unsigned rx_head, rx_count;
};

/* Power-on state (FIFO off, IER 0, line low); initialises the mutex. */
void serial_init(struct serial_8250 *s, void (*tx)(void *, uint8_t), void *tx_opaque,
		 struct irq_line irq);

/*
 * Bytes from the host console. Returns how many were taken (the FIFO may
 * be full, and nothing is taken while the guest has the UART in loopback;
 * the caller retries after the guest reads).
 */
size_t serial_receive(struct serial_8250 *s, const uint8_t *buf, size_t len);

extern const struct io_ops serial_io_ops;

/* --- ACPI HW-reduced power registers (sleep control/status, reset) -------- */

enum power_event { POWER_NONE = 0, POWER_OFF, POWER_RESET };

struct power_dev {
	/*
	 * Called from a vCPU thread when the guest asks for off or reset, at
	 * most once per event kind until power_init is called again. No lock
	 * is held: the state below is only touched with __atomic builtins.
	 */
	void (*event)(void *opaque, enum power_event ev);
	void *opaque;
	bool off_sent, reset_sent; /* the event has fired */
	uint8_t sleep_status;      /* WAK_STS after a sleep request */
};

/* Also resets the once-only state: call it again before rebooting the guest. */
void power_init(struct power_dev *p, void (*event)(void *, enum power_event), void *opaque);

/* Registered at acpi_config.pm_port, 3 ports (see boot.h ACPI_*_OFF). */
extern const struct io_ops power_io_ops;
#define POWER_NPORTS 3

/* i8042 port 0x64: command 0xFE pulses the reset line (Linux reboot=k). */
extern const struct io_ops i8042_reset_io_ops;

#endif
