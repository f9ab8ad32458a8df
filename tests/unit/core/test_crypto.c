/* Unit tests for core/crypto: digests against published vectors, passwords, encodings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/crypto.h"
#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* Write `len` bytes of a pattern to path. */
static void write_pattern(const char *path, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	for (size_t i = 0; i < len; i++)
		fputc((int)((i * 7 + i / 251) & 0xff), f);
	fclose(f);
}

static bool same_file(const char *a, const char *b)
{
	FILE *x = fopen(a, "rb"), *y = fopen(b, "rb");
	int c, d;
	bool same = x && y;

	while (same && (c = fgetc(x)) == (d = fgetc(y)) && c != EOF)
		;
	if (same)
		same = c == d;
	if (x)
		fclose(x);
	if (y)
		fclose(y);
	return same;
}

/* Change one byte of path at offset, or cut it to `cut` bytes (cut >= 0). */
static void damage(const char *path, long offset, long cut)
{
	FILE *f = fopen(path, "r+b");
	int c;

	assert_non_null(f);
	if (cut >= 0) {
		fclose(f);
		assert_int_equal(truncate(path, cut), 0);
		return;
	}
	fseek(f, offset, SEEK_SET);
	c = fgetc(f);
	fseek(f, offset, SEEK_SET);
	fputc(c ^ 0x40, f);
	fclose(f);
}

static void test_file_encryption(void **state)
{
	static const size_t sizes[] = { 0, 1, (1 << 20) - 1, 1 << 20, (1 << 20) + 5, 3 << 20 };
	unsigned char key[CRYPTO_FILE_KEY_LEN], other[CRYPTO_FILE_KEY_LEN];
	char dir[] = "/tmp/otcm-crypto.XXXXXX", plain[64], enc[64], back[64], keyfile[64];
	struct stat st;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(plain, sizeof(plain), "%s/plain", dir);
	snprintf(enc, sizeof(enc), "%s/enc", dir);
	snprintf(back, sizeof(back), "%s/back", dir);
	snprintf(keyfile, sizeof(keyfile), "%s/key", dir);
	assert_int_equal(crypto_random(key, sizeof(key)), 0);
	memcpy(other, key, sizeof(key));
	other[0] ^= 1;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		write_pattern(plain, sizes[i]);
		assert_int_equal(crypto_file_encrypt(plain, enc, key), 0);
		assert_int_equal(stat(enc, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		assert_int_equal(crypto_file_decrypt(enc, back, key), 0);
		assert_true(same_file(plain, back));
		unlink(back);
		/* another key, a flipped byte, a cut at a chunk boundary or mid-chunk: refused, nothing left */
		assert_int_equal(crypto_file_decrypt(enc, back, other), OTCM_EAUTH);
		assert_int_equal(access(back, F_OK), -1);
		if (sizes[i] > (1 << 20)) {
			char cut[80];

			snprintf(cut, sizeof(cut), "%s.cut", enc);
			assert_int_equal(crypto_file_encrypt(plain, cut, key), 0);
			damage(cut, 0, 8 + 12 + 4 + (1 << 20) + 16);   /* exactly the first chunk */
			assert_int_equal(crypto_file_decrypt(cut, back, key), OTCM_EAUTH);
			unlink(cut);
		}
		damage(enc, 8 + 12 + 4 + (long)(sizes[i] / 2), -1);
		assert_int_equal(crypto_file_decrypt(enc, back, key), OTCM_EAUTH);
		assert_int_equal(access(back, F_OK), -1);
		unlink(enc);
	}
	/* an existing output is never replaced */
	write_pattern(plain, 10);
	write_pattern(enc, 10);
	assert_int_equal(crypto_file_encrypt(plain, enc, key), OTCM_EIO);

	/* key files: 64 hex digits, private */
	f = fopen(keyfile, "w");
	fputs("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", f);
	fclose(f);
	chmod(keyfile, 0600);
	assert_int_equal(crypto_file_key_load(key, keyfile), 0);
	assert_int_equal(key[1], 0x11);
	chmod(keyfile, 0644);
	assert_int_equal(crypto_file_key_load(key, keyfile), OTCM_EFORBIDDEN);
	f = fopen(keyfile, "w");
	fputs("not hex\n", f);
	fclose(f);
	chmod(keyfile, 0600);
	assert_int_equal(crypto_file_key_load(key, keyfile), OTCM_EINVAL);
	unlink(keyfile);
	unlink(plain);
	unlink(enc);
	rmdir(dir);
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
		cmocka_unit_test(test_file_encryption),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
