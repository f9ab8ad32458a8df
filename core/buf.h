/*
 * core/buf.h - the one growable byte buffer, with a hard size cap.
 *
 * A struct buf is plain data: initialise with BUF_INIT or buf_init(), append,
 * and release with buf_release().  The contents are always NUL-terminated
 * (the terminator is not counted in len), so text can be used as a C string.
 * Every buffer has a cap; an append that would grow it past the cap fails
 * with OTCM_ETOOBIG and leaves the buffer unchanged.  A cap of 0 means
 * BUF_DEFAULT_CAP.
 *
 * Thread-safety: none; a buffer belongs to one thread at a time.
 */
#ifndef OTCM_CORE_BUF_H
#define OTCM_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#define BUF_DEFAULT_CAP ((size_t)1 << 30)

struct buf {
	char *data;   /* NULL until the first append; use buf_cstr() for text */
	size_t len;
	size_t alloc;
	size_t cap;   /* maximum len, 0 = BUF_DEFAULT_CAP */
};

#define BUF_INIT { NULL, 0, 0, 0 }

void buf_init(struct buf *b, size_t cap);
void buf_release(struct buf *b);

/* Empty the buffer, keeping its memory. */
void buf_reset(struct buf *b);

/* Make room for `extra` more bytes; OTCM_ETOOBIG past the cap. */
int buf_grow(struct buf *b, size_t extra);

/*
 * buf_grow() for buffers whose size a client chooses (request bodies): an
 * allocation the system refuses is OTCM_EUNAVAIL, the buffer unchanged,
 * instead of an abort.  Growth never allocates past cap + 1 bytes.
 */
int buf_try_grow(struct buf *b, size_t extra);

int buf_add(struct buf *b, const void *data, size_t len);
int buf_adds(struct buf *b, const char *s);
int buf_addch(struct buf *b, char c);
int buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vaddf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* The contents as a C string ("" for an empty buffer); borrowed. */
const char *buf_cstr(const struct buf *b);

/* Hand the contents to the caller (free() them) and reset the buffer. */
char *buf_detach(struct buf *b, size_t *out_len);

#endif
