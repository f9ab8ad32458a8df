/*
 * diff/text.h - what the text format parsers share: line clean-up and
 * unique sibling names.
 *
 * Nothing here does I/O.  All functions are reentrant; a text_names set
 * belongs to one parse.  Allocation failure aborts (core/mem.h).
 */
#ifndef OTCM_DIFF_TEXT_H
#define OTCM_DIFF_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "diff/model.h"

/*
 * A copy of text[0, len) with trailing white space removed from each line
 * and leading and trailing blank lines dropped; NULL when nothing is left.
 * The caller frees the result.
 */
char *text_clean_lines(const char *text, size_t len);

/* Narrow [*s, *s + *len) to drop white space at both ends. */
void text_trim(const char **s, size_t *len);

/* Whether the counted string a equals the C string b, ASCII case-insensitively. */
bool text_ieq(const char *a, size_t alen, const char *b);

/*
 * A set of the (parent, type, name) triples already used, so that
 * siblings that would share an identity get distinct names: the second
 * "x" becomes "x (2)", the third "x (3)".  The differ matches children by
 * (type, name), which must therefore be unique.
 */
struct text_names;

/* A new empty set; free it with text_names_free() (NULL is fine). */
struct text_names *text_names_new(void);
void text_names_free(struct text_names *set);

/*
 * Append a child of `type` to `parent` named `name`, or a variant of it
 * unique among the siblings added through `set`; returns the borrowed
 * child.  A NULL name is positional and is never changed.
 */
struct dnode *text_add_unique(struct text_names *set, struct dnode *parent,
                              const char *type, const char *name);

#endif
