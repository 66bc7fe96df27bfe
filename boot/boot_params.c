/*
 * boot_params.c - the e820 map and the zero page (struct boot_params of
 * arch/x86/include/uapi/asm/bootparam.h) handed to the kernel in RSI.
 *
 * The zero page is assembled in a local copy and everything is validated
 * before anything is written, so a call that fails on bad input leaves
 * guest memory untouched.
 */
#include "boot.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#define ZP_SIZE          0x1000
#define ZP_E820_MAX      128
#define ZP_HDR_OFF       0x1f1   /* the setup header, as at the same file offset */
#define ZP_HDR_JUMP_OFF  0x201   /* second byte of the 2-byte jmp: header end - 0x202 */

/*
 * Only the fields this VMM writes are named; everything else is padding
 * that stays zero. Offsets are boot.rst's and bootparam.h's.
 */
struct zero_page {
	uint8_t  _pad0[0x070];
	uint64_t acpi_rsdp_addr;        /* 0x070 */
	uint8_t  _pad1[0x0c0 - 0x078];
	uint32_t ext_ramdisk_image;     /* 0x0c0 */
	uint32_t ext_ramdisk_size;      /* 0x0c4 */
	uint32_t ext_cmd_line_ptr;      /* 0x0c8 */
	uint8_t  _pad2[0x1e8 - 0x0cc];
	uint8_t  e820_entries;          /* 0x1e8 */
	uint8_t  _pad3[0x1ef - 0x1e9];
	uint8_t  sentinel;              /* 0x1ef: must stay 0 or the kernel wipes the header */
	uint8_t  _pad4[ZP_HDR_OFF - 0x1f0];
	uint8_t  setup_sects;           /* 0x1f1: the setup header starts here */
	uint16_t root_flags;            /* 0x1f2 */
	uint8_t  _pad5[0x1fe - 0x1f4];
	uint16_t boot_flag;             /* 0x1fe */
	uint8_t  _pad6[0x202 - 0x200];
	uint32_t header;                /* 0x202 */
	uint16_t version;               /* 0x206 */
	uint8_t  _pad7[0x210 - 0x208];
	uint8_t  type_of_loader;        /* 0x210 */
	uint8_t  loadflags;             /* 0x211 */
	uint8_t  _pad8[0x218 - 0x212];
	uint32_t ramdisk_image;         /* 0x218 */
	uint32_t ramdisk_size;          /* 0x21c */
	uint8_t  _pad9[0x224 - 0x220];
	uint16_t heap_end_ptr;          /* 0x224 */
	uint8_t  _pad10[0x228 - 0x226];
	uint32_t cmd_line_ptr;          /* 0x228 */
	uint32_t initrd_addr_max;       /* 0x22c */
	uint32_t kernel_alignment;      /* 0x230 */
	uint8_t  _pad11[0x238 - 0x234];
	uint32_t cmdline_size;          /* 0x238 */
	uint8_t  _pad12[0x2d0 - 0x23c];
	struct e820_entry e820_table[ZP_E820_MAX]; /* 0x2d0 */
	uint8_t  _pad13[ZP_SIZE - 0x2d0 - ZP_E820_MAX * 20];
} __attribute__((packed));

_Static_assert(sizeof(struct e820_entry) == 20, "e820 entries are 20 bytes");
_Static_assert(sizeof(struct zero_page) == ZP_SIZE, "zero page is one 4 KiB page");
_Static_assert(offsetof(struct zero_page, acpi_rsdp_addr) == 0x070, "acpi_rsdp_addr");
_Static_assert(offsetof(struct zero_page, ext_ramdisk_image) == 0x0c0, "ext_ramdisk_image");
_Static_assert(offsetof(struct zero_page, ext_ramdisk_size) == 0x0c4, "ext_ramdisk_size");
_Static_assert(offsetof(struct zero_page, ext_cmd_line_ptr) == 0x0c8, "ext_cmd_line_ptr");
_Static_assert(offsetof(struct zero_page, e820_entries) == 0x1e8, "e820_entries");
_Static_assert(offsetof(struct zero_page, sentinel) == 0x1ef, "sentinel");
_Static_assert(offsetof(struct zero_page, setup_sects) == 0x1f1, "setup header");
_Static_assert(offsetof(struct zero_page, root_flags) == 0x1f2, "root_flags");
_Static_assert(offsetof(struct zero_page, boot_flag) == 0x1fe, "boot_flag");
_Static_assert(offsetof(struct zero_page, header) == 0x202, "header");
_Static_assert(offsetof(struct zero_page, version) == 0x206, "version");
_Static_assert(offsetof(struct zero_page, type_of_loader) == 0x210, "type_of_loader");
_Static_assert(offsetof(struct zero_page, loadflags) == 0x211, "loadflags");
_Static_assert(offsetof(struct zero_page, ramdisk_image) == 0x218, "ramdisk_image");
_Static_assert(offsetof(struct zero_page, ramdisk_size) == 0x21c, "ramdisk_size");
_Static_assert(offsetof(struct zero_page, heap_end_ptr) == 0x224, "heap_end_ptr");
_Static_assert(offsetof(struct zero_page, cmd_line_ptr) == 0x228, "cmd_line_ptr");
_Static_assert(offsetof(struct zero_page, initrd_addr_max) == 0x22c, "initrd_addr_max");
_Static_assert(offsetof(struct zero_page, kernel_alignment) == 0x230, "kernel_alignment");
_Static_assert(offsetof(struct zero_page, cmdline_size) == 0x238, "cmdline_size");
_Static_assert(offsetof(struct zero_page, e820_table) == 0x2d0, "e820_table");

#define LOADER_UNDEFINED 0xff   /* type_of_loader for a loader without an assigned id */
#define LOADED_HIGH      0x01
#define CAN_USE_HEAP     0x80
#define HDR_BOOT_FLAG    0xAA55
#define HDR_MAGIC        0x53726448u  /* "HdrS" read little-endian */
#define HDR_VERSION      0x020f       /* 2.15: what Linux 6.1's header.S declares */
#define HDR_ROOT_RDONLY  1
/* boot.rst's suggested heap end (0xfe00 = 0x10000 - 0x200), for setup code we never run. */
#define HEAP_END_PTR     0xfe00

int e820_build(const struct guest_mem *gm, struct e820_entry *tab, unsigned max)
{
	if (gm->nregions == 0 || gm->nregions > GUEST_MEM_MAX_REGIONS)
		return -EINVAL;
	const struct guest_region *low = &gm->region[0];
	/* Below 2 MiB the fixed layout (tables, EBDA hole, kernel at 1 MiB) makes no sense. */
	if (low->gpa != 0 || low->size < 0x200000)
		return -EINVAL;

	/* Other regions in address order; guest_mem_add already forbids overlaps. */
	const struct guest_region *hi[GUEST_MEM_MAX_REGIONS];
	unsigned nhi = 0;
	for (unsigned i = 1; i < gm->nregions; i++) {
		unsigned j = nhi++;
		while (j > 0 && hi[j - 1]->gpa > gm->region[i].gpa) {
			hi[j] = hi[j - 1];
			j--;
		}
		hi[j] = &gm->region[i];
	}

	unsigned n = 3 + nhi;
	if (n > max)
		return -ENOSPC;
	tab[0] = (struct e820_entry){ 0, BOOT_EBDA_GPA, E820_RAM };
	tab[1] = (struct e820_entry){ BOOT_EBDA_GPA, BOOT_KERNEL_GPA - BOOT_EBDA_GPA, E820_RESERVED };
	tab[2] = (struct e820_entry){ BOOT_KERNEL_GPA, low->size - BOOT_KERNEL_GPA, E820_RAM };
	for (unsigned i = 0; i < nhi; i++)
		tab[3 + i] = (struct e820_entry){ hi[i]->gpa, hi[i]->size, E820_RAM };
	return (int)n;
}

/* The bzImage's own setup header, as the file has it. */
static void copy_bzimage_header(struct zero_page *zp, const struct bzimage *bz)
{
	/*
	 * The header runs from 0x1f1 to 0x202 + the jump offset at 0x201. Clip
	 * it to the file's head in memory (which holds the whole setup code of
	 * a real bzImage) and to the end of the header area in the zero page so
	 * a hostile offset can neither read past the head nor reach the e820
	 * table. boot_kernel_check made sure the head reaches 0x201.
	 */
	uint8_t *raw = (uint8_t *)zp;
	const uint8_t *head = bz->file.head;
	size_t hdr_end = 0x202 + (size_t)head[ZP_HDR_JUMP_OFF];
	if (hdr_end > bz->file.head_len)
		hdr_end = bz->file.head_len;
	if (hdr_end > offsetof(struct zero_page, e820_table))
		hdr_end = offsetof(struct zero_page, e820_table);
	memcpy(raw + ZP_HDR_OFF, head + ZP_HDR_OFF, hdr_end - ZP_HDR_OFF);
	/* For the real-mode setup code, which is never run here: boot.rst asks for it. */
	zp->loadflags |= CAN_USE_HEAP;
	zp->heap_end_ptr = HEAP_END_PTR;
}

/*
 * A setup header for an ELF vmlinux, which has none. Entered at
 * startup_64, the kernel proper (Linux 6.1) reads these fields of hdr:
 *   version         head64.c x86_64_start_reservations: 0 means boot_params
 *                   was not copied yet, and it is copied a second time;
 *   type_of_loader  setup.c early_reserve_initrd / reserve_initrd ignore
 *                   the ramdisk when it is 0; setup_arch: bootloader_type
 *                   (set by boot_params_build for both kinds);
 *   cmd_line_ptr, ramdisk_image/size  head64.c copy_bootdata, setup.c
 *                   get_ramdisk_image/size (also set for both kinds);
 *   root_flags      setup.c setup_arch: 0 clears MS_RDONLY, so root would
 *                   be mounted read-write without "rw"; header.S has
 *                   ROOT_RDONLY, so 1 makes ELF and bzImage boots alike;
 *   loadflags       only KASLR_FLAG (asm/setup.h kaslr_enabled), which
 *                   the decompressor sets; clear, so memory randomization
 *                   stays off like the kernel base. LOADED_HIGH is set
 *                   only because it is true (nothing reads it);
 *   hardware_subarch, setup_data, root_dev, vid_mode, ext_loader_*: zero
 *                   is a plain PC, no setup_data list, root from root=, no
 *                   video mode to restore, no extended loader id.
 * boot_flag, "HdrS", kernel_alignment, cmdline_size and initrd_addr_max
 * are read by no code on this path, but describe the kernel the way its
 * own header would, e.g. to a reader of /sys/kernel/boot_params/data.
 */
static void make_vmlinux_header(struct zero_page *zp, const struct boot_kernel *k)
{
	zp->root_flags = HDR_ROOT_RDONLY;
	zp->boot_flag = HDR_BOOT_FLAG;
	zp->header = HDR_MAGIC;
	zp->version = HDR_VERSION;
	zp->loadflags = LOADED_HIGH;
	zp->initrd_addr_max = k->initrd_addr_max;
	zp->kernel_alignment = VMLINUX_KERNEL_ALIGN;
	zp->cmdline_size = k->cmdline_size;
}

int boot_params_build(const struct guest_mem *gm, const struct boot_kernel *k,
		      const struct boot_args *args, const char **why)
{
	struct zero_page zp;

	memset(&zp, 0, sizeof(zp));

	*why = NULL;
	int err = boot_kernel_check(k, why);
	if (err)
		return err;
	if (k->kind == BOOT_KERNEL_BZIMAGE)
		copy_bzimage_header(&zp, &k->bz);
	else
		make_vmlinux_header(&zp, k);

	const char *cmdline = args->cmdline ? args->cmdline : "";
	size_t limit = k->cmdline_size;
	if (limit > BOOT_CMDLINE_MAX - 1)
		limit = BOOT_CMDLINE_MAX - 1;
	size_t cmdlen = strnlen(cmdline, limit + 1);
	if (cmdlen > limit) {
		*why = "kernel command line too long";
		return -E2BIG;
	}
	if (guest_mem_ptr(gm, BOOT_CMDLINE_GPA, cmdlen + 1) == NULL ||
	    guest_mem_ptr(gm, BOOT_PARAMS_GPA, ZP_SIZE) == NULL) {
		*why = "guest memory does not cover the boot parameter area below 1 MiB";
		return -EFAULT;
	}
	if (args->initrd_gpa != 0 &&
	    guest_mem_ptr(gm, args->initrd_gpa, args->initrd_size) == NULL) {
		*why = "initrd lies outside guest memory";
		return -EINVAL;
	}

	struct e820_entry map[ZP_E820_MAX];
	int n = e820_build(gm, map, ZP_E820_MAX);
	if (n < 0) {
		*why = "guest memory layout cannot be described to the kernel "
		       "(the first region must start at 0 and be at least 2 MiB)";
		return n;
	}

	zp.type_of_loader = LOADER_UNDEFINED;
	zp.cmd_line_ptr = (uint32_t)BOOT_CMDLINE_GPA;
	zp.ext_cmd_line_ptr = (uint32_t)(BOOT_CMDLINE_GPA >> 32);
	if (args->initrd_gpa != 0) {
		zp.ramdisk_image = (uint32_t)args->initrd_gpa;
		zp.ext_ramdisk_image = (uint32_t)(args->initrd_gpa >> 32);
		zp.ramdisk_size = (uint32_t)args->initrd_size;
		zp.ext_ramdisk_size = (uint32_t)(args->initrd_size >> 32);
	} else {
		/* boot.rst: the loader must write these; the file's bytes are not ours to pass on. */
		zp.ramdisk_image = zp.ramdisk_size = 0;
	}
	zp.acpi_rsdp_addr = args->rsdp_gpa;
	zp.e820_entries = (uint8_t)n;
	memcpy(zp.e820_table, map, (size_t)n * sizeof(map[0]));
	zp.sentinel = 0;

	err = guest_mem_write(gm, BOOT_CMDLINE_GPA, cmdline, cmdlen);
	if (err == 0)
		err = guest_mem_write(gm, BOOT_CMDLINE_GPA + cmdlen, "", 1);
	if (err == 0)
		err = guest_mem_write(gm, BOOT_PARAMS_GPA, &zp, sizeof(zp));
	if (err)
		*why = "guest memory does not cover the boot parameter area below 1 MiB";
	return err;
}
