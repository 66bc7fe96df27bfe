/*
 * boot.h - everything needed to enter a Linux kernel at its 64-bit entry:
 * the guest physical memory layout, parsing and loading of a bzImage or an
 * uncompressed ELF vmlinux, the zero page (boot_params) with its e820 map,
 * the identity page tables and GDT, and the ACPI tables.
 *
 * Every builder here is pure: it takes a guest_mem view (or a buffer) and
 * plain parameters, writes guest memory through bounds-checked helpers and
 * returns 0 or -errno. None calls ioctl or opens a file: a loader reads
 * through the struct boot_file its caller gives it, and vmm/ turns the
 * results into KVM state. Where an error needs explaining to a user, the
 * function also sets *why to a static string that says what was wrong.
 */
#ifndef BOOT_BOOT_H
#define BOOT_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../vmm/guest_mem.h"

/*
 * Guest physical layout. Everything the VMM itself places lives below
 * 1 MiB; the kernel goes at 1 MiB, the initrd at the top of low RAM.
 *
 *   0x00000500  GDT (4 entries)
 *   0x00007000  boot_params (zero page, 4 KiB)
 *   0x00009000  PML4, 0x0000A000 PDPT, 0x0000B000-0x0000EFFF four PDs:
 *               identity map of 0-4 GiB with 2 MiB pages
 *   0x00020000  kernel command line (up to BOOT_CMDLINE_MAX bytes)
 *   0x0009FC00-0x000FFFFF  reserved in e820 (EBDA, VGA, BIOS area)
 *   0x000E0000  ACPI tables (RSDP first, found by the BIOS-area scan too)
 *   0x00100000  protected-mode kernel (bzImage); an ELF vmlinux goes where
 *               its program headers say, at or above this address
 *   RAM above BOOT_LOW_RAM_END is placed from 4 GiB up; the gap is MMIO
 *   (PCI MMIO window 0xC0000000, PCI ECAM 0xFB000000, IOAPIC 0xFEC00000,
 *   VT-d 0xFED90000, LAPIC 0xFEE00000).
 */
#define BOOT_GDT_GPA        0x500ULL
#define BOOT_PARAMS_GPA     0x7000ULL
#define BOOT_PML4_GPA       0x9000ULL
#define BOOT_PDPT_GPA       0xA000ULL
#define BOOT_PD_GPA         0xB000ULL
#define BOOT_CMDLINE_GPA    0x20000ULL
#define BOOT_CMDLINE_MAX    0x10000U
#define BOOT_EBDA_GPA       0x9FC00ULL
#define BOOT_ACPI_GPA       0xE0000ULL
#define BOOT_ACPI_END       0x100000ULL
#define BOOT_KERNEL_GPA     0x100000ULL
#define BOOT_LOW_RAM_END    0xC0000000ULL
#define BOOT_HIGH_RAM_GPA   0x100000000ULL

#define BOOT_IOAPIC_GPA     0xFEC00000ULL
#define BOOT_LAPIC_GPA      0xFEE00000ULL

/*
 * PCI (bus 0 only). The 32-bit MMIO window the host bridge forwards, then
 * ECAM for bus 0 right above it; both end below the IOAPIC, and the DSDT
 * (PCI0 _CRS, the PNP0C02 that reserves ECAM) and the MCFG repeat these
 * numbers (tests/unit/test_acpi.c checks they agree). The I/O window starts
 * above every legacy port and the ACPI PM block at 0x600; 0xCF8-0xCFF
 * (config mechanism #1) lies below it.
 */
#define BOOT_PCI_MMIO_GPA   0xC0000000ULL
#define BOOT_PCI_MMIO_SIZE  0x3B000000ULL   /* up to 0xFAFFFFFF */
#define BOOT_PCI_ECAM_GPA   0xFB000000ULL
#define BOOT_PCI_ECAM_SIZE  0x100000ULL     /* 1 MiB: bus 0 only */
#define BOOT_PCI_IO_BASE    0x1000U
#define BOOT_PCI_IO_SIZE    0xF000U         /* up to 0xFFFF */

/* GDT selectors the 64-bit entry uses (GDT: null, null, code64, data). */
#define BOOT_SEL_CODE       0x10
#define BOOT_SEL_DATA       0x18

/* --- the files the loaders read -------------------------------------------- */

/*
 * A kernel or initrd file as the parsers and loaders see it. Parsers read
 * only head, the file's first head_len bytes held in memory; the loaders
 * have read() copy the bytes that go into the guest straight to guest RAM,
 * so the VMM never holds a second copy of a 60 MiB vmlinux (vmm/vm_boot.c
 * reads with pread; building that copy was most of the VMM's startup in the
 * test bed). read() writes exactly n bytes from file offset off to dst and
 * returns 0, or returns -errno (-EIO for a file shorter than len: it changed
 * after it was opened). Loaders ask only for ranges inside [0, len).
 *
 * boot_file_memory() describes a file held wholly in memory (head_len ==
 * len); bzimage_parse, vmlinux_parse and initrd_load take that form.
 */
struct boot_file {
	const uint8_t *head;    /* owned by the caller, alive until the load */
	size_t head_len;        /* <= len */
	uint64_t len;           /* of the whole file */
	int (*read)(void *ctx, uint64_t off, void *dst, size_t n);
	void *ctx;
};

/* How much of a kernel file vmm/vm_boot.c reads as head: all the headers of either kind. */
#define BOOT_FILE_HEAD_MAX 0x10000U

/* data NULL: an empty file. */
void boot_file_memory(struct boot_file *f, const void *data, size_t len);

/* --- bzImage ------------------------------------------------------------ */

struct bzimage {
	struct boot_file file;  /* head holds at least the setup header (BZ_MIN_LEN) */
	uint16_t version;       /* boot protocol, e.g. 0x020f */
	uint32_t setup_len;     /* (setup_sects + 1) * 512: file offset of the PM part */
	uint32_t pm_len;        /* bytes of the protected-mode kernel */
	uint32_t init_size;     /* bytes the kernel needs from its load address */
	uint32_t initrd_addr_max;
	uint32_t cmdline_size;  /* max cmdline length, excluding the NUL */
	uint16_t xloadflags;
};

/*
 * Validate a bzImage held in memory: size, "HdrS" magic, boot protocol
 * >= 2.12 (for xloadflags), XLF_KERNEL_64, setup_sects and payload within
 * the file. -ENOEXEC (with *why) when it is not a bootable 64-bit bzImage.
 */
int bzimage_parse(const void *image, size_t len, struct bzimage *bz, const char **why);
/* The same for a file of which only f->head is in memory; bz keeps a copy of *f. */
int bzimage_parse_file(const struct boot_file *f, struct bzimage *bz, const char **why);

/*
 * Read the protected-mode part to BOOT_KERNEL_GPA; -ENOMEM if init_size
 * does not fit, or the file's read error (with *why).
 */
int bzimage_load(const struct guest_mem *gm, const struct bzimage *bz, const char **why);

/* --- ELF vmlinux ------------------------------------------------------------ */

/*
 * The uncompressed kernel, as the build leaves it (or as a bzImage carries
 * it, compressed): an x86-64 ET_EXEC whose PT_LOAD segments are placed at
 * their physical addresses (p_paddr) and entered at e_entry, which the
 * linker script makes physical too (ENTRY(phys_startup_64)). Booting it
 * skips the in-guest decompressor, and with it KASLR: the decompressor is
 * what picks a random base.
 */
#define VMLINUX_MAX_PHDRS 32    /* a Linux vmlinux has 5; more is not a kernel */

/*
 * A vmlinux has no setup header to declare its limits, so these are the
 * values Linux's own header declares (arch/x86/boot/header.S, 6.1), which
 * its bzImage would give: initrd_addr_max 0x7fffffff; cmdline_size
 * COMMAND_LINE_SIZE - 1 = 2047 (arch/x86/include/asm/setup.h: 2048, and
 * head64.c copy_bootdata copies exactly that many bytes from cmd_line_ptr,
 * so a longer line would be cut); kernel_alignment 2 MiB, the least x86-64
 * allows (asm/boot.h MIN_KERNEL_ALIGN) and Debian's CONFIG_PHYSICAL_ALIGN.
 * The VMM holds itself to the first two, and writes all three into the
 * header it makes for the kernel (boot_params_build).
 */
#define VMLINUX_INITRD_ADDR_MAX 0x7fffffffU
#define VMLINUX_CMDLINE_SIZE    2047U
#define VMLINUX_KERNEL_ALIGN    0x200000U

struct vmlinux_segment {
	uint64_t offset;        /* file offset of the segment's bytes */
	uint64_t paddr;         /* guest physical address it is loaded at */
	uint64_t filesz;        /* bytes copied from the file, <= memsz */
	uint64_t memsz;         /* bytes it occupies; the rest after filesz is zeroed */
};

struct vmlinux {
	struct boot_file file;  /* head holds the ELF and program headers */
	uint64_t entry;         /* e_entry: GPA of startup_64 */
	uint64_t start;         /* lowest byte any segment occupies */
	uint64_t end;           /* one past the highest: the initrd goes at or above */
	unsigned nsegs;         /* PT_LOADs with p_memsz > 0, in file order */
	struct vmlinux_segment seg[VMLINUX_MAX_PHDRS];
};

/*
 * Validate an ELF vmlinux held in memory: ELF64, little endian, EM_X86_64,
 * ET_EXEC, e_phentsize == sizeof(Elf64_Phdr), 1..VMLINUX_MAX_PHDRS program
 * headers inside the file, at least one non-empty PT_LOAD; each PT_LOAD with
 * p_filesz <= p_memsz, its bytes inside the file, its memory inside
 * [BOOT_KERNEL_GPA, BOOT_LOW_RAM_END) (so nothing lands on the zero page,
 * page tables, command line or ACPI tables below 1 MiB) and overlapping no
 * other; e_entry inside the file-backed part of an executable PT_LOAD.
 * -ENOEXEC (with *why) otherwise; *vl is written only on success.
 */
int vmlinux_parse(const void *image, size_t len, struct vmlinux *vl, const char **why);
/*
 * The same for a file of which only f->head is in memory; vl keeps a copy
 * of *f. The program headers must lie in the head too.
 */
int vmlinux_parse_file(const struct boot_file *f, struct vmlinux *vl, const char **why);

/*
 * Read each segment's p_filesz bytes to its p_paddr and zero the rest of
 * its p_memsz. -ENOMEM (with *why, nothing written) unless [start, end)
 * lies in one guest RAM region: the kernel takes _text.._end as contiguous.
 * A read error is returned with *why.
 */
int vmlinux_load(const struct guest_mem *gm, const struct vmlinux *vl, const char **why);

/* --- the kernel, whichever kind: what the initrd, zero page and vCPU need -- */

enum boot_kernel_kind {
	BOOT_KERNEL_NONE = 0,   /* a zeroed struct: not made by boot_kernel_from_*() */
	BOOT_KERNEL_BZIMAGE,
	BOOT_KERNEL_VMLINUX,
};

/*
 * Made only by boot_kernel_from_*(). Every user checks (boot_kernel_check,
 * -EINVAL if broken): kind is BZIMAGE or VMLINUX; entry and end lie in
 * [BOOT_KERNEL_GPA, BOOT_LOW_RAM_END] (end > BOOT_KERNEL_GPA); a bzImage's
 * bz.file.head reaches past the setup header's jump byte (0x201), which
 * boot_params_build reads to size the header.
 */
struct boot_kernel {
	enum boot_kernel_kind kind;
	uint64_t entry;           /* GPA of the 64-bit entry: the boot vCPU's RIP */
	uint64_t end;             /* first GPA past what the kernel occupies before it reads e820 */
	uint32_t initrd_addr_max; /* last byte the initrd may occupy */
	uint32_t cmdline_size;    /* longest command line the kernel takes, without the NUL */
	struct bzimage bz;        /* BZIMAGE only: its setup header goes into the zero page */
	struct vmlinux vl;        /* VMLINUX only: its segments */
};

/*
 * Describe a parsed kernel. -EINVAL (with *why) when bz or vl did not come
 * from a successful bzimage_parse / vmlinux_parse.
 */
int boot_kernel_from_bzimage(struct boot_kernel *k, const struct bzimage *bz, const char **why);
int boot_kernel_from_vmlinux(struct boot_kernel *k, const struct vmlinux *vl, const char **why);

/* 0 when k keeps the invariants above, else -EINVAL with *why. */
int boot_kernel_check(const struct boot_kernel *k, const char **why);

/* Load the kernel of either kind: bzimage_load or vmlinux_load. */
int boot_kernel_load(const struct guest_mem *gm, const struct boot_kernel *k, const char **why);

/*
 * Place the initrd page-aligned at the highest address that is below both
 * BOOT_LOW_RAM_END and k->initrd_addr_max and at or above k->end, in the
 * region that holds BOOT_KERNEL_GPA. *gpa receives where it went. -ENOMEM
 * (with *why) when it does not fit; a read error is returned with *why.
 * initrd_load takes the initrd in memory, initrd_load_file reads it.
 */
int initrd_load(const struct guest_mem *gm, const struct boot_kernel *k,
		const void *initrd, size_t len, uint64_t *gpa, const char **why);
int initrd_load_file(const struct guest_mem *gm, const struct boot_kernel *k,
		     const struct boot_file *initrd, uint64_t *gpa, const char **why);

/* --- boot_params and e820 ------------------------------------------------ */

#define E820_RAM      1
#define E820_RESERVED 2

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

/*
 * The e820 map for gm: RAM below BOOT_EBDA_GPA, reserved up to 1 MiB, RAM
 * from 1 MiB to the end of each region. Returns the number of entries
 * (<= max) or -ENOSPC.
 */
int e820_build(const struct guest_mem *gm, struct e820_entry *tab, unsigned max);

struct boot_args {
	const char *cmdline;   /* may be NULL: empty */
	uint64_t initrd_gpa;   /* 0 when there is none */
	uint64_t initrd_size;
	uint64_t rsdp_gpa;     /* 0 when there are no ACPI tables */
};

/*
 * Write the zero page at BOOT_PARAMS_GPA and the command line at
 * BOOT_CMDLINE_GPA. The setup header is the bzImage's own, copied; an ELF
 * vmlinux has none, so a minimal one is written in its place (what the
 * kernel proper reads: boot_params.c says which fields and why). Then
 * type_of_loader 0xff, cmd_line_ptr, ramdisk, acpi_rsdp_addr and the e820
 * map. -E2BIG (with *why) when the command line is longer than
 * k->cmdline_size; nothing is written on any failure.
 */
int boot_params_build(const struct guest_mem *gm, const struct boot_kernel *k,
		      const struct boot_args *args, const char **why);

/* --- CPU state for the 64-bit entry --------------------------------------- */

/* Write the GDT and identity page tables into guest memory. */
int boot_setup_page_tables(const struct guest_mem *gm);

/*
 * The x86 reset vector (physical 0xFFFF0, where a CPU starts after reset
 * and where Linux jumps for a "BIOS" reboot). There is no firmware, so
 * what sits there asks for a reset the way Linux's reboot=k does: 0xFE to
 * port 0x64. Linux picks this path on a HW-reduced ACPI machine without
 * EFI (it prefers EFI reboot, which is absent, then falls back to BIOS).
 */
#define BOOT_RESET_VECTOR_GPA 0xFFFF0ULL
int boot_setup_reset_vector(const struct guest_mem *gm);

/* --- ACPI ------------------------------------------------------------------ */

struct acpi_config {
	unsigned ncpus;          /* one LAPIC entry each, APIC ids 0..ncpus-1 */
	uint64_t ioapic_gpa;     /* BOOT_IOAPIC_GPA */
	uint16_t pm_port;        /* HW-reduced sleep control (+0), status (+1), reset (+2) */
	bool iommu;              /* add a DMAR for the VT-d at BOOT_VTD_GPA (acpi_dmar.h) */
};

#define ACPI_SLEEP_CONTROL_OFF 0
#define ACPI_SLEEP_STATUS_OFF  1
#define ACPI_RESET_OFF         2
#define ACPI_RESET_VALUE       0x01
#define ACPI_S5_SLP_TYP        5   /* what the DSDT's _S5_ package says */

/*
 * Build RSDP (at BOOT_ACPI_GPA), XSDT, FADT (HW_REDUCED_ACPI, sleep and
 * reset registers at cfg->pm_port), DSDT, MADT and MCFG (ECAM for bus 0 at
 * BOOT_PCI_ECAM_GPA), and with cfg->iommu a DMAR (one DRHD at BOOT_VTD_GPA)
 * in [BOOT_ACPI_GPA, BOOT_ACPI_END). *rsdp_gpa receives the RSDP address.
 */
int acpi_build(const struct guest_mem *gm, const struct acpi_config *cfg, uint64_t *rsdp_gpa);

#endif
