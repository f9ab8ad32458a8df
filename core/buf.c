/* core/buf.c - growable capped buffer; see buf.h. */
#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"

static size_t buf_cap(const struct buf *b)
{
	return b->cap ? b->cap : BUF_DEFAULT_CAP;
}

void buf_init(struct buf *b, size_t cap)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->cap = cap;
}

void buf_release(struct buf *b)
{
	free(b->data);
	buf_init(b, b->cap);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* The allocation size for `need` bytes: grows by half, never past the cap. */
static size_t grown(const struct buf *b, size_t need)
{
	size_t n = b->alloc ? b->alloc : 64;

	while (n < need)
		n = n / 2 * 3 + 16;
	return n - 1 > buf_cap(b) && need - 1 <= buf_cap(b) ? buf_cap(b) + 1 : n;
}

int buf_grow(struct buf *b, size_t extra)
{
	size_t need, n;

	if (extra > buf_cap(b) - b->len)
		return err_set(OTCM_ETOOBIG, NULL, "buffer limit of %zu bytes exceeded", buf_cap(b));
	need = b->len + extra + 1;
	if (need <= b->alloc)
		return 0;
	n = grown(b, need);
	b->data = xrealloc(b->data, n);
	b->alloc = n;
	return 0;
}

int buf_try_grow(struct buf *b, size_t extra)
{
	size_t need, n;
	char *p;

	if (extra > buf_cap(b) - b->len)
		return err_set(OTCM_ETOOBIG, NULL, "buffer limit of %zu bytes exceeded", buf_cap(b));
	need = b->len + extra + 1;
	if (need <= b->alloc)
		return 0;
	n = grown(b, need);
	p = realloc(b->data, n);
	if (!p)
		return err_set(OTCM_EUNAVAIL, NULL, "out of memory for %zu bytes", n);
	b->data = p;
	b->alloc = n;
	return 0;
}

int buf_add(struct buf *b, const void *data, size_t len)
{
	int rc = buf_grow(b, len);

	if (rc)
		return rc;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_addch(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n, rc;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return err_set(OTCM_EINTERNAL, NULL, "bad format string");
	rc = buf_grow(b, (size_t)n);
	if (rc)
		return rc;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vaddf(b, fmt, ap);
	va_end(ap);
	return rc;
}

const char *buf_cstr(const struct buf *b)
{
	return b->data ? b->data : "";
}

char *buf_detach(struct buf *b, size_t *out_len)
{
	char *p = b->data ? b->data : xstrdup("");

	if (out_len)
		*out_len = b->len;
	buf_init(b, b->cap);
	return p;
}
