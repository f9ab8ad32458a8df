/*
 * tests/unit/diff/fmt_testutil.h - helpers for the text format tests:
 * parse text with one format and find nodes of the tree by path
 * ("POU[FB_Motor]/VAR_INPUT/xStart", segments as the differ prints them).
 */
#ifndef OTCM_TESTS_DIFF_FMT_TESTUTIL_H
#define OTCM_TESTS_DIFF_FMT_TESTUTIL_H

#include "tests/unit/diff/diff_testutil.h"

#include "core/err.h"

#include "diff/formats.h"
#include "diff/model.h"

/* Parse with `f`; the test fails unless it succeeds. */
static inline struct dnode *parse_ok(const struct diff_format *f, const char *text)
{
	struct dnode *t = NULL;

	assert_int_equal(f->parse(&t, text, strlen(text)), 0);
	assert_non_null(t);
	return t;
}

/* The node at `path` below root, or NULL. */
static inline const struct dnode *node_at(const struct dnode *root, const char *path)
{
	const struct dnode *n = root;
	const char *p = path;

	while (n && *p) {
		const char *slash = strchr(p, '/'), *lb;
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		char *seg = xstrndup(p, len);
		const struct dnode *next = NULL;
		size_t i;

		lb = strchr(seg, '[');
		for (i = 0; i < n->nkids && !next; i++) {
			const struct dnode *k = n->kids[i];

			if (lb && seg[len - 1] == ']') {
				size_t tl = (size_t)(lb - seg);

				if (k->name && strlen(k->type) == tl && !strncmp(k->type, seg, tl) &&
				    strlen(k->name) == len - tl - 2 && !strncmp(k->name, lb + 1, len - tl - 2))
					next = k;
			} else if ((!k->name && !strcmp(k->type, seg)) ||
			           (k->name && !*k->type && !strcmp(k->name, seg))) {
				next = k;
			}
		}
		free(seg);
		n = next;
		p = slash ? slash + 1 : p + len;
	}
	return n;
}

/* The node at path; the test fails when it is missing. */
static inline const struct dnode *must(const struct dnode *root, const char *path)
{
	const struct dnode *n = node_at(root, path);

	if (!n) {
		fprintf(stderr, "no node at %s\n", path);
		fail_msg("node missing");
	}
	return n;
}

/* Attribute `attr` of the node at path equals `value` (NULL: absent). */
static inline void expect_attr(const struct dnode *root, const char *path, const char *attr,
                               const char *value)
{
	const char *v = dnode_attr(must(root, path), attr);

	if (!value) {
		if (v)
			fprintf(stderr, "%s @%s = '%s', expected none\n", path, attr, v);
		assert_null(v);
		return;
	}
	if (!v || strcmp(v, value)) {
		fprintf(stderr, "%s @%s = '%s', expected '%s'\n", path, attr, v ? v : "(none)", value);
		fail_msg("attribute differs");
	}
}

/* The children of the node at path, as "seg" strings joined by ", ". */
static inline char *kids_of(const struct dnode *root, const char *path)
{
	const struct dnode *n = must(root, path);
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < n->nkids; i++) {
		const struct dnode *k = n->kids[i];

		if (i)
			buf_adds(&b, ", ");
		if (k->name && *k->type)
			buf_addf(&b, "%s[%s]", k->type, k->name);
		else if (k->name)
			buf_adds(&b, k->name);
		else
			buf_adds(&b, k->type);
	}
	return b.data ? buf_detach(&b, NULL) : xstrdup("");
}

static inline void expect_kids(const struct dnode *root, const char *path, const char *expected)
{
	char *got = kids_of(root, path);

	if (strcmp(got, expected)) {
		fprintf(stderr, "children of '%s':\n  got      %s\n  expected %s\n", path, got, expected);
		free(got);
		fail_msg("children differ");
	}
	free(got);
}

/* A corpus file parsed with `f`. */
static inline struct dnode *parse_corpus(const struct diff_format *f, const char *rel)
{
	size_t len;
	char *text = corpus_read(rel, &len);
	struct dnode *t = NULL;

	assert_int_equal(f->parse(&t, text, len), 0);
	free(text);
	return t;
}

#endif
