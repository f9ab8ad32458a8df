/* Unit tests for core/metrics: counting, histogram buckets, the text format's escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/metrics.h"

static const char *const methods[2] = { "GET", "POST" };
static const char *const patterns[2] = { "/api/v1/assets/{id}", "/api/v1/session" };

static void test_requests_by_route_and_status(void **state)
{
	struct metrics *m = NULL;
	struct buf b = BUF_INIT;

	(void)state;
	metrics_new(&m, 2);
	metrics_count_request(m, 0, 200, 3000);       /* 0.003 s: first bucket */
	metrics_count_request(m, 0, 200, 700000);     /* 0.7 s: le="1" */
	metrics_count_request(m, 0, 404, 60000000);   /* 60 s: +Inf only */
	metrics_count_request(m, 2, 404, 10);         /* unmatched */
	metrics_count_request(m, 2, 1000, 10);        /* a nonsense status counts as 0 */
	assert_int_equal(metrics_render_requests(&b, m, methods, patterns), 0);
	assert_non_null(strstr(buf_cstr(&b),
		"otcm_http_requests_total{method=\"GET\",route=\"/api/v1/assets/{id}\",status=\"200\"} 2\n"));
	assert_non_null(strstr(buf_cstr(&b),
		"otcm_http_requests_total{method=\"GET\",route=\"/api/v1/assets/{id}\",status=\"404\"} 1\n"));
	assert_non_null(strstr(buf_cstr(&b),
		"otcm_http_requests_total{method=\"\",route=\"unmatched\",status=\"0\"} 1\n"));
	/* a route without requests has no series */
	assert_null(strstr(buf_cstr(&b), "/api/v1/session"));
	/* cumulative buckets, +Inf equal to _count */
	assert_non_null(strstr(buf_cstr(&b),
		"otcm_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/assets/{id}\",le=\"0.005\"} 1\n"));
	assert_non_null(strstr(buf_cstr(&b),
		"otcm_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/assets/{id}\",le=\"1\"} 2\n"));
	assert_non_null(strstr(buf_cstr(&b),
		"otcm_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/assets/{id}\",le=\"30\"} 2\n"));
	assert_non_null(strstr(buf_cstr(&b),
		"otcm_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/assets/{id}\",le=\"+Inf\"} 3\n"));
	assert_non_null(strstr(buf_cstr(&b),
		"otcm_http_request_duration_seconds_count{method=\"GET\",route=\"/api/v1/assets/{id}\"} 3\n"));
	assert_non_null(strstr(buf_cstr(&b),
		"otcm_http_request_duration_seconds_sum{method=\"GET\",route=\"/api/v1/assets/{id}\"} 60.703\n"));
	buf_release(&b);
	metrics_free(m);
}

static void test_escaping(void **state)
{
	struct buf b = BUF_INIT;
	const char *labels[2] = { "destination", "a\"b\\c\nd" };

	(void)state;
	assert_int_equal(metrics_render_family(&b, "x", "gauge", "line\none \\ \"q\""), 0);
	assert_int_equal(metrics_render_sample(&b, "x", labels, 1, 1.5), 0);
	assert_int_equal(metrics_render_sample(&b, "x", NULL, 0, 1.0 / 0.0), 0);
	assert_string_equal(buf_cstr(&b),
		"# HELP x line\\none \\\\ \"q\"\n# TYPE x gauge\n"
		"x{destination=\"a\\\"b\\\\c\\nd\"} 1.5\n"
		"x +Inf\n");
	buf_release(&b);
}

static void test_login_failures_and_null(void **state)
{
	struct metrics *m = NULL;

	(void)state;
	metrics_count_request(NULL, 0, 200, 1);
	metrics_count_login_failure(NULL);
	assert_int_equal(metrics_login_failures(NULL), 0);
	metrics_new(&m, 0);
	metrics_count_login_failure(m);
	metrics_count_login_failure(m);
	assert_int_equal(metrics_login_failures(m), 2);
	metrics_free(m);
	metrics_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests_by_route_and_status),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_login_failures_and_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
