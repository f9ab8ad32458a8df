/*
 * storage/runs.c - test protocols, test runs with their steps, and the photos and logs attached to steps in PostgreSQL; see runs.h.
 *
 * Records are shaped into JSON by the database (json_build_object), so the
 * field names below are the API's.
 */
#include "storage/runs.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "storage/record_sql.h"
#include "storage/signatures.h"

/* ---- protocols ---- */

#define PROTOCOL_JSON                                                                  \
	"json_build_object('id', p.id, 'name', p.name, 'version', p.version, 'kind', p.kind, " \
	"'title', p.title, 'witness_required', p.witness_required, 'steps', p.steps, "    \
	"'created_by', u.username, 'created_at', " TS("p.created_at") ")"

int protocols_create(json_t **out, struct db_conn *c, const char *name, const char *kind,
		     const char *title, bool witness_required, const json_t *steps,
		     int64_t created_by)
{
	static const char sql[] =
		"INSERT INTO protocols (name, version, kind, title, witness_required, steps, created_by) "
		"SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4::boolean, $5::jsonb, $6 FROM protocols "
		"WHERE name = $1 RETURNING id";
	json_t *numbered = json_array(), *step;
	char *steps_text = NULL, suser[24];
	struct db_res *r = NULL;
	size_t i;
	int rc;

	json_array_foreach(steps, i, step) {
		json_t *s = json_object();

		json_object_set_new(s, "no", json_integer((json_int_t)i + 1));
		json_object_set(s, "instruction", json_object_get(step, "instruction"));
		json_object_set(s, "expected", json_object_get(step, "expected"));
		json_array_append_new(numbered, s);
	}
	steps_text = json_dumps(numbered, JSON_COMPACT);
	i64s(suser, created_by);
	/* versions of one name are numbered under a lock on the name */
	if ((rc = db_execv(NULL, c, "SELECT pg_advisory_xact_lock(hashtext('protocol:' || $1))", 1,
			   (const char *[]){ name })) ||
	    (rc = db_execv(&r, c, sql, 6, (const char *[]){ name, kind, title,
			   witness_required ? "true" : "false", steps_text, suser })))
		goto out;
	rc = protocols_get(out, c, to_i64(db_res_get(r, 0, 0)));
out:
	db_res_free(r);
	free(steps_text);
	json_decref(numbered);
	return rc;
}

int protocols_get(json_t **out, struct db_conn *c, int64_t id)
{
	static const char sql[] =
		"SELECT " PROTOCOL_JSON " FROM protocols p JOIN users u ON u.id = p.created_by WHERE p.id = $1";
	char sid[24];

	i64s(sid, id);
	return query_json(out, c, sql, 1, (const char *[]){ sid }, "protocol", sid);
}

int protocols_list(json_t **out, struct db_conn *c, const char *name)
{
	static const char sql[] =
		"SELECT coalesce(json_agg(" PROTOCOL_JSON " ORDER BY p.name, p.version), '[]') "
		"FROM protocols p JOIN users u ON u.id = p.created_by WHERE $1::text IS NULL OR p.name = $1";

	return query_json(out, c, sql, 1, (const char *[]){ name }, "protocols", "");
}

/* ---- runs ---- */

int runs_create(int64_t *out_id, struct db_conn *c, int64_t change_id, int64_t asset_id,
		int64_t protocol_id, const char *commit, const char *tree, int64_t tester)
{
	static const char sql[] =
		"INSERT INTO test_runs (change_id, asset_id, protocol_id, commit_oid, tree_oid, tester_id) "
		"VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
	char sch[24], sas[24], spr[24], ste[24];
	struct db_res *r = NULL;
	int rc;

	i64s(sch, change_id);
	i64s(sas, asset_id);
	i64s(spr, protocol_id);
	i64s(ste, tester);
	rc = db_execv(&r, c, sql, 6, (const char *[]){ sch, sas, spr, commit, tree, ste });
	if (rc == 0)
		*out_id = to_i64(db_res_get(r, 0, 0));
	db_res_free(r);
	return rc;
}

#define RUN_JSON                                                                       \
	"json_build_object('id', r.id, 'change', 'CHG-' || r.change_id, 'asset_id', r.asset_id, " \
	"'protocol', json_build_object('id', p.id, 'name', p.name, 'version', p.version, "  \
	"'kind', p.kind, 'witness_required', p.witness_required), 'commit', r.commit_oid, " \
	"'tree', r.tree_oid, 'tester', u.username, 'state', r.state, 'verdict', r.verdict, " \
	"'created_at', " TS("r.created_at") ", 'completed_at', " TS("r.completed_at") ", " \
	"'stale', r.tree_oid IS DISTINCT FROM (SELECT v.tree_oid FROM change_versions v WHERE " \
	"v.change_id = r.change_id AND v.asset_id = r.asset_id ORDER BY v.id DESC LIMIT 1), " \
	"'witnessed', EXISTS (SELECT 1 FROM signatures w WHERE w.run_id = r.id AND w.meaning = 'witnessed'))"

int runs_get(json_t **out, struct db_conn *c, int64_t id, bool for_update)
{
	static const char sql_lock[] = "SELECT 1 FROM test_runs WHERE id = $1 FOR UPDATE";
	static const char sql[] =
		"SELECT " RUN_JSON "::jsonb || jsonb_build_object('steps', coalesce((SELECT "
		"jsonb_agg(jsonb_build_object('no', st.no, 'instruction', st.instruction, 'expected', "
		"st.expected, 'result', s.result, 'observed', s.observed, 'comment', s.comment, "
		"'deviation', s.deviation, 'disposition', s.disposition, 'tester', su.username, "
		"'recorded_at', " TS("s.recorded_at") ") ORDER BY st.no) FROM jsonb_to_recordset(p.steps) "
		"AS st(no int, instruction text, expected text) LEFT JOIN run_steps s ON s.run_id = r.id "
		"AND s.step_no = st.no LEFT JOIN users su ON su.id = s.tester_id), '[]')) "
		"FROM test_runs r JOIN protocols p ON p.id = r.protocol_id JOIN users u ON u.id = r.tester_id "
		"WHERE r.id = $1";
	json_t *sigs = NULL, *atts = NULL;
	char sid[24];
	int rc;

	i64s(sid, id);
	if (for_update && (rc = db_execv(NULL, c, sql_lock, 1, (const char *[]){ sid })))
		return rc;
	if ((rc = query_json(out, c, sql, 1, (const char *[]){ sid }, "test run", sid)))
		return rc;
	if ((rc = signatures_list(&sigs, c, 0, id)) || (rc = attachments_list(&atts, c, id))) {
		json_decref(sigs);
		json_decref(*out);
		return rc;
	}
	json_object_set_new(*out, "signatures", sigs);
	json_object_set_new(*out, "attachments", atts);
	return 0;
}

int runs_list(json_t **out, struct db_conn *c, int64_t change_id)
{
	static const char sql[] =
		"SELECT coalesce(json_agg(" RUN_JSON " ORDER BY r.id), '[]') FROM test_runs r "
		"JOIN protocols p ON p.id = r.protocol_id JOIN users u ON u.id = r.tester_id "
		"WHERE r.change_id = $1";
	char sid[24];

	i64s(sid, change_id);
	return query_json(out, c, sql, 1, (const char *[]){ sid }, "change", sid);
}

int runs_record_step(struct db_conn *c, int64_t run, const struct run_step *s, int64_t tester)
{
	static const char sql[] =
		"INSERT INTO run_steps (run_id, step_no, result, observed, comment, deviation, disposition, "
		"tester_id) VALUES ($1, $2, $3, coalesce($4, ''), coalesce($5, ''), $6, $7, $8) "
		"ON CONFLICT (run_id, step_no) DO UPDATE SET result = EXCLUDED.result, "
		"observed = EXCLUDED.observed, comment = EXCLUDED.comment, deviation = EXCLUDED.deviation, "
		"disposition = EXCLUDED.disposition, tester_id = EXCLUDED.tester_id, recorded_at = now()";
	char srun[24], sno[24], ste[24];

	i64s(srun, run);
	snprintf(sno, sizeof(sno), "%d", s->no);
	i64s(ste, tester);
	return db_execv(NULL, c, sql, 8, (const char *[]){ srun, sno, s->result, s->observed,
			s->comment, s->deviation, s->disposition, ste });
}

int runs_complete(struct db_conn *c, int64_t id, const char *verdict)
{
	static const char sql[] =
		"UPDATE test_runs SET state = 'completed', verdict = $2, completed_at = now() "
		"WHERE id = $1 AND state = 'open'";
	char sid[24];
	struct db_res *r = NULL;
	int rc;

	i64s(sid, id);
	rc = db_execv(&r, c, sql, 2, (const char *[]){ sid, verdict });
	if (rc == 0 && db_res_affected(r) != 1)
		rc = err_set(OTCM_ECONFLICT, "meaning", "test run %s is already complete", sid);
	db_res_free(r);
	return rc;
}

int runs_facts(struct run_facts *out, struct arena *a, struct db_conn *c, int64_t id)
{
	static const char sql_run[] =
		"SELECT r.change_id, r.asset_id, r.tester_id, p.kind, r.state, r.commit_oid, r.tree_oid, "
		"p.witness_required, EXISTS (SELECT 1 FROM signatures w WHERE w.run_id = r.id AND "
		"w.meaning = 'witnessed'), r.tree_oid IS DISTINCT FROM (SELECT v.tree_oid FROM "
		"change_versions v WHERE v.change_id = r.change_id AND v.asset_id = r.asset_id ORDER BY "
		"v.id DESC LIMIT 1), jsonb_array_length(p.steps) "
		"FROM test_runs r JOIN protocols p ON p.id = r.protocol_id WHERE r.id = $1";
	static const char sql_steps[] =
		"SELECT step_no, result, disposition, deviation, tester_id FROM run_steps WHERE run_id = $1";
	struct db_res *r = NULL;
	char sid[24];
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	i64s(sid, id);
	out->id = id;
	rc = db_execv(&r, c, sql_run, 1, (const char *[]){ sid });
	if (rc == 0 && db_res_rows(r) == 0)
		rc = err_set(OTCM_ENOTFOUND, "id", "test run '%s' not found", sid);
	if (rc)
		goto out;
	out->change_id = to_i64(db_res_get(r, 0, 0));
	out->asset_id = to_i64(db_res_get(r, 0, 1));
	out->tester_id = to_i64(db_res_get(r, 0, 2));
	out->kind = arena_strdup(a, db_res_get(r, 0, 3));
	out->state = arena_strdup(a, db_res_get(r, 0, 4));
	out->commit = arena_strdup(a, db_res_get(r, 0, 5));
	out->tree = arena_strdup(a, db_res_get(r, 0, 6));
	out->witness_required = strcmp(db_res_get(r, 0, 7), "t") == 0;
	out->witnessed = strcmp(db_res_get(r, 0, 8), "t") == 0;
	out->stale = strcmp(db_res_get(r, 0, 9), "t") == 0;
	out->nsteps = (size_t)to_i64(db_res_get(r, 0, 10));
	db_res_free(r);
	r = NULL;
	out->results = arena_alloc(a, (out->nsteps + 1) * sizeof(char *));
	out->dispositions = arena_alloc(a, (out->nsteps + 1) * sizeof(char *));
	if ((rc = db_execv(&r, c, sql_steps, 1, (const char *[]){ sid })))
		goto out;
	out->step_testers = arena_alloc(a, (db_res_rows(r) + 1) * sizeof(int64_t));
	for (i = 0; i < db_res_rows(r); i++) {
		int64_t no = to_i64(db_res_get(r, i, 0));
		const char *result = db_res_get(r, i, 1);

		out->step_testers[out->nstep_testers++] = to_i64(db_res_get(r, i, 4));
		if (no < 1 || (size_t)no > out->nsteps)
			continue;
		out->nrecorded++;
		out->results[no - 1] = arena_strdup(a, result);
		if (!db_res_isnull(r, i, 2))
			out->dispositions[no - 1] = arena_strdup(a, db_res_get(r, i, 2));
		if (strcmp(result, "fail") == 0 && (db_res_isnull(r, i, 2) || db_res_isnull(r, i, 3)))
			out->fail_undisposed = true;
	}
out:
	db_res_free(r);
	return rc;
}

/* ---- attachments ---- */

#define ATTACHMENT_JSON                                                                \
	"json_build_object('id', a.id, 'run_id', a.run_id, 'step', a.step_no, "           \
	"'blob', encode(a.blob_oid, 'hex'), 'filename', a.filename, "                      \
	"'content_type', a.content_type, 'size', a.size, 'sha256', a.sha256, "             \
	"'uploaded_by', u.username, 'uploaded_at', " TS("a.uploaded_at") ")"

int attachments_insert(json_t **out, struct db_conn *c, const struct attachment_record *a)
{
	static const char sql[] =
		"INSERT INTO run_attachments (run_id, step_no, blob_oid, filename, content_type, size, "
		"sha256, uploaded_by) VALUES ($1, $2, decode($3, 'hex'), $4, $5, $6, $7, $8) RETURNING id";
	static const char sql_get[] =
		"SELECT " ATTACHMENT_JSON " FROM run_attachments a JOIN users u ON u.id = a.uploaded_by "
		"WHERE a.id = $1";
	char srun[24], sno[24], ssize[24], sby[24];
	struct db_res *r = NULL;
	int rc;

	i64s(srun, a->run_id);
	snprintf(sno, sizeof(sno), "%d", a->no);
	snprintf(ssize, sizeof(ssize), "%" PRIu64, a->size);
	i64s(sby, a->uploaded_by);
	rc = db_execv(&r, c, sql, 8, (const char *[]){ srun, sno, a->blob, a->filename,
		      a->content_type, ssize, a->sha256, sby });
	if (rc == 0)
		rc = query_json(out, c, sql_get, 1, (const char *[]){ db_res_get(r, 0, 0) }, "attachment", "");
	db_res_free(r);
	return rc;
}

int attachments_get(json_t **out, struct db_conn *c, int64_t run, int64_t id)
{
	static const char sql[] =
		"SELECT " ATTACHMENT_JSON " FROM run_attachments a JOIN users u ON u.id = a.uploaded_by "
		"WHERE a.id = $1 AND a.run_id = $2";
	char sid[24], srun[24];

	i64s(sid, id);
	i64s(srun, run);
	return query_json(out, c, sql, 2, (const char *[]){ sid, srun }, "attachment", sid);
}

int attachments_list(json_t **out, struct db_conn *c, int64_t run)
{
	static const char sql[] =
		"SELECT coalesce(json_agg(" ATTACHMENT_JSON " ORDER BY a.step_no, a.id), '[]') "
		"FROM run_attachments a JOIN users u ON u.id = a.uploaded_by WHERE a.run_id = $1";
	char srun[24];

	i64s(srun, run);
	return query_json(out, c, sql, 1, (const char *[]){ srun }, "test run", srun);
}
