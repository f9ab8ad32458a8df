/*
 * diff/xml_scan.h - a fast reader for the plain subset of XML that
 * exports are written in, used by diff/xml.c before it turns to libxml2.
 *
 * The subset: an optional XML declaration (version 1.0, encoding UTF-8,
 * standalone), elements and attributes with ASCII names and no namespace
 * prefix or declaration, text, CDATA sections, comments, the five
 * predefined entity references and character references.  Input is read
 * as UTF-8 and checked as libxml2 checks it (well-formed, only XML
 * characters).  Whatever falls outside the subset or is not well-formed
 * -- a DOCTYPE, a processing instruction, another entity, a namespace, a
 * nesting deeper than XML_SCAN_MAX_DEPTH, a value or section longer than
 * XML_SCAN_MAX_RUN, a broken tag -- makes the scan give up, and the caller
 * reads the document with libxml2, which then says what is wrong exactly
 * as it would have without this reader.  So a document the scan accepts
 * is one libxml2 accepts, with the same elements, attribute values and
 * text (the differential fuzz target tests/fuzz/fuzz_diff_xml_scan.c and
 * the corpus test in tests/unit/diff/test_diff_xml.c hold it to that).
 *
 * Attribute values arrive as libxml2 gives them after its clean-up:
 * references replaced and each tab and newline written as a space.
 *
 * Reads exactly text[0, len); no NUL terminator needed.  Reentrant.
 */
#ifndef OTCM_DIFF_XML_SCAN_H
#define OTCM_DIFF_XML_SCAN_H

#include <stddef.h>
#include <stdint.h>

#define XML_SCAN_MAX_DEPTH 200
#define XML_SCAN_MAX_RUN ((size_t)1 << 20)
#define XML_SCAN_MAX_NAME 1000

/* What xml_scan() returns when the document is outside the subset (see above). */
#define XML_SCAN_GIVE_UP 1

/*
 * Names come with a 32-bit hash (of their first and last eight bytes and
 * their length), computed as they are read, for the caller's interning.
 */
struct xml_scan_attr {
	const char *name;
	size_t name_len;
	uint32_t name_hash;
	const char *value;
	size_t value_len;
};

/*
 * The events of a scan, in document order.  Strings are borrowed for the
 * duration of the call.  `start` may refuse an element (nonzero: the scan
 * gives up), e.g. for an attribute given twice.  Text may come in several
 * pieces; comments give no event.
 */
struct xml_scan_events {
	int (*start)(void *ctx, const char *name, size_t name_len, uint32_t name_hash,
	             const struct xml_scan_attr *attrs, size_t nattrs);
	void (*text)(void *ctx, const char *s, size_t len);
	void (*end)(void *ctx);
	/*
	 * Optional: the scan has read text[0, offset), called as an element
	 * ends once every XML_SCAN_PROGRESS_STEP bytes or so.  Only the names
	 * of the elements still open point back before it.
	 */
	void (*progress)(void *ctx, size_t offset);
	void *ctx;
};

#define XML_SCAN_PROGRESS_STEP ((size_t)1 << 20)

/*
 * Scan text[0, len), calling `ev` for what it holds.  0 when the whole
 * document was read; XML_SCAN_GIVE_UP otherwise, possibly after some
 * events (the caller discards what they built).
 */
int xml_scan(const char *text, size_t len, const struct xml_scan_events *ev);

#endif
