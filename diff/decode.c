/*
 * diff/decode.c - bytes to UTF-8 text with "\n" line endings: BOMs,
 * UTF-16 (with a BOM), invalid UTF-8 read as Latin-1, CRLF and CR.
 */
#include "diff/model.h"

#include <stdint.h>
#include <string.h>

#include "core/err.h"
#include "core/utf8.h"

static int add_cp(struct buf *out, unsigned cp)
{
	char t[4];
	size_t n;

	if (cp < 0x80) {
		t[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		t[0] = (char)(0xc0 | cp >> 6);
		t[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		t[0] = (char)(0xe0 | cp >> 12);
		t[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		t[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		t[0] = (char)(0xf0 | cp >> 18);
		t[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		t[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		t[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_add(out, t, n);
}

/* Append one code point, turning CR and CRLF into LF and NUL into U+FFFD. */
struct eol {
	bool cr;
};

static int put(struct buf *out, struct eol *e, unsigned cp)
{
	int rc = 0;

	if (e->cr && cp == '\n') {
		e->cr = false;
		return 0;
	}
	e->cr = cp == '\r';
	if (cp == '\r')
		cp = '\n';
	else if (cp == 0)
		cp = 0xfffd;
	rc = add_cp(out, cp);
	return rc;
}

static int from_utf16(struct buf *out, const unsigned char *s, size_t len, bool le)
{
	struct eol e = { false };
	int rc = 0;

	for (size_t i = 0; i + 1 < len && !rc; i += 2) {
		unsigned u = le ? (unsigned)(s[i] | s[i + 1] << 8) : (unsigned)(s[i] << 8 | s[i + 1]);

		if (u >= 0xd800 && u <= 0xdbff && i + 3 < len) {
			unsigned v = le ? (unsigned)(s[i + 2] | s[i + 3] << 8) : (unsigned)(s[i + 2] << 8 | s[i + 3]);

			if (v >= 0xdc00 && v <= 0xdfff) {
				rc = put(out, &e, 0x10000 + ((u - 0xd800) << 10) + (v - 0xdc00));
				i += 2;
				continue;
			}
		}
		if (u >= 0xd800 && u <= 0xdfff)
			u = 0xfffd;
		rc = put(out, &e, u);
	}
	return rc;
}

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* True when the 8 bytes of w hold a zero byte. */
static bool has_zero(uint64_t w)
{
	return ((w - ONES) & ~w & HIGHS) != 0;
}

/*
 * True when s[0, len) is already what decoding makes of it: valid UTF-8
 * without CR or NUL.  Eight ASCII bytes are checked at a time.
 */
static bool already_decoded(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		if (i + 8 <= len) {
			uint64_t w;

			memcpy(&w, s + i, 8);
			if (!(w & HIGHS) && !has_zero(w) && !has_zero(w ^ (ONES * '\r'))) {
				i += 8;
				continue;
			}
		}
		if (s[i] < 0x80) {
			if (!s[i] || s[i] == '\r')
				return false;
			i++;
		} else {
			size_t n = utf8_seq(s + i, len - i);

			if (!n)
				return false;
			i += n;
		}
	}
	return true;
}

bool diff_decode_plain(const void *data, size_t len, size_t *out_skip, const char **out_encoding)
{
	const unsigned char *s = data;

	*out_skip = 0;
	*out_encoding = "utf-8";
	if (len >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf) {
		*out_skip = 3;
		*out_encoding = "utf-8-bom";
	}
	/* a UTF-16 BOM is not valid UTF-8, so such bytes are never plain */
	return already_decoded(s + *out_skip, len - *out_skip);
}

int diff_decode(struct buf *out, const void *data, size_t len,
                const char **out_encoding, bool *out_binary)
{
	const unsigned char *s = data;
	struct eol e = { false };
	bool utf8 = true;
	size_t nul = 0;
	int rc = 0;

	*out_binary = false;
	if (len >= 2 && s[0] == 0xff && s[1] == 0xfe) {
		*out_encoding = "utf-16le";
		return from_utf16(out, s + 2, len - 2, true);
	}
	if (len >= 2 && s[0] == 0xfe && s[1] == 0xff) {
		*out_encoding = "utf-16be";
		return from_utf16(out, s + 2, len - 2, false);
	}
	*out_encoding = "utf-8";
	if (len >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf) {
		*out_encoding = "utf-8-bom";
		s += 3;
		len -= 3;
	}
	if (already_decoded(s, len)) {
		/* the common case: one pass to check, one copy */
		if ((rc = buf_add(out, s, len)))
			return rc;
		return out->data ? 0 : buf_adds(out, "");
	}
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq(s + i, len - i);

		if (!n) {
			utf8 = false;
			break;
		}
		i += n;
	}
	if (!utf8)
		*out_encoding = "latin-1";
	for (size_t i = 0; i < len; i++)
		if (!s[i])
			nul++;
	*out_binary = nul > 0;
	if ((rc = buf_grow(out, len + len / 8)))
		return rc;
	out->data[out->len] = '\0';   /* input may be only a BOM: stay a valid string */
	for (size_t i = 0; i < len && !rc;) {
		size_t n, run = 0;

		/* a run of plain ASCII without CR or NUL is copied as it is */
		while (utf8 && !e.cr && i + run < len && s[i + run] && s[i + run] != '\r' && s[i + run] < 0x80)
			run++;
		if (run) {
			rc = buf_add(out, s + i, run);
			i += run;
			continue;
		}
		n = utf8 ? utf8_seq(s + i, len - i) : 1;
		if (n == 1) {
			rc = put(out, &e, s[i]);
		} else {
			e.cr = false;
			rc = buf_add(out, s + i, n);
		}
		i += n;
	}
	if (!out->data)
		rc = rc ? rc : buf_adds(out, "");
	return rc;
}
