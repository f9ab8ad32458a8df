/* Unit tests for core/siem: RFC 5424 and CEF text, framing, escaping, URLs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/siem.h"

/* 2026-12-03T09:20:48.123456Z */
#define AT_US 1796289648123456LL

static const struct siem_event login = {
	.seq = 42, .at_us = AT_US, .hash = "ab01", .actor = "alice", .role = "engineer",
	.source = "10.0.0.7", .request_id = "r-1", .action = "user.create",
	.object_type = "user", .object_id = "7", .reason = NULL,
};

static void test_rfc5424(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(siem_format(&b, &login, "plant-1", SIEM_RFC5424, "1.0"), 0);
	assert_string_equal(buf_cstr(&b),
		"<109>1 2026-12-03T09:20:48.123456Z plant-1 otcm - user.create "
		"[otcm@32473 seq=\"42\" hash=\"ab01\" actor=\"alice\" role=\"engineer\" "
		"action=\"user.create\" object_type=\"user\" object_id=\"7\" result=\"success\" "
		"source=\"10.0.0.7\" request_id=\"r-1\"] \xef\xbb\xbf" "alice user.create user 7: success");
	buf_release(&b);
}

static void test_refusal_is_a_warning_with_reason(void **state)
{
	struct siem_event ev = login;
	struct buf b = BUF_INIT;

	(void)state;
	ev.action = "change.transition.refused";
	ev.role = NULL;
	ev.reason = "rule \"sod\"\nline two";
	ev.object_id = "CHG-1]";
	assert_int_equal(siem_format(&b, &ev, "host with space", SIEM_RFC5424, NULL), 0);
	/* severity warning, header tokens printable, absent role left out, SD escaped */
	assert_non_null(strstr(buf_cstr(&b), "<108>1 "));
	assert_non_null(strstr(buf_cstr(&b), " host_with_space otcm - change.transition.refused ["));
	assert_null(strstr(buf_cstr(&b), "role="));
	assert_non_null(strstr(buf_cstr(&b), "object_id=\"CHG-1\\]\" result=\"refused\""));
	assert_non_null(strstr(buf_cstr(&b), ": refused (rule \"sod\" line two)"));
	assert_null(strchr(buf_cstr(&b), '\n'));
	buf_release(&b);
}

static void test_msgid_and_host_bounds(void **state)
{
	struct siem_event ev = login;
	struct buf b = BUF_INIT;
	const char *p;

	(void)state;
	ev.action = "a.very.long.action.name.beyond.thirty.two";
	assert_int_equal(siem_format(&b, &ev, "", SIEM_RFC5424, NULL), 0);
	/* empty host is NILVALUE; MSGID at most 32 characters */
	p = strstr(buf_cstr(&b), "Z - otcm - ");
	assert_non_null(p);
	assert_memory_equal(p + 11, "a.very.long.action.name.beyond.t [", 34);
	buf_release(&b);
}

static void test_result(void **state)
{
	(void)state;
	assert_string_equal(siem_result("session.login.failed"), "failure");
	assert_string_equal(siem_result("access.refused"), "refused");
	assert_string_equal(siem_result("access.unauthenticated"), "refused");
	assert_string_equal(siem_result("change.release"), "success");
	assert_string_equal(siem_result("refused.not.at.end"), "success");
}

static void test_sd_escape(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(siem_sd_escape(&b, "a\"b\\c]d=e"), 0);
	assert_string_equal(buf_cstr(&b), "a\\\"b\\\\c\\]d=e");
	buf_release(&b);
}

static void test_cef_escape(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(siem_cef_header_escape(&b, "a|b\\c=d\ne"), 0);
	assert_string_equal(buf_cstr(&b), "a\\|b\\\\c=d e");
	buf_reset(&b);
	assert_int_equal(siem_cef_value_escape(&b, "a|b\\c=d\ne\rf"), 0);
	assert_string_equal(buf_cstr(&b), "a|b\\\\c\\=d\\ne\\rf");
	buf_release(&b);
}

static void test_cef(void **state)
{
	struct siem_event ev = login;
	struct buf b = BUF_INIT;

	(void)state;
	ev.reason = "x=y";
	assert_int_equal(siem_format_cef(&b, &ev, "1|0"), 0);
	assert_string_equal(buf_cstr(&b),
		"CEF:0|otcm|otcm|1\\|0|user.create|user.create|3|rt=1796289648123 externalId=42 "
		"act=user.create outcome=success suser=alice spriv=engineer src=10.0.0.7 "
		"cs1Label=object_type cs1=user cs2Label=object_id cs2=7 cs3Label=hash cs3=ab01 "
		"cs4Label=request_id cs4=r-1 reason=x\\=y");
	buf_reset(&b);
	/* inside syslog: the SD stays, the message is the CEF line */
	assert_int_equal(siem_format(&b, &ev, "h", SIEM_CEF, "1"), 0);
	assert_non_null(strstr(buf_cstr(&b), "request_id=\"r-1\"] CEF:0|otcm|otcm|1|user.create|"));
	buf_release(&b);
}

static void test_frame(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(siem_frame(&b, "<13>1 - - - - - - \xc3\xbc", 20), 0);
	assert_string_equal(buf_cstr(&b), "20 <13>1 - - - - - - \xc3\xbc");
	buf_release(&b);
}

static void test_url(void **state)
{
	struct siem_url u;

	(void)state;
	assert_int_equal(siem_url_parse(&u, "tcp://siem.plant.local:6514", "syslog"), 0);
	assert_string_equal(u.host, "siem.plant.local");
	assert_string_equal(u.port, "6514");
	assert_int_equal(siem_url_parse(&u, "tcp://[::1]:514", "syslog"), 0);
	assert_string_equal(u.host, "::1");
	assert_string_equal(u.port, "514");
	assert_false(u.tls);
	assert_int_equal(siem_url_parse(&u, "tls://siem:6514", "syslog"), 0);
	assert_true(u.tls);
	assert_string_equal(u.host, "siem");
	assert_int_equal(siem_url_parse(&u, "udp://siem:514", "syslog"), OTCM_EINVAL);
	assert_non_null(strstr(err_message(), "tcp://HOST:PORT or tls://HOST:PORT"));
	assert_string_equal(err_field(), "syslog");
	assert_int_equal(siem_url_parse(&u, "tcp://siem", "syslog"), OTCM_EINVAL);
	assert_int_equal(siem_url_parse(&u, "tcp://:514", "syslog"), OTCM_EINVAL);
	assert_int_equal(siem_url_parse(&u, "tcp://siem:0", "syslog"), OTCM_EINVAL);
	assert_int_equal(siem_url_parse(&u, "tcp://siem:65536", "syslog"), OTCM_EINVAL);
	assert_int_equal(siem_url_parse(&u, "tcp://siem:51x", "syslog"), OTCM_EINVAL);
	assert_int_equal(siem_url_parse(&u, "tcp://siem:", "syslog"), OTCM_EINVAL);
	assert_int_equal(siem_url_parse(&u, "tcp://a/b:514", "syslog"), OTCM_EINVAL);
	assert_int_equal(siem_url_parse(&u, "tcp://[::1:514", "syslog"), OTCM_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc5424),
		cmocka_unit_test(test_refusal_is_a_warning_with_reason),
		cmocka_unit_test(test_msgid_and_host_bounds),
		cmocka_unit_test(test_result),
		cmocka_unit_test(test_sd_escape),
		cmocka_unit_test(test_cef_escape),
		cmocka_unit_test(test_cef),
		cmocka_unit_test(test_frame),
		cmocka_unit_test(test_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
