/* storage/reports.c - the records behind the reports of a period; see reports.h. */
#include "storage/reports.h"

#include <stdlib.h>

#include "core/err.h"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* One text value of a one-row, one-column statement with (from, to) parameters. */
static int query_json(json_t **out, struct db_conn *c, const char *sql, const char *from, const char *to)
{
	const char *params[2] = { from, to };
	struct db_res *res = NULL;
	int rc;

	*out = NULL;
	if ((rc = db_execv(&res, c, sql, 2, params)))
		return rc;
	if (db_res_rows(res) && db_res_get(res, 0, 0))
		*out = json_loads(db_res_get(res, 0, 0), JSON_DECODE_ANY, NULL);
	db_res_free(res);
	return *out ? 0 : err_set(OTCM_EINTERNAL, NULL, "cannot read the report");
}

static const char POPULATION_SQL[] =
	"SELECT coalesce(json_agg(x.j ORDER BY x.id), '[]')::text FROM (SELECT c.id, json_build_object("
	"'key', 'CHG-' || c.id, 'type', c.type, 'state', c.state, 'title', c.title, "
	"'created_at', " TS("c.created_at") ", 'updated_at', " TS("c.updated_at") ", "
	"'deployed_at', " TS("c.deployed_at") ", "
	"'released_at', (SELECT " TS("max(s.signed_at)") " FROM signatures s WHERE s.change_id = c.id "
	"    AND s.meaning = 'released'), "
	"'requester', u.username, "
	"'implementers', coalesce((SELECT json_agg(DISTINCT w.username) FROM change_versions v "
	"    JOIN users w ON w.id = v.author_id WHERE v.change_id = c.id), '[]'), "
	"'approvers', coalesce((SELECT json_agg(DISTINCT w.username) FROM signatures s "
	"    JOIN users w ON w.id = s.signer_id WHERE s.change_id = c.id AND s.run_id IS NULL "
	"    AND s.meaning IN ('authorised', 'approved', 'released')), '[]'), "
	"'testers', coalesce((SELECT json_agg(DISTINCT w.username) FROM test_runs r "
	"    JOIN users w ON w.id = r.tester_id WHERE r.change_id = c.id), '[]'), "
	"'assets', coalesce((SELECT json_agg(a.path ORDER BY a.path) FROM change_assets ca "
	"    JOIN assets a ON a.id = ca.asset_id WHERE ca.change_id = c.id), '[]'), "
	"'trees', coalesce((SELECT json_agg(json_build_object('asset', a.path, 'commit', h.commit_oid, "
	"    'tree', h.tree_oid) ORDER BY a.path) FROM change_assets ca JOIN assets a ON a.id = ca.asset_id "
	"    JOIN LATERAL (SELECT v.commit_oid, v.tree_oid FROM change_versions v WHERE v.change_id = c.id "
	"    AND v.asset_id = ca.asset_id ORDER BY v.id DESC LIMIT 1) h ON true WHERE ca.change_id = c.id), '[]')"
	") j FROM changes c JOIN users u ON u.id = c.requester_id "
	"WHERE c.created_at < $2::timestamptz "
	"AND NOT (c.state IN ('closed', 'rejected', 'cancelled') AND c.updated_at < $1::timestamptz)) x";

int reports_population(json_t **out, struct db_conn *c, const char *from, const char *to)
{
	return query_json(out, c, POPULATION_SQL, from, to);
}

static const char EXCEPTIONS_SQL[] =
	"SELECT json_build_object("
	"'deployments_without_approval', coalesce((SELECT json_agg(json_build_object("
	"    'change', 'CHG-' || d.change_id, 'type', c.type, 'deployment', d.id, 'asset', a.path, "
	"    'commit', d.commit_oid, 'tree', d.tree_oid, 'deployed_by', u.username, "
	"    'deployed_at', " TS("d.deployed_at") ") ORDER BY d.id) "
	"  FROM deployments d JOIN changes c ON c.id = d.change_id JOIN assets a ON a.id = d.asset_id "
	"  JOIN users u ON u.id = d.deployed_by "
	"  WHERE d.deployed_at >= $1::timestamptz AND d.deployed_at < $2::timestamptz "
	"  AND NOT EXISTS (SELECT 1 FROM signatures s WHERE s.change_id = d.change_id AND s.run_id IS NULL "
	"    AND s.meaning = 'approved' AND s.signed_at <= d.deployed_at)), '[]'), "
	"'overdue_emergency_changes', coalesce((SELECT json_agg(json_build_object("
	"    'change', 'CHG-' || c.id, 'title', c.title, 'state', c.state, "
	"    'deployed_at', " TS("c.deployed_at") ", 'approval_due', " TS("c.retro_due_at") ", "
	"    'approved_at', (SELECT " TS("min(s.signed_at)") " FROM signatures s WHERE s.change_id = c.id "
	"      AND s.run_id IS NULL AND s.meaning = 'approved')) ORDER BY c.id) "
	"  FROM changes c WHERE c.type = 'emergency' AND c.retro_due_at IS NOT NULL "
	"  AND c.retro_due_at < least($2::timestamptz, now()) "
	"  AND NOT EXISTS (SELECT 1 FROM signatures s WHERE s.change_id = c.id AND s.run_id IS NULL "
	"    AND s.meaning = 'approved' AND s.signed_at <= c.retro_due_at) "
	"  AND (c.retro_due_at >= $1::timestamptz OR NOT EXISTS (SELECT 1 FROM signatures s "
	"    WHERE s.change_id = c.id AND s.run_id IS NULL AND s.meaning = 'approved'))), '[]'), "
	"'refused_self_approvals', coalesce((SELECT json_agg(json_build_object("
	"    'seq', e.seq, 'at', " TS("e.at") ", 'actor', e.actor, 'role', e.role, "
	"    'object_type', e.object_type, 'object_id', e.object_id, 'message', e.after->>'message') "
	"    ORDER BY e.seq) FROM audit_events e WHERE e.action = 'signature.refused' "
	"  AND e.after->>'rule' = 'segregation-of-duties' "
	"  AND e.at >= $1::timestamptz AND e.at < $2::timestamptz), '[]'), "
	"'stale_approvals', coalesce((SELECT json_agg(json_build_object("
	"    'seq', e.seq, 'at', " TS("e.at") ", 'change', e.object_id, 'by', e.actor, "
	"    'new_commit', e.after->>'commit', 'signatures', e.after->'signatures') ORDER BY e.seq) "
	"  FROM audit_events e WHERE e.action = 'change.version' "
	"  AND e.at >= $1::timestamptz AND e.at < $2::timestamptz "
	"  AND EXISTS (SELECT 1 FROM signatures s WHERE s.meaning IN ('approved', 'authorised') "
	"    AND s.id::text IN (SELECT jsonb_array_elements_text(coalesce(e.after->'signatures', '[]'))))), '[]'), "
	"'readback_mismatches', coalesce((SELECT json_agg(json_build_object("
	"    'change', 'CHG-' || d.change_id, 'deployment', d.id, 'asset', a.path, 'tree', d.tree_oid, "
	"    'readback_sha256', d.readback_sha256, 'deployed_by', u.username, "
	"    'deployed_at', " TS("d.deployed_at") ") ORDER BY d.id) "
	"  FROM deployments d JOIN assets a ON a.id = d.asset_id JOIN users u ON u.id = d.deployed_by "
	"  WHERE d.readback_match IS FALSE "
	"  AND d.deployed_at >= $1::timestamptz AND d.deployed_at < $2::timestamptz), '[]'), "
	"'releases_outside_window', coalesce((SELECT json_agg(json_build_object("
	"    'change', 'CHG-' || c.id, 'released_at', " TS("s.signed_at") ", "
	"    'window_start', " TS("c.window_start") ", 'window_end', " TS("c.window_end") ", "
	"    'why', CASE WHEN c.window_start IS NULL OR c.window_end IS NULL THEN 'no planned window' "
	"      ELSE 'outside the planned window' END) ORDER BY s.id) "
	"  FROM signatures s JOIN changes c ON c.id = s.change_id WHERE s.meaning = 'released' "
	"  AND s.signed_at >= $1::timestamptz AND s.signed_at < $2::timestamptz "
	"  AND (c.window_start IS NULL OR c.window_end IS NULL "
	"    OR s.signed_at NOT BETWEEN c.window_start AND c.window_end)), '[]'))::text";

int reports_exceptions(json_t **out, struct db_conn *c, const char *from, const char *to)
{
	return query_json(out, c, EXCEPTIONS_SQL, from, to);
}

/* A one-row, one-column count or size, NULL read as 0. */
static int query_u64(uint64_t *out, struct db_conn *c, const char *sql, const char *param)
{
	const char *params[1] = { param };
	struct db_res *res = NULL;
	int rc;

	*out = 0;
	if ((rc = db_execv(&res, c, sql, 1, params)))
		return rc;
	if (db_res_rows(res) && db_res_get(res, 0, 0))
		*out = strtoull(db_res_get(res, 0, 0), NULL, 10);
	db_res_free(res);
	return 0;
}

int reports_start_checkpoint(uint64_t *out, struct db_conn *c, const char *from)
{
	static const char sql[] =
		"SELECT coalesce((SELECT tree_size FROM audit_checkpoints WHERE at <= $1::timestamptz "
		"ORDER BY tree_size DESC LIMIT 1), (SELECT min(tree_size) FROM audit_checkpoints), 0)::text";

	return query_u64(out, c, sql, from);
}

int reports_needed_event(uint64_t *out, struct db_conn *c, const char *to)
{
	static const char sql[] =
		"SELECT seq FROM audit_events WHERE at < $1::timestamptz "
		"AND object_type NOT IN ('report', 'evidence') ORDER BY seq DESC LIMIT 1";

	return query_u64(out, c, sql, to);
}
