/* Unit tests for core/buf: growth, formatting, the size cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/err.h"

static void test_append_and_format(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_string_equal(buf_cstr(&b), "");
	assert_int_equal(buf_adds(&b, "rung "), 0);
	assert_int_equal(buf_addf(&b, "%d of %s", 12, "MainRoutine"), 0);
	assert_int_equal(buf_addch(&b, '!'), 0);
	assert_string_equal(buf_cstr(&b), "rung 12 of MainRoutine!");
	assert_int_equal(b.len, strlen("rung 12 of MainRoutine!"));
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_cstr(&b), "");
	buf_release(&b);
}

static void test_grows_past_many_blocks(void **state)
{
	struct buf b = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < 100000; i++)
		assert_int_equal(buf_add(&b, "0123456789", 10), 0);
	assert_int_equal(b.len, 1000000);
	assert_memory_equal(b.data + 999990, "0123456789", 10);
	assert_int_equal(b.data[b.len], '\0');
	buf_release(&b);
}

static void test_cap_refuses_and_keeps_contents(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_adds(&b, "12345678"), 0);
	assert_int_equal(buf_addch(&b, '9'), OTCM_ETOOBIG);
	assert_int_equal(buf_addf(&b, "%s", "abc"), OTCM_ETOOBIG);
	assert_string_equal(buf_cstr(&b), "12345678");
	assert_non_null(strstr(err_message(), "8 bytes"));
	buf_release(&b);
}

static void test_detach_hands_over(void **state)
{
	struct buf b = BUF_INIT;
	size_t n = 0;
	char *s;

	(void)state;
	buf_adds(&b, "tree");
	s = buf_detach(&b, &n);
	assert_int_equal(n, 4);
	assert_string_equal(s, "tree");
	assert_null(b.data);
	free(s);
	s = buf_detach(&b, &n);
	assert_int_equal(n, 0);
	assert_string_equal(s, "");
	free(s);
}

/* A client-sized buffer: memory the system refuses is an error, not an abort. */
static void test_try_grow(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 100);
	assert_int_equal(buf_try_grow(&b, 60), 0);
	assert_true(b.alloc >= 61 && b.alloc <= 101);
	assert_int_equal(buf_try_grow(&b, 101), OTCM_ETOOBIG);
	assert_int_equal(buf_add(&b, "x", 1), 0);
	/* growth stops at the cap (plus the NUL), not half as much again past it */
	assert_int_equal(buf_try_grow(&b, 99), 0);
	assert_int_equal(b.alloc, 101);
	buf_release(&b);

#ifndef __SANITIZE_ADDRESS__ /* ASan reports an allocation this large instead of failing it */
	buf_init(&b, SIZE_MAX / 2);
	assert_int_equal(buf_add(&b, "keep", 4), 0);
	assert_int_equal(buf_try_grow(&b, (size_t)1 << 62), OTCM_EUNAVAIL);
	assert_string_equal(buf_cstr(&b), "keep");
	buf_release(&b);
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_and_format),
		cmocka_unit_test(test_grows_past_many_blocks),
		cmocka_unit_test(test_cap_refuses_and_keeps_contents),
		cmocka_unit_test(test_detach_hands_over),
		cmocka_unit_test(test_try_grow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
