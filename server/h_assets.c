/*
 * server/h_assets.c - the asset API: create, list, read and change assets.
 *
 *   POST  /api/v1/assets          admin      create (audit "asset.create")
 *   GET   /api/v1/assets          any role   list by path, ?prefix= ?path= ?type=
 *                                            ?limit= ?cursor=
 *   GET   /api/v1/assets/{id}     any role   one asset by numeric id
 *   PATCH /api/v1/assets/{id}     admin      change fields (audit "asset.update"
 *                                            with the changed fields before/after)
 *
 * SQL lives in storage/assets.c; this file parses, validates, runs one
 * transaction per write and renders JSON.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "server/handlers.h"
#include "server/svc.h"
#include "storage/assets.h"

#define ASSETS_DEFAULT_LIMIT 100

static const char *const asset_body_fields[] = {
	"path", "type", "vendor", "model", "firmware", "description", NULL
};

/* Read the members of `body` into *f (strings borrowed from body). */
static int read_fields(struct asset_fields *f, json_t *body, bool create)
{
	int rc;

	memset(f, 0, sizeof(*f));
	if ((rc = json_only_fields(body, asset_body_fields)) ||
	    (rc = json_get_str(body, "path", create, &f->path)) ||
	    (rc = json_get_str(body, "type", create, &f->type)) ||
	    (rc = json_get_str(body, "vendor", false, &f->vendor)) ||
	    (rc = json_get_str(body, "model", false, &f->model)) ||
	    (rc = json_get_str(body, "firmware", false, &f->firmware)) ||
	    (rc = json_get_str(body, "description", false, &f->description)))
		return rc;
	return assets_check_fields(f);
}

int h_assets_create(struct http_req *req)
{
	struct db_conn *c = NULL;
	json_t *body = NULL, *asset = NULL;
	struct asset_fields f;
	char id[24];
	int rc;

	if ((rc = svc_body_json(&body, req)) || (rc = read_fields(&f, body, true)))
		goto out;
	if ((rc = svc_begin(&c, req)) ||
	    (rc = assets_create(&asset, c, &f, req->who.user_id)))
		goto out;
	snprintf(id, sizeof(id), "%" PRId64, (int64_t)json_integer_value(json_object_get(asset, "id")));
	if ((rc = svc_audit(req, c, "asset.create", "asset", id, NULL, asset)) ||
	    (rc = svc_commit(c)))
		goto out;
	http_set_header(req, "Location", arena_printf(req->arena, "/api/v1/assets/%s", id));
	rc = http_reply_json(req, 201, asset);
	asset = NULL;
out:
	svc_end(c);
	json_decref(asset);
	json_decref(body);
	return rc;
}

int h_assets_get(struct http_req *req)
{
	struct db_conn *c = NULL;
	json_t *asset = NULL;
	int64_t id;
	int rc;

	if ((rc = assets_parse_id(&id, http_param(req, 0))) || (rc = svc_conn(&c, req)) ||
	    (rc = assets_get(&asset, c, id, false)))
		goto out;
	rc = http_reply_json(req, 200, asset);
	asset = NULL;
out:
	svc_end(c);
	json_decref(asset);
	return rc;
}

int h_assets_patch(struct http_req *req)
{
	static const char *const names[] = {
		"path", "type", "vendor", "model", "firmware", "description",
	};
	struct db_conn *c = NULL;
	json_t *body = NULL, *old = NULL, *updated = NULL, *before = NULL, *after = NULL;
	struct asset_fields f;
	const char **given[6];
	char ids[24];
	int64_t id;
	size_t i;
	int rc;

	if ((rc = assets_parse_id(&id, http_param(req, 0))) || (rc = svc_body_json(&body, req)) ||
	    (rc = read_fields(&f, body, false)))
		goto out;
	given[0] = &f.path;
	given[1] = &f.type;
	given[2] = &f.vendor;
	given[3] = &f.model;
	given[4] = &f.firmware;
	given[5] = &f.description;
	if ((rc = svc_begin(&c, req)) || (rc = assets_get(&old, c, id, true)))
		goto out;
	/* Keep only real changes: they are what the audit event records. */
	before = json_object();
	after = json_object();
	for (i = 0; i < 6; i++) {
		const char *now = json_string_value(json_object_get(old, names[i]));

		if (!*given[i])
			continue;
		if (now && strcmp(now, *given[i]) == 0) {
			*given[i] = NULL;
			continue;
		}
		json_object_set_new(before, names[i], json_string(now ? now : ""));
		json_object_set_new(after, names[i], json_string(*given[i]));
	}
	if (json_object_size(after) == 0) {
		rc = http_reply_json(req, 200, old);
		old = NULL;
		goto out;
	}
	snprintf(ids, sizeof(ids), "%" PRId64, id);
	if ((rc = assets_update(&updated, c, id, &f)) ||
	    (rc = svc_audit(req, c, "asset.update", "asset", ids, before, after)) ||
	    (rc = svc_commit(c)))
		goto out;
	rc = http_reply_json(req, 200, updated);
	updated = NULL;
out:
	svc_end(c);
	json_decref(body);
	json_decref(old);
	json_decref(updated);
	json_decref(before);
	json_decref(after);
	return rc;
}

/* ?limit=: 1..max, default `def`; OTCM_EINVAL naming "limit". */
static int query_limit(unsigned *out, struct http_req *req, unsigned def, unsigned max)
{
	const char *s = http_query(req, "limit");
	unsigned long v;
	char *end;

	*out = def;
	if (!s)
		return 0;
	if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 6)
		return err_set(OTCM_EINVAL, "limit", "limit must be a number from 1 to %u", max);
	v = strtoul(s, &end, 10);
	if (v < 1 || v > max)
		return err_set(OTCM_EINVAL, "limit", "limit must be a number from 1 to %u", max);
	*out = (unsigned)v;
	return 0;
}

int h_assets_list(struct http_req *req)
{
	struct db_conn *c = NULL;
	struct asset_query q;
	json_t *items = NULL, *page;
	bool more = false;
	char *prefix = NULL;
	int rc;

	memset(&q, 0, sizeof(q));
	q.path = http_query(req, "path");
	q.type = http_query(req, "type");
	q.after = http_query(req, "cursor");
	if (http_query(req, "prefix")) {
		size_t n;

		prefix = arena_strdup(req->arena, http_query(req, "prefix"));
		n = strlen(prefix);
		while (n > 0 && prefix[n - 1] == '/')
			prefix[--n] = '\0';
		q.prefix = prefix;
	}
	if ((rc = query_limit(&q.limit, req, ASSETS_DEFAULT_LIMIT, ASSETS_MAX_LIMIT)) ||
	    (q.prefix && (rc = assets_check_path(q.prefix, "prefix"))) ||
	    (q.path && (rc = assets_check_path(q.path, "path"))) ||
	    (q.type && (rc = assets_check_type(q.type, "type"))) ||
	    (q.after && (rc = assets_check_path(q.after, "cursor"))))
		goto out;
	if ((rc = svc_conn(&c, req)) || (rc = assets_list(&items, &more, c, &q)))
		goto out;
	page = json_object();
	json_object_set_new(page, "items", items);
	if (more) {
		json_t *last = json_array_get(items, json_array_size(items) - 1);

		json_object_set(page, "next_cursor", json_object_get(last, "path"));
	} else {
		json_object_set_new(page, "next_cursor", json_null());
	}
	items = NULL;
	rc = http_reply_json(req, 200, page);
out:
	svc_end(c);
	json_decref(items);
	return rc;
}
