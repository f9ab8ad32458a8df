/*
 * server/h_reports.c - reports of a period for auditors (docs/evidence.md).
 *
 *   GET /api/v1/reports/population?from=&to=&format=json|csv   all but agent
 *   GET /api/v1/reports/exceptions?from=&to=                   all but agent
 *
 * Both carry the signed checkpoints at the start and at the end of the
 * period and the consistency proof between them, so an auditor can tie
 * the report to the audit trail and check that the trail only grew in
 * between.  The start checkpoint is the newest signed at or before
 * `from` (else the oldest there is); the end checkpoint the first signed
 * at or after `to`, signed now when there is none yet.  Every report is
 * an audit event (report.population, report.exceptions).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "server/handlers.h"
#include "server/svc.h"
#include "storage/checkpoint.h"

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* Days in month `m` (1-12) of year `y`, proleptic Gregorian. */
static int month_days(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* `n` decimal digits at s as *out; false unless all n are digits. */
static bool digits(int *out, const char *s, int n)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/*
 * An RFC 3339 full-date ("2030-01-31", read as midnight UTC) or date-time
 * ("2030-01-31T08:00:00Z", "2030-01-31t08:00:00.5+01:00", a space allowed
 * for the T; a leap second only at 23:59:60): every field in range, the
 * day existing in its month.
 * *out_us gets the instant in microseconds since the epoch (fractions past
 * microseconds dropped), out the text the database is given (a date gets
 * "T00:00:00Z", so the session's time zone never matters; 't' and 'z' are
 * written upper case).
 */
static bool parse_rfc3339(int64_t *out_us, char out[48], const char *s)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, sign = 0;
	int64_t frac = 0, scale = 1000000;
	size_t len = strlen(s), i = 19;

	if (len < 10 || len > 40 || !digits(&y, s, 4) || s[4] != '-' || !digits(&mo, s + 5, 2) ||
	    s[7] != '-' || !digits(&d, s + 8, 2) || y < 1 || mo < 1 || mo > 12 || d < 1 ||
	    d > month_days(y, mo))
		return false;
	if (len == 10) {
		snprintf(out, 48, "%.10sT00:00:00Z", s);
	} else {
		if (len < 20 || !strchr("Tt ", s[10]) || !digits(&h, s + 11, 2) || s[13] != ':' ||
		    !digits(&mi, s + 14, 2) || s[16] != ':' || !digits(&sec, s + 17, 2) || h > 23 ||
		    mi > 59 || sec > 60 || (sec == 60 && (h != 23 || mi != 59)))
			return false;
		if (s[i] == '.') {
			size_t start = ++i;

			for (; s[i] >= '0' && s[i] <= '9'; i++) {
				if (scale > 1) {
					scale /= 10;
					frac += (s[i] - '0') * scale;
				}
			}
			if (i == start || i - start > 9)
				return false;
		}
		if ((s[i] == 'Z' || s[i] == 'z') && s[i + 1] == '\0') {
			sign = 0;
		} else if ((s[i] == '+' || s[i] == '-') && len - i == 6 && digits(&oh, s + i + 1, 2) &&
			   s[i + 3] == ':' && digits(&om, s + i + 4, 2) && oh <= 23 && om <= 59) {
			sign = s[i] == '+' ? 1 : -1;
		} else {
			return false;
		}
		snprintf(out, 48, "%s", s);
		out[10] = 'T';
		if (out[i] == 'z')
			out[i] = 'Z';
	}
	*out_us = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) -
		   sign * (oh * 3600 + om * 60)) * 1000000 + frac;
	return true;
}

/*
 * from and to: required, RFC 3339 dates or date-times (parse_rfc3339),
 * from not after to; OTCM_EINVAL naming the field otherwise.  out_from and
 * out_to are the texts for the database, allocated on the request's arena.
 */
static int read_period(const char **out_from, const char **out_to, struct http_req *req)
{
	static const char *const names[2] = { "from", "to" };
	char norm[2][48];
	int64_t us[2];
	int i;

	for (i = 0; i < 2; i++) {
		const char *v = http_query(req, names[i]);

		if (!v)
			return err_set(OTCM_EINVAL, names[i], "'%s' is required: a time such as "
				       "2030-01-31T00:00:00Z or a date such as 2030-01-31", names[i]);
		if (!parse_rfc3339(&us[i], norm[i], v))
			return err_set(OTCM_EINVAL, names[i], "'%s' is not an RFC 3339 date or time such as "
				       "2030-01-31T00:00:00Z or 2030-01-31: '%.64s'", names[i], v);
	}
	if (us[0] > us[1])
		return err_set(OTCM_EINVAL, "from", "'from' (%s) is after 'to' (%s)", norm[0], norm[1]);
	*out_from = arena_printf(req->arena, "%s", norm[0]);
	*out_to = arena_printf(req->arena, "%s", norm[1]);
	return 0;
}

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

/*
 * Sizes of the checkpoints at the start and end of the period; the end one
 * is signed now when none was signed at or after `to`.  c must be idle.
 */
static int period_checkpoints(uint64_t *out_start, uint64_t *out_end, struct http_req *req,
			      struct db_conn *c, const char *from, const char *to)
{
	static const char sql[] =
		"SELECT coalesce((SELECT tree_size FROM audit_checkpoints WHERE at <= $1::timestamptz "
		"ORDER BY tree_size DESC LIMIT 1), (SELECT min(tree_size) FROM audit_checkpoints), 0)::text, "
		"coalesce((SELECT min(tree_size) FROM audit_checkpoints WHERE at >= $2::timestamptz), 0)::text";
	const char *params[2] = { from, to };
	struct crypto_ed25519_key *key = NULL;
	struct checkpoint *cp = NULL;
	struct db_res *res = NULL;
	char *origin = NULL;
	bool made;
	int rc;

	if ((rc = db_execv(&res, c, sql, 2, params)))
		goto out;
	*out_start = strtoull(db_res_get(res, 0, 0), NULL, 10);
	*out_end = strtoull(db_res_get(res, 0, 1), NULL, 10);
	if (*out_end == 0) {
		origin = checkpoint_origin(req->srv->cfg);
		if ((rc = checkpoint_key_open(&key, NULL, req->srv->cfg->data, false)) ||
		    (rc = checkpoint_write(&cp, &made, c, key, origin)))
			goto out;
		*out_end = cp->tree_size;
	}
	if (*out_start == 0 || *out_start > *out_end)
		*out_start = *out_end;
out:
	checkpoint_free(cp);
	crypto_ed25519_free(key);
	free(origin);
	db_res_free(res);
	return rc;
}

/* Add start_checkpoint, end_checkpoint and consistency_proof to `into`. */
static int add_checkpoints(json_t *into, struct db_conn *c, uint64_t start, uint64_t end)
{
	json_t *proof = NULL;
	int rc;

	if ((rc = checkpoint_consistency(&proof, c, start, end)))
		return rc;
	json_object_set(into, "start_checkpoint", json_object_get(proof, "first_checkpoint"));
	json_object_set(into, "end_checkpoint", json_object_get(proof, "second_checkpoint"));
	json_object_set(into, "consistency_proof", json_object_get(proof, "proof"));
	json_decref(proof);
	return 0;
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

/* One CSV field: quoted when it holds a comma, quote, newline or leading formula character. */
static void csv_field(struct buf *b, const char *s)
{
	bool quote = strpbrk(s, ",\"\r\n") != NULL || strchr("=+-@", s[0]) != NULL;

	if (!quote) {
		buf_adds(b, s);
		return;
	}
	buf_addch(b, '"');
	if (strchr("=+-@", s[0]) && s[0])
		buf_addch(b, '\'');
	for (; *s; s++) {
		if (*s == '"')
			buf_addch(b, '"');
		buf_addch(b, *s);
	}
	buf_addch(b, '"');
}

/* A JSON value as one CSV field: arrays joined by ';', tree objects as asset=tree. */
static void csv_value(struct buf *b, const json_t *v)
{
	struct buf t = BUF_INIT;
	const json_t *e;
	size_t i;

	if (json_is_string(v)) {
		csv_field(b, json_string_value(v));
		return;
	}
	json_array_foreach(v, i, e) {
		if (i)
			buf_addch(&t, ';');
		if (json_is_object(e))
			buf_addf(&t, "%s=%s", json_string_value(json_object_get(e, "asset")),
				 json_string_value(json_object_get(e, "tree")));
		else if (json_is_string(e))
			buf_adds(&t, json_string_value(e));
	}
	csv_field(b, buf_cstr(&t));
	buf_release(&t);
}

int h_reports_population(struct http_req *req)
{
	static const char *const cols[] = { "key", "type", "state", "title", "created_at", "deployed_at",
		"released_at", "requester", "implementers", "approvers", "testers", "assets", "trees", NULL };
	const char *from, *to, *format = http_query(req, "format");
	struct db_conn *c = NULL;
	json_t *items = NULL, *out = NULL, *after = NULL, *row;
	struct buf csv = BUF_INIT;
	uint64_t start = 0, end = 0;
	size_t i, k;
	int rc;

	if (format && strcmp(format, "json") && strcmp(format, "csv"))
		return err_set(OTCM_EINVAL, "format", "'format' must be json or csv");
	if ((rc = read_period(&from, &to, req)) || (rc = svc_conn(&c, req)) ||
	    (rc = period_checkpoints(&start, &end, req, c, from, to)) || (rc = db_begin(c)) ||
	    (rc = query_json(&items, c, POPULATION_SQL, from, to)))
		goto out;
	out = json_pack("{s:s, s:s, s:O}", "from", from, "to", to, "items", items);
	if ((rc = add_checkpoints(out, c, start, end)))
		goto out;
	after = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "from", from, "to", to, "format",
			  format ? format : "json", "changes", (json_int_t)json_array_size(items),
			  "start_tree_size", (json_int_t)start, "end_tree_size", (json_int_t)end);
	if ((rc = svc_audit(req, c, "report.population", "report", "population", NULL, after)) ||
	    (rc = svc_commit(c)))
		goto out;
	if (!format || strcmp(format, "csv")) {
		rc = http_reply_json(req, 200, out);
		out = NULL;
		goto out;
	}
	for (k = 0; cols[k]; k++)
		buf_addf(&csv, "%s%s", k ? "," : "", cols[k]);
	buf_adds(&csv, "\r\n");
	json_array_foreach(items, i, row) {
		for (k = 0; cols[k]; k++) {
			if (k)
				buf_addch(&csv, ',');
			csv_value(&csv, json_object_get(row, cols[k]));
		}
		buf_adds(&csv, "\r\n");
	}
	http_set_header(req, "X-Otcm-Checkpoint-Start", arena_printf(req->arena, "%" PRIu64, start));
	http_set_header(req, "X-Otcm-Checkpoint-End", arena_printf(req->arena, "%" PRIu64, end));
	http_set_header(req, "Content-Disposition", "attachment; filename=\"population.csv\"");
	rc = http_reply_bytes(req, 200, "text/csv; charset=utf-8", csv.data ? csv.data : "", csv.len);
out:
	buf_release(&csv);
	json_decref(items);
	json_decref(out);
	json_decref(after);
	svc_end(c);
	return rc;
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

int h_reports_exceptions(struct http_req *req)
{
	const char *from, *to;
	struct db_conn *c = NULL;
	json_t *out = NULL, *after = NULL, *v;
	const char *k;
	uint64_t start = 0, end = 0;
	int rc;

	if ((rc = read_period(&from, &to, req)) || (rc = svc_conn(&c, req)) ||
	    (rc = period_checkpoints(&start, &end, req, c, from, to)) || (rc = db_begin(c)) ||
	    (rc = query_json(&out, c, EXCEPTIONS_SQL, from, to)))
		goto out;
	after = json_pack("{s:s, s:s, s:I, s:I}", "from", from, "to", to,
			  "start_tree_size", (json_int_t)start, "end_tree_size", (json_int_t)end);
	json_object_foreach(out, k, v)
		json_object_set_new(after, k, json_integer((json_int_t)json_array_size(v)));
	json_object_set_new(out, "from", json_string(from));
	json_object_set_new(out, "to", json_string(to));
	if ((rc = add_checkpoints(out, c, start, end)) ||
	    (rc = svc_audit(req, c, "report.exceptions", "report", "exceptions", NULL, after)) ||
	    (rc = svc_commit(c)))
		goto out;
	rc = http_reply_json(req, 200, out);
	out = NULL;
out:
	json_decref(out);
	json_decref(after);
	svc_end(c);
	return rc;
}
