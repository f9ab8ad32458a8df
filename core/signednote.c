/*
 * core/signednote.c - C2SP signed notes and checkpoint bodies; see
 * signednote.h.  Everything here treats its input as hostile: lengths are
 * checked before use and nothing is trusted until a signature verifies.
 */
#include "core/signednote.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"

#define EM_DASH "\xe2\x80\x94"          /* U+2014, starts every signature line */
#define ED25519_ALG 0x01                /* signature type byte of Ed25519 keys */
#define SIG_B64_MAX 4096                /* longest base64 we decode from a line */

static bool valid_name(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > SIGNEDNOTE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (name[i] <= ' ' || name[i] > '~' || name[i] == '+')
			return false;
	return true;
}

/* Well-formed UTF-8 without ASCII control characters other than newline. */
static bool valid_text(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t need;
		uint32_t cp;

		if (c < 0x80) {
			if ((c < 0x20 && c != '\n') || c == 0x7f)
				return false;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (len - i <= need)
			return false;
		for (size_t k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		/* overlong forms, surrogates and values past U+10FFFF */
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		i += need + 1;
	}
	return true;
}

int signednote_key_id(uint32_t *out, const char *name,
		      const unsigned char pub[CRYPTO_ED25519_PUB_LEN])
{
	struct crypto_sha256_ctx *ctx;
	unsigned char h[CRYPTO_SHA256_LEN], sep[2] = { '\n', ED25519_ALG };

	if (!valid_name(name))
		return err_set(OTCM_EINVAL, NULL, "bad signed-note key name '%s'", name);
	ctx = crypto_sha256_new();
	crypto_sha256_update(ctx, name, strlen(name));
	crypto_sha256_update(ctx, sep, sizeof(sep));
	crypto_sha256_update(ctx, pub, CRYPTO_ED25519_PUB_LEN);
	crypto_sha256_final(h, ctx);
	*out = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
	return 0;
}

int signednote_vkey(char **out, const char *name, const unsigned char pub[CRYPTO_ED25519_PUB_LEN])
{
	unsigned char raw[1 + CRYPTO_ED25519_PUB_LEN];
	char b64[CRYPTO_BASE64_LEN(sizeof(raw))];
	uint32_t id;
	int rc;

	if ((rc = signednote_key_id(&id, name, pub)))
		return rc;
	raw[0] = ED25519_ALG;
	memcpy(raw + 1, pub, CRYPTO_ED25519_PUB_LEN);
	crypto_base64(b64, raw, sizeof(raw));
	*out = xasprintf("%s+%08" PRIx32 "+%s", name, id, b64);
	return 0;
}

int signednote_sign(char **out, const char *text, const char *name,
		    const struct crypto_ed25519_key *key)
{
	unsigned char pub[CRYPTO_ED25519_PUB_LEN], blob[4 + CRYPTO_ED25519_SIG_LEN];
	char b64[CRYPTO_BASE64_LEN(sizeof(blob))];
	size_t len = strlen(text);
	uint32_t id;
	int rc;

	if (len == 0 || text[len - 1] != '\n' || strstr(text, "\n\n") || text[0] == '\n' ||
	    len > SIGNEDNOTE_MAX / 2 || !valid_text((const unsigned char *)text, len))
		return err_set(OTCM_EINVAL, NULL, "text cannot be signed as a note");
	crypto_ed25519_public(pub, key);
	if ((rc = signednote_key_id(&id, name, pub)))
		return rc;
	blob[0] = (unsigned char)(id >> 24);
	blob[1] = (unsigned char)(id >> 16);
	blob[2] = (unsigned char)(id >> 8);
	blob[3] = (unsigned char)id;
	if ((rc = crypto_ed25519_sign(blob + 4, key, text, len)))
		return rc;
	crypto_base64(b64, blob, sizeof(blob));
	*out = xasprintf("%s\n" EM_DASH " %s %s\n", text, name, b64);
	return 0;
}

void signednote_free(struct signednote *note)
{
	if (!note)
		return;
	free(note->text);
	free(note);
}

static bool is_b64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/' || c == '=';
}

/* One signature line without its newline; Ed25519-sized ones are kept. */
static int parse_sig_line(struct signednote *n, const char *line, size_t len)
{
	const size_t dash = sizeof(EM_DASH " ") - 1;
	const char *name, *sp, *b64;
	size_t name_len, b64_len;
	unsigned char blob[SIG_B64_MAX / 4 * 3];
	char tmp[SIG_B64_MAX + 1];
	size_t blob_len;
	struct signednote_sig *s;

	if (len < dash || memcmp(line, EM_DASH " ", dash) != 0)
		return err_set(OTCM_EINVAL, NULL, "signature line does not start with an em dash");
	name = line + dash;
	sp = memchr(name, ' ', len - dash);
	if (!sp)
		return err_set(OTCM_EINVAL, NULL, "signature line has no signature");
	name_len = (size_t)(sp - name);
	b64 = sp + 1;
	b64_len = len - dash - name_len - 1;
	if (name_len == 0 || name_len > SIGNEDNOTE_NAME_MAX)
		return err_set(OTCM_EINVAL, NULL, "bad key name in signature line");
	for (size_t i = 0; i < name_len; i++)
		if (name[i] <= ' ' || name[i] > '~' || name[i] == '+')
			return err_set(OTCM_EINVAL, NULL, "bad key name in signature line");
	if (b64_len == 0 || b64_len > SIG_B64_MAX)
		return err_set(OTCM_EINVAL, NULL, "bad signature length");
	for (size_t i = 0; i < b64_len; i++)
		if (!is_b64(b64[i]))
			return err_set(OTCM_EINVAL, NULL, "signature is not base64");
	memcpy(tmp, b64, b64_len);
	tmp[b64_len] = '\0';
	if (crypto_unbase64(blob, sizeof(blob), &blob_len, tmp) || blob_len < 5)
		return err_set(OTCM_EINVAL, NULL, "signature is not base64");
	if (blob_len != 4 + CRYPTO_ED25519_SIG_LEN)
		return 0; /* another algorithm's signature: not ours to check */
	if (n->nsigs == SIGNEDNOTE_MAX_SIGS)
		return err_set(OTCM_EINVAL, NULL, "too many signatures");
	s = &n->sigs[n->nsigs++];
	memcpy(s->name, name, name_len);
	s->name[name_len] = '\0';
	s->key_id = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | (uint32_t)blob[2] << 8 | blob[3];
	memcpy(s->sig, blob + 4, CRYPTO_ED25519_SIG_LEN);
	return 0;
}

int signednote_parse(struct signednote **out, const char *msg, size_t len)
{
	struct signednote *n = NULL;
	const char *split = NULL, *p, *end;
	size_t nlines = 0;
	int rc = 0;

	if (len > SIGNEDNOTE_MAX)
		return err_set(OTCM_EINVAL, NULL, "note longer than %d bytes", SIGNEDNOTE_MAX);
	if (memchr(msg, '\0', len) || !valid_text((const unsigned char *)msg, len))
		return err_set(OTCM_EINVAL, NULL, "note is not text");
	if (len == 0 || msg[len - 1] != '\n')
		return err_set(OTCM_EINVAL, NULL, "note does not end in a newline");
	/* The signatures follow the last blank line. */
	for (p = msg; p + 1 < msg + len; p++)
		if (p[0] == '\n' && p[1] == '\n')
			split = p;
	if (!split || split == msg)
		return err_set(OTCM_EINVAL, NULL, "note has no text or no signatures");
	n = xcalloc(1, sizeof(*n));
	n->text_len = (size_t)(split - msg) + 1;
	n->text = xstrndup(msg, n->text_len);
	for (p = split + 2, end = msg + len; p < end; ) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		/* msg ends in '\n', so every line has one */
		if ((rc = parse_sig_line(n, p, (size_t)(nl - p))))
			goto out;
		nlines++;
		p = nl + 1;
	}
	if (nlines == 0) {
		rc = err_set(OTCM_EINVAL, NULL, "note has no signatures");
		goto out;
	}
	*out = n;
	n = NULL;
out:
	signednote_free(n);
	return rc;
}

int signednote_verify(const struct signednote *note, const char *name,
		      const unsigned char pub[CRYPTO_ED25519_PUB_LEN])
{
	uint32_t id;
	int rc;

	if ((rc = signednote_key_id(&id, name, pub)))
		return rc;
	for (size_t i = 0; i < note->nsigs; i++) {
		if (note->sigs[i].key_id != id || strcmp(note->sigs[i].name, name) != 0)
			continue;
		if (crypto_ed25519_verify(pub, note->text, note->text_len, note->sigs[i].sig))
			return err_set(OTCM_EAUTH, NULL, "signature of key '%s' does not verify", name);
		return 0;
	}
	return err_set(OTCM_ENOTFOUND, NULL, "note carries no signature of key '%s'", name);
}

char *signednote_checkpoint_text(const char *origin, uint64_t size,
				 const unsigned char root[CRYPTO_SHA256_LEN])
{
	char b64[CRYPTO_BASE64_LEN(CRYPTO_SHA256_LEN)];

	crypto_base64(b64, root, CRYPTO_SHA256_LEN);
	return xasprintf("%s\n%" PRIu64 "\n%s\n", origin, size, b64);
}

int signednote_checkpoint_parse(char **out_origin, uint64_t *out_size,
				unsigned char out_root[CRYPTO_SHA256_LEN], const char *text)
{
	const char *l1 = strchr(text, '\n'), *l2, *l3;
	char num[24], b64[64];
	unsigned char root[48];
	size_t root_len, n;
	uint64_t size = 0;

	if (!l1 || l1 == text || !(l2 = strchr(l1 + 1, '\n')) || !(l3 = strchr(l2 + 1, '\n')))
		return err_set(OTCM_EINVAL, NULL, "checkpoint needs origin, size and root lines");
	n = (size_t)(l2 - l1 - 1);
	if (n == 0 || n >= sizeof(num) || (n > 1 && l1[1] == '0'))
		return err_set(OTCM_EINVAL, NULL, "bad checkpoint tree size");
	memcpy(num, l1 + 1, n);
	num[n] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (num[i] < '0' || num[i] > '9' || size > (UINT64_MAX - 9) / 10)
			return err_set(OTCM_EINVAL, NULL, "bad checkpoint tree size");
		size = size * 10 + (uint64_t)(num[i] - '0');
	}
	n = (size_t)(l3 - l2 - 1);
	if (n == 0 || n >= sizeof(b64))
		return err_set(OTCM_EINVAL, NULL, "bad checkpoint root hash");
	memcpy(b64, l2 + 1, n);
	b64[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (!is_b64(b64[i]))
			return err_set(OTCM_EINVAL, NULL, "bad checkpoint root hash");
	if (crypto_unbase64(root, sizeof(root), &root_len, b64) || root_len != CRYPTO_SHA256_LEN)
		return err_set(OTCM_EINVAL, NULL, "bad checkpoint root hash");
	memcpy(out_root, root, CRYPTO_SHA256_LEN);
	*out_size = size;
	*out_origin = xstrndup(text, (size_t)(l1 - text));
	return 0;
}
