/*
 * storage/record_sql.h - what the record stores of the change process
 * (changes.c, runs.c, signatures.c, deployments.c) share: times as RFC 3339
 * UTC in SQL, the change branch head in SQL, int64 parameters, and a
 * statement whose one json column becomes a JSON value.  Private to
 * storage/; nothing outside includes it.
 *
 * Thread-safety: as the connection.
 */
#ifndef OTCM_STORAGE_RECORD_SQL_H
#define OTCM_STORAGE_RECORD_SQL_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/err.h"
#include "core/json.h"
#include "storage/db.h"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* The head (newest change version) of change c.id on asset `asset`. */
#define HEAD(asset)                                                                   \
	"(SELECT v.tree_oid FROM change_versions v WHERE v.change_id = c.id AND "      \
	"v.asset_id = " asset " ORDER BY v.id DESC LIMIT 1)"

static inline int64_t to_i64(const char *s)
{
	return s ? strtoll(s, NULL, 10) : 0;
}

static inline void i64s(char out[24], int64_t v)
{
	snprintf(out, 24, "%" PRId64, v);
}

/* Run a statement returning one json column in one row; parse it into *out. */
static inline int query_json(json_t **out, struct db_conn *c, const char *sql, size_t n,
		      const char *const *v, const char *what, const char *key)
{
	struct db_res *r = NULL;
	json_error_t jerr;
	int rc = db_execv(&r, c, sql, n, v);

	if (rc)
		goto out;
	if (db_res_rows(r) == 0 || db_res_isnull(r, 0, 0)) {
		rc = err_set(OTCM_ENOTFOUND, NULL, "%s '%s' not found", what, key);
		goto out;
	}
	*out = json_loads(db_res_get(r, 0, 0), JSON_DECODE_ANY, &jerr);
	if (!*out)
		rc = err_set(OTCM_EINTERNAL, NULL, "database returned bad json: %s", jerr.text);
out:
	db_res_free(r);
	return rc;
}

#endif
