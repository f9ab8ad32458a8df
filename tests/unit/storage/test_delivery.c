/* tests/unit/storage/test_delivery.c - the audit trail as an outbox: marks and batches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/log.h"
#include "storage/audit.h"
#include "storage/delivery.h"
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

static void append(struct db_conn *c, const char *action, const char *object_id)
{
	struct audit_event ev = {
		.actor = "alice", .role = "engineer", .source = "10.0.0.7", .action = action,
		.object_type = "user", .object_id = object_id,
	};

	assert_int_equal(db_begin(c), 0);
	assert_int_equal(audit_append(NULL, c, &ev), 0);
	assert_int_equal(db_commit(c), 0);
}

static void test_marks_start_at_zero_and_move_by_compare_and_swap(void **state)
{
	struct db_conn *c = NULL;
	int64_t mark = -1;

	(void)state;
	assert_int_equal(db_connect(&c, tdb.conninfo), 0);
	assert_int_equal(delivery_mark_get(&mark, c, "syslog tcp://a:514"), 0);
	assert_int_equal(mark, 0);
	assert_int_equal(delivery_mark_get(&mark, c, "syslog tcp://a:514"), 0);
	assert_int_equal(mark, 0);
	assert_int_equal(delivery_mark_move(c, "syslog tcp://a:514", 0, 3), 0);
	assert_int_equal(delivery_mark_get(&mark, c, "syslog tcp://a:514"), 0);
	assert_int_equal(mark, 3);
	/* a node that read the old mark cannot move it past what the other sent */
	assert_int_equal(delivery_mark_move(c, "syslog tcp://a:514", 0, 5), OTCM_ECONFLICT);
	assert_int_equal(delivery_mark_get(&mark, c, "syslog tcp://a:514"), 0);
	assert_int_equal(mark, 3);
	/* destinations are apart */
	assert_int_equal(delivery_mark_get(&mark, c, "syslog tcp://b:514"), 0);
	assert_int_equal(mark, 0);
	db_disconnect(c);
}

static void test_batches_come_in_order_after_the_mark(void **state)
{
	struct delivery_batch b = { 0 };
	struct db_conn *c = NULL;
	char id[8];

	(void)state;
	assert_int_equal(db_connect(&c, tdb.conninfo), 0);
	for (int i = 1; i <= 5; i++) {
		snprintf(id, sizeof(id), "%d", i);
		append(c, i == 4 ? "session.login.failed" : "user.create", id);
	}
	assert_int_equal(delivery_batch_read(&b, c, 0, 3), 0);
	assert_int_equal(b.n, 3);
	assert_int_equal(b.events[0].seq, 1);
	assert_int_equal(b.events[2].seq, 3);
	assert_string_equal(b.events[0].actor, "alice");
	assert_string_equal(b.events[0].role, "engineer");
	assert_string_equal(b.events[0].object_id, "1");
	assert_int_equal(strlen(b.events[0].hash), 64);
	assert_null(b.events[0].request_id);
	assert_true(b.events[0].at_us > 0);
	delivery_batch_release(&b);

	assert_int_equal(delivery_batch_read(&b, c, 3, 100), 0);
	assert_int_equal(b.n, 2);
	assert_int_equal(b.events[0].seq, 4);
	assert_string_equal(b.events[0].action, "session.login.failed");
	delivery_batch_release(&b);

	assert_int_equal(delivery_batch_read(&b, c, 5, 100), 0);
	assert_int_equal(b.n, 0);
	delivery_batch_release(&b);
	delivery_batch_release(NULL);
	db_disconnect(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_marks_start_at_zero_and_move_by_compare_and_swap),
		cmocka_unit_test(test_batches_come_in_order_after_the_mark),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
