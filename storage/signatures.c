/*
 * storage/signatures.c - electronic signatures on changes and test runs in PostgreSQL; see signatures.h.
 *
 * Records are shaped into JSON by the database (json_build_object), so the
 * field names below are the API's.
 */
#include "storage/signatures.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "storage/record_sql.h"

/* ---- signatures ---- */

#define SIGNATURE_JSON                                                                 \
	"json_build_object('id', s.id, 'change', 'CHG-' || s.change_id, 'run_id', s.run_id, " \
	"'meaning', s.meaning, 'signer', u.username, 'printed_name', s.printed_name, "    \
	"'role', s.role, 'reauthenticated_with', s.auth_method, " \
	"'second_factor_enrolled', s.second_factor_enrolled, 'signed_at', " TS("s.signed_at") ", " \
	"'content', s.content::json, 'content_sha256', s.content_sha256, 'trees', s.trees, " \
	"'stale', CASE WHEN s.run_id IS NOT NULL THEN (SELECT r.tree_oid IS DISTINCT FROM (SELECT " \
	"v.tree_oid FROM change_versions v WHERE v.change_id = r.change_id AND v.asset_id = r.asset_id " \
	"ORDER BY v.id DESC LIMIT 1) FROM test_runs r WHERE r.id = s.run_id) ELSE EXISTS (SELECT 1 FROM " \
	"jsonb_each_text(s.trees) t WHERE t.value IS DISTINCT FROM (SELECT v.tree_oid FROM " \
	"change_versions v WHERE v.change_id = s.change_id AND v.asset_id = t.key::bigint ORDER BY " \
	"v.id DESC LIMIT 1)) END)"

int signatures_insert(json_t **out, struct db_conn *c, const struct signature_record *s)
{
	static const char sql[] =
		"INSERT INTO signatures (change_id, run_id, meaning, signer_id, printed_name, role, "
		"auth_method, content, content_sha256, trees, second_factor_enrolled) VALUES ($1, "
		"nullif($2, '0')::bigint, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::boolean) RETURNING id";
	static const char sql_get[] =
		"SELECT " SIGNATURE_JSON " FROM signatures s JOIN users u ON u.id = s.signer_id WHERE s.id = $1";
	char sch[24], srun[24], ssig[24], *trees = json_dumps(s->trees, JSON_COMPACT | JSON_SORT_KEYS);
	struct db_res *r = NULL;
	int rc;

	i64s(sch, s->change_id);
	i64s(srun, s->run_id);
	i64s(ssig, s->signer_id);
	rc = db_execv(&r, c, sql, 11, (const char *[]){ sch, srun, s->meaning, ssig, s->printed_name,
		      s->role, s->auth_method, s->content, s->content_sha256, trees,
		      s->second_factor_enrolled ? "true" : "false" });
	free(trees);
	if (rc == 0)
		rc = query_json(out, c, sql_get, 1, (const char *[]){ db_res_get(r, 0, 0) }, "signature", "");
	db_res_free(r);
	return rc;
}

int signatures_list(json_t **out, struct db_conn *c, int64_t change_id, int64_t run_id)
{
	static const char sql[] =
		"SELECT coalesce(json_agg(" SIGNATURE_JSON " ORDER BY s.id), '[]') FROM signatures s "
		"JOIN users u ON u.id = s.signer_id WHERE ($1 = '0' OR s.change_id = $1::bigint) "
		"AND ($2 = '0' OR s.run_id = $2::bigint)";
	char sch[24], srun[24];

	i64s(sch, change_id);
	i64s(srun, run_id);
	return query_json(out, c, sql, 2, (const char *[]){ sch, srun }, "signatures", "");
}
