/* Unit tests for core/crypto: digests against published vectors, passwords, encodings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/crypto.h"
#include "core/err.h"

static void test_sha256_vectors(void **state)
{
	char hex[65];

	(void)state;
	/* FIPS 180-2 examples */
	crypto_sha256_hex(hex, "abc", 3);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	crypto_sha256_hex(hex, "", 0);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_sha256_incremental_matches(void **state)
{
	struct crypto_sha256_ctx *ctx = crypto_sha256_new();
	unsigned char a[32], b[32];
	const char *msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

	(void)state;
	crypto_sha256_update(ctx, msg, 10);
	crypto_sha256_update(ctx, msg + 10, strlen(msg) - 10);
	crypto_sha256_final(a, ctx);
	crypto_sha256(b, msg, strlen(msg));
	assert_memory_equal(a, b, 32);
}

static void test_hmac_sha1_rfc2202(void **state)
{
	unsigned char out[20], key[20];
	char hex[41];

	(void)state;
	memset(key, 0x0b, sizeof(key));
	crypto_hmac_sha1(out, key, sizeof(key), "Hi There", 8);
	crypto_hex(hex, out, sizeof(out));
	assert_string_equal(hex, "b617318655057264e28bc0b6fb378c8ef146be00");
}

static void test_password_round_trip(void **state)
{
	char h1[CRYPTO_PASSWORD_HASH_MAX], h2[CRYPTO_PASSWORD_HASH_MAX];

	(void)state;
	assert_int_equal(crypto_password_hash(h1, "correct horse battery", 1000), 0);
	assert_int_equal(crypto_password_hash(h2, "correct horse battery", 1000), 0);
	assert_string_not_equal(h1, h2); /* salted */
	assert_int_equal(strncmp(h1, "$pbkdf2-sha256$i=1000$", 22), 0);
	assert_int_equal(crypto_password_verify(h1, "correct horse battery"), 0);
	assert_int_equal(crypto_password_verify(h1, "correct horse batterY"), OTCM_EAUTH);
	assert_int_equal(crypto_password_verify("$plain$secret", "secret"), OTCM_EINVAL);
	assert_int_equal(crypto_password_verify("$pbkdf2-sha256$i=0$AAAA$AAAA", "x"), OTCM_EINVAL);
}

static void test_hex_and_base64(void **state)
{
	unsigned char raw[4] = { 0xde, 0xad, 0xbe, 0xef }, back[8];
	char hex[9], b64[CRYPTO_BASE64_LEN(4)];
	size_t n;

	(void)state;
	crypto_hex(hex, raw, 4);
	assert_string_equal(hex, "deadbeef");
	assert_int_equal(crypto_unhex(back, 4, "DEADbeef"), 0);
	assert_memory_equal(back, raw, 4);
	assert_int_equal(crypto_unhex(back, 4, "deadbee"), OTCM_EINVAL);
	assert_int_equal(crypto_unhex(back, 4, "deadbeeg"), OTCM_EINVAL);
	crypto_base64(b64, raw, 4);
	assert_string_equal(b64, "3q2+7w==");
	assert_int_equal(crypto_unbase64(back, sizeof(back), &n, b64), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(back, raw, 4);
	assert_int_equal(crypto_unbase64(back, sizeof(back), &n, "3q2+7w="), OTCM_EINVAL);
}

static void test_random_differs(void **state)
{
	char a[33], b[33];

	(void)state;
	assert_int_equal(crypto_random_hex(a, 16), 0);
	assert_int_equal(crypto_random_hex(b, 16), 0);
	assert_string_not_equal(a, b);
	assert_true(crypto_equal("same", "same", 4));
	assert_false(crypto_equal("same", "sane", 4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_sha256_incremental_matches),
		cmocka_unit_test(test_hmac_sha1_rfc2202),
		cmocka_unit_test(test_password_round_trip),
		cmocka_unit_test(test_hex_and_base64),
		cmocka_unit_test(test_random_differs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
