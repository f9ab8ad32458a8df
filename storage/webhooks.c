/* storage/webhooks.c - webhook subscriptions and their delivery log; see webhooks.h. */
#include "storage/webhooks.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"

#define HOOK_JSON \
	"json_build_object('id', w.id, 'url', w.url, 'events', to_json(w.events), " \
	"'description', w.description, 'enabled', w.enabled, 'seq', w.seq, 'attempts', w.attempts, " \
	"'next_attempt_at', w.next_attempt_at, 'failing_since', w.failing_since, " \
	"'last_success_at', w.last_success_at, 'disabled_at', w.disabled_at, " \
	"'disabled_reason', w.disabled_reason, 'created_at', w.created_at, 'created_by', w.created_by)"

static struct db_param opt_text(const char *s)
{
	return s ? DB_TEXT(s) : DB_NULL;
}

/* The first column of the only row as JSON into *out; ENOTFOUND without a row. */
static int one_json(json_t **out, struct db_res *r, int64_t id)
{
	json_error_t jerr;

	if (db_res_rows(r) == 0)
		return err_set(OTCM_ENOTFOUND, "id", "webhook %" PRId64 " not found", id);
	*out = json_loads(db_res_get(r, 0, 0), JSON_DECODE_ANY, &jerr);
	if (!*out)
		return err_set(OTCM_EDB, NULL, "unreadable webhook JSON: %s", jerr.text);
	return 0;
}

int webhooks_insert(json_t **out, struct db_conn *c, const struct webhook_fields *f,
		    const char *created_by)
{
	static const char sql[] =
		"WITH w AS (INSERT INTO webhooks (url, events, secret, description, seq, created_by)"
		" VALUES ($1, ARRAY(SELECT jsonb_array_elements_text($2::jsonb)), $3, coalesce($4, ''),"
		"         (SELECT seq FROM audit_head), $5) RETURNING *)"
		" SELECT " HOOK_JSON " FROM w";
	const struct db_param p[] = { DB_TEXT(f->url), DB_TEXT(f->events_json), DB_TEXT(f->secret),
				      opt_text(f->description), DB_TEXT(created_by) };
	struct db_res *r = NULL;
	int rc;

	assert(out && c && f->url && f->events_json && f->secret && created_by);
	*out = NULL;
	if ((rc = db_exec(&r, c, sql, 5, p, false)) == 0)
		rc = one_json(out, r, 0);
	db_res_free(r);
	return rc;
}

int webhooks_get(json_t **out, struct db_conn *c, int64_t id, bool for_update)
{
	static const char sql[] = "SELECT " HOOK_JSON " FROM webhooks w WHERE w.id = $1";
	static const char sql_locked[] = "SELECT " HOOK_JSON " FROM webhooks w WHERE w.id = $1 FOR UPDATE";
	struct db_res *r = NULL;
	char ids[24];
	int rc;

	*out = NULL;
	snprintf(ids, sizeof(ids), "%" PRId64, id);
	{
		const struct db_param p[] = { DB_TEXT(ids) };

		rc = db_exec(&r, c, for_update ? sql_locked : sql, 1, p, false);
	}
	if (rc == 0)
		rc = one_json(out, r, id);
	db_res_free(r);
	return rc;
}

int webhooks_list(json_t **out, struct db_conn *c)
{
	static const char sql[] =
		"SELECT coalesce(json_agg(" HOOK_JSON " ORDER BY w.id), '[]') FROM webhooks w";
	struct db_res *r = NULL;
	int rc;

	*out = NULL;
	if ((rc = db_execv(&r, c, sql, 0, NULL)) == 0)
		rc = one_json(out, r, 0);
	db_res_free(r);
	return rc;
}

int webhooks_update(json_t **out, struct db_conn *c, int64_t id, const struct webhook_fields *f)
{
	static const char sql[] =
		"WITH w AS (UPDATE webhooks SET url = coalesce($2, url),"
		" events = CASE WHEN $3::jsonb IS NULL THEN events"
		"          ELSE ARRAY(SELECT jsonb_array_elements_text($3::jsonb)) END,"
		" description = coalesce($4, description), secret = coalesce($5, secret),"
		" enabled = coalesce($6::boolean, enabled),"
		" attempts = CASE WHEN $6::boolean THEN 0 ELSE attempts END,"
		" failing_since = CASE WHEN $6::boolean THEN NULL ELSE failing_since END,"
		" next_attempt_at = CASE WHEN $6::boolean THEN NULL ELSE next_attempt_at END,"
		" disabled_at = CASE WHEN $6::boolean THEN NULL"
		"               WHEN NOT $6::boolean AND enabled THEN now() ELSE disabled_at END,"
		" disabled_reason = CASE WHEN $6::boolean THEN NULL"
		"               WHEN NOT $6::boolean AND enabled THEN $7 ELSE disabled_reason END"
		" WHERE id = $1 RETURNING *)"
		" SELECT " HOOK_JSON " FROM w";
	char ids[24];
	const char *en = f->enabled < 0 ? NULL : f->enabled ? "true" : "false";
	const struct db_param p[] = { DB_TEXT(ids), opt_text(f->url), opt_text(f->events_json),
				      opt_text(f->description), opt_text(f->secret), opt_text(en),
				      opt_text(f->disabled_reason) };
	struct db_res *r = NULL;
	int rc;

	*out = NULL;
	snprintf(ids, sizeof(ids), "%" PRId64, id);
	if ((rc = db_exec(&r, c, sql, 7, p, false)) == 0)
		rc = one_json(out, r, id);
	db_res_free(r);
	return rc;
}

int webhooks_delete(struct db_conn *c, int64_t id)
{
	static const char sql[] = "DELETE FROM webhooks WHERE id = $1 RETURNING id";
	struct db_res *r = NULL;
	char ids[24];
	const char *v[1] = { ids };
	int rc;

	snprintf(ids, sizeof(ids), "%" PRId64, id);
	if ((rc = db_execv(&r, c, sql, 1, v)) == 0 && db_res_rows(r) == 0)
		rc = err_set(OTCM_ENOTFOUND, "id", "webhook %" PRId64 " not found", id);
	db_res_free(r);
	return rc;
}

int webhooks_deliveries(json_t **out, struct db_conn *c, int64_t id, unsigned limit)
{
	static const char sql[] =
		"SELECT coalesce(json_agg(json_build_object('id', d.id, 'seq', d.seq,"
		" 'message_id', d.message_id, 'attempt', d.attempt, 'at', d.at, 'status', d.status,"
		" 'error', d.error, 'duration_ms', d.duration_ms) ORDER BY d.id DESC), '[]')"
		" FROM (SELECT * FROM webhook_deliveries WHERE webhook_id = $1"
		"       ORDER BY id DESC LIMIT $2::int) d";
	struct db_res *r = NULL;
	char ids[24], lim[16];
	const char *v[2] = { ids, lim };
	int rc;

	*out = NULL;
	snprintf(ids, sizeof(ids), "%" PRId64, id);
	snprintf(lim, sizeof(lim), "%u", limit);
	if ((rc = db_execv(&r, c, sql, 2, v)) == 0)
		rc = one_json(out, r, id);
	db_res_free(r);
	return rc;
}

int webhooks_due(struct webhook_jobs *out, struct db_conn *c)
{
	/*
	 * A pattern is "*", "name" or "prefix.*" over [a-z0-9_.] (the domain
	 * checks it), so LIKE needs only "_" escaped and "*" as "%".  The head
	 * is read in the same statement (one snapshot): events up to it are
	 * committed, and those after it are not looked at yet.
	 */
	static const char sql[] =
		"WITH h AS (SELECT seq AS head FROM audit_head)"
		" SELECT w.id, w.url, w.secret, w.seq, w.attempts,"
		"        coalesce(floor(extract(epoch FROM now() - w.failing_since))::bigint, -1),"
		"        h.head, coalesce(e.seq, 0), e.body,"
		"        (SELECT d.error FROM webhook_deliveries d WHERE d.webhook_id = w.id"
		"         ORDER BY d.id DESC LIMIT 1)"
		" FROM webhooks w CROSS JOIN h"
		" LEFT JOIN LATERAL ("
		"   SELECT a.seq, json_build_object("
		"     'type', a.action,"
		"     'timestamp', to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
		"     'data', json_build_object('seq', a.seq, 'hash', encode(a.hash, 'hex'),"
		"       'action', a.action, 'actor', a.actor, 'role', a.role, 'source', a.source,"
		"       'request_id', a.request_id, 'object_type', a.object_type,"
		"       'object_id', a.object_id, 'reason', a.reason,"
		"       'at', to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')))::text AS body"
		"   FROM audit_events a"
		"   WHERE a.seq > w.seq AND a.seq <= h.head"
		"     AND a.action LIKE ANY (ARRAY(SELECT replace(replace(p, '_', '\\_'), '*', '%')"
		"                                  FROM unnest(w.events) p))"
		"   ORDER BY a.seq LIMIT 1) e ON true"
		" WHERE w.enabled AND (w.next_attempt_at IS NULL OR w.next_attempt_at <= now())"
		" ORDER BY w.id";
	struct db_res *r = NULL;
	size_t n;
	int rc;

	assert(out && c);
	memset(out, 0, sizeof(*out));
	if ((rc = db_execv(&r, c, sql, 0, NULL)))
		goto out;
	n = db_res_rows(r);
	out->jobs = n ? xcalloc(n, sizeof(*out->jobs)) : NULL;
	out->n = n;
	for (size_t i = 0; i < n; i++) {
		struct webhook_job *j = &out->jobs[i];

		j->id = strtoll(db_res_get(r, i, 0), NULL, 10);
		j->url = db_res_get(r, i, 1);
		j->secret = db_res_get(r, i, 2);
		j->seq = strtoll(db_res_get(r, i, 3), NULL, 10);
		j->attempts = atoi(db_res_get(r, i, 4));
		j->failing_for_s = strtoll(db_res_get(r, i, 5), NULL, 10);
		j->head = strtoll(db_res_get(r, i, 6), NULL, 10);
		j->event_seq = strtoll(db_res_get(r, i, 7), NULL, 10);
		j->body = db_res_isnull(r, i, 8) ? NULL : db_res_get(r, i, 8);
		j->last_error = db_res_isnull(r, i, 9) ? NULL : db_res_get(r, i, 9);
	}
	out->res = r;
	r = NULL;
out:
	db_res_free(r);
	return rc;
}

void webhook_jobs_release(struct webhook_jobs *j)
{
	if (!j)
		return;
	free(j->jobs);
	db_res_free(j->res);
	memset(j, 0, sizeof(*j));
}

int webhooks_record(struct db_conn *c, int64_t id, int64_t from, const struct webhook_attempt *a,
		    unsigned retry_s)
{
	static const char sql_ok[] =
		"UPDATE webhooks SET seq = $3::bigint, attempts = 0, failing_since = NULL,"
		" next_attempt_at = NULL, last_success_at = now()"
		" WHERE id = $1 AND seq = $2::bigint AND enabled";
	static const char sql_failed[] =
		"UPDATE webhooks SET attempts = attempts + 1, failing_since = coalesce(failing_since, now()),"
		" next_attempt_at = now() + make_interval(secs => $3::int)"
		" WHERE id = $1 AND seq = $2::bigint AND enabled";
	static const char sql_log[] =
		"INSERT INTO webhook_deliveries (webhook_id, seq, message_id, attempt, status, error,"
		" duration_ms) VALUES ($1, $2::bigint, $3, $4::int, $5::int, $6, $7::int)";
	struct db_res *r = NULL;
	char ids[24], froms[24], seqs[24], retry[16], attempt[16], status[16], dur[16];
	int rc;

	assert(c && a && a->message_id);
	snprintf(ids, sizeof(ids), "%" PRId64, id);
	snprintf(froms, sizeof(froms), "%" PRId64, from);
	snprintf(seqs, sizeof(seqs), "%" PRId64, a->seq);
	snprintf(retry, sizeof(retry), "%u", retry_s);
	snprintf(attempt, sizeof(attempt), "%d", a->attempt);
	snprintf(status, sizeof(status), "%d", a->status);
	snprintf(dur, sizeof(dur), "%d", a->duration_ms);
	if ((rc = db_begin(c)))
		return rc;
	{
		const char *v[3] = { ids, froms, a->error ? retry : seqs };

		if ((rc = db_execv(&r, c, a->error ? sql_failed : sql_ok, 3, v)))
			goto out;
	}
	if (db_res_affected(r) != 1) {
		rc = err_set(OTCM_ECONFLICT, NULL, "webhook %" PRId64 " moved on from %" PRId64
			     " or was disabled", id, from);
		goto out;
	}
	db_res_free(r);
	r = NULL;
	{
		const struct db_param p[] = { DB_TEXT(ids), DB_TEXT(seqs), DB_TEXT(a->message_id),
					      DB_TEXT(attempt), a->status ? DB_TEXT(status) : DB_NULL,
					      opt_text(a->error), DB_TEXT(dur) };

		if ((rc = db_exec(NULL, c, sql_log, 7, p, false)))
			goto out;
	}
	rc = db_commit(c);
out:
	if (rc && db_in_transaction(c))
		db_rollback(c);
	db_res_free(r);
	return rc;
}

int webhooks_skip(struct db_conn *c, int64_t id, int64_t from, int64_t to)
{
	static const char sql[] =
		"UPDATE webhooks SET seq = $3::bigint WHERE id = $1 AND seq = $2::bigint";
	struct db_res *r = NULL;
	char ids[24], froms[24], tos[24];
	const char *v[3] = { ids, froms, tos };
	int rc;

	snprintf(ids, sizeof(ids), "%" PRId64, id);
	snprintf(froms, sizeof(froms), "%" PRId64, from);
	snprintf(tos, sizeof(tos), "%" PRId64, to);
	if ((rc = db_execv(&r, c, sql, 3, v)) == 0 && db_res_affected(r) != 1)
		rc = err_set(OTCM_ECONFLICT, NULL, "webhook %" PRId64 " moved on from %" PRId64, id, from);
	db_res_free(r);
	return rc;
}

int webhooks_prune(uint64_t *out_deleted, struct db_conn *c, unsigned days)
{
	static const char sql[] =
		"DELETE FROM webhook_deliveries WHERE at < now() - make_interval(days => $1::int)";
	struct db_res *r = NULL;
	char d[16];
	const char *v[1] = { d };
	int rc;

	snprintf(d, sizeof(d), "%u", days);
	*out_deleted = 0;
	if ((rc = db_execv(&r, c, sql, 1, v)) == 0)
		*out_deleted = db_res_affected(r);
	db_res_free(r);
	return rc;
}
