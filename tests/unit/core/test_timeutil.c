/* Unit tests for core/timeutil: reading RFC 3339 dates and times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/timeutil.h"

static void test_accepts_and_normalises(void **state)
{
	char out[TIME_RFC3339_INPUT_LEN];
	int64_t us = 0;

	(void)state;
	assert_true(time_parse_rfc3339(&us, out, "2030-01-31"));
	assert_string_equal(out, "2030-01-31T00:00:00Z");
	assert_int_equal(us, INT64_C(1896048000) * 1000000);
	assert_true(time_parse_rfc3339(&us, out, "2030-01-31t01:00:00.5+02:00"));
	assert_string_equal(out, "2030-01-31T01:00:00.5+02:00");
	assert_int_equal(us, (INT64_C(1896048000) - 3600) * 1000000 + 500000);
	assert_true(time_parse_rfc3339(&us, out, "2000-02-29 12:00:00z"));
	assert_string_equal(out, "2000-02-29T12:00:00Z");
	assert_true(time_parse_rfc3339(&us, out, "2000-12-31T23:59:60Z"));
	assert_true(time_parse_rfc3339(&us, out, "1970-01-01T00:00:00.123456789Z"));
	assert_int_equal(us, 123456);
}

static void test_refuses(void **state)
{
	static const char *const bad[] = {
		"", "2030-02-30", "2029-02-29", "1900-02-29", "2030-13-01", "2030-00-10", "0000-01-01",
		"2030-1-01", "2030-01-01T24:00:00Z", "2030-01-01T10:60:00Z", "2030-01-01T10:00:61Z",
		"2030-01-01T10:00:60Z", "2030-01-01T10:00:00", "2030-01-01T10:00:00+2",
		"2030-01-01T10:00:00+24:00", "2030-01-01T10:00:00.Z", "2030-01-01T10:00Z",
		"2030-01-01T10:00:00Z+01:00", "2030-01-01 10:00:00 Z", "2030-01-01T10:00:00.1234567890Z",
		"2030-01-01--", "yesterday",
	};
	char out[TIME_RFC3339_INPUT_LEN];
	int64_t us;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (time_parse_rfc3339(&us, out, bad[i]))
			fail_msg("accepted '%s'", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_and_normalises),
		cmocka_unit_test(test_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
