/*
 * cpu_setup.c - the GDT and identity page tables the 64-bit Linux entry
 * point expects (Documentation/arch/x86/boot.rst, "64-bit boot protocol":
 * long mode, paging on, the kernel, boot_params, cmdline and initrd
 * identity-mapped, flat __BOOT_CS/__BOOT_DS segments).
 *
 * The whole 0-4 GiB range is mapped with 2 MiB pages, which covers every
 * place the VMM puts something (all below BOOT_LOW_RAM_END).
 */
#include <errno.h>

#include "boot.h"

/* Flat descriptors: base 0, limit 4 GiB, granularity 4 KiB. */
#define GDT_CODE64 0x00af9b000000ffffULL /* P, DPL0, S, exec/read/accessed, L */
#define GDT_DATA   0x00cf93000000ffffULL /* P, DPL0, S, read/write/accessed, D/B */

#define PTE_P  0x1ULL
#define PTE_RW 0x2ULL
#define PTE_PS 0x80ULL

_Static_assert(BOOT_SEL_CODE == 2 * 8 && BOOT_SEL_DATA == 3 * 8,
	       "selectors must match the GDT slots written below");

int boot_setup_page_tables(const struct guest_mem *gm)
{
	const uint64_t gdt[4] = { 0, 0, GDT_CODE64, GDT_DATA };
	if (guest_mem_write(gm, BOOT_GDT_GPA, gdt, sizeof(gdt)) < 0)
		return -EFAULT;

	uint64_t *pml4 = guest_mem_ptr(gm, BOOT_PML4_GPA, 4096);
	uint64_t *pdpt = guest_mem_ptr(gm, BOOT_PDPT_GPA, 4096);
	uint64_t *pd = guest_mem_ptr(gm, BOOT_PD_GPA, 4 * 4096);
	if (pml4 == NULL || pdpt == NULL || pd == NULL)
		return -EFAULT;

	for (unsigned i = 0; i < 512; i++)
		pml4[i] = pdpt[i] = 0;
	pml4[0] = BOOT_PDPT_GPA | PTE_P | PTE_RW;
	for (unsigned i = 0; i < 4; i++)
		pdpt[i] = (BOOT_PD_GPA + i * 4096ULL) | PTE_P | PTE_RW;
	for (unsigned i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | PTE_P | PTE_RW | PTE_PS;
	return 0;
}

int boot_setup_reset_vector(const struct guest_mem *gm)
{
	/* Real-mode code: mov al, 0xfe; out 0x64, al; 1: hlt; jmp 1b */
	static const uint8_t stub[] = { 0xb0, 0xfe, 0xe6, 0x64, 0xf4, 0xeb, 0xfd };
	_Static_assert(sizeof(stub) <= 16, "the reset vector has 16 bytes below 1 MiB");
	return guest_mem_write(gm, BOOT_RESET_VECTOR_GPA, stub, sizeof(stub)) < 0 ? -EFAULT : 0;
}
