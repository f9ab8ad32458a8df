/*
 * diff/xml.c - the XML reader over libxml2; see xml.h.
 * The only file in otcm that includes libxml2.
 *
 * A document is read straight into a compact read-only tree of our own
 * (elements, their attributes, their text), kept in a few large blocks: no
 * libxml2 tree is built and freed, and a document's memory goes back in one
 * sweep.  The reader is first the fast one of diff/xml_scan.c, which reads
 * the plain subset exports are written in without copying the input; when
 * it gives up, libxml2's SAX2 parser reads the document from the start.
 * Element and attribute names are interned per document (libxml2's
 * dictionary when libxml2 read it).  A document with a DOCTYPE is read by
 * libxml2 into its own tree: its declarations (entities, attribute
 * defaults) are libxml2's business, and that tree is copied into ours, with
 * entity references kept as their literal "&name;" text.
 */
#include "diff/xml.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/tree.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"
#include "diff/xml_scan.h"

/* ---- the tree ---- */

/*
 * An element's content is one list of items in document order (elements
 * and runs of text); elements are also chained among themselves so that
 * walking the element children skips the text.
 */
struct xml_item {
	struct xml_item *next;
	uint32_t len;              /* text: length of text[]; ITEM_ELEMENT: an element */
	char text[];               /* text: NUL-terminated */
};

/* Documents are under 2 GB (xml_doc_parse), so no run of text is this long. */
#define ITEM_ELEMENT UINT32_MAX

struct xml_node {
	struct xml_item item;      /* this element's place in its parent's items */
	const char *name;
	const char *ns;
	struct xml_attr *attrs;
	struct xml_item *items;
	struct xml_node *first;    /* first element child */
	struct xml_node *next;     /* next element sibling */
};

struct xml_attr {
	struct xml_attr *next;
	const char *name;
	char *value;
};

#define POOL_BLOCK ((size_t)256 * 1024)
#define POOL_ALIGN 8

struct pool_block {
	struct pool_block *next;
	size_t used, size;
	_Alignas(POOL_ALIGN) unsigned char data[];
};

/*
 * The names of a document the fast reader read, interned: a few hundred
 * distinct ones for hundreds of thousands of elements.  Open addressing,
 * at most half full; each name is its own allocation, so the pool can be
 * rewound under them.
 */
struct name_slot {
	uint32_t hash, len;
	char *s;
};

struct xml_doc {
	struct pool_block *blocks;
	xmlDictPtr dict;           /* holds the interned names (libxml2's reading) */
	struct name_slot *names;   /* holds them (the fast reader's) */
	size_t nnames, names_alloc;
	struct xml_node *root;
};

/* Uninitialised memory that lives as long as the document. */
static void *pool_alloc(struct xml_doc *d, size_t n)
{
	struct pool_block *b = d->blocks;
	void *p;

	n = (n + POOL_ALIGN - 1) & ~(size_t)(POOL_ALIGN - 1);
	if (!b || b->size - b->used < n) {
		size_t size = n > POOL_BLOCK / 4 ? n : POOL_BLOCK;

		b = xmalloc(sizeof(*b) + size);
		b->used = 0;
		b->size = size;
		if (size == n && d->blocks) {
			/* a block of its own, behind the current one */
			b->next = d->blocks->next;
			d->blocks->next = b;
		} else {
			b->next = d->blocks;
			d->blocks = b;
		}
	}
	p = b->data + b->used;
	b->used += n;
	return p;
}

/*
 * A point in the pool's history: rewinding to it gives back everything
 * allocated since (the blocks added, and any large block put behind the
 * block that was current).
 */
struct pool_mark {
	struct pool_block *block, *next;
	size_t used;
};

static struct pool_mark pool_mark(const struct xml_doc *d)
{
	struct pool_block *b = d->blocks;

	return (struct pool_mark){ b, b ? b->next : NULL, b ? b->used : 0 };
}

static void pool_rewind(struct xml_doc *d, struct pool_mark m)
{
	struct pool_block *b;

	while (d->blocks != m.block) {
		b = d->blocks;
		d->blocks = b->next;
		free(b);
	}
	if (!m.block)
		return;
	while (m.block->next != m.next) {
		b = m.block->next;
		m.block->next = b->next;
		free(b);
	}
	m.block->used = m.used;
}

static char *pool_strndup(struct xml_doc *d, const char *s, size_t len)
{
	char *p = pool_alloc(d, len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/*
 * Builds a tree: the open elements, where each one's lists end, and what
 * to restore when an element is given back (xml_doc_parse_stream): its
 * parent's list ends before it and the pool as it was.
 */
struct open_el {
	struct xml_node *el;
	struct xml_item **items_tail;
	struct xml_node **first_tail;
	struct xml_item **parent_items_tail;
	struct xml_node **parent_first_tail;
	struct pool_mark mark;
};

struct builder {
	struct xml_doc *doc;
	struct open_el *stack;
	const struct xml_node **path;   /* the open elements, for on_close */
	size_t depth, stack_alloc;
	const struct xml_stream *stream;   /* NULL: keep every element */
	struct buf text;           /* text of the current element not yet stored */
	bool too_deep;
	bool has_doctype;
	bool failed;               /* out of buffer space for text */
};

static void builder_flush_text(struct builder *b)
{
	struct xml_item *t;
	struct open_el *top;

	if (!b->text.len)
		return;
	top = &b->stack[b->depth - 1];
	t = pool_alloc(b->doc, offsetof(struct xml_item, text) + b->text.len + 1);
	t->next = NULL;
	t->len = (uint32_t)b->text.len;
	memcpy(t->text, b->text.data, b->text.len + 1);
	*top->items_tail = t;
	top->items_tail = &t->next;
	b->text.len = 0;
}

static struct xml_node *builder_open(struct builder *b, const char *name, const char *ns)
{
	struct xml_node *el;
	struct open_el *top = NULL;
	struct pool_mark mark;

	if (b->depth)
		builder_flush_text(b);
	mark = pool_mark(b->doc);
	el = pool_alloc(b->doc, sizeof(*el));
	memset(el, 0, sizeof(*el));
	el->item.len = ITEM_ELEMENT;
	el->name = name;
	el->ns = ns;
	if (b->depth == b->stack_alloc) {
		b->stack_alloc = b->stack_alloc ? b->stack_alloc * 2 : 64;
		b->stack = xrealloc(b->stack, b->stack_alloc * sizeof(*b->stack));
		b->path = xrealloc(b->path, b->stack_alloc * sizeof(*b->path));
	}
	if (b->depth) {
		top = &b->stack[b->depth - 1];
		b->stack[b->depth] = (struct open_el){ el, &el->items, &el->first, top->items_tail,
		                                       top->first_tail, mark };
		*top->items_tail = &el->item;
		top->items_tail = &el->item.next;
		*top->first_tail = el;
		top->first_tail = &el->next;
	} else {
		if (!b->doc->root)
			b->doc->root = el;
		b->stack[b->depth] = (struct open_el){ el, &el->items, &el->first, NULL, NULL, mark };
	}
	b->path[b->depth++] = el;
	if (b->depth > XML_MAX_DEPTH)
		b->too_deep = true;
	return el;
}

static void builder_close(struct builder *b)
{
	struct open_el *el, *top;

	if (!b->depth)
		return;
	builder_flush_text(b);
	el = &b->stack[b->depth - 1];
	if (b->depth > 1 && b->stream && !b->failed &&
	    b->stream->on_close(b->stream->ctx, b->path, b->depth)) {
		/* consumed: unlink it from its parent and give its memory back */
		top = &b->stack[b->depth - 2];
		*el->parent_items_tail = NULL;
		*el->parent_first_tail = NULL;
		top->items_tail = el->parent_items_tail;
		top->first_tail = el->parent_first_tail;
		pool_rewind(b->doc, el->mark);
	}
	b->depth--;
}

static void builder_text(struct builder *b, const char *s, size_t len)
{
	if (!b->depth || b->failed)
		return;
	if (len >= ITEM_ELEMENT - b->text.len || buf_add(&b->text, s, len))
		b->failed = true;
}

/*
 * An attribute value as libxml2's parser hands it over without entity
 * substitution: a value it had to rewrite is NUL-terminated and keeps each
 * '&' as the character reference "&#38;" (libxml2's own tree builder reads
 * such a value back as text and references); other values are verbatim.
 * Only documents without a DOCTYPE get here, so no other reference is left.
 */
static char *attr_value(struct xml_doc *d, const xmlChar *value, const xmlChar *end)
{
	size_t len = (size_t)(end - value);
	const char *s = (const char *)value;
	char *v, *w;

	if (*end != 0 || !memchr(s, '&', len))
		return pool_strndup(d, s, len);
	v = w = pool_alloc(d, len + 1);
	for (size_t i = 0; i < len;) {
		if (s[i] == '&' && len - i >= 5 && !memcmp(s + i, "&#38;", 5)) {
			*w++ = '&';
			i += 5;
		} else {
			*w++ = s[i++];
		}
	}
	*w = '\0';
	return v;
}

static struct builder *builder_of(void *ctx)
{
	return ((xmlParserCtxtPtr)ctx)->_private;
}

static void sax_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                      const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
                      int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
	struct builder *b = builder_of(ctx);
	struct xml_node *el;
	struct xml_attr **tail;

	(void)prefix;
	(void)nb_namespaces;
	(void)namespaces;
	(void)nb_defaulted;
	/* names are the parser's interned strings; a namespace is interned here */
	if (uri)
		uri = xmlDictLookup(((xmlParserCtxtPtr)ctx)->dict, uri, -1);
	el = builder_open(b, (const char *)localname, (const char *)uri);
	tail = &el->attrs;
	for (int i = 0; i < nb_attributes; i++) {
		const xmlChar **a = attributes + 5 * i;
		struct xml_attr *at = pool_alloc(b->doc, sizeof(*at));

		at->next = NULL;
		at->name = (const char *)a[0];
		at->value = attr_value(b->doc, a[3], a[4]);
		*tail = at;
		tail = &at->next;
	}
}

static void sax_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                    const xmlChar *uri)
{
	(void)localname;
	(void)prefix;
	(void)uri;
	builder_close(builder_of(ctx));
}

static void sax_text(void *ctx, const xmlChar *s, int len)
{
	builder_text(builder_of(ctx), (const char *)s, len > 0 ? (size_t)len : 0);
}

/* A DOCTYPE: stop; the document is read through libxml2's tree instead. */
static void sax_doctype(void *ctx, const xmlChar *name, const xmlChar *external_id,
                        const xmlChar *system_id)
{
	(void)name;
	(void)external_id;
	(void)system_id;
	builder_of(ctx)->has_doctype = true;
	xmlStopParser(ctx);
}

/* ---- the fast reader's events (diff/xml_scan.h) ---- */

/* The document's one copy of the name s[0, len), whose hash is h (xml_scan.h). */
static const char *name_intern(struct xml_doc *d, const char *s, size_t len, uint32_t h)
{
	size_t mask, i;

	if (2 * (d->nnames + 1) > d->names_alloc) {
		struct name_slot *old = d->names;
		size_t old_alloc = d->names_alloc;

		d->names_alloc = old_alloc ? old_alloc * 2 : 256;
		d->names = xcalloc(d->names_alloc, sizeof(*d->names));
		mask = d->names_alloc - 1;
		for (size_t j = 0; j < old_alloc; j++) {
			if (!old[j].s)
				continue;
			for (i = old[j].hash & mask; d->names[i].s; i = (i + 1) & mask)
				;
			d->names[i] = old[j];
		}
		free(old);
	}
	mask = d->names_alloc - 1;
	for (i = h & mask; d->names[i].s; i = (i + 1) & mask)
		if (d->names[i].hash == h && d->names[i].len == len && !memcmp(d->names[i].s, s, len))
			return d->names[i].s;
	d->names[i] = (struct name_slot){ h, (uint32_t)len, xstrndup(s, len) };
	d->nnames++;
	return d->names[i].s;
}

#define SCAN_MAX_ATTRS 256   /* past this, libxml2 checks for repeated names */

static int scan_start(void *ctx, const char *name, size_t name_len, uint32_t name_hash,
                      const struct xml_scan_attr *attrs, size_t nattrs)
{
	struct builder *b = ctx;
	struct xml_doc *d = b->doc;
	const char *names[SCAN_MAX_ATTRS];
	const char *el_name;
	struct xml_node *el;
	struct xml_attr **tail;

	if (nattrs > SCAN_MAX_ATTRS)
		return XML_SCAN_GIVE_UP;
	el_name = name_intern(d, name, name_len, name_hash);
	for (size_t i = 0; i < nattrs; i++) {
		names[i] = name_intern(d, attrs[i].name, attrs[i].name_len, attrs[i].name_hash);
		for (size_t j = 0; j < i; j++)
			if (names[j] == names[i])
				return XML_SCAN_GIVE_UP;   /* an attribute given twice */
	}
	el = builder_open(b, el_name, NULL);
	tail = &el->attrs;
	for (size_t i = 0; i < nattrs; i++) {
		struct xml_attr *at = pool_alloc(d, sizeof(*at));

		at->next = NULL;
		at->name = names[i];
		at->value = pool_strndup(d, attrs[i].value, attrs[i].value_len);
		*tail = at;
		tail = &at->next;
	}
	return 0;
}

static void scan_text(void *ctx, const char *s, size_t len)
{
	builder_text(ctx, s, len);
}

static void scan_end(void *ctx)
{
	builder_close(ctx);
}

static void scan_progress(void *ctx, size_t offset)
{
	struct builder *b = ctx;

	if (b->stream && b->stream->on_consumed)
		b->stream->on_consumed(b->stream->ctx, offset);
}

/* ---- parsing ---- */

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
	xmlInitParser();
}

/* No NOENT (entities stay references), no DTDLOAD/DTDATTR, no HUGE. */
#define XML_OPTS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

static int parse_error(xmlParserCtxtPtr ctxt)
{
	const xmlError *e = xmlCtxtGetLastError(ctxt);
	char msg[160] = "not well-formed";
	size_t l;

	if (e && e->message) {
		snprintf(msg, sizeof(msg), "%s", e->message);
		l = strlen(msg);
		while (l && (msg[l - 1] == '\n' || msg[l - 1] == '.'))
			msg[--l] = '\0';
	}
	return err_set(OTCM_EINVAL, NULL, "xml line %d: %s", e ? e->line : 0, msg);
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

/* Text of a libxml2 node list: text and CDATA verbatim, entity references as written. */
static void lx_text(struct buf *b, const xmlNode *n)
{
	for (; n; n = n->next) {
		if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) && n->content)
			(void)buf_adds(b, (const char *)n->content);
		else if (n->type == XML_ENTITY_REF_NODE)
			(void)buf_addf(b, "&%s;", (const char *)n->name);
	}
}

/* Copy a libxml2 element (depth-checked already) into the builder's tree. */
static void copy_element(struct builder *b, const xmlNode *x)
{
	struct xml_node *el;
	struct xml_attr **tail;
	struct buf v = BUF_INIT;

	el = builder_open(b, (const char *)xmlDictLookup(b->doc->dict, x->name, -1),
	                  x->ns && x->ns->href ?
	                  (const char *)xmlDictLookup(b->doc->dict, x->ns->href, -1) : NULL);
	tail = &el->attrs;
	for (const xmlAttr *a = x->properties; a; a = a->next) {
		struct xml_attr *at = pool_alloc(b->doc, sizeof(*at));

		buf_reset(&v);
		lx_text(&v, a->children);
		at->next = NULL;
		at->name = (const char *)xmlDictLookup(b->doc->dict, a->name, -1);
		at->value = pool_strndup(b->doc, buf_cstr(&v), v.len);
		*tail = at;
		tail = &at->next;
	}
	buf_release(&v);
	for (const xmlNode *c = x->children; c; c = c->next) {
		if (c->type == XML_ELEMENT_NODE)
			copy_element(b, c);
		else if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
			builder_text(b, (const char *)c->content, strlen((const char *)c->content));
		else if (c->type == XML_ENTITY_REF_NODE) {
			builder_text(b, "&", 1);
			builder_text(b, (const char *)c->name, strlen((const char *)c->name));
			builder_text(b, ";", 1);
		}
	}
	builder_close(b);
}

/* A document with a DOCTYPE, through libxml2's tree (see the top of the file). */
static int parse_with_tree(struct builder *b, const char *text, size_t len)
{
	xmlParserCtxtPtr ctxt = NULL;
	xmlDocPtr doc = NULL;
	int rc = 0;

	ctxt = xmlNewParserCtxt();
	if (!ctxt)
		return err_set(OTCM_EINTERNAL, NULL, "cannot create xml parser");
	doc = xmlCtxtReadMemory(ctxt, text, (int)len, NULL, "UTF-8", XML_OPTS);
	if (!doc || !ctxt->wellFormed) {
		rc = parse_error(ctxt);
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
	b->doc->dict = xmlDictCreate();
	if (!b->doc->dict) {
		rc = err_set(OTCM_EINTERNAL, NULL, "cannot create xml dictionary");
		goto out;
	}
	copy_element(b, xmlDocGetRootElement(doc));
	if (b->failed)
		rc = err_set(OTCM_ETOOBIG, NULL, "xml text too large");
out:
	if (doc)
		xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	return rc;
}

int xml_doc_parse(struct xml_doc **out, const char *text, size_t len)
{
	return xml_doc_parse_with(out, text, len, NULL, XML_READER_AUTO);
}

int xml_doc_parse_stream(struct xml_doc **out, const char *text, size_t len,
                         const struct xml_stream *stream)
{
	return xml_doc_parse_with(out, text, len, stream, XML_READER_AUTO);
}

/* Back to an empty document, for a second reading. */
static void builder_restart(struct builder *b)
{
	xml_doc_free(b->doc);
	b->doc = xcalloc(1, sizeof(*b->doc));
	b->depth = 0;
	b->text.len = 0;
	b->too_deep = false;
	b->failed = false;
	b->has_doctype = false;
}

/* The checks both readers end with, on a well-formed document. */
static int builder_result(const struct builder *b)
{
	if (!b->doc->root)
		return err_set(OTCM_EINVAL, NULL, "xml document has no root element");
	if (b->too_deep)
		return err_set(OTCM_ETOOBIG, NULL, "xml nesting deeper than %d", XML_MAX_DEPTH);
	if (b->failed)
		return err_set(OTCM_ETOOBIG, NULL, "xml text too large");
	return 0;
}

int xml_doc_parse_with(struct xml_doc **out, const char *text, size_t len,
                       const struct xml_stream *stream, enum xml_reader reader)
{
	xmlParserCtxtPtr ctxt = NULL;
	xmlDocPtr doc = NULL;
	struct builder b = { 0 };
	int rc = 0;

	*out = NULL;
	if (len > INT32_MAX)
		return err_set(OTCM_ETOOBIG, NULL, "xml document too large");
	pthread_once(&xml_once, xml_init);
	b.doc = xcalloc(1, sizeof(*b.doc));
	b.stream = stream;
	if (reader != XML_READER_LIBXML2) {
		const struct xml_scan_events ev = { scan_start, scan_text, scan_end, scan_progress, &b };

		if (!xml_scan(text, len, &ev)) {
			rc = builder_result(&b);
			goto out;
		}
		if (reader == XML_READER_SCAN) {
			rc = err_set(OTCM_EMEDIA, NULL, "xml outside the subset the fast reader reads");
			goto out;
		}
		/* not the plain subset: libxml2 reads it from the start */
		builder_restart(&b);
		if (stream && stream->on_restart)
			stream->on_restart(stream->ctx);
	}
	ctxt = xmlNewParserCtxt();
	if (!ctxt) {
		rc = err_set(OTCM_EINTERNAL, NULL, "cannot create xml parser");
		goto out;
	}
	ctxt->_private = &b;
	ctxt->sax->startElementNs = sax_start;
	ctxt->sax->endElementNs = sax_end;
	ctxt->sax->characters = sax_text;
	ctxt->sax->ignorableWhitespace = sax_text;
	ctxt->sax->cdataBlock = sax_text;
	ctxt->sax->internalSubset = sax_doctype;
	ctxt->sax->reference = NULL;
	ctxt->sax->comment = NULL;
	ctxt->sax->processingInstruction = NULL;
	doc = xmlCtxtReadMemory(ctxt, text, (int)len, NULL, "UTF-8", XML_OPTS);
	if (b.has_doctype) {
		b.doc->root = NULL;
		b.depth = 0;
		b.too_deep = false;
		b.text.len = 0;
		rc = parse_with_tree(&b, text, len);
		goto out;
	}
	if (!doc || !ctxt->wellFormed) {
		rc = parse_error(ctxt);
		goto out;
	}
	if ((rc = builder_result(&b)))
		goto out;
	b.doc->dict = ctxt->dict;
	xmlDictReference(b.doc->dict);
out:
	if (!rc) {
		*out = b.doc;
		b.doc = NULL;
	}
	xml_doc_free(b.doc);
	free(b.stack);
	free(b.path);
	buf_release(&b.text);
	if (doc)
		xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	return rc;
}

void xml_doc_free(struct xml_doc *d)
{
	struct pool_block *b, *bn;

	if (!d)
		return;
	for (b = d->blocks; b; b = bn) {
		bn = b->next;
		free(b);
	}
	if (d->dict)
		xmlDictFree(d->dict);
	for (size_t i = 0; i < d->names_alloc; i++)
		free(d->names[i].s);
	free(d->names);
	free(d);
}

/* ---- reading ---- */

const struct xml_node *xml_doc_root(const struct xml_doc *d)
{
	return d->root;
}

const char *xml_node_name(const struct xml_node *n)
{
	return n->name;
}

const char *xml_node_ns(const struct xml_node *n)
{
	return n->ns;
}

const struct xml_node *xml_node_first(const struct xml_node *n)
{
	return n->first;
}

const struct xml_node *xml_node_next(const struct xml_node *n)
{
	return n->next;
}

const struct xml_node *xml_node_child(const struct xml_node *n, const char *name)
{
	const struct xml_node *c;

	for (c = n->first; c; c = c->next)
		if (c->name[0] == name[0] && !strcmp(c->name, name))
			return c;
	return NULL;
}

bool xml_node_has_elements(const struct xml_node *n)
{
	return n->first != NULL;
}

/* Text of an element's items, with its descendants' when deep. */
static void items_text(struct buf *b, const struct xml_item *it, bool deep, int depth)
{
	for (; it; it = it->next) {
		if (it->len != ITEM_ELEMENT)
			(void)buf_add(b, it->text, it->len);
		else if (deep && depth < XML_MAX_DEPTH)
			items_text(b, ((const struct xml_node *)(const void *)it)->items, deep, depth + 1);
	}
}

/* The whole text when it is one run of text directly inside, else NULL. */
static const struct xml_item *single_text(const struct xml_node *n)
{
	const struct xml_item *it = n->items;

	return it && it->len != ITEM_ELEMENT && !it->next ? it : NULL;
}

char *xml_node_text(const struct xml_node *n)
{
	struct buf b = BUF_INIT;
	const struct xml_item *t = single_text(n);

	if (t)
		return xstrndup(t->text, t->len);
	items_text(&b, n->items, true, 0);
	return b.data ? buf_detach(&b, NULL) : xstrdup("");
}

char *xml_node_own_text(const struct xml_node *n)
{
	struct buf b = BUF_INIT;
	const struct xml_item *t = single_text(n);

	if (t)
		return xstrndup(t->text, t->len);
	items_text(&b, n->items, false, 0);
	return b.data ? buf_detach(&b, NULL) : xstrdup("");
}

const struct xml_attr *xml_attr_first(const struct xml_node *n)
{
	return n->attrs;
}

const struct xml_attr *xml_attr_next(const struct xml_attr *a)
{
	return a->next;
}

const char *xml_attr_name(const struct xml_attr *a)
{
	return a->name;
}

char *xml_attr_value(const struct xml_attr *a)
{
	return xstrdup(a->value);
}

const char *xml_attr_value_ref(const struct xml_attr *a)
{
	return a->value;
}

const char *xml_node_attr_ref(const struct xml_node *n, const char *name)
{
	const struct xml_attr *a;

	for (a = n->attrs; a; a = a->next)
		if (a->name[0] == name[0] && !strcmp(a->name, name))
			return a->value;
	return NULL;
}

char *xml_node_attr(const struct xml_node *n, const char *name)
{
	const char *v = xml_node_attr_ref(n, name);

	return v ? xstrdup(v) : NULL;
}

/* One element and its subtree, for xml_doc_dump(). */
static void dump_element(struct buf *out, const struct xml_node *n, int depth)
{
	(void)buf_addf(out, "%*s<%s", depth, "", n->name);
	if (n->ns)
		(void)buf_addf(out, " {%s}", n->ns);
	for (const struct xml_attr *a = n->attrs; a; a = a->next)
		(void)buf_addf(out, " %s=[%s]", a->name, a->value);
	(void)buf_adds(out, ">\n");
	for (const struct xml_item *it = n->items; it; it = it->next) {
		if (it->len == ITEM_ELEMENT) {
			dump_element(out, (const struct xml_node *)(const void *)it, depth + 1);
		} else {
			(void)buf_addf(out, "%*s[%u:", depth + 1, "", (unsigned)it->len);
			(void)buf_add(out, it->text, it->len);
			(void)buf_adds(out, "]\n");
		}
	}
}

int xml_doc_dump(struct buf *out, const struct xml_doc *d)
{
	if (d->root)
		dump_element(out, d->root, 0);
	return 0;
}
