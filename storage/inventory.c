/* storage/inventory.c - an asset's inventory and its history; see inventory.h. */
#include "storage/inventory.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/err.h"
#include "core/timeutil.h"

const char *const inventory_fields[] = {
	"vendor", "model", "firmware", "serial_number", "order_number", "cpe", "purl", NULL
};

static const char sql_inventory_lock[] =
	"SELECT vendor, model, firmware, serial_number, order_number, cpe, purl "
	"FROM assets WHERE id = $1 FOR UPDATE";

int inventory_lock(const char *out[INVENTORY_FIELD_COUNT], struct arena *a, struct db_conn *c,
		   int64_t id)
{
	struct db_res *r = NULL;
	char ids[24];
	size_t i;
	int rc;

	snprintf(ids, sizeof(ids), "%" PRId64, id);
	{
		const struct db_param p[] = { DB_TEXT(ids) };

		if ((rc = db_exec(&r, c, sql_inventory_lock, 1, p, false)))
			return rc;
	}
	if (db_res_rows(r) == 0) {
		rc = err_set(OTCM_ENOTFOUND, "id", "asset %" PRId64 " not found", id);
		goto out;
	}
	for (i = 0; i < INVENTORY_FIELD_COUNT; i++)
		out[i] = arena_strdup(a, db_res_get(r, 0, i));
out:
	db_res_free(r);
	return rc;
}

static const char sql_inventory_update[] =
	"UPDATE assets SET vendor = coalesce($2, vendor), model = coalesce($3, model), "
	"firmware = coalesce($4, firmware), serial_number = coalesce($5, serial_number), "
	"order_number = coalesce($6, order_number), cpe = coalesce($7, cpe), "
	"purl = coalesce($8, purl), updated_at = now() WHERE id = $1";

static const char sql_inventory_history_insert[] =
	"INSERT INTO asset_inventory_history "
	"(asset_id, field, old_value, new_value, source, source_ref, user_id, username) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

static struct db_param opt_text(const char *s)
{
	return s ? DB_TEXT(s) : DB_NULL;
}

int inventory_write(struct db_conn *c, int64_t id, const char *const old[INVENTORY_FIELD_COUNT],
		    const char *const value[INVENTORY_FIELD_COUNT], const char *source,
		    const char *source_ref, int64_t user_id, const char *username)
{
	struct db_res *r = NULL;
	char ids[24], uid[24];
	size_t i;
	int rc;

	snprintf(ids, sizeof(ids), "%" PRId64, id);
	snprintf(uid, sizeof(uid), "%" PRId64, user_id);
	{
		const struct db_param p[] = {
			DB_TEXT(ids), opt_text(value[0]), opt_text(value[1]), opt_text(value[2]),
			opt_text(value[3]), opt_text(value[4]), opt_text(value[5]), opt_text(value[6]),
		};

		if ((rc = db_exec(&r, c, sql_inventory_update, 8, p, false)))
			return rc;
	}
	db_rows_changed(c, DB_ROWS_ASSETS);
	if (db_res_affected(r) == 0)
		rc = err_set(OTCM_ENOTFOUND, "id", "asset %" PRId64 " not found", id);
	db_res_free(r);
	r = NULL;
	for (i = 0; rc == 0 && i < INVENTORY_FIELD_COUNT; i++) {
		if (!value[i])
			continue;
		{
			const struct db_param p[] = {
				DB_TEXT(ids), DB_TEXT(inventory_fields[i]), DB_TEXT(old[i] ? old[i] : ""),
				DB_TEXT(value[i]), DB_TEXT(source), opt_text(source_ref),
				user_id > 0 ? DB_TEXT(uid) : DB_NULL, DB_TEXT(username),
			};

			rc = db_exec(NULL, c, sql_inventory_history_insert, 8, p, false);
		}
	}
	return rc;
}

static const char sql_inventory_history[] =
	"SELECT field, old_value, new_value, source, source_ref, username, "
	"(extract(epoch FROM at) * 1000000)::bigint "
	"FROM asset_inventory_history WHERE asset_id = $1 ORDER BY id DESC LIMIT $2";

int inventory_history(json_t **out, bool *out_more, struct db_conn *c, int64_t id, unsigned limit)
{
	struct db_res *r = NULL;
	char ids[24], lim[16], t[TIME_RFC3339_LEN];
	size_t i, n;
	int rc;

	*out = NULL;
	*out_more = false;
	snprintf(ids, sizeof(ids), "%" PRId64, id);
	snprintf(lim, sizeof(lim), "%u", limit + 1);
	{
		const struct db_param p[] = { DB_TEXT(ids), DB_TEXT(lim) };

		if ((rc = db_exec(&r, c, sql_inventory_history, 2, p, false)))
			return rc;
	}
	n = db_res_rows(r);
	if (n > limit) {
		*out_more = true;
		n = limit;
	}
	*out = json_array();
	for (i = 0; i < n; i++) {
		json_t *e = json_object();

		json_object_set_new(e, "field", json_string(db_res_get(r, i, 0)));
		json_object_set_new(e, "old", json_string(db_res_get(r, i, 1)));
		json_object_set_new(e, "new", json_string(db_res_get(r, i, 2)));
		json_object_set_new(e, "source", json_string(db_res_get(r, i, 3)));
		json_object_set_new(e, "source_ref", db_res_isnull(r, i, 4) ? json_null()
									   : json_string(db_res_get(r, i, 4)));
		json_object_set_new(e, "by", json_string(db_res_get(r, i, 5)));
		time_format_rfc3339(t, strtoll(db_res_get(r, i, 6), NULL, 10));
		json_object_set_new(e, "at", json_string(t));
		json_array_append_new(*out, e);
	}
	db_res_free(r);
	return 0;
}
