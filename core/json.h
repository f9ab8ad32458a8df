/*
 * core/json.h - JSON values (jansson's json_t) and helpers for reading
 * request bodies strictly.
 *
 * otcm uses jansson's json_t as its JSON value type throughout; this header
 * is where it is included.  The helpers below validate a parsed object
 * field by field and record failures with err_set() naming the field, so a
 * handler can write
 *
 *     if ((rc = json_get_str(body, "path", true, &path)))
 *             goto out;
 *
 * Strings returned are borrowed from the json_t and live as long as it does.
 */
#ifndef OTCM_CORE_JSON_H
#define OTCM_CORE_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Parse a request body that must be one JSON object, nested at most
 * `max_depth` levels.  *out is a new reference owned by the caller.
 * OTCM_EINVAL (field "body") on bad JSON, wrong top-level type or depth.
 */
int json_parse_object(json_t **out, const char *data, size_t len, int max_depth);

/*
 * Read a string member.  Missing: OTCM_EINVAL if required, else *out = NULL.
 * Wrong type, empty when required, or containing NUL or control characters
 * other than tab and newline: OTCM_EINVAL naming the field.
 */
int json_get_str(json_t *obj, const char *field, bool required, const char **out);

/* Read an integer member into *out; missing and optional leaves *out alone. */
int json_get_int(json_t *obj, const char *field, bool required, int64_t *out);

/* Read a boolean member; missing and optional leaves *out alone. */
int json_get_bool(json_t *obj, const char *field, bool required, bool *out);

/*
 * Refuse members not in `allowed` (a NULL-terminated list): OTCM_EINVAL
 * naming the first unknown member.  Catches typos in client requests.
 */
int json_only_fields(json_t *obj, const char *const *allowed);

/* Serialise compactly with keys in insertion order; caller frees. */
char *json_dump_compact(const json_t *v);

struct buf;

/*
 * Append json_dump_compact(v)'s text to `out`, byte for byte the same, by
 * walking the value directly instead of through jansson's dump callbacks
 * (a response body is rendered on every request).  0, or OTCM_EINTERNAL
 * when the value cannot be serialised (a NaN, a loop) or out of memory.
 */
int json_render(struct buf *out, const json_t *v);

#endif
