/*
 * libFuzzer target for the fast reader of the plain subset of XML
 * (diff/xml_scan.c), checked against libxml2: whatever the fast reader
 * accepts, libxml2 must accept and read into the very same document
 * (elements, attributes and text, compared through xml_doc_dump); what it
 * gives up on, the automatic reader must end as libxml2 alone does.  A
 * difference aborts, so the fuzzer keeps the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "diff/xml.h"

static void dump(struct buf *out, const struct xml_doc *d)
{
	buf_reset(out);
	(void)xml_doc_dump(out, d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xml_doc *fast = NULL, *lx = NULL, *any = NULL;
	struct buf a = BUF_INIT, b = BUF_INIT;
	const char *text = (const char *)data;
	int rf, rl, ra;

	rf = xml_doc_parse_with(&fast, text, size, NULL, XML_READER_SCAN);
	rl = xml_doc_parse_with(&lx, text, size, NULL, XML_READER_LIBXML2);
	ra = xml_doc_parse_with(&any, text, size, NULL, XML_READER_AUTO);
	if (ra != rl)
		abort();
	if (!rl) {
		dump(&b, lx);
		dump(&a, any);
		if (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len)))
			abort();
	}
	if (!rf) {
		if (rl)
			abort();   /* the fast reader accepted what libxml2 refuses */
		dump(&a, fast);
		if (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len)))
			abort();
	}
	xml_doc_free(fast);
	xml_doc_free(lx);
	xml_doc_free(any);
	buf_release(&a);
	buf_release(&b);
	err_clear();
	return 0;
}
