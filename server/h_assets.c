/*
 * server/h_assets.c - the asset API, a door onto domain/assets.h: each
 * handler parses the request, calls one domain operation and renders its
 * JSON.
 *
 *   POST  /api/v1/assets          admin      dom_asset_create
 *   GET   /api/v1/assets          any role   dom_asset_list: ?prefix= ?path= ?type=
 *                                            ?limit= ?cursor=
 *   GET   /api/v1/assets/{id}     any role   dom_asset_read
 *   PATCH /api/v1/assets/{id}     admin      dom_asset_update
 *   GET   /api/v1/assets/{id}/inventory
 *                                 any role   dom_inventory_read: ?limit=
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "domain/assets.h"
#include "domain/inventory.h"
#include "server/handlers.h"

/* The request body as a JSON object, within the configured nesting depth. */
static int body_json(json_t **out, struct http_req *req)
{
	return json_parse_object(out, req->body ? req->body : "", req->body_len,
				 (int)req->srv->cfg->json_max_depth);
}

int h_assets_create(struct http_req *req)
{
	json_t *body = NULL, *asset = NULL;
	int rc;

	if ((rc = body_json(&body, req)) || (rc = dom_asset_create(&asset, &req->dom, body)))
		goto out;
	http_set_header(req, "Location",
			arena_printf(req->arena, "/api/v1/assets/%" JSON_INTEGER_FORMAT,
				     json_integer_value(json_object_get(asset, "id"))));
	rc = http_reply_json(req, 201, asset);
	asset = NULL;
out:
	json_decref(asset);
	json_decref(body);
	return rc;
}

int h_assets_get(struct http_req *req)
{
	json_t *asset = NULL;
	int64_t id;
	int rc;

	if ((rc = dom_asset_id(&id, http_param(req, 0))) ||
	    (rc = dom_asset_read(&asset, &req->dom, id)))
		return rc;
	return http_reply_json(req, 200, asset);
}

int h_assets_patch(struct http_req *req)
{
	json_t *body = NULL, *asset = NULL;
	int64_t id;
	int rc;

	if ((rc = dom_asset_id(&id, http_param(req, 0))) || (rc = body_json(&body, req)) ||
	    (rc = dom_asset_update(&asset, &req->dom, id, body)))
		goto out;
	rc = http_reply_json(req, 200, asset);
	asset = NULL;
out:
	json_decref(body);
	json_decref(asset);
	return rc;
}

/* ?limit=: a number; the domain checks its range (`max` only names it). */
static int query_limit(unsigned *out, struct http_req *req, unsigned max)
{
	const char *s = http_query(req, "limit");

	*out = 0;
	if (!s)
		return 0;
	if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 6 ||
	    strtoul(s, NULL, 10) < 1)
		return err_set(OTCM_EINVAL, "limit", "limit must be a number from 1 to %u",
			       max);
	*out = (unsigned)strtoul(s, NULL, 10);
	return 0;
}

int h_assets_list(struct http_req *req)
{
	struct dom_asset_query q;
	json_t *page = NULL;
	int rc;

	memset(&q, 0, sizeof(q));
	q.prefix = http_query(req, "prefix");
	q.path = http_query(req, "path");
	q.type = http_query(req, "type");
	q.cursor = http_query(req, "cursor");
	if ((rc = query_limit(&q.limit, req, DOM_ASSETS_MAX_LIMIT)) ||
	    (rc = dom_asset_list(&page, &req->dom, &q)))
		return rc;
	return http_reply_json(req, 200, page);
}

int h_assets_inventory(struct http_req *req)
{
	json_t *inv = NULL;
	unsigned limit;
	int64_t id;
	int rc;

	if ((rc = dom_asset_id(&id, http_param(req, 0))) ||
	    (rc = query_limit(&limit, req, DOM_INVENTORY_MAX_LIMIT)) ||
	    (rc = dom_inventory_read(&inv, &req->dom, id, limit)))
		return rc;
	return http_reply_json(req, 200, inv);
}
