/*
 * storage/rowcache.c - rows by id in memory; see rowcache.h.  One mutex
 * guards the slots, the generation and the listening flag, as in
 * storage/credcache.c.
 */
#include "storage/rowcache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/mem.h"

struct row {
	int64_t id;           /* 0: empty */
	char *data;           /* the columns' text one after another, each NUL-terminated */
	size_t len;
	uint64_t nulls;       /* bit i: column i is NULL */
};

struct rowcache {
	pthread_mutex_t mu;
	struct row *rows;
	unsigned nslots, ncols;
	uint64_t gen;
	bool listening;
	uint64_t hits, misses, notifications;
};

static void row_drop(struct row *r)
{
	free(r->data);
	memset(r, 0, sizeof(*r));
}

static void forget_all_locked(struct rowcache *rc)
{
	for (unsigned i = 0; i < rc->nslots; i++)
		if (rc->rows[i].id)
			row_drop(&rc->rows[i]);
	rc->gen++;
}

static struct row *slot_of(struct rowcache *rc, int64_t id)
{
	return &rc->rows[(uint64_t)id % rc->nslots];
}

struct rowcache *rowcache_new(unsigned slots, unsigned ncols)
{
	struct rowcache *rc = xcalloc(1, sizeof(*rc));

	pthread_mutex_init(&rc->mu, NULL);
	rc->nslots = slots ? slots : 1;
	rc->ncols = ncols < 64 ? ncols : 64;
	rc->rows = xcalloc(rc->nslots, sizeof(*rc->rows));
	return rc;
}

void rowcache_free(struct rowcache *rc)
{
	if (!rc)
		return;
	for (unsigned i = 0; i < rc->nslots; i++)
		free(rc->rows[i].data);
	free(rc->rows);
	pthread_mutex_destroy(&rc->mu);
	free(rc);
}

bool rowcache_get(const char **cols, struct rowcache *rc, struct arena *a, int64_t id)
{
	struct row *r;
	bool hit = false;

	pthread_mutex_lock(&rc->mu);
	r = slot_of(rc, id);
	if (rc->listening && id > 0 && r->id == id) {
		char *p = arena_alloc(a, r->len);

		memcpy(p, r->data, r->len);
		for (unsigned i = 0; i < rc->ncols; i++) {
			cols[i] = r->nulls & (1ULL << i) ? NULL : p;
			p += strlen(p) + 1;
		}
		hit = true;
		rc->hits++;
	} else {
		rc->misses++;
	}
	pthread_mutex_unlock(&rc->mu);
	return hit;
}

uint64_t rowcache_generation(struct rowcache *rc)
{
	uint64_t g;

	pthread_mutex_lock(&rc->mu);
	g = rc->gen;
	pthread_mutex_unlock(&rc->mu);
	return g;
}

void rowcache_put(struct rowcache *rc, int64_t id, const char *const *cols, uint64_t gen)
{
	size_t len = 0, off = 0, n[64];
	uint64_t nulls = 0;
	char *data;
	struct row *r;

	if (id <= 0)
		return;
	for (unsigned i = 0; i < rc->ncols; i++) {
		n[i] = cols[i] ? strlen(cols[i]) : 0;
		len += n[i] + 1;
		if (!cols[i])
			nulls |= 1ULL << i;
	}
	data = xmalloc(len);
	for (unsigned i = 0; i < rc->ncols; i++) {
		if (n[i])
			memcpy(data + off, cols[i], n[i]);
		data[off + n[i]] = '\0';
		off += n[i] + 1;
	}
	pthread_mutex_lock(&rc->mu);
	if (rc->listening && rc->gen == gen) {
		r = slot_of(rc, id);
		row_drop(r);
		r->id = id;
		r->data = data;
		r->len = len;
		r->nulls = nulls;
		data = NULL;
	}
	pthread_mutex_unlock(&rc->mu);
	free(data);
}

void rowcache_clear(struct rowcache *rc)
{
	pthread_mutex_lock(&rc->mu);
	forget_all_locked(rc);
	pthread_mutex_unlock(&rc->mu);
}

void rowcache_on_note(void *ctx, const char *payload)
{
	struct rowcache *rc = ctx;
	char *end = NULL;
	long long id = strtoll(payload, &end, 10);

	pthread_mutex_lock(&rc->mu);
	if (end && end != payload && *end == '\0' && id > 0) {
		struct row *r = slot_of(rc, id);

		if (r->id == id)
			row_drop(r);
		rc->gen++;
	} else {
		forget_all_locked(rc);
	}
	rc->notifications++;
	pthread_mutex_unlock(&rc->mu);
}

void rowcache_on_state(void *ctx, bool listening)
{
	struct rowcache *rc = ctx;

	pthread_mutex_lock(&rc->mu);
	forget_all_locked(rc);
	rc->listening = listening;
	pthread_mutex_unlock(&rc->mu);
}

void rowcache_stats(struct rowcache_stats *out, struct rowcache *rc)
{
	pthread_mutex_lock(&rc->mu);
	out->hits = rc->hits;
	out->misses = rc->misses;
	out->notifications = rc->notifications;
	out->listening = rc->listening;
	pthread_mutex_unlock(&rc->mu);
}
