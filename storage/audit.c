/*
 * storage/audit.c - appending to and reading the audit trail; see audit.h.
 * The append-only rule itself lives in the database (schema triggers).
 */
#include "storage/audit.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/crypto.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/timeutil.h"

int audit_append(int64_t *out_seq, struct db_conn *c, const struct audit_event *ev)
{
	/*
	 * The row lock taken here is held to commit: writers queue, numbers stay
	 * gapless, and the head hash read here is the newest committed one.  The
	 * time and the jsonb texts come back exactly as they will be stored.
	 */
	static const char sql_next[] =
		"UPDATE audit_head SET seq = seq + 1"
		" RETURNING seq, encode(hash, 'hex'), (extract(epoch FROM now()) * 1000000)::bigint,"
		" $1::jsonb::text, $2::jsonb::text";
	static const char sql_insert[] =
		"WITH head AS (UPDATE audit_head SET hash = $15::bytea)"
		" INSERT INTO audit_events (seq, at, actor_id, actor, role, source, request_id, action,"
		" object_type, object_id, before, after, reason, prev_hash, hash)"
		" VALUES ($1, $2::timestamptz, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12::jsonb,"
		" $13, $14::bytea, $15::bytea)";
	struct db_res *res = NULL;
	struct buf canon = BUF_INIT;
	char *before = NULL, *after = NULL;
	char actor_id[24], at[AUDIT_TIME_LEN];
	merkle_hash prev, hash;
	struct audit_stored st;
	const char *seq;
	int rc;

	assert(c && ev && ev->actor && ev->action && ev->object_type);
	if (!db_in_transaction(c)) {
		rc = err_set(OTCM_EINTERNAL, NULL, "audit event '%s' outside a transaction", ev->action);
		goto out;
	}
	before = ev->before ? json_dump_compact(ev->before) : NULL;
	after = ev->after ? json_dump_compact(ev->after) : NULL;
	{
		const struct db_param params[] = { DB_TEXT(before), DB_TEXT(after) };

		if ((rc = db_exec(&res, c, sql_next, 2, params, false)))
			goto out;
	}
	if (db_res_rows(res) != 1) {
		rc = err_set(OTCM_EINTERNAL, NULL, "table 'audit_head' has no row");
		goto out;
	}
	if (!db_res_get(res, 0, 1) || crypto_unhex(prev, sizeof(prev), db_res_get(res, 0, 1))) {
		rc = err_set(OTCM_EDB, NULL, "table 'audit_head' holds no hash");
		goto out;
	}
	seq = db_res_get(res, 0, 0);
	st = (struct audit_stored){
		.seq = strtoll(seq, NULL, 10),
		.at_us = strtoll(db_res_get(res, 0, 2), NULL, 10),
		.has_actor_id = ev->actor_id != 0,
		.actor_id = ev->actor_id,
		.actor = ev->actor,
		.role = ev->role,
		.source = ev->source,
		.request_id = ev->request_id,
		.action = ev->action,
		.object_type = ev->object_type,
		.object_id = ev->object_id,
		.before = db_res_get(res, 0, 3),
		.after = db_res_get(res, 0, 4),
		.reason = ev->reason,
	};
	if ((rc = audit_canonical(&canon, &st)))
		goto out;
	audit_chain_hash(hash, prev, canon.data, canon.len);
	audit_time_format(at, st.at_us);
	snprintf(actor_id, sizeof(actor_id), "%" PRId64, ev->actor_id);
	{
		const struct db_param params[] = {
			DB_TEXT(seq),
			DB_TEXT(at),
			ev->actor_id ? DB_TEXT(actor_id) : DB_NULL,
			DB_TEXT(ev->actor),
			DB_TEXT(ev->role),
			DB_TEXT(ev->source),
			DB_TEXT(ev->request_id),
			DB_TEXT(ev->action),
			DB_TEXT(ev->object_type),
			DB_TEXT(ev->object_id),
			DB_TEXT(st.before),
			DB_TEXT(st.after),
			DB_TEXT(ev->reason),
			DB_BYTES(prev, sizeof(prev)),
			DB_BYTES(hash, sizeof(hash)),
		};

		if ((rc = db_exec(NULL, c, sql_insert, sizeof(params) / sizeof(params[0]), params, false)))
			goto out;
	}
	if (out_seq)
		*out_seq = st.seq;
out:
	buf_release(&canon);
	free(before);
	free(after);
	db_res_free(res);
	return rc;
}

void audit_time_format(char out[AUDIT_TIME_LEN], int64_t us)
{
	int64_t secs = us / 1000000, frac = us % 1000000;
	time_t t;
	struct tm tm;

	if (frac < 0) {
		frac += 1000000;
		secs--;
	}
	t = (time_t)secs;
	gmtime_r(&t, &tm);
	snprintf(out, AUDIT_TIME_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac);
}

/*
 * A JSON string: '"' and '\' escaped, control characters as \b \f \n \r
 * \t or \u00xx (lowercase hex), everything else as is (UTF-8).  These are
 * the rules of RFC 8785 and of PostgreSQL's to_json(text).
 */
int audit_refusal_count(int64_t *out_count, int64_t *out_previous, struct db_conn *c,
			const char *actor, const char *what)
{
	static const char sql_count[] =
		"INSERT INTO access_refusals (actor, what, minute) VALUES ($1, $2, date_trunc('minute', now()))"
		" ON CONFLICT (actor, what, minute) DO UPDATE SET count = access_refusals.count + 1"
		" RETURNING count";
	static const char sql_previous[] =
		"SELECT count FROM access_refusals WHERE actor = $1 AND what = $2"
		" AND minute < date_trunc('minute', now()) ORDER BY minute DESC LIMIT 1";
	const char *params[] = { actor, what };
	struct db_res *res = NULL;
	int rc;

	*out_count = 0;
	*out_previous = 0;
	if ((rc = db_execv(&res, c, sql_count, 2, params)))
		goto out;
	*out_count = strtoll(db_res_get(res, 0, 0), NULL, 10);
	db_res_free(res);
	res = NULL;
	if (*out_count != 1)
		goto out;
	if ((rc = db_execv(&res, c, sql_previous, 2, params)))
		goto out;
	if (db_res_rows(res) == 1)
		*out_previous = strtoll(db_res_get(res, 0, 0), NULL, 10);
out:
	db_res_free(res);
	return rc;
}

static int add_string(struct buf *b, const char *s)
{
	int rc = buf_addch(b, '"');

	for (; *s && !rc; s++) {
		unsigned char ch = (unsigned char)*s;

		switch (ch) {
		case '"': rc = buf_adds(b, "\\\""); break;
		case '\\': rc = buf_adds(b, "\\\\"); break;
		case '\b': rc = buf_adds(b, "\\b"); break;
		case '\f': rc = buf_adds(b, "\\f"); break;
		case '\n': rc = buf_adds(b, "\\n"); break;
		case '\r': rc = buf_adds(b, "\\r"); break;
		case '\t': rc = buf_adds(b, "\\t"); break;
		default:
			rc = ch < 0x20 ? buf_addf(b, "\\u%04x", ch) : buf_addch(b, (char)ch);
			break;
		}
	}
	return rc ? rc : buf_addch(b, '"');
}

static int add_field(struct buf *b, const char *key, const char *value, bool first)
{
	int rc;

	if ((rc = buf_addf(b, "%s\"%s\":", first ? "" : ",", key)))
		return rc;
	return value ? add_string(b, value) : buf_adds(b, "null");
}

int audit_canonical(struct buf *out, const struct audit_stored *ev)
{
	char at[AUDIT_TIME_LEN];
	int rc;

	audit_time_format(at, ev->at_us);
	/* Keys in byte order: changing this order changes every hash. */
	if ((rc = buf_addch(out, '{')) ||
	    (rc = add_field(out, "action", ev->action, true)) ||
	    (rc = add_field(out, "actor", ev->actor, false)))
		return rc;
	rc = ev->has_actor_id ? buf_addf(out, ",\"actor_id\":%" PRId64, ev->actor_id) :
				buf_adds(out, ",\"actor_id\":null");
	if (rc ||
	    (rc = add_field(out, "after", ev->after, false)) ||
	    (rc = add_field(out, "at", at, false)) ||
	    (rc = add_field(out, "before", ev->before, false)) ||
	    (rc = add_field(out, "object_id", ev->object_id, false)) ||
	    (rc = add_field(out, "object_type", ev->object_type, false)) ||
	    (rc = add_field(out, "reason", ev->reason, false)) ||
	    (rc = add_field(out, "request_id", ev->request_id, false)) ||
	    (rc = add_field(out, "role", ev->role, false)) ||
	    (rc = buf_addf(out, ",\"seq\":%" PRId64, ev->seq)) ||
	    (rc = add_field(out, "source", ev->source, false)) ||
	    (rc = buf_addch(out, '}')))
		return rc;
	return 0;
}

void audit_chain_hash(merkle_hash out, const merkle_hash prev, const void *canonical, size_t len)
{
	struct crypto_sha256_ctx *ctx = crypto_sha256_new();

	crypto_sha256_update(ctx, prev, MERKLE_HASH_LEN);
	crypto_sha256_update(ctx, canonical, len);
	crypto_sha256_final(out, ctx);
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

/* Column i as text, or NULL for SQL NULL. */
static const char *col(const struct db_res *r, size_t row, size_t i)
{
	return db_res_get(r, row, i);
}

/* Record the first problem found and stop looking. */
static void chain_problem(struct audit_chain *ch, int64_t seq, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void chain_problem(struct audit_chain *ch, int64_t seq, const char *fmt, ...)
{
	va_list ap;

	ch->bad_seq = seq;
	va_start(ap, fmt);
	vsnprintf(ch->problem, sizeof(ch->problem), fmt, ap);
	va_end(ap);
}

int audit_verify_chain(struct audit_chain *out, struct db_conn *c)
{
	static const merkle_hash zero = { 0 };

	return audit_verify_chain_since(out, c, 0, zero);
}

int audit_event_hash(merkle_hash out, struct db_conn *c, int64_t seq)
{
	static const char sql[] = "SELECT hash FROM audit_events WHERE seq = $1::bigint";
	struct db_res *res = NULL;
	char seq_s[24];
	int rc;

	snprintf(seq_s, sizeof(seq_s), "%" PRId64, seq);
	{
		const struct db_param params[] = { DB_TEXT(seq_s) };

		if ((rc = db_exec(&res, c, sql, 1, params, true)))
			goto out;
	}
	if (db_res_rows(res) != 1) {
		rc = err_set(OTCM_ENOTFOUND, "seq", "event %" PRId64 " not found", seq);
		goto out;
	}
	if (db_res_len(res, 0, 0) != MERKLE_HASH_LEN) {
		rc = err_set(OTCM_EDB, NULL, "event %" PRId64 " has a malformed hash", seq);
		goto out;
	}
	memcpy(out, db_res_get(res, 0, 0), MERKLE_HASH_LEN);
out:
	db_res_free(res);
	return rc;
}

int audit_verify_chain_since(struct audit_chain *out, struct db_conn *c, uint64_t base,
			     const merkle_hash base_hash)
{
	static const char sql_head[] = "SELECT seq, encode(hash, 'hex') FROM audit_head";
	static const char sql_page[] =
		"SELECT seq, (extract(epoch FROM at) * 1000000)::bigint, actor_id, actor, role, source,"
		" request_id, action, object_type, object_id, before::text, after::text, reason,"
		" encode(prev_hash, 'hex'), encode(hash, 'hex')"
		" FROM audit_events WHERE seq > $1::bigint ORDER BY seq LIMIT 10000";
	struct audit_chain ch = { 0 };
	struct db_res *res = NULL;
	struct buf canon = BUF_INIT;
	merkle_hash prev = { 0 }, head_hash;
	size_t alloc = 0;
	bool head_hash_ok;
	int rc;

	assert(out && c);
	if ((rc = db_exec(&res, c, sql_head, 0, NULL, false)))
		goto out;
	if (db_res_rows(res) != 1) {
		rc = err_set(OTCM_EDB, NULL, "table 'audit_head' has no row");
		goto out;
	}
	ch.head_seq = strtoll(col(res, 0, 0), NULL, 10);
	ch.base = ch.verified = base;
	memcpy(prev, base_hash, sizeof(prev));
	head_hash_ok = col(res, 0, 1) && !crypto_unhex(head_hash, sizeof(head_hash), col(res, 0, 1));
	db_res_free(res);
	res = NULL;

	while (ch.bad_seq == 0) {
		char after_s[24];
		size_t rows;

		snprintf(after_s, sizeof(after_s), "%" PRIu64, ch.verified);
		{
			const struct db_param params[] = { DB_TEXT(after_s) };

			if ((rc = db_exec(&res, c, sql_page, 1, params, false)))
				goto out;
		}
		rows = db_res_rows(res);
		for (size_t i = 0; i < rows && ch.bad_seq == 0; i++) {
			int64_t want = (int64_t)ch.verified + 1, seq = strtoll(col(res, i, 0), NULL, 10);
			merkle_hash stored_prev, stored, hash;
			struct audit_stored st;

			if (seq != want) {
				chain_problem(&ch, want, "event %" PRId64 " is missing (the next stored "
					      "event is %" PRId64 ")", want, seq);
				break;
			}
			if (!col(res, i, 13) || crypto_unhex(stored_prev, sizeof(stored_prev), col(res, i, 13)) ||
			    !col(res, i, 14) || crypto_unhex(stored, sizeof(stored), col(res, i, 14))) {
				chain_problem(&ch, seq, "event %" PRId64 " has no valid hash columns", seq);
				break;
			}
			if (!crypto_equal(stored_prev, prev, sizeof(prev))) {
				chain_problem(&ch, seq, "event %" PRId64 ": prev_hash is not the hash of "
					      "event %" PRId64, seq, seq - 1);
				break;
			}
			st = (struct audit_stored){
				.seq = seq,
				.at_us = strtoll(col(res, i, 1), NULL, 10),
				.has_actor_id = col(res, i, 2) != NULL,
				.actor_id = col(res, i, 2) ? strtoll(col(res, i, 2), NULL, 10) : 0,
				.actor = col(res, i, 3),
				.role = col(res, i, 4),
				.source = col(res, i, 5),
				.request_id = col(res, i, 6),
				.action = col(res, i, 7),
				.object_type = col(res, i, 8),
				.object_id = col(res, i, 9),
				.before = col(res, i, 10),
				.after = col(res, i, 11),
				.reason = col(res, i, 12),
			};
			buf_reset(&canon);
			if ((rc = audit_canonical(&canon, &st)))
				goto out;
			audit_chain_hash(hash, prev, canon.data, canon.len);
			if (!crypto_equal(hash, stored, sizeof(hash))) {
				chain_problem(&ch, seq, "event %" PRId64 " does not match its hash: it was "
					      "changed after it was written", seq);
				break;
			}
			if (ch.verified - ch.base == alloc) {
				alloc = alloc ? 2 * alloc : 1024;
				ch.leaves = xrealloc(ch.leaves, alloc * sizeof(merkle_hash));
			}
			memcpy(ch.leaves[ch.verified++ - ch.base], hash, sizeof(hash));
			memcpy(prev, hash, sizeof(prev));
		}
		db_res_free(res);
		res = NULL;
		if (rows == 0)
			break;
	}
	if (ch.bad_seq == 0 && ch.head_seq != (int64_t)ch.verified) {
		if (ch.head_seq > (int64_t)ch.verified)
			chain_problem(&ch, (int64_t)ch.verified + 1, "events %" PRIu64 " to %" PRId64
				      " are missing (audit_head counts %" PRId64 ")",
				      ch.verified + 1, ch.head_seq, ch.head_seq);
		else
			chain_problem(&ch, ch.head_seq + 1, "events after %" PRId64 " are not counted "
				      "by audit_head", ch.head_seq);
	} else if (ch.bad_seq == 0 && (!head_hash_ok || !crypto_equal(head_hash, prev, sizeof(prev)))) {
		chain_problem(&ch, ch.head_seq, "audit_head's hash is not the hash of event %" PRId64,
			      ch.head_seq);
	}
	*out = ch;
	memset(&ch, 0, sizeof(ch));
out:
	free(ch.leaves);
	buf_release(&canon);
	db_res_free(res);
	return rc;
}

void audit_chain_release(struct audit_chain *chain)
{
	if (!chain)
		return;
	free(chain->leaves);
	memset(chain, 0, sizeof(*chain));
}
