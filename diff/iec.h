/*
 * diff/iec.h - one engine for IEC 61131-3 style sources: structured text,
 * Siemens SCL, and the block frame and declarations of Siemens AWL/STL.
 *
 * iec_parse() finds the program organisation units and blocks of a
 * source, their header attributes, variable sections and variables, data
 * types, configurations, resources and tasks, and hands each code body to
 * the dialect, so ST keeps a body as text while AWL splits it into
 * networks.  iec_score() is the detection both formats use.
 *
 * The lexer is in iec_lex.c, the parser in iec_parse.c, the detection in
 * iec_detect.c.  Nothing here does I/O; all functions are reentrant.
 */
#ifndef OTCM_DIFF_IEC_H
#define OTCM_DIFF_IEC_H

#include <stddef.h>

#include "diff/model.h"

/* The engine's two dialects: how blocks are typed and bodies split. */
enum iec_dialect {
	IEC_DIALECT_ST,    /* IEC 61131-3 ST and SCL: POU[name], body as text */
	IEC_DIALECT_AWL,   /* AWL/STL: Block[OB 1], bodies split into networks */
};

/*
 * Parse the IEC 61131-3 style source text[0, len) into new children and
 * attributes of `root`.  *out_objects receives how many top-level objects
 * (POUs, blocks, type blocks, configurations, global variable lists) were
 * found; 0 means the text did not look like such a source.
 * Always returns 0: malformed input yields a partial tree, never an error;
 * text outside any object is kept as the root's body.
 */
int iec_parse(struct dnode *root, const char *text, size_t len,
              enum iec_dialect dialect, size_t *out_objects);

/*
 * Score 0..100 how much text[0, len) looks like IEC 61131-3 source of the
 * given dialect, from its keywords and statement lines.
 */
int iec_score(const char *text, size_t len, enum iec_dialect dialect);

#endif
