/*
 * diff/node.c - building the engineering-object tree (dnode) the format
 * parsers produce, and the change list the differ fills; see model.h.
 */
#include "diff/model.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

/* ---- the pool a tree's memory comes from ---- */

#define POOL_FIRST ((size_t)2 * 1024)
#define POOL_MAX ((size_t)256 * 1024)
#define POOL_ALIGN 8
#define POOL_SPARE_CLASSES 24

struct dpool_block {
	struct dpool_block *next;
	size_t used, size;
	_Alignas(POOL_ALIGN) unsigned char data[];
};

#define VALUE_INTERN_MAX 15   /* longer values are mostly unique: copied */

struct dvalue_slot {
	const char *s;
	uint32_t len, hash;
};

/* Another tree's pool this one keeps alive (nodes adopted from it). */
struct dpool_hold {
	struct dpool_hold *next;
	struct dpool *pool;
};

struct dpool {
	size_t refs;               /* owning roots and pools holding this one */
	size_t next_size;
	struct dpool_block *blocks;
	struct dpool_hold *holds;
	/*
	 * Node types and attribute names, interned: a project repeats a few
	 * hundred of them over and over.  Open addressing, at most half full.
	 */
	const char **names;
	size_t nnames, names_alloc;
	/*
	 * Short attribute values, interned the same way: "0", "false",
	 * "Decimal", "DINT"... repeat all over a project.  Open addressing,
	 * at most half full.
	 */
	struct dvalue_slot *values;
	size_t nvalues, values_alloc;
	/*
	 * Arrays of kids and attrs left behind when they grew, by size class
	 * (8 << i bytes), for the next array of that size: a tree's arrays
	 * grow by doubling, and without this the smaller copies of every
	 * array would stay in the pool unused.
	 */
	void *spare[POOL_SPARE_CLASSES];
};

static struct dpool *dpool_new(void)
{
	struct dpool *p = xcalloc(1, sizeof(*p));

	p->refs = 1;
	p->next_size = POOL_FIRST;
	return p;
}

static void dpool_unref(struct dpool *p)
{
	struct dpool_block *b, *bn;
	struct dpool_hold *h, *hn;

	if (!p || --p->refs)
		return;
	for (h = p->holds; h; h = hn) {
		hn = h->next;
		dpool_unref(h->pool);
	}
	for (b = p->blocks; b; b = bn) {
		bn = b->next;
		free(b);
	}
	free(p->names);
	free(p->values);
	free(p);
}

/* Uninitialised memory that lives as long as the pool. */
static void *dpool_alloc(struct dpool *p, size_t n)
{
	struct dpool_block *b = p->blocks;
	void *m;

	n = (n + POOL_ALIGN - 1) & ~(size_t)(POOL_ALIGN - 1);
	if (!b || b->size - b->used < n) {
		size_t size = p->next_size;

		if (p->next_size < POOL_MAX)
			p->next_size *= 2;
		if (n > size / 4) {
			/* a block of its own, behind the current one */
			b = xmalloc(sizeof(*b) + n);
			b->used = n;
			b->size = n;
			if (p->blocks) {
				b->next = p->blocks->next;
				p->blocks->next = b;
			} else {
				b->next = NULL;
				p->blocks = b;
			}
			return b->data;
		}
		b = xmalloc(sizeof(*b) + size);
		b->used = 0;
		b->size = size;
		b->next = p->blocks;
		p->blocks = b;
	}
	m = b->data + b->used;
	b->used += n;
	return m;
}

static char *dpool_strndup(struct dpool *p, const char *s, size_t len)
{
	char *d = dpool_alloc(p, len + 1);

	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

static char *dpool_strdup(struct dpool *p, const char *s)
{
	return dpool_strndup(p, s, strlen(s));
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The pool's one copy of `s`, made on first use. */
static char *dpool_intern(struct dpool *p, const char *s)
{
	size_t mask, i;

	if (2 * (p->nnames + 1) > p->names_alloc) {
		const char **old = p->names;
		size_t old_alloc = p->names_alloc;

		p->names_alloc = old_alloc ? old_alloc * 2 : 64;
		p->names = xcalloc(p->names_alloc, sizeof(*p->names));
		mask = p->names_alloc - 1;
		for (size_t j = 0; j < old_alloc; j++) {
			if (!old[j])
				continue;
			for (i = name_hash(old[j]) & mask; p->names[i]; i = (i + 1) & mask)
				;
			p->names[i] = old[j];
		}
		free(old);
	}
	mask = p->names_alloc - 1;
	for (i = name_hash(s) & mask; p->names[i]; i = (i + 1) & mask)
		if (!strcmp(p->names[i], s))
			return (char *)p->names[i];
	p->names[i] = dpool_strdup(p, s);
	p->nnames++;
	return (char *)p->names[i];
}

/* The pool's one copy of the short value s[0, len) (len <= VALUE_INTERN_MAX, no NUL in it). */
static char *dpool_intern_value(struct dpool *p, const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	size_t mask, i;

	for (size_t k = 0; k < len; k++)
		h = (h ^ (unsigned char)s[k]) * 16777619u;
	if (2 * (p->nvalues + 1) > p->values_alloc) {
		struct dvalue_slot *old = p->values;
		size_t old_alloc = p->values_alloc;

		p->values_alloc = old_alloc ? old_alloc * 2 : 64;
		p->values = xcalloc(p->values_alloc, sizeof(*p->values));
		mask = p->values_alloc - 1;
		for (size_t j = 0; j < old_alloc; j++) {
			if (!old[j].s)
				continue;
			for (i = old[j].hash & mask; p->values[i].s; i = (i + 1) & mask)
				;
			p->values[i] = old[j];
		}
		free(old);
	}
	mask = p->values_alloc - 1;
	for (i = h & mask; p->values[i].s; i = (i + 1) & mask)
		if (p->values[i].hash == h && p->values[i].len == len && !memcmp(p->values[i].s, s, len))
			return (char *)p->values[i].s;
	p->values[i] = (struct dvalue_slot){ dpool_strndup(p, s, len), (uint32_t)len, h };
	p->nvalues++;
	return (char *)p->values[i].s;
}

/* Keep `other` alive as long as `p`; `take` hands over a reference the caller has. */
static void dpool_hold(struct dpool *p, struct dpool *other, bool take)
{
	struct dpool_hold *h;

	for (h = p->holds; h; h = h->next) {
		if (h->pool == other) {
			if (take)
				dpool_unref(other);
			return;
		}
	}
	h = dpool_alloc(p, sizeof(*h));
	h->pool = other;
	h->next = p->holds;
	p->holds = h;
	if (!take)
		other->refs++;
}

/* The size class of an array of `bytes` (8 << class), or -1 when it has none. */
static int spare_class(size_t bytes)
{
	int c;

	if (bytes < 8 || (bytes & (bytes - 1)))
		return -1;
	c = __builtin_ctzll(bytes) - 3;
	return c < POOL_SPARE_CLASSES ? c : -1;
}

/*
 * Grow an array of `size`-byte items kept in the pool to hold one more.
 * Its room is implied by n: arrays start with one slot and double when
 * full, so an array of n items is full when n is 0 or a power of two.  (An
 * array that lost items, dnode_filter, has at least that room.)
 */
static void *dpool_grow(struct dpool *p, void *v, size_t n, size_t size)
{
	void *nv;
	size_t room;
	int c;

	if (n & (n - 1))
		return v;
	room = n ? 2 * n : 1;   /* most nodes have one or two */
	c = spare_class(room * size);
	if (c >= 0 && p->spare[c]) {
		nv = p->spare[c];
		memcpy(&p->spare[c], nv, sizeof(void *));
	} else {
		nv = dpool_alloc(p, room * size);
	}
	if (n) {
		memcpy(nv, v, n * size);
		c = spare_class(n * size);
		if (c >= 0) {
			memcpy(v, &p->spare[c], sizeof(void *));
			p->spare[c] = v;
		}
	}
	return nv;
}

/* ---- nodes ---- */

static struct dnode *node_in(struct dpool *p, const char *type, const char *name)
{
	struct dnode *n = dpool_alloc(p, sizeof(*n));

	memset(n, 0, sizeof(*n));
	n->pool = p;
	n->type = dpool_intern(p, type ? type : "");
	n->name = name ? dpool_strdup(p, name) : NULL;
	return n;
}

struct dnode *dnode_new(const char *type, const char *name)
{
	struct dnode *n = node_in(dpool_new(), type, name);

	n->owns_pool = true;
	return n;
}

void dnode_adopt(struct dnode *parent, struct dnode *kid)
{
	if (kid->pool != parent->pool) {
		dpool_hold(parent->pool, kid->pool, kid->owns_pool);
		kid->owns_pool = false;
	}
	parent->kids = dpool_grow(parent->pool, parent->kids, parent->nkids, sizeof(*parent->kids));
	parent->kids[parent->nkids++] = kid;
}

struct dnode *dnode_detach(struct dnode *parent, size_t i)
{
	struct dnode *kid;

	if (i >= parent->nkids)
		return NULL;
	kid = parent->kids[i];
	memmove(parent->kids + i, parent->kids + i + 1, (parent->nkids - i - 1) * sizeof(*parent->kids));
	parent->nkids--;
	if (!kid->owns_pool) {
		kid->pool->refs++;
		kid->owns_pool = true;
	}
	return kid;
}

struct dnode *dnode_add(struct dnode *parent, const char *type, const char *name)
{
	struct dnode *kid = node_in(parent->pool, type, name);

	parent->kids = dpool_grow(parent->pool, parent->kids, parent->nkids, sizeof(*parent->kids));
	parent->kids[parent->nkids++] = kid;
	return kid;
}

void dnode_set_name(struct dnode *n, const char *name)
{
	n->name = name ? dpool_strdup(n->pool, name) : NULL;
}

void dnode_set_nest_path(struct dnode *n, const char *path)
{
	n->nest_path = path ? dpool_strdup(n->pool, path) : NULL;
}

void dnode_set_attrn(struct dnode *n, const char *name, const char *value, size_t len)
{
	char *v = NULL;

	if (value && len <= VALUE_INTERN_MAX && !memchr(value, '\0', len))
		v = dpool_intern_value(n->pool, value, len);
	else if (value)
		v = dpool_strndup(n->pool, value, len);

	/* attribute names are interned in the node's pool: the same name is the same pointer */
	name = dpool_intern(n->pool, name);
	for (size_t i = 0; i < n->nattrs; i++) {
		if (n->attrs[i].name == name) {
			n->attrs[i].value = v;
			return;
		}
	}
	n->attrs = dpool_grow(n->pool, n->attrs, n->nattrs, sizeof(*n->attrs));
	n->attrs[n->nattrs].name = (char *)name;
	n->attrs[n->nattrs].value = v;
	n->nattrs++;
}

void dnode_set_attr(struct dnode *n, const char *name, const char *value)
{
	dnode_set_attrn(n, name, value, value ? strlen(value) : 0);
}

void dnode_replace_attr(struct dnode *n, size_t i, const char *name, const char *value)
{
	if (i >= n->nattrs)
		return;
	n->attrs[i].name = dpool_intern(n->pool, name);
	n->attrs[i].value = value ? dpool_strdup(n->pool, value) : NULL;
}

void dnode_set_bodyn(struct dnode *n, const char *body, size_t len, const char *what)
{
	n->body = body ? dpool_strndup(n->pool, body, len) : NULL;
	n->body_what = what;
}

void dnode_set_body(struct dnode *n, const char *body, const char *what)
{
	dnode_set_bodyn(n, body, body ? strlen(body) : 0, what);
}

void dnode_free(struct dnode *n)
{
	if (n && n->owns_pool) {
		n->owns_pool = false;
		dpool_unref(n->pool);
	}
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
		free(c->v[i].nest_path);
	}
	free(c->v);
	c->v = NULL;
	c->n = c->alloc = 0;
}
