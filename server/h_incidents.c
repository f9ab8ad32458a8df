/*
 * server/h_incidents.c - incidents through the API and the pages, a door
 * onto domain/incidents.h (docs/incidents.md):
 *
 *   POST  /api/v1/incidents                          dom_incident_create
 *   GET   /api/v1/incidents                          dom_incident_list: ?open= ?limit= ?before=
 *   GET   /api/v1/incidents/{key}                    dom_incident_read
 *   PATCH /api/v1/incidents/{key}                    dom_incident_update
 *   POST  /api/v1/incidents/{key}/reports            dom_incident_report (multipart)
 *   GET   /api/v1/incidents/{key}/reports/{id}       dom_incident_report_document
 *   POST  /api/v1/incidents/{key}/links              dom_incident_link
 *   POST  /api/v1/incidents/{key}/review             dom_incident_review
 *   GET   /api/v1/incidents/{key}/evidence           dom_incident_evidence_export
 *   GET   /incidents, /incidents/{key}               the same reads as pages
 *   POST  /incidents/new                             dom_incident_create from a form
 *   POST  /incidents/{key}/edit                      dom_incident_update: action significant or close
 *   POST  /incidents/{key}/reports                   dom_incident_report (multipart form)
 *   POST  /incidents/{key}/links                     dom_incident_link
 *   POST  /incidents/{key}/review                    dom_incident_review
 *
 * Each handler parses its input, calls one domain operation and renders.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "domain/evidence.h"
#include "domain/incidents.h"
#include "server/h_pages.h"
#include "server/handlers.h"
#include "web/pages.h"

#define INCIDENTS_DEFAULT_LIMIT 100

static int body_json(json_t **out, struct http_req *req)
{
	return json_parse_object(out, req->body ? req->body : "", req->body_len,
				 (int)req->srv->cfg->json_max_depth);
}

/* A positive whole number from the query, or `dflt` when absent. */
static int query_number(int64_t *out, struct http_req *req, const char *name, int64_t dflt)
{
	const char *s = http_query(req, name);
	char *end;
	long long v;

	*out = dflt;
	if (!s)
		return 0;
	v = strtoll(s, &end, 10);
	if (!*s || *end || v <= 0 || strlen(s) > 18)
		return err_set(OTCM_EINVAL, name, "'%s' must be a positive whole number", name);
	*out = v;
	return 0;
}

static int list_query(bool *open_only, int64_t *limit, int64_t *before, struct http_req *req)
{
	const char *open = http_query(req, "open");
	int rc;

	if (open && strcmp(open, "true") && strcmp(open, "false"))
		return err_set(OTCM_EINVAL, "open", "'open' must be true or false");
	*open_only = open && !strcmp(open, "true");
	if ((rc = query_number(limit, req, "limit", INCIDENTS_DEFAULT_LIMIT)) ||
	    (rc = query_number(before, req, "before", 0)))
		return rc;
	if (*limit > 500)
		return err_set(OTCM_EINVAL, "limit", "limit must be a number from 1 to 500");
	return 0;
}

int h_incidents_create(struct http_req *req)
{
	json_t *body = NULL, *out = NULL;
	int rc;

	if ((rc = body_json(&body, req)) || (rc = dom_incident_create(&out, &req->dom, body)))
		goto out;
	http_set_header(req, "Location", arena_printf(req->arena, "/api/v1/incidents/%s",
						      json_string_value(json_object_get(out, "key"))));
	rc = http_reply_json(req, 201, out);
	out = NULL;
out:
	json_decref(out);
	json_decref(body);
	return rc;
}

int h_incidents_list(struct http_req *req)
{
	json_t *out = NULL;
	int64_t limit, before;
	bool open_only;
	int rc;

	if ((rc = list_query(&open_only, &limit, &before, req)) ||
	    (rc = dom_incident_list(&out, &req->dom, open_only, (unsigned)limit, before)))
		return rc;
	return http_reply_json(req, 200, out);
}

int h_incidents_get(struct http_req *req)
{
	json_t *out = NULL;
	int rc;

	if ((rc = dom_incident_read(&out, &req->dom, http_param(req, 0))))
		return rc;
	return http_reply_json(req, 200, out);
}

int h_incidents_patch(struct http_req *req)
{
	json_t *body = NULL, *out = NULL;
	int rc;

	if ((rc = body_json(&body, req)) || (rc = dom_incident_update(&out, &req->dom, http_param(req, 0), body)))
		goto out;
	rc = http_reply_json(req, 200, out);
	out = NULL;
out:
	json_decref(out);
	json_decref(body);
	return rc;
}

/* The multipart text field `name`, NUL-terminated in the arena, or NULL. */
static const char *part_text(struct http_req *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nparts; i++)
		if (req->parts[i].name && !strcmp(req->parts[i].name, name) && !req->parts[i].filename)
			return arena_strndup(req->arena, req->parts[i].data, req->parts[i].len);
	return NULL;
}

int h_incidents_report(struct http_req *req)
{
	struct dom_incident_report r;
	struct dom_file *files = arena_alloc(req->arena, (req->nparts + 1) * sizeof(*files));
	json_t *out = NULL;
	size_t i;
	int rc;

	memset(&r, 0, sizeof(r));
	for (i = 0; i < req->nparts; i++) {
		if (!req->parts[i].name || strcmp(req->parts[i].name, "file"))
			continue;
		files[r.nfiles].name = req->parts[i].filename;
		files[r.nfiles].data = req->parts[i].data;
		files[r.nfiles].len = req->parts[i].len;
		r.nfiles++;
	}
	r.files = files;
	r.kind = part_text(req, "kind");
	r.authority = part_text(req, "authority");
	r.reference = part_text(req, "reference");
	if ((rc = dom_incident_report(&out, &req->dom, http_param(req, 0), &r)))
		return rc;
	http_set_header(req, "Location",
			arena_printf(req->arena, "/api/v1/incidents/%s/reports/%" JSON_INTEGER_FORMAT,
				     http_param(req, 0), json_integer_value(json_object_get(out, "id"))));
	return http_reply_json(req, 201, out);
}

int h_incidents_report_get(struct http_req *req)
{
	struct dom_attachment a;
	const char *dot;
	int rc;

	if ((rc = dom_incident_report_document(&a, &req->dom, http_param(req, 0), http_param(req, 1))))
		return rc;
	/* the stored name stays in the record; the download's name is ours, with the extension if plain */
	dot = strrchr(a.filename, '.');
	if (!dot || strlen(dot) > 6 || strspn(dot + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") !=
	    strlen(dot + 1))
		dot = "";
	http_set_header(req, "Content-Disposition",
			arena_printf(req->arena, "attachment; filename=\"%s-report-%s%s\"", http_param(req, 0),
				     http_param(req, 1), dot));
	http_set_header(req, "Content-Security-Policy", "sandbox; default-src 'none'");
	return http_reply_bytes(req, 200, a.content_type, a.data, a.len);
}

int h_incidents_link(struct http_req *req)
{
	json_t *body = NULL, *out = NULL;
	int rc;

	if ((rc = body_json(&body, req)) || (rc = dom_incident_link(&out, &req->dom, http_param(req, 0), body)))
		goto out;
	rc = http_reply_json(req, 201, out);
	out = NULL;
out:
	json_decref(out);
	json_decref(body);
	return rc;
}

int h_incidents_review(struct http_req *req)
{
	json_t *body = NULL, *out = NULL;
	int rc;

	if ((rc = body_json(&body, req)) || (rc = dom_incident_review(&out, &req->dom, http_param(req, 0), body)))
		goto out;
	rc = http_reply_json(req, 201, out);
	out = NULL;
out:
	json_decref(out);
	json_decref(body);
	return rc;
}

int h_incidents_evidence(struct http_req *req)
{
	struct buf tar = BUF_INIT;
	const char *key = http_param(req, 0);
	char sha[2 * CRYPTO_SHA256_LEN + 1];
	int rc;

	if ((rc = dom_incident_evidence_export(&tar, sha, &req->dom, key)))
		return rc;
	http_set_header(req, "Content-Disposition",
			arena_printf(req->arena, "attachment; filename=\"%s-evidence.tar\"", key));
	http_set_header(req, "X-Content-SHA256", sha);
	rc = http_reply_bytes(req, 200, "application/x-tar", tar.data, tar.len);
	buf_release(&tar);
	return rc;
}

/* ---- pages ---- */

int h_page_incidents(struct http_req *req)
{
	struct web_page p = pg_page(req, "Incidents", "incidents");
	json_t *list = NULL;
	int64_t limit, before;
	bool open_only;
	struct html h;
	int rc;

	if ((rc = list_query(&open_only, &limit, &before, req)) ||
	    (rc = dom_incident_list(&list, &req->dom, open_only, (unsigned)limit, before)))
		return rc;
	html_init(&h, PG_PAGE_CAP);
	page_incidents(&h, &p, list, open_only, NULL, NULL);
	json_decref(list);
	return pg_reply(req, 200, &h);
}

/* The incident page with `status`, a notice for `done` and the refusal `error` (or NULL). */
static int incident_page(struct http_req *req, unsigned status, const char *done, const char *error)
{
	json_t *inc = NULL;
	struct web_page p;
	struct html h;
	int rc;

	if ((rc = dom_incident_read(&inc, &req->dom, http_param(req, 0))))
		return rc;
	p = pg_page(req, json_string_value(json_object_get(inc, "key")), "incidents");
	html_init(&h, PG_PAGE_CAP);
	page_incident(&h, &p, inc, done, error);
	json_decref(inc);
	return pg_reply(req, status, &h);
}

int h_page_incident(struct http_req *req)
{
	return incident_page(req, 200, http_query(req, "done"), NULL);
}

/*
 * After a page form's operation: back to the incident with `done` shown, or
 * the page again with the refusal (403, 404 and 5xx answer as error pages).
 */
static int after_form(struct http_req *req, int rc, const char *done)
{
	struct pg_failure f;

	if (rc == 0)
		return pg_redirect(req, arena_printf(req->arena, "/incidents/%s?done=%s", http_param(req, 0), done));
	pg_keep_failure(&f, req, rc);
	/* a wrong signing password (401) is shown on the page: the session itself is fine */
	if (f.status >= 500 || f.status == 403 || f.status == 404)
		return rc;
	return incident_page(req, f.status, NULL,
			     f.rule ? arena_printf(req->arena, "%s (rule %s)", f.message, f.rule) : f.message);
}

int h_page_incident_edit(struct http_req *req)
{
	const char *action = pg_form(req, "action");
	json_t *body = pg_keep(req, json_object()), *out = NULL;
	int rc;

	if (action && !strcmp(action, "significant"))
		json_object_set_new(body, "significant", json_true());
	else if (action && !strcmp(action, "close"))
		json_object_set_new(body, "state", json_string("closed"));
	else if (action)
		json_object_set_new(body, "action", json_string(action));
	rc = dom_incident_update(&out, &req->dom, http_param(req, 0), body);
	json_decref(out);
	return after_form(req, rc, action && !strcmp(action, "close") ? "closed" : "updated");
}

int h_page_incident_report(struct http_req *req)
{
	struct dom_incident_report r;
	struct dom_file *files = arena_alloc(req->arena, (req->nparts + 1) * sizeof(*files));
	json_t *out = NULL;
	size_t i;
	int rc;

	memset(&r, 0, sizeof(r));
	for (i = 0; i < req->nparts; i++) {
		const struct http_part *pt = &req->parts[i];

		/* an empty file input is no document */
		if (!pt->name || strcmp(pt->name, "file") || (pt->filename && !*pt->filename && pt->len == 0))
			continue;
		files[r.nfiles].name = pt->filename;
		files[r.nfiles].data = pt->data;
		files[r.nfiles].len = pt->len;
		r.nfiles++;
	}
	r.files = files;
	r.kind = part_text(req, "kind");
	r.authority = part_text(req, "authority");
	r.reference = part_text(req, "reference");
	if (r.reference && !*r.reference)
		r.reference = NULL;
	rc = dom_incident_report(&out, &req->dom, http_param(req, 0), &r);
	json_decref(out);
	return after_form(req, rc, "reported");
}

int h_page_incident_link(struct http_req *req)
{
	static const char *const fields[] = { "kind", "ref", "note", NULL };
	json_t *body = pg_keep(req, json_object()), *out = NULL;
	size_t i;
	int rc;

	for (i = 0; fields[i]; i++)
		if (pg_form(req, fields[i]))
			json_object_set_new(body, fields[i], json_string(pg_form(req, fields[i])));
	rc = dom_incident_link(&out, &req->dom, http_param(req, 0), body);
	json_decref(out);
	return after_form(req, rc, "linked");
}

int h_page_incident_review(struct http_req *req)
{
	static const char *const fields[] = { "comment", "password", "totp_code", NULL };
	json_t *body = pg_keep(req, json_pack("{s:s}", "meaning", "reviewed")), *out = NULL;
	size_t i;
	int rc;

	for (i = 0; fields[i]; i++)
		if (pg_form(req, fields[i]))
			json_object_set_new(body, fields[i], json_string(pg_form(req, fields[i])));
	rc = dom_incident_review(&out, &req->dom, http_param(req, 0), body);
	json_decref(out);
	return after_form(req, rc, "reviewed");
}

int h_page_incident_new(struct http_req *req)
{
	static const char *const text_fields[] = { "title", "category", "severity", "description", NULL };
	const char *sig = pg_form(req, "significant"), *assets = pg_form(req, "assets");
	json_t *body = pg_keep(req, json_object()), *out = NULL, *list = NULL;
	struct web_page p;
	struct pg_failure f;
	struct html h;
	size_t i;
	int rc;

	for (i = 0; text_fields[i]; i++)
		if (pg_form(req, text_fields[i]))
			json_object_set_new(body, text_fields[i], json_string(pg_form(req, text_fields[i])));
	if (sig)
		json_object_set_new(body, "significant", json_boolean(!strcmp(sig, "yes")));
	if (assets) {
		/* asset ids separated by commas or spaces; anything else reaches the domain as a non-id */
		json_t *ids = json_array();
		const char *s = assets;

		while (*s) {
			char *end;
			long long v;

			s += strspn(s, ", \t\r\n");
			if (!*s)
				break;
			v = strtoll(s, &end, 10);
			if (end == s) {
				json_array_append_new(ids, json_string(s));
				break;
			}
			json_array_append_new(ids, json_integer(v));
			s = end;
		}
		json_object_set_new(body, "assets", ids);
	}
	if (!(rc = dom_incident_create(&out, &req->dom, body))) {
		const char *key = arena_strdup(req->arena, json_string_value(json_object_get(out, "key")));

		json_decref(out);
		return pg_redirect(req, arena_printf(req->arena, "/incidents/%s?done=created", key));
	}
	pg_keep_failure(&f, req, rc);
	if (f.status >= 500 || f.status == 401 || f.status == 403)
		return rc;
	if ((rc = dom_incident_list(&list, &req->dom, false, INCIDENTS_DEFAULT_LIMIT, 0)))
		return rc;
	p = pg_page(req, "Incidents", "incidents");
	html_init(&h, PG_PAGE_CAP);
	page_incidents(&h, &p, list, false, body, f.message);
	json_decref(list);
	return pg_reply(req, f.status, &h);
}
