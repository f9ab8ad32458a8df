/* tests/unit/storage/test_db.c - the pool, statements, errors and migrations against a real PostgreSQL. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "storage/db.h"
#include "testdb.h"

static struct testdb tdb;

static int group_setup(void **state)
{
	(void)state;
	log_set_level(LOG_WARN);
	return testdb_setup(&tdb);
}

static int group_teardown(void **state)
{
	(void)state;
	testdb_teardown(&tdb);
	return 0;
}

static struct db_conn *connect_fresh(void)
{
	struct db_conn *c = NULL;

	assert_int_equal(db_connect(&c, tdb.conninfo), 0);
	return c;
}

static void test_text_params_and_results(void **state)
{
	struct db_conn *c = connect_fresh();
	struct db_res *r = NULL;
	const char *vals[] = { "plc", "41" };

	(void)state;
	assert_int_equal(db_execv(&r, c, "SELECT $1::text || '-1' AS name, $2::int + 1 AS n", 2, vals), 0);
	assert_int_equal(db_res_rows(r), 1);
	assert_int_equal(db_res_cols(r), 2);
	assert_string_equal(db_res_get(r, 0, 0), "plc-1");
	assert_string_equal(db_res_get(r, 0, (size_t)db_res_col(r, "n")), "42");
	assert_int_equal(db_res_len(r, 0, 0), 5);
	assert_int_equal(db_res_col(r, "missing"), -1);
	db_res_free(r);
	db_disconnect(c);
}

static void test_binary_params_and_results(void **state)
{
	static const unsigned char blob[] = { 0x00, 0xff, 0x10, 0x00, 0x7f };
	struct db_conn *c = connect_fresh();
	struct db_res *r = NULL;
	struct db_param p[] = { DB_BYTES(blob, sizeof(blob)) };
	const unsigned char *v;

	(void)state;
	/* Text results: bytea comes back hex-escaped. */
	assert_int_equal(db_exec(&r, c, "SELECT $1::bytea, length($1::bytea)", 1, p, false), 0);
	assert_string_equal(db_res_get(r, 0, 0), "\\x00ff10007f");
	assert_string_equal(db_res_get(r, 0, 1), "5");
	db_res_free(r);
	r = NULL;

	/* Binary results: raw bytes, NULs included; int4 in network order. */
	assert_int_equal(db_exec(&r, c, "SELECT $1::bytea, length($1::bytea)", 1, p, true), 0);
	assert_int_equal(db_res_len(r, 0, 0), sizeof(blob));
	assert_memory_equal(db_res_get(r, 0, 0), blob, sizeof(blob));
	assert_int_equal(db_res_len(r, 0, 1), 4);
	v = (const unsigned char *)db_res_get(r, 0, 1);
	assert_int_equal(v[0] << 24 | v[1] << 16 | v[2] << 8 | v[3], 5);
	db_res_free(r);
	db_disconnect(c);
}

static void test_nulls(void **state)
{
	struct db_conn *c = connect_fresh();
	struct db_res *r = NULL;
	struct db_param p[] = { DB_NULL, DB_TEXT("x"), DB_BYTES(NULL, 0) };

	(void)state;
	assert_int_equal(db_exec(&r, c, "SELECT $1::text, $2::text, $3::bytea, ''::text", 3, p, false), 0);
	assert_true(db_res_isnull(r, 0, 0));
	assert_null(db_res_get(r, 0, 0));
	assert_false(db_res_isnull(r, 0, 1));
	assert_null(db_res_get(r, 0, 2));
	assert_false(db_res_isnull(r, 0, 3));
	assert_string_equal(db_res_get(r, 0, 3), "");
	db_res_free(r);
	db_disconnect(c);
}

static void test_errors_map_to_codes(void **state)
{
	struct db_conn *c = connect_fresh();
	struct db_res *r = NULL;

	(void)state;
	assert_int_equal(db_exec(NULL, c, "CREATE TABLE t_unique (k text PRIMARY KEY)", 0, NULL, false), 0);
	assert_int_equal(db_exec(&r, c, "INSERT INTO t_unique VALUES ('a'), ('b')", 0, NULL, false), 0);
	assert_int_equal(db_res_affected(r), 2);
	db_res_free(r);
	assert_int_equal(db_exec(NULL, c, "INSERT INTO t_unique VALUES ('a')", 0, NULL, false),
			 OTCM_ECONFLICT);
	assert_non_null(strstr(err_message(), "duplicate key"));

	assert_int_equal(db_exec(NULL, c, "DO $$ BEGIN RAISE EXCEPTION 'try again'"
				 " USING ERRCODE = 'serialization_failure'; END $$", 0, NULL, false),
			 OTCM_ERETRY);
	assert_string_equal(err_message(), "try again");
	assert_int_equal(db_exec(NULL, c, "DO $$ BEGIN RAISE EXCEPTION 'cycle'"
				 " USING ERRCODE = 'deadlock_detected'; END $$", 0, NULL, false),
			 OTCM_ERETRY);
	assert_int_equal(db_exec(NULL, c, "SELECT * FROM no_such_table", 0, NULL, false), OTCM_EDB);
	assert_non_null(strstr(err_message(), "no_such_table"));
	db_disconnect(c);

	assert_int_equal(db_connect(&c, "host=/nonexistent-otcm-socket-dir dbname=x connect_timeout=1"),
			 OTCM_EUNAVAIL);
}

static void test_transactions(void **state)
{
	struct db_conn *c = connect_fresh();
	struct db_res *r = NULL;

	(void)state;
	assert_int_equal(db_exec(NULL, c, "CREATE TABLE t_tx (k text PRIMARY KEY)", 0, NULL, false), 0);
	assert_false(db_in_transaction(c));
	assert_int_equal(db_begin(c), 0);
	assert_true(db_in_transaction(c));
	assert_int_equal(db_begin(c), OTCM_EINTERNAL);
	assert_int_equal(db_exec(NULL, c, "INSERT INTO t_tx VALUES ('kept')", 0, NULL, false), 0);
	assert_int_equal(db_commit(c), 0);
	assert_false(db_in_transaction(c));
	assert_int_equal(db_commit(c), OTCM_EINTERNAL);

	/* A failed statement aborts the transaction; commit must not report success. */
	assert_int_equal(db_begin(c), 0);
	assert_int_equal(db_exec(NULL, c, "INSERT INTO t_tx VALUES ('lost')", 0, NULL, false), 0);
	assert_int_equal(db_exec(NULL, c, "INSERT INTO t_tx VALUES ('kept')", 0, NULL, false),
			 OTCM_ECONFLICT);
	assert_true(db_in_transaction(c));
	assert_int_not_equal(db_commit(c), 0);
	assert_false(db_in_transaction(c));

	assert_int_equal(db_begin(c), 0);
	assert_int_equal(db_exec(NULL, c, "INSERT INTO t_tx VALUES ('undone')", 0, NULL, false), 0);
	assert_int_equal(db_rollback(c), 0);
	assert_int_equal(db_rollback(c), 0);

	assert_int_equal(db_exec(&r, c, "SELECT string_agg(k, ',' ORDER BY k) FROM t_tx", 0, NULL, false), 0);
	assert_string_equal(db_res_get(r, 0, 0), "kept");
	db_res_free(r);
	db_disconnect(c);
}

/*
 * COPY FROM STDIN: rows in text format, split across chunks at odd places
 * and larger than one piece, land whole; in a transaction a failing COPY
 * (a duplicate key) is undone alone and the transaction goes on.
 */
static void test_copy_in(void **state)
{
	struct db_conn *c = connect_fresh();
	struct db_res *r = NULL;
	size_t big = DB_COPY_PIECE * 3 + 17;
	char *row = xmalloc(big + 16);
	struct db_chunk chunks[3];

	(void)state;
	assert_int_equal(db_exec(NULL, c, "CREATE TABLE t_copy (k text PRIMARY KEY, v text)", 0, NULL,
				 false), 0);
	/* "a\t<big>\n" cut in three chunks, one of them longer than a piece */
	memcpy(row, "a\t", 2);
	memset(row + 2, 'x', big);
	row[2 + big] = '\n';
	chunks[0] = (struct db_chunk){ row, 1 };
	chunks[1] = (struct db_chunk){ row + 1, big };
	chunks[2] = (struct db_chunk){ row + 1 + big, 2 };
	assert_int_equal(db_copy_in(c, "COPY t_copy (k, v) FROM STDIN", chunks, 3), 0);
	assert_int_equal(db_exec(&r, c, "SELECT length(v), v = repeat('x', length(v)) FROM t_copy", 0,
				 NULL, false), 0);
	assert_int_equal(db_res_rows(r), 1);
	assert_int_equal(strtoul(db_res_get(r, 0, 0), NULL, 10), big);
	assert_string_equal(db_res_get(r, 0, 1), "t");
	db_res_free(r);
	r = NULL;

	assert_int_equal(db_begin(c), 0);
	assert_int_equal(db_exec(NULL, c, "INSERT INTO t_copy VALUES ('b', 'before')", 0, NULL, false), 0);
	chunks[0] = (struct db_chunk){ "c\tnew\na\tagain\n", strlen("c\tnew\na\tagain\n") };
	assert_int_equal(db_copy_in(c, "COPY t_copy (k, v) FROM STDIN", chunks, 1), OTCM_ECONFLICT);
	assert_int_equal(db_exec(NULL, c, "INSERT INTO t_copy VALUES ('d', 'after')", 0, NULL, false), 0);
	chunks[0] = (struct db_chunk){ "e\tcopied\n", 9 };
	assert_int_equal(db_copy_in(c, "COPY t_copy (k, v) FROM STDIN", chunks, 1), 0);
	assert_true(db_in_transaction(c));
	assert_int_equal(db_commit(c), 0);
	assert_int_equal(db_exec(&r, c, "SELECT string_agg(k, ',' ORDER BY k) FROM t_copy", 0, NULL,
				 false), 0);
	assert_string_equal(db_res_get(r, 0, 0), "a,b,d,e");
	db_res_free(r);
	r = NULL;

	/* not a COPY, and bad data: errors, the connection still usable */
	assert_int_equal(db_copy_in(c, "SELECT 1", NULL, 0), OTCM_EINTERNAL);
	chunks[0] = (struct db_chunk){ "only-one-column\n", 16 };
	assert_int_equal(db_copy_in(c, "COPY t_copy (k, v) FROM STDIN", chunks, 1), OTCM_EDB);
	assert_int_equal(db_ping(c), 0);
	free(row);
	db_disconnect(c);
}

static void test_release_rolls_back(void **state)
{
	struct db_pool *pool = NULL;
	struct db_conn *c = NULL;
	struct db_res *r = NULL;

	(void)state;
	assert_int_equal(db_pool_new(&pool, tdb.conninfo, 1), 0);
	assert_int_equal(db_acquire(&c, pool), 0);
	assert_int_equal(db_exec(NULL, c, "CREATE TABLE t_release (k text)", 0, NULL, false), 0);
	assert_int_equal(db_begin(c), 0);
	assert_int_equal(db_exec(NULL, c, "INSERT INTO t_release VALUES ('x')", 0, NULL, false), 0);
	db_release(c);
	db_release(NULL);

	c = NULL;
	assert_int_equal(db_acquire(&c, pool), 0);
	assert_false(db_in_transaction(c));
	assert_int_equal(db_exec(&r, c, "SELECT count(*) FROM t_release", 0, NULL, false), 0);
	assert_string_equal(db_res_get(r, 0, 0), "0");
	db_res_free(r);

	/* An aborted transaction is cleaned up as well. */
	assert_int_equal(db_begin(c), 0);
	assert_int_equal(db_exec(NULL, c, "SELECT 1/0", 0, NULL, false), OTCM_EDB);
	db_release(c);
	c = NULL;
	assert_int_equal(db_acquire(&c, pool), 0);
	assert_false(db_in_transaction(c));
	assert_int_equal(db_exec(NULL, c, "SELECT 1", 0, NULL, false), 0);
	db_release(c);
	db_pool_free(pool);
}

static void test_pool_reconnects(void **state)
{
	struct db_pool *pool = NULL;
	struct db_conn *c = NULL, *killer = connect_fresh();
	struct db_res *r = NULL;
	const char *pid;

	(void)state;
	assert_int_equal(db_pool_new(&pool, tdb.conninfo, 1), 0);
	assert_int_equal(db_acquire(&c, pool), 0);
	assert_int_equal(db_exec(&r, c, "SELECT pg_backend_pid()::text", 0, NULL, false), 0);
	db_release(c);
	pid = db_res_get(r, 0, 0);
	assert_int_equal(db_execv(NULL, killer, "SELECT pg_terminate_backend($1::int, 5000)", 1, &pid), 0);
	db_res_free(r);

	/* The first use finds the connection dead; the next acquire brings it back. */
	c = NULL;
	assert_int_equal(db_acquire(&c, pool), 0);
	assert_int_equal(db_exec(NULL, c, "SELECT 1", 0, NULL, false), OTCM_EUNAVAIL);
	db_release(c);
	c = NULL;
	assert_int_equal(db_acquire(&c, pool), 0);
	assert_int_equal(db_exec(NULL, c, "SELECT 1", 0, NULL, false), 0);
	db_release(c);
	db_pool_free(pool);
	db_disconnect(killer);
}

/* Pooled connections prepare a statement once and reuse it, across reconnects too. */
static void test_pool_prepares_statements(void **state)
{
	static const char add[] = "SELECT ($1::int + 1)::text";
	static const char count[] =
		"SELECT count(*)::text FROM pg_prepared_statements WHERE statement = $1";
	struct db_pool *pool = NULL;
	struct db_conn *c = NULL, *killer = connect_fresh();
	struct db_res *r = NULL;
	const char *one = "1", *many = "41", *text = add, *pid;

	(void)state;
	assert_int_equal(db_pool_new(&pool, tdb.conninfo, 1), 0);
	assert_int_equal(db_acquire(&c, pool), 0);
	assert_int_equal(db_execv(&r, c, add, 1, &one), 0);
	assert_string_equal(db_res_get(r, 0, 0), "2");
	db_res_free(r);
	assert_int_equal(db_execv(&r, c, add, 1, &many), 0);
	assert_string_equal(db_res_get(r, 0, 0), "42");
	db_res_free(r);
	assert_int_equal(db_execv(&r, c, count, 1, &text), 0);
	assert_string_equal(db_res_get(r, 0, 0), "1");
	db_res_free(r);

	/* a bad statement reports its own error, in and out of a transaction */
	assert_int_equal(db_exec(NULL, c, "SELECT no_such_column", 0, NULL, false), OTCM_EDB);
	assert_non_null(strstr(err_message(), "no_such_column"));
	assert_int_equal(db_begin(c), 0);
	assert_int_equal(db_exec(NULL, c, "SELECT no_such_column", 0, NULL, false), OTCM_EDB);
	assert_non_null(strstr(err_message(), "no_such_column"));
	assert_int_equal(db_rollback(c), 0);
	assert_int_equal(db_execv(&r, c, add, 1, &one), 0);
	assert_string_equal(db_res_get(r, 0, 0), "2");
	db_res_free(r);

	/* a new backend has none of the old statements: they are prepared again */
	assert_int_equal(db_exec(&r, c, "SELECT pg_backend_pid()::text", 0, NULL, false), 0);
	db_release(c);
	pid = db_res_get(r, 0, 0);
	assert_int_equal(db_execv(NULL, killer, "SELECT pg_terminate_backend($1::int, 5000)", 1, &pid), 0);
	db_res_free(r);
	c = NULL;
	assert_int_equal(db_acquire(&c, pool), 0);
	(void)db_exec(NULL, c, "SELECT 1", 0, NULL, false); /* finds it dead */
	db_release(c);
	c = NULL;
	assert_int_equal(db_acquire(&c, pool), 0);
	assert_int_equal(db_execv(&r, c, add, 1, &many), 0);
	assert_string_equal(db_res_get(r, 0, 0), "42");
	db_res_free(r);
	db_release(c);
	db_pool_free(pool);
	db_disconnect(killer);
}

struct waiter {
	struct db_pool *pool;
	int rc;
	int done;
	pthread_mutex_t mu;
};

static void *acquire_thread(void *arg)
{
	struct waiter *w = arg;
	struct db_conn *c = NULL;
	int rc = db_acquire(&c, w->pool);

	db_release(c);
	pthread_mutex_lock(&w->mu);
	w->rc = rc;
	w->done = 1;
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static int waiter_done(struct waiter *w)
{
	int d;

	pthread_mutex_lock(&w->mu);
	d = w->done;
	pthread_mutex_unlock(&w->mu);
	return d;
}

static void test_pool_waits_for_a_connection(void **state)
{
	struct waiter w = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct db_conn *c = NULL;
	pthread_t th;

	(void)state;
	assert_int_equal(db_pool_new(&w.pool, tdb.conninfo, 1), 0);
	assert_int_equal(db_acquire(&c, w.pool), 0);
	assert_int_equal(pthread_create(&th, NULL, acquire_thread, &w), 0);
	usleep(200000);
	assert_false(waiter_done(&w));
	db_release(c);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_true(waiter_done(&w));
	assert_int_equal(w.rc, 0);
	db_pool_free(w.pool);
}

/* Migrations in their own schema, so they do not meet the real ones. */
static const struct db_migration test_migrations[] = {
	{ "schema/0001_a.sql", "CREATE TABLE mig_a (x int); INSERT INTO mig_a VALUES (1);" },
	{ "schema/0002_b.sql", "CREATE TABLE mig_b (y int); SELECT pg_sleep(0.2);" },
};

static void test_migrate_once(void **state)
{
	static const struct db_migration broken[] = {
		{ "schema/0001_a.sql", "" },
		{ "schema/0002_b.sql", "" },
		{ "schema/0003_c.sql", "CREATE TABLE mig_c (z int); SELECT * FROM nothing_here;" },
	};
	struct db_conn *c = connect_fresh();
	struct db_res *r = NULL;
	unsigned n = 99;

	(void)state;
	assert_int_equal(db_exec(NULL, c, "CREATE SCHEMA mig; SET search_path = mig", 0, NULL, false),
			 OTCM_EDB);   /* one statement at a time through db_exec */
	assert_int_equal(db_exec(NULL, c, "CREATE SCHEMA mig", 0, NULL, false), 0);
	assert_int_equal(db_exec(NULL, c, "SET search_path = mig", 0, NULL, false), 0);

	assert_int_equal(db_migrate(c, test_migrations, 2, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(db_migrate(c, test_migrations, 2, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(db_migrate(c, test_migrations, 2, NULL), 0);

	/* A failing migration leaves nothing behind and names itself. */
	assert_int_equal(db_migrate(c, broken, 3, &n), OTCM_EDB);
	assert_int_equal(n, 0);
	assert_non_null(strstr(err_message(), "schema/0003_c.sql"));
	assert_false(db_in_transaction(c));
	assert_int_equal(db_exec(&r, c, "SELECT to_regclass('mig_c') IS NULL,"
				 " (SELECT count(*) FROM schema_migrations)", 0, NULL, false), 0);
	assert_string_equal(db_res_get(r, 0, 0), "t");
	assert_string_equal(db_res_get(r, 0, 1), "2");
	db_res_free(r);

	/* The advisory lock is released: another session can take it at once. */
	assert_int_equal(db_exec(&r, c, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'",
				 0, NULL, false), 0);
	assert_string_equal(db_res_get(r, 0, 0), "0");
	db_res_free(r);

	/* Refused inside a transaction. */
	assert_int_equal(db_begin(c), 0);
	assert_int_equal(db_migrate(c, test_migrations, 2, &n), OTCM_EINTERNAL);
	assert_int_equal(db_rollback(c), 0);
	db_disconnect(c);
}

static void test_migrate_real_schema(void **state)
{
	struct db_conn *c = connect_fresh();
	struct db_res *r = NULL;
	unsigned n = 0;

	(void)state;
	assert_true(db_schema_count >= 1);
	assert_int_equal(db_exec(NULL, c, "CREATE SCHEMA real_schema", 0, NULL, false), 0);
	assert_int_equal(db_exec(NULL, c, "SET search_path = real_schema", 0, NULL, false), 0);
	assert_int_equal(db_migrate(c, db_schema, db_schema_count, &n), 0);
	assert_int_equal(n, db_schema_count);
	assert_int_equal(db_migrate(c, db_schema, db_schema_count, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(db_exec(&r, c, "SELECT seq FROM audit_head", 0, NULL, false), 0);
	assert_string_equal(db_res_get(r, 0, 0), "0");
	db_res_free(r);
	db_disconnect(c);
}

struct migrator {
	const char *schema;
	int rc;
	unsigned applied;
};

static void *migrate_thread(void *arg)
{
	struct migrator *m = arg;
	struct db_conn *c = NULL;
	char *set = xasprintf("SET search_path = %s", m->schema);

	m->rc = db_connect(&c, tdb.conninfo);
	if (!m->rc)
		m->rc = db_exec(NULL, c, set, 0, NULL, false);
	if (!m->rc)
		m->rc = db_migrate(c, test_migrations, 2, &m->applied);
	db_disconnect(c);
	free(set);
	return NULL;
}

static void test_migrate_concurrently(void **state)
{
	struct migrator m[3] = { { "race", 0, 0 }, { "race", 0, 0 }, { "race", 0, 0 } };
	struct db_conn *c = connect_fresh();
	pthread_t th[3];

	(void)state;
	assert_int_equal(db_exec(NULL, c, "CREATE SCHEMA race", 0, NULL, false), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&th[i], NULL, migrate_thread, &m[i]), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(m[i].rc, 0);
	assert_int_equal(m[0].applied + m[1].applied + m[2].applied, 2);
	db_disconnect(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_params_and_results),
		cmocka_unit_test(test_binary_params_and_results),
		cmocka_unit_test(test_nulls),
		cmocka_unit_test(test_errors_map_to_codes),
		cmocka_unit_test(test_transactions),
		cmocka_unit_test(test_copy_in),
		cmocka_unit_test(test_release_rolls_back),
		cmocka_unit_test(test_pool_reconnects),
		cmocka_unit_test(test_pool_waits_for_a_connection),
		cmocka_unit_test(test_pool_prepares_statements),
		cmocka_unit_test(test_migrate_once),
		cmocka_unit_test(test_migrate_real_schema),
		cmocka_unit_test(test_migrate_concurrently),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
