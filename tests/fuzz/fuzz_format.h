/*
 * tests/fuzz/fuzz_format.h - the body shared by the fuzz targets of the
 * diff formats: detect and parse the input, render the tree, then diff the
 * input against itself with one byte changed and render that in every
 * output.  Nothing may crash, hang, leak or grow memory beyond a multiple of
 * the input.
 *
 * A format that reads its input only up to the given length is fuzzed
 * without a terminating NUL, so an over-read is caught; the XML formats get
 * the NUL the decoder guarantees them.
 *
 *     #include "fuzz_format.h"
 *     FUZZ_FORMAT(diff_fmt_st, false)
 */
#ifndef OTCM_TESTS_FUZZ_FORMAT_H
#define OTCM_TESTS_FUZZ_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "diff/diff.h"
#include "diff/formats.h"
#include "diff/model.h"

static inline int fuzz_format(const struct diff_format *fmt, bool nul_terminated,
			      const uint8_t *data, size_t size)
{
	struct dnode *t = NULL;
	struct diff_result *r = NULL;
	struct buf out = BUF_INIT;
	char *text = malloc(size + (nul_terminated ? 1 : 0) + 1), *other;

	memcpy(text, data, size);
	if (nul_terminated)
		text[size] = '\0';
	(void)fmt->detect(text, size);
	if (!fmt->parse(&t, text, size))
		(void)dtree_render(&out, t);
	dnode_free(t);
	other = malloc(size + 2);
	memcpy(other, text, size);
	other[size] = size ? (char)(text[0] ^ 1) : 'x';
	other[size + 1] = '\0';
	if (!diff_compare(&r, "fuzz", text, size, other, size + 1)) {
		json_t *j = NULL;

		(void)diff_to_text(&out, r);
		(void)diff_to_html(&out, r);
		if (!diff_to_json(&j, r))
			json_decref(j);
	}
	diff_result_free(r);
	buf_release(&out);
	free(other);
	free(text);
	return 0;
}

#define FUZZ_FORMAT(fmt, nul_terminated)                                          \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);             \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)              \
	{                                                                         \
		return fuzz_format(&(fmt), (nul_terminated), data, size);         \
	}

#endif
