/*
 * serial_internal.h - shared by the two halves of the 16550A model only:
 * serial.c (line state) and serial_regs.c (register access). Not an
 * interface: other code uses serial_init, serial_receive and
 * serial_io_ops from devices.h, which vmm/ and the tests include.
 */
#ifndef DEVICES_SERIAL_INTERNAL_H
#define DEVICES_SERIAL_INTERNAL_H

#include "devices.h"

/* Register offsets and bits (16550A). */
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

/*
 * Line-state helpers (serial.c) that register accesses use. All run with
 * s->lock held; after changing state the caller calls serial_update_irq.
 */
uint8_t serial_iir_value(const struct serial_8250 *s); /* IIR: top-priority source, FIFO bits */
void serial_update_irq(struct serial_8250 *s);  /* drive the line per the edge rules */
void serial_update_msr(struct serial_8250 *s);  /* MSR after an MCR change */
uint8_t serial_rx_pop(struct serial_8250 *s);   /* next RX byte, 0 when empty */
void serial_transmit(struct serial_8250 *s, uint8_t byte); /* a THR write */

#endif
