/*
 * fuzz_bzimage.c - the bzImage and initrd loader and the zero page builder
 * (boot/bzimage.c, boot/boot_kernel.c, boot/boot_params.c) on fuzzed
 * images.
 *
 * Input: a flags byte (bit 0 load an initrd, bit 1 build boot_params),
 * a 16-bit length and that many command line bytes, a 16-bit length and
 * that many initrd bytes, then the kernel image itself. Guest RAM: 8 MiB
 * at 0 and 64 KiB at 4 GiB, between guard pages.
 * Invariants:
 *   - bzimage_parse returns 0 or -ENOEXEC with a reason; on success the
 *     header really says what a bootable 64-bit bzImage must (boot flag,
 *     "HdrS", protocol >= 2.12, LOADED_HIGH, XLF_KERNEL_64, setup and
 *     syssize within the file) and the fields are the header's;
 *   - boot_kernel_from_bzimage describes every parsed image: entry at
 *     1 MiB + 0x200, the header's limits, an end inside low RAM;
 *   - bzimage_load and initrd_load return 0 or -errno with a reason; on
 *     success the kernel is at 1 MiB and the initrd page-aligned above it,
 *     below 3 GiB and initrd_addr_max, byte for byte;
 *   - boot_params_build fails only for a command line longer than the
 *     kernel takes, and writes nothing then; on success the zero page
 *     holds the header, the loader's fields and an e820 map of exactly the
 *     RAM, and the command line is at 0x20000;
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

static uint64_t rd(const uint8_t *img, size_t off, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = n; i-- > 0;)
		v = v << 8 | img[off + i];
	return v;
}

static void check_parsed(const uint8_t *img, size_t len, const struct bzimage *bz)
{
	uint64_t sects = img[0x1f1] ? img[0x1f1] : 4;
	FUZZ_CHECK(len >= 0x264 && rd(img, 0x1fe, 2) == 0xaa55 && rd(img, 0x202, 4) == 0x53726448 &&
			   rd(img, 0x206, 2) >= 0x20c && (img[0x211] & 1) && (rd(img, 0x236, 2) & 1),
		   "accepted a header that is not a 64-bit bzImage");
	FUZZ_CHECK(bz->file.head == img && bz->file.head_len == len && bz->file.len == len &&
			   bz->setup_len == (sects + 1) * 512 &&
			   bz->setup_len < len && bz->pm_len == len - bz->setup_len &&
			   rd(img, 0x1f4, 4) * 16 <= bz->pm_len, "sizes: setup %u pm %u of %zu",
		   bz->setup_len, bz->pm_len, len);
	FUZZ_CHECK(bz->version == rd(img, 0x206, 2) && bz->init_size == rd(img, 0x260, 4) &&
			   bz->initrd_addr_max == rd(img, 0x22c, 4) &&
			   bz->cmdline_size == rd(img, 0x238, 4) && bz->xloadflags == rd(img, 0x236, 2),
		   "fields differ from the header");
}

/* The zero page: header copied, loader fields set, e820 = the RAM. */
static void check_zero_page(struct fuzz_ram *r, const struct bzimage *bz, uint64_t rd_gpa,
			    uint64_t rd_len)
{
	const uint8_t *zp = fuzz_ram_ptr(r, ZP, 0x1000);
	size_t hdr_end = 0x202 + (size_t)bz->file.head[0x201];
	if (hdr_end > bz->file.head_len)
		hdr_end = bz->file.head_len;
	if (hdr_end > 0x2d0)
		hdr_end = 0x2d0;
	for (size_t o = 0x1f1; o < hdr_end; o++) {
		bool ours = o == 0x210 || o == 0x211 || (o >= 0x218 && o < 0x220) ||
			    (o >= 0x224 && o < 0x226) || (o >= 0x228 && o < 0x22c);
		FUZZ_CHECK(ours || zp[o] == bz->file.head[o], "header byte %#zx not copied", o);
	}
	FUZZ_CHECK(zp[0x210] == 0xff && (zp[0x211] & 0x80) && rd(zp, 0x228, 4) == BOOT_CMDLINE_GPA &&
			   rd(zp, 0xc8, 4) == 0 && zp[0x1ef] == 0 && rd(zp, 0x224, 2) == 0xfe00,
		   "loader fields");
	FUZZ_CHECK(rd(zp, 0x218, 4) == (uint32_t)rd_gpa && rd(zp, 0x21c, 4) == (uint32_t)rd_len &&
			   rd(zp, 0xc0, 4) == rd_gpa >> 32 && rd(zp, 0xc4, 4) == rd_len >> 32, "ramdisk");
	static const uint64_t want[4][3] = {
		{ 0, BOOT_EBDA_GPA, E820_RAM },
		{ BOOT_EBDA_GPA, BOOT_KERNEL_GPA - BOOT_EBDA_GPA, E820_RESERVED },
		{ BOOT_KERNEL_GPA, A_SIZE - BOOT_KERNEL_GPA, E820_RAM },
		{ B_GPA, B_SIZE, E820_RAM },
	};
	FUZZ_CHECK(zp[0x1e8] == 4, "%u e820 entries", zp[0x1e8]);
	for (unsigned i = 0; i < 4; i++)
		FUZZ_CHECK(rd(zp, 0x2d0 + 20 * i, 8) == want[i][0] &&
				   rd(zp, 0x2d8 + 20 * i, 8) == want[i][1] &&
				   rd(zp, 0x2e0 + 20 * i, 4) == want[i][2], "e820 entry %u", i);
	FUZZ_CHECK(rd(zp, 0x70, 8) == BOOT_ACPI_GPA, "acpi_rsdp_addr");
	/* Everything else (before the header, after it, after the map) is zero. */
	for (size_t o = 0; o < 0x1000; o++) {
		bool set = o == 0x1e8 || (o >= 0x70 && o < 0x78) || (o >= 0xc0 && o < 0xcc) ||
			   (o >= 0x1f1 && o < (hdr_end > 0x22c ? hdr_end : 0x22c)) ||
			   (o >= 0x2d0 && o < 0x2d0 + 4 * 20);
		FUZZ_CHECK(set || zp[o] == 0, "zero page byte %#zx is %#x", o, zp[o]);
	}
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

	struct fuzz_piece pc[3];
	unsigned npc = 0;
	struct bzimage bz;
	const char *why = "unset";
	int ret = bzimage_parse(in.p, in.n, &bz, &why);
	FUZZ_CHECK(ret == 0 ? why == NULL : ret == -ENOEXEC && why && *why, "parse: %d", ret);
	if (ret < 0) {
		fuzz_ram_check_pieces(&ram, pc, 0, UINT64_MAX);
		return 0;
	}
	check_parsed(in.p, in.n, &bz);
	struct boot_kernel k;
	ret = boot_kernel_from_bzimage(&k, &bz, &why);
	FUZZ_CHECK(ret == 0 && why == NULL && k.kind == BOOT_KERNEL_BZIMAGE &&
			   k.entry == BOOT_KERNEL_GPA + 0x200 && k.end > BOOT_KERNEL_GPA &&
			   k.end <= BOOT_LOW_RAM_END && k.initrd_addr_max == bz.initrd_addr_max &&
			   k.cmdline_size == bz.cmdline_size, "boot_kernel_from_bzimage: %d", ret);
	ret = bzimage_load(&ram.gm, &bz, &why);
	FUZZ_CHECK(ret == 0 ? why == NULL : ret == -ENOMEM && why && *why, "load: %d", ret);
	if (ret == 0)
		pc[npc++] = (struct fuzz_piece){ BOOT_KERNEL_GPA, bz.file.head + bz.setup_len, bz.pm_len };
	uint64_t rd_gpa = 0, rd_len = 0;
	if (ret == 0 && (f & 1)) {
		ret = initrd_load(&ram.gm, &k, initrd, rlen, &rd_gpa, &why);
		FUZZ_CHECK(ret == 0 ? why == NULL : (ret == -ENOMEM || ret == -EINVAL) && why && *why,
			   "initrd: %d", ret);
		uint64_t top = (uint64_t)bz.initrd_addr_max + 1 < A_SIZE ? bz.initrd_addr_max + 1ull
									 : A_SIZE;
		if (ret == 0) {
			FUZZ_CHECK(rd_gpa % FUZZ_PAGE == 0 && rd_gpa >= BOOT_KERNEL_GPA + bz.pm_len &&
					   rd_gpa >= k.end && rd_gpa + rlen <= top, "initrd at %#llx+%#zx",
				   (unsigned long long)rd_gpa, rlen);
			pc[npc++] = (struct fuzz_piece){ rd_gpa, initrd, rlen };
			rd_len = rlen;
		}
	}
	bool zp = false;
	if (ret == 0 && (f & 2)) {
		struct boot_args args = { .cmdline = cmdline, .initrd_gpa = rd_gpa,
					  .initrd_size = rd_len, .rsdp_gpa = BOOT_ACPI_GPA };
		size_t n = strlen(cmdline), limit = bz.cmdline_size < 0xffff ? bz.cmdline_size : 0xffff;
		ret = boot_params_build(&ram.gm, &k, &args, &why);
		FUZZ_CHECK(ret == 0 ? why == NULL && n <= limit : ret == -E2BIG && n > limit && why,
			   "boot_params: %d, command line %zu of %zu", ret, n, limit);
		if (ret == 0) {
			pc[npc++] = (struct fuzz_piece){ BOOT_CMDLINE_GPA, (const uint8_t *)cmdline, n + 1 };
			check_zero_page(&ram, &bz, rd_gpa, rd_len);
			zp = true;
		}
	}
	fuzz_ram_check_pieces(&ram, pc, npc, zp ? ZP : UINT64_MAX);
	return 0;
}
