/*
 * diff/fmt_xml.c - generic XML (HMI displays such as FactoryTalk View and
 * SVG, project files, anything well-formed that no specific format claims):
 * elements keyed by an identity attribute (id, name, Guid, Key,
 * Identifier) when it is unique among their siblings of the same element;
 * only lists with elements without identity are aligned in document order
 * (so only there can an element be reported as moved); attributes are
 * compared by name.
 */
#include <string.h>

#include "core/err.h"
#include "diff/formats.h"
#include "diff/xml.h"

static int xml_detect(const char *text, size_t len)
{
	size_t i = 0;

	while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n'))
		i++;
	if (i + 5 <= len && !memcmp(text + i, "<?xml", 5))
		return 15;
	return i < len && text[i] == '<' ? 10 : 0;
}

static const char *const xml_ids[] = {
	"id", "ID", "Id", "name", "Name", "Guid", "GUID", "Key", "Identifier", NULL,
};

int xml_parse_generic(struct dnode **out, const char *text, size_t len, const struct xml_conv *cv)
{
	struct xml_doc *doc = NULL;
	struct dnode *holder;
	int rc;

	*out = NULL;
	if ((rc = xml_doc_parse(&doc, text, len)))
		return rc;
	holder = dnode_new("", NULL);
	xml_conv_element(holder, xml_doc_root(doc), cv);
	if (holder->nkids == 1) {
		*out = dnode_detach(holder, 0);
	}
	dnode_free(holder);
	xml_doc_free(doc);
	return *out ? 0 : err_set(OTCM_EINVAL, NULL, "root element is not reported");
}

static int xml_parse(struct dnode **out, const char *text, size_t len)
{
	static const struct xml_conv cv = { xml_ids, NULL, NULL, true };

	return xml_parse_generic(out, text, len, &cv);
}

const struct diff_format diff_fmt_xml = {
	.name = "xml",
	.description = "generic XML: HMI displays (FactoryTalk View, SVG), project files",
	.detect = xml_detect,
	.parse = xml_parse,
};
