/* domain/domain.c - the context every operation shares; see domain.h. */
#include "domain/domain.h"

#include <inttypes.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "storage/audit.h"

int dom_conn(struct db_conn **out, const struct dom *d)
{
	return db_acquire(out, d->db);
}

int dom_begin(struct db_conn **out, const struct dom *d)
{
	struct db_conn *c = NULL;
	int rc = db_acquire(&c, d->db);

	if (rc)
		return rc;
	rc = db_begin(c);
	if (rc) {
		db_release(c);
		return rc;
	}
	*out = c;
	return 0;
}

int dom_commit(struct db_conn *c)
{
	return db_commit(c);
}

void dom_end(struct db_conn *c)
{
	db_release(c);
}

/*
 * Does `who` act as someone?  A user, or the command line's operator
 * (user_id 0, door DOOR_CLI, named in the event by its username).
 */
static bool acting(const struct actor *who)
{
	return who && (who->user_id != 0 || (who->door == DOOR_CLI && who->username));
}

static void fill_event(struct audit_event *ev, const struct dom *d, const char *action,
		       const char *object_type, const char *object_id, const json_t *before,
		       const json_t *after, const char *reason)
{
	const struct actor *who = d->who;

	memset(ev, 0, sizeof(*ev));
	ev->actor_id = who && who->user_id ? who->user_id : 0;
	ev->actor = acting(who) ? who->username : "anonymous";
	ev->role = acting(who) ? role_name(who->role) : NULL;
	ev->source = who ? who->addr : NULL;
	ev->request_id = who ? who->request_id : NULL;
	ev->action = action;
	ev->object_type = object_type;
	ev->object_id = object_id;
	ev->before = before;
	ev->after = after;
	ev->reason = reason;
}

int dom_audit(const struct dom *d, struct db_conn *c, const char *action, const char *object_type,
	      const char *object_id, const json_t *before, const json_t *after, const char *reason)
{
	struct audit_event ev;

	fill_event(&ev, d, action, object_type, object_id, before, after, reason);
	return audit_append(NULL, c, &ev);
}

int dom_audit_alone(const struct dom *d, const char *action, const char *object_type,
		    const char *object_id, const json_t *before, const json_t *after,
		    const char *reason)
{
	struct db_conn *c = NULL;
	int rc;

	if ((rc = dom_begin(&c, d)) ||
	    (rc = dom_audit(d, c, action, object_type, object_id, before, after, reason)))
		goto out;
	rc = dom_commit(c);
out:
	dom_end(c);
	return rc;
}

static bool is_refusal(int rc)
{
	return rc == OTCM_ERULE || rc == OTCM_EAUTH || rc == OTCM_EFORBIDDEN || rc == OTCM_ELOCKED ||
	       rc == OTCM_ETHROTTLED;
}

int dom_refused(const struct dom *d, struct db_conn **c, const char *action,
		const char *object_type, const char *object_id, int rc)
{
	char *msg, *field, *rule;
	json_t *after;

	if (!is_refusal(rc))
		return rc;
	msg = arena_strdup(d->arena, err_message());
	field = err_field() ? arena_strdup(d->arena, err_field()) : NULL;
	rule = err_rule() ? arena_strdup(d->arena, err_rule()) : NULL;
	if (c) {
		dom_end(*c);
		*c = NULL;
	}
	after = json_pack("{s:s?, s:s?, s:s, s:s}", "rule", rule, "field", field, "message", msg,
			  "door", door_name(d->who ? d->who->door : DOOR_API));
	if (dom_audit_alone(d, action, object_type, object_id, NULL, after, msg))
		log_msg(LOG_ERROR, "could not audit the refusal of '%s': %s", action, err_message());
	json_decref(after);
	err_set(rc, field, "%s", msg);
	if (rule)
		err_set_rule(rule);
	return rc;
}

/*
 * One refusal by role: counted per actor, `what` and minute; the first of a
 * minute is an audit event.  Keeps the caller's error as it was.
 */
void dom_audit_access_refused(const struct dom *d, const char *what, int code, const char *message)
{
	struct db_conn *c = NULL;
	int64_t count = 0, previous = 0;
	const char *actor = acting(d->who) ? d->who->username : "anonymous";
	char *msg = arena_strdup(d->arena, err_message()), *field = NULL, *rule = NULL;
	const char *said = arena_strdup(d->arena, message ? message : "");
	json_t *after = NULL;
	int rc;

	if (err_field())
		field = arena_strdup(d->arena, err_field());
	if (err_rule())
		rule = arena_strdup(d->arena, err_rule());
	if ((rc = dom_begin(&c, d)) ||
	    (rc = audit_refusal_count(&count, &previous, c, actor, what)))
		goto out;
	if (count == 1) {
		after = json_pack("{s:s, s:s, s:s, s:I}", "what", what, "door",
				  door_name(d->who ? d->who->door : DOOR_API), "message", said,
				  "refusals_in_previous_minute", (json_int_t)previous);
		if ((rc = dom_audit(d, c, code == OTCM_EAUTH ? "access.unauthenticated" : "access.refused",
				    "access", what, NULL, after, said)))
			goto out;
	}
	rc = dom_commit(c);
out:
	if (rc)
		log_msg(LOG_ERROR, "could not audit a refusal of '%s': %s", what, err_message());
	json_decref(after);
	dom_end(c);
	err_set(code, field, "%s", msg);
	if (rule)
		err_set_rule(rule);
}

int dom_permit(const struct dom *d, enum dom_op op)
{
	const struct dom_op_info *info = dom_op_info(op);
	const struct actor *who = d->who;
	int rc;

	if (info->roles == ROLE_PUBLIC)
		return 0;
	if (!acting(who)) {
		rc = err_set(OTCM_EAUTH, NULL, "authentication required to %s", info->what);
		dom_audit_access_refused(d, info->name, rc, err_message());
		return rc;
	}
	if (who->role & info->roles)
		return 0;
	rc = err_set(OTCM_EFORBIDDEN, NULL, "role '%s' may not %s",
		     role_name(who->role) ? role_name(who->role) : "none", info->what);
	err_set_rule("role-permission");
	dom_audit_access_refused(d, info->name, rc, err_message());
	return rc;
}
