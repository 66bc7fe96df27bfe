/*
 * test_acpi.c - ACPI tables: structure, checksums, the fields Linux relies
 * on, rejection of bad inputs, the DSDT's _S5_ value, the PCI host bridge
 * and MCFG agreeing with boot.h's PCI layout, the DMAR listed exactly when
 * the VM has an IOMMU, and an independent
 * check by ACPICA's own disassembler (iasl -d).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../boot/acpi.h"
#include "../../boot/acpi_dmar.h"
#include "../../boot/boot.h"
#include "../../vmm/guest_mem.h"
#include "acpi_test_util.h"

#define MEM_SIZE (2u << 20)
#define PM_PORT  0x600

struct fixture {
	uint8_t *buf;
	struct guest_mem gm;
	char tmpdir[32];   /* removed by teardown, even after a failed assert */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (f == NULL || acpi_test_mem_init(&f->buf, &f->gm, MEM_SIZE) != 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	return acpi_test_teardown(f, f->buf, f->tmpdir);
}

static struct acpi_config config(unsigned ncpus)
{
	return (struct acpi_config){
		.ncpus = ncpus, .ioapic_gpa = BOOT_IOAPIC_GPA, .pm_port = PM_PORT,
	};
}

/*
 * Host view of the table at gpa after checking that it lies in the ACPI
 * area, has a sane length and checksum, and the expected signature.
 */
static const uint8_t *table(const struct fixture *f, uint64_t gpa, const char *sig)
{
	assert_true(gpa >= BOOT_ACPI_GPA && gpa + 36 <= BOOT_ACPI_END);
	const uint8_t *p = f->buf + gpa;
	uint32_t len = rd32(p + 4);
	assert_true(len >= 36);
	assert_true(gpa + len <= BOOT_ACPI_END);
	assert_memory_equal(p, sig, 4);
	assert_int_equal(sum(p, len), 0);
	assert_memory_equal(p + 10, "VMM   ", 6);
	return p;
}

/* Build, check the RSDP, return the XSDT. */
static const uint8_t *build(struct fixture *f, unsigned ncpus)
{
	struct acpi_config c = config(ncpus);
	uint64_t rsdp = 0;
	assert_int_equal(acpi_build(&f->gm, &c, &rsdp), 0);
	assert_int_equal(rsdp, BOOT_ACPI_GPA);
	const uint8_t *r = f->buf + rsdp;
	assert_memory_equal(r, "RSD PTR ", 8);
	assert_int_equal(r[15], 2);              /* revision */
	assert_int_equal(rd32(r + 20), 36);      /* length */
	assert_int_equal(sum(r, 20), 0);
	assert_int_equal(sum(r, 36), 0);
	return table(f, rd64(r + 24), "XSDT");
}

/* The XSDT entry with signature sig, or NULL; fails on duplicates. */
static const uint8_t *find(const struct fixture *f, const uint8_t *xsdt, const char *sig)
{
	const uint8_t *found = NULL;
	uint32_t n = (rd32(xsdt + 4) - 36) / 8;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *t = f->buf + rd64(xsdt + 36 + 8 * i);
		if (memcmp(t, sig, 4) == 0) {
			assert_null(found);
			found = table(f, rd64(xsdt + 36 + 8 * i), sig);
		}
	}
	return found;
}

static void test_rsdp_xsdt(void **state)
{
	struct fixture *f = *state;
	const uint8_t *x = build(f, 2);
	uint32_t len = rd32(x + 4);
	assert_int_equal((len - 36) % 8, 0);
	assert_int_equal((len - 36) / 8, 3);
	assert_non_null(find(f, x, "FACP"));
	assert_non_null(find(f, x, "APIC"));
	assert_non_null(find(f, x, "MCFG"));
	/* Every entry is a well-formed table in the ACPI area. */
	for (uint32_t i = 0; i < (len - 36) / 8; i++) {
		uint64_t gpa = rd64(x + 36 + 8 * i);
		char sig[5] = { 0 };
		memcpy(sig, f->buf + gpa, 4);
		table(f, gpa, sig);
	}
	/* Nothing else in the area claims to be an RSDP. */
	for (uint64_t a = BOOT_ACPI_GPA + 16; a < BOOT_ACPI_END; a += 16)
		assert_memory_not_equal(f->buf + a, "RSD PTR ", 8);
}

static void assert_gas_io8(const uint8_t *g, uint64_t port)
{
	assert_int_equal(g[0], 1);     /* System I/O */
	assert_int_equal(g[1], 8);     /* bit width */
	assert_int_equal(g[2], 0);     /* bit offset */
	assert_int_equal(g[3], 1);     /* byte access */
	assert_int_equal(rd64(g + 4), port);
}

static void test_fadt(void **state)
{
	struct fixture *f = *state;
	const uint8_t *fadt = find(f, build(f, 1), "FACP");
	assert_non_null(fadt);
	assert_int_equal(rd32(fadt + 4), 276);
	assert_int_equal(fadt[8], 6);
	uint32_t flags = rd32(fadt + 112);
	assert_true(flags & (1u << 20));   /* HW_REDUCED_ACPI */
	assert_true(flags & (1u << 10));   /* RESET_REG_SUP */
	assert_true(flags & (1u << 4));    /* PWR_BUTTON: not fixed */
	assert_true(flags & (1u << 5));    /* SLP_BUTTON: not fixed */
	uint16_t boot = (uint16_t)(fadt[109] | fadt[110] << 8);
	assert_int_equal(boot, (1u << 2) | (1u << 5));  /* no VGA, no CMOS; no 8042 */

	uint64_t dsdt = rd64(fadt + 140);
	assert_int_equal(rd32(fadt + 40), dsdt);
	const uint8_t *d = table(f, dsdt, "DSDT");
	assert_int_equal(rd32(d + 4), dsdt_aml_len);
	assert_memory_equal(d, dsdt_aml, dsdt_aml_len);

	assert_gas_io8(fadt + 116, PM_PORT + ACPI_RESET_OFF);
	assert_int_equal(fadt[128], ACPI_RESET_VALUE);
	assert_gas_io8(fadt + 244, PM_PORT + ACPI_SLEEP_CONTROL_OFF);
	assert_gas_io8(fadt + 256, PM_PORT + ACPI_SLEEP_STATUS_OFF);
	/* No legacy fixed-hardware blocks in a HW-reduced FADT. */
	for (unsigned off = 56; off < 88; off++)
		assert_int_equal(fadt[off], 0);
}

static void check_madt(struct fixture *f, unsigned n)
{
	const uint8_t *m = find(f, build(f, n), "APIC");
	assert_non_null(m);
	uint32_t len = rd32(m + 4);
	assert_int_equal(rd32(m + 36), BOOT_LAPIC_GPA);
	assert_int_equal(rd32(m + 40), 0);

	unsigned lapics = 0, ioapics = 0, nmis = 0;
	int ioapic_id = -1;
	uint8_t seen[256] = { 0 };
	for (uint32_t off = 44; off < len;) {
		const uint8_t *e = m + off;
		assert_true(off + 2 <= len);
		assert_true(e[1] >= 2 && off + e[1] <= len);
		switch (e[0]) {
		case 0:
			assert_int_equal(e[1], 8);
			assert_int_equal(e[2], lapics);    /* uid = index */
			assert_int_equal(e[3], lapics);    /* APIC id = index */
			assert_int_equal(rd32(e + 4), 1);  /* enabled */
			seen[e[3]] = 1;
			lapics++;
			break;
		case 1:
			assert_int_equal(e[1], 12);
			assert_int_equal(rd32(e + 4), BOOT_IOAPIC_GPA);
			assert_int_equal(rd32(e + 8), 0);  /* GSI base */
			ioapic_id = e[2];
			ioapics++;
			break;
		case 4:
			assert_int_equal(e[1], 6);
			assert_int_equal(e[2], 0xFF);
			assert_int_equal(e[5], 1);         /* LINT1 */
			nmis++;
			break;
		default:
			fail_msg("unexpected MADT entry type %u", e[0]);
		}
		off += e[1];
	}
	assert_int_equal(lapics, n);
	assert_int_equal(ioapics, 1);
	assert_int_equal(nmis, 1);
	assert_true(ioapic_id >= 0);
	assert_int_equal(seen[ioapic_id], 0);
}

static void test_madt(void **state)
{
	static const unsigned counts[] = { 1, 2, 8, 255 };
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		check_madt(*state, counts[i]);
}

static void test_bad_ncpus(void **state)
{
	struct fixture *f = *state;
	uint64_t rsdp = 0x1234;
	struct acpi_config c = config(0);
	assert_int_equal(acpi_build(&f->gm, &c, &rsdp), -EINVAL);
	c = config(256);
	assert_int_equal(acpi_build(&f->gm, &c, &rsdp), -EINVAL);
	assert_int_equal(rsdp, 0x1234);
	/*
	 * An IOAPIC the 32-bit MADT field cannot express is refused too, and
	 * a failure late in the build leaves no earlier tables behind.
	 */
	c = config(1);
	assert_int_equal(acpi_build(&f->gm, &c, &rsdp), 0);
	c.ioapic_gpa = 0x100000000ULL;
	assert_int_equal(acpi_build(&f->gm, &c, &rsdp), -EINVAL);
	for (size_t i = BOOT_ACPI_GPA; i < BOOT_ACPI_END; i++)
		assert_int_equal(f->buf[i], 0);
	assert_int_equal(acpi_build(NULL, &c, &rsdp), -EINVAL);
}

static void test_no_acpi_area(void **state)
{
	struct fixture *f = *state;
	struct acpi_config c = config(2);
	uint64_t rsdp = 0;

	/* RAM from 1 MiB up only. */
	struct guest_mem high = { 0 };
	assert_int_equal(guest_mem_add(&high, 1u << 20, 1u << 20, f->buf + (1u << 20)), 0);
	assert_true(acpi_build(&high, &c, &rsdp) < 0);

	/* RAM that ends inside the ACPI area: nothing written past its end. */
	struct guest_mem part = { 0 };
	assert_int_equal(guest_mem_add(&part, 0, BOOT_ACPI_GPA + 64, f->buf), 0);
	assert_true(acpi_build(&part, &c, &rsdp) < 0);
	for (size_t i = BOOT_ACPI_GPA; i < MEM_SIZE; i++)
		assert_int_equal(f->buf[i], 0);
	assert_int_equal(rsdp, 0);
}

static void test_alloc_nospc(void **state)
{
	struct fixture *f = *state;
	struct acpi_builder b;
	uint64_t gpa;
	uint8_t *p;

	acpi_builder_init(&b, &f->gm, BOOT_ACPI_GPA, BOOT_ACPI_END);
	assert_int_equal(acpi_alloc(&b, BOOT_ACPI_END - BOOT_ACPI_GPA + 1, &gpa, &p), -ENOSPC);
	assert_int_equal(acpi_alloc(&b, UINT64_MAX, &gpa, &p), -ENOSPC);
	assert_int_equal(acpi_alloc(&b, 0, &gpa, &p), -EINVAL);
	assert_int_equal(acpi_alloc(&b, 20, &gpa, &p), 0);
	assert_int_equal(gpa, BOOT_ACPI_GPA);
	assert_ptr_equal(p, f->buf + BOOT_ACPI_GPA);
	assert_int_equal(acpi_alloc(&b, 8, &gpa, &p), 0);
	assert_int_equal(gpa, BOOT_ACPI_GPA + 32);  /* 16-byte aligned */
	/* Exactly what is left still fits; then nothing does. */
	assert_int_equal(acpi_alloc(&b, BOOT_ACPI_END - BOOT_ACPI_GPA - 48, &gpa, &p), 0);
	assert_int_equal(acpi_alloc(&b, 1, &gpa, &p), -ENOSPC);
}

/*
 * Decode one AML integer data object (ZeroOp, OneOp, OnesOp, Byte/Word/
 * DWord/QWordConst) at a[*i]; returns -1 for anything else.
 */
static int64_t aml_integer(const uint8_t *a, size_t len, size_t *i)
{
	static const unsigned size[] = { [0x0A] = 1, [0x0B] = 2, [0x0C] = 4, [0x0E] = 8 };
	assert_true(*i < len);
	uint8_t op = a[(*i)++];
	if (op == 0x00 || op == 0x01)
		return op;
	if (op == 0xFF)
		return -1;
	if (op > 0x0E || size[op] == 0 || *i + size[op] > len)
		return -1;
	uint64_t v = 0;
	for (unsigned k = 0; k < size[op]; k++)
		v |= (uint64_t)a[*i + k] << (8 * k);
	*i += size[op];
	return (int64_t)v;
}

/* SLP_TYPa of the (one) _S5_ package in an AML table, or fail. */
static int64_t s5_slp_typ(const uint8_t *a, size_t len)
{
	int64_t typ = -1;
	unsigned hits = 0;
	for (size_t i = 36; i + 5 < len; i++) {
		if (memcmp(a + i, "_S5_", 4) != 0)
			continue;
		/* NameOp, optionally with a root prefix, then the name. */
		if (!(a[i - 1] == 0x08 || (a[i - 1] == '\\' && a[i - 2] == 0x08)))
			continue;
		size_t j = i + 4;
		assert_true(j < len);
		assert_int_equal(a[j++], 0x12);    /* PackageOp */
		assert_true(j < len);
		j += 1 + (a[j] >> 6);              /* PkgLength: lead byte + 0..3 */
		assert_true(j < len);
		assert_true(a[j++] >= 1);          /* NumElements */
		typ = aml_integer(a, len, &j);
		hits++;
	}
	assert_int_equal(hits, 1);
	return typ;
}

static void test_dsdt_s5(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(s5_slp_typ(dsdt_aml, dsdt_aml_len), ACPI_S5_SLP_TYP);
	/* And the copy the guest finds through the FADT. */
	const uint8_t *fadt = find(f, build(f, 1), "FACP");
	const uint8_t *d = table(f, rd64(fadt + 140), "DSDT");
	assert_int_equal(s5_slp_typ(d, rd32(d + 4)), ACPI_S5_SLP_TYP);
}

static void test_dsdt_com1(void **state)
{
	(void)state;
	/* EisaId("PNP0501") as DWordConst, IO 0x3F8-0x3FF (len 8), IRQ mask bit 4. */
	static const uint8_t hid[] = { 0x0C, 0x41, 0xD0, 0x05, 0x01 };
	static const uint8_t io[] = { 0x47, 0x01, 0xF8, 0x03, 0xF8, 0x03, 0x01, 0x08 };
	static const uint8_t irq[] = { 0x22, 0x10, 0x00 };
	assert_non_null(memmem(dsdt_aml, dsdt_aml_len, "COM1", 4));
	assert_non_null(memmem(dsdt_aml, dsdt_aml_len, hid, sizeof(hid)));
	assert_non_null(memmem(dsdt_aml, dsdt_aml_len, io, sizeof(io)));
	assert_non_null(memmem(dsdt_aml, dsdt_aml_len, irq, sizeof(irq)));
}

static void test_mcfg(void **state)
{
	struct fixture *f = *state;
	const uint8_t *m = find(f, build(f, 2), "MCFG");
	assert_non_null(m);
	assert_int_equal(rd32(m + 4), 36 + 8 + 16);   /* one allocation */
	assert_int_equal(m[8], 1);
	for (unsigned i = 36; i < 44; i++)
		assert_int_equal(m[i], 0);
	assert_int_equal(rd64(m + 44), BOOT_PCI_ECAM_GPA);
	assert_int_equal(m[52] | m[53] << 8, 0);      /* segment */
	assert_int_equal(m[54], 0);                   /* start bus */
	assert_int_equal(m[55], 0);                   /* end bus */
	assert_int_equal(rd32(m + 56), 0);
	/* ECAM is 1 MiB aligned and clear of RAM, the PCI windows and the IOAPIC. */
	assert_int_equal(BOOT_PCI_ECAM_GPA % BOOT_PCI_ECAM_SIZE, 0);
	assert_true(BOOT_PCI_ECAM_GPA >= BOOT_LOW_RAM_END);
	assert_true(BOOT_PCI_ECAM_GPA >= BOOT_PCI_MMIO_GPA + BOOT_PCI_MMIO_SIZE ||
		    BOOT_PCI_ECAM_GPA + BOOT_PCI_ECAM_SIZE <= BOOT_PCI_MMIO_GPA);
	assert_true(BOOT_PCI_ECAM_GPA + BOOT_PCI_ECAM_SIZE <= BOOT_IOAPIC_GPA);
	assert_true(BOOT_PCI_MMIO_GPA >= BOOT_LOW_RAM_END);
	assert_true(BOOT_PCI_MMIO_GPA + BOOT_PCI_MMIO_SIZE <= BOOT_IOAPIC_GPA);
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/*
 * The one address-space descriptor (ACPI 6.x 6.4.3.5) with the given tag
 * and resource type whose min/max/translation/length are as given; n is
 * the field width (2 Word, 4 DWord). Returns its flags byte.
 */
static uint8_t find_addr_desc(uint8_t tag, uint8_t type, unsigned n, uint64_t min,
			      uint64_t len)
{
	uint8_t want[4 * 4];
	put_le(want, min, n);
	put_le(want + n, min + len - 1, n);
	put_le(want + 2 * n, 0, n);
	put_le(want + 3 * n, len, n);
	unsigned hits = 0;
	uint8_t flags = 0;
	for (size_t i = 6 + n; i + 4 * n <= dsdt_aml_len; i++) {
		if (memcmp(dsdt_aml + i, want, 4 * n) != 0)
			continue;
		const uint8_t *d = dsdt_aml + i - n - 6;   /* tag, len16, type, flags, tflags */
		if (d[0] != tag || d[3] != type)
			continue;
		for (unsigned k = 0; k < n; k++)
			assert_int_equal(d[6 + k], 0);           /* granularity */
		flags = d[4];
		hits++;
	}
	assert_int_equal(hits, 1);
	return flags;
}

static void test_dsdt_pci(void **state)
{
	(void)state;
	static const uint8_t pnp0a08[] = { 0x0C, 0x41, 0xD0, 0x0A, 0x08 };
	static const uint8_t pnp0a03[] = { 0x0C, 0x41, 0xD0, 0x0A, 0x03 };
	static const uint8_t pnp0c02[] = { 0x0C, 0x41, 0xD0, 0x0C, 0x02 };
	static const uint8_t cf8[] = { 0x47, 0x01, 0xF8, 0x0C, 0xF8, 0x0C, 0x01, 0x08 };
	assert_non_null(memmem(dsdt_aml, dsdt_aml_len, "PCI0", 4));
	assert_non_null(memmem(dsdt_aml, dsdt_aml_len, "_OSC", 4));
	assert_non_null(memmem(dsdt_aml, dsdt_aml_len, pnp0a08, sizeof(pnp0a08)));
	assert_non_null(memmem(dsdt_aml, dsdt_aml_len, pnp0a03, sizeof(pnp0a03)));
	assert_non_null(memmem(dsdt_aml, dsdt_aml_len, pnp0c02, sizeof(pnp0c02)));
	assert_non_null(memmem(dsdt_aml, dsdt_aml_len, cf8, sizeof(cf8)));

	/* Windows: producers (flags bit 0 clear) with fixed min and max. */
	uint8_t fl = find_addr_desc(0x88, 2, 2, 0, 1);                  /* bus 0-0 */
	assert_int_equal(fl & 0x0D, 0x0C);
	fl = find_addr_desc(0x88, 1, 2, BOOT_PCI_IO_BASE, BOOT_PCI_IO_SIZE);
	assert_int_equal(fl & 0x0D, 0x0C);
	fl = find_addr_desc(0x87, 0, 4, BOOT_PCI_MMIO_GPA, BOOT_PCI_MMIO_SIZE);
	assert_int_equal(fl & 0x0D, 0x0C);

	/* The PNP0C02 reserves exactly the ECAM region the MCFG gives. */
	uint8_t ecam[12] = { 0x86, 0x09, 0x00, 0x01 };
	put_le(ecam + 4, BOOT_PCI_ECAM_GPA, 4);
	put_le(ecam + 8, BOOT_PCI_ECAM_SIZE, 4);
	assert_non_null(memmem(dsdt_aml, dsdt_aml_len, ecam, sizeof(ecam)));
}

/*
 * The DMAR is listed only when the VM has a VT-d: a DMAR without one would
 * make an intel_iommu=on guest probe an empty register page. Its contents
 * are test_acpi_dmar.c's; here: presence, place in the XSDT, the register
 * base the VMM maps, and that the other tables are unchanged.
 */
static void test_dmar_only_with_iommu(void **state)
{
	struct fixture *f = *state;
	const uint8_t *x = build(f, 2);
	assert_null(find(f, x, "DMAR"));
	assert_int_equal((rd32(x + 4) - 36) / 8, 3);

	struct acpi_config c = config(2);
	c.iommu = true;
	uint64_t rsdp = 0;
	assert_int_equal(acpi_build(&f->gm, &c, &rsdp), 0);
	assert_int_equal(rsdp, BOOT_ACPI_GPA);
	x = table(f, rd64(f->buf + rsdp + 24), "XSDT");
	assert_int_equal((rd32(x + 4) - 36) / 8, 4);
	assert_non_null(find(f, x, "FACP"));
	assert_non_null(find(f, x, "APIC"));
	assert_non_null(find(f, x, "MCFG"));
	const uint8_t *d = find(f, x, "DMAR");
	assert_non_null(d);
	assert_int_equal(d[36], ACPI_DMAR_HAW - 1);
	assert_int_equal(rd32(d + 4), 48 + 16);         /* one DRHD, no scopes */
	assert_int_equal(d[48], 0);                     /* DRHD */
	assert_int_equal(d[52] & 1, 1);                 /* INCLUDE_PCI_ALL */
	assert_int_equal(rd64(d + 56), BOOT_VTD_GPA);

	/* Building again without the IOMMU drops it (the area is rebuilt). */
	x = build(f, 2);
	assert_null(find(f, x, "DMAR"));
	for (uint64_t a = BOOT_ACPI_GPA; a + 4 <= BOOT_ACPI_END; a += ACPI_TABLE_ALIGN)
		assert_memory_not_equal(f->buf + a, "DMAR", 4);
}

static void test_iasl_disassembles(void **state)
{
	struct fixture *f = *state;
	if (system("command -v iasl >/dev/null 2>&1") != 0)
		fail_msg("iasl not found on PATH: install acpica-tools (make deps)");

	snprintf(f->tmpdir, sizeof(f->tmpdir), "/tmp/test_acpi.XXXXXX");
	assert_non_null(mkdtemp(f->tmpdir));
	const char *dir = f->tmpdir;
	const uint8_t *x = build(f, 4);
	const uint8_t *fadt = find(f, x, "FACP");
	acpi_test_dump(dir, "XSDT", x);
	acpi_test_dump(dir, "FACP", fadt);
	acpi_test_dump(dir, "APIC", find(f, x, "APIC"));
	acpi_test_dump(dir, "MCFG", find(f, x, "MCFG"));
	acpi_test_dump(dir, "DSDT", table(f, rd64(fadt + 140), "DSDT"));

	static const char *const names[] = { "XSDT", "FACP", "APIC", "MCFG", "DSDT" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		iasl_check(dir, names[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rsdp_xsdt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fadt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_madt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_ncpus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_acpi_area, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_nospc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dsdt_s5, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dsdt_com1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mcfg, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dsdt_pci, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dmar_only_with_iommu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iasl_disassembles, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
