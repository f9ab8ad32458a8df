/*
 * storage/checkpoint.h - signed checkpoints of the audit trail.
 *
 * A checkpoint is the RFC 9162 Merkle tree head over the hashes of events
 * 1..tree_size (leaf data of event seq = its 32-byte hash, at index seq-1),
 * written as a C2SP tlog-checkpoint body and signed with the server's
 * Ed25519 key as a C2SP signed note whose key name is the origin
 * ("otcm/<server name>").  Checkpoints are rows of audit_checkpoints,
 * append-only like the trail.  A checkpoint is only signed after the whole
 * chain was recomputed and the previous checkpoint still matches, so a
 * rewritten trail is never signed over.  docs/audit.md has the details.
 *
 * Errors: as db.h; OTCM_ENOTFOUND for a checkpoint or event that does not
 * exist; OTCM_ERULE when the trail does not verify (nothing is signed).
 *
 * Thread-safety: as the connection; the writer runs its own thread.
 */
#ifndef OTCM_STORAGE_CHECKPOINT_H
#define OTCM_STORAGE_CHECKPOINT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/merkle.h"
#include "storage/audit.h"
#include "storage/db.h"

struct checkpoint {
	uint64_t tree_size;
	merkle_hash root;
	int64_t at_us;
	char *origin;
	uint32_t key_id;
	char *note;               /* the signed note, exactly as stored */
};

void checkpoint_free(struct checkpoint *cp);

/* {tree_size, root_hash (hex), origin, at, key_id (hex), note}. */
json_t *checkpoint_json(const struct checkpoint *cp);

/* "otcm/<cfg->server_name or the host name>"; free() it. */
char *checkpoint_origin(const struct config *cfg);

/* Where the server's private key lives: "<data>/keys/server.key"; free() it. */
char *checkpoint_key_path(const char *data_dir);

/*
 * The server's signing key from the data folder.  With `create`, a missing
 * key is generated and saved (folder 0700, file 0600) and *out_created
 * (may be NULL) is set.  Errors as crypto_ed25519_load().
 */
int checkpoint_key_open(struct crypto_ed25519_key **out, bool *out_created, const char *data_dir,
			bool create);

/*
 * Sign and store a checkpoint over every event there is, in a transaction
 * of its own on the idle connection c.  When the newest checkpoint already
 * covers every event, *out is that one and *out_new is false.
 * OTCM_ENOTFOUND when there are no events yet.
 */
int checkpoint_write(struct checkpoint **out, bool *out_new, struct db_conn *c,
		     const struct crypto_ed25519_key *key, const char *origin);

/* The newest checkpoint (tree_size 0) or the one of exactly tree_size. */
int checkpoint_get(struct checkpoint **out, struct db_conn *c, uint64_t tree_size);

/*
 * Inclusion proof of event `seq` in the checkpoint of `tree_size` (0: the
 * newest): {seq, leaf_index, tree_size, event_hash, prev_hash, canonical,
 * proof: [hex...], checkpoint}.  OTCM_EINVAL when seq > tree_size.
 */
int checkpoint_inclusion(json_t **out, struct db_conn *c, int64_t seq, uint64_t tree_size);

/*
 * Consistency proof between the checkpoints of sizes first <= second:
 * {first, second, proof: [hex...], first_checkpoint, second_checkpoint}.
 */
int checkpoint_consistency(json_t **out, struct db_conn *c, uint64_t first, uint64_t second);

/*
 * What checkpoint_verify_all() found: checked checkpoints verified; bad_size
 * is the first that did not (0: none) and problem says why.
 */
struct checkpoint_check {
	uint64_t checked;
	uint64_t latest_size;
	uint64_t bad_size;
	char problem[320];
};

/*
 * Check every stored checkpoint, smallest first, in c's open transaction:
 * its note is signed by `pub` under its origin's name, says what its row
 * says, and its root is the root of the first tree_size hashes of `chain`
 * (which must have verified that far).  Returns 0 whether or not they
 * verify; an error only when they could not be read.
 */
int checkpoint_verify_all(struct checkpoint_check *out, struct db_conn *c,
			  const struct audit_chain *chain,
			  const unsigned char pub[CRYPTO_ED25519_PUB_LEN]);

/*
 * A thread that writes a checkpoint when `every_events` events (0: never)
 * arrived since the last one, or when events arrived and the last one is
 * `every_minutes` old (0: never).  Failures are logged, not fatal.
 * The key, origin and pool must outlive the writer.
 */
struct checkpoint_writer;

int checkpoint_writer_start(struct checkpoint_writer **out, struct db_pool *pool,
			    const struct crypto_ed25519_key *key, const char *origin,
			    unsigned every_events, unsigned every_minutes);

/* Stop and join the thread.  NULL is fine. */
void checkpoint_writer_stop(struct checkpoint_writer *w);

#endif
