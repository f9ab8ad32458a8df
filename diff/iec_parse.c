/*
 * diff/iec_parse.c - the parser of IEC 61131-3 style sources used by ST,
 * SCL and AWL; see iec.h.
 *
 * The source is lexed once into tokens (iec_lex.h) that remember whether
 * white space or a line break preceded them; the parser then walks the
 * tokens recognising only the structure the change report needs: objects,
 * headers, declarations and bodies.  Anything it does not understand is
 * kept as text, never dropped.
 */
#include "diff/iec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/mem.h"
#include "diff/iec_lex.h"
#include "diff/text.h"

/* Nesting depth of STRUCT declarations, methods in blocks and the like. */
#define IEC_MAX_DEPTH 32

/* ---------------------------------------------------------------- engine */

struct iec {
	const char *s;
	size_t len;
	struct iec_tok *t;
	size_t nt;
	struct text_names *names;
	enum iec_dialect dialect;
};

static const struct iec_tok *tk(const struct iec *c, size_t i)
{
	return &c->t[i < c->nt ? i : c->nt - 1];
}

static bool is_kw(const struct iec *c, size_t i, const char *kw)
{
	const struct iec_tok *k = tk(c, i);

	return k->kind == IEC_TK_WORD && text_ieq(c->s + k->start, k->end - k->start, kw);
}

static bool is_punct(const struct iec *c, size_t i, const char *p)
{
	const struct iec_tok *k = tk(c, i);

	return k->kind == IEC_TK_PUNCT && k->end - k->start == strlen(p) &&
	       memcmp(c->s + k->start, p, k->end - k->start) == 0;
}

static bool word_starts(const struct iec *c, size_t i, const char *prefix)
{
	const struct iec_tok *k = tk(c, i);
	size_t n = strlen(prefix);

	return k->kind == IEC_TK_WORD && k->end - k->start >= n &&
	       strncasecmp(c->s + k->start, prefix, n) == 0;
}

static char *upper_word(const struct iec *c, size_t i)
{
	const struct iec_tok *k = tk(c, i);
	char *w = xstrndup(c->s + k->start, k->end - k->start);
	char *p;

	for (p = w; *p; p++) {
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	}
	return w;
}

static char *lower_word(const struct iec *c, size_t i)
{
	const struct iec_tok *k = tk(c, i);
	char *w = xstrndup(c->s + k->start, k->end - k->start);
	char *p;

	for (p = w; *p; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	}
	return w;
}

/* The 0-based column of byte offset pos. */
static size_t column(const struct iec *c, size_t pos)
{
	size_t start = pos;

	while (start > 0 && c->s[start - 1] != '\n')
		start--;
	return pos - start;
}

/* The number of line breaks in s[from, to). */
static size_t lines_between(const struct iec *c, size_t from, size_t to)
{
	size_t n = 0;

	for (; from < to; from++)
		n += c->s[from] == '\n';
	return n;
}

/* Skip comments and pragmas from i; the index of the next other token. */
static size_t skip_trivia(const struct iec *c, size_t i)
{
	while (tk(c, i)->kind == IEC_TK_COMMENT || tk(c, i)->kind == IEC_TK_PRAGMA)
		i++;
	return i;
}

/* The text of a comment token without its delimiters, trimmed. */
static void comment_text(const struct iec *c, size_t i, const char **out, size_t *out_len)
{
	const struct iec_tok *k = tk(c, i);
	const char *p = c->s + k->start;
	size_t n = k->end - k->start;

	if (n >= 2 && p[0] == '/' && p[1] == '/') {
		p += 2;
		n -= 2;
	} else if (n >= 2) {
		p += 2;
		n -= 2;
		if (n >= 2 && p[n - 1] == (p[-2] == '(' ? ')' : '/') && p[n - 2] == '*')
			n -= 2;
	}
	text_trim(&p, &n);
	*out = p;
	*out_len = n;
}

static void add_comment(struct buf *b, const struct iec *c, size_t i)
{
	const char *p;
	size_t n;

	comment_text(c, i, &p, &n);
	if (n == 0)
		return;
	if (b->len)
		buf_addch(b, '\n');
	buf_add(b, p, n);
}

static void add_raw(struct buf *b, const struct iec *c, size_t i)
{
	const struct iec_tok *k = tk(c, i);

	if (b->len)
		buf_addch(b, ' ');
	buf_add(b, c->s + k->start, k->end - k->start);
}

/* Append buf text to attribute `name` of n (joined by a line break). */
static void attr_append(struct dnode *n, const char *name, const struct buf *b)
{
	size_t i;

	if (!b->len)
		return;
	for (i = 0; i < n->nattrs; i++) {
		if (strcmp(n->attrs[i].name, name) == 0 && n->attrs[i].value) {
			char *v = xasprintf("%s\n%s", n->attrs[i].value, buf_cstr(b));

			dnode_set_attr(n, name, v);
			free(v);
			return;
		}
	}
	dnode_set_attr(n, name, buf_cstr(b));
}

/*
 * Canonical text of tokens [from, to): comments and pragmas dropped, one
 * space where the source had white space, none just inside brackets or
 * before separators.  Formatting-only edits thus change nothing.
 */
static char *canon(const struct iec *c, size_t from, size_t to)
{
	struct buf b = BUF_INIT;
	size_t i;
	char last = 0;
	bool gap = false;

	for (i = from; i < to && i < c->nt; i++) {
		const struct iec_tok *k = tk(c, i);
		char first;

		if (k->kind == IEC_TK_EOF)
			break;
		if (k->kind == IEC_TK_COMMENT || k->kind == IEC_TK_PRAGMA) {
			gap = true;
			continue;
		}
		first = c->s[k->start];
		if (b.len && (gap || k->ws_before) && last != '(' && last != '[' &&
		    first != ')' && first != ']' && first != ',' && first != ';')
			buf_addch(&b, ' ');
		else if (b.len && last == ',' && k->ws_before)
			buf_addch(&b, ' ');
		buf_add(&b, c->s + k->start, k->end - k->start);
		last = c->s[k->end - 1];
		gap = false;
	}
	if (!b.len) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

/* A name token as text: SCL "quoted" names lose their quotes. */
static char *name_text(const struct iec *c, size_t i)
{
	const struct iec_tok *k = tk(c, i);
	const char *p = c->s + k->start;
	size_t n = k->end - k->start;

	if (k->kind == IEC_TK_STRING && n >= 2 && p[0] == '"' && p[n - 1] == '"') {
		p++;
		n -= 2;
	}
	return xstrndup(p, n);
}

static bool is_section_kw(const struct iec *c, size_t i)
{
	return is_kw(c, i, "VAR") || word_starts(c, i, "VAR_");
}

static const char *const object_kws[] = {
	"PROGRAM", "FUNCTION_BLOCK", "FUNCTION", "CLASS", "INTERFACE",
	"ORGANIZATION_BLOCK", "DATA_BLOCK", "TYPE", "CONFIGURATION", NULL
};

static bool is_object_kw(const struct iec *c, size_t i)
{
	size_t k;

	for (k = 0; object_kws[k]; k++) {
		if (is_kw(c, i, object_kws[k]))
			return true;
	}
	return false;
}

/* Whether token i ends the declarations of a section it is not part of. */
static bool stops_decls(const struct iec *c, size_t i)
{
	return tk(c, i)->kind == IEC_TK_EOF || word_starts(c, i, "END_") ||
	       is_section_kw(c, i) || (tk(c, i)->nl_before && is_object_kw(c, i)) ||
	       is_kw(c, i, "BEGIN");
}

static size_t parse_decls(struct iec *c, size_t i, struct dnode *owner,
                          const char *end_kw, int depth);

/*
 * Skip from i to a ';' at bracket depth 0 (or a stop token); the index of
 * that ';' or stop token.
 */
static size_t scan_expr(const struct iec *c, size_t i, bool stop_at_assign)
{
	int depth = 0;

	for (;; i++) {
		const struct iec_tok *k = tk(c, i);

		if (k->kind == IEC_TK_EOF)
			return i;
		if (k->kind != IEC_TK_PUNCT) {
			if (depth == 0 && stops_decls(c, i))
				return i;
			continue;
		}
		if (is_punct(c, i, "(") || is_punct(c, i, "["))
			depth++;
		else if ((is_punct(c, i, ")") || is_punct(c, i, "]")) && depth > 0)
			depth--;
		else if (depth == 0 && is_punct(c, i, ";"))
			return i;
		else if (depth == 0 && stop_at_assign && is_punct(c, i, ":="))
			return i;
	}
}

/*
 * One declaration `a, b AT %IX0.0 : TYPE := init; (* comment *)` starting
 * at i, into variables of `owner`; returns the index after it.
 */
static size_t parse_decl(struct iec *c, size_t i, struct dnode *owner,
                         struct buf *leading, int depth)
{
	size_t names[64], nnames = 0, type_from = 0, type_to = 0, init_from = 0,
	       init_to = 0, struct_at = 0, k, line_end_tok;
	struct buf comment = BUF_INIT, pragma = BUF_INIT, address = BUF_INIT;
	char *type = NULL, *init = NULL;
	bool is_struct = false;
	const char *struct_end = NULL;

	/* names, addresses and per-variable pragmas up to ':' */
	while (!stops_decls(c, i) && !is_punct(c, i, ":") && !is_punct(c, i, ";")) {
		const struct iec_tok *t = tk(c, i);

		if (t->kind == IEC_TK_COMMENT) {
			add_comment(&comment, c, i);
		} else if (t->kind == IEC_TK_PRAGMA) {
			add_raw(&pragma, c, i);
		} else if (is_kw(c, i, "AT")) {
			for (i++; !stops_decls(c, i) && !is_punct(c, i, ":") &&
			          !is_punct(c, i, ";") && !is_punct(c, i, ","); i++)
				add_raw(&address, c, i);
			continue;
		} else if ((t->kind == IEC_TK_WORD || t->kind == IEC_TK_STRING) && nnames < 64) {
			names[nnames++] = i;
		}
		i++;
	}
	if (!is_punct(c, i, ":")) {
		/* not a declaration: skip it */
		if (is_punct(c, i, ";"))
			i++;
		goto out;
	}
	i++;
	k = skip_trivia(c, i);
	if (is_kw(c, k, "STRUCT") || is_kw(c, k, "UNION")) {
		is_struct = true;
		struct_end = is_kw(c, k, "STRUCT") ? "END_STRUCT" : "END_UNION";
		struct_at = k + 1;
		type = upper_word(c, k);
		/* find the matching end to continue after it */
		i = parse_decls(c, k + 1, NULL, struct_end, depth + 1);
		i = skip_trivia(c, i);
		if (is_punct(c, i, ":=")) {
			init_from = i + 1;
			init_to = i = scan_expr(c, i + 1, false);
		}
	} else {
		type_from = i;
		type_to = i = scan_expr(c, i, true);
		if (is_punct(c, i, ":=")) {
			init_from = i + 1;
			init_to = i = scan_expr(c, i + 1, false);
		}
	}
	if (is_punct(c, i, ";"))
		i++;
	/* comments on the rest of the line belong to this declaration */
	line_end_tok = i;
	while (tk(c, line_end_tok)->kind == IEC_TK_COMMENT && !tk(c, line_end_tok)->nl_before) {
		add_comment(&comment, c, line_end_tok);
		line_end_tok++;
	}
	/* an own-line comment aligned under the trailing one continues it */
	if (line_end_tok > i) {
		size_t col = column(c, tk(c, i)->start);

		while (tk(c, line_end_tok)->kind == IEC_TK_COMMENT &&
		       lines_between(c, tk(c, line_end_tok - 1)->end, tk(c, line_end_tok)->start) == 1 &&
		       column(c, tk(c, line_end_tok)->start) == col) {
			add_comment(&comment, c, line_end_tok);
			line_end_tok++;
		}
	}
	i = line_end_tok;
	for (k = type_from; k < type_to; k++) {
		if (tk(c, k)->kind == IEC_TK_COMMENT)
			add_comment(&comment, c, k);
	}
	for (k = init_from; k < init_to; k++) {
		if (tk(c, k)->kind == IEC_TK_COMMENT)
			add_comment(&comment, c, k);
	}
	if (!type && type_to > type_from)
		type = canon(c, type_from, type_to);
	if (init_to > init_from)
		init = canon(c, init_from, init_to);
	if (!owner)
		goto out;
	for (k = 0; k < nnames; k++) {
		char *name = name_text(c, names[k]);
		struct dnode *v = text_add_unique(c->names, owner, "", name);

		free(name);
		if (type)
			dnode_set_attr(v, "data type", type);
		if (address.len)
			dnode_set_attr(v, "address", buf_cstr(&address));
		if (init)
			dnode_set_attr(v, "initial value", init);
		if (comment.len)
			dnode_set_attr(v, "comment", buf_cstr(&comment));
		if (leading->len)
			dnode_set_attr(v, "leading comment", buf_cstr(leading));
		if (pragma.len)
			dnode_set_attr(v, "pragma", buf_cstr(&pragma));
		if (is_struct)
			parse_decls(c, struct_at, v, struct_end, depth + 1);
	}
out:
	buf_reset(leading);
	buf_release(&comment);
	buf_release(&pragma);
	buf_release(&address);
	free(type);
	free(init);
	return i;
}

/*
 * Declarations from i up to and including `end_kw`, as variables of
 * `owner` (NULL: only find the end).  Returns the index after end_kw, or
 * of the token that ended the list early.
 */
static size_t parse_decls(struct iec *c, size_t i, struct dnode *owner,
                          const char *end_kw, int depth)
{
	struct buf leading = BUF_INIT;

	while (tk(c, i)->kind != IEC_TK_EOF) {
		const struct iec_tok *t = tk(c, i);

		if (is_kw(c, i, end_kw)) {
			i++;
			break;
		}
		if (depth > IEC_MAX_DEPTH || stops_decls(c, i))
			break;
		if (t->kind == IEC_TK_COMMENT) {
			add_comment(&leading, c, i);
			i++;
		} else if (t->kind == IEC_TK_PUNCT && !is_punct(c, i, ":")) {
			i++;
		} else {
			size_t before = i;

			i = parse_decl(c, i, owner, &leading, depth);
			if (i == before)
				i++;
		}
	}
	if (owner)
		attr_append(owner, "comment", &leading);
	buf_release(&leading);
	return i;
}

/* The child of `parent` with this type and no name, added if missing. */
static struct dnode *section_of(struct dnode *parent, const char *type)
{
	size_t k;

	for (k = 0; k < parent->nkids; k++) {
		if (!parent->kids[k]->name && strcmp(parent->kids[k]->type, type) == 0)
			return parent->kids[k];
	}
	return dnode_add(parent, type, NULL);
}

static const char *const var_qualifiers[] = {
	"CONSTANT", "RETAIN", "NON_RETAIN", "PERSISTENT", "PUBLIC", "PRIVATE",
	"PROTECTED", "INTERNAL", "DB_SPECIFIC", NULL
};

/* A VAR... section at i into `parent`; returns the index after END_VAR. */
static size_t parse_section(struct iec *c, size_t i, struct dnode *parent, int depth)
{
	struct buf type = BUF_INIT;
	struct dnode *sec;
	char *w = upper_word(c, i);

	buf_adds(&type, w);
	free(w);
	for (i++;; i++) {
		size_t q;
		bool found = false;

		if (tk(c, i)->nl_before || tk(c, i)->kind != IEC_TK_WORD)
			break;
		for (q = 0; var_qualifiers[q]; q++) {
			if (is_kw(c, i, var_qualifiers[q]))
				found = true;
		}
		if (!found)
			break;
		w = upper_word(c, i);
		buf_addf(&type, " %s", w);
		free(w);
	}
	sec = section_of(parent, buf_cstr(&type));
	buf_release(&type);
	return parse_decls(c, i, sec, "END_VAR", depth);
}

/* `KEY : rest of line` header lines of SCL and AWL blocks. */
static const char *const header_kws[] = {
	"TITLE", "AUTHOR", "FAMILY", "NAME", "VERSION", NULL
};

static const char *const header_flags[] = {
	"KNOW_HOW_PROTECT", "STANDARD", "UNLINKED", "NON_RETAIN", "READ_ONLY",
	"CODE_VERSION1", NULL
};

/* Index of the first token on a later line than token i. */
static size_t next_line(const struct iec *c, size_t i)
{
	for (i++; tk(c, i)->kind != IEC_TK_EOF && !tk(c, i)->nl_before; i++)
		;
	return i;
}

/* The raw rest of the line after token i (after an optional : or =). */
static char *rest_of_line(const struct iec *c, size_t i)
{
	size_t from = tk(c, i)->end, to;
	const char *nl;
	const char *p;
	size_t n;

	nl = memchr(c->s + from, '\n', c->len - from);
	to = nl ? (size_t)(nl - c->s) : c->len;
	p = c->s + from;
	n = to - from;
	text_trim(&p, &n);
	if (n > 0 && (*p == ':' || *p == '=')) {
		p++;
		n--;
		text_trim(&p, &n);
	}
	return xstrndup(p, n);
}

/* ST: a body is text. */
static void body_text(struct dnode *n, const char *text, size_t len)
{
	char *clean = text_clean_lines(text, len);

	if (clean)
		dnode_set_body(n, clean, "body");
	free(clean);
}

/* AWL: split a body into NETWORKs with their TITLE, under "Networks". */
static void body_networks(struct dnode *block, const char *text, size_t len)
{
	struct dnode *seq = NULL, *net = NULL;
	size_t pos = 0, from = 0, pre_end = len;
	bool title_open = false;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		const char *p = text + pos;
		size_t n = end - pos;

		text_trim(&p, &n);
		if (n >= 7 && text_ieq(p, 7, "NETWORK") && (n == 7 || p[7] == ' ' || p[7] == '\t' || p[7] == ';')) {
			if (net)
				body_text(net, text + from, pos - from);
			else
				pre_end = pos;
			if (!seq) {
				seq = dnode_add(block, "Networks", NULL);
				seq->flags |= DNODE_SEQUENCE;
			}
			net = dnode_add(seq, "Network", NULL);
			dnode_set_attr(net, "title", "");
			from = end < len ? end + 1 : len;
			title_open = true;
		} else if (title_open && n > 0) {
			title_open = false;
			if (n >= 5 && text_ieq(p, 5, "TITLE") &&
			    (n == 5 || p[5] == ' ' || p[5] == '\t' || p[5] == '=')) {
				const char *v = p + 5;
				size_t vn = n - 5;

				text_trim(&v, &vn);
				if (vn > 0 && *v == '=') {
					v++;
					vn--;
					text_trim(&v, &vn);
				}
				dnode_set_attrn(net, "title", v, vn);
				from = end < len ? end + 1 : len;
			}
		}
		pos = end + 1;
	}
	if (net) {
		body_text(net, text + from, len - from);
		if (net->body)
			net->body_what = "network";
		for (pos = 0; pos < seq->nkids; pos++) {
			if (seq->kids[pos]->body)
				seq->kids[pos]->body_what = "network";
		}
	}
	body_text(block, text, pre_end);
}

static void handle_body(struct iec *c, struct dnode *n, size_t from_pos, size_t to_pos)
{
	/* keep the indentation of the first line */
	while (from_pos > 0 && (c->s[from_pos - 1] == ' ' || c->s[from_pos - 1] == '\t'))
		from_pos--;
	if (to_pos <= from_pos)
		return;
	if (c->dialect == IEC_DIALECT_AWL)
		body_networks(n, c->s + from_pos, to_pos - from_pos);
	else
		body_text(n, c->s + from_pos, to_pos - from_pos);
}

/*
 * A data block's value section `name := value;` ... up to `end_kw` as
 * children of a "Values" node; false (and nothing added) when it is
 * anything else, so the caller keeps it as text.
 */
static bool parse_values(struct iec *c, size_t i, size_t end, struct dnode *block)
{
	struct dnode *vals = NULL;
	size_t j = i;

	/* first pass: check the shape */
	while (j < end) {
		size_t eq, semi;

		j = skip_trivia(c, j);
		if (j >= end)
			break;
		for (eq = j; eq < end && !is_punct(c, eq, ":=") && !is_punct(c, eq, ";"); eq++)
			;
		if (eq >= end || !is_punct(c, eq, ":=") || eq == j)
			return false;
		semi = scan_expr(c, eq + 1, false);
		if (semi > end || !is_punct(c, semi, ";"))
			return false;
		j = semi + 1;
	}
	j = i;
	while (j < end) {
		size_t eq, semi;
		char *name, *value;
		struct dnode *v;

		j = skip_trivia(c, j);
		if (j >= end)
			break;
		for (eq = j; !is_punct(c, eq, ":="); eq++)
			;
		semi = scan_expr(c, eq + 1, false);
		if (!vals)
			vals = dnode_add(block, "Values", NULL);
		name = canon(c, j, eq);
		value = canon(c, eq + 1, semi);
		v = text_add_unique(c->names, vals, "", name ? name : "");
		dnode_set_attr(v, "value", value ? value : "");
		free(name);
		free(value);
		j = semi + 1;
		if (tk(c, j)->kind == IEC_TK_COMMENT && !tk(c, j)->nl_before) {
			struct buf cm = BUF_INIT;

			add_comment(&cm, c, j);
			if (cm.len)
				dnode_set_attr(v, "comment", buf_cstr(&cm));
			buf_release(&cm);
			j++;
		}
	}
	return true;
}

/* A block prefix of AWL style names: "OB 1", "FB 10", "DB 2", "UDT 3". */
static bool is_block_prefix(const struct iec *c, size_t i)
{
	static const char *const prefixes[] = {
		"OB", "FB", "FC", "DB", "SFB", "SFC", "UDT", "DI", NULL
	};
	size_t k;

	for (k = 0; prefixes[k]; k++) {
		if (is_kw(c, i, prefixes[k]))
			return true;
	}
	return false;
}

/* The name at i ("x", "\"x\"", "OB 1"); *next receives the index after it. */
static char *object_name(const struct iec *c, size_t i, size_t *next)
{
	const struct iec_tok *k = tk(c, i);

	if (k->kind != IEC_TK_WORD && k->kind != IEC_TK_STRING) {
		*next = i;
		return NULL;
	}
	if (is_block_prefix(c, i) && tk(c, i + 1)->kind == IEC_TK_WORD &&
	    !tk(c, i + 1)->nl_before && c->s[tk(c, i + 1)->start] >= '0' &&
	    c->s[tk(c, i + 1)->start] <= '9') {
		char *pre = upper_word(c, i);
		const struct iec_tok *num = tk(c, i + 1);
		char *name = xasprintf("%s %.*s", pre, (int)(num->end - num->start),
		                       c->s + num->start);

		free(pre);
		*next = i + 2;
		return name;
	}
	*next = i + 1;
	return name_text(c, i);
}

static size_t parse_object(struct iec *c, size_t i, struct dnode *parent,
                           struct buf *comment, int depth);

/* Keywords that open a nested object inside a function block or class. */
static bool is_member_kw(const struct iec *c, size_t i)
{
	return tk(c, i)->nl_before &&
	       (is_kw(c, i, "METHOD") || is_kw(c, i, "PROPERTY"));
}

/* ST TYPE ... END_TYPE with a list of `name : definition;`. */
static size_t parse_type_list(struct iec *c, size_t i, struct dnode *parent,
                              struct buf *comment, int depth)
{
	struct buf leading = BUF_INIT;

	(void)depth;
	while (tk(c, i)->kind != IEC_TK_EOF) {
		size_t k, after;
		char *name;
		struct dnode *tn;

		if (is_kw(c, i, "END_TYPE")) {
			i++;
			break;
		}
		if (tk(c, i)->nl_before && is_object_kw(c, i))
			break;
		if (tk(c, i)->kind == IEC_TK_COMMENT) {
			add_comment(&leading, c, i);
			i++;
			continue;
		}
		if (tk(c, i)->kind != IEC_TK_WORD && tk(c, i)->kind != IEC_TK_STRING) {
			i++;
			continue;
		}
		name = object_name(c, i, &after);
		tn = text_add_unique(c->names, parent, "TYPE", name);
		free(name);
		if (comment->len) {
			attr_append(tn, "comment", comment);
			buf_reset(comment);
		}
		if (leading.len) {
			attr_append(tn, "comment", &leading);
			buf_reset(&leading);
		}
		i = after;
		if (is_kw(c, i, "EXTENDS") && (tk(c, i + 1)->kind == IEC_TK_WORD)) {
			char *base = name_text(c, i + 1);

			dnode_set_attr(tn, "extends", base);
			free(base);
			i += 2;
		}
		if (!is_punct(c, i, ":")) {
			i = scan_expr(c, i, false);
			if (is_punct(c, i, ";"))
				i++;
			continue;
		}
		k = skip_trivia(c, i + 1);
		if (is_kw(c, k, "STRUCT") || is_kw(c, k, "UNION")) {
			const char *end = is_kw(c, k, "STRUCT") ? "END_STRUCT" : "END_UNION";
			char *w = upper_word(c, k);

			dnode_set_attr(tn, "data type", w);
			free(w);
			i = parse_decls(c, k + 1, tn, end, depth + 1);
			i = skip_trivia(c, i);
			if (is_punct(c, i, ";"))
				i++;
		} else {
			size_t from = i + 1, to = scan_expr(c, from, true);
			char *def = canon(c, from, to);

			if (def)
				dnode_set_attr(tn, "data type", def);
			free(def);
			i = to;
			if (is_punct(c, i, ":=")) {
				size_t ito = scan_expr(c, i + 1, false);
				char *init = canon(c, i + 1, ito);

				if (init)
					dnode_set_attr(tn, "initial value", init);
				free(init);
				i = ito;
			}
			if (is_punct(c, i, ";"))
				i++;
		}
		while (tk(c, i)->kind == IEC_TK_COMMENT && !tk(c, i)->nl_before) {
			struct buf cm = BUF_INIT;

			add_comment(&cm, c, i);
			attr_append(tn, "comment", &cm);
			buf_release(&cm);
			i++;
		}
	}
	buf_release(&leading);
	return i;
}

/* TASK name (INTERVAL := T#20ms, PRIORITY := 0); */
static size_t parse_task(struct iec *c, size_t i, struct dnode *parent)
{
	size_t after, end;
	char *name = object_name(c, i + 1, &after);
	struct dnode *task;

	if (!name)
		return i + 1;
	task = text_add_unique(c->names, parent, "TASK", name);
	free(name);
	end = scan_expr(c, after, false);
	if (is_punct(c, after, "(")) {
		size_t j = after + 1;

		while (j < end && !is_punct(c, j, ")")) {
			size_t eq, vend;
			int depth = 0;

			j = skip_trivia(c, j);
			if (tk(c, j)->kind != IEC_TK_WORD || !is_punct(c, j + 1, ":=")) {
				j++;
				continue;
			}
			eq = j + 1;
			for (vend = eq + 1; vend < end; vend++) {
				if (is_punct(c, vend, "("))
					depth++;
				else if (is_punct(c, vend, ")") && depth-- == 0)
					break;
				else if (is_punct(c, vend, ",") && depth == 0)
					break;
			}
			{
				char *key = lower_word(c, j), *value = canon(c, eq + 1, vend);

				dnode_set_attr(task, key, value ? value : "");
				free(key);
				free(value);
			}
			j = is_punct(c, vend, ",") ? vend + 1 : vend;
		}
	}
	return is_punct(c, end, ";") ? end + 1 : end;
}

/* PROGRAM inst WITH task : type (args); inside a resource. */
static size_t parse_instance(struct iec *c, size_t i, struct dnode *parent)
{
	size_t after, end, k;
	char *name = object_name(c, i + 1, &after);
	struct dnode *inst;

	if (!name)
		return i + 1;
	inst = text_add_unique(c->names, parent, "PROGRAM", name);
	free(name);
	end = scan_expr(c, after, false);
	for (k = after; k < end; k++) {
		if (is_kw(c, k, "WITH") && k + 1 < end) {
			char *task = name_text(c, k + 1);

			dnode_set_attr(inst, "task", task);
			free(task);
			k++;
		} else if (is_punct(c, k, ":") && k + 1 < end) {
			size_t lp;
			char *type = name_text(c, k + 1);

			dnode_set_attr(inst, "type", type);
			free(type);
			lp = k + 2;
			if (lp < end) {
				char *args = canon(c, lp, end);

				if (args)
					dnode_set_attr(inst, "arguments", args);
				free(args);
			}
			break;
		}
	}
	return is_punct(c, end, ";") ? end + 1 : end;
}

/* CONFIGURATION / RESOURCE bodies up to their END_ keyword. */
static size_t parse_config(struct iec *c, size_t i, struct dnode *node,
                           const char *end_kw, int depth)
{
	struct buf other = BUF_INIT;

	while (tk(c, i)->kind != IEC_TK_EOF) {
		if (is_kw(c, i, end_kw)) {
			i++;
			break;
		}
		if (depth > IEC_MAX_DEPTH)
			break;
		if (is_section_kw(c, i)) {
			i = parse_section(c, i, node, depth + 1);
		} else if (is_kw(c, i, "RESOURCE")) {
			size_t after;
			char *name = object_name(c, i + 1, &after);
			struct dnode *res;

			if (!name) {
				i++;
				continue;
			}
			res = text_add_unique(c->names, node, "RESOURCE", name);
			free(name);
			i = after;
			if (is_kw(c, i, "ON") && tk(c, i + 1)->kind == IEC_TK_WORD) {
				char *on = name_text(c, i + 1);

				dnode_set_attr(res, "on", on);
				free(on);
				i += 2;
			}
			i = parse_config(c, i, res, "END_RESOURCE", depth + 1);
		} else if (is_kw(c, i, "TASK")) {
			i = parse_task(c, i, node);
		} else if (is_kw(c, i, "PROGRAM")) {
			i = parse_instance(c, i, node);
		} else if (tk(c, i)->kind == IEC_TK_COMMENT) {
			i++;
		} else if (tk(c, i)->nl_before && is_object_kw(c, i)) {
			break;
		} else {
			size_t end = scan_expr(c, i, false);

			if (end == i)
				end = i + 1;
			else if (is_punct(c, end, ";"))
				end++;
			{
				char *text = canon(c, i, end);

				if (text) {
					if (other.len)
						buf_addch(&other, '\n');
					buf_adds(&other, text);
				}
				free(text);
			}
			i = end;
		}
	}
	if (other.len)
		dnode_set_bodyn(node, other.data, other.len, "declarations");
	buf_release(&other);
	return i;
}

/* The END_ keyword of an object (not of a statement or a section). */
static bool is_object_end(const struct iec *c, size_t i)
{
	static const char *const ends[] = {
		"END_PROGRAM", "END_FUNCTION", "END_FUNCTION_BLOCK", "END_METHOD",
		"END_PROPERTY", "END_CLASS", "END_INTERFACE", "END_ORGANIZATION_BLOCK",
		"END_DATA_BLOCK", "END_TYPE", "END_CONFIGURATION", NULL
	};
	size_t k;

	for (k = 0; ends[k]; k++) {
		if (is_kw(c, i, ends[k]))
			return true;
	}
	return false;
}

/* Whether token i (a word) can continue a block header. */
static bool is_header_token(const struct iec *c, size_t i, const char *kind)
{
	size_t k;

	if (tk(c, i)->kind == IEC_TK_PRAGMA)
		return true;
	if (tk(c, i)->kind != IEC_TK_WORD)
		return tk(c, i)->kind == IEC_TK_STRING && strcmp(kind, "DATA_BLOCK") == 0;
	if (is_section_kw(c, i) || is_kw(c, i, "STRUCT") || is_kw(c, i, "BEGIN") ||
	    word_starts(c, i, "END_") || is_member_kw(c, i))
		return true;
	for (k = 0; header_kws[k]; k++) {
		if (is_kw(c, i, header_kws[k]) &&
		    (is_punct(c, i + 1, ":") || is_punct(c, i + 1, "=")))
			return true;
	}
	for (k = 0; header_flags[k]; k++) {
		if (is_kw(c, i, header_flags[k]))
			return true;
	}
	return strcmp(kind, "DATA_BLOCK") == 0 && is_block_prefix(c, i);
}

/*
 * An object at keyword i (PROGRAM, FUNCTION_BLOCK, ..., METHOD) as a child
 * of parent; `comment` holds the comments just before it.  Returns the
 * index after its END_ keyword.
 */
static size_t parse_object(struct iec *c, size_t i, struct dnode *parent,
                           struct buf *comment, int depth)
{
	char *kind = upper_word(c, i), *end_kw = xasprintf("END_%s", kind), *name;
	const char *type;
	struct dnode *n;
	struct buf cm = BUF_INIT, flags = BUF_INIT, pragma = BUF_INIT;
	size_t after, body_from = 0;
	bool has_body = false, is_type = strcmp(kind, "TYPE") == 0;
	bool members = strcmp(kind, "FUNCTION_BLOCK") == 0 || strcmp(kind, "PROGRAM") == 0 ||
	               strcmp(kind, "CLASS") == 0 || strcmp(kind, "INTERFACE") == 0;

	i++;
	/* modifiers before the name: FUNCTION_BLOCK PUBLIC ABSTRACT FB_x */
	while (tk(c, i)->kind == IEC_TK_WORD && !tk(c, i)->nl_before &&
	       (is_kw(c, i, "PUBLIC") || is_kw(c, i, "PRIVATE") || is_kw(c, i, "PROTECTED") ||
	        is_kw(c, i, "INTERNAL") || is_kw(c, i, "ABSTRACT") || is_kw(c, i, "FINAL"))) {
		char *w = upper_word(c, i);

		if (flags.len)
			buf_addch(&flags, ' ');
		buf_adds(&flags, w);
		free(w);
		i++;
	}
	name = object_name(c, i, &after);
	if (strcmp(kind, "METHOD") == 0 || strcmp(kind, "PROPERTY") == 0 ||
	    strcmp(kind, "ACTION") == 0)
		type = kind;
	else if (is_type)
		type = "TYPE";
	else
		type = c->dialect == IEC_DIALECT_AWL ? "Block" : "POU";
	n = text_add_unique(c->names, parent, type, name ? name : "");
	free(name);
	i = after;
	if (strcmp(type, kind) != 0 && !is_type)
		dnode_set_attr(n, "kind", kind);
	if (flags.len)
		dnode_set_attr(n, "modifiers", buf_cstr(&flags));
	buf_reset(&flags);
	if (comment->len) {
		attr_append(n, "comment", comment);
		buf_reset(comment);
	}
	/* `: return type`, EXTENDS, IMPLEMENTS on the header line(s) */
	while (!tk(c, i)->nl_before || is_kw(c, i, "EXTENDS") || is_kw(c, i, "IMPLEMENTS")) {
		if (tk(c, i)->kind == IEC_TK_EOF)
			break;
		if (is_punct(c, i, ":")) {
			size_t to = i + 1;
			char *rt;

			while (tk(c, to)->kind != IEC_TK_EOF && !tk(c, to)->nl_before &&
			       tk(c, to)->kind != IEC_TK_COMMENT && !is_punct(c, to, ";"))
				to++;
			rt = canon(c, i + 1, to);
			if (rt)
				dnode_set_attr(n, is_type ? "data type" : "return type", rt);
			free(rt);
			i = to;
		} else if (is_kw(c, i, "EXTENDS") || is_kw(c, i, "IMPLEMENTS")) {
			size_t to = i + 1;
			char *key = lower_word(c, i), *val;

			while (!tk(c, to)->nl_before && !is_kw(c, to, "EXTENDS") &&
			       !is_kw(c, to, "IMPLEMENTS") &&
			       (tk(c, to)->kind == IEC_TK_WORD || tk(c, to)->kind == IEC_TK_STRING ||
			        is_punct(c, to, ",")))
				to++;
			val = canon(c, i + 1, to);
			dnode_set_attr(n, key, val ? val : "");
			free(key);
			free(val);
			i = to;
		} else if (tk(c, i)->kind == IEC_TK_COMMENT) {
			add_comment(&cm, c, i);
			i++;
		} else if (is_punct(c, i, ";")) {
			i++;
		} else {
			break;
		}
	}
	/* header: attributes, pragmas, declaration sections */
	for (;;) {
		const struct iec_tok *t = tk(c, i);

		if (t->kind == IEC_TK_EOF || depth > IEC_MAX_DEPTH)
			goto done;
		if (t->kind == IEC_TK_COMMENT) {
			size_t k = skip_trivia(c, i);

			if (!is_header_token(c, k, kind) && tk(c, k)->kind != IEC_TK_EOF) {
				body_from = t->start;
				has_body = true;
				break;
			}
			add_comment(&cm, c, i);
			i++;
			continue;
		}
		if (t->kind == IEC_TK_PRAGMA) {
			add_raw(&pragma, c, i);
			i++;
			continue;
		}
		if (is_punct(c, i, ";")) {
			i++;
			continue;
		}
		if (!is_header_token(c, i, kind)) {
			body_from = t->start;
			has_body = true;
			break;
		}
		if (is_kw(c, i, end_kw)) {
			i++;
			goto done;
		}
		if (word_starts(c, i, "END_")) {
			/* the END of something else: ours is missing */
			goto done;
		}
		if (is_section_kw(c, i)) {
			i = parse_section(c, i, n, depth + 1);
		} else if (is_kw(c, i, "STRUCT")) {
			struct dnode *owner = is_type ? n : section_of(n, "STRUCT");

			if (is_type)
				dnode_set_attr(n, "data type", "STRUCT");
			i = parse_decls(c, i + 1, owner, "END_STRUCT", depth + 1);
		} else if (is_kw(c, i, "BEGIN")) {
			i++;
			body_from = tk(c, i - 1)->end;
			has_body = true;
			break;
		} else if (is_member_kw(c, i)) {
			struct buf none = BUF_INIT;

			i = parse_object(c, i, n, &none, depth + 1);
			buf_release(&none);
		} else if (t->kind == IEC_TK_STRING || is_block_prefix(c, i)) {
			/* an instance data block names its block: "FB_x" or FB 1 */
			char *inst;

			if (t->kind == IEC_TK_STRING) {
				inst = name_text(c, i);
			} else {
				char *rest = rest_of_line(c, i), *w = upper_word(c, i);

				inst = xasprintf("%s%s%s", w, *rest ? " " : "", rest);
				free(rest);
				free(w);
			}
			dnode_set_attr(n, "instance of", inst);
			free(inst);
			i = next_line(c, i);
		} else {
			size_t k;
			bool done_kw = false;

			for (k = 0; header_kws[k] && !done_kw; k++) {
				if (is_kw(c, i, header_kws[k])) {
					char *key = lower_word(c, i), *val = rest_of_line(c, i);

					dnode_set_attr(n, key, val);
					free(key);
					free(val);
					i = next_line(c, i);
					done_kw = true;
				}
			}
			if (!done_kw) {
				char *w = upper_word(c, i);

				if (flags.len)
					buf_addch(&flags, ' ');
				buf_adds(&flags, w);
				free(w);
				i++;
			}
		}
	}
	/* body: up to our END_ keyword; methods and properties become children */
	{
		size_t j = i, body_to = c->len;
		bool closed = false;

		while (tk(c, j)->kind != IEC_TK_EOF) {
			const struct iec_tok *t = tk(c, j);

			if (t->kind == IEC_TK_WORD && is_kw(c, j, end_kw)) {
				body_to = t->start;
				j++;
				closed = true;
				break;
			}
			if (t->nl_before && t->kind == IEC_TK_WORD &&
			    ((members && is_member_kw(c, j)) || is_object_kw(c, j) ||
			     is_object_end(c, j))) {
				body_to = t->start;
				break;
			}
			j++;
		}
		if (has_body) {
			if (body_from > body_to)
				body_from = body_to;
			if (strcmp(kind, "DATA_BLOCK") != 0 ||
			    !parse_values(c, i, (size_t)(closed ? j - 1 : j), n))
				handle_body(c, n, body_from, body_to);
		}
		i = j;
		/* members after the body, then our END_ keyword */
		while (!closed && members && is_member_kw(c, i) && depth < IEC_MAX_DEPTH) {
			struct buf none = BUF_INIT;

			i = parse_object(c, i, n, &none, depth + 1);
			buf_release(&none);
			while (tk(c, i)->kind == IEC_TK_COMMENT || tk(c, i)->kind == IEC_TK_PRAGMA ||
			       is_punct(c, i, ";"))
				i++;
			if (is_kw(c, i, end_kw)) {
				i++;
				closed = true;
			}
		}
	}
done:
	if (flags.len)
		dnode_set_attr(n, "flags", buf_cstr(&flags));
	if (pragma.len)
		dnode_set_attr(n, "pragma", buf_cstr(&pragma));
	attr_append(n, "comment", &cm);
	buf_release(&cm);
	buf_release(&flags);
	buf_release(&pragma);
	free(kind);
	free(end_kw);
	return i;
}

int iec_parse(struct dnode *root, const char *text, size_t len,
                 enum iec_dialect dialect, size_t *out_objects)
{
	struct iec c = { text, len, NULL, 0, NULL, dialect };
	struct buf comment = BUF_INIT, stray = BUF_INIT, file_comment = BUF_INIT;
	size_t i = 0, objects = 0;

	c.t = iec_lex(text, len, &c.nt);
	c.names = text_names_new();
	while (tk(&c, i)->kind != IEC_TK_EOF) {
		const struct iec_tok *t = tk(&c, i);

		if (t->kind == IEC_TK_COMMENT) {
			/* a blank line between a comment and what follows detaches it */
			if (comment.len && t->start > 0) {
				size_t k, nls = 0;

				for (k = tk(&c, i - 1)->end; k < t->start; k++)
					nls += text[k] == '\n';
				if (nls > 1) {
					if (file_comment.len)
						buf_addch(&file_comment, '\n');
					buf_add(&file_comment, comment.data, comment.len);
					buf_reset(&comment);
				}
			}
			add_comment(&comment, &c, i);
			i++;
			continue;
		}
		if (comment.len && t->kind != IEC_TK_EOF) {
			size_t k, nls = 0;

			for (k = tk(&c, i - 1)->end; k < t->start; k++)
				nls += text[k] == '\n';
			if (nls > 1) {
				if (file_comment.len)
					buf_addch(&file_comment, '\n');
				buf_add(&file_comment, comment.data, comment.len);
				buf_reset(&comment);
			}
		}
		if (is_kw(&c, i, "TYPE")) {
			size_t k = skip_trivia(&c, i + 1), after;
			char *probe = object_name(&c, k, &after);
			bool list = probe && (is_punct(&c, skip_trivia(&c, after), ":") ||
			                      is_kw(&c, skip_trivia(&c, after), "EXTENDS"));

			free(probe);
			if (list && dialect == IEC_DIALECT_ST)
				i = parse_type_list(&c, k, root, &comment, 0);
			else
				i = parse_object(&c, i, root, &comment, 0);
			objects++;
		} else if (is_object_kw(&c, i) && !is_kw(&c, i, "CONFIGURATION")) {
			i = parse_object(&c, i, root, &comment, 0);
			objects++;
		} else if (is_kw(&c, i, "CONFIGURATION")) {
			size_t after;
			char *name = object_name(&c, i + 1, &after);
			struct dnode *cfg = text_add_unique(c.names, root, "CONFIGURATION",
			                                  name ? name : "");

			free(name);
			attr_append(cfg, "comment", &comment);
			buf_reset(&comment);
			i = parse_config(&c, name ? after : i + 1, cfg, "END_CONFIGURATION", 0);
			objects++;
		} else if (is_section_kw(&c, i)) {
			i = parse_section(&c, i, root, 0);
			objects++;
		} else {
			/* outside any object: keep the text so nothing is lost */
			size_t end = i + 1;

			while (tk(&c, end)->kind != IEC_TK_EOF && !tk(&c, end)->nl_before)
				end++;
			if (stray.len)
				buf_addch(&stray, '\n');
			buf_add(&stray, text + t->start, tk(&c, end - 1)->end - t->start);
			i = end;
		}
	}
	if (comment.len) {
		if (file_comment.len)
			buf_addch(&file_comment, '\n');
		buf_add(&file_comment, comment.data, comment.len);
	}
	attr_append(root, "comment", &file_comment);
	if (stray.len) {
		char *clean = text_clean_lines(stray.data, stray.len);

		if (clean)
			dnode_set_body(root, clean, "text outside POUs");
		free(clean);
	}
	buf_release(&comment);
	buf_release(&stray);
	buf_release(&file_comment);
	text_names_free(c.names);
	free(c.t);
	*out_objects = objects;
	return 0;
}
