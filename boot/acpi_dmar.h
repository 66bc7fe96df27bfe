/*
 * acpi_dmar.h - the DMA Remapping table (DMAR) that tells the guest where
 * the emulated VT-d lives. Built by acpi_dmar.c with the ACPI builder of
 * acpi.h; acpi_build() calls it when the VM has an IOMMU.
 */
#ifndef BOOT_ACPI_DMAR_H
#define BOOT_ACPI_DMAR_H

#include <stdint.h>

#include "acpi.h"

/*
 * Customary VT-d register page: 4 KiB aligned, in the MMIO hole between
 * the IOAPIC (0xFEC00000) and the LAPIC (0xFEE00000), clear of RAM, the
 * PCI windows and ECAM.
 */
#define BOOT_VTD_GPA 0xFED90000ULL

/* Byte 36: host address width - 1. 48 bits, matching CAP.MGAW (VTD_AW_BITS). */
#define ACPI_DMAR_HAW 48u

/*
 * Build and publish (in the XSDT) a DMAR with one DRHD (INCLUDE_PCI_ALL,
 * segment 0) whose register base is reg_base, and flags 0 (no interrupt
 * remapping, no x2APIC opt-out). reg_base must be non-zero and 4 KiB
 * aligned (-EINVAL). Errors of acpi_alloc/acpi_publish are passed on.
 */
int acpi_build_dmar(struct acpi_builder *b, uint64_t reg_base);

#endif
