/*
 * server/auth.c - who is calling: session cookies and bearer tokens, the
 * CSRF rule for cookie sessions, and the password policy.
 */
#include "server/auth.h"

#include <ctype.h>
#include <string.h>

#include "core/err.h"
#include "server/http.h"
#include "storage/users.h"
#include "web/form.h"

int auth_check_username(const char *username)
{
	size_t i, n = strlen(username);

	if (n < 2 || n > 63)
		return err_set(OTCM_EINVAL, "username", "username must be 2 to 63 characters");
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)username[i];

		if (!(islower(ch) || isdigit(ch) || (i > 0 && (ch == '.' || ch == '_' || ch == '-'))))
			return err_set(OTCM_EINVAL, "username",
				       "username may hold lowercase letters, digits, '.', '_' and '-' and must start with a letter or digit");
	}
	return 0;
}

int auth_check_password(const struct config *cfg, const char *username, const char *password)
{
	size_t i, n = strlen(password);
	bool varied = false;

	if (n < cfg->password_min_length)
		return err_set(OTCM_EINVAL, "password", "password must be at least %u characters",
			       cfg->password_min_length);
	if (n > 1024)
		return err_set(OTCM_EINVAL, "password", "password must be at most 1024 characters");
	if (username && strcasecmp(username, password) == 0)
		return err_set(OTCM_EINVAL, "password", "password must not be the username");
	for (i = 1; i < n; i++)
		if (password[i] != password[0])
			varied = true;
	if (!varied)
		return err_set(OTCM_EINVAL, "password", "password must not repeat one character");
	return 0;
}

int auth_hash_password(char out[CRYPTO_PASSWORD_HASH_MAX], const struct config *cfg,
		       const char *password)
{
	return crypto_password_hash(out, password, cfg->password_iterations);
}

static bool unsafe_method(const char *m)
{
	return strcmp(m, "GET") && strcmp(m, "HEAD") && strcmp(m, "OPTIONS");
}

/* Fill req->who from user u; disabled users stay anonymous. */
static void set_principal(struct http_req *req, const struct user *u)
{
	if (u->disabled)
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
		const char *csrf = NULL, *sent;

		crypto_sha256(digest, cookie, strlen(cookie));
		rc = sessions_find(&u, &csrf, req->arena, c, digest);
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
		if (req->who.user_id)
			req->who.csrf_token = csrf;
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
