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

/* A child converted from an element, with the attribute its name came from. */
struct named_kid {
	struct dnode *n;
	const char *id_attr;
};

static int named_kid_cmp(const void *x, const void *y)
{
	const struct named_kid *a = x, *b = y;
	int c = strcmp(a->n->type, b->n->type);

	return c ? c : strcmp(a->n->name, b->n->name);
}

/*
 * An identity shared by siblings of the same element is no identity: those
 * children become positional again and keep the value as an attribute.
 */
static void demote_duplicates(struct named_kid *k, size_t n)
{
	size_t i = 0;

	if (n < 2)
		return;   /* nothing to share an identity with (and qsort wants a real array) */
	qsort(k, n, sizeof(*k), named_kid_cmp);
	while (i < n) {
		size_t j = i + 1;

		while (j < n && !named_kid_cmp(&k[i], &k[j]))
			j++;
		for (size_t m = i; j - i > 1 && m < j; m++) {
			dnode_set_attr(k[m].n, k[m].id_attr, k[m].n->name);
			dnode_set_name(k[m].n, NULL);
		}
		i = j;
	}
}

static struct dnode *conv_named(struct dnode *parent, const struct xml_node *el,
                                const struct xml_conv *cv, int depth, const char **out_id_attr);

static struct dnode *conv(struct dnode *parent, const struct xml_node *el,
                          const struct xml_conv *cv, int depth)
{
	const char *id_attr;

	return conv_named(parent, el, cv, depth, &id_attr);
}

static struct dnode *conv_named(struct dnode *parent, const struct xml_node *el,
                                const struct xml_conv *cv, int depth, const char **out_id_attr)
{
	const struct xml_attr *a;
	const struct xml_node *c;
	const char *id_name = NULL, *id = NULL;
	char *text;
	struct dnode *n;
	struct named_kid *named = NULL;
	size_t nnamed = 0, named_alloc = 0;
	bool positional = false;

	*out_id_attr = NULL;
	if (xml_in_list(cv->drop_elems, xml_node_name(el)))
		return NULL;
	if (cv->id_attrs) {
		for (const char *const *p = cv->id_attrs; *p && !id; p++) {
			id = xml_node_attr_ref(el, *p);
			id_name = *p;
		}
	}
	n = dnode_add(parent, xml_node_name(el), id);
	if (id)
		*out_id_attr = id_name;
	for (a = xml_attr_first(el); a; a = xml_attr_next(a)) {
		const char *an = xml_attr_name(a);

		if ((id_name && n->name && !strcmp(an, id_name)) || xml_in_list(cv->drop_attrs, an))
			continue;
		dnode_set_attr(n, an, xml_attr_value_ref(a));
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
		{
			const char *kid_id;
			struct dnode *k = conv_named(n, c, cv, depth + 1, &kid_id);

			if (k && kid_id) {
				if (nnamed == named_alloc) {
					named_alloc = named_alloc ? named_alloc * 2 : 16;
					named = xrealloc(named, named_alloc * sizeof(*named));
				}
				named[nnamed++] = (struct named_kid){ k, kid_id };
			}
		}
	}
	demote_duplicates(named, nnamed);
	free(named);
	for (size_t i = 0; i < n->nkids && !positional; i++)
		positional = !n->kids[i]->name;
	if (positional && cv->sequence)
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
	struct named_kid *named = NULL;
	size_t nnamed = 0, named_alloc = 0;

	for (c = xml_node_first(el); c; c = xml_node_next(c)) {
		const char *kid_id;
		struct dnode *k = conv_named(parent, c, cv, 1, &kid_id);

		if (k && kid_id) {
			if (nnamed == named_alloc) {
				named_alloc = named_alloc ? named_alloc * 2 : 16;
				named = xrealloc(named, named_alloc * sizeof(*named));
			}
			named[nnamed++] = (struct named_kid){ k, kid_id };
		}
	}
	demote_duplicates(named, nnamed);
	free(named);
}
