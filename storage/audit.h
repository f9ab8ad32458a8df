/*
 * storage/audit.h - appending events to the audit trail.
 *
 * An event is written inside the caller's open transaction, so it commits
 * or vanishes with the change it records.  The sequence number is gapless:
 * it comes from the single audit_head row, locked for the rest of the
 * transaction (writers queue there; a rollback gives the number back).
 * Times are the database server's clock (now()), never a client's.
 *
 * Thread-safety: as the connection.
 */
#ifndef OTCM_STORAGE_AUDIT_H
#define OTCM_STORAGE_AUDIT_H

#include <stdint.h>

#include "core/json.h"
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
 * Events as JSON objects, oldest first, filtered by object (either may be
 * NULL for all), after sequence number `after_seq`, at most `limit`.
 */
int audit_list(json_t **out, struct db_conn *c, const char *object_type, const char *object_id,
	       int64_t after_seq, unsigned limit);

#endif
