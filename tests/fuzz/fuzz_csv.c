/*
 * tests/fuzz/fuzz_csv.c - libFuzzer target for the csv format: detect and
 * parse the input (not NUL-terminated, as binary input reaches parsers),
 * render the tree, and diff the input against itself with one byte changed.
 * Nothing may crash, hang or leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "diff/diff.h"
#include "diff/formats.h"
#include "diff/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dnode *t = NULL;
	struct diff_result *r = NULL;
	struct buf out = BUF_INIT;
	char *text = malloc(size ? size : 1), *other;

	memcpy(text, data, size);
	(void)diff_fmt_csv.detect(text, size);
	if (!diff_fmt_csv.parse(&t, text, size))
		(void)dtree_render(&out, t);
	dnode_free(t);
	other = malloc(size + 1);
	memcpy(other, text, size);
	other[size] = size ? (char)(text[0] ^ 1) : 'x';
	if (!diff_compare(&r, "fuzz", text, size, other, size + 1)) {
		json_t *j = NULL;

		(void)diff_to_text(&out, r);
		if (!diff_to_json(&j, r))
			json_decref(j);
	}
	diff_result_free(r);
	buf_release(&out);
	free(other);
	free(text);
	return 0;
}
