/* Unit tests for core/json: strict request-body readers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/json.h"

static json_t *parse(const char *s)
{
	json_t *v = NULL;

	assert_int_equal(json_parse_object(&v, s, strlen(s), 8), 0);
	return v;
}

static void test_parse_refusals(void **state)
{
	json_t *v = NULL;
	const char *nul = "{\"a\":\"x\\u0000y\"}";
	const char *deep = "{\"a\":[[[[[[[[[[1]]]]]]]]]]}";

	(void)state;
	assert_int_equal(json_parse_object(&v, "", 0, 8), OTCM_EINVAL);
	assert_string_equal(err_field(), "body");
	assert_int_equal(json_parse_object(&v, "[1]", 3, 8), OTCM_EINVAL);
	assert_int_equal(json_parse_object(&v, "{\"a\":1,\"a\":2}", 13, 8), OTCM_EINVAL);
	assert_int_equal(json_parse_object(&v, "{\"a\":", 5, 8), OTCM_EINVAL);
	assert_int_equal(json_parse_object(&v, deep, strlen(deep), 8), OTCM_EINVAL);
	assert_non_null(strstr(err_message(), "deeper"));
	/* NUL inside a string never reaches a handler */
	assert_int_equal(json_parse_object(&v, nul, strlen(nul), 8), OTCM_EINVAL);
	assert_null(v);
}

static void test_getters(void **state)
{
	json_t *v = parse("{\"name\":\"FB_Motor\",\"n\":3,\"b\":true,\"ctl\":\"a\\u0001b\","
			  "\"empty\":\"\"}");
	const char *s;
	int64_t n = 0;
	bool b = false;

	(void)state;
	assert_int_equal(json_get_str(v, "name", true, &s), 0);
	assert_string_equal(s, "FB_Motor");
	assert_int_equal(json_get_str(v, "missing", false, &s), 0);
	assert_null(s);
	assert_int_equal(json_get_str(v, "missing", true, &s), OTCM_EINVAL);
	assert_string_equal(err_field(), "missing");
	assert_int_equal(json_get_str(v, "n", true, &s), OTCM_EINVAL);
	assert_int_equal(json_get_str(v, "ctl", true, &s), OTCM_EINVAL);
	assert_int_equal(json_get_str(v, "empty", true, &s), OTCM_EINVAL);
	assert_int_equal(json_get_int(v, "n", true, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(json_get_int(v, "name", true, &n), OTCM_EINVAL);
	assert_int_equal(json_get_bool(v, "b", true, &b), 0);
	assert_true(b);
	assert_int_equal(json_get_bool(v, "n", true, &b), OTCM_EINVAL);
	json_decref(v);
}

static void test_only_fields(void **state)
{
	static const char *const allowed[] = { "path", "type", NULL };
	json_t *ok = parse("{\"path\":\"a\",\"type\":\"plc\"}");
	json_t *bad = parse("{\"path\":\"a\",\"typo\":\"plc\"}");

	(void)state;
	assert_int_equal(json_only_fields(ok, allowed), 0);
	assert_int_equal(json_only_fields(bad, allowed), OTCM_EINVAL);
	assert_string_equal(err_field(), "typo");
	json_decref(ok);
	json_decref(bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_getters),
		cmocka_unit_test(test_only_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
