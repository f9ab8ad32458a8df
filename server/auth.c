/*
 * server/auth.c - who is calling: session cookies and bearer tokens, and
 * the CSRF rule for cookie sessions.  The authentication policy itself
 * (passwords, lockout, one-time codes) is domain/auth.h's.
 *
 * A locked or disabled account is anonymous, whatever session or token it
 * holds (domain/auth.h decides, dom_credential_*): its requests get 401 (pages send it to the login form, which
 * says why), so an account locked by failed attempts cannot go on signing
 * or issuing tokens through a session it opened before.  A directory
 * user's credentials are checked against the directory again once
 * --ldap-recheck-seconds have passed (dom_credential_recheck).
 */
#include "server/auth.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "core/timeutil.h"
#include "domain/auth.h"
#include "server/http.h"
#include "web/form.h"

static bool unsafe_method(const char *m)
{
	return strcmp(m, "GET") && strcmp(m, "HEAD") && strcmp(m, "OPTIONS");
}

/* Fill req->who from what the domain found behind the credentials. */
static void set_principal(struct http_req *req, const struct dom_credential *cr)
{
	if (!cr->user_id)
		return;
	req->who.user_id = cr->user_id;
	req->who.username = cr->username;
	req->who.display_name = cr->display_name;
	req->who.role = cr->role;
	req->who.token_id = cr->token_id;
	req->who.csrf_token = cr->csrf;
	req->who.auth = cr->auth;
}

/* A directory user's credential, asked of the directory again when its last check is old. */
static int recheck(struct http_req *req, struct dom_credential *cr)
{
	struct actor who;
	struct dom d;

	if (!cr->user_id || !cr->directory)
		return 0;
	memset(&who, 0, sizeof(who));
	who.user_id = cr->user_id;
	who.username = cr->username;
	who.display_name = cr->display_name;
	who.role = cr->role;
	who.auth = cr->token_id ? "token" : cr->auth;
	who.token_id = cr->token_id;
	who.addr = req->remote_addr;
	who.request_id = req->request_id;
	who.door = auth_door(req);
	memset(&d, 0, sizeof(d));
	d.who = &who;
	d.arena = req->arena;
	d.db = req->srv->db;
	d.cfg = req->srv->cfg;
	d.key = req->srv->key;
	d.origin = req->srv->origin;
	return dom_credential_recheck(cr, &d);
}

/*
 * git's HTTP Basic: the user name and an API token as the password.  The
 * token must be the named user's; a password is never checked here, so a
 * second factor cannot be walked around through git (the 401 says so).
 */
static int identify_basic(struct http_req *req, const char *b64)
{
	unsigned char raw[1024];
	struct dom_credential cr;
	size_t len = 0;
	char *text, *colon;
	int rc;

	while (*b64 == ' ')
		b64++;
	if (strlen(b64) >= sizeof(raw) || crypto_unbase64(raw, sizeof(raw) - 1, &len, b64) != 0)
		return 0;
	text = arena_strndup(req->arena, (const char *)raw, len);
	colon = strchr(text, ':');
	if (!colon || strlen(text) != len)
		return 0;
	*colon = '\0';
	if ((rc = dom_credential_token(&cr, req->arena, req->srv->db, colon + 1)) ||
	    (rc = recheck(req, &cr)))
		return rc;
	if (cr.user_id && cr.username && strcmp(cr.username, text) == 0)
		set_principal(req, &cr);
	return 0;
}

enum door auth_door(const struct http_req *req)
{
	if (strncmp(req->path, "/git/", 5) == 0)
		return DOOR_GIT;
	if (strncmp(req->path, "/api/v1/agent/", 14) == 0)
		return DOOR_AGENT;
	return http_is_page_path(req->path) ? DOOR_PAGE : DOOR_API;
}

int auth_identify(struct http_req *req)
{
	const char *authz = http_header(req, "Authorization");
	const char *cookie = http_cookie(req, AUTH_COOKIE);
	struct dom_credential cr;
	const char *sent;
	int rc;

	if (authz) {
		if (strncasecmp(authz, "Basic ", 6) == 0 && strncmp(req->path, "/git/", 5) == 0)
			return identify_basic(req, authz + 6);
		if (strncasecmp(authz, "Bearer ", 7) != 0)
			return 0;
		if ((rc = dom_credential_token(&cr, req->arena, req->srv->db, authz + 7)) ||
		    (rc = recheck(req, &cr)))
			return rc;
		set_principal(req, &cr);
		return 0;
	}
	/* git takes tokens only: a browser's session never reaches a repository */
	if (!cookie || strncmp(req->path, "/git/", 5) == 0)
		return 0;
	if ((rc = dom_credential_session(&cr, req->arena, req->srv->db, cookie)) ||
	    (rc = recheck(req, &cr)))
		return rc;
	if (!cr.user_id)
		return 0;
	sent = http_header(req, AUTH_CSRF_HEADER);
	/*
	 * logging in again replaces the session, so it needs no token;
	 * page forms carry theirs in the body: auth_check_form_csrf()
	 */
	if (unsafe_method(req->method) && strcmp(req->path, "/api/v1/session") != 0 &&
	    !http_is_page_path(req->path) &&
	    (!sent || strlen(sent) != strlen(cr.csrf) || !crypto_equal(sent, cr.csrf, strlen(cr.csrf))))
		return err_set(OTCM_EFORBIDDEN, AUTH_CSRF_HEADER,
			       "a session request that changes state needs its CSRF token in the %s header",
			       AUTH_CSRF_HEADER);
	set_principal(req, &cr);
	return 0;
}

static bool token_equal(const char *sent, const char *csrf)
{
	return sent && strlen(sent) == strlen(csrf) && crypto_equal(sent, csrf, strlen(csrf));
}

int auth_check_form_csrf(struct http_req *req)
{
	const char *csrf = req->who.csrf_token, *sent = NULL;
	size_t i;

	/* bearer tokens, anonymous callers, reads, the API and the login form need nothing here */
	if (!csrf || !unsafe_method(req->method) || !http_is_page_path(req->path) ||
	    strcmp(req->path, "/login") == 0)
		return 0;
	if (token_equal(http_header(req, AUTH_CSRF_HEADER), csrf))
		return 0;
	for (i = 0; i < req->nparts; i++)
		if (req->parts[i].name && !req->parts[i].filename &&
		    strcmp(req->parts[i].name, "csrf_token") == 0)
			sent = req->parts[i].data;
	if (!sent)
		sent = form_get(req->form, "csrf_token");
	if (token_equal(sent, csrf))
		return 0;
	return err_set(OTCM_EFORBIDDEN, "csrf_token",
		       "this form has expired or did not come from otcm: reload the page and try again");
}

void auth_set_session_cookie(struct http_req *req, const struct dom_session *s)
{
	const struct config *cfg = req->srv->cfg;
	char cookie[256];

	snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%u%s",
		 AUTH_COOKIE, s->secret, cfg->session_ttl, req->srv->tls ? "; Secure" : "");
	http_set_header(req, "Set-Cookie", cookie);
}

void auth_clear_session_cookie(struct http_req *req)
{
	char clear[128];

	snprintf(clear, sizeof(clear), "%s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
		 AUTH_COOKIE, req->srv->tls ? "; Secure" : "");
	http_set_header(req, "Set-Cookie", clear);
}
