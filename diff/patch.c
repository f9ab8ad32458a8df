/*
 * diff/patch.c - unified-style line patches of two texts (dtext_patch in
 * model.h), aligned with align.h and capped in size.
 */
#include "diff/model.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "diff/align.h"

/* ---- line patches ---- */

struct lines {
	const char **p;
	size_t *len;
	uint64_t *h;
	size_t n;
};

static void split_lines(struct lines *l, const char *s)
{
	size_t cap = 16;

	l->n = 0;
	l->p = xmalloc(cap * sizeof(*l->p));
	l->len = xmalloc(cap * sizeof(*l->len));
	while (*s) {
		const char *e = strchr(s, '\n');
		size_t len = e ? (size_t)(e - s) : strlen(s);

		if (l->n == cap) {
			cap *= 2;
			l->p = xrealloc(l->p, cap * sizeof(*l->p));
			l->len = xrealloc(l->len, cap * sizeof(*l->len));
		}
		l->p[l->n] = s;
		l->len[l->n++] = len;
		s += len + (e ? 1 : 0);
	}
	l->h = xmalloc((l->n + 1) * sizeof(*l->h));
	for (size_t i = 0; i < l->n; i++)
		l->h[i] = dalign_hash(l->p[i], l->len[i], 0);
}

static void lines_free(struct lines *l)
{
	free(l->p);
	free(l->len);
	free(l->h);
}

#define PATCH_MAX ((size_t)1 << 20)
#define CONTEXT 3

/* One patch line; false once the patch is full. */
static bool patch_line(struct buf *out, char tag, const struct lines *l, size_t i)
{
	if (out->len > PATCH_MAX)
		return false;
	return !buf_addch(out, tag) && !buf_add(out, l->p[i], l->len[i]) && !buf_addch(out, '\n');
}

int dtext_patch(struct buf *out, const char *old_text, const char *new_text)
{
	struct lines a, b;
	struct dalign_pairs p = { 0 };
	size_t start = out->len;
	int rc = 0;

	split_lines(&a, old_text ? old_text : "");
	split_lines(&b, new_text ? new_text : "");
	dalign(a.h, a.n, b.h, b.n, &p);
	dalign_push(&p, a.n, b.n);   /* sentinel */
	/* walk hunks: runs of edits with CONTEXT lines around them */
	for (size_t k = 0, ai = 0, bi = 0; k < p.n;) {
		size_t hs_a, hs_b, he;

		/* skip matches that are not near an edit */
		while (k < p.n && p.v[k].a == ai && p.v[k].b == bi && ai < a.n) {
			ai++;
			bi++;
			k++;
		}
		if (ai >= a.n && bi >= b.n)
			break;
		hs_a = ai > CONTEXT ? ai - CONTEXT : 0;
		hs_b = bi - (ai - hs_a);
		/* extend the hunk while the next edit is within 2*CONTEXT matches */
		he = k;
		{
			size_t ea = ai, eb = bi, kk = k;

			for (;;) {
				size_t run = 0;

				/* skip to the next matched pair (the edit region ends there) */
				ea = p.v[kk].a;
				eb = p.v[kk].b;
				while (kk + run < p.n - 1 && p.v[kk + run].a == ea + run && p.v[kk + run].b == eb + run)
					run++;
				if (kk + run >= p.n - 1 || run > 2 * CONTEXT) {
					he = kk;
					break;
				}
				kk += run;
			}
			/* the hunk covers [hs_a, p.v[he].a + ctx) */
			{
				size_t end_a = p.v[he].a, end_b = p.v[he].b, ctx_a, ctx_b;
				size_t ca = 0;

				while (ca < CONTEXT && end_a + ca < a.n && he + ca < p.n - 1 &&
				       p.v[he + ca].a == end_a + ca)
					ca++;
				ctx_a = end_a + ca;
				ctx_b = end_b + ca;
				if ((rc = buf_addf(out, "@@ -%zu,%zu +%zu,%zu @@\n", hs_a + 1, ctx_a - hs_a,
				                   hs_b + 1, ctx_b - hs_b)))
					goto out;
				for (size_t i = hs_a; i < ai; i++)
					if (!patch_line(out, ' ', &a, i))
						goto full;
				/* emit between matches from k up to he (+context) */
				while (ai < ctx_a || bi < ctx_b) {
					if (k < p.n && p.v[k].a == ai && p.v[k].b == bi) {
						if (ai < a.n && !patch_line(out, ' ', &a, ai))
							goto full;
						ai++;
						bi++;
						k++;
						continue;
					}
					while (ai < (k < p.n ? p.v[k].a : a.n)) {
						if (!patch_line(out, '-', &a, ai))
							goto full;
						ai++;
					}
					while (bi < (k < p.n ? p.v[k].b : b.n)) {
						if (!patch_line(out, '+', &b, bi))
							goto full;
						bi++;
					}
				}
			}
		}
	}
	goto out;
full:
	rc = buf_adds(out, "... (patch truncated)\n");
out:
	if (rc)
		out->len = start, out->data[start] = '\0';
	free(p.v);
	lines_free(&a);
	lines_free(&b);
	return rc;
}
