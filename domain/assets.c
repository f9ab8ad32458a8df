/* domain/assets.c - the asset register; see assets.h. */
#include "domain/assets.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "domain/inventory.h"
#include "storage/assets.h"

_Static_assert(DOM_ASSETS_MAX_LIMIT == ASSETS_MAX_LIMIT, "one limit for the asset list");

static const char *const asset_fields[] = {
	"path", "type", "vendor", "model", "firmware", "serial_number", "order_number", "cpe",
	"purl", "description", NULL
};

int dom_asset_id(int64_t *out, const char *s)
{
	return assets_parse_id(out, s);
}

/*
 * Read the members of `in` into *f and *inv (strings borrowed from in) and
 * check them.  The inventory members (vendor, model, firmware, serial and
 * order number, CPE, PURL) go to *inv only: they move through
 * dom_inventory_observe(), which keeps their history.
 */
static int read_fields(struct asset_fields *f, struct inv_observation *inv, const json_t *in,
		       bool create)
{
	/* jansson's getters take non-const objects; nothing here changes `in` */
	json_t *body = (json_t *)in;
	int rc;

	memset(f, 0, sizeof(*f));
	memset(inv, 0, sizeof(*inv));
	if (!json_is_object(body))
		return err_set(OTCM_EINVAL, "body", "the body must be a JSON object");
	if ((rc = json_only_fields(body, asset_fields)) ||
	    (rc = json_get_str(body, "path", create, &f->path)) ||
	    (rc = json_get_str(body, "type", create, &f->type)) ||
	    (rc = json_get_str(body, "vendor", false, &inv->vendor)) ||
	    (rc = json_get_str(body, "model", false, &inv->model)) ||
	    (rc = json_get_str(body, "firmware", false, &inv->firmware)) ||
	    (rc = json_get_str(body, "serial_number", false, &inv->serial_number)) ||
	    (rc = json_get_str(body, "order_number", false, &inv->order_number)) ||
	    (rc = json_get_str(body, "cpe", false, &inv->cpe)) ||
	    (rc = json_get_str(body, "purl", false, &inv->purl)) ||
	    (rc = json_get_str(body, "description", false, &f->description)))
		return rc;
	if ((rc = assets_check_fields(f)))
		return rc;
	return dom_inventory_check(inv);
}

/* The observed inventory members of `inv` set on `asset` (the audit event's view of it). */
static void obs_into(json_t *asset, const struct inv_observation *inv)
{
	const char *const names[] = { "vendor", "model", "firmware", "serial_number",
				      "order_number", "cpe", "purl" };
	const char *const v[] = { inv->vendor, inv->model, inv->firmware, inv->serial_number,
				  inv->order_number, inv->cpe, inv->purl };
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (v[i])
			json_object_set_new(asset, names[i], json_string(v[i]));
	}
}

int dom_asset_create(json_t **out, const struct dom *d, const json_t *in)
{
	struct db_conn *c = NULL;
	json_t *asset = NULL, *created = NULL;
	struct asset_fields f;
	struct inv_observation inv;
	char id[24] = "";
	int64_t n;
	int rc;

	*out = NULL;
	if ((rc = dom_permit(d, OP_ASSET_CREATE)))
		return rc;
	if ((rc = read_fields(&f, &inv, in, true)))
		goto out;
	/* the register first, then the inventory, so its history starts at registration */
	if ((rc = dom_begin(&c, d)) ||
	    (rc = assets_create(&created, c, &f, d->who->user_id)))
		goto out;
	n = (int64_t)json_integer_value(json_object_get(created, "id"));
	snprintf(id, sizeof(id), "%" PRId64, n);
	obs_into(created, &inv);
	if ((rc = dom_audit(d, c, "asset.create", "asset", id, NULL, created, NULL)) ||
	    (rc = dom_inventory_observe(d, c, id, &inv, "manual", NULL)) ||
	    (rc = assets_get(&asset, c, n, false)) ||
	    (rc = dom_commit(c)))
		goto out;
	*out = asset;
	asset = NULL;
out:
	if (rc)
		rc = dom_refused(d, &c, "asset.create", "asset", id[0] ? id : NULL, rc);
	dom_end(c);
	json_decref(asset);
	json_decref(created);
	return rc;
}

int dom_asset_list(json_t **out, const struct dom *d, const struct dom_asset_query *dq)
{
	struct db_conn *c = NULL;
	struct asset_query q;
	json_t *items = NULL, *page;
	bool more = false;
	char *prefix = NULL;
	int rc;

	*out = NULL;
	if ((rc = dom_permit(d, OP_ASSET_LIST)))
		return rc;
	memset(&q, 0, sizeof(q));
	q.path = dq->path;
	q.type = dq->type;
	q.after = dq->cursor;
	q.limit = dq->limit ? dq->limit : DOM_ASSETS_DEFAULT_LIMIT;
	if (q.limit > DOM_ASSETS_MAX_LIMIT)
		return err_set(OTCM_EINVAL, "limit", "limit must be a number from 1 to %u",
			       DOM_ASSETS_MAX_LIMIT);
	if (dq->prefix) {
		size_t n;

		/* "plant-a/" is the folder "plant-a" */
		prefix = arena_strdup(d->arena, dq->prefix);
		n = strlen(prefix);
		while (n > 0 && prefix[n - 1] == '/')
			prefix[--n] = '\0';
		q.prefix = prefix;
	}
	if ((q.prefix && (rc = assets_check_path(q.prefix, "prefix"))) ||
	    (q.path && (rc = assets_check_path(q.path, "path"))) ||
	    (q.type && (rc = assets_check_type(q.type, "type"))) ||
	    (q.after && (rc = assets_check_path(q.after, "cursor"))))
		return rc;
	if ((rc = dom_conn(&c, d)) || (rc = assets_list(&items, &more, c, &q)))
		goto out;
	page = json_object();
	if (more) {
		json_t *last = json_array_get(items, json_array_size(items) - 1);

		json_object_set(page, "next_cursor", json_object_get(last, "path"));
	} else {
		json_object_set_new(page, "next_cursor", json_null());
	}
	json_object_set_new(page, "items", items);
	items = NULL;
	*out = page;
out:
	dom_end(c);
	json_decref(items);
	return rc;
}

int dom_asset_read(json_t **out, const struct dom *d, int64_t id)
{
	int rc;

	*out = NULL;
	if ((rc = dom_permit(d, OP_ASSET_READ)))
		return rc;
	return assets_read(out, d->arena, d->db, id);
}

int dom_asset_update(json_t **out, const struct dom *d, int64_t id, const json_t *in)
{
	enum { N = 10 };
	static const char *const names[N] = {
		"path", "type", "vendor", "model", "firmware", "serial_number", "order_number",
		"cpe", "purl", "description",
	};
	struct db_conn *c = NULL;
	json_t *old = NULL, *updated = NULL, *before = NULL, *after = NULL;
	struct asset_fields f;
	struct inv_observation inv;
	const char **given[N];
	bool register_changed = false;
	char ids[24];
	size_t i;
	int rc;

	*out = NULL;
	snprintf(ids, sizeof(ids), "%" PRId64, id);
	if ((rc = dom_permit(d, OP_ASSET_UPDATE)))
		return rc;
	if ((rc = read_fields(&f, &inv, in, false)))
		goto out;
	given[0] = &f.path;
	given[1] = &f.type;
	given[2] = &inv.vendor;
	given[3] = &inv.model;
	given[4] = &inv.firmware;
	given[5] = &inv.serial_number;
	given[6] = &inv.order_number;
	given[7] = &inv.cpe;
	given[8] = &inv.purl;
	given[9] = &f.description;
	if ((rc = dom_begin(&c, d)) || (rc = assets_get(&old, c, id, true)))
		goto out;
	/* keep only real changes: they are what the audit event records */
	before = json_object();
	after = json_object();
	for (i = 0; i < N; i++) {
		const char *now = json_string_value(json_object_get(old, names[i]));

		if (!*given[i])
			continue;
		if (now && strcmp(now, *given[i]) == 0) {
			*given[i] = NULL;
			continue;
		}
		json_object_set_new(before, names[i], json_string(now ? now : ""));
		json_object_set_new(after, names[i], json_string(*given[i]));
		if (given[i] == &f.path || given[i] == &f.type || given[i] == &f.description)
			register_changed = true;
	}
	if (json_object_size(after) == 0) {
		*out = old;
		old = NULL;
		goto out;
	}
	if (register_changed && (rc = assets_update(&updated, c, id, &f)))
		goto out;
	if ((rc = dom_inventory_observe(d, c, ids, &inv, "manual", NULL)) ||
	    (rc = dom_audit(d, c, "asset.update", "asset", ids, before, after, NULL)))
		goto out;
	json_decref(updated);
	updated = NULL;
	if ((rc = assets_get(&updated, c, id, false)) || (rc = dom_commit(c)))
		goto out;
	*out = updated;
	updated = NULL;
out:
	if (rc)
		rc = dom_refused(d, &c, "asset.update", "asset", ids, rc);
	dom_end(c);
	json_decref(old);
	json_decref(updated);
	json_decref(before);
	json_decref(after);
	return rc;
}
