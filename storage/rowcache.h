/*
 * storage/rowcache.h - rows read often and changed seldom, kept in memory
 * by id as their columns' text, and kept true by PostgreSQL like the
 * credential cache (storage/credcache.h): a trigger notifies a channel with
 * the row's id whenever it changes, the server's listening connection
 * (storage/notify.h) forgets that row, a change made through the server's
 * own pool is forgotten when its transaction ends (db_rows_changed), an
 * entry read before a change is never kept after it (the generation), and
 * while the listening connection is down nothing is served from memory.
 *
 * Direct mapped and bounded: a new row replaces whatever held its slot.
 */
#ifndef OTCM_STORAGE_ROWCACHE_H
#define OTCM_STORAGE_ROWCACHE_H

#include <stdbool.h>
#include <stdint.h>

struct arena;
struct rowcache;

/* An empty cache of `slots` rows of `ncols` columns each. */
struct rowcache *rowcache_new(unsigned slots, unsigned ncols);
void rowcache_free(struct rowcache *rc);

/*
 * Row `id`'s columns into cols[0..ncols) (copied into `a`; a NULL column
 * stays NULL): true on a hit.
 */
bool rowcache_get(const char **cols, struct rowcache *rc, struct arena *a, int64_t id);

/* Read before reading the database; pass to rowcache_put(). */
uint64_t rowcache_generation(struct rowcache *rc);

/* Keep row `id` unless something was forgotten since `gen`. */
void rowcache_put(struct rowcache *rc, int64_t id, const char *const *cols, uint64_t gen);

/* Forget every row (a change this process committed). */
void rowcache_clear(struct rowcache *rc);

/* Its subscription (storage/notify.h): a payload naming an id forgets that row, any other all. */
void rowcache_on_note(void *ctx, const char *payload);
void rowcache_on_state(void *ctx, bool listening);

struct rowcache_stats {
	uint64_t hits, misses, notifications;
	bool listening;
};
void rowcache_stats(struct rowcache_stats *out, struct rowcache *rc);

#endif
