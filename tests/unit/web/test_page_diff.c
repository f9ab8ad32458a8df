/*
 * tests/unit/web/test_page_diff.c - the diff page stays small however large
 * the change: 50 files of 2,000 changes each with long patches render as an
 * overview of a few hundred kB that still links every file, folds the
 * generated one, sums the categories, and a file's own page holds all its
 * changes a page at a time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/json.h"
#include "web/html.h"
#include "web/layout.h"
#include "web/pages.h"

#define NFILES 50
#define NCHANGES 2000

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* A files array as the diff endpoint gives it; file 7 is generated. */
static json_t *big_change(void)
{
	json_t *files = json_array();
	char patch[4096];

	memset(patch, 'x', sizeof(patch) - 1);
	patch[sizeof(patch) - 1] = '\0';
	for (int i = 0; i < NFILES; i++) {
		json_t *changes = json_array(), *f, *sem;
		char path[64];

		snprintf(path, sizeof(path), i == 7 ? "plc/File%02d.tmc" : "plc/POUs/File%02d.TcPOU", i);
		for (int k = 0; k < NCHANGES; k++) {
			char cp[64];

			snprintf(cp, sizeof(cp), "POU[P%d]/VAR/v%d", k / 10, k);
			json_array_append_new(changes, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "path", cp,
			                                         "kind", "modified", "what", "ST", "old", "a",
			                                         "new", "b", "patch", patch));
		}
		sem = json_pack("{s:s, s:o, s:{s:i, s:i, s:i, s:i, s:i, s:i}, s:s, s:b, s:{s:i}}",
		                "format", i == 7 ? "tmc" : "twincat", "changes", changes, "summary",
		                "added", 0, "removed", 0, "modified", NCHANGES, "moved", 0, "renamed", 0,
		                "total", NCHANGES, "category", i == 7 ? "generated" : "logic",
		                "generated", i == 7, "categories", i == 7 ? "generated" : "logic", NCHANGES);
		f = json_pack("{s:s, s:s, s:i, s:i, s:o}", "path", path, "status", "modified",
		              "additions", 10, "deletions", 5, "semantic", sem);
		json_array_append_new(files, f);
	}
	return files;
}

static void overview_stays_small(void **state)
{
	json_t *files = big_change(), *asset = json_pack("{s:i, s:s}", "id", 3, "path", "plant/plc");
	struct web_page p = { "What changed", "assets", { 0 } };
	struct html h;
	const char *s;
	char want[128];

	(void)state;
	html_init(&h, (size_t)64 << 20);
	page_diff(&h, &p, asset, "1111111111111111111111111111111111111111",
	          "2222222222222222222222222222222222222222", files, "diff --git a b\n", 15, NULL, 0);
	assert_int_equal(h.err, 0);
	s = buf_cstr(&h.buf);
	assert_true(h.buf.len < 400 * 1024);
	assert_true(count(s, "<td class=\"k-") <= 400);          /* the page's inline budget */
	assert_int_equal(count(s, "<details class=\"otcm-diff\""), NFILES);
	assert_int_equal(count(s, "&amp;file=plc%2FPOUs%2FFile"), 2 * (NFILES - 1));   /* list and section */
	assert_non_null(strstr(s, "<details class=\"otcm-diff\" id=\"f-7\">"));   /* generated: folded */
	assert_non_null(strstr(s, "<details class=\"otcm-diff\" id=\"f-0\" open>"));
	snprintf(want, sizeof(want), "<td>Logic</td><td>%d</td><td>%d</td>", NFILES - 1,
	         (NFILES - 1) * NCHANGES);
	assert_non_null(strstr(s, want));
	assert_non_null(strstr(s, "<td>Generated</td><td>1</td><td>2000</td>"));
	html_release(&h);
	json_decref(files);
	json_decref(asset);
}

static void one_file_pages_through_all_changes(void **state)
{
	json_t *files = big_change(), *asset = json_pack("{s:i, s:s}", "id", 3, "path", "plant/plc");
	struct web_page p = { "What changed", "assets", { 0 } };
	size_t seen = 0;

	(void)state;
	for (size_t page = 0; page < 12; page++) {
		struct html h;
		const char *s;

		html_init(&h, (size_t)64 << 20);
		page_diff(&h, &p, asset, NULL, "2222222222222222222222222222222222222222", files, "", 0,
		          json_array_get(files, 3), page);
		assert_int_equal(h.err, 0);
		s = buf_cstr(&h.buf);
		if (page < 10) {
			seen += count(s, "<td class=\"k-");
			assert_true((strstr(s, "rel=\"next\"") != NULL) == (page < 9));
			assert_true((strstr(s, "rel=\"prev\"") != NULL) == (page > 0));
			assert_true(h.buf.len < 2 * 1024 * 1024);
		} else {   /* past the end: the last page again */
			assert_non_null(strstr(s, "Page 10 of 10"));
		}
		html_release(&h);
	}
	assert_int_equal(seen, NCHANGES);
	json_decref(files);
	json_decref(asset);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(overview_stays_small),
		cmocka_unit_test(one_file_pages_through_all_changes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
