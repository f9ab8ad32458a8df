/*
 * tests/unit/domain/test_cron.c - five-field cron expressions in UTC
 * (domain/cron.h): lists, ranges, steps and names parse to the right
 * minutes; the next run is found across hours, days, months, leap years
 * and the day-of-month / day-of-week rule; every malformed field is
 * refused naming "cron".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <time.h>

#include "core/err.h"
#include "domain/cron.h"

/* Seconds since the epoch of a UTC date and time. */
static int64_t at(int y, int mo, int d, int h, int mi)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	return (int64_t)timegm(&tm);
}

/* The next run of `expr` after `from`. */
static int64_t next(const char *expr, int64_t from)
{
	struct cron c;
	int64_t t = 0;

	assert_int_equal(cron_parse(&c, expr), 0);
	assert_int_equal(cron_next(&t, &c, from), 0);
	return t;
}

static void test_fields(void **state)
{
	struct cron c;

	(void)state;
	assert_int_equal(cron_parse(&c, "*/15 8-18/2 1,15 * mon-fri"), 0);
	assert_true(c.minutes == ((1ull << 0) | (1ull << 15) | (1ull << 30) | (1ull << 45)));
	assert_int_equal(c.hours, (1u << 8) | (1u << 10) | (1u << 12) | (1u << 14) | (1u << 16) | (1u << 18));
	assert_int_equal(c.days, (1u << 1) | (1u << 15));
	assert_int_equal(c.months, 0x1ffe);
	assert_int_equal(c.weekdays, 0x3e);
	assert_false(c.days_star);
	assert_false(c.weekdays_star);
	/* 7 is Sunday, names in any case, "a/n" runs to the field's end */
	assert_int_equal(cron_parse(&c, "5/20 0 * JAN,Jul 7"), 0);
	assert_true(c.minutes == ((1ull << 5) | (1ull << 25) | (1ull << 45)));
	assert_int_equal(c.months, (1u << 1) | (1u << 7));
	assert_int_equal(c.weekdays, 1);
	assert_true(c.days_star);
	/* tabs and repeated spaces separate fields */
	assert_int_equal(cron_parse(&c, " 0\t0  * * * "), 0);
}

static void test_next(void **state)
{
	(void)state;
	/* strictly after: a run at the very minute given is the next one's */
	assert_true(next("30 2 * * *", at(2026, 12, 3, 2, 30)) == at(2026, 12, 4, 2, 30));
	assert_true(next("30 2 * * *", at(2026, 12, 3, 2, 29)) == at(2026, 12, 3, 2, 30));
	assert_true(next("*/5 * * * *", at(2026, 12, 3, 13, 31) + 17) == at(2026, 12, 3, 13, 35));
	assert_true(next("* * * * *", at(2026, 12, 31, 23, 59)) == at(2027, 1, 1, 0, 0));
	/* across a month and into a leap day */
	assert_true(next("0 0 29 2 *", at(2026, 12, 3, 0, 0)) == at(2028, 2, 29, 0, 0));
	assert_true(next("0 6 31 * *", at(2027, 4, 1, 0, 0)) == at(2027, 5, 31, 6, 0));
	/* weekdays: 2026-12-05 is a Saturday */
	assert_true(next("0 7 * * 1-5", at(2026, 12, 5, 0, 0)) == at(2026, 12, 7, 7, 0));
	assert_true(next("0 7 * * sun", at(2026, 12, 5, 0, 0)) == at(2026, 12, 6, 7, 0));
	/* both days restricted: either matches (the 13th, or any Friday) */
	assert_true(next("0 0 13 * 5", at(2026, 12, 3, 12, 0)) == at(2026, 12, 4, 0, 0));
	assert_true(next("0 0 13 * 5", at(2026, 12, 11, 12, 0)) == at(2026, 12, 13, 0, 0));
	/* day restricted, weekday "*": the day alone */
	assert_true(next("0 0 13 * *", at(2026, 12, 3, 12, 0)) == at(2026, 12, 13, 0, 0));
	/*
	 * "*\/2" in day-of-week begins with "*": both must match, as Vixie cron
	 * has it: the first 1st on a Sunday, Tuesday, Thursday or Saturday
	 */
	assert_true(next("0 0 1 * */2", at(2026, 12, 3, 12, 0)) == at(2027, 4, 1, 0, 0));
}

static void test_never(void **state)
{
	struct cron c;
	int64_t t = 0;

	(void)state;
	assert_int_equal(cron_parse(&c, "0 0 30 2 *"), 0);
	assert_int_equal(cron_next(&t, &c, at(2026, 1, 1, 0, 0)), OTCM_EINVAL);
	assert_string_equal(err_field(), "cron");
	assert_non_null(strstr(err_message(), "never"));
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
		"", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * 32 * *",
		"* * * 0 *", "* * * 13 *", "* * * * 8", "*/0 * * * *", "*/61 * * * *", "5-1 * * * *",
		"1,,2 * * * *", "1, * * * *", ",1 * * * *", "a * * * *", "* * * janu *", "* * * * mo",
		"*5 * * * *", "1-2-3 * * * *", "-1 * * * *", "@daily", "0 0 L * *", "0 0 ? * *",
		"0 0 * * 1#2", "99999999999 * * * *", "1/ * * * *", "* * * * * # comment",
		NULL,
	};
	struct cron c;
	char longer[CRON_MAX_LEN + 10];
	size_t i;

	(void)state;
	for (i = 0; bad[i]; i++) {
		if (cron_parse(&c, bad[i]) != OTCM_EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
		assert_string_equal(err_field(), "cron");
	}
	memset(longer, ' ', sizeof(longer));
	memcpy(longer, "* * * * *", 9);
	longer[sizeof(longer) - 1] = '\0';
	assert_int_equal(cron_parse(&c, longer), OTCM_EINVAL);
	assert_int_equal(cron_parse(&c, NULL), OTCM_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_next),
		cmocka_unit_test(test_never),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
