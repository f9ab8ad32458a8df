/*
 * domain/firmware.h - controlled firmware updates (docs/changes.md,
 * "Firmware updates"): a change that updates the firmware or software of
 * an affected asset records, per asset, the firmware read before and
 * after the update (typed, or taken from the asset's inventory,
 * domain/inventory.h), the advisory it addresses (a CSAF document's
 * tracking id), and the vendor's package (and its signature file when the
 * vendor ships one) with their SHA-256.  Such a change is released only
 * when all of these are there (rules_firmware_release(), domain/rules.h)
 * besides the release conditions of every change (FAT, approval,
 * deployment, SAT); releasing it records the after-firmware in the
 * inventory with source "change".  The release's side lives with the
 * release (domain/changes.c); this module records the facts.
 *
 * Errors: OTCM_EAUTH / OTCM_EFORBIDDEN (dom_permit), OTCM_EINVAL naming
 * the field, OTCM_ENOTFOUND naming "key" or "asset_id", OTCM_ERULE naming
 * the rule, as storage/.
 * Thread-safety: per context.
 */
#ifndef OTCM_DOMAIN_FIRMWARE_H
#define OTCM_DOMAIN_FIRMWARE_H

#include "core/json.h"
#include "domain/domain.h"
#include "domain/runs.h"
#include "storage/db.h"

/*
 * Record the firmware update of asset `asset_id` on change `key`
 * (OP_CHANGE_FIRMWARE): `in` may hold before, after (at most 200 bytes of
 * text each) or before_from_inventory / after_from_inventory (true: the
 * asset's inventory firmware now; rule "firmware-inventory-empty" when it
 * has none), and advisory (a CSAF tracking id).  The first record declares
 * the change a firmware update of that asset.  The asset must be affected
 * by the change (rule "asset-not-affected"); an ended change refuses (rule
 * "firmware-change-finished").  Audited as change.firmware.  *out: the
 * asset's update as dom_firmware_list() lists it.
 */
int dom_firmware_record(json_t **out, const struct dom *d, const char *key, const char *asset_id,
			const json_t *in);

/*
 * Upload the vendor's package or its signature file (`kind` "package" or
 * "signature", exactly one file) for the firmware update of asset
 * `asset_id` on change `key` (OP_CHANGE_FIRMWARE_FILE), kept with its
 * SHA-256; the newest of a kind counts.  Same rules as
 * dom_firmware_record(); declares the update when it was not.  Audited as
 * change.firmware.  *out: the file's record.
 */
int dom_firmware_file(json_t **out, const struct dom *d, const char *key, const char *asset_id,
		      const char *kind, const struct dom_file *files, size_t n);

/* The firmware updates of change `key` (OP_CHANGE_READ): {items: [...]}. */
int dom_firmware_list(json_t **out, const struct dom *d, const char *key);

#endif
