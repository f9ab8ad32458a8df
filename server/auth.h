/*
 * server/auth.h - who is calling (session cookies and bearer tokens, the
 * CSRF rule for cookie sessions), for the dispatcher; the password policy
 * and the session cookie, shared by the login handlers, the bootstrap and
 * the command line.
 */
#ifndef OTCM_SERVER_AUTH_H
#define OTCM_SERVER_AUTH_H

#include "core/config.h"
#include "core/crypto.h"

struct http_req;

#define AUTH_COOKIE "otcm_session"
#define AUTH_CSRF_HEADER "X-CSRF-Token"

/*
 * Check a new password against the policy (length, not the username, not
 * all one character); OTCM_EINVAL naming "password" when it fails.
 */
int auth_check_password(const struct config *cfg, const char *username, const char *password);

/* Hash a new password at the configured cost. */
int auth_hash_password(char out[CRYPTO_PASSWORD_HASH_MAX], const struct config *cfg,
		       const char *password);

/* Is `username` a valid user name (lowercase letters, digits, . _ -; 2-63)? */
int auth_check_username(const char *username);

/*
 * Authenticate a request from its session cookie or bearer token: fills
 * req->who, or leaves it anonymous.  Bad or expired credentials simply stay
 * anonymous.  Errors: a failure to check (database down), and
 * OTCM_EFORBIDDEN for a state-changing request authenticated by a session
 * cookie without its CSRF token (header X-CSRF-Token); the dispatcher
 * answers either with http_reply_error.
 */
int auth_identify(struct http_req *req);

/*
 * The CSRF rule for web forms: a state-changing request to a page path
 * from a cookie session carries the session's token in the X-CSRF-Token
 * header or in a "csrf_token" form field (req->form or a multipart part).
 * auth_identify() leaves page paths to this check, which the dispatcher
 * runs once the body is read and before the handler; OTCM_EFORBIDDEN when
 * it fails.  POST /login is exempt, as the API's login is: it replaces the
 * session.
 */
int auth_check_form_csrf(struct http_req *req);

#endif
