/*
 * diff/tree.c - the engineering-object tree (dnode) and the one generic
 * differ every format goes through: keyed children are matched by type and
 * name, sequences (rungs, lines, graphical elements in order) are aligned
 * by content, bodies get a line patch, numbers a delta.  Also the bounded
 * sequence alignment (Myers with a cap on edit distance, falling back to
 * unique-line anchors) and the canonical text rendering used by textconv.
 */
#include "diff/model.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"

/* ---- nodes ---- */

struct dnode *dnode_new(const char *type, const char *name)
{
	struct dnode *n = xcalloc(1, sizeof(*n));

	n->type = xstrdup(type ? type : "");
	n->name = name ? xstrdup(name) : NULL;
	return n;
}

void dnode_adopt(struct dnode *parent, struct dnode *kid)
{
	if (parent->nkids == parent->kids_alloc) {
		parent->kids_alloc = parent->kids_alloc ? parent->kids_alloc * 2 : 4;
		parent->kids = xrealloc(parent->kids, parent->kids_alloc * sizeof(*parent->kids));
	}
	parent->kids[parent->nkids++] = kid;
}

struct dnode *dnode_add(struct dnode *parent, const char *type, const char *name)
{
	struct dnode *kid = dnode_new(type, name);

	dnode_adopt(parent, kid);
	return kid;
}

void dnode_set_attrn(struct dnode *n, const char *name, const char *value, size_t len)
{
	char *v = value ? xstrndup(value, len) : NULL;

	for (size_t i = 0; i < n->nattrs; i++) {
		if (!strcmp(n->attrs[i].name, name)) {
			free(n->attrs[i].value);
			n->attrs[i].value = v;
			return;
		}
	}
	if (n->nattrs == n->attrs_alloc) {
		n->attrs_alloc = n->attrs_alloc ? n->attrs_alloc * 2 : 4;
		n->attrs = xrealloc(n->attrs, n->attrs_alloc * sizeof(*n->attrs));
	}
	n->attrs[n->nattrs].name = xstrdup(name);
	n->attrs[n->nattrs].value = v;
	n->nattrs++;
}

void dnode_set_attr(struct dnode *n, const char *name, const char *value)
{
	dnode_set_attrn(n, name, value, value ? strlen(value) : 0);
}

void dnode_set_bodyn(struct dnode *n, const char *body, size_t len, const char *what)
{
	free(n->body);
	n->body = body ? xstrndup(body, len) : NULL;
	n->body_what = what;
}

void dnode_set_body(struct dnode *n, const char *body, const char *what)
{
	dnode_set_bodyn(n, body, body ? strlen(body) : 0, what);
}

void dnode_free(struct dnode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		dnode_free(n->kids[i]);
	for (size_t i = 0; i < n->nattrs; i++) {
		free(n->attrs[i].name);
		free(n->attrs[i].value);
	}
	free(n->kids);
	free(n->attrs);
	free(n->type);
	free(n->name);
	free(n->body);
	free(n);
}

const char *dnode_attr(const struct dnode *n, const char *name)
{
	for (size_t i = 0; i < n->nattrs; i++)
		if (!strcmp(n->attrs[i].name, name))
			return n->attrs[i].value;
	return NULL;
}

struct dnode *dnode_child(const struct dnode *parent, const char *type, const char *name)
{
	for (size_t i = 0; i < parent->nkids; i++) {
		struct dnode *k = parent->kids[i];

		if (strcmp(k->type, type))
			continue;
		if (!name || (k->name && !strcmp(k->name, name)))
			return k;
	}
	return NULL;
}

void dnode_filter(struct dnode *parent, bool (*keep)(const struct dnode *kid))
{
	size_t j = 0;

	for (size_t i = 0; i < parent->nkids; i++) {
		if (keep(parent->kids[i]))
			parent->kids[j++] = parent->kids[i];
		else
			dnode_free(parent->kids[i]);
	}
	parent->nkids = j;
}

/* ---- changes ---- */

const char *dchange_kind_name(enum dchange_kind k)
{
	switch (k) {
	case DCHANGE_ADDED: return "added";
	case DCHANGE_REMOVED: return "removed";
	case DCHANGE_MODIFIED: return "modified";
	case DCHANGE_MOVED: return "moved";
	case DCHANGE_RENAMED: return "renamed";
	}
	return "modified";
}

void dchanges_release(struct dchanges *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].path);
		free(c->v[i].what);
		free(c->v[i].old_value);
		free(c->v[i].new_value);
		free(c->v[i].patch);
	}
	free(c->v);
	c->v = NULL;
	c->n = c->alloc = 0;
}

/* A number as engineers write it: decimal, optional sign and exponent, nothing else. */
static bool parse_number(const char *s, double *out)
{
	const char *p = s;
	char *end;
	bool digits = false;

	if (!s)
		return false;
	while (*p == ' ')
		p++;
	for (const char *q = p; *q; q++) {
		if (isdigit((unsigned char)*q))
			digits = true;
		else if (!strchr("+-.eE ", *q))
			return false;
	}
	if (!digits)
		return false;
	*out = strtod(p, &end);
	while (*end == ' ')
		end++;
	return end != p && !*end && isfinite(*out);
}

/* Takes ownership of patch. */
static void emit(struct dchanges *c, const char *path, enum dchange_kind kind,
                 const char *what, const char *old_value, const char *new_value, char *patch)
{
	struct dchange *ch;
	double a, b;

	if (c->n == c->alloc) {
		c->alloc = c->alloc ? c->alloc * 2 : 16;
		c->v = xrealloc(c->v, c->alloc * sizeof(*c->v));
	}
	ch = &c->v[c->n++];
	memset(ch, 0, sizeof(*ch));
	ch->path = xstrdup(path);
	ch->kind = kind;
	ch->what = xstrdup(what && *what ? what : "element");
	ch->old_value = old_value ? xstrdup(old_value) : NULL;
	ch->new_value = new_value ? xstrdup(new_value) : NULL;
	ch->patch = patch;
	if (kind == DCHANGE_MODIFIED && parse_number(old_value, &a) && parse_number(new_value, &b)) {
		ch->has_delta = true;
		ch->delta = b - a;
	}
}

/* ---- hashing ---- */

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static uint64_t hash_bytes(const char *s, size_t len, uint64_t seed)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return mix(h ^ len);
}

static uint64_t hash_str(const char *s, uint64_t seed)
{
	return s ? hash_bytes(s, strlen(s), seed) : mix(seed ^ 0x9e3779b97f4a7c15ULL);
}

#define MAX_TREE_DEPTH 512

static void hash_tree(struct dnode *n, int depth)
{
	uint64_t h = hash_str(n->type, 1), attrs = 0, kids = 0;

	for (size_t i = 0; i < n->nattrs; i++)   /* order-independent: attrs compare by name */
		attrs += mix(hash_str(n->attrs[i].name, 2) ^ hash_str(n->attrs[i].value, 3));
	h = mix(h ^ attrs) ^ hash_str(n->body, 4);
	for (size_t i = 0; i < n->nkids; i++) {
		if (depth < MAX_TREE_DEPTH)
			hash_tree(n->kids[i], depth + 1);
		if (n->flags & DNODE_SEQUENCE)
			kids = mix(kids * 31 + n->kids[i]->hash);
		else
			kids += n->kids[i]->hash;
	}
	n->hash_noname = mix(h ^ mix(kids + 5) ^ n->flags);
	n->hash = mix(n->hash_noname ^ hash_str(n->name, 6));
}

/* ---- bounded alignment of two sequences of hashes ---- */

struct dpair {
	size_t a, b;
};

struct pairs {
	struct dpair *v;
	size_t n, alloc;
};

static void pairs_push(struct pairs *p, size_t a, size_t b)
{
	if (p->n == p->alloc) {
		p->alloc = p->alloc ? p->alloc * 2 : 64;
		p->v = xrealloc(p->v, p->alloc * sizeof(*p->v));
	}
	p->v[p->n].a = a;
	p->v[p->n].b = b;
	p->n++;
}

#define MYERS_MAX_D 1000
#define MYERS_WORK 50000000.0

/*
 * Myers' O(ND) alignment of a[0..n) and b[0..m), matches pushed with
 * offsets ao/bo, in increasing order.  Returns false (pushing nothing) when
 * the edit distance exceeds maxd.  Memory O(maxd^2).
 */
static bool myers(const uint64_t *a, size_t n, const uint64_t *b, size_t m,
                  size_t ao, size_t bo, long maxd, struct pairs *out)
{
	long N = (long)n, M = (long)m, D = N + M < maxd ? N + M : maxd, found = -1;
	long off = D + 1, *v = xcalloc((size_t)(2 * D + 3), sizeof(long));
	long **trace = xcalloc((size_t)D + 1, sizeof(long *));
	struct dpair *rev = NULL;
	size_t nrev = 0;

	for (long d = 0; d <= D && found < 0; d++) {
		trace[d] = xmemdup(v + off - d - 1, (size_t)(2 * d + 3) * sizeof(long));
		for (long k = -d; k <= d; k += 2) {
			long x, y;

			if (k == -d || (k != d && v[off + k - 1] < v[off + k + 1]))
				x = v[off + k + 1];
			else
				x = v[off + k - 1] + 1;
			y = x - k;
			while (x < N && y < M && a[x] == b[y]) {
				x++;
				y++;
			}
			v[off + k] = x;
			if (x >= N && y >= M) {
				found = d;
				break;
			}
		}
	}
	if (found >= 0) {
		long x = N, y = M;

		rev = xmalloc((size_t)(N < M ? N : M) * sizeof(*rev) + sizeof(*rev));
		for (long d = found; d >= 0; d--) {
			long *tv = trace[d] + d + 1;   /* tv[k] for k in [-d-1, d+1] */
			long k = x - y, pk, px, py;

			if (k == -d || (k != d && tv[k - 1] < tv[k + 1]))
				pk = k + 1;
			else
				pk = k - 1;
			px = d ? tv[pk] : 0;
			py = px - pk;
			if (!d) {
				px = 0;
				py = 0;
			}
			while (x > px && y > py) {
				rev[nrev].a = (size_t)x - 1;
				rev[nrev].b = (size_t)y - 1;
				nrev++;
				x--;
				y--;
			}
			x = px;
			y = py;
		}
		while (nrev)
			pairs_push(out, rev[nrev - 1].a + ao, rev[nrev - 1].b + bo), nrev--;
	}
	for (long d = 0; d <= D; d++)
		free(trace[d]);
	free(trace);
	free(v);
	free(rev);
	return found >= 0;
}

static long myers_budget(size_t n, size_t m)
{
	double d = MYERS_WORK / ((double)n + (double)m + 1.0);

	return d > MYERS_MAX_D ? MYERS_MAX_D : d < 16 ? 16 : (long)d;
}

struct hidx {
	uint64_t h;
	size_t i;
};

static int hidx_cmp(const void *x, const void *y)
{
	const struct hidx *p = x, *q = y;

	if (p->h != q->h)
		return p->h < q->h ? -1 : 1;
	return p->i < q->i ? -1 : p->i > q->i;
}

/* Sorted (hash, index) with a flag: unique within its sequence. */
static struct hidx *sorted_unique(const uint64_t *s, size_t n, size_t *out_n)
{
	struct hidx *v = xmalloc((n + 1) * sizeof(*v)), *u = xmalloc((n + 1) * sizeof(*u));
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		v[i] = (struct hidx){ s[i], i };
	qsort(v, n, sizeof(*v), hidx_cmp);
	for (size_t i = 0; i < n; i++)
		if ((i == 0 || v[i - 1].h != v[i].h) && (i + 1 == n || v[i + 1].h != v[i].h))
			u[k++] = v[i];
	free(v);
	*out_n = k;
	return u;
}

/*
 * Patience-style anchors: elements unique in both, kept in a longest
 * increasing run; the gaps between anchors get a small Myers each.
 */
static void anchor_align(const uint64_t *a, size_t n, const uint64_t *b, size_t m,
                         size_t ao, size_t bo, struct pairs *out)
{
	size_t nu, mu, nc = 0, len = 0;
	struct hidx *ua = sorted_unique(a, n, &nu), *ub = sorted_unique(b, m, &mu);
	struct dpair *cand = xmalloc((nu < mu ? nu : mu) * sizeof(*cand) + sizeof(*cand));
	size_t *tail, *prev, *lis;
	size_t pa = 0, pb = 0;

	for (size_t i = 0, j = 0; i < nu && j < mu;) {
		if (ua[i].h < ub[j].h)
			i++;
		else if (ua[i].h > ub[j].h)
			j++;
		else
			cand[nc++] = (struct dpair){ ua[i++].i, ub[j++].i };
	}
	free(ua);
	free(ub);
	/* candidates sorted by a: order them, then the longest run increasing in b */
	for (size_t i = 1; i < nc; i++) {
		struct dpair t = cand[i];
		size_t j = i;

		if (cand[j - 1].a < t.a)
			continue;
		while (j > 0 && cand[j - 1].a > t.a) {
			cand[j] = cand[j - 1];
			j--;
		}
		cand[j] = t;
	}
	tail = xmalloc((nc + 1) * sizeof(size_t));
	prev = xmalloc((nc + 1) * sizeof(size_t));
	for (size_t i = 0; i < nc; i++) {
		size_t lo = 0, hi = len;

		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (cand[tail[mid]].b < cand[i].b)
				lo = mid + 1;
			else
				hi = mid;
		}
		prev[i] = lo ? tail[lo - 1] : SIZE_MAX;
		tail[lo] = i;
		if (lo == len)
			len++;
	}
	lis = xmalloc((len + 1) * sizeof(size_t));
	for (size_t k = len, i = len ? tail[len - 1] : SIZE_MAX; k > 0; k--) {
		lis[k - 1] = i;
		i = prev[i];
	}
	for (size_t k = 0; k <= len; k++) {
		size_t ea = k < len ? cand[lis[k]].a : n, eb = k < len ? cand[lis[k]].b : m;

		if (ea > pa && eb > pb)
			myers(a + pa, ea - pa, b + pb, eb - pb, ao + pa, bo + pb,
			      myers_budget(ea - pa, eb - pb) / 4 + 8, out);
		if (k < len) {
			pairs_push(out, ao + ea, bo + eb);
			pa = ea + 1;
			pb = eb + 1;
		}
	}
	free(lis);
	free(tail);
	free(prev);
	free(cand);
}

/* Matched index pairs of two hash sequences, increasing in both. */
static void align(const uint64_t *a, size_t n, const uint64_t *b, size_t m, struct pairs *out)
{
	size_t pre = 0, suf = 0;

	while (pre < n && pre < m && a[pre] == b[pre])
		pairs_push(out, pre, pre), pre++;
	while (suf < n - pre && suf < m - pre && a[n - 1 - suf] == b[m - 1 - suf])
		suf++;
	if (n - pre - suf && m - pre - suf &&
	    !myers(a + pre, n - pre - suf, b + pre, m - pre - suf, pre, pre,
	           myers_budget(n - pre - suf, m - pre - suf), out))
		anchor_align(a + pre, n - pre - suf, b + pre, m - pre - suf, pre, pre, out);
	for (size_t i = suf; i > 0; i--)
		pairs_push(out, n - i, m - i);
}

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
		l->h[i] = hash_bytes(l->p[i], l->len[i], 0);
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
	struct pairs p = { 0 };
	size_t start = out->len;
	int rc = 0;

	split_lines(&a, old_text ? old_text : "");
	split_lines(&b, new_text ? new_text : "");
	align(a.h, a.n, b.h, b.n, &p);
	pairs_push(&p, a.n, b.n);   /* sentinel */
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

/* ---- the differ ---- */

struct differ {
	struct dchanges *out;
	struct buf path;
};

static void seg(struct buf *b, const struct dnode *n, long index)
{
	if (b->len)
		(void)buf_addch(b, '/');
	if (n->name && *n->type)
		(void)buf_addf(b, "%s[%s]", n->type, n->name);
	else if (n->name)
		(void)buf_adds(b, n->name);
	else if (index >= 0)
		(void)buf_addf(b, "%s[%ld]", *n->type ? n->type : "element", index);
	else
		(void)buf_adds(b, *n->type ? n->type : "element");
}

#define SUMMARY_MAX 200

/* A one-line description of a node for added/removed changes; NULL when none. */
static char *summary(const struct dnode *n)
{
	struct buf b = BUF_INIT;

	if (n->body) {
		if (!strchr(n->body, '\n') && strlen(n->body) <= SUMMARY_MAX)
			return xstrdup(n->body);
		return NULL;
	}
	for (size_t i = 0; i < n->nattrs && b.len < SUMMARY_MAX; i++) {
		const char *v = n->attrs[i].value ? n->attrs[i].value : "";

		(void)buf_addf(&b, "%s%s=%.*s", i ? ", " : "", n->attrs[i].name,
		               (int)(strlen(v) > SUMMARY_MAX ? SUMMARY_MAX : strlen(v)), v);
	}
	if (b.len > SUMMARY_MAX) {
		b.len = SUMMARY_MAX;
		(void)buf_adds(&b, "...");
	}
	return b.data ? buf_detach(&b, NULL) : NULL;
}

static bool one_line(const char *s)
{
	return s && !strchr(s, '\n') && strlen(s) <= SUMMARY_MAX;
}

static char *patch_of(const char *o, const char *n)
{
	struct buf b = BUF_INIT;

	if (dtext_patch(&b, o, n) || !b.len) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

static void whole(struct differ *d, const struct dnode *n, bool added)
{
	char *s = summary(n), *patch = NULL;

	if (n->body && !one_line(n->body))
		patch = added ? patch_of("", n->body) : patch_of(n->body, "");
	emit(d->out, buf_cstr(&d->path), added ? DCHANGE_ADDED : DCHANGE_REMOVED, n->type,
	     added ? NULL : s, added ? s : NULL, patch);
	free(s);
}

static void diff_node(struct differ *d, const struct dnode *a, const struct dnode *b, int depth);

/* Run `fn` with the path extended by the segment of n. */
static void with_seg(struct differ *d, const struct dnode *n, long index, const struct dnode *a,
                     const struct dnode *b, int depth, int mode)
{
	size_t len = d->path.len;

	seg(&d->path, n, index);
	if (mode == 0)
		diff_node(d, a, b, depth + 1);
	else
		whole(d, n, mode > 0);
	d->path.len = len;
	if (d->path.data)
		d->path.data[len] = '\0';
}

static void diff_attrs(struct differ *d, const struct dnode *a, const struct dnode *b)
{
	const char *path = buf_cstr(&d->path);

	for (size_t i = 0; i < a->nattrs; i++) {
		const char *nv = NULL;
		bool found = false;

		for (size_t j = 0; j < b->nattrs; j++)
			if (!strcmp(a->attrs[i].name, b->attrs[j].name)) {
				nv = b->attrs[j].value;
				found = true;
				break;
			}
		if (!found)
			emit(d->out, path, DCHANGE_REMOVED, a->attrs[i].name, a->attrs[i].value, NULL, NULL);
		else if ((nv == NULL) != (a->attrs[i].value == NULL) ||
		         (nv && strcmp(nv, a->attrs[i].value)))
			emit(d->out, path, DCHANGE_MODIFIED, a->attrs[i].name, a->attrs[i].value, nv,
			     one_line(a->attrs[i].value) && one_line(nv) ? NULL
			     : patch_of(a->attrs[i].value, nv));
	}
	for (size_t j = 0; j < b->nattrs; j++)
		if (!dnode_attr(a, b->attrs[j].name)) {
			bool found = false;

			for (size_t i = 0; i < a->nattrs && !found; i++)
				found = !strcmp(a->attrs[i].name, b->attrs[j].name);
			if (!found)
				emit(d->out, path, DCHANGE_ADDED, b->attrs[j].name, NULL, b->attrs[j].value, NULL);
		}
}

static void diff_body(struct differ *d, const struct dnode *a, const struct dnode *b)
{
	const char *what = b->body_what ? b->body_what : a->body_what ? a->body_what : "body";
	const char *o = a->body ? a->body : "", *n = b->body ? b->body : "";

	if (!strcmp(o, n))
		return;
	emit(d->out, buf_cstr(&d->path), DCHANGE_MODIFIED, what,
	     one_line(o) && one_line(n) ? o : NULL, one_line(o) && one_line(n) ? n : NULL,
	     one_line(o) && one_line(n) ? NULL : patch_of(o, n));
}

/* Index of a child among its siblings of the same type. */
static long type_index(const struct dnode *parent, size_t i)
{
	long k = 0;

	for (size_t j = 0; j < i; j++)
		if (!strcmp(parent->kids[j]->type, parent->kids[i]->type))
			k++;
	return k;
}

static bool same_id(const struct dnode *x, const struct dnode *y)
{
	if (strcmp(x->type, y->type))
		return false;
	if (!x->name || !y->name)
		return !x->name && !y->name;
	return !strcmp(x->name, y->name);
}

/* Key hash per child: type, name and occurrence among same-key siblings. */
static uint64_t *child_keys(const struct dnode *p, long **out_occ)
{
	size_t n = p->nkids;
	uint64_t *k = xmalloc((n + 1) * sizeof(*k));
	struct hidx *s = xmalloc((n + 1) * sizeof(*s));
	long *occ = xcalloc(n + 1, sizeof(*occ));

	for (size_t i = 0; i < n; i++) {
		k[i] = mix(hash_str(p->kids[i]->type, 7) ^ hash_str(p->kids[i]->name, 8));
		s[i] = (struct hidx){ k[i], i };
	}
	qsort(s, n, sizeof(*s), hidx_cmp);
	for (size_t i = 1; i < n; i++)
		if (s[i].h == s[i - 1].h)
			occ[s[i].i] = occ[s[i - 1].i] + 1;
	for (size_t i = 0; i < n; i++)
		k[i] = mix(k[i] + (uint64_t)occ[i]);
	free(s);
	*out_occ = occ;
	return k;
}

static long find_key(const struct hidx *sorted, size_t n, uint64_t key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (sorted[mid].h < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && sorted[lo].h == key ? (long)sorted[lo].i : -1;
}

/* Children matched by (type, name, occurrence); unmatched ones may be renames. */
static void diff_keyed(struct differ *d, const struct dnode *a, const struct dnode *b, int depth)
{
	long *occ_a, *occ_b, *match_b = xmalloc((b->nkids + 1) * sizeof(long));
	uint64_t *ka = child_keys(a, &occ_a), *kb = child_keys(b, &occ_b);
	struct hidx *sa = xmalloc((a->nkids + 1) * sizeof(*sa));
	bool *used_a = xcalloc(a->nkids + 1, sizeof(bool)), *renamed_b = xcalloc(b->nkids + 1, sizeof(bool));

	for (size_t i = 0; i < a->nkids; i++)
		sa[i] = (struct hidx){ ka[i], i };
	qsort(sa, a->nkids, sizeof(*sa), hidx_cmp);
	for (size_t j = 0; j < b->nkids; j++) {
		long i = find_key(sa, a->nkids, kb[j]);

		if (i >= 0 && (used_a[i] || !same_id(a->kids[i], b->kids[j])))
			i = -1;
		match_b[j] = i;
		if (i >= 0)
			used_a[i] = true;
	}
	/* renames: same type, different name, identical content */
	for (size_t j = 0; j < b->nkids; j++) {
		if (match_b[j] >= 0 || !b->kids[j]->name)
			continue;
		for (size_t i = 0; i < a->nkids; i++) {
			if (used_a[i] || !a->kids[i]->name || strcmp(a->kids[i]->type, b->kids[j]->type) ||
			    a->kids[i]->hash_noname != b->kids[j]->hash_noname)
				continue;
			used_a[i] = true;
			renamed_b[j] = true;
			{
				size_t len = d->path.len;

				seg(&d->path, b->kids[j], -1);
				emit(d->out, buf_cstr(&d->path), DCHANGE_RENAMED, b->kids[j]->type,
				     a->kids[i]->name, b->kids[j]->name, NULL);
				d->path.len = len;
				if (d->path.data)
					d->path.data[len] = '\0';
			}
			break;
		}
	}
	for (size_t i = 0; i < a->nkids; i++)
		if (!used_a[i])
			with_seg(d, a->kids[i], a->kids[i]->name ? -1 : occ_a[i] ? occ_a[i] : -1,
			         NULL, NULL, depth, -1);
	for (size_t j = 0; j < b->nkids; j++) {
		long idx = b->kids[j]->name ? -1 : occ_b[j] ? occ_b[j] : -1;

		if (renamed_b[j])
			continue;
		if (match_b[j] < 0)
			with_seg(d, b->kids[j], idx, NULL, NULL, depth, 1);
		else if (a->kids[match_b[j]]->hash != b->kids[j]->hash)
			with_seg(d, b->kids[j], idx, a->kids[match_b[j]], b->kids[j], depth, 0);
	}
	free(ka);
	free(kb);
	free(occ_a);
	free(occ_b);
	free(sa);
	free(used_a);
	free(renamed_b);
	free(match_b);
}

/* Children in order: aligned by content, then paired by identity or position. */
static void diff_sequence(struct differ *d, const struct dnode *a, const struct dnode *b, int depth)
{
	size_t na = a->nkids, nb = b->nkids;
	uint64_t *ha = xmalloc((na + 1) * sizeof(*ha)), *hb = xmalloc((nb + 1) * sizeof(*hb));
	long *pa = xmalloc((na + 1) * sizeof(long)), *pb = xmalloc((nb + 1) * sizeof(long));
	struct pairs p = { 0 };

	for (size_t i = 0; i < na; i++)
		ha[i] = a->kids[i]->hash, pa[i] = -1;
	for (size_t j = 0; j < nb; j++)
		hb[j] = b->kids[j]->hash, pb[j] = -1;
	align(ha, na, hb, nb, &p);
	for (size_t k = 0; k < p.n; k++) {
		pa[p.v[k].a] = (long)p.v[k].b;
		pb[p.v[k].b] = (long)p.v[k].a;
	}
	/* moved: identical content elsewhere */
	for (size_t j = 0; j < nb; j++) {
		if (pb[j] >= 0)
			continue;
		for (size_t i = 0; i < na; i++) {
			if (pa[i] >= 0 || ha[i] != hb[j])
				continue;
			pa[i] = (long)j;
			pb[j] = (long)i;
			{
				struct buf op = BUF_INIT;
				size_t len = d->path.len;

				(void)buf_adds(&op, buf_cstr(&d->path));
				seg(&op, a->kids[i], a->kids[i]->name ? -1 : type_index(a, i));
				seg(&d->path, b->kids[j], b->kids[j]->name ? -1 : type_index(b, j));
				emit(d->out, buf_cstr(&d->path), DCHANGE_MOVED, b->kids[j]->type,
				     buf_cstr(&op), buf_cstr(&d->path), NULL);
				buf_release(&op);
				d->path.len = len;
				if (d->path.data)
					d->path.data[len] = '\0';
			}
			break;
		}
	}
	/* the same named element, changed */
	for (size_t j = 0; j < nb; j++) {
		if (pb[j] >= 0 || !b->kids[j]->name)
			continue;
		for (size_t i = 0; i < na; i++) {
			if (pa[i] >= 0 || !same_id(a->kids[i], b->kids[j]))
				continue;
			pa[i] = (long)j;
			pb[j] = (long)i;
			with_seg(d, b->kids[j], -1, a->kids[i], b->kids[j], depth, 0);
			break;
		}
	}
	/* unnamed elements in the same gap between aligned ones, paired in order: modified */
	pairs_push(&p, na, nb);   /* sentinel closing the last gap */
	for (size_t k = 0, lo_a = 0, lo_b = 0; k < p.n; k++) {
		size_t next_j = lo_b;

		for (size_t i = lo_a; i < p.v[k].a; i++) {
			if (pa[i] >= 0 || a->kids[i]->name)
				continue;
			for (size_t j = next_j; j < p.v[k].b; j++) {
				if (pb[j] >= 0 || b->kids[j]->name || strcmp(a->kids[i]->type, b->kids[j]->type))
					continue;
				pa[i] = (long)j;
				pb[j] = (long)i;
				next_j = j + 1;
				with_seg(d, b->kids[j], type_index(b, j), a->kids[i], b->kids[j], depth, 0);
				break;
			}
		}
		lo_a = p.v[k].a + 1;
		lo_b = p.v[k].b + 1;
	}
	for (size_t i = 0; i < na; i++)
		if (pa[i] < 0)
			with_seg(d, a->kids[i], a->kids[i]->name ? -1 : type_index(a, i), NULL, NULL, depth, -1);
	for (size_t j = 0; j < nb; j++)
		if (pb[j] < 0)
			with_seg(d, b->kids[j], b->kids[j]->name ? -1 : type_index(b, j), NULL, NULL, depth, 1);
	free(p.v);
	free(ha);
	free(hb);
	free(pa);
	free(pb);
}

static void diff_node(struct differ *d, const struct dnode *a, const struct dnode *b, int depth)
{
	if (a->hash == b->hash)
		return;
	diff_attrs(d, a, b);
	diff_body(d, a, b);
	if (depth >= MAX_TREE_DEPTH)
		return;
	if ((a->flags | b->flags) & DNODE_SEQUENCE)
		diff_sequence(d, a, b, depth);
	else
		diff_keyed(d, a, b, depth);
}

int dtree_diff(struct dchanges *out, struct dnode *old_tree, struct dnode *new_tree)
{
	struct differ d = { out, BUF_INIT };

	if (old_tree)
		hash_tree(old_tree, 0);
	if (new_tree)
		hash_tree(new_tree, 0);
	if (old_tree && new_tree)
		diff_node(&d, old_tree, new_tree, 0);
	else if (old_tree)
		whole(&d, old_tree, false);
	else if (new_tree)
		whole(&d, new_tree, true);
	buf_release(&d.path);
	/* changes on the root itself are named by the root's segment */
	if (old_tree || new_tree) {
		struct buf root = BUF_INIT;

		seg(&root, new_tree ? new_tree : old_tree, -1);
		for (size_t i = 0; i < out->n; i++)
			if (!*out->v[i].path) {
				free(out->v[i].path);
				out->v[i].path = xstrdup(buf_cstr(&root));
			}
		buf_release(&root);
	}
	return 0;
}

/* ---- canonical rendering ---- */

static int render_value(struct buf *out, const char *v)
{
	int rc = 0;

	for (; v && *v && !rc; v++)
		rc = *v == '\n' ? buf_adds(out, "\\n") : buf_addch(out, *v);
	return rc;
}

/* Rendering order: attrs by name; keyed children by type and name (their order is not compared). */
static int attr_cmp(const void *x, const void *y)
{
	const struct dattr *const *a = x, *const *b = y;

	return strcmp((*a)->name, (*b)->name);
}

struct kidx {
	const struct dnode *n;
	size_t i;
};

static int kid_cmp(const void *x, const void *y)
{
	const struct kidx *a = x, *b = y;
	int c = strcmp(a->n->type, b->n->type);

	if (!c && a->n->name && b->n->name)
		c = strcmp(a->n->name, b->n->name);
	else if (!c && (a->n->name || b->n->name))
		c = a->n->name ? 1 : -1;
	return c ? c : (a->i > b->i) - (a->i < b->i);
}

static int render(struct buf *out, const struct dnode *n, int depth, long index)
{
	int rc;
	size_t ind = (size_t)(depth > 64 ? 64 : depth) * 2;
	struct buf s = BUF_INIT;
	const struct dattr **attrs = xmalloc((n->nattrs + 1) * sizeof(*attrs));
	struct kidx *kids = xmalloc((n->nkids + 1) * sizeof(*kids));

	seg(&s, n, index);
	rc = buf_addf(out, "%*s%s\n", (int)ind, "", buf_cstr(&s));
	buf_release(&s);
	for (size_t i = 0; i < n->nattrs; i++)
		attrs[i] = &n->attrs[i];
	qsort(attrs, n->nattrs, sizeof(*attrs), attr_cmp);
	for (size_t i = 0; i < n->nattrs && !rc; i++) {
		if (!(rc = buf_addf(out, "%*s  @%s = ", (int)ind, "", attrs[i]->name)) &&
		    !(rc = render_value(out, attrs[i]->value)))
			rc = buf_addch(out, '\n');
	}
	if (n->body && !rc) {
		const char *p = n->body;

		while (!rc) {
			const char *e = strchr(p, '\n');
			size_t len = e ? (size_t)(e - p) : strlen(p);

			rc = buf_addf(out, "%*s  | %.*s\n", (int)ind, "", (int)len, p);
			if (!e)
				break;
			p = e + 1;
		}
	}
	for (size_t i = 0; i < n->nkids; i++)
		kids[i] = (struct kidx){ n->kids[i], i };
	if (!(n->flags & DNODE_SEQUENCE))
		qsort(kids, n->nkids, sizeof(*kids), kid_cmp);
	for (size_t i = 0; i < n->nkids && !rc && depth < MAX_TREE_DEPTH; i++) {
		long idx = -1;

		if (!kids[i].n->name && (n->flags & DNODE_SEQUENCE))
			idx = type_index(n, i);
		rc = render(out, kids[i].n, depth + 1, idx);
	}
	free(attrs);
	free(kids);
	return rc;
}

int dtree_render(struct buf *out, const struct dnode *n)
{
	return render(out, n, 0, -1);
}
