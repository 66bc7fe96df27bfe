/*
 * boot_file_fake.h - a struct boot_file over a buffer that behaves like
 * vmm/vm_boot.c's pread reader and watches how the loaders use it: every
 * read must lie inside the file (a read outside fails the test), reads
 * are counted, and the file can be "cut" after it was opened (reads past
 * cut return -EIO, as pread's end of file does in vm_boot.c).
 */
#ifndef TESTS_UNIT_BOOT_FILE_FAKE_H
#define TESTS_UNIT_BOOT_FILE_FAKE_H

#include <errno.h>
#include <string.h>

#include "../../boot/boot.h"

struct fake_file {
	const uint8_t *data;
	uint64_t len;
	uint64_t cut;           /* bytes that can still be read (len unless cut short) */
	unsigned reads;
	uint64_t bytes;         /* read in all */
	uint64_t last_off, last_n;
};

static int fake_file_read(void *ctx, uint64_t off, void *dst, size_t n)
{
	struct fake_file *ff = ctx;
	if (off > ff->len || n > ff->len - off)
		fail_msg("read of [%#llx, +%#zx) outside the %#llx-byte file",
			 (unsigned long long)off, n, (unsigned long long)ff->len);
	ff->reads++;
	ff->last_off = off;
	ff->last_n = n;
	if (off + n > ff->cut)
		return -EIO;
	memcpy(dst, ff->data + off, n);
	ff->bytes += n;
	return 0;
}

/* f: the first head_len bytes of data in memory, the rest read through ff. */
static void fake_file_open(struct fake_file *ff, struct boot_file *f, const void *data,
			   uint64_t len, size_t head_len)
{
	*ff = (struct fake_file){ .data = data, .len = len, .cut = len };
	*f = (struct boot_file){
		.head = data, .head_len = head_len, .len = len, .read = fake_file_read, .ctx = ff,
	};
}

#endif
