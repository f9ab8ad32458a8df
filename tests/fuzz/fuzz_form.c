/*
 * tests/fuzz/fuzz_form.c - libFuzzer target for urlencoded form bodies
 * (web/form.c): the whole input is the body.  Parsing once and looking a
 * name up must agree with the single lookup, every field must be a
 * NUL-terminated string, and the text must fit in the body's own size.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/mem.h"
#include "web/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new();
	/* a copy of exactly size bytes, so reads past the end are caught */
	char *body = size ? xmemdup(data, size) : NULL;
	struct form *f = NULL;
	size_t i, used = arena_used(a);

	if (form_parse(&f, a, body, size, 64) == 0) {
		if (arena_used(a) - used > size * 2 + 64 * sizeof(struct form_field) + 4096)
			__builtin_trap();
		for (i = 0; i < f->n; i++) {
			const char *one = form_value(a, body, size, f->fields[i].name);
			const char *got = form_get(f, f->fields[i].name);

			if (strlen(f->fields[i].name) > size || strlen(f->fields[i].value) > size)
				__builtin_trap();
			/* the first field of a name wins both ways (unless its value held a NUL) */
			if (one && got && strcmp(one, got) != 0)
				__builtin_trap();
		}
	}
	free(body);
	arena_free(a);
	return 0;
}
