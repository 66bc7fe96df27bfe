/*
 * fuzz_vmlinux.c - the ELF vmlinux loader (boot/vmlinux.c), the initrd
 * above it (boot/boot_kernel.c) and the zero page made for it
 * (boot/boot_params.c) on fuzzed files.
 *
 * Input: as fuzz_bzimage's: a flags byte (bit 0 load an initrd, bit 1
 * build boot_params), a 16-bit length and that many command line bytes, a
 * 16-bit length and that many initrd bytes, then the ELF file itself.
 * Guest RAM: 8 MiB at 0 and 64 KiB at 4 GiB, between guard pages.
 * Invariants:
 *   - vmlinux_parse returns 0 or -ENOEXEC with a reason, and 0 exactly when
 *     the harness's own reading of the file (ref_parse: byte reads, 128-bit
 *     sums, the rules of boot.h) finds a kernel to accept; the segments,
 *     span and entry are then the ones it found;
 *   - vmlinux_load succeeds exactly when the span fits in the 8 MiB region;
 *     each segment's file bytes are then at its p_paddr and the rest of its
 *     p_memsz is zero (the harness poisons that part first);
 *   - initrd_load succeeds exactly when there is a page-aligned place at or
 *     above the kernel's end, and takes the highest, byte for byte;
 *   - boot_params_build fails exactly for a command line over 2047 bytes,
 *     writing nothing; otherwise the zero page is exactly the made-up
 *     setup header, the loader's fields and the e820 map of the RAM;
 *   - nothing else in guest RAM is written (every touched page is checked
 *     against what these writes put there), nothing outside it (guard
 *     pages, ASan).
 */
#include <errno.h>
#include <string.h>

#include "../../boot/boot.h"
#include "fuzz_util.h"

#define A_SIZE (8ull << 20)
#define B_GPA  (4ull << 30)
#define B_SIZE 0x10000ull
#define ZP     BOOT_PARAMS_GPA
#define MAXSEG 32
#define POISON 0xa5

typedef unsigned __int128 u128;

struct ref {
	uint64_t entry, start, end;
	unsigned n;
	uint64_t off[MAXSEG], pa[MAXSEG], filesz[MAXSEG], memsz[MAXSEG];
};

static uint64_t rd(const uint8_t *p, size_t off, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = n; i-- > 0;)
		v = v << 8 | p[off + i];
	return v;
}

/* The ELF file as boot.h says a kernel must be; true when it is one. */
static bool ref_parse(const uint8_t *f, size_t len, struct ref *r)
{
	if (len < 64 || memcmp(f, "\x7f" "ELF", 4) != 0 || f[4] != 2 || f[5] != 1 || f[6] != 1 ||
	    rd(f, 16, 2) != 2 || rd(f, 18, 2) != 62 || rd(f, 20, 4) != 1)
		return false;
	uint64_t phoff = rd(f, 32, 8);
	unsigned phentsize = (unsigned)rd(f, 54, 2), phnum = (unsigned)rd(f, 56, 2);
	if (phentsize != 56 || phnum == 0 || phnum > MAXSEG || (u128)phoff + phnum * 56u > len)
		return false;
	*r = (struct ref){ .entry = rd(f, 24, 8), .start = UINT64_MAX };
	bool entry_ok = false;
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *p = f + phoff + i * 56u;
		uint64_t off = rd(p, 8, 8), pa = rd(p, 24, 8), fsz = rd(p, 32, 8), msz = rd(p, 40, 8);
		if (rd(p, 0, 4) != 1)
			continue;
		if (fsz > msz || (u128)off + fsz > len || pa < BOOT_KERNEL_GPA ||
		    pa >= BOOT_LOW_RAM_END || (u128)pa + msz > BOOT_LOW_RAM_END)
			return false;
		if (msz == 0)
			continue;
		for (unsigned j = 0; j < r->n; j++)
			if ((u128)pa < (u128)r->pa[j] + r->memsz[j] && (u128)r->pa[j] < (u128)pa + msz)
				return false;
		if ((rd(p, 4, 4) & 1) && r->entry >= pa && (u128)r->entry < (u128)pa + fsz)
			entry_ok = true;
		r->off[r->n] = off, r->pa[r->n] = pa, r->filesz[r->n] = fsz, r->memsz[r->n] = msz;
		r->n++;
		r->start = pa < r->start ? pa : r->start;
		r->end = pa + msz > r->end ? pa + msz : r->end;
	}
	return r->n > 0 && entry_ok;
}

static void check_parsed(const uint8_t *img, size_t len, const struct vmlinux *vl,
			 const struct ref *r)
{
	FUZZ_CHECK(vl->file.head == img && vl->file.head_len == len && vl->file.len == len && vl->entry == r->entry &&
			   vl->start == r->start && vl->end == r->end && vl->nsegs == r->n,
		   "vmlinux: entry %#llx span %#llx-%#llx, %u segments",
		   (unsigned long long)vl->entry, (unsigned long long)vl->start,
		   (unsigned long long)vl->end, vl->nsegs);
	for (unsigned i = 0; i < r->n; i++)
		FUZZ_CHECK(vl->seg[i].offset == r->off[i] && vl->seg[i].paddr == r->pa[i] &&
				   vl->seg[i].filesz == r->filesz[i] && vl->seg[i].memsz == r->memsz[i],
			   "segment %u differs from its program header", i);
}

static void put(uint8_t *p, size_t off, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[off + i] = (uint8_t)(v >> (8 * i));
}

/* The whole zero page, built here from bootparam.h offsets and compared. */
static void check_zero_page(struct fuzz_ram *r, uint64_t rd_gpa, uint64_t rd_len)
{
	static uint8_t want[0x1000];
	memset(want, 0, sizeof(want));
	put(want, 0x070, BOOT_ACPI_GPA, 8);
	put(want, 0x0c0, rd_gpa >> 32, 4);
	put(want, 0x0c4, rd_len >> 32, 4);
	want[0x1e8] = 4;
	put(want, 0x1f2, 1, 2);                  /* root_flags */
	put(want, 0x1fe, 0xaa55, 2);
	memcpy(want + 0x202, "HdrS", 4);
	put(want, 0x206, 0x020f, 2);
	want[0x210] = 0xff;                      /* type_of_loader */
	want[0x211] = 0x01;                      /* LOADED_HIGH, no KASLR_FLAG */
	put(want, 0x218, (uint32_t)rd_gpa, 4);
	put(want, 0x21c, (uint32_t)rd_len, 4);
	put(want, 0x228, BOOT_CMDLINE_GPA, 4);
	put(want, 0x22c, 0x7fffffff, 4);
	put(want, 0x230, 0x200000, 4);
	put(want, 0x238, 2047, 4);
	static const uint64_t e820[4][3] = {
		{ 0, BOOT_EBDA_GPA, E820_RAM },
		{ BOOT_EBDA_GPA, BOOT_KERNEL_GPA - BOOT_EBDA_GPA, E820_RESERVED },
		{ BOOT_KERNEL_GPA, A_SIZE - BOOT_KERNEL_GPA, E820_RAM },
		{ B_GPA, B_SIZE, E820_RAM },
	};
	for (unsigned i = 0; i < 4; i++) {
		put(want, 0x2d0 + 20 * i, e820[i][0], 8);
		put(want, 0x2d8 + 20 * i, e820[i][1], 8);
		put(want, 0x2e0 + 20 * i, e820[i][2], 4);
	}
	const uint8_t *zp = fuzz_ram_ptr(r, ZP, sizeof(want));
	for (size_t o = 0; o < sizeof(want); o++)
		FUZZ_CHECK(zp[o] == want[o], "zero page byte %#zx is %#x, not %#x", o, zp[o], want[o]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_ram ram;
	static char cmdline[0x2000 + 1];
	if (ram.n == 0) {
		fuzz_ram_add(&ram, 0, A_SIZE);
		fuzz_ram_add(&ram, B_GPA, B_SIZE);
	}
	fuzz_ram_reset(&ram);
	struct fin in = { data, size };
	uint8_t f = fin_u8(&in);
	const uint8_t *initrd;
	size_t rlen;
	fin_cmdline_initrd(&in, cmdline, &initrd, &rlen);

	struct fuzz_piece pc[MAXSEG + 2];
	unsigned npc = 0;
	static struct ref ref;
	static struct vmlinux vl;
	const char *why = "unset";
	bool valid = ref_parse(in.p, in.n, &ref);
	int ret = vmlinux_parse(in.p, in.n, &vl, &why);
	FUZZ_CHECK(ret == 0 ? why == NULL : ret == -ENOEXEC && why && *why, "parse: %d", ret);
	FUZZ_CHECK((ret == 0) == valid, "parse: %d, but the file is %s (%s)", ret,
		   valid ? "a kernel" : "no kernel", why ? why : "");
	if (ret < 0) {
		fuzz_ram_check_pieces(&ram, pc, 0, UINT64_MAX);
		return 0;
	}
	check_parsed(in.p, in.n, &vl, &ref);
	FUZZ_TRACE("vmlinux: %u segments, %#llx-%#llx, entry %#llx\n", vl.nsegs,
		   (unsigned long long)vl.start, (unsigned long long)vl.end,
		   (unsigned long long)vl.entry);

	struct boot_kernel k;
	ret = boot_kernel_from_vmlinux(&k, &vl, &why);
	FUZZ_CHECK(ret == 0 && why == NULL && k.kind == BOOT_KERNEL_VMLINUX && k.entry == vl.entry &&
			   k.end == vl.end && k.initrd_addr_max == 0x7fffffff && k.cmdline_size == 2047,
		   "boot_kernel_from_vmlinux: %d", ret);

	/* Poison what must come out zero, where the load is to succeed. */
	bool fits = ref.end <= A_SIZE;
	for (unsigned i = 0; fits && i < ref.n; i++)
		memset(fuzz_ram_ptr(&ram, ref.pa[i], ref.memsz[i]) + ref.filesz[i], POISON,
		       ref.memsz[i] - ref.filesz[i]);
	ret = vmlinux_load(&ram.gm, &vl, &why);
	FUZZ_CHECK(ret == 0 ? why == NULL && fits : ret == -ENOMEM && why && *why && !fits,
		   "load: %d, kernel ends at %#llx", ret, (unsigned long long)ref.end);
	if (ret < 0) {
		fuzz_ram_check_pieces(&ram, pc, 0, UINT64_MAX);
		return 0;
	}
	for (unsigned i = 0; i < ref.n; i++)
		pc[npc++] = (struct fuzz_piece){ ref.pa[i], in.p + ref.off[i], ref.filesz[i] };

	uint64_t rd_gpa = 0, rd_len = 0;
	if (f & 1) {
		ret = initrd_load(&ram.gm, &k, initrd, rlen, &rd_gpa, &why);
		uint64_t at = (A_SIZE - rlen) & ~(FUZZ_PAGE - 1);
		bool room = rlen > 0 && at >= ref.end;
		FUZZ_CHECK(ret == 0 ? why == NULL && room && rd_gpa == at
				    : (ret == -ENOMEM || ret == -EINVAL) && why && *why && !room,
			   "initrd: %d, %zu bytes at %#llx above %#llx", ret, rlen,
			   (unsigned long long)rd_gpa, (unsigned long long)ref.end);
		if (ret == 0) {
			pc[npc++] = (struct fuzz_piece){ rd_gpa, initrd, rlen };
			rd_len = rlen;
		} else {
			rd_gpa = 0;
		}
	}
	bool zp = false;
	if (f & 2) {
		struct boot_args args = { .cmdline = cmdline, .initrd_gpa = rd_gpa,
					  .initrd_size = rd_len, .rsdp_gpa = BOOT_ACPI_GPA };
		size_t n = strlen(cmdline);
		ret = boot_params_build(&ram.gm, &k, &args, &why);
		FUZZ_CHECK(ret == 0 ? why == NULL && n <= 2047 : ret == -E2BIG && n > 2047 && why,
			   "boot_params: %d, command line %zu", ret, n);
		if (ret == 0) {
			pc[npc++] = (struct fuzz_piece){ BOOT_CMDLINE_GPA, (const uint8_t *)cmdline, n + 1 };
			check_zero_page(&ram, rd_gpa, rd_len);
			zp = true;
		}
	}
	fuzz_ram_check_pieces(&ram, pc, npc, zp ? ZP : UINT64_MAX);
	return 0;
}
