/*
 * storage/credcache.c - API tokens' owners in memory, kept true by
 * LISTEN/NOTIFY (storage/notify.h); see credcache.h.
 *
 * One mutex guards the slots, the generation and the listening flag.  The
 * generation moves whenever anything is forgotten (a notification, a local
 * commit, the listening connection opening or closing); an entry read from
 * the database is kept only if the generation has not moved since before
 * that read, so a read racing a change can never outlive it.
 */
#include "storage/credcache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/mem.h"
#include "core/timeutil.h"


struct slot {
	bool used;
	unsigned char hash[32];
	struct cred_entry e;      /* strings point into `strings` */
	char *strings;            /* username, display name, role: one allocation */
	int64_t touched_us;       /* monotonic: when this process last recorded a use */
};

struct credcache {
	pthread_mutex_t mu;
	struct slot *slots;
	unsigned nslots;
	uint64_t gen;
	bool listening;
	uint64_t hits, misses, notifications, connects;
};

static void slot_drop(struct slot *s)
{
	free(s->strings);
	memset(s, 0, sizeof(*s));
}

/* Forget everything; called with cc->mu held. */
static void forget_all_locked(struct credcache *cc)
{
	for (unsigned i = 0; i < cc->nslots; i++)
		if (cc->slots[i].used)
			slot_drop(&cc->slots[i]);
	cc->gen++;
}

/* Forget one user's entries (or all when user_id is 0); takes cc->mu. */
static void forget_user(struct credcache *cc, int64_t user_id)
{
	pthread_mutex_lock(&cc->mu);
	if (user_id <= 0) {
		forget_all_locked(cc);
	} else {
		for (unsigned i = 0; i < cc->nslots; i++)
			if (cc->slots[i].used && cc->slots[i].e.user_id == user_id)
				slot_drop(&cc->slots[i]);
		cc->gen++;
	}
	cc->notifications++;
	pthread_mutex_unlock(&cc->mu);
}

void credcache_on_state(void *ctx, bool on)
{
	struct credcache *cc = ctx;

	pthread_mutex_lock(&cc->mu);
	forget_all_locked(cc);
	cc->listening = on;
	if (on)
		cc->connects++;
	pthread_mutex_unlock(&cc->mu);
}

void credcache_on_note(void *ctx, const char *payload)
{
	char *end = NULL;
	long long id = strtoll(payload, &end, 10);

	forget_user(ctx, end && end != payload && *end == '\0' ? (int64_t)id : 0);
}

static struct slot *slot_of(struct credcache *cc, const unsigned char hash[32])
{
	uint64_t k;

	memcpy(&k, hash, sizeof(k));
	return &cc->slots[k % cc->nslots];
}

/* ---- the table ------------------------------------------------------------ */

struct credcache *credcache_new(unsigned slots)
{
	struct credcache *cc = xcalloc(1, sizeof(*cc));

	pthread_mutex_init(&cc->mu, NULL);
	cc->nslots = slots ? slots : 1;
	cc->slots = xcalloc(cc->nslots, sizeof(*cc->slots));
	return cc;
}

void credcache_free(struct credcache *cc)
{
	if (!cc)
		return;
	for (unsigned i = 0; i < cc->nslots; i++)
		free(cc->slots[i].strings);
	free(cc->slots);
	pthread_mutex_destroy(&cc->mu);
	free(cc);
}

static const char *copy_or_null(struct arena *a, const char *s)
{
	return s ? arena_strdup(a, s) : NULL;
}

bool credcache_get(struct cred_entry *out, bool *touch, struct credcache *cc,
		   struct arena *a, const unsigned char hash[32], int64_t touch_every_us)
{
	struct slot *s;
	bool hit = false;

	*touch = false;
	pthread_mutex_lock(&cc->mu);
	s = slot_of(cc, hash);
	if (cc->listening && s->used && memcmp(s->hash, hash, 32) == 0) {
		if (s->e.expires_us && s->e.expires_us <= time_now_us()) {
			slot_drop(s);
		} else {
			int64_t now = time_mono_us();

			*out = s->e;
			out->username = copy_or_null(a, s->e.username);
			out->display_name = copy_or_null(a, s->e.display_name);
			out->role = copy_or_null(a, s->e.role);
			if (now - s->touched_us > touch_every_us) {
				s->touched_us = now;
				*touch = true;
			}
			hit = true;
		}
	}
	if (hit)
		cc->hits++;
	else
		cc->misses++;
	pthread_mutex_unlock(&cc->mu);
	return hit;
}

uint64_t credcache_generation(struct credcache *cc)
{
	uint64_t g;

	pthread_mutex_lock(&cc->mu);
	g = cc->gen;
	pthread_mutex_unlock(&cc->mu);
	return g;
}

/* The three strings of `e` in one allocation, pointed to by `s`'s entry. */
static void slot_fill(struct slot *s, const unsigned char hash[32], const struct cred_entry *e)
{
	const char *src[3] = { e->username, e->display_name, e->role };
	const char **dst[3] = { &s->e.username, &s->e.display_name, &s->e.role };
	size_t len[3], total = 0, off = 0;

	for (int i = 0; i < 3; i++) {
		len[i] = src[i] ? strlen(src[i]) + 1 : 0;
		total += len[i];
	}
	s->used = true;
	memcpy(s->hash, hash, 32);
	s->e = *e;
	s->strings = xmalloc(total ? total : 1);
	for (int i = 0; i < 3; i++) {
		*dst[i] = NULL;
		if (!src[i])
			continue;
		memcpy(s->strings + off, src[i], len[i]);
		*dst[i] = s->strings + off;
		off += len[i];
	}
	s->touched_us = time_mono_us();
}

void credcache_put(struct credcache *cc, const unsigned char hash[32],
		   const struct cred_entry *e, uint64_t gen)
{
	struct slot *s;

	pthread_mutex_lock(&cc->mu);
	if (cc->listening && cc->gen == gen) {
		s = slot_of(cc, hash);
		if (s->used)
			slot_drop(s);
		slot_fill(s, hash, e);
	}
	pthread_mutex_unlock(&cc->mu);
}

void credcache_clear(struct credcache *cc)
{
	pthread_mutex_lock(&cc->mu);
	forget_all_locked(cc);
	pthread_mutex_unlock(&cc->mu);
}

void credcache_stats(struct credcache_stats *out, struct credcache *cc)
{
	pthread_mutex_lock(&cc->mu);
	out->hits = cc->hits;
	out->misses = cc->misses;
	out->notifications = cc->notifications;
	out->connects = cc->connects;
	out->listening = cc->listening;
	pthread_mutex_unlock(&cc->mu);
}
