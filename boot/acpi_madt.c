/*
 * acpi_madt.c - the Multiple APIC Description Table ("APIC", 5.2.12).
 *
 * Layout: header, local APIC address, flags, then one Processor Local APIC
 * entry per CPU (APIC id = ACPI processor uid = CPU index, matching the
 * APIC ids the VMM programs into each vCPU's CPUID), one IOAPIC and one
 * Local APIC NMI entry routing NMI to LINT1 on every CPU.
 *
 * Flags are 0 (no PCAT_COMPAT): the VMM has no 8259, so Linux must not try
 * to use or mask one. No Interrupt Source Override: there is no PIT on
 * IRQ 0 and the identity ISA IRQ n -> GSI n (edge, active-high) mapping is
 * exactly what the serial port on IRQ 4 needs.
 */
#include "acpi.h"

#include <errno.h>
#include <string.h>

#define MADT_REVISION 5   /* ACPI 6.x; types 0, 1 and 4 are unchanged since 1.0 */

struct madt_fixed {
	struct acpi_sdt_header header;
	uint32_t lapic_address;
	uint32_t flags;
} __attribute__((packed));

struct madt_lapic {               /* type 0 */
	uint8_t type;
	uint8_t length;               /* 8 */
	uint8_t processor_uid;
	uint8_t apic_id;
	uint32_t flags;               /* bit 0 enabled */
} __attribute__((packed));

struct madt_ioapic {              /* type 1 */
	uint8_t type;
	uint8_t length;               /* 12 */
	uint8_t ioapic_id;
	uint8_t reserved;
	uint32_t address;
	uint32_t gsi_base;
} __attribute__((packed));

struct madt_lapic_nmi {           /* type 4 */
	uint8_t type;
	uint8_t length;               /* 6 */
	uint8_t processor_uid;        /* 0xFF: all processors */
	uint16_t flags;               /* 0: conforms to the bus (edge, high) */
	uint8_t lint;
} __attribute__((packed));

_Static_assert(sizeof(struct madt_fixed) == 44, "MADT fixed part");
_Static_assert(sizeof(struct madt_lapic) == 8, "MADT type 0");
_Static_assert(sizeof(struct madt_ioapic) == 12, "MADT type 1");
_Static_assert(sizeof(struct madt_lapic_nmi) == 6, "MADT type 4");

#define MADT_TYPE_LAPIC      0
#define MADT_TYPE_IOAPIC     1
#define MADT_TYPE_LAPIC_NMI  4
#define MADT_LAPIC_ENABLED   1u
#define MADT_ALL_PROCESSORS  0xFF

int acpi_build_madt(struct acpi_builder *b, const struct acpi_config *cfg)
{
	struct madt_fixed m;
	uint64_t gpa, len;
	uint8_t *p;
	size_t off;

	if (cfg->ncpus == 0 || cfg->ncpus > 255)
		return -EINVAL;
	/* The MADT carries 32-bit MMIO addresses only. */
	if (cfg->ioapic_gpa == 0 || cfg->ioapic_gpa > UINT32_MAX)
		return -EINVAL;

	len = sizeof(m) + (uint64_t)cfg->ncpus * sizeof(struct madt_lapic) +
	      sizeof(struct madt_ioapic) + sizeof(struct madt_lapic_nmi);
	int ret = acpi_alloc(b, len, &gpa, &p);
	if (ret < 0)
		return ret;

	/* Every write below stays inside [p, p + len): `len` counts them all. */
	memset(&m, 0, sizeof(m));
	acpi_header_init(&m.header, "APIC", (uint32_t)len, MADT_REVISION);
	m.lapic_address = (uint32_t)BOOT_LAPIC_GPA;
	m.flags = 0;
	memcpy(p, &m, sizeof(m));
	off = sizeof(m);

	for (unsigned i = 0; i < cfg->ncpus; i++) {
		struct madt_lapic e = {
			.type = MADT_TYPE_LAPIC,
			.length = sizeof(e),
			.processor_uid = (uint8_t)i,
			.apic_id = (uint8_t)i,
			.flags = MADT_LAPIC_ENABLED,
		};
		memcpy(p + off, &e, sizeof(e));
		off += sizeof(e);
	}

	struct madt_ioapic io = {
		.type = MADT_TYPE_IOAPIC,
		.length = sizeof(io),
		.ioapic_id = acpi_ioapic_id(cfg->ncpus),
		.address = (uint32_t)cfg->ioapic_gpa,
		.gsi_base = 0,
	};
	memcpy(p + off, &io, sizeof(io));
	off += sizeof(io);

	struct madt_lapic_nmi nmi = {
		.type = MADT_TYPE_LAPIC_NMI,
		.length = sizeof(nmi),
		.processor_uid = MADT_ALL_PROCESSORS,
		.flags = 0,
		.lint = 1,
	};
	memcpy(p + off, &nmi, sizeof(nmi));

	return acpi_publish(b, gpa, true);
}
