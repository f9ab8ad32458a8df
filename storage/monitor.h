/*
 * storage/monitor.h - what the metrics endpoint reads from the database:
 * the audit trail's head, its newest signed checkpoint, how far each
 * outside destination (syslog collectors, webhook subscriptions) is
 * behind, and how many assets are in each read-back state.  A handful of
 * index lookups, whatever the trail's length, and two per asset for the
 * read-back states.
 *
 * Errors: as db.h.  Thread-safety: as the connection.
 */
#ifndef OTCM_STORAGE_MONITOR_H
#define OTCM_STORAGE_MONITOR_H

#include <stddef.h>
#include <stdint.h>

#include "storage/db.h"

/* One destination's backlog: audit events after its mark. */
struct monitor_backlog {
	const char *kind;          /* "syslog" or "webhook" */
	const char *destination;   /* "tcp://siem:514", or the subscription's id */
	int64_t events;            /* head seq - mark */
	int enabled;               /* webhooks: 0 when disabled; syslog: 1 */
};

/*
 * Assets in one read-back state (domain/readbacks.h) as each asset's newest
 * read-back recorded it: never_read, read_failed, stale, in_sync,
 * pending_release, drift.  Only states some asset is in appear.
 */
struct monitor_readback {
	const char *state;
	int64_t assets;
	double oldest_good_age_s;      /* the oldest of their newest good read-backs, seconds;
					  < 0 when none of them has one */
};

struct monitor_state {
	int64_t audit_seq;             /* the newest audit event's seq, 0 for none */
	int64_t checkpoint_size;       /* events the newest checkpoint signs, 0 for none */
	double checkpoint_age_s;       /* seconds since it was signed; < 0 for none */
	struct monitor_backlog *backlog;
	size_t nbacklog;
	struct monitor_readback *readbacks;
	size_t nreadbacks;
	struct db_res *res;            /* owns the texts */
};

/* Fill *out (release with monitor_state_release) in one snapshot. */
int monitor_read(struct monitor_state *out, struct db_conn *c);

/* Free what s holds and zero it.  NULL and a zeroed state are fine. */
void monitor_state_release(struct monitor_state *s);

#endif
