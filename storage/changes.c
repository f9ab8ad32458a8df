/*
 * storage/changes.c - change tickets, their affected assets and versions,
 * the facts the lifecycle rules read, and the process settings in
 * PostgreSQL; see changes.h.
 *
 * Records are shaped into JSON by the database (json_build_object), so the
 * field names below are the API's.
 */
#include "storage/changes.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "storage/record_sql.h"
#include "storage/runs.h"
#include "storage/signatures.h"

int changes_parse_key(int64_t *out, const char *key)
{
	const char *p;
	char *end;
	long long v;

	if (!key || strncmp(key, "CHG-", 4) != 0 || !isdigit((unsigned char)key[4]))
		return err_set(OTCM_ENOTFOUND, "key", "change '%.40s' not found", key ? key : "");
	p = key + 4;
	v = strtoll(p, &end, 10);
	if (*end || v <= 0 || strlen(p) > 18)
		return err_set(OTCM_ENOTFOUND, "key", "change '%.40s' not found", key);
	*out = v;
	return 0;
}

static bool one_of(const char *v, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(v, *set) == 0)
			return true;
	return false;
}

/* A light RFC 3339 check: date, 'T', time, and a zone ("Z" or +hh:mm). */
static bool rfc3339ish(const char *s)
{
	int y, mo, d, h, mi, n = 0;
	size_t len = strlen(s);

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d%n", &y, &mo, &d, &h, &mi, &n) != 5 || n != 16)
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || len > 40)
		return false;
	return s[len - 1] == 'Z' || strchr(s + 16, '+') || strchr(s + 16, '-');
}

static int check_text(const char *v, const char *field, size_t max, bool required)
{
	size_t i, n;

	if (!v)
		return required ? err_set(OTCM_EINVAL, field, "'%s' is required", field) : 0;
	n = strlen(v);
	if ((required && n == 0) || n > max)
		return err_set(OTCM_EINVAL, field, "'%s' must be %s%zu characters at most", field,
			       required ? "1 to " : "", max);
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 && v[i] != '\n' && v[i] != '\t' && v[i] != '\r')
			return err_set(OTCM_EINVAL, field, "'%s' contains a control character", field);
	return 0;
}

int changes_check_fields(const struct change_fields *f, bool creating)
{
	static const char *const types[] = { "standard", "normal", "emergency", NULL };
	static const char *const risks[] = { "low", "medium", "high", NULL };
	int rc;

	if (creating && !f->type)
		return err_set(OTCM_EINVAL, "type", "'type' is required");
	if (f->type && !one_of(f->type, types))
		return err_set(OTCM_EINVAL, "type", "'type' must be standard, normal or emergency");
	if (creating && !f->risk)
		return err_set(OTCM_EINVAL, "risk", "'risk' is required");
	if (f->risk && !one_of(f->risk, risks))
		return err_set(OTCM_EINVAL, "risk", "'risk' must be low, medium or high");
	if ((rc = check_text(f->title, "title", 200, creating || f->title)) ||
	    (rc = check_text(f->reason, "reason", CHANGES_TEXT_MAX, false)) ||
	    (rc = check_text(f->implementation_plan, "implementation_plan", CHANGES_TEXT_MAX, false)) ||
	    (rc = check_text(f->rollback_plan, "rollback_plan", CHANGES_TEXT_MAX, false)))
		return rc;
	if (f->window_start && *f->window_start && !rfc3339ish(f->window_start))
		return err_set(OTCM_EINVAL, "planned_window", "'planned_window.start' must be an RFC 3339 time");
	if (f->window_end && *f->window_end && !rfc3339ish(f->window_end))
		return err_set(OTCM_EINVAL, "planned_window", "'planned_window.end' must be an RFC 3339 time");
	return 0;
}

static const char *safety_param(int v)
{
	return v < 0 ? NULL : v ? "true" : "false";
}

int changes_insert(int64_t *out_id, struct db_conn *c, const struct change_fields *f,
		   int64_t requester)
{
	static const char sql[] =
		"INSERT INTO changes (type, title, reason, risk, safety_related, implementation_plan, "
		"rollback_plan, window_start, window_end, requester_id) VALUES ($1, $2, "
		"coalesce($3, ''), $4, coalesce($5::boolean, false), coalesce($6, ''), coalesce($7, ''), "
		"nullif($8, '')::timestamptz, nullif($9, '')::timestamptz, $10) RETURNING id";
	char sreq[24];
	const char *v[10];
	struct db_res *r = NULL;
	int rc;

	i64s(sreq, requester);
	v[0] = f->type; v[1] = f->title; v[2] = f->reason; v[3] = f->risk;
	v[4] = safety_param(f->safety_related); v[5] = f->implementation_plan;
	v[6] = f->rollback_plan; v[7] = f->window_start; v[8] = f->window_end; v[9] = sreq;
	rc = db_execv(&r, c, sql, 10, v);
	if (rc == OTCM_EDB && strstr(err_message(), "check"))
		rc = err_set(OTCM_EINVAL, "planned_window", "the planned window ends before it starts");
	if (rc == 0)
		*out_id = to_i64(db_res_get(r, 0, 0));
	db_res_free(r);
	return rc;
}

int changes_update(struct db_conn *c, int64_t id, const struct change_fields *f)
{
	static const char sql[] =
		"UPDATE changes SET type = coalesce($2, type), title = coalesce($3, title), "
		"reason = coalesce($4, reason), risk = coalesce($5, risk), "
		"safety_related = coalesce($6::boolean, safety_related), "
		"implementation_plan = coalesce($7, implementation_plan), "
		"rollback_plan = coalesce($8, rollback_plan), "
		"window_start = CASE WHEN $9::text IS NULL THEN window_start ELSE nullif($9, '')::timestamptz END, "
		"window_end = CASE WHEN $10::text IS NULL THEN window_end ELSE nullif($10, '')::timestamptz END, "
		"updated_at = now() WHERE id = $1";
	char sid[24];
	const char *v[10];
	int rc;

	i64s(sid, id);
	v[0] = sid; v[1] = f->type; v[2] = f->title; v[3] = f->reason; v[4] = f->risk;
	v[5] = safety_param(f->safety_related); v[6] = f->implementation_plan;
	v[7] = f->rollback_plan; v[8] = f->window_start; v[9] = f->window_end;
	rc = db_execv(NULL, c, sql, 10, v);
	if (rc == OTCM_EDB && strstr(err_message(), "check"))
		rc = err_set(OTCM_EINVAL, "planned_window", "the planned window ends before it starts");
	return rc;
}

int changes_set_assets(struct db_conn *c, int64_t id, const int64_t *assets, size_t n)
{
	static const char del[] = "DELETE FROM change_assets WHERE change_id = $1";
	static const char ins[] =
		"INSERT INTO change_assets (change_id, asset_id) SELECT $1, id FROM assets WHERE id = $2 "
		"ON CONFLICT DO NOTHING";
	static const char exists[] = "SELECT 1 FROM assets WHERE id = $1";
	char sid[24], sasset[24];
	size_t i;
	int rc;

	i64s(sid, id);
	if ((rc = db_execv(NULL, c, del, 1, (const char *[]){ sid })))
		return rc;
	for (i = 0; i < n; i++) {
		struct db_res *r = NULL;

		i64s(sasset, assets[i]);
		rc = db_execv(&r, c, exists, 1, (const char *[]){ sasset });
		if (rc == 0 && db_res_rows(r) == 0)
			rc = err_set(OTCM_EINVAL, "affected_assets", "asset %" PRId64 " not found", assets[i]);
		db_res_free(r);
		if (rc || (rc = db_execv(NULL, c, ins, 2, (const char *[]){ sid, sasset })))
			return rc;
	}
	return 0;
}

int changes_lock(const char **out_state, int64_t *out_requester, struct arena *a,
		 struct db_conn *c, int64_t id)
{
	static const char sql[] = "SELECT state, requester_id FROM changes WHERE id = $1 FOR UPDATE";
	char sid[24];
	struct db_res *r = NULL;
	int rc;

	i64s(sid, id);
	rc = db_execv(&r, c, sql, 1, (const char *[]){ sid });
	if (rc == 0 && db_res_rows(r) == 0)
		rc = err_set(OTCM_ENOTFOUND, "key", "change 'CHG-%s' not found", sid);
	if (rc == 0) {
		*out_state = arena_strdup(a, db_res_get(r, 0, 0));
		*out_requester = to_i64(db_res_get(r, 0, 1));
	}
	db_res_free(r);
	return rc;
}

/* Is an approved signature on the change (not a run)? */
#define APPROVED_EXISTS                                                                \
	"EXISTS (SELECT 1 FROM signatures s WHERE s.change_id = c.id AND s.run_id IS NULL " \
	"AND s.meaning = 'approved')"

#define CHANGE_JSON                                                                    \
	"json_build_object('key', 'CHG-' || c.id, 'id', c.id, 'type', c.type, 'title', c.title, " \
	"'reason', c.reason, 'risk', c.risk, 'safety_related', c.safety_related, "        \
	"'implementation_plan', c.implementation_plan, 'rollback_plan', c.rollback_plan, " \
	"'planned_window', json_build_object('start', " TS("c.window_start") ", 'end', "  \
	TS("c.window_end") "), 'requester', u.username, 'state', c.state, "                \
	"'created_at', " TS("c.created_at") ", 'updated_at', " TS("c.updated_at") ", "     \
	"'deployed_at', " TS("c.deployed_at") ", "                                         \
	"'retrospective_approval_due', " TS("c.retro_due_at") ", "                         \
	"'overdue', (c.type = 'emergency' AND c.retro_due_at < now() AND NOT " APPROVED_EXISTS "), " \
	"'affected_assets', coalesce((SELECT json_agg(json_build_object('id', a.id, 'path', a.path, " \
	"'branch', 'changes/CHG-' || c.id, 'commit', h.commit_oid, 'tree', h.tree_oid) ORDER BY a.id) " \
	"FROM change_assets ca JOIN assets a ON a.id = ca.asset_id LEFT JOIN LATERAL "     \
	"(SELECT v.commit_oid, v.tree_oid FROM change_versions v WHERE v.change_id = c.id " \
	"AND v.asset_id = a.id ORDER BY v.id DESC LIMIT 1) h ON true WHERE ca.change_id = c.id), '[]'))"

int changes_get(json_t **out, struct db_conn *c, int64_t id)
{
	static const char sql[] =
		"SELECT " CHANGE_JSON " FROM changes c JOIN users u ON u.id = c.requester_id "
		"WHERE c.id = $1";
	char sid[24], key[CHANGES_KEY_MAX];

	i64s(sid, id);
	snprintf(key, sizeof(key), "CHG-%s", sid);
	return query_json(out, c, sql, 1, (const char *[]){ sid }, "change", key);
}

int changes_get_full(json_t **out, struct db_conn *c, int64_t id)
{
	static const char sql_deploy[] =
		"SELECT coalesce(json_agg(json_build_object('id', d.id, 'asset_id', d.asset_id, "
		"'commit', d.commit_oid, 'tree', d.tree_oid, 'readback_sha256', d.readback_sha256, "
		"'readback_match', d.readback_match, 'flagged', d.readback_match IS FALSE, 'note', d.note, "
		"'deployed_by', u.username, 'deployed_at', " TS("d.deployed_at") ", "
		"'current', d.tree_oid IS NOT DISTINCT FROM " HEAD("d.asset_id") ") ORDER BY d.id), '[]') "
		"FROM deployments d JOIN users u ON u.id = d.deployed_by JOIN changes c ON c.id = d.change_id "
		"WHERE d.change_id = $1";
	json_t *change = NULL, *sigs = NULL, *runs = NULL, *deps = NULL;
	char sid[24];
	int rc;

	i64s(sid, id);
	if ((rc = changes_get(&change, c, id)) || (rc = signatures_list(&sigs, c, id, 0)) ||
	    (rc = runs_list(&runs, c, id)) ||
	    (rc = query_json(&deps, c, sql_deploy, 1, (const char *[]){ sid }, "change", sid)))
		goto out;
	json_object_set_new(change, "signatures", sigs);
	json_object_set_new(change, "test_runs", runs);
	json_object_set_new(change, "deployments", deps);
	sigs = runs = deps = NULL;
	*out = change;
	change = NULL;
out:
	json_decref(change);
	json_decref(sigs);
	json_decref(runs);
	json_decref(deps);
	return rc;
}

int changes_list(json_t **out, bool *out_more, struct db_conn *c, const struct change_query *q)
{
	static const char sql[] =
		"SELECT coalesce(json_agg(x.j ORDER BY x.id DESC), '[]') FROM (SELECT c.id, " CHANGE_JSON
		" AS j FROM changes c JOIN users u ON u.id = c.requester_id WHERE "
		"($1::text IS NULL OR c.state = $1) AND ($2::text IS NULL OR c.type = $2) "
		"AND ($3::text IS NULL OR u.username = $3) "
		"AND ($4::bigint IS NULL OR EXISTS (SELECT 1 FROM change_assets ca WHERE "
		"ca.change_id = c.id AND ca.asset_id = $4::bigint)) "
		"AND ($5::text IS NULL OR c.created_at >= $5::timestamptz) "
		"AND ($6::text IS NULL OR c.created_at < $6::timestamptz) "
		"AND (NOT $7::boolean OR (c.type = 'emergency' AND c.retro_due_at < now() AND NOT "
		APPROVED_EXISTS ")) "
		"AND ($8::bigint IS NULL OR c.id < $8::bigint) ORDER BY c.id DESC LIMIT $9) x";
	char sasset[24], sbefore[24], slimit[24];
	const char *v[9];
	json_t *list = NULL;
	int rc;

	if (q->from && !rfc3339ish(q->from))
		return err_set(OTCM_EINVAL, "from", "'from' must be an RFC 3339 time");
	if (q->to && !rfc3339ish(q->to))
		return err_set(OTCM_EINVAL, "to", "'to' must be an RFC 3339 time");
	i64s(sasset, q->asset_id);
	i64s(sbefore, q->before_id);
	snprintf(slimit, sizeof(slimit), "%u", q->limit + 1);
	v[0] = q->state; v[1] = q->type; v[2] = q->requester;
	v[3] = q->asset_id ? sasset : NULL; v[4] = q->from; v[5] = q->to;
	v[6] = q->overdue ? "true" : "false"; v[7] = q->before_id ? sbefore : NULL; v[8] = slimit;
	if ((rc = query_json(&list, c, sql, 9, v, "changes", "")))
		return rc;
	*out_more = json_array_size(list) > q->limit;
	if (*out_more)
		json_array_remove(list, q->limit);
	*out = list;
	return 0;
}

int changes_set_state(struct db_conn *c, int64_t id, const char *state)
{
	static const char sql[] =
		"UPDATE changes SET state = $2, updated_at = now(), "
		"deployed_at = CASE WHEN $2 = 'deployed' AND deployed_at IS NULL THEN now() ELSE deployed_at END, "
		"retro_due_at = CASE WHEN $2 = 'deployed' AND type = 'emergency' AND retro_due_at IS NULL "
		"THEN now() + make_interval(secs => (SELECT emergency_approval_seconds FROM change_settings)) "
		"ELSE retro_due_at END WHERE id = $1";
	char sid[24];

	i64s(sid, id);
	return db_execv(NULL, c, sql, 2, (const char *[]){ sid, state });
}

/* FAT or SAT passed on the head tree of asset a.id (witnessed when the protocol says so). */
#define RUN_PASSED(kind)                                                               \
	"EXISTS (SELECT 1 FROM test_runs r JOIN protocols p ON p.id = r.protocol_id WHERE " \
	"r.change_id = c.id AND r.asset_id = a.id AND r.tree_oid = h.tree_oid AND p.kind = '" kind "' " \
	"AND r.verdict = 'pass' AND (NOT p.witness_required OR EXISTS (SELECT 1 FROM signatures w " \
	"WHERE w.run_id = r.id AND w.meaning = 'witnessed')))"

int changes_facts(struct change_facts *out, struct arena *a, struct db_conn *c, int64_t id)
{
	static const char sql_change[] =
		"SELECT c.state, c.type, c.requester_id, "
		"(c.title <> '' AND c.reason <> '' AND c.implementation_plan <> '' AND c.rollback_plan <> '' "
		"AND EXISTS (SELECT 1 FROM change_assets ca WHERE ca.change_id = c.id)), "
		"EXISTS (SELECT 1 FROM signatures s WHERE s.change_id = c.id AND s.run_id IS NULL "
		"AND s.meaning = 'authorised') FROM changes c WHERE c.id = $1";
	static const char sql_assets[] =
		"SELECT a.id, a.path, h.commit_oid, h.tree_oid, " RUN_PASSED("fat") ", "
		"EXISTS (SELECT 1 FROM signatures s WHERE s.change_id = c.id AND s.run_id IS NULL AND "
		"s.meaning = 'approved' AND s.trees ->> a.id::text = h.tree_oid), "
		"EXISTS (SELECT 1 FROM deployments d WHERE d.change_id = c.id AND d.asset_id = a.id AND "
		"d.tree_oid = h.tree_oid AND d.readback_match IS NOT FALSE), " RUN_PASSED("sat") " "
		"FROM changes c JOIN change_assets ca ON ca.change_id = c.id JOIN assets a ON a.id = ca.asset_id "
		"LEFT JOIN LATERAL (SELECT v.commit_oid, v.tree_oid FROM change_versions v WHERE "
		"v.change_id = c.id AND v.asset_id = a.id ORDER BY v.id DESC LIMIT 1) h ON true "
		"WHERE c.id = $1 ORDER BY a.id";
	static const char sql_contrib[] =
		"SELECT DISTINCT user_id FROM change_contributors WHERE change_id = $1";
	struct db_res *r = NULL;
	char sid[24];
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	i64s(sid, id);
	out->id = id;
	rc = db_execv(&r, c, sql_change, 1, (const char *[]){ sid });
	if (rc == 0 && db_res_rows(r) == 0)
		rc = err_set(OTCM_ENOTFOUND, "key", "change 'CHG-%s' not found", sid);
	if (rc)
		goto out;
	out->state = arena_strdup(a, db_res_get(r, 0, 0));
	out->type = arena_strdup(a, db_res_get(r, 0, 1));
	out->requester_id = to_i64(db_res_get(r, 0, 2));
	out->complete = strcmp(db_res_get(r, 0, 3), "t") == 0;
	out->authorised = strcmp(db_res_get(r, 0, 4), "t") == 0;
	db_res_free(r);
	r = NULL;
	if ((rc = db_execv(&r, c, sql_assets, 1, (const char *[]){ sid })))
		goto out;
	out->nassets = db_res_rows(r);
	out->assets = arena_alloc(a, (out->nassets + 1) * sizeof(*out->assets));
	for (i = 0; i < out->nassets; i++) {
		struct change_asset_facts *f = &out->assets[i];

		f->asset_id = to_i64(db_res_get(r, i, 0));
		f->path = arena_strdup(a, db_res_get(r, i, 1));
		f->commit = db_res_isnull(r, i, 2) ? NULL : arena_strdup(a, db_res_get(r, i, 2));
		f->tree = db_res_isnull(r, i, 3) ? NULL : arena_strdup(a, db_res_get(r, i, 3));
		f->fat_passed = strcmp(db_res_get(r, i, 4), "t") == 0;
		f->approved = !db_res_isnull(r, i, 5) && strcmp(db_res_get(r, i, 5), "t") == 0;
		f->deployed = strcmp(db_res_get(r, i, 6), "t") == 0;
		f->sat_passed = strcmp(db_res_get(r, i, 7), "t") == 0;
	}
	db_res_free(r);
	r = NULL;
	if ((rc = db_execv(&r, c, sql_contrib, 1, (const char *[]){ sid })))
		goto out;
	out->ncontributors = db_res_rows(r);
	out->contributors = arena_alloc(a, (out->ncontributors + 1) * sizeof(int64_t));
	for (i = 0; i < out->ncontributors; i++)
		out->contributors[i] = to_i64(db_res_get(r, i, 0));
out:
	db_res_free(r);
	return rc;
}

int changes_add_version(struct db_conn *c, int64_t change_id, int64_t asset_id,
			const char *commit, const char *tree, int64_t user_id)
{
	static const char sql_version[] =
		"INSERT INTO change_versions (change_id, asset_id, commit_oid, tree_oid, author_id) "
		"VALUES ($1, $2, $3, $4, $5)";
	static const char sql_contrib[] =
		"INSERT INTO change_contributors (change_id, user_id, asset_id) VALUES ($1, $2, $3) "
		"ON CONFLICT DO NOTHING";
	char sch[24], sas[24], sus[24];
	int rc;

	i64s(sch, change_id);
	i64s(sas, asset_id);
	i64s(sus, user_id);
	if ((rc = db_execv(NULL, c, sql_version, 5, (const char *[]){ sch, sas, commit, tree, sus })))
		return rc;
	return db_execv(NULL, c, sql_contrib, 3, (const char *[]){ sch, sus, sas });
}

int changes_add_contributor_email(struct db_conn *c, int64_t change_id, int64_t asset_id,
				  const char *email)
{
	static const char sql[] =
		"INSERT INTO change_contributors (change_id, user_id, asset_id) "
		"SELECT $1, u.id, $3 FROM users u WHERE lower(u.email) = lower($2) AND $2 <> '' "
		"ON CONFLICT DO NOTHING";
	char sch[24], sas[24];

	i64s(sch, change_id);
	i64s(sas, asset_id);
	return db_execv(NULL, c, sql, 3, (const char *[]){ sch, email ? email : "", sas });
}

int changes_stale_for(json_t **out, struct db_conn *c, int64_t change_id, int64_t asset_id,
		      const char *tree)
{
	static const char sql[] =
		"SELECT json_build_object('runs', coalesce((SELECT json_agg(r.id ORDER BY r.id) FROM "
		"test_runs r WHERE r.change_id = $1 AND r.asset_id = $2 AND r.tree_oid <> $3), '[]'), "
		"'signatures', coalesce((SELECT json_agg(s.id ORDER BY s.id) FROM signatures s WHERE "
		"s.change_id = $1 AND s.run_id IS NULL AND s.trees ? $2::text AND s.trees ->> $2::text <> $3), '[]'))";
	char sch[24], sas[24];

	i64s(sch, change_id);
	i64s(sas, asset_id);
	return query_json(out, c, sql, 3, (const char *[]){ sch, sas, tree }, "change", sch);
}

int changes_settings_get(json_t **out, struct db_conn *c)
{
	static const char sql[] =
		"SELECT json_build_object('emergency_approval_seconds', emergency_approval_seconds) "
		"FROM change_settings";

	return query_json(out, c, sql, 0, NULL, "settings", "change");
}

int changes_settings_set(struct db_conn *c, int64_t emergency_approval_seconds)
{
	static const char sql[] = "UPDATE change_settings SET emergency_approval_seconds = $1";
	char s[24];

	if (emergency_approval_seconds < 0 || emergency_approval_seconds > 31536000)
		return err_set(OTCM_EINVAL, "emergency_approval_seconds",
			       "'emergency_approval_seconds' must be 0 to 31536000");
	i64s(s, emergency_approval_seconds);
	return db_execv(NULL, c, sql, 1, (const char *[]){ s });
}

int changes_version_tree(const char **out_tree, struct arena *a, struct db_conn *c,
			 int64_t change_id, int64_t asset_id, const char *commit)
{
	static const char sql[] =
		"SELECT tree_oid FROM change_versions WHERE change_id = $1 AND asset_id = $2 AND commit_oid = $3";
	char sch[24], sas[24];
	struct db_res *r = NULL;
	int rc;

	i64s(sch, change_id);
	i64s(sas, asset_id);
	rc = db_execv(&r, c, sql, 3, (const char *[]){ sch, sas, commit });
	if (rc == 0 && db_res_rows(r) == 0)
		rc = err_set(OTCM_EINVAL, "commit",
			     "commit '%.40s' is not a version of change 'CHG-%s' for asset %s", commit, sch, sas);
	if (rc == 0)
		*out_tree = arena_strdup(a, db_res_get(r, 0, 0));
	db_res_free(r);
	return rc;
}
