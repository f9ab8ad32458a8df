/* core/crypto.c - thin wrappers over libcrypto; see crypto.h. */
#include "core/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"

struct crypto_sha256_ctx {
	EVP_MD_CTX *md;
};

void crypto_sha256(unsigned char out[CRYPTO_SHA256_LEN], const void *data, size_t len)
{
	SHA256(data, len, out);
}

void crypto_sha256_hex(char out[2 * CRYPTO_SHA256_LEN + 1], const void *data, size_t len)
{
	unsigned char d[CRYPTO_SHA256_LEN];

	crypto_sha256(d, data, len);
	crypto_hex(out, d, sizeof(d));
}

struct crypto_sha256_ctx *crypto_sha256_new(void)
{
	struct crypto_sha256_ctx *c = xcalloc(1, sizeof(*c));

	c->md = EVP_MD_CTX_new();
	if (!c->md || EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1) {
		fprintf(stderr, "otcm: cannot initialise SHA-256\n");
		abort();
	}
	return c;
}

void crypto_sha256_update(struct crypto_sha256_ctx *ctx, const void *data, size_t len)
{
	EVP_DigestUpdate(ctx->md, data, len);
}

void crypto_sha256_final(unsigned char out[CRYPTO_SHA256_LEN], struct crypto_sha256_ctx *ctx)
{
	unsigned int n = 0;

	EVP_DigestFinal_ex(ctx->md, out, &n);
	EVP_MD_CTX_free(ctx->md);
	free(ctx);
}

void crypto_hmac_sha1(unsigned char out[20], const void *key, size_t keylen, const void *msg, size_t len)
{
	unsigned int n = 20;

	HMAC(EVP_sha1(), key, (int)keylen, msg, len, out, &n);
}

void crypto_hmac_sha256(unsigned char out[32], const void *key, size_t keylen, const void *msg, size_t len)
{
	unsigned int n = 32;

	HMAC(EVP_sha256(), key, (int)keylen, msg, len, out, &n);
}

int crypto_random(void *out, size_t len)
{
	if (RAND_bytes(out, (int)len) != 1)
		return err_set(OTCM_EINTERNAL, NULL, "random number generator failed");
	return 0;
}

int crypto_random_hex(char *out, size_t nbytes)
{
	unsigned char tmp[128];
	int rc;

	if (nbytes > sizeof(tmp))
		return err_set(OTCM_EINTERNAL, NULL, "random token too long");
	rc = crypto_random(tmp, nbytes);
	if (rc)
		return rc;
	crypto_hex(out, tmp, nbytes);
	return 0;
}

bool crypto_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

void crypto_hex(char *out, const void *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * len] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int crypto_unhex(unsigned char *out, size_t len, const char *hex)
{
	size_t i;

	if (strlen(hex) != 2 * len)
		return err_set(OTCM_EINVAL, NULL, "expected %zu hex digits", 2 * len);
	for (i = 0; i < len; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return err_set(OTCM_EINVAL, NULL, "not a hex string");
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

size_t crypto_base64(char *out, const void *data, size_t len)
{
	return (size_t)EVP_EncodeBlock((unsigned char *)out, data, (int)len);
}

int crypto_unbase64(unsigned char *out, size_t outcap, size_t *out_len, const char *in)
{
	size_t inlen = strlen(in), pad = 0;
	unsigned char *tmp;
	int n;

	if (inlen % 4 != 0)
		return err_set(OTCM_EINVAL, NULL, "bad base64 length");
	if (inlen / 4 * 3 > outcap)
		return err_set(OTCM_EINVAL, NULL, "base64 value too long");
	if (inlen && in[inlen - 1] == '=')
		pad++;
	if (inlen > 1 && in[inlen - 2] == '=')
		pad++;
	tmp = xmalloc(inlen / 4 * 3 + 1);
	n = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)inlen);
	if (n < 0 || (size_t)n < pad) {
		free(tmp);
		return err_set(OTCM_EINVAL, NULL, "bad base64");
	}
	memcpy(out, tmp, (size_t)n - pad);
	*out_len = (size_t)n - pad;
	free(tmp);
	return 0;
}

int crypto_password_hash(char out[CRYPTO_PASSWORD_HASH_MAX], const char *password, unsigned iterations)
{
	unsigned char salt[16], dk[32];
	char salt64[CRYPTO_BASE64_LEN(16)], dk64[CRYPTO_BASE64_LEN(32)];
	int rc = crypto_random(salt, sizeof(salt));

	if (rc)
		return rc;
	if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, sizeof(salt),
			      (int)iterations, EVP_sha256(), sizeof(dk), dk) != 1)
		return err_set(OTCM_EINTERNAL, NULL, "password hashing failed");
	crypto_base64(salt64, salt, sizeof(salt));
	crypto_base64(dk64, dk, sizeof(dk));
	snprintf(out, CRYPTO_PASSWORD_HASH_MAX, "$pbkdf2-sha256$i=%u$%s$%s", iterations, salt64, dk64);
	OPENSSL_cleanse(dk, sizeof(dk));
	return 0;
}

int crypto_password_verify(const char *stored, const char *password)
{
	unsigned iterations;
	char salt64[64], dk64[64];
	unsigned char salt[48], want[48], got[32];
	size_t saltlen, wantlen;

	if (sscanf(stored, "$pbkdf2-sha256$i=%u$%63[^$]$%63s", &iterations, salt64, dk64) != 3 ||
	    iterations == 0 || iterations > 100000000)
		return err_set(OTCM_EINVAL, NULL, "unrecognised password hash");
	if (crypto_unbase64(salt, sizeof(salt), &saltlen, salt64) ||
	    crypto_unbase64(want, sizeof(want), &wantlen, dk64) || wantlen != sizeof(got))
		return err_set(OTCM_EINVAL, NULL, "unrecognised password hash");
	if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)saltlen,
			      (int)iterations, EVP_sha256(), sizeof(got), got) != 1)
		return err_set(OTCM_EINTERNAL, NULL, "password hashing failed");
	if (!crypto_equal(got, want, sizeof(got)))
		return err_set(OTCM_EAUTH, NULL, "wrong password");
	return 0;
}
