/*
 * tests/fuzz/fuzz_multipart.c - libFuzzer target for the multipart/form-data
 * parser (server/multipart.c).  The first line of the input is the
 * Content-Type header, the rest the body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/mem.h"
#include "server/http_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	struct arena *a;
	struct http_part *parts = NULL;
	char *ctype, *body;
	size_t clen, blen, n = 0, i;

	if (!nl)
		return 0;
	clen = (size_t)(nl - data);
	blen = size - clen - 1;
	a = arena_new();
	ctype = arena_strndup(a, (const char *)data, clen);
	/* a copy of exactly blen bytes, so reads past the end are caught */
	body = blen ? xmemdup(nl + 1, blen) : NULL;
	if (http_multipart_parse(&parts, &n, a, ctype, body, blen, 64) == 0) {
		for (i = 0; i < n; i++) {
			if (!parts[i].name || parts[i].data[parts[i].len] != '\0')
				__builtin_trap();
		}
	}
	free(body);
	arena_free(a);
	return 0;
}
