/*
 * diff/iec_lex.h - the lexer of IEC 61131-3 style sources (ST, SCL, AWL).
 *
 * The whole source is cut once into tokens: words (identifiers, keywords,
 * numbers, typed literals such as T#20ms, addresses such as %IX0.0),
 * strings, comments ((* *), slash-star and //), pragmas ({ }) and
 * punctuation (two-character operators kept together).  A token records
 * where it starts and ends and whether a line break or white space came
 * before it, which the parser uses to find line-oriented structure.
 * Nothing is rejected: any byte sequence lexes.
 *
 * Reentrant; no I/O.  Allocation failure aborts (core/mem.h).
 */
#ifndef OTCM_DIFF_IEC_LEX_H
#define OTCM_DIFF_IEC_LEX_H

#include <stdbool.h>
#include <stddef.h>

enum iec_tok_kind {
	IEC_TK_EOF,
	IEC_TK_WORD,      /* identifier, keyword, number, typed literal, address */
	IEC_TK_STRING,    /* '...' or "..." (SCL quotes names this way) */
	IEC_TK_COMMENT,   /* (* *), slash-star, or // to the end of the line */
	IEC_TK_PRAGMA,    /* { ... } */
	IEC_TK_PUNCT,
};

/* One token: the bytes [start, end) of the source. */
struct iec_tok {
	enum iec_tok_kind kind;
	size_t start, end;
	bool nl_before;   /* a line break (or the start of text) precedes it */
	bool ws_before;   /* white space or a comment precedes it */
};

/*
 * Lex s[0, len) into a new array of tokens ending with one IEC_TK_EOF;
 * *out_n receives the count (EOF included).  The caller frees the array.
 */
struct iec_tok *iec_lex(const char *s, size_t len, size_t *out_n);

#endif
