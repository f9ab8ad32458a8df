/*
 * server/h_samples.c - the door to an auditor's samples of a period
 * (domain/samples.h, docs/evidence.md).
 *
 *   POST /api/v1/reports/samples                 admin, auditor: draw one
 *   GET  /api/v1/reports/samples                 admin, auditor: the samples taken
 *   GET  /api/v1/reports/samples/{id}            admin, auditor: one sample
 *   GET  /api/v1/reports/samples/{id}/evidence   admin, auditor: its archive (tar)
 *   GET  /samples                                admin, auditor: the page of samples taken
 *   POST /samples                                admin, auditor: the page's form draws one
 *
 * The API and the page call the same operations.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "core/crypto.h"
#include "core/err.h"
#include "domain/samples.h"
#include "server/h_pages.h"
#include "server/handlers.h"
#include "web/pages.h"

static int parse_id(int64_t *out, const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (*s == '\0' || *end || v <= 0)
		return err_set(OTCM_EINVAL, "id", "sample id '%.40s' is not a number", s);
	*out = v;
	return 0;
}

int h_samples_create(struct http_req *req)
{
	json_t *body = NULL, *out = NULL;
	int rc;

	if ((rc = h_body_json(&body, req)) || (rc = dom_sample_draw(&out, &req->dom, body)))
		goto out;
	http_set_header(req, "Location", arena_printf(req->arena, "/api/v1/reports/samples/%" JSON_INTEGER_FORMAT,
						      json_integer_value(json_object_get(out, "id"))));
	rc = http_reply_json(req, 201, out);
out:
	json_decref(body);
	return rc;
}

int h_samples_list(struct http_req *req)
{
	json_t *out = NULL;
	int rc;

	if ((rc = dom_sample_list(&out, &req->dom)))
		return rc;
	return http_reply_json(req, 200, out);
}

int h_samples_get(struct http_req *req)
{
	json_t *out = NULL;
	int64_t id;
	int rc;

	if ((rc = parse_id(&id, http_param(req, 0))) || (rc = dom_sample_get(&out, &req->dom, id)))
		return rc;
	return http_reply_json(req, 200, out);
}

int h_samples_evidence(struct http_req *req)
{
	struct buf tar = BUF_INIT;
	char sha[2 * CRYPTO_SHA256_LEN + 1];
	int64_t id;
	int rc;

	if ((rc = parse_id(&id, http_param(req, 0))) || (rc = dom_sample_evidence(&tar, sha, &req->dom, id)))
		return rc;
	http_set_header(req, "Content-Disposition",
			arena_printf(req->arena, "attachment; filename=\"sample-%" PRId64 ".tar\"", id));
	http_set_header(req, "X-Content-SHA256", sha);
	rc = http_reply_bytes(req, 200, "application/x-tar", tar.data, tar.len);
	buf_release(&tar);
	return rc;
}

/* The samples page with the draw form refilled from `refill`, and a notice. */
static int samples_page(struct http_req *req, unsigned status, const json_t *refill, const char *kind,
			const char *notice)
{
	struct web_page p = pg_page(req, "Samples", "samples");
	json_t *samples = NULL;
	struct html h;
	int rc;

	if ((rc = dom_sample_list(&samples, &req->dom)))
		return rc;
	pg_keep(req, samples);
	html_init(&h, PG_PAGE_CAP);
	page_samples(&h, &p, samples, refill, kind, notice);
	return pg_reply(req, status, &h);
}

int h_page_samples(struct http_req *req)
{
	const char *drawn = http_query(req, "drawn");
	int64_t id = 0;

	/* only a sample number is echoed back: no text of the address reaches the page */
	if (drawn && parse_id(&id, drawn))
		err_clear();
	return samples_page(req, 200, NULL, id ? "ok" : NULL,
			    id ? arena_printf(req->arena, "Sample %" PRId64 " drawn and recorded.", id) : NULL);
}

int h_page_samples_draw(struct http_req *req)
{
	static const char *const fields[] = { "from", "to", "seed" };
	json_t *refill = pg_keep(req, json_object()), *body = pg_keep(req, json_object()), *out = NULL;
	const char *size = pg_form(req, "size");
	struct pg_failure f;
	char *end = NULL;
	long long n;
	size_t i;
	int rc;

	/* the form's days are the API's dates (midnight UTC); its size a number when it reads as one */
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const char *v = pg_form(req, fields[i]);

		if (v) {
			json_object_set_new(body, fields[i], json_string(v));
			json_object_set_new(refill, fields[i], json_string(v));
		}
	}
	if (size) {
		json_object_set_new(refill, "size", json_string(size));
		n = strtoll(size, &end, 10);
		json_object_set_new(body, "size", *end || end == size ? json_string(size) : json_integer(n));
	}
	if ((rc = dom_sample_draw(&out, &req->dom, body))) {
		pg_keep_failure(&f, req, rc);
		return samples_page(req, f.status, refill, "error", f.message);
	}
	pg_keep(req, out);
	return pg_redirect(req, arena_printf(req->arena, "/samples?drawn=%" JSON_INTEGER_FORMAT "#sample-%"
					     JSON_INTEGER_FORMAT, json_integer_value(json_object_get(out, "id")),
					     json_integer_value(json_object_get(out, "id"))));
}
