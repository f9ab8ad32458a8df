/*
 * server/h_totp.c - one-time codes (RFC 6238): the REST door of
 * domain/auth.h's enrolment, confirmation and reset.
 *
 *   POST   /api/v1/totp              all but agent  start (or replace) enrolment:
 *                                                   {password, totp_code when codes are on}
 *   POST   /api/v1/totp/confirm      all but agent  {password, totp_code}: the first code enables it
 *   DELETE /api/v1/users/{id}/totp   admin          turn a user's codes off (lost device)
 */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "domain/auth.h"
#include "server/auth.h"
#include "server/handlers.h"

int h_totp_enrol(struct http_req *req)
{
	static const char *const fields[] = { "password", "totp_code", NULL };
	json_t *body = NULL, *out = NULL;
	const char *password = NULL, *code = NULL;
	int rc;

	if ((rc = h_body_json(&body, req)) || (rc = json_only_fields(body, fields)) ||
	    (rc = json_get_str(body, "password", true, &password)) ||
	    (rc = json_get_str(body, "totp_code", false, &code)))
		goto out;
	if ((rc = dom_totp_enrol(&out, &req->dom, password, code)))
		goto out;
	rc = http_reply_json(req, 201, out);
out:
	json_decref(body);
	return rc;
}

int h_totp_confirm(struct http_req *req)
{
	static const char *const fields[] = { "password", "totp_code", NULL };
	json_t *body = NULL;
	const char *password = NULL, *code = NULL;
	int rc;

	if ((rc = h_body_json(&body, req)) || (rc = json_only_fields(body, fields)) ||
	    (rc = json_get_str(body, "password", true, &password)) ||
	    (rc = json_get_str(body, "totp_code", true, &code)))
		goto out;
	if ((rc = dom_totp_confirm(&req->dom, password, code)))
		goto out;
	rc = http_reply_json(req, 200, json_pack("{s:b}", "enabled", 1));
out:
	json_decref(body);
	return rc;
}

int h_totp_reset(struct http_req *req)
{
	const char *sid = http_param(req, 0);
	char *end;
	long long id = strtoll(sid, &end, 10);
	int rc;

	if (*sid == '\0' || *end || id <= 0)
		return err_set(OTCM_EINVAL, "id", "user id '%.40s' is not a number", sid);
	if ((rc = dom_totp_reset(&req->dom, id)))
		return rc;
	return http_reply_empty(req, 204);
}
