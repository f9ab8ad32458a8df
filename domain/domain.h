/*
 * domain/domain.h - what every domain operation shares: its context, the
 * permission check, transactions, and audit events for what it did and for
 * what it refused.
 *
 * The domain layer sits between the doors (server/: REST handlers, page
 * handlers, git, the agent's endpoints, the command line) and storage/.
 * It holds every rule and every permission.  An operation
 *
 *     int dom_change_release(json_t **out, const struct dom *d, const char *key,
 *                            const json_t *in);
 *
 * takes the context (who acts, through which door, the request's arena, the
 * database pool, the configuration and the server's signing key), checks
 * the actor's permission with dom_permit() first, then the business rules,
 * runs its writes and their audit event in one transaction, and refuses
 * with an error code whose message names the field and, for a business
 * rule, err_set_rule() names the rule.  A refusal is audited by the
 * operation itself (dom_refused(), dom_permit()), never by the door.
 *
 * The typical write:
 *
 *     struct db_conn *c = NULL;
 *     if ((rc = dom_permit(d, OP_ASSET_CREATE))) return rc;
 *     if ((rc = dom_begin(&c, d))) goto out;
 *     ... checks, writes ...
 *     if ((rc = dom_audit(d, c, "asset.create", "asset", id, NULL, after))) goto out;
 *     rc = dom_commit(c);
 *   out:
 *     if (rc) rc = dom_refused(d, &c, "asset.create", "asset", id, rc);
 *     dom_end(c);
 *
 * Thread-safety: a context belongs to one request on one thread.
 */
#ifndef OTCM_DOMAIN_DOMAIN_H
#define OTCM_DOMAIN_DOMAIN_H

#include <stdbool.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/json.h"
#include "domain/actor.h"
#include "domain/ops.h"
#include "storage/db.h"

struct dom {
	const struct actor *who;
	struct arena *arena;                   /* everything the operation returns lives here */
	struct db_pool *db;
	const struct config *cfg;
	const struct crypto_ed25519_key *key;  /* the server's signing key, loaded once at start;
						  NULL in tools that sign nothing */
	const char *origin;                    /* checkpoint origin, "otcm/<server name>" */
};

/*
 * May the actor perform `op` (domain/ops.c has the table)?  0 when its role
 * is among the operation's roles.  Otherwise OTCM_EAUTH (anonymous) or
 * OTCM_EFORBIDDEN with rule "role-permission" and a sentence naming role
 * and operation, and the refusal is audited (at most one event per actor,
 * operation and minute, carrying how many refusals the minute before had:
 * a flood cannot bloat the trail).
 */
int dom_permit(const struct dom *d, enum dom_op op);

/*
 * Audit a refusal of the role filter in front of an operation (a route's
 * declared roles), aggregated like dom_permit()'s.  `what` names the
 * refused request ("POST /api/v1/changes/{key}/release").  Never fails
 * the caller: a failure to audit is logged.
 */
void dom_audit_access_refused(const struct dom *d, const char *what, int code, const char *message);

/* A pooled connection with a transaction open. */
int dom_begin(struct db_conn **out, const struct dom *d);

/* A pooled connection without a transaction (reads). */
int dom_conn(struct db_conn **out, const struct dom *d);

/* Commit the transaction. */
int dom_commit(struct db_conn *c);

/* Roll back anything uncommitted and return the connection.  NULL is fine. */
void dom_end(struct db_conn *c);

/*
 * Append an audit event for the actor (or "anonymous"), with its role,
 * address and request id, in c's open transaction.  `before`/`after` are
 * borrowed; `reason` may be NULL.
 */
int dom_audit(const struct dom *d, struct db_conn *c, const char *action, const char *object_type,
	      const char *object_id, const json_t *before, const json_t *after, const char *reason);

/*
 * Record an audit event in a transaction of its own (refused attempts,
 * failed logins): the event survives even though the operation fails.
 */
int dom_audit_alone(const struct dom *d, const char *action, const char *object_type,
		    const char *object_id, const json_t *before, const json_t *after,
		    const char *reason);

/*
 * The end of a failed operation: when `rc` is a refusal (OTCM_ERULE,
 * OTCM_EAUTH, OTCM_EFORBIDDEN, OTCM_ELOCKED, OTCM_ETHROTTLED), roll back *c
 * (and set it to NULL), audit the refusal as `action` in a transaction of
 * its own with {rule, field, message}, and keep the error (code, message,
 * field, rule) for the caller.  Other codes pass through untouched.
 * Returns rc.
 */
int dom_refused(const struct dom *d, struct db_conn **c, const char *action,
		const char *object_type, const char *object_id, int rc);

#endif
