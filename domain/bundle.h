/*
 * domain/bundle.h - the evidence bundle's format (docs/evidence.md): its
 * set of files, sealing it (the server's public key, the SHA-256 manifest
 * and its Ed25519 signature) into a deterministic tar, reading a tar back,
 * and verifying a bundle offline, as `otcm verify` does.
 *
 * The bundle holds README.txt, change.json, report.html, diffs/<asset>/,
 * tests/ (run-ID.json per run, run-ID/attachments/N-NAME per attachment),
 * statements/NAME.dsse.json (in-toto Statements v1 in DSSE envelopes
 * signed with the server key), audit/events.jsonl + audit/proofs.json +
 * audit/checkpoint, git/<asset>.bundle, trust/server.pub, MANIFEST.sha256
 * (sha256sum format, over every other file) and MANIFEST.sha256.sig (the
 * raw 64-byte Ed25519 signature of the manifest's bytes).  Entries are
 * sorted by name and carry fixed owners, modes and times, so the same
 * files give the same bytes.  domain/evidence.h gathers a change's records
 * into such a set.
 *
 * An incident's bundle has the same format with incident.json instead of
 * change.json, reports/ID-NAME (each report's document) instead of
 * diffs/, tests/ and git/, and statements/review-ID.dsse.json; the
 * verifier tells them apart by incident.json and checks each report's
 * SHA-256 and the NIS2 deadlines again (docs/incidents.md).
 *
 * This module reads bytes only and touches no database, so the offline
 * verifier runs anywhere (`otcm verify`, tests/fuzz/fuzz_bundle.c).  It
 * sits in domain/ because the verifier re-checks the change process's
 * rules on an exported bundle (approval after the last version, an
 * approver who uploaded nothing, deployed trees that passed FAT) and
 * because it reads the git bundles through storage/gitbundle.h, which
 * core/ may not reach.
 *
 * Thread-safety: a file set belongs to one thread; the functions are
 * thread-safe otherwise.
 */
#ifndef OTCM_DOMAIN_BUNDLE_H
#define OTCM_DOMAIN_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/json.h"

/* The predicate types of the bundle's in-toto statements. */
#define BUNDLE_PRED_SIGNATURE "urn:otcm:evidence:signature:v1"
#define BUNDLE_PRED_RUN "urn:otcm:evidence:test-run:v1"
#define BUNDLE_PRED_DEPLOYMENT "urn:otcm:evidence:deployment:v1"
#define BUNDLE_PRED_REVIEW "urn:otcm:evidence:incident-review:v1"

struct bundle_file {
	char *name;
	char *data;          /* NUL-terminated copy */
	size_t len;
};

/* The files of a bundle; start with { 0 }, end with bundle_files_release(). */
struct bundle_files {
	struct bundle_file *v;
	size_t n, alloc;
};

void bundle_files_release(struct bundle_files *fs);

/* Add `name` taking ownership of `data` (malloc'd, len bytes plus a NUL). */
void bundle_files_take(struct bundle_files *fs, const char *name, char *data, size_t len);

/* Add `name` with a copy of len bytes at data. */
void bundle_files_add(struct bundle_files *fs, const char *name, const void *data, size_t len);

/* Add `name` holding v as JSON, pretty and with sorted keys, ending in a newline. */
void bundle_files_add_json(struct bundle_files *fs, const char *name, const json_t *v);

/* The file called `name` (borrowed), or NULL. */
const struct bundle_file *bundle_files_get(const struct bundle_files *fs, const char *name);

/*
 * Seal the files and append the bundle to out: add trust/server.pub (the
 * public half of `key`), MANIFEST.sha256 over every file and its signature
 * MANIFEST.sha256.sig, then write them sorted by name as a tar whose every
 * time is `mtime` (seconds).  OTCM_ETOOBIG past out's cap.
 */
int bundle_seal(struct buf *out, struct bundle_files *fs, const struct crypto_ed25519_key *key,
		int64_t mtime);

/*
 * Read a tar (untrusted) into files: regular files only, names relative
 * without "." or ".." segments, bounded count and sizes.  OTCM_EINVAL or
 * OTCM_ETOOBIG with a message naming the entry.
 */
int bundle_read(struct bundle_files *out, const void *data, size_t len);

/*
 * Check a bundle (untrusted bytes) offline: manifest and its signature,
 * the checkpoint's signature, every event's hash and inclusion proof,
 * every DSSE envelope and its statement's subjects against the commits
 * of the git bundles, and the change-process policy.  One line per check
 * is appended to `report` ("ok    ...", "FAIL  ...", "skip  ...").
 * `trusted` (may be NULL) pins the public key; otherwise the bundle's
 * own trust/server.pub is used and the report says so.
 * Returns 0 when every check passed, OTCM_EAUTH when any failed, and
 * another error only when the report could not be written.
 * repo_global_init() (storage/repo.h) must have run.
 */
int bundle_verify(struct buf *report, const void *tar, size_t len, const unsigned char *trusted);

#endif
