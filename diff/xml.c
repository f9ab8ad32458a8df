/*
 * diff/xml.c - the XML reader over libxml2's tree API; see xml.h.
 * The only file in otcm that includes libxml2.
 */
#include "diff/xml.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"

struct xml_doc {
	xmlDocPtr doc;
};

/* Our opaque node types are libxml2's nodes; conversions go through void *. */
static const xmlNode *xn(const struct xml_node *n)
{
	return (const xmlNode *)(const void *)n;
}

static const struct xml_node *xw(const xmlNode *n)
{
	return (const struct xml_node *)(const void *)n;
}

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
	xmlInitParser();
}

static int xml_depth_ok(const xmlNode *n, int depth)
{
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (depth > XML_MAX_DEPTH)
			return 0;
		if (n->children && !xml_depth_ok(n->children, depth + 1))
			return 0;
	}
	return 1;
}

int xml_doc_parse(struct xml_doc **out, const char *text, size_t len)
{
	xmlParserCtxtPtr ctxt = NULL;
	xmlDocPtr doc = NULL;
	int rc = 0;
	/* No NOENT (entities stay references), no DTDLOAD/DTDATTR, no HUGE. */
	int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;

	*out = NULL;
	if (len > INT32_MAX)
		return err_set(OTCM_ETOOBIG, NULL, "xml document too large");
	pthread_once(&xml_once, xml_init);
	ctxt = xmlNewParserCtxt();
	if (!ctxt)
		return err_set(OTCM_EINTERNAL, NULL, "cannot create xml parser");
	doc = xmlCtxtReadMemory(ctxt, text, (int)len, NULL, "UTF-8", opts);
	if (!doc || !ctxt->wellFormed) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);
		char msg[160] = "not well-formed";
		size_t l;

		if (e && e->message) {
			snprintf(msg, sizeof(msg), "%s", e->message);
			l = strlen(msg);
			while (l && (msg[l - 1] == '\n' || msg[l - 1] == '.'))
				msg[--l] = '\0';
		}
		rc = err_set(OTCM_EINVAL, NULL, "xml line %d: %s", e ? e->line : 0, msg);
		goto out;
	}
	if (!xmlDocGetRootElement(doc)) {
		rc = err_set(OTCM_EINVAL, NULL, "xml document has no root element");
		goto out;
	}
	if (!xml_depth_ok(doc->children, 1)) {
		rc = err_set(OTCM_ETOOBIG, NULL, "xml nesting deeper than %d", XML_MAX_DEPTH);
		goto out;
	}
	*out = xcalloc(1, sizeof(**out));
	(*out)->doc = doc;
	doc = NULL;
out:
	if (doc)
		xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	return rc;
}

void xml_doc_free(struct xml_doc *d)
{
	if (!d)
		return;
	xmlFreeDoc(d->doc);
	free(d);
}

const struct xml_node *xml_doc_root(const struct xml_doc *d)
{
	return xw(xmlDocGetRootElement(d->doc));
}

const char *xml_node_name(const struct xml_node *n)
{
	return (const char *)xn(n)->name;
}

const char *xml_node_ns(const struct xml_node *n)
{
	const xmlNode *x = xn(n);

	return x->ns && x->ns->href ? (const char *)x->ns->href : NULL;
}

static const xmlNode *next_element(const xmlNode *n)
{
	while (n && n->type != XML_ELEMENT_NODE)
		n = n->next;
	return n;
}

const struct xml_node *xml_node_first(const struct xml_node *n)
{
	return xw(next_element(xn(n)->children));
}

const struct xml_node *xml_node_next(const struct xml_node *n)
{
	return xw(next_element(xn(n)->next));
}

const struct xml_node *xml_node_child(const struct xml_node *n, const char *name)
{
	const struct xml_node *c;

	for (c = xml_node_first(n); c; c = xml_node_next(c))
		if (!strcmp(xml_node_name(c), name))
			return c;
	return NULL;
}

bool xml_node_has_elements(const struct xml_node *n)
{
	return xml_node_first(n) != NULL;
}

/* Text of a node list: text and CDATA verbatim, entity references as written. */
static void list_text(struct buf *b, const xmlNode *n, bool deep, int depth)
{
	for (; n; n = n->next) {
		switch (n->type) {
		case XML_TEXT_NODE:
		case XML_CDATA_SECTION_NODE:
			if (n->content)
				(void)buf_adds(b, (const char *)n->content);
			break;
		case XML_ENTITY_REF_NODE:
			(void)buf_addf(b, "&%s;", (const char *)n->name);
			break;
		case XML_ELEMENT_NODE:
			if (deep && depth < XML_MAX_DEPTH)
				list_text(b, n->children, deep, depth + 1);
			break;
		default:
			break;
		}
	}
}

char *xml_node_text(const struct xml_node *n)
{
	struct buf b = BUF_INIT;

	list_text(&b, xn(n)->children, true, 0);
	return b.data ? buf_detach(&b, NULL) : xstrdup("");
}

char *xml_node_own_text(const struct xml_node *n)
{
	struct buf b = BUF_INIT;

	list_text(&b, xn(n)->children, false, 0);
	return b.data ? buf_detach(&b, NULL) : xstrdup("");
}

static const xmlAttr *xa(const struct xml_attr *a)
{
	return (const xmlAttr *)(const void *)a;
}

const struct xml_attr *xml_attr_first(const struct xml_node *n)
{
	return (const struct xml_attr *)(const void *)xn(n)->properties;
}

const struct xml_attr *xml_attr_next(const struct xml_attr *a)
{
	return (const struct xml_attr *)(const void *)xa(a)->next;
}

const char *xml_attr_name(const struct xml_attr *a)
{
	return (const char *)xa(a)->name;
}

char *xml_attr_value(const struct xml_attr *a)
{
	struct buf b = BUF_INIT;

	list_text(&b, xa(a)->children, false, 0);
	return b.data ? buf_detach(&b, NULL) : xstrdup("");
}

char *xml_node_attr(const struct xml_node *n, const char *name)
{
	const struct xml_attr *a;

	for (a = xml_attr_first(n); a; a = xml_attr_next(a))
		if (!strcmp(xml_attr_name(a), name))
			return xml_attr_value(a);
	return NULL;
}
