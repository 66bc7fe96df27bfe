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
         * The PCI host bridge: with ACPI on, Linux only scans the PCI buses
         * the DSDT describes, and keeps a BAR only if it lies inside one of
         * the windows this _CRS produces. Every number here MUST equal its
         * BOOT_PCI_* constant in boot/boot.h (devices/pci.c assigns BARs
         * from those windows); tests/unit/test_acpi.c checks the bytes.
         * PNP0A08 (PCI Express root) with PNP0A03 as the compatible id:
         * the host bridge that goes with an MCFG. No _PRT: devices have
         * interrupt pin 0 and use MSI-X only.
         */
        Device (PCI0)
        {
            Name (_HID, EisaId ("PNP0A08"))
            Name (_CID, EisaId ("PNP0A03"))
            Name (_SEG, Zero)
            Name (_BBN, Zero)
            Name (_UID, Zero)
            Name (_CRS, ResourceTemplate ()
            {
                /* Bus 0 only (the MCFG covers exactly that). */
                WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
                    0x0000,             // Granularity
                    0x0000,             // Range Minimum
                    0x0000,             // Range Maximum
                    0x0000,             // Translation Offset
                    0x0001,             // Length
                    ,, )
                /* Config mechanism #1, consumed by the bridge itself. */
                IO (Decode16,
                    0x0CF8,             // Range Minimum
                    0x0CF8,             // Range Maximum
                    0x01,               // Alignment
                    0x08,               // Length
                    )
                /* I/O window: BOOT_PCI_IO_BASE, BOOT_PCI_IO_SIZE. */
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,
                    0x0000,             // Granularity
                    0x1000,             // Range Minimum
                    0xFFFF,             // Range Maximum
                    0x0000,             // Translation Offset
                    0xF000,             // Length
                    ,, , TypeStatic, DenseTranslation)
                /* MMIO window: BOOT_PCI_MMIO_GPA, BOOT_PCI_MMIO_SIZE. */
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,
                    0x00000000,         // Granularity
                    0xC0000000,         // Range Minimum
                    0xFAFFFFFF,         // Range Maximum
                    0x00000000,         // Translation Offset
                    0x3B000000,         // Length
                    ,, , AddressRangeMemory, TypeStatic)
            })

            /*
             * PCI Firmware _OSC: there is no firmware that could handle
             * PCIe features, so grant the OS whatever it asks for (Arg3
             * returned as is). Only flag an unknown UUID (CDW1 bit 2) or
             * revision (bit 3). Without _OSC Linux works too but reports
             * that the platform retains control and disables ASPM.
             */
            Method (_OSC, 4, NotSerialized)
            {
                CreateDWordField (Arg3, Zero, CDW1)
                If ((Arg0 == ToUUID ("33db4d5b-1ff7-401c-9657-7441c03dd766")))
                {
                    If ((Arg1 != One))
                    {
                        CDW1 |= 0x08
                    }
                }
                Else
                {
                    CDW1 |= 0x04
                }

                Return (Arg3)
            }
        }

        /*
         * Motherboard resources: the ECAM region (BOOT_PCI_ECAM_GPA,
         * BOOT_PCI_ECAM_SIZE) the MCFG points at. Linux uses MMCONFIG only
         * if the region is reserved here or in E820; it stays outside the
         * PCI0 windows so no BAR can ever be placed over it.
         */
        Device (PRES)
        {
            Name (_HID, EisaId ("PNP0C02"))
            Name (_UID, One)
            Name (_CRS, ResourceTemplate ()
            {
                Memory32Fixed (ReadWrite,
                    0xFB000000,         // Address Base
                    0x00100000,         // Address Length
                    )
            })
        }

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
