/*
 * tests/unit/diff/test_fmt_binary.c - the binary fallback: hash and size of
 * raw bytes, zip members by name and zips inside zips, built in memory.
 */
#include "tests/unit/diff/fmt_testutil.h"

#include "core/crypto.h"

/* A stored (uncompressed) zip holding the given members, written by hand. */
struct zmember {
	const char *name;
	const void *data;
	size_t len;
};

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

static void le16(struct buf *b, unsigned v)
{
	buf_addch(b, (char)(v & 0xff));
	buf_addch(b, (char)((v >> 8) & 0xff));
}

static void le32(struct buf *b, uint32_t v)
{
	le16(b, v & 0xffff);
	le16(b, v >> 16);
}

static char *make_zip(const struct zmember *m, size_t n, size_t *out_len)
{
	struct buf z = BUF_INIT, cd = BUF_INIT;
	size_t i;

	for (i = 0; i < n; i++) {
		uint32_t crc = crc32_of(m[i].data, m[i].len), off = (uint32_t)z.len;
		size_t nl = strlen(m[i].name);

		le32(&z, 0x04034b50);
		le16(&z, 10); le16(&z, 0); le16(&z, 0); le16(&z, 0); le16(&z, 0x21);
		le32(&z, crc); le32(&z, (uint32_t)m[i].len); le32(&z, (uint32_t)m[i].len);
		le16(&z, (unsigned)nl); le16(&z, 0);
		buf_add(&z, m[i].name, nl);
		buf_add(&z, m[i].data, m[i].len);
		le32(&cd, 0x02014b50);
		le16(&cd, 20); le16(&cd, 10); le16(&cd, 0); le16(&cd, 0); le16(&cd, 0); le16(&cd, 0x21);
		le32(&cd, crc); le32(&cd, (uint32_t)m[i].len); le32(&cd, (uint32_t)m[i].len);
		le16(&cd, (unsigned)nl); le16(&cd, 0); le16(&cd, 0); le16(&cd, 0); le16(&cd, 0);
		le32(&cd, 0); le32(&cd, off);
		buf_add(&cd, m[i].name, nl);
	}
	{
		uint32_t cd_off = (uint32_t)z.len, cd_len = (uint32_t)cd.len;

		buf_add(&z, cd.data, cd.len);
		le32(&z, 0x06054b50);
		le16(&z, 0); le16(&z, 0); le16(&z, (unsigned)n); le16(&z, (unsigned)n);
		le32(&z, cd_len); le32(&z, cd_off); le16(&z, 0);
	}
	buf_release(&cd);
	return buf_detach(&z, out_len);
}

static void hex_of(char out[65], const void *p, size_t n)
{
	crypto_sha256_hex(out, p, n);
}

static void raw_bytes(void **state)
{
	static const char data[] = { 'a', 0, 'b', 1, 2 };
	struct dnode *t = NULL;
	char hex[65];

	assert_true(diff_fmt_binary.detect(data, sizeof(data)) > 0);
	assert_int_equal(diff_fmt_binary.detect("text\n", 5), 0);
	assert_int_equal(diff_fmt_binary.parse(&t, data, sizeof(data)), 0);
	hex_of(hex, data, sizeof(data));
	expect_attr(t, "", "sha256", hex);
	expect_attr(t, "", "size", "5");
	assert_int_equal(t->nkids, 0);
	dnode_free(t);
}

static void nested_zip(void **state)
{
	struct zmember inner_m[] = { { "a.txt", "hello\n", 6 } };
	size_t inner_len, outer_len;
	char *inner = make_zip(inner_m, 1, &inner_len);
	struct zmember outer_m[] = {
		{ "lib/inner.zip", inner, inner_len },
		{ "prog.bin", "x\0y", 3 },
	};
	char *outer = make_zip(outer_m, 2, &outer_len);
	struct dnode *t = NULL;
	const struct dnode *m;
	char hex[65];

	assert_int_equal(diff_fmt_binary.detect(outer, outer_len), 100);
	assert_int_equal(diff_fmt_binary.parse(&t, outer, outer_len), 0);
	assert_int_equal(t->nkids, 2);
	m = dnode_child(t, "Member", "lib/inner.zip");
	assert_non_null(m);
	hex_of(hex, inner, inner_len);
	assert_string_equal(dnode_attr(m, "sha256"), hex);
	m = dnode_child(m, "Member", "a.txt");
	assert_non_null(m);
	assert_string_equal(dnode_attr(m, "size"), "6");
	hex_of(hex, "hello\n", 6);
	assert_string_equal(dnode_attr(m, "sha256"), hex);
	assert_string_equal(dnode_attr(dnode_child(t, "Member", "prog.bin"), "size"), "3");
	dnode_free(t);
	free(inner);
	free(outer);
}

static void member_changed(void **state)
{
	struct zmember a_m[] = { { "a.txt", "one\n", 4 }, { "b.bin", "\x01\x02", 2 } };
	struct zmember b_m[] = { { "a.txt", "two!\n", 5 }, { "b.bin", "\x01\x02", 2 } };
	size_t al, bl;
	char *a = make_zip(a_m, 2, &al), *b = make_zip(b_m, 2, &bl);
	struct diff_result *r = NULL;
	json_t *j = NULL;
	const char *const exp[] = {
		"modified Member[a.txt] | sha256",
		"modified Member[a.txt] | size",
		"modified File | sha256",
		"modified File | size",
		NULL
	};

	assert_int_equal(diff_compare(&r, "x.zip", a, al, b, bl), 0);
	assert_int_equal(diff_to_json(&j, r), 0);
	assert_string_equal(diff_result_format(r), "binary");
	expect_changes(j, exp);
	json_decref(j);
	diff_result_free(r);
	free(a);
	free(b);
}

/* A stored zip shows its first member's XML in its raw bytes: it is still an archive. */
static void stored_zip_of_xml(void **state)
{
	static const char pou_a[] =
		"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		"<TcPlcObject Version=\"1.1.0.1\"><POU Name=\"MAIN\">"
		"<Declaration><![CDATA[PROGRAM MAIN\nVAR\n\tx : INT;\nEND_VAR]]></Declaration>"
		"<Implementation><ST><![CDATA[x := x + 1;]]></ST></Implementation>"
		"</POU></TcPlcObject>\n";
	char *pou_b = xstrdup(pou_a);
	struct zmember a_m[] = { { "POUs/MAIN.TcPOU", pou_a, sizeof(pou_a) - 1 } };
	struct zmember b_m[] = { { "POUs/MAIN.TcPOU", pou_b, sizeof(pou_a) - 1 } };
	size_t al, bl;
	char *a, *b;
	struct diff_result *r = NULL;
	json_t *j = NULL;
	const char *const exp[] = {
		"modified Member[POUs/MAIN.TcPOU]/POU[MAIN] | implementation",
		"modified File | sha256",
		NULL
	};

	memcpy(strstr(pou_b, "x + 1"), "x + 2", 5);
	a = make_zip(a_m, 1, &al);
	b = make_zip(b_m, 1, &bl);
	assert_non_null(memmem(a, al, "<TcPlcObject", 12));
	assert_int_equal(diff_compare(&r, "MAIN.zip", a, al, b, bl), 0);
	assert_int_equal(diff_to_json(&j, r), 0);
	assert_string_equal(diff_result_format(r), "binary");
	expect_changes(j, exp);
	json_decref(j);
	diff_result_free(r);
	free(a);
	free(b);
	free(pou_b);
}

static void broken_zip(void **state)
{
	static const char junk[] = "PK\x03\x04garbage that is not a zip";
	struct dnode *t = NULL;

	/* still hashed; no members */
	assert_int_equal(diff_fmt_binary.parse(&t, junk, sizeof(junk) - 1), 0);
	assert_non_null(dnode_attr(t, "sha256"));
	dnode_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(raw_bytes),
		cmocka_unit_test(nested_zip),
		cmocka_unit_test(member_changed),
		cmocka_unit_test(stored_zip_of_xml),
		cmocka_unit_test(broken_zip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
