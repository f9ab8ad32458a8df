/* core/totp.c - RFC 6238 one-time passwords over core/crypto.h; see totp.h. */
#include "core/totp.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/mem.h"

uint32_t totp_code(const unsigned char *key, size_t keylen, uint64_t step, unsigned digits)
{
	unsigned char msg[8], mac[20];
	uint32_t bin, mod = 1;
	unsigned i, off;

	for (i = 0; i < 8; i++)
		msg[i] = (unsigned char)(step >> (56 - 8 * i));
	crypto_hmac_sha1(mac, key, keylen, msg, sizeof(msg));
	off = mac[19] & 0x0f;
	bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
	      ((uint32_t)mac[off + 2] << 8) | (uint32_t)mac[off + 3];
	for (i = 0; i < digits; i++)
		mod *= 10;
	return bin % mod;
}

int totp_verify(int64_t *last_step, const unsigned char *key, size_t keylen, const char *code,
		int64_t now_s)
{
	int64_t step = now_s / TOTP_STEP_SECONDS, s, matched = 0;
	uint32_t want = 0;
	size_t i;

	if (!code || strlen(code) != TOTP_DIGITS)
		return err_set(OTCM_EINVAL, "totp_code", "'totp_code' must be %d digits", TOTP_DIGITS);
	for (i = 0; i < TOTP_DIGITS; i++) {
		if (!isdigit((unsigned char)code[i]))
			return err_set(OTCM_EINVAL, "totp_code", "'totp_code' must be %d digits",
				       TOTP_DIGITS);
		want = want * 10 + (uint32_t)(code[i] - '0');
	}
	/* look at every step of the window so timing does not tell which one matched */
	for (s = step - 1; s <= step + 1; s++) {
		uint32_t got;

		if (s < 0)
			continue;
		got = totp_code(key, keylen, (uint64_t)s, TOTP_DIGITS);
		if (got == want && s > *last_step && matched == 0)
			matched = s;
	}
	if (!matched)
		return err_set(OTCM_EAUTH, "totp_code", "wrong or already used one-time code");
	*last_step = matched;
	return 0;
}

int totp_base32(char *out, size_t outlen, const unsigned char *data, size_t len)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	size_t n = 0, i;
	unsigned bits = 0, acc = 0;

	if ((len * 8 + 4) / 5 + 1 > outlen)
		return err_set(OTCM_ETOOBIG, NULL, "base32 output does not fit");
	for (i = 0; i < len; i++) {
		acc = (acc << 8) | data[i];
		bits += 8;
		while (bits >= 5) {
			out[n++] = alphabet[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits)
		out[n++] = alphabet[(acc << (5 - bits)) & 31];
	out[n] = '\0';
	return 0;
}

static void add_escaped(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~')
			buf_addch(b, (char)ch);
		else
			buf_addf(b, "%%%02X", ch);
	}
}

char *totp_uri(const char *issuer, const char *account, const char *base32_secret)
{
	struct buf b = BUF_INIT;
	char *out;

	buf_init(&b, 4096);
	buf_adds(&b, "otpauth://totp/");
	add_escaped(&b, issuer);
	buf_addch(&b, ':');
	add_escaped(&b, account);
	buf_adds(&b, "?secret=");
	buf_adds(&b, base32_secret);
	buf_adds(&b, "&issuer=");
	add_escaped(&b, issuer);
	buf_addf(&b, "&algorithm=SHA1&digits=%d&period=%d", TOTP_DIGITS, TOTP_STEP_SECONDS);
	out = buf_detach(&b, NULL);
	return out ? out : xstrdup("");
}
