/*
 * tests/unit/storage/test_assets_keyset.c - the asset list pages by index
 * against a real database: with thousands of assets, the first page, a page
 * after a cursor and a prefix search are read without a scan of the assets
 * table (pg_stat_xact_user_tables counts this transaction's scans), and the
 * pages follow each other in byte order of the path.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "storage/assets.h"
#include "storage/db.h"
#include "testdb.h"

static struct testdb tdb;

static int group_setup(void **state)
{
	(void)state;
	log_set_level(LOG_ERROR);
	return testdb_setup_migrated(&tdb);
}

static int group_teardown(void **state)
{
	(void)state;
	testdb_teardown(&tdb);
	return 0;
}

/* This transaction's sequential scans of the assets table. */
static long seq_scans(struct db_conn *c)
{
	struct db_res *r = NULL;
	long n;

	assert_int_equal(db_exec(&r, c, "SELECT coalesce(seq_scan, 0) FROM pg_stat_xact_user_tables"
				 " WHERE relname = 'assets'", 0, NULL, false), 0);
	n = atol(db_res_get(r, 0, 0));
	db_res_free(r);
	return n;
}

/* One page of q, in a transaction of its own; the paths in *out (json_decref). */
static void page(json_t **out, bool *more, struct db_conn *c, const struct asset_query *q)
{
	assert_int_equal(db_begin(c), 0);
	assert_int_equal(assets_list(out, more, c, q), 0);
	assert_int_equal(seq_scans(c), 0);
	assert_int_equal(db_rollback(c), 0);
}

static void test_pages_by_index(void **state)
{
	struct db_conn *c = NULL;
	json_t *first = NULL, *next = NULL, *found = NULL;
	bool more = false;
	const char *last;

	(void)state;
	assert_int_equal(db_connect(&c, tdb.conninfo), 0);
	assert_int_equal(db_exec(NULL, c, "INSERT INTO users (username, display_name, role, password_hash)"
				 " VALUES ('keyset', 'Keyset', 'admin', '!')", 0, NULL, false), 0);
	/* upper and lower case: byte order puts 'Z' before 'a' */
	assert_int_equal(db_exec(NULL, c, "INSERT INTO assets (path, type, created_by)"
				 " SELECT format('site-%s/%s/plc-%s', i % 4, CASE WHEN i % 2 = 0 THEN 'Zone' ELSE 'area' END,"
				 " i), 'plc', (SELECT id FROM users) FROM generate_series(1, 5000) i", 0, NULL, false), 0);
	assert_int_equal(db_exec(NULL, c, "ANALYZE assets", 0, NULL, false), 0);

	page(&first, &more, c, &(struct asset_query){ .limit = 50 });
	assert_int_equal(json_array_size(first), 50);
	assert_true(more);
	assert_string_equal(json_string_value(json_object_get(json_array_get(first, 0), "path")),
			    "site-0/Zone/plc-100");
	last = json_string_value(json_object_get(json_array_get(first, 49), "path"));
	page(&next, &more, c, &(struct asset_query){ .after = last, .limit = 50 });
	assert_int_equal(json_array_size(next), 50);
	assert_true(strcmp(json_string_value(json_object_get(json_array_get(next, 0), "path")), last) > 0);
	page(&found, &more, c, &(struct asset_query){ .prefix = "site-3/area", .limit = 50 });
	assert_int_equal(json_array_size(found), 50);
	assert_true(more);

	json_decref(first);
	json_decref(next);
	json_decref(found);
	db_disconnect(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pages_by_index),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
