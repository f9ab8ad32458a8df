/* tests/unit/storage/test_audit.c - the audit trail: gapless numbers, append-only, listing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "storage/audit.h"
#include "storage/db.h"
#include "testdb.h"

static struct testdb tdb;

static int group_setup(void **state)
{
	(void)state;
	log_set_level(LOG_WARN);
	return testdb_setup_migrated(&tdb) ? -1 : 0;
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

static int64_t head_seq(struct db_conn *c)
{
	struct db_res *r = NULL;
	int64_t seq;

	assert_int_equal(db_exec(&r, c, "SELECT seq FROM audit_head", 0, NULL, false), 0);
	seq = strtoll(db_res_get(r, 0, 0), NULL, 10);
	db_res_free(r);
	return seq;
}

static int append(int64_t *out_seq, struct db_conn *c, const char *action, const char *object_id)
{
	struct audit_event ev = {
		.actor = "system", .action = action, .object_type = "test", .object_id = object_id,
	};

	return audit_append(out_seq, c, &ev);
}

static void test_refused_outside_transaction(void **state)
{
	struct db_conn *c = connect_fresh();
	int64_t seq = -1;

	(void)state;
	assert_int_equal(append(&seq, c, "test.none", NULL), OTCM_EINTERNAL);
	assert_int_equal(seq, -1);
	db_disconnect(c);
}

static void test_seq_gapless_after_rollback(void **state)
{
	struct db_conn *c = connect_fresh();
	int64_t start, a = 0, b = 0, lost = 0, d = 0;

	(void)state;
	start = head_seq(c);
	assert_int_equal(db_begin(c), 0);
	assert_int_equal(append(&a, c, "test.one", "g"), 0);
	assert_int_equal(append(&b, c, "test.two", "g"), 0);
	assert_int_equal(db_commit(c), 0);
	assert_int_equal(a, start + 1);
	assert_int_equal(b, start + 2);

	assert_int_equal(db_begin(c), 0);
	assert_int_equal(append(&lost, c, "test.lost", "g"), 0);
	assert_int_equal(lost, start + 3);
	assert_int_equal(db_rollback(c), 0);

	assert_int_equal(db_begin(c), 0);
	assert_int_equal(append(&d, c, "test.three", "g"), 0);
	assert_int_equal(db_commit(c), 0);
	assert_int_equal(d, start + 3);
	assert_int_equal(head_seq(c), start + 3);
	db_disconnect(c);
}

static void test_append_only(void **state)
{
	static const char *const refused[] = {
		"UPDATE audit_events SET actor = 'mallory'",
		"DELETE FROM audit_events",
		"TRUNCATE audit_events",
	};
	struct db_conn *c = connect_fresh();
	struct db_res *r = NULL;

	(void)state;
	assert_int_equal(db_begin(c), 0);
	assert_int_equal(append(NULL, c, "test.kept", "ao"), 0);
	assert_int_equal(db_commit(c), 0);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		assert_int_equal(db_exec(NULL, c, refused[i], 0, NULL, false), OTCM_EDB);
		assert_non_null(strstr(err_message(), "append-only"));
	}
	assert_int_equal(db_exec(&r, c, "SELECT count(*) FROM audit_events WHERE actor = 'mallory'",
				 0, NULL, false), 0);
	assert_string_equal(db_res_get(r, 0, 0), "0");
	db_res_free(r);
	assert_int_equal(db_exec(&r, c, "SELECT count(*) FROM audit_events WHERE object_id = 'ao'",
				 0, NULL, false), 0);
	assert_string_equal(db_res_get(r, 0, 0), "1");
	db_res_free(r);
	db_disconnect(c);
}

static void test_list(void **state)
{
	struct db_conn *c = connect_fresh();
	json_t *before = json_pack("{s:s,s:i}", "name", "old", "n", 1);
	json_t *after = json_pack("{s:s,s:[i,i]}", "name", "new", "list", 1, 2);
	struct audit_event ev = {
		.actor_id = 0, .actor = "alice", .role = "engineer", .source = "127.0.0.1",
		.request_id = "req-1", .action = "asset.update", .object_type = "asset",
		.object_id = "plant/plc-1", .before = before, .after = after, .reason = "ticket 7",
	};
	json_t *list = NULL, *e;
	int64_t seq = 0, seq2 = 0;
	const char *at;

	(void)state;
	assert_int_equal(db_begin(c), 0);
	assert_int_equal(audit_append(&seq, c, &ev), 0);
	ev.before = NULL;
	ev.after = NULL;
	ev.role = ev.source = ev.request_id = ev.reason = NULL;
	ev.action = "asset.view";
	assert_int_equal(audit_append(&seq2, c, &ev), 0);
	assert_int_equal(append(NULL, c, "test.other", "plant/plc-1"), 0);
	assert_int_equal(db_commit(c), 0);

	assert_int_equal(audit_list(&list, c, "asset", "plant/plc-1", 0, 100), 0);
	assert_int_equal(json_array_size(list), 2);
	e = json_array_get(list, 0);
	assert_int_equal(json_integer_value(json_object_get(e, "seq")), seq);
	assert_true(json_is_null(json_object_get(e, "actor_id")));
	assert_string_equal(json_string_value(json_object_get(e, "actor")), "alice");
	assert_string_equal(json_string_value(json_object_get(e, "role")), "engineer");
	assert_string_equal(json_string_value(json_object_get(e, "source")), "127.0.0.1");
	assert_string_equal(json_string_value(json_object_get(e, "request_id")), "req-1");
	assert_string_equal(json_string_value(json_object_get(e, "action")), "asset.update");
	assert_string_equal(json_string_value(json_object_get(e, "reason")), "ticket 7");
	assert_true(json_equal(json_object_get(e, "before"), before));
	assert_true(json_equal(json_object_get(e, "after"), after));
	at = json_string_value(json_object_get(e, "at"));
	assert_non_null(at);
	assert_int_equal(strlen(at), strlen("2026-11-28T21:48:36.123Z"));
	assert_int_equal(at[strlen(at) - 1], 'Z');
	/* chained: 64 hex digits each (tests/unit/storage/test_checkpoint.c checks the values) */
	assert_int_equal(strlen(json_string_value(json_object_get(e, "hash"))), 64);
	assert_int_equal(strlen(json_string_value(json_object_get(e, "prev_hash"))), 64);

	e = json_array_get(list, 1);
	assert_int_equal(json_integer_value(json_object_get(e, "seq")), seq2);
	assert_true(json_is_null(json_object_get(e, "before")));
	assert_true(json_is_null(json_object_get(e, "after")));
	assert_true(json_is_null(json_object_get(e, "role")));
	json_decref(list);

	/* after_seq and limit page through; NULL filters list everything. */
	assert_int_equal(audit_list(&list, c, "asset", NULL, seq, 100), 0);
	assert_int_equal(json_array_size(list), 1);
	json_decref(list);
	assert_int_equal(audit_list(&list, c, NULL, NULL, 0, 1), 0);
	assert_int_equal(json_array_size(list), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "seq")), 1);
	json_decref(list);
	assert_int_equal(audit_list(&list, c, "nothing", NULL, 0, 10), 0);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);

	json_decref(before);
	json_decref(after);
	db_disconnect(c);
}

#define WRITERS 4
#define EVENTS_EACH 25

struct writer {
	char id[8];
	int rc;
};

static void *writer_thread(void *arg)
{
	struct writer *w = arg;
	struct db_conn *c = NULL;

	w->rc = db_connect(&c, tdb.conninfo);
	for (int i = 0; i < EVENTS_EACH && !w->rc; i++) {
		w->rc = db_begin(c);
		if (!w->rc)
			w->rc = append(NULL, c, "test.race", w->id);
		/* Every third one is rolled back: its number must be given back. */
		if (!w->rc)
			w->rc = i % 3 == 2 ? db_rollback(c) : db_commit(c);
	}
	db_disconnect(c);
	return NULL;
}

static void test_concurrent_writers_gapless(void **state)
{
	struct writer w[WRITERS];
	pthread_t th[WRITERS];
	struct db_conn *c = connect_fresh();
	struct db_res *r = NULL;

	(void)state;
	for (int i = 0; i < WRITERS; i++) {
		snprintf(w[i].id, sizeof(w[i].id), "w%d", i);
		w[i].rc = 0;
		assert_int_equal(pthread_create(&th[i], NULL, writer_thread, &w[i]), 0);
	}
	for (int i = 0; i < WRITERS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].rc, 0);
	}
	assert_int_equal(db_exec(&r, c, "SELECT count(*), min(seq), max(seq),"
				 " (SELECT seq FROM audit_head) FROM audit_events", 0, NULL, false), 0);
	assert_string_equal(db_res_get(r, 0, 1), "1");
	assert_string_equal(db_res_get(r, 0, 0), db_res_get(r, 0, 2));
	assert_string_equal(db_res_get(r, 0, 2), db_res_get(r, 0, 3));
	db_res_free(r);
	assert_int_equal(db_exec(&r, c, "SELECT count(*) FROM audit_events WHERE action = 'test.race'",
				 0, NULL, false), 0);
	assert_int_equal(strtol(db_res_get(r, 0, 0), NULL, 10), WRITERS * (EVENTS_EACH - EVENTS_EACH / 3));
	db_res_free(r);
	db_disconnect(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused_outside_transaction),
		cmocka_unit_test(test_seq_gapless_after_rollback),
		cmocka_unit_test(test_append_only),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_concurrent_writers_gapless),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
