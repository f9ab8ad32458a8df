/*
 * server/svc.h - small helpers the domain services share: a transaction
 * bound to a request, and audit events stamped with the request's caller.
 *
 * Every write a handler makes goes through one transaction:
 *
 *     struct db_conn *c = NULL;
 *     if ((rc = svc_begin(&c, req))) goto out;
 *     ... writes ...
 *     if ((rc = svc_audit(req, c, "asset.create", "asset", id, NULL, after))) goto out;
 *     rc = svc_commit(c);
 *   out:
 *     svc_end(c);     // rolls back when not committed, returns the connection
 *
 * Thread-safety: per request.
 */
#ifndef OTCM_SERVER_SVC_H
#define OTCM_SERVER_SVC_H

#include "core/json.h"
#include "server/http.h"
#include "storage/db.h"

/* A pooled connection with a transaction open. */
int svc_begin(struct db_conn **out, struct http_req *req);

/* A pooled connection without a transaction (reads). */
int svc_conn(struct db_conn **out, struct http_req *req);

/* Commit the transaction. */
int svc_commit(struct db_conn *c);

/* Roll back anything uncommitted and return the connection.  NULL is fine. */
void svc_end(struct db_conn *c);

/*
 * Append an audit event for the request's caller (or "anonymous"), with
 * its role, address and request id.  `before`/`after` are borrowed.
 */
int svc_audit(struct http_req *req, struct db_conn *c, const char *action,
	      const char *object_type, const char *object_id,
	      const json_t *before, const json_t *after);

/*
 * Record an audit event in a transaction of its own (refused attempts,
 * failed logins): the event survives even though the request fails.
 */
int svc_audit_alone(struct http_req *req, const char *action, const char *object_type,
		    const char *object_id, const json_t *before, const json_t *after,
		    const char *reason);

/* Parse the request body as a JSON object (limits from the config). */
int svc_body_json(json_t **out, struct http_req *req);

#endif
