/*
 * web/form.h - reading application/x-www-form-urlencoded bodies, as
 * browsers send plain forms.
 *
 * Thread-safety: thread-safe; results live in the caller's arena.
 */
#ifndef OTCM_WEB_FORM_H
#define OTCM_WEB_FORM_H

#include <stddef.h>

#include "core/arena.h"

/*
 * The decoded value of the first field `name` of the urlencoded body
 * body[0..len) ('+' is a space, %XX a byte), or NULL when absent.  A
 * value holding a NUL byte (%00) counts as absent, so it cannot be cut short.
 */
const char *form_value(struct arena *a, const char *body, size_t len, const char *name);

#endif
