/*
 * diff/xml.h - the diff engine's XML reader: a small read-only tree API
 * over libxml2, and a generic converter from XML elements to dnodes.
 *
 * This is the only module that includes libxml2 (diff/xml_scan.c reads
 * the plain subset of XML faster, and hands anything else to libxml2, so
 * the rules below hold for every document).  Documents are parsed
 * with network access off, no DTD loading, no entity substitution (entity
 * references are kept as their literal "&name;" text and never expanded),
 * libxml2's "huge" mode off (so single text nodes are capped at 10 MB) and
 * a nesting depth limit of XML_MAX_DEPTH.  CDATA sections are kept and read
 * as text.  Input must be UTF-8 (see diff_decode); any encoding named in
 * the XML declaration is overridden.
 *
 * Nodes are borrowed from their document and live as long as it does.
 * Strings returned as `char *` are the caller's to free(); `const char *`
 * ones are borrowed and live as long as the document.
 *
 * Thread-safety: documents are independent; parsing is thread-safe.
 */
#ifndef OTCM_DIFF_XML_H
#define OTCM_DIFF_XML_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "diff/model.h"

#define XML_MAX_DEPTH 256

struct xml_doc;
struct xml_node;
struct xml_attr;

/* Parse `text`; OTCM_EINVAL with the parser's message ("xml line 3: ...") on failure. */
int xml_doc_parse(struct xml_doc **out, const char *text, size_t len);
void xml_doc_free(struct xml_doc *d);

/*
 * Parse like xml_doc_parse(), letting the caller consume elements as they
 * close: on_close gets the open elements from the root (path[0]) to the one
 * closing (path[depth - 1], complete with its subtree; depth >= 2) and
 * returns true when it is done with that element: the element and its
 * subtree then leave the document and their memory is reused, so a format
 * that converts each object as it closes never holds the whole tree.  An
 * element kept (false) stays in the document as usual.  on_close is never
 * called for the root and not after a failure that the parse will report
 * ("xml text too large"); a parse that fails may have called it for some
 * elements before the failure, so the caller discards what it built.
 */
struct xml_stream {
	bool (*on_close)(void *ctx, const struct xml_node *const *path, size_t depth);
	/*
	 * Optional: the document is read again from its start (the fast
	 * reader gave up on it, see below); drop what on_close built.
	 */
	void (*on_restart)(void *ctx);
	/*
	 * Optional: the reader has read text[0, upto) (the fast reader only,
	 * now and then as elements end); the caller may drop those bytes, as a
	 * hint (see diff_format.parse_consumed).
	 */
	void (*on_consumed)(void *ctx, size_t upto);
	void *ctx;
};
int xml_doc_parse_stream(struct xml_doc **out, const char *text, size_t len,
                         const struct xml_stream *stream);

/*
 * Documents are read by a fast reader of the plain subset of XML exports
 * are written in (diff/xml_scan.h) and, when it gives up, by libxml2 from
 * the start; the result is the same document either way.  Tests choose:
 * XML_READER_LIBXML2 never tries the fast reader, XML_READER_SCAN fails
 * with OTCM_EMEDIA where it would turn to libxml2.  `stream` may be NULL.
 */
enum xml_reader { XML_READER_AUTO, XML_READER_LIBXML2, XML_READER_SCAN };
int xml_doc_parse_with(struct xml_doc **out, const char *text, size_t len,
                       const struct xml_stream *stream, enum xml_reader reader);
const struct xml_node *xml_doc_root(const struct xml_doc *d);

/* Local name of an element (no prefix); borrowed. */
const char *xml_node_name(const struct xml_node *n);
/* Namespace URI or NULL; borrowed. */
const char *xml_node_ns(const struct xml_node *n);

/* First element child, next element sibling, first element child named `name`; NULL when none. */
const struct xml_node *xml_node_first(const struct xml_node *n);
const struct xml_node *xml_node_next(const struct xml_node *n);
const struct xml_node *xml_node_child(const struct xml_node *n, const char *name);

/* True when the element has at least one element child. */
bool xml_node_has_elements(const struct xml_node *n);

/* The value of attribute `name` (no namespace match), or NULL; caller frees. */
char *xml_node_attr(const struct xml_node *n, const char *name);
/* The same, borrowed from the document (no copy). */
const char *xml_node_attr_ref(const struct xml_node *n, const char *name);

/* All text and CDATA below the element, in document order; never NULL; caller frees. */
char *xml_node_text(const struct xml_node *n);

/* The text and CDATA directly inside the element (not its children); caller frees. */
char *xml_node_own_text(const struct xml_node *n);

/* Attribute iteration in document order. */
const struct xml_attr *xml_attr_first(const struct xml_node *n);
const struct xml_attr *xml_attr_next(const struct xml_attr *a);
const char *xml_attr_name(const struct xml_attr *a);
char *xml_attr_value(const struct xml_attr *a);
/* The value borrowed from the document (no copy). */
const char *xml_attr_value_ref(const struct xml_attr *a);

/*
 * Generic conversion of one element (and its subtree) into a child of
 * `parent`:
 *  - the node type is the element's local name; its name is the value of
 *    the first attribute listed in `id_attrs` that is present (that
 *    attribute is then not repeated as an attr), unless a sibling element
 *    of the same name has the same value: such elements have no identity
 *    (positional) and keep the value as an attr;
 *  - other attributes become attrs, except those listed in `drop_attrs`;
 *  - a child element without attributes or element children that occurs
 *    once among its siblings becomes an attr of its parent named after it
 *    (<Description>x</Description> -> attr "Description" = "x");
 *  - text is trimmed; one-line text becomes attr "text", multi-line text
 *    the body ("text");
 *  - elements named in `drop_elems` are skipped with their subtree;
 *  - with `sequence`, a node with at least one child without identity is
 *    a DNODE_SEQUENCE (aligned in order); children that all have an
 *    identity are keyed, so their order is not compared.
 * Returns the new node (borrowed) or NULL when the element was dropped.
 */
struct xml_conv {
	const char *const *id_attrs;
	const char *const *drop_attrs;
	const char *const *drop_elems;
	bool sequence;
};
struct dnode *xml_conv_element(struct dnode *parent, const struct xml_node *el,
                               const struct xml_conv *cv);

/*
 * Convert every element child of `el` into children of `parent`, with the
 * same rule for identities shared by siblings.
 */
void xml_conv_children(struct dnode *parent, const struct xml_node *el,
                       const struct xml_conv *cv);

/*
 * Parse a whole document and convert its root element with `cv`; the root
 * becomes *out (caller frees).  Fails like xml_doc_parse().
 */
int xml_parse_generic(struct dnode **out, const char *text, size_t len, const struct xml_conv *cv);

/*
 * Every element, attribute and run of text of the document, one per line,
 * appended to out: what tests compare to tell two readings apart.
 */
int xml_doc_dump(struct buf *out, const struct xml_doc *d);

/* True when `s` is in the NULL-terminated list (NULL list: false). */
bool xml_in_list(const char *const *list, const char *s);

/* A trimmed copy of s (ASCII whitespace removed at both ends); caller frees. */
char *xml_trim(const char *s);

#endif
