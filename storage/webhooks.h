/*
 * storage/webhooks.h - the record store of webhook subscriptions and their
 * delivery log (tables webhooks and webhook_deliveries,
 * schema/0060_webhooks.sql), and the reads the delivering thread makes.
 *
 * The audit trail is the outbox (storage/delivery.h): each subscription
 * keeps the last audit seq it has taken and moves it by compare-and-swap.
 * What may be subscribed, who may and when a subscription is disabled are
 * rules of domain/webhooks.h.  A subscription's JSON never holds its
 * secret: {id, url, events, description, enabled, seq, attempts,
 * next_attempt_at, failing_since, last_success_at, disabled_at,
 * disabled_reason, created_at, created_by}.
 *
 * Errors: as db.h; OTCM_ENOTFOUND (field "id") for a subscription that
 * does not exist.  Thread-safety: as the connection.
 */
#ifndef OTCM_STORAGE_WEBHOOKS_H
#define OTCM_STORAGE_WEBHOOKS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/json.h"
#include "storage/db.h"

/* What a new subscription or a change to one sets; NULL: not given. */
struct webhook_fields {
	const char *url;
	const char *events_json;    /* a JSON array of strings */
	const char *description;
	const char *secret;
	int enabled;                /* -1 unchanged, 0 disable, 1 enable (clears failures) */
	const char *disabled_reason;/* with enabled 0 */
};

/*
 * Insert a subscription starting after the newest audit event (it gets
 * what happens from now on), in c's transaction; *out its JSON (caller's).
 */
int webhooks_insert(json_t **out, struct db_conn *c, const struct webhook_fields *f,
		    const char *created_by);

/* One subscription's JSON into *out (caller's); for_update locks its row. */
int webhooks_get(json_t **out, struct db_conn *c, int64_t id, bool for_update);

/* Every subscription, oldest first, as a JSON array into *out (caller's). */
int webhooks_list(json_t **out, struct db_conn *c);

/*
 * Change what f gives of subscription `id`; enabling clears its failures
 * (attempts, failing_since, next_attempt_at) and its disabled_*; disabling
 * sets disabled_at and disabled_reason.  *out: the JSON after (caller's).
 */
int webhooks_update(json_t **out, struct db_conn *c, int64_t id, const struct webhook_fields *f);

/* Delete a subscription and its delivery log. */
int webhooks_delete(struct db_conn *c, int64_t id);

/*
 * The newest `limit` delivery attempts of `id`, newest first: [{id, seq,
 * message_id, attempt, at, status, error, duration_ms}] into *out.
 */
int webhooks_deliveries(json_t **out, struct db_conn *c, int64_t id, unsigned limit);

/* ---- for the delivering thread ------------------------------------- */

/* A subscription due for delivery, and what it should send. */
struct webhook_job {
	int64_t id;
	const char *url;
	const char *secret;
	int64_t seq;                /* its mark */
	int attempts;               /* failed tries of the pending event */
	int64_t failing_for_s;      /* seconds since failing_since; < 0: not failing */
	int64_t head;               /* the newest audit seq in the same snapshot */
	int64_t event_seq;          /* the next matching event after seq; 0: none up to head */
	const char *body;           /* its JSON payload (Standard Webhooks: type, timestamp, data) */
	const char *last_error;     /* the newest attempt's error, NULL for none */
};

struct webhook_jobs {
	struct webhook_job *jobs;
	size_t n;
	struct db_res *res;         /* owns the texts */
};

/*
 * The enabled subscriptions whose next attempt is due, each with its next
 * event matching its patterns (LIKE patterns, see webhooks_insert's
 * caller).  Release with webhook_jobs_release.
 */
int webhooks_due(struct webhook_jobs *out, struct db_conn *c);

/* Free what j holds and zero it.  NULL and a zeroed value are fine. */
void webhook_jobs_release(struct webhook_jobs *j);

/* One attempt's outcome, for the log. */
struct webhook_attempt {
	int64_t seq;                /* the event tried */
	const char *message_id;
	int attempt;
	int status;                 /* HTTP status, 0: none */
	const char *error;          /* NULL on success */
	int duration_ms;
};

/*
 * Log attempt a of subscription `id` and move its state, in one
 * transaction of c: on success the mark goes from `from` to a->seq and the
 * failures clear; on failure attempts grows, failing_since is set if it
 * was not, and the next attempt waits `retry_s` seconds.  OTCM_ECONFLICT
 * (nothing written) when the mark is no longer `from`.
 */
int webhooks_record(struct db_conn *c, int64_t id, int64_t from, const struct webhook_attempt *a,
		    unsigned retry_s);

/* Delete delivery log rows older than `days` days; *out_deleted gets how many. */
int webhooks_prune(uint64_t *out_deleted, struct db_conn *c, unsigned days);

/* Move the mark from `from` to `to` (no matching events in between); ECONFLICT as above. */
int webhooks_skip(struct db_conn *c, int64_t id, int64_t from, int64_t to);

#endif
