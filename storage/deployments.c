/*
 * storage/deployments.c - deployments of a change's versions to devices in PostgreSQL; see deployments.h.
 *
 * Records are shaped into JSON by the database (json_build_object), so the
 * field names below are the API's.
 */
#include "storage/deployments.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "storage/record_sql.h"

/* ---- deployments ---- */

int deployments_insert(json_t **out, struct db_conn *c, const struct deployment_record *d)
{
	static const char sql[] =
		"INSERT INTO deployments (change_id, asset_id, commit_oid, tree_oid, readback_sha256, "
		"readback_match, note, deployed_by) VALUES ($1, $2, $3, $4, $5, $6::boolean, "
		"coalesce($7, ''), $8) RETURNING json_build_object('id', id, 'asset_id', asset_id, "
		"'commit', commit_oid, 'tree', tree_oid, 'readback_sha256', readback_sha256, "
		"'readback_match', readback_match, 'flagged', readback_match IS FALSE, 'note', note, "
		"'deployed_at', " TS("deployed_at") ")";
	char sch[24], sas[24], sby[24];
	const char *match = d->readback_match < 0 ? NULL : d->readback_match ? "true" : "false";

	i64s(sch, d->change_id);
	i64s(sas, d->asset_id);
	i64s(sby, d->deployed_by);
	return query_json(out, c, sql, 8, (const char *[]){ sch, sas, d->commit, d->tree,
			  d->readback_sha256, match, d->note, sby }, "deployment", "");
}
