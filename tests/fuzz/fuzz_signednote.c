/* tests/fuzz/fuzz_signednote.c - the signed-note and checkpoint parsers on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/signednote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char pub[CRYPTO_ED25519_PUB_LEN] = { 1 };
	struct signednote *n = NULL;
	unsigned char root[CRYPTO_SHA256_LEN];
	char *origin = NULL;
	uint64_t tree_size;

	if (signednote_parse(&n, (const char *)data, size) == 0) {
		for (size_t i = 0; i < n->nsigs; i++)
			signednote_verify(n, n->sigs[i].name, pub);
		if (signednote_checkpoint_parse(&origin, &tree_size, root, n->text) == 0)
			free(origin);
		signednote_free(n);
	}
	return 0;
}
