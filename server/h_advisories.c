/*
 * server/h_advisories.c - the patch management API, a door onto
 * domain/advisories.h, domain/assessments.h and domain/exposure.h: each
 * handler parses the request, calls one domain operation and renders it.
 *
 *   POST /api/v1/advisories                     dom_advisory_import: the CSAF JSON as the
 *                                               body, or multipart with a "file" part
 *   GET  /api/v1/advisories                     dom_advisory_list
 *   GET  /api/v1/advisories/{id}                dom_advisory_read
 *   GET  /api/v1/advisories/{id}/document       dom_advisory_document: the bytes as imported
 *   GET  /api/v1/assets/{id}/advisories         dom_exposure of one asset
 *   GET  /api/v1/exposure                       dom_exposure: ?prefix=
 *   GET  /api/v1/assets/{id}/advisories/{advisory}/assessment    dom_assessment_read
 *   POST /api/v1/assets/{id}/advisories/{advisory}/assessment    dom_assessment_sign
 *   GET  /api/v1/assets/{id}/export, /api/v1/exposure/export     dom_exposure_export:
 *                                               ?format=cyclonedx|csaf-vex
 */
#include <string.h>

#include "core/err.h"
#include "domain/advisories.h"
#include "domain/assessments.h"
#include "domain/assets.h"
#include "domain/exposure.h"
#include "server/handlers.h"

int h_advisories_import(struct http_req *req)
{
	const char *data = req->body ? req->body : "", *name = NULL;
	size_t len = req->body_len, i;
	json_t *out = NULL;
	int rc;

	if (req->parts) {
		data = NULL;
		for (i = 0; i < req->nparts; i++) {
			if (strcmp(req->parts[i].name, "file") == 0) {
				data = req->parts[i].data;
				len = req->parts[i].len;
				name = req->parts[i].filename;
			}
		}
		if (!data)
			return err_set(OTCM_EINVAL, "file", "send the CSAF document as the part named 'file'");
	}
	if ((rc = dom_advisory_import(&out, &req->dom, data, len, "upload", name)))
		return rc;
	http_set_header(req, "Location",
			arena_printf(req->arena, "/api/v1/advisories/%s",
				     json_string_value(json_object_get(out, "tracking_id"))));
	return http_reply_json(req, json_is_true(json_object_get(out, "created")) ? 201 : 200, out);
}

int h_advisories_list(struct http_req *req)
{
	json_t *out = NULL;
	int rc;

	if ((rc = dom_advisory_list(&out, &req->dom)))
		return rc;
	return http_reply_json(req, 200, out);
}

int h_advisories_get(struct http_req *req)
{
	json_t *out = NULL;
	int rc;

	if ((rc = dom_advisory_read(&out, &req->dom, http_param(req, 0))))
		return rc;
	return http_reply_json(req, 200, out);
}

int h_advisories_document(struct http_req *req)
{
	const char *data, *sha;
	size_t len;
	int rc;

	if ((rc = dom_advisory_document(&data, &len, &sha, &req->dom, http_param(req, 0))))
		return rc;
	http_set_header(req, "X-Content-SHA256", sha);
	http_set_header(req, "Content-Disposition",
			arena_printf(req->arena, "attachment; filename=\"%s.json\"", http_param(req, 0)));
	return http_reply_bytes(req, 200, "application/json", data, len);
}

int h_assets_advisories(struct http_req *req)
{
	json_t *out = NULL;
	int64_t id;
	int rc;

	if ((rc = dom_asset_id(&id, http_param(req, 0))) || (rc = dom_exposure(&out, &req->dom, id, NULL)))
		return rc;
	return http_reply_json(req, 200, out);
}

int h_exposure(struct http_req *req)
{
	json_t *out = NULL;
	int rc;

	if ((rc = dom_exposure(&out, &req->dom, 0, http_query(req, "prefix"))))
		return rc;
	return http_reply_json(req, 200, out);
}

int h_assessment_get(struct http_req *req)
{
	json_t *out = NULL;
	int64_t id;
	int rc;

	if ((rc = dom_asset_id(&id, http_param(req, 0))) ||
	    (rc = dom_assessment_read(&out, &req->dom, http_param(req, 1), id)))
		return rc;
	return http_reply_json(req, 200, out);
}

int h_assessment_sign(struct http_req *req)
{
	json_t *body = NULL, *out = NULL;
	int64_t id;
	int rc;

	if ((rc = dom_asset_id(&id, http_param(req, 0))) ||
	    (rc = json_parse_object(&body, req->body ? req->body : "", req->body_len,
				    (int)req->srv->cfg->json_max_depth)) ||
	    (rc = dom_assessment_sign(&out, &req->dom, http_param(req, 1), id, body)))
		goto out;
	rc = http_reply_json(req, 201, out);
	out = NULL;
out:
	json_decref(body);
	json_decref(out);
	return rc;
}

/* ?format=: cyclonedx (the default) or csaf-vex. */
static int export_reply(struct http_req *req, int64_t asset_id, const char *prefix)
{
	const char *format = http_query(req, "format");
	json_t *out = NULL;
	int rc;

	if ((rc = dom_exposure_export(&out, &req->dom, asset_id, prefix, format ? format : "cyclonedx")))
		return rc;
	return http_reply_json(req, 200, out);
}

int h_assets_export(struct http_req *req)
{
	int64_t id;
	int rc;

	if ((rc = dom_asset_id(&id, http_param(req, 0))))
		return rc;
	return export_reply(req, id, NULL);
}

int h_exposure_export(struct http_req *req)
{
	const char *prefix = http_query(req, "prefix");

	if (!prefix)
		return err_set(OTCM_EINVAL, "prefix", "name the site or folder to export (?prefix=)");
	return export_reply(req, 0, prefix);
}
