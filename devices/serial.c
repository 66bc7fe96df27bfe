/*
 * serial.c - a 16550A UART at COM1, as Linux's 8250 driver probes and
 * drives it (see devices.h for the interface and locking rules).
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
#include "devices.h"

#include <string.h>

enum { REG_RBR_THR, REG_IER, REG_IIR_FCR, REG_LCR, REG_MCR, REG_LSR, REG_MSR, REG_SCR };

#define IER_ERBFI 0x01 /* received data available */
#define IER_ETBEI 0x02 /* THR empty */
#define IER_ELSI  0x04 /* receiver line status */
#define IER_EDSSI 0x08 /* modem status */
#define IER_MASK  0x0f /* the upper bits read 0 on a 16550A (Linux checks) */

#define IIR_MSI     0x00
#define IIR_NO_INT  0x01
#define IIR_THRI    0x02
#define IIR_RDI     0x04
#define IIR_RLSI    0x06
#define IIR_ID_MASK 0x0f
#define IIR_FIFO_ON 0xc0 /* "16550A with working FIFO" */

#define FCR_ENABLE   0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04

#define LCR_DLAB 0x80

#define MCR_DTR  0x01
#define MCR_RTS  0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_MASK 0x1f

#define LSR_DR     0x01
#define LSR_OE     0x02
#define LSR_ERRORS 0x1e /* OE PE FE BI: sticky until LSR is read */
#define LSR_THRE   0x20
#define LSR_TEMT   0x40

#define MSR_DCTS   0x01
#define MSR_DDSR   0x02
#define MSR_TERI   0x04
#define MSR_DDCD   0x08
#define MSR_DELTAS 0x0f
#define MSR_CTS    0x10
#define MSR_DSR    0x20
#define MSR_RI     0x40
#define MSR_DCD    0x80

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

static uint8_t iir_value(const struct serial_8250 *s)
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
static void update_irq(struct serial_8250 *s)
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
static void update_msr(struct serial_8250 *s)
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

static uint8_t rx_pop(struct serial_8250 *s)
{
	uint8_t byte;

	if (s->rx_count == 0)
		return 0;
	byte = s->rx[s->rx_head];
	s->rx_head = (s->rx_head + 1) % SERIAL_RX_FIFO;
	s->rx_count--;
	return byte;
}

static void transmit(struct serial_8250 *s, uint8_t byte)
{
	/* THR full for an instant: the THRE source drops (see top comment). */
	s->thr_ipending = false;
	update_irq(s);
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
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* Accesses wider than a byte act on (and fill in) their first byte only. */
static void serial_read(void *opaque, uint64_t offset, uint8_t *data, unsigned len)
{
	struct serial_8250 *s = opaque;
	uint8_t v = 0xff;
	bool dlab;

	if (len == 0 || offset >= SERIAL_NPORTS)
		return;
	pthread_mutex_lock(&s->lock);
	dlab = s->lcr & LCR_DLAB;
	switch (offset) {
	case REG_RBR_THR:
		v = dlab ? s->dll : rx_pop(s);
		break;
	case REG_IER:
		v = dlab ? s->dlm : s->ier;
		break;
	case REG_IIR_FCR:
		v = iir_value(s);
		/* Reading IIR acknowledges THRE, only if that is what it showed. */
		if ((v & IIR_ID_MASK) == IIR_THRI)
			s->thr_ipending = false;
		break;
	case REG_LCR:
		v = s->lcr;
		break;
	case REG_MCR:
		v = s->mcr;
		break;
	case REG_LSR:
		v = (s->lsr & LSR_ERRORS) | (s->rx_count ? LSR_DR : 0) | LSR_THRE | LSR_TEMT;
		s->lsr &= (uint8_t)~LSR_ERRORS;
		break;
	case REG_MSR:
		v = s->msr;
		s->msr &= (uint8_t)~MSR_DELTAS;
		break;
	case REG_SCR:
		v = s->scr;
		break;
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	data[0] = v;
}

static void serial_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct serial_8250 *s = opaque;
	uint8_t v;
	bool dlab;

	if (len == 0 || offset >= SERIAL_NPORTS)
		return;
	v = data[0];
	pthread_mutex_lock(&s->lock);
	dlab = s->lcr & LCR_DLAB;
	switch (offset) {
	case REG_RBR_THR:
		if (dlab)
			s->dll = v;
		else
			transmit(s, v);
		break;
	case REG_IER:
		if (dlab) {
			s->dlm = v;
		} else {
			/*
			 * Enabling ETBEI while THR is empty raises THRE at once,
			 * even if it was acknowledged before: Linux's TX start
			 * and its UART_BUG_THRE/TXEN probes rely on it.
			 */
			if ((v & IER_ETBEI) && !(s->ier & IER_ETBEI))
				s->thr_ipending = true;
			s->ier = v & IER_MASK;
		}
		break;
	case REG_IIR_FCR:
		/* FCR regardless of DLAB, as on the 16550A (no EFR here). */
		if (((v ^ s->fcr) & FCR_ENABLE) || (v & FCR_CLEAR_RX)) {
			s->rx_head = 0;
			s->rx_count = 0;
		}
		s->fcr = v & (uint8_t)~(FCR_CLEAR_RX | FCR_CLEAR_TX);
		break;
	case REG_LCR:
		s->lcr = v;
		break;
	case REG_MCR:
		s->mcr = v & MCR_MASK;
		update_msr(s);
		break;
	case REG_SCR:
		s->scr = v;
		break;
	default:
		/* LSR and MSR: writes only matter for factory test; ignored. */
		break;
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

const struct io_ops serial_io_ops = {
	.read = serial_read,
	.write = serial_write,
};
