/*
 * server/h_session.c - logging in and out, and API tokens.
 *
 * An account that enrolled one-time codes (POST /api/v1/totp) must also
 * give "totp_code" at login, checked as for signatures: RFC 6238 with one
 * step either side, and a step once used (at a login or a signature) is
 * never accepted again.  A wrong code counts as a failed login.
 *
 * Failed logins slow down and then lock the account: after
 * --login-throttle-after failures each further attempt must wait (1 s,
 * doubling, at most 60 s: 429 with Retry-After); after --login-lock-after
 * failures the account locks for --login-lock-seconds (423).  While an
 * account must wait or is locked, the password is not even checked.  Every
 * attempt, good or bad, is an audit event committed on its own.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/err.h"
#include "core/timeutil.h"
#include "core/totp.h"
#include "server/auth.h"
#include "server/handlers.h"
#include "server/svc.h"
#include "storage/changes.h"
#include "storage/users.h"

#define THROTTLE_MAX_US (60 * 1000000LL)

static void set_retry_after(struct http_req *req, int64_t until_us)
{
	char v[32];
	int64_t secs = (until_us - time_now_us() + 999999) / 1000000;

	snprintf(v, sizeof(v), "%" PRId64, secs > 0 ? secs : 1);
	http_set_header(req, "Retry-After", v);
}

/*
 * Bookkeeping after a wrong password, or a wrong one-time code when
 * `wrong_code`; returns the error to answer with.
 */
static int login_failed(struct http_req *req, struct db_conn *c, const struct user *u,
			bool wrong_code)
{
	const struct config *cfg = req->srv->cfg;
	int failed = u->failed_logins + 1;
	int64_t now = time_now_us(), next = 0, lock = 0;
	json_t *after = json_object();
	int rc;

	if ((unsigned)failed >= cfg->login_lock_after) {
		lock = now + (int64_t)cfg->login_lock_seconds * 1000000;
	} else if ((unsigned)failed >= cfg->login_throttle_after) {
		unsigned step = (unsigned)failed - cfg->login_throttle_after;

		next = now + (step >= 6 ? THROTTLE_MAX_US : (1000000LL << step));
	}
	json_object_set_new(after, "failed_logins", json_integer(failed));
	json_object_set_new(after, "locked", json_boolean(lock != 0));
	if (wrong_code)
		json_object_set_new(after, "factor", json_string("totp_code"));
	rc = users_set_login_state(c, u->id, failed, next, lock);
	if (rc == 0) {
		rc = svc_audit(req, c, lock ? "session.login.locked" : "session.login.failed", "user",
			       u->username, NULL, after);
	}
	if (rc == 0)
		rc = svc_commit(c);
	json_decref(after);
	if (rc)
		return rc;
	if (lock) {
		set_retry_after(req, lock);
		return err_set(OTCM_ELOCKED, NULL, "too many failed logins: account '%s' is locked",
			       u->username);
	}
	if (wrong_code)
		return err_set(OTCM_EAUTH, "totp_code", "wrong one-time code");
	return err_set(OTCM_EAUTH, "password", "wrong username or password");
}

/*
 * The second factor of user `u`, whose password was right, in c's open
 * transaction: nothing to do without an enabled enrolment; else `code` must
 * match a step not used before, which is then consumed.  A missing or
 * malformed code is refused (audited, c rolled back and *cp ended); a wrong
 * one is a failed login.
 */
static int login_second_factor(struct http_req *req, struct db_conn **cp, const struct user *u,
			       const char *code)
{
	struct totp_state t;
	int rc = totp_load(&t, *cp, u->id, true);

	if (rc == OTCM_ENOTFOUND || (rc == 0 && !t.enabled)) {
		err_clear();
		return 0;
	}
	if (rc)
		return rc;
	if (!code || strspn(code, "0123456789") != strlen(code) || strlen(code) != TOTP_DIGITS) {
		svc_end(*cp);
		*cp = NULL;
		svc_audit_alone(req, "session.login.refused", "user", u->username, NULL, NULL,
				code ? "malformed one-time code" : "one-time code missing");
		if (code)
			return err_set(OTCM_EINVAL, "totp_code", "'totp_code' must be six digits");
		return err_set(OTCM_EAUTH, "totp_code",
			       "'totp_code' is required: this account uses one-time codes");
	}
	rc = totp_verify(&t.last_step, t.secret, t.secret_len, code, time_now_us() / 1000000);
	if (rc == OTCM_EAUTH)
		return login_failed(req, *cp, u, true);
	if (rc)
		return rc;
	return totp_set(*cp, u->id, false, t.last_step);
}

int h_session_create(struct http_req *req)
{
	static const char *const fields[] = { "username", "password", "totp_code", NULL };
	const struct config *cfg = req->srv->cfg;
	json_t *body = NULL, *out = NULL, *after = NULL;
	struct db_conn *c = NULL;
	const char *username, *password, *code = NULL;
	struct user u;
	unsigned char sid[32], digest[CRYPTO_SHA256_LEN];
	char sid_hex[65], csrf[65], cookie[256], t[TIME_RFC3339_LEN];
	int64_t now = time_now_us(), expires;
	int rc;

	if ((rc = svc_body_json(&body, req)) || (rc = json_only_fields(body, fields)) ||
	    (rc = json_get_str(body, "username", true, &username)) ||
	    (rc = json_get_str(body, "password", true, &password)) ||
	    (rc = json_get_str(body, "totp_code", false, &code)))
		goto out;
	if ((rc = svc_begin(&c, req)))
		goto out;
	rc = users_by_name(&u, req->arena, c, username, true);
	if (rc == OTCM_ENOTFOUND) {
		char dummy[CRYPTO_PASSWORD_HASH_MAX];

		/* spend the same time as a real check so names cannot be probed by timing */
		crypto_password_hash(dummy, password, cfg->password_iterations);
		svc_end(c);
		c = NULL;
		after = json_pack("{s:s}", "username", username);
		svc_audit_alone(req, "session.login.failed", "user", username, NULL, after,
				"unknown user");
		rc = err_set(OTCM_EAUTH, "password", "wrong username or password");
		goto out;
	}
	if (rc)
		goto out;
	if (u.locked_until_us > now) {
		svc_end(c);
		c = NULL;
		svc_audit_alone(req, "session.login.refused", "user", u.username, NULL, NULL,
				"account locked");
		set_retry_after(req, u.locked_until_us);
		rc = err_set(OTCM_ELOCKED, NULL, "account '%s' is locked after repeated failed logins",
			     u.username);
		goto out;
	}
	if (u.next_login_us > now) {
		svc_end(c);
		c = NULL;
		svc_audit_alone(req, "session.login.refused", "user", u.username, NULL, NULL,
				"too many attempts");
		set_retry_after(req, u.next_login_us);
		rc = err_set(OTCM_ETHROTTLED, NULL, "too many failed logins: wait before trying again");
		goto out;
	}
	rc = crypto_password_verify(u.password_hash, password);
	if (rc == OTCM_EAUTH) {
		rc = login_failed(req, c, &u, false);
		goto out;
	}
	if (rc)
		goto out;
	if (u.disabled) {
		svc_end(c);
		c = NULL;
		svc_audit_alone(req, "session.login.refused", "user", u.username, NULL, NULL,
				"account disabled");
		rc = err_set(OTCM_EAUTH, "username", "account '%s' is disabled", u.username);
		goto out;
	}
	if ((rc = login_second_factor(req, &c, &u, code)))
		goto out;
	if (u.failed_logins || u.locked_until_us || u.next_login_us)
		if ((rc = users_set_login_state(c, u.id, 0, 0, 0)))
			goto out;
	if ((rc = crypto_random(sid, sizeof(sid))) || (rc = crypto_random_hex(csrf, 32)))
		goto out;
	crypto_hex(sid_hex, sid, sizeof(sid));
	crypto_sha256(digest, sid_hex, strlen(sid_hex));
	expires = now + (int64_t)cfg->session_ttl * 1000000;
	if ((rc = sessions_insert(c, digest, u.id, csrf, expires, req->remote_addr)))
		goto out;
	/* the event names the actor explicitly: the request itself is still anonymous */
	req->who.user_id = u.id;
	req->who.username = u.username;
	req->who.role = role_from_name(u.role);
	if ((rc = svc_audit(req, c, "session.login", "user", u.username, NULL, NULL)) ||
	    (rc = svc_commit(c)))
		goto out;
	snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%u%s",
		 AUTH_COOKIE, sid_hex, cfg->session_ttl, req->srv->tls ? "; Secure" : "");
	http_set_header(req, "Set-Cookie", cookie);
	time_format_rfc3339(t, expires);
	out = json_object();
	json_object_set_new(out, "user", users_to_json(&u));
	json_object_set_new(out, "csrf_token", json_string(csrf));
	json_object_set_new(out, "expires_at", json_string(t));
	rc = http_reply_json(req, 200, out);
	out = NULL;
out:
	svc_end(c);
	json_decref(body);
	json_decref(after);
	json_decref(out);
	return rc;
}

int h_session_delete(struct http_req *req)
{
	const char *cookie = http_cookie(req, AUTH_COOKIE);
	unsigned char digest[CRYPTO_SHA256_LEN];
	struct db_conn *c = NULL;
	char clear[128];
	int rc;

	if (!cookie || !req->who.csrf_token)
		return err_set(OTCM_EINVAL, AUTH_COOKIE, "no login session to end (API tokens are revoked with DELETE /api/v1/tokens/{id})");
	crypto_sha256(digest, cookie, strlen(cookie));
	if ((rc = svc_begin(&c, req)) || (rc = sessions_delete(c, digest)) ||
	    (rc = svc_audit(req, c, "session.logout", "user", req->who.username, NULL, NULL)) ||
	    (rc = svc_commit(c)))
		goto out;
	snprintf(clear, sizeof(clear), "%s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
		 AUTH_COOKIE, req->srv->tls ? "; Secure" : "");
	http_set_header(req, "Set-Cookie", clear);
	rc = http_reply_empty(req, 204);
out:
	svc_end(c);
	return rc;
}

int h_session_get(struct http_req *req)
{
	struct db_conn *c = NULL;
	struct user u;
	json_t *out;
	int rc;

	if ((rc = svc_conn(&c, req)) || (rc = users_by_id(&u, req->arena, c, req->who.user_id, false)))
		goto out;
	out = json_object();
	json_object_set_new(out, "user", users_to_json(&u));
	json_object_set_new(out, "via", json_string(req->who.token_id ? "token" : "session"));
	if (req->who.csrf_token)
		json_object_set_new(out, "csrf_token", json_string(req->who.csrf_token));
	rc = http_reply_json(req, 200, out);
out:
	svc_end(c);
	return rc;
}

int h_tokens_create(struct http_req *req)
{
	static const char *const fields[] = { "name", "expires_in_days", NULL };
	json_t *body = NULL, *after = NULL, *out;
	struct db_conn *c = NULL;
	const char *name;
	int64_t days = 0, id = 0, expires = 0;
	unsigned char digest[CRYPTO_SHA256_LEN];
	char secret[65], token[80], sid[32];
	int rc;

	if ((rc = svc_body_json(&body, req)) || (rc = json_only_fields(body, fields)) ||
	    (rc = json_get_str(body, "name", true, &name)) ||
	    (rc = json_get_int(body, "expires_in_days", false, &days)))
		goto out;
	if (strlen(name) > 100) {
		rc = err_set(OTCM_EINVAL, "name", "'name' must be at most 100 characters");
		goto out;
	}
	if (days < 0 || days > 3650) {
		rc = err_set(OTCM_EINVAL, "expires_in_days", "'expires_in_days' must be 0 (never) to 3650");
		goto out;
	}
	if (days)
		expires = time_now_us() + days * 86400 * 1000000LL;
	if ((rc = crypto_random_hex(secret, 32)))
		goto out;
	snprintf(token, sizeof(token), "otcm_%s", secret);
	crypto_sha256(digest, token, strlen(token));
	if ((rc = svc_begin(&c, req)) ||
	    (rc = tokens_insert(&id, c, req->who.user_id, name, digest, expires)))
		goto out;
	snprintf(sid, sizeof(sid), "%" PRId64, id);
	after = json_pack("{s:I,s:s,s:I}", "id", (json_int_t)id, "name", name, "expires_in_days",
			  (json_int_t)days);
	if ((rc = svc_audit(req, c, "token.create", "token", sid, NULL, after)) || (rc = svc_commit(c)))
		goto out;
	out = json_pack("{s:I,s:s,s:s,s:s}", "id", (json_int_t)id, "name", name, "token", token,
			"note", "store this token now: it is not shown again");
	rc = http_reply_json(req, 201, out);
out:
	svc_end(c);
	json_decref(body);
	json_decref(after);
	return rc;
}

int h_tokens_list(struct http_req *req)
{
	struct db_conn *c = NULL;
	json_t *list = NULL;
	int rc;

	if ((rc = svc_conn(&c, req)) || (rc = tokens_list(&list, c, req->who.user_id)))
		goto out;
	rc = http_reply_json(req, 200, json_pack("{s:o}", "items", list));
out:
	svc_end(c);
	return rc;
}

int h_tokens_delete(struct http_req *req)
{
	struct db_conn *c = NULL;
	const char *sid = http_param(req, 0);
	char *end;
	long long id = strtoll(sid, &end, 10);
	int rc;

	if (*end || id <= 0)
		return err_set(OTCM_EINVAL, "id", "token id '%s' is not a number", sid);
	/* an administrator may revoke anyone's token; others only their own */
	if ((rc = svc_begin(&c, req)) ||
	    (rc = tokens_revoke(c, id, req->who.role == ROLE_ADMIN ? 0 : req->who.user_id)) ||
	    (rc = svc_audit(req, c, "token.revoke", "token", sid, NULL, NULL)) || (rc = svc_commit(c)))
		goto out;
	rc = http_reply_empty(req, 204);
out:
	svc_end(c);
	return rc;
}
