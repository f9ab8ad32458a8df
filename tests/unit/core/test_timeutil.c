/* Unit tests for core/timeutil: reading RFC 3339 dates and times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

/* The formatter writes what gmtime_r and strftime write, over the years it is used for. */
static void test_format_matches_strftime(void **state)
{
	unsigned seed = 42;
	static const int64_t fixed[] = {
		0, -1, -999, -1000000, 951782400000000LL /* 2000-02-29 */, 4107542399999999LL,
		253402300799999999LL /* 9999-12-31T23:59:59.999999 */, -30610224000000000LL /* 1000-01-01 */,
	};

	(void)state;
	for (int i = 0; i < 200000; i++) {
		int64_t us = i < (int)(sizeof(fixed) / sizeof(fixed[0])) ? fixed[i] :
			((int64_t)rand_r(&seed) << 31 ^ rand_r(&seed)) % 253402300800000000LL -
			(i % 3 == 0 ? 30610224000000000LL : 0);
		int64_t secs = us / 1000000, rem = us % 1000000;
		char got[TIME_RFC3339_LEN], want[TIME_RFC3339_LEN];
		struct tm tm;
		time_t t;
		size_t n;

		if (rem < 0) {
			rem += 1000000;
			secs--;
		}
		t = (time_t)secs;
		gmtime_r(&t, &tm);
		n = strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(want + n, sizeof(want) - n, ".%03uZ", (unsigned)(rem / 1000));
		time_format_rfc3339(got, us);
		assert_string_equal(got, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_and_normalises),
		cmocka_unit_test(test_refuses),
		cmocka_unit_test(test_format_matches_strftime),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
