/*
 * server/h_totp.c - enrolling one-time codes (RFC 6238) for the caller.
 *
 *   POST /api/v1/totp                         all but agent: start enrolment
 *   POST /api/v1/totp/confirm                 all but agent: first code enables it
 */
#include <stdlib.h>

#include "core/crypto.h"
#include "core/err.h"
#include "core/timeutil.h"
#include "core/totp.h"
#include "server/handlers.h"
#include "server/svc.h"
#include "storage/users.h"

#define TOTP_ISSUER "otcm"

int h_totp_enrol(struct http_req *req)
{
	unsigned char secret[TOTP_SECRET_LEN];
	char b32[TOTP_BASE32_MAX], *uri = NULL;
	struct db_conn *c = NULL;
	json_t *out;
	int rc;

	if ((rc = crypto_random(secret, sizeof(secret))) ||
	    (rc = totp_base32(b32, sizeof(b32), secret, sizeof(secret))))
		return rc;
	if ((rc = svc_begin(&c, req)) || (rc = totp_store_pending(c, req->who.user_id, secret, sizeof(secret))) ||
	    (rc = svc_audit(req, c, "totp.enrol", "user", req->who.username, NULL, NULL)) ||
	    (rc = svc_commit(c)))
		goto out;
	uri = totp_uri(TOTP_ISSUER, req->who.username, b32);
	out = json_pack("{s:s, s:s, s:s}", "secret", b32, "provisioning_uri", uri, "note",
			"confirm with a first code at POST /api/v1/totp/confirm");
	rc = http_reply_json(req, 201, out);
out:
	free(uri);
	svc_end(c);
	return rc;
}

int h_totp_confirm(struct http_req *req)
{
	static const char *const fields[] = { "totp_code", NULL };
	json_t *body = NULL;
	struct db_conn *c = NULL;
	struct totp_state t;
	const char *code;
	int rc;

	if ((rc = svc_body_json(&body, req)) || (rc = json_only_fields(body, fields)) ||
	    (rc = json_get_str(body, "totp_code", true, &code)))
		goto out;
	if ((rc = svc_begin(&c, req)))
		goto out;
	rc = totp_load(&t, c, req->who.user_id, true);
	if (rc == OTCM_ENOTFOUND)
		rc = err_set(OTCM_ENOTFOUND, NULL, "no enrolment to confirm: POST /api/v1/totp first");
	if (rc)
		goto out;
	if (t.enabled) {
		rc = err_set(OTCM_ECONFLICT, "totp_code", "one-time codes are already enabled");
		goto out;
	}
	if ((rc = totp_verify(&t.last_step, t.secret, t.secret_len, code, time_now_us() / 1000000))) {
		rc = chg_refused(req, &c, "totp.confirm.refused", "user", req->who.username, rc);
		goto out;
	}
	if ((rc = totp_set(c, req->who.user_id, true, t.last_step)) ||
	    (rc = svc_audit(req, c, "totp.enable", "user", req->who.username, NULL, NULL)) ||
	    (rc = svc_commit(c)))
		goto out;
	rc = http_reply_json(req, 200, json_pack("{s:b}", "enabled", 1));
out:
	svc_end(c);
	json_decref(body);
	return rc;
}
