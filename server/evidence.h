/*
 * server/evidence.h - the evidence bundle of a change (docs/evidence.md):
 * a deterministic tar an auditor verifies offline, and the verifier
 * behind `otcm verify`.
 *
 * The bundle holds README.txt, change.json, report.html, diffs/<asset>/,
 * tests/ (run-ID.json per run, run-ID/attachments/N-NAME per attachment),
 * statements/NAME.dsse.json (in-toto Statements v1 in DSSE envelopes
 * signed with the server key), audit/events.jsonl + audit/proofs.json +
 * audit/checkpoint, git/<asset>.bundle, trust/server.pub, MANIFEST.sha256
 * (sha256sum format, over every other file) and MANIFEST.sha256.sig (the
 * raw 64-byte Ed25519 signature of the manifest's bytes).  Entries are
 * sorted by name and carry fixed owners, modes and times, so the same
 * records give the same bytes.
 *
 * Errors: as storage/ (OTCM_ENOTFOUND for an unknown change, OTCM_EDB,
 * OTCM_EGIT), OTCM_ETOOBIG past the buffer's cap.
 * Thread-safety: per connection; the verifier is thread-safe.
 */
#ifndef OTCM_SERVER_EVIDENCE_H
#define OTCM_SERVER_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "storage/db.h"

/*
 * The size of the checkpoint a bundle of change `change_id` is proved
 * against: the smallest stored checkpoint covering the change's newest
 * event (evidence exports excluded), so that the bundle stays the same
 * while nothing about the change changes.  When none covers it, a new
 * checkpoint is signed first.  `c` must be idle (no open transaction).
 */
int evidence_checkpoint_for(uint64_t *out, struct db_conn *c, const struct crypto_ed25519_key *key,
			    const char *origin, int64_t change_id);

/*
 * Append the bundle of change `change_id`, proved against the checkpoint
 * of `tree_size`, to out.  Reads in c's open transaction (open it
 * REPEATABLE READ for a consistent view).
 */
int evidence_build(struct buf *out, struct db_conn *c, const struct crypto_ed25519_key *key,
		   int64_t change_id, uint64_t tree_size);

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
 */
int evidence_verify(struct buf *report, const void *tar, size_t len,
		    const unsigned char *trusted);

#endif
