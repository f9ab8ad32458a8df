/*
 * storage/inventory.h - an asset's inventory fields (vendor, model,
 * firmware, serial number, order number, CPE, PURL) and their append-only
 * history (schema/0040_inventory.sql).
 *
 * Every function runs on the caller's connection; writes belong in the
 * caller's transaction together with their audit event.  The rules (what a
 * valid CPE is, which sources exist) are domain/inventory.h's.
 *
 * Errors: OTCM_ENOTFOUND (no such asset, naming "id"), OTCM_EDB.
 *
 * Thread-safety: as the connection.
 */
#ifndef OTCM_STORAGE_INVENTORY_H
#define OTCM_STORAGE_INVENTORY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/json.h"
#include "storage/db.h"

/* The inventory fields in the order of the columns, NULL-terminated. */
extern const char *const inventory_fields[];
#define INVENTORY_FIELD_COUNT 7

/*
 * The current inventory of asset `id`, locked until the transaction ends:
 * out[i] gets the value of inventory_fields[i] (never NULL), allocated in
 * `a`.  OTCM_ENOTFOUND naming "id" when there is no such asset.
 */
int inventory_lock(const char *out[INVENTORY_FIELD_COUNT], struct arena *a, struct db_conn *c,
		   int64_t id);

/*
 * Set the fields whose value[i] is not NULL on asset `id` (and its
 * updated_at), and append one history row each with old[i] as the old
 * value, `source`, `source_ref` (may be NULL) and the acting user (user_id
 * 0: the command line, stored as NULL with `username`).
 */
int inventory_write(struct db_conn *c, int64_t id, const char *const old[INVENTORY_FIELD_COUNT],
		    const char *const value[INVENTORY_FIELD_COUNT], const char *source,
		    const char *source_ref, int64_t user_id, const char *username);

/*
 * The history of asset `id`, newest first, at most `limit` rows (1..1000):
 * *out = [{field, old, new, source, source_ref, by, at}...] (owned by the
 * caller); *out_more is set when older rows exist.
 */
int inventory_history(json_t **out, bool *out_more, struct db_conn *c, int64_t id, unsigned limit);

#endif
