/* Unit tests for core/utf8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/utf8.h"

#define V(s) utf8_valid((s), sizeof(s) - 1)

static void test_valid(void **state)
{
	(void)state;
	assert_true(V(""));
	assert_true(V("Rung[12]"));
	assert_true(V("Fl\xc3\xbc" "ssigkeit"));          /* ü */
	assert_true(V("\xe2\x82\xac"));                   /* € */
	assert_true(V("\xf0\x9f\x98\x80"));               /* U+1F600 */
	assert_true(V("\xf4\x8f\xbf\xbf"));               /* U+10FFFF */
}

static void test_invalid(void **state)
{
	(void)state;
	assert_false(V("\xc3"));                          /* truncated */
	assert_false(V("\xc0\xaf"));                      /* overlong '/' */
	assert_false(V("\xe0\x80\xaf"));                  /* overlong */
	assert_false(V("\xed\xa0\x80"));                  /* surrogate */
	assert_false(V("\xf4\x90\x80\x80"));              /* above U+10FFFF */
	assert_false(V("\xfc\x80\x80\x80\x80\x80"));
	assert_false(V("Latin-1 \xfc"));
	assert_false(V("\x80"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
