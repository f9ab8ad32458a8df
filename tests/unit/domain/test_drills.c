/*
 * tests/unit/domain/test_drills.c - what a restore drill must find for it
 * to pass (dom_drill_assess): each check fails on its own when its part of
 * the restore is missing or altered.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/json.h"
#include "domain/drills.h"

static json_t *manifest(void)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:{s:{s:i,s:i,s:i,s:i,s:i},s:{s:i,s:s,s:s}}}",
			 "format", "otcm-backup/1", "source", "private cluster",
			 "started_at", "2026-12-03T08:00:00.000000Z",
			 "finished_at", "2026-12-03T08:00:05.000000Z",
			 "snapshot", "counts", "assets", 2, "versions", 5, "changes", 1, "events", 40,
			 "git_objects", 30, "last_event", "seq", 40, "hash", "ab12", "at",
			 "2026-12-03T07:59:59.000000Z");
}

static json_t *restored(int versions)
{
	return json_pack("{s:{s:i,s:i,s:i,s:i,s:i}}", "counts", "assets", 2, "versions", versions,
			 "changes", 1, "events", 41, "git_objects", 31);
}

static struct drill_probe good(const json_t *r)
{
	struct drill_probe p = { 0 };

	p.restored = r;
	p.chain_ok = true;
	p.events_chained = 41;
	p.have_key = true;
	p.checkpoints_ok = true;
	p.checkpoints_checked = 3;
	p.git_checked = 31;
	p.hash_at_last_seq = "ab12";
	p.recovery_time_ms = 1500;
	p.recovery_point_ms = 6000;
	return p;
}

/* The check named `name` in the record, or fail. */
static bool check_ok(const json_t *rec, const char *name)
{
	const json_t *checks = json_object_get(rec, "checks"), *c;
	size_t i;

	json_array_foreach(checks, i, c)
		if (strcmp(json_string_value(json_object_get(c, "name")), name) == 0)
			return json_is_true(json_object_get(c, "ok"));
	fail_msg("no check '%s'", name);
	return false;
}

static json_t *assess(const json_t *m, const struct drill_probe *p)
{
	json_t *rec = NULL;

	assert_int_equal(dom_drill_assess(&rec, m, p), 0);
	assert_non_null(rec);
	return rec;
}

static void test_a_complete_restore_passes(void **state)
{
	json_t *m = manifest(), *r = restored(5), *rec;
	struct drill_probe p = good(r);

	(void)state;
	rec = assess(m, &p);
	assert_true(json_is_true(json_object_get(rec, "ok")));
	assert_int_equal(json_integer_value(json_object_get(rec, "recovery_time_ms")), 1500);
	assert_int_equal(json_integer_value(json_object_get(rec, "recovery_point_ms")), 6000);
	assert_string_equal(json_string_value(json_object_get(json_object_get(rec, "backup"),
							       "finished_at")),
			    "2026-12-03T08:00:05.000000Z");
	assert_int_equal(json_array_size(json_object_get(rec, "checks")), 9);
	json_decref(rec);
	json_decref(r);
	json_decref(m);
}

static void test_each_missing_part_fails_its_check(void **state)
{
	json_t *m = manifest(), *r = restored(5), *fewer = restored(4), *rec;
	struct drill_probe p;

	(void)state;
	p = good(r);
	p.chain_ok = false;
	p.chain_problem = "event 7: hash does not match";
	rec = assess(m, &p);
	assert_false(check_ok(rec, "audit-chain"));
	assert_false(json_is_true(json_object_get(rec, "ok")));
	json_decref(rec);

	p = good(r);
	p.have_key = false;     /* no key: checkpoints cannot be checked, which fails */
	rec = assess(m, &p);
	assert_false(check_ok(rec, "checkpoints"));
	json_decref(rec);

	p = good(r);
	p.checkpoints_ok = false;
	rec = assess(m, &p);
	assert_false(check_ok(rec, "checkpoints"));
	json_decref(rec);

	p = good(r);
	p.git_bad = 1;
	p.git_first_bad = "00ff";
	rec = assess(m, &p);
	assert_false(check_ok(rec, "git-objects"));
	assert_true(check_ok(rec, "count-git_objects"));
	json_decref(rec);

	p = good(fewer);
	rec = assess(m, &p);
	assert_false(check_ok(rec, "count-versions"));
	assert_true(check_ok(rec, "count-assets"));
	json_decref(rec);

	p = good(r);
	p.hash_at_last_seq = "cd34";    /* the event is there but not the one backed up */
	rec = assess(m, &p);
	assert_false(check_ok(rec, "last-event"));
	json_decref(rec);

	p = good(r);
	p.hash_at_last_seq = NULL;      /* the event is missing */
	rec = assess(m, &p);
	assert_false(check_ok(rec, "last-event"));
	assert_false(json_is_true(json_object_get(rec, "ok")));
	json_decref(rec);

	json_decref(fewer);
	json_decref(r);
	json_decref(m);
}

static void test_a_backup_without_events(void **state)
{
	json_t *m = manifest(), *r = restored(5), *rec;
	struct drill_probe p = good(r);

	(void)state;
	json_object_set_new(json_object_get(m, "snapshot"), "last_event", json_null());
	p.hash_at_last_seq = NULL;
	p.recovery_point_ms = -1;
	rec = assess(m, &p);
	assert_true(check_ok(rec, "last-event"));
	assert_true(json_is_null(json_object_get(rec, "recovery_point_ms")));
	json_decref(rec);
	json_decref(r);
	json_decref(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_complete_restore_passes),
		cmocka_unit_test(test_each_missing_part_fails_its_check),
		cmocka_unit_test(test_a_backup_without_events),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
