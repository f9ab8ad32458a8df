/*
 * tests/unit/diff/diff_testutil.h - helpers for the diff engine's tests:
 * reading corpus files (from $OTCM_CORPUS or ../shared/corpus; a missing
 * corpus fails the test loudly), editing them in memory, and comparing a
 * diff's change list with an exact expected list.
 */
#ifndef OTCM_TESTS_DIFF_TESTUTIL_H
#define OTCM_TESTS_DIFF_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/mem.h"
#include "diff/diff.h"

static inline const char *corpus_dir(void)
{
	const char *d = getenv("OTCM_CORPUS");

	return d && *d ? d : "../shared/corpus";
}

/* The bytes of a corpus file (NUL-terminated); fails the test when missing. */
static inline char *corpus_read(const char *rel, size_t *out_len)
{
	char *path = xasprintf("%s/%s", corpus_dir(), rel);
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT;
	char chunk[65536];
	size_t n;

	if (!f) {
		fprintf(stderr, "CORPUS MISSING: cannot open %s (set OTCM_CORPUS)\n", path);
		free(path);
		fail_msg("corpus file missing");
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(buf_add(&b, chunk, n), 0);
	fclose(f);
	free(path);
	if (out_len)
		*out_len = b.len;
	return b.data ? buf_detach(&b, NULL) : xstrdup("");
}

/* s with the first occurrence of `from` replaced by `to`; the test fails when absent. */
static inline char *replace_once(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	char *r;

	if (!p) {
		fprintf(stderr, "mutation anchor not found: %s\n", from);
		fail_msg("mutation anchor not found");
	}
	r = xasprintf("%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
	return r;
}

/* The JSON result of diffing two strings. */
static inline json_t *diff_json(const char *path, const char *a, const char *b)
{
	struct diff_result *r = NULL;
	json_t *j = NULL;

	assert_int_equal(diff_compare(&r, path, a, a ? strlen(a) : 0, b, b ? strlen(b) : 0), 0);
	assert_int_equal(diff_to_json(&j, r), 0);
	diff_result_free(r);
	return j;
}

static inline void dump_changes(const json_t *res)
{
	char *s = json_dumps(res, JSON_INDENT(1) | JSON_PRESERVE_ORDER);

	fprintf(stderr, "%s\n", s ? s : "?");
	free(s);
}

/*
 * The change list must be exactly `expected` (NULL-terminated), in any
 * order, each written "kind path | what"; returns the changes array.
 */
static inline json_t *expect_changes(json_t *res, const char *const *expected)
{
	json_t *changes = json_object_get(res, "changes");
	size_t n = 0, i;
	json_t *c;
	int bad = 0;

	while (expected[n])
		n++;
	if (json_array_size(changes) != n) {
		fprintf(stderr, "expected %zu changes, got %zu\n", n, json_array_size(changes));
		bad = 1;
	}
	json_array_foreach(changes, i, c) {
		char *key = xasprintf("%s %s | %s", json_string_value(json_object_get(c, "kind")),
		                      json_string_value(json_object_get(c, "path")),
		                      json_string_value(json_object_get(c, "what")));
		size_t k;

		for (k = 0; k < n && strcmp(expected[k], key); k++)
			;
		if (k == n) {
			fprintf(stderr, "unexpected change: %s\n", key);
			bad = 1;
		}
		free(key);
	}
	if (bad) {
		dump_changes(res);
		fail_msg("change list differs");
	}
	return changes;
}

/* The change whose "kind path | what" key is `key`; fails when absent. */
static inline json_t *change_at(json_t *res, const char *key)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(res, "changes"), i, c) {
		char *k = xasprintf("%s %s | %s", json_string_value(json_object_get(c, "kind")),
		                    json_string_value(json_object_get(c, "path")),
		                    json_string_value(json_object_get(c, "what")));
		int eq = !strcmp(k, key);

		free(k);
		if (eq)
			return c;
	}
	dump_changes(res);
	fail_msg("no change %s", key);
	return NULL;
}

static inline void expect_values(json_t *res, const char *key, const char *old_value,
                                 const char *new_value)
{
	json_t *c = change_at(res, key);
	const char *o = json_string_value(json_object_get(c, "old"));
	const char *nv = json_string_value(json_object_get(c, "new"));

	if (old_value)
		assert_string_equal(o ? o : "(null)", old_value);
	else
		assert_null(o);
	if (new_value)
		assert_string_equal(nv ? nv : "(null)", new_value);
	else
		assert_null(nv);
}

/* Mutate a corpus file and expect exactly these changes. */
static inline json_t *mutate(const char *rel, const char *from, const char *to,
                             const char *const *expected)
{
	char *orig = corpus_read(rel, NULL), *edit = replace_once(orig, from, to);
	json_t *res = diff_json(rel, orig, edit);

	expect_changes(res, expected);
	free(orig);
	free(edit);
	return res;
}

#endif
