/* test_serial.c - 16550A register semantics, interrupts and edges. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "../../devices/devices.h"

enum { RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4,
       LSR = 5, MSR = 6, SCR = 7 };

static struct serial_8250 uart;
static uint8_t txbuf[256];
static unsigned ntx;
static int line_level;  /* as seen by the fake IOAPIC */
static unsigned rises;  /* 0->1 transitions */
static unsigned ncalls; /* irq.set calls */

static void fake_tx(void *opaque, uint8_t byte)
{
	assert_ptr_equal(opaque, txbuf);
	if (ntx < sizeof(txbuf))
		txbuf[ntx] = byte;
	ntx++;
}

static void fake_irq(void *opaque, unsigned gsi, int level)
{
	assert_ptr_equal(opaque, &line_level);
	assert_int_equal(gsi, SERIAL_COM1_GSI);
	assert_true(level == 0 || level == 1);
	/* The device must only drive changes of level. */
	assert_int_not_equal(level, line_level);
	if (level)
		rises++;
	line_level = level;
	ncalls++;
}

static int setup(void **state)
{
	(void)state;
	ntx = 0;
	line_level = 0;
	rises = 0;
	ncalls = 0;
	memset(txbuf, 0, sizeof(txbuf));
	serial_init(&uart, fake_tx, txbuf,
		    (struct irq_line){ .set = fake_irq, .opaque = &line_level, .gsi = SERIAL_COM1_GSI });
	return 0;
}

static uint8_t inb(unsigned off)
{
	uint8_t v = 0xee;
	serial_io_ops.read(&uart, off, &v, 1);
	return v;
}

static void outb(unsigned off, uint8_t v)
{
	serial_io_ops.write(&uart, off, &v, 1);
}

static void test_reset_state(void **state)
{
	(void)state;
	assert_int_equal(inb(IER), 0);
	assert_int_equal(inb(IIR), 0x01);
	assert_int_equal(inb(LCR), 0);
	assert_int_equal(inb(MCR), 0);
	assert_int_equal(inb(LSR), 0x60);
	assert_int_equal(inb(MSR), 0xb0); /* DCD DSR CTS, no deltas */
	assert_int_equal(inb(RBR), 0);    /* empty FIFO reads harmlessly */
	assert_int_equal(ncalls, 0);
}

static void test_dlab_divisor(void **state)
{
	(void)state;
	outb(IER, 0x05);
	outb(LCR, 0x83);
	outb(DLL, 0x01);
	outb(DLM, 0x02);
	assert_int_equal(inb(DLL), 0x01);
	assert_int_equal(inb(DLM), 0x02);
	assert_int_equal(ntx, 0); /* DLL write is not a transmit */
	assert_int_equal(inb(LCR), 0x83);
	outb(LCR, 0x03);
	assert_int_equal(inb(IER), 0x05); /* IER untouched by the DLM write */
	assert_int_equal(inb(LCR), 0x03);
	outb(THR, 'a');
	assert_int_equal(ntx, 1);
	assert_int_equal(txbuf[0], 'a');
	outb(LCR, 0x80);
	assert_int_equal(inb(DLL), 0x01); /* divisor kept across DLAB toggles */
	assert_int_equal(inb(DLM), 0x02);
}

static void test_scratch_and_wide_access(void **state)
{
	(void)state;
	outb(SCR, 0xa5);
	assert_int_equal(inb(SCR), 0xa5);
	outb(SCR, 0x5a);
	assert_int_equal(inb(SCR), 0x5a);

	/* len != 1: only the first byte is used or filled in. */
	uint8_t w[8] = { 0x34, 0x12, 0x77, 0x77, 0, 0, 0, 0 };
	serial_io_ops.write(&uart, SCR, w, 2);
	assert_int_equal(inb(SCR), 0x34);
	uint8_t r[8];
	memset(r, 0xcc, sizeof(r));
	serial_io_ops.read(&uart, SCR, r, 4);
	assert_int_equal(r[0], 0x34);
	assert_int_equal(r[1], 0xcc);
	assert_int_equal(r[3], 0xcc);
	assert_int_equal(r[4], 0xcc);
	/* len 0 touches nothing. */
	r[0] = 0xcc;
	serial_io_ops.read(&uart, SCR, r, 0);
	assert_int_equal(r[0], 0xcc);
	serial_io_ops.write(&uart, SCR, w + 2, 0);
	assert_int_equal(inb(SCR), 0x34);
}

/* The probe order of Linux's autoconfig() and autoconfig_16550a(). */
static void test_linux_16550a_detection(void **state)
{
	(void)state;
	/* IER: writable low nibble, upper nibble (incl. XScale UUE) reads 0. */
	outb(IER, 0);
	assert_int_equal(inb(IER) & 0x0f, 0);
	outb(IER, 0x0f);
	assert_int_equal(inb(IER) & 0x0f, 0x0f);
	outb(IER, 0xff);
	assert_int_equal(inb(IER), 0x0f);
	outb(IER, 0);

	/* Loopback: MCR = LOOP | RTS | OUT2 must read back as CTS | DCD. */
	uint8_t save_mcr = inb(MCR);
	outb(MCR, 0x10 | 0x0a);
	assert_int_equal(inb(MSR) & 0xf0, 0x90);
	outb(MCR, save_mcr);

	/* EFR write in config mode B lands in FCR, then enable the FIFO. */
	outb(LCR, 0xbf);
	outb(2, 0);
	outb(LCR, 0);
	outb(FCR, 0x01);
	assert_int_equal(inb(IIR) >> 6, 3);

	/* Not an EFR-capable part: offset 2 reads IIR (non-zero) in both modes. */
	outb(LCR, 0x80);
	assert_int_not_equal(inb(2), 0);
	outb(LCR, 0xbf);
	assert_int_not_equal(inb(2), 0);
	outb(LCR, 0);

	/* Not an NS16550A: "EXCR1" (IIR bit 4) does not follow MCR.LOOP. */
	uint8_t mcr = inb(MCR);
	outb(LCR, 0xe0);
	uint8_t s2 = inb(2);
	assert_int_equal((s2 ^ mcr) & 0x10, 0);
	outb(LCR, 0);
	outb(MCR, mcr ^ 0x10);
	outb(LCR, 0xe0);
	s2 = inb(2);
	outb(LCR, 0);
	outb(MCR, mcr);
	assert_int_equal((s2 ^ mcr) & 0x10, 0);

	/* Not a 16750: IIR bit 5 never set by FCR bit 5. */
	outb(FCR, 0x21);
	assert_int_equal(inb(IIR) >> 5, 6);
	outb(LCR, 0x80);
	outb(FCR, 0x21);
	assert_int_equal(inb(IIR) >> 5, 6);
	outb(LCR, 0);

	/* Disabling the FIFO reports a plain 16450 again. */
	outb(FCR, 0);
	assert_int_equal(inb(IIR) >> 6, 0);
	assert_int_equal(line_level, 0); /* IER is 0 again */
}

static void test_loopback(void **state)
{
	(void)state;
	outb(MCR, 0x10);
	assert_int_equal(inb(MSR) & 0xf0, 0);
	outb(MCR, 0x11);
	assert_int_equal(inb(MSR) & 0xf0, 0x20); /* DTR -> DSR */
	outb(MCR, 0x12);
	assert_int_equal(inb(MSR) & 0xf0, 0x10); /* RTS -> CTS */
	outb(MCR, 0x14);
	assert_int_equal(inb(MSR) & 0xf0, 0x40); /* OUT1 -> RI */
	outb(MCR, 0x18);
	assert_int_equal(inb(MSR) & 0xf0, 0x80); /* OUT2 -> DCD */
	/* OUT2 1->0 is a DCD change (deltas were cleared by the last read). */
	outb(MCR, 0x10);
	assert_int_equal(inb(MSR), 0x08);
	outb(MCR, 0x14);
	(void)inb(MSR);
	outb(MCR, 0x10);
	assert_int_equal(inb(MSR), 0x04); /* trailing edge of RI */
	assert_int_equal(inb(MSR), 0x00); /* deltas cleared by the read */

	/* TX goes to RX, not to the console; host input is held back. */
	outb(THR, 'L');
	assert_int_equal(ntx, 0);
	assert_int_equal(inb(LSR) & 0x01, 0x01);
	const uint8_t host = 'h';
	assert_int_equal(serial_receive(&uart, &host, 1), 0);
	assert_int_equal(inb(RBR), 'L');
	assert_int_equal(inb(LSR), 0x60);

	/* Overrun: the FIFO keeps its 64 bytes, the 65th is lost, OE set. */
	for (unsigned i = 0; i < SERIAL_RX_FIFO + 1; i++)
		outb(THR, (uint8_t)i);
	assert_int_equal(inb(LSR), 0x60 | 0x02 | 0x01);
	assert_int_equal(inb(LSR), 0x60 | 0x01); /* OE cleared by reading */
	for (unsigned i = 0; i < SERIAL_RX_FIFO; i++)
		assert_int_equal(inb(RBR), i);
	assert_int_equal(inb(LSR), 0x60);

	/* Leaving loopback: the modem lines come back, with deltas. */
	outb(MCR, 0x0b);
	assert_int_equal(inb(MSR), 0xb0 | 0x01 | 0x02 | 0x08);
	assert_int_equal(inb(MSR), 0xb0);
	outb(THR, 'x');
	assert_int_equal(ntx, 1);
	assert_int_equal(txbuf[0], 'x');
	assert_int_equal(serial_receive(&uart, &host, 1), 1);
}

static void test_tx_and_lsr(void **state)
{
	(void)state;
	const char *msg = "hello, world\n";
	for (const char *p = msg; *p; p++) {
		outb(THR, (uint8_t)*p);
		/* Synchronous TX: THR and the shift register are empty again. */
		assert_int_equal(inb(LSR) & 0x60, 0x60);
	}
	assert_int_equal(ntx, strlen(msg));
	assert_memory_equal(txbuf, msg, strlen(msg));
	assert_int_equal(inb(LSR), 0x60);
	/* LSR and MSR writes are ignored. */
	outb(LSR, 0xff);
	outb(MSR, 0x00);
	assert_int_equal(inb(LSR), 0x60);
	assert_int_equal(inb(MSR), 0xb0);
}

static void test_rx_fifo(void **state)
{
	(void)state;
	uint8_t buf[100];
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i + 1);

	assert_int_equal(serial_receive(&uart, buf, 10), 10);
	assert_int_equal(inb(LSR), 0x61);
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(inb(RBR), i + 1);
	assert_int_equal(inb(LSR), 0x60);

	/* Only 64 fit; the rest stays with the caller. */
	assert_int_equal(serial_receive(&uart, buf, sizeof(buf)), SERIAL_RX_FIFO);
	assert_int_equal(serial_receive(&uart, buf + 64, 1), 0);
	assert_int_equal(inb(RBR), 1);
	assert_int_equal(serial_receive(&uart, buf + 64, 36), 1);
	/* Order survives the ring wrapping. */
	for (unsigned i = 1; i <= SERIAL_RX_FIFO; i++)
		assert_int_equal(inb(RBR), i + 1);
	assert_int_equal(inb(LSR), 0x60); /* no overrun reported: nothing lost */
	assert_int_equal(serial_receive(&uart, buf, 0), 0);
	assert_int_equal(serial_receive(&uart, NULL, 5), 0);

	/* FCR.CLEAR_RX and toggling FIFO enable empty the FIFO. */
	assert_int_equal(serial_receive(&uart, buf, 5), 5);
	outb(FCR, 0x01);
	assert_int_equal(inb(LSR) & 0x01, 0);
	assert_int_equal(serial_receive(&uart, buf, 5), 5);
	outb(FCR, 0x01 | 0x02);
	assert_int_equal(inb(LSR) & 0x01, 0);
	assert_int_equal(serial_receive(&uart, buf, 5), 5);
	outb(FCR, 0x01 | 0x04); /* TX clear alone keeps RX data */
	assert_int_equal(inb(LSR) & 0x01, 1);
	assert_int_equal(inb(IIR), 0xc1);
}

static void test_iir_priority(void **state)
{
	(void)state;
	outb(FCR, 0x01);
	outb(IER, 0x07); /* RX data, THR empty, line status */
	assert_int_equal(inb(IIR), 0xc2);
	assert_int_equal(inb(IIR), 0xc1); /* THRE acknowledged by the read */

	/* Enabling ETBEI again while THR is empty re-raises THRE. */
	outb(IER, 0x05);
	outb(IER, 0x07);
	const uint8_t b = 'r';
	assert_int_equal(serial_receive(&uart, &b, 1), 1);
	/* RX outranks THRE, and reading it does not acknowledge THRE. */
	assert_int_equal(inb(IIR), 0xc4);
	assert_int_equal(inb(IIR), 0xc4);

	/* Line status outranks RX: make an overrun through loopback. */
	outb(MCR, 0x10);
	for (unsigned i = 0; i < SERIAL_RX_FIFO; i++)
		outb(THR, 'o');
	assert_int_equal(inb(IIR), 0xc6);
	assert_int_equal(inb(LSR) & 0x03, 0x03);
	assert_int_equal(inb(IIR), 0xc4);
	outb(MCR, 0);
	while (inb(LSR) & 0x01)
		(void)inb(RBR);
	/* THRE, still pending, is reported once RX is drained. */
	assert_int_equal(inb(IIR), 0xc2);
	assert_int_equal(inb(IIR), 0xc1);
	/* THR empties right after a write, so THRE comes back. */
	outb(THR, 'x');
	assert_int_equal(inb(IIR), 0xc2);
	assert_int_equal(inb(IIR), 0xc1);

	/* Modem status is lowest; reading MSR clears it. ETBEI stays on, so
	 * this IER write does not re-raise THRE. */
	(void)inb(MSR); /* deltas left by the loopback above */
	outb(IER, 0x0f);
	assert_int_equal(inb(IIR), 0xc1);
	outb(MCR, 0x10); /* lines change: deltas */
	assert_int_equal(inb(IIR), 0xc0);
	outb(THR, 'q'); /* looped back: RX data, and THRE again */
	assert_int_equal(inb(IIR), 0xc4);
	assert_int_equal(inb(RBR), 'q');
	assert_int_equal(inb(IIR), 0xc2);
	assert_int_equal(inb(IIR), 0xc0);
	assert_int_equal(inb(MSR) & 0x0f, 0x0b);
	assert_int_equal(inb(IIR), 0xc1);
}

/* serial8250_do_startup's UART_BUG_THRE and UART_BUG_TXEN probes. */
static void test_linux_thre_probe(void **state)
{
	(void)state;
	outb(FCR, 0x07);
	outb(IER, 0x02);
	uint8_t lsr = inb(LSR);
	uint8_t iir = inb(IIR);
	outb(IER, 0);
	assert_true(lsr & 0x40);
	assert_false(iir & 0x01); /* no UART_BUG_TXEN */

	outb(IER, 0x02);
	uint8_t iir1 = inb(IIR);
	outb(IER, 0);
	outb(IER, 0x02);
	iir = inb(IIR);
	outb(IER, 0);
	assert_false(iir1 & 0x01);
	assert_false(iir & 0x01); /* no UART_BUG_THRE */
	assert_int_equal(line_level, 0);
}

static void test_msi(void **state)
{
	(void)state;
	outb(IER, 0x08);
	assert_int_equal(inb(IIR), 0x01);
	outb(MCR, 0x13); /* loopback: DCD 1->0, DSR, CTS stay */
	assert_int_equal(inb(IIR), 0x00);
	assert_int_equal(line_level, 1);
	assert_int_equal(inb(MSR), 0x30 | 0x08);
	assert_int_equal(inb(IIR), 0x01);
	assert_int_equal(line_level, 0);
}

static void test_irq_edges(void **state)
{
	(void)state;
	uint8_t buf[4] = { 1, 2, 3, 4 };

	/* Masked sources never touch the line. */
	assert_int_equal(serial_receive(&uart, buf, 2), 2);
	outb(THR, 'a');
	assert_int_equal(ncalls, 0);

	/* Enabling RX with data already there raises the line. */
	outb(IER, 0x01);
	assert_int_equal(rises, 1);
	assert_int_equal(line_level, 1);
	/* More data is the same condition: no extra call. */
	assert_int_equal(serial_receive(&uart, buf, 2), 2);
	assert_int_equal(ncalls, 1);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(line_level, 1);
		(void)inb(RBR);
	}
	assert_int_equal(line_level, 0);
	/* Each new burst after a drain is a new edge. */
	assert_int_equal(serial_receive(&uart, buf, 1), 1);
	assert_int_equal(rises, 2);
	(void)inb(RBR);
	assert_int_equal(line_level, 0);

	/* THRE: enabling it while empty gives an edge; the IIR read drops it. */
	outb(IER, 0x03);
	assert_int_equal(rises, 3);
	assert_int_equal(inb(IIR), 0x02);
	assert_int_equal(line_level, 0);
	/* Every byte written gives a fresh edge (THR refills then empties). */
	outb(THR, 'b');
	assert_int_equal(rises, 4);
	outb(THR, 'c');
	assert_int_equal(rises, 5);
	assert_int_equal(line_level, 1);

	/* A new source while the line is high: lowered and raised again. */
	assert_int_equal(serial_receive(&uart, buf, 1), 1);
	assert_int_equal(rises, 6);
	assert_int_equal(line_level, 1);
	/* Reading IIR (RX shown) leaves THRE pending: line stays up, no call. */
	unsigned calls = ncalls;
	assert_int_equal(inb(IIR), 0x04);
	assert_int_equal(ncalls, calls);
	(void)inb(RBR);
	assert_int_equal(line_level, 1); /* THRE still pending */
	assert_int_equal(inb(IIR), 0x02);
	assert_int_equal(line_level, 0);

	/* Masking everything lowers the line; unmasking with nothing pending does not raise it. */
	outb(THR, 'd');
	assert_int_equal(line_level, 1);
	outb(IER, 0);
	assert_int_equal(line_level, 0);
	calls = ncalls;
	outb(IER, 0x01);
	assert_int_equal(ncalls, calls);
}

/* Hostile guest: every offset, length, value and DLAB state. */
static void test_garbage(void **state)
{
	(void)state;
	static const unsigned lens[] = { 0, 1, 2, 3, 4, 8 };
	uint32_t x = 12345;
	uint8_t data[8], rxdata[128];

	memset(rxdata, 0x41, sizeof(rxdata));

	for (unsigned iter = 0; iter < 200000; iter++) {
		x = x * 1103515245u + 12345u;
		uint64_t off = (x >> 8) % 12;
		if ((x >> 20) % 64 == 0)
			off = UINT64_MAX - (x >> 26) % 3;
		unsigned len = lens[(x >> 4) % 6];
		for (unsigned i = 0; i < sizeof(data); i++)
			data[i] = (uint8_t)(x >> (i % 4 * 8));
		if (x & 0x80000000u) {
			serial_io_ops.write(&uart, off, data, len);
		} else {
			uint8_t before[8];
			memcpy(before, data, sizeof(data));
			serial_io_ops.read(&uart, off, data, len);
			/* Nothing past the first byte is ever written. */
			assert_memory_equal(data + 1, before + 1, sizeof(data) - 1);
		}
		if ((x >> 12) % 16 == 0)
			(void)serial_receive(&uart, rxdata, (x >> 16) % 100);
		assert_true(uart.rx_count <= SERIAL_RX_FIFO);
		assert_int_equal(uart.irq_level, line_level);
	}
	/* Still a working UART afterwards. */
	outb(LCR, 0x03);
	outb(MCR, 0x0b);
	assert_int_equal(inb(LSR) & 0x60, 0x60);
	assert_int_equal(inb(IER) & 0xf0, 0);
	unsigned before = ntx;
	outb(THR, 'z');
	assert_int_equal(ntx, before + 1);
}

struct feeder {
	unsigned total;
};

static void *feed(void *arg)
{
	struct feeder *f = arg;
	unsigned sent = 0;

	while (sent < f->total) {
		uint8_t chunk[37];
		unsigned n = 0;
		while (n < sizeof(chunk) && sent + n < f->total) {
			chunk[n] = (uint8_t)((sent + n) * 7);
			n++;
		}
		size_t took = serial_receive(&uart, chunk, n);
		sent += (unsigned)took;
		if (took == 0)
			sched_yield();
	}
	return NULL;
}

/* The event-loop thread fills the FIFO while a vCPU drains it. */
static void test_concurrent_receive(void **state)
{
	(void)state;
	struct feeder f = { .total = 50000 };
	pthread_t t;

	outb(IER, 0x01);
	assert_int_equal(pthread_create(&t, NULL, feed, &f), 0);
	for (unsigned got = 0; got < f.total;) {
		if (inb(LSR) & 0x01) {
			assert_int_equal(inb(RBR), (uint8_t)(got * 7));
			got++;
		} else {
			sched_yield();
		}
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(inb(LSR), 0x60);
	assert_int_equal(line_level, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_reset_state, setup),
		cmocka_unit_test_setup(test_dlab_divisor, setup),
		cmocka_unit_test_setup(test_scratch_and_wide_access, setup),
		cmocka_unit_test_setup(test_linux_16550a_detection, setup),
		cmocka_unit_test_setup(test_loopback, setup),
		cmocka_unit_test_setup(test_tx_and_lsr, setup),
		cmocka_unit_test_setup(test_rx_fifo, setup),
		cmocka_unit_test_setup(test_iir_priority, setup),
		cmocka_unit_test_setup(test_linux_thre_probe, setup),
		cmocka_unit_test_setup(test_msi, setup),
		cmocka_unit_test_setup(test_irq_edges, setup),
		cmocka_unit_test_setup(test_garbage, setup),
		cmocka_unit_test_setup(test_concurrent_receive, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
