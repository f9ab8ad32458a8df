/*
 * core/hooksig.h - webhook signatures after the Standard Webhooks
 * convention: a secret "whsec_<base64 key>" and
 *
 *   webhook-signature: v1,<base64 HMAC-SHA256(key, id "." timestamp "." body)>
 *
 * so that a receiver verifies otcm's deliveries with any of that
 * convention's libraries (tests/unit/core/test_hooksig.c holds its
 * published test vector).
 *
 * Pure functions: no I/O.  Thread-safety: reentrant.
 */
#ifndef OTCM_CORE_HOOKSIG_H
#define OTCM_CORE_HOOKSIG_H

#include <stddef.h>

#define HOOKSIG_PREFIX "whsec_"
#define HOOKSIG_KEY_MIN 24         /* bytes of key a secret must hold */
#define HOOKSIG_KEY_MAX 64
#define HOOKSIG_LEN 48             /* "v1," + base64 of 32 bytes (44) + NUL */

/*
 * Decode `secret` ("whsec_" and the base64 of HOOKSIG_KEY_MIN to
 * HOOKSIG_KEY_MAX bytes) into key (HOOKSIG_KEY_MAX bytes) and *out_len.
 * Anything else is OTCM_EINVAL naming `field`.
 */
int hooksig_key(unsigned char key[HOOKSIG_KEY_MAX], size_t *out_len, const char *secret,
		const char *field);

/*
 * The header value "v1,<base64 HMAC-SHA256>" over `id`.`timestamp`.`body`
 * (body `len` bytes) under the secret's key, into out (HOOKSIG_LEN bytes).
 * OTCM_EINVAL (field "secret") for a malformed secret.
 */
int hooksig_sign(char out[HOOKSIG_LEN], const char *secret, const char *id, const char *timestamp,
		 const char *body, size_t len);

#endif
