/* core/dsse.c - DSSE envelopes and in-toto statements; see dsse.h. */
#include "core/dsse.h"

#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"

int dsse_pae(struct buf *out, const char *payload_type, const void *payload, size_t len)
{
	int rc;

	if ((rc = buf_addf(out, "DSSEv1 %zu %s %zu ", strlen(payload_type), payload_type, len)))
		return rc;
	return buf_add(out, payload, len);
}

void dsse_keyid(char out[2 * CRYPTO_SHA256_LEN + 1], const unsigned char pub[CRYPTO_ED25519_PUB_LEN])
{
	crypto_sha256_hex(out, pub, CRYPTO_ED25519_PUB_LEN);
}

int dsse_sign(char **out, size_t *out_len, const char *payload_type, const void *payload,
	      size_t len, const struct crypto_ed25519_key *key)
{
	struct buf pae = BUF_INIT;
	unsigned char pub[CRYPTO_ED25519_PUB_LEN], sig[CRYPTO_ED25519_SIG_LEN];
	char keyid[2 * CRYPTO_SHA256_LEN + 1], sig64[CRYPTO_BASE64_LEN(CRYPTO_ED25519_SIG_LEN)];
	char *body64 = NULL, *text = NULL;
	json_t *env = NULL;
	int rc;

	*out = NULL;
	if (len > DSSE_PAYLOAD_MAX)
		return err_set(OTCM_ETOOBIG, NULL, "payload of %zu bytes is too large to sign", len);
	if ((rc = dsse_pae(&pae, payload_type, payload, len)) ||
	    (rc = crypto_ed25519_sign(sig, key, pae.data, pae.len)))
		goto out;
	crypto_ed25519_public(pub, key);
	dsse_keyid(keyid, pub);
	crypto_base64(sig64, sig, sizeof(sig));
	body64 = xmalloc(CRYPTO_BASE64_LEN(len));
	crypto_base64(body64, payload, len);
	env = json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "payload", body64, "payloadType", payload_type,
			"signatures", "keyid", keyid, "sig", sig64);
	text = env ? json_dumps(env, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (!text) {
		rc = err_set(OTCM_EINTERNAL, NULL, "cannot encode a DSSE envelope");
		goto out;
	}
	*out_len = strlen(text) + 1;
	*out = xmalloc(*out_len + 1);
	memcpy(*out, text, *out_len - 1);
	(*out)[*out_len - 1] = '\n';
	(*out)[*out_len] = '\0';
out:
	free(text);
	free(body64);
	json_decref(env);
	buf_release(&pae);
	return rc;
}

/* Decode base64 text into a new NUL-terminated buffer. */
static int unbase64(unsigned char **out, size_t *out_len, const char *text, size_t max)
{
	size_t cap = strlen(text) / 4 * 3 + 3;
	unsigned char *p;

	*out = NULL;
	if (cap > max + 3)
		return err_set(OTCM_EINVAL, NULL, "base64 value too long");
	p = xmalloc(cap + 1);
	if (crypto_unbase64(p, cap, out_len, text)) {
		free(p);
		return err_set(OTCM_EINVAL, NULL, "bad base64");
	}
	p[*out_len] = '\0';
	*out = p;
	return 0;
}

int dsse_verify(char **out_payload, size_t *out_len, const char *envelope, size_t envelope_len,
		const char *payload_type, const unsigned char pub[CRYPTO_ED25519_PUB_LEN])
{
	json_t *env = NULL, *sigs, *s;
	json_error_t jerr;
	const char *body64, *type;
	unsigned char *payload = NULL, *sig = NULL;
	char keyid[2 * CRYPTO_SHA256_LEN + 1];
	struct buf pae = BUF_INIT;
	size_t len = 0, siglen, i;
	int rc = OTCM_EAUTH;

	*out_payload = NULL;
	*out_len = 0;
	env = json_loadb(envelope, envelope_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(env)) {
		rc = err_set(OTCM_EINVAL, NULL, "not a JSON object: %s", jerr.text);
		goto out;
	}
	body64 = json_string_value(json_object_get(env, "payload"));
	type = json_string_value(json_object_get(env, "payloadType"));
	sigs = json_object_get(env, "signatures");
	if (!body64 || !type || !json_is_array(sigs)) {
		rc = err_set(OTCM_EINVAL, NULL, "payload, payloadType and signatures are required");
		goto out;
	}
	if (strcmp(type, payload_type)) {
		rc = err_set(OTCM_EINVAL, NULL, "payloadType is '%.80s', not '%s'", type, payload_type);
		goto out;
	}
	if ((rc = unbase64(&payload, &len, body64, DSSE_PAYLOAD_MAX))) {
		err_set(rc, NULL, "payload is not base64");
		goto out;
	}
	if ((rc = dsse_pae(&pae, type, payload, len)))
		goto out;
	dsse_keyid(keyid, pub);
	rc = err_set(OTCM_EAUTH, NULL, "no signature of the key verifies");
	json_array_foreach(sigs, i, s) {
		const char *sig64 = json_string_value(json_object_get(s, "sig"));
		const char *id = json_string_value(json_object_get(s, "keyid"));

		free(sig);
		sig = NULL;
		if (!sig64 || (id && *id && strcmp(id, keyid)))
			continue;
		if (unbase64(&sig, &siglen, sig64, 128) || siglen != CRYPTO_ED25519_SIG_LEN)
			continue;
		if (crypto_ed25519_verify(pub, pae.data, pae.len, sig) == 0) {
			err_clear();
			rc = 0;
			break;
		}
	}
	*out_payload = (char *)payload;
	*out_len = len;
	payload = NULL;
	if (rc)
		err_set(rc, NULL, "no signature of the key verifies");
out:
	free(sig);
	free(payload);
	buf_release(&pae);
	json_decref(env);
	return rc;
}

json_t *dsse_statement(json_t *subjects, const char *predicate_type, json_t *predicate)
{
	return json_pack("{s:s, s:o, s:s, s:o}", "_type", DSSE_STATEMENT_V1, "subject", subjects,
			 "predicateType", predicate_type, "predicate", predicate);
}

json_t *dsse_git_subject(const char *name, const char *commit, const char *tree)
{
	return json_pack("{s:s, s:{s:s, s:s}}", "name", name, "digest", "gitCommit", commit,
			 "gitTree", tree);
}
