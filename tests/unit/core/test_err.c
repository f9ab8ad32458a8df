/* Unit tests for core/err: the per-thread message, field, rule and retry time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/err.h"

static void test_set_and_read(void **state)
{
	(void)state;
	err_clear();
	assert_string_equal(err_message(), "");
	assert_null(err_field());
	assert_int_equal(err_set(OTCM_EINVAL, "name", "name '%s' is too long", "x"), OTCM_EINVAL);
	assert_string_equal(err_message(), "name 'x' is too long");
	assert_string_equal(err_field(), "name");
	assert_int_equal(err_code(), OTCM_EINVAL);
	err_set_rule("segregation-of-duties");
	assert_string_equal(err_rule(), "segregation-of-duties");
	/* a new error forgets the old rule */
	err_set(OTCM_ENOTFOUND, NULL, "gone");
	assert_null(err_rule());
	assert_null(err_field());
}

/* Adding context to the message recorded deeper down must not garble it. */
static void test_message_as_its_own_argument(void **state)
{
	(void)state;
	err_set(OTCM_EINVAL, "instruction", "'instruction' is required");
	err_set(OTCM_EINVAL, "steps", "step %d: %s", 2, err_message());
	assert_string_equal(err_message(), "step 2: 'instruction' is required");
	assert_string_equal(err_field(), "steps");

	err_set(OTCM_EINVAL, NULL, "%s", err_message());
	assert_string_equal(err_message(), "step 2: 'instruction' is required");

	err_set(OTCM_EINVAL, "x", "%s (again: %s)", err_message(), err_message());
	assert_string_equal(err_message(),
			    "step 2: 'instruction' is required (again: step 2: 'instruction' is required)");
}

static void test_field_as_its_own_argument(void **state)
{
	(void)state;
	err_set(OTCM_EINVAL, "files[3].path", "bad path");
	err_set(OTCM_EINVAL, err_field(), "upload refused: %s", err_message());
	assert_string_equal(err_field(), "files[3].path");
	assert_string_equal(err_message(), "upload refused: bad path");
}

/* A message longer than the buffer is cut, never overflows, also when it repeats itself. */
static void test_long_message_is_truncated(void **state)
{
	char big[3000];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	err_set(OTCM_EINVAL, NULL, "%s", big);
	assert_true(strlen(err_message()) > 500 && strlen(err_message()) < sizeof(big) - 1);
	err_set(OTCM_EINVAL, NULL, "b%s", err_message());
	assert_int_equal(err_message()[0], 'b');
	assert_int_equal(err_message()[1], 'a');
}

/* A wait survives re-recording the same refusal, and no other error. */
static void test_retry_after(void **state)
{
	(void)state;
	err_clear();
	assert_int_equal(err_retry_after(), 0);
	err_set(OTCM_ETHROTTLED, NULL, "wait");
	err_set_retry_after(7);
	assert_int_equal(err_retry_after(), 7);
	err_set(OTCM_ETHROTTLED, NULL, "%s", err_message());
	assert_int_equal(err_retry_after(), 7);
	err_set_retry_after(0);
	assert_int_equal(err_retry_after(), 1);
	err_set(OTCM_EINVAL, "x", "bad");
	assert_int_equal(err_retry_after(), 0);
	err_set(OTCM_ELOCKED, NULL, "locked");
	err_set_retry_after(900);
	err_clear();
	assert_int_equal(err_retry_after(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_and_read),
		cmocka_unit_test(test_message_as_its_own_argument),
		cmocka_unit_test(test_field_as_its_own_argument),
		cmocka_unit_test(test_long_message_is_truncated),
		cmocka_unit_test(test_retry_after),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
