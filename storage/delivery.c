/* storage/delivery.c - the audit trail as an ordered outbox; see delivery.h. */
#include "storage/delivery.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"

int delivery_mark_get(int64_t *out, struct db_conn *c, const char *destination)
{
	static const char sql[] =
		"WITH made AS (INSERT INTO delivery_marks (destination) VALUES ($1)"
		" ON CONFLICT (destination) DO NOTHING RETURNING seq)"
		" SELECT seq FROM made UNION ALL"
		" SELECT seq FROM delivery_marks WHERE destination = $1";
	struct db_res *res = NULL;
	const char *v[1] = { destination };
	int rc;

	assert(out && c && destination);
	if ((rc = db_execv(&res, c, sql, 1, v)))
		goto out;
	if (db_res_rows(res) < 1) {
		rc = err_set(OTCM_EDB, NULL, "no delivery mark for '%s'", destination);
		goto out;
	}
	*out = strtoll(db_res_get(res, 0, 0), NULL, 10);
out:
	db_res_free(res);
	return rc;
}

int delivery_mark_move(struct db_conn *c, const char *destination, int64_t from, int64_t to)
{
	static const char sql[] =
		"UPDATE delivery_marks SET seq = $3::bigint, updated_at = now()"
		" WHERE destination = $1 AND seq = $2::bigint";
	struct db_res *res = NULL;
	char from_s[24], to_s[24];
	const char *v[3] = { destination, from_s, to_s };
	int rc;

	assert(c && destination && to > from);
	snprintf(from_s, sizeof(from_s), "%" PRId64, from);
	snprintf(to_s, sizeof(to_s), "%" PRId64, to);
	if ((rc = db_execv(&res, c, sql, 3, v)))
		goto out;
	if (db_res_affected(res) != 1)
		rc = err_set(OTCM_ECONFLICT, NULL, "the delivery mark of '%s' is no longer %" PRId64,
			     destination, from);
out:
	db_res_free(res);
	return rc;
}

int delivery_batch_read(struct delivery_batch *out, struct db_conn *c, int64_t after_seq,
			unsigned limit)
{
	static const char sql[] =
		"SELECT seq, (extract(epoch FROM at) * 1000000)::bigint, encode(hash, 'hex'), actor,"
		" role, source, request_id, action, object_type, object_id, reason"
		" FROM audit_events WHERE seq > $1::bigint ORDER BY seq LIMIT $2::bigint";
	struct delivery_batch b = { 0 };
	char after_s[24], limit_s[16];
	const char *v[2] = { after_s, limit_s };
	int rc;

	assert(out && c);
	snprintf(after_s, sizeof(after_s), "%" PRId64, after_seq);
	snprintf(limit_s, sizeof(limit_s), "%u", limit);
	if ((rc = db_execv(&b.res, c, sql, 2, v)))
		goto out;
	b.n = db_res_rows(b.res);
	b.events = b.n ? xcalloc(b.n, sizeof(*b.events)) : NULL;
	for (size_t i = 0; i < b.n; i++) {
		struct siem_event *e = &b.events[i];

		e->seq = strtoll(db_res_get(b.res, i, 0), NULL, 10);
		e->at_us = strtoll(db_res_get(b.res, i, 1), NULL, 10);
		e->hash = db_res_get(b.res, i, 2);
		e->actor = db_res_get(b.res, i, 3);
		e->role = db_res_get(b.res, i, 4);
		e->source = db_res_get(b.res, i, 5);
		e->request_id = db_res_get(b.res, i, 6);
		e->action = db_res_get(b.res, i, 7);
		e->object_type = db_res_get(b.res, i, 8);
		e->object_id = db_res_get(b.res, i, 9);
		e->reason = db_res_get(b.res, i, 10);
		if (e->seq != after_seq + (int64_t)i + 1) {
			rc = err_set(OTCM_EDB, NULL, "audit event %" PRId64 " is missing",
				     after_seq + (int64_t)i + 1);
			goto out;
		}
	}
	*out = b;
	memset(&b, 0, sizeof(b));
out:
	delivery_batch_release(&b);
	return rc;
}

void delivery_batch_release(struct delivery_batch *b)
{
	if (!b)
		return;
	free(b->events);
	db_res_free(b->res);
	memset(b, 0, sizeof(*b));
}
