/*
 * server/h_webhooks.c - webhook subscriptions through the API and the
 * administrator's pages, doors onto domain/webhooks.h:
 *
 *   POST   /api/v1/webhooks                   dom_webhook_create (201, the secret once)
 *   GET    /api/v1/webhooks                   dom_webhook_list
 *   GET    /api/v1/webhooks/{id}              dom_webhook_read
 *   PATCH  /api/v1/webhooks/{id}              dom_webhook_update
 *   DELETE /api/v1/webhooks/{id}              dom_webhook_delete (204)
 *   GET    /api/v1/webhooks/{id}/deliveries   dom_webhook_read with its log (?limit=)
 *   GET    /admin/webhooks                    dom_webhook_list
 *   POST   /admin/webhooks                    dom_webhook_create
 *   GET    /admin/webhooks/{id}               dom_webhook_read with its log
 *   POST   /admin/webhooks/{id}               dom_webhook_update (action enable, disable, rotate)
 *   POST   /admin/webhooks/{id}/delete        dom_webhook_delete
 *
 * Answers that carry a secret are not cached (Cache-Control: no-store).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "domain/webhooks.h"
#include "server/h_pages.h"
#include "server/handlers.h"
#include "web/pages.h"

#define DELIVERIES_DEFAULT 100
#define DELIVERIES_PAGE 100

static int body_json(json_t **out, struct http_req *req)
{
	return json_parse_object(out, req->body ? req->body : "", req->body_len,
				 (int)req->srv->cfg->json_max_depth);
}

int h_webhooks_create(struct http_req *req)
{
	json_t *body = NULL, *hook = NULL;
	int rc;

	if ((rc = body_json(&body, req)) || (rc = dom_webhook_create(&hook, &req->dom, body)))
		goto out;
	http_set_header(req, "Location",
			arena_printf(req->arena, "/api/v1/webhooks/%" JSON_INTEGER_FORMAT,
				     json_integer_value(json_object_get(hook, "id"))));
	http_set_header(req, "Cache-Control", "no-store");
	rc = http_reply_json(req, 201, hook);
	hook = NULL;
out:
	json_decref(hook);
	json_decref(body);
	return rc;
}

int h_webhooks_list(struct http_req *req)
{
	json_t *out = NULL;
	int rc = dom_webhook_list(&out, &req->dom);

	return rc ? rc : http_reply_json(req, 200, out);
}

int h_webhooks_get(struct http_req *req)
{
	json_t *out = NULL;
	int64_t id;
	int rc;

	if ((rc = dom_webhook_id(&id, http_param(req, 0))) ||
	    (rc = dom_webhook_read(&out, &req->dom, id, 0)))
		return rc;
	return http_reply_json(req, 200, out);
}

int h_webhooks_patch(struct http_req *req)
{
	json_t *body = NULL, *hook = NULL;
	int64_t id;
	int rc;

	if ((rc = dom_webhook_id(&id, http_param(req, 0))) || (rc = body_json(&body, req)) ||
	    (rc = dom_webhook_update(&hook, &req->dom, id, body)))
		goto out;
	http_set_header(req, "Cache-Control", "no-store");
	rc = http_reply_json(req, 200, hook);
	hook = NULL;
out:
	json_decref(body);
	json_decref(hook);
	return rc;
}

int h_webhooks_delete(struct http_req *req)
{
	int64_t id;
	int rc;

	if ((rc = dom_webhook_id(&id, http_param(req, 0))) || (rc = dom_webhook_delete(&req->dom, id)))
		return rc;
	return http_reply_empty(req, 204);
}

int h_webhooks_deliveries(struct http_req *req)
{
	const char *limit_s = http_query(req, "limit");
	json_t *hook = NULL, *out;
	unsigned limit = DELIVERIES_DEFAULT;
	int64_t id;
	int rc;

	if (limit_s) {
		char *end;
		long v = strtol(limit_s, &end, 10);

		if (*end || v < 1 || v > DOM_WEBHOOK_DELIVERIES_MAX || !(*limit_s >= '0' && *limit_s <= '9'))
			return err_set(OTCM_EINVAL, "limit", "limit must be a number from 1 to %d",
				       DOM_WEBHOOK_DELIVERIES_MAX);
		limit = (unsigned)v;
	}
	if ((rc = dom_webhook_id(&id, http_param(req, 0))) ||
	    (rc = dom_webhook_read(&hook, &req->dom, id, limit)))
		return rc;
	out = json_pack("{s:O}", "items", json_object_get(hook, "deliveries"));
	json_decref(hook);
	return http_reply_json(req, 200, out);
}

/* ---- pages ---------------------------------------------------------- */

static int list_page(struct http_req *req, unsigned status, const json_t *refill, const char *kind,
		     const char *notice)
{
	struct web_page p = pg_page(req, "Webhooks", "webhooks");
	json_t *list = NULL;
	struct html h;
	int rc;

	if ((rc = dom_webhook_list(&list, &req->dom)))
		return rc;
	pg_keep(req, list);
	html_init(&h, PG_PAGE_CAP);
	page_webhooks(&h, &p, list, refill, kind, notice);
	return pg_reply(req, status, &h);
}

int h_page_admin_webhooks(struct http_req *req)
{
	const char *done = http_query(req, "done");

	if (done && strcmp(done, "deleted") == 0)
		return list_page(req, 200, NULL, "ok", "Subscription deleted.");
	return list_page(req, 200, NULL, NULL, NULL);
}

/* One subscription's page, with `w` when the caller already has it (the secret shown once). */
static int hook_page(struct http_req *req, unsigned status, json_t *w, const char *kind,
		     const char *notice)
{
	struct web_page p;
	const char *secret = NULL;
	struct html h;
	int64_t id;
	int rc;

	if (w) {
		/* just made or changed: show the secret once, then read it back with its log */
		secret = web_str(w, "secret");
		id = json_integer_value(json_object_get(w, "id"));
		w = NULL;
	} else if ((rc = dom_webhook_id(&id, http_param(req, 0)))) {
		return rc;
	}
	if ((rc = dom_webhook_read(&w, &req->dom, id, DELIVERIES_PAGE)))
		return rc;
	pg_keep(req, w);
	p = pg_page(req, arena_printf(req->arena, "Webhook %" PRId64, id), "webhooks");
	html_init(&h, PG_PAGE_CAP);
	page_webhook(&h, &p, w, secret, kind, notice);
	http_set_header(req, "Cache-Control", "no-store");
	return pg_reply(req, status, &h);
}

int h_page_admin_webhook(struct http_req *req)
{
	return hook_page(req, 200, NULL, NULL, NULL);
}

int h_page_admin_webhook_create(struct http_req *req)
{
	static const char *const texts[] = { "url", "description", "secret" };
	json_t *refill = pg_keep(req, json_object()), *body = pg_keep(req, json_object());
	json_t *events = json_array(), *hook = NULL;
	const char *ev = pg_form(req, "events");
	struct pg_failure f;
	int rc;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		const char *v = pg_form(req, texts[i]);

		if (v) {
			json_object_set_new(body, texts[i], json_string(v));
			if (strcmp(texts[i], "secret") != 0)
				json_object_set_new(refill, texts[i], json_string(v));
		}
	}
	/* "change.*, signature.*": the list the API takes */
	if (ev) {
		char *copy = arena_strdup(req->arena, ev), *save = NULL, *t;

		json_object_set_new(refill, "events", json_string(ev));
		for (t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
			json_array_append_new(events, json_string(t));
	}
	json_object_set_new(body, "events", events);
	if ((rc = dom_webhook_create(&hook, &req->dom, body))) {
		pg_keep_failure(&f, req, rc);
		return list_page(req, f.status, refill, "error", f.message);
	}
	pg_keep(req, hook);
	return hook_page(req, 201, hook, "ok", "Subscribed. Events from now on are delivered.");
}

int h_page_admin_webhook_update(struct http_req *req)
{
	const char *action = pg_form(req, "action");
	json_t *body = NULL, *hook = NULL;
	const char *done;
	struct pg_failure f;
	int64_t id;
	int rc;

	if ((rc = dom_webhook_id(&id, http_param(req, 0))))
		return rc;
	if (action && strcmp(action, "enable") == 0) {
		body = json_pack("{s:b}", "enabled", 1);
		done = "Enabled: delivery resumes at the event it stopped at.";
	} else if (action && strcmp(action, "disable") == 0) {
		body = json_pack("{s:b}", "enabled", 0);
		done = "Disabled: nothing is delivered until it is enabled again.";
	} else if (action && strcmp(action, "rotate") == 0) {
		body = json_pack("{s:b}", "rotate_secret", 1);
		done = "A new secret is in use from the next delivery on.";
	} else {
		return err_set(OTCM_EINVAL, "action", "action must be enable, disable or rotate");
	}
	pg_keep(req, body);
	if ((rc = dom_webhook_update(&hook, &req->dom, id, body))) {
		pg_keep_failure(&f, req, rc);
		return hook_page(req, f.status, NULL, "error", f.message);
	}
	pg_keep(req, hook);
	return hook_page(req, 200, hook, "ok", done);
}

int h_page_admin_webhook_delete(struct http_req *req)
{
	int64_t id;
	int rc;

	if ((rc = dom_webhook_id(&id, http_param(req, 0))) || (rc = dom_webhook_delete(&req->dom, id)))
		return rc;
	return pg_redirect(req, "/admin/webhooks?done=deleted");
}
