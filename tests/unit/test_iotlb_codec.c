/*
 * test_iotlb_codec.c - vhost IOTLB message encoding and decoding.
 *
 * Expected byte images are built by hand (little-endian stores at the
 * offsets of the uapi layouts), not with the codec's own structs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <linux/vhost_types.h>

#include "../../iommu/iommu.h"

#if defined(__LP64__)
_Static_assert(IOTLB_WIRE_V1_NATIVE == IOTLB_WIRE_V1_64, "native v1 on LP64");
#else
_Static_assert(IOTLB_WIRE_V1_NATIVE == IOTLB_WIRE_V1_32, "native v1 on ILP32");
#endif

static const enum iotlb_wire formats[] = { IOTLB_WIRE_V1_64, IOTLB_WIRE_V1_32, IOTLB_WIRE_V2 };

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Hand-built image: outer type at 0, asid at 4 (v2), payload at body. */
static void image(uint8_t *img, size_t n, uint32_t outer, size_t body, uint32_t asid,
		  const struct iotlb_msg *m)
{
	memset(img, 0, n);
	put_le(img, outer, 4);
	if (body == 8)
		put_le(img + 4, asid, 4);
	put_le(img + body, m->iova, 8);
	put_le(img + body + 8, m->size, 8);
	put_le(img + body + 16, m->uaddr, 8);
	img[body + 24] = m->perm;
	img[body + 25] = m->type;
}

static const struct iotlb_msg sample = {
	.iova = 0x0102030405060708ull,
	.size = 0x1112131415161718ull,
	.uaddr = 0x2122232425262728ull,
	.perm = 3,
	.type = 2,
};

static void test_sizes(void **state)
{
	(void)state;
	assert_int_equal(iotlb_wire_size(IOTLB_WIRE_V1_64), 72);
	assert_int_equal(iotlb_wire_size(IOTLB_WIRE_V1_32), 68);
	assert_int_equal(iotlb_wire_size(IOTLB_WIRE_V2), 72);
	assert_int_equal(iotlb_wire_size((enum iotlb_wire)7), 0);
	assert_int_equal(iotlb_wire_size(IOTLB_WIRE_V1_NATIVE), sizeof(struct vhost_msg));
}

static void check_encode(enum iotlb_wire w, size_t n, uint32_t outer, size_t body)
{
	uint8_t buf[100], img[100];
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(iotlb_encode(w, &sample, buf, sizeof(buf)), (int)n);
	image(img, n, outer, body, 0, &sample);
	assert_memory_equal(buf, img, n);
	/* Nothing written beyond the message. */
	for (size_t i = n; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xee);
}

static void test_encode_bytes(void **state)
{
	(void)state;
	check_encode(IOTLB_WIRE_V1_64, 72, 1, 8);
	check_encode(IOTLB_WIRE_V1_32, 68, 1, 4);
	check_encode(IOTLB_WIRE_V2, 72, 2, 8);
}

static void test_decode_bytes(void **state)
{
	(void)state;
	const struct iotlb_msg miss = { .iova = 0xdead000, .perm = 2, .type = 1 };
	const struct { enum iotlb_wire w; size_t n; uint32_t outer; size_t body; } f[] = {
		{ IOTLB_WIRE_V1_64, 72, 1, 8 },
		{ IOTLB_WIRE_V1_32, 68, 1, 4 },
		{ IOTLB_WIRE_V2, 72, 2, 8 },
	};
	for (unsigned i = 0; i < 3; i++) {
		uint8_t img[72];
		struct iotlb_msg m;
		image(img, f[i].n, f[i].outer, f[i].body, 0, &miss);
		assert_int_equal(iotlb_decode(f[i].w, img, f[i].n, &m), 0);
		assert_int_equal(m.iova, 0xdead000);
		assert_int_equal(m.size, 0);
		assert_int_equal(m.uaddr, 0);
		assert_int_equal(m.perm, 2);
		assert_int_equal(m.type, IOTLB_MISS);
	}
	/* The v1 64-bit hole and the union padding are not looked at. */
	uint8_t img[72];
	struct iotlb_msg m;
	image(img, 72, 1, 8, 0, &miss);
	memset(img + 4, 0x55, 4);
	memset(img + 8 + 26, 0x66, 72 - 8 - 26);
	assert_int_equal(iotlb_decode(IOTLB_WIRE_V1_64, img, 72, &m), 0);
	assert_int_equal(m.iova, 0xdead000);
}

static void test_roundtrip(void **state)
{
	(void)state;
	for (unsigned f = 0; f < 3; f++)
		for (uint8_t type = 1; type <= 4; type++)
			for (uint8_t perm = 0; perm <= 3; perm++) {
				struct iotlb_msg in = { .iova = 0xfffffffffffff000ull - type,
							.size = 1ull << (10 + perm),
							.uaddr = 0x7f0000000000ull + type * 3,
							.perm = perm, .type = type }, out;
				uint8_t buf[72];
				int n = iotlb_encode(formats[f], &in, buf, sizeof(buf));
				if (perm == 0 && type != IOTLB_INVALIDATE) {
					assert_int_equal(n, -EINVAL);
					continue;
				}
				assert_int_equal(n, (int)iotlb_wire_size(formats[f]));
				memset(&out, 0, sizeof(out));
				assert_int_equal(iotlb_decode(formats[f], buf, (size_t)n, &out), 0);
				assert_int_equal(out.iova, in.iova);
				assert_int_equal(out.size, in.size);
				assert_int_equal(out.uaddr, in.uaddr);
				assert_int_equal(out.perm, in.perm);
				assert_int_equal(out.type, in.type);
			}
}

/* The native formats interoperate with the uapi structs of this build. */
static void test_uapi_interop(void **state)
{
	(void)state;
	struct vhost_msg_v2 v2;
	memset(&v2, 0, sizeof(v2));
	v2.type = VHOST_IOTLB_MSG_V2;
	v2.iotlb.iova = 0x1000;
	v2.iotlb.perm = VHOST_ACCESS_RO;
	v2.iotlb.type = VHOST_IOTLB_MISS;
	struct iotlb_msg m;
	assert_int_equal(iotlb_decode(IOTLB_WIRE_V2, &v2, sizeof(v2), &m), 0);
	assert_int_equal(m.iova, 0x1000);
	assert_int_equal(m.perm, VHOST_ACCESS_RO);
	assert_int_equal(m.type, VHOST_IOTLB_MISS);

	memset(&v2, 0xcc, sizeof(v2));
	assert_int_equal(iotlb_encode(IOTLB_WIRE_V2, &sample, &v2, sizeof(v2)), (int)sizeof(v2));
	assert_int_equal(v2.type, VHOST_IOTLB_MSG_V2);
	assert_int_equal(v2.asid, 0);
	assert_int_equal(v2.iotlb.iova, sample.iova);
	assert_int_equal(v2.iotlb.size, sample.size);
	assert_int_equal(v2.iotlb.uaddr, sample.uaddr);
	assert_int_equal(v2.iotlb.perm, sample.perm);
	assert_int_equal(v2.iotlb.type, sample.type);

	struct vhost_msg v1;
	memset(&v1, 0xcc, sizeof(v1));
	assert_int_equal(iotlb_encode(IOTLB_WIRE_V1_NATIVE, &sample, &v1, sizeof(v1)), (int)sizeof(v1));
	assert_int_equal(v1.type, VHOST_IOTLB_MSG);
	assert_int_equal(v1.iotlb.iova, sample.iova);
	assert_int_equal(v1.iotlb.size, sample.size);
	assert_int_equal(v1.iotlb.uaddr, sample.uaddr);
	assert_int_equal(v1.iotlb.perm, sample.perm);
	assert_int_equal(v1.iotlb.type, sample.type);
	assert_int_equal(iotlb_decode(IOTLB_WIRE_V1_NATIVE, &v1, sizeof(v1), &m), 0);
	assert_int_equal(m.uaddr, sample.uaddr);
}

static void test_encode_rejects(void **state)
{
	(void)state;
	uint8_t buf[72];
	for (unsigned f = 0; f < 3; f++) {
		size_t n = iotlb_wire_size(formats[f]);
		assert_int_equal(iotlb_encode(formats[f], &sample, buf, n - 1), -ENOSPC);
		assert_int_equal(iotlb_encode(formats[f], &sample, buf, 0), -ENOSPC);
		assert_int_equal(iotlb_encode(formats[f], &sample, NULL, n), -EINVAL);
		assert_int_equal(iotlb_encode(formats[f], NULL, buf, n), -EINVAL);
		struct iotlb_msg m = sample;
		const uint8_t bad_types[] = { 0, 5, 6, 255 };
		for (unsigned i = 0; i < 4; i++) {
			m.type = bad_types[i];
			assert_int_equal(iotlb_encode(formats[f], &m, buf, n), -EINVAL);
		}
		m = sample;
		m.perm = 4;
		assert_int_equal(iotlb_encode(formats[f], &m, buf, n), -EINVAL);
	}
	assert_int_equal(iotlb_encode((enum iotlb_wire)3, &sample, buf, sizeof(buf)), -EINVAL);
}

static void expect_reject(enum iotlb_wire w, const uint8_t *img, size_t len)
{
	struct iotlb_msg m;
	memset(&m, 0x5a, sizeof(m));
	assert_int_equal(iotlb_decode(w, img, len, &m), -EINVAL);
	/* Output untouched on failure. */
	const uint8_t *p = (const uint8_t *)&m;
	for (size_t i = 0; i < sizeof(m); i++)
		assert_int_equal(p[i], 0x5a);
}

static void test_decode_rejects(void **state)
{
	(void)state;
	const struct { enum iotlb_wire w; size_t n; uint32_t outer; size_t body; } f[] = {
		{ IOTLB_WIRE_V1_64, 72, 1, 8 },
		{ IOTLB_WIRE_V1_32, 68, 1, 4 },
		{ IOTLB_WIRE_V2, 72, 2, 8 },
	};
	for (unsigned i = 0; i < 3; i++) {
		uint8_t img[80];
		struct iotlb_msg m = sample;
		image(img, f[i].n, f[i].outer, f[i].body, 0, &m);
		/* Length must be exact. */
		expect_reject(f[i].w, img, f[i].n - 1);
		expect_reject(f[i].w, img, f[i].n + 1);
		expect_reject(f[i].w, img, 0);
		expect_reject(f[i].w, img, 4);
		/* Wrong outer type, including the other version's. */
		const uint32_t bad_outer[] = { 0, f[i].outer == 1 ? 2u : 1u, 3, 0x100 | f[i].outer };
		for (unsigned j = 0; j < 4; j++) {
			image(img, f[i].n, bad_outer[j], f[i].body, 0, &m);
			expect_reject(f[i].w, img, f[i].n);
		}
		/* Bad payload type. */
		const uint8_t bad_types[] = { 0, 5, 6, 255 };
		for (unsigned j = 0; j < 4; j++) {
			m = sample;
			m.type = bad_types[j];
			image(img, f[i].n, f[i].outer, f[i].body, 0, &m);
			expect_reject(f[i].w, img, f[i].n);
		}
		/* Bad perm: 4 and up for all; 0 unless INVALIDATE. */
		const uint8_t bad_perms[] = { 4, 7, 255 };
		for (unsigned j = 0; j < 3; j++) {
			m = sample;
			m.perm = bad_perms[j];
			image(img, f[i].n, f[i].outer, f[i].body, 0, &m);
			expect_reject(f[i].w, img, f[i].n);
		}
		for (uint8_t t = 1; t <= 4; t++) {
			struct iotlb_msg out;
			m = sample;
			m.perm = 0;
			m.type = t;
			image(img, f[i].n, f[i].outer, f[i].body, 0, &m);
			if (t == IOTLB_INVALIDATE) {
				assert_int_equal(iotlb_decode(f[i].w, img, f[i].n, &out), 0);
				assert_int_equal(out.perm, 0);
			} else {
				expect_reject(f[i].w, img, f[i].n);
			}
		}
		m = sample;
		image(img, f[i].n, f[i].outer, f[i].body, 0, &m);
		struct iotlb_msg out;
		assert_int_equal(iotlb_decode(f[i].w, NULL, f[i].n, &out), -EINVAL);
		assert_int_equal(iotlb_decode(f[i].w, img, f[i].n, NULL), -EINVAL);
	}

	/* v2: any non-zero asid byte is rejected. */
	for (unsigned b = 0; b < 4; b++) {
		uint8_t img[72];
		image(img, 72, 2, 8, 1u << (8 * b), &sample);
		expect_reject(IOTLB_WIRE_V2, img, 72);
	}
	uint8_t img[72];
	image(img, 72, 2, 8, 0, &sample);
	expect_reject((enum iotlb_wire)9, img, 72);
}

static void test_msg_valid(void **state)
{
	(void)state;
	struct iotlb_msg m = sample;
	assert_true(iotlb_msg_valid(&m));
	assert_false(iotlb_msg_valid(NULL));
	m.type = IOTLB_ACCESS_FAIL;
	m.perm = 1;
	assert_true(iotlb_msg_valid(&m));
	m.perm = 0;
	assert_false(iotlb_msg_valid(&m));
	m.type = IOTLB_INVALIDATE;
	assert_true(iotlb_msg_valid(&m));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_encode_bytes),
		cmocka_unit_test(test_decode_bytes),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_uapi_interop),
		cmocka_unit_test(test_encode_rejects),
		cmocka_unit_test(test_decode_rejects),
		cmocka_unit_test(test_msg_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
