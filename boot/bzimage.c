/*
 * bzimage.c - validate a Linux bzImage, copy its protected-mode part to
 * BOOT_KERNEL_GPA and describe it as a boot_kernel
 * (Documentation/arch/x86/boot.rst).
 *
 * The image is an untrusted file. Every header field is read through the
 * rd*() helpers below, and only after bzimage_parse_file() has checked
 * that the file's head in memory is at least BZ_MIN_LEN bytes long; the
 * _Static_asserts tie each offset to that bound, so adding a field without
 * raising BZ_MIN_LEN fails to compile. Sizes derived from the header are combined in 64-bit
 * arithmetic from 8-, 16- and 32-bit fields, so no sum below can wrap.
 */
#include "boot.h"

#include <errno.h>
#include <string.h>

/* File offsets of the setup header fields we use (boot.rst, "THE REAL-MODE KERNEL HEADER"). */
#define HDR_SETUP_SECTS      0x1f1  /* u8, 0 means 4 */
#define HDR_SYSSIZE          0x1f4  /* u32, protected-mode size in 16-byte units */
#define HDR_BOOT_FLAG        0x1fe  /* u16, 0xAA55 */
#define HDR_MAGIC            0x202  /* u32, "HdrS" */
#define HDR_VERSION          0x206  /* u16 */
#define HDR_LOADFLAGS        0x211  /* u8 */
#define HDR_INITRD_ADDR_MAX  0x22c  /* u32, since 2.03 */
#define HDR_KERNEL_ALIGNMENT 0x230  /* u32, since 2.05 */
#define HDR_RELOCATABLE      0x234  /* u8, since 2.05 */
#define HDR_XLOADFLAGS       0x236  /* u16, since 2.12 */
#define HDR_CMDLINE_SIZE     0x238  /* u32, since 2.06 */
#define HDR_PREF_ADDRESS     0x258  /* u64, since 2.10 */
#define HDR_INIT_SIZE        0x260  /* u32, since 2.10 */

/* Everything read above lies below this; shorter files are rejected first. */
#define BZ_MIN_LEN           0x264

_Static_assert(HDR_SETUP_SECTS + 1 <= BZ_MIN_LEN, "setup_sects beyond BZ_MIN_LEN");
_Static_assert(HDR_SYSSIZE + 4 <= BZ_MIN_LEN, "syssize beyond BZ_MIN_LEN");
_Static_assert(HDR_BOOT_FLAG + 2 <= BZ_MIN_LEN, "boot_flag beyond BZ_MIN_LEN");
_Static_assert(HDR_MAGIC + 4 <= BZ_MIN_LEN, "header magic beyond BZ_MIN_LEN");
_Static_assert(HDR_VERSION + 2 <= BZ_MIN_LEN, "version beyond BZ_MIN_LEN");
_Static_assert(HDR_LOADFLAGS + 1 <= BZ_MIN_LEN, "loadflags beyond BZ_MIN_LEN");
_Static_assert(HDR_INITRD_ADDR_MAX + 4 <= BZ_MIN_LEN, "initrd_addr_max beyond BZ_MIN_LEN");
_Static_assert(HDR_KERNEL_ALIGNMENT + 4 <= BZ_MIN_LEN, "kernel_alignment beyond BZ_MIN_LEN");
_Static_assert(HDR_RELOCATABLE + 1 <= BZ_MIN_LEN, "relocatable_kernel beyond BZ_MIN_LEN");
_Static_assert(HDR_XLOADFLAGS + 2 <= BZ_MIN_LEN, "xloadflags beyond BZ_MIN_LEN");
_Static_assert(HDR_CMDLINE_SIZE + 4 <= BZ_MIN_LEN, "cmdline_size beyond BZ_MIN_LEN");
_Static_assert(HDR_PREF_ADDRESS + 8 <= BZ_MIN_LEN, "pref_address beyond BZ_MIN_LEN");
_Static_assert(HDR_INIT_SIZE + 4 <= BZ_MIN_LEN, "init_size beyond BZ_MIN_LEN");

#define BZ_BOOT_FLAG       0xAA55
#define BZ_MAGIC           0x53726448u  /* "HdrS" read little-endian */
#define BZ_MIN_VERSION     0x020c       /* 2.12: first with xloadflags */
#define BZ_LOADED_HIGH     0x01
#define BZ_XLF_KERNEL_64   0x0001
#define BZ_SECTOR          512u
/* boot.rst, 64-bit boot protocol: startup_64 is 0x200 into the protected-mode kernel. */
#define BZ_ENTRY_64        0x200u

static uint64_t rd_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = n; i-- > 0;)
		v = (v << 8) | p[i];
	return v;
}

static uint8_t rd8(const uint8_t *img, size_t off) { return img[off]; }
static uint16_t rd16(const uint8_t *img, size_t off) { return (uint16_t)rd_le(img + off, 2); }
static uint32_t rd32(const uint8_t *img, size_t off) { return (uint32_t)rd_le(img + off, 4); }
static uint64_t rd64(const uint8_t *img, size_t off) { return rd_le(img + off, 8); }

/*
 * First GPA past everything the kernel occupies until it has read the e820
 * map: the protected-mode part as loaded at BOOT_KERNEL_GPA, and init_size
 * bytes from its runtime start. A relocatable kernel loaded below its
 * pref_address moves itself there before decompressing (boot.rst, init_size),
 * so with the usual 16 MiB pref_address the footprint reaches well past
 * BOOT_KERNEL_GPA + init_size. 0 when the header asks for something that
 * does not fit below BOOT_LOW_RAM_END (which also bounds every sum here).
 */
static uint64_t kernel_end(const struct bzimage *bz)
{
	const uint8_t *hdr = bz->file.head;
	if (hdr == NULL || bz->file.head_len < BZ_MIN_LEN || bz->file.head_len > bz->file.len)
		return 0;
	uint64_t pref = rd64(hdr, HDR_PREF_ADDRESS);
	uint64_t align = rd32(hdr, HDR_KERNEL_ALIGNMENT);
	uint64_t start;

	if (rd8(hdr, HDR_RELOCATABLE)) {
		start = BOOT_KERNEL_GPA;
		if (start < pref)
			start = pref;
		if (start > BOOT_LOW_RAM_END)
			return 0;
		/* align < 2^32 and start <= 3 GiB: the sum cannot wrap. */
		if (align != 0 && (align & (align - 1)) == 0)
			start = (start + align - 1) & ~(align - 1);
	} else {
		/* A fixed kernel runs at pref_address; below 1 MiB it would overwrite our tables. */
		start = pref;
		if (start < BOOT_KERNEL_GPA || start > BOOT_LOW_RAM_END)
			return 0;
	}
	uint64_t end = start + bz->init_size;
	uint64_t pm_end = BOOT_KERNEL_GPA + bz->pm_len;
	if (pm_end > end)
		end = pm_end;
	return end > BOOT_LOW_RAM_END ? 0 : end;
}

int bzimage_parse(const void *image, size_t len, struct bzimage *bz, const char **why)
{
	struct boot_file f;
	boot_file_memory(&f, image, len);
	return bzimage_parse_file(&f, bz, why);
}

int bzimage_parse_file(const struct boot_file *f, struct bzimage *bz, const char **why)
{
	const uint8_t *img = f->head;
	uint64_t len = f->len;

	*why = NULL;
	if (len < BZ_MIN_LEN) {
		*why = "kernel file is too small to be a bzImage";
		return -ENOEXEC;
	}
	/* The caller's head is too short: its bug, not the file's. */
	if (img == NULL || f->head_len < BZ_MIN_LEN || f->head_len > len) {
		*why = "the kernel file's header was not read";
		return -EINVAL;
	}
	if (rd16(img, HDR_BOOT_FLAG) != BZ_BOOT_FLAG || rd32(img, HDR_MAGIC) != BZ_MAGIC) {
		*why = "not a Linux bzImage (no 0xAA55 boot flag or \"HdrS\" header)";
		return -ENOEXEC;
	}
	uint16_t version = rd16(img, HDR_VERSION);
	if (version < BZ_MIN_VERSION) {
		*why = "kernel boot protocol is older than 2.12; a kernel from Linux 3.8 or later is needed";
		return -ENOEXEC;
	}
	if (!(rd8(img, HDR_LOADFLAGS) & BZ_LOADED_HIGH)) {
		*why = "kernel is a zImage that loads below 1 MiB (loadflags lacks LOADED_HIGH); a bzImage is needed";
		return -ENOEXEC;
	}
	uint16_t xlf = rd16(img, HDR_XLOADFLAGS);
	if (!(xlf & BZ_XLF_KERNEL_64)) {
		*why = "kernel has no 64-bit entry point (xloadflags lacks XLF_KERNEL_64); "
		       "is it a 32-bit kernel?";
		return -ENOEXEC;
	}

	/* setup_sects is 8 bits, so setup_len <= 256 * 512: no overflow. */
	uint64_t sects = rd8(img, HDR_SETUP_SECTS);
	if (sects == 0)
		sects = 4;
	uint64_t setup_len = (sects + 1) * BZ_SECTOR;
	if (setup_len >= len) {
		*why = "kernel file ends inside its real-mode setup code (setup_sects points past the end)";
		return -ENOEXEC;
	}
	uint64_t pm_len = len - setup_len;
	if (pm_len > UINT32_MAX) {
		*why = "kernel file is larger than 4 GiB";
		return -ENOEXEC;
	}
	/* syssize is what the build wrote; a shorter file was cut off in transit. */
	if ((uint64_t)rd32(img, HDR_SYSSIZE) * 16 > pm_len) {
		*why = "kernel file is truncated (shorter than the size its header declares)";
		return -ENOEXEC;
	}

	struct bzimage out = {
		.file = *f,
		.version = version,
		.setup_len = (uint32_t)setup_len,
		.pm_len = (uint32_t)pm_len,
		.init_size = rd32(img, HDR_INIT_SIZE),
		.initrd_addr_max = rd32(img, HDR_INITRD_ADDR_MAX),
		.cmdline_size = rd32(img, HDR_CMDLINE_SIZE),
		.xloadflags = xlf,
	};
	if (kernel_end(&out) == 0) {
		*why = "kernel asks to run at an address this VMM cannot provide "
		       "(pref_address/init_size outside low RAM below 3 GiB)";
		return -ENOEXEC;
	}
	*bz = out;
	return 0;
}

/*
 * What bzimage_parse_file guarantees, re-checked by everyone handed a
 * struct bzimage: kernel_end(bz), or 0 when bz was not made by it.
 */
static uint64_t sane_end(const struct bzimage *bz)
{
	bool ok = bz->file.read != NULL && bz->setup_len <= bz->file.len &&
		  bz->file.len - bz->setup_len == bz->pm_len;
	return ok ? kernel_end(bz) : 0;
}

int bzimage_load(const struct guest_mem *gm, const struct bzimage *bz, const char **why)
{
	*why = NULL;
	uint64_t end = sane_end(bz);
	if (end == 0) {
		*why = "bzImage was not parsed by bzimage_parse";
		return -EINVAL;
	}
	/* The whole footprint must be one region: the kernel assumes it is contiguous RAM. */
	uint8_t *dst = guest_mem_ptr(gm, BOOT_KERNEL_GPA, end - BOOT_KERNEL_GPA);
	if (dst == NULL) {
		*why = "guest memory too small for this kernel";
		return -ENOMEM;
	}
	/* kernel_end covers BOOT_KERNEL_GPA + pm_len. */
	int err = bz->file.read(bz->file.ctx, bz->setup_len, dst, bz->pm_len);
	if (err)
		*why = "reading the kernel file failed (did it change while vmm started?)";
	return err;
}

int boot_kernel_from_bzimage(struct boot_kernel *k, const struct bzimage *bz, const char **why)
{
	*why = NULL;
	uint64_t end = sane_end(bz);
	if (end == 0) {
		*why = "bzImage was not parsed by bzimage_parse";
		return -EINVAL;
	}
	*k = (struct boot_kernel){
		.kind = BOOT_KERNEL_BZIMAGE,
		.entry = BOOT_KERNEL_GPA + BZ_ENTRY_64,
		.end = end,
		.initrd_addr_max = bz->initrd_addr_max,
		.cmdline_size = bz->cmdline_size,
		.bz = *bz,
	};
	return 0;
}
