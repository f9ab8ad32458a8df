/* core/crypto.c - thin wrappers over libcrypto; see crypto.h. */
#include "core/crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/mem.h"

struct crypto_sha256_ctx {
	EVP_MD_CTX *md;
};

/*
 * One-shot SHA-256 is on every request (a bearer token's digest) and on
 * every audit event: libcrypto's SHA256() looks the algorithm up by name
 * and allocates a context on each call, which costs more than hashing a
 * token.  The algorithm is fetched once; each thread keeps one context,
 * freed when the thread ends.
 */
static EVP_MD *sha256_md;
static pthread_key_t sha256_key;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_ctx_free(void *ctx)
{
	EVP_MD_CTX_free(ctx);
}

static void sha256_setup(void)
{
	if (pthread_key_create(&sha256_key, sha256_ctx_free) == 0)
		sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void crypto_sha256(unsigned char out[CRYPTO_SHA256_LEN], const void *data, size_t len)
{
	EVP_MD_CTX *ctx;

	pthread_once(&sha256_once, sha256_setup);
	ctx = sha256_md ? pthread_getspecific(sha256_key) : NULL;
	if (sha256_md && !ctx && (ctx = EVP_MD_CTX_new()) != NULL &&
	    pthread_setspecific(sha256_key, ctx) != 0) {
		EVP_MD_CTX_free(ctx);
		ctx = NULL;
	}
	if (!ctx || EVP_DigestInit_ex(ctx, sha256_md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, data, len) != 1 || EVP_DigestFinal_ex(ctx, out, NULL) != 1)
		SHA256(data, len, out);
}

void crypto_sha256_hex(char out[2 * CRYPTO_SHA256_LEN + 1], const void *data, size_t len)
{
	unsigned char d[CRYPTO_SHA256_LEN];

	crypto_sha256(d, data, len);
	crypto_hex(out, d, sizeof(d));
}

void crypto_sha1(unsigned char out[20], const void *head, size_t head_len, const void *data,
		 size_t len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n = 0;

	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, head, head_len) != 1 || EVP_DigestUpdate(ctx, data, len) != 1 ||
	    EVP_DigestFinal_ex(ctx, out, &n) != 1 || n != 20)
		memset(out, 0, 20);   /* cannot match any stored id: reported as a mismatch */
	EVP_MD_CTX_free(ctx);
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

/* ---- Ed25519 ---------------------------------------------------------- */

struct crypto_ed25519_key {
	EVP_PKEY *pkey;
	unsigned char pub[CRYPTO_ED25519_PUB_LEN];
};

/* Wrap an EVP_PKEY holding an Ed25519 private key (taken over). */
static int ed25519_wrap(struct crypto_ed25519_key **out, EVP_PKEY *pkey)
{
	struct crypto_ed25519_key *k;
	size_t n = CRYPTO_ED25519_PUB_LEN;

	if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_raw_public_key(pkey, NULL, &n) != 1 || n != CRYPTO_ED25519_PUB_LEN) {
		EVP_PKEY_free(pkey);
		return err_set(OTCM_EINVAL, NULL, "not an Ed25519 key");
	}
	k = xcalloc(1, sizeof(*k));
	k->pkey = pkey;
	EVP_PKEY_get_raw_public_key(pkey, k->pub, &n);
	*out = k;
	return 0;
}

int crypto_ed25519_generate(struct crypto_ed25519_key **out)
{
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

	if (!pkey)
		return err_set(OTCM_EINTERNAL, NULL, "cannot generate an Ed25519 key");
	return ed25519_wrap(out, pkey);
}

int crypto_ed25519_from_seed(struct crypto_ed25519_key **out,
			     const unsigned char seed[CRYPTO_ED25519_SEED_LEN])
{
	EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed,
						      CRYPTO_ED25519_SEED_LEN);

	if (!pkey)
		return err_set(OTCM_EINVAL, NULL, "bad Ed25519 private key");
	return ed25519_wrap(out, pkey);
}

void crypto_ed25519_free(struct crypto_ed25519_key *key)
{
	if (!key)
		return;
	EVP_PKEY_free(key->pkey);
	free(key);
}

void crypto_ed25519_public(unsigned char out[CRYPTO_ED25519_PUB_LEN],
			   const struct crypto_ed25519_key *key)
{
	memcpy(out, key->pub, CRYPTO_ED25519_PUB_LEN);
}

int crypto_ed25519_sign(unsigned char out[CRYPTO_ED25519_SIG_LEN],
			const struct crypto_ed25519_key *key, const void *msg, size_t len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t n = CRYPTO_ED25519_SIG_LEN;
	int ok;

	ok = md && EVP_DigestSignInit(md, NULL, NULL, NULL, key->pkey) == 1 &&
	     EVP_DigestSign(md, out, &n, msg, len) == 1 && n == CRYPTO_ED25519_SIG_LEN;
	EVP_MD_CTX_free(md);
	if (!ok)
		return err_set(OTCM_EINTERNAL, NULL, "Ed25519 signing failed");
	return 0;
}

int crypto_ed25519_verify(const unsigned char pub[CRYPTO_ED25519_PUB_LEN],
			  const void *msg, size_t len,
			  const unsigned char sig[CRYPTO_ED25519_SIG_LEN])
{
	EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub,
						     CRYPTO_ED25519_PUB_LEN);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok;

	ok = pkey && md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, pkey) == 1 &&
	     EVP_DigestVerify(md, sig, CRYPTO_ED25519_SIG_LEN, msg, len) == 1;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	if (!ok)
		return err_set(OTCM_EAUTH, NULL, "bad Ed25519 signature");
	return 0;
}

int crypto_ed25519_save(const struct crypto_ed25519_key *key, const char *path)
{
	BIO *mem = BIO_new(BIO_s_mem());
	char *pem = NULL;
	long len;
	int fd = -1, rc = 0;

	if (!mem || PEM_write_bio_PrivateKey(mem, key->pkey, NULL, NULL, 0, NULL, NULL) != 1) {
		rc = err_set(OTCM_EINTERNAL, NULL, "cannot encode the Ed25519 key");
		goto out;
	}
	len = BIO_get_mem_data(mem, &pem);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = err_set(errno == EEXIST ? OTCM_ECONFLICT : OTCM_EIO, NULL,
			     "cannot create '%s': %s", path, strerror(errno));
		goto out;
	}
	/* The umask cannot widen 0600, but make the mode explicit anyway. */
	if (fchmod(fd, 0600) || write(fd, pem, (size_t)len) != (ssize_t)len || fsync(fd)) {
		rc = err_set(OTCM_EIO, NULL, "cannot write '%s': %s", path, strerror(errno));
		close(fd);
		unlink(path);
		fd = -1;
		goto out;
	}
out:
	if (fd >= 0 && close(fd) && !rc)
		rc = err_set(OTCM_EIO, NULL, "cannot write '%s': %s", path, strerror(errno));
	BIO_free(mem);
	return rc;
}

int crypto_ed25519_load(struct crypto_ed25519_key **out, const char *path)
{
	struct stat st;
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(errno == ENOENT ? OTCM_ENOTFOUND : OTCM_EIO, NULL,
			       "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st)) {
		rc = err_set(OTCM_EIO, NULL, "cannot stat '%s': %s", path, strerror(errno));
		goto out;
	}
	if (st.st_mode & 077) {
		rc = err_set(OTCM_EFORBIDDEN, NULL, "key file '%s' is accessible to others (mode %03o), "
			     "expected 0600", path, (unsigned)(st.st_mode & 0777));
		goto out;
	}
	bio = BIO_new_fd(fd, BIO_NOCLOSE);
	if (bio)
		pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	if (!pkey) {
		rc = err_set(OTCM_EINVAL, NULL, "'%s' holds no private key", path);
		goto out;
	}
	if ((rc = ed25519_wrap(out, pkey)))
		err_set(rc, NULL, "'%s' holds no Ed25519 private key", path);
out:
	BIO_free(bio);
	close(fd);
	return rc;
}

char *crypto_ed25519_public_pem(const unsigned char pub[CRYPTO_ED25519_PUB_LEN])
{
	EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub,
						     CRYPTO_ED25519_PUB_LEN);
	BIO *mem = BIO_new(BIO_s_mem());
	char *data = NULL, *pem;
	long len;

	if (!pkey || !mem || PEM_write_bio_PUBKEY(mem, pkey) != 1) {
		fprintf(stderr, "otcm: cannot encode an Ed25519 public key\n");
		abort();
	}
	len = BIO_get_mem_data(mem, &data);
	pem = xstrndup(data, (size_t)len);
	BIO_free(mem);
	EVP_PKEY_free(pkey);
	return pem;
}

int crypto_ed25519_public_from_pem(unsigned char out[CRYPTO_ED25519_PUB_LEN], const char *pem,
				   size_t len)
{
	BIO *mem = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *pkey = mem ? PEM_read_bio_PUBKEY(mem, NULL, NULL, NULL) : NULL;
	size_t n = CRYPTO_ED25519_PUB_LEN;
	int rc = 0;

	if (!pkey || EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_raw_public_key(pkey, out, &n) != 1 || n != CRYPTO_ED25519_PUB_LEN)
		rc = err_set(OTCM_EINVAL, NULL, "not an Ed25519 public key in PEM");
	EVP_PKEY_free(pkey);
	BIO_free(mem);
	return rc;
}

/* ---- files encrypted at rest ---- */

#define FILE_MAGIC "OTCMENC1"
#define FILE_CHUNK (1 << 20)
#define FILE_TAG 16
#define FILE_NONCE 12

int crypto_file_key_load(unsigned char out[CRYPTO_FILE_KEY_LEN], const char *path)
{
	char text[2 * CRYPTO_FILE_KEY_LEN + 3];
	struct stat st;
	FILE *f = NULL;
	size_t n;
	int rc = 0;

	if (stat(path, &st) < 0)
		return err_set(OTCM_EIO, NULL, "cannot read key file '%s': %s", path, strerror(errno));
	if (st.st_mode & 077)
		return err_set(OTCM_EFORBIDDEN, NULL, "key file '%s' is accessible to others (mode %03o), "
			       "expected 0600", path, (unsigned)(st.st_mode & 0777));
	f = fopen(path, "r");
	if (!f)
		return err_set(OTCM_EIO, NULL, "cannot read key file '%s': %s", path, strerror(errno));
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	if (n > 0 && text[n - 1] == '\n')
		text[--n] = '\0';
	if (n != 2 * CRYPTO_FILE_KEY_LEN || crypto_unhex(out, CRYPTO_FILE_KEY_LEN, text) != 0)
		rc = err_set(OTCM_EINVAL, NULL, "key file '%s' must hold 64 hex digits "
			     "(make one with: openssl rand -hex 32)", path);
	OPENSSL_cleanse(text, sizeof(text));
	return rc;
}

static void chunk_nonce(unsigned char out[FILE_NONCE], const unsigned char base[FILE_NONCE],
			uint64_t i)
{
	memcpy(out, base, FILE_NONCE);
	for (int b = 0; b < 8; b++)
		out[FILE_NONCE - 1 - b] ^= (unsigned char)(i >> (8 * b));
}

static void chunk_aad(unsigned char out[9], uint64_t i, bool last)
{
	for (int b = 0; b < 8; b++)
		out[b] = (unsigned char)(i >> (56 - 8 * b));
	out[8] = last ? 1 : 0;
}

/* Seal or open one chunk in place-free buffers; 0 or OTCM_EAUTH/OTCM_EINTERNAL. */
static int chunk_crypt(unsigned char *out, unsigned char tag[FILE_TAG], const unsigned char *in,
		       size_t len, const unsigned char key[CRYPTO_FILE_KEY_LEN],
		       const unsigned char base[FILE_NONCE], uint64_t i, bool last, bool enc)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	unsigned char nonce[FILE_NONCE], aad[9];
	int n = 0, rc = 0;

	chunk_nonce(nonce, base, i);
	chunk_aad(aad, i, last);
	if (!ctx || EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce, enc ? 1 : 0) != 1 ||
	    EVP_CipherUpdate(ctx, NULL, &n, aad, sizeof(aad)) != 1 ||
	    (len && EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1)) {
		rc = err_set(OTCM_EINTERNAL, NULL, "AES-256-GCM failed");
		goto out;
	}
	if (enc) {
		if (EVP_CipherFinal_ex(ctx, out + n, &n) != 1 ||
		    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, FILE_TAG, tag) != 1)
			rc = err_set(OTCM_EINTERNAL, NULL, "AES-256-GCM failed");
	} else if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, FILE_TAG, tag) != 1 ||
		   EVP_CipherFinal_ex(ctx, out + n, &n) != 1) {
		rc = err_set(OTCM_EAUTH, NULL, "chunk %llu does not authenticate", (unsigned long long)i);
	}
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

static int open_pair(FILE **in, FILE **out, const char *inpath, const char *outpath)
{
	int fd;

	*in = fopen(inpath, "rb");
	if (!*in)
		return err_set(OTCM_EIO, NULL, "cannot read '%s': %s", inpath, strerror(errno));
	fd = open(outpath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	*out = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (!*out) {
		int rc = err_set(OTCM_EIO, NULL, "cannot create '%s': %s", outpath, strerror(errno));

		if (fd >= 0)
			close(fd);
		fclose(*in);
		*in = NULL;
		return rc;
	}
	return 0;
}

static int close_pair(FILE *in, FILE *out, const char *outpath, int rc)
{
	if (in)
		fclose(in);
	if (out && fclose(out) != 0 && !rc)
		rc = err_set(OTCM_EIO, NULL, "cannot write '%s': %s", outpath, strerror(errno));
	if (rc)
		unlink(outpath);
	return rc;
}

int crypto_file_encrypt(const char *inpath, const char *outpath,
			const unsigned char key[CRYPTO_FILE_KEY_LEN])
{
	unsigned char *plain = xmalloc(FILE_CHUNK), *cipher = xmalloc(FILE_CHUNK + 16);
	unsigned char *next = xmalloc(FILE_CHUNK);
	unsigned char base[FILE_NONCE], tag[FILE_TAG], len4[4];
	FILE *in = NULL, *out = NULL;
	size_t n, m;
	uint64_t i = 0;
	int rc;

	if ((rc = open_pair(&in, &out, inpath, outpath)) || (rc = crypto_random(base, sizeof(base))))
		goto out;
	if (fwrite(FILE_MAGIC, 1, 8, out) != 8 || fwrite(base, 1, sizeof(base), out) != sizeof(base))
		goto write_failed;
	/* read one chunk ahead, to know which chunk is the last */
	n = fread(plain, 1, FILE_CHUNK, in);
	for (;;) {
		bool last;

		m = n == FILE_CHUNK ? fread(next, 1, FILE_CHUNK, in) : 0;
		if (ferror(in)) {
			rc = err_set(OTCM_EIO, NULL, "cannot read '%s'", inpath);
			goto out;
		}
		last = m == 0;
		if ((rc = chunk_crypt(cipher, tag, plain, n, key, base, i, last, true)))
			goto out;
		len4[0] = (unsigned char)(n >> 24);
		len4[1] = (unsigned char)(n >> 16);
		len4[2] = (unsigned char)(n >> 8);
		len4[3] = (unsigned char)n;
		if (fwrite(len4, 1, 4, out) != 4 || fwrite(cipher, 1, n, out) != n ||
		    fwrite(tag, 1, FILE_TAG, out) != FILE_TAG)
			goto write_failed;
		if (last)
			break;
		memcpy(plain, next, m);
		n = m;
		i++;
	}
	goto out;
write_failed:
	rc = err_set(OTCM_EIO, NULL, "cannot write '%s': %s", outpath, strerror(errno));
out:
	OPENSSL_cleanse(plain, FILE_CHUNK);
	OPENSSL_cleanse(next, FILE_CHUNK);
	free(plain);
	free(next);
	free(cipher);
	return close_pair(in, out, outpath, rc);
}

int crypto_file_decrypt(const char *inpath, const char *outpath,
			const unsigned char key[CRYPTO_FILE_KEY_LEN])
{
	unsigned char *plain = xmalloc(FILE_CHUNK + 16), *cipher = xmalloc(FILE_CHUNK);
	unsigned char base[FILE_NONCE], tag[FILE_TAG], len4[4], magic[8];
	FILE *in = NULL, *out = NULL;
	uint64_t i = 0;
	int rc;

	if ((rc = open_pair(&in, &out, inpath, outpath)))
		goto out;
	if (fread(magic, 1, 8, in) != 8 || memcmp(magic, FILE_MAGIC, 8) != 0 ||
	    fread(base, 1, sizeof(base), in) != sizeof(base)) {
		rc = err_set(OTCM_EAUTH, NULL, "'%s' is not an encrypted otcm file", inpath);
		goto out;
	}
	for (;; i++) {
		size_t n;
		int c;
		bool last;

		if (fread(len4, 1, 4, in) != 4) {
			rc = err_set(OTCM_EAUTH, NULL, "'%s' is cut short", inpath);
			goto out;
		}
		n = (size_t)len4[0] << 24 | (size_t)len4[1] << 16 | (size_t)len4[2] << 8 | len4[3];
		if (n > FILE_CHUNK || fread(cipher, 1, n, in) != n || fread(tag, 1, FILE_TAG, in) != FILE_TAG) {
			rc = err_set(OTCM_EAUTH, NULL, "'%s' is cut short or damaged", inpath);
			goto out;
		}
		c = fgetc(in);
		last = c == EOF;
		if (!last)
			ungetc(c, in);
		if ((rc = chunk_crypt(plain, tag, cipher, n, key, base, i, last, false))) {
			err_set(rc, NULL, "'%s' does not decrypt with this key (or was altered)", inpath);
			goto out;
		}
		if (fwrite(plain, 1, n, out) != n) {
			rc = err_set(OTCM_EIO, NULL, "cannot write '%s': %s", outpath, strerror(errno));
			goto out;
		}
		if (last)
			break;
	}
out:
	OPENSSL_cleanse(plain, FILE_CHUNK);
	free(plain);
	free(cipher);
	return close_pair(in, out, outpath, rc);
}
