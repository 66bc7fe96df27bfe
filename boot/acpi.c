/*
 * acpi.c - acpi_build(): the table allocator, the DSDT copy, the XSDT and
 * the RSDP. FADT, MADT, MCFG and DMAR live in acpi_fadt.c, acpi_madt.c,
 * acpi_mcfg.c and acpi_dmar.c.
 *
 * Order matters only for the pointers: tables are written first, the XSDT
 * once it knows all of them, the RSDP last (it points at the XSDT). The
 * whole ACPI area is zeroed first so no stale "RSD PTR " or half-written
 * table from an earlier attempt can be found by the guest's scan.
 */
#include "acpi.h"
#include "acpi_dmar.h"

#include <errno.h>
#include <string.h>

/* Root System Description Pointer, ACPI 2.0+ layout (5.2.5.3). */
struct acpi_rsdp {
	char signature[8];        /* "RSD PTR " */
	uint8_t checksum;         /* bytes 0..19 sum to 0 */
	char oem_id[6];
	uint8_t revision;         /* 2: ACPI 2.0+, XSDT valid */
	uint32_t rsdt_address;    /* 0: we only provide the XSDT */
	uint32_t length;          /* 36 */
	uint64_t xsdt_address;
	uint8_t extended_checksum; /* all 36 bytes sum to 0 */
	uint8_t reserved[3];
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP v2 is 36 bytes");

#define ACPI_RSDP_V1_LEN 20

void acpi_builder_init(struct acpi_builder *b, const struct guest_mem *gm,
		       uint64_t start, uint64_t end)
{
	memset(b, 0, sizeof(*b));
	b->gm = gm;
	b->next = start;
	b->end = end;
}

int acpi_alloc(struct acpi_builder *b, uint64_t len, uint64_t *gpa, uint8_t **host)
{
	if (len == 0)
		return -EINVAL;
	/* next <= end always holds, so end - next cannot wrap. */
	if (b->next > b->end || len > b->end - b->next)
		return -ENOSPC;
	uint8_t *p = guest_mem_ptr(b->gm, b->next, len);
	if (p == NULL)
		return -EFAULT;
	memset(p, 0, len);
	*gpa = b->next;
	*host = p;
	/* Round up, clamped to end: the next allocation then fails cleanly. */
	uint64_t left = b->end - b->next - len;
	uint64_t pad = (ACPI_TABLE_ALIGN - (b->next + len) % ACPI_TABLE_ALIGN) % ACPI_TABLE_ALIGN;
	b->next += len + (pad < left ? pad : left);
	return 0;
}

void acpi_header_init(struct acpi_sdt_header *h, const char sig[4],
		      uint32_t length, uint8_t revision)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->signature, sig, sizeof(h->signature));
	h->length = length;
	h->revision = revision;
	memcpy(h->oem_id, ACPI_OEM_ID, sizeof(h->oem_id));
	/* OEM table id: "VMM" + signature + space, unique per table. */
	memcpy(h->oem_table_id, "VMM", 3);
	memcpy(h->oem_table_id + 3, sig, 4);
	h->oem_table_id[7] = ' ';
	h->oem_revision = ACPI_OEM_REVISION;
	memcpy(h->creator_id, ACPI_CREATOR_ID, sizeof(h->creator_id));
	h->creator_revision = ACPI_CREATOR_REV;
}

uint8_t acpi_checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return sum;
}

int acpi_publish(struct acpi_builder *b, uint64_t gpa, bool in_xsdt)
{
	struct acpi_sdt_header h;
	int ret = guest_mem_read(b->gm, gpa, &h, sizeof(h));
	if (ret < 0)
		return ret;
	if (h.length < sizeof(h))
		return -EINVAL;
	uint8_t *p = guest_mem_ptr(b->gm, gpa, h.length);
	if (p == NULL)
		return -EFAULT;
	if (in_xsdt && b->ntables >= ACPI_MAX_TABLES)
		return -ENOSPC;
	p[ACPI_CHECKSUM_OFF] = 0;
	p[ACPI_CHECKSUM_OFF] = (uint8_t)-acpi_checksum(p, h.length);
	if (in_xsdt)
		b->table[b->ntables++] = gpa;
	return 0;
}

/*
 * The DSDT is iasl's output, copied verbatim: its header and checksum are
 * already final. It is reached through the FADT, not the XSDT.
 */
int acpi_build_dsdt(struct acpi_builder *b, uint64_t *dsdt_gpa)
{
	struct acpi_sdt_header h;
	uint8_t *p;
	uint64_t gpa;

	if (dsdt_aml_len < sizeof(h))
		return -EINVAL;
	memcpy(&h, dsdt_aml, sizeof(h));
	if (memcmp(h.signature, "DSDT", 4) != 0 || h.length != dsdt_aml_len)
		return -EINVAL;
	int ret = acpi_alloc(b, dsdt_aml_len, &gpa, &p);
	if (ret < 0)
		return ret;
	memcpy(p, dsdt_aml, dsdt_aml_len);
	/* Recomputing is a no-op for good AML and keeps the invariant local. */
	ret = acpi_publish(b, gpa, false);
	if (ret < 0)
		return ret;
	*dsdt_gpa = gpa;
	return 0;
}

static int acpi_build_xsdt(struct acpi_builder *b, uint64_t *xsdt_gpa)
{
	struct acpi_sdt_header h;
	uint64_t len = sizeof(h) + (uint64_t)b->ntables * sizeof(uint64_t);
	uint8_t *p;
	uint64_t gpa;

	int ret = acpi_alloc(b, len, &gpa, &p);
	if (ret < 0)
		return ret;
	acpi_header_init(&h, "XSDT", (uint32_t)len, 1);
	memcpy(p, &h, sizeof(h));
	/* Entries are 64-bit but only 4-byte aligned in the table: memcpy. */
	memcpy(p + sizeof(h), b->table, b->ntables * sizeof(uint64_t));
	ret = acpi_publish(b, gpa, false);
	if (ret < 0)
		return ret;
	*xsdt_gpa = gpa;
	return 0;
}

static int acpi_build_rsdp(struct acpi_builder *b, uint64_t gpa, uint64_t xsdt_gpa)
{
	struct acpi_rsdp r;

	memset(&r, 0, sizeof(r));
	memcpy(r.signature, "RSD PTR ", sizeof(r.signature));
	memcpy(r.oem_id, ACPI_OEM_ID, sizeof(r.oem_id));
	r.revision = 2;
	r.length = sizeof(r);
	r.xsdt_address = xsdt_gpa;
	/* The v1 checksum covers bytes 0-19 only; the extended one all 36. */
	r.checksum = (uint8_t)-acpi_checksum((const uint8_t *)&r, ACPI_RSDP_V1_LEN);
	r.extended_checksum = (uint8_t)-acpi_checksum((const uint8_t *)&r, sizeof(r));
	return guest_mem_write(b->gm, gpa, &r, sizeof(r));
}

int acpi_build(const struct guest_mem *gm, const struct acpi_config *cfg, uint64_t *rsdp_gpa)
{
	struct acpi_builder b;
	uint64_t rsdp, dsdt, xsdt;
	uint8_t *area, *unused;
	int ret;

	if (gm == NULL || cfg == NULL || rsdp_gpa == NULL)
		return -EINVAL;
	/* APIC ids are 8-bit in MADT type 0 entries, and the IOAPIC needs one too. */
	if (cfg->ncpus == 0 || cfg->ncpus > 255)
		return -EINVAL;

	/* Require the whole area up front: fail before writing anything. */
	area = guest_mem_ptr(gm, BOOT_ACPI_GPA, BOOT_ACPI_END - BOOT_ACPI_GPA);
	if (area == NULL)
		return -EFAULT;
	memset(area, 0, BOOT_ACPI_END - BOOT_ACPI_GPA);

	acpi_builder_init(&b, gm, BOOT_ACPI_GPA, BOOT_ACPI_END);
	/* RSDP first, at BOOT_ACPI_GPA: the first place the BIOS scan looks. */
	ret = acpi_alloc(&b, sizeof(struct acpi_rsdp), &rsdp, &unused);
	if (ret == 0)
		ret = acpi_build_dsdt(&b, &dsdt);
	if (ret == 0)
		ret = acpi_build_fadt(&b, cfg, dsdt);
	if (ret == 0)
		ret = acpi_build_madt(&b, cfg);
	if (ret == 0)
		ret = acpi_build_mcfg(&b);
	/* Only with a VT-d: without one, a DMAR would send Linux to an empty register page. */
	if (ret == 0 && cfg->iommu)
		ret = acpi_build_dmar(&b, BOOT_VTD_GPA);
	/* New tables go here, before the XSDT that lists them. */
	if (ret == 0)
		ret = acpi_build_xsdt(&b, &xsdt);
	if (ret == 0)
		ret = acpi_build_rsdp(&b, rsdp, xsdt);
	if (ret < 0) {
		/* Leave no partial tables a guest could pick up. */
		memset(area, 0, BOOT_ACPI_END - BOOT_ACPI_GPA);
		return ret;
	}
	*rsdp_gpa = rsdp;
	return 0;
}
