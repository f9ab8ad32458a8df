/* Unit tests for core/hooksig: the Standard Webhooks test vector, and malformed secrets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/hooksig.h"

/* The Standard Webhooks specification's published example. */
static void test_standard_webhooks_vector(void **state)
{
	static const char body[] = "{\"test\": 2432232314}";
	char sig[HOOKSIG_LEN];

	(void)state;
	assert_int_equal(hooksig_sign(sig, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
				      "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", body,
				      strlen(body)), 0);
	assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	/* one byte of the body, the id or the timestamp changes the signature */
	assert_int_equal(hooksig_sign(sig, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
				      "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265331", body,
				      strlen(body)), 0);
	assert_string_not_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

static void test_malformed_secrets(void **state)
{
	static const char *const bad[] = {
		"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",          /* no prefix */
		"whsec_",                                    /* no key */
		"whsec_c2hvcnQ=",                            /* 5 bytes */
		"whsec_***notbase64***",
		"whsec_QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"
		"QUFBQUFB",                                   /* 72 bytes */
	};
	unsigned char key[HOOKSIG_KEY_MAX];
	char sig[HOOKSIG_LEN];
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(hooksig_key(key, &len, bad[i], "secret"), OTCM_EINVAL);
		assert_string_equal(err_field(), "secret");
		assert_int_equal(hooksig_sign(sig, bad[i], "id", "1", "{}", 2), OTCM_EINVAL);
	}
	assert_int_equal(hooksig_key(key, &len, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "secret"), 0);
	assert_int_equal(len, 24);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_standard_webhooks_vector),
		cmocka_unit_test(test_malformed_secrets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
