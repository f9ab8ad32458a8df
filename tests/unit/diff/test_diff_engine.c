/*
 * tests/unit/diff/test_diff_engine.c - the engine around the formats:
 * decoding, the generic tree differ (alignment, renames, deltas, limits),
 * the fallback to text, the XML reader's hardening, the three outputs,
 * textconv, the BatchML and generic XML formats on real files, and sides
 * handed over as sources (opened one at a time, read in place).
 */
#include "tests/unit/diff/diff_testutil.h"

#include <stdatomic.h>

#include "diff/model.h"

static void decode_encodings(void **state)
{
	struct buf b = BUF_INIT;
	const char *enc;
	bool bin;
	const unsigned char u16[] = { 0xff, 0xfe, 'a', 0, '\r', 0, '\n', 0, 0xe9, 0 };
	const unsigned char latin[] = { 'c', 'a', 'f', 0xe9, '\r', 'x' };
	const unsigned char bom[] = { 0xef, 0xbb, 0xbf, 'o', 'k', '\r', '\n' };

	assert_int_equal(diff_decode(&b, u16, sizeof(u16), &enc, &bin), 0);
	assert_string_equal(enc, "utf-16le");
	assert_string_equal(buf_cstr(&b), "a\n\xc3\xa9");
	buf_reset(&b);
	assert_int_equal(diff_decode(&b, latin, sizeof(latin), &enc, &bin), 0);
	assert_string_equal(enc, "latin-1");
	assert_string_equal(buf_cstr(&b), "caf\xc3\xa9\nx");
	buf_reset(&b);
	assert_int_equal(diff_decode(&b, bom, sizeof(bom), &enc, &bin), 0);
	assert_string_equal(enc, "utf-8-bom");
	assert_string_equal(buf_cstr(&b), "ok\n");
	assert_false(bin);
	buf_release(&b);
}

/* Inserting one element into a sequence is one insertion, not N modifications. */
static void sequence_insertion(void **state)
{
	struct dnode *a = dnode_new("Routine", "R"), *b = dnode_new("Routine", "R");
	struct dchanges c = { 0 };

	a->flags = b->flags = DNODE_SEQUENCE;
	for (int i = 0; i < 50; i++) {
		char t[32];

		snprintf(t, sizeof(t), "XIC(b%d)OTE(o%d);", i, i);
		dnode_set_body(dnode_add(a, "Rung", NULL), t, "rung logic");
		if (i == 10)
			dnode_set_body(dnode_add(b, "Rung", NULL), "NOP();", "rung logic");
		if (i == 30)
			snprintf(t, sizeof(t), "XIO(b%d)OTE(o%d);", i, i);
		dnode_set_body(dnode_add(b, "Rung", NULL), t, "rung logic");
	}
	assert_int_equal(dtree_diff(&c, a, b), 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.v[0].path, "Rung[31]");
	assert_int_equal(c.v[0].kind, DCHANGE_MODIFIED);
	assert_string_equal(c.v[0].what, "rung logic");
	assert_string_equal(c.v[1].path, "Rung[10]");
	assert_int_equal(c.v[1].kind, DCHANGE_ADDED);
	dchanges_release(&c);
	dnode_free(a);
	dnode_free(b);
}

static void large_sequences_stay_bounded(void **state)
{
	struct buf a = BUF_INIT, b = BUF_INIT, p = BUF_INIT;

	/* two unrelated 200k-line texts: alignment must fall back, not explode */
	for (int i = 0; i < 200000; i++) {
		assert_int_equal(buf_addf(&a, "line %d\n", i), 0);
		assert_int_equal(buf_addf(&b, "other %d\n", i * 7), 0);
	}
	assert_int_equal(dtext_patch(&p, buf_cstr(&a), buf_cstr(&b)), 0);
	assert_true(p.len > 0 && p.len < ((size_t)2 << 20));
	buf_release(&a);
	buf_release(&b);
	buf_release(&p);
}

static void unparsable_falls_back(void **state)
{
	json_t *r = diff_json("x.L5X", "<RSLogix5000Content><Controller Name=\"a\">\n</RSLogix5000Content>\n",
	                      "<RSLogix5000Content><Controller Name=\"b\">\n</RSLogix5000Content>\nmore\n");

	assert_string_equal(json_string_value(json_object_get(r, "format")), "l5x");
	assert_non_null(strstr(json_string_value(json_object_get(r, "fallback_reason")), "not valid l5x"));
	assert_true(json_is_false(json_object_get(json_object_get(r, "parsed"), "old")));
	change_at(r, "modified  | text");
	json_decref(r);
}

static void entities_are_not_expanded(void **state)
{
	const char *bomb =
		"<?xml version=\"1.0\"?>\n<!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
		"<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">"
		"<!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\"><!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">"
		"<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<l id=\"1\"><v>&f;&x;</v></l>\n";
	struct buf out = BUF_INIT;

	assert_int_equal(diff_textconv(&out, "bomb.xml", bomb, strlen(bomb)), 0);
	assert_true(out.len < 1000);
	assert_null(strstr(buf_cstr(&out), "root:"));
	buf_release(&out);
}

static void deep_nesting_is_refused(void **state)
{
	struct buf x = BUF_INIT;
	json_t *r;

	for (int i = 0; i < 5000; i++)
		assert_int_equal(buf_adds(&x, "<a>"), 0);
	for (int i = 0; i < 5000; i++)
		assert_int_equal(buf_adds(&x, "</a>"), 0);
	r = diff_json("deep.xml", "<a/>", buf_cstr(&x));
	assert_non_null(json_object_get(r, "fallback_reason"));
	json_decref(r);
	buf_release(&x);
}

static void outputs(void **state)
{
	struct diff_result *r = NULL;
	struct buf h = BUF_INIT, t = BUF_INIT;
	const char *a = "<hmi><obj id=\"m1\" label=\"Motor &lt;1&gt;\" speed=\"10\"/></hmi>";
	const char *b = "<hmi><obj id=\"m1\" label=\"&lt;script&gt;alert(1)&lt;/script&gt;\" speed=\"12.5\"/></hmi>";
	json_t *j = NULL, *s;

	assert_int_equal(diff_compare(&r, "d<1>.xml", a, strlen(a), b, strlen(b)), 0);
	assert_string_equal(diff_result_format(r), "xml");
	assert_int_equal(diff_result_count(r), 2);
	assert_int_equal(diff_to_html(&h, r), 0);
	assert_null(strstr(buf_cstr(&h), "<script"));
	assert_null(strstr(buf_cstr(&h), "style="));
	assert_non_null(strstr(buf_cstr(&h), "&lt;script&gt;"));
	assert_non_null(strstr(buf_cstr(&h), "d&lt;1&gt;.xml"));
	assert_int_equal(diff_to_text(&t, r), 0);
	assert_non_null(strstr(buf_cstr(&t), "~ obj[m1]: speed modified: '10' -> '12.5' (+2.5)"));
	assert_int_equal(diff_to_json(&j, r), 0);
	s = json_object_get(j, "summary");
	assert_int_equal(json_integer_value(json_object_get(s, "modified")), 2);
	assert_int_equal(json_integer_value(json_object_get(s, "total")), 2);
	assert_true(json_is_true(json_object_get(json_object_get(j, "parsed"), "new")));
	json_decref(j);
	diff_result_free(r);
	buf_release(&h);
	buf_release(&t);
}

static void added_removed_and_binary(void **state)
{
	struct diff_result *r = NULL;
	const char bin1[] = { 'P', 'K', 0, 1, 2 }, bin2[] = { 'P', 'K', 0, 1, 3, 4 };
	json_t *j = NULL;

	assert_int_equal(diff_compare(&r, "n.xml", NULL, 0, "<a id=\"x\"/>", 11), 0);
	assert_int_equal(diff_result_count(r), 1);
	assert_int_equal(diff_to_json(&j, r), 0);
	assert_true(json_is_null(json_object_get(json_object_get(j, "parsed"), "old")));
	change_at(j, "added a[x] | a");
	json_decref(j);
	diff_result_free(r);
	/* binary content is reported (by the binary format when present), never as text lines */
	assert_int_equal(diff_compare(&r, "blob", bin1, sizeof(bin1), bin2, sizeof(bin2)), 0);
	assert_true(diff_result_count(r) >= 1);
	assert_string_not_equal(diff_result_format(r), "text");
	diff_result_free(r);
	assert_int_equal(diff_compare(&r, "same", "x\r\ny\r\n", 6, "x\ny\n", 4), 0);
	assert_int_equal(diff_result_count(r), 0);
	diff_result_free(r);
}

#define COUGH "recipes/PierreREN__B2MML-BatchML/Examples/BatchML v02 Cough Syrup Example Files/cough syrup pmw.xml"

static void batchml_parameter_value(void **state)
{
	char *orig = corpus_read(COUGH, NULL);
	char *edit = replace_once(orig, "<batchML:Nominal>5000</batchML:Nominal>", "<batchML:Nominal>5500</batchML:Nominal>");
	json_t *r = diff_json(COUGH, orig, edit);

	assert_string_equal(json_string_value(json_object_get(r, "format")), "batchml");
	expect_changes(r, (const char *const[]){ "modified MasterRecipe[1]/Header/BatchSize | Nominal", NULL });
	assert_true(json_real_value(json_object_get(json_array_get(json_object_get(r, "changes"), 0), "delta")) == 500);
	json_decref(r);
	free(edit);
	free(orig);
}

#define SVG "hmi/beremiz__beremiz/tests/projects/svghmi_basic/svghmi_0@svghmi/svghmi.svg"

static void svg_element_by_id(void **state)
{
	char *orig = corpus_read(SVG, NULL);
	const char *p = strstr(orig, " id=\"");
	char id[128], *from, *to, *edit;
	json_t *r;

	assert_non_null(p);
	sscanf(p + 5, "%127[^\"]", id);
	from = xasprintf(" id=\"%s\"", id);
	to = xasprintf(" id=\"%s\" data-otcm=\"1\"", id);
	edit = replace_once(orig, from, to);
	r = diff_json(SVG, orig, edit);
	assert_string_equal(json_string_value(json_object_get(r, "format")), "xml");
	assert_int_equal(json_array_size(json_object_get(r, "changes")), 1);
	assert_non_null(strstr(json_string_value(json_object_get(json_array_get(json_object_get(r, "changes"), 0), "path")), id));
	json_decref(r);
	free(from);
	free(to);
	free(edit);
	free(orig);
}

static void textconv_is_canonical(void **state)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	const char *x = "<r><k name=\"b\" v=\"1\" w=\"2\"/><k name=\"a\"/></r>";
	const char *y = "<r>\r\n  <k w=\"2\" name=\"b\" v=\"1\"/>\r\n  <k name=\"a\"/>\r\n</r>\r\n";

	assert_int_equal(diff_textconv(&a, "x.xml", x, strlen(x)), 0);
	assert_int_equal(diff_textconv(&b, "y.xml", y, strlen(y)), 0);
	assert_string_equal(buf_cstr(&a), buf_cstr(&b));
	assert_non_null(strstr(buf_cstr(&a), "k[b]\n    @v = 1\n    @w = 2\n"));
	buf_release(&a);
	buf_release(&b);
}

/* Generic XML: identified children are keyed (their order is no change), duplicates are not. */
static void xml_identity_rules(void **state)
{
	const char *a = "<cfg><Item Key=\"a\" v=\"1\"/><Item Key=\"b\" v=\"2\"/>"
	                "<g Name=\"g\"><Node Name=\"x\" v=\"1\"/><Node Name=\"x\" v=\"2\"/></g></cfg>";
	const char *reordered = "<cfg><Item Key=\"b\" v=\"2\"/><Item Key=\"a\" v=\"1\"/>"
	                        "<g Name=\"g\"><Node Name=\"x\" v=\"1\"/><Node Name=\"x\" v=\"2\"/></g></cfg>";
	const char *edited = "<cfg><Item Key=\"a\" v=\"1\"/><Item Key=\"b\" v=\"3\"/>"
	                     "<g Name=\"g\"><Node Name=\"x\" v=\"1\"/><Node Name=\"x\" v=\"5\"/></g></cfg>";
	const char *const none[] = { NULL };
	const char *const exp[] = { "modified Item[b] | v", "modified g[g]/Node[1] | v", NULL };
	json_t *r = diff_json("cfg.xml", a, reordered);

	assert_string_equal(json_string_value(json_object_get(r, "format")), "xml");
	expect_changes(r, none);
	json_decref(r);
	r = diff_json("cfg.xml", a, edited);
	expect_changes(r, exp);
	json_decref(r);
}

/*
 * A source over a fixed string: a fresh NUL-terminated copy per open,
 * counted.  The engine may call it from a second thread (two sides parsed
 * at once), so it records misuse in `bad` instead of asserting, and the
 * open counters shared by two sources are atomic.
 */
struct str_source {
	const char *data;
	size_t len;
	char *copy;
	int opens, closes, bad;
	atomic_int *open_now, *open_max;
	size_t releases, released;   /* calls of release, and the last offset */
};

static int str_open(void *ctx, const void **out_data, size_t *out_len)
{
	struct str_source *s = ctx;
	int now;

	if (s->copy)
		s->bad++;
	free(s->copy);
	s->copy = xmalloc(s->len + 1);
	memcpy(s->copy, s->data, s->len);
	s->copy[s->len] = '\0';
	s->opens++;
	s->released = 0;
	now = atomic_fetch_add(s->open_now, 1) + 1;
	for (int max = atomic_load(s->open_max); now > max;)
		if (atomic_compare_exchange_weak(s->open_max, &max, now))
			break;
	*out_data = s->copy;
	*out_len = s->len;
	return 0;
}

static void str_close(void *ctx)
{
	struct str_source *s = ctx;

	if (!s->copy)
		s->bad++;
	free(s->copy);
	s->copy = NULL;
	s->closes++;
	atomic_fetch_sub(s->open_now, 1);
}

/* The engine may drop what it has read: offsets only grow and stay inside the bytes. */
static void str_release(void *ctx, size_t upto)
{
	struct str_source *s = ctx;

	if (!s->copy || upto > s->len || upto <= s->released)
		s->bad++;
	s->released = upto;
	s->releases++;
}

static char *result_json(const struct diff_result *r)
{
	json_t *j = NULL;
	char *out;

	assert_int_equal(diff_to_json(&j, r), 0);
	out = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(j);
	return out;
}

/*
 * Sources give the result buffers give, on parsed, fallen-back, added,
 * removed, binary and re-encoded sides, and are opened one at a time
 * unless the engine falls back to a line diff.
 */
static void sources_match_buffers(void **state)
{
	size_t l5x_len;
	char *l5x = corpus_read("l5x/tnunnink__L5Sharp/tests/L5Sharp.Tests.Samples/Projects/Test.L5X",
	                        &l5x_len);
	char *l5x_edit = replace_once(l5x, "MOVE(16#20,SimpleSint);", "MOVE(16#21,SimpleSint);");
	static const char crlf[] = "\xef\xbb\xbf<a id=\"x\">\r\n<b v=\"1\"/>\r\n</a>\r\n";
	static const char bin1[] = { 'P', 'K', 0, 1, 2 }, bin2[] = { 'P', 'K', 0, 1, 3 };
	const struct {
		const char *a, *b;
		size_t alen, blen;
		bool one_at_a_time;
	} cases[] = {
		{ l5x, l5x_edit, l5x_len, strlen(l5x_edit), true },
		{ "<a id=\"x\"/>", crlf, 11, sizeof(crlf) - 1, true },
		{ l5x, "<RSLogix5000Content><broken", l5x_len, 27, false },
		{ NULL, l5x, 0, l5x_len, true },
		{ l5x, NULL, l5x_len, 0, true },
		{ bin1, bin2, sizeof(bin1), sizeof(bin2), false },
		{ "x = 1\n", "x = 2\n", 6, 6, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		atomic_int open_now = 0, open_max = 0;
		struct str_source sa = { cases[i].a, cases[i].alen, NULL, 0, 0, 0, &open_now, &open_max,
		                         0, 0 };
		struct str_source sb = { cases[i].b, cases[i].blen, NULL, 0, 0, 0, &open_now, &open_max,
		                         0, 0 };
		const struct diff_source a = { str_open, str_close, NULL, &sa };
		const struct diff_source b = { str_open, str_close, NULL, &sb };
		struct diff_result *rb = NULL, *rs = NULL;
		char *jb, *js;

		assert_int_equal(diff_compare(&rb, "f", cases[i].a, cases[i].alen, cases[i].b,
		                              cases[i].blen), 0);
		assert_int_equal(diff_compare_sources(&rs, "f", cases[i].a ? &a : NULL,
		                                      cases[i].b ? &b : NULL), 0);
		jb = result_json(rb);
		js = result_json(rs);
		assert_string_equal(js, jb);
		assert_int_equal(sa.bad + sb.bad, 0);
		assert_int_equal(sa.opens, sa.closes);
		assert_int_equal(sb.opens, sb.closes);
		assert_int_equal(atomic_load(&open_now), 0);
		if (cases[i].one_at_a_time)
			assert_int_equal(atomic_load(&open_max), 1);
		free(jb);
		free(js);
		diff_result_free(rb);
		diff_result_free(rs);
	}
	free(l5x_edit);
	free(l5x);
}

/*
 * An export of several MB (the corpus project with its main program copied
 * under new names) through sources that may drop what was read: the engine
 * says so as it goes (parsing both sides at once, the sources' bytes being
 * dropped as read), and the result is the buffers' one, also when one side
 * does not parse.
 */
static void sources_release_what_was_read(void **state)
{
	char *l5x = corpus_read("l5x/tnunnink__L5Sharp/tests/L5Sharp.Tests.Samples/Projects/Test.L5X",
	                        NULL);
	const char *start = strstr(l5x, "<Program Name=\"MainProgram\""), *end, *list_end;
	struct buf big = BUF_INIT, broken = BUF_INIT;
	char *edited;

	assert_non_null(start);
	end = strstr(start, "</Program>");
	list_end = strstr(start, "</Programs>");
	assert_non_null(end);
	assert_non_null(list_end);
	end += strlen("</Program>");
	assert_int_equal(buf_add(&big, l5x, (size_t)(list_end - l5x)), 0);
	for (int i = 0; big.len < ((size_t)3 << 20); i++) {
		assert_int_equal(buf_addf(&big, "<Program Name=\"Copy%d\"", i), 0);
		assert_int_equal(buf_add(&big, start + strlen("<Program Name=\"MainProgram\""),
		                         (size_t)(end - start) - strlen("<Program Name=\"MainProgram\"")),
		                 0);
	}
	assert_int_equal(buf_adds(&big, list_end), 0);
	edited = replace_once(buf_cstr(&big), "MOVE(16#20,SimpleSint);", "MOVE(16#21,SimpleSint);");
	/* the same export cut short: not well-formed, found out at its very end */
	assert_int_equal(buf_add(&broken, big.data, big.len - 40), 0);
	for (int broken_new = 0; broken_new < 2; broken_new++) {
		atomic_int open_now = 0, open_max = 0;
		const char *nb = broken_new ? broken.data : edited;
		size_t nlen = broken_new ? broken.len : strlen(edited);
		struct str_source sa = { big.data, big.len, NULL, 0, 0, 0, &open_now, &open_max, 0, 0 };
		struct str_source sb = { nb, nlen, NULL, 0, 0, 0, &open_now, &open_max, 0, 0 };
		const struct diff_source a = { str_open, str_close, str_release, &sa };
		const struct diff_source b = { str_open, str_close, str_release, &sb };
		struct diff_result *rb = NULL, *rs = NULL;
		char *jb, *js;

		assert_int_equal(diff_compare(&rb, "p.L5X", big.data, big.len, nb, nlen), 0);
		assert_int_equal(diff_compare_sources(&rs, "p.L5X", &a, &b), 0);
		assert_string_equal(diff_result_format(rs), "l5x");
		jb = result_json(rb);
		js = result_json(rs);
		assert_string_equal(js, jb);
		assert_int_equal(sa.bad + sb.bad, 0);
		assert_int_equal(sa.opens, sa.closes);
		assert_int_equal(sb.opens, sb.closes);
		assert_true(sa.releases >= 2);
		assert_true(sb.releases >= 2);
		assert_int_equal(atomic_load(&open_max), 2);   /* parsed at once */
		assert_non_null(strstr(js, broken_new ? "\"fallback_reason\"" : "\"rung logic\""));
		free(jb);
		free(js);
		diff_result_free(rb);
		diff_result_free(rs);
	}
	free(edited);
	buf_release(&big);
	buf_release(&broken);
	free(l5x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decode_encodings),
		cmocka_unit_test(sequence_insertion),
		cmocka_unit_test(large_sequences_stay_bounded),
		cmocka_unit_test(unparsable_falls_back),
		cmocka_unit_test(entities_are_not_expanded),
		cmocka_unit_test(deep_nesting_is_refused),
		cmocka_unit_test(outputs),
		cmocka_unit_test(added_removed_and_binary),
		cmocka_unit_test(batchml_parameter_value),
		cmocka_unit_test(svg_element_by_id),
		cmocka_unit_test(textconv_is_canonical),
		cmocka_unit_test(xml_identity_rules),
		cmocka_unit_test(sources_match_buffers),
		cmocka_unit_test(sources_release_what_was_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
