/*
 * server/dispatch.c - the request's path, in the order it runs:
 *
 *   on_begin()   the headers are in, the body is not read:
 *                  route match          no path 404, a wrong method 405
 *                  identify             auth_identify(): a bearer token or a
 *                                       session cookie becomes req->who, and
 *                                       fill_actor() the domain's actor
 *                  first filter         the route's roles: 401 or 403, each
 *                                       audited (dom_audit_access_refused)
 *                  strict query         every parameter valid UTF-8, else 400
 *                                       naming it
 *                  body limit           req->max_body: --max-body for uploads
 *                                       by an authenticated caller, else
 *                                       --max-form-body; the glue refuses a
 *                                       larger body (413) before reading it
 *   on_finish()  the body is in:
 *                  parse once           multipart parts, or a page's
 *                                       urlencoded form (req->form)
 *                  page CSRF            auth_check_form_csrf()
 *                  door handler         the route's handler: parses, calls one
 *                                       domain operation with &req->dom,
 *                                       renders
 *                  reply                an error code becomes problem+json, or
 *                                       an HTML page for a browser on a page
 *                                       (page_reply_error)
 *   on_completed() the answer is out: counted for the metrics by route
 *                  template and status (core/metrics.h)
 *
 * The HTTP glue (server/http.c) calls these three through struct http_hooks
 * and calls nothing above itself.
 */
#include "server/dispatch.h"

#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "core/metrics.h"
#include "core/utf8.h"
#include "domain/domain.h"
#include "server/auth.h"
#include "server/h_pages.h"
#include "server/http_internal.h"
#include "web/form.h"

/* ---- route matching ------------------------------------------------- */

bool dispatch_pattern_match(const char *pattern, const char *path, struct arena *a,
			    const char *params[HTTP_MAX_PARAMS], size_t *out_nparams)
{
	const char *p = pattern, *s = path;
	size_t n = 0;

	while (*p) {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			bool rest;
			size_t len;

			if (!close || n == HTTP_MAX_PARAMS)
				return false; /* a malformed pattern matches nothing */
			rest = close > p + 1 && close[-1] == '+';
			if (rest) {
				/* {name+} takes the rest of the path, less a literal suffix after it */
				size_t slen = strlen(s), tail = strlen(close + 1);

				if (strchr(close + 1, '{') || slen <= tail ||
				    strcmp(s + slen - tail, close + 1) != 0)
					return false;
				len = slen - tail;
			} else {
				len = strcspn(s, "/");
			}
			if (len == 0)
				return false;
			params[n++] = arena_strndup(a, s, len);
			s += len;
			p = close + 1;
			continue;
		}
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	if (*s != '\0')
		return false;
	*out_nparams = n;
	return true;
}

int dispatch_route_match(const struct route **out, const struct route *table, size_t n,
			 const char *method, const char *path, struct arena *a,
			 const char *params[HTTP_MAX_PARAMS], size_t *out_nparams,
			 struct buf *allow)
{
	const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
	bool path_matched = false;
	size_t i;

	for (i = 0; i < n; i++) {
		const char *caps[HTTP_MAX_PARAMS];
		size_t ncaps = 0;

		if (!dispatch_pattern_match(table[i].pattern, path, a, caps, &ncaps))
			continue;
		if (strcmp(table[i].method, want) == 0) {
			memcpy(params, caps, ncaps * sizeof(caps[0]));
			*out_nparams = ncaps;
			*out = &table[i];
			return 0;
		}
		if (allow && !strstr(buf_cstr(allow), table[i].method)) {
			if (allow->len)
				buf_adds(allow, ", ");
			buf_adds(allow, table[i].method);
			if (strcmp(table[i].method, "GET") == 0)
				buf_adds(allow, ", HEAD");
		}
		path_matched = true;
	}
	if (path_matched)
		return err_set(OTCM_EMETHOD, NULL, "method '%s' is not allowed on '%s'", method, path);
	return err_set(OTCM_ENOTFOUND, NULL, "no resource at '%s'", path);
}

/* ---- the actor ------------------------------------------------------ */

/*
 * The caller as the domain sees it, and the context its operations take:
 * filled once the credentials are checked (anonymous before, or when they
 * fail).  The door follows from the path.
 */
static void fill_actor(struct http_req *req)
{
	struct actor *a = &req->actor;

	memset(a, 0, sizeof(*a));
	a->user_id = req->who.user_id;
	a->username = req->who.username;
	a->display_name = req->who.display_name;
	a->role = req->who.user_id ? req->who.role : 0;
	a->token_id = req->who.token_id;
	if (req->who.user_id)
		a->auth = req->who.auth ? req->who.auth : (req->who.token_id ? "token" : "password");
	a->addr = req->remote_addr;
	a->request_id = req->request_id;
	a->door = auth_door(req);
	req->dom.who = a;
	req->dom.arena = req->arena;
	req->dom.db = req->srv->db;
	req->dom.cfg = req->srv->cfg;
	req->dom.key = req->srv->key;
	req->dom.origin = req->srv->origin;
}

/* ---- the path ------------------------------------------------------- */

uint64_t dispatch_body_limit(const struct http_req *req, const struct route *route)
{
	const struct config *cfg = req->srv->cfg;
	bool upload = route->op == OP_VERSION_UPLOAD || route->op == OP_RUN_ATTACH ||
		      route->op == OP_ADVISORY_IMPORT || route->op == OP_READBACK_RECORD ||
		      route->op == OP_READBACK_IMPORT || route->op == OP_INCIDENT_REPORT ||
		      route->op == OP_CHANGE_FIRMWARE_FILE;

	if (upload && req->who.user_id)
		return cfg->max_body;
	return cfg->max_form_body < cfg->max_body ? cfg->max_form_body : cfg->max_body;
}

/* One query parameter: its name and value must be UTF-8. */
static int check_query(void *ctx, const char *name, const char *value)
{
	if (!utf8_valid(name, strlen(name)))
		return err_set(OTCM_EINVAL, "query", "a query parameter's name is not valid UTF-8");
	if (value && !utf8_valid(value, strlen(value)))
		return err_set(OTCM_EINVAL, name, "query parameter '%s' is not valid UTF-8", name);
	return 0;
}

/* The route's roles, a cheap first filter in front of the domain's own check. */
static int first_filter(struct http_req *req, const struct route *route)
{
	const char *what;
	int rc;

	if (route->roles == ROLE_PUBLIC || (req->who.user_id && (req->who.role & route->roles)))
		return 0;
	what = arena_printf(req->arena, "%s %s", req->method, route->pattern);
	if (req->who.user_id == 0) {
		rc = err_set(OTCM_EAUTH, NULL, "authentication required");
		dom_audit_access_refused(&req->dom, what, rc, err_message());
		return err_set(OTCM_EAUTH, NULL, "authentication required");
	}
	if (!(req->who.role & route->roles)) {
		rc = err_set(OTCM_EFORBIDDEN, NULL, "role '%s' may not %s '%s'",
			     role_name(req->who.role) ? role_name(req->who.role) : "none",
			     req->method, req->path);
		err_set_rule("role-permission");
		dom_audit_access_refused(&req->dom, what, rc, err_message());
		return rc;
	}
	return 0;
}

/*
 * git asks for credentials only after a 401 with a Basic challenge, and
 * prints nothing of the body: the sentence is for whoever looks (curl,
 * GIT_CURL_VERBOSE), so it says what git needs.
 */
static int git_auth_refused(struct http_req *req)
{
	http_set_header(req, "WWW-Authenticate", "Basic realm=\"otcm\", charset=\"UTF-8\"");
	if (http_header(req, "Authorization"))
		return err_set(OTCM_EAUTH, "Authorization",
			       "git takes your user name and an API token (not your password): "
			       "the token is unknown, revoked or expired, or not this user's; "
			       "create one on your profile page (/profile) or with POST /api/v1/tokens");
	return err_set(OTCM_EAUTH, "Authorization",
		       "git takes your user name and an API token as the password; "
		       "create a token on your profile page (/profile) or with POST /api/v1/tokens");
}

/* hooks.begin: the headers are in; answer now or set the body's limit. */
static void on_begin(struct http_req *req)
{
	struct buf allow = BUF_INIT;
	int rc;

	buf_init(&allow, 1024);
	rc = dispatch_route_match(&req->route, routes, routes_count, req->method, req->path,
				  req->arena, req->params, &req->nparams, &allow);
	if (rc == OTCM_EMETHOD)
		http_set_header(req, "Allow", buf_cstr(&allow));
	buf_release(&allow);
	if (rc)
		goto out;
	/* identify before the body is read: anonymous uploads are refused unread */
	err_clear();
	rc = auth_identify(req);
	fill_actor(req);
	if (rc || (rc = first_filter(req, req->route))) {
		if (rc == OTCM_EAUTH && req->actor.door == DOOR_GIT)
			rc = git_auth_refused(req);
		goto out;
	}
	if ((rc = http_query_each(req, check_query, NULL)))
		goto out;
	req->max_body = dispatch_body_limit(req, req->route);
out:
	if (rc)
		http_reply_error(req, rc);
}

/* Is the body an urlencoded form? */
static bool is_form(const char *ctype)
{
	return ctype && strncasecmp(ctype, "application/x-www-form-urlencoded", 33) == 0;
}

/* hooks.finish: the body is in; parse it once, check a page form's CSRF token, run the handler. */
static void on_finish(struct http_req *req)
{
	const char *ctype = http_header(req, "Content-Type");
	int rc = 0;

	err_clear();
	if (http_is_multipart(ctype)) {
		rc = http_multipart_parse(&req->parts, &req->nparts, req->arena, ctype, req->body,
					  req->body_len, req->srv->cfg->max_upload_entries);
	} else if (is_form(ctype) && http_is_page_path(req->path)) {
		struct form *form = NULL;

		rc = form_parse(&form, req->arena, req->body, req->body_len, FORM_MAX_FIELDS);
		req->form = form;
	}
	/* page forms carry their CSRF token in the body, readable only now */
	if (rc == 0)
		rc = auth_check_form_csrf(req);
	if (rc == 0)
		rc = req->route->handler(req);
	if (!http_replied(req)) {
		if (rc == 0)
			rc = err_set(OTCM_EINTERNAL, NULL, "handler for '%s %s' gave no response",
				     req->route->method, req->route->pattern);
		http_reply_error(req, rc);
	}
}

/*
 * hooks.completed: count the request for the metrics by its route (never
 * its path: one series per route template), and a refused login (401, 403,
 * 423, 429 from a login route) as a failed login.
 */
static void on_completed(const struct http_req *req, unsigned status, int64_t duration_us)
{
	size_t route = req->route ? (size_t)(req->route - routes) : routes_count;

	metrics_count_request(req->srv->metrics, route, status, duration_us);
	if (req->route && req->route->op == OP_SESSION_LOGIN &&
	    (status == 401 || status == 403 || status == 423 || status == 429))
		metrics_count_login_failure(req->srv->metrics);
}

int dispatch_serve(const struct server *srv)
{
	static const struct http_hooks hooks = {
		.begin = on_begin,
		.finish = on_finish,
		.completed = on_completed,
		.html_error = page_reply_error,
	};

	return http_serve(srv, &hooks);
}
