/*
 * tests/fuzz/fuzz_bundle.c - the evidence bundle verifier (`otcm verify`)
 * on arbitrary bytes: the tar reader, the manifest, signed note, proof,
 * DSSE and git bundle parsers behind it.  Half of the inputs are wrapped
 * in a tar of one member per 4 KiB chunk named after the bundle's files,
 * so the parsers past the tar reader see arbitrary contents too.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "domain/bundle.h"
#include "storage/repo.h"
#include "fuzz_tar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "MANIFEST.sha256", "MANIFEST.sha256.sig", "change.json",
		"audit/events.jsonl", "audit/proofs.json", "audit/checkpoint", "trust/server.pub",
		"statements/signature-1.dsse.json", "git/a.bundle" };
	static int ready;
	struct buf report = BUF_INIT, tar = BUF_INIT;

	if (!ready) {
		repo_global_init();
		ready = 1;
	}
	if (size && (data[0] & 1)) {
		fuzz_tar(&tar, names, sizeof(names) / sizeof(names[0]), data + 1, size - 1);
		bundle_verify(&report, tar.data ? tar.data : "", tar.len, NULL);
	} else {
		bundle_verify(&report, data, size, NULL);
	}
	buf_release(&report);
	buf_release(&tar);
	err_clear();
	return 0;
}
