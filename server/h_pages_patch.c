/*
 * server/h_pages_patch.c - the patch management pages' doors: each parses
 * its form or query, calls the same domain operation as the API
 * (server/h_advisories.c) and renders web/page_patch.c.
 *
 *   GET  /advisories                         dom_advisory_list, the import form
 *   POST /advisories                         dom_advisory_import (multipart "file")
 *   GET  /advisories/{advisory}              dom_advisory_read
 *   GET  /exposure                           dom_exposure: ?prefix=
 *   GET  /assets/{id}/advisories             dom_exposure of one asset
 *   GET  /assets/{id}/advisories/{advisory}  dom_assessment_read, the signing form
 *   POST /assets/{id}/advisories/{advisory}  dom_assessment_sign
 */
#include <string.h>

#include "core/err.h"
#include "domain/advisories.h"
#include "domain/assessments.h"
#include "domain/assets.h"
#include "domain/signatures.h"
#include "server/h_pages.h"
#include "server/handlers.h"
#include "web/pages.h"

/* A refusal that is a page of its own (403, 404) rather than a notice on the form. */
static bool answered_as_error(const struct pg_failure *f)
{
	return f->status == 403 || f->status == 404;
}

static const char *refusal_text(struct http_req *req, const struct pg_failure *f)
{
	if (!f->rule)
		return f->message;
	return arena_printf(req->arena, "%s (rule %s)", f->message, f->rule);
}

/* `s` percent-encoded for a path segment (everything but unreserved characters). */
static const char *seg(struct http_req *req, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = arena_alloc(req->arena, 3 * strlen(s) + 1), *o = out;

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '.' || ch == '_' || ch == '~') {
			*o++ = (char)ch;
		} else {
			*o++ = '%';
			*o++ = hex[ch >> 4];
			*o++ = hex[ch & 15];
		}
	}
	*o = '\0';
	return out;
}

static bool may_import(struct http_req *req)
{
	return (req->who.role & dom_op_info(OP_ADVISORY_IMPORT)->roles) != 0;
}

static int advisories_page(struct http_req *req, unsigned status, const char *kind, const char *notice)
{
	struct web_page p = pg_page(req, "Advisories", "advisories");
	json_t *list = NULL;
	struct html h;
	int rc;

	if ((rc = dom_advisory_list(&list, &req->dom)))
		return rc;
	pg_keep(req, list);
	html_init(&h, PG_PAGE_CAP);
	page_advisories(&h, &p, json_object_get(list, "items"), may_import(req), kind, notice);
	return pg_reply(req, status, &h);
}

int h_page_advisories(struct http_req *req)
{
	return advisories_page(req, 200, NULL, NULL);
}

int h_page_advisory_import(struct http_req *req)
{
	const char *data = NULL, *name = NULL;
	struct pg_failure f;
	json_t *out = NULL;
	size_t len = 0, i;
	int rc;

	for (i = 0; i < req->nparts; i++) {
		if (strcmp(req->parts[i].name, "file") == 0 && req->parts[i].len) {
			data = req->parts[i].data;
			len = req->parts[i].len;
			name = req->parts[i].filename;
		}
	}
	if (!data)
		rc = err_set(OTCM_EINVAL, "file", "choose the CSAF document to import");
	else
		rc = dom_advisory_import(&out, &req->dom, data, len, "upload", name);
	if (rc) {
		pg_keep_failure(&f, req, rc);
		if (answered_as_error(&f))
			return rc;
		return advisories_page(req, f.status, "error",
				       f.code == OTCM_EINVAL && err_field() && err_field()[0] == '/' ?
				       arena_printf(req->arena, "%s (at %s)", f.message, err_field()) :
				       refusal_text(req, &f));
	}
	pg_keep(req, out);
	return pg_redirect(req, arena_printf(req->arena, "/advisories/%s?done=imported",
					     seg(req, json_string_value(json_object_get(out, "tracking_id")))));
}

int h_page_advisory(struct http_req *req)
{
	struct web_page p;
	const char *done = http_query(req, "done");
	json_t *adv = NULL;
	struct html h;
	int rc;

	if ((rc = dom_advisory_read(&adv, &req->dom, http_param(req, 0))))
		return rc;
	pg_keep(req, adv);
	p = pg_page(req, json_string_value(json_object_get(adv, "tracking_id")), "advisories");
	html_init(&h, PG_PAGE_CAP);
	page_advisory(&h, &p, adv, done ? "ok" : NULL,
		      done && strcmp(done, "imported") == 0 ? "Imported and matched against every asset." : NULL);
	return pg_reply(req, 200, &h);
}

int h_page_exposure(struct http_req *req)
{
	struct web_page p = pg_page(req, "Exposure", "advisories");
	const char *prefix = http_query(req, "prefix");
	json_t *x = NULL;
	struct html h;
	int rc;

	if (prefix && !*prefix)
		prefix = NULL;
	if ((rc = dom_exposure(&x, &req->dom, 0, prefix)))
		return rc;
	pg_keep(req, x);
	html_init(&h, PG_PAGE_CAP);
	page_exposure(&h, &p, x, NULL, web_str(x, "prefix"));
	return pg_reply(req, 200, &h);
}

int h_page_asset_exposure(struct http_req *req)
{
	struct web_page p;
	json_t *x = NULL;
	struct html h;
	int64_t id;
	int rc;

	if ((rc = dom_asset_id(&id, http_param(req, 0))) || (rc = dom_exposure(&x, &req->dom, id, NULL)))
		return rc;
	pg_keep(req, x);
	p = pg_page(req, web_str(json_object_get(x, "asset"), "path"), "assets");
	html_init(&h, PG_PAGE_CAP);
	page_exposure(&h, &p, x, json_object_get(x, "asset"), NULL);
	return pg_reply(req, 200, &h);
}

static int assessment_page(struct http_req *req, unsigned status, const json_t *refill, const char *kind,
			   const char *notice)
{
	struct web_page p;
	json_t *view = NULL;
	bool may_sign = (req->who.role & dom_op_info(OP_ASSESSMENT_SIGN)->roles) != 0, code = false;
	struct html h;
	int64_t id;
	int rc;

	if ((rc = dom_asset_id(&id, http_param(req, 0))) ||
	    (rc = dom_assessment_read(&view, &req->dom, http_param(req, 1), id)))
		return rc;
	pg_keep(req, view);
	if (may_sign && (rc = dom_signature_needs_code(&code, &req->dom)))
		return rc;
	p = pg_page(req, arena_printf(req->arena, "%s on %s", http_param(req, 1), web_str(view, "path")), "assets");
	html_init(&h, PG_PAGE_CAP);
	page_assessment(&h, &p, view, may_sign, code, refill, kind, notice);
	return pg_reply(req, status, &h);
}

int h_page_assessment(struct http_req *req)
{
	const char *done = http_query(req, "done");

	return assessment_page(req, 200, NULL, done ? "ok" : NULL, done ? "Signed." : NULL);
}

int h_page_assessment_sign(struct http_req *req)
{
	static const char *const fields[] = { "status", "justification", "impact", "controls", "password",
					      "totp_code" };
	json_t *body = pg_keep(req, json_object()), *refill = pg_keep(req, json_object()), *out = NULL;
	struct pg_failure f;
	int64_t id;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const char *v = pg_form(req, fields[i]);

		if (!v)
			continue;
		json_object_set_new(body, fields[i], json_string(v));
		if (i < 4)
			json_object_set_new(refill, fields[i], json_string(v));
	}
	if ((rc = dom_asset_id(&id, http_param(req, 0))))
		return rc;
	if ((rc = dom_assessment_sign(&out, &req->dom, http_param(req, 1), id, body))) {
		pg_keep_failure(&f, req, rc);
		if (answered_as_error(&f))
			return rc;
		return assessment_page(req, f.status, refill, "error", refusal_text(req, &f));
	}
	json_decref(out);
	return pg_redirect(req, arena_printf(req->arena, "/assets/%lld/advisories/%s?done=signed", (long long)id,
					     seg(req, http_param(req, 1))));
}
