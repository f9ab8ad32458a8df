/*
 * server/h_readbacks.c - the doors to device read-backs (domain/readbacks.h).
 *
 * The agent's door (DOOR_AGENT, role agent):
 *   POST /api/v1/agent/poll                          dom_agent_poll: its due jobs
 *   POST /api/v1/agent/readbacks                     dom_readback_record
 * The API:
 *   POST /api/v1/readbacks/import                    dom_readback_import (offline file)
 *   GET  /api/v1/readbacks                           dom_readback_states (?prefix=)
 *   GET  /api/v1/agents                              dom_agent_list
 *   PUT  /api/v1/agents/{name}/key                   dom_agent_key_register (by hand)
 *   GET  /api/v1/assets/{id}/readbacks               dom_readback_list (?limit=)
 *   GET  /api/v1/assets/{id}/readbacks/{rid}         dom_readback_read
 *   GET  /api/v1/assets/{id}/readbacks/{rid}/archive dom_readback_archive (?format=zip|tar)
 *   POST /api/v1/assets/{id}/readbacks/{rid}/adopt   dom_readback_adopt (a change's version)
 *   GET  /api/v1/assets/{id}/readback-settings       dom_readback_settings
 *   PUT  /api/v1/assets/{id}/readback-settings       dom_readback_configure
 *   POST /api/v1/assets/{id}/readback-requests       dom_readback_request (on demand)
 * The pages:
 *   GET  /plant                                      dom_readback_states with diffs (?prefix=)
 *   GET  /agents                                     dom_agent_list
 *   POST /agents/key                                 dom_agent_key_register (its form)
 * Each parses, calls one operation and renders its JSON or its page.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "domain/adopt.h"
#include "domain/assets.h"
#include "domain/readbacks.h"
#include "server/h_pages.h"
#include "server/handlers.h"
#include "web/pages.h"

static int body_json(json_t **out, struct http_req *req)
{
	return json_parse_object(out, req->body ? req->body : "", req->body_len,
				 (int)req->srv->cfg->json_max_depth);
}

/* A read-back id in a URL: a positive number, else not found. */
static int readback_id(int64_t *out, const char *s)
{
	char *end = NULL;
	long long v;

	if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 18)
		return err_set(OTCM_ENOTFOUND, "readback", "no read-back '%.40s'", s ? s : "");
	v = strtoll(s, &end, 10);
	if (v <= 0)
		return err_set(OTCM_ENOTFOUND, "readback", "no read-back '%.40s'", s);
	*out = v;
	return 0;
}

/* A JSON body through one operation, answered with `status`. */
static int body_op(struct http_req *req, unsigned status,
		   int (*op)(json_t **, const struct dom *, const json_t *))
{
	json_t *body = NULL, *out = NULL;
	int rc;

	if ((rc = body_json(&body, req)) || (rc = op(&out, &req->dom, body)))
		goto out;
	rc = http_reply_json(req, status, out);
	out = NULL;
out:
	json_decref(body);
	json_decref(out);
	return rc;
}

int h_agent_poll(struct http_req *req)
{
	return body_op(req, 200, dom_agent_poll);
}

int h_agent_readback(struct http_req *req)
{
	json_t *body = NULL, *out = NULL;
	int rc;

	if ((rc = body_json(&body, req)) || (rc = dom_readback_record(&out, &req->dom, body)))
		goto out;
	rc = http_reply_json(req, json_is_true(json_object_get(out, "duplicate")) ? 200 : 201, out);
	out = NULL;
out:
	json_decref(body);
	json_decref(out);
	return rc;
}

int h_readbacks_import(struct http_req *req)
{
	return body_op(req, 201, dom_readback_import);
}

int h_readbacks_states(struct http_req *req)
{
	json_t *out = NULL;
	int rc = dom_readback_states(&out, &req->dom, http_query(req, "prefix"), false);

	return rc ? rc : http_reply_json(req, 200, out);
}

int h_agents_list(struct http_req *req)
{
	json_t *out = NULL;
	int rc = dom_agent_list(&out, &req->dom);

	return rc ? rc : http_reply_json(req, 200, out);
}

int h_readbacks_list(struct http_req *req)
{
	const char *s = http_query(req, "limit");
	json_t *out = NULL;
	unsigned limit = 0;
	int64_t id;
	int rc;

	if (s && (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 4 || atoi(s) < 1 ||
		  atoi(s) > 500))
		return err_set(OTCM_EINVAL, "limit", "limit must be a number from 1 to 500");
	if (s)
		limit = (unsigned)atoi(s);
	if ((rc = dom_asset_id(&id, http_param(req, 0))) ||
	    (rc = dom_readback_list(&out, &req->dom, id, limit)))
		return rc;
	return http_reply_json(req, 200, out);
}

int h_readbacks_get(struct http_req *req)
{
	json_t *out = NULL;
	int64_t id, rid;
	int rc;

	if ((rc = dom_asset_id(&id, http_param(req, 0))) || (rc = readback_id(&rid, http_param(req, 1))) ||
	    (rc = dom_readback_read(&out, &req->dom, id, rid)))
		return rc;
	return http_reply_json(req, 200, out);
}

int h_readbacks_archive(struct http_req *req)
{
	const char *format = http_query(req, "format");
	const void *data = NULL;
	size_t len = 0;
	int64_t id, rid;
	int rc;

	if ((rc = dom_asset_id(&id, http_param(req, 0))) || (rc = readback_id(&rid, http_param(req, 1))) ||
	    (rc = dom_readback_archive(&data, &len, &req->dom, id, rid, format)))
		return rc;
	if (!format || !*format)
		format = "zip";
	http_set_header(req, "Content-Disposition",
			arena_printf(req->arena, "attachment; filename=\"readback-%" PRId64 "-%" PRId64 ".%s\"",
				     id, rid, format));
	return http_reply_bytes(req, 200, strcmp(format, "zip") ? "application/x-tar" : "application/zip",
				data, len);
}

int h_readback_settings_get(struct http_req *req)
{
	json_t *out = NULL;
	int64_t id;
	int rc;

	if ((rc = dom_asset_id(&id, http_param(req, 0))) ||
	    (rc = dom_readback_settings(&out, &req->dom, id)))
		return rc;
	return http_reply_json(req, 200, out);
}

int h_readback_settings_put(struct http_req *req)
{
	json_t *body = NULL, *out = NULL;
	int64_t id;
	int rc;

	if ((rc = dom_asset_id(&id, http_param(req, 0))) || (rc = body_json(&body, req)) ||
	    (rc = dom_readback_configure(&out, &req->dom, id, body)))
		goto out;
	rc = http_reply_json(req, 200, out);
	out = NULL;
out:
	json_decref(body);
	json_decref(out);
	return rc;
}

int h_readback_request(struct http_req *req)
{
	json_t *out = NULL;
	int64_t id;
	int rc;

	if ((rc = dom_asset_id(&id, http_param(req, 0))) ||
	    (rc = dom_readback_request(&out, &req->dom, id)))
		return rc;
	return http_reply_json(req, 202, out);
}

int h_readback_settings_group_put(struct http_req *req)
{
	return body_op(req, 200, dom_readback_configure_group);
}

int h_readback_request_group(struct http_req *req)
{
	return body_op(req, 202, dom_readback_request_group);
}

int h_page_plant(struct http_req *req)
{
	struct web_page p = pg_page(req, "Plant", "plant");
	const char *prefix = http_query(req, "prefix");
	json_t *states = NULL;
	struct html h;
	int rc = dom_readback_states(&states, &req->dom, prefix, true);

	if (rc)
		return rc;
	html_init(&h, PG_PAGE_CAP);
	page_plant(&h, &p, states, prefix);
	json_decref(states);
	return pg_reply(req, 200, &h);
}

/* The agents page with `notice` (may be NULL), answered with `status`. */
static int agents_page(struct http_req *req, unsigned status, const char *notice_kind, const char *notice)
{
	struct web_page p = pg_page(req, "Collection agents", "plant");
	json_t *agents = NULL;
	struct html h;
	int rc = dom_agent_list(&agents, &req->dom);

	if (rc)
		return rc;
	html_init(&h, PG_PAGE_CAP);
	/* the form is only offered to whom the operation would allow: the domain decides again */
	page_agents(&h, &p, agents, (dom_op_info(OP_AGENT_KEY_REGISTER)->roles & req->dom.who->role) != 0,
		    notice_kind, notice);
	json_decref(agents);
	return pg_reply(req, status, &h);
}

int h_page_agents(struct http_req *req)
{
	const char *done = http_query(req, "done");

	return agents_page(req, 200, done ? "ok" : NULL,
			   done && strcmp(done, "key") == 0 ? "The agent's key is registered." : NULL);
}

int h_agent_key_put(struct http_req *req)
{
	json_t *body = NULL, *out = NULL;
	int rc;

	if ((rc = body_json(&body, req)) ||
	    (rc = dom_agent_key_register(&out, &req->dom, http_param(req, 0), body)))
		goto out;
	rc = http_reply_json(req, 200, out);
	out = NULL;
out:
	json_decref(body);
	json_decref(out);
	return rc;
}

int h_page_agent_key(struct http_req *req)
{
	const char *key = pg_form(req, "public_key");
	json_t *in = json_pack("{s:s?}", "public_key", key), *out = NULL;
	struct pg_failure f;
	int rc = dom_agent_key_register(&out, &req->dom, pg_form(req, "agent"), in);

	json_decref(in);
	json_decref(out);
	if (rc == 0)
		return pg_redirect(req, "/agents?done=key");
	pg_keep_failure(&f, req, rc);
	if (f.status >= 500 || f.status == 401 || f.status == 403)
		return rc;
	return agents_page(req, f.status, "error", f.message);
}

int h_readbacks_adopt(struct http_req *req)
{
	json_t *body = NULL, *out = NULL;
	int64_t id, rid;
	int rc;

	if ((rc = dom_asset_id(&id, http_param(req, 0))) || (rc = readback_id(&rid, http_param(req, 1))) ||
	    (rc = body_json(&body, req)) || (rc = dom_readback_adopt(&out, &req->dom, id, rid, body)))
		goto out;
	rc = http_reply_json(req, 201, out);
	out = NULL;
out:
	json_decref(body);
	json_decref(out);
	return rc;
}
