/*
 * storage/audit.h - appending events to the audit trail.
 *
 * An event is written inside the caller's open transaction, so it commits
 * or vanishes with the change it records.  The sequence number is gapless:
 * it comes from the single audit_head row, locked for the rest of the
 * transaction (writers queue there; a rollback gives the number back).
 * Times are the database server's clock (now()), never a client's.
 *
 * Each event is chained: hash = SHA-256(prev_hash || canonical encoding),
 * prev_hash being the hash of the event before (32 zero bytes for event 1);
 * audit_head.hash holds the newest hash.  The encoding is in docs/audit.md
 * and audit_canonical() below; what is hashed is exactly what is stored
 * (the time is read from the database and written back explicitly, and
 * before/after are hashed as PostgreSQL's jsonb text of the stored value).
 *
 * Thread-safety: as the connection.
 */
#ifndef OTCM_STORAGE_AUDIT_H
#define OTCM_STORAGE_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/merkle.h"
#include "storage/db.h"

struct audit_event {
	int64_t actor_id;         /* 0: none (anonymous or system) */
	const char *actor;        /* username, "anonymous" or "system" */
	const char *role;         /* may be NULL */
	const char *source;       /* client address, may be NULL */
	const char *request_id;   /* may be NULL */
	const char *action;       /* "user.create", "session.login.failed", ... */
	const char *object_type;  /* "user", "asset", "version", "session", ... */
	const char *object_id;    /* may be NULL */
	const json_t *before;     /* borrowed, may be NULL */
	const json_t *after;      /* borrowed, may be NULL */
	const char *reason;       /* may be NULL */
};

/*
 * Append `ev` in c's open transaction (OTCM_EINTERNAL if none is open).
 * *out_seq (may be NULL) gets its sequence number.
 */
int audit_append(int64_t *out_seq, struct db_conn *c, const struct audit_event *ev);

/*
 * Count one refusal of `actor` for `what` in the current minute (the
 * database's clock) in c's open transaction; *out_count gets the minute's
 * count including this one, so the caller writes an audit event only when
 * it is 1 (docs/audit.md, "Refusals").  *out_previous gets the count of
 * the actor's previous minute with a refusal for `what` (0 when none).
 */
int audit_refusal_count(int64_t *out_count, int64_t *out_previous, struct db_conn *c,
			const char *actor, const char *what);

/*
 * Events as JSON objects, oldest first, filtered by object (either may be
 * NULL for all), after sequence number `after_seq`, at most `limit`.
 */
int audit_list(json_t **out, struct db_conn *c, const char *object_type, const char *object_id,
	       int64_t after_seq, unsigned limit);

/* An event as stored, every text in the form the canonical encoding takes. */
struct audit_stored {
	int64_t seq;
	int64_t at_us;            /* microseconds since the Unix epoch, UTC */
	bool has_actor_id;
	int64_t actor_id;
	const char *actor;
	const char *role;         /* NULL for SQL NULL, also below */
	const char *source;
	const char *request_id;
	const char *action;
	const char *object_type;
	const char *object_id;
	const char *before;       /* jsonb as PostgreSQL prints it (jsonb::text) */
	const char *after;
	const char *reason;
};

/* "2024-05-01T12:00:00.123456Z": RFC 3339, UTC, always six fractional digits. */
#define AUDIT_TIME_LEN 64
void audit_time_format(char out[AUDIT_TIME_LEN], int64_t us);

/*
 * Append the canonical encoding of `ev` to out (docs/audit.md): a JSON
 * object of the thirteen fields, keys sorted, no whitespace.  Fails only
 * when out's cap is reached.
 */
int audit_canonical(struct buf *out, const struct audit_stored *ev);

/* SHA-256(prev || canonical). */
void audit_chain_hash(merkle_hash out, const merkle_hash prev, const void *canonical, size_t len);

/*
 * What audit_verify_chain() found.  Events base+1..verified recomputed to
 * their stored hashes and chained (base is 0 for the whole chain);
 * leaves[i] is the hash of event base+i+1 (the Merkle leaf data, not yet
 * the leaf hash; owned, release with audit_chain_release).  bad_seq is the
 * first event that does not verify (0 when all do) and problem says how;
 * head_seq is what audit_head claims.
 */
struct audit_chain {
	uint64_t base;
	uint64_t verified;
	merkle_hash *leaves;
	int64_t bad_seq;
	int64_t head_seq;
	char problem[256];
};

/*
 * Recompute the whole chain from the stored rows of c's open transaction
 * (open it REPEATABLE READ for a consistent view).  Returns 0 whether or
 * not the chain verifies (see out->bad_seq); an error only when it could
 * not be read.
 */
int audit_verify_chain(struct audit_chain *out, struct db_conn *c);

/*
 * The same from event base+1 on, taking `base_hash` as the hash of event
 * `base` (verified some other way: a signed checkpoint's root), so only the
 * events after it are read and recomputed.  base 0 with 32 zero bytes is
 * audit_verify_chain().
 */
int audit_verify_chain_since(struct audit_chain *out, struct db_conn *c, uint64_t base,
			     const merkle_hash base_hash);

/*
 * The stored hash of event `seq` into out.  OTCM_ENOTFOUND when there is
 * no such event, OTCM_EDB when its hash is malformed.
 */
int audit_event_hash(merkle_hash out, struct db_conn *c, int64_t seq);
void audit_chain_release(struct audit_chain *chain);

#endif
