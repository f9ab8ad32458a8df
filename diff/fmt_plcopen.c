/*
 * diff/fmt_plcopen.c - PLCopen TC6 XML (CODESYS, Beremiz, OpenPLC, ...).
 *
 * Tree: DataType[..] (type, initial value, Member[..] of structures),
 * POU[..] with its variable sections (VAR_INPUT/xStart: data type, initial
 * value, address, comment), its body (ST/IL text, or LD/FBD/SFC elements
 * keyed by localId), Action[..] and Transition[..]; Configuration[..] with
 * Resource[..], Task[..], pouInstance[..] and VAR_GLOBAL.
 *
 * Noise dropped: fileHeader creationDateTime, productVersion and
 * productRelease; contentHeader modificationDateTime; graphical layout
 * (position/relPosition elements, x/y/width/height attributes).
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"
#include "diff/formats.h"
#include "diff/xml.h"

static const char *const gfx_ids[] = { "localId", NULL };
static const char *const gfx_drop_attrs[] = { "x", "y", "width", "height", NULL };
static const char *const gfx_drop_elems[] = { "position", "relPosition", NULL };
static const struct xml_conv gfx_cv = { gfx_ids, gfx_drop_attrs, gfx_drop_elems, false };
static const char *const name_ids[] = { "name", NULL };
static const struct xml_conv generic_cv = { name_ids, NULL, NULL, false };

static int plcopen_detect(const char *text, size_t len)
{
	size_t n = len < 4096 ? len : 4096;

	return memmem(text, n, "plcopen.org/xml/tc6", 19) ? 90 : 0;
}

static void type_string(struct buf *b, const struct xml_node *t, int depth);

static void type_of(struct buf *b, const struct xml_node *holder, int depth)
{
	const struct xml_node *c = holder ? xml_node_first(holder) : NULL;

	if (!c || depth > 32) {
		(void)buf_adds(b, "?");
		return;
	}
	type_string(b, c, depth + 1);
}

/* IEC text of a type element (<INT/>, <derived name=..>, <array>...). */
static void type_string(struct buf *b, const struct xml_node *t, int depth)
{
	const char *n = xml_node_name(t);
	char *a1 = NULL, *a2 = NULL;

	if (!strcmp(n, "derived")) {
		a1 = xml_node_attr(t, "name");
		(void)buf_adds(b, a1 ? a1 : "?");
	} else if (!strcmp(n, "array")) {
		bool first = true;

		(void)buf_adds(b, "ARRAY [");
		for (const struct xml_node *d = xml_node_first(t); d; d = xml_node_next(d)) {
			if (strcmp(xml_node_name(d), "dimension"))
				continue;
			free(a1);
			free(a2);
			a1 = xml_node_attr(d, "lower");
			a2 = xml_node_attr(d, "upper");
			(void)buf_addf(b, "%s%s..%s", first ? "" : ", ", a1 ? a1 : "", a2 ? a2 : "");
			first = false;
		}
		(void)buf_adds(b, "] OF ");
		type_of(b, xml_node_child(t, "baseType"), depth);
	} else if (!strcmp(n, "string") || !strcmp(n, "wstring")) {
		a1 = xml_node_attr(t, "length");
		(void)buf_adds(b, !strcmp(n, "string") ? "STRING" : "WSTRING");
		if (a1)
			(void)buf_addf(b, "[%s]", a1);
	} else if (!strcmp(n, "pointer")) {
		(void)buf_adds(b, "POINTER TO ");
		type_of(b, xml_node_child(t, "baseType"), depth);
	} else if (!strcmp(n, "subrangeSigned") || !strcmp(n, "subrangeUnsigned")) {
		const struct xml_node *r = xml_node_child(t, "range");

		type_of(b, xml_node_child(t, "baseType"), depth);
		if (r) {
			a1 = xml_node_attr(r, "lower");
			a2 = xml_node_attr(r, "upper");
			(void)buf_addf(b, "(%s..%s)", a1 ? a1 : "", a2 ? a2 : "");
		}
	} else if (!strcmp(n, "enum")) {
		const struct xml_node *v = xml_node_child(t, "values");
		bool first = true;

		(void)buf_adds(b, "(");
		for (const struct xml_node *e = v ? xml_node_first(v) : NULL; e; e = xml_node_next(e)) {
			free(a1);
			free(a2);
			a1 = xml_node_attr(e, "name");
			a2 = xml_node_attr(e, "value");
			(void)buf_addf(b, "%s%s", first ? "" : ", ", a1 ? a1 : "");
			if (a2)
				(void)buf_addf(b, " := %s", a2);
			first = false;
		}
		(void)buf_adds(b, ")");
	} else if (!strcmp(n, "struct")) {
		(void)buf_adds(b, "STRUCT");
	} else {
		(void)buf_adds(b, n);
	}
	free(a1);
	free(a2);
}

static void value_string(struct buf *b, const struct xml_node *v, int depth)
{
	const char *n = xml_node_name(v);
	char *a = NULL;
	bool first = true;

	if (depth > 32)
		return;
	if (!strcmp(n, "simpleValue")) {
		a = xml_node_attr(v, "value");
		(void)buf_adds(b, a ? a : "");
	} else if (!strcmp(n, "arrayValue") || !strcmp(n, "structValue")) {
		bool arr = !strcmp(n, "arrayValue");

		(void)buf_adds(b, arr ? "[" : "(");
		for (const struct xml_node *e = xml_node_first(v); e; e = xml_node_next(e)) {
			const struct xml_node *inner = xml_node_first(e);

			(void)buf_adds(b, first ? "" : ", ");
			free(a);
			a = xml_node_attr(e, arr ? "repetitionValue" : "member");
			if (a)
				(void)buf_addf(b, arr ? "%s(" : "%s := ", a);
			if (inner)
				value_string(b, inner, depth + 1);
			if (a && arr)
				(void)buf_adds(b, ")");
			first = false;
		}
		(void)buf_adds(b, arr ? "]" : ")");
	} else {
		char *t = xml_node_text(v);

		(void)buf_adds(b, t);
		free(t);
	}
	free(a);
}

static void attr_from_buf(struct dnode *n, const char *name, struct buf *b)
{
	dnode_set_attr(n, name, buf_cstr(b));
	buf_reset(b);
}

static void documentation(struct dnode *n, const struct xml_node *el)
{
	const struct xml_node *d = xml_node_child(el, "documentation");

	if (d) {
		char *raw = xml_node_text(d), *t = xml_trim(raw);

		if (*t)
			dnode_set_attr(n, "comment", t);
		free(raw);
		free(t);
	}
}

static void typed(struct dnode *n, const struct xml_node *el, const char *type_el)
{
	struct buf b = BUF_INIT;
	const struct xml_node *t = xml_node_child(el, type_el), *iv = xml_node_child(el, "initialValue");

	if (t) {
		type_of(&b, t, 0);
		attr_from_buf(n, "data type", &b);
		if (xml_node_first(t) && !strcmp(xml_node_name(xml_node_first(t)), "struct")) {
			for (const struct xml_node *m = xml_node_first(xml_node_first(t)); m; m = xml_node_next(m)) {
				char *name = xml_node_attr(m, "name");
				struct dnode *mn = dnode_add(n, "Member", name);

				free(name);
				typed(mn, m, "type");
			}
		}
	}
	if (iv && xml_node_first(iv)) {
		value_string(&b, xml_node_first(iv), 0);
		attr_from_buf(n, "initial value", &b);
	}
	documentation(n, el);
	buf_release(&b);
}

static const char *section_name(const char *el)
{
	static const char *const map[][2] = {
		{ "localVars", "VAR" }, { "tempVars", "VAR_TEMP" }, { "inputVars", "VAR_INPUT" },
		{ "outputVars", "VAR_OUTPUT" }, { "inOutVars", "VAR_IN_OUT" },
		{ "externalVars", "VAR_EXTERNAL" }, { "globalVars", "VAR_GLOBAL" },
		{ "accessVars", "VAR_ACCESS" },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i][0], el))
			return map[i][1];
	return NULL;
}

static void var_section(struct dnode *parent, const struct xml_node *sec, const char *name)
{
	struct dnode *s = dnode_child(parent, name, NULL);
	char *constant = xml_node_attr(sec, "constant"), *retain = xml_node_attr(sec, "retain");

	if (!s)
		s = dnode_add(parent, name, NULL);
	for (const struct xml_node *v = xml_node_first(sec); v; v = xml_node_next(v)) {
		char *vn, *addr;
		struct dnode *var;

		if (strcmp(xml_node_name(v), "variable"))
			continue;
		vn = xml_node_attr(v, "name");
		var = dnode_add(s, "", vn ? vn : "?");
		typed(var, v, "type");
		addr = xml_node_attr(v, "address");
		if (addr)
			dnode_set_attr(var, "address", addr);
		if (constant && !strcmp(constant, "true"))
			dnode_set_attr(var, "constant", "true");
		if (retain && !strcmp(retain, "true"))
			dnode_set_attr(var, "retain", "true");
		free(vn);
		free(addr);
	}
	free(constant);
	free(retain);
}

static void body(struct dnode *n, const struct xml_node *b)
{
	for (const struct xml_node *c = xml_node_first(b); c; c = xml_node_next(c)) {
		const char *cn = xml_node_name(c);

		if (!strcmp(cn, "ST") || !strcmp(cn, "IL")) {
			char *raw = xml_node_text(c), *t = xml_trim(raw);

			dnode_set_body(n, t, !strcmp(cn, "ST") ? "ST body" : "IL body");
			free(raw);
			free(t);
		} else if (!strcmp(cn, "documentation")) {
			continue;
		} else {
			xml_conv_element(n, c, &gfx_cv);
		}
	}
}

static void pou_like(struct dnode *n, const struct xml_node *el)
{
	for (const struct xml_node *c = xml_node_first(el); c; c = xml_node_next(c)) {
		const char *cn = xml_node_name(c);

		if (!strcmp(cn, "interface")) {
			for (const struct xml_node *s = xml_node_first(c); s; s = xml_node_next(s)) {
				const char *sn = section_name(xml_node_name(s));

				if (sn) {
					var_section(n, s, sn);
				} else if (!strcmp(xml_node_name(s), "returnType")) {
					struct buf b = BUF_INIT;

					type_of(&b, s, 0);
					attr_from_buf(n, "return type", &b);
					buf_release(&b);
				} else {
					xml_conv_element(n, s, &generic_cv);
				}
			}
		} else if (!strcmp(cn, "body")) {
			body(n, c);
		} else if (!strcmp(cn, "actions") || !strcmp(cn, "transitions")) {
			bool act = !strcmp(cn, "actions");

			for (const struct xml_node *a = xml_node_first(c); a; a = xml_node_next(a)) {
				char *an = xml_node_attr(a, "name");

				pou_like(dnode_add(n, act ? "Action" : "Transition", an), a);
				free(an);
			}
		} else if (!strcmp(cn, "documentation")) {
			documentation(n, el);
		} else {
			xml_conv_element(n, c, &generic_cv);
		}
	}
}

static void copy_attrs_except_name(struct dnode *n, const struct xml_node *el)
{
	for (const struct xml_attr *a = xml_attr_first(el); a; a = xml_attr_next(a)) {
		char *v;

		if (!strcmp(xml_attr_name(a), "name"))
			continue;
		v = xml_attr_value(a);
		dnode_set_attr(n, xml_attr_name(a), v);
		free(v);
	}
}

static void config_like(struct dnode *n, const struct xml_node *el, int depth)
{
	copy_attrs_except_name(n, el);
	for (const struct xml_node *c = xml_node_first(el); c; c = xml_node_next(c)) {
		const char *cn = xml_node_name(c);
		char *name = xml_node_attr(c, "name");

		if (!strcmp(cn, "globalVars")) {
			var_section(n, c, "VAR_GLOBAL");
		} else if (depth < 8 && (!strcmp(cn, "resource") || !strcmp(cn, "task"))) {
			config_like(dnode_add(n, !strcmp(cn, "resource") ? "Resource" : "Task", name), c,
			            depth + 1);
		} else if (!strcmp(cn, "documentation")) {
			documentation(n, el);
		} else {
			xml_conv_element(n, c, &generic_cv);
		}
		free(name);
	}
}

static void each_named(struct dnode *root, const struct xml_node *list, const char *type,
                       void (*fn)(struct dnode *, const struct xml_node *))
{
	for (const struct xml_node *c = list ? xml_node_first(list) : NULL; c; c = xml_node_next(c)) {
		char *name = xml_node_attr(c, "name");

		fn(dnode_add(root, type, name), c);
		free(name);
	}
}

static void datatype(struct dnode *n, const struct xml_node *el)
{
	typed(n, el, "baseType");
}

static void pou(struct dnode *n, const struct xml_node *el)
{
	char *t = xml_node_attr(el, "pouType");

	if (t)
		dnode_set_attr(n, "pou type", t);
	free(t);
	pou_like(n, el);
}

static void configuration(struct dnode *n, const struct xml_node *el)
{
	config_like(n, el, 0);
}

static int plcopen_parse(struct dnode **out, const char *text, size_t len)
{
	static const char *const fh_noise[] = { "creationDateTime", "productVersion", "productRelease", NULL };
	static const char *const ch_noise[] = { "modificationDateTime", NULL };
	struct xml_doc *doc = NULL;
	const struct xml_node *top;
	struct dnode *root;
	int rc;

	*out = NULL;
	if ((rc = xml_doc_parse(&doc, text, len)))
		return rc;
	top = xml_doc_root(doc);
	if (strcmp(xml_node_name(top), "project")) {
		rc = err_set(OTCM_EINVAL, NULL, "root element is '%s', not 'project'", xml_node_name(top));
		xml_doc_free(doc);
		return rc;
	}
	root = dnode_new("Project", NULL);
	for (const struct xml_node *c = xml_node_first(top); c; c = xml_node_next(c)) {
		const char *cn = xml_node_name(c);

		if (!strcmp(cn, "fileHeader") || !strcmp(cn, "contentHeader")) {
			const struct xml_conv cv = { NULL, !strcmp(cn, "fileHeader") ? fh_noise : ch_noise, NULL, false };

			xml_conv_element(root, c, &cv);
		} else if (!strcmp(cn, "types")) {
			each_named(root, xml_node_child(c, "dataTypes"), "DataType", datatype);
			each_named(root, xml_node_child(c, "pous"), "POU", pou);
		} else if (!strcmp(cn, "instances")) {
			each_named(root, xml_node_child(c, "configurations"), "Configuration", configuration);
		} else {
			xml_conv_element(root, c, &generic_cv);
		}
	}
	xml_doc_free(doc);
	*out = root;
	return 0;
}

const struct diff_format diff_fmt_plcopen = {
	.name = "plcopen",
	.description = "PLCopen TC6 XML (CODESYS, Beremiz, OpenPLC)",
	.detect = plcopen_detect,
	.parse = plcopen_parse,
};
