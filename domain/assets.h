/*
 * domain/assets.h - the asset register: create, list, read and change the
 * PLCs, HMIs, drives, robots, SCADA nodes and recipe sets otcm keeps.
 *
 * Every operation checks the actor's permission first (domain/ops.c:
 * creating and changing assets is the administrator's, reading is
 * everyone's), validates its input naming the offending field, and runs
 * each write in one transaction with its audit event ("asset.create",
 * "asset.update" with the changed fields before and after).  Refusals are
 * audited by the operation.
 *
 * Assets are JSON objects as storage/assets.h gives them:
 *   {id, path, type, vendor, model, firmware, description, created_by,
 *    created_at, updated_at}
 * Every json_t returned through **out belongs to the caller.
 *
 * Thread-safety: per context (one request on one thread).
 */
#ifndef OTCM_DOMAIN_ASSETS_H
#define OTCM_DOMAIN_ASSETS_H

#include <stdint.h>

#include "domain/domain.h"

/* Largest page of the asset list, and the page when none is asked for. */
#define DOM_ASSETS_MAX_LIMIT 500
#define DOM_ASSETS_DEFAULT_LIMIT 100

/*
 * An asset id as it appears in a URL or a form: a positive decimal number.
 * Anything else is OTCM_ENOTFOUND naming "id" (no such asset can exist).
 */
int dom_asset_id(int64_t *out, const char *s);

/*
 * Register an asset from `in`: {"path", "type", "vendor"?, "model"?,
 * "firmware"?, "description"?} (no other member).  *out gets the new
 * asset.  OTCM_EINVAL naming the field, OTCM_ECONFLICT naming "path" when
 * the path is taken, OTCM_EAUTH/OTCM_EFORBIDDEN for the wrong actor.
 */
int dom_asset_create(json_t **out, const struct dom *d, const json_t *in);

/* Which assets to list; NULL members are "any", limit 0 the default. */
struct dom_asset_query {
	const char *prefix;    /* the path or a folder above it ("plant-a/line-3") */
	const char *path;      /* exactly this path */
	const char *type;      /* plc, hmi, ... */
	const char *cursor;    /* the next_cursor of the previous page */
	unsigned limit;        /* 1..DOM_ASSETS_MAX_LIMIT */
};

/*
 * A page of assets by path: *out = {"items": [asset...], "next_cursor":
 * path | null}.  OTCM_EINVAL naming "prefix", "path", "type", "cursor" or
 * "limit" for a malformed query.
 */
int dom_asset_list(json_t **out, const struct dom *d, const struct dom_asset_query *q);

/* The asset `id`; OTCM_ENOTFOUND naming "id" when there is none. */
int dom_asset_read(json_t **out, const struct dom *d, int64_t id);

/*
 * Change the members of asset `id` given in `in` (the same members as for
 * create, none required).  *out gets the asset after the change; a request
 * that changes nothing writes nothing and returns the asset as it is.
 * Errors as for create, and OTCM_ENOTFOUND naming "id".
 */
int dom_asset_update(json_t **out, const struct dom *d, int64_t id, const json_t *in);

#endif
