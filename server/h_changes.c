/*
 * server/h_changes.c - the REST door to change tickets: raise, list,
 * read, edit; lifecycle transitions; deployments; release; the process
 * settings.  Each handler parses the request, calls one operation of
 * domain/changes.h with the request's context, and renders its JSON; the
 * permissions, the rules, the transaction and the audit events are the
 * operation's.
 *
 *   POST  /api/v1/changes                          engineer, admin
 *   GET   /api/v1/changes                          all but agent
 *   GET   /api/v1/changes/{key}                    all but agent
 *   PATCH /api/v1/changes/{key}                    engineer, admin
 *   POST  /api/v1/changes/{key}/transitions        engineer, qa, approver, admin
 *   POST  /api/v1/changes/{key}/deployments        engineer, admin
 *   POST  /api/v1/changes/{key}/release            approver, admin
 *   GET   /api/v1/change-settings                  all but agent
 *   PUT   /api/v1/change-settings                  admin
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "domain/changes.h"
#include "server/handlers.h"

int h_body_json(json_t **out, struct http_req *req)
{
	return json_parse_object(out, req->body ? req->body : "", req->body_len,
				 (int)req->srv->cfg->json_max_depth);
}

/*
 * Run `op` on the route's change key and the JSON body, and answer
 * `status` with its result.
 */
static int with_body(struct http_req *req, unsigned status,
		     int (*op)(json_t **, const struct dom *, const char *, const json_t *))
{
	json_t *body = NULL, *out = NULL;
	int rc;

	if ((rc = h_body_json(&body, req)) == 0 && (rc = op(&out, &req->dom, http_param(req, 0), body)) == 0)
		rc = http_reply_json(req, status, out);
	json_decref(body);
	return rc;
}

int h_changes_create(struct http_req *req)
{
	json_t *body = NULL, *out = NULL;
	int rc;

	if ((rc = h_body_json(&body, req)) || (rc = dom_change_create(&out, &req->dom, body)))
		goto out;
	http_set_header(req, "Location",
			arena_printf(req->arena, "/api/v1/changes/%s", json_string_value(json_object_get(out, "key"))));
	rc = http_reply_json(req, 201, out);
out:
	json_decref(body);
	return rc;
}

int h_changes_list(struct http_req *req)
{
	struct dom_change_query q;
	json_t *out = NULL;
	int rc;

	memset(&q, 0, sizeof(q));
	q.state = http_query(req, "state");
	q.type = http_query(req, "type");
	q.asset = http_query(req, "asset");
	q.requester = http_query(req, "requester");
	q.from = http_query(req, "from");
	q.to = http_query(req, "to");
	q.overdue = http_query(req, "overdue");
	q.limit = http_query(req, "limit");
	q.cursor = http_query(req, "cursor");
	if ((rc = dom_change_list(&out, &req->dom, &q)))
		return rc;
	return http_reply_json(req, 200, out);
}

int h_changes_get(struct http_req *req)
{
	json_t *out = NULL;
	int rc;

	if ((rc = dom_change_read(&out, &req->dom, http_param(req, 0))))
		return rc;
	return http_reply_json(req, 200, out);
}

int h_changes_patch(struct http_req *req)
{
	return with_body(req, 200, dom_change_update);
}

int h_changes_transition(struct http_req *req)
{
	return with_body(req, 200, dom_change_transition);
}

int h_changes_deploy(struct http_req *req)
{
	return with_body(req, 201, dom_change_deploy);
}

int h_changes_release(struct http_req *req)
{
	return with_body(req, 200, dom_change_release);
}

int h_change_settings_get(struct http_req *req)
{
	json_t *out = NULL;
	int rc;

	if ((rc = dom_change_settings_read(&out, &req->dom)))
		return rc;
	return http_reply_json(req, 200, out);
}

int h_change_settings_put(struct http_req *req)
{
	json_t *body = NULL, *out = NULL;
	int rc;

	if ((rc = h_body_json(&body, req)) == 0 && (rc = dom_change_settings_update(&out, &req->dom, body)) == 0)
		rc = http_reply_json(req, 200, out);
	json_decref(body);
	return rc;
}
