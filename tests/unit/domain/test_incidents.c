/*
 * tests/unit/domain/test_incidents.c - the NIS2 Art. 23(4) deadlines of an
 * incident (dom_incident_deadlines) and calendar months
 * (dom_incident_add_months): each obligation met, late, overdue or
 * pending, the final report counted from the notification or, after a
 * progress report, from closing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/json.h"
#include "core/timeutil.h"
#include "domain/incidents.h"

#define H (3600LL * 1000000)

static int64_t at(const char *s)
{
	char norm[TIME_RFC3339_INPUT_LEN];
	int64_t us = 0;

	assert_true(time_parse_rfc3339(&us, norm, s));
	return us;
}

static json_t *incident(const char *significant_at, const char *closed_at)
{
	return json_pack("{s:s?,s:s?,s:[]}", "significant_at", significant_at, "closed_at", closed_at, "reports");
}

static void sent(json_t *inc, const char *kind, const char *when)
{
	json_array_append_new(json_object_get(inc, "reports"), json_pack("{s:s,s:s}", "kind", kind, "sent_at", when));
}

/* The deadline `obligation` of inc at now. */
static json_t *deadline(json_t **all, const json_t *inc, int64_t now, const char *obligation)
{
	json_t *d;
	size_t i;

	assert_int_equal(dom_incident_deadlines(all, inc, now), 0);
	json_array_foreach(*all, i, d)
		if (!strcmp(json_string_value(json_object_get(d, "obligation")), obligation))
			return d;
	fail_msg("no deadline %s", obligation);
	return NULL;
}

static const char *status(const json_t *d)
{
	return json_string_value(json_object_get(d, "status"));
}

static const char *due(const json_t *d)
{
	return json_string_value(json_object_get(d, "due_at"));
}

static void test_not_significant_has_none(void **state)
{
	json_t *inc = incident(NULL, NULL), *dl = NULL;

	(void)state;
	assert_int_equal(dom_incident_deadlines(&dl, inc, at("2026-01-01T00:00:00Z")), 0);
	assert_int_equal(json_array_size(dl), 0);
	json_decref(dl);
	json_decref(inc);
}

static void test_pending_then_overdue(void **state)
{
	json_t *inc = incident("2026-03-10T08:00:00.000Z", NULL), *all = NULL, *d;

	(void)state;
	d = deadline(&all, inc, at("2026-03-10T09:00:00Z"), "early_warning");
	assert_string_equal(status(d), "pending");
	assert_string_equal(due(d), "2026-03-11T08:00:00.000Z");
	assert_int_equal(json_integer_value(json_object_get(d, "seconds_left")), 23 * 3600);
	json_decref(all);
	d = deadline(&all, inc, at("2026-03-11T08:00:01Z"), "early_warning");
	assert_string_equal(status(d), "overdue");
	assert_true(json_is_null(json_object_get(d, "seconds_left")));
	json_decref(all);
	d = deadline(&all, inc, at("2026-03-11T08:00:01Z"), "notification");
	assert_string_equal(status(d), "pending");
	assert_string_equal(due(d), "2026-03-13T08:00:00.000Z");
	json_decref(all);
	/* before a notification, the final report is provisional: a month after the notification is due */
	d = deadline(&all, inc, at("2026-03-11T08:00:01Z"), "final_report");
	assert_string_equal(due(d), "2026-04-13T08:00:00.000Z");
	json_decref(all);
	json_decref(inc);
}

static void test_met_and_late(void **state)
{
	json_t *inc = incident("2026-03-10T08:00:00.000Z", NULL), *all = NULL, *d;

	(void)state;
	/* a notification within 24 hours meets the early warning too */
	sent(inc, "notification", "2026-03-10T20:00:00.000Z");
	d = deadline(&all, inc, at("2026-03-20T00:00:00Z"), "early_warning");
	assert_string_equal(status(d), "met");
	assert_string_equal(json_string_value(json_object_get(d, "met_by")), "notification");
	json_decref(all);
	d = deadline(&all, inc, at("2026-03-20T00:00:00Z"), "final_report");
	assert_string_equal(due(d), "2026-04-10T20:00:00.000Z");
	assert_string_equal(status(d), "pending");
	json_decref(all);
	json_decref(inc);

	inc = incident("2026-03-10T08:00:00.000Z", NULL);
	sent(inc, "early_warning", "2026-03-11T08:00:00.001Z");
	sent(inc, "intermediate", "2026-03-11T09:00:00.000Z");
	d = deadline(&all, inc, at("2026-03-12T00:00:00Z"), "early_warning");
	assert_string_equal(status(d), "late");
	json_decref(all);
	/* an early warning or intermediate report is not a notification */
	d = deadline(&all, inc, at("2026-03-14T00:00:00Z"), "notification");
	assert_string_equal(status(d), "overdue");
	json_decref(all);
	json_decref(inc);
}

static void test_progress_report_moves_the_final_to_closing(void **state)
{
	json_t *inc = incident("2026-01-01T00:00:00.000Z", NULL), *all = NULL, *d;

	(void)state;
	sent(inc, "early_warning", "2026-01-01T10:00:00.000Z");
	sent(inc, "notification", "2026-01-02T10:00:00.000Z");
	sent(inc, "progress", "2026-02-01T10:00:00.000Z");
	d = deadline(&all, inc, at("2026-03-01T00:00:00Z"), "final_report");
	assert_true(json_is_null(json_object_get(d, "due_at")));
	assert_string_equal(status(d), "pending");
	json_decref(all);
	json_decref(inc);

	inc = incident("2026-01-01T00:00:00.000Z", "2026-03-31T12:00:00.000Z");
	sent(inc, "notification", "2026-01-02T10:00:00.000Z");
	sent(inc, "progress", "2026-02-01T10:00:00.000Z");
	d = deadline(&all, inc, at("2026-05-01T00:00:00Z"), "final_report");
	assert_string_equal(due(d), "2026-04-30T12:00:00.000Z");
	assert_string_equal(status(d), "overdue");
	json_decref(all);
	json_decref(inc);

	/* a progress report after the final report's due time changes nothing */
	inc = incident("2026-01-01T00:00:00.000Z", NULL);
	sent(inc, "notification", "2026-01-02T10:00:00.000Z");
	sent(inc, "progress", "2026-02-03T10:00:00.000Z");
	d = deadline(&all, inc, at("2026-02-04T00:00:00Z"), "final_report");
	assert_string_equal(due(d), "2026-02-02T10:00:00.000Z");
	assert_string_equal(status(d), "overdue");
	json_decref(all);
	json_decref(inc);
}

static void test_calendar_months(void **state)
{
	char out[TIME_RFC3339_LEN];

	(void)state;
	time_format_rfc3339(out, dom_incident_add_months(at("2026-01-31T10:20:30.250Z"), 1));
	assert_string_equal(out, "2026-02-28T10:20:30.250Z");
	time_format_rfc3339(out, dom_incident_add_months(at("2028-01-31T00:00:00Z"), 1));
	assert_string_equal(out, "2028-02-29T00:00:00.000Z");
	time_format_rfc3339(out, dom_incident_add_months(at("2026-12-15T23:59:59Z"), 1));
	assert_string_equal(out, "2027-01-15T23:59:59.000Z");
	assert_int_equal(dom_incident_add_months(at("2026-03-10T00:00:00Z"), 0), at("2026-03-10T00:00:00Z"));
	assert_true(dom_incident_add_months(at("2026-03-10T00:00:00Z"), 1) - at("2026-03-10T00:00:00Z") == 31 * 24 * H);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_significant_has_none),
		cmocka_unit_test(test_pending_then_overdue),
		cmocka_unit_test(test_met_and_late),
		cmocka_unit_test(test_progress_report_moves_the_final_to_closing),
		cmocka_unit_test(test_calendar_months),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
