/*
 * diff/model.h - the engineering-object tree every format parser produces,
 * and the interface a format implements.
 *
 * A parser turns one file into a tree of dnodes after normalisation (noise
 * such as export timestamps is simply not put into the tree).  One generic
 * differ (differ.c) compares two trees and reports changes with stable paths,
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
 * A tree's memory (its nodes, their arrays and strings) comes from one pool
 * that belongs to the tree's root: dnode_free on the root releases all of it
 * in a few large blocks, and dnode_free on any other node does nothing (its
 * memory goes with its tree).  So never free() or assign a node's strings or
 * arrays directly, nor write into them: set them through dnode_set_*
 * (short attribute values and all type and attribute names are shared
 * within a tree).  A node adopted from another
 * tree keeps that tree's pool alive as long as it is needed; a subtree taken
 * out with dnode_detach() becomes a tree of its own.
 * Not thread-safe per tree; trees are independent.
 */
#ifndef OTCM_DIFF_MODEL_H
#define OTCM_DIFF_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define DNODE_SEQUENCE 0x1   /* children are positional and aligned by content */
/*
 * The node's attrs only identify content its children describe in full (an
 * archive member's sha256 and size above the member's parsed file): when
 * both sides carry the flag the attrs are not compared, the children say
 * what changed.  Added or removed, the node is still summarised by them.
 */
#define DNODE_DIGEST 0x2

struct dattr {
	char *name;
	char *value;
};

struct dpool;

struct dnode {
	char *type;
	char *name;
	struct dattr *attrs;
	/*
	 * 32 bits: a document is under 2 GB.  The arrays' room is not stored:
	 * they grow by doubling (node.c), so it is the power of two that n
	 * fits in.
	 */
	uint32_t nattrs, nkids;
	char *body;
	const char *body_what;   /* static string, or NULL for "body" */
	struct dnode **kids;
	/*
	 * Set on the root of a file nested in another one (an archive member
	 * parsed with its own format): the format's name (static) and the
	 * file's path inside the container (owned).  Like a file's root, such
	 * a node adds no segment to change paths; its changes take the nested
	 * file's category (diff_change_category).  NULL otherwise.
	 */
	const char *nest_format;
	char *nest_path;
	/* Filled by the differ (differ.c); parsers leave them alone. */
	uint64_t hash;          /* whole subtree, name included */
	uint64_t hash_noname;   /* the same without this node's name (renames) */
	/* Where the node's memory comes from (node.c); parsers leave them alone. */
	struct dpool *pool;
	unsigned flags;
	bool owns_pool;         /* a root: dnode_free releases the pool */
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

/* Replace the name (NULL: none; the node becomes positional); name is copied. */
void dnode_set_name(struct dnode *n, const char *name);

/* Replace the i-th attribute's name and value in place (value may be NULL). */
void dnode_replace_attr(struct dnode *n, size_t i, const char *name, const char *value);

/* Set nest_path (see struct dnode); path is copied. */
void dnode_set_nest_path(struct dnode *n, const char *path);

/* Free a tree given its root; on any other node, nothing (see above).  NULL is fine. */
void dnode_free(struct dnode *n);

/* The value of attribute `name`, or NULL; borrowed. */
const char *dnode_attr(const struct dnode *n, const char *name);

/* The first child of that type and name (name may be NULL: any), or NULL; borrowed. */
struct dnode *dnode_child(const struct dnode *parent, const char *type, const char *name);

/*
 * Append an existing subtree as the last child; the parent takes ownership
 * (of a tree's root: it is no longer freed on its own).
 */
void dnode_adopt(struct dnode *parent, struct dnode *kid);

/*
 * Remove the i-th child of parent and return it as the root of a tree of its
 * own, which the caller frees with dnode_free (the parent's tree may be freed
 * first); NULL when there is no such child.
 */
struct dnode *dnode_detach(struct dnode *parent, size_t i);

/* Remove the children of `parent` for which keep() returns false. */
void dnode_filter(struct dnode *parent, bool (*keep)(const struct dnode *kid));

/*
 * A format: `detect` scores how sure it is that the bytes are its format
 * (0 = not mine, 100 = certain) by content, never by file name; `parse`
 * builds the tree or fails with a negative code and an err_set() message
 * (the caller then falls back to a text diff and reports that message).
 * Inputs given to detect/parse are already decoded to UTF-8 with line
 * endings normalised to "\n" and any BOM removed -- except bytes that look
 * binary (NUL bytes and no UTF-16 BOM), which are passed through raw so a
 * binary format can hash and unpack them.  `len` excludes the terminating
 * NUL that decoded text always has.
 */
struct diff_format;

/*
 * What the engine offers a format that holds other files (an archive):
 * parse `len` bytes at `data` as the engine would parse them as a file of
 * their own (decoded, detected by content, parsed), for any format but
 * binary ones.  0 with *out (a new tree the caller frees) and *out_format
 * (static) set; OTCM_EMEDIA when no format recognises the bytes, or the
 * parser's error when they do not parse.
 */
typedef int (*diff_parse_file_fn)(struct dnode **out, const struct diff_format **out_format,
                                  const void *data, size_t len);

struct diff_format {
	const char *name;          /* "l5x", "plcopen", "twincat", "st", ... */
	const char *description;
	int (*detect)(const char *text, size_t len);
	int (*parse)(struct dnode **out, const char *text, size_t len);
	/*
	 * Optional, for formats that hold files (archives): parse as `parse`
	 * does, with the files held parsed through `parse_file`.  The registry
	 * calls it instead of `parse` when it is set.
	 */
	int (*parse_nested)(struct dnode **out, const char *text, size_t len,
	                    diff_parse_file_fn parse_file);
	/*
	 * Optional, for formats that read their text from start to end: parse
	 * as `parse` does, calling consumed(ctx, upto) now and then once the
	 * bytes before text + upto are read, so that a caller with a large file
	 * may drop them from memory.  A hint: bytes dropped may still be read
	 * again (they must then read the same), only rarely.  The registry
	 * calls it instead of `parse` when the side's source can drop bytes.
	 */
	int (*parse_consumed)(struct dnode **out, const char *text, size_t len,
	                      void (*consumed)(void *ctx, size_t upto), void *ctx);
};

/*
 * ---- The engine's internal interfaces (node.c, differ.c, patch.c, decode.c, render.c) ----
 *
 * Formats need none of these; they are here so the engine's files share
 * one declaration of each.
 */

enum dchange_kind {
	DCHANGE_ADDED,
	DCHANGE_REMOVED,
	DCHANGE_MODIFIED,
	DCHANGE_MOVED,
	DCHANGE_RENAMED,
};

/* One reported change; all strings malloc'd and owned by the list. */
struct dchange {
	char *path;          /* "Program[Main]/Routine[R1]/Rung[3]" */
	enum dchange_kind kind;
	char *what;          /* "rung logic", "data type", "Rung", ... */
	char *old_value;     /* NULL when none */
	char *new_value;     /* NULL when none */
	char *patch;         /* line patch for bodies, else NULL */
	bool has_delta;
	double delta;        /* new - old, when both are numbers */
	/*
	 * For a change inside a nested file (an archive member's content): that
	 * file's format (static), its path (owned) and where its own part of
	 * `path` starts (may equal or pass strlen(path) for the nested root
	 * itself).  NULL and 0 otherwise.
	 */
	const char *nest_format;
	char *nest_path;
	size_t nest_base;
};

struct dchanges {
	struct dchange *v;
	size_t n, alloc;
};

/* "added", "removed", "modified", "moved", "renamed". */
const char *dchange_kind_name(enum dchange_kind k);

void dchanges_release(struct dchanges *c);

/*
 * Compare two trees (either may be NULL) and append the changes to `out`.
 * Paths start below the roots (a root's own segment is not included).  Work is
 * bounded: sequence alignment falls back to cheaper anchoring above a
 * size threshold, and depth is capped.  Hashes in both trees are (re)computed.
 */
int dtree_diff(struct dchanges *out, struct dnode *old_tree, struct dnode *new_tree);

/*
 * A line patch of two texts (unified style, 3 lines of context, "@@" hunk
 * headers) appended to `out`; nothing is appended when they are equal.
 * Capped in work and in size (a truncated patch says so on its last line).
 */
int dtext_patch(struct buf *out, const char *old_text, const char *new_text);

/* The canonical text rendering of a tree used by textconv; appended to out. */
int dtree_render(struct buf *out, const struct dnode *n);

/*
 * Decode `data` into UTF-8 text in `out`: a UTF-8 BOM is dropped, UTF-16
 * LE/BE with a BOM is converted, valid UTF-8 is kept, anything else is read
 * as Latin-1; CRLF and lone CR become LF; NUL bytes become U+FFFD.
 * *out_encoding names what was found ("utf-8", "utf-8-bom", "utf-16le",
 * "utf-16be", "latin-1").  *out_binary is set when the bytes look binary
 * (NULs in a file without a UTF-16 BOM).
 */
int diff_decode(struct buf *out, const void *data, size_t len,
                const char **out_encoding, bool *out_binary);

/*
 * Whether decoding would leave data[0, len) as it is but for a UTF-8 BOM
 * (valid UTF-8 without CR or NUL): then the text is data + *out_skip (0, or
 * 3 after a BOM) and *out_encoding is what diff_decode would name.
 */
bool diff_decode_plain(const void *data, size_t len, size_t *out_skip, const char **out_encoding);

/* Read-only access to a result's fields for the renderers (registry.c); borrowed. */
struct diff_result;
const char *diff_result_path(const struct diff_result *r);
const char *diff_result_fallback(const struct diff_result *r);
void diff_result_sides(const struct diff_result *r, bool *out_has_old, bool *out_has_new,
                       bool *out_parsed_old, bool *out_parsed_new);
const struct dchanges *diff_result_changes(const struct diff_result *r);

#endif
