/*
 * server/h_session.c - logging in and out, and API tokens: the REST door
 * of domain/auth.h, which holds the policy (second factor, throttling,
 * lockout, audit events).
 *
 *   POST   /api/v1/session        public   log in: sets the session cookie
 *   GET    /api/v1/session        any      who is logged in, and how
 *   DELETE /api/v1/session        any      log out
 *   POST   /api/v1/tokens         any      issue an API token, shown once
 *   GET    /api/v1/tokens         any      the caller's tokens
 *   DELETE /api/v1/tokens/{id}    any      revoke a token
 */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/timeutil.h"
#include "domain/auth.h"
#include "server/auth.h"
#include "server/handlers.h"

int h_session_create(struct http_req *req)
{
	static const char *const fields[] = { "username", "password", "totp_code", NULL };
	json_t *body = NULL, *out = NULL;
	const char *username, *password, *code = NULL;
	struct dom_session s;
	char t[TIME_RFC3339_LEN];
	int rc;

	memset(&s, 0, sizeof(s));
	if ((rc = h_body_json(&body, req)) || (rc = json_only_fields(body, fields)) ||
	    (rc = json_get_str(body, "username", true, &username)) ||
	    (rc = json_get_str(body, "password", true, &password)) ||
	    (rc = json_get_str(body, "totp_code", false, &code)))
		goto out;
	if ((rc = dom_session_login(&s, &req->dom, username, password, code)))
		goto out;
	auth_set_session_cookie(req, &s);
	time_format_rfc3339(t, s.expires_us);
	out = json_pack("{s:o, s:s, s:s, s:s}", "user", s.user, "csrf_token", s.csrf_token,
			"expires_at", t, "auth", s.auth);
	s.user = NULL;
	rc = http_reply_json(req, 200, out);
out:
	memset(s.secret, 0, sizeof(s.secret));
	json_decref(s.user);
	json_decref(body);
	return rc;
}

int h_session_delete(struct http_req *req)
{
	int rc = dom_session_logout(&req->dom, req->who.csrf_token ? http_cookie(req, AUTH_COOKIE) : NULL);

	if (rc)
		return rc;
	auth_clear_session_cookie(req);
	return http_reply_empty(req, 204);
}

int h_session_get(struct http_req *req)
{
	json_t *out = NULL;
	int rc;

	if ((rc = dom_session_read(&out, &req->dom)))
		return rc;
	if (req->who.csrf_token)
		json_object_set_new(out, "csrf_token", json_string(req->who.csrf_token));
	return http_reply_json(req, 200, out);
}

int h_tokens_create(struct http_req *req)
{
	static const char *const fields[] = { "name", "expires_in_days", NULL };
	json_t *body = NULL, *out = NULL;
	const char *name;
	int64_t days = 0;
	int rc;

	if ((rc = h_body_json(&body, req)) || (rc = json_only_fields(body, fields)) ||
	    (rc = json_get_str(body, "name", true, &name)) ||
	    (rc = json_get_int(body, "expires_in_days", false, &days)) ||
	    (rc = dom_token_create(&out, &req->dom, name, days)))
		goto out;
	rc = http_reply_json(req, 201, out);
out:
	json_decref(body);
	return rc;
}

int h_tokens_list(struct http_req *req)
{
	json_t *list = NULL;
	int rc = dom_token_list(&list, &req->dom);

	if (rc)
		return rc;
	return http_reply_json(req, 200, json_pack("{s:o}", "items", list));
}

int h_tokens_delete(struct http_req *req)
{
	const char *sid = http_param(req, 0);
	char *end;
	long long id = strtoll(sid, &end, 10);
	int rc;

	if (*sid == '\0' || *end || id <= 0)
		return err_set(OTCM_EINVAL, "id", "token id '%.40s' is not a number", sid);
	if ((rc = dom_token_revoke(&req->dom, id)))
		return rc;
	return http_reply_empty(req, 204);
}
