/*
 * server/http.h - the HTTP layer: requests, responses and the route table.
 *
 * The only module that includes <microhttpd.h> is server/http.c.  A request
 * reaches a handler fully read (body buffered up to --max-body, multipart
 * bodies already split into parts), authenticated and role-checked as its
 * route declares.  A handler returns 0 after calling one http_reply_*
 * function, or a negative error code (core/err.h) with err_set() called:
 * the core then answers with problem+json (http_reply_error).  Everything a
 * handler allocates should come from req->arena.
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
	const char *data;            /* NUL-terminated copy; len excludes the NUL */
	size_t len;
};

#define HTTP_MAX_PARAMS 4

struct http_req {
	struct arena *arena;
	const struct server *srv;
	const char *method;
	const char *path;            /* decoded path, without the query */
	const char *request_id;
	const char *remote_addr;
	const char *params[HTTP_MAX_PARAMS];   /* {name} captures of the route pattern */
	size_t nparams;
	const char *body;            /* raw body (NUL-terminated), NULL when none */
	size_t body_len;
	struct http_part *parts;     /* multipart/form-data parts, in order */
	size_t nparts;
	struct principal who;
	struct actor actor;          /* who, as the domain sees it (filled with `who`) */
	struct dom dom;              /* the context for domain operations */
	void *conn;                  /* private to http.c */
};

typedef int (*http_handler)(struct http_req *req);

/*
 * One row of the route table (server/routes.c).  Patterns are literal
 * segments and captures: "/api/v1/assets/{id}", "/api/v1/assets/{id}/files/{path+}"
 * ({name+} captures the rest of the path, slashes included).  `roles` is
 * the set of roles allowed (ROLE_PUBLIC for no authentication); `summary`
 * appears in the OpenAPI document.
 */
struct route {
	const char *method;
	const char *pattern;
	unsigned roles;
	http_handler handler;
	const char *summary;
	enum dom_op op;              /* the domain operation it calls (OP_NONE: none) */
};

extern const struct route routes[];
extern const size_t routes_count;

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

/* Respond 204 No Content. */
int http_reply_empty(struct http_req *req, unsigned status);

/*
 * Respond to a failure: status from the code, RFC 9457 problem+json body
 * {type, title, status, detail, field?, rule?, request_id}.  Called by the
 * core when a handler returns an error; handlers may call it directly.
 */
int http_reply_error(struct http_req *req, int code);

/* HTTP status for an error code (the one place codes become statuses). */
unsigned http_status_for(int code);

/*
 * Authenticate a request from its session cookie or bearer token
 * (server/auth.c): fills req->who, or leaves it anonymous.  Bad or expired
 * credentials simply stay anonymous.  Errors: a failure to check (database
 * down), and OTCM_EFORBIDDEN for a state-changing request authenticated by
 * a session cookie without its CSRF token (header X-CSRF-Token); the core
 * answers either with http_reply_error.
 */
int auth_identify(struct http_req *req);

/*
 * The CSRF rule for web forms: a state-changing request to a page path
 * from a cookie session carries the session's token in the X-CSRF-Token
 * header or in a "csrf_token" form field (urlencoded or multipart body).
 * auth_identify() leaves page paths to this check, which the core runs once
 * the body is read and before the handler; OTCM_EFORBIDDEN when it fails.
 * POST /login is exempt, as the API's login is: it replaces the session.
 */
int auth_check_form_csrf(struct http_req *req);

/*
 * Is `path` a web page (HTML, errors as HTML pages) rather than the API
 * (/api), git (/git) or an operations endpoint (/healthz, /readyz, /metrics)?
 */
bool http_is_page_path(const char *path);

/*
 * Answer a failure on a page path with an HTML page (server/h_pages.c);
 * http_reply_error() calls it for page paths when the client accepts
 * text/html (browsers; other clients keep problem+json), with the status
 * and a message already stripped of internals for 5xx.  401 redirects to
 * the login page.
 */
int page_reply_error(struct http_req *req, unsigned status, const char *title, const char *detail);

/*
 * Run handler `h` on `req` as a sub-call and keep its answer instead of
 * sending it: *out_status gets the status (from the error code when it
 * failed without replying), *out_body and *out_len the body (arena memory,
 * NULL when none).  Headers the handler set are dropped except Set-Cookie.
 * Returns the handler's code with its error message kept.  Lets a page
 * handler run the very API handler behind a form and then answer with a
 * page or a redirect.
 */
int http_call(unsigned *out_status, const char **out_body, size_t *out_len, struct http_req *req,
	      http_handler h);

/*
 * Run the server until SIGTERM or SIGINT: bind cfg->listen, serve with a
 * thread pool, finish in-flight requests, then return 0.
 */
int http_serve(const struct server *srv);

#endif
