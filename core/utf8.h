/*
 * core/utf8.h - UTF-8 validation (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF).  Thread-safe, no allocation.
 */
#ifndef OTCM_CORE_UTF8_H
#define OTCM_CORE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Is s[0..len) well-formed UTF-8? */
bool utf8_valid(const void *s, size_t len);

/*
 * Length of the well-formed UTF-8 sequence at s (at most n bytes, n > 0),
 * 0 if none; utf8_decode() also gives its code point.
 */
size_t utf8_seq(const void *s, size_t n);
size_t utf8_decode(uint32_t *cp, const void *s, size_t n);

#endif
