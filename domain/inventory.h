/*
 * domain/inventory.h - an asset's inventory: vendor, model, firmware,
 * serial number, order number, CPE and PURL, and the history of every
 * change of them with what moved it.
 *
 * Three sources move the inventory, each with its reference:
 *   "manual"    typed through the API or a page (the asset's PATCH, the
 *               asset register's pages); the reference is NULL or free text
 *   "change"    a released change; the reference is the change's key
 *   "readback"  a device read-back; the reference is the read-back's id
 * Advisories are matched against the current inventory (docs/patch.md).
 *
 * Thread-safety: per context (one request on one thread).
 */
#ifndef OTCM_DOMAIN_INVENTORY_H
#define OTCM_DOMAIN_INVENTORY_H

#include "domain/domain.h"

/* What was observed of an asset's inventory. */
struct inv_observation { const char *vendor, *model, *firmware, *serial_number, *order_number, *cpe, *purl; };  /* NULL: not observed */

/* Longest value of one inventory field, and of a source reference. */
#define INV_MAX_TEXT 200

/*
 * Record what was observed of asset `asset_id` (a decimal id, as in a URL)
 * inside the caller's open transaction on `c`: every observed field whose
 * value differs from the asset's is set, one history row per changed field
 * is appended (old and new value, now, the actor, `source` and
 * `source_ref`), and one "inventory.observe" audit event records the
 * changed fields before and after with the source; the asset's advisory
 * matches are recomputed (domain/advisories.h).  Nothing changed: no
 * write at all, 0.  An empty string clears a field.
 *
 * The caller has checked its own operation's permission; this checks none.
 * Rules: each value at most INV_MAX_TEXT bytes of UTF-8 without control
 * characters; cpe empty or a CPE 2.3 formatted string
 * ("cpe:2.3:part:vendor:product:version:..." with 13 components, part a, o
 * or h) or a CPE 2.2 URI ("cpe:/part:vendor:product..."); purl empty or a
 * package URL ("pkg:type/name..."); `source` one of manual, change,
 * readback; `source_ref` required for change and readback.
 *
 * Errors: OTCM_EINVAL naming the field ("vendor", ..., "source",
 * "source_ref"), OTCM_ENOTFOUND naming "id", OTCM_EDB.  On error the
 * caller's transaction is left for the caller to roll back.
 */
int dom_inventory_observe(const struct dom *d, struct db_conn *c, const char *asset_id, const struct inv_observation *obs, const char *source, const char *source_ref);

/*
 * Check the observed values of `obs` without writing: 0 or OTCM_EINVAL
 * naming the first bad field (the rules above).  For doors and operations
 * that validate before they open a transaction.
 */
int dom_inventory_check(const struct inv_observation *obs);

/* Largest page of the history, and the page when none is asked for. */
#define DOM_INVENTORY_MAX_LIMIT 1000
#define DOM_INVENTORY_DEFAULT_LIMIT 200

/*
 * The inventory of asset `id` (permission: asset.read):
 *   *out = {"asset_id", "path", "current": {vendor, model, firmware,
 *           serial_number, order_number, cpe, purl},
 *           "history": [{field, old, new, source, source_ref, by, at}...],
 *           "more": bool}
 * history newest first, at most `limit` rows (0: the default).
 * OTCM_ENOTFOUND naming "id", OTCM_EINVAL naming "limit".
 */
int dom_inventory_read(json_t **out, const struct dom *d, int64_t id, unsigned limit);

#endif
