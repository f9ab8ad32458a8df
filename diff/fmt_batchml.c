/*
 * diff/fmt_batchml.c - ISA-88 BatchML and B2MML documents (recipes,
 * formulas, batch information).
 *
 * Elements are identified by their <ID> child (MasterRecipe[1],
 * RecipeElement[..], Parameter[..]); a parameter's <Value> folds into
 * "value", "unit", "data type" and "data interpretation" attributes, so a
 * changed set point reports old and new value with a numeric delta.  Other
 * single text children become attributes named after them.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "diff/formats.h"
#include "diff/xml.h"

static bool starts(const char *p, const char *end, const char *prefix)
{
	size_t l = strlen(prefix);

	return (size_t)(end - p) >= l && !memcmp(p, prefix, l);
}

static int batchml_detect(const char *text, size_t len)
{
	size_t n = len < 4096 ? len : 4096;
	const char *root = NULL;

	if (!memmem(text, n, "BatchML", 7) && !memmem(text, n, "B2MML", 5) &&
	    !memmem(text, n, "batchml", 7) && !memmem(text, n, "b2mml", 5))
		return 0;
	/* the schemas themselves are XML Schema documents, not recipes */
	for (size_t i = 0; i + 1 < n; i++)
		if (text[i] == '<' && (isalpha((unsigned char)text[i + 1]))) {
			root = text + i;
			break;
		}
	/* binary input is not NUL-terminated: compare within n only */
	if (root && (starts(root, text + n, "<xs:schema") || starts(root, text + n, "<xsd:schema") ||
	             starts(root, text + n, "<schema")))
		return 0;
	return 60;
}

static char *text_of(const struct xml_node *el)
{
	char *raw = xml_node_text(el), *t = xml_trim(raw);

	free(raw);
	return t;
}

static bool simple(const struct xml_node *el)
{
	return !xml_attr_first(el) && !xml_node_has_elements(el);
}

static size_t count_named(const struct xml_node *parent, const char *name)
{
	size_t n = 0;

	for (const struct xml_node *c = xml_node_first(parent); c; c = xml_node_next(c))
		n += !strcmp(xml_node_name(c), name);
	return n;
}

static void value(struct dnode *n, const struct xml_node *v)
{
	static const char *const map[][2] = {
		{ "ValueString", "value" }, { "UnitOfMeasure", "unit" }, { "DataType", "data type" },
		{ "DataInterpretation", "data interpretation" }, { "Key", "key" },
	};

	for (const struct xml_node *c = xml_node_first(v); c; c = xml_node_next(c)) {
		const char *cn = xml_node_name(c), *an = cn;
		char *t = text_of(c);

		for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
			if (!strcmp(map[i][0], cn))
				an = map[i][1];
		dnode_set_attr(n, an, t);
		free(t);
	}
}

static void conv(struct dnode *parent, const struct xml_node *el, int depth)
{
	const struct xml_node *idn = xml_node_child(el, "ID");
	char *id = idn && simple(idn) ? text_of(idn) : NULL;
	struct dnode *n = dnode_add(parent, xml_node_name(el), id && *id ? id : NULL);
	size_t nvalues = count_named(el, "Value");

	for (const struct xml_attr *a = xml_attr_first(el); a; a = xml_attr_next(a)) {
		char *v = xml_attr_value(a);

		dnode_set_attr(n, xml_attr_name(a), v);
		free(v);
	}
	for (const struct xml_node *c = xml_node_first(el); c; c = xml_node_next(c)) {
		const char *cn = xml_node_name(c);

		if (c == idn && n->name)
			continue;
		if (!strcmp(cn, "Value") && nvalues == 1 && xml_node_has_elements(c)) {
			value(n, c);
		} else if (simple(c) && count_named(el, cn) == 1) {
			char *t = text_of(c);

			dnode_set_attr(n, cn, t);
			free(t);
		} else if (simple(c)) {
			char *t = text_of(c);

			if (*t)   /* repeated empty placeholders carry nothing */
				dnode_set_attr(dnode_add(n, cn, NULL), "text", t);
			free(t);
		} else if (depth < XML_MAX_DEPTH) {
			conv(n, c, depth + 1);
		}
	}
	if (!xml_node_has_elements(el)) {
		char *t = text_of(el);

		if (*t)
			dnode_set_attr(n, "text", t);
		free(t);
	}
	free(id);
}

static int batchml_parse(struct dnode **out, const char *text, size_t len)
{
	struct xml_doc *doc = NULL;
	struct dnode *holder;
	int rc;

	*out = NULL;
	if ((rc = xml_doc_parse(&doc, text, len)))
		return rc;
	holder = dnode_new("", NULL);
	conv(holder, xml_doc_root(doc), 0);
	*out = dnode_detach(holder, 0);
	dnode_free(holder);
	xml_doc_free(doc);
	return 0;
}

const struct diff_format diff_fmt_batchml = {
	.name = "batchml",
	.description = "ISA-88 BatchML / B2MML recipes and batch information",
	.detect = batchml_detect,
	.parse = batchml_parse,
};
