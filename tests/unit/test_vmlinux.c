/*
 * test_vmlinux.c - vmlinux_parse/vmlinux_load/boot_kernel_from_vmlinux and
 * the initrd above an ELF kernel, on synthetic ELF files built here; and,
 * if the test bed has extracted one, the real Debian vmlinux.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../boot/boot.h"
#include "boot_file_fake.h"

#define MiB (1024ULL * 1024)
#define GiB (1024ULL * MiB)

/*
 * The synthetic kernel: text (R+X) at 16 MiB, data (RW) at 18 MiB with
 * bss after its file bytes, and a PT_NOTE inside the text that the loader
 * must ignore. The entry is inside the text, not at its start.
 */
#define T_TEXT_OFF  0x1000
#define T_TEXT_LEN  0x3000
#define T_TEXT_PA   (16 * MiB)
#define T_DATA_OFF  0x4000
#define T_DATA_FILE 0x1800
#define T_DATA_MEM  0x5000
#define T_DATA_PA   (18 * MiB)
#define T_ENTRY     (T_TEXT_PA + 0x40)
#define T_LEN       (T_DATA_OFF + T_DATA_FILE)
#define T_END       (T_DATA_PA + T_DATA_MEM)
#define T_PHNUM     3

_Alignas(8) static uint8_t image[T_LEN];

static Elf64_Ehdr *ehdr(void) { return (Elf64_Ehdr *)image; }
static Elf64_Phdr *phdr(unsigned i) { return (Elf64_Phdr *)(image + sizeof(Elf64_Ehdr)) + i; }

static void make_image(void)
{
	memset(image, 0, sizeof(image));
	Elf64_Ehdr *eh = ehdr();
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = T_ENTRY;
	eh->e_phoff = sizeof(Elf64_Ehdr);
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = T_PHNUM;
	*phdr(0) = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = T_TEXT_OFF,
				 .p_vaddr = 0xffffffff81000000ULL, .p_paddr = T_TEXT_PA,
				 .p_filesz = T_TEXT_LEN, .p_memsz = T_TEXT_LEN, .p_align = 2 * MiB };
	*phdr(1) = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = T_DATA_OFF,
				 .p_vaddr = 0xffffffff81200000ULL, .p_paddr = T_DATA_PA,
				 .p_filesz = T_DATA_FILE, .p_memsz = T_DATA_MEM, .p_align = 2 * MiB };
	*phdr(2) = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = T_TEXT_OFF + 0x100,
				 .p_paddr = T_TEXT_PA + 0x100, .p_filesz = 0x20, .p_memsz = 0x20 };
	for (size_t i = 0; i < T_TEXT_LEN; i++)
		image[T_TEXT_OFF + i] = (uint8_t)(i * 7 + 3);
	for (size_t i = 0; i < T_DATA_FILE; i++)
		image[T_DATA_OFF + i] = (uint8_t)(i * 13 + 1) | 1;   /* never 0: bss is told apart */
}

static void parse_ok(struct vmlinux *vl)
{
	const char *why = "unset";
	assert_int_equal(vmlinux_parse(image, T_LEN, vl, &why), 0);
	assert_null(why);
}

/* Rejected with -ENOEXEC, a reason containing 'what', and *vl untouched. */
static void expect_reject_len(size_t len, const char *what)
{
	struct vmlinux vl;
	memset(&vl, 0x5a, sizeof(vl));
	const char *why = NULL;
	assert_int_equal(vmlinux_parse(image, len, &vl, &why), -ENOEXEC);
	assert_non_null(why);
	if (strstr(why, what) == NULL)
		fail_msg("reason \"%s\" does not say \"%s\"", why, what);
	assert_int_equal(((uint8_t *)&vl)[0], 0x5a);
	assert_int_equal(((uint8_t *)&vl)[sizeof(vl) - 1], 0x5a);
}

static void expect_reject(const char *what) { expect_reject_len(T_LEN, what); }

static void test_parse_valid(void **state)
{
	(void)state;
	make_image();
	struct vmlinux vl;
	parse_ok(&vl);
	assert_ptr_equal(vl.file.head, image);
	assert_int_equal(vl.file.len, T_LEN);
	assert_int_equal(vl.entry, T_ENTRY);
	assert_int_equal(vl.start, T_TEXT_PA);
	assert_int_equal(vl.end, T_END);
	assert_int_equal(vl.nsegs, 2);   /* the PT_NOTE is not loaded */
	assert_int_equal(vl.seg[0].offset, T_TEXT_OFF);
	assert_int_equal(vl.seg[0].paddr, T_TEXT_PA);
	assert_int_equal(vl.seg[0].filesz, T_TEXT_LEN);
	assert_int_equal(vl.seg[0].memsz, T_TEXT_LEN);
	assert_int_equal(vl.seg[1].offset, T_DATA_OFF);
	assert_int_equal(vl.seg[1].paddr, T_DATA_PA);
	assert_int_equal(vl.seg[1].filesz, T_DATA_FILE);
	assert_int_equal(vl.seg[1].memsz, T_DATA_MEM);
}

/* The edges that must still be accepted: 1 MiB exactly, up to 3 GiB exactly. */
static void test_parse_boundaries(void **state)
{
	(void)state;
	struct vmlinux vl;
	make_image();
	phdr(0)->p_paddr = BOOT_KERNEL_GPA;
	ehdr()->e_entry = BOOT_KERNEL_GPA;
	parse_ok(&vl);
	assert_int_equal(vl.start, BOOT_KERNEL_GPA);
	make_image();
	phdr(1)->p_paddr = BOOT_LOW_RAM_END - T_DATA_MEM;
	parse_ok(&vl);
	assert_int_equal(vl.end, BOOT_LOW_RAM_END);
	/* Entry on the last file byte of the text. */
	make_image();
	ehdr()->e_entry = T_TEXT_PA + T_TEXT_LEN - 1;
	parse_ok(&vl);
	/* A PT_LOAD that occupies nothing is skipped, even on top of another. */
	make_image();
	*phdr(2) = (Elf64_Phdr){ .p_type = PT_LOAD, .p_paddr = T_TEXT_PA };
	parse_ok(&vl);
	assert_int_equal(vl.nsegs, 2);
	/* Program headers may sit anywhere in the file, unaligned too. */
	make_image();
	memmove(image + 0x801, image + sizeof(Elf64_Ehdr), T_PHNUM * sizeof(Elf64_Phdr));
	ehdr()->e_phoff = 0x801;
	parse_ok(&vl);
	assert_int_equal(vl.nsegs, 2);
}

static void test_reject_truncated_header(void **state)
{
	(void)state;
	make_image();
	expect_reject_len(0, "too small");
	expect_reject_len(sizeof(Elf64_Ehdr) - 1, "too small");
	struct vmlinux vl;
	const char *why = NULL;
	assert_int_equal(vmlinux_parse(NULL, T_LEN, &vl, &why), -ENOEXEC);
	assert_non_null(why);
	/* Header whole, program headers cut off. */
	expect_reject_len(sizeof(Elf64_Ehdr) + 10, "program headers lie beyond");
	/* Headers whole, the last segment's bytes cut off. */
	expect_reject_len(T_LEN - 1, "segment's bytes lie beyond");
}

static void test_reject_ident(void **state)
{
	(void)state;
	make_image();
	image[EI_MAG3] = 'X';
	expect_reject("no \\x7fELF magic");
	make_image();
	image[EI_CLASS] = ELFCLASS32;
	expect_reject("not 64-bit");
	make_image();
	image[EI_DATA] = ELFDATA2MSB;
	expect_reject("not little endian");
	make_image();
	image[EI_VERSION] = 0;
	expect_reject("ELF version");
	make_image();
	ehdr()->e_version = 2;
	expect_reject("ELF version");
}

static void test_reject_machine_and_type(void **state)
{
	(void)state;
	make_image();
	ehdr()->e_machine = EM_386;
	expect_reject("EM_X86_64");
	make_image();
	ehdr()->e_machine = EM_AARCH64;
	expect_reject("EM_X86_64");
	make_image();
	ehdr()->e_type = ET_DYN;
	expect_reject("ET_EXEC");
	make_image();
	ehdr()->e_type = ET_REL;
	expect_reject("ET_EXEC");
}

static void test_reject_phdr_table(void **state)
{
	(void)state;
	make_image();
	ehdr()->e_phentsize = sizeof(Elf64_Phdr) - 1;
	expect_reject("e_phentsize");
	make_image();
	ehdr()->e_phentsize = 0;
	expect_reject("e_phentsize");
	make_image();
	ehdr()->e_phnum = 0;
	expect_reject("no program headers");
	make_image();
	ehdr()->e_phnum = VMLINUX_MAX_PHDRS + 1;
	expect_reject("more program headers");
	make_image();
	ehdr()->e_phnum = PN_XNUM;
	expect_reject("more program headers");
	/* The table starts inside the file but runs past its end. */
	make_image();
	ehdr()->e_phoff = T_LEN - sizeof(Elf64_Phdr);
	expect_reject("program headers lie beyond");
	make_image();
	ehdr()->e_phoff = T_LEN + 1;
	expect_reject("program headers lie beyond");
	/* e_phoff + table size wraps to a small number. */
	make_image();
	ehdr()->e_phoff = UINT64_MAX - 8;
	expect_reject("program headers lie beyond");
}

/* VMLINUX_MAX_PHDRS headers are fine; one more is not (checked above). */
static void test_many_phdrs(void **state)
{
	(void)state;
	_Static_assert(sizeof(Elf64_Ehdr) + VMLINUX_MAX_PHDRS * sizeof(Elf64_Phdr) <= T_TEXT_OFF,
		       "the phdr table fits before the text");
	make_image();
	for (unsigned i = T_PHNUM; i < VMLINUX_MAX_PHDRS; i++)
		*phdr(i) = (Elf64_Phdr){ .p_type = PT_NOTE };
	ehdr()->e_phnum = VMLINUX_MAX_PHDRS;
	struct vmlinux vl;
	parse_ok(&vl);
	assert_int_equal(vl.nsegs, 2);
}

static void test_reject_segment_in_file(void **state)
{
	(void)state;
	make_image();
	phdr(1)->p_filesz = T_DATA_MEM + 1;
	expect_reject("p_filesz > p_memsz");
	make_image();
	phdr(1)->p_offset = T_LEN - 0x10;
	expect_reject("segment's bytes lie beyond");
	make_image();
	phdr(1)->p_offset = T_LEN + 1;
	phdr(1)->p_filesz = 0;
	expect_reject("segment's bytes lie beyond");
	/* p_offset + p_filesz wraps past zero. */
	make_image();
	phdr(1)->p_offset = UINT64_MAX - 0xff;
	phdr(1)->p_filesz = 0x200;
	expect_reject("segment's bytes lie beyond");
	make_image();
	phdr(1)->p_offset = 0x10;
	phdr(1)->p_filesz = UINT64_MAX - 8;
	phdr(1)->p_memsz = UINT64_MAX;
	expect_reject("segment's bytes lie beyond");
}

static void test_reject_segment_placement(void **state)
{
	(void)state;
	make_image();
	phdr(1)->p_paddr = BOOT_PARAMS_GPA;   /* would overwrite the zero page */
	expect_reject("below 1 MiB");
	make_image();
	phdr(1)->p_paddr = 0;
	expect_reject("below 1 MiB");
	make_image();
	phdr(1)->p_paddr = BOOT_KERNEL_GPA - 0x1000;   /* straddles 1 MiB */
	expect_reject("below 1 MiB");
	make_image();
	phdr(1)->p_paddr = BOOT_LOW_RAM_END - T_DATA_MEM + 1;
	expect_reject("above low RAM");
	make_image();
	phdr(1)->p_paddr = BOOT_HIGH_RAM_GPA;
	expect_reject("above low RAM");
	/* p_paddr + p_memsz wraps to a small address. */
	make_image();
	phdr(1)->p_paddr = UINT64_MAX - 0xfff;
	expect_reject("above low RAM");
	make_image();
	phdr(1)->p_memsz = UINT64_MAX - T_DATA_PA + 0x2000;
	expect_reject("above low RAM");
	/* Two segments on the same memory. */
	make_image();
	phdr(1)->p_paddr = T_TEXT_PA + T_TEXT_LEN - 1;
	expect_reject("overlap");
	make_image();
	phdr(1)->p_paddr = T_TEXT_PA - T_DATA_MEM + 1;
	expect_reject("overlap");
	make_image();
	phdr(1)->p_paddr = T_TEXT_PA + T_TEXT_LEN;   /* adjacent is fine */
	struct vmlinux vl;
	parse_ok(&vl);
}

static void test_reject_entry(void **state)
{
	(void)state;
	make_image();
	ehdr()->e_entry = T_DATA_PA;                  /* in a segment without PF_X */
	expect_reject("e_entry");
	make_image();
	ehdr()->e_entry = T_TEXT_PA + T_TEXT_LEN;     /* one past the text */
	expect_reject("e_entry");
	make_image();
	ehdr()->e_entry = T_TEXT_PA - 1;
	expect_reject("e_entry");
	make_image();
	ehdr()->e_entry = 0xffffffff81000040ULL;     /* the virtual address: not a vmlinux's */
	expect_reject("e_entry");
	/* In an executable segment, but in its bss: no code there. */
	make_image();
	phdr(1)->p_flags |= PF_X;
	ehdr()->e_entry = T_DATA_PA + T_DATA_FILE;
	expect_reject("e_entry");
	ehdr()->e_entry = T_DATA_PA + T_DATA_FILE - 1;
	struct vmlinux vl;
	parse_ok(&vl);
}

static void test_reject_no_load(void **state)
{
	(void)state;
	make_image();
	phdr(0)->p_type = PT_NULL;
	phdr(1)->p_type = PT_NOTE;
	expect_reject("no loadable segment");
	make_image();
	phdr(0)->p_memsz = phdr(0)->p_filesz = 0;
	phdr(1)->p_memsz = phdr(1)->p_filesz = 0;
	expect_reject("no loadable segment");
	/* The executable segment gone: the entry is nowhere. */
	make_image();
	phdr(0)->p_type = PT_NOTE;
	expect_reject("e_entry");
}

/* Every prefix of a valid image and random header corruptions are handled. */
static void test_parse_never_overreads(void **state)
{
	(void)state;
	make_image();
	for (size_t len = 0; len <= T_LEN; len++) {
		/* Exact-size heap copies let ASan catch a read one past the end. */
		uint8_t *copy = malloc(len ? len : 1);
		assert_non_null(copy);
		memcpy(copy, image, len);
		struct vmlinux vl;
		const char *why = NULL;
		int rc = vmlinux_parse(copy, len, &vl, &why);
		if (len == T_LEN)
			assert_int_equal(rc, 0);
		else
			assert_true(rc == -ENOEXEC && why != NULL);
		free(copy);
	}
	size_t hdrs = sizeof(Elf64_Ehdr) + T_PHNUM * sizeof(Elf64_Phdr);
	srand(1);
	for (int iter = 0; iter < 20000; iter++) {
		make_image();
		for (int k = 1 + rand() % 3; k > 0; k--)
			image[(size_t)rand() % hdrs] = (uint8_t)rand();
		struct vmlinux vl;
		const char *why = NULL;
		int rc = vmlinux_parse(image, T_LEN, &vl, &why);
		assert_true(rc == 0 || (rc == -ENOEXEC && why != NULL));
		if (rc != 0)
			continue;
		assert_true(vl.nsegs >= 1 && vl.nsegs <= VMLINUX_MAX_PHDRS);
		assert_true(vl.start >= BOOT_KERNEL_GPA && vl.end <= BOOT_LOW_RAM_END);
		assert_true(vl.entry >= vl.start && vl.entry < vl.end);
		for (unsigned i = 0; i < vl.nsegs; i++) {
			assert_true(vl.seg[i].filesz <= vl.seg[i].memsz);
			assert_true(vl.seg[i].offset + vl.seg[i].filesz <= T_LEN);
			assert_true(vl.seg[i].paddr >= vl.start);
			assert_true(vl.seg[i].paddr + vl.seg[i].memsz <= vl.end);
		}
	}
}

static uint8_t *ram;
#define RAM_SIZE (64 * MiB)
#define POISON   0xCC

static int setup_ram(void **state)
{
	(void)state;
	ram = malloc(RAM_SIZE);
	if (!ram)
		return -1;
	memset(ram, POISON, RAM_SIZE);
	return 0;
}

static int teardown_ram(void **state)
{
	(void)state;
	free(ram);
	ram = NULL;
	return 0;
}

static void test_load_places_segments(void **state)
{
	(void)state;
	struct guest_mem gm = { 0 };
	assert_int_equal(guest_mem_add(&gm, 0, RAM_SIZE, ram), 0);
	make_image();
	struct vmlinux vl;
	parse_ok(&vl);
	const char *why = "unset";
	assert_int_equal(vmlinux_load(&gm, &vl, &why), 0);
	assert_null(why);
	assert_memory_equal(ram + T_TEXT_PA, image + T_TEXT_OFF, T_TEXT_LEN);
	assert_memory_equal(ram + T_DATA_PA, image + T_DATA_OFF, T_DATA_FILE);
	for (uint64_t a = T_DATA_PA + T_DATA_FILE; a < T_END; a++)
		if (ram[a] != 0)
			fail_msg("bss byte at %#llx is %#x", (unsigned long long)a, ram[a]);
	/* Nothing else: not before, between or after the segments, nor below 1 MiB. */
	assert_int_equal(ram[T_TEXT_PA - 1], POISON);
	assert_int_equal(ram[T_TEXT_PA + T_TEXT_LEN], POISON);
	assert_int_equal(ram[T_DATA_PA - 1], POISON);
	assert_int_equal(ram[T_END], POISON);
	assert_int_equal(ram[BOOT_PARAMS_GPA], POISON);
}

/*
 * The edge's form: only the headers in memory, the segments read through
 * the file. Exactly the segments' file bytes are asked for, once each, and
 * the rest of the file never; a file cut short after it was opened fails
 * the load with the read's error.
 */
static void test_load_through_file(void **state)
{
	(void)state;
	struct guest_mem gm = { 0 };
	assert_int_equal(guest_mem_add(&gm, 0, RAM_SIZE, ram), 0);
	make_image();
	size_t head = sizeof(Elf64_Ehdr) + T_PHNUM * sizeof(Elf64_Phdr);
	struct fake_file ff;
	struct boot_file f;
	fake_file_open(&ff, &f, image, T_LEN, head);
	struct vmlinux vl;
	const char *why = "unset";
	assert_int_equal(vmlinux_parse_file(&f, &vl, &why), 0);
	assert_null(why);
	assert_int_equal(ff.reads, 0);          /* parsing reads the head only */
	assert_int_equal(vl.file.len, T_LEN);
	assert_int_equal(vl.end, T_END);
	assert_int_equal(vmlinux_load(&gm, &vl, &why), 0);
	assert_int_equal(ff.reads, 2);
	assert_int_equal(ff.bytes, T_TEXT_LEN + T_DATA_FILE);
	assert_memory_equal(ram + T_TEXT_PA, image + T_TEXT_OFF, T_TEXT_LEN);
	assert_memory_equal(ram + T_DATA_PA, image + T_DATA_OFF, T_DATA_FILE);
	assert_int_equal(ram[T_END - 1], 0);
	assert_int_equal(ram[T_END], POISON);

	/* Cut inside the data segment after the parse: the load says so. */
	ff.cut = T_DATA_OFF + 1;
	assert_int_equal(vmlinux_load(&gm, &vl, &why), -EIO);
	assert_non_null(strstr(why, "reading the kernel file failed"));

	/* One byte short of the program headers in memory: refused, as too far in. */
	fake_file_open(&ff, &f, image, T_LEN, head - 1);
	why = NULL;
	assert_int_equal(vmlinux_parse_file(&f, &vl, &why), -ENOEXEC);
	assert_non_null(strstr(why, "too far into the file"));
	/* A head without the ELF header is the caller's bug, not the file's. */
	fake_file_open(&ff, &f, image, T_LEN, sizeof(Elf64_Ehdr) - 1);
	assert_int_equal(vmlinux_parse_file(&f, &vl, &why), -EINVAL);
	assert_int_equal(ff.reads, 0);
}

static void test_load_rejects_small_memory(void **state)
{
	(void)state;
	make_image();
	struct vmlinux vl;
	parse_ok(&vl);
	const char *why = NULL;
	/* The text fits in 17 MiB, the data does not: nothing at all is written. */
	struct guest_mem gm = { 0 };
	assert_int_equal(guest_mem_add(&gm, 0, 17 * MiB, ram), 0);
	assert_int_equal(vmlinux_load(&gm, &vl, &why), -ENOMEM);
	assert_string_equal(why, "guest memory too small for this kernel");
	assert_int_equal(ram[T_TEXT_PA], POISON);
	/* One byte short of the bss end. */
	struct guest_mem tight = { 0 };
	assert_int_equal(guest_mem_add(&tight, 0, T_END - 1, ram), 0);
	assert_int_equal(vmlinux_load(&tight, &vl, &why), -ENOMEM);
	assert_int_equal(ram[T_TEXT_PA], POISON);
	/* Exactly enough. */
	struct guest_mem exact = { 0 };
	assert_int_equal(guest_mem_add(&exact, 0, T_END, ram), 0);
	assert_int_equal(vmlinux_load(&exact, &vl, &why), 0);
	assert_int_equal(ram[T_END - 1], 0);

	struct vmlinux blank = { 0 };
	assert_int_equal(vmlinux_load(&gm, &blank, &why), -EINVAL);
	assert_non_null(why);
}

static uint8_t initrd[2 * 4096 + 77];

static void test_kernel_and_initrd(void **state)
{
	(void)state;
	struct guest_mem gm = { 0 };
	assert_int_equal(guest_mem_add(&gm, 0, RAM_SIZE, ram), 0);
	make_image();
	struct vmlinux vl;
	parse_ok(&vl);
	struct boot_kernel k;
	const char *why = "unset";
	assert_int_equal(boot_kernel_from_vmlinux(&k, &vl, &why), 0);
	assert_null(why);
	assert_int_equal(k.kind, BOOT_KERNEL_VMLINUX);
	assert_int_equal(k.entry, T_ENTRY);
	assert_int_equal(k.end, T_END);
	assert_int_equal(k.initrd_addr_max, 0x7fffffff);
	assert_int_equal(k.cmdline_size, 2047);
	assert_null(k.bz.file.head);

	/* boot_kernel_load loads it as vmlinux_load does. */
	memset(ram, POISON, RAM_SIZE);
	assert_int_equal(boot_kernel_load(&gm, &k, &why), 0);
	assert_memory_equal(ram + T_TEXT_PA, image + T_TEXT_OFF, T_TEXT_LEN);
	assert_memory_equal(ram + T_DATA_PA, image + T_DATA_OFF, T_DATA_FILE);
	assert_int_equal(ram[T_END - 1], 0);
	assert_int_equal(ram[T_END], POISON);

	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i ^ 0x5a);
	uint64_t gpa = 0;
	assert_int_equal(initrd_load(&gm, &k, initrd, sizeof(initrd), &gpa, &why), 0);
	assert_int_equal(gpa & 0xfff, 0);
	assert_true(gpa >= T_END);
	assert_true(gpa + sizeof(initrd) <= RAM_SIZE);
	assert_true(gpa + sizeof(initrd) + 4096 > RAM_SIZE);   /* as high as possible */
	assert_memory_equal(ram + gpa, initrd, sizeof(initrd));

	/* As large as fits: it starts right at the kernel's (page-aligned) end. */
	_Static_assert(T_END % 4096 == 0, "the kernel ends on a page");
	uint8_t *big = calloc(1, RAM_SIZE - T_END + 1);
	assert_non_null(big);
	assert_int_equal(initrd_load(&gm, &k, big, RAM_SIZE - T_END, &gpa, &why), 0);
	assert_int_equal(gpa, T_END);
	gpa = 0x1234;
	assert_int_equal(initrd_load(&gm, &k, big, RAM_SIZE - T_END + 1, &gpa, &why), -ENOMEM);
	assert_non_null(why);
	assert_int_equal(gpa, 0x1234);
	free(big);

	struct vmlinux blank = { 0 };
	assert_int_equal(boot_kernel_from_vmlinux(&k, &blank, &why), -EINVAL);
	assert_non_null(why);
}

/*
 * Optional: the test bed's vmlinux (tests/testbed/extract-vmlinux.sh), if
 * there is one; make runs the tests from the project root. The e2e run
 * boots it for real.
 */
static void test_real_vmlinux(void **state)
{
	(void)state;
	glob_t g;
	if (glob("build/testbed/kernel/vmlinux-*", 0, NULL, &g) != 0) {
		globfree(&g);
		skip();
	}
	const char *path = g.gl_pathv[0];
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long flen = ftell(f);
	assert_true(flen > 0);
	rewind(f);
	size_t len = (size_t)flen;
	uint8_t *buf = malloc(len);   /* exact size: ASan sees any read past the end */
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, len, f), len);
	fclose(f);

	struct vmlinux vl;
	const char *why = NULL;
	int rc = vmlinux_parse(buf, len, &vl, &why);
	if (rc)
		print_message("%s: %s\n", path, why);
	assert_int_equal(rc, 0);
	/* x86-64 Linux: text at CONFIG_PHYSICAL_START, entered at its first byte. */
	assert_int_equal(vl.entry, vl.start);
	assert_int_equal(vl.start % (2 * MiB), 0);
	assert_true(vl.nsegs >= 2);

	uint64_t size = vl.end + 64 * MiB;
	uint8_t *mem = calloc(1, size);
	assert_non_null(mem);
	struct guest_mem gm = { 0 };
	assert_int_equal(guest_mem_add(&gm, 0, size, mem), 0);
	assert_int_equal(vmlinux_load(&gm, &vl, &why), 0);
	for (unsigned i = 0; i < vl.nsegs; i++)
		assert_memory_equal(mem + vl.seg[i].paddr, buf + vl.seg[i].offset, vl.seg[i].filesz);
	free(mem);
	free(buf);
	globfree(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_boundaries),
		cmocka_unit_test(test_reject_truncated_header),
		cmocka_unit_test(test_reject_ident),
		cmocka_unit_test(test_reject_machine_and_type),
		cmocka_unit_test(test_reject_phdr_table),
		cmocka_unit_test(test_many_phdrs),
		cmocka_unit_test(test_reject_segment_in_file),
		cmocka_unit_test(test_reject_segment_placement),
		cmocka_unit_test(test_reject_entry),
		cmocka_unit_test(test_reject_no_load),
		cmocka_unit_test(test_parse_never_overreads),
		cmocka_unit_test_setup_teardown(test_load_places_segments, setup_ram, teardown_ram),
		cmocka_unit_test_setup_teardown(test_load_through_file, setup_ram, teardown_ram),
		cmocka_unit_test_setup_teardown(test_load_rejects_small_memory, setup_ram, teardown_ram),
		cmocka_unit_test_setup_teardown(test_kernel_and_initrd, setup_ram, teardown_ram),
		cmocka_unit_test(test_real_vmlinux),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
