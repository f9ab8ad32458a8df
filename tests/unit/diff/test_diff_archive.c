/*
 * tests/unit/diff/test_diff_archive.c - archive members diffed in the
 * engineer's terms: a TwinCAT project archive (.tnzip) built in memory
 * from real corpus files, with one POU's code and one library version
 * changed, reports the POU and the library below their members, counted
 * as logic and libraries; members in unknown formats, over the size limit,
 * added or removed keep their sha256 and size; archives in archives too.
 */
#include "tests/unit/diff/diff_testutil.h"

#include "core/archive.h"

#define TCUNIT "twincat/tcunit__TcUnit/TcUnit/TcUnit/"
#define PLCPROJ TCUNIT "TcUnit.plcproj"
#define POU_RESULTS TCUNIT "POUs/FB_TestResults.TcPOU"
#define POU_TEST TCUNIT "POUs/FB_Test.TcPOU"

#define M_PLCPROJ "Member[TcUnit/TcUnit.plcproj]"
#define M_RESULTS "Member[TcUnit/POUs/FB_TestResults.TcPOU]"

#define CODE_OLD "GetAreTestResultsAvailable := (StoredTestSuiteResults AND StoredGeneralTestResults);"
#define CODE_NEW "GetAreTestResultsAvailable := (StoredTestSuiteResults OR StoredGeneralTestResults);"
#define LIB_OLD "<DefaultResolution>Tc2_Standard, * (Beckhoff Automation GmbH)"
#define LIB_NEW "<DefaultResolution>Tc2_Standard, 3.3.5.0 (Beckhoff Automation GmbH)"

struct member {
	const char *name;
	const char *data;   /* NUL-terminated unless len is given */
	size_t len;
};

/* A zip of the members, written by core/archive.h; caller frees. */
static char *zip_of(const struct member *m, size_t n, size_t *out_len)
{
	struct buf dst = BUF_INIT;
	struct arc_writer *w = NULL;

	assert_int_equal(arc_writer_open(&w, &dst, ARC_ZIP), 0);
	for (size_t i = 0; i < n; i++) {
		struct arc_entry e = {
			.name = m[i].name, .type = ARC_FILE, .data = m[i].data,
			.len = m[i].len ? m[i].len : strlen(m[i].data), .mode = 0644,
			.mtime = 1764700000,
		};

		assert_int_equal(arc_writer_add(w, &e), 0);
	}
	assert_int_equal(arc_writer_close(w), 0);
	arc_writer_free(w);
	return buf_detach(&dst, out_len);
}

static json_t *diff_bytes(struct diff_result **out, const char *path, const char *a, size_t al,
                          const char *b, size_t bl)
{
	json_t *j = NULL;

	assert_int_equal(diff_compare(out, path, a, al, b, bl), 0);
	assert_int_equal(diff_to_json(&j, *out), 0);
	return j;
}

/*
 * The change list is `expected` plus the changes of the archives' own bytes
 * at `path` ("File" for the whole file, "Member[..]" for an archive in it):
 * sha256, and size when the byte counts differ (a zip's may not).
 */
static void expect_with_bytes(json_t *res, const char *const *expected, const char *path,
                              size_t al, size_t bl, const char *path2, size_t al2, size_t bl2)
{
	const char *all[16];
	char *own[4] = { NULL, NULL, NULL, NULL };
	size_t n = 0, k = 0;

	own[k++] = xasprintf("modified %s | sha256", path);
	if (al != bl)
		own[k++] = xasprintf("modified %s | size", path);
	if (path2) {
		own[k++] = xasprintf("modified %s | sha256", path2);
		if (al2 != bl2)
			own[k++] = xasprintf("modified %s | size", path2);
	}
	for (size_t i = 0; i < k; i++)
		all[n++] = own[i];
	for (size_t i = 0; expected[i]; i++) {
		assert_true(n < 15);
		all[n++] = expected[i];
	}
	all[n] = NULL;
	expect_changes(res, all);
	for (size_t i = 0; i < k; i++)
		free(own[i]);
}

#define expect_archive(res, exp, al, bl) expect_with_bytes(res, exp, "File", al, bl, NULL, 0, 0)

/* The category of the change whose "kind path | what" is key. */
static const char *category_of(const struct diff_result *r, json_t *res, const char *key)
{
	json_t *c = change_at(res, key);
	json_t *all = json_object_get(res, "changes");

	for (size_t i = 0; i < json_array_size(all); i++)
		if (json_array_get(all, i) == c)
			return diff_change_category(r, i);
	fail_msg("no change %s", key);
	return NULL;
}

/* The project as an archive, before and after the engineer's two edits. */
static void project_pair(char **out_a, size_t *out_al, char **out_b, size_t *out_bl)
{
	char *plcproj = corpus_read(PLCPROJ, NULL), *results = corpus_read(POU_RESULTS, NULL);
	char *test = corpus_read(POU_TEST, NULL);
	char *plcproj2 = replace_once(plcproj, LIB_OLD, LIB_NEW);
	char *results2 = replace_once(results, CODE_OLD, CODE_NEW);
	struct member a[] = {
		{ "TcUnit/TcUnit.plcproj", plcproj, 0 },
		{ "TcUnit/POUs/FB_TestResults.TcPOU", results, 0 },
		{ "TcUnit/POUs/FB_Test.TcPOU", test, 0 },
	};
	struct member b[] = {
		{ "TcUnit/TcUnit.plcproj", plcproj2, 0 },
		{ "TcUnit/POUs/FB_TestResults.TcPOU", results2, 0 },
		{ "TcUnit/POUs/FB_Test.TcPOU", test, 0 },
	};

	*out_a = zip_of(a, 3, out_al);
	*out_b = zip_of(b, 3, out_bl);
	free(plcproj);
	free(plcproj2);
	free(results);
	free(results2);
	free(test);
}

static void tnzip_reads_as_its_files(void **state)
{
	const char *const exp[] = {
		"modified " M_RESULTS "/POU[FB_TestResults]/Method[GetAreTestResultsAvailable] | implementation",
		"modified " M_PLCPROJ "/PlaceholderReference[Tc2_Standard] | version",
		NULL,
	};
	struct diff_result *r = NULL;
	char *a, *b;
	size_t al, bl;
	json_t *res, *cats;

	project_pair(&a, &al, &b, &bl);
	res = diff_bytes(&r, "Plant/TcUnit.tnzip", a, al, b, bl);
	assert_string_equal(json_string_value(json_object_get(res, "format")), "binary");
	expect_archive(res, exp, al, bl);
	expect_values(res, exp[0], CODE_OLD, CODE_NEW);
	expect_values(res, exp[1], "* (Beckhoff Automation GmbH)", "3.3.5.0 (Beckhoff Automation GmbH)");
	/* a TwinCAT project archive by name; each change counted as in its own file */
	assert_string_equal(json_string_value(json_object_get(res, "category")), "logic");
	assert_string_equal(category_of(r, res, exp[0]), "logic");
	assert_string_equal(category_of(r, res, exp[1]), "libraries");
	assert_string_equal(category_of(r, res, "modified File | sha256"), "logic");
	cats = json_object_get(res, "categories");
	assert_int_equal(json_integer_value(json_object_get(cats, "logic")), al != bl ? 3 : 2);
	assert_int_equal(json_integer_value(json_object_get(cats, "libraries")), 1);
	assert_null(json_object_get(cats, "other"));
	json_decref(res);
	diff_result_free(r);
	free(a);
	free(b);
}

/* The member's changes are exactly those of the file diffed on its own. */
static void member_reads_as_the_file_alone(void **state)
{
	char *results = corpus_read(POU_RESULTS, NULL), *results2 = replace_once(results, CODE_OLD, CODE_NEW);
	json_t *alone = diff_json("FB_TestResults.TcPOU", results, results2);
	struct member a[] = { { "POUs/FB_TestResults.TcPOU", results, 0 } };
	struct member b[] = { { "POUs/FB_TestResults.TcPOU", results2, 0 } };
	size_t al, bl, i, nested = 0;
	char *za = zip_of(a, 1, &al), *zb = zip_of(b, 1, &bl);
	struct diff_result *r = NULL;
	json_t *res = diff_bytes(&r, "x.zip", za, al, zb, bl), *c;

	assert_true(json_array_size(json_object_get(alone, "changes")) > 0);
	json_array_foreach(json_object_get(alone, "changes"), i, c) {
		char *key = xasprintf("%s Member[POUs/FB_TestResults.TcPOU]/%s | %s",
		                      json_string_value(json_object_get(c, "kind")),
		                      json_string_value(json_object_get(c, "path")),
		                      json_string_value(json_object_get(c, "what")));

		change_at(res, key);
		free(key);
	}
	json_array_foreach(json_object_get(res, "changes"), i, c)
		if (!strncmp(json_string_value(json_object_get(c, "path")), "Member[", 7))
			nested++;
	assert_int_equal(nested, json_array_size(json_object_get(alone, "changes")));
	/* a plain .zip is no project: its own bytes are "other", the POU still logic */
	assert_string_equal(json_string_value(json_object_get(res, "category")), "other");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(res, "categories"), "logic")),
	                 (json_int_t)nested);
	json_decref(res);
	json_decref(alone);
	diff_result_free(r);
	free(za);
	free(zb);
	free(results);
	free(results2);
}

/* Noise in a member (layout between XML elements) is no change, as for the file alone. */
static void member_noise_is_no_change(void **state)
{
	char *test = corpus_read(POU_TEST, NULL), *test2 = replace_once(test, "<POU ", "\n\n  <POU ");
	struct member a[] = { { "FB_Test.TcPOU", test, 0 } };
	struct member b[] = { { "FB_Test.TcPOU", test2, 0 } };
	const char *const exp[] = { NULL };
	size_t al, bl;
	char *za = zip_of(a, 1, &al), *zb = zip_of(b, 1, &bl);
	struct diff_result *r = NULL;
	json_t *res = diff_bytes(&r, "x.tnzip", za, al, zb, bl);

	expect_archive(res, exp, al, bl);
	json_decref(res);
	diff_result_free(r);
	free(za);
	free(zb);
	free(test);
	free(test2);
}

static void unknown_member_keeps_sha_and_size(void **state)
{
	static const char blob_a[] = { 'B', 'M', 0, 1, 2, 3 }, blob_b[] = { 'B', 'M', 0, 1, 2, 4, 5 };
	struct member a[] = { { "Images/logo.bmp", blob_a, sizeof(blob_a) } };
	struct member b[] = { { "Images/logo.bmp", blob_b, sizeof(blob_b) } };
	const char *const exp[] = {
		"modified Member[Images/logo.bmp] | sha256", "modified Member[Images/logo.bmp] | size",
		NULL,
	};
	size_t al, bl;
	char *za = zip_of(a, 1, &al), *zb = zip_of(b, 1, &bl);
	struct diff_result *r = NULL;
	json_t *res = diff_bytes(&r, "x.tnzip", za, al, zb, bl);

	expect_archive(res, exp, al, bl);
	expect_values(res, exp[1], "6", "7");
	json_decref(res);
	diff_result_free(r);
	free(za);
	free(zb);
}

static void added_and_removed_members_keep_sha_and_size(void **state)
{
	char *results = corpus_read(POU_RESULTS, NULL), *test = corpus_read(POU_TEST, NULL);
	struct member a[] = { { "POUs/FB_TestResults.TcPOU", results, 0 } };
	struct member b[] = { { "POUs/FB_Test.TcPOU", test, 0 } };
	const char *const exp[] = {
		"removed Member[POUs/FB_TestResults.TcPOU] | Member",
		"added Member[POUs/FB_Test.TcPOU] | Member",
		NULL,
	};
	size_t al, bl;
	char *za = zip_of(a, 1, &al), *zb = zip_of(b, 1, &bl);
	struct diff_result *r = NULL;
	json_t *res = diff_bytes(&r, "x.zip", za, al, zb, bl);
	const char *v;

	expect_archive(res, exp, al, bl);
	v = json_string_value(json_object_get(change_at(res, exp[1]), "new"));
	assert_non_null(v);
	assert_non_null(strstr(v, "sha256="));
	assert_non_null(strstr(v, "size="));
	v = json_string_value(json_object_get(change_at(res, exp[0]), "old"));
	assert_non_null(v);
	assert_non_null(strstr(v, "sha256="));
	/* the member counts as the file it holds; the zip's own bytes as "other" */
	assert_string_equal(category_of(r, res, exp[0]), "logic");
	assert_string_equal(category_of(r, res, exp[1]), "logic");
	assert_string_equal(category_of(r, res, "modified File | sha256"), "other");
	json_decref(res);
	diff_result_free(r);
	free(za);
	free(zb);
	free(results);
	free(test);
}

static void nested_archive(void **state)
{
	char *results = corpus_read(POU_RESULTS, NULL), *results2 = replace_once(results, CODE_OLD, CODE_NEW);
	struct member ia[] = { { "POUs/FB_TestResults.TcPOU", results, 0 } };
	struct member ib[] = { { "POUs/FB_TestResults.TcPOU", results2, 0 } };
	size_t ial, ibl, al, bl;
	char *inner_a = zip_of(ia, 1, &ial), *inner_b = zip_of(ib, 1, &ibl);
	struct member a[] = { { "Project/TcUnit.tnzip", inner_a, ial } };
	struct member b[] = { { "Project/TcUnit.tnzip", inner_b, ibl } };
	char *za = zip_of(a, 1, &al), *zb = zip_of(b, 1, &bl);
	const char *const exp[] = {
		"modified Member[Project/TcUnit.tnzip]/Member[POUs/FB_TestResults.TcPOU]/"
		"POU[FB_TestResults]/Method[GetAreTestResultsAvailable] | implementation",
		NULL,
	};
	struct diff_result *r = NULL;
	json_t *res = diff_bytes(&r, "delivery.zip", za, al, zb, bl);

	expect_with_bytes(res, exp, "File", al, bl, "Member[Project/TcUnit.tnzip]", ial, ibl);
	assert_string_equal(category_of(r, res, exp[0]), "logic");
	json_decref(res);
	diff_result_free(r);
	free(za);
	free(zb);
	free(inner_a);
	free(inner_b);
	free(results);
	free(results2);
}

/* A member over the 16 MiB parsed per member keeps sha256 and size, and says so. */
static void member_over_the_limit(void **state)
{
	char *results = corpus_read(POU_RESULTS, NULL), *results2 = replace_once(results, CODE_OLD, CODE_NEW);
	size_t pad = ((size_t)16 << 20) + 1, n1 = strlen(results), n2 = strlen(results2);
	char *big_a = xmalloc(n1 + pad + 1), *big_b = xmalloc(n2 + pad + 1);
	const char *const exp[] = {
		"modified Member[Big.TcPOU] | sha256", "modified Member[Big.TcPOU] | size",
		NULL,
	};
	struct diff_result *r = NULL;
	struct buf text = BUF_INIT;
	size_t al, bl;
	char *za, *zb;
	json_t *res;

	/* white space after the root element: still a valid TcPOU, just large */
	memcpy(big_a, results, n1);
	memset(big_a + n1, '\n', pad);
	big_a[n1 + pad] = '\0';
	memcpy(big_b, results2, n2);
	memset(big_b + n2, '\n', pad);
	big_b[n2 + pad] = '\0';
	{
		struct member a[] = { { "Big.TcPOU", big_a, 0 } }, b[] = { { "Big.TcPOU", big_b, 0 } };

		za = zip_of(a, 1, &al);
		zb = zip_of(b, 1, &bl);
	}
	res = diff_bytes(&r, "x.tnzip", za, al, zb, bl);
	expect_archive(res, exp, al, bl);
	assert_int_equal(diff_textconv(&text, "x.tnzip", zb, bl), 0);
	assert_non_null(strstr(buf_cstr(&text), "@not compared = larger than 16 MiB"));
	buf_release(&text);
	json_decref(res);
	diff_result_free(r);
	free(za);
	free(zb);
	free(big_a);
	free(big_b);
	free(results);
	free(results2);
}

/* textconv shows a member's content as the file's own rendering would. */
static void textconv_shows_members(void **state)
{
	char *results = corpus_read(POU_RESULTS, NULL);
	struct member a[] = { { "POUs/FB_TestResults.TcPOU", results, 0 } };
	size_t al;
	char *za = zip_of(a, 1, &al);
	struct buf text = BUF_INIT;

	assert_int_equal(diff_textconv(&text, "x.tnzip", za, al), 0);
	assert_non_null(strstr(buf_cstr(&text), "Member[POUs/FB_TestResults.TcPOU]"));
	assert_non_null(strstr(buf_cstr(&text), "(twincat file)"));
	assert_non_null(strstr(buf_cstr(&text), "Method[GetAreTestResultsAvailable]"));
	buf_release(&text);
	free(za);
	free(results);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tnzip_reads_as_its_files),
		cmocka_unit_test(member_reads_as_the_file_alone),
		cmocka_unit_test(member_noise_is_no_change),
		cmocka_unit_test(unknown_member_keeps_sha_and_size),
		cmocka_unit_test(added_and_removed_members_keep_sha_and_size),
		cmocka_unit_test(nested_archive),
		cmocka_unit_test(member_over_the_limit),
		cmocka_unit_test(textconv_shows_members),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
