/*
 * web/html.h - the only way dynamic text reaches HTML: an output buffer for
 * pages with escapers for text, attribute values and URL components, and
 * raw appends for markup written in the source.
 *
 * A struct html is a capped buffer (core/buf.h) with a sticky error: once
 * an append fails (OTCM_ETOOBIG at the cap), later appends do nothing and
 * h->err keeps the code, so a renderer appends freely and returns h->err at
 * the end.  A NULL string appends nothing.  Escapers turn invalid UTF-8
 * bytes into U+FFFD and drop control characters other than tab, newline
 * and carriage return, so a page stays well-formed UTF-8 whatever a file or
 * a user name holds.
 *
 * Thread-safety: as the buffer; one struct html per thread.
 */
#ifndef OTCM_WEB_HTML_H
#define OTCM_WEB_HTML_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct html {
	struct buf buf;
	int err;                     /* first failure, 0 while all appends fitted */
};

/* An empty output of at most `cap` bytes (0: BUF_DEFAULT_CAP). */
void html_init(struct html *h, size_t cap);
void html_release(struct html *h);

/* Text between tags: & < > " ' escaped. */
void html_text(struct html *h, const char *s);

/* The first `len` bytes of s as text (NUL bytes are dropped). */
void html_textn(struct html *h, const char *s, size_t len);

/*
 * An attribute value, to be written between double quotes: the escaping of
 * html_text plus the backtick and '='.
 */
void html_attr(struct html *h, const char *s);

/*
 * A URL component (a path segment or a query value): every byte but
 * A-Z a-z 0-9 - _ . ~ percent-encoded, so the result is also safe inside an
 * attribute.  html_url_path keeps '/' as well, for file paths.
 */
void html_url(struct html *h, const char *s);
void html_url_path(struct html *h, const char *s);

/* Markup written in the source; never dynamic text. */
void html_raw(struct html *h, const char *markup);

/*
 * Markup with numbers: a printf format written in the source whose
 * arguments are numbers only (never %s with dynamic text).
 */
void html_rawf(struct html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A decimal number. */
void html_int(struct html *h, int64_t v);

/* <tag>text</tag> for a literal tag name such as "td"; text escaped. */
void html_elem(struct html *h, const char *tag, const char *text);

#endif
