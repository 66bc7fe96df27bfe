/*
 * dsdt.asl - the guest's Differentiated System Description Table.
 *
 * Compiled by iasl at build time and embedded as dsdt_aml[] (see the
 * Makefile's $(GEN)/%_aml.c rule); boot/acpi.c copies it verbatim into
 * guest memory, so the header below (signature, checksum) is final.
 *
 * Revision 2: integers are 64-bit, as every x86-64 OS expects.
 *
 * The FADT is HW-reduced: there are no fixed-feature PM1 blocks, so the
 * only power-management AML the guest needs is the \_S5_ package telling
 * it which SLP_TYP to write to the FADT's SLEEP_CONTROL_REG on poweroff.
 */
DefinitionBlock ("", "DSDT", 2, "VMM   ", "VMMDSDT ", 0x00000001)
{
    /*
     * Soft-off. The first element (SLP_TYPa) is what a HW-reduced OS uses:
     * Linux writes (SLP_TYP << 2) | SLP_EN (bit 5) to SLEEP_CONTROL_REG.
     * It MUST equal ACPI_S5_SLP_TYP in boot/boot.h, which the power device
     * compares against; tests/unit/test_acpi.c checks the compiled bytes.
     * The second element (SLP_TYPb) is unused without PM1b; the last two
     * are reserved.
     */
    Name (\_S5, Package (0x04)
    {
        0x05,
        0x05,
        Zero,
        Zero
    })

    Scope (\_SB)
    {
        /*
         * The PCI host bridge (PNP0A08/PNP0A03 with its _CRS bus range and
         * I/O + MMIO windows) goes here: with ACPI on, Linux only scans PCI
         * buses that the DSDT describes.
         */

        /*
         * COM1, the 16550 the VMM emulates at 0x3F8 with ISA IRQ 4. IRQ 4
         * reaches the IOAPIC as GSI 4 (identity ISA mapping, edge,
         * active-high: no MADT interrupt source override needed).
         */
        Device (COM1)
        {
            Name (_HID, EisaId ("PNP0501"))
            Name (_UID, One)
            Name (_CRS, ResourceTemplate ()
            {
                IO (Decode16,
                    0x03F8,             // Range Minimum
                    0x03F8,             // Range Maximum
                    0x01,               // Alignment
                    0x08,               // Length
                    )
                IRQNoFlags ()
                    {4}
            })
        }
    }
}
