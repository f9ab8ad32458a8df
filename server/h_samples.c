/*
 * server/h_samples.c - the door to an auditor's samples of a period
 * (domain/samples.h, docs/evidence.md).
 *
 *   POST /api/v1/reports/samples                 admin, auditor: draw one
 *   GET  /api/v1/reports/samples                 admin, auditor: the samples taken
 *   GET  /api/v1/reports/samples/{id}            admin, auditor: one sample
 *   GET  /api/v1/reports/samples/{id}/evidence   admin, auditor: its archive (tar)
 */
#include <inttypes.h>
#include <stdlib.h>

#include "core/crypto.h"
#include "core/err.h"
#include "domain/samples.h"
#include "server/handlers.h"

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
