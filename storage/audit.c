/*
 * storage/audit.c - appending to and reading the audit trail; see audit.h.
 * The append-only rule itself lives in the database (schema triggers).
 */
#include "storage/audit.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/err.h"
#include "core/timeutil.h"

int audit_append(int64_t *out_seq, struct db_conn *c, const struct audit_event *ev)
{
	/* The row lock taken here is held to commit: writers queue, numbers stay gapless. */
	static const char sql_next[] = "UPDATE audit_head SET seq = seq + 1 RETURNING seq";
	static const char sql_insert[] =
		"INSERT INTO audit_events (seq, actor_id, actor, role, source, request_id, action,"
		" object_type, object_id, before, after, reason)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb, $12)";
	struct db_res *res = NULL;
	char *before = NULL, *after = NULL;
	char actor_id[24];
	const char *seq;
	int rc;

	assert(c && ev && ev->actor && ev->action && ev->object_type);
	if (!db_in_transaction(c)) {
		rc = err_set(OTCM_EINTERNAL, NULL, "audit event '%s' outside a transaction", ev->action);
		goto out;
	}
	if ((rc = db_exec(&res, c, sql_next, 0, NULL, false)))
		goto out;
	if (db_res_rows(res) != 1) {
		rc = err_set(OTCM_EINTERNAL, NULL, "table 'audit_head' has no row");
		goto out;
	}
	seq = db_res_get(res, 0, 0);
	snprintf(actor_id, sizeof(actor_id), "%" PRId64, ev->actor_id);
	before = ev->before ? json_dump_compact(ev->before) : NULL;
	after = ev->after ? json_dump_compact(ev->after) : NULL;
	{
		const struct db_param params[] = {
			DB_TEXT(seq),
			ev->actor_id ? DB_TEXT(actor_id) : DB_NULL,
			DB_TEXT(ev->actor),
			DB_TEXT(ev->role),
			DB_TEXT(ev->source),
			DB_TEXT(ev->request_id),
			DB_TEXT(ev->action),
			DB_TEXT(ev->object_type),
			DB_TEXT(ev->object_id),
			DB_TEXT(before),
			DB_TEXT(after),
			DB_TEXT(ev->reason),
		};

		if ((rc = db_exec(NULL, c, sql_insert, sizeof(params) / sizeof(params[0]), params, false)))
			goto out;
	}
	if (out_seq)
		*out_seq = strtoll(seq, NULL, 10);
out:
	free(before);
	free(after);
	db_res_free(res);
	return rc;
}

/* Column `name` of row `i` as a JSON string, or null. */
static json_t *text_or_null(const struct db_res *r, size_t i, const char *name)
{
	int col = db_res_col(r, name);
	const char *v;

	assert(col >= 0);
	v = db_res_get(r, i, (size_t)col);
	return v ? json_string(v) : json_null();
}

/* A jsonb column as a JSON value (null for SQL NULL). */
static int json_column(json_t **out, const struct db_res *r, size_t i, const char *name)
{
	int col = db_res_col(r, name);
	const char *v;
	json_error_t jerr;

	assert(col >= 0);
	v = db_res_get(r, i, (size_t)col);
	if (!v) {
		*out = json_null();
		return 0;
	}
	*out = json_loads(v, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!*out)
		return err_set(OTCM_EDB, NULL, "column '%s' holds bad JSON: %s", name, jerr.text);
	return 0;
}

static int64_t int_column(const struct db_res *r, size_t i, const char *name)
{
	int col = db_res_col(r, name);

	assert(col >= 0);
	return strtoll(db_res_get(r, i, (size_t)col), NULL, 10);
}

int audit_list(json_t **out, struct db_conn *c, const char *object_type, const char *object_id,
	       int64_t after_seq, unsigned limit)
{
	static const char sql_list[] =
		"SELECT seq, (extract(epoch FROM at) * 1000000)::bigint AS at_us, actor_id, actor,"
		" role, source, request_id, action, object_type, object_id, before, after, reason,"
		" encode(prev_hash, 'hex') AS prev_hash, encode(hash, 'hex') AS hash"
		" FROM audit_events"
		" WHERE ($1::text IS NULL OR object_type = $1)"
		" AND ($2::text IS NULL OR object_id = $2)"
		" AND seq > $3::bigint"
		" ORDER BY seq LIMIT $4::bigint";
	struct db_res *res = NULL;
	json_t *list = json_array(), *ev = NULL, *before = NULL, *after = NULL;
	char after_s[24], limit_s[16], at[TIME_RFC3339_LEN];
	int rc;

	assert(out && c);
	snprintf(after_s, sizeof(after_s), "%" PRId64, after_seq);
	snprintf(limit_s, sizeof(limit_s), "%u", limit);
	{
		const struct db_param params[] = {
			DB_TEXT(object_type), DB_TEXT(object_id), DB_TEXT(after_s), DB_TEXT(limit_s),
		};

		if ((rc = db_exec(&res, c, sql_list, 4, params, false)))
			goto out;
	}
	for (size_t i = 0; i < db_res_rows(res); i++) {
		if ((rc = json_column(&before, res, i, "before")) ||
		    (rc = json_column(&after, res, i, "after")))
			goto out;
		time_format_rfc3339(at, int_column(res, i, "at_us"));
		ev = json_object();
		json_object_set_new(ev, "seq", json_integer(int_column(res, i, "seq")));
		json_object_set_new(ev, "at", json_string(at));
		json_object_set_new(ev, "actor_id",
				    db_res_isnull(res, i, (size_t)db_res_col(res, "actor_id")) ?
				    json_null() : json_integer(int_column(res, i, "actor_id")));
		json_object_set_new(ev, "actor", text_or_null(res, i, "actor"));
		json_object_set_new(ev, "role", text_or_null(res, i, "role"));
		json_object_set_new(ev, "source", text_or_null(res, i, "source"));
		json_object_set_new(ev, "request_id", text_or_null(res, i, "request_id"));
		json_object_set_new(ev, "action", text_or_null(res, i, "action"));
		json_object_set_new(ev, "object_type", text_or_null(res, i, "object_type"));
		json_object_set_new(ev, "object_id", text_or_null(res, i, "object_id"));
		json_object_set_new(ev, "before", before);
		json_object_set_new(ev, "after", after);
		before = after = NULL;
		json_object_set_new(ev, "reason", text_or_null(res, i, "reason"));
		json_object_set_new(ev, "prev_hash", text_or_null(res, i, "prev_hash"));
		json_object_set_new(ev, "hash", text_or_null(res, i, "hash"));
		json_array_append_new(list, ev);
		ev = NULL;
	}
	*out = list;
	list = NULL;
out:
	json_decref(before);
	json_decref(after);
	json_decref(list);
	db_res_free(res);
	return rc;
}
