/*
 * diff/node.c - building the engineering-object tree (dnode) the format
 * parsers produce, and the change list the differ fills; see model.h.
 */
#include "diff/model.h"

#include <stdlib.h>
#include <string.h>

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
	free(n->nest_path);
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
		free(c->v[i].nest_path);
	}
	free(c->v);
	c->v = NULL;
	c->n = c->alloc = 0;
}
