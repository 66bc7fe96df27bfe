/*
 * acpi_mcfg.c - the MCFG table (PCI Firmware Specification 3.x, 4.1.2): one
 * allocation saying where ECAM for segment 0, bus 0 lives.
 *
 * Without MCFG Linux still reaches the first 256 bytes of config space
 * through 0xCF8/0xCFC, but not the extended space above 0x100. Linux only
 * uses the region if it is also reserved: the DSDT's PNP0C02 device (\_SB.PRES)
 * claims exactly [BOOT_PCI_ECAM_GPA, +BOOT_PCI_ECAM_SIZE) as a motherboard
 * resource, which is what arch/x86/pci/mmconfig-shared.c checks once ACPI
 * is up (there is no E820 entry for it, so the early check declines first).
 */
#include "acpi.h"

#include <string.h>

struct acpi_mcfg_alloc {
	uint64_t base;            /* ECAM of bus start_bus */
	uint16_t segment;
	uint8_t start_bus;
	uint8_t end_bus;
	uint32_t reserved;
} __attribute__((packed));

struct acpi_mcfg {
	struct acpi_sdt_header h;
	uint8_t reserved[8];
	struct acpi_mcfg_alloc alloc[1];
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_mcfg_alloc) == 16, "MCFG allocation is 16 bytes");
_Static_assert(sizeof(struct acpi_mcfg) == 60, "MCFG with one allocation is 60 bytes");
/* One bus is 32 devices x 8 functions x 4 KiB. */
_Static_assert(BOOT_PCI_ECAM_SIZE == 1u << 20, "ECAM covers exactly bus 0");

int acpi_build_mcfg(struct acpi_builder *b)
{
	struct acpi_mcfg t;
	uint8_t *p;
	uint64_t gpa;

	int ret = acpi_alloc(b, sizeof(t), &gpa, &p);
	if (ret < 0)
		return ret;
	memset(&t, 0, sizeof(t));
	acpi_header_init(&t.h, "MCFG", sizeof(t), 1);
	t.alloc[0].base = BOOT_PCI_ECAM_GPA;
	t.alloc[0].segment = 0;
	t.alloc[0].start_bus = 0;
	t.alloc[0].end_bus = 0;
	memcpy(p, &t, sizeof(t));
	return acpi_publish(b, gpa, true);
}
