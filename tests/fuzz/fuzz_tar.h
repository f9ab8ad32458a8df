/*
 * tests/fuzz/fuzz_tar.h - for the fuzz targets of archive verifiers
 * (evidence bundles, sample archives): the input cut into 4 KiB chunks,
 * each a member of a ustar archive named after one of the archive's files,
 * so the parsers past the tar reader see arbitrary contents too.
 */
#ifndef OTCM_TESTS_FUZZ_TAR_H
#define OTCM_TESTS_FUZZ_TAR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"

/* A ustar header for `name` of `len` bytes, checksum filled in. */
static inline void fuzz_ustar(struct buf *b, const char *name, size_t len)
{
	char h[512];
	unsigned sum = 0;
	size_t i;

	memset(h, 0, sizeof(h));
	snprintf(h, 100, "%s", name);
	snprintf(h + 100, 8, "%07o", 0644);
	snprintf(h + 108, 8, "%07o", 0);
	snprintf(h + 116, 8, "%07o", 0);
	snprintf(h + 124, 12, "%011zo", len);
	snprintf(h + 136, 12, "%011o", 0);
	memset(h + 148, ' ', 8);
	h[156] = '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	for (i = 0; i < sizeof(h); i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06o", sum);
	buf_add(b, h, sizeof(h));
}

/* `data` in 4 KiB members named names[0], names[1], ... (as many as fit), then the end blocks. */
static inline void fuzz_tar(struct buf *tar, const char *const *names, size_t nnames,
			    const uint8_t *data, size_t size)
{
	static const char zero[512];
	size_t off, i = 0, n;

	for (off = 0; off < size && i < nnames; off += n, i++) {
		n = size - off < 4096 ? size - off : 4096;
		fuzz_ustar(tar, names[i], n);
		buf_add(tar, data + off, n);
		buf_add(tar, zero, (512 - n % 512) % 512);
	}
	buf_add(tar, zero, sizeof(zero));
	buf_add(tar, zero, sizeof(zero));
}

#endif
