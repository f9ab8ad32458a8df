/*
 * diff/text_util.h - what the text format parsers share: line clean-up,
 * unique sibling names, and one engine for IEC 61131-3 style sources
 * (structured text, Siemens SCL, and the block frame and declarations of
 * Siemens AWL/STL).
 *
 * The IEC engine finds the program organisation units and blocks of a
 * source, their header attributes, variable sections and variables, data
 * types, configurations, resources and tasks, and hands each code body to
 * a callback, so ST keeps a body as text while AWL splits it into networks.
 *
 * Nothing here does I/O.  All functions are reentrant; a tu_names set
 * belongs to one parse.
 */
#ifndef OTCM_DIFF_TEXT_UTIL_H
#define OTCM_DIFF_TEXT_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "diff/model.h"

/*
 * A copy of text[0, len) with trailing white space removed from each line
 * and leading and trailing blank lines dropped; NULL when nothing is left.
 * The caller frees the result.
 */
char *tu_clean_lines(const char *text, size_t len);

/* Narrow [*s, *s + *len) to drop white space at both ends. */
void tu_trim(const char **s, size_t *len);

/* Whether the counted string a equals the C string b, ASCII case-insensitively. */
bool tu_ieq(const char *a, size_t alen, const char *b);

/*
 * A set of the (parent, type, name) triples already used, so that
 * siblings that would share an identity get distinct names: the second
 * "x" becomes "x (2)", the third "x (3)".  The differ matches children by
 * (type, name), which must therefore be unique.
 */
struct tu_names;

struct tu_names *tu_names_new(void);
void tu_names_free(struct tu_names *set);

/*
 * Append a child of `type` to `parent` named `name`, or a variant of it
 * unique among the siblings added through `set`; returns the borrowed
 * child.  A NULL name is positional and is never changed.
 */
struct dnode *tu_add_unique(struct tu_names *set, struct dnode *parent,
                            const char *type, const char *name);

/* The engine's two dialects: how blocks are typed and bodies split. */
enum tu_dialect {
	TU_DIALECT_ST,    /* IEC 61131-3 ST and SCL: POU[name], body as text */
	TU_DIALECT_AWL,   /* AWL/STL: Block[OB 1], bodies split into networks */
};

/*
 * Parse the IEC 61131-3 style source text[0, len) into new children and
 * attributes of `root`.  *out_objects receives how many top-level objects
 * (POUs, blocks, type blocks, configurations, global variable lists) were
 * found; 0 means the text did not look like such a source.
 * Always returns 0: malformed input yields a partial tree, never an error;
 * text outside any object is kept as the root's body.
 */
int tu_iec_parse(struct dnode *root, const char *text, size_t len,
                 enum tu_dialect dialect, size_t *out_objects);

/*
 * Score 0..100 how much text[0, len) looks like IEC 61131-3 source of the
 * given dialect, from its keywords and statement lines.
 */
int tu_iec_score(const char *text, size_t len, enum tu_dialect dialect);

#endif
