/*
 * diff/model.h - the engineering-object tree every format parser produces,
 * and the interface a format implements.
 *
 * A parser turns one file into a tree of dnodes after normalisation (noise
 * such as export timestamps is simply not put into the tree).  One generic
 * differ (tree.c) compares two trees and reports changes with stable paths,
 * so parsers never compare anything themselves.
 *
 *  - A node has a type ("Program", "Routine", "Rung", "POU", "VAR_INPUT",
 *    "Parameter"; may be "") and a name (its identity among siblings of the
 *    same type; NULL for positional nodes).  Its path segment is
 *    "Type[name]", or "Type" without a name, or "name" with an empty type;
 *    positional children of a DNODE_SEQUENCE parent get "Type[i]" with i their
 *    0-based position in the newer file.
 *  - attrs are ordered (name, value) pairs compared by name; the attribute
 *    name is what the change reports ("data type", "initial value",
 *    "comment", "value", "unit").  Numeric old/new values get a delta.
 *  - body is text compared line by line (ST code, rung text, IL); body_what
 *    names it in changes ("rung logic", "body", "declaration").
 *  - Children of a node are matched by (type, name); children of a
 *    DNODE_SEQUENCE node are aligned by longest common subsequence of their
 *    content, so inserting one rung reports one insertion.
 *
 * All strings are owned by the node (malloc'd); dnode_free frees a subtree.
 * Not thread-safe per tree; trees are independent.
 */
#ifndef OTCM_DIFF_MODEL_H
#define OTCM_DIFF_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

#define DNODE_SEQUENCE 0x1   /* children are positional and aligned by content */

struct dattr {
	char *name;
	char *value;
};

struct dnode {
	char *type;
	char *name;
	struct dattr *attrs;
	size_t nattrs, attrs_alloc;
	char *body;
	const char *body_what;   /* static string, or NULL for "body" */
	struct dnode **kids;
	size_t nkids, kids_alloc;
	unsigned flags;
};

/* New node; type and name are copied (name may be NULL). */
struct dnode *dnode_new(const char *type, const char *name);

/* New child appended to parent; returns the borrowed child. */
struct dnode *dnode_add(struct dnode *parent, const char *type, const char *name);

/* Append (or replace, when the name exists) an attribute; value may be NULL. */
void dnode_set_attr(struct dnode *n, const char *name, const char *value);
void dnode_set_attrn(struct dnode *n, const char *name, const char *value, size_t len);

/* Replace the body; text is copied. */
void dnode_set_body(struct dnode *n, const char *body, const char *what);
void dnode_set_bodyn(struct dnode *n, const char *body, size_t len, const char *what);

void dnode_free(struct dnode *n);

/*
 * A format: `detect` scores how sure it is that the bytes are its format
 * (0 = not mine, 100 = certain) by content, never by file name; `parse`
 * builds the tree or fails with a negative code and an err_set() message
 * (the caller then falls back to a text diff and reports that message).
 * Inputs given to detect/parse are already decoded to UTF-8 with line
 * endings normalised to "\n" and any BOM removed.
 */
struct diff_format {
	const char *name;          /* "l5x", "plcopen", "twincat", "st", ... */
	const char *description;
	int (*detect)(const char *text, size_t len);
	int (*parse)(struct dnode **out, const char *text, size_t len);
};

#endif
