/*
 * diff/iec_lex.c - the lexer of IEC 61131-3 style sources (ST, SCL, AWL);
 * see iec_lex.h.
 */
#include "diff/iec_lex.h"

#include <string.h>

#include "core/mem.h"

static bool is_word_char(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9') || ch == '_' || ch == '#' || ch == '%' ||
	       ch == '.' || ch >= 0x80;
}

static const char *const two_char_punct[] = {
	":=", "=>", "<=", ">=", "<>", "**", "==", "..", NULL
};

struct iec_tok *iec_lex(const char *s, size_t len, size_t *out_n)
{
	size_t n = 0, alloc = 64, p = 0;
	struct iec_tok *t = xmalloc(alloc * sizeof(*t));
	bool nl = true, ws = true;

	for (;;) {
		struct iec_tok k = { IEC_TK_EOF, p, p, nl, ws };
		unsigned char ch;

		while (p < len && (s[p] == ' ' || s[p] == '\t' || s[p] == '\n' ||
		                   s[p] == '\r' || s[p] == '\f' || s[p] == '\v')) {
			if (s[p] == '\n')
				nl = true;
			ws = true;
			p++;
		}
		k.start = p;
		k.nl_before = nl;
		k.ws_before = ws;
		if (p >= len) {
			k.end = p;
			if (n == alloc) {
				alloc *= 2;
				t = xrealloc(t, alloc * sizeof(*t));
			}
			t[n++] = k;
			break;
		}
		ch = (unsigned char)s[p];
		if ((ch == '(' || ch == '/') && p + 1 < len && s[p + 1] == '*') {
			const char *close = ch == '(' ? "*)" : "*/";
			const char *e = memmem(s + p + 2, len - p - 2, close, 2);

			k.kind = IEC_TK_COMMENT;
			p = e ? (size_t)(e - s) + 2 : len;
		} else if (ch == '/' && p + 1 < len && s[p + 1] == '/') {
			const char *e = memchr(s + p, '\n', len - p);

			k.kind = IEC_TK_COMMENT;
			p = e ? (size_t)(e - s) : len;
		} else if (ch == '{') {
			char quote = 0;

			k.kind = IEC_TK_PRAGMA;
			for (p++; p < len; p++) {
				if (quote) {
					if (s[p] == quote || s[p] == '\n')
						quote = 0;
				} else if (s[p] == '\'' || s[p] == '"') {
					quote = s[p];
				} else if (s[p] == '}') {
					p++;
					break;
				}
			}
		} else if (ch == '\'' || ch == '"') {
			k.kind = IEC_TK_STRING;
			for (p++; p < len && s[p] != '\n'; p++) {
				if (s[p] == '$' && p + 1 < len && s[p + 1] != '\n') {
					p++;
				} else if (s[p] == (char)ch) {
					p++;
					break;
				}
			}
		} else if (is_word_char(ch)) {
			k.kind = IEC_TK_WORD;
			while (p < len && is_word_char((unsigned char)s[p]))
				p++;
		} else {
			size_t i;

			k.kind = IEC_TK_PUNCT;
			p++;
			for (i = 0; two_char_punct[i]; i++) {
				if (p < len && s[p - 1] == two_char_punct[i][0] &&
				    s[p] == two_char_punct[i][1]) {
					p++;
					break;
				}
			}
		}
		k.end = p;
		if (n == alloc) {
			alloc *= 2;
			t = xrealloc(t, alloc * sizeof(*t));
		}
		t[n++] = k;
		nl = false;
		ws = k.kind == IEC_TK_COMMENT;
	}
	*out_n = n;
	return t;
}
