/*
 * serial_regs.c - the 16550A's register file as the guest sees it: port
 * reads and writes dispatched by offset and LCR.DLAB, with the side effects
 * of each access (reading IIR acknowledges THRE, reading LSR/MSR clears
 * their sticky bits, FCR clears the RX FIFO, ...).
 *
 * Separate from serial.c, the line state these accesses act on (interrupt
 * sources and edges, MSR, RX FIFO, transmission), so that each file holds
 * one concern; the behaviour and its reasons are described there.
 */
#include "serial_internal.h"

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
		v = dlab ? s->dll : serial_rx_pop(s);
		break;
	case REG_IER:
		v = dlab ? s->dlm : s->ier;
		break;
	case REG_IIR_FCR:
		v = serial_iir_value(s);
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
	serial_update_irq(s);
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
			serial_transmit(s, v);
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
		serial_update_msr(s);
		break;
	case REG_SCR:
		s->scr = v;
		break;
	default:
		/* LSR and MSR: writes only matter for factory test; ignored. */
		break;
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

const struct io_ops serial_io_ops = {
	.read = serial_read,
	.write = serial_write,
};
