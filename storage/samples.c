/* storage/samples.c - the samples table; see samples.h. */
#include "storage/samples.h"

#include <stdlib.h>

#include "storage/record_sql.h"

#define SAMPLE_JSON                                                                          \
	"json_build_object('id', s.id, 'taken_at', " TS("s.taken_at") ", 'taken_by', u.username, " \
	"'from', " TS("s.period_from") ", 'to', " TS("s.period_to") ", 'size', s.size, "        \
	"'seed', s.seed, 'seed_source', s.seed_source, 'algorithm', s.algorithm, "               \
	"'population_size', s.population_size, 'population_sha256', s.population_sha256, "       \
	"'keys', s.keys)"

int samples_insert(json_t **out, struct db_conn *c, const struct sample_row *row)
{
	static const char sql[] =
		"INSERT INTO samples (taken_by, period_from, period_to, size, seed, seed_source, algorithm, "
		"population_size, population_sha256, keys) VALUES ($1::bigint, $2::timestamptz, "
		"$3::timestamptz, $4::int, $5, $6, $7, $8::int, $9, $10::jsonb) RETURNING id";
	char by[24], size[24], pop[24], *keys = json_dumps(row->keys, JSON_COMPACT);
	struct db_res *r = NULL;
	int rc;

	i64s(by, row->taken_by);
	i64s(size, row->size);
	i64s(pop, row->population_size);
	rc = db_execv(&r, c, sql, 10, (const char *[]){ by, row->from, row->to, size, row->seed,
		      row->seed_source, row->algorithm, pop, row->population_sha256, keys });
	free(keys);
	if (rc == 0)
		rc = samples_get(out, c, to_i64(db_res_get(r, 0, 0)));
	db_res_free(r);
	return rc;
}

int samples_get(json_t **out, struct db_conn *c, int64_t id)
{
	static const char sql[] =
		"SELECT " SAMPLE_JSON " FROM samples s JOIN users u ON u.id = s.taken_by WHERE s.id = $1::bigint";
	char sid[24];

	i64s(sid, id);
	return query_json(out, c, sql, 1, (const char *[]){ sid }, "sample", sid);
}

int samples_list(json_t **out, struct db_conn *c, unsigned limit)
{
	static const char sql[] =
		"SELECT coalesce(json_agg(x.j ORDER BY x.id DESC), '[]') FROM (SELECT s.id, " SAMPLE_JSON
		" AS j FROM samples s JOIN users u ON u.id = s.taken_by ORDER BY s.id DESC LIMIT $1::int) x";
	char n[24];

	i64s(n, (int64_t)limit);
	return query_json(out, c, sql, 1, (const char *[]){ n }, "samples", "");
}
