/*
 * storage/checkpoint.h - signed checkpoints of the audit trail.
 *
 * A checkpoint is the RFC 9162 Merkle tree head over the hashes of events
 * 1..tree_size (leaf data of event seq = its 32-byte hash, at index seq-1),
 * written as a C2SP tlog-checkpoint body and signed with the server's
 * Ed25519 key as a C2SP signed note whose key name is the origin
 * ("otcm/<server name>").  Checkpoints are rows of audit_checkpoints,
 * append-only like the trail, each with the compact Merkle range of the
 * events it signs but the last.  A checkpoint is only signed over a trail
 * that verifies, so a rewritten trail is never signed over: either the
 * whole chain recomputed (checkpoint_write(), on an administrator's
 * request) or, for the signing the server does by itself, the trail from
 * the newest checkpoint on (checkpoint_cover(): that checkpoint's
 * signature, row and root checked, the events after it recomputed).
 * docs/audit.md has the details.
 *
 * Errors: as db.h; OTCM_ENOTFOUND for a checkpoint or event that does not
 * exist; OTCM_ERULE when the trail does not verify (nothing is signed).
 *
 * Signing a checkpoint also stores, in a transaction of its own, the roots
 * of the complete subtrees of 256 events and up that it signs
 * (audit_merkle_nodes), from which inclusion proofs are built.
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
 * Recompute the whole chain and check the newest checkpoint against it,
 * then sign and store a checkpoint over every event there is, in a
 * transaction of its own on the idle connection c.  When the newest
 * checkpoint already covers every event, *out is that one and *out_new is
 * false.  OTCM_ENOTFOUND when there are no events yet.
 */
int checkpoint_write(struct checkpoint **out, bool *out_new, struct db_conn *c,
		     const struct crypto_ed25519_key *key, const char *origin);

/*
 * What checkpoint_verify_tail() found.  `latest` is the newest checkpoint
 * (NULL when none was signed; owned, release with checkpoint_tail_release).
 * Events 1..trusted are those `latest` signs, taken as verified when it was
 * signed: its note verifies with the key and says what its row says, and
 * its stored compact range with the stored hash of event `trusted` gives
 * its root.  Events trusted+1..verified were recomputed and chain on.
 * trusted is 0 when the whole chain was recomputed (no checkpoint, or the
 * newest predates compact ranges).  bad_size names the newest checkpoint
 * when it does not verify, bad_seq the first event that does not (0:
 * none), and problem says why (of that checkpoint, or of that event).  `range` holds leaves 1..verified-1 and
 * `last` the hash of event `verified`, what the next checkpoint needs.
 */
struct checkpoint_tail {
	struct checkpoint *latest;
	uint64_t trusted;
	uint64_t verified;
	int64_t head_seq;
	int64_t bad_seq;
	uint64_t bad_size;
	char problem[320];
	struct merkle_range range;
	merkle_hash last;
};

/*
 * Verify the trail from the newest checkpoint on, in c's open transaction
 * (open it REPEATABLE READ for a consistent view): O(events since that
 * checkpoint), not O(trail).  Returns 0 whether or not the trail verifies;
 * an error only when it could not be read.
 */
int checkpoint_verify_tail(struct checkpoint_tail *out, struct db_conn *c,
			   const unsigned char pub[CRYPTO_ED25519_PUB_LEN]);

/* Free what a tail holds; NULL is fine. */
void checkpoint_tail_release(struct checkpoint_tail *t);

/*
 * The smallest stored checkpoint that signs events 1..need (need 0: every
 * event), after verifying the trail from the newest checkpoint on
 * (checkpoint_verify_tail); when none does, one is signed over every event
 * there is and stored, and *out_new (may be NULL) is set.  In a
 * transaction of its own on the idle connection c.  OTCM_ERULE (nothing
 * signed) when the trail does not verify; OTCM_ENOTFOUND when there are no
 * events yet.
 */
int checkpoint_cover(struct checkpoint **out, bool *out_new, struct db_conn *c,
		     const struct crypto_ed25519_key *key, const char *origin, uint64_t need);

/* How many checkpoints are stored. */
int checkpoint_count(uint64_t *out, struct db_conn *c);

/* The newest checkpoint (tree_size 0) or the one of exactly tree_size. */
int checkpoint_get(struct checkpoint **out, struct db_conn *c, uint64_t tree_size);

/*
 * Inclusion proof of event `seq` in the checkpoint of `tree_size` (0: the
 * newest): {seq, leaf_index, tree_size, event_hash, prev_hash, canonical,
 * proof: [hex...], checkpoint}.  OTCM_EINVAL when seq > tree_size.
 */
int checkpoint_inclusion(json_t **out, struct db_conn *c, int64_t seq, uint64_t tree_size);

/*
 * The inclusion proofs of the events `seqs` (n of them) in the tree of
 * the first tree_size events, as checkpoint_inclusion() gives each but
 * without "checkpoint": a JSON array in the order of seqs.  Built from the
 * stored Merkle subtrees (O(log n) reads per event, one query for the
 * subtrees, one for the events' 256-event chunks and one for the events'
 * rows), or from every event hash when the subtrees are not stored yet or
 * the events reach into most of the trail.  OTCM_EINVAL naming "seq" for
 * an event beyond tree_size.
 */
int checkpoint_inclusions(json_t **out, struct db_conn *c, const int64_t *seqs, size_t n,
			  uint64_t tree_size);

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
 * A thread that writes a checkpoint (checkpoint_cover) when `every_events` events (0: never)
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
