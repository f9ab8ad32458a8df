/*
 * tests/unit/core/test_archive.c - core/archive.c: what is written reads
 * back with its types, the same entries give the same bytes, the cap holds,
 * and bytes that are no archive are refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/archive.h"
#include "core/err.h"

static const struct arc_entry entries[] = {
	{ "plc/", ARC_DIR, NULL, 0, 0755, 1700000000, NULL, NULL },
	{ "plc/Main.st", ARC_FILE, "x := 1;\n", 8, 0644, 1700000000, NULL, NULL },
	{ "plc/run.sh", ARC_FILE, "#!/bin/sh\n", 10, 0755, 1700000000, NULL, NULL },
	{ "plc/link", ARC_SYMLINK, NULL, 0, 0777, 1700000000, NULL, "/etc/passwd" },
	{ "plc/hard", ARC_HARDLINK, NULL, 0, 0644, 1700000000, NULL, "plc/Main.st" },
	{ "plc/fifo", ARC_OTHER, NULL, 0, 0644, 1700000000, NULL, NULL },
};
#define N(x) (sizeof(x) / sizeof((x)[0]))

static void write_all(struct buf *out, enum arc_format fmt, size_t n)
{
	struct arc_writer *w = NULL;

	assert_int_equal(arc_writer_open(&w, out, fmt), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(arc_writer_add(w, &entries[i]), 0);
	assert_int_equal(arc_writer_close(w), 0);
	arc_writer_free(w);
}

static void read_back(const struct buf *in, unsigned formats, size_t n)
{
	struct arc_reader *r = NULL;
	struct arc_member m;
	char data[64];
	size_t i = 0, got;

	assert_int_equal(arc_reader_open(&r, in->data, in->len, formats), 0);
	while (arc_reader_next(r, &m) == 1) {
		assert_true(i < n);
		assert_string_equal(m.name, entries[i].name);
		assert_int_equal(m.type, entries[i].type);
		if (entries[i].link)
			assert_string_equal(m.link, entries[i].link);
		if (entries[i].type == ARC_FILE) {
			assert_int_equal(m.size, (int64_t)entries[i].len);
			assert_int_equal(m.perm, entries[i].mode);
			assert_int_equal(arc_reader_read(r, &got, data, sizeof(data)), 0);
			assert_int_equal(got, entries[i].len);
			assert_memory_equal(data, entries[i].data, got);
			assert_int_equal(arc_reader_read(r, &got, data, sizeof(data)), 0);
			assert_int_equal(got, 0);
		}
		i++;
	}
	assert_int_equal(i, n);
	arc_reader_free(r);
}

static void test_tar_round_trip(void **state)
{
	struct buf a = BUF_INIT, b = BUF_INIT;

	write_all(&a, ARC_TAR, N(entries));
	write_all(&b, ARC_TAR, N(entries));
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	read_back(&a, ARC_READ_TAR, N(entries));
	buf_release(&a);
	buf_release(&b);
	write_all(&a, ARC_TAR_GZ, N(entries));
	read_back(&a, ARC_READ_TAR | ARC_READ_COMPRESSED, N(entries));
	buf_release(&a);
}

static void test_zip_round_trip(void **state)
{
	struct buf a = BUF_INIT;

	write_all(&a, ARC_ZIP, 3);   /* folders and files */
	assert_memory_equal(a.data, "PK", 2);
	read_back(&a, ARC_READ_ZIP, 3);
	buf_release(&a);
}

static void test_formats_asked_for(void **state)
{
	struct arc_reader *r = NULL;
	struct buf a = BUF_INIT;

	write_all(&a, ARC_TAR_GZ, 2);
	/* compressed, but the reader was not asked to decompress */
	assert_int_equal(arc_reader_open(&r, a.data, a.len, ARC_READ_TAR), OTCM_EMEDIA);
	assert_null(r);
	assert_int_equal(arc_reader_open(&r, "<RSLogix5000Content/>", 21,
					 ARC_READ_TAR | ARC_READ_ZIP | ARC_READ_COMPRESSED), OTCM_EMEDIA);
	buf_release(&a);
}

static void test_cap(void **state)
{
	struct arc_writer *w = NULL;
	struct buf small = BUF_INIT;
	static char big[8192];
	struct arc_entry e = { "big.bin", ARC_FILE, big, sizeof(big), 0644, 0, NULL, NULL };
	int rc;

	buf_init(&small, 4096);
	assert_int_equal(arc_writer_open(&w, &small, ARC_TAR), 0);
	rc = arc_writer_add(w, &e);
	if (rc == 0)
		rc = arc_writer_close(w);
	assert_int_equal(rc, OTCM_ETOOBIG);
	arc_writer_free(w);
	buf_release(&small);
}

/* "hello\n" compressed by gzip -n */
static const unsigned char hello_gz[] = {
	0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9,
	0xe7, 0x02, 0x00, 0x20, 0x30, 0x3a, 0x36, 0x06, 0x00, 0x00, 0x00,
};

static void test_gunzip(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(arc_gunzip(&b, hello_gz, sizeof(hello_gz)), 0);
	assert_int_equal(b.len, 6);
	assert_memory_equal(b.data, "hello\n", 6);
	buf_release(&b);
	/* not gzip; cut short; past the output's cap */
	assert_int_equal(arc_gunzip(&b, "hello", 5), OTCM_EMEDIA);
	buf_release(&b);
	assert_int_not_equal(arc_gunzip(&b, hello_gz, 14), 0);
	buf_release(&b);
	buf_init(&b, 3);
	assert_int_equal(arc_gunzip(&b, hello_gz, sizeof(hello_gz)), OTCM_ETOOBIG);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tar_round_trip),
		cmocka_unit_test(test_zip_round_trip),
		cmocka_unit_test(test_formats_asked_for),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_gunzip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
