/* web/form.c - urlencoded form bodies; see form.h. */
#include "web/form.h"

#include <string.h>

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

/* Decode s[0..n) into a new arena string; NULL when it holds a NUL byte. */
static char *decode(struct arena *a, const char *s, size_t n)
{
	char *out = arena_alloc(a, n + 1), *w = out;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '+') {
			*w++ = ' ';
		} else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			char c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));

			if (c == '\0')
				return NULL;
			*w++ = c;
			i += 2;
		} else {
			*w++ = s[i];
		}
	}
	*w = '\0';
	return out;
}

const char *form_value(struct arena *a, const char *body, size_t len, const char *name)
{
	size_t nlen = strlen(name), pos = 0;

	while (body && pos < len) {
		const char *pair = body + pos, *amp = memchr(pair, '&', len - pos);
		size_t plen = amp ? (size_t)(amp - pair) : len - pos;
		const char *eq = memchr(pair, '=', plen);
		size_t klen = eq ? (size_t)(eq - pair) : plen;
		char *key = decode(a, pair, klen);

		if (key && strlen(key) == nlen && memcmp(key, name, nlen) == 0)
			return eq ? decode(a, eq + 1, plen - klen - 1) : "";
		pos += plen + 1;
	}
	return NULL;
}
