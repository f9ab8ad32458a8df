/*
 * storage/versions.h - the version records: one row per commit otcm wrote
 * for an asset, with who uploaded it, on which branch, with which message,
 * and when by the server's clock.  The commit object is the content; the
 * row is what tickets, test runs and signatures will refer to.
 *
 * Object ids cross this API as 40-character lowercase hex strings.
 *
 * Every function runs on the caller's connection; versions_insert belongs
 * in the transaction that writes the commit, moves the ref and appends the
 * audit event.
 *
 * Errors: OTCM_ENOTFOUND, OTCM_ECONFLICT (the commit is already recorded for
 * the asset), OTCM_EDB.
 *
 * Thread-safety: as the connection.
 */
#ifndef OTCM_STORAGE_VERSIONS_H
#define OTCM_STORAGE_VERSIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/json.h"
#include "storage/db.h"

struct version_record {
	int64_t asset_id;
	const char *commit;      /* hex */
	const char *tree;        /* hex */
	const char *parent;      /* hex, or NULL for a root commit */
	const char *branch;      /* "main", not "refs/heads/main" */
	const char *message;
	int64_t author_id;       /* the uploading user */
	int64_t time_us;         /* server time, the same as the commit's */
};

/* Record a new version. */
int versions_insert(struct db_conn *c, const struct version_record *v);

/* Is `commit` recorded as a version of asset `asset_id`? */
int versions_has(bool *out, struct db_conn *c, int64_t asset_id, const char *commit);

/*
 * The record of `commit` for asset `asset_id` as JSON
 * {branch, uploaded_by, uploaded_at} (owned by the caller);
 * OTCM_ENOTFOUND when the commit was not recorded through otcm.
 */
int versions_get(json_t **out, struct db_conn *c, int64_t asset_id, const char *commit);

#endif
