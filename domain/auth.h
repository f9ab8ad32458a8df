/*
 * domain/auth.h - the authentication policy: the password policy, logging
 * in and out, API tokens, one-time codes (TOTP), failed-login throttling
 * and lockout, and re-authentication at the moment of signing.
 *
 * Failed attempts slow down and then lock the account, whether they were
 * made at a login or when re-entering the password (or one-time code) for
 * a signature, an enrolment or a release: after --login-throttle-after
 * failures each further attempt must wait (1 s, doubling, at most 60 s:
 * OTCM_ETHROTTLED); after --login-lock-after failures the account locks for
 * --login-lock-seconds (OTCM_ELOCKED).  Failed logins from one client
 * address, whatever the user name (unknown names too), slow that address
 * down after --login-address-throttle-after failures; the count restarts
 * once the address stayed quiet for --login-lock-seconds.  An address is
 * never locked out: a shared plant network would lock everyone.  While an
 * attempt must wait, the password is not even checked.  With those two
 * codes err_retry_after() says how many seconds to wait.
 *
 * A locked or disabled account can do nothing through the sessions and
 * tokens it already holds: server/auth.c treats their requests as
 * anonymous.
 *
 * Every attempt, good or bad, is an audit event committed on its own.
 *
 * Thread-safety: per context.
 */
#ifndef OTCM_DOMAIN_AUTH_H
#define OTCM_DOMAIN_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "core/crypto.h"
#include "domain/domain.h"
#include "storage/db.h"

/* ---- the password policy ---- */

/*
 * Is `username` a valid user name (lowercase letters, digits, '.', '_', '-';
 * starting with a letter or digit; 2 to 63 characters)?  OTCM_EINVAL naming
 * "username" when not.
 */
int auth_check_username(const char *username);

/*
 * Check a new password against the policy (length, not the username, not
 * all one character); OTCM_EINVAL naming "password" when it fails.
 */
int auth_check_password(const struct config *cfg, const char *username, const char *password);

/* Hash a new password at the configured cost (PBKDF2-HMAC-SHA256). */
int auth_hash_password(char out[CRYPTO_PASSWORD_HASH_MAX], const struct config *cfg,
		       const char *password);

/* ---- sessions ---- */

/* A new login session. */
struct dom_session {
	char secret[65];            /* the cookie value (hex); only its SHA-256 is stored */
	const char *csrf_token;     /* in d->arena */
	const char *auth;           /* "password" or "password+totp" (static text) */
	int64_t expires_us;
	json_t *user;               /* the user as public JSON; owned by the caller */
};

/* Who a bearer token or a session cookie stands for. */
struct dom_credential {
	int64_t user_id;             /* 0: nobody (unknown, expired, disabled or locked) */
	const char *username;
	const char *display_name;
	unsigned role;               /* enum role */
	int64_t token_id;            /* a bearer token's id, else 0 */
	const char *csrf;            /* a session's CSRF token, else NULL */
	const char *auth;            /* a session's "password" or "password+totp", else NULL */
	bool directory;              /* a directory user: dom_credential_recheck() applies */
	int64_t directory_checked_us; /* when the directory last confirmed the user */
};

/*
 * The caller behind bearer token `secret` (found by its SHA-256): *out is
 * filled, or left with user_id 0 when the token is unknown, revoked or
 * expired, or its account is disabled or locked — a locked account can do
 * nothing through credentials it got before.  Strings live in `a`.
 * Errors: only a failure to look (the database's code).
 */
int dom_credential_token(struct dom_credential *out, struct arena *a, struct db_pool *db,
			 const char *secret);

/* The same for session id `secret` (a session cookie's value). */
int dom_credential_session(struct dom_credential *out, struct arena *a, struct db_pool *db,
			   const char *secret);

/*
 * Not an operation (credentials are checked before any operation runs):
 * when `cr` holds a directory user whom the directory
 * last confirmed more than --ldap-recheck-seconds ago, ask it again.  Gone,
 * disabled or in no mapped group: every session and token of the user ends
 * (audited as user.directory.revoke) and *cr becomes nobody (user_id 0).
 * Another role: the record takes it (audited as user.update) and so does
 * *cr.  A directory that does not answer leaves *cr as it was until the
 * next interval (logged): the plant keeps working through an outage of
 * the directory with what it last said.  With no directory configured a
 * directory user's credentials are nobody's.  Errors: only a failure of the
 * database.
 */
int dom_credential_recheck(struct dom_credential *cr, const struct dom *d);

/*
 * Log in as `username` with `password`, and `totp_code` when the account
 * enrolled one-time codes.  The password hash is computed with no pooled
 * connection held.  On success *out is filled and the session stored.
 * Errors: OTCM_EINVAL (missing or malformed input, naming the field),
 * OTCM_EAUTH naming "password" (unknown user or wrong password: the same
 * sentence), "totp_code" (missing or wrong code) or "username" (disabled
 * account), OTCM_ETHROTTLED and OTCM_ELOCKED (with err_retry_after()).
 */
int dom_session_login(struct dom_session *out, const struct dom *d, const char *username,
		      const char *password, const char *totp_code);

/*
 * End the session whose cookie value is `secret`.  OTCM_EINVAL naming
 * "otcm_session" when the caller holds no session (a bearer token).
 */
int dom_session_logout(const struct dom *d, const char *secret);

/*
 * The caller: {user, via: "session" | "token", auth}; *out is the
 * caller's.
 */
int dom_session_read(json_t **out, const struct dom *d);

/* ---- API tokens ---- */

/*
 * Issue a token named `name` (1 to 100 characters) for the caller, expiring
 * after `expires_in_days` (0: never; at most 3650).  *out (the caller's)
 * holds {id, name, token, note}: the secret is shown this once.
 */
int dom_token_create(json_t **out, const struct dom *d, const char *name, int64_t expires_in_days);

/* The caller's tokens as a JSON array (no secrets); *out is the caller's. */
int dom_token_list(json_t **out, const struct dom *d);

/*
 * Revoke token `id`: the caller's own, or anyone's for an administrator.
 * OTCM_ENOTFOUND when there is no such live token of theirs.
 */
int dom_token_revoke(const struct dom *d, int64_t id);

/* ---- one-time codes ---- */

/*
 * Start enrolling one-time codes for the caller, who gives the password
 * again and, when codes are already on, a current code (the new secret
 * then replaces the old one, and codes are off until it is confirmed).
 * *out (the caller's) holds {secret, provisioning_uri, note}.  Errors as
 * dom_reauth().
 */
int dom_totp_enrol(json_t **out, const struct dom *d, const char *password, const char *current_code);

/*
 * Turn one-time codes on with the password again and a first `code` of the
 * pending secret.  OTCM_ENOTFOUND without a pending enrolment,
 * OTCM_ECONFLICT when codes are already on, OTCM_EAUTH for a wrong password
 * or code.
 */
int dom_totp_confirm(const struct dom *d, const char *password, const char *code);

/*
 * An administrator turns off the one-time codes of user `user_id` (who
 * lost the device), so the user can enrol again.  OTCM_ENOTFOUND when the
 * user does not exist or never enrolled.
 */
int dom_totp_reset(const struct dom *d, int64_t user_id);

/* The caller's enrolment: "none", "pending" or "enabled" (static text). */
int dom_totp_status(const char **out, const struct dom *d);

/* ---- re-authentication ---- */

/*
 * Re-authenticate the actor for a signature, a release or an enrolment:
 * `password` must be the actor's own, and `totp_code` a fresh one-time code
 * when the actor enrolled one (the code's step is remembered on `c`, so it
 * cannot be used twice).  *out_method gets "password" or "password+totp"
 * (static text).  A wrong password or code counts as a failed login,
 * committed in a transaction of its own on `c`: the caller's transaction is
 * rolled back first (the caller fails anyway) and `c` is left with a fresh,
 * empty one for the caller to end.  The account throttles and locks on the
 * same thresholds as logins, and while it must wait or is locked nothing
 * is checked.
 * Errors: OTCM_EINVAL naming "password" when it is missing, OTCM_EAUTH
 * naming "password" or "totp_code" when one is wrong or missing,
 * OTCM_ETHROTTLED and OTCM_ELOCKED (with err_retry_after()).
 */
int dom_reauth(const char **out_method, const struct dom *d, struct db_conn *c,
	       const char *password, const char *totp_code);

#endif
