/*
 * storage/notify.h - a connection of the server's own that LISTENs to
 * PostgreSQL channels, for the caches that notifications keep true
 * (storage/credcache.h, storage/rowcache.h).
 *
 * A thread connects, issues LISTEN for every subscription's channel, then
 * tells each subscriber it is listening; it hands each notification's
 * payload to its channel's subscriber as it arrives.  When the connection
 * fails, or stops answering the query it is asked every few seconds, each
 * subscriber is told it is no longer listening (a cache then serves
 * nothing from memory, since changes may go unheard) and the thread
 * reconnects with a growing pause (0.1 s to 5 s).  A standby refuses
 * LISTEN: then the subscribers stay told "not listening" until a primary
 * answers.
 */
#ifndef OTCM_STORAGE_NOTIFY_H
#define OTCM_STORAGE_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>

struct notify;

struct notify_sub {
	const char *channel;                              /* an SQL identifier, unquoted */
	void (*on_note)(void *ctx, const char *payload);  /* on the listening thread */
	void (*on_state)(void *ctx, bool listening);      /* likewise */
	void *ctx;
};

/* Start listening on `conninfo` (a libpq connection string) for `n` subscriptions (copied). */
int notify_open(struct notify **out, const char *conninfo, const struct notify_sub *subs,
		size_t n);

/* Stop the thread (subscribers are told "not listening") and free; NULL is a no-op. */
void notify_close(struct notify *nt);

#endif
