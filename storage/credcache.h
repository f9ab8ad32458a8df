/*
 * storage/credcache.h - the owners of API tokens kept in memory between
 * requests, so that a request with a bearer token costs no database round
 * trip for its credentials.
 *
 * PostgreSQL keeps it true.  A trigger (schema 0090) notifies the channel
 * `otcm_credentials` whenever a user or a token changes in any way but a
 * token's last use; every server listens (storage/notify.h) and forgets
 * the user's entries as each notification arrives.  A change made
 * through this process's own pool is forgotten at its commit as well
 * (db_credentials_changed), before the request that made it is answered,
 * so on the node that made it a revoked token, a disabled user or a new
 * role holds for the very next request; other nodes follow as fast as
 * PostgreSQL delivers the notification.  While the listening connection is
 * down (not yet connected, lost, or the database refuses LISTEN) nothing
 * is served from memory and nothing is kept: every lookup goes to the
 * database, and everything kept before is forgotten.
 *
 * Entries hold no secret: they are keyed by the token's SHA-256 and hold
 * the user's id, names, role, flags and the token's expiry, which is
 * checked at every lookup (as is a lock's end).  The table is direct
 * mapped and bounded: a new entry replaces whatever held its slot.
 */
#ifndef OTCM_STORAGE_CREDCACHE_H
#define OTCM_STORAGE_CREDCACHE_H

#include <stdbool.h>
#include <stdint.h>

struct arena;
struct credcache;

/* What a lookup of a token needs of its owner. */
struct cred_entry {
	int64_t user_id;
	int64_t token_id;
	const char *username;
	const char *display_name;
	const char *role;
	bool disabled;
	bool directory;
	int64_t locked_until_us;       /* 0 = not locked */
	int64_t directory_checked_us;  /* 0 = never */
	int64_t expires_us;            /* the token's end; 0 = none */
};

/* An empty cache of `slots` entries; it serves nothing until told it is listening. */
struct credcache *credcache_new(unsigned slots);

/* Free it; NULL is a no-op. */
void credcache_free(struct credcache *cc);

/*
 * Its subscription to the channel `otcm_credentials` (storage/notify.h):
 * a payload naming a user id forgets that user's entries, any other all;
 * listening or not, everything is forgotten.
 */
void credcache_on_note(void *ctx, const char *payload);
void credcache_on_state(void *ctx, bool listening);

/*
 * The entry of token `hash`, its strings copied into `a`: true on a hit.
 * An expired token's entry is dropped and reported as a miss.  `*touch` is
 * set when the token's last use was last recorded from this process more
 * than `touch_every_us` ago (and the time is taken as recorded).
 */
bool credcache_get(struct cred_entry *out, bool *touch, struct credcache *cc,
		   struct arena *a, const unsigned char hash[32], int64_t touch_every_us);

/*
 * The generation to pass to credcache_put(): read it before reading the
 * database, so that an entry read before a change is never kept after it.
 */
uint64_t credcache_generation(struct credcache *cc);

/* Keep `e` for token `hash` unless something was forgotten since `gen`. */
void credcache_put(struct credcache *cc, const unsigned char hash[32],
		   const struct cred_entry *e, uint64_t gen);

/* Forget every entry (a change this process committed). */
void credcache_clear(struct credcache *cc);

/* Counters for the metrics. */
struct credcache_stats {
	uint64_t hits, misses, notifications, connects;
	bool listening;
};
void credcache_stats(struct credcache_stats *out, struct credcache *cc);

#endif
