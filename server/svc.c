/* server/svc.c - request-bound transactions and audit events; see svc.h. */
#include "server/svc.h"

#include "core/err.h"
#include "storage/audit.h"

int svc_conn(struct db_conn **out, struct http_req *req)
{
	return db_acquire(out, req->srv->db);
}

int svc_begin(struct db_conn **out, struct http_req *req)
{
	struct db_conn *c = NULL;
	int rc = db_acquire(&c, req->srv->db);

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

int svc_commit(struct db_conn *c)
{
	return db_commit(c);
}

void svc_end(struct db_conn *c)
{
	db_release(c);
}

static void fill_event(struct audit_event *ev, struct http_req *req, const char *action,
		       const char *object_type, const char *object_id, const json_t *before,
		       const json_t *after, const char *reason)
{
	ev->actor_id = req->who.user_id;
	ev->actor = req->who.user_id ? req->who.username : "anonymous";
	ev->role = req->who.user_id ? role_name(req->who.role) : NULL;
	ev->source = req->remote_addr;
	ev->request_id = req->request_id;
	ev->action = action;
	ev->object_type = object_type;
	ev->object_id = object_id;
	ev->before = before;
	ev->after = after;
	ev->reason = reason;
}

int svc_audit(struct http_req *req, struct db_conn *c, const char *action,
	      const char *object_type, const char *object_id,
	      const json_t *before, const json_t *after)
{
	struct audit_event ev;

	fill_event(&ev, req, action, object_type, object_id, before, after, NULL);
	return audit_append(NULL, c, &ev);
}

int svc_audit_alone(struct http_req *req, const char *action, const char *object_type,
		    const char *object_id, const json_t *before, const json_t *after,
		    const char *reason)
{
	struct audit_event ev;
	struct db_conn *c = NULL;
	int rc;

	fill_event(&ev, req, action, object_type, object_id, before, after, reason);
	if ((rc = svc_begin(&c, req)))
		goto out;
	if ((rc = audit_append(NULL, c, &ev)))
		goto out;
	rc = svc_commit(c);
out:
	svc_end(c);
	return rc;
}

int svc_body_json(json_t **out, struct http_req *req)
{
	return json_parse_object(out, req->body ? req->body : "", req->body_len,
				 (int)req->srv->cfg->json_max_depth);
}
