/*
 * tests/unit/web/test_html.c - the HTML escapers: every character that
 * could open markup or leave an attribute is escaped, URL components are
 * percent-encoded, invalid UTF-8 and control characters cannot reach a
 * page, and the sticky error stops output at the cap.  Also the urlencoded
 * form reader.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "core/err.h"
#include "web/form.h"
#include "web/html.h"

typedef void (*escaper)(struct html *, const char *);

static void check(escaper fn, const char *in, const char *want)
{
	struct html h;

	html_init(&h, 0);
	fn(&h, in);
	assert_int_equal(h.err, 0);
	assert_string_equal(buf_cstr(&h.buf), want);
	html_release(&h);
}

static void test_text_escapes_markup(void **state)
{
	(void)state;
	check(html_text, "<script>alert('x')</script>", "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
	check(html_text, "a & b \"c\"", "a &amp; b &quot;c&quot;");
	check(html_text, "&amp;", "&amp;amp;");
	check(html_text, "", "");
	check(html_text, NULL, "");
	check(html_text, "Motor_1 = 50 `rpm`", "Motor_1 = 50 `rpm`");
	check(html_text, "tab\tand\r\nline", "tab\tand\r\nline");
}

static void test_attr_escapes_quotes_backtick_equals(void **state)
{
	(void)state;
	check(html_attr, "\" onmouseover=\"x", "&quot; onmouseover&#61;&quot;x");
	check(html_attr, "' autofocus '", "&#39; autofocus &#39;");
	check(html_attr, "`x`", "&#96;x&#96;");
	check(html_attr, "<>&", "&lt;&gt;&amp;");
}

static void test_control_and_invalid_utf8(void **state)
{
	(void)state;
	check(html_text, "a\x01" "b\x1b[31mc\x7f", "ab[31mc");
	/* valid multi-byte text stays as it is */
	check(html_text, "Ventil \xc3\xb6" "ffnen \xe2\x82\xac \xf0\x9f\x94\xa7", "Ventil \xc3\xb6" "ffnen \xe2\x82\xac \xf0\x9f\x94\xa7");
	/* Latin-1 bytes, overlongs, surrogates, truncated sequences become U+FFFD */
	check(html_text, "Temp\xb0" "C", "Temp\xef\xbf\xbd" "C");
	check(html_text, "\xc0\xbc", "\xef\xbf\xbd\xef\xbf\xbd");
	check(html_text, "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	check(html_text, "x\xe2\x82", "x\xef\xbf\xbd\xef\xbf\xbd");
	check(html_attr, "\xf5\x80\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

static void test_textn_stops_at_len_and_drops_nul(void **state)
{
	struct html h;

	(void)state;
	html_init(&h, 0);
	html_textn(&h, "ab\0<c>", 5);
	assert_string_equal(buf_cstr(&h.buf), "ab&lt;c");
	html_release(&h);
}

static void test_url_components(void **state)
{
	(void)state;
	check(html_url, "CHG-12", "CHG-12");
	check(html_url, "a b/c?d=e&f#g", "a%20b%2Fc%3Fd%3De%26f%23g");
	check(html_url, "javascript:alert(1)", "javascript%3Aalert%281%29");
	check(html_url, "\"><script>", "%22%3E%3Cscript%3E");
	check(html_url, "\xc3\xa4", "%C3%A4");
	check(html_url_path, "Programs/Main Routine.L5X", "Programs/Main%20Routine.L5X");
	check(html_url_path, "../x", "../x");   /* the server checks paths; here it only stays inside the URL */
}

static void test_raw_and_numbers(void **state)
{
	struct html h;

	(void)state;
	html_init(&h, 0);
	html_raw(&h, "<td>");
	html_int(&h, -42);
	html_rawf(&h, "</td><td>%d", 7);
	html_elem(&h, "b", "<i>");
	assert_string_equal(buf_cstr(&h.buf), "<td>-42</td><td>7<b>&lt;i&gt;</b>");
	html_release(&h);
}

static void test_sticky_error_at_cap(void **state)
{
	struct html h;

	(void)state;
	html_init(&h, 8);
	html_text(&h, "1234");
	assert_int_equal(h.err, 0);
	html_text(&h, "<<<");   /* 12 bytes escaped: past the cap */
	assert_int_equal(h.err, OTCM_ETOOBIG);
	html_raw(&h, "x");      /* nothing more is appended once failed */
	assert_true(h.buf.len <= 8);
	assert_null(strchr(buf_cstr(&h.buf), 'x'));
	html_release(&h);
}

static void test_form_values(void **state)
{
	struct arena *a = arena_new();
	const char *body = "username=eng+1&password=p%40ss%26w%3Dord&empty=&flag&csrf_token=abc&nul=a%00b";
	size_t n = strlen(body);

	(void)state;
	assert_string_equal(form_value(a, body, n, "username"), "eng 1");
	assert_string_equal(form_value(a, body, n, "password"), "p@ss&w=ord");
	assert_string_equal(form_value(a, body, n, "empty"), "");
	assert_string_equal(form_value(a, body, n, "flag"), "");
	assert_string_equal(form_value(a, body, n, "csrf_token"), "abc");
	assert_null(form_value(a, body, n, "nul"));
	assert_null(form_value(a, body, n, "csrf"));
	assert_null(form_value(a, body, n, "missing"));
	assert_null(form_value(a, NULL, 0, "username"));
	/* a bad escape is kept literally, a value cut at the end of the body too */
	assert_string_equal(form_value(a, "x=%zz%4", 7, "x"), "%zz%4");
	arena_free(a);
}

/* The same body parsed once gives the same answers as single lookups. */
static void test_form_parse(void **state)
{
	struct arena *a = arena_new();
	const char *body = "username=eng+1&password=p%40ss%26w%3Dord&empty=&flag&csrf_token=abc&nul=a%00b"
			   "&%00x=1&username=second&&";
	struct form *f = NULL;

	(void)state;
	assert_int_equal(form_parse(&f, a, body, strlen(body), 100), 0);
	assert_int_equal(f->n, 6);
	assert_string_equal(form_get(f, "username"), "eng 1");
	assert_string_equal(form_get(f, "password"), "p@ss&w=ord");
	assert_string_equal(form_get(f, "empty"), "");
	assert_string_equal(form_get(f, "flag"), "");
	assert_string_equal(form_get(f, "csrf_token"), "abc");
	assert_null(form_get(f, "nul"));
	assert_null(form_get(f, ""));
	assert_null(form_get(f, "missing"));
	assert_string_equal(f->fields[5].name, "username");
	assert_string_equal(f->fields[5].value, "second");
	assert_null(form_get(NULL, "username"));

	assert_int_equal(form_parse(&f, a, NULL, 0, 100), 0);
	assert_int_equal(f->n, 0);
	assert_int_equal(form_parse(&f, a, "a=%zz%4", 7, 100), 0);
	assert_string_equal(form_get(f, "a"), "%zz%4");

	/* a raw NUL byte leaves its field out, as %00 does */
	assert_int_equal(form_parse(&f, a, "a=1\0&b=2&c\0=3", 14, 100), 0);
	assert_int_equal(f->n, 1);
	assert_string_equal(form_get(f, "b"), "2");
	assert_null(form_value(a, "a=1\0&b=2", 9, "a"));

	/* the field limit */
	assert_int_equal(form_parse(&f, a, "a=1&b=2&c=3", 11, 2), OTCM_ETOOBIG);
	assert_string_equal(err_field(), "body");
	assert_int_equal(form_parse(&f, a, "a=1&b=2&&&&", 11, 2), 0);
	arena_free(a);
}

/* A megabyte of '&' costs no memory per empty pair, and a full form about its size. */
static void test_form_parse_memory_is_bounded(void **state)
{
	size_t n = (size_t)1 << 20, used;
	char *body = malloc(n);
	struct arena *a = arena_new();
	struct form *f = NULL;

	(void)state;
	memset(body, '&', n);
	used = arena_used(a);
	assert_int_equal(form_parse(&f, a, body, n, FORM_MAX_FIELDS), 0);
	assert_int_equal(f->n, 0);
	assert_true(arena_used(a) - used < 4096);
	assert_null(form_value(a, body, n, "csrf_token"));
	assert_true(arena_used(a) - used < 4096);

	/* "a&a&a...": too many fields, refused before anything is allocated for them */
	for (size_t i = 0; i < n; i += 2)
		body[i] = 'a';
	used = arena_used(a);
	assert_int_equal(form_parse(&f, a, body, n, FORM_MAX_FIELDS), OTCM_ETOOBIG);
	assert_true(arena_used(a) - used < 4096);
	assert_int_equal(form_parse(&f, a, body, 2 * FORM_MAX_FIELDS, FORM_MAX_FIELDS), 0);
	assert_int_equal(f->n, FORM_MAX_FIELDS);
	assert_true(arena_used(a) - used < (size_t)FORM_MAX_FIELDS * 64);
	free(body);
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_escapes_markup),
		cmocka_unit_test(test_attr_escapes_quotes_backtick_equals),
		cmocka_unit_test(test_control_and_invalid_utf8),
		cmocka_unit_test(test_textn_stops_at_len_and_drops_nul),
		cmocka_unit_test(test_url_components),
		cmocka_unit_test(test_raw_and_numbers),
		cmocka_unit_test(test_sticky_error_at_cap),
		cmocka_unit_test(test_form_values),
		cmocka_unit_test(test_form_parse),
		cmocka_unit_test(test_form_parse_memory_is_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
