/*
 * diff/fmt_twincat.c - Beckhoff TwinCAT 3 PLC objects (.TcPOU, .TcDUT,
 * .TcGVL, .TcIO, .TcTask and friends: a <TcPlcObject> root).
 *
 * Tree: POU[..] / DUT[..] / GVL[..] / Itf[..] with the declaration split
 * into "header" (everything before the first variable section: the
 * FUNCTION_BLOCK line, pragmas, leading comments) and variable sections
 * (VAR_INPUT/xStart: data type, initial value, address, comment, pragmas,
 * qualifiers), the implementation as an ST body, and Method[..],
 * Property[..] (Get/Set), Action[..], Transition[..] the same way.
 * A declaration the section reader does not understand is kept whole as a
 * body.
 *
 * Noise dropped: <LineIds> (editor line maps), the object Id GUIDs, and the
 * ProductVersion stamp of the TcPlcObject.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"
#include "diff/formats.h"
#include "diff/xml.h"

static const char *const tc_ids[] = { "Name", NULL };
static const char *const tc_drop_attrs[] = { "Id", "ProductVersion", NULL };
static const char *const tc_drop_elems[] = { "LineIds", NULL };
static const struct xml_conv tc_cv = { tc_ids, tc_drop_attrs, tc_drop_elems, false };

static int twincat_detect(const char *text, size_t len)
{
	size_t n = len < 4096 ? len : 4096;

	return memmem(text, n, "<TcPlcObject", 12) ? 90 : 0;
}

static const char *const sections[] = {
	"VAR_INPUT", "VAR_OUTPUT", "VAR_IN_OUT", "VAR_GLOBAL", "VAR_TEMP", "VAR_STAT",
	"VAR_INST", "VAR_EXTERNAL", "VAR_CONFIG", "VAR", "STRUCT", "UNION", NULL,
};

static bool word_at(const char *p, const char *w)
{
	size_t n = strlen(w);

	return !strncmp(p, w, n) && !(isalnum((unsigned char)p[n]) || p[n] == '_');
}

/* Collapse runs of whitespace to one space and trim. */
static char *squeeze(const char *s, size_t len)
{
	struct buf b = BUF_INIT;
	bool sp = false;

	for (size_t i = 0; i < len; i++) {
		if (isspace((unsigned char)s[i])) {
			sp = b.len > 0;
			continue;
		}
		if (sp)
			(void)buf_addch(&b, ' ');
		sp = false;
		(void)buf_addch(&b, s[i]);
	}
	return b.data ? buf_detach(&b, NULL) : xstrdup("");
}

/* Skip a comment or pragma at p; returns its end, or p when none. */
static const char *skip_comment(const char *p, const char *end, struct buf *comment, struct buf *pragma)
{
	if (p + 1 < end && p[0] == '/' && p[1] == '/') {
		const char *e = memchr(p, '\n', (size_t)(end - p));

		e = e ? e : end;
		if (comment) {
			char *t = squeeze(p + 2, (size_t)(e - p - 2));

			(void)buf_addf(comment, "%s%s", comment->len ? " " : "", t);
			free(t);
		}
		return e;
	}
	if (p + 1 < end && p[0] == '(' && p[1] == '*') {
		const char *e = memmem(p + 2, (size_t)(end - p - 2), "*)", 2);
		const char *ce = e ? e : end;

		if (comment) {
			char *t = squeeze(p + 2, (size_t)(ce - p - 2));

			(void)buf_addf(comment, "%s%s", comment->len ? " " : "", t);
			free(t);
		}
		return e ? e + 2 : end;
	}
	if (p[0] == '{') {
		const char *e = memchr(p, '}', (size_t)(end - p));
		const char *ce = e ? e : end;

		if (pragma) {
			char *t = squeeze(p, (size_t)(ce - p + (e ? 1 : 0)));

			(void)buf_addf(pragma, "%s%s", pragma->len ? " " : "", t);
			free(t);
		}
		return e ? e + 1 : end;
	}
	return p;
}

/* One declaration statement "a, b AT %I* : TYPE := init" into section s. */
static void declare(struct dnode *s, const char *stmt, const char *qual, struct buf *comment,
                    struct buf *pragma)
{
	const char *colon = NULL, *init = NULL;
	int paren = 0;
	char *names, *type, *value = NULL, *addr = NULL;

	for (const char *p = stmt; *p; p++) {
		if (*p == '(' || *p == '[')
			paren++;
		else if (*p == ')' || *p == ']')
			paren--;
		else if (*p == '\'' || *p == '"') {
			const char *q = strchr(p + 1, *p);

			if (!q)
				break;
			p = q;
		} else if (*p == ':' && p[1] == '=' && colon && !init && paren == 0) {
			init = p;
			p++;
		} else if (*p == ':' && p[1] != '=' && !colon) {
			colon = p;
		}
	}
	if (!colon)
		return;
	names = squeeze(stmt, (size_t)(colon - stmt));
	type = init ? squeeze(colon + 1, (size_t)(init - colon - 1)) : squeeze(colon + 1, strlen(colon + 1));
	if (init)
		value = squeeze(init + 2, strlen(init + 2));
	{
		char *at = strstr(names, " AT ");

		if (at) {
			addr = xstrdup(at + 4);
			*at = '\0';
		}
	}
	for (char *tok = names, *next; tok && *tok; tok = next) {
		char *t;
		struct dnode *v;

		next = strchr(tok, ',');
		if (next)
			*next++ = '\0';
		t = xml_trim(tok);
		if (*t) {
			v = dnode_add(s, "", t);
			dnode_set_attr(v, "data type", type);
			if (value)
				dnode_set_attr(v, "initial value", value);
			if (addr)
				dnode_set_attr(v, "address", addr);
			if (qual && *qual)
				dnode_set_attr(v, "qualifiers", qual);
			if (comment->len)
				dnode_set_attr(v, "comment", buf_cstr(comment));
			if (pragma->len)
				dnode_set_attr(v, "pragmas", buf_cstr(pragma));
		}
		free(t);
	}
	free(names);
	free(type);
	free(value);
	free(addr);
}

/*
 * Split a declaration into header and sections; false (tree untouched
 * except for partial sections, which the caller discards) when it does not
 * follow the expected shape.
 */
static bool declaration(struct dnode *n, const char *text)
{
	const char *p = text, *end = text + strlen(text), *header_end = NULL;
	struct buf comment = BUF_INIT, pragma = BUF_INIT, stmt = BUF_INIT;
	struct dnode *sec = NULL;
	char *qual = NULL;
	bool ok = true;

	while (p < end) {
		const char *q;

		if (isspace((unsigned char)*p)) {
			if (sec && stmt.len)
				(void)buf_addch(&stmt, ' ');
			p++;
			continue;
		}
		if (!sec) {
			const char *const *w;

			for (w = sections; *w && !word_at(p, *w); w++)
				;
			if (*w && (p == text || isspace((unsigned char)p[-1]))) {
				const char *eol = memchr(p, '\n', (size_t)(end - p));
				size_t wl = strlen(*w);

				if (!header_end)
					header_end = p;
				sec = dnode_child(n, *w, NULL);
				if (!sec)
					sec = dnode_add(n, *w, NULL);
				free(qual);
				eol = eol ? eol : end;
				qual = squeeze(p + wl, (size_t)(eol - p - wl));
				p = eol;
				continue;
			}
			q = skip_comment(p, end, NULL, NULL);
			p = q != p ? q : p + 1;
			continue;
		}
		if (word_at(p, "END_VAR") || word_at(p, "END_STRUCT") || word_at(p, "END_UNION")) {
			if (stmt.len) {
				ok = false;
				break;
			}
			sec = NULL;
			p += word_at(p, "END_VAR") ? 7 : word_at(p, "END_STRUCT") ? 10 : 9;
			buf_reset(&comment);
			buf_reset(&pragma);
			continue;
		}
		q = skip_comment(p, end, &comment, &pragma);
		if (q != p) {
			p = q;
			continue;
		}
		if (*p == '\'' || *p == '"') {
			const char *e = memchr(p + 1, *p, (size_t)(end - p - 1));

			e = e ? e + 1 : end;
			(void)buf_add(&stmt, p, (size_t)(e - p));
			p = e;
			continue;
		}
		if (*p == ';') {
			const char *t = p + 1;

			/* a comment on the same line after ';' belongs to this declaration */
			while (t < end && (*t == ' ' || *t == '\t'))
				t++;
			if (t < end && (*t == '/' || *t == '('))
				t = skip_comment(t, end, &comment, &pragma);
			else
				t = p + 1;
			declare(sec, buf_cstr(&stmt), qual, &comment, &pragma);
			buf_reset(&stmt);
			buf_reset(&comment);
			buf_reset(&pragma);
			p = t;
			continue;
		}
		(void)buf_addch(&stmt, *p++);
	}
	if (sec || stmt.len)
		ok = false;
	if (ok) {
		char *tmp = header_end ? xstrndup(text, (size_t)(header_end - text)) : xstrdup(text);
		char *h = xml_trim(tmp);

		if (*h)
			dnode_set_attr(n, "header", h);
		free(tmp);
		free(h);
	}
	free(qual);
	buf_release(&comment);
	buf_release(&pragma);
	buf_release(&stmt);
	return ok;
}

static void set_declaration(struct dnode *n, const char *raw)
{
	char *t = xml_trim(raw);
	size_t before = n->nkids;

	if (!declaration(n, t)) {
		for (size_t i = before; i < n->nkids; i++)
			dnode_free(n->kids[i]);
		n->nkids = before;
		dnode_set_attr(n, "header", NULL);
		dnode_set_body(n, t, "declaration");
	}
	free(t);
}

static void object(struct dnode *parent, const struct xml_node *el, int depth);

static void object_children(struct dnode *n, const struct xml_node *el, int depth)
{
	for (const struct xml_node *c = xml_node_first(el); c; c = xml_node_next(c)) {
		const char *cn = xml_node_name(c);

		if (xml_in_list(tc_drop_elems, cn))
			continue;
		if (!strcmp(cn, "Declaration")) {
			char *raw = xml_node_text(c);

			set_declaration(n, raw);
			free(raw);
		} else if (!strcmp(cn, "Implementation") && xml_node_child(c, "ST")) {
			char *raw = xml_node_text(xml_node_child(c, "ST")), *t = xml_trim(raw);

			dnode_set_body(n, t, "implementation");
			free(raw);
			free(t);
		} else if (depth < 16 && (!strcmp(cn, "Method") || !strcmp(cn, "Property") ||
		                          !strcmp(cn, "Action") || !strcmp(cn, "Transition") ||
		                          !strcmp(cn, "Get") || !strcmp(cn, "Set"))) {
			object(n, c, depth + 1);
		} else {
			xml_conv_element(n, c, &tc_cv);
		}
	}
}

static void object(struct dnode *parent, const struct xml_node *el, int depth)
{
	char *name = xml_node_attr(el, "Name");
	struct dnode *n = dnode_add(parent, xml_node_name(el), name);

	for (const struct xml_attr *a = xml_attr_first(el); a; a = xml_attr_next(a)) {
		char *v;

		if (!strcmp(xml_attr_name(a), "Name") || xml_in_list(tc_drop_attrs, xml_attr_name(a)))
			continue;
		v = xml_attr_value(a);
		dnode_set_attr(n, xml_attr_name(a), v);
		free(v);
	}
	object_children(n, el, depth);
	free(name);
}

static int twincat_parse(struct dnode **out, const char *text, size_t len)
{
	struct xml_doc *doc = NULL;
	const struct xml_node *top;
	struct dnode *root;
	int rc;

	*out = NULL;
	if ((rc = xml_doc_parse(&doc, text, len)))
		return rc;
	top = xml_doc_root(doc);
	if (strcmp(xml_node_name(top), "TcPlcObject")) {
		rc = err_set(OTCM_EINVAL, NULL, "root element is '%s', not 'TcPlcObject'", xml_node_name(top));
		xml_doc_free(doc);
		return rc;
	}
	root = dnode_new("TcPlcObject", NULL);
	for (const struct xml_attr *a = xml_attr_first(top); a; a = xml_attr_next(a)) {
		char *v;

		if (xml_in_list(tc_drop_attrs, xml_attr_name(a)))
			continue;
		v = xml_attr_value(a);
		dnode_set_attr(root, xml_attr_name(a), v);
		free(v);
	}
	for (const struct xml_node *c = xml_node_first(top); c; c = xml_node_next(c)) {
		const char *cn = xml_node_name(c);

		if (!strcmp(cn, "POU") || !strcmp(cn, "DUT") || !strcmp(cn, "GVL") || !strcmp(cn, "Itf"))
			object(root, c, 0);
		else
			xml_conv_element(root, c, &tc_cv);
	}
	xml_doc_free(doc);
	*out = root;
	return 0;
}

const struct diff_format diff_fmt_twincat = {
	.name = "twincat",
	.description = "Beckhoff TwinCAT 3 PLC objects (.TcPOU, .TcDUT, .TcGVL, .TcTask)",
	.detect = twincat_detect,
	.parse = twincat_parse,
};
