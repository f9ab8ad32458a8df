/*
 * core/totp.h - time-based one-time passwords (RFC 6238, HMAC-SHA-1,
 * 6 digits, 30-second steps) and their base32 secrets (RFC 4648).
 *
 * The functions are pure: the caller passes the time, and keeps the last
 * step a code was accepted for, so a code is never accepted twice.
 *
 * Thread-safety: all functions are thread-safe.
 */
#ifndef OTCM_CORE_TOTP_H
#define OTCM_CORE_TOTP_H

#include <stddef.h>
#include <stdint.h>

#define TOTP_STEP_SECONDS 30
#define TOTP_DIGITS 6
#define TOTP_SECRET_LEN 20                  /* bytes of a new secret */
#define TOTP_BASE32_MAX 64                  /* room for a secret in base32 with the NUL */

/*
 * The code for time step `step` (unix seconds / 30) with `digits` digits
 * (6 to 8) of the HMAC-SHA-1 of `key`, as RFC 4226 section 5.3 truncates it.
 */
uint32_t totp_code(const unsigned char *key, size_t keylen, uint64_t step, unsigned digits);

/*
 * Check a 6-digit `code` at unix time `now_s` with a window of one step
 * either side.  A step at or before *last_step (0: none yet) is refused so
 * a code cannot be replayed; on success *last_step gets the step matched.
 * Returns 0, or OTCM_EAUTH naming "totp_code" when the code does not match
 * (OTCM_EINVAL when it is not six digits).
 */
int totp_verify(int64_t *last_step, const unsigned char *key, size_t keylen, const char *code,
		int64_t now_s);

/* Base32 without padding (RFC 4648 alphabet) of `len` bytes; out gets a NUL. */
int totp_base32(char *out, size_t outlen, const unsigned char *data, size_t len);

/*
 * The provisioning URI authenticator apps read from a QR code:
 * otpauth://totp/<issuer>:<account>?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30
 * (issuer and account percent-encoded); the caller frees it.
 */
char *totp_uri(const char *issuer, const char *account, const char *base32_secret);

#endif
