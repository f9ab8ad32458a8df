/*
 * server/auth.c - who is calling: session cookies and bearer tokens, and
 * the CSRF rule for cookie sessions.  The authentication policy itself
 * (passwords, lockout, one-time codes) is domain/auth.h's.
 *
 * A locked or disabled account is anonymous, whatever session or token it
 * holds: its requests get 401 (pages send it to the login form, which
 * says why), so an account locked by failed attempts cannot go on signing
 * or issuing tokens through a session it opened before.
 */
#include "server/auth.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "core/timeutil.h"
#include "domain/auth.h"
#include "server/http.h"
#include "storage/users.h"
#include "web/form.h"

static bool unsafe_method(const char *m)
{
	return strcmp(m, "GET") && strcmp(m, "HEAD") && strcmp(m, "OPTIONS");
}

/* Fill req->who from user u; disabled and locked users stay anonymous. */
static void set_principal(struct http_req *req, const struct user *u)
{
	if (u->disabled || u->locked_until_us > time_now_us())
		return;
	req->who.user_id = u->id;
	req->who.username = u->username;
	req->who.display_name = u->display_name;
	req->who.role = role_from_name(u->role);
}

int auth_identify(struct http_req *req)
{
	const char *authz = http_header(req, "Authorization");
	const char *cookie = http_cookie(req, AUTH_COOKIE);
	struct db_conn *c = NULL;
	unsigned char digest[CRYPTO_SHA256_LEN];
	struct user u;
	int64_t token_id = 0;
	int rc = 0;

	if (!authz && !cookie)
		return 0;
	if ((rc = db_acquire(&c, req->srv->db)))
		goto out;
	if (authz) {
		if (strncasecmp(authz, "Bearer ", 7) != 0)
			goto out;
		crypto_sha256(digest, authz + 7, strlen(authz + 7));
		rc = tokens_find(&u, &token_id, req->arena, c, digest);
		if (rc == OTCM_ENOTFOUND) {
			rc = 0;
			goto out;
		}
		if (rc)
			goto out;
		set_principal(req, &u);
		if (req->who.user_id)
			req->who.token_id = token_id;
	} else {
		const char *csrf = NULL, *sent, *how = NULL;

		crypto_sha256(digest, cookie, strlen(cookie));
		rc = sessions_find(&u, &csrf, &how, req->arena, c, digest);
		if (rc == OTCM_ENOTFOUND) {
			rc = 0;
			goto out;
		}
		if (rc)
			goto out;
		sent = http_header(req, AUTH_CSRF_HEADER);
		/*
		 * logging in again replaces the session, so it needs no token;
		 * page forms carry theirs in the body: auth_check_form_csrf()
		 */
		if (unsafe_method(req->method) && strcmp(req->path, "/api/v1/session") != 0 &&
		    !http_is_page_path(req->path) &&
		    (!sent || strlen(sent) != strlen(csrf) || !crypto_equal(sent, csrf, strlen(csrf)))) {
			rc = err_set(OTCM_EFORBIDDEN, AUTH_CSRF_HEADER,
				     "a session request that changes state needs its CSRF token in the %s header",
				     AUTH_CSRF_HEADER);
			goto out;
		}
		set_principal(req, &u);
		if (req->who.user_id) {
			req->who.csrf_token = csrf;
			req->who.auth = how;
		}
	}
out:
	db_release(c);
	return rc;
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

void auth_reply_retry_after(struct http_req *req, int rc)
{
	char v[32];

	if ((rc != OTCM_ETHROTTLED && rc != OTCM_ELOCKED) || err_retry_after() <= 0)
		return;
	snprintf(v, sizeof(v), "%lld", err_retry_after());
	http_set_header(req, "Retry-After", v);
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
