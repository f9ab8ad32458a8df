/*
 * tests/fuzz/fuzz_sample.c - the sample archive verifier (`otcm verify` of
 * sample-ID.tar, domain/samples.h) on arbitrary bytes: the tar reader, the
 * manifest, the sample and population records, the draw, and the inner
 * bundles' verifier.  Half of the inputs are wrapped in a tar of one member
 * per 4 KiB chunk named after the archive's files, so the parsers past the
 * tar reader see arbitrary contents too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "domain/samples.h"
#include "storage/repo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A ustar header for `name` of `len` bytes, checksum filled in. */
static void ustar(struct buf *b, const char *name, size_t len)
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "MANIFEST.sha256", "MANIFEST.sha256.sig", "sample.json",
		"population.json", "effectiveness.json", "trust/server.pub", "changes/CHG-1.tar",
		"changes/CHG-2.tar" };
	static const char zero[512];
	static int ready;
	struct buf report = BUF_INIT, tar = BUF_INIT;
	size_t off, i = 0, n;

	if (!ready) {
		repo_global_init();
		ready = 1;
	}
	if (size && (data[0] & 1)) {
		for (off = 1; off < size && i < sizeof(names) / sizeof(names[0]); off += n, i++) {
			n = size - off < 4096 ? size - off : 4096;
			ustar(&tar, names[i], n);
			buf_add(&tar, data + off, n);
			buf_add(&tar, zero, (512 - n % 512) % 512);
		}
		buf_add(&tar, zero, sizeof(zero));
		buf_add(&tar, zero, sizeof(zero));
		sample_verify(&report, tar.data ? tar.data : "", tar.len, NULL);
	} else {
		sample_verify(&report, data, size, NULL);
	}
	buf_release(&report);
	buf_release(&tar);
	err_clear();
	return 0;
}
