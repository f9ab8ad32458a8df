/* core/hooksig.c - Standard Webhooks signatures; see hooksig.h. */
#include "core/hooksig.h"

#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/err.h"

int hooksig_key(unsigned char key[HOOKSIG_KEY_MAX], size_t *out_len, const char *secret,
		const char *field)
{
	unsigned char raw[HOOKSIG_KEY_MAX + 4];
	size_t prefix = strlen(HOOKSIG_PREFIX), len = 0;

	if (strncmp(secret, HOOKSIG_PREFIX, prefix) != 0 ||
	    strlen(secret) > prefix + CRYPTO_BASE64_LEN(HOOKSIG_KEY_MAX) ||
	    crypto_unbase64(raw, sizeof(raw), &len, secret + prefix) != 0 ||
	    len < HOOKSIG_KEY_MIN || len > HOOKSIG_KEY_MAX) {
		memset(raw, 0, sizeof(raw));
		err_clear();
		return err_set(OTCM_EINVAL, field, "%s must be \"whsec_\" followed by the base64 of %d "
			       "to %d random bytes", field, HOOKSIG_KEY_MIN, HOOKSIG_KEY_MAX);
	}
	memcpy(key, raw, len);
	memset(raw, 0, sizeof(raw));
	*out_len = len;
	return 0;
}

int hooksig_sign(char out[HOOKSIG_LEN], const char *secret, const char *id, const char *timestamp,
		 const char *body, size_t len)
{
	unsigned char key[HOOKSIG_KEY_MAX], mac[32];
	char b64[CRYPTO_BASE64_LEN(32)];
	struct buf msg = BUF_INIT;
	size_t keylen = 0;
	int rc;

	if ((rc = hooksig_key(key, &keylen, secret, "secret")))
		return rc;
	if ((rc = buf_addf(&msg, "%s.%s.", id, timestamp)) || (rc = buf_add(&msg, body, len)))
		goto out;
	crypto_hmac_sha256(mac, key, keylen, msg.data, msg.len);
	crypto_base64(b64, mac, sizeof(mac));
	snprintf(out, HOOKSIG_LEN, "v1,%s", b64);
out:
	memset(key, 0, sizeof(key));
	buf_release(&msg);
	return rc;
}
