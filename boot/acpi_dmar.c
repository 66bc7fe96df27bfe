/*
 * acpi_dmar.c - the DMA Remapping Reporting table ("DMAR", VT-d spec
 * chapter 8).
 *
 * Layout: the 36-byte header, host address width - 1 (byte 36), flags
 * (byte 37), 10 reserved bytes, then remapping structures from byte 48.
 * One DRHD with INCLUDE_PCI_ALL covers every PCI device of segment 0, so
 * no device scope entries are needed; Linux then puts every device behind
 * this unit. Flags stay 0: INTR_REMAP would make Linux use interrupt
 * remapping, which the model does not implement (ECAP.IR = 0).
 */
#include "acpi_dmar.h"

#include <errno.h>
#include <string.h>

#define DMAR_REVISION 1

struct dmar_fixed {
	struct acpi_sdt_header header;
	uint8_t host_addr_width;   /* width - 1 */
	uint8_t flags;
	uint8_t reserved[10];
} __attribute__((packed));

struct dmar_drhd {                 /* type 0 */
	uint16_t type;
	uint16_t length;           /* 16 + device scopes (none) */
	uint8_t flags;             /* bit 0 INCLUDE_PCI_ALL */
	uint8_t size;              /* register set size, 2^size pages; 0 = 4 KiB (VT-d 4.0) */
	uint16_t segment;
	uint64_t reg_base;
} __attribute__((packed));

_Static_assert(sizeof(struct dmar_fixed) == 48, "DMAR fixed part");
_Static_assert(sizeof(struct dmar_drhd) == 16, "DRHD without scopes");

#define DMAR_TYPE_DRHD        0
#define DRHD_INCLUDE_PCI_ALL  1u

int acpi_build_dmar(struct acpi_builder *b, uint64_t reg_base)
{
	struct dmar_fixed d;
	struct dmar_drhd h;
	uint64_t gpa;
	uint8_t *p;
	const uint64_t len = sizeof(d) + sizeof(h);

	if (b == NULL || reg_base == 0 || (reg_base & 0xfff) != 0)
		return -EINVAL;
	int ret = acpi_alloc(b, len, &gpa, &p);
	if (ret < 0)
		return ret;

	memset(&d, 0, sizeof(d));
	acpi_header_init(&d.header, "DMAR", (uint32_t)len, DMAR_REVISION);
	d.host_addr_width = ACPI_DMAR_HAW - 1;
	d.flags = 0;
	memcpy(p, &d, sizeof(d));

	h = (struct dmar_drhd){
		.type = DMAR_TYPE_DRHD,
		.length = sizeof(h),
		.flags = DRHD_INCLUDE_PCI_ALL,
		.segment = 0,
		.reg_base = reg_base,
	};
	memcpy(p + sizeof(d), &h, sizeof(h));
	return acpi_publish(b, gpa, true);
}
