/*
 * acpi_fadt.c - the Fixed ACPI Description Table ("FACP"), ACPI 6.x
 * revision 6, 276 bytes (5.2.9).
 *
 * The platform is HW-reduced (flag bit 20): no PM1/PM2/GPE/PM-timer blocks,
 * no SCI, no SMI command port, no FACS. Linux then installs no legacy PIC
 * and needs no PIT, matching what the VMM emulates. Power-off and reset go
 * through three byte-wide I/O ports at cfg->pm_port (boot.h ACPI_*_OFF),
 * which the power device in devices/ implements.
 */
#include "acpi.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

struct acpi_fadt {
	struct acpi_sdt_header header;
	uint32_t firmware_ctrl;       /* 36: FACS, none */
	uint32_t dsdt;                /* 40 */
	uint8_t reserved0;            /* 44: was INT_MODEL */
	uint8_t preferred_pm_profile; /* 45 */
	uint16_t sci_int;             /* 46 */
	uint32_t smi_cmd;             /* 48 */
	uint8_t acpi_enable;          /* 52 */
	uint8_t acpi_disable;         /* 53 */
	uint8_t s4bios_req;           /* 54 */
	uint8_t pstate_cnt;           /* 55 */
	uint32_t pm1a_evt_blk;        /* 56 */
	uint32_t pm1b_evt_blk;        /* 60 */
	uint32_t pm1a_cnt_blk;        /* 64 */
	uint32_t pm1b_cnt_blk;        /* 68 */
	uint32_t pm2_cnt_blk;         /* 72 */
	uint32_t pm_tmr_blk;          /* 76 */
	uint32_t gpe0_blk;            /* 80 */
	uint32_t gpe1_blk;            /* 84 */
	uint8_t pm1_evt_len;          /* 88 */
	uint8_t pm1_cnt_len;          /* 89 */
	uint8_t pm2_cnt_len;          /* 90 */
	uint8_t pm_tmr_len;           /* 91 */
	uint8_t gpe0_blk_len;         /* 92 */
	uint8_t gpe1_blk_len;         /* 93 */
	uint8_t gpe1_base;            /* 94 */
	uint8_t cst_cnt;              /* 95 */
	uint16_t p_lvl2_lat;          /* 96 */
	uint16_t p_lvl3_lat;          /* 98 */
	uint16_t flush_size;          /* 100 */
	uint16_t flush_stride;        /* 102 */
	uint8_t duty_offset;          /* 104 */
	uint8_t duty_width;           /* 105 */
	uint8_t day_alrm;             /* 106 */
	uint8_t mon_alrm;             /* 107 */
	uint8_t century;              /* 108 */
	uint16_t iapc_boot_arch;      /* 109 */
	uint8_t reserved1;            /* 111 */
	uint32_t flags;               /* 112 */
	struct acpi_gas reset_reg;    /* 116 */
	uint8_t reset_value;          /* 128 */
	uint16_t arm_boot_arch;       /* 129 */
	uint8_t minor_version;        /* 131 */
	uint64_t x_firmware_ctrl;     /* 132 */
	uint64_t x_dsdt;              /* 140 */
	struct acpi_gas x_pm1a_evt_blk; /* 148 */
	struct acpi_gas x_pm1b_evt_blk; /* 160 */
	struct acpi_gas x_pm1a_cnt_blk; /* 172 */
	struct acpi_gas x_pm1b_cnt_blk; /* 184 */
	struct acpi_gas x_pm2_cnt_blk;  /* 196 */
	struct acpi_gas x_pm_tmr_blk;   /* 208 */
	struct acpi_gas x_gpe0_blk;     /* 220 */
	struct acpi_gas x_gpe1_blk;     /* 232 */
	struct acpi_gas sleep_control;  /* 244 */
	struct acpi_gas sleep_status;   /* 256 */
	char hypervisor_id[8];          /* 268 */
} __attribute__((packed));

/* The spec's offsets; a mistake here silently breaks power-off or reset. */
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT rev 6 is 276 bytes");
_Static_assert(offsetof(struct acpi_fadt, iapc_boot_arch) == 109, "IAPC_BOOT_ARCH");
_Static_assert(offsetof(struct acpi_fadt, flags) == 112, "Flags");
_Static_assert(offsetof(struct acpi_fadt, reset_reg) == 116, "RESET_REG");
_Static_assert(offsetof(struct acpi_fadt, reset_value) == 128, "RESET_VALUE");
_Static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "X_DSDT");
_Static_assert(offsetof(struct acpi_fadt, sleep_control) == 244, "SLEEP_CONTROL_REG");
_Static_assert(offsetof(struct acpi_fadt, sleep_status) == 256, "SLEEP_STATUS_REG");

#define FADT_REVISION        6
#define FADT_MINOR_VERSION   0   /* every field above exists since 6.0 */

#define FADT_F_PWR_BUTTON    (1u << 4)   /* power button is not fixed-feature */
#define FADT_F_SLP_BUTTON    (1u << 5)   /* sleep button is not fixed-feature */
#define FADT_F_RESET_REG_SUP (1u << 10)
#define FADT_F_HW_REDUCED    (1u << 20)

#define FADT_BOOT_NO_VGA     (1u << 2)   /* do not probe VGA memory/ports */
#define FADT_BOOT_NO_CMOS    (1u << 5)   /* no CMOS RTC: Linux skips rtc_cmos */

static struct acpi_gas io_byte(uint16_t port)
{
	return (struct acpi_gas){
		.space_id = ACPI_GAS_SYSTEM_IO,
		.bit_width = 8,
		.bit_offset = 0,
		.access_size = ACPI_GAS_ACCESS_BYTE,
		.address = port,
	};
}

int acpi_build_fadt(struct acpi_builder *b, const struct acpi_config *cfg, uint64_t dsdt_gpa)
{
	struct acpi_fadt f;
	uint64_t gpa;
	uint8_t *p;

	/* The legacy 32-bit DSDT field must agree with X_DSDT or be 0. */
	if (dsdt_gpa == 0 || dsdt_gpa > UINT32_MAX)
		return -EINVAL;
	/* All three registers are byte ports above pm_port; none may wrap. */
	if ((uint32_t)cfg->pm_port + ACPI_RESET_OFF > UINT16_MAX)
		return -EINVAL;

	memset(&f, 0, sizeof(f));
	acpi_header_init(&f.header, "FACP", sizeof(f), FADT_REVISION);
	f.minor_version = FADT_MINOR_VERSION;
	f.dsdt = (uint32_t)dsdt_gpa;
	f.x_dsdt = dsdt_gpa;
	f.flags = FADT_F_HW_REDUCED | FADT_F_RESET_REG_SUP |
		  FADT_F_PWR_BUTTON | FADT_F_SLP_BUTTON;
	/* Bit 1 (8042) stays clear: Linux then does not probe for an i8042. */
	f.iapc_boot_arch = FADT_BOOT_NO_VGA | FADT_BOOT_NO_CMOS;
	f.reset_reg = io_byte((uint16_t)(cfg->pm_port + ACPI_RESET_OFF));
	f.reset_value = ACPI_RESET_VALUE;
	f.sleep_control = io_byte((uint16_t)(cfg->pm_port + ACPI_SLEEP_CONTROL_OFF));
	f.sleep_status = io_byte((uint16_t)(cfg->pm_port + ACPI_SLEEP_STATUS_OFF));
	memcpy(f.hypervisor_id, "VMMKVM  ", sizeof(f.hypervisor_id));

	int ret = acpi_alloc(b, sizeof(f), &gpa, &p);
	if (ret < 0)
		return ret;
	memcpy(p, &f, sizeof(f));
	return acpi_publish(b, gpa, true);
}
