/*
 * server/http.h - the HTTP glue over libmicrohttpd: connections and their
 * limits, requests, responses, problem+json.
 *
 * The only module that includes <microhttpd.h> is server/http.c, and it
 * calls nothing above it.  What a request means - its route, who is
 * calling, the handler - is decided by the dispatcher the server hands to
 * http_serve() as struct http_hooks (server/dispatch.c), and so is the
 * renderer of HTML error pages.  The glue calls hooks.begin() once the
 * headers are in, buffers the body up to the limit begin() set in
 * req->max_body, then calls hooks.finish().  A handler returns 0 after
 * calling one http_reply_* function, or a negative error code (core/err.h)
 * with err_set() called: the dispatcher then answers with problem+json
 * (http_reply_error).  Everything a handler allocates should come from
 * req->arena.
 *
 * Thread-safety: a request is handled on one worker thread.
 */
#ifndef OTCM_SERVER_HTTP_H
#define OTCM_SERVER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/json.h"
#include "domain/actor.h"
#include "domain/domain.h"
#include "storage/db.h"

/* Process-wide state handlers may use (read-only after start). */
struct server {
	const struct config *cfg;
	struct db_pool *db;
	bool tls;
	const struct crypto_ed25519_key *key;   /* the signing key, loaded once at start */
	const char *origin;                      /* checkpoint origin "otcm/<name>" */
	struct metrics *metrics;                 /* the request counters (core/metrics.h) */
};

/* The authenticated caller; user_id 0 means anonymous. */
struct principal {
	int64_t user_id;
	const char *username;
	const char *display_name;
	unsigned role;
	const char *csrf_token;      /* session logins only */
	int64_t token_id;            /* bearer token logins, else 0 */
	const char *auth;            /* how the session was opened ("password", "password+totp"),
					NULL for tokens */
};

/* One part of a multipart/form-data body. */
struct http_part {
	const char *name;            /* form field name */
	const char *filename;        /* NULL for plain fields */
	const char *content_type;
	const char *data;            /* in the request's body, NUL-terminated; len excludes the NUL */
	size_t len;
};

#define HTTP_MAX_PARAMS 4

struct form;
struct route;

struct http_req {
	struct arena *arena;
	const struct server *srv;
	const char *method;
	const char *path;            /* decoded path, without the query */
	const char *request_id;
	const char *remote_addr;
	const char *params[HTTP_MAX_PARAMS];   /* {name} captures of the route pattern */
	size_t nparams;
	char *body;                  /* raw body (NUL-terminated), NULL when none; of a
					multipart body, the parts are cut out in place */
	size_t body_len;
	struct http_part *parts;     /* multipart/form-data parts, in order */
	size_t nparts;
	const struct form *form;     /* an urlencoded page form, parsed once; NULL otherwise */
	struct principal who;
	struct actor actor;          /* who, as the domain sees it (filled with `who`) */
	struct dom dom;              /* the context for domain operations */
	const struct route *route;   /* the matched route (the dispatcher's) */
	uint64_t max_body;           /* largest body accepted (set by hooks.begin) */
	void *conn;                  /* private to http.c */
};

typedef int (*http_handler)(struct http_req *req);

/* Query string parameter (decoded), or NULL. */
const char *http_query(struct http_req *req, const char *name);

/* Request header (case-insensitive name), or NULL. */
const char *http_header(struct http_req *req, const char *name);

/* Request cookie, or NULL. */
const char *http_cookie(struct http_req *req, const char *name);

/* Parameter i of the matched pattern. */
const char *http_param(struct http_req *req, size_t i);

/* Add a response header (copied). */
void http_set_header(struct http_req *req, const char *name, const char *value);

/* Respond with JSON; `body` is consumed. */
int http_reply_json(struct http_req *req, unsigned status, json_t *body);

/* Respond with bytes; `data` is copied unless it is arena memory (then borrowed). */
int http_reply_bytes(struct http_req *req, unsigned status, const char *content_type,
		     const void *data, size_t len);

/*
 * A streamed response body (git's fetch packs): the handler calls
 * http_reply_stream() with a producer, and once the status and headers are
 * queued the glue runs produce(s, ctx) on a thread of its own.  The
 * producer writes with http_stream_write(), which waits while
 * HTTP_STREAM_BUFFER bytes are unsent (memory stays bounded whatever the
 * body's size), and returns 0 to end the body or an error to cut the
 * connection (the client sees a body cut short).  The handler's thread
 * does nothing with the request meanwhile; the request's arena, and every
 * cleanup on it, outlives the producer: on_completed waits for it.  When
 * the response never goes out (MHD refused it) the producer never runs, so
 * whatever ctx holds is released by cleanups on req->arena.
 *
 * A producing stream is not a stalled client: the watchdog leaves it alone,
 * and while the producer writes nothing it sends the keep-alive bytes the
 * producer chose (http_stream_keepalive) every so often, so that proxies
 * see a live connection.  A client that stops reading is cut by the
 * connection timeout: http_stream_write() then fails with OTCM_EIO.
 */
struct http_stream;

#define HTTP_STREAM_BUFFER ((size_t)256 << 10)

typedef int (*http_producer)(struct http_stream *s, void *ctx);

/* Respond with a body produced by `produce` (see above); `content_type` copied. */
int http_reply_stream(struct http_req *req, unsigned status, const char *content_type,
		      http_producer produce, void *ctx);

/*
 * Append `len` bytes to the body; one call's bytes are never split by a
 * keep-alive.  0, or OTCM_EIO once the client is gone (then stop).
 */
int http_stream_write(struct http_stream *s, const void *data, size_t len);

/*
 * The bytes sent when the producer has written nothing for `every_ms`
 * milliseconds (copied; at most 1 KiB; len 0: none).  The interval is
 * shortened to half the connection timeout when that is shorter.
 */
void http_stream_keepalive(struct http_stream *s, const void *data, size_t len, unsigned every_ms);

/* Respond 204 No Content. */
int http_reply_empty(struct http_req *req, unsigned status);

/*
 * Respond to a failure: status from the code, RFC 9457 problem+json body
 * {type, title, status, detail, field?, rule?, request_id}, or an HTML page
 * (hooks.html_error) for a browser on a page path.  Called by the
 * dispatcher when a handler returns an error; handlers may call it directly.
 */
int http_reply_error(struct http_req *req, int code);

/* HTTP status for an error code (the one place codes become statuses). */
unsigned http_status_for(int code);

/*
 * Is `path` a web page (HTML, errors as HTML pages) rather than the API
 * (/api), git (/git) or an operations endpoint (/healthz, /readyz, /metrics)?
 */
bool http_is_page_path(const char *path);


/*
 * Call fn(ctx, name, value) for each query parameter (decoded, in order)
 * until it returns non-zero; returns that, or 0.
 */
int http_query_each(struct http_req *req, int (*fn)(void *ctx, const char *name, const char *value),
		    void *ctx);

/* Has a response been chosen for req (http_reply_*)? */
bool http_replied(struct http_req *req);

/*
 * What the server does with a request, handed to http_serve().  The glue
 * calls these on the request's worker thread.
 */
struct http_hooks {
	/*
	 * The request line and headers are in, the body is not read yet:
	 * choose a response now (it is sent and the body never read), or
	 * set req->max_body, the largest body this request may send (0: none;
	 * beyond it 413, Content-Length checked before anything is read).
	 */
	void (*begin)(struct http_req *req);
	/* The whole body is in (req->body, req->body_len): answer it. */
	void (*finish)(struct http_req *req);
	/*
	 * The request is over, its access log line written, its arena not yet
	 * freed: `status` went out (0: none of ours) after `duration_us`.  May
	 * be NULL.  Must be cheap: it runs on the worker thread for every
	 * request (metrics).
	 */
	void (*completed)(const struct http_req *req, unsigned status, int64_t duration_us);
	/*
	 * Render a failure as an HTML page, for page paths when the client
	 * accepts text/html (browsers; other clients keep problem+json), with
	 * the status and a message already stripped of internals for 5xx.
	 * NULL: problem+json everywhere.
	 */
	int (*html_error)(struct http_req *req, unsigned status, const char *title,
			  const char *detail);
};

/*
 * Run the server until SIGTERM or SIGINT: bind cfg->listen, serve with a
 * thread pool, hand each request to `hooks` (borrowed, alive until the
 * return), finish in-flight requests, then return 0.
 */
int http_serve(const struct server *srv, const struct http_hooks *hooks);

#endif
