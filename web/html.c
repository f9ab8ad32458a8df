/* web/html.c - HTML escapers; see html.h. */
#include "web/html.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/utf8.h"

void html_init(struct html *h, size_t cap)
{
	buf_init(&h->buf, cap);
	h->err = 0;
}

void html_release(struct html *h)
{
	buf_release(&h->buf);
}

static void add(struct html *h, const char *s, size_t n)
{
	if (h->err == 0 && n)
		h->err = buf_add(&h->buf, s, n);
}

/* Escape s[0..n) for text or an attribute (attr adds ` and =). */
static void escape(struct html *h, const char *s, size_t n, int attr)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, start = 0;

	while (i < n && h->err == 0) {
		const char *rep = NULL;
		size_t seq = 1;
		unsigned char c = p[i];

		switch (c) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		case '`': rep = attr ? "&#96;" : NULL; break;
		case '=': rep = attr ? "&#61;" : NULL; break;
		default:
			if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
				rep = "";
			} else if (c >= 0x80) {
				seq = utf8_seq(p + i, n - i);
				if (seq == 0) {
					rep = "\xEF\xBF\xBD";
					seq = 1;
				}
			}
		}
		if (rep) {
			add(h, s + start, i - start);
			add(h, rep, strlen(rep));
			start = i + seq;
		}
		i += seq;
	}
	if (n > start)
		add(h, s + start, n - start);
}

void html_text(struct html *h, const char *s)
{
	if (s)
		escape(h, s, strlen(s), 0);
}

void html_textn(struct html *h, const char *s, size_t len)
{
	if (s)
		escape(h, s, len, 0);
}

void html_attr(struct html *h, const char *s)
{
	if (s)
		escape(h, s, strlen(s), 1);
}

static void url_escape(struct html *h, const char *s, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;

	if (!s)
		return;
	for (; *p && h->err == 0; p++) {
		unsigned char c = *p;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
			add(h, (const char *)p, 1);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };

			add(h, e, 3);
		}
	}
}

void html_url(struct html *h, const char *s)
{
	url_escape(h, s, 0);
}

void html_url_path(struct html *h, const char *s)
{
	url_escape(h, s, 1);
}

void html_raw(struct html *h, const char *markup)
{
	if (markup)
		add(h, markup, strlen(markup));
}

void html_rawf(struct html *h, const char *fmt, ...)
{
	va_list ap;

	if (h->err)
		return;
	va_start(ap, fmt);
	h->err = buf_vaddf(&h->buf, fmt, ap);
	va_end(ap);
}

void html_int(struct html *h, int64_t v)
{
	html_rawf(h, "%" PRId64, v);
}

void html_elem(struct html *h, const char *tag, const char *text)
{
	html_rawf(h, "<%s>", tag);
	html_text(h, text);
	html_rawf(h, "</%s>", tag);
}
