/*
 * diff/xml_tree.c - generic conversion of XML elements into dnodes, shared
 * by every XML format (and the whole of the generic XML/HMI format).
 * See xml_conv_element() in xml.h for the rules.
 */
#include "diff/xml.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

bool xml_in_list(const char *const *list, const char *s)
{
	if (!list || !s)
		return false;
	for (; *list; list++)
		if (!strcmp(*list, s))
			return true;
	return false;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

char *xml_trim(const char *s)
{
	size_t len;

	while (is_space(*s))
		s++;
	len = strlen(s);
	while (len && is_space(s[len - 1]))
		len--;
	return xstrndup(s, len);
}

/* A simple element: no attributes, no element children; it may fold into its parent. */
static bool is_simple(const struct xml_node *el)
{
	return !xml_attr_first(el) && !xml_node_has_elements(el);
}

static size_t count_named(const struct xml_node *parent, const char *name)
{
	const struct xml_node *c;
	size_t n = 0;

	for (c = xml_node_first(parent); c; c = xml_node_next(c))
		if (!strcmp(xml_node_name(c), name))
			n++;
	return n;
}

static void set_text(struct dnode *n, const char *raw, bool has_kids)
{
	char *t = xml_trim(raw);

	if (*t) {
		if (!has_kids && strchr(t, '\n'))
			dnode_set_body(n, t, "text");
		else
			dnode_set_attr(n, "text", t);
	}
	free(t);
}

static struct dnode *conv(struct dnode *parent, const struct xml_node *el,
                          const struct xml_conv *cv, int depth)
{
	const struct xml_attr *a;
	const struct xml_node *c;
	const char *id_name = NULL;
	char *id = NULL, *text;
	struct dnode *n;

	if (xml_in_list(cv->drop_elems, xml_node_name(el)))
		return NULL;
	if (cv->id_attrs) {
		for (const char *const *p = cv->id_attrs; *p && !id; p++) {
			id = xml_node_attr(el, *p);
			id_name = *p;
		}
	}
	n = dnode_add(parent, xml_node_name(el), id);
	free(id);
	for (a = xml_attr_first(el); a; a = xml_attr_next(a)) {
		const char *an = xml_attr_name(a);
		char *v;

		if ((id_name && n->name && !strcmp(an, id_name)) || xml_in_list(cv->drop_attrs, an))
			continue;
		v = xml_attr_value(a);
		dnode_set_attr(n, an, v);
		free(v);
	}
	if (depth >= XML_MAX_DEPTH)
		return n;
	for (c = xml_node_first(el); c; c = xml_node_next(c)) {
		const char *cn = xml_node_name(c);

		if (xml_in_list(cv->drop_elems, cn))
			continue;
		if (is_simple(c) && count_named(el, cn) == 1 && !dnode_attr(n, cn)) {
			char *raw = xml_node_text(c), *t = xml_trim(raw);

			dnode_set_attr(n, cn, t);
			free(raw);
			free(t);
			continue;
		}
		conv(n, c, cv, depth + 1);
	}
	if (n->nkids && cv->sequence)
		n->flags |= DNODE_SEQUENCE;
	text = xml_node_own_text(el);
	set_text(n, text, xml_node_has_elements(el));
	free(text);
	return n;
}

struct dnode *xml_conv_element(struct dnode *parent, const struct xml_node *el,
                               const struct xml_conv *cv)
{
	return conv(parent, el, cv, 0);
}

void xml_conv_children(struct dnode *parent, const struct xml_node *el,
                       const struct xml_conv *cv)
{
	const struct xml_node *c;

	for (c = xml_node_first(el); c; c = xml_node_next(c))
		conv(parent, c, cv, 1);
}
