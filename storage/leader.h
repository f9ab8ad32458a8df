/*
 * storage/leader.h - which otcm node runs the background work.
 *
 * Several stateless otcm nodes may serve one database; background work
 * (signing audit checkpoints, and what later joins it) must run on exactly
 * one of them at a time.  The node whose session holds the PostgreSQL
 * advisory lock LEADER_LOCK_KEY leads; the lock dies with the session, so
 * when the leading node dies or loses the database (a failover), another
 * node's next leader_hold() takes over.  The session is a connection of its
 * own (not a pooled one) to the pool's database, checked by a round trip on
 * each call.
 *
 * Thread-safety: a struct leader belongs to one thread (a background
 * thread's loop).
 */
#ifndef OTCM_STORAGE_LEADER_H
#define OTCM_STORAGE_LEADER_H

#include <stdbool.h>
#include <stdint.h>

#include "storage/db.h"

/* "otcm" NUL "bgw" as a 64-bit number: apart from the migration lock. */
#define LEADER_LOCK_KEY 8031153355317471095LL
/* "otcm" NUL "slg": the syslog delivery's own lead, apart from the above. */
#define LEADER_SYSLOG_KEY 8031153355318586471LL
/* "otcm" NUL "whk": the webhook delivery's own lead. */
#define LEADER_WEBHOOK_KEY 8031153355318847595LL
/* "otcm" NUL "adv": the advisory folder's watch (--advisory-folder). */
#define LEADER_ADVISORY_KEY 8031153355317404790LL

struct leader;

/* A leader handle for `pool`'s database (connects lazily); *out is the caller's. */
int leader_new(struct leader **out, struct db_pool *pool);

/*
 * The same for the background work `work` (named in the log, borrowed,
 * must outlive the handle) under its own lock `key`: separate work may
 * lead on separate nodes, and each runs on exactly one.  leader_new() is
 * LEADER_LOCK_KEY for checkpoint signing.
 */
int leader_new_for(struct leader **out, struct db_pool *pool, int64_t key, const char *work);

/*
 * Does this node lead now?  Checks the held session (a lost one loses the
 * lead), or connects and tries to take the lock.  Never fails: a database
 * that cannot be reached means "not leading"; changes are logged.
 */
bool leader_hold(struct leader *l);

/* Give up the lead (closing the session) and free l.  NULL is fine. */
void leader_free(struct leader *l);

#endif
