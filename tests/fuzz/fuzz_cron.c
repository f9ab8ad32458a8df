/*
 * tests/fuzz/fuzz_cron.c - the cron expression parser (domain/cron.h) on
 * arbitrary text, and the next run of whatever it accepts from a time
 * taken from the input: it must refuse or answer a whole minute after it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "domain/cron.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[CRON_MAX_LEN + 32];
	struct cron c;
	int64_t from = 1796256000, t = 0;   /* 2026-12-03 */
	size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;

	if (size >= 4) {
		uint32_t shift;

		memcpy(&shift, data + size - 4, 4);
		from += (int64_t)(shift % (100u * 366 * 86400));
	}
	memcpy(text, data, n);
	text[n] = '\0';
	if (cron_parse(&c, text) == 0 && cron_next(&t, &c, from) == 0) {
		if (t <= from || t % 60 != 0 || t - from > 9 * 366 * 86400LL)
			abort();
	}
	err_clear();
	return 0;
}
