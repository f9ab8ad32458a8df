/*
 * tests/unit/diff/test_diff_corpus.c - every consecutive pair of versions
 * in the corpus's HISTORY.tsv (ordered by version_no; "group:" rows are
 * related variants and are compared the same way): no error, parse
 * success counted per format, a change reported whenever the normalised
 * texts (textconv) differ and none when they are identical.  Fails loudly
 * when the corpus is absent.
 */
#include "tests/unit/diff/diff_testutil.h"

struct row {
	char *file;
	long version;
	char *local;
};

static int row_cmp(const void *x, const void *y)
{
	const struct row *a = x, *b = y;
	int c = strcmp(a->file, b->file);

	return c ? c : (a->version > b->version) - (a->version < b->version);
}

struct fmt_count {
	char name[32];
	size_t sides, parsed;
};

static void count_parse(struct fmt_count *fc, size_t *nfc, const char *fmt, bool ok)
{
	size_t i;

	for (i = 0; i < *nfc && strcmp(fc[i].name, fmt); i++)
		;
	if (i == *nfc) {
		snprintf(fc[i].name, sizeof(fc[i].name), "%s", fmt);
		fc[i].sides = fc[i].parsed = 0;
		(*nfc)++;
	}
	fc[i].sides++;
	fc[i].parsed += ok;
}

static void every_consecutive_pair(void **state)
{
	size_t len, nrows = 0, alloc = 0, pairs = 0, fallbacks = 0, nfc = 0, bad = 0;
	char *tsv = corpus_read("HISTORY.tsv", &len), *save = NULL, *line;
	struct row *rows = NULL;
	struct fmt_count fc[32];

	for (line = strtok_r(tsv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[6] = { 0 }, *p = line;

		for (int i = 0; i < 6 && p; i++) {
			f[i] = p;
			p = strchr(p, '\t');
			if (p)
				*p++ = '\0';
		}
		if (!f[2] || !strcmp(f[0], "file"))
			continue;
		if (nrows == alloc) {
			alloc = alloc ? alloc * 2 : 1024;
			rows = xrealloc(rows, alloc * sizeof(*rows));
		}
		rows[nrows++] = (struct row){ f[0], atol(f[1]), f[2] };
	}
	assert_true(nrows > 100);
	qsort(rows, nrows, sizeof(*rows), row_cmp);
	for (size_t i = 1; i < nrows; i++) {
		size_t la, lb;
		char *a, *b;
		struct diff_result *r = NULL;
		struct buf ta = BUF_INIT, tb = BUF_INIT;
		json_t *j = NULL, *parsed;
		bool same;

		if (strcmp(rows[i].file, rows[i - 1].file))
			continue;
		a = corpus_read(rows[i - 1].local, &la);
		b = corpus_read(rows[i].local, &lb);
		pairs++;
		assert_int_equal(diff_compare(&r, rows[i].file, a, la, b, lb), 0);
		assert_int_equal(diff_to_json(&j, r), 0);
		assert_int_equal(diff_textconv(&ta, rows[i - 1].local, a, la), 0);
		assert_int_equal(diff_textconv(&tb, rows[i].local, b, lb), 0);
		parsed = json_object_get(j, "parsed");
		if (json_object_get(j, "fallback_reason"))
			fallbacks++;
		count_parse(fc, &nfc, diff_result_format(r), json_is_true(json_object_get(parsed, "old")));
		count_parse(fc, &nfc, diff_result_format(r), json_is_true(json_object_get(parsed, "new")));
		same = ta.len == tb.len && !memcmp(buf_cstr(&ta), buf_cstr(&tb), ta.len);
		if (same != (diff_result_count(r) == 0) && !json_object_get(j, "fallback_reason")) {
			fprintf(stderr, "MISMATCH %s v%ld..v%ld: textconv %s, %zu changes\n", rows[i].file,
			        rows[i - 1].version, rows[i].version, same ? "equal" : "differs",
			        diff_result_count(r));
			bad++;
		}
		json_decref(j);
		diff_result_free(r);
		buf_release(&ta);
		buf_release(&tb);
		free(a);
		free(b);
		assert_int_equal(nfc < 31, 1);
	}
	printf("corpus: %zu rows, %zu consecutive pairs, %zu compared as text after a parse failure\n",
	       nrows, pairs, fallbacks);
	for (size_t i = 0; i < nfc; i++)
		printf("corpus: format %-10s %5zu of %5zu sides parsed\n", fc[i].name, fc[i].parsed, fc[i].sides);
	assert_true(pairs > 1000);
	assert_int_equal(bad, 0);
	free(rows);
	free(tsv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_consecutive_pair),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
