/*
 * vmlinux.c - validate an uncompressed x86-64 Linux kernel (the ELF
 * vmlinux) and load its PT_LOAD segments at their physical addresses.
 *
 * The file is untrusted. The ELF and program headers are copied out of it
 * only from ranges checked to lie inside it, and every segment is checked
 * before anything is recorded. No sum of two file fields is formed before a
 * check that it cannot wrap: each bound is written as a subtraction from a
 * quantity already known to be larger (len - p_offset, BOOT_LOW_RAM_END -
 * p_paddr). Once parsed, every address and size is below BOOT_LOW_RAM_END
 * (3 GiB), so later sums of two of them cannot wrap either.
 */
#include "boot.h"

#include <elf.h>
#include <errno.h>
#include <string.h>

/*
 * The headers are little endian (checked below, EI_DATA), like every host
 * this VMM runs on (KVM on x86-64), so a plain copy decodes them.
 */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "ELF headers are read by plain copy");

static int reject(const char **why, const char *msg)
{
	*why = msg;
	return -ENOEXEC;
}

/* The ELF header, and that the program header table lies inside the file's head. */
static int check_ehdr(const struct boot_file *f, Elf64_Ehdr *eh, const char **why)
{
	uint64_t len = f->len;
	size_t head_len = f->head_len;
	if (len < sizeof(*eh))
		return reject(why, "kernel file is too small to hold an ELF header");
	if (f->head == NULL || head_len < sizeof(*eh) || head_len > len) {
		*why = "the kernel file's header was not read";
		return -EINVAL;
	}
	memcpy(eh, f->head, sizeof(*eh));
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
		return reject(why, "not an ELF file (no \\x7fELF magic)");
	if (eh->e_ident[EI_CLASS] != ELFCLASS64)
		return reject(why, "ELF file is not 64-bit (EI_CLASS is not ELFCLASS64); "
				   "is it a 32-bit kernel?");
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return reject(why, "ELF file is not little endian (EI_DATA is not ELFDATA2LSB)");
	if (eh->e_ident[EI_VERSION] != EV_CURRENT || eh->e_version != EV_CURRENT)
		return reject(why, "ELF file has an unknown ELF version");
	if (eh->e_machine != EM_X86_64)
		return reject(why, "ELF file is not for x86-64 (e_machine is not EM_X86_64)");
	if (eh->e_type != ET_EXEC)
		return reject(why, "ELF file is not an executable (e_type is not ET_EXEC); "
				   "a vmlinux is, a module or object file is not");
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return reject(why, "ELF program header size (e_phentsize) is not that of Elf64_Phdr");
	/* PN_XNUM (0xffff, "count is elsewhere") is above the cap too. */
	if (eh->e_phnum == 0)
		return reject(why, "ELF file has no program headers");
	if (eh->e_phnum > VMLINUX_MAX_PHDRS)
		return reject(why, "ELF file has more program headers than a kernel has");
	/* e_phnum <= VMLINUX_MAX_PHDRS: the product is a few KiB. */
	uint64_t table = (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr);
	if (eh->e_phoff > len || table > len - eh->e_phoff)
		return reject(why, "ELF program headers lie beyond the end of the file");
	/* head_len == len for a file held in memory; vm_boot.c reads BOOT_FILE_HEAD_MAX. */
	if (eh->e_phoff > head_len || table > head_len - eh->e_phoff)
		return reject(why, "ELF program headers start too far into the file for a kernel "
				   "(beyond its first 64 KiB)");
	return 0;
}

/* One PT_LOAD: its bytes inside the file, its memory inside [1 MiB, 3 GiB). */
static int check_load(const Elf64_Phdr *ph, uint64_t len, const char **why)
{
	if (ph->p_filesz > ph->p_memsz)
		return reject(why, "ELF PT_LOAD segment has more file bytes than memory "
				   "(p_filesz > p_memsz)");
	if (ph->p_offset > len || ph->p_filesz > len - ph->p_offset)
		return reject(why, "ELF PT_LOAD segment's bytes lie beyond the end of the file "
				   "(truncated?)");
	if (ph->p_paddr < BOOT_KERNEL_GPA)
		return reject(why, "ELF PT_LOAD segment's physical address is below 1 MiB, where "
				   "the VMM keeps the zero page, page tables and ACPI tables");
	if (ph->p_paddr >= BOOT_LOW_RAM_END || ph->p_memsz > BOOT_LOW_RAM_END - ph->p_paddr)
		return reject(why, "ELF PT_LOAD segment ends above low RAM (3 GiB)");
	return 0;
}

static bool overlaps(const struct vmlinux_segment *a, const struct vmlinux_segment *b)
{
	/* Both lie below BOOT_LOW_RAM_END: no sum wraps. */
	return a->paddr < b->paddr + b->memsz && b->paddr < a->paddr + a->memsz;
}

int vmlinux_parse(const void *image, size_t len, struct vmlinux *vl, const char **why)
{
	struct boot_file f;
	boot_file_memory(&f, image, len);
	return vmlinux_parse_file(&f, vl, why);
}

int vmlinux_parse_file(const struct boot_file *f, struct vmlinux *vl, const char **why)
{
	const uint8_t *img = f->head;
	uint64_t len = f->len;
	Elf64_Ehdr eh;

	*why = NULL;
	int err = check_ehdr(f, &eh, why);
	if (err)
		return err;

	struct vmlinux out = {
		.file = *f, .entry = eh.e_entry, .start = UINT64_MAX,
	};
	bool entry_ok = false;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, img + eh.e_phoff + (size_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD)
			continue;
		err = check_load(&ph, len, why);
		if (err)
			return err;
		if (ph.p_memsz == 0)
			continue;   /* occupies nothing; nothing to load */
		struct vmlinux_segment s = { ph.p_offset, ph.p_paddr, ph.p_filesz, ph.p_memsz };
		for (unsigned j = 0; j < out.nsegs; j++)
			if (overlaps(&s, &out.seg[j]))
				return reject(why, "ELF PT_LOAD segments overlap in physical memory");
		/* The entry must be code from the file, not bss nor a data segment. */
		if ((ph.p_flags & PF_X) && eh.e_entry >= s.paddr && eh.e_entry - s.paddr < s.filesz)
			entry_ok = true;
		if (s.paddr < out.start)
			out.start = s.paddr;
		if (s.paddr + s.memsz > out.end)
			out.end = s.paddr + s.memsz;
		out.seg[out.nsegs++] = s;   /* nsegs <= i < e_phnum <= VMLINUX_MAX_PHDRS */
	}
	if (out.nsegs == 0)
		return reject(why, "ELF file has no loadable segment (PT_LOAD)");
	if (!entry_ok)
		return reject(why, "ELF entry point (e_entry) is not inside an executable PT_LOAD "
				   "segment; a vmlinux's is the physical address of startup_64");
	*vl = out;
	return 0;
}

/* vl holds what vmlinux_parse returns: the invariants the loader relies on. */
static bool vmlinux_sane(const struct vmlinux *vl)
{
	if (vl->file.read == NULL || vl->nsegs == 0 || vl->nsegs > VMLINUX_MAX_PHDRS ||
	    vl->start < BOOT_KERNEL_GPA || vl->start >= vl->end || vl->end > BOOT_LOW_RAM_END ||
	    vl->entry < vl->start || vl->entry >= vl->end)
		return false;
	for (unsigned i = 0; i < vl->nsegs; i++) {
		const struct vmlinux_segment *s = &vl->seg[i];
		if (s->filesz > s->memsz || s->offset > vl->file.len ||
		    s->filesz > vl->file.len - s->offset || s->paddr < vl->start ||
		    s->paddr > vl->end || s->memsz > vl->end - s->paddr)
			return false;
	}
	return true;
}

int vmlinux_load(const struct guest_mem *gm, const struct vmlinux *vl, const char **why)
{
	*why = NULL;
	if (!vmlinux_sane(vl)) {
		*why = "vmlinux was not parsed by vmlinux_parse";
		return -EINVAL;
	}
	/* The kernel maps and reserves _text.._end as one range: it must be one region. */
	if (guest_mem_ptr(gm, vl->start, vl->end - vl->start) == NULL) {
		*why = "guest memory too small for this kernel";
		return -ENOMEM;
	}
	for (unsigned i = 0; i < vl->nsegs; i++) {
		const struct vmlinux_segment *s = &vl->seg[i];
		/* Every segment lies in [start, end), checked above: p is never NULL. */
		uint8_t *p = guest_mem_ptr(gm, s->paddr, s->memsz);
		if (p == NULL) {
			*why = "guest memory too small for this kernel";
			return -ENOMEM;
		}
		if (s->filesz) {
			int err = vl->file.read(vl->file.ctx, s->offset, p, s->filesz);
			if (err) {
				*why = "reading the kernel file failed (did it change while vmm started?)";
				return err;
			}
		}
		/* bss: RAM may hold anything (a reboot's leftovers); the kernel expects zeroes. */
		memset(p + s->filesz, 0, s->memsz - s->filesz);
	}
	return 0;
}

/*
 * An ELF vmlinux declares no limits of its own; see VMLINUX_* in boot.h for
 * where the kernel's defaults come from.
 */
int boot_kernel_from_vmlinux(struct boot_kernel *k, const struct vmlinux *vl, const char **why)
{
	*why = NULL;
	if (!vmlinux_sane(vl)) {
		*why = "vmlinux was not parsed by vmlinux_parse";
		return -EINVAL;
	}
	*k = (struct boot_kernel){
		.kind = BOOT_KERNEL_VMLINUX,
		.entry = vl->entry,
		.end = vl->end,
		.initrd_addr_max = VMLINUX_INITRD_ADDR_MAX,
		.cmdline_size = VMLINUX_CMDLINE_SIZE,
		.vl = *vl,
	};
	return 0;
}
