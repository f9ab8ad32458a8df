/*
 * storage/monitor.h - what the metrics endpoint reads from the database:
 * the audit trail's head, its newest signed checkpoint, and how far each
 * outside destination (syslog collectors, webhook subscriptions) is
 * behind.  A handful of index lookups, whatever the trail's length.
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

struct monitor_state {
	int64_t audit_seq;             /* the newest audit event's seq, 0 for none */
	int64_t checkpoint_size;       /* events the newest checkpoint signs, 0 for none */
	double checkpoint_age_s;       /* seconds since it was signed; < 0 for none */
	struct monitor_backlog *backlog;
	size_t nbacklog;
	struct db_res *res;            /* owns the texts */
};

/* Fill *out (release with monitor_state_release) in one snapshot. */
int monitor_read(struct monitor_state *out, struct db_conn *c);

/* Free what s holds and zero it.  NULL and a zeroed state are fine. */
void monitor_state_release(struct monitor_state *s);

#endif
