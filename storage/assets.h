/*
 * storage/assets.h - the asset records: a PLC, HMI, drive, robot, SCADA node
 * or recipe set placed in the site/area/line hierarchy, each with its own git
 * repository (refs and versions are keyed by the asset's id).
 *
 * Assets are returned as JSON objects
 *   {id, path, type, vendor, model, firmware, serial_number, order_number,
 *    cpe, purl, description, created_by, created_at, updated_at}
 * (created_by is the creator's username; times are RFC 3339 UTC).
 *
 * Every function runs on the caller's connection; writes belong in the
 * caller's transaction together with their audit event.
 *
 * Errors: OTCM_EINVAL (bad path, type or field, naming it), OTCM_ENOTFOUND,
 * OTCM_ECONFLICT (path taken), OTCM_EDB.
 *
 * Thread-safety: as the connection.
 */
#ifndef OTCM_STORAGE_ASSETS_H
#define OTCM_STORAGE_ASSETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/json.h"
#include "storage/db.h"

struct arena;

#define ASSETS_MAX_PATH 255
#define ASSETS_MAX_DESCRIPTION 4000

/*
 * The register's fields of an asset; NULL members are "not given".  The
 * inventory (vendor, model, firmware, serial and order number, CPE, PURL)
 * is written through storage/inventory.h, which keeps its history.
 */
struct asset_fields {
	const char *path;
	const char *type;
	const char *description;
};

/*
 * Parse an asset id as it appears in a URL: a positive decimal number.
 * Anything else is OTCM_ENOTFOUND naming "id" (no such asset can exist).
 */
int assets_parse_id(int64_t *out, const char *s);

/*
 * Is `path` a hierarchy path: segments of [A-Za-z0-9._-] starting with a
 * letter or digit, separated by single '/', at most ASSETS_MAX_PATH bytes
 * (the same rule as the schema's CHECK)?  0 or OTCM_EINVAL naming `field`.
 */
int assets_check_path(const char *path, const char *field);

/* Is `type` one of plc, hmi, drive, robot, scada, recipe, other? */
int assets_check_type(const char *type, const char *field);

/*
 * Check every given member of `f` (path, type, description's length); 0 or OTCM_EINVAL
 * naming the first bad field.
 */
int assets_check_fields(const struct asset_fields *f);

/*
 * Insert an asset (path and type required; other NULL members become "")
 * created by user `created_by`.  *out gets the new asset as JSON (owned by
 * the caller).  OTCM_ECONFLICT when the path is taken.
 */
int assets_create(json_t **out, struct db_conn *c, const struct asset_fields *f,
		  int64_t created_by);

/*
 * The asset `id` as JSON (owned by the caller); OTCM_ENOTFOUND if absent.
 * for_update locks the row until the transaction ends.
 */
int assets_get(json_t **out, struct db_conn *c, int64_t id, bool for_update);

/*
 * The asset `id` as assets_get() gives it, outside any transaction: from
 * the pool's cache of assets when it holds the row (no database round
 * trip; storage/rowcache.h), else read on a connection of `pool` and kept.
 * Strings are copied through `a`.
 */
int assets_read(json_t **out, struct arena *a, struct db_pool *pool, int64_t id);

/*
 * Change the given (non-NULL) members of asset `id`; *out gets the asset
 * after the change.  OTCM_ECONFLICT when the new path is taken.
 */
int assets_update(json_t **out, struct db_conn *c, int64_t id, const struct asset_fields *f);

/* A page of the asset list. */
struct asset_query {
	const char *prefix;   /* whole-segment path prefix, or NULL */
	const char *path;     /* exact path, or NULL */
	const char *type;     /* or NULL */
	const char *after;    /* cursor: list paths after this one, or NULL */
	unsigned limit;       /* 1..ASSETS_MAX_LIMIT */
};

#define ASSETS_MAX_LIMIT 500

/*
 * Assets matching `q`, ordered by path (bytewise), as a JSON array in *out.
 * *out_more is set when more assets follow the last one listed.
 */
int assets_list(json_t **out, bool *out_more, struct db_conn *c, const struct asset_query *q);

#endif
