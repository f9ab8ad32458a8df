/*
 * server/h_pages.c - the web pages' handlers: they gather the data by
 * calling the same domain operations as the API (the headers of domain/) and hand it
 * to the renderers of web/pages.h.  Forms post to page routes; each POST
 * calls the domain operation that does the work, then redirects (303) or
 * shows the refusal on the page.
 * The plumbing they share is declared in server/h_pages.h; the change
 * pages are in server/h_pages_change.c.
 *
 *   GET  /static/{name}                 public   stylesheet and script, cached by content hash
 *   GET  /favicon.ico                   public   the icon (SVG)
 *   GET  /login, POST /login            public   the login form, bound to a pre-session cookie
 *   POST /logout                        any
 *   GET  /                              any      my work
 *   GET  /changes                       all but agent
 *   GET  /assets, /assets/{id}          any
 *   GET  /assets/{id}/versions/{commit} any
 *   GET  /assets/{id}/diff              any
 *   GET  /assets/{id}/upload, POST      engineer, admin
 *
 * Every page carries a Content-Security-Policy without inline script or
 * style, and Cache-Control: no-store; errors on page paths are HTML pages
 * (page_reply_error, called by http_reply_error).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/crypto.h"
#include "core/err.h"
#include "core/log.h"
#include "domain/assets.h"
#include "domain/auth.h"
#include "domain/changes.h"
#include "domain/inventory.h"
#include "domain/versions.h"
#include "server/auth.h"
#include "server/h_pages.h"
#include "server/handlers.h"
#include "domain/rules.h"
#include "storage/assets.h"
#include "storage/audit.h"
#include "storage/changes.h"
#include "storage/repo.h"
#include "web/form.h"
#include "web/pages.h"

#define CSP "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " \
	    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
#define HOME_LIST_LIMIT_TEXT "50"
/* the changes page shows up to the list's largest page (CHANGES_MAX_LIMIT) */
#define CHANGES_MAX_LIMIT_TEXT "500"
#define TRAIL_LIMIT 500

/* ---- the frame and replies ---- */

struct web_page pg_page(struct http_req *req, const char *title, const char *section)
{
	struct web_page p;

	memset(&p, 0, sizeof(p));
	p.title = title;
	p.section = section;
	if (req->who.user_id) {
		p.user.username = req->who.username;
		p.user.display_name = req->who.display_name;
		p.user.role = role_name(req->who.role);
		p.user.csrf_token = req->who.csrf_token;
	}
	return p;
}

int pg_reply(struct http_req *req, unsigned status, struct html *h)
{
	int rc;

	if (h->err) {
		rc = err_set(h->err, NULL, "the page is larger than %zu bytes", (size_t)PG_PAGE_CAP);
		html_release(h);
		return rc;
	}
	http_set_header(req, "Content-Security-Policy", CSP);
	http_set_header(req, "Cache-Control", "no-store");
	rc = http_reply_bytes(req, status, "text/html; charset=utf-8", buf_cstr(&h->buf), h->buf.len);
	html_release(h);
	return rc;
}

/* 303 See Other to `location` (a path built here from escaped parts). */
int pg_redirect(struct http_req *req, const char *location)
{
	http_set_header(req, "Location", location);
	http_set_header(req, "Cache-Control", "no-store");
	return http_reply_empty(req, 303);
}

int page_reply_error(struct http_req *req, unsigned status, const char *title, const char *detail)
{
	struct web_page p = pg_page(req, title, NULL);
	struct html h;

	if (status == 401 && strcmp(req->path, "/login") != 0) {
		html_init(&h, 4096);
		html_raw(&h, "/login?next=");
		html_url(&h, req->path);
		if (h.err == 0)
			pg_redirect(req, arena_strdup(req->arena, buf_cstr(&h.buf)));
		html_release(&h);
		if (h.err == 0)
			return 0;
	}
	html_init(&h, PG_PAGE_CAP);
	page_error(&h, &p, status, title, detail, req->request_id);
	if (h.err) {
		html_release(&h);
		return http_reply_bytes(req, status, "text/plain; charset=utf-8", title, strlen(title));
	}
	return pg_reply(req, status, &h);
}

void pg_keep_failure(struct pg_failure *f, struct http_req *req, int code)
{
	f->code = code;
	f->status = http_status_for(code);
	f->message = arena_strdup(req->arena, f->status >= 500 && f->status != 503
				  ? "the server failed to handle the request; its log has the details"
				  : (err_message() && *err_message() ? err_message() : "refused"));
	f->rule = f->status == 409 && err_rule() ? arena_strdup(req->arena, err_rule()) : NULL;
	if (f->status >= 500 && f->status != 503)
		log_msg(LOG_ERROR, "page action failed: %s", err_message());
	/* a throttle or a lock says how long it lasts, as http_reply_error does for the API */
	if ((code == OTCM_ETHROTTLED || code == OTCM_ELOCKED) && err_retry_after() > 0) {
		char wait[24];

		snprintf(wait, sizeof(wait), "%lld", err_retry_after());
		http_set_header(req, "Retry-After", wait);
	}
}

/* A field of an urlencoded form body, or NULL. */
const char *pg_form(struct http_req *req, const char *name)
{
	const char *v = form_get(req->form, name);

	return v && *v ? v : NULL;
}

static void json_decref_cb(void *p)
{
	json_decref(p);
}

/* Tie `j` to the request: released with the arena. */
json_t *pg_keep(struct http_req *req, json_t *j)
{
	if (j)
		arena_on_free(req->arena, json_decref_cb, j);
	return j;
}

/* ---- static files ---- */

int h_page_static(struct http_req *req)
{
	struct web_static s;
	const char *inm = http_header(req, "If-None-Match"), *v = http_query(req, "v");
	char etag[32];

	if (!web_static_find(&s, http_param(req, 0)))
		return err_set(OTCM_ENOTFOUND, NULL, "no static file '%.100s'", http_param(req, 0));
	snprintf(etag, sizeof(etag), "\"%s\"", s.hash);
	http_set_header(req, "ETag", etag);
	/* the pages link ?v=<hash>: such a URL never changes content */
	http_set_header(req, "Cache-Control", v && strcmp(v, s.hash) == 0
			? "public, max-age=31536000, immutable" : "no-cache");
	if (inm && strstr(inm, etag))
		return http_reply_empty(req, 304);
	return http_reply_bytes(req, 200, s.content_type, s.data, s.len);
}

/* The icon browsers ask for at /favicon.ico (an SVG: web/static/favicon.svg). */
int h_page_favicon(struct http_req *req)
{
	struct web_static s;

	if (!web_static_find(&s, "favicon.svg"))
		return err_set(OTCM_ENOTFOUND, NULL, "no icon");
	http_set_header(req, "Cache-Control", "public, max-age=86400");
	return http_reply_bytes(req, 200, s.content_type, s.data, s.len);
}

/* ---- login and logout ---- */

/*
 * Is `next` a plain path on this server?  One '/' and then no second '/'
 * or '\\' right after it (browsers read "//host", "/\\host" and, once they
 * drop tabs and newlines, "/\t/host" as another host), no backslash, no
 * control character, no ':' (no scheme), not too long.
 */
static bool local_path(const char *next)
{
	const unsigned char *s = (const unsigned char *)next;
	size_t i;

	if (!next || s[0] != '/' || s[1] == '/' || strlen(next) >= 1024)
		return false;
	for (i = 0; s[i]; i++)
		if (s[i] < 0x20 || s[i] == 0x7f || s[i] == '\\' || s[i] == ':')
			return false;
	return true;
}

#define LOGIN_TOKEN_HEX 64

/*
 * The login form's token: the value of the pre-session cookie otcm_login
 * when the browser has a well-formed one, else a new one, set now (HttpOnly,
 * SameSite=Strict, for /login only).  The form carries it back in
 * "login_token"; another site can neither read the cookie nor set it, so
 * it cannot log a victim's browser into the attacker's account.
 */
static const char *login_token(struct http_req *req)
{
	const char *have = http_cookie(req, AUTH_LOGIN_COOKIE);
	char tok[LOGIN_TOKEN_HEX + 1], cookie[256];

	if (have && strlen(have) == LOGIN_TOKEN_HEX && strspn(have, "0123456789abcdef") == LOGIN_TOKEN_HEX)
		return have;
	if (crypto_random_hex(tok, LOGIN_TOKEN_HEX / 2))
		return NULL;
	snprintf(cookie, sizeof(cookie), "%s=%s; Path=/login; HttpOnly; SameSite=Strict; Max-Age=%d%s",
		 AUTH_LOGIN_COOKIE, tok, 86400, req->srv->tls ? "; Secure" : "");
	http_set_header(req, "Set-Cookie", cookie);
	return arena_strdup(req->arena, tok);
}

/* Does the login form carry back the token of its pre-session cookie? */
static bool login_token_ok(struct http_req *req)
{
	const char *have = http_cookie(req, AUTH_LOGIN_COOKIE), *sent = pg_form(req, "login_token");

	return have && sent && strlen(have) == LOGIN_TOKEN_HEX && strlen(sent) == LOGIN_TOKEN_HEX &&
	       crypto_equal(have, sent, LOGIN_TOKEN_HEX);
}

int h_page_login_form(struct http_req *req)
{
	struct web_page p = pg_page(req, "Log in", NULL);
	const char *next = http_query(req, "next"), *tok;
	struct html h;

	if (req->who.user_id)
		return pg_redirect(req, local_path(next) ? next : "/");
	if (!(tok = login_token(req)))
		return err_set(OTCM_EINTERNAL, NULL, "cannot make a login token");
	html_init(&h, PG_PAGE_CAP);
	page_login(&h, &p, NULL, local_path(next) ? next : NULL, NULL, tok);
	return pg_reply(req, 200, &h);
}

int h_page_login(struct http_req *req)
{
	const char *username = pg_form(req, "username"), *password = pg_form(req, "password");
	const char *next = pg_form(req, "next"), *code = pg_form(req, "totp_code"), *tok;
	struct web_page p = pg_page(req, "Log in", NULL);
	struct dom_session s;
	struct pg_failure f;
	struct html h;
	int rc;

	memset(&s, 0, sizeof(s));
	if (!login_token_ok(req)) {
		rc = err_set(OTCM_EFORBIDDEN, "login_token",
			     "this login form has expired or did not come from otcm: log in again");
		if (dom_audit_alone(&req->dom, "session.login.refused", "user", username ? username : "",
				    NULL, NULL, "login form without its token"))
			log_msg(LOG_ERROR, "could not audit a refused login: %s", err_message());
		err_set(OTCM_EFORBIDDEN, "login_token",
			"this login form has expired or did not come from otcm: log in again");
	} else if (!username || !password) {
		rc = err_set(OTCM_EINVAL, "username", "enter your user name and password");
	} else {
		rc = dom_session_login(&s, &req->dom, username, password, code);
	}
	if (rc == 0) {
		char clear[128];

		auth_set_session_cookie(req, &s);
		snprintf(clear, sizeof(clear), "%s=; Path=/login; HttpOnly; SameSite=Strict; Max-Age=0%s",
			 AUTH_LOGIN_COOKIE, req->srv->tls ? "; Secure" : "");
		http_set_header(req, "Set-Cookie", clear);
		memset(s.secret, 0, sizeof(s.secret));
		json_decref(s.user);
		return pg_redirect(req, local_path(next) ? next : "/");
	}
	pg_keep_failure(&f, req, rc);
	p.user.username = NULL;   /* still anonymous */
	if (!(tok = login_token(req)))
		return err_set(OTCM_EINTERNAL, NULL, "cannot make a login token");
	html_init(&h, PG_PAGE_CAP);
	page_login(&h, &p, username, local_path(next) ? next : NULL, f.message, tok);
	return pg_reply(req, f.status, &h);
}

int h_page_logout(struct http_req *req)
{
	int rc = dom_session_logout(&req->dom, req->who.csrf_token ? http_cookie(req, AUTH_COOKIE) : NULL);

	if (rc && rc != OTCM_EINVAL)   /* EINVAL: no session to end, e.g. a bearer token */
		return rc;
	if (rc == 0)
		auth_clear_session_cookie(req);
	return pg_redirect(req, "/login");
}

/* ---- my work and the change list ---- */

/*
 * The items of the change list for query `q` (domain/changes.h), kept with
 * the request; an actor whose role may not read changes (the collection
 * agent) gets an empty list, as the domain's preview says, without a
 * refusal on its home page.
 */
int pg_list_changes(json_t **out, struct http_req *req, const struct dom_change_query *q)
{
	json_t *page = NULL;
	int rc;

	if (dom_change_role_may(&req->dom, OP_CHANGE_READ)) {
		err_clear();
		*out = pg_keep(req, json_array());
		return 0;
	}
	if ((rc = dom_change_list(&page, &req->dom, q)))
		return rc;
	pg_keep(req, page);
	*out = json_object_get(page, "items");
	return 0;
}

int h_page_home(struct http_req *req)
{
	struct web_page p = pg_page(req, "My work", "home");
	struct dom_change_query q;
	json_t *mine = NULL, *overdue = NULL, *to_sign = NULL, *part = NULL;
	const char *label = "Waiting for you";
	const char *states[4] = { NULL };
	struct html h;
	size_t i, j;
	int rc;

	/* what each role acts on next */
	switch (req->who.role) {
	case ROLE_APPROVER:
	case ROLE_ADMIN:
		states[0] = "submitted";   /* authorise */
		states[1] = "fat";         /* approve for deployment */
		states[2] = "sat";         /* release */
		label = "Waiting for your signature: to authorise, approve or release";
		break;
	case ROLE_QA:
		states[0] = "fat";
		states[1] = "sat";
		label = "Waiting for tests: in FAT or SAT";
		break;
	case ROLE_ENGINEER:
		states[0] = "authorised";
		states[1] = "implementing";
		label = "Ready to implement or being implemented";
		break;
	default:
		break;
	}
	memset(&q, 0, sizeof(q));
	q.requester = req->who.username;
	q.limit = HOME_LIST_LIMIT_TEXT;
	if ((rc = pg_list_changes(&mine, req, &q)))
		return rc;
	memset(&q, 0, sizeof(q));
	q.overdue = "true";
	q.limit = HOME_LIST_LIMIT_TEXT;
	if ((rc = pg_list_changes(&overdue, req, &q)))
		return rc;
	to_sign = pg_keep(req, json_array());
	for (i = 0; states[i]; i++) {
		json_t *ch;

		memset(&q, 0, sizeof(q));
		q.state = states[i];
		q.limit = HOME_LIST_LIMIT_TEXT;
		if ((rc = pg_list_changes(&part, req, &q)))
			return rc;
		json_array_foreach(part, j, ch) {
			/* engineers see their own work in "Changes I requested" already */
			if (req->who.role == ROLE_ENGINEER &&
			    strcmp(web_str(ch, "requester") ? web_str(ch, "requester") : "", req->who.username))
				continue;
			json_array_append(to_sign, ch);
		}
	}
	html_init(&h, PG_PAGE_CAP);
	page_home(&h, &p, mine, to_sign, label, overdue);
	return pg_reply(req, 200, &h);
}

int h_page_changes(struct http_req *req)
{
	struct web_page p = pg_page(req, "Changes", "changes");
	const char *state = http_query(req, "state");
	struct dom_change_query q;
	json_t *list = NULL;
	struct html h;
	int rc;

	if (state && !*state)
		state = NULL;
	memset(&q, 0, sizeof(q));
	q.state = state;
	q.limit = CHANGES_MAX_LIMIT_TEXT;
	if ((rc = pg_list_changes(&list, req, &q)))
		return rc;
	html_init(&h, PG_PAGE_CAP);
	page_changes(&h, &p, list, state);
	return pg_reply(req, 200, &h);
}

/* ---- assets, versions, diffs ---- */

/*
 * The changes of asset `id` (in `state` when not NULL), newest first, as
 * the change list gives them; an empty list for a role that may not read
 * changes (the collection agent), whose page simply shows none.
 */
static int asset_changes(json_t **out, struct http_req *req, int64_t id, const char *state)
{
	struct dom_change_query q;

	memset(&q, 0, sizeof(q));
	q.asset = arena_printf(req->arena, "%" PRId64, id);
	q.state = state;
	q.limit = HOME_LIST_LIMIT_TEXT;
	return pg_list_changes(out, req, &q);
}

/* The asset of the route's first capture. */
static int load_asset(json_t **out, int64_t *out_id, struct http_req *req)
{
	int rc;

	if ((rc = dom_asset_id(out_id, http_param(req, 0))) ||
	    (rc = dom_asset_read(out, &req->dom, *out_id)))
		return rc;
	pg_keep(req, *out);
	return 0;
}

int h_page_assets(struct http_req *req)
{
	struct web_page p = pg_page(req, "Assets", "assets");
	struct dom_asset_query q;
	json_t *page = NULL;
	struct html h;
	int rc;

	memset(&q, 0, sizeof(q));
	q.limit = DOM_ASSETS_MAX_LIMIT;
	if ((rc = dom_asset_list(&page, &req->dom, &q)))
		return rc;
	pg_keep(req, page);
	html_init(&h, PG_PAGE_CAP);
	/* the first DOM_ASSETS_MAX_LIMIT by path (next_cursor says there are others): paging comes later */
	page_assets(&h, &p, json_object_get(page, "items"), http_query(req, "q"));
	return pg_reply(req, 200, &h);
}

/*
 * The URL git clones the asset from, as this request reached the server:
 * its scheme and Host header (when it is a plain host[:port]), else a path.
 */
static const char *clone_url(struct http_req *req, const char *path)
{
	const char *host = http_header(req, "Host");

	if (!host || !*host || strlen(host) > 255 ||
	    strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") !=
		    strlen(host))
		return arena_printf(req->arena, "/git/%s.git", path);
	return arena_printf(req->arena, "%s://%s/git/%s.git", req->srv->tls ? "https" : "http", host,
			    path);
}

int h_page_asset(struct http_req *req)
{
	struct web_page p;
	json_t *asset = NULL, *history = NULL, *version = NULL, *refs = NULL, *changes = NULL;
	json_t *inventory = NULL;
	const char *head;
	int64_t id;
	struct html h;
	int rc;

	if ((rc = load_asset(&asset, &id, req)) ||
	    (rc = dom_inventory_read(&inventory, &req->dom, id, 50)))
		return rc;
	/* the page shows the inventory's history beside the asset's fields */
	json_object_set_new(asset, "inventory", inventory);
	json_object_set_new(asset, "clone_url", json_string(clone_url(req, web_str(asset, "path"))));
	if (
	    (rc = dom_version_history(&history, &req->dom, id, http_query(req, "branch"),
				      http_query(req, "cursor"), 0)))
		return rc;
	pg_keep(req, history);
	head = web_str(history, "head");
	if ((rc = dom_version_refs(&refs, &req->dom, id)))
		return rc;
	pg_keep(req, refs);
	if (head) {
		if ((rc = dom_version_read(&version, &req->dom, id, head)))
			return rc;
		pg_keep(req, version);
	}
	if ((rc = asset_changes(&changes, req, id, NULL)))
		return rc;
	p = pg_page(req, web_str(asset, "path"), "assets");
	html_init(&h, PG_PAGE_CAP);
	page_asset(&h, &p, asset, refs, head, json_object_get(history, "items"),
		   json_object_get(version, "files"), changes,
		   (req->who.role & (ROLE_ENGINEER | ROLE_ADMIN)) != 0);
	return pg_reply(req, 200, &h);
}

int h_page_version(struct http_req *req)
{
	struct web_page p;
	json_t *asset = NULL, *info = NULL;
	const json_t *rec;
	int64_t id;
	struct html h;
	int rc;

	if ((rc = load_asset(&asset, &id, req)) ||
	    (rc = dom_version_read(&info, &req->dom, id, http_param(req, 1))))
		return rc;
	pg_keep(req, info);
	rec = json_object_get(info, "recorded");
	p = pg_page(req, web_str(asset, "path"), "assets");
	html_init(&h, PG_PAGE_CAP);
	page_version(&h, &p, asset, info, json_is_object(rec) ? rec : NULL,
		     json_object_get(info, "files"));
	return pg_reply(req, 200, &h);
}

/*
 * ?file=PATH&page=N of the diff page: the file (an element of `files`) whose
 * changes alone are shown, and which page of them; OTCM_ENOTFOUND naming
 * "file" for a path not among the changed files, OTCM_EINVAL naming "page".
 */
static int diff_file_query(const json_t **out, size_t *out_page, struct http_req *req,
			   const json_t *files)
{
	const char *path = http_query(req, "file"), *page = http_query(req, "page");
	const json_t *f;
	size_t i;

	*out = NULL;
	*out_page = 0;
	if (page) {
		if (!*page || strspn(page, "0123456789") != strlen(page) || strlen(page) > 6)
			return err_set(OTCM_EINVAL, "page", "page must be a number from 0 to 999999");
		*out_page = (size_t)strtoul(page, NULL, 10);
	}
	if (!path)
		return 0;
	json_array_foreach(files, i, f)
		if (!strcmp(web_str(f, "path") ? web_str(f, "path") : "", path)) {
			*out = f;
			return 0;
		}
	return err_set(OTCM_ENOTFOUND, "file", "file '%.200s' did not change between these versions", path);
}

int h_page_diff(struct http_req *req)
{
	struct web_page p;
	json_t *asset = NULL, *diff = NULL;
	const json_t *patch, *file;
	int64_t id;
	struct html h;
	size_t page;
	int rc;

	if ((rc = load_asset(&asset, &id, req)) ||
	    (rc = dom_version_diff(&diff, NULL, NULL, &req->dom, id, http_query(req, "from"),
				   http_query(req, "to"), true)))
		return rc;
	pg_keep(req, diff);
	if ((rc = diff_file_query(&file, &page, req, json_object_get(diff, "files"))))
		return rc;
	patch = json_object_get(diff, "patch");
	p = pg_page(req, "What changed", "assets");
	html_init(&h, PG_PAGE_CAP);
	page_diff(&h, &p, asset, web_str(diff, "from"), web_str(diff, "to"),
		  json_object_get(diff, "files"), json_string_value(patch),
		  json_string_length(patch), file, page);
	return pg_reply(req, 200, &h);
}

/* ---- uploads ---- */

/* Changes an upload may go to: implementing or in FAT. */
static int open_changes(json_t **out, struct http_req *req, int64_t asset_id)
{
	static const char *const states[] = { "implementing", "fat" };
	json_t *all = pg_keep(req, json_array()), *part = NULL;
	size_t i;
	int rc = 0;

	for (i = 0; i < 2 && rc == 0; i++)
		if ((rc = asset_changes(&part, req, asset_id, states[i])) == 0)
			json_array_extend(all, part);
	*out = all;
	return rc;
}

static int upload_page(struct http_req *req, unsigned status, json_t *asset, const char *change,
		       const char *error)
{
	struct web_page p = pg_page(req, "Upload a new version", "assets");
	json_t *choices = NULL;
	struct html h;
	int rc;

	if ((rc = open_changes(&choices, req, json_integer_value(json_object_get(asset, "id")))))
		return rc;
	html_init(&h, PG_PAGE_CAP);
	page_upload(&h, &p, asset, change, choices, error);
	return pg_reply(req, status, &h);
}

int h_page_upload_form(struct http_req *req)
{
	json_t *asset = NULL;
	int64_t id;
	int rc;

	if ((rc = load_asset(&asset, &id, req)))
		return rc;
	return upload_page(req, 200, asset, http_query(req, "change"), NULL);
}

int h_page_upload(struct http_req *req)
{
	struct upload_part *parts;
	const char *change = NULL;
	json_t *asset = NULL, *version = NULL;
	struct pg_failure f;
	size_t i, n = 0, nfiles = 0;
	int64_t id;
	struct html loc;
	int rc;

	if ((rc = load_asset(&asset, &id, req)))
		return rc;
	if (!req->parts && req->body_len) {
		rc = err_set(OTCM_EMEDIA, "body", "send the upload form as multipart/form-data");
		goto refused;
	}
	/* the form's own fields and empty inputs are not part of the version */
	parts = arena_alloc(req->arena, (req->nparts + 1) * sizeof(*parts));
	for (i = 0; i < req->nparts; i++) {
		const struct http_part *pt = &req->parts[i];
		const char *name = pt->name ? pt->name : "";

		if (strcmp(name, "csrf_token") == 0 || (pt->filename && !*pt->filename && pt->len == 0) ||
		    (!pt->filename && pt->len == 0 && (strcmp(name, "change") == 0 || strcmp(name, "message") == 0)))
			continue;
		if (strcmp(name, "change") == 0 && !pt->filename)
			change = pt->data;
		if (pt->filename)
			nfiles++;
		parts[n].name = pt->name;
		parts[n].filename = pt->filename;
		parts[n].data = pt->data;
		parts[n].len = pt->len;
		n++;
	}
	if (nfiles == 0) {
		rc = err_set(OTCM_EINVAL, "files", "choose one or more files or an archive");
		goto refused;
	}
	if ((rc = dom_version_upload(&version, &req->dom, id, parts, n)))
		goto refused;
	pg_keep(req, version);
	html_init(&loc, 4096);
	html_raw(&loc, "/assets/");
	html_int(&loc, id);
	html_raw(&loc, "/versions/");
	html_url(&loc, web_str(version, "commit"));
	rc = loc.err ? loc.err : pg_redirect(req, arena_strdup(req->arena, buf_cstr(&loc.buf)));
	html_release(&loc);
	return rc;
refused:
	pg_keep_failure(&f, req, rc);
	return upload_page(req, f.status, asset, change, f.message);
}
