/* storage/advisories.c - advisories, matches and assessments; see advisories.h. */
#include "storage/advisories.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"

#define T(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* Run `sql` whose one row's first column is JSON text (or NULL: *out NULL). */
static int query_json(json_t **out, struct db_conn *c, const char *sql, size_t n, const char *const *v)
{
	struct db_res *res = NULL;
	json_error_t jerr;
	int rc;

	*out = NULL;
	if ((rc = db_execv(&res, c, sql, n, v)))
		return rc;
	if (db_res_rows(res) == 0 || db_res_isnull(res, 0, 0))
		goto out;
	*out = json_loads(db_res_get(res, 0, 0), JSON_DECODE_ANY, &jerr);
	if (!*out)
		rc = err_set(OTCM_EDB, NULL, "advisories: unreadable JSON from the database: %s", jerr.text);
out:
	db_res_free(res);
	return rc;
}

static int query_id(int64_t *out, struct db_conn *c, const char *sql, size_t n, const char *const *v)
{
	struct db_res *res = NULL;
	int rc;

	*out = 0;
	if ((rc = db_execv(&res, c, sql, n, v)))
		return rc;
	if (db_res_rows(res) > 0 && !db_res_isnull(res, 0, 0))
		*out = strtoll(db_res_get(res, 0, 0), NULL, 10);
	db_res_free(res);
	return 0;
}

int advisories_document_insert(int64_t *out_id, bool *out_existing, struct db_conn *c,
			       const struct advisory_document *doc)
{
	static const char sql_find[] = "SELECT id FROM advisory_documents WHERE sha256 = $1";
	static const char sql_insert[] =
		"INSERT INTO advisory_documents (tracking_id, sha256, document, source, file_name, user_id,"
		" username) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
	struct db_res *res = NULL;
	char uid[24];
	int rc;

	*out_existing = false;
	{
		const char *v[1] = { doc->sha256 };

		if ((rc = query_id(out_id, c, sql_find, 1, v)))
			return rc;
	}
	if (*out_id) {
		*out_existing = true;
		return 0;
	}
	snprintf(uid, sizeof(uid), "%" PRId64, doc->user_id);
	{
		const struct db_param p[] = {
			DB_TEXT(doc->tracking_id), DB_TEXT(doc->sha256), DB_BYTES(doc->bytes, doc->len),
			DB_TEXT(doc->source), doc->file_name ? DB_TEXT(doc->file_name) : DB_NULL,
			doc->user_id > 0 ? DB_TEXT(uid) : DB_NULL, DB_TEXT(doc->username),
		};

		if ((rc = db_exec(&res, c, sql_insert, 7, p, false)))
			return rc;
	}
	*out_id = strtoll(db_res_get(res, 0, 0), NULL, 10);
	db_res_free(res);
	return 0;
}

int advisories_current(json_t **out, struct db_conn *c, const char *tracking_id)
{
	static const char sql[] =
		"SELECT json_build_object('id', a.id, 'tracking_id', a.tracking_id, 'version', a.version,"
		" 'released_at', a.released_at, 'sha256', d.sha256)::text"
		" FROM advisories a JOIN advisory_documents d ON d.id = a.document_id"
		" WHERE a.tracking_id = $1 FOR UPDATE OF a";
	const char *v[1] = { tracking_id };

	return query_json(out, c, sql, 1, v);
}

int advisories_put(int64_t *out_id, struct db_conn *c, const struct advisory_record *r)
{
	static const char sql[] =
		"INSERT INTO advisories (tracking_id, document_id, title, publisher, version, released_at,"
		" cvss, severity, summary, products) VALUES ($1, $2, $3, $4, $5, $6, $7::numeric, $8,"
		" $9::jsonb, $10::jsonb)"
		" ON CONFLICT (tracking_id) DO UPDATE SET document_id = EXCLUDED.document_id,"
		" title = EXCLUDED.title, publisher = EXCLUDED.publisher, version = EXCLUDED.version,"
		" released_at = EXCLUDED.released_at, cvss = EXCLUDED.cvss, severity = EXCLUDED.severity,"
		" summary = EXCLUDED.summary, products = EXCLUDED.products, updated_at = now()"
		" RETURNING id";
	char doc[24], cvss[16], *summary = NULL, *products = NULL;
	const char *v[10];
	int rc;

	snprintf(doc, sizeof(doc), "%" PRId64, r->document_id);
	snprintf(cvss, sizeof(cvss), "%.1f", r->cvss);
	summary = json_dumps(r->summary, JSON_COMPACT);
	products = json_dumps(r->products, JSON_COMPACT);
	if (!summary || !products) {
		rc = err_set(OTCM_EINTERNAL, NULL, "cannot serialise an advisory");
		goto out;
	}
	v[0] = r->tracking_id;
	v[1] = doc;
	v[2] = r->title;
	v[3] = r->publisher;
	v[4] = r->version;
	v[5] = r->released_at;
	v[6] = r->cvss >= 0 ? cvss : NULL;
	v[7] = r->severity;
	v[8] = summary;
	v[9] = products;
	rc = query_id(out_id, c, sql, 10, v);
out:
	free(summary);
	free(products);
	return rc;
}

/* An assessment row as a JSON object, from alias s (assessments) joined with its signature g. */
#define ASSESSMENT_JSON \
	"json_build_object('id', s.id, 'status', s.status, 'justification', s.justification," \
	" 'impact', s.impact, 'controls', s.controls, 'change_key', s.change_key," \
	" 'assessed_by', s.username, 'assessed_at', " T("s.assessed_at") "," \
	" 'signature', CASE WHEN g.id IS NULL THEN NULL ELSE json_build_object('id', g.id," \
	" 'meaning', g.meaning, 'printed_name', g.printed_name, 'role', g.role," \
	" 'signed_at', " T("g.signed_at") ", 'content_sha256', g.content_sha256) END)"

/* One exposure row: match m, advisory a, asset t, assessment s, signature g. */
#define EXPOSURE_JSON \
	"json_build_object('asset_id', t.id, 'path', t.path, 'vendor', t.vendor, 'model', t.model," \
	" 'firmware', t.firmware, 'tracking_id', a.tracking_id, 'title', a.title," \
	" 'severity', a.severity, 'cvss', a.cvss, 'cves', m.cves, 'products', m.products," \
	" 'undecided', m.undecided, 'matched_at', " T("m.matched_at") "," \
	" 'due_at', " T("m.due_at") "," \
	" 'overdue', (m.due_at < now() AND coalesce(s.status, '') NOT IN ('fixed', 'not_affected'))," \
	" 'assessment', CASE WHEN s.id IS NULL THEN NULL ELSE " ASSESSMENT_JSON " END)"

#define EXPOSURE_FROM \
	" FROM advisory_matches m JOIN advisories a ON a.id = m.advisory_id" \
	" JOIN assets t ON t.id = m.asset_id" \
	" LEFT JOIN assessments s ON s.advisory_id = m.advisory_id AND s.asset_id = m.asset_id" \
	" LEFT JOIN assessment_signatures g ON g.id = s.signature_id"

#define SEVERITY_ORDER \
	"CASE a.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2" \
	" WHEN 'low' THEN 3 ELSE 4 END"

int advisories_get(json_t **out, struct db_conn *c, const char *tracking_id)
{
	static const char sql[] =
		"SELECT json_build_object('id', a.id, 'tracking_id', a.tracking_id, 'title', a.title,"
		" 'publisher', a.publisher, 'version', a.version, 'released_at', a.released_at,"
		" 'cvss', a.cvss, 'severity', a.severity, 'sha256', d.sha256, 'document_id', d.id,"
		" 'imported_at', " T("a.imported_at") ", 'updated_at', " T("a.updated_at") ","
		" 'summary', a.summary, 'products', a.products,"
		" 'assets', (SELECT coalesce(json_agg(" EXPOSURE_JSON " ORDER BY t.path COLLATE \"C\"), '[]')"
		EXPOSURE_FROM " WHERE a.tracking_id = $1))::text"
		" FROM advisories a JOIN advisory_documents d ON d.id = a.document_id"
		" WHERE a.tracking_id = $1";
	const char *v[1] = { tracking_id };
	int rc;

	if ((rc = query_json(out, c, sql, 1, v)))
		return rc;
	if (!*out)
		return err_set(OTCM_ENOTFOUND, "advisory", "advisory '%.80s' not found", tracking_id);
	return 0;
}

int advisories_id(int64_t *out, struct db_conn *c, const char *tracking_id)
{
	static const char sql[] = "SELECT id FROM advisories WHERE tracking_id = $1";
	const char *v[1] = { tracking_id };
	int rc;

	if ((rc = query_id(out, c, sql, 1, v)))
		return rc;
	if (!*out)
		return err_set(OTCM_ENOTFOUND, "advisory", "advisory '%.80s' not found", tracking_id);
	return 0;
}

int advisories_document(char **out, size_t *out_len, char **out_sha256, struct db_conn *c,
			const char *tracking_id)
{
	static const char sql[] =
		"SELECT d.document, d.sha256 FROM advisories a JOIN advisory_documents d ON d.id = a.document_id"
		" WHERE a.tracking_id = $1";
	const struct db_param p[] = { DB_TEXT(tracking_id) };
	struct db_res *res = NULL;
	int rc;

	*out = NULL;
	*out_sha256 = NULL;
	if ((rc = db_exec(&res, c, sql, 1, p, true)))
		return rc;
	if (db_res_rows(res) == 0) {
		rc = err_set(OTCM_ENOTFOUND, "advisory", "advisory '%.80s' not found", tracking_id);
		goto out;
	}
	*out_len = db_res_len(res, 0, 0);
	*out = xmalloc(*out_len + 1);
	memcpy(*out, db_res_get(res, 0, 0), *out_len);
	(*out)[*out_len] = '\0';
	*out_sha256 = xstrndup(db_res_get(res, 0, 1), db_res_len(res, 0, 1));
out:
	db_res_free(res);
	return rc;
}

int advisories_list(json_t **out, struct db_conn *c)
{
	static const char sql[] =
		"SELECT coalesce(json_agg(json_build_object('tracking_id', a.tracking_id, 'title', a.title,"
		" 'publisher', a.publisher, 'version', a.version, 'released_at', a.released_at,"
		" 'cvss', a.cvss, 'severity', a.severity, 'sha256', d.sha256,"
		" 'imported_at', " T("a.imported_at") ","
		" 'assets', (SELECT count(*) FROM advisory_matches m WHERE m.advisory_id = a.id))"
		" ORDER BY a.released_at DESC, a.tracking_id), '[]')::text"
		" FROM advisories a JOIN advisory_documents d ON d.id = a.document_id";

	return query_json(out, c, sql, 0, NULL);
}

int advisories_for_matching(json_t **out, struct db_conn *c)
{
	static const char sql[] =
		"SELECT coalesce(json_agg(json_build_object('id', id, 'tracking_id', tracking_id,"
		" 'severity', severity, 'summary', summary, 'products', products) ORDER BY id), '[]')::text"
		" FROM advisories";

	return query_json(out, c, sql, 0, NULL);
}

int advisories_assets(json_t **out, struct db_conn *c)
{
	static const char sql[] =
		"SELECT coalesce(json_agg(json_build_object('id', id, 'path', path, 'vendor', vendor,"
		" 'model', model, 'firmware', firmware, 'order_number', order_number, 'cpe', cpe,"
		" 'purl', purl) ORDER BY id), '[]')::text FROM assets";

	return query_json(out, c, sql, 0, NULL);
}

int advisories_matches_replace(struct db_conn *c, int64_t advisory_id, int64_t asset_id,
			       const json_t *matches)
{
	static const char sql[] =
		"WITH m AS (SELECT coalesce(x.advisory_id, $1::bigint) AS advisory_id,"
		"  coalesce(x.asset_id, $2::bigint) AS asset_id, x.products, x.cves, x.cvss, x.severity,"
		"  x.undecided, x.due_days"
		"  FROM jsonb_to_recordset($3::jsonb) AS x(advisory_id bigint, asset_id bigint,"
		"  products jsonb, cves jsonb, cvss numeric, severity text, undecided boolean, due_days int)),"
		" gone AS (DELETE FROM advisory_matches am"
		"  WHERE (am.advisory_id = $1::bigint OR am.asset_id = $2::bigint)"
		"  AND NOT EXISTS (SELECT 1 FROM m WHERE m.advisory_id = am.advisory_id"
		"  AND m.asset_id = am.asset_id))"
		" INSERT INTO advisory_matches (advisory_id, asset_id, products, cves, cvss, severity,"
		"  undecided, due_at)"
		" SELECT advisory_id, asset_id, products, cves, cvss, severity, undecided,"
		"  now() + make_interval(days => due_days) FROM m"
		" ON CONFLICT (advisory_id, asset_id) DO UPDATE SET products = EXCLUDED.products,"
		"  cves = EXCLUDED.cves, cvss = EXCLUDED.cvss, severity = EXCLUDED.severity,"
		"  undecided = EXCLUDED.undecided,"
		"  due_at = least(advisory_matches.due_at,"
		"   advisory_matches.matched_at + (EXCLUDED.due_at - now()))";
	char adv[24], ast[24], *text;
	const char *v[3];
	int rc;

	snprintf(adv, sizeof(adv), "%" PRId64, advisory_id);
	snprintf(ast, sizeof(ast), "%" PRId64, asset_id);
	text = json_dumps(matches, JSON_COMPACT);
	if (!text)
		return err_set(OTCM_EINTERNAL, NULL, "cannot serialise matches");
	v[0] = adv;
	v[1] = ast;
	v[2] = text;
	rc = db_execv(NULL, c, sql, 3, v);
	free(text);
	return rc;
}

int advisories_exposure(json_t **out, struct db_conn *c, int64_t asset_id, const char *prefix)
{
	static const char sql[] =
		"SELECT coalesce(json_agg(" EXPOSURE_JSON " ORDER BY t.path COLLATE \"C\", " SEVERITY_ORDER ","
		" a.tracking_id), '[]')::text" EXPOSURE_FROM
		" WHERE ($1::bigint = 0 OR t.id = $1::bigint)"
		" AND ($2::text IS NULL OR t.path = $2 OR (t.path ~>=~ ($2::text || '/')"
		" AND t.path ~<~ ($2::text || '0')))";
	char id[24];
	const char *v[2];

	snprintf(id, sizeof(id), "%" PRId64, asset_id);
	v[0] = id;
	v[1] = prefix;
	return query_json(out, c, sql, 2, v);
}

int advisories_assessment_get(json_t **out, struct db_conn *c, int64_t advisory_id, int64_t asset_id,
			      bool for_update)
{
	static const char sql[] =
		"SELECT " ASSESSMENT_JSON "::text FROM assessments s"
		" LEFT JOIN assessment_signatures g ON g.id = s.signature_id"
		" WHERE s.advisory_id = $1 AND s.asset_id = $2";
	static const char sql_lock[] =
		"SELECT id FROM assessments WHERE advisory_id = $1 AND asset_id = $2 FOR UPDATE";
	char adv[24], ast[24];
	const char *v[2] = { adv, ast };
	int64_t ignored;
	int rc;

	snprintf(adv, sizeof(adv), "%" PRId64, advisory_id);
	snprintf(ast, sizeof(ast), "%" PRId64, asset_id);
	if (for_update && (rc = query_id(&ignored, c, sql_lock, 2, v)))
		return rc;
	return query_json(out, c, sql, 2, v);
}

int advisories_assessment_put(int64_t *out_id, struct db_conn *c, const struct assessment_record *r)
{
	static const char sql[] =
		"INSERT INTO assessments (advisory_id, asset_id, status, justification, impact, controls,"
		" change_key, user_id, username) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
		" ON CONFLICT (advisory_id, asset_id) DO UPDATE SET status = EXCLUDED.status,"
		" justification = EXCLUDED.justification, impact = EXCLUDED.impact,"
		" controls = EXCLUDED.controls, change_key = EXCLUDED.change_key,"
		" user_id = EXCLUDED.user_id, username = EXCLUDED.username, assessed_at = now(),"
		" signature_id = NULL RETURNING id";
	char adv[24], ast[24], uid[24];
	const char *v[9];

	snprintf(adv, sizeof(adv), "%" PRId64, r->advisory_id);
	snprintf(ast, sizeof(ast), "%" PRId64, r->asset_id);
	snprintf(uid, sizeof(uid), "%" PRId64, r->user_id);
	v[0] = adv;
	v[1] = ast;
	v[2] = r->status;
	v[3] = r->justification;
	v[4] = r->impact ? r->impact : "";
	v[5] = r->controls ? r->controls : "";
	v[6] = r->change_key;
	v[7] = r->user_id > 0 ? uid : NULL;
	v[8] = r->username;
	return query_id(out_id, c, sql, 9, v);
}

int advisories_assessment_sign(json_t **out, struct db_conn *c, const struct assessment_signature *s)
{
	static const char sql[] =
		"WITH g AS (INSERT INTO assessment_signatures (assessment_id, meaning, signer_id, printed_name,"
		" role, auth_method, content, content_sha256, second_factor_enrolled)"
		" VALUES ($1, 'assessed', $2, $3, $4, $5, $6, $7, $8::boolean)"
		" RETURNING *), u AS (UPDATE assessments SET signature_id = (SELECT id FROM g) WHERE id = $1)"
		" SELECT json_build_object('id', g.id, 'meaning', g.meaning, 'printed_name', g.printed_name,"
		" 'role', g.role, 'reauthenticated_with', g.auth_method,"
		" 'second_factor_enrolled', g.second_factor_enrolled, 'signed_at', " T("g.signed_at") ","
		" 'content', g.content, 'content_sha256', g.content_sha256)::text FROM g";
	char aid[24], sid[24];
	const char *v[8];

	snprintf(aid, sizeof(aid), "%" PRId64, s->assessment_id);
	snprintf(sid, sizeof(sid), "%" PRId64, s->signer_id);
	v[0] = aid;
	v[1] = sid;
	v[2] = s->printed_name;
	v[3] = s->role;
	v[4] = s->auth_method;
	v[5] = s->content;
	v[6] = s->content_sha256;
	v[7] = s->second_factor_enrolled ? "true" : "false";
	return query_json(out, c, sql, 8, v);
}

int advisories_assessment_signatures(json_t **out, struct db_conn *c, int64_t assessment_id)
{
	static const char sql[] =
		"SELECT coalesce(json_agg(json_build_object('id', g.id, 'meaning', g.meaning,"
		" 'printed_name', g.printed_name, 'role', g.role, 'reauthenticated_with', g.auth_method,"
		" 'second_factor_enrolled', g.second_factor_enrolled,"
		" 'signed_at', " T("g.signed_at") ", 'content', g.content,"
		" 'content_sha256', g.content_sha256) ORDER BY g.id), '[]')::text"
		" FROM assessment_signatures g WHERE g.assessment_id = $1";
	char aid[24];
	const char *v[1] = { aid };

	snprintf(aid, sizeof(aid), "%" PRId64, assessment_id);
	return query_json(out, c, sql, 1, v);
}

#define EXCEPTION_JSON \
	"json_build_object('asset', t.path, 'advisory', a.tracking_id, 'title', a.title," \
	" 'severity', m.severity, 'status', coalesce(s.status, 'not assessed'), 'controls', s.controls," \
	" 'assessed_by', s.username, 'assessed_at', " T("s.assessed_at") ", 'due_at', " T("m.due_at") ")"

int advisories_exceptions(json_t **out_affected, json_t **out_overdue, struct db_conn *c,
			  const char *as_of)
{
	static const char sql_affected[] =
		"SELECT coalesce(json_agg(" EXCEPTION_JSON " ORDER BY m.due_at, t.path COLLATE \"C\"), '[]')::text"
		" FROM assessments s JOIN advisories a ON a.id = s.advisory_id JOIN assets t ON t.id = s.asset_id"
		" JOIN advisory_matches m ON m.advisory_id = s.advisory_id AND m.asset_id = s.asset_id"
		" WHERE s.status = 'affected' AND s.assessed_at < least($1::timestamptz, now())";
	static const char sql_overdue[] =
		"SELECT coalesce(json_agg(" EXCEPTION_JSON " ORDER BY m.due_at, t.path COLLATE \"C\"), '[]')::text"
		EXPOSURE_FROM
		" WHERE m.due_at < least($1::timestamptz, now())"
		" AND coalesce(s.status, '') NOT IN ('fixed', 'not_affected')";
	const char *v[1] = { as_of };
	int rc;

	*out_affected = *out_overdue = NULL;
	if ((rc = query_json(out_affected, c, sql_affected, 1, v)) ||
	    (rc = query_json(out_overdue, c, sql_overdue, 1, v))) {
		json_decref(*out_affected);
		*out_affected = NULL;
		return rc;
	}
	return 0;
}

int advisories_assessed_unmatched(json_t **out, struct db_conn *c, int64_t asset_id, const char *prefix)
{
	static const char sql[] =
		"SELECT coalesce(json_agg(json_build_object('asset_id', t.id, 'path', t.path, 'vendor', t.vendor,"
		" 'model', t.model, 'firmware', t.firmware, 'tracking_id', a.tracking_id, 'title', a.title,"
		" 'severity', a.severity, 'cvss', a.cvss, 'cves', a.summary->'vulnerabilities',"
		" 'products', '[]'::json, 'undecided', false, 'overdue', false,"
		" 'assessment', " ASSESSMENT_JSON ") ORDER BY t.path COLLATE \"C\", a.tracking_id), '[]')::text"
		" FROM assessments s JOIN advisories a ON a.id = s.advisory_id JOIN assets t ON t.id = s.asset_id"
		" LEFT JOIN assessment_signatures g ON g.id = s.signature_id"
		" WHERE NOT EXISTS (SELECT 1 FROM advisory_matches m WHERE m.advisory_id = s.advisory_id"
		" AND m.asset_id = s.asset_id)"
		" AND ($1::bigint = 0 OR t.id = $1::bigint)"
		" AND ($2::text IS NULL OR t.path = $2 OR (t.path ~>=~ ($2::text || '/')"
		" AND t.path ~<~ ($2::text || '0')))";
	char id[24];
	const char *v[2];

	snprintf(id, sizeof(id), "%" PRId64, asset_id);
	v[0] = id;
	v[1] = prefix;
	return query_json(out, c, sql, 2, v);
}
