/*
 * server/h_firmware.c - controlled firmware updates of a change, a door
 * onto domain/firmware.h (docs/changes.md, "Firmware updates"):
 *
 *   PUT  /api/v1/changes/{key}/firmware/{asset_id}         dom_firmware_record
 *   POST /api/v1/changes/{key}/firmware/{asset_id}/files   dom_firmware_file (multipart: kind, file)
 *   GET  /api/v1/changes/{key}/firmware                    dom_firmware_list
 */
#include <string.h>

#include "domain/firmware.h"
#include "server/handlers.h"

int h_firmware_put(struct http_req *req)
{
	json_t *body = NULL, *out = NULL;
	int rc;

	if ((rc = json_parse_object(&body, req->body ? req->body : "", req->body_len,
				    (int)req->srv->cfg->json_max_depth)) ||
	    (rc = dom_firmware_record(&out, &req->dom, http_param(req, 0), http_param(req, 1), body)))
		goto out;
	rc = http_reply_json(req, 200, out);
	out = NULL;
out:
	json_decref(out);
	json_decref(body);
	return rc;
}

int h_firmware_file(struct http_req *req)
{
	struct dom_file *files = arena_alloc(req->arena, (req->nparts + 1) * sizeof(*files));
	const char *kind = NULL;
	json_t *out = NULL;
	size_t i, n = 0;
	int rc;

	for (i = 0; i < req->nparts; i++) {
		const struct http_part *p = &req->parts[i];

		if (!p->name)
			continue;
		if (!strcmp(p->name, "file")) {
			files[n].name = p->filename;
			files[n].data = p->data;
			files[n].len = p->len;
			n++;
		} else if (!strcmp(p->name, "kind") && !p->filename) {
			kind = arena_strndup(req->arena, p->data, p->len);
		}
	}
	if ((rc = dom_firmware_file(&out, &req->dom, http_param(req, 0), http_param(req, 1), kind, files, n)))
		return rc;
	return http_reply_json(req, 201, out);
}

int h_firmware_list(struct http_req *req)
{
	json_t *out = NULL;
	int rc;

	if ((rc = dom_firmware_list(&out, &req->dom, http_param(req, 0))))
		return rc;
	return http_reply_json(req, 200, out);
}
