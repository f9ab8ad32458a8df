/*
 * tests/fuzz/fuzz_diff_decode.c - libFuzzer target for decoding and the
 * whole engine on arbitrary bytes: both halves of the input are diffed
 * and each half is rendered for textconv.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "diff/diff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diff_result *r = NULL;
	struct buf out = BUF_INIT;
	size_t half = size / 2;

	(void)diff_textconv(&out, "fuzz", data, size);
	if (!diff_compare(&r, "fuzz", data, half, data + half, size - half))
		(void)diff_to_text(&out, r);
	diff_result_free(r);
	buf_release(&out);
	return 0;
}
