/*
 * power.c - the HW-reduced ACPI sleep control/status and reset registers,
 * and the i8042 "pulse reset line" command, which Linux falls back to.
 *
 * No mutex: several vCPUs may write these ports at once, and the only
 * state is three independent flags, each handled with one atomic
 * operation. An event fires from the write that first flips its flag, so a
 * guest hammering a port cannot make the VMM see repeated requests.
 */
#include "devices.h"

#include "../boot/boot.h"

#define SLP_EN  0x20 /* sleep control: start the transition */
#define WAK_STS 0x80 /* sleep status: the system has woken (write 1 to clear) */

#define I8042_CMD_RESET 0xfe

static void fire(struct power_dev *p, bool *sent, enum power_event ev)
{
	if (__atomic_exchange_n(sent, true, __ATOMIC_ACQ_REL))
		return;
	if (p->event)
		p->event(p->opaque, ev);
}

void power_init(struct power_dev *p, void (*event)(void *, enum power_event), void *opaque)
{
	p->event = event;
	p->opaque = opaque;
	__atomic_store_n(&p->off_sent, false, __ATOMIC_RELEASE);
	__atomic_store_n(&p->reset_sent, false, __ATOMIC_RELEASE);
	__atomic_store_n(&p->sleep_status, 0, __ATOMIC_RELEASE);
}

/* The registers are 8 bits wide: wider accesses use their first byte. */
static void power_read(void *opaque, uint64_t offset, uint8_t *data, unsigned len)
{
	struct power_dev *p = opaque;

	if (len == 0 || offset >= POWER_NPORTS)
		return;
	if (offset == ACPI_SLEEP_STATUS_OFF)
		data[0] = __atomic_load_n(&p->sleep_status, __ATOMIC_ACQUIRE);
	else
		data[0] = 0;
}

static void power_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct power_dev *p = opaque;
	uint8_t v;

	if (len == 0 || offset >= POWER_NPORTS)
		return;
	v = data[0];
	switch (offset) {
	case ACPI_SLEEP_CONTROL_OFF:
		if (!(v & SLP_EN))
			break;
		/*
		 * Any request reports "woken" at once: for the sleep states
		 * we do not implement (S1-S4), Linux polls WAK_STS after
		 * SLP_EN and would otherwise spin forever.
		 */
		__atomic_store_n(&p->sleep_status, WAK_STS, __ATOMIC_RELEASE);
		if (((v >> 2) & 7) == ACPI_S5_SLP_TYP)
			fire(p, &p->off_sent, POWER_OFF);
		break;
	case ACPI_SLEEP_STATUS_OFF:
		if (v & WAK_STS)
			__atomic_store_n(&p->sleep_status, 0, __ATOMIC_RELEASE);
		break;
	case ACPI_RESET_OFF:
		if (v == ACPI_RESET_VALUE)
			fire(p, &p->reset_sent, POWER_RESET);
		break;
	}
}

const struct io_ops power_io_ops = {
	.read = power_read,
	.write = power_write,
};

/*
 * Port 0x64 reads as status 0: input buffer empty, so Linux's reboot path
 * (which waits for it before sending 0xFE) goes ahead, and output buffer
 * empty, so an i8042 probe finds no controller and gives up.
 */
static void i8042_read(void *opaque, uint64_t offset, uint8_t *data, unsigned len)
{
	(void)opaque;
	if (len == 0 || offset != 0)
		return;
	data[0] = 0;
}

static void i8042_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct power_dev *p = opaque;

	if (len == 0 || offset != 0)
		return;
	if (data[0] == I8042_CMD_RESET)
		fire(p, &p->reset_sent, POWER_RESET);
}

const struct io_ops i8042_reset_io_ops = {
	.read = i8042_read,
	.write = i8042_write,
};
