/* storage/evidence.c - the records an evidence bundle needs; see evidence.h. */
#include "storage/evidence.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/err.h"
#include "core/mem.h"

int evidence_versions(json_t **out, struct db_conn *c, int64_t change_id)
{
	static const char sql[] =
		"SELECT coalesce(json_agg(json_build_object('asset_id', v.asset_id, 'path', a.path, "
		"'commit', v.commit_oid, 'tree', v.tree_oid, 'uploaded_by', u.username, 'uploaded_at', "
		"to_char(v.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')) "
		"ORDER BY v.id), '[]')::text FROM change_versions v JOIN assets a ON a.id = v.asset_id "
		"JOIN users u ON u.id = v.author_id WHERE v.change_id = $1";
	char id[24];
	const char *params[1] = { id };
	struct db_res *res = NULL;
	int rc;

	snprintf(id, sizeof(id), "%" PRId64, change_id);
	if ((rc = db_execv(&res, c, sql, 1, params)))
		return rc;
	*out = json_loads(db_res_get(res, 0, 0), 0, NULL);
	db_res_free(res);
	return *out ? 0 : err_set(OTCM_EINTERNAL, NULL, "cannot read the versions of a change");
}

int evidence_event_seqs(int64_t **out, size_t *out_n, int64_t *out_at, struct db_conn *c,
			int64_t change_id)
{
	static const char sql[] =
		/* one index lookup per object, not one scan of the trail: no OR across them */
		"SELECT x.seq, floor(extract(epoch FROM x.at))::bigint FROM ("
		" SELECT e.seq, e.at FROM audit_events e"
		"  WHERE e.object_type = 'change' AND e.object_id = $1"
		" UNION ALL"
		" SELECT e.seq, e.at FROM audit_events e"
		"  WHERE e.object_type = 'test-run' AND e.object_id IN"
		"   (SELECT r.id::text FROM test_runs r WHERE r.change_id = $2)"
		" UNION ALL"
		" SELECT e.seq, e.at FROM audit_events e"
		"  WHERE e.object_type = 'version' AND e.object_id IN"
		"   (SELECT v.commit_oid FROM change_versions v WHERE v.change_id = $2)"
		") x ORDER BY x.seq";
	char key[32], id[24];
	const char *params[2] = { key, id };
	struct db_res *res = NULL;
	size_t i, n;
	int rc;

	snprintf(key, sizeof(key), "CHG-%" PRId64, change_id);
	snprintf(id, sizeof(id), "%" PRId64, change_id);
	if ((rc = db_execv(&res, c, sql, 2, params)))
		return rc;
	n = db_res_rows(res);
	if (n > EVIDENCE_MAX_EVENTS) {
		db_res_free(res);
		return err_set(OTCM_ETOOBIG, NULL, "change CHG-%" PRId64 " has too many events", change_id);
	}
	*out = xcalloc(n + 1, sizeof(int64_t));
	*out_at = 0;
	for (i = 0; i < n; i++) {
		(*out)[i] = strtoll(db_res_get(res, i, 0), NULL, 10);
		*out_at = strtoll(db_res_get(res, i, 1), NULL, 10);
	}
	*out_n = n;
	db_res_free(res);
	return 0;
}
