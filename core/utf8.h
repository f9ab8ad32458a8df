/*
 * core/utf8.h - UTF-8 validation (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF).  Thread-safe, no allocation.
 */
#ifndef OTCM_CORE_UTF8_H
#define OTCM_CORE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Is s[0..len) well-formed UTF-8? */
bool utf8_valid(const void *s, size_t len);

#endif
