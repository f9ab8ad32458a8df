/* storage/drills.c - the drills table; see drills.h. */
#include "storage/drills.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/err.h"
#include "core/mem.h"

int drills_insert(int64_t *out_id, struct db_conn *c, const struct drill_row *row)
{
	static const char sql[] =
		"INSERT INTO drills (backup_finished_at, ok, recovery_time_ms, recovery_point_ms,"
		" record, key_id, signature)"
		" VALUES ($1::timestamptz, $2::boolean, $3::bigint, $4::bigint, $5, $6, $7)"
		" RETURNING id";
	char rto[24], rpo[24];
	const char *v[7];
	struct db_res *res = NULL;
	int rc;

	snprintf(rto, sizeof(rto), "%" PRId64, row->recovery_time_ms);
	snprintf(rpo, sizeof(rpo), "%" PRId64, row->recovery_point_ms);
	v[0] = row->backup_finished_at;
	v[1] = row->ok ? "true" : "false";
	v[2] = rto;
	v[3] = row->recovery_point_ms >= 0 ? rpo : NULL;
	v[4] = row->record;
	v[5] = row->key_id;
	v[6] = row->signature;
	if ((rc = db_execv(&res, c, sql, 7, v)))
		goto out;
	*out_id = strtoll(db_res_get(res, 0, 0), NULL, 10);
out:
	db_res_free(res);
	return rc;
}

int drills_list(json_t **out, struct db_conn *c, unsigned limit)
{
	static const char sql[] =
		"SELECT coalesce(json_agg(d ORDER BY d.id DESC), '[]')::text FROM ("
		" SELECT id, to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
		"  AS recorded_at, ok, recovery_time_ms, recovery_point_ms,"
		" to_char(backup_finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
		"  AS backup_finished_at, record, key_id, signature"
		" FROM drills ORDER BY id DESC LIMIT $1::int) d";
	char n[16];
	const char *v[1] = { n };
	struct db_res *res = NULL;
	json_error_t jerr;
	json_t *list;
	int rc;

	snprintf(n, sizeof(n), "%u", limit);
	if ((rc = db_execv(&res, c, sql, 1, v)))
		goto out;
	list = json_loads(db_res_get(res, 0, 0), 0, &jerr);
	if (!list) {
		rc = err_set(OTCM_EDB, NULL, "drills: unreadable list: %s", jerr.text);
		goto out;
	}
	*out = list;
out:
	db_res_free(res);
	return rc;
}

int drills_newest_passed(int64_t *out_age_s, char **out_at, struct db_conn *c, const char *as_of)
{
	static const char sql[] =
		"SELECT floor(extract(epoch FROM least($1::timestamptz, now()) - max(recorded_at)))::bigint,"
		" to_char(max(recorded_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
		" FROM drills WHERE ok AND recorded_at <= least($1::timestamptz, now())";
	const char *v[1] = { as_of };
	struct db_res *res = NULL;
	int rc;

	if ((rc = db_execv(&res, c, sql, 1, v)))
		return rc;
	*out_age_s = db_res_isnull(res, 0, 0) ? -1 : strtoll(db_res_get(res, 0, 0), NULL, 10);
	*out_at = db_res_isnull(res, 0, 1) ? NULL : xstrdup(db_res_get(res, 0, 1));
	db_res_free(res);
	return 0;
}

int drills_in_period(json_t **out, struct db_conn *c, const char *from, const char *to)
{
	static const char sql[] =
		"SELECT coalesce(json_agg(d ORDER BY d.id), '[]')::text FROM ("
		" SELECT id, to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
		"  AS recorded_at, ok, recovery_time_ms, recovery_point_ms,"
		" to_char(backup_finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
		"  AS backup_finished_at, key_id"
		" FROM drills WHERE recorded_at >= $1::timestamptz AND recorded_at < $2::timestamptz) d";
	const char *v[2] = { from, to };
	struct db_res *res = NULL;
	json_error_t jerr;
	int rc;

	if ((rc = db_execv(&res, c, sql, 2, v)))
		return rc;
	*out = json_loads(db_res_get(res, 0, 0), 0, &jerr);
	db_res_free(res);
	if (!*out)
		return err_set(OTCM_EDB, NULL, "drills: unreadable list: %s", jerr.text);
	return 0;
}
