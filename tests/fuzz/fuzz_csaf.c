/*
 * tests/fuzz/fuzz_csaf.c - the CSAF module on arbitrary bytes: any JSON
 * object is validated; a document that passes is flattened, summarised and
 * matched against an asset, and the first line of the input is tried as a
 * version range against a version, so the range parser sees arbitrary text.
 * Seeds: the advisories of the sample corpus (../shared/corpus/csaf).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/json.h"
#include "domain/csaf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csaf_asset a = { "Siemens", "SIMATIC S7-1500", "V2.9.4", "6ES7515-2AM02-0AB0",
				"cpe:2.3:h:siemens:simatic_s7-1500:-:*:*:*:*:*:*:*", "pkg:generic/siemens/s7@2.9" };
	json_t *doc, *products = NULL, *summary = NULL, *p;
	json_error_t e;
	char spec[256];
	size_t i, n;

	{
		const uint8_t *nl = memchr(data, '\n', size);

		n = nl ? (size_t)(nl - data) : size;
	}
	if (n >= sizeof(spec))
		n = sizeof(spec) - 1;
	memcpy(spec, data, n);
	spec[n] = '\0';
	(void)csaf_version_in("V3.0.1", spec, true);
	(void)csaf_version_in("", spec, false);
	(void)csaf_version_cmp(spec, "V2.9.4");

	doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &e);
	if (!doc)
		return 0;
	if (csaf_validate(doc) == 0) {
		const char *why;

		csaf_products(&products, doc);
		csaf_summary(&summary, doc);
		json_array_foreach(products, i, p)
			(void)csaf_match(p, &a, &why);
	}
	json_decref(products);
	json_decref(summary);
	json_decref(doc);
	return 0;
}
