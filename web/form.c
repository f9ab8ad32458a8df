/* web/form.c - urlencoded form bodies; see form.h. */
#include "web/form.h"

#include <stdbool.h>
#include <string.h>

#include "core/err.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode s[0..n) into w (room for n + 1 bytes) and NUL-terminate it.
 * Returns the decoded length, or -1 when it holds a NUL byte, raw or %00.
 */
static long decode_into(char *w, const char *s, size_t n)
{
	char *start = w;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '\0') {
			return -1; /* a raw NUL byte, as %00 */
		} else if (s[i] == '+') {
			*w++ = ' ';
		} else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			char c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));

			if (c == '\0')
				return -1;
			*w++ = c;
			i += 2;
		} else {
			*w++ = s[i];
		}
	}
	*w = '\0';
	return (long)(w - start);
}

/* Does s[0..n), decoded, equal `name`?  Allocates nothing. */
static bool decoded_equals(const char *s, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++, name++) {
		char c = s[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		}
		if (c == '\0' || *name != c)
			return false;
	}
	return *name == '\0';
}

int form_parse(struct form **out, struct arena *a, const char *body, size_t len,
	       size_t max_fields)
{
	struct form *f = arena_alloc(a, sizeof(*f));
	struct form_field *fields;
	size_t pos = 0, pairs = 0, n = 0;
	char *w;

	/* count the non-empty pairs first: one array, one block of text */
	while (body && pos < len) {
		const char *amp = memchr(body + pos, '&', len - pos);
		size_t plen = amp ? (size_t)(amp - (body + pos)) : len - pos;

		if (plen > 0 && ++pairs > max_fields)
			return err_set(OTCM_ETOOBIG, "body", "the form has more than %zu fields",
				       max_fields);
		pos += plen + 1;
	}
	*out = f;
	if (pairs == 0)
		return 0;
	fields = arena_alloc(a, pairs * sizeof(*fields));
	/* each pair decodes to at most its own length, plus two NULs */
	w = arena_alloc(a, len + 2 * pairs);
	for (pos = 0; pos < len;) {
		const char *pair = body + pos, *amp = memchr(pair, '&', len - pos);
		size_t plen = amp ? (size_t)(amp - pair) : len - pos;
		const char *eq = memchr(pair, '=', plen);
		size_t klen = eq ? (size_t)(eq - pair) : plen;
		long kn, vn;

		pos += plen + 1;
		if (plen == 0)
			continue;
		kn = decode_into(w, pair, klen);
		if (kn < 0)
			continue;
		vn = eq ? decode_into(w + kn + 1, eq + 1, plen - klen - 1) : 0;
		if (!eq)
			w[kn + 1] = '\0';
		if (vn < 0)
			continue;
		fields[n].name = w;
		fields[n].value = w + kn + 1;
		n++;
		w += kn + 1 + vn + 1;
	}
	f->fields = fields;
	f->n = n;
	return 0;
}

const char *form_get(const struct form *f, const char *name)
{
	size_t i;

	if (!f)
		return NULL;
	for (i = 0; i < f->n; i++)
		if (strcmp(f->fields[i].name, name) == 0)
			return f->fields[i].value;
	return NULL;
}

const char *form_value(struct arena *a, const char *body, size_t len, const char *name)
{
	size_t pos = 0;

	while (body && pos < len) {
		const char *pair = body + pos, *amp = memchr(pair, '&', len - pos);
		size_t plen = amp ? (size_t)(amp - pair) : len - pos;
		const char *eq = memchr(pair, '=', plen);
		size_t klen = eq ? (size_t)(eq - pair) : plen;

		if (plen > 0 && decoded_equals(pair, klen, name)) {
			char *v;

			if (!eq)
				return "";
			v = arena_alloc(a, plen - klen);
			return decode_into(v, eq + 1, plen - klen - 1) < 0 ? NULL : v;
		}
		pos += plen + 1;
	}
	return NULL;
}
