/*
 * storage/firmware.h - the record store of controlled firmware updates
 * (tables change_firmware and firmware_files,
 * schema/0046_firmware_updates.sql): per change and affected asset the
 * firmware before and after, the advisory, and the vendor's files.
 *
 * Stores and reads; the rules are in domain/firmware.h and
 * domain/rules.h.  Writes belong in the caller's transaction on a change
 * the caller locked.
 *
 * Errors: OTCM_ENOTFOUND, OTCM_EDB, OTCM_ERETRY.  Thread-safety: as the connection.
 */
#ifndef OTCM_STORAGE_FIRMWARE_H
#define OTCM_STORAGE_FIRMWARE_H

#include <stddef.h>
#include <stdint.h>

#include "core/json.h"
#include "storage/db.h"

/* What to set of one update; NULL members are left as they are. */
struct firmware_fields {
	const char *before, *before_source, *after, *after_source, *advisory;
};

/* Declare (first time) or change the firmware update of asset `asset_id` on change `change_id`. */
int firmware_upsert(struct db_conn *c, int64_t change_id, int64_t asset_id, const struct firmware_fields *f,
		    int64_t user_id);

/* Keep file `kind` ("package", "signature") of the update; the newest of a kind counts. */
int firmware_file_insert(json_t **out, struct db_conn *c, int64_t change_id, int64_t asset_id,
			 const char *kind, const char *filename, const void *data, size_t len,
			 const char *sha256, int64_t user_id);

/*
 * The firmware updates of change `change_id`, by asset id: [{asset_id,
 * path, before, before_source, after, after_source, advisory,
 * declared_by, declared_at, updated_at, package (newest {id, filename,
 * size, sha256, uploaded_by, uploaded_at} or null), signature (the same
 * or null)}].
 */
int firmware_list(json_t **out, struct db_conn *c, int64_t change_id);

#endif
