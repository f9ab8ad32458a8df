/*
 * core/signednote.h - the C2SP signed-note format (c2sp.org/signed-note)
 * with Ed25519 signatures, and the C2SP tlog-checkpoint body it carries.
 *
 * A note is UTF-8 text ending in a newline, a blank line, then one line per
 * signature:
 *
 *     otcm/plant-a\n
 *     42\n
 *     <base64 root hash>\n
 *     \n
 *     — otcm/plant-a <base64(key id (4 bytes, big-endian) || signature (64))>\n
 *
 * The signature covers the text exactly (up to and including its final
 * newline).  A key's id is the first four bytes of
 * SHA-256(name || "\n" || 0x01 || public key); its verifier key string is
 * "<name>+<key id as 8 hex digits>+<base64(0x01 || public key)>".
 *
 * Key names are 1..SIGNEDNOTE_NAME_MAX printable ASCII characters other
 * than space and '+'.  Notes are at most SIGNEDNOTE_MAX bytes and carry at
 * most SIGNEDNOTE_MAX_SIGS signatures.  The parser takes untrusted input.
 *
 * Thread-safety: all functions are.
 */
#ifndef OTCM_CORE_SIGNEDNOTE_H
#define OTCM_CORE_SIGNEDNOTE_H

#include <stddef.h>
#include <stdint.h>

#include "core/crypto.h"

#define SIGNEDNOTE_MAX 65536
#define SIGNEDNOTE_MAX_SIGS 16
#define SIGNEDNOTE_NAME_MAX 255

struct signednote_sig {
	char name[SIGNEDNOTE_NAME_MAX + 1];
	uint32_t key_id;
	unsigned char sig[CRYPTO_ED25519_SIG_LEN];
};

/* A parsed note; text is NUL-terminated, text_len includes its final newline. */
struct signednote {
	char *text;
	size_t text_len;
	struct signednote_sig sigs[SIGNEDNOTE_MAX_SIGS];
	size_t nsigs;
};

/* The key id of (name, Ed25519 public key).  OTCM_EINVAL for a bad name. */
int signednote_key_id(uint32_t *out, const char *name,
		      const unsigned char pub[CRYPTO_ED25519_PUB_LEN]);

/* The verifier key string for (name, public key); free() it.  OTCM_EINVAL for a bad name. */
int signednote_vkey(char **out, const char *name, const unsigned char pub[CRYPTO_ED25519_PUB_LEN]);

/*
 * Sign `text` (non-empty, ending in "\n", no blank line at its end, no
 * control characters but newline) with `key` under `name`: *out gets the
 * whole note, NUL-terminated, owned by the caller (free()).  OTCM_EINVAL
 * for a bad text or name.
 */
int signednote_sign(char **out, const char *text, const char *name,
		    const struct crypto_ed25519_key *key);

/*
 * Split a note into its text and signature lines (no signature is checked
 * here).  *out belongs to the caller (signednote_free).  OTCM_EINVAL with
 * a message for anything malformed: too long, no text, not ending in a
 * newline, no blank line before the signatures, a bad signature line, too
 * many signatures.
 */
int signednote_parse(struct signednote **out, const char *msg, size_t len);

void signednote_free(struct signednote *note);

/*
 * 0 when the note carries a signature by (name, pub) — matched by name and
 * key id — and that signature verifies over the text.  OTCM_ENOTFOUND when
 * no signature of that key is present, OTCM_EAUTH when it is present but
 * does not verify.
 */
int signednote_verify(const struct signednote *note, const char *name,
		      const unsigned char pub[CRYPTO_ED25519_PUB_LEN]);

/*
 * The body of a C2SP tlog-checkpoint: "<origin>\n<size>\n<base64 root>\n";
 * free() it.
 */
char *signednote_checkpoint_text(const char *origin, uint64_t size,
				 const unsigned char root[CRYPTO_SHA256_LEN]);

/*
 * Read a checkpoint body (extension lines after the third are allowed and
 * ignored).  *out_origin (free()) gets the origin line.  OTCM_EINVAL when
 * malformed.
 */
int signednote_checkpoint_parse(char **out_origin, uint64_t *out_size,
				unsigned char out_root[CRYPTO_SHA256_LEN], const char *text);

#endif
