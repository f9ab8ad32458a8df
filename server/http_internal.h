/*
 * server/http_internal.h - pieces of the HTTP layer exposed for tests and
 * fuzz targets only; handlers use server/http.h.
 *
 * Thread-safety: all functions are reentrant; they touch only their
 * arguments.
 */
#ifndef OTCM_SERVER_HTTP_INTERNAL_H
#define OTCM_SERVER_HTTP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/buf.h"
#include "server/http.h"

/*
 * Match `path` against one route pattern.  Literal segments compare
 * exactly; "{name}" matches one non-empty segment and must be a whole
 * segment of the pattern; "{name+}" (last in the pattern) matches the
 * non-empty rest of the path, slashes included.
 * Captures are copied into `a` and stored in params[0..*out_nparams).
 * Returns true on a match; on false, params and *out_nparams are undefined.
 */
bool http_pattern_match(const char *pattern, const char *path, struct arena *a,
			const char *params[HTTP_MAX_PARAMS], size_t *out_nparams);

/*
 * Find the route for `method` and `path` in table[0..n).  HEAD is served by
 * GET routes.  On success *out is the route and params and *out_nparams the
 * captures.  OTCM_ENOTFOUND when no pattern matches the path;
 * OTCM_EMETHOD when a pattern matches but not for this method: then
 * `allow` (if not NULL) receives the allowed methods, comma separated.
 * Messages are recorded with err_set().
 */
int http_route_match(const struct route **out, const struct route *table, size_t n,
		     const char *method, const char *path, struct arena *a,
		     const char *params[HTTP_MAX_PARAMS], size_t *out_nparams, struct buf *allow);

/*
 * Split a multipart/form-data body (RFC 7578) into parts.  `content_type`
 * is the request's Content-Type header (it carries the boundary).  Parts
 * and their strings are allocated in `a`; each part's data is a copy with a
 * NUL after it.  More than `max_parts` parts is OTCM_ETOOBIG; a missing
 * boundary, a part without a name or a malformed body is OTCM_EINVAL.
 */
int http_multipart_parse(struct http_part **out, size_t *out_n, struct arena *a,
			 const char *content_type, const char *body, size_t len,
			 size_t max_parts);

/* Is this Content-Type multipart/form-data? */
bool http_is_multipart(const char *content_type);

#endif
