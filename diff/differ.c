/*
 * diff/differ.c - the one generic differ every format goes through: keyed
 * children are matched by type and name, sequences (rungs, lines,
 * graphical elements in order) are aligned by content, bodies get a line
 * patch, numbers a delta.  Also the canonical text rendering of a tree
 * used by textconv, which names objects with the same path segments.
 */
#include "diff/model.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "diff/align.h"

/* ---- changes ---- */

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

struct differ {
	struct dchanges *out;
	struct buf path;
	/* the innermost nested file being compared (see dnode.nest_format), or NULL */
	const struct dnode *nest;
	size_t nest_base;
};

/* Takes ownership of patch. */
static void emit(const struct differ *d, const char *path, enum dchange_kind kind,
                 const char *what, const char *old_value, const char *new_value, char *patch)
{
	struct dchanges *c = d->out;
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
	if (d->nest) {
		ch->nest_format = d->nest->nest_format;
		ch->nest_path = xstrdup(d->nest->nest_path ? d->nest->nest_path : "");
		ch->nest_base = d->nest_base;
	}
}

/* ---- hashing trees ---- */

#define MAX_TREE_DEPTH 512

static void hash_tree(struct dnode *n, int depth)
{
	uint64_t h = dalign_hash_str(n->type, 1), attrs = 0, kids = 0;

	for (size_t i = 0; i < n->nattrs; i++)   /* order-independent: attrs compare by name */
		attrs += dalign_mix(dalign_hash_str(n->attrs[i].name, 2) ^ dalign_hash_str(n->attrs[i].value, 3));
	h = dalign_mix(h ^ attrs) ^ dalign_hash_str(n->body, 4);
	for (size_t i = 0; i < n->nkids; i++) {
		if (depth < MAX_TREE_DEPTH)
			hash_tree(n->kids[i], depth + 1);
		if (n->flags & DNODE_SEQUENCE)
			kids = dalign_mix(kids * 31 + n->kids[i]->hash);
		else
			kids += n->kids[i]->hash;
	}
	n->hash_noname = dalign_mix(h ^ dalign_mix(kids + 5) ^ n->flags);
	n->hash = dalign_mix(n->hash_noname ^ dalign_hash_str(n->name, 6));
}

/* ---- the differ ---- */

static void seg(struct buf *b, const struct dnode *n, long index)
{
	if (n->nest_format)   /* a nested file's root, like a file's own, has no segment */
		return;
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
	const struct dnode *outer = d->nest;
	size_t outer_base = d->nest_base;

	if (n->body && !one_line(n->body))
		patch = added ? patch_of("", n->body) : patch_of(n->body, "");
	/* a nested file, or a node holding one (an archive member), counts as that file */
	if (n->nest_format) {
		d->nest = n;
		d->nest_base = d->path.len + 1;
	}
	for (size_t i = 0; i < n->nkids && !n->nest_format; i++)
		if (n->kids[i]->nest_format) {
			d->nest = n->kids[i];
			d->nest_base = d->path.len + 1;
			break;
		}
	emit(d, buf_cstr(&d->path), added ? DCHANGE_ADDED : DCHANGE_REMOVED, n->type,
	     added ? NULL : s, added ? s : NULL, patch);
	d->nest = outer;
	d->nest_base = outer_base;
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
			emit(d, path, DCHANGE_REMOVED, a->attrs[i].name, a->attrs[i].value, NULL, NULL);
		else if ((nv == NULL) != (a->attrs[i].value == NULL) ||
		         (nv && strcmp(nv, a->attrs[i].value)))
			emit(d, path, DCHANGE_MODIFIED, a->attrs[i].name, a->attrs[i].value, nv,
			     one_line(a->attrs[i].value) && one_line(nv) ? NULL
			     : patch_of(a->attrs[i].value, nv));
	}
	for (size_t j = 0; j < b->nattrs; j++)
		if (!dnode_attr(a, b->attrs[j].name)) {
			bool found = false;

			for (size_t i = 0; i < a->nattrs && !found; i++)
				found = !strcmp(a->attrs[i].name, b->attrs[j].name);
			if (!found)
				emit(d, path, DCHANGE_ADDED, b->attrs[j].name, NULL, b->attrs[j].value, NULL);
		}
}

static void diff_body(struct differ *d, const struct dnode *a, const struct dnode *b)
{
	const char *what = b->body_what ? b->body_what : a->body_what ? a->body_what : "body";
	const char *o = a->body ? a->body : "", *n = b->body ? b->body : "";

	if (!strcmp(o, n))
		return;
	emit(d, buf_cstr(&d->path), DCHANGE_MODIFIED, what,
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
	struct dalign_hidx *s = xmalloc((n + 1) * sizeof(*s));
	long *occ = xcalloc(n + 1, sizeof(*occ));

	for (size_t i = 0; i < n; i++) {
		k[i] = dalign_mix(dalign_hash_str(p->kids[i]->type, 7) ^ dalign_hash_str(p->kids[i]->name, 8));
		s[i] = (struct dalign_hidx){ k[i], i };
	}
	qsort(s, n, sizeof(*s), dalign_hidx_cmp);
	for (size_t i = 1; i < n; i++)
		if (s[i].h == s[i - 1].h)
			occ[s[i].i] = occ[s[i - 1].i] + 1;
	for (size_t i = 0; i < n; i++)
		k[i] = dalign_mix(k[i] + (uint64_t)occ[i]);
	free(s);
	*out_occ = occ;
	return k;
}

static long find_key(const struct dalign_hidx *sorted, size_t n, uint64_t key)
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
	struct dalign_hidx *sa = xmalloc((a->nkids + 1) * sizeof(*sa));
	bool *used_a = xcalloc(a->nkids + 1, sizeof(bool)), *renamed_b = xcalloc(b->nkids + 1, sizeof(bool));

	for (size_t i = 0; i < a->nkids; i++)
		sa[i] = (struct dalign_hidx){ ka[i], i };
	qsort(sa, a->nkids, sizeof(*sa), dalign_hidx_cmp);
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
				emit(d, buf_cstr(&d->path), DCHANGE_RENAMED, b->kids[j]->type,
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
	struct dalign_pairs p = { 0 };

	for (size_t i = 0; i < na; i++)
		ha[i] = a->kids[i]->hash, pa[i] = -1;
	for (size_t j = 0; j < nb; j++)
		hb[j] = b->kids[j]->hash, pb[j] = -1;
	dalign(ha, na, hb, nb, &p);
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
				emit(d, buf_cstr(&d->path), DCHANGE_MOVED, b->kids[j]->type,
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
	dalign_push(&p, na, nb);   /* sentinel closing the last gap */
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
	const struct dnode *outer = d->nest;
	size_t outer_base = d->nest_base;

	if (a->hash == b->hash)
		return;
	if (b->nest_format) {
		d->nest = b;
		d->nest_base = d->path.len + 1;
	}
	if (!(a->flags & b->flags & DNODE_DIGEST))
		diff_attrs(d, a, b);
	diff_body(d, a, b);
	if (depth < MAX_TREE_DEPTH) {
		if ((a->flags | b->flags) & DNODE_SEQUENCE)
			diff_sequence(d, a, b, depth);
		else
			diff_keyed(d, a, b, depth);
	}
	d->nest = outer;
	d->nest_base = outer_base;
}

int dtree_diff(struct dchanges *out, struct dnode *old_tree, struct dnode *new_tree)
{
	struct differ d = { out, BUF_INIT, NULL, 0 };

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
	if (n->nest_format)   /* no segment of its own: say what it is */
		rc = buf_addf(out, "%*s(%s file) %s\n", (int)ind, "", n->nest_format, n->type);
	else
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
