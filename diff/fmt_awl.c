/*
 * diff/fmt_awl.c - Siemens AWL/STL sources (STEP 7 exports, awlsim).
 *
 * Tree: Block[OB 1], Block[FC 10], Block[FB 2], Block[DB 3], TYPE[UDT 1]
 * (or the symbolic name) with attrs "kind" (ORGANIZATION_BLOCK, ...),
 * "return type", "instance of" (instance data blocks), header lines
 * ("title", "author", "family", "name", "version"), "flags" and "pragma";
 * declaration sections as in ST (VAR_INPUT/x with "data type", "initial
 * value", "comment"), a data block's STRUCT and its "Values" (x with
 * "value"); and the code as Networks, a sequence of Network nodes each
 * with attr "title" and its instructions as body ("network").  Code
 * without NETWORK lines is the block's body.  A file of bare instructions
 * (awlsim's oldest format) is Block[OB 1].
 */
#include "diff/formats.h"

#include <stdlib.h>

#include "core/err.h"
#include "diff/iec.h"
#include "diff/text.h"

static int awl_detect(const char *text, size_t len)
{
	return iec_score(text, len, IEC_DIALECT_AWL);
}

static int awl_parse(struct dnode **out, const char *text, size_t len)
{
	struct dnode *root = dnode_new("File", NULL);
	size_t objects = 0;

	*out = NULL;
	iec_parse(root, text, len, IEC_DIALECT_AWL, &objects);
	if (objects == 0) {
		char *code;

		if (iec_score(text, len, IEC_DIALECT_AWL) == 0) {
			dnode_free(root);
			return err_set(OTCM_EINVAL, NULL, "no AWL block or instruction found");
		}
		/* bare instructions: the program of OB 1 */
		dnode_free(root);
		root = dnode_new("File", NULL);
		code = text_clean_lines(text, len);
		dnode_set_attr(dnode_add(root, "Block", "OB 1"), "kind", "ORGANIZATION_BLOCK");
		if (code)
			dnode_set_body(root->kids[0], code, "body");
		free(code);
	}
	*out = root;
	return 0;
}

const struct diff_format diff_fmt_awl = {
	.name = "awl",
	.description = "Siemens AWL/STL source",
	.detect = awl_detect,
	.parse = awl_parse,
};
