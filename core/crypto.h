/*
 * core/crypto.h - the cryptography otcm uses, over OpenSSL's libcrypto.
 *
 * With core/tls.h (libssl), the only module that includes OpenSSL headers.  All functions are
 * thread-safe.  Digests are raw bytes; *_hex variants write lowercase hex
 * plus a NUL into an array of at least 2*len+1 bytes.
 */
#ifndef OTCM_CORE_CRYPTO_H
#define OTCM_CORE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRYPTO_SHA256_LEN 32

struct crypto_sha256_ctx;

void crypto_sha256(unsigned char out[CRYPTO_SHA256_LEN], const void *data, size_t len);
void crypto_sha256_hex(char out[2 * CRYPTO_SHA256_LEN + 1], const void *data, size_t len);

/* Incremental SHA-256: new, update any number of times, final (frees ctx). */
struct crypto_sha256_ctx *crypto_sha256_new(void);
void crypto_sha256_update(struct crypto_sha256_ctx *ctx, const void *data, size_t len);
void crypto_sha256_final(unsigned char out[CRYPTO_SHA256_LEN], struct crypto_sha256_ctx *ctx);

/*
 * SHA-1 of `head` followed by `data`: git's object ids ("blob 12\0" then
 * the content), to check stored objects.  Not for anything new.
 */
void crypto_sha1(unsigned char out[20], const void *head, size_t head_len, const void *data,
		 size_t len);

/* HMAC with SHA-1 (TOTP) or SHA-256; out must hold 20 or 32 bytes. */
void crypto_hmac_sha1(unsigned char out[20], const void *key, size_t keylen, const void *msg, size_t len);
void crypto_hmac_sha256(unsigned char out[32], const void *key, size_t keylen, const void *msg, size_t len);

/* Cryptographically strong random bytes; OTCM_EINTERNAL if the CSPRNG fails. */
int crypto_random(void *out, size_t len);

/* Random token of `nbytes` bytes as lowercase hex (2*nbytes+1 chars in out). */
int crypto_random_hex(char *out, size_t nbytes);

/* Compare two byte strings in time independent of their contents. */
bool crypto_equal(const void *a, const void *b, size_t len);

/* Lowercase hex of `len` bytes into out (2*len+1 bytes). */
void crypto_hex(char *out, const void *data, size_t len);

/* Parse exactly 2*len hex digits into out; OTCM_EINVAL otherwise. */
int crypto_unhex(unsigned char *out, size_t len, const char *hex);

/*
 * Password hashing: PBKDF2-HMAC-SHA256 with a 16-byte random salt.
 * crypto_password_hash() writes "$pbkdf2-sha256$i=<iter>$<salt b64>$<hash b64>"
 * into out (at most CRYPTO_PASSWORD_HASH_MAX bytes).  crypto_password_verify()
 * returns 0 when the password matches, OTCM_EAUTH when it does not and
 * OTCM_EINVAL when `stored` is not a hash this module wrote.
 */
#define CRYPTO_PASSWORD_HASH_MAX 160
int crypto_password_hash(char out[CRYPTO_PASSWORD_HASH_MAX], const char *password, unsigned iterations);
int crypto_password_verify(const char *stored, const char *password);

/* Standard base64 with padding; out gets a NUL; returns the length written. */
size_t crypto_base64(char *out, const void *data, size_t len);
#define CRYPTO_BASE64_LEN(n) ((((n) + 2) / 3) * 4 + 1)

/* Decode standard base64; *out_len gets the byte count.  OTCM_EINVAL if bad. */
int crypto_unbase64(unsigned char *out, size_t outcap, size_t *out_len, const char *in);

/*
 * Ed25519 (RFC 8032), for the signed checkpoints of the audit trail and,
 * later, evidence.  A key is opaque and holds the private half; it is
 * immutable after creation, so one key may sign from many threads.
 */
#define CRYPTO_ED25519_PUB_LEN 32
#define CRYPTO_ED25519_SEED_LEN 32
#define CRYPTO_ED25519_SIG_LEN 64

struct crypto_ed25519_key;

/* A new random key; *out belongs to the caller (crypto_ed25519_free). */
int crypto_ed25519_generate(struct crypto_ed25519_key **out);

/* The key whose 32-byte private seed is `seed` (RFC 8032 test vectors). */
int crypto_ed25519_from_seed(struct crypto_ed25519_key **out,
			     const unsigned char seed[CRYPTO_ED25519_SEED_LEN]);

void crypto_ed25519_free(struct crypto_ed25519_key *key);

/* The raw 32-byte public key. */
void crypto_ed25519_public(unsigned char out[CRYPTO_ED25519_PUB_LEN],
			   const struct crypto_ed25519_key *key);

/* Sign `len` bytes of msg (pure Ed25519, no prehash). */
int crypto_ed25519_sign(unsigned char out[CRYPTO_ED25519_SIG_LEN],
			const struct crypto_ed25519_key *key, const void *msg, size_t len);

/* 0 when sig is pub's signature of msg, OTCM_EAUTH when it is not. */
int crypto_ed25519_verify(const unsigned char pub[CRYPTO_ED25519_PUB_LEN],
			  const void *msg, size_t len,
			  const unsigned char sig[CRYPTO_ED25519_SIG_LEN]);

/*
 * Write the private key to a new file at `path` as PEM PKCS#8, created
 * with mode 0600 (never replacing a file: OTCM_ECONFLICT if it exists).
 */
int crypto_ed25519_save(const struct crypto_ed25519_key *key, const char *path);

/*
 * Read a private key written by crypto_ed25519_save().  OTCM_ENOTFOUND when
 * the file does not exist, OTCM_EFORBIDDEN when group or others may read or
 * write it, OTCM_EINVAL when it is not an Ed25519 private key.
 */
int crypto_ed25519_load(struct crypto_ed25519_key **out, const char *path);

/* The public key as PEM SubjectPublicKeyInfo ("-----BEGIN PUBLIC KEY-----"); free() it. */
char *crypto_ed25519_public_pem(const unsigned char pub[CRYPTO_ED25519_PUB_LEN]);

/* Parse a PEM SubjectPublicKeyInfo holding an Ed25519 key; OTCM_EINVAL otherwise. */
int crypto_ed25519_public_from_pem(unsigned char out[CRYPTO_ED25519_PUB_LEN], const char *pem,
				   size_t len);

/*
 * Files encrypted at rest (backups): AES-256-GCM in chunks of at most
 * 1 MiB, so any size streams in bounded memory.  Layout: "OTCMENC1", a
 * random 12-byte nonce, then per chunk a 4-byte big-endian length, the
 * ciphertext and its 16-byte tag.  Chunk i is sealed with the nonce whose
 * last 8 bytes are XORed with i, and authenticates (i, last-chunk flag):
 * chunks cannot be reordered, dropped or the file cut short unnoticed.
 */
#define CRYPTO_FILE_KEY_LEN 32

/*
 * Read a key file: exactly 64 hex digits (`openssl rand -hex 32`), a final
 * newline allowed.  OTCM_EFORBIDDEN when group or others may read it,
 * OTCM_EINVAL when it holds anything else, OTCM_EIO when it cannot be read.
 */
int crypto_file_key_load(unsigned char out[CRYPTO_FILE_KEY_LEN], const char *path);

/* Encrypt the file `in` into the new file `out` (mode 0600). */
int crypto_file_encrypt(const char *in, const char *out, const unsigned char key[CRYPTO_FILE_KEY_LEN]);

/*
 * Decrypt `in` into the new file `out` (mode 0600); OTCM_EAUTH when it was
 * not encrypted with this key or was altered, cut short or reordered (out
 * is removed then).
 */
int crypto_file_decrypt(const char *in, const char *out, const unsigned char key[CRYPTO_FILE_KEY_LEN]);

#endif
