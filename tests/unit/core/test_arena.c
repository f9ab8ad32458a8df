/* Unit tests for core/arena: allocation, alignment, cleanups in reverse order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/arena.h"

static char order[8];
static size_t norder;

static void note(void *p)
{
	order[norder++] = *(char *)p;
}

static void test_alloc_zeroed_and_aligned(void **state)
{
	struct arena *a = arena_new();
	size_t i;

	(void)state;
	for (i = 1; i < 3000; i += 37) {
		unsigned char *p = arena_alloc(a, i);
		size_t j;

		assert_int_equal((uintptr_t)p % 16, 0);
		for (j = 0; j < i; j++)
			assert_int_equal(p[j], 0);
		memset(p, 0xab, i);
	}
	/* a large block of its own */
	assert_non_null(arena_alloc(a, 1 << 20));
	assert_true(arena_used(a) >= (1 << 20));
	arena_free(a);
}

static void test_strings(void **state)
{
	struct arena *a = arena_new();

	(void)state;
	assert_string_equal(arena_strdup(a, "POU"), "POU");
	assert_string_equal(arena_strndup(a, "FB_Motor", 5), "FB_Mo");
	assert_string_equal(arena_printf(a, "Rung[%d]", 12), "Rung[12]");
	arena_free(a);
}

static void test_cleanups_newest_first(void **state)
{
	struct arena *a = arena_new();
	static char x = 'a', y = 'b', z = 'c';

	(void)state;
	norder = 0;
	arena_on_free(a, note, &x);
	arena_on_free(a, note, &y);
	arena_on_free(a, note, &z);
	arena_free(a);
	assert_int_equal(norder, 3);
	assert_memory_equal(order, "cba", 3);
	arena_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_zeroed_and_aligned),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_cleanups_newest_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
