/*
 * server/dispatch.h - the request's path: route match, who is calling, the
 * route's roles as a first filter, the body's limit, strict input, the
 * handler, the reply (server/dispatch.c holds it on one screen).
 *
 * The HTTP glue (server/http.c) knows nothing of routes or callers; the
 * server hands it this dispatcher at start (dispatch_serve).
 *
 * Thread-safety: the route table is read-only; a request is handled on one
 * worker thread.
 */
#ifndef OTCM_SERVER_DISPATCH_H
#define OTCM_SERVER_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/buf.h"
#include "server/http.h"
#include "server/routes.h"

/*
 * Serve until SIGTERM or SIGINT (http_serve) with every request going
 * through the route table (server/routes.c).  Returns 0 after a clean stop.
 */
int dispatch_serve(const struct server *srv);

/*
 * Match `path` against one route pattern.  Literal segments compare
 * exactly; "{name}" matches one non-empty segment and must be a whole
 * segment of the pattern; "{name+}" (the last capture of the pattern)
 * matches the non-empty rest of the path, slashes included, less the
 * literal text that follows it in the pattern ("/git/{asset+}.git/info/refs").
 * Captures are copied into `a` and stored in params[0..*out_nparams).
 * Returns true on a match; on false, params and *out_nparams are undefined.
 */
bool dispatch_pattern_match(const char *pattern, const char *path, struct arena *a,
			    const char *params[HTTP_MAX_PARAMS], size_t *out_nparams);

/*
 * Find the route for `method` and `path` in table[0..n).  HEAD is served by
 * GET routes.  On success *out is the route and params and *out_nparams the
 * captures.  OTCM_ENOTFOUND when no pattern matches the path;
 * OTCM_EMETHOD when a pattern matches but not for this method: then
 * `allow` (if not NULL) receives the allowed methods, comma separated.
 * Messages are recorded with err_set().
 */
int dispatch_route_match(const struct route **out, const struct route *table, size_t n,
			 const char *method, const char *path, struct arena *a,
			 const char *params[HTTP_MAX_PARAMS], size_t *out_nparams,
			 struct buf *allow);

/*
 * The largest body `route` accepts from `req`'s caller: --max-body for an
 * upload (a version or a test-step attachment) by an authenticated caller,
 * else --max-form-body (never more than --max-body).
 */
uint64_t dispatch_body_limit(const struct http_req *req, const struct route *route);

#endif
