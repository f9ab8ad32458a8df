/*
 * tests/unit/core/test_dsse.c - DSSE envelopes: the pre-authentication
 * encoding of the specification's example, sign and verify round trip,
 * and refusal of a changed payload, another key, another payload type and
 * malformed envelopes; in-toto statements.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/dsse.h"
#include "core/err.h"

static void test_pae_matches_the_spec(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(dsse_pae(&b, "http://example.com/HelloWorld", "hello world", 11), 0);
	assert_string_equal(buf_cstr(&b), "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
	buf_release(&b);
}

static void test_sign_verify_and_tamper(void **state)
{
	struct crypto_ed25519_key *k = NULL, *other = NULL;
	unsigned char pub[CRYPTO_ED25519_PUB_LEN], opub[CRYPTO_ED25519_PUB_LEN];
	const char payload[] = "{\"_type\":\"https://in-toto.io/Statement/v1\"}";
	char *env = NULL, *got = NULL, *bad;
	size_t len, glen;
	json_t *j;

	(void)state;
	assert_int_equal(crypto_ed25519_generate(&k), 0);
	assert_int_equal(crypto_ed25519_generate(&other), 0);
	crypto_ed25519_public(pub, k);
	crypto_ed25519_public(opub, other);
	assert_int_equal(dsse_sign(&env, &len, DSSE_INTOTO_TYPE, payload, strlen(payload), k), 0);
	assert_int_equal(env[len - 1], '\n');
	assert_int_equal(dsse_verify(&got, &glen, env, len, DSSE_INTOTO_TYPE, pub), 0);
	assert_int_equal(glen, strlen(payload));
	assert_memory_equal(got, payload, glen);
	free(got);
	/* another key */
	assert_int_equal(dsse_verify(&got, &glen, env, len, DSSE_INTOTO_TYPE, opub), OTCM_EAUTH);
	free(got);
	/* another payload type */
	assert_int_equal(dsse_verify(&got, &glen, env, len, "text/plain", pub), OTCM_EINVAL);
	assert_null(got);
	/* a changed payload keeps the old signature */
	j = json_loads(env, 0, NULL);
	json_object_set_new(j, "payload", json_string("e30="));
	bad = json_dumps(j, JSON_COMPACT);
	assert_int_equal(dsse_verify(&got, &glen, bad, strlen(bad), DSSE_INTOTO_TYPE, pub), OTCM_EAUTH);
	free(got);
	free(bad);
	json_decref(j);
	/* malformed */
	assert_int_equal(dsse_verify(&got, &glen, "[]", 2, DSSE_INTOTO_TYPE, pub), OTCM_EINVAL);
	{
		static const char junk[] = "{\"payload\":\"!!\",\"payloadType\":"
					   "\"application/vnd.in-toto+json\",\"signatures\":[]}";

		assert_int_equal(dsse_verify(&got, &glen, junk, strlen(junk), DSSE_INTOTO_TYPE, pub),
				 OTCM_EINVAL);
	}
	/* deterministic */
	{
		char *again = NULL;
		size_t alen;

		assert_int_equal(dsse_sign(&again, &alen, DSSE_INTOTO_TYPE, payload, strlen(payload), k), 0);
		assert_int_equal(alen, len);
		assert_memory_equal(again, env, len);
		free(again);
	}
	free(env);
	crypto_ed25519_free(k);
	crypto_ed25519_free(other);
}

static void test_statement(void **state)
{
	json_t *st;
	char *text;

	(void)state;
	st = dsse_statement(json_pack("[o]", dsse_git_subject("a/b", "c1", "t1")), "urn:x", json_object());
	text = json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "{\"_type\":\"https://in-toto.io/Statement/v1\",\"predicate\":{},"
			    "\"predicateType\":\"urn:x\",\"subject\":[{\"digest\":{\"gitCommit\":\"c1\","
			    "\"gitTree\":\"t1\"},\"name\":\"a/b\"}]}");
	free(text);
	json_decref(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pae_matches_the_spec),
		cmocka_unit_test(test_sign_verify_and_tamper),
		cmocka_unit_test(test_statement),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
