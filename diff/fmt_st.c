/*
 * diff/fmt_st.c - IEC 61131-3 structured text and Siemens SCL sources.
 *
 * Tree: POU[name] (attr "kind": PROGRAM, FUNCTION_BLOCK, FUNCTION,
 * ORGANIZATION_BLOCK, DATA_BLOCK, ...; "return type", "extends", SCL
 * header lines such as "version") holding one node per variable section
 * ("VAR_INPUT", "VAR CONSTANT", "VAR_GLOBAL RETAIN"; sections of the same
 * kind are merged) whose children are the variables, named by identifier,
 * with "data type", "address", "initial value", "comment" (same line),
 * "leading comment" (own lines above) and "pragma".  METHOD[name] and
 * PROPERTY[name] nest inside their block; the code is the body ("body")
 * with trailing white space removed.  TYPE[name] for each data type
 * (STRUCT members as children), CONFIGURATION[name]/RESOURCE[name] with
 * TASK[name] and PROGRAM[instance] nodes.  The parsing itself lives in
 * iec_parse.c, shared with AWL.
 */
#include "diff/formats.h"

#include "core/err.h"
#include "diff/iec.h"

static int st_detect(const char *text, size_t len)
{
	return iec_score(text, len, IEC_DIALECT_ST);
}

static int st_parse(struct dnode **out, const char *text, size_t len)
{
	struct dnode *root = dnode_new("File", NULL);
	size_t objects = 0;

	*out = NULL;
	iec_parse(root, text, len, IEC_DIALECT_ST, &objects);
	if (objects == 0) {
		dnode_free(root);
		return err_set(OTCM_EINVAL, NULL, "no POU, type or configuration found");
	}
	*out = root;
	return 0;
}

const struct diff_format diff_fmt_st = {
	.name = "st",
	.description = "IEC 61131-3 structured text and Siemens SCL",
	.detect = st_detect,
	.parse = st_parse,
};
