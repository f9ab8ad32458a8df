/* Unit tests for core/json: strict request-body readers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/buf.h"
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

/* A random value of depth at most `depth`: every type, strings with every escape. */
static json_t *random_value(unsigned *seed, int depth)
{
	static const char *const pieces[] = {
		"", "a", "\"", "\\", "/", "\b", "\f", "\n", "\r", "\t", "\x01", "\x1f", "\x7f",
		"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x94\x92", "<script>", "\u2028",
	};
	int kind = depth > 0 ? (int)(rand_r(seed) % 9) : (int)(rand_r(seed) % 7);
	char s[256] = "";
	json_t *v;

	switch (kind) {
	case 0: return json_null();
	case 1: return json_true();
	case 2: return json_false();
	case 3: return json_integer((json_int_t)rand_r(seed) * (rand_r(seed) % 2 ? -1 : 1) *
				     (json_int_t)(rand_r(seed) % 100000));
	case 4: return json_real((double)rand_r(seed) / 7.0);
	case 5:
	case 6:
		for (int i = rand_r(seed) % 6; i > 0; i--)
			strcat(s, pieces[rand_r(seed) % (sizeof(pieces) / sizeof(pieces[0]))]);
		return json_string(s);
	case 7:
		v = json_array();
		for (int i = rand_r(seed) % 5; i > 0; i--)
			json_array_append_new(v, random_value(seed, depth - 1));
		return v;
	default:
		v = json_object();
		for (int i = rand_r(seed) % 5; i > 0; i--) {
			snprintf(s, sizeof(s), "k%d%s", rand_r(seed) % 50,
				 pieces[rand_r(seed) % (sizeof(pieces) / sizeof(pieces[0]))]);
			json_object_set_new(v, s, random_value(seed, depth - 1));
		}
		return v;
	}
}

/* json_render() writes exactly what json_dump_compact() writes. */
static void test_render_matches_jansson(void **state)
{
	unsigned seed = 20261203;

	(void)state;
	for (int i = 0; i < 5000; i++) {
		json_t *v = random_value(&seed, 4);
		char *want = json_dump_compact(v);
		struct buf got = BUF_INIT;

		assert_non_null(want);
		assert_int_equal(json_render(&got, v), 0);
		assert_string_equal(buf_cstr(&got), want);
		free(want);
		buf_release(&got);
		json_decref(v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_getters),
		cmocka_unit_test(test_only_fields),
		cmocka_unit_test(test_render_matches_jansson),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
