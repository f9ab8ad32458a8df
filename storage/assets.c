/* storage/assets.c - the asset record store; see assets.h. */
#include "storage/assets.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/timeutil.h"
#include "storage/rowcache.h"

#define US(col) "(extract(epoch FROM " col ") * 1000000)::bigint"

/* The columns asset_of_columns() reads, in order. */
#define ASSET_COLUMNS \
	"a.id, a.path, a.type, a.vendor, a.model, a.firmware, a.description, " \
	"coalesce(u.username, ''), " US("a.created_at") ", " US("a.updated_at") ", " \
	"a.serial_number, a.order_number, a.cpe, a.purl"

static const char *const asset_types[] = {
	"plc", "hmi", "drive", "robot", "scada", "recipe", "other", NULL
};

int assets_parse_id(int64_t *out, const char *s)
{
	long long v;

	if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 18)
		return err_set(OTCM_ENOTFOUND, "id", "asset '%.40s' not found; asset ids are numbers",
			       s ? s : "");
	v = strtoll(s, NULL, 10);
	if (v <= 0)
		return err_set(OTCM_ENOTFOUND, "id", "asset '%s' not found", s);
	*out = (int64_t)v;
	return 0;
}

static bool seg_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '.' || ch == '_' || ch == '-';
}

int assets_check_path(const char *path, const char *field)
{
	size_t i, len;
	bool seg_start = true;

	if (!path || !path[0])
		return err_set(OTCM_EINVAL, field, "'%s' is required", field);
	len = strlen(path);
	if (path[0] == '/')
		return err_set(OTCM_EINVAL, field, "%s '%.255s' must not start with '/'", field, path);
	if (len > ASSETS_MAX_PATH)
		return err_set(OTCM_EINVAL, field, "%s '%.60s...' is longer than %d characters", field,
			       path, ASSETS_MAX_PATH);
	for (i = 0; i < len; i++) {
		char ch = path[i];

		if (ch == '/') {
			if (seg_start)
				return err_set(OTCM_EINVAL, field,
					       "%s '%s' has an empty segment; use site/area/line/asset",
					       field, path);
			seg_start = true;
			continue;
		}
		if (!seg_char(ch))
			return err_set(OTCM_EINVAL, field,
				       "%s '%.255s' may only hold letters, digits, '.', '_', '-' and '/'",
				       field, path);
		if (seg_start && !((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
				   (ch >= '0' && ch <= '9')))
			return err_set(OTCM_EINVAL, field,
				       "%s '%s': each segment must start with a letter or digit", field,
				       path);
		seg_start = false;
	}
	if (seg_start)
		return err_set(OTCM_EINVAL, field, "%s '%s' ends with '/'", field, path);
	return 0;
}

int assets_check_type(const char *type, const char *field)
{
	const char *const *t;

	if (!type || !type[0])
		return err_set(OTCM_EINVAL, field, "'%s' is required", field);
	for (t = asset_types; *t; t++) {
		if (strcmp(*t, type) == 0)
			return 0;
	}
	return err_set(OTCM_EINVAL, field,
		       "%s '%.40s' is not one of plc, hmi, drive, robot, scada, recipe, other", field,
		       type);
}

static int check_len(const char *v, const char *field, size_t max)
{
	if (v && strlen(v) > max)
		return err_set(OTCM_EINVAL, field, "'%s' is longer than %zu characters", field, max);
	return 0;
}

int assets_check_fields(const struct asset_fields *f)
{
	int rc;

	if (f->path && (rc = assets_check_path(f->path, "path")))
		return rc;
	if (f->type && (rc = assets_check_type(f->type, "type")))
		return rc;
	return check_len(f->description, "description", ASSETS_MAX_DESCRIPTION);
}

static int64_t to_i64(const char *s)
{
	return s ? strtoll(s, NULL, 10) : 0;
}

/* An asset as JSON from its ASSET_COLUMNS' text. */
static json_t *asset_of_columns(const char *const v[DB_ASSET_COLUMNS])
{
	json_t *o = json_object();
	char t[TIME_RFC3339_LEN];

	json_object_set_new(o, "id", json_integer(to_i64(v[0])));
	json_object_set_new(o, "path", json_string(v[1]));
	json_object_set_new(o, "type", json_string(v[2]));
	json_object_set_new(o, "vendor", json_string(v[3]));
	json_object_set_new(o, "model", json_string(v[4]));
	json_object_set_new(o, "firmware", json_string(v[5]));
	json_object_set_new(o, "serial_number", json_string(v[10]));
	json_object_set_new(o, "order_number", json_string(v[11]));
	json_object_set_new(o, "cpe", json_string(v[12]));
	json_object_set_new(o, "purl", json_string(v[13]));
	json_object_set_new(o, "description", json_string(v[6]));
	json_object_set_new(o, "created_by", json_string(v[7]));
	time_format_rfc3339(t, to_i64(v[8]));
	json_object_set_new(o, "created_at", json_string(t));
	time_format_rfc3339(t, to_i64(v[9]));
	json_object_set_new(o, "updated_at", json_string(t));
	return o;
}

static void columns_of(const char *v[DB_ASSET_COLUMNS], const struct db_res *r, size_t row)
{
	for (size_t i = 0; i < DB_ASSET_COLUMNS; i++)
		v[i] = db_res_get(r, row, i);
}

static json_t *asset_to_json(const struct db_res *r, size_t row)
{
	const char *v[DB_ASSET_COLUMNS];

	columns_of(v, r, row);
	return asset_of_columns(v);
}

static const char sql_asset_insert[] =
	"INSERT INTO assets (path, type, description, created_by) "
	"VALUES ($1, $2, $3, $4) RETURNING id";

int assets_create(json_t **out, struct db_conn *c, const struct asset_fields *f,
		  int64_t created_by)
{
	struct db_res *r = NULL;
	char by[24];
	int rc;

	*out = NULL;
	if (!f->path)
		return err_set(OTCM_EINVAL, "path", "'path' is required");
	if (!f->type)
		return err_set(OTCM_EINVAL, "type", "'type' is required");
	if ((rc = assets_check_fields(f)))
		return rc;
	snprintf(by, sizeof(by), "%" PRId64, created_by);
	{
		const struct db_param p[] = {
			DB_TEXT(f->path), DB_TEXT(f->type),
			DB_TEXT(f->description ? f->description : ""), DB_TEXT(by),
		};

		rc = db_exec(&r, c, sql_asset_insert, 4, p, false);
	}
	if (rc == OTCM_ECONFLICT)
		return err_set(OTCM_ECONFLICT, "path", "asset '%s' already exists", f->path);
	if (rc)
		return rc;
	rc = assets_get(out, c, to_i64(db_res_get(r, 0, 0)), false);
	db_res_free(r);
	return rc;
}

static const char sql_asset_get[] =
	"SELECT " ASSET_COLUMNS " FROM assets a LEFT JOIN users u ON u.id = a.created_by "
	"WHERE a.id = $1";

static const char sql_asset_get_locked[] =
	"SELECT " ASSET_COLUMNS " FROM assets a LEFT JOIN users u ON u.id = a.created_by "
	"WHERE a.id = $1 FOR UPDATE OF a";

/* Asset `id`'s columns into v, pointing into *r (the caller frees it). */
static int asset_row(const char *v[DB_ASSET_COLUMNS], struct db_res **r, struct db_conn *c,
		     int64_t id, bool for_update)
{
	char ids[24];
	int rc;

	snprintf(ids, sizeof(ids), "%" PRId64, id);
	{
		const struct db_param p[] = { DB_TEXT(ids) };

		rc = db_exec(r, c, for_update ? sql_asset_get_locked : sql_asset_get, 1, p, false);
	}
	if (rc)
		return rc;
	if (db_res_rows(*r) == 0)
		return err_set(OTCM_ENOTFOUND, "id", "asset %" PRId64 " not found", id);
	columns_of(v, *r, 0);
	return 0;
}

int assets_get(json_t **out, struct db_conn *c, int64_t id, bool for_update)
{
	const char *v[DB_ASSET_COLUMNS];
	struct db_res *r = NULL;
	int rc;

	*out = NULL;
	if ((rc = asset_row(v, &r, c, id, for_update)) == 0)
		*out = asset_of_columns(v);
	db_res_free(r);
	return rc;
}

int assets_read(json_t **out, struct arena *a, struct db_pool *pool, int64_t id)
{
	struct rowcache *cache = db_pool_rowcache(pool, DB_ROWS_ASSETS);
	const char *v[DB_ASSET_COLUMNS];
	struct db_conn *c = NULL;
	struct db_res *r = NULL;
	uint64_t gen = 0;
	int rc;

	*out = NULL;
	if (cache) {
		if (rowcache_get(v, cache, a, id)) {
			*out = asset_of_columns(v);
			return 0;
		}
		gen = rowcache_generation(cache);
	}
	if ((rc = db_acquire(&c, pool)))
		return rc;
	if ((rc = asset_row(v, &r, c, id, false)) == 0) {
		if (cache)
			rowcache_put(cache, id, v, gen);
		*out = asset_of_columns(v);
	}
	db_res_free(r);
	db_release(c);
	return rc;
}

static const char sql_asset_update[] =
	"UPDATE assets SET path = coalesce($2, path), type = coalesce($3, type), "
	"description = coalesce($4, description), updated_at = now() WHERE id = $1";

static struct db_param opt_text(const char *s)
{
	return s ? DB_TEXT(s) : DB_NULL;
}

int assets_update(json_t **out, struct db_conn *c, int64_t id, const struct asset_fields *f)
{
	struct db_res *r = NULL;
	char ids[24];
	int rc;

	*out = NULL;
	if ((rc = assets_check_fields(f)))
		return rc;
	snprintf(ids, sizeof(ids), "%" PRId64, id);
	{
		const struct db_param p[] = {
			DB_TEXT(ids), opt_text(f->path), opt_text(f->type), opt_text(f->description),
		};

		rc = db_exec(&r, c, sql_asset_update, 4, p, false);
	}
	if (rc == 0)
		db_rows_changed(c, DB_ROWS_ASSETS);
	if (rc == OTCM_ECONFLICT)
		return err_set(OTCM_ECONFLICT, "path", "asset '%s' already exists",
			       f->path ? f->path : "");
	if (rc)
		return rc;
	if (db_res_affected(r) == 0) {
		db_res_free(r);
		return err_set(OTCM_ENOTFOUND, "id", "asset %" PRId64 " not found", id);
	}
	db_res_free(r);
	return assets_get(out, c, id, false);
}

/*
 * Whole-segment prefix: the path itself or anything below "prefix/".  The
 * range uses the pattern operators so assets_path_prefix (text_pattern_ops)
 * serves it and '_' needs no escaping as it would with LIKE ('0' follows
 * '/' in ASCII).
 */
static const char sql_asset_list[] =
	"SELECT " ASSET_COLUMNS " FROM assets a LEFT JOIN users u ON u.id = a.created_by "
	"WHERE ($1::text IS NULL OR a.path = $1 "
	"       OR (a.path ~>=~ ($1::text || '/') AND a.path ~<~ ($1::text || '0'))) "
	"  AND ($2::text IS NULL OR a.path = $2) "
	"  AND ($3::text IS NULL OR a.type = $3) "
	"  AND ($4::text IS NULL OR a.path COLLATE \"C\" > $4::text) "
	"ORDER BY a.path COLLATE \"C\" LIMIT $5";

int assets_list(json_t **out, bool *out_more, struct db_conn *c, const struct asset_query *q)
{
	struct db_res *r = NULL;
	char lim[16];
	size_t i, n;
	int rc;

	*out = NULL;
	*out_more = false;
	snprintf(lim, sizeof(lim), "%u", q->limit + 1);
	{
		const struct db_param p[] = {
			opt_text(q->prefix), opt_text(q->path), opt_text(q->type), opt_text(q->after),
			DB_TEXT(lim),
		};

		rc = db_exec(&r, c, sql_asset_list, 5, p, false);
	}
	if (rc)
		return rc;
	n = db_res_rows(r);
	if (n > q->limit) {
		*out_more = true;
		n = q->limit;
	}
	*out = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(*out, asset_to_json(r, i));
	db_res_free(r);
	return 0;
}
