/*
 * server/auth.h - the session cookie and the CSRF header, shared by the
 * login handlers (the password policy is in domain/auth.h).
 */
#ifndef OTCM_SERVER_AUTH_H
#define OTCM_SERVER_AUTH_H

#define AUTH_COOKIE "otcm_session"
#define AUTH_CSRF_HEADER "X-CSRF-Token"
#define AUTH_LOGIN_COOKIE "otcm_login"   /* the login form's pre-session token */

struct dom_session;
struct http_req;

/*
 * For OTCM_ETHROTTLED and OTCM_ELOCKED refusals that recorded a wait
 * (err_retry_after()), answer it as Retry-After; anything else: nothing.
 */
void auth_reply_retry_after(struct http_req *req, int rc);

/* Set the cookie of the new session `s` (HttpOnly, SameSite=Strict, Secure over TLS). */
void auth_set_session_cookie(struct http_req *req, const struct dom_session *s);

/* Expire the session cookie. */
void auth_clear_session_cookie(struct http_req *req);

#endif
