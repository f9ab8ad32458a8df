/*
 * web/form.h - reading application/x-www-form-urlencoded bodies, as
 * browsers send plain forms.
 *
 * A request's form is parsed once (form_parse, by the dispatcher) and its
 * fields read with form_get; the cost is bounded by the body, which the
 * dispatcher bounds by --max-form-body.
 *
 * Thread-safety: thread-safe; results live in the caller's arena.
 */
#ifndef OTCM_WEB_FORM_H
#define OTCM_WEB_FORM_H

#include <stddef.h>

#include "core/arena.h"

/* Most fields one form may hold (OTCM_ETOOBIG beyond). */
#define FORM_MAX_FIELDS 4096

struct form_field {
	const char *name;
	const char *value;
};

/* A parsed form: its fields in body order, names and values decoded. */
struct form {
	const struct form_field *fields;
	size_t n;
};

/*
 * Parse the urlencoded body[0..len) ('+' is a space, %XX a byte) into
 * *out, allocated in `a` with every string: one pass, one allocation for
 * all the text, none per empty pair (a body of '&' costs nothing).  A field
 * whose name or value holds a NUL byte (raw or %00) is left out, so it
 * cannot be cut short.  More than `max_fields` fields is OTCM_ETOOBIG naming "body".
 */
int form_parse(struct form **out, struct arena *a, const char *body, size_t len,
	       size_t max_fields);

/* The value of the first field `name` of `f`, or NULL (also when f is NULL); borrowed. */
const char *form_get(const struct form *f, const char *name);

/*
 * The decoded value of the first field `name` of the urlencoded body
 * body[0..len), or NULL when absent, for a single lookup without parsing
 * the whole form (only the value found is allocated).  A value holding a
 * NUL byte counts as absent.
 */
const char *form_value(struct arena *a, const char *body, size_t len, const char *name);

#endif
