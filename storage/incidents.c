/* storage/incidents.c - the incident tables; see incidents.h. */
#include "storage/incidents.h"

#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "storage/record_sql.h"

#define INCIDENT_MAX_EVENTS 100000

/* {1,2,3} for a bigint[] parameter, in a malloc'd string. */
static char *id_array(const int64_t *ids, size_t n)
{
	struct buf b = BUF_INIT;
	size_t i;
	char *s;

	buf_addch(&b, '{');
	for (i = 0; i < n; i++)
		buf_addf(&b, "%s%" PRId64, i ? "," : "", ids[i]);
	buf_addch(&b, '}');
	s = xstrndup(b.data, b.len);
	buf_release(&b);
	return s;
}

int incidents_insert(int64_t *out_id, struct db_conn *c, const struct incident_fields *f,
		     bool significant, int64_t user_id)
{
	static const char sql[] =
		"INSERT INTO incidents (title, category, severity, description, significant_at, created_by)"
		" VALUES ($1, $2, $3, coalesce($4, ''), CASE WHEN $5::boolean THEN now() END, $6::bigint)"
		" RETURNING id";
	char uid[24];
	const char *v[6] = { f->title, f->category, f->severity, f->description,
			     significant ? "true" : "false", uid };
	struct db_res *r = NULL;
	int rc;

	i64s(uid, user_id);
	if ((rc = db_execv(&r, c, sql, 6, v)))
		return rc;
	*out_id = to_i64(db_res_get(r, 0, 0));
	db_res_free(r);
	return 0;
}

int incidents_lock(struct db_conn *c, int64_t id)
{
	static const char sql[] = "SELECT id FROM incidents WHERE id = $1::bigint FOR UPDATE";
	char s[24];
	const char *v[1] = { s };
	struct db_res *r = NULL;
	int rc;

	i64s(s, id);
	if ((rc = db_execv(&r, c, sql, 1, v)))
		return rc;
	if (db_res_rows(r) == 0)
		rc = err_set(OTCM_ENOTFOUND, "key", "incident INC-%" PRId64 " not found", id);
	db_res_free(r);
	return rc;
}

int incidents_update(struct db_conn *c, int64_t id, const struct incident_fields *f)
{
	static const char sql[] =
		"UPDATE incidents SET title = coalesce($2, title), category = coalesce($3, category),"
		" severity = coalesce($4, severity), description = coalesce($5, description)"
		" WHERE id = $1::bigint";
	char s[24];
	const char *v[5] = { s, f->title, f->category, f->severity, f->description };

	i64s(s, id);
	return db_execv(NULL, c, sql, 5, v);
}

int incidents_mark_significant(struct db_conn *c, int64_t id)
{
	static const char sql[] =
		"UPDATE incidents SET significant_at = now() WHERE id = $1::bigint AND significant_at IS NULL";
	char s[24];
	const char *v[1] = { s };

	i64s(s, id);
	return db_execv(NULL, c, sql, 1, v);
}

int incidents_close(struct db_conn *c, int64_t id)
{
	static const char sql[] =
		"UPDATE incidents SET state = 'closed', closed_at = now() WHERE id = $1::bigint";
	char s[24];
	const char *v[1] = { s };

	i64s(s, id);
	return db_execv(NULL, c, sql, 1, v);
}

int incidents_assets_existing(size_t *out, struct db_conn *c, const int64_t *ids, size_t n)
{
	static const char sql[] = "SELECT count(*) FROM assets WHERE id = ANY($1::bigint[])";
	char *arr = id_array(ids, n);
	const char *v[1] = { arr };
	struct db_res *r = NULL;
	int rc;

	if (!(rc = db_execv(&r, c, sql, 1, v)))
		*out = (size_t)to_i64(db_res_get(r, 0, 0));
	db_res_free(r);
	free(arr);
	return rc;
}

int incidents_set_assets(struct db_conn *c, int64_t id, const int64_t *ids, size_t n)
{
	static const char del[] = "DELETE FROM incident_assets WHERE incident_id = $1::bigint";
	static const char ins[] =
		"INSERT INTO incident_assets (incident_id, asset_id)"
		" SELECT $1::bigint, a FROM unnest($2::bigint[]) a ON CONFLICT DO NOTHING";
	char s[24], *arr = id_array(ids, n);
	const char *v[2] = { s, arr };
	int rc;

	i64s(s, id);
	if (!(rc = db_execv(NULL, c, del, 1, v)))
		rc = db_execv(NULL, c, ins, 2, v);
	free(arr);
	return rc;
}

/* One incident's columns, as JSON (alias i), shared by the single read and the lists. */
#define INCIDENT_COLS                                                                      \
	"'id', i.id, 'key', 'INC-' || i.id, 'title', i.title, 'category', i.category,"     \
	" 'severity', i.severity, 'detected_at', " TS("i.detected_at") ","                  \
	" 'significant_at', " TS("i.significant_at") ", 'state', i.state,"                 \
	" 'closed_at', " TS("i.closed_at") ""

int incidents_get(json_t **out, struct db_conn *c, int64_t id)
{
	static const char sql[] =
		"SELECT json_build_object(" INCIDENT_COLS ", 'description', i.description,"
		" 'created_by', (SELECT username FROM users WHERE id = i.created_by),"
		" 'created_at', " TS("i.created_at") ", 'now', " TS("now()") ","
		" 'assets', coalesce((SELECT json_agg(json_build_object('id', a.id, 'path', a.path)"
		"   ORDER BY a.path) FROM incident_assets ia JOIN assets a ON a.id = ia.asset_id"
		"   WHERE ia.incident_id = i.id), '[]'),"
		" 'reports', coalesce((SELECT json_agg(json_build_object('id', r.id, 'kind', r.kind,"
		"   'authority', r.authority, 'reference', r.reference, 'sent_at', " TS("r.sent_at") ","
		"   'sent_by', u.username, 'filename', r.filename, 'content_type', r.content_type,"
		"   'size', r.size, 'sha256', r.sha256) ORDER BY r.id)"
		"   FROM incident_reports r JOIN users u ON u.id = r.sent_by WHERE r.incident_id = i.id), '[]'),"
		" 'links', coalesce((SELECT json_agg(json_build_object('id', l.id, 'kind', l.kind, 'ref', l.ref,"
		"   'note', l.note, 'linked_by', u.username, 'linked_at', " TS("l.linked_at") ") ORDER BY l.id)"
		"   FROM incident_links l JOIN users u ON u.id = l.linked_by WHERE l.incident_id = i.id), '[]'),"
		" 'reviews', coalesce((SELECT json_agg(json_build_object('id', v.id, 'meaning', v.meaning,"
		"   'signer', u.username, 'printed_name', v.printed_name, 'role', v.role,"
		"   'reauthenticated_with', v.auth_method, 'signed_at', " TS("v.signed_at") ","
		"   'content', v.content, 'content_sha256', v.content_sha256) ORDER BY v.id)"
		"   FROM incident_reviews v JOIN users u ON u.id = v.signer_id WHERE v.incident_id = i.id), '[]')"
		")::text FROM incidents i WHERE i.id = $1::bigint";
	char s[24], key[32];
	const char *v[1] = { s };

	i64s(s, id);
	snprintf(key, sizeof(key), "INC-%" PRId64, id);
	return query_json(out, c, sql, 1, v, "incident", key);
}

/* The list's row; reports sent before $to when a period is given. */
#define LIST_ROW(report_filter)                                                              \
	"json_build_object(" INCIDENT_COLS ","                                                 \
	" 'assets', (SELECT count(*) FROM incident_assets ia WHERE ia.incident_id = i.id),"    \
	" 'reports', coalesce((SELECT json_agg(json_build_object('kind', r.kind,"              \
	"   'sent_at', " TS("r.sent_at") ") ORDER BY r.id) FROM incident_reports r"             \
	"   WHERE r.incident_id = i.id" report_filter "), '[]'),"                             \
	" 'reviewed', EXISTS (SELECT 1 FROM incident_reviews v WHERE v.incident_id = i.id))"

int incidents_list(json_t **out, struct db_conn *c, bool open_only, unsigned limit, int64_t before)
{
	static const char sql[] =
		"SELECT coalesce(json_agg(x.row ORDER BY x.id DESC), '[]')::text FROM ("
		" SELECT i.id, " LIST_ROW("") " AS row FROM incidents i"
		" WHERE (NOT $1::boolean OR i.state = 'open') AND ($3::bigint = 0 OR i.id < $3::bigint)"
		" ORDER BY i.id DESC LIMIT $2::int) x";
	char n[16], b[24];
	const char *v[3] = { open_only ? "true" : "false", n, b };

	snprintf(n, sizeof(n), "%u", limit);
	i64s(b, before);
	return query_json(out, c, sql, 3, v, "incidents", "list");
}

int incidents_for_period(json_t **out, struct db_conn *c, const char *from, const char *to)
{
	static const char sql[] =
		"SELECT coalesce(json_agg(x.row ORDER BY x.id), '[]')::text FROM ("
		" SELECT i.id, " LIST_ROW(" AND r.sent_at < $2::timestamptz") " AS row FROM incidents i"
		" WHERE i.detected_at < $2::timestamptz AND (i.detected_at >= $1::timestamptz OR"
		"  (i.significant_at < $2::timestamptz AND"
		"   (i.closed_at IS NULL OR i.closed_at >= $1::timestamptz)))) x";
	const char *v[2] = { from, to };

	return query_json(out, c, sql, 2, v, "incidents", "period");
}

int incidents_report_insert(json_t **out, struct db_conn *c, int64_t id,
			    const struct incident_report_row *r)
{
	static const char sql[] =
		"WITH r AS (INSERT INTO incident_reports (incident_id, kind, authority, reference, sent_by,"
		" filename, content_type, size, sha256, content)"
		" VALUES ($1::bigint, $2, $3, coalesce($4, ''), $5::bigint, $6, $7, $8::bigint, $9, $10)"
		" RETURNING *)"
		" SELECT json_build_object('id', r.id, 'kind', r.kind, 'authority', r.authority,"
		" 'reference', r.reference, 'sent_at', " TS("r.sent_at") ", 'sent_by', u.username,"
		" 'filename', r.filename, 'content_type', r.content_type, 'size', r.size,"
		" 'sha256', r.sha256)::text FROM r JOIN users u ON u.id = r.sent_by";
	char s[24], by[24], size[24];
	struct db_param p[10];
	struct db_res *res = NULL;
	json_error_t jerr;
	int rc;

	i64s(s, id);
	i64s(by, r->sent_by);
	snprintf(size, sizeof(size), "%zu", r->len);
	p[0] = DB_TEXT(s);
	p[1] = DB_TEXT(r->kind);
	p[2] = DB_TEXT(r->authority);
	p[3] = DB_TEXT(r->reference);
	p[4] = DB_TEXT(by);
	p[5] = DB_TEXT(r->filename);
	p[6] = DB_TEXT(r->content_type);
	p[7] = DB_TEXT(size);
	p[8] = DB_TEXT(r->sha256);
	p[9] = DB_BYTES(r->data, r->len);
	if ((rc = db_exec(&res, c, sql, 10, p, false)))
		return rc;
	*out = json_loads(db_res_get(res, 0, 0), 0, &jerr);
	db_res_free(res);
	return *out ? 0 : err_set(OTCM_EINTERNAL, NULL, "database returned bad json: %s", jerr.text);
}

int incidents_report_content(void **out_data, size_t *out_len, json_t **out_meta, struct db_conn *c,
			     int64_t id, int64_t report_id)
{
	static const char sql[] =
		"SELECT content, filename, content_type, sha256 FROM incident_reports"
		" WHERE incident_id = $1::bigint AND id = $2::bigint";
	char s[24], rid[24];
	struct db_param p[2];
	struct db_res *r = NULL;
	size_t len;
	int rc;

	i64s(s, id);
	i64s(rid, report_id);
	p[0] = DB_TEXT(s);
	p[1] = DB_TEXT(rid);
	if ((rc = db_exec(&r, c, sql, 2, p, true)))
		return rc;
	if (db_res_rows(r) == 0) {
		rc = err_set(OTCM_ENOTFOUND, "report_id", "incident INC-%" PRId64 " has no report %" PRId64,
			     id, report_id);
		goto out;
	}
	len = db_res_len(r, 0, 0);
	*out_data = xmalloc(len + 1);
	memcpy(*out_data, db_res_get(r, 0, 0), len);
	*out_len = len;
	*out_meta = json_pack("{s:s%,s:s%,s:s%}", "filename", db_res_get(r, 0, 1), db_res_len(r, 0, 1),
			      "content_type", db_res_get(r, 0, 2), db_res_len(r, 0, 2),
			      "sha256", db_res_get(r, 0, 3), db_res_len(r, 0, 3));
out:
	db_res_free(r);
	return rc;
}

int incidents_ref_exists(bool *out, struct db_conn *c, const char *kind, const char *ref)
{
	static const char event[] = "SELECT EXISTS (SELECT 1 FROM audit_events WHERE seq = $1::bigint)";
	static const char change[] = "SELECT EXISTS (SELECT 1 FROM changes WHERE 'CHG-' || id = $1::text)";
	static const char run[] = "SELECT EXISTS (SELECT 1 FROM test_runs WHERE id = $1::bigint)";
	static const char readback[] = "SELECT EXISTS (SELECT 1 FROM readbacks WHERE id = $1::bigint)";
	const char *v[1] = { ref };
	struct db_res *r = NULL;
	int rc;

	/* the domain checked that an event's seq and a run's or read-back's id are numbers */
	if ((rc = db_execv(&r, c, !strcmp(kind, "audit_event") ? event : !strcmp(kind, "change") ? change
				  : !strcmp(kind, "readback") ? readback : run, 1, v)))
		return rc;
	*out = !strcmp(db_res_get(r, 0, 0), "t");
	db_res_free(r);
	return 0;
}

int incidents_link_insert(json_t **out, struct db_conn *c, int64_t id, const char *kind, const char *ref,
			  const char *note, int64_t user_id)
{
	static const char sql[] =
		"WITH l AS (INSERT INTO incident_links (incident_id, kind, ref, note, linked_by)"
		" VALUES ($1::bigint, $2, $3, coalesce($4, ''), $5::bigint)"
		" ON CONFLICT (incident_id, kind, ref) DO NOTHING RETURNING *)"
		" SELECT json_build_object('id', l.id, 'kind', l.kind, 'ref', l.ref, 'note', l.note,"
		" 'linked_by', u.username, 'linked_at', " TS("l.linked_at") ")::text"
		" FROM l JOIN users u ON u.id = l.linked_by";
	char s[24], by[24];
	const char *v[5] = { s, kind, ref, note, by };
	struct db_res *r = NULL;
	json_error_t jerr;
	int rc;

	i64s(s, id);
	i64s(by, user_id);
	if ((rc = db_execv(&r, c, sql, 5, v)))
		return rc;
	if (db_res_rows(r) == 0) {
		rc = err_set(OTCM_ECONFLICT, "ref", "incident INC-%" PRId64 " already links %s %s", id, kind, ref);
		goto out;
	}
	*out = json_loads(db_res_get(r, 0, 0), 0, &jerr);
	if (!*out)
		rc = err_set(OTCM_EINTERNAL, NULL, "database returned bad json: %s", jerr.text);
out:
	db_res_free(r);
	return rc;
}

int incidents_review_insert(json_t **out, struct db_conn *c, int64_t id,
			    const struct incident_review_row *r)
{
	static const char sql[] =
		"WITH v AS (INSERT INTO incident_reviews (incident_id, meaning, signer_id, printed_name, role,"
		" auth_method, content, content_sha256)"
		" VALUES ($1::bigint, $2, $3::bigint, $4, $5, $6, $7, $8) RETURNING *)"
		" SELECT json_build_object('id', v.id, 'meaning', v.meaning, 'signer', u.username,"
		" 'printed_name', v.printed_name, 'role', v.role, 'reauthenticated_with', v.auth_method,"
		" 'signed_at', " TS("v.signed_at") ", 'content', v.content,"
		" 'content_sha256', v.content_sha256)::text FROM v JOIN users u ON u.id = v.signer_id";
	char s[24], signer[24];
	const char *v[8] = { s, r->meaning, signer, r->printed_name, r->role, r->auth_method, r->content,
			     r->content_sha256 };
	struct db_res *res = NULL;
	json_error_t jerr;
	int rc;

	i64s(s, id);
	i64s(signer, r->signer_id);
	if ((rc = db_execv(&res, c, sql, 8, v)))
		return rc;
	*out = json_loads(db_res_get(res, 0, 0), 0, &jerr);
	db_res_free(res);
	return *out ? 0 : err_set(OTCM_EINTERNAL, NULL, "database returned bad json: %s", jerr.text);
}

int incidents_event_seqs(int64_t **out, size_t *out_n, int64_t *out_at, struct db_conn *c, int64_t id)
{
	static const char sql[] =
		"SELECT e.seq, floor(extract(epoch FROM e.at))::bigint FROM audit_events e"
		" WHERE (e.object_type = 'incident' AND e.object_id = $1)"
		" OR e.seq IN (SELECT l.ref::bigint FROM incident_links l"
		"   WHERE l.incident_id = $2::bigint AND l.kind = 'audit_event')"
		" ORDER BY e.seq";
	char key[32], s[24];
	const char *v[2] = { key, s };
	struct db_res *r = NULL;
	size_t i, n;
	int rc;

	snprintf(key, sizeof(key), "INC-%" PRId64, id);
	i64s(s, id);
	if ((rc = db_execv(&r, c, sql, 2, v)))
		return rc;
	n = db_res_rows(r);
	if (n > INCIDENT_MAX_EVENTS) {
		db_res_free(r);
		return err_set(OTCM_ETOOBIG, NULL, "incident %s has too many events", key);
	}
	*out = xcalloc(n + 1, sizeof(int64_t));
	*out_at = 0;
	for (i = 0; i < n; i++) {
		(*out)[i] = to_i64(db_res_get(r, i, 0));
		if (to_i64(db_res_get(r, i, 1)) > *out_at)
			*out_at = to_i64(db_res_get(r, i, 1));
	}
	*out_n = n;
	db_res_free(r);
	return 0;
}
