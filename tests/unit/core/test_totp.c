/* tests/unit/core/test_totp.c - RFC 6238 test vectors, the window and replay refusal. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/totp.h"

static const unsigned char key[] = "12345678901234567890";

/* RFC 6238 appendix B, SHA-1 column (8 digits). */
static void test_rfc6238_vectors(void **state)
{
	static const struct {
		uint64_t t;
		uint32_t code;
	} v[] = {
		{ 59, 94287082 }, { 1111111109, 7081804 }, { 1111111111, 14050471 },
		{ 1234567890, 89005924 }, { 2000000000, 69279037 }, { 20000000000ULL, 65353130 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_int_equal(totp_code(key, 20, v[i].t / 30, 8), v[i].code);
}

static void six(char out[8], uint64_t t)
{
	snprintf(out, 8, "%06u", (unsigned)totp_code(key, 20, t / 30, 6));
}

static void test_window_and_replay(void **state)
{
	char code[8];
	int64_t last = 0;
	const int64_t now = 1111111111;

	(void)state;
	six(code, (uint64_t)now);
	assert_int_equal(totp_verify(&last, key, 20, code, now), 0);
	assert_int_equal(last, now / 30);
	/* the same code again is refused */
	assert_int_equal(totp_verify(&last, key, 20, code, now), OTCM_EAUTH);
	assert_string_equal(err_field(), "totp_code");

	/* one step early or late is accepted, two are not */
	last = 0;
	six(code, (uint64_t)(now - 30));
	assert_int_equal(totp_verify(&last, key, 20, code, now), 0);
	six(code, (uint64_t)(now + 30));
	assert_int_equal(totp_verify(&last, key, 20, code, now), 0);
	last = 0;
	six(code, (uint64_t)(now + 60));
	assert_int_equal(totp_verify(&last, key, 20, code, now), OTCM_EAUTH);
	six(code, (uint64_t)(now - 60));
	assert_int_equal(totp_verify(&last, key, 20, code, now), OTCM_EAUTH);

	/* an older step than one already used is refused even inside the window */
	last = now / 30;
	six(code, (uint64_t)(now - 30));
	assert_int_equal(totp_verify(&last, key, 20, code, now), OTCM_EAUTH);

	assert_int_equal(totp_verify(&last, key, 20, "12345", now), OTCM_EINVAL);
	assert_int_equal(totp_verify(&last, key, 20, "12a456", now), OTCM_EINVAL);
	assert_int_equal(totp_verify(&last, key, 20, NULL, now), OTCM_EINVAL);
}

static void test_base32_and_uri(void **state)
{
	char out[TOTP_BASE32_MAX];
	char *uri;

	(void)state;
	/* RFC 4648 section 10, without padding */
	assert_int_equal(totp_base32(out, sizeof(out), (const unsigned char *)"foobar", 6), 0);
	assert_string_equal(out, "MZXW6YTBOI");
	assert_int_equal(totp_base32(out, sizeof(out), (const unsigned char *)"f", 1), 0);
	assert_string_equal(out, "MY");
	assert_int_equal(totp_base32(out, sizeof(out), key, 20), 0);
	assert_string_equal(out, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
	assert_int_equal(totp_base32(out, 4, key, 20), OTCM_ETOOBIG);
	uri = totp_uri("otcm", "eve engineer", "GEZDGNBV");
	assert_string_equal(uri, "otpauth://totp/otcm:eve%20engineer?secret=GEZDGNBV&issuer=otcm"
				 "&algorithm=SHA1&digits=6&period=30");
	free(uri);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc6238_vectors),
		cmocka_unit_test(test_window_and_replay),
		cmocka_unit_test(test_base32_and_uri),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
