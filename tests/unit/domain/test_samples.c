/*
 * tests/unit/domain/test_samples.c - the draw of a sample (otcm-sample/1,
 * domain/samples.h) against values computed independently from its
 * description in docs/evidence.md, the population's digest, and the
 * refusal of populations that are not lists of change keys.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/json.h"
#include "domain/samples.h"

/* CHG-1, 2, 3, 10, 11 in a shuffled order: the draw orders by change number, not by text */
static json_t *population(void)
{
	return json_pack("[s, s, s, s, s]", "CHG-11", "CHG-2", "CHG-10", "CHG-1", "CHG-3");
}

static void assert_keys(const json_t *got, const char *want)
{
	char *text = json_dumps(got, JSON_COMPACT);

	assert_string_equal(text, want);
	free(text);
}

static void test_draw_matches_the_documented_algorithm(void **state)
{
	json_t *pop = population(), *a = NULL, *b = NULL, *all = NULL;

	(void)state;
	/* SHA-256("audit:CHG-n") ordered, the smallest taken, listed by number (computed with Python's hashlib) */
	assert_int_equal(sample_draw(&a, pop, "audit", 2), 0);
	assert_keys(a, "[\"CHG-1\",\"CHG-10\"]");
	assert_int_equal(sample_draw(&b, pop, "audit", 3), 0);
	assert_keys(b, "[\"CHG-1\",\"CHG-10\",\"CHG-11\"]");
	assert_int_equal(sample_draw(&all, pop, "audit", 50), 0);
	assert_keys(all, "[\"CHG-1\",\"CHG-2\",\"CHG-3\",\"CHG-10\",\"CHG-11\"]");
	json_decref(a);
	json_decref(b);
	json_decref(all);
	json_decref(pop);
}

static void test_same_seed_same_sample(void **state)
{
	json_t *pop = population(), *a = NULL, *b = NULL, *c = NULL;
	int i, differs = 0;

	(void)state;
	assert_int_equal(sample_draw(&a, pop, "soc2-2026.Q4", 2), 0);
	assert_int_equal(sample_draw(&b, pop, "soc2-2026.Q4", 2), 0);
	assert_true(json_equal(a, b));
	for (i = 0; i < 20; i++) {
		char seed[16];

		snprintf(seed, sizeof(seed), "seed-%d", i);
		assert_int_equal(sample_draw(&c, pop, seed, 2), 0);
		differs += !json_equal(a, c);
		json_decref(c);
	}
	assert_true(differs > 0);
	json_decref(a);
	json_decref(b);
	json_decref(pop);
}

static void test_population_digest_and_order(void **state)
{
	json_t *pop = population(), *sorted = NULL;
	char sha[2 * CRYPTO_SHA256_LEN + 1];

	(void)state;
	assert_int_equal(sample_population(&sorted, sha, pop), 0);
	assert_keys(sorted, "[\"CHG-1\",\"CHG-2\",\"CHG-3\",\"CHG-10\",\"CHG-11\"]");
	/* sha256sum of "CHG-1\nCHG-2\nCHG-3\nCHG-10\nCHG-11\n" */
	assert_string_equal(sha, "f079b678169fab02a7347184d2561929cbbb6f32ad225f6258e26f1ea8cfb351");
	json_decref(sorted);
	json_decref(pop);
}

static void test_malformed_populations_are_refused(void **state)
{
	static const char *const bad[] = { "[\"CHG-1\", \"CHG-1\"]", "[\"CHG-01\"]", "[\"CHG-\"]", "[\"chg-1\"]",
		"[\"CHG-1x\"]", "[1]", "{}", "[\"CHG-123456789012345678901\"]" };
	json_t *out = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *pop = json_loads(bad[i], 0, NULL);

		assert_non_null(pop);
		assert_int_equal(sample_draw(&out, pop, "s", 1), OTCM_EINVAL);
		assert_string_equal(err_field(), "keys");
		json_decref(pop);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_draw_matches_the_documented_algorithm),
		cmocka_unit_test(test_same_seed_same_sample),
		cmocka_unit_test(test_population_digest_and_order),
		cmocka_unit_test(test_malformed_populations_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
