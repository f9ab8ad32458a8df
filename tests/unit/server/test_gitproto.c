/*
 * tests/unit/server/test_gitproto.c - git's pkt-lines and the requests stock
 * git sends (server/gitproto.h): well-formed requests as git 2.39 writes
 * them, and every malformed shape refused with a sentence.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "server/gitproto.h"

#define A40 "1111111111111111111111111111111111111111"
#define B40 "2222222222222222222222222222222222222222"
#define Z40 "0000000000000000000000000000000000000000"

/* Append a pkt-line of the text s (its length computed). */
static void pkt(struct buf *b, const char *s)
{
	assert_int_equal(gitproto_write(b, s, strlen(s)), 0);
}

static void test_pkt_roundtrip(void **state)
{
	struct buf b = BUF_INIT;
	struct gitproto_reader r;
	enum gitproto_pkt t;
	const char *d;
	size_t n;

	pkt(&b, "hello\n");
	assert_int_equal(gitproto_flush(&b), 0);
	assert_int_equal(gitproto_delim(&b), 0);
	assert_int_equal(gitproto_band(&b, 2, "hi", 2), 0);
	assert_memory_equal(b.data, "000ahello\n000000010007\002hi", b.len);
	gitproto_reader_init(&r, b.data, b.len);
	assert_int_equal(gitproto_read(&t, &d, &n, &r), 0);
	assert_int_equal(t, GITPROTO_DATA);
	assert_int_equal(n, 5);   /* the newline is dropped */
	assert_memory_equal(d, "hello", 5);
	assert_int_equal(gitproto_read(&t, &d, &n, &r), 0);
	assert_int_equal(t, GITPROTO_FLUSH);
	assert_int_equal(gitproto_read(&t, &d, &n, &r), 0);
	assert_int_equal(t, GITPROTO_DELIM);
	assert_int_equal(gitproto_read(&t, &d, &n, &r), 0);
	assert_int_equal(t, GITPROTO_DATA);
	assert_int_equal(gitproto_read(&t, &d, &n, &r), 0);
	assert_int_equal(t, GITPROTO_EOF);
	buf_release(&b);
}

static void test_pkt_malformed(void **state)
{
	static const char *const bad[] = { "00", "zzzz", "0003", "0004", "ffff", "000ahel" };
	struct gitproto_reader r;
	enum gitproto_pkt t;
	const char *d;
	size_t n, i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		gitproto_reader_init(&r, bad[i], strlen(bad[i]));
		assert_int_equal(gitproto_read(&t, &d, &n, &r), OTCM_EINVAL);
		assert_string_equal(err_field(), "body");
	}
}

static void test_band_splits_large_payloads(void **state)
{
	static char big[GITPROTO_BAND_MAX + 10];
	struct buf b = BUF_INIT;

	memset(big, 'x', sizeof(big));
	assert_int_equal(gitproto_band(&b, 1, big, sizeof(big)), 0);
	assert_int_equal(b.len, sizeof(big) + 2 * 5);
	assert_memory_equal(b.data, "fff0\001", 5);
	buf_release(&b);
}

static void test_upload_v0(void **state)
{
	struct arena *a = arena_new();
	struct gitproto_fetch f;
	struct buf b = BUF_INIT;

	pkt(&b, "want " A40 " multi_ack_detailed side-band-64k include-tag ofs-delta agent=git/2.39.5\n");
	pkt(&b, "want " B40 "\n");
	pkt(&b, "deepen 1\n");
	gitproto_flush(&b);
	pkt(&b, "have " B40 "\n");
	pkt(&b, "done\n");
	assert_int_equal(gitproto_parse_upload_v0(&f, a, b.data, b.len, 100), 0);
	assert_int_equal(f.nwants, 2);
	assert_string_equal(f.wants[0], A40);
	assert_int_equal(f.nhaves, 1);
	assert_int_equal(f.depth, 1);
	assert_true(f.done && f.haves_section && f.multi_ack_detailed && f.side_band_64k && f.include_tag);
	assert_false(f.no_progress);
	buf_reset(&b);

	/* the first round of a shallow clone: wants, depth and a flush alone */
	pkt(&b, "want " A40 " side-band-64k\n");
	pkt(&b, "deepen 3\n");
	gitproto_flush(&b);
	assert_int_equal(gitproto_parse_upload_v0(&f, a, b.data, b.len, 100), 0);
	assert_false(f.haves_section);
	assert_false(f.done);
	assert_int_equal(f.depth, 3);
	buf_reset(&b);

	/* capabilities only on the first want; a have before the flush; no want */
	pkt(&b, "want " A40 "\n");
	pkt(&b, "want " B40 " side-band-64k\n");
	gitproto_flush(&b);
	assert_int_equal(gitproto_parse_upload_v0(&f, a, b.data, b.len, 100), OTCM_EINVAL);
	buf_reset(&b);
	pkt(&b, "want " A40 "\n");
	pkt(&b, "have " B40 "\n");
	gitproto_flush(&b);
	assert_int_equal(gitproto_parse_upload_v0(&f, a, b.data, b.len, 100), OTCM_EINVAL);
	buf_reset(&b);
	gitproto_flush(&b);
	pkt(&b, "done\n");
	assert_int_equal(gitproto_parse_upload_v0(&f, a, b.data, b.len, 100), OTCM_EINVAL);
	buf_reset(&b);
	/* bad ids, bad depth, unknown lines, too many lines */
	pkt(&b, "want 12345\n");
	assert_int_equal(gitproto_parse_upload_v0(&f, a, b.data, b.len, 100), OTCM_EINVAL);
	buf_reset(&b);
	pkt(&b, "want " A40 "\n");
	pkt(&b, "deepen 0\n");
	assert_int_equal(gitproto_parse_upload_v0(&f, a, b.data, b.len, 100), OTCM_EINVAL);
	buf_reset(&b);
	pkt(&b, "want " A40 "\n");
	pkt(&b, "filter blob:none\n");
	assert_int_equal(gitproto_parse_upload_v0(&f, a, b.data, b.len, 100), OTCM_EINVAL);
	buf_reset(&b);
	pkt(&b, "want " A40 "\n");
	pkt(&b, "want " B40 "\n");
	assert_int_equal(gitproto_parse_upload_v0(&f, a, b.data, b.len, 1), OTCM_ETOOBIG);
	buf_release(&b);
	arena_free(a);
}

static void test_v2(void **state)
{
	struct arena *a = arena_new();
	struct gitproto_v2 v;
	struct buf b = BUF_INIT;

	pkt(&b, "command=ls-refs\n");
	pkt(&b, "agent=git/2.39.5\n");
	pkt(&b, "object-format=sha1\n");
	gitproto_delim(&b);
	pkt(&b, "peel\n");
	pkt(&b, "symrefs\n");
	pkt(&b, "ref-prefix HEAD\n");
	pkt(&b, "ref-prefix refs/heads/\n");
	gitproto_flush(&b);
	assert_int_equal(gitproto_parse_v2(&v, a, b.data, b.len, 100), 0);
	assert_string_equal(v.command, "ls-refs");
	assert_true(v.peel && v.symrefs);
	assert_int_equal(v.nprefixes, 2);
	assert_string_equal(v.prefixes[1], "refs/heads/");
	buf_reset(&b);

	pkt(&b, "command=fetch\n");
	gitproto_delim(&b);
	pkt(&b, "thin-pack\n");
	pkt(&b, "ofs-delta\n");
	pkt(&b, "deepen 1\n");
	pkt(&b, "want " A40 "\n");
	pkt(&b, "done\n");
	gitproto_flush(&b);
	assert_int_equal(gitproto_parse_v2(&v, a, b.data, b.len, 100), 0);
	assert_string_equal(v.command, "fetch");
	assert_int_equal(v.fetch.nwants, 1);
	assert_true(v.fetch.done && v.fetch.thin_pack);
	assert_int_equal(v.fetch.depth, 1);
	buf_reset(&b);

	/* unknown commands and arguments, missing flush, a fetch without wants */
	pkt(&b, "command=object-info\n");
	gitproto_flush(&b);
	assert_int_equal(gitproto_parse_v2(&v, a, b.data, b.len, 100), OTCM_EINVAL);
	buf_reset(&b);
	pkt(&b, "command=fetch\n");
	gitproto_delim(&b);
	pkt(&b, "want-ref refs/heads/main\n");
	gitproto_flush(&b);
	assert_int_equal(gitproto_parse_v2(&v, a, b.data, b.len, 100), OTCM_EINVAL);
	buf_reset(&b);
	pkt(&b, "command=ls-refs\n");
	assert_int_equal(gitproto_parse_v2(&v, a, b.data, b.len, 100), OTCM_EINVAL);
	buf_reset(&b);
	pkt(&b, "command=fetch\n");
	gitproto_delim(&b);
	pkt(&b, "done\n");
	gitproto_flush(&b);
	assert_int_equal(gitproto_parse_v2(&v, a, b.data, b.len, 100), OTCM_EINVAL);
	buf_release(&b);
	arena_free(a);
}

static void test_receive(void **state)
{
	struct arena *a = arena_new();
	struct gitproto_push p;
	struct buf b = BUF_INIT;
	char first[256];
	int n;

	n = snprintf(first, sizeof(first), Z40 " " A40 " refs/heads/changes/CHG-1%c"
		     "report-status side-band-64k atomic quiet agent=git/2.39.5\n", '\0');
	gitproto_write(&b, first, (size_t)n);
	pkt(&b, A40 " " Z40 " refs/heads/topic/old\n");
	gitproto_flush(&b);
	buf_add(&b, "PACK\0\0\0\2", 8);
	assert_int_equal(gitproto_parse_receive(&p, a, b.data, b.len, 10), 0);
	assert_int_equal(p.ncmds, 2);
	assert_string_equal(p.cmds[0].ref, "refs/heads/changes/CHG-1");
	assert_true(gitproto_is_zero(p.cmds[0].old));
	assert_string_equal(p.cmds[0].new_, A40);
	assert_true(gitproto_is_zero(p.cmds[1].new_));
	assert_true(p.report_status && p.side_band_64k && p.atomic && p.quiet);
	assert_int_equal(p.pack_len, 8);
	buf_reset(&b);

	/* git's probe before a chunked body: a lone flush */
	gitproto_flush(&b);
	assert_int_equal(gitproto_parse_receive(&p, a, b.data, b.len, 10), 0);
	assert_int_equal(p.ncmds, 0);
	buf_reset(&b);

	/* a ref twice, push options, a short line, no flush, too many commands */
	pkt(&b, Z40 " " A40 " refs/heads/topic/x\n");
	pkt(&b, Z40 " " B40 " refs/heads/topic/x\n");
	gitproto_flush(&b);
	assert_int_equal(gitproto_parse_receive(&p, a, b.data, b.len, 10), OTCM_EINVAL);
	buf_reset(&b);
	n = snprintf(first, sizeof(first), Z40 " " A40 " refs/heads/topic/x%cpush-options\n", '\0');
	gitproto_write(&b, first, (size_t)n);
	gitproto_flush(&b);
	assert_int_equal(gitproto_parse_receive(&p, a, b.data, b.len, 10), OTCM_EINVAL);
	buf_reset(&b);
	pkt(&b, Z40 " " A40 "\n");
	gitproto_flush(&b);
	assert_int_equal(gitproto_parse_receive(&p, a, b.data, b.len, 10), OTCM_EINVAL);
	buf_reset(&b);
	pkt(&b, Z40 " " A40 " refs/heads/topic/x\n");
	assert_int_equal(gitproto_parse_receive(&p, a, b.data, b.len, 10), OTCM_EINVAL);
	buf_reset(&b);
	pkt(&b, Z40 " " A40 " refs/heads/topic/x\n");
	pkt(&b, Z40 " " A40 " refs/heads/topic/y\n");
	gitproto_flush(&b);
	assert_int_equal(gitproto_parse_receive(&p, a, b.data, b.len, 1), OTCM_ETOOBIG);
	buf_release(&b);
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkt_roundtrip),
		cmocka_unit_test(test_pkt_malformed),
		cmocka_unit_test(test_band_splits_large_payloads),
		cmocka_unit_test(test_upload_v0),
		cmocka_unit_test(test_v2),
		cmocka_unit_test(test_receive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
