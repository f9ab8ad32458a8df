/*
 * tests/fuzz/fuzz_pktline.c - libFuzzer target for git's pkt-line reader and
 * the fetch requests built on it (server/gitproto.c): the input is read as
 * pkt-lines, then as an upload-pack v0 request and as a v2 command request.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/mem.h"
#include "server/gitproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a copy of exactly size bytes, so reads past the end are caught */
	char *body = size ? xmemdup(data, size) : NULL;
	struct arena *a = arena_new();
	struct gitproto_reader r;
	struct gitproto_fetch f;
	struct gitproto_v2 v;
	enum gitproto_pkt t;
	const char *d;
	size_t n, i;

	gitproto_reader_init(&r, body, size);
	while (gitproto_read(&t, &d, &n, &r) == 0 && t != GITPROTO_EOF) {
		if (t == GITPROTO_DATA && (d < body || d + n > body + size))
			__builtin_trap();
	}
	if (gitproto_parse_upload_v0(&f, a, body, size, 1000) == 0) {
		for (i = 0; i < f.nwants; i++)
			if (strlen(f.wants[i]) != 40)
				__builtin_trap();
	}
	if (gitproto_parse_v2(&v, a, body, size, 1000) == 0 && !v.command)
		__builtin_trap();
	arena_free(a);
	free(body);
	return 0;
}
