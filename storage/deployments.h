/*
 * storage/deployments.h - deployments of a change's versions to
 * devices, with the hash read back from the device where there is one.
 *
 * Records come back as JSON objects (owned by the caller) with times in
 * RFC 3339 UTC from the database server's clock.  This module stores and
 * reads; it does not decide (domain/ does).  Every function runs on the
 * caller's connection; writes belong in the caller's transaction with
 * their audit event, on a change the caller locked with changes_lock().
 *
 * Errors: OTCM_EINVAL naming the field, OTCM_ENOTFOUND, OTCM_EDB,
 * OTCM_ERETRY.
 *
 * Thread-safety: as the connection.
 */
#ifndef OTCM_STORAGE_DEPLOYMENTS_H
#define OTCM_STORAGE_DEPLOYMENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/json.h"
#include "storage/db.h"

/* ---- deployments ---- */

struct deployment_record {
	int64_t change_id, asset_id;
	const char *commit, *tree;
	const char *readback_sha256;   /* NULL: none */
	int readback_match;            /* -1 none, 0 mismatch, 1 match */
	const char *note;
	int64_t deployed_by;
};
/*
 * Record deployment `d`; *out gets it as {id, asset_id, commit, tree,
 * readback_sha256, readback_match, flagged, note, deployed_at}.
 */
int deployments_insert(json_t **out, struct db_conn *c, const struct deployment_record *d);

#endif
