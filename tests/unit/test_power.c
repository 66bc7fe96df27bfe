/* test_power.c - ACPI sleep/reset registers and the i8042 reset command. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "../../boot/boot.h"
#include "../../devices/devices.h"

static struct power_dev pm;
static unsigned nevents[3];
static enum power_event last;
static int cookie;

static void fake_event(void *opaque, enum power_event ev)
{
	assert_ptr_equal(opaque, &cookie);
	assert_true(ev == POWER_OFF || ev == POWER_RESET);
	__atomic_fetch_add(&nevents[ev], 1, __ATOMIC_RELAXED);
	__atomic_store_n(&last, ev, __ATOMIC_RELAXED);
}

static int setup(void **state)
{
	(void)state;
	memset(nevents, 0, sizeof(nevents));
	last = POWER_NONE;
	power_init(&pm, fake_event, &cookie);
	return 0;
}

static void pm_out(const struct io_ops *ops, uint64_t off, uint8_t v)
{
	ops->write(&pm, off, &v, 1);
}

static uint8_t pm_in(const struct io_ops *ops, uint64_t off)
{
	uint8_t v = 0xee;
	ops->read(&pm, off, &v, 1);
	return v;
}

static uint8_t slp(unsigned typ, int en)
{
	return (uint8_t)((typ & 7) << 2 | (en ? 0x20 : 0));
}

static void test_s5_powers_off_once(void **state)
{
	(void)state;
	assert_int_equal(pm_in(&power_io_ops, ACPI_SLEEP_STATUS_OFF), 0);
	/* SLP_TYP without SLP_EN is only a preparation. */
	pm_out(&power_io_ops, ACPI_SLEEP_CONTROL_OFF, slp(ACPI_S5_SLP_TYP, 0));
	assert_int_equal(nevents[POWER_OFF], 0);
	pm_out(&power_io_ops, ACPI_SLEEP_CONTROL_OFF, slp(ACPI_S5_SLP_TYP, 1));
	assert_int_equal(nevents[POWER_OFF], 1);
	assert_int_equal(last, POWER_OFF);
	for (int i = 0; i < 1000; i++)
		pm_out(&power_io_ops, ACPI_SLEEP_CONTROL_OFF, slp(ACPI_S5_SLP_TYP, 1));
	assert_int_equal(nevents[POWER_OFF], 1);
	assert_int_equal(nevents[POWER_RESET], 0);
	/* Other bits around SLP_TYP|SLP_EN do not matter. */
	setup(NULL);
	pm_out(&power_io_ops, ACPI_SLEEP_CONTROL_OFF, slp(ACPI_S5_SLP_TYP, 1) | 0xc3);
	assert_int_equal(nevents[POWER_OFF], 1);
}

static void test_other_sleep_types_ignored(void **state)
{
	(void)state;
	for (unsigned typ = 0; typ < 8; typ++) {
		if (typ == ACPI_S5_SLP_TYP)
			continue;
		pm_out(&power_io_ops, ACPI_SLEEP_CONTROL_OFF, slp(typ, 1));
	}
	assert_int_equal(nevents[POWER_OFF], 0);
	assert_int_equal(nevents[POWER_RESET], 0);
	/* Linux polls WAK_STS after an (unsupported) sleep: it must come back. */
	assert_int_equal(pm_in(&power_io_ops, ACPI_SLEEP_STATUS_OFF), 0x80);
	/* WAK_STS is write-1-to-clear. */
	pm_out(&power_io_ops, ACPI_SLEEP_STATUS_OFF, 0x00);
	assert_int_equal(pm_in(&power_io_ops, ACPI_SLEEP_STATUS_OFF), 0x80);
	pm_out(&power_io_ops, ACPI_SLEEP_STATUS_OFF, 0x80);
	assert_int_equal(pm_in(&power_io_ops, ACPI_SLEEP_STATUS_OFF), 0);
	assert_int_equal(pm_in(&power_io_ops, ACPI_SLEEP_CONTROL_OFF), 0);
	assert_int_equal(pm_in(&power_io_ops, ACPI_RESET_OFF), 0);
}

static void test_reset_register(void **state)
{
	(void)state;
	for (unsigned v = 0; v < 256; v++)
		if (v != ACPI_RESET_VALUE)
			pm_out(&power_io_ops, ACPI_RESET_OFF, (uint8_t)v);
	assert_int_equal(nevents[POWER_RESET], 0);
	pm_out(&power_io_ops, ACPI_RESET_OFF, ACPI_RESET_VALUE);
	pm_out(&power_io_ops, ACPI_RESET_OFF, ACPI_RESET_VALUE);
	assert_int_equal(nevents[POWER_RESET], 1);
	assert_int_equal(last, POWER_RESET);
	/* Off is independent of reset. */
	pm_out(&power_io_ops, ACPI_SLEEP_CONTROL_OFF, slp(ACPI_S5_SLP_TYP, 1));
	assert_int_equal(nevents[POWER_OFF], 1);
	/* The i8042 path shares the once-only reset. */
	pm_out(&i8042_reset_io_ops, 0, 0xfe);
	assert_int_equal(nevents[POWER_RESET], 1);
	/* power_init re-arms both (a rebooted guest may power off again). */
	setup(NULL);
	pm_out(&power_io_ops, ACPI_RESET_OFF, ACPI_RESET_VALUE);
	assert_int_equal(nevents[POWER_RESET], 1);
}

static void test_i8042_reset(void **state)
{
	(void)state;
	/* Status reads 0: input buffer empty, so reboot=k does not wait. */
	assert_int_equal(pm_in(&i8042_reset_io_ops, 0), 0);
	for (unsigned v = 0; v < 256; v++)
		if (v != 0xfe)
			pm_out(&i8042_reset_io_ops, 0, (uint8_t)v);
	assert_int_equal(nevents[POWER_RESET], 0);
	pm_out(&i8042_reset_io_ops, 0, 0xfe);
	pm_out(&i8042_reset_io_ops, 0, 0xfe);
	assert_int_equal(nevents[POWER_RESET], 1);
	assert_int_equal(nevents[POWER_OFF], 0);
}

static void test_wide_and_stray_accesses(void **state)
{
	(void)state;
	uint8_t d[8] = { ACPI_RESET_VALUE, 0x12, 0x34, 0, 0, 0, 0, 0 };
	/* A wide write uses its first byte. */
	power_io_ops.write(&pm, ACPI_RESET_OFF, d, 4);
	assert_int_equal(nevents[POWER_RESET], 1);
	setup(NULL);
	/* Offsets past the device and len 0 are ignored. */
	for (uint64_t off = 3; off < 16; off++) {
		power_io_ops.write(&pm, off, d, 1);
		d[0] = slp(ACPI_S5_SLP_TYP, 1);
		power_io_ops.write(&pm, off, d, 1);
		i8042_reset_io_ops.write(&pm, off - 2, (const uint8_t[]){ 0xfe }, 1);
		d[0] = ACPI_RESET_VALUE;
	}
	power_io_ops.write(&pm, UINT64_MAX, d, 1);
	power_io_ops.write(&pm, ACPI_RESET_OFF, d, 0);
	i8042_reset_io_ops.write(&pm, 0, (const uint8_t[]){ 0xfe }, 0);
	assert_int_equal(nevents[POWER_OFF], 0);
	assert_int_equal(nevents[POWER_RESET], 0);
	/* Reads fill only the first byte, and nothing for stray offsets. */
	uint8_t r[8];
	memset(r, 0xcc, sizeof(r));
	power_io_ops.read(&pm, ACPI_SLEEP_STATUS_OFF, r, 4);
	assert_int_equal(r[0], 0);
	assert_int_equal(r[1], 0xcc);
	memset(r, 0xcc, sizeof(r));
	power_io_ops.read(&pm, 3, r, 1);
	i8042_reset_io_ops.read(&pm, 1, r + 1, 1);
	power_io_ops.read(&pm, 0, r + 2, 0);
	assert_int_equal(r[0], 0xcc);
	assert_int_equal(r[1], 0xcc);
	assert_int_equal(r[2], 0xcc);
	/* No callback: requests are absorbed without crashing. */
	power_init(&pm, NULL, NULL);
	pm_out(&power_io_ops, ACPI_RESET_OFF, ACPI_RESET_VALUE);
	pm_out(&power_io_ops, ACPI_SLEEP_CONTROL_OFF, slp(ACPI_S5_SLP_TYP, 1));
	pm_out(&i8042_reset_io_ops, 0, 0xfe);
}

static void *hammer(void *arg)
{
	(void)arg;
	for (int i = 0; i < 20000; i++) {
		pm_out(&power_io_ops, ACPI_RESET_OFF, ACPI_RESET_VALUE);
		pm_out(&i8042_reset_io_ops, 0, 0xfe);
		pm_out(&power_io_ops, ACPI_SLEEP_CONTROL_OFF, slp(ACPI_S5_SLP_TYP, 1));
	}
	return NULL;
}

/* Several vCPUs racing on the ports still produce one event of each kind. */
static void test_concurrent_once(void **state)
{
	(void)state;
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, NULL), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_int_equal(nevents[POWER_OFF], 1);
	assert_int_equal(nevents[POWER_RESET], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_s5_powers_off_once, setup),
		cmocka_unit_test_setup(test_other_sleep_types_ignored, setup),
		cmocka_unit_test_setup(test_reset_register, setup),
		cmocka_unit_test_setup(test_i8042_reset, setup),
		cmocka_unit_test_setup(test_wide_and_stray_accesses, setup),
		cmocka_unit_test_setup(test_concurrent_once, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
