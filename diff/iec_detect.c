/*
 * diff/iec_detect.c - how much a text looks like IEC 61131-3 style source
 * (ST and SCL, or AWL/STL), from its keywords and statement lines; see
 * iec.h.
 */
#include "diff/iec.h"

#include <string.h>

#include "diff/text.h"

/* ---------------------------------------------------------------- detection */

/* AWL/STL instructions (German and international mnemonics). */
static const char *const awl_mnemonics[] = {
	"U", "UN", "O", "ON", "X", "XN", "A", "AN", "=", "S", "R", "FP", "FN", "NOT",
	"SET", "CLR", "SAVE", "L", "T", "LC", "SPA", "SPB", "SPBN", "SPBB", "SPBNB",
	"SPBI", "SPBIN", "SPL", "SPZ", "SPN", "SPP", "SPM", "SPU", "SPO", "SPS",
	"SPMZ", "SPPZ", "JU", "JC", "JCN", "JCB", "JNB", "JBI", "JNBI", "JL", "JZ",
	"JN", "JP", "JM", "JO", "JOS", "JUO", "JMZ", "JPZ", "BE", "BEA", "BEB", "BLD",
	"NOP", "CALL", "UC", "CC", "AUF", "OPN", "TAK", "POP", "PUSH", "ENT", "LEAVE",
	"INC", "DEC", "ZV", "ZR", "CU", "CD", "SE", "SI", "SS", "SV", "SA", "SP",
	"SD", "SF", "LAR1", "LAR2", "TAR1", "TAR2", "ITD", "DTR", "ITB", "BTI",
	"DTB", "BTD", "RND", "TRUNC", "INVI", "INVD", "NEGI", "NEGD", "NEGR", "LOOP",
	"SLW", "SRW", "SLD", "SRD", "SSI", "SSD", "RLD", "RRD", "UW", "OW", "XOW",
	"UD", "OD", "XOD", "AW", "AD", "XOW", "+I", "-I", "*I", "/I", "+D", "-D",
	"*D", "/D", "+R", "-R", "*R", "/R", "==I", "<>I", ">I", "<I", ">=I", "<=I",
	"==D", "<>D", ">D", "<D", ">=D", "<=D", "==R", "<>R", ">R", "<R", ">=R",
	"<=R", "U(", "UN(", "O(", "ON(", "A(", "AN(", "X(", "XN(", ")", "MCRA",
	"MCRD", "MCR(", ")MCR", "RND+", "RND-", "ABS", "SQR", "SQRT", "EXP", "LN",
	"SIN", "COS", "TAN", "ASIN", "ACOS", "ATAN", "MOD", "INVI", "==", "<>", NULL
};

/* Whether one line is an AWL instruction (after an optional `label:`). */
static bool awl_line(const char *p, size_t n)
{
	size_t w, k;

	/* label */
	for (w = 0; w < n && (p[w] == '_' || (p[w] >= 'A' && p[w] <= 'Z') ||
	                      (p[w] >= 'a' && p[w] <= 'z') || (p[w] >= '0' && p[w] <= '9')); w++)
		;
	if (w > 0 && w < n && p[w] == ':' && (w + 1 == n || p[w + 1] != '=')) {
		p += w + 1;
		n -= w + 1;
		text_trim(&p, &n);
	}
	/* awlsim's own instructions: __ASSERT==, __STWRST, ... */
	if (n >= 3 && p[0] == '_' && p[1] == '_' && p[2] >= 'A' && p[2] <= 'Z')
		return true;
	for (w = 0; w < n && p[w] != ' ' && p[w] != '\t' && p[w] != ';'; w++)
		;
	for (k = 0; awl_mnemonics[k]; k++) {
		if (text_ieq(p, w, awl_mnemonics[k])) {
			const char *rest = p + w;
			size_t rn = n - w;

			text_trim(&rest, &rn);
			/* "S := 1;" and "L = x" are ST assignments */
			if (rn >= 1 && (rest[0] == ':' || (rest[0] == '=' && w > 0 && p[0] != '=')))
				return false;
			return true;
		}
	}
	return false;
}

int iec_score(const char *text, size_t len, enum iec_dialect dialect)
{
	size_t pos = 0, lines = 0, awl = 0, networks = 0, blocks = 0, numbered = 0,
	       ends = 0, end_vars = 0, assigns = 0, code_lines = 0, l5k = 0;
	int score;

	/* the first 256 KiB decide; a block cut there counts as ended */
	if (len > ((size_t)256 << 10)) {
		len = (size_t)256 << 10;
		ends++;
	}
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		pos = 3;
	while (pos < len && (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n' ||
	                     text[pos] == '\r'))
		pos++;
	/* XML exports (PLCopen, TwinCAT, awlsim projects) carry ST inside */
	if (pos < len && text[pos] == '<')
		return 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		const char *p = text + pos;
		size_t n = end - pos, w;

		pos = end + 1;
		text_trim(&p, &n);
		if (n == 0 || (n >= 2 && p[0] == '/' && p[1] == '/') ||
		    (n >= 2 && p[0] == '(' && p[1] == '*'))
			continue;
		if (memchr(p, '\0', n))
			return 0;
		lines++;
		for (w = 0; w < n && p[w] != ' ' && p[w] != '\t' && p[w] != ';' && p[w] != '('; w++)
			;
		if (text_ieq(p, w, "NETWORK")) {
			networks++;
			continue;
		}
		/* Rockwell L5K has PROGRAM ... END_PROGRAM too */
		if (text_ieq(p, w, "IE_VER") || text_ieq(p, w, "CONTROLLER"))
			l5k++;
		if (text_ieq(p, w, "PROGRAM") || text_ieq(p, w, "FUNCTION_BLOCK") ||
		    text_ieq(p, w, "FUNCTION") || text_ieq(p, w, "ORGANIZATION_BLOCK") ||
		    text_ieq(p, w, "DATA_BLOCK") || text_ieq(p, w, "TYPE") ||
		    text_ieq(p, w, "CONFIGURATION") || text_ieq(p, w, "CLASS") ||
		    text_ieq(p, w, "INTERFACE")) {
			const char *q = p + w;
			size_t qn = n - w;

			blocks++;
			text_trim(&q, &qn);
			if (qn >= 3 && (q[0] == 'O' || q[0] == 'F' || q[0] == 'D' || q[0] == 'U') &&
			    (q[1] == 'B' || q[1] == 'C' || q[1] == 'D') && (q[2] == ' ' || q[2] == '\t'))
				numbered++;
			continue;
		}
		if (w > 4 && strncasecmp(p, "END_", 4) == 0) {
			if (text_ieq(p, w, "END_VAR") || text_ieq(p, w, "END_STRUCT"))
				end_vars++;
			else if (text_ieq(p, w, "END_PROGRAM") || text_ieq(p, w, "END_FUNCTION_BLOCK") ||
			         text_ieq(p, w, "END_FUNCTION") || text_ieq(p, w, "END_ORGANIZATION_BLOCK") ||
			         text_ieq(p, w, "END_DATA_BLOCK") || text_ieq(p, w, "END_TYPE") ||
			         text_ieq(p, w, "END_CONFIGURATION") || text_ieq(p, w, "END_CLASS") ||
			         text_ieq(p, w, "END_INTERFACE"))
				ends++;
			continue;
		}
		code_lines++;
		if (awl_line(p, n))
			awl++;
		if (memmem(p, n, ":=", 2))
			assigns++;
	}
	if (lines == 0 || l5k)
		return 0;
	if (dialect == IEC_DIALECT_AWL) {
		if (blocks && ends && networks)
			return 95;
		if (blocks && ends && code_lines && awl * 2 > code_lines)
			return numbered ? 90 : 80;
		if (blocks && ends && numbered)
			return 60;
		if (!blocks && code_lines >= 3 && awl * 10 >= code_lines * 8)
			return 50;
		return 0;
	}
	if (!blocks || !ends)
		return 0;
	score = end_vars ? 90 : 75;
	if (networks || numbered ||
	    (code_lines && awl * 2 > code_lines && assigns * 4 < code_lines))
		score = 40;
	return score;
}
