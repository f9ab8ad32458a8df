/* domain/auth.c - the authentication policy; see auth.h. */
#include "domain/auth.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/crypto.h"
#include "core/err.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "core/totp.h"
#include "domain/directory.h"
#include "storage/changes.h"
#include "storage/users.h"

#define THROTTLE_MAX_US (60 * 1000000LL)
#define TOKEN_NAME_MAX 100
#define TOKEN_DAYS_MAX 3650
#define TOTP_ISSUER "otcm"

/* ---- the password policy ---- */

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

/* ---- failures, throttling and lockout ---- */

static long long seconds_until(int64_t until_us)
{
	long long s = (long long)((until_us - time_now_us() + 999999) / 1000000);

	return s > 0 ? s : 1;
}

/* The refusal of an attempt while the account or address must wait or is locked. */
static int refuse_waiting(int64_t locked_until_us, int64_t next_us, const char *username)
{
	if (locked_until_us > time_now_us()) {
		err_set(OTCM_ELOCKED, NULL, "account '%s' is locked after repeated failed logins",
			username);
		err_set_retry_after(seconds_until(locked_until_us));
		return OTCM_ELOCKED;
	}
	err_set(OTCM_ETHROTTLED, NULL, "too many failed logins: wait before trying again");
	err_set_retry_after(seconds_until(next_us));
	return OTCM_ETHROTTLED;
}

/* The wait after `failed` failures: 0 before the threshold, then 1 s doubling to 60 s. */
static int64_t wait_after(const struct config *cfg, int failed)
{
	unsigned step;

	if ((unsigned)failed < cfg->login_throttle_after)
		return 0;
	step = (unsigned)failed - cfg->login_throttle_after;
	return step >= 6 ? THROTTLE_MAX_US : (1000000LL << step);
}

/*
 * Count a failed attempt of user `u` (its row locked in c's open
 * transaction): the counters, the wait or the lock, and its audit event
 * `prefix`.failed (or `prefix`.locked), then commit.  `factor` names what
 * was wrong ("password" or "totp_code").  Returns the error to answer with.
 */
static int count_failure(const struct dom *d, struct db_conn *c, const struct user *u,
			 const char *prefix, const char *factor)
{
	const struct config *cfg = d->cfg;
	int failed = u->failed_logins + 1;
	int64_t now = time_now_us(), next = 0, lock = 0;
	json_t *after = NULL;
	int rc;

	if ((unsigned)failed >= cfg->login_lock_after)
		lock = now + (int64_t)cfg->login_lock_seconds * 1000000;
	else if (wait_after(cfg, failed))
		next = now + wait_after(cfg, failed);
	after = json_pack("{s:i, s:b}", "failed_logins", failed, "locked", lock != 0);
	if (strcmp(factor, "totp_code") == 0)
		json_object_set_new(after, "factor", json_string("totp_code"));
	if ((rc = users_set_login_state(c, u->id, failed, next, lock)) ||
	    (rc = dom_audit(d, c, arena_printf(d->arena, "%s.%s", prefix, lock ? "locked" : "failed"),
			    "user", u->username, NULL, after, NULL)) ||
	    (rc = dom_commit(c)))
		goto out;
	if (lock) {
		rc = err_set(OTCM_ELOCKED, NULL, "too many failed attempts: account '%s' is locked",
			     u->username);
		err_set_retry_after(seconds_until(lock));
	} else if (strcmp(factor, "totp_code") == 0) {
		rc = err_set(OTCM_EAUTH, "totp_code", "wrong one-time code");
	} else {
		rc = err_set(OTCM_EAUTH, "password", "wrong username or password");
	}
out:
	json_decref(after);
	return rc;
}

/* Audit a refused login in a transaction of its own and give back `rc` with its error. */
static int login_refused(const struct dom *d, const char *username, const char *reason, int rc)
{
	char *msg = arena_strdup(d->arena, err_message());
	char *field = err_field() ? arena_strdup(d->arena, err_field()) : NULL;
	long long retry = err_retry_after();

	dom_audit_alone(d, "session.login.refused", "user", username, NULL, NULL, reason);
	err_set(rc, field, "%s", msg);
	if (retry)
		err_set_retry_after(retry);
	return rc;
}

/* The actor `u`, for the events of a login (the request itself is anonymous). */
static void actor_of(struct actor *out, const struct dom *d, const struct user *u)
{
	*out = *d->who;
	out->user_id = u->id;
	out->username = u->username;
	out->display_name = u->display_name;
	out->role = role_from_name(u->role);
}

/* ---- the directory's say at a login ---- */

/*
 * A directory failure `rc` as its caller at a login or a signature sees it:
 * the detail (the directory's address, libldap's words) goes to the log for
 * the administrators, the caller gets a sentence that names no host.
 */
static int directory_failed(int rc)
{
	if (rc != OTCM_EUNAVAIL)
		return rc;
	log_msg(LOG_WARN, "directory login failed: %s", err_message());
	return err_set(OTCM_EUNAVAIL, NULL,
		       "the directory does not answer, so directory accounts cannot log in or sign "
		       "now: try again later (administrators: see the server's log)");
}

/*
 * May the directory user `du`, whose password was right, log in?  0, or
 * the refusal: OTCM_EAUTH naming "username" when the directory disabled
 * the account, OTCM_EFORBIDDEN when no group of --ldap-role-map holds it.
 */
static int directory_verdict(const struct dom_directory_user *du, const char *username)
{
	if (du->disabled)
		return err_set(OTCM_EAUTH, "username", "account '%s' is disabled in the directory",
			       username);
	if (!du->role)
		return err_set(OTCM_EFORBIDDEN, "username",
			       "'%s' is in no directory group that gives an otcm role: ask an "
			       "administrator (--ldap-role-map)", username);
	return 0;
}

/*
 * The directory no longer lets directory user `u` in (row locked in c's
 * open transaction): end its sessions and revoke its tokens with an audit
 * event naming `why`, uncommitted.
 */
static int directory_revoke(const struct dom *d, struct db_conn *c, const struct user *u,
			    const char *why)
{
	int64_t sessions = 0, tokens = 0;
	json_t *after = NULL;
	int rc;

	if ((rc = sessions_delete_user(&sessions, c, u->id)) ||
	    (rc = tokens_revoke_user(&tokens, c, u->id)))
		return rc;
	after = json_pack("{s:I, s:I}", "sessions_ended", (json_int_t)sessions, "tokens_revoked",
			  (json_int_t)tokens);
	rc = dom_audit(d, c, "user.directory.revoke", "user", u->username, NULL, after, why);
	json_decref(after);
	return rc;
}

/*
 * Directory user `u` (row locked in c's open transaction) logged in with
 * the right password and `du` is what the directory says now: keep the
 * record in step (role, name, e-mail, DN; audited when one changed) and
 * stamp the check.
 */
static int directory_sync(const struct dom *d, struct db_conn *c, struct user *u,
			  const struct dom_directory_user *du)
{
	json_t *before = NULL, *after = NULL;
	bool changed = strcmp(u->role, du->role) || strcmp(u->display_name, du->display_name) ||
		       !u->directory_dn || strcmp(u->directory_dn, du->dn) ||
		       (u->email ? !du->email || strcmp(u->email, du->email) : du->email != NULL);
	int rc;

	before = users_to_json(u);
	json_object_set_new(before, "directory_dn", json_string(u->directory_dn ? u->directory_dn : ""));
	if ((rc = users_set_directory(c, u->id, du->dn, du->role, du->display_name,
				      du->email ? du->email : "")) ||
	    (rc = users_by_id(u, d->arena, c, u->id, false)))
		goto out;
	if (changed) {
		after = users_to_json(u);
		json_object_set_new(after, "directory_dn", json_string(du->dn));
		json_object_set_new(after, "directory_group", json_string(du->group));
		rc = dom_audit(d, c, "user.update", "user", u->username, before, after,
			       "read from the directory at login");
	}
out:
	json_decref(before);
	json_decref(after);
	return rc;
}

/* A directory user's first login: the record, with its audit event, in c's transaction. */
static int directory_create(struct user *out, const struct dom *d, struct db_conn *c,
			    const char *username, const struct dom_directory_user *du)
{
	json_t *after = NULL;
	int64_t id = 0;
	int rc;

	if ((rc = users_insert_directory(&id, c, username, du->display_name, du->email, du->role,
					 du->dn)) ||
	    (rc = users_by_id(out, d->arena, c, id, true)))
		return rc;
	after = users_to_json(out);
	json_object_set_new(after, "directory_dn", json_string(du->dn));
	json_object_set_new(after, "directory_group", json_string(du->group));
	rc = dom_audit(d, c, "user.create", "user", username, NULL, after,
		       "first login through the directory");
	json_decref(after);
	return rc;
}

/* ---- sessions ---- */

/*
 * The second factor of user `u`, whose password was right, in c's open
 * transaction with its row locked: nothing to do without an enabled
 * enrolment (*out_auth "password"); else `code` must match a step not used
 * before, which is then consumed (*out_auth "password+totp").  A missing
 * or malformed code is refused; a wrong one is a failed login.  *cp is
 * NULL after a failure (rolled back or committed).
 */
static int login_second_factor(const char **out_auth, const struct dom *d, struct db_conn **cp,
			       const struct user *u, const char *code)
{
	struct totp_state t;
	int rc = totp_load(&t, *cp, u->id, true);

	if (rc == OTCM_ENOTFOUND || (rc == 0 && !t.enabled)) {
		err_clear();
		*out_auth = "password";
		return 0;
	}
	if (rc)
		return rc;
	if (!code || strspn(code, "0123456789") != strlen(code) || strlen(code) != TOTP_DIGITS) {
		dom_end(*cp);
		*cp = NULL;
		if (code)
			rc = err_set(OTCM_EINVAL, "totp_code", "'totp_code' must be six digits");
		else
			rc = err_set(OTCM_EAUTH, "totp_code",
				     "'totp_code' is required: this account uses one-time codes");
		return login_refused(d, u->username, code ? "malformed one-time code" : "one-time code missing", rc);
	}
	rc = totp_verify(&t.last_step, t.secret, t.secret_len, code, time_now_us() / 1000000);
	memset(t.secret, 0, sizeof(t.secret));
	if (rc == OTCM_EAUTH) {
		rc = count_failure(d, *cp, u, "session.login", "totp_code");
		dom_end(*cp);
		*cp = NULL;
		return rc;
	}
	if (rc)
		return rc;
	*out_auth = "password+totp";
	return totp_set(*cp, u->id, false, t.last_step);
}

/* A failed password from the client address: count it (own transaction). */
static int count_address_failure(int *out_failed, const struct dom *d, struct db_conn *c,
				 const char *addr)
{
	const struct config *cfg = d->cfg;

	return login_address_failed(out_failed, c, addr, cfg->login_lock_seconds,
				    cfg->login_address_throttle_after, THROTTLE_MAX_US);
}

int dom_session_login(struct dom_session *out, const struct dom *d, const char *username,
		      const char *password, const char *totp_code)
{
	const struct config *cfg = d->cfg;
	const char *addr = d->who && d->who->addr ? d->who->addr : "unknown";
	struct db_conn *c = NULL;
	struct user u;
	struct actor me;
	struct dom as_user;
	struct dom_directory_user du;
	bool found = false, right = false, via_dir = false, in_dir = false;
	int64_t now = time_now_us(), addr_next = 0;
	int addr_failed = 0, rc;
	unsigned char sid[32], digest[CRYPTO_SHA256_LEN];
	char csrf[65];
	const char *auth = NULL;
	json_t *after = NULL;

	memset(out, 0, sizeof(*out));
	memset(&du, 0, sizeof(du));
	if ((rc = dom_permit(d, OP_SESSION_LOGIN)))
		return rc;
	if (!username || !*username)
		return err_set(OTCM_EINVAL, "username", "'username' is required");
	if (strlen(username) > 63)
		return err_set(OTCM_EINVAL, "username", "'username' is at most 63 characters");
	if (!password || !*password)
		return err_set(OTCM_EINVAL, "password", "'password' is required");
	if (dom_directory_on(cfg)) {
		/* the directory compares names without case; otcm's names are lowercase */
		char *folded = arena_strdup(d->arena, username), *p;

		for (p = folded; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		username = folded;
	}

	/* read what decides whether to check at all, and let the connection go */
	if ((rc = dom_conn(&c, d)) ||
	    (rc = login_address_get(&addr_failed, &addr_next, c, addr, cfg->login_lock_seconds)))
		goto out;
	rc = users_by_name(&u, d->arena, c, username, false);
	if (rc == 0)
		found = true;
	else if (rc == OTCM_ENOTFOUND)
		err_clear();
	else
		goto out;
	dom_end(c);
	c = NULL;
	if (addr_next > now) {
		err_set(OTCM_ETHROTTLED, NULL,
			"too many failed logins from this address: wait before trying again");
		err_set_retry_after(seconds_until(addr_next));
		rc = login_refused(d, username, "too many attempts from this address", OTCM_ETHROTTLED);
		goto out;
	}
	if (found && (u.locked_until_us > now || u.next_login_us > now)) {
		rc = refuse_waiting(u.locked_until_us, u.next_login_us, u.username);
		rc = login_refused(d, u.username, rc == OTCM_ELOCKED ? "account locked" : "too many attempts", rc);
		goto out;
	}

	/*
	 * a local name is checked here only, never by the directory; an unknown
	 * name that could be an otcm name is asked of the directory
	 */
	if (found)
		via_dir = u.directory;
	else if (dom_directory_on(cfg))
		via_dir = auth_check_username(username) == 0;
	err_clear();
	if (via_dir && !dom_directory_on(cfg)) {
		rc = err_set(OTCM_EUNAVAIL, "username",
			     "'%s' logs in through the directory, and this server has none configured "
			     "(--ldap-url)", username);
		rc = login_refused(d, username, "no directory configured", rc);
		goto out;
	}

	/* the costly check, holding no pooled connection */
	if (via_dir) {
		rc = dom_directory_authenticate(&du, d, username, password);
		if (rc == 0) {
			right = in_dir = true;
		} else if (rc == OTCM_EAUTH) {
			in_dir = true;
			err_clear();
		} else if (rc == OTCM_ENOTFOUND) {
			err_clear();
		} else {
			rc = login_refused(d, username, rc == OTCM_EUNAVAIL ? "directory unavailable"
					   : "directory refused the search", directory_failed(rc));
			goto out;
		}
	} else if (!found) {
		char dummy[CRYPTO_PASSWORD_HASH_MAX];

		/* spend the same time as a real check so names cannot be probed by timing */
		if ((rc = crypto_password_hash(dummy, password, cfg->password_iterations)))
			goto out;
	} else {
		rc = crypto_password_verify(u.password_hash, password);
		if (rc && rc != OTCM_EAUTH)
			goto out;
		right = rc == 0;
		err_clear();
	}

	/* record the outcome */
	if ((rc = dom_begin(&c, d)))
		goto out;
	if (!found && !right) {
		if ((rc = count_address_failure(&addr_failed, d, c, addr)))
			goto out;
		after = json_pack("{s:s, s:i}", "username", username, "address_failures", addr_failed);
		if ((rc = dom_audit(d, c, "session.login.failed", "user", username, NULL, after,
				    in_dir ? "wrong directory password" : "unknown user")) ||
		    (rc = dom_commit(c)))
			goto out;
		rc = err_set(OTCM_EAUTH, "password", "wrong username or password");
		goto out;
	}
	if (!found) {
		/* the first login of a directory user: it appears now, if the directory lets it in */
		if ((rc = directory_verdict(&du, username))) {
			dom_end(c);
			c = NULL;
			rc = login_refused(d, username, du.disabled ? "disabled in the directory"
					   : "in no mapped directory group", rc);
			goto out;
		}
		if ((rc = directory_create(&u, d, c, username, &du)))
			goto out;
	} else {
		/* the row again, locked: another attempt may have failed while we checked */
		if ((rc = users_by_id(&u, d->arena, c, u.id, true)))
			goto out;
		now = time_now_us();
		if (u.locked_until_us > now || u.next_login_us > now) {
			dom_end(c);
			c = NULL;
			rc = refuse_waiting(u.locked_until_us, u.next_login_us, u.username);
			rc = login_refused(d, u.username, rc == OTCM_ELOCKED ? "account locked" : "too many attempts", rc);
			goto out;
		}
	}
	if (!right) {
		/* gone from the directory: what it holds here ends too */
		if (via_dir && !in_dir && (rc = directory_revoke(d, c, &u, "no longer in the directory")))
			goto out;
		if ((rc = count_address_failure(&addr_failed, d, c, addr)))
			goto out;
		rc = count_failure(d, c, &u, "session.login", "password");
		goto out;
	}
	if (via_dir && found && directory_verdict(&du, u.username)) {
		const char *why = du.disabled ? "disabled in the directory" : "in no mapped directory group";

		if ((rc = directory_revoke(d, c, &u, why)) || (rc = dom_commit(c)))
			goto out;
		dom_end(c);
		c = NULL;
		rc = directory_verdict(&du, u.username);
		rc = login_refused(d, u.username, why, rc);
		goto out;
	}
	if (via_dir && found && (rc = directory_sync(d, c, &u, &du)))
		goto out;
	if (u.disabled) {
		dom_end(c);
		c = NULL;
		rc = err_set(OTCM_EAUTH, "username", "account '%s' is disabled", u.username);
		rc = login_refused(d, u.username, "account disabled", rc);
		goto out;
	}
	if ((rc = login_second_factor(&auth, d, &c, &u, totp_code)))
		goto out;
	if (u.failed_logins || u.locked_until_us || u.next_login_us)
		if ((rc = users_set_login_state(c, u.id, 0, 0, 0)))
			goto out;
	if ((rc = crypto_random(sid, sizeof(sid))) || (rc = crypto_random_hex(csrf, 32)))
		goto out;
	crypto_hex(out->secret, sid, sizeof(sid));
	crypto_sha256(digest, out->secret, strlen(out->secret));
	out->expires_us = now + (int64_t)cfg->session_ttl * 1000000;
	if ((rc = sessions_insert(c, digest, u.id, csrf, out->expires_us, d->who ? d->who->addr : NULL,
				  auth)))
		goto out;
	/* the event names the user who logged in: the request itself is still anonymous */
	actor_of(&me, d, &u);
	me.auth = auth;
	as_user = *d;
	as_user.who = &me;
	after = json_pack("{s:s, s:s}", "auth", auth, "source", u.directory ? "directory" : "local");
	if ((rc = dom_audit(&as_user, c, "session.login", "user", u.username, NULL, after, NULL)) ||
	    (rc = dom_commit(c)))
		goto out;
	out->csrf_token = arena_strdup(d->arena, csrf);
	out->auth = auth;
	out->user = users_to_json(&u);
out:
	if (rc)
		memset(out->secret, 0, sizeof(out->secret));
	json_decref(after);
	dom_end(c);
	return rc;
}

int dom_session_logout(const struct dom *d, const char *secret)
{
	unsigned char digest[CRYPTO_SHA256_LEN];
	struct db_conn *c = NULL;
	int rc;

	if ((rc = dom_permit(d, OP_SESSION_LOGOUT)))
		return rc;
	if (!secret || d->who->token_id)
		return err_set(OTCM_EINVAL, "otcm_session",
			       "no login session to end (API tokens are revoked with DELETE /api/v1/tokens/{id})");
	crypto_sha256(digest, secret, strlen(secret));
	if ((rc = dom_begin(&c, d)) || (rc = sessions_delete(c, digest)) ||
	    (rc = dom_audit(d, c, "session.logout", "user", d->who->username, NULL, NULL, NULL)))
		goto out;
	rc = dom_commit(c);
out:
	dom_end(c);
	return rc;
}

int dom_session_read(json_t **out, const struct dom *d)
{
	struct db_conn *c = NULL;
	struct user u;
	json_t *o;
	int rc;

	if ((rc = dom_permit(d, OP_SESSION_READ)))
		return rc;
	if ((rc = dom_conn(&c, d)) || (rc = users_by_id(&u, d->arena, c, d->who->user_id, false)))
		goto out;
	o = json_object();
	json_object_set_new(o, "user", users_to_json(&u));
	json_object_set_new(o, "via", json_string(d->who->token_id ? "token" : "session"));
	json_object_set_new(o, "auth", json_string(d->who->auth ? d->who->auth : "token"));
	*out = o;
out:
	dom_end(c);
	return rc;
}

/* ---- API tokens ---- */

int dom_token_create(json_t **out, const struct dom *d, const char *name, int64_t expires_in_days)
{
	json_t *after = NULL;
	struct db_conn *c = NULL;
	int64_t id = 0, expires = 0;
	unsigned char digest[CRYPTO_SHA256_LEN];
	char secret[65], token[80], sid[32];
	int rc;

	if ((rc = dom_permit(d, OP_TOKEN_CREATE)))
		return rc;
	if (!name || !*name || strlen(name) > TOKEN_NAME_MAX)
		return err_set(OTCM_EINVAL, "name", "'name' must be 1 to %d characters", TOKEN_NAME_MAX);
	if (expires_in_days < 0 || expires_in_days > TOKEN_DAYS_MAX)
		return err_set(OTCM_EINVAL, "expires_in_days", "'expires_in_days' must be 0 (never) to %d",
			       TOKEN_DAYS_MAX);
	if (expires_in_days)
		expires = time_now_us() + expires_in_days * 86400 * 1000000LL;
	if ((rc = crypto_random_hex(secret, 32)))
		return rc;
	snprintf(token, sizeof(token), "otcm_%s", secret);
	crypto_sha256(digest, token, strlen(token));
	if ((rc = dom_begin(&c, d)) ||
	    (rc = tokens_insert(&id, c, d->who->user_id, name, digest, expires)))
		goto out;
	snprintf(sid, sizeof(sid), "%" PRId64, id);
	after = json_pack("{s:I,s:s,s:I}", "id", (json_int_t)id, "name", name, "expires_in_days",
			  (json_int_t)expires_in_days);
	if ((rc = dom_audit(d, c, "token.create", "token", sid, NULL, after, NULL)) ||
	    (rc = dom_commit(c)))
		goto out;
	*out = json_pack("{s:I,s:s,s:s,s:s}", "id", (json_int_t)id, "name", name, "token", token,
			 "note", "store this token now: it is not shown again");
out:
	memset(token, 0, sizeof(token));
	json_decref(after);
	dom_end(c);
	return rc;
}

int dom_token_list(json_t **out, const struct dom *d)
{
	struct db_conn *c = NULL;
	int rc;

	if ((rc = dom_permit(d, OP_TOKEN_LIST)))
		return rc;
	if ((rc = dom_conn(&c, d)))
		return rc;
	rc = tokens_list(out, c, d->who->user_id);
	dom_end(c);
	return rc;
}

int dom_token_revoke(const struct dom *d, int64_t id)
{
	struct db_conn *c = NULL;
	char sid[32];
	int rc;

	if ((rc = dom_permit(d, OP_TOKEN_REVOKE)))
		return rc;
	if (id <= 0)
		return err_set(OTCM_EINVAL, "id", "token id must be a positive number");
	snprintf(sid, sizeof(sid), "%" PRId64, id);
	/* an administrator may revoke anyone's token; others only their own */
	if ((rc = dom_begin(&c, d)) ||
	    (rc = tokens_revoke(c, id, d->who->role == ROLE_ADMIN ? 0 : d->who->user_id)) ||
	    (rc = dom_audit(d, c, "token.revoke", "token", sid, NULL, NULL, NULL)))
		goto out;
	rc = dom_commit(c);
out:
	dom_end(c);
	return rc;
}

/* ---- one-time codes ---- */

int dom_totp_enrol(json_t **out, const struct dom *d, const char *password, const char *current_code)
{
	unsigned char secret[TOTP_SECRET_LEN];
	char b32[TOTP_BASE32_MAX], *uri = NULL;
	struct db_conn *c = NULL;
	const char *method = NULL;
	json_t *after = NULL;
	int rc;

	if ((rc = dom_permit(d, OP_TOTP_ENROL)))
		return rc;
	if ((rc = crypto_random(secret, sizeof(secret))) ||
	    (rc = totp_base32(b32, sizeof(b32), secret, sizeof(secret))))
		goto out;
	if ((rc = dom_begin(&c, d)) || (rc = dom_reauth(&method, d, c, password, current_code)))
		goto out;
	/* codes on: the one just given proved the old device, the new secret replaces it */
	if (strcmp(method, "password+totp") == 0 && (rc = totp_delete(c, d->who->user_id)))
		goto out;
	if ((rc = totp_store_pending(c, d->who->user_id, secret, sizeof(secret))))
		goto out;
	after = json_pack("{s:b}", "replaces_enabled_codes", strcmp(method, "password+totp") == 0);
	if ((rc = dom_audit(d, c, "totp.enrol", "user", d->who->username, NULL, after, NULL)) ||
	    (rc = dom_commit(c)))
		goto out;
	uri = totp_uri(TOTP_ISSUER, d->who->username, b32);
	*out = json_pack("{s:s, s:s, s:s}", "secret", b32, "provisioning_uri", uri, "note",
			 "confirm with your password and a first code at POST /api/v1/totp/confirm");
out:
	if (rc)
		rc = dom_refused(d, &c, "totp.enrol.refused", "user", d->who->username, rc);
	memset(secret, 0, sizeof(secret));
	free(uri);
	json_decref(after);
	dom_end(c);
	return rc;
}

int dom_totp_confirm(const struct dom *d, const char *password, const char *code)
{
	struct db_conn *c = NULL;
	struct totp_state t;
	const char *method = NULL;
	int rc;

	memset(&t, 0, sizeof(t));
	if ((rc = dom_permit(d, OP_TOTP_CONFIRM)))
		return rc;
	if (!code)
		return err_set(OTCM_EINVAL, "totp_code", "'totp_code' is required");
	if ((rc = dom_begin(&c, d)))
		goto out;
	rc = totp_load(&t, c, d->who->user_id, true);
	if (rc == OTCM_ENOTFOUND)
		rc = err_set(OTCM_ENOTFOUND, NULL, "no enrolment to confirm: POST /api/v1/totp first");
	if (rc)
		goto out;
	if (t.enabled) {
		rc = err_set(OTCM_ECONFLICT, "totp_code", "one-time codes are already enabled");
		goto out;
	}
	/* pending codes are not yet a factor: the password alone re-authenticates */
	if ((rc = dom_reauth(&method, d, c, password, NULL)))
		goto out;
	if ((rc = totp_verify(&t.last_step, t.secret, t.secret_len, code, time_now_us() / 1000000)))
		goto out;
	if ((rc = totp_set(c, d->who->user_id, true, t.last_step)) ||
	    (rc = dom_audit(d, c, "totp.enable", "user", d->who->username, NULL, NULL, NULL)))
		goto out;
	rc = dom_commit(c);
out:
	memset(t.secret, 0, sizeof(t.secret));
	if (rc)
		rc = dom_refused(d, &c, "totp.confirm.refused", "user", d->who->username, rc);
	dom_end(c);
	return rc;
}

int dom_totp_reset(const struct dom *d, int64_t user_id)
{
	struct db_conn *c = NULL;
	struct user u;
	char sid[32];
	int rc;

	if ((rc = dom_permit(d, OP_TOTP_RESET)))
		return rc;
	snprintf(sid, sizeof(sid), "%" PRId64, user_id);
	if ((rc = dom_begin(&c, d)) || (rc = users_by_id(&u, d->arena, c, user_id, true)))
		goto out;
	rc = totp_delete(c, user_id);
	if (rc == OTCM_ENOTFOUND)
		rc = err_set(OTCM_ENOTFOUND, NULL, "user '%s' has no one-time codes to reset", u.username);
	if (rc || (rc = dom_audit(d, c, "totp.reset", "user", u.username, NULL, NULL,
				  "reset by an administrator")))
		goto out;
	rc = dom_commit(c);
out:
	dom_end(c);
	return rc;
}

int dom_totp_status(const char **out, const struct dom *d)
{
	struct db_conn *c = NULL;
	struct totp_state t;
	int rc;

	*out = "none";
	if ((rc = dom_permit(d, OP_TOTP_ENROL)))
		return rc;
	if ((rc = dom_conn(&c, d)))
		return rc;
	rc = totp_load(&t, c, d->who->user_id, false);
	dom_end(c);
	memset(t.secret, 0, sizeof(t.secret));
	if (rc == OTCM_ENOTFOUND) {
		err_clear();
		return 0;
	}
	if (rc)
		return rc;
	*out = t.enabled ? "enabled" : "pending";
	return 0;
}

/* ---- re-authentication ---- */

/*
 * Count a failed re-authentication of the actor so that it survives the
 * caller's failure: the caller's transaction on `c` is rolled back (the
 * operation fails anyway), the failure is counted and committed on the same
 * connection, and a fresh, empty transaction is opened for the caller to
 * end.  No second pooled connection: with every connection held by a
 * signer, waiting for another would wait forever.  Returns the error to
 * answer with.
 */
static int reauth_failed(const struct dom *d, struct db_conn *c, const char *factor)
{
	struct user u;
	int rc;

	if ((rc = db_rollback(c)) || (rc = db_begin(c)) ||
	    (rc = users_by_id(&u, d->arena, c, d->who->user_id, true)))
		return rc;
	rc = count_failure(d, c, &u, "session.reauth", factor);
	if (rc == OTCM_EAUTH && strcmp(factor, "password") == 0)
		rc = err_set(OTCM_EAUTH, "password",
			     "wrong password: a signature needs the signer's password");
	if (rc != OTCM_EAUTH && rc != OTCM_ELOCKED)
		(void)db_rollback(c);   /* counting failed before its commit */
	/* the caller ends a transaction; should this fail, ending it releases a broken connection */
	(void)db_begin(c);
	return rc;
}

/*
 * The password of directory user `u` again, asked of the directory, which
 * must still give the user the role it acts with: a user removed from the
 * group, disabled, or given another role since the login signs nothing.
 */
static int reauth_directory(const struct dom *d, struct db_conn *c, const struct user *u,
			    const char *password)
{
	struct dom_directory_user du;
	int rc;

	if (!dom_directory_on(d->cfg))
		return err_set(OTCM_EUNAVAIL, "password",
			       "'%s' signs through the directory, and this server has none configured",
			       u->username);
	rc = dom_directory_authenticate(&du, d, u->username, password);
	if (rc == OTCM_EAUTH)
		return reauth_failed(d, c, "password");
	if (rc == OTCM_ENOTFOUND)
		return err_set(OTCM_EFORBIDDEN, "username", "'%s' is no longer in the directory",
			       u->username);
	if (rc)
		return directory_failed(rc);
	if ((rc = directory_verdict(&du, u->username)))
		return rc;
	if (strcmp(du.role, u->role) != 0)
		return err_set(OTCM_EFORBIDDEN, "username",
			       "the directory now gives '%s' the role %s: log in again to act with it",
			       u->username, du.role);
	return 0;
}

int dom_reauth(const char **out_method, const struct dom *d, struct db_conn *c,
	       const char *password, const char *totp_code)
{
	struct totp_state t;
	struct user u;
	int64_t now = time_now_us();
	int rc;

	memset(&t, 0, sizeof(t));
	if (!password || !*password)
		return err_set(OTCM_EINVAL, "password", "'password' is required");
	if ((rc = users_by_id(&u, d->arena, c, d->who->user_id, false)))
		return rc;
	if (u.locked_until_us > now || u.next_login_us > now)
		return refuse_waiting(u.locked_until_us, u.next_login_us, u.username);
	if (u.directory) {
		if ((rc = reauth_directory(d, c, &u, password)))
			return rc;
	} else {
		rc = crypto_password_verify(u.password_hash, password);
		if (rc == OTCM_EAUTH)
			return reauth_failed(d, c, "password");
		if (rc)
			return rc;
	}
	rc = totp_load(&t, c, u.id, true);
	if (rc == OTCM_ENOTFOUND || (rc == 0 && !t.enabled)) {
		err_clear();
		*out_method = "password";
		goto reset;
	}
	if (rc)
		return rc;
	if (!totp_code) {
		memset(t.secret, 0, sizeof(t.secret));
		return err_set(OTCM_EAUTH, "totp_code", "'totp_code' is required: this account uses one-time codes");
	}
	rc = totp_verify(&t.last_step, t.secret, t.secret_len, totp_code, now / 1000000);
	memset(t.secret, 0, sizeof(t.secret));
	if (rc == OTCM_EAUTH)
		return reauth_failed(d, c, "totp_code");
	if (rc)
		return rc;
	if ((rc = totp_set(c, u.id, false, t.last_step)))
		return rc;
	*out_method = "password+totp";
reset:
	/* a success forgets earlier failures, as a login does */
	if (u.failed_logins)
		return users_set_login_state(c, u.id, 0, 0, 0);
	return 0;
}

/* Keep `u` in *out unless its account may not act now. */
static void credential_of(struct dom_credential *out, const struct user *u)
{
	if (u->disabled || u->locked_until_us > time_now_us())
		return;
	out->user_id = u->id;
	out->username = u->username;
	out->display_name = u->display_name;
	out->role = role_from_name(u->role);
	out->directory = u->directory;
	out->directory_checked_us = u->directory_checked_us;
}

int dom_credential_token(struct dom_credential *out, struct arena *a, struct db_pool *db,
			 const char *secret)
{
	unsigned char digest[CRYPTO_SHA256_LEN];
	struct user u;
	int64_t token_id = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	crypto_sha256(digest, secret, strlen(secret));
	rc = tokens_find(&u, &token_id, a, db, digest);
	if (rc == OTCM_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	credential_of(out, &u);
	if (out->user_id)
		out->token_id = token_id;
	return 0;
}

int dom_credential_session(struct dom_credential *out, struct arena *a, struct db_pool *db,
			   const char *secret)
{
	unsigned char digest[CRYPTO_SHA256_LEN];
	struct db_conn *c = NULL;
	const char *csrf = NULL, *how = NULL;
	struct user u;
	int rc;

	memset(out, 0, sizeof(*out));
	crypto_sha256(digest, secret, strlen(secret));
	if ((rc = db_acquire(&c, db)))
		return rc;
	rc = sessions_find(&u, &csrf, &how, a, c, digest);
	db_release(c);
	if (rc == OTCM_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	credential_of(out, &u);
	if (out->user_id) {
		out->csrf = csrf;
		out->auth = how;
	}
	return 0;
}

int dom_credential_recheck(struct dom_credential *cr, const struct dom *d)
{
	struct dom_directory_user du;
	struct db_conn *c = NULL;
	struct user u;
	const char *why = NULL;
	json_t *before = NULL, *after = NULL;
	int64_t sessions = 0, tokens = 0;
	int found, rc;

	if (!cr->user_id || !cr->directory)
		return 0;
	/* nothing can vouch for a directory user while the server has no directory */
	if (!dom_directory_on(d->cfg)) {
		cr->user_id = 0;
		return 0;
	}
	if (time_now_us() - cr->directory_checked_us < (int64_t)d->cfg->ldap_recheck_seconds * 1000000)
		return 0;
	found = dom_directory_authenticate(&du, d, cr->username, NULL);
	if (found == 0 && du.disabled)
		why = "disabled in the directory";
	else if (found == 0 && !du.role)
		why = "in no mapped directory group";
	else if (found == OTCM_ENOTFOUND)
		why = "no longer in the directory";
	else if (found)
		log_msg(LOG_WARN, "could not check directory user '%s' again, trusting the last check: %s",
			cr->username, err_message());
	err_clear();
	if ((rc = dom_begin(&c, d)) || (rc = users_by_id(&u, d->arena, c, cr->user_id, true)))
		goto out;
	if (why) {
		if ((rc = sessions_delete_user(&sessions, c, u.id)) ||
		    (rc = tokens_revoke_user(&tokens, c, u.id)))
			goto out;
		after = json_pack("{s:I, s:I}", "sessions_ended", (json_int_t)sessions, "tokens_revoked",
				  (json_int_t)tokens);
		if ((rc = dom_audit(d, c, "user.directory.revoke", "user", u.username, NULL, after, why)))
			goto out;
	} else if (found == 0 && strcmp(du.role, u.role) != 0) {
		before = users_to_json(&u);
		if ((rc = users_set_directory(c, u.id, du.dn, du.role, NULL, NULL)) ||
		    (rc = users_by_id(&u, d->arena, c, u.id, false)))
			goto out;
		after = users_to_json(&u);
		json_object_set_new(after, "directory_group", json_string(du.group));
		if ((rc = dom_audit(d, c, "user.update", "user", u.username, before, after,
				    "read from the directory again")))
			goto out;
	} else if ((rc = users_set_directory(c, u.id, found == 0 ? du.dn : u.directory_dn, NULL, NULL,
					     NULL))) {
		goto out;
	}
	if ((rc = dom_commit(c)))
		goto out;
	if (why)
		cr->user_id = 0;
	else
		cr->role = role_from_name(u.role);
out:
	json_decref(before);
	json_decref(after);
	dom_end(c);
	return rc;
}
