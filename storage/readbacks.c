/* storage/readbacks.c - read-back records, agents and schedules; see readbacks.h. */
#include "storage/readbacks.h"

#include <string.h>

#include "storage/record_sql.h"

int readbacks_agent_touch(struct db_conn *c, int64_t user_id, const char *version,
			  const char *hostname)
{
	static const char sql[] =
		"INSERT INTO agents (user_id, version, hostname) VALUES ($1::bigint,"
		" coalesce($2, ''), coalesce($3, ''))"
		" ON CONFLICT (user_id) DO UPDATE SET last_contact_at = now(),"
		" version = coalesce($2, agents.version), hostname = coalesce($3, agents.hostname)";
	char id[24];
	const char *v[3] = { id, version, hostname };

	i64s(id, user_id);
	return db_execv(NULL, c, sql, 3, v);
}

int readbacks_agent_set_key(struct db_conn *c, int64_t user_id, const char *public_key_b64)
{
	static const char sql[] =
		"INSERT INTO agents (user_id, public_key) VALUES ($1::bigint, $2)"
		" ON CONFLICT (user_id) DO UPDATE SET public_key = $2, last_contact_at = now()";
	char id[24];
	const char *v[2] = { id, public_key_b64 };

	i64s(id, user_id);
	return db_execv(NULL, c, sql, 2, v);
}

int readbacks_agent_key(char out[64], struct db_conn *c, int64_t user_id)
{
	static const char sql[] = "SELECT public_key FROM agents WHERE user_id = $1::bigint"
				  " AND public_key IS NOT NULL";
	char id[24];
	const char *v[1] = { id };
	struct db_res *r = NULL;
	int rc;

	i64s(id, user_id);
	if ((rc = db_execv(&r, c, sql, 1, v)))
		return rc;
	if (db_res_rows(r) == 0)
		rc = err_set(OTCM_ENOTFOUND, "agent", "the agent has registered no signing key");
	else
		snprintf(out, 64, "%s", db_res_get(r, 0, 0));
	db_res_free(r);
	return rc;
}

int readbacks_agent_list(json_t **out, struct db_conn *c)
{
	static const char sql[] =
		"SELECT coalesce(json_agg(x ORDER BY x.username), '[]') FROM ("
		" SELECT u.id, u.username, a.version, a.hostname, a.public_key,"
		" " TS("a.first_contact_at") " AS first_contact_at,"
		" " TS("a.last_contact_at") " AS last_contact_at,"
		" (SELECT count(*) FROM readback_settings s WHERE s.agent_id = u.id) AS assets,"
		" (SELECT count(*) FROM readbacks r WHERE r.agent_id = u.id) AS readbacks,"
		" (SELECT count(*) FROM readbacks r WHERE r.agent_id = u.id AND NOT r.ok"
		"   AND r.read_at > now() - interval '7 days') AS failures,"
		" (SELECT json_build_object('asset_id', r.asset_id, 'error', r.error, 'read_at', "
		TS("r.read_at") ") FROM readbacks r WHERE r.agent_id = u.id AND NOT r.ok"
		"   ORDER BY r.id DESC LIMIT 1) AS last_failure"
		" FROM users u LEFT JOIN agents a ON a.user_id = u.id WHERE u.role = 'agent') x";

	return query_json(out, c, sql, 0, NULL, "agents", "");
}

#define SETTINGS_COLS                                                                          \
	"json_build_object('asset_id', a.id, 'agent_id', s.agent_id,"                          \
	" 'agent', (SELECT username FROM users WHERE id = s.agent_id),"                        \
	" 'interval_seconds', s.interval_seconds, 'daily_at', s.daily_at, 'cron', s.cron,"     \
	" 'after_deploy', coalesce(s.after_deploy, true),"                                    \
	" 'max_age_seconds', coalesce(s.max_age_seconds, 93600),"                             \
	" 'normalise', coalesce(s.normalise, '[]'::jsonb),"                                   \
	" 'due_at', " TS("s.due_at") ", 'due_reason', s.due_reason,"                           \
	" 'due_deployment', s.due_deployment)"

int readbacks_settings_get(json_t **out, struct db_conn *c, int64_t asset_id)
{
	static const char sql[] =
		"SELECT " SETTINGS_COLS " FROM assets a LEFT JOIN readback_settings s"
		" ON s.asset_id = a.id WHERE a.id = $1::bigint";
	char id[24];
	const char *v[1] = { id };

	i64s(id, asset_id);
	return query_json(out, c, sql, 1, v, "asset", id);
}

/* The next due time of a schedule, in SQL over the settings row s. */
#define NEXT_DUE                                                                               \
	"CASE WHEN s.interval_seconds IS NOT NULL"                                             \
	" THEN now() + make_interval(secs => s.interval_seconds)"                              \
	" WHEN s.daily_at IS NOT NULL THEN"                                                    \
	" (CASE WHEN (date_trunc('day', now() AT TIME ZONE 'UTC') + s.daily_at::time)"         \
	"   > (now() AT TIME ZONE 'UTC')"                                                     \
	"  THEN date_trunc('day', now() AT TIME ZONE 'UTC') + s.daily_at::time"               \
	"  ELSE date_trunc('day', now() AT TIME ZONE 'UTC') + interval '1 day' + s.daily_at::time"\
	"  END) AT TIME ZONE 'UTC'"                                                            \
	" ELSE NULL END"

int readbacks_settings_put(struct db_conn *c, int64_t asset_id, const json_t *s)
{
	static const char sql_put[] =
		"INSERT INTO readback_settings AS s (asset_id, agent_id, interval_seconds, daily_at,"
		" cron, after_deploy, max_age_seconds, normalise, updated_at)"
		" SELECT $1::bigint, (j->>'agent_id')::bigint, (j->>'interval_seconds')::int,"
		" j->>'daily_at', j->>'cron', coalesce((j->>'after_deploy')::boolean, true),"
		" coalesce((j->>'max_age_seconds')::int, 93600), coalesce(j->'normalise', '[]'), now()"
		" FROM (SELECT $2::jsonb AS j) x"
		" ON CONFLICT (asset_id) DO UPDATE SET agent_id = EXCLUDED.agent_id,"
		" interval_seconds = EXCLUDED.interval_seconds, daily_at = EXCLUDED.daily_at,"
		" cron = EXCLUDED.cron, after_deploy = EXCLUDED.after_deploy,"
		" max_age_seconds = EXCLUDED.max_age_seconds, normalise = EXCLUDED.normalise,"
		" updated_at = now()";
	static const char sql_due[] =
		"UPDATE readback_settings s SET due_at = CASE WHEN s.due_reason IN ('on demand', 'deployment')"
		" THEN s.due_at ELSE " NEXT_DUE " END,"
		" due_reason = CASE WHEN s.due_reason IN ('on demand', 'deployment') THEN s.due_reason"
		" WHEN s.interval_seconds IS NOT NULL OR s.daily_at IS NOT NULL THEN 'schedule' END"
		" WHERE s.asset_id = $1::bigint";
	char id[24], *text = json_dumps(s, JSON_COMPACT);
	const char *v[2] = { id, text };
	int rc;

	if (!text)
		return err_set(OTCM_EINTERNAL, NULL, "cannot encode read-back settings");
	i64s(id, asset_id);
	rc = db_execv(NULL, c, sql_put, 2, v);
	if (rc == 0)
		rc = db_execv(NULL, c, sql_due, 1, v);
	free(text);
	return rc;
}

int readbacks_make_due(bool *out_has_agent, struct db_conn *c, int64_t asset_id,
		       const char *reason, int64_t deployment_id)
{
	static const char sql[] =
		"UPDATE readback_settings SET due_at = now(), due_reason = $2,"
		" due_deployment = $3::bigint WHERE asset_id = $1::bigint RETURNING agent_id IS NOT NULL";
	char id[24], dep[24];
	const char *v[3] = { id, reason, deployment_id > 0 ? dep : NULL };
	struct db_res *r = NULL;
	int rc;

	i64s(id, asset_id);
	i64s(dep, deployment_id);
	if ((rc = db_execv(&r, c, sql, 3, v)))
		return rc;
	*out_has_agent = db_res_rows(r) == 1 && strcmp(db_res_get(r, 0, 0), "t") == 0;
	db_res_free(r);
	return 0;
}

int readbacks_due(json_t **out, struct db_conn *c, int64_t agent_id, unsigned limit)
{
	static const char sql[] =
		"SELECT coalesce(json_agg(x ORDER BY x.due, x.asset_id), '[]') FROM ("
		" SELECT s.asset_id AS job_id, s.asset_id, a.path AS asset, s.due_reason AS reason,"
		" s.due_deployment AS deployment_id, s.due_at AS due"
		" FROM readback_settings s JOIN assets a ON a.id = s.asset_id"
		" WHERE s.agent_id = $1::bigint AND s.due_at <= now()"
		" ORDER BY s.due_at, s.asset_id LIMIT $2::int) x";
	char id[24], n[16];
	const char *v[2] = { id, n };
	json_t *list = NULL, *item;
	size_t i;
	int rc;

	i64s(id, agent_id);
	snprintf(n, sizeof(n), "%u", limit);
	if ((rc = query_json(&list, c, sql, 2, v, "jobs", id)))
		return rc;
	json_array_foreach(list, i, item)
		json_object_del(item, "due");
	*out = list;
	return 0;
}

int readbacks_schedule_next(struct db_conn *c, int64_t asset_id)
{
	static const char sql[] =
		"UPDATE readback_settings s SET due_at = " NEXT_DUE ","
		" due_reason = CASE WHEN s.interval_seconds IS NOT NULL OR s.daily_at IS NOT NULL"
		" THEN 'schedule' END, due_deployment = NULL WHERE s.asset_id = $1::bigint";
	char id[24];
	const char *v[1] = { id };

	i64s(id, asset_id);
	return db_execv(NULL, c, sql, 1, v);
}

int readbacks_previous(json_t **out, struct db_conn *c, int64_t asset_id, const char *source)
{
	static const char sql[] =
		"SELECT json_build_object('id', id, 'commit', commit_oid, 'tree', tree_oid,"
		" 'files', files, 'state', state, 'released_commit', released_commit,"
		" 'comparison', comparison) FROM readbacks WHERE asset_id = $1::bigint AND source = $2 AND ok"
		" ORDER BY id DESC LIMIT 1";
	char id[24];
	const char *v[2] = { id, source };

	i64s(id, asset_id);
	return query_json(out, c, sql, 2, v, "read-back of asset", id);
}

int readbacks_pending_change(char out[32], struct db_conn *c, int64_t asset_id, const char *tree)
{
	static const char sql[] =
		"SELECT 'CHG-' || c.id FROM changes c JOIN change_assets ca ON ca.change_id = c.id"
		" WHERE ca.asset_id = $1::bigint AND c.state IN ('approved', 'deployed', 'sat')"
		" AND " HEAD("$1::bigint") " = $2 ORDER BY c.id DESC LIMIT 1";
	char id[24];
	const char *v[2] = { id, tree };
	struct db_res *r = NULL;
	int rc;

	i64s(id, asset_id);
	out[0] = '\0';
	if ((rc = db_execv(&r, c, sql, 2, v)))
		return rc;
	if (db_res_rows(r) == 1)
		snprintf(out, 32, "%s", db_res_get(r, 0, 0));
	db_res_free(r);
	return 0;
}

int readbacks_asset_by_path(int64_t *out, struct db_conn *c, const char *path)
{
	static const char sql[] = "SELECT id FROM assets WHERE path = $1";
	const char *v[1] = { path };
	struct db_res *r = NULL;
	int rc;

	if ((rc = db_execv(&r, c, sql, 1, v)))
		return rc;
	if (db_res_rows(r) == 0)
		rc = err_set(OTCM_ENOTFOUND, "asset", "no asset at '%.255s'", path);
	else
		*out = to_i64(db_res_get(r, 0, 0));
	db_res_free(r);
	return rc;
}

int readbacks_insert(int64_t *out_id, char out_read_at[40], struct db_conn *c,
		     const struct readback_row *row)
{
	static const char sql[] =
		"INSERT INTO readbacks (asset_id, agent_id, source, via, agent_seq, collector, ok, error,"
		" exit_status, stderr, commit_oid, tree_oid, unchanged, files, identity, duration_ms,"
		" state, comparison, deployment_id, released_commit)"
		" VALUES ($1::bigint, $2::bigint, $3, $4, $5::bigint, $6, $7::boolean, $8, $9::int, $10,"
		" $11, $12, $13::boolean, $14::jsonb, $15::jsonb, $16::bigint, $17, $18::jsonb,"
		" $19::bigint, $20)"
		" ON CONFLICT (agent_id, via, agent_seq) DO NOTHING"
		" RETURNING id, " TS("read_at");
	char asset[24], agent[24], seq[24], dur[24], dep[24], exitst[16];
	const char *v[20];
	struct db_res *r = NULL;
	int rc;

	i64s(asset, row->asset_id);
	i64s(agent, row->agent_id);
	i64s(seq, row->agent_seq);
	i64s(dur, row->duration_ms);
	i64s(dep, row->deployment_id);
	snprintf(exitst, sizeof(exitst), "%d", row->exit_status);
	v[0] = asset;
	v[1] = agent;
	v[2] = row->source;
	v[3] = row->via;
	v[4] = seq;
	v[5] = row->collector;
	v[6] = row->ok ? "true" : "false";
	v[7] = row->error;
	v[8] = row->exit_status == INT32_MIN ? NULL : exitst;
	v[9] = row->stderr_text;
	v[10] = row->commit;
	v[11] = row->tree;
	v[12] = row->unchanged ? "true" : "false";
	v[13] = row->files ? row->files : "{}";
	v[14] = row->identity ? row->identity : "{}";
	v[15] = row->duration_ms >= 0 ? dur : NULL;
	v[16] = row->state;
	v[17] = row->comparison ? row->comparison : "{}";
	v[18] = row->deployment_id > 0 ? dep : NULL;
	v[19] = row->released_commit;
	if ((rc = db_execv(&r, c, sql, 20, v)))
		goto out;
	if (db_res_rows(r) == 0) {
		rc = err_set(OTCM_ECONFLICT, "seq", "the agent sent read-back %s before", seq);
		goto out;
	}
	*out_id = to_i64(db_res_get(r, 0, 0));
	snprintf(out_read_at, 40, "%s", db_res_get(r, 0, 1));
out:
	db_res_free(r);
	return rc;
}

#define RECORD_COLS(detail)                                                                    \
	"json_build_object('id', r.id, 'asset_id', r.asset_id,"                                \
	" 'asset', (SELECT path FROM assets WHERE id = r.asset_id),"                            \
	" 'agent', (SELECT username FROM users WHERE id = r.agent_id), 'source', r.source,"    \
	" 'via', r.via, 'seq', r.agent_seq, 'collector', r.collector, 'ok', r.ok,"              \
	" 'error', r.error, 'exit_status', r.exit_status, 'stderr', r.stderr,"                 \
	" 'commit', r.commit_oid, 'tree', r.tree_oid, 'unchanged', r.unchanged,"               \
	" 'files', r.files, 'identity', r.identity, 'duration_ms', r.duration_ms,"             \
	" 'state', r.state, 'released_commit', r.released_commit,"                             \
	" 'deployment_id', r.deployment_id, 'read_at', " TS("r.read_at")                         \
	detail ")"

int readbacks_by_seq(json_t **out, struct db_conn *c, int64_t agent_id, const char *via,
		     int64_t seq)
{
	static const char sql[] =
		"SELECT " RECORD_COLS(", 'comparison', r.comparison") " FROM readbacks r"
		" WHERE r.agent_id = $1::bigint AND r.via = $2 AND r.agent_seq = $3::bigint";
	char agent[24], s[24];
	const char *v[3] = { agent, via, s };

	i64s(agent, agent_id);
	i64s(s, seq);
	return query_json(out, c, sql, 3, v, "read-back", s);
}

int readbacks_get(json_t **out, struct db_conn *c, int64_t asset_id, int64_t id)
{
	static const char sql[] =
		"SELECT " RECORD_COLS(", 'comparison', r.comparison") " FROM readbacks r"
		" WHERE r.asset_id = $1::bigint AND r.id = $2::bigint";
	char asset[24], rid[24];
	const char *v[2] = { asset, rid };

	i64s(asset, asset_id);
	i64s(rid, id);
	return query_json(out, c, sql, 2, v, "read-back", rid);
}

int readbacks_list(json_t **out, struct db_conn *c, int64_t asset_id, unsigned limit)
{
	static const char sql_flat[] =
		"SELECT coalesce(json_agg(y.rec ORDER BY y.rid DESC), '[]') FROM (SELECT r.id AS rid, "
		RECORD_COLS(", 'summary', r.comparison->'summary'") " AS rec FROM readbacks r"
		" WHERE r.asset_id = $1::bigint ORDER BY r.id DESC LIMIT $2::int) y";
	char asset[24], n[16];
	const char *v[2] = { asset, n };

	i64s(asset, asset_id);
	snprintf(n, sizeof(n), "%u", limit);
	return query_json(out, c, sql_flat, 2, v, "asset", asset);
}

int readbacks_states(json_t **out, struct db_conn *c, const char *prefix)
{
	static const char sql[] =
		"SELECT coalesce(json_agg(x ORDER BY x.path COLLATE \"C\"), '[]') FROM ("
		" SELECT a.id AS asset_id, a.path, a.type,"
		" (SELECT encode(f.oid, 'hex') FROM refs f WHERE f.asset_id = a.id"
		"   AND f.name = 'refs/heads/main') AS main_commit,"
		" coalesce(s.max_age_seconds, 93600) AS max_age_seconds,"
		" (SELECT username FROM users WHERE id = s.agent_id) AS agent,"
		" (SELECT json_build_object('id', r.id, 'ok', r.ok, 'state', r.state, 'read_at', "
		TS("r.read_at") ", 'error', r.error, 'released_commit', r.released_commit)"
		"   FROM readbacks r WHERE r.asset_id = a.id ORDER BY r.id DESC LIMIT 1) AS last,"
		" g.good,"
		" (SELECT 'CHG-' || c.id FROM changes c JOIN change_assets ca ON ca.change_id = c.id"
		"   WHERE ca.asset_id = a.id AND c.state IN ('approved', 'deployed', 'sat')"
		"   AND " HEAD("a.id") " = g.good->>'tree' ORDER BY c.id DESC LIMIT 1) AS pending_change"
		" FROM assets a LEFT JOIN readback_settings s ON s.asset_id = a.id"
		" LEFT JOIN LATERAL (SELECT json_build_object('id', r.id, 'commit', r.commit_oid,"
		"   'tree', r.tree_oid, 'read_at', " TS("r.read_at") ","
		"   'age_seconds', floor(extract(epoch FROM now() - r.read_at))::bigint,"
		"   'state', r.state, 'released_commit', r.released_commit) AS good"
		"   FROM readbacks r WHERE r.asset_id = a.id AND r.ok ORDER BY r.id DESC LIMIT 1) g ON true"
		" WHERE $1::text IS NULL OR a.path = $1 OR starts_with(a.path, $1 || '/')) x";
	const char *v[1] = { prefix };

	return query_json(out, c, sql, 1, v, "assets", "");
}

int readbacks_for_change(json_t **out, struct db_conn *c, int64_t change_id)
{
	static const char sql[] =
		"SELECT coalesce(json_agg(x ORDER BY x.deployment_id), '[]') FROM ("
		" SELECT d.id AS deployment_id, d.asset_id, (SELECT " RECORD_COLS(", 'comparison', r.comparison")
		"  FROM readbacks r WHERE r.deployment_id = d.id ORDER BY r.id DESC LIMIT 1) AS readback"
		" FROM deployments d WHERE d.change_id = $1::bigint) x";
	char id[24];
	const char *v[1] = { id };

	i64s(id, change_id);
	return query_json(out, c, sql, 1, v, "change", id);
}

int readbacks_exceptions(json_t **out, struct db_conn *c, const char *from, const char *to)
{
	static const char sql[] =
		"SELECT coalesce(json_agg(x ORDER BY x.id), '[]') FROM ("
		" SELECT r.id, r.asset_id, a.path, r.state, " TS("r.read_at") " AS read_at, r.error"
		" FROM readbacks r JOIN assets a ON a.id = r.asset_id"
		" WHERE r.state IN ('drift', 'read_failed') AND r.read_at >= $1::timestamptz"
		" AND r.read_at < $2::timestamptz) x";
	const char *v[2] = { from, to };

	return query_json(out, c, sql, 2, v, "period", "");
}

int readbacks_stale_at(json_t **out, struct db_conn *c, const char *as_of)
{
	static const char sql[] =
		"SELECT coalesce(json_agg(x ORDER BY x.path COLLATE \"C\"), '[]') FROM ("
		" SELECT a.id AS asset_id, a.path, (SELECT username FROM users WHERE id = s.agent_id) AS agent,"
		" " TS("g.read_at") " AS last_good_at, s.max_age_seconds,"
		" " TS("least($1::timestamptz, now())") " AS as_of"
		" FROM readback_settings s JOIN assets a ON a.id = s.asset_id"
		" LEFT JOIN LATERAL (SELECT max(r.read_at) AS read_at FROM readbacks r WHERE r.asset_id = a.id"
		"   AND r.ok AND r.read_at <= least($1::timestamptz, now())) g ON true"
		" WHERE s.agent_id IS NOT NULL AND s.updated_at <= least($1::timestamptz, now())"
		" AND (g.read_at IS NULL OR g.read_at < least($1::timestamptz, now())"
		"      - make_interval(secs => s.max_age_seconds))) x";
	const char *v[1] = { as_of };

	return query_json(out, c, sql, 1, v, "period", "");
}
