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

#include "core/buf.h"
#include "core/err.h"
#include "domain/samples.h"
#include "storage/repo.h"
#include "fuzz_tar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "MANIFEST.sha256", "MANIFEST.sha256.sig", "sample.json",
		"population.json", "effectiveness.json", "trust/server.pub", "changes/CHG-1.tar",
		"changes/CHG-2.tar" };
	static int ready;
	struct buf report = BUF_INIT, tar = BUF_INIT;

	if (!ready) {
		repo_global_init();
		ready = 1;
	}
	if (size && (data[0] & 1)) {
		fuzz_tar(&tar, names, sizeof(names) / sizeof(names[0]), data + 1, size - 1);
		sample_verify(&report, tar.data ? tar.data : "", tar.len, NULL);
	} else {
		sample_verify(&report, data, size, NULL);
	}
	buf_release(&report);
	buf_release(&tar);
	err_clear();
	return 0;
}
