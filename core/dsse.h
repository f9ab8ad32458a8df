/*
 * core/dsse.h - DSSE envelopes (github.com/secure-systems-lab/dsse, v1)
 * signed with Ed25519, and in-toto Statement v1 helpers.
 *
 * A DSSE signature covers the pre-authentication encoding of the payload,
 * never the payload alone:
 *
 *     PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
 *
 * LEN is the byte length as ASCII decimal without leading zeros, SP one
 * space.  The envelope is the JSON object
 *
 *     {"payload": base64(body), "payloadType": type,
 *      "signatures": [{"keyid": "<hex>", "sig": base64(signature)}]}
 *
 * Envelopes and statements are serialised with sorted keys and no
 * whitespace, so the same inputs give the same bytes.
 *
 * Errors: OTCM_EINVAL for a malformed envelope (the message says what),
 * OTCM_EAUTH when no signature verifies.  Thread-safety: all functions are.
 */
#ifndef OTCM_CORE_DSSE_H
#define OTCM_CORE_DSSE_H

#include <stddef.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/json.h"

#define DSSE_INTOTO_TYPE "application/vnd.in-toto+json"
#define DSSE_STATEMENT_V1 "https://in-toto.io/Statement/v1"

/* Largest payload an envelope may carry (a statement is a few kilobytes). */
#define DSSE_PAYLOAD_MAX ((size_t)4 << 20)

/* Append PAE(payload_type, payload) to out. */
int dsse_pae(struct buf *out, const char *payload_type, const void *payload, size_t len);

/*
 * The key id otcm writes: lowercase hex of SHA-256 of the raw 32-byte
 * public key (65 bytes with the NUL).
 */
void dsse_keyid(char out[2 * CRYPTO_SHA256_LEN + 1], const unsigned char pub[CRYPTO_ED25519_PUB_LEN]);

/*
 * Sign `payload` as `payload_type` with `key`: *out gets the envelope's
 * bytes (sorted keys, compact, ending in a newline), NUL-terminated, owned
 * by the caller (free()).
 */
int dsse_sign(char **out, size_t *out_len, const char *payload_type, const void *payload,
	      size_t len, const struct crypto_ed25519_key *key);

/*
 * Parse envelope bytes (untrusted) and verify that one of its signatures
 * is `pub`'s over the PAE of its payload and that its payloadType is
 * `payload_type`.  *out_payload gets the decoded payload, NUL-terminated,
 * owned by the caller (free()), also when the signature does not verify
 * (then OTCM_EAUTH); NULL on OTCM_EINVAL.
 */
int dsse_verify(char **out_payload, size_t *out_len, const char *envelope, size_t envelope_len,
		const char *payload_type, const unsigned char pub[CRYPTO_ED25519_PUB_LEN]);

/*
 * An in-toto Statement v1: {"_type", "subject", "predicateType",
 * "predicate"}.  `subjects` and `predicate` are stolen (new references are
 * not taken).  Returns a new object.
 */
json_t *dsse_statement(json_t *subjects, const char *predicate_type, json_t *predicate);

/*
 * One subject named `name` whose digest is {"gitCommit": commit,
 * "gitTree": tree}.  Returns a new object.
 */
json_t *dsse_git_subject(const char *name, const char *commit, const char *tree);

#endif
