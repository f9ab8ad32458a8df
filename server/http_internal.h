/*
 * server/http_internal.h - multipart/form-data bodies (server/multipart.c),
 * for the dispatcher, tests and fuzz targets; handlers use server/http.h.
 *
 * Thread-safety: all functions are reentrant; they touch only their
 * arguments.
 */
#ifndef OTCM_SERVER_HTTP_INTERNAL_H
#define OTCM_SERVER_HTTP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "server/http.h"

/*
 * Split a multipart/form-data body (RFC 7578) into parts.  `content_type`
 * is the request's Content-Type header (it carries the boundary).  Parts
 * and their names are allocated in `a`; each part's data points into
 * `body`, which the parser writes to: a NUL replaces the CR that starts
 * the delimiter after each part, so the data is NUL-terminated without a
 * copy and lives as long as `body`.  The body is not reusable as it was
 * afterwards, even when parsing fails.  More than `max_parts` parts is
 * OTCM_ETOOBIG; a missing boundary, a part without a name or a malformed
 * body is OTCM_EINVAL.
 */
int http_multipart_parse(struct http_part **out, size_t *out_n, struct arena *a,
			 const char *content_type, char *body, size_t len,
			 size_t max_parts);

/* Is this Content-Type multipart/form-data? */
bool http_is_multipart(const char *content_type);

#endif
