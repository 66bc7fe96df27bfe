/*
 * serial.c - a 16550A UART at COM1, as Linux's 8250 driver probes and
 * drives it (see devices.h for the interface and locking rules).
 * This file is the line state: interrupt sources and the IRQ line, MSR,
 * the RX FIFO, transmission, init and host input. The guest's register
 * accesses (by offset and DLAB) are serial_regs.c.
 *
 * Transmission is synchronous: a THR write hands the byte to the tx
 * callback at once, so THR and the shift register are always empty
 * (LSR.THRE and LSR.TEMT always read 1) and there is no TX FIFO.
 *
 * Interrupt line. The level is "some source is pending and enabled in
 * IER". MCR.OUT2 does not gate it as it does on a PC board: Linux (with
 * ACPI and the IOAPIC) sets OUT2 whenever it wants interrupts and masks
 * them through IER otherwise, so gating would change nothing for Linux and
 * would only lose interrupts for a guest that forgets OUT2.
 *
 * COM1 is ISA IRQ 4, edge-triggered at the IOAPIC: only a 0->1 transition
 * delivers an interrupt. Two rules make sure no condition is lost:
 *  - the line tracks the sources exactly (it falls as soon as the last one
 *    is cleared), so Linux's handler, which loops until IIR reads "no
 *    interrupt", always leaves the line low and the next condition gives a
 *    fresh edge;
 *  - a source that appears while the line is already high (RX data while a
 *    THRE interrupt waits, say) gets its own edge: the line is lowered and
 *    raised again. A THR write clears the THRE source and, the byte being
 *    sent at once, sets it again; it is handled as two updates, so it too
 *    yields an edge, just as the real chip drops and re-raises INTR.
 * irq.set is only called when the level changes (or for such a pulse);
 * s->irq_level is the level last driven and s->iir_pending the set of
 * sources (SRC_*) seen at that moment.
 *
 * RX: a 64-byte FIFO whether or not the guest enabled the FIFO through FCR.
 * A deeper buffer than a 16450's single byte is invisible to a driver that
 * reads while LSR.DR is set, and it keeps host input from being dropped.
 * RX interrupts are raised as soon as data is present (no trigger level or
 * character timeout: both need a clock, and Linux treats them alike).
 */
#include "serial_internal.h"

#include <string.h>

/* Interrupt sources, one bit each, in s->iir_pending. */
#define SRC_RLS 0x01
#define SRC_RDA 0x02
#define SRC_THR 0x04
#define SRC_MS  0x08

/* All helpers below run with s->lock held. */

static uint8_t sources(const struct serial_8250 *s)
{
	uint8_t src = 0;

	if ((s->ier & IER_ELSI) && (s->lsr & LSR_ERRORS))
		src |= SRC_RLS;
	if ((s->ier & IER_ERBFI) && s->rx_count)
		src |= SRC_RDA;
	if ((s->ier & IER_ETBEI) && s->thr_ipending)
		src |= SRC_THR;
	if ((s->ier & IER_EDSSI) && (s->msr & MSR_DELTAS))
		src |= SRC_MS;
	return src;
}

uint8_t serial_iir_value(const struct serial_8250 *s)
{
	uint8_t src = sources(s);
	uint8_t id = IIR_NO_INT;

	/* Fixed 16550 priority: line status, RX data, THR empty, modem status. */
	if (src & SRC_RLS)
		id = IIR_RLSI;
	else if (src & SRC_RDA)
		id = IIR_RDI;
	else if (src & SRC_THR)
		id = IIR_THRI;
	else if (src & SRC_MS)
		id = IIR_MSI;
	return id | ((s->fcr & FCR_ENABLE) ? IIR_FIFO_ON : 0);
}

static void drive(struct serial_8250 *s, int level)
{
	s->irq_level = level;
	if (s->irq.set)
		s->irq.set(s->irq.opaque, s->irq.gsi, level);
}

/* Called after every change of state; see the edge rules at the top. */
void serial_update_irq(struct serial_8250 *s)
{
	uint8_t now = sources(s);
	uint8_t fresh = now & (uint8_t)~s->iir_pending;

	s->iir_pending = now;
	if (now == 0) {
		if (s->irq_level)
			drive(s, 0);
		return;
	}
	if (s->irq_level) {
		if (fresh == 0)
			return;
		drive(s, 0);
	}
	drive(s, 1);
}

/*
 * Recompute MSR's line bits from MCR (loopback) or the fixed "modem
 * present" lines, accumulating delta bits as the chip would.
 */
void serial_update_msr(struct serial_8250 *s)
{
	uint8_t lines, changed, delta = 0;

	if (s->mcr & MCR_LOOP)
		lines = ((s->mcr & MCR_DTR) ? MSR_DSR : 0) | ((s->mcr & MCR_RTS) ? MSR_CTS : 0) |
			((s->mcr & MCR_OUT1) ? MSR_RI : 0) | ((s->mcr & MCR_OUT2) ? MSR_DCD : 0);
	else
		lines = MSR_DCD | MSR_DSR | MSR_CTS;

	changed = (s->msr ^ lines) & 0xf0;
	if (changed & MSR_CTS)
		delta |= MSR_DCTS;
	if (changed & MSR_DSR)
		delta |= MSR_DDSR;
	if (changed & MSR_DCD)
		delta |= MSR_DDCD;
	if ((s->msr & MSR_RI) && !(lines & MSR_RI)) /* trailing edge only */
		delta |= MSR_TERI;
	s->msr = lines | (s->msr & MSR_DELTAS) | delta;
}

static bool rx_push(struct serial_8250 *s, uint8_t byte)
{
	if (s->rx_count >= SERIAL_RX_FIFO)
		return false;
	s->rx[(s->rx_head + s->rx_count) % SERIAL_RX_FIFO] = byte;
	s->rx_count++;
	return true;
}

uint8_t serial_rx_pop(struct serial_8250 *s)
{
	uint8_t byte;

	if (s->rx_count == 0)
		return 0;
	byte = s->rx[s->rx_head];
	s->rx_head = (s->rx_head + 1) % SERIAL_RX_FIFO;
	s->rx_count--;
	return byte;
}

void serial_transmit(struct serial_8250 *s, uint8_t byte)
{
	/* THR full for an instant: the THRE source drops (see top comment). */
	s->thr_ipending = false;
	serial_update_irq(s);
	if (s->mcr & MCR_LOOP) {
		/* The chip keeps the FIFO and loses the new byte on overrun. */
		if (!rx_push(s, byte))
			s->lsr |= LSR_OE;
	} else if (s->tx) {
		s->tx(s->tx_opaque, byte);
	}
	s->thr_ipending = true;
}

void serial_init(struct serial_8250 *s, void (*tx)(void *, uint8_t), void *tx_opaque,
		 struct irq_line irq)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->tx = tx;
	s->tx_opaque = tx_opaque;
	s->irq = irq;
	s->dll = 12; /* 9600 baud, as firmware would leave it */
	s->msr = MSR_DCD | MSR_DSR | MSR_CTS;
}

size_t serial_receive(struct serial_8250 *s, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	if (buf == NULL)
		return 0;
	pthread_mutex_lock(&s->lock);
	/* In loopback the RX pin is disconnected: hold host input back. */
	if (!(s->mcr & MCR_LOOP))
		while (n < len && rx_push(s, buf[n]))
			n++;
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}
