/*
 * server/auth.h - who is calling (session cookies and bearer tokens, the
 * CSRF rule for cookie sessions), for the dispatcher; the session cookie
 * and the CSRF header, shared by the login handlers (the password policy
 * is in domain/auth.h).
 */
#ifndef OTCM_SERVER_AUTH_H
#define OTCM_SERVER_AUTH_H

#include "domain/actor.h"

#define AUTH_COOKIE "otcm_session"
#define AUTH_CSRF_HEADER "X-CSRF-Token"
#define AUTH_LOGIN_COOKIE "otcm_login"   /* the login form's pre-session token */

struct dom_session;
struct http_req;

/* Set the cookie of the new session `s` (HttpOnly, SameSite=Strict, Secure over TLS). */
void auth_set_session_cookie(struct http_req *req, const struct dom_session *s);

/* Expire the session cookie. */
void auth_clear_session_cookie(struct http_req *req);

/*
 * Authenticate a request from its session cookie or bearer token (on
 * /git/ paths: HTTP Basic with a user name and that user's API token, or a
 * bearer token; never a session cookie): fills
 * req->who, or leaves it anonymous.  Bad or expired credentials simply stay
 * anonymous.  Errors: a failure to check (database down), and
 * OTCM_EFORBIDDEN for a state-changing request authenticated by a session
 * cookie without its CSRF token (header X-CSRF-Token); the dispatcher
 * answers either with http_reply_error.
 */
int auth_identify(struct http_req *req);

/*
 * The door a request comes through, by its path: /git/ is git's,
 * /api/v1/agent/ the collection agent's, page paths the pages', the rest
 * the REST API's.
 */
enum door auth_door(const struct http_req *req);

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
