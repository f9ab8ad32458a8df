/*
 * tests/fuzz/fuzz_receive_pack.c - libFuzzer target for the receive-pack
 * command list parser (server/gitproto.c): ref updates, capabilities, and
 * where the pack starts.
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
	char *body = size ? xmemdup(data, size) : NULL;
	struct arena *a = arena_new();
	struct gitproto_push p;
	size_t i;

	if (gitproto_parse_receive(&p, a, body, size, 64) == 0) {
		for (i = 0; i < p.ncmds; i++)
			if (strlen(p.cmds[i].old) != 40 || strlen(p.cmds[i].new_) != 40 || !p.cmds[i].ref)
				__builtin_trap();
		if (p.pack && (p.pack < body || p.pack + p.pack_len != body + size))
			__builtin_trap();
	}
	arena_free(a);
	free(body);
	return 0;
}
