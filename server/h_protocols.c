/*
 * server/h_protocols.c - the REST door to test protocol templates, test
 * runs, their steps and attachments (domain/runs.h decides, writes and
 * audits).
 *
 *   POST /api/v1/protocols                       qa, admin: a new template, or the next
 *                                                version of one with the same name
 *   GET  /api/v1/protocols                       all but agent (?name=)
 *   GET  /api/v1/protocols/{id}                  all but agent
 *   POST /api/v1/changes/{key}/test-runs         qa, admin
 *   GET  /api/v1/changes/{key}/test-runs         all but agent
 *   GET  /api/v1/test-runs/{id}                  all but agent
 *   PUT  /api/v1/test-runs/{id}/steps/{no}       qa, admin
 *   POST /api/v1/test-runs/{id}/steps/{no}/attachments        qa, admin (multipart "file")
 *   GET  /api/v1/test-runs/{id}/attachments/{attachment_id}   all but agent
 *
 * An attachment is answered as a download (Content-Disposition with the
 * stored name, ASCII and RFC 8187) under a sandboxing Content-Security-Policy.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "domain/runs.h"
#include "server/handlers.h"

int h_protocols_create(struct http_req *req)
{
	json_t *body = NULL, *out = NULL;
	int rc;

	if ((rc = h_body_json(&body, req)) == 0 && (rc = dom_protocol_create(&out, &req->dom, body)) == 0)
		rc = http_reply_json(req, 201, out);
	json_decref(body);
	return rc;
}

int h_protocols_list(struct http_req *req)
{
	json_t *out = NULL;
	int rc;

	if ((rc = dom_protocol_list(&out, &req->dom, http_query(req, "name"))))
		return rc;
	return http_reply_json(req, 200, out);
}

int h_protocols_get(struct http_req *req)
{
	json_t *out = NULL;
	int rc;

	if ((rc = dom_protocol_read(&out, &req->dom, http_param(req, 0))))
		return rc;
	return http_reply_json(req, 200, out);
}

int h_runs_create(struct http_req *req)
{
	json_t *body = NULL, *out = NULL;
	int rc;

	if ((rc = h_body_json(&body, req)) || (rc = dom_run_create(&out, &req->dom, http_param(req, 0), body)))
		goto out;
	http_set_header(req, "Location", arena_printf(req->arena, "/api/v1/test-runs/%" JSON_INTEGER_FORMAT,
						      json_integer_value(json_object_get(out, "id"))));
	rc = http_reply_json(req, 201, out);
out:
	json_decref(body);
	return rc;
}

int h_runs_list(struct http_req *req)
{
	json_t *out = NULL;
	int rc;

	if ((rc = dom_run_list(&out, &req->dom, http_param(req, 0))))
		return rc;
	return http_reply_json(req, 200, out);
}

int h_runs_get(struct http_req *req)
{
	json_t *out = NULL;
	int rc;

	if ((rc = dom_run_read(&out, &req->dom, http_param(req, 0))))
		return rc;
	return http_reply_json(req, 200, out);
}

int h_runs_step(struct http_req *req)
{
	json_t *body = NULL, *out = NULL;
	int rc;

	if ((rc = h_body_json(&body, req)) == 0 &&
	    (rc = dom_run_step(&out, &req->dom, http_param(req, 0), http_param(req, 1), body)) == 0)
		rc = http_reply_json(req, 200, out);
	json_decref(body);
	return rc;
}

/* The multipart parts named "file" as the domain's files (in the arena). */
static size_t files_of(struct dom_file **out, struct http_req *req)
{
	struct dom_file *f = arena_alloc(req->arena, (req->nparts + 1) * sizeof(*f));
	size_t i, n = 0;

	for (i = 0; i < req->nparts; i++) {
		if (!req->parts[i].name || strcmp(req->parts[i].name, "file"))
			continue;
		f[n].name = req->parts[i].filename;
		f[n].data = req->parts[i].data;
		f[n].len = req->parts[i].len;
		n++;
	}
	*out = f;
	return n;
}

int h_attachments_create(struct http_req *req)
{
	struct dom_file *files;
	size_t n = files_of(&files, req);
	json_t *out = NULL;
	int rc;

	if ((rc = dom_run_attach(&out, &req->dom, http_param(req, 0), http_param(req, 1), files, n)))
		return rc;
	http_set_header(req, "Location",
			arena_printf(req->arena, "/api/v1/test-runs/%" JSON_INTEGER_FORMAT "/attachments/%"
				     JSON_INTEGER_FORMAT, json_integer_value(json_object_get(out, "run_id")),
				     json_integer_value(json_object_get(out, "id"))));
	return http_reply_json(req, 201, out);
}

/* A file name for Content-Disposition: ASCII with unsafe characters as '_'. */
static const char *ascii_name(struct http_req *req, const char *name)
{
	char *out = arena_strdup(req->arena, name), *p;

	for (p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f || *p == '"' || *p == '\\' ||
		    *p == ';')
			*p = '_';
	return out;
}

/* RFC 8187 ext-value: UTF-8 with everything but attr-chars percent-encoded. */
static const char *ext_name(struct http_req *req, const char *name)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(name), i, j = 0;
	char *out = arena_alloc(req->arena, 3 * n + 1);

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    strchr("!#$&+-.^_`|~", ch)) {
			out[j++] = (char)ch;
		} else {
			out[j++] = '%';
			out[j++] = hex[ch >> 4];
			out[j++] = hex[ch & 15];
		}
	}
	out[j] = '\0';
	return out;
}

int h_attachments_get(struct http_req *req)
{
	struct dom_attachment a;
	int rc;

	if ((rc = dom_run_attachment(&a, &req->dom, http_param(req, 0), http_param(req, 1))))
		return rc;
	http_set_header(req, "Content-Disposition",
			arena_printf(req->arena, "attachment; filename=\"%s\"; filename*=UTF-8''%s",
				     ascii_name(req, a.filename), ext_name(req, a.filename)));
	http_set_header(req, "Content-Security-Policy", "sandbox; default-src 'none'");
	return http_reply_bytes(req, 200, a.content_type, a.data, a.len);
}
