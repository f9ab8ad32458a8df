/*
 * storage/users.h - users, login sessions and API tokens.
 *
 * Secrets never reach the database in the clear: passwords as PBKDF2
 * hashes (core/crypto.h), session ids and API tokens as SHA-256 digests.
 * Every function runs on the caller's connection; writes belong in the
 * caller's transaction together with their audit event.
 *
 * Errors: OTCM_ENOTFOUND, OTCM_ECONFLICT (duplicate username), OTCM_EDB.
 */
#ifndef OTCM_STORAGE_USERS_H
#define OTCM_STORAGE_USERS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/json.h"
#include "storage/db.h"

struct user {
	int64_t id;
	const char *username;
	const char *display_name;
	const char *email;           /* may be NULL */
	const char *role;
	const char *password_hash;   /* NULL for directory users */
	bool disabled;
	int failed_logins;
	int64_t next_login_us;       /* 0 = none */
	int64_t locked_until_us;     /* 0 = not locked */
	int64_t created_us;
	bool directory;              /* logs in through the directory (no password_hash) */
	const char *directory_dn;    /* its entry at the last check; NULL for local users */
	int64_t directory_checked_us; /* when the directory last confirmed it; 0 = never */
};

/* Insert a user; *out_id gets the new id.  OTCM_ECONFLICT if the name is taken. */
int users_insert(int64_t *out_id, struct db_conn *c, const char *username,
		 const char *display_name, const char *email, const char *role,
		 const char *password_hash);

/*
 * Insert a user who logs in through the directory: no password here, its
 * entry's `dn`, checked now.  OTCM_ECONFLICT if the name is taken.
 */
int users_insert_directory(int64_t *out_id, struct db_conn *c, const char *username,
			   const char *display_name, const char *email, const char *role,
			   const char *dn);

/*
 * What the directory said of directory user `id` at a check: its entry's
 * `dn`, and its role, display name and e-mail ("" clears it) where not
 * NULL; stamps the check's time.  OTCM_ENOTFOUND when `id` is no
 * directory user.
 */
int users_set_directory(struct db_conn *c, int64_t id, const char *dn, const char *role,
			const char *display_name, const char *email);

/*
 * Load by name or id into *out (strings from `a`).  for_update locks the
 * row until the transaction ends (login bookkeeping).
 */
int users_by_name(struct user *out, struct arena *a, struct db_conn *c, const char *username,
		  bool for_update);
int users_by_id(struct user *out, struct arena *a, struct db_conn *c, int64_t id, bool for_update);

/* Number of users (bootstrap: is this the first start?). */
int users_count(int64_t *out, struct db_conn *c);

/*
 * All users as JSON (no secrets), ordered by username, each with "totp":
 * whether one-time codes are on.
 */
int users_list(json_t **out, struct db_conn *c);

/* A user as public JSON (no secrets). */
json_t *users_to_json(const struct user *u);

/* Record a failed login: counters, throttle time and lock time (server clock). */
int users_set_login_state(struct db_conn *c, int64_t id, int failed, int64_t next_login_us,
			  int64_t locked_until_us);

/*
 * Change display name, e-mail ("" clears it), role, disabled flag or lock
 * (NULL or negative: keep).  `unlock` also clears the failure count and
 * any wait.
 */
int users_update(struct db_conn *c, int64_t id, const char *display_name, const char *email,
		 const char *role, int disabled, bool unlock);

int users_set_password(struct db_conn *c, int64_t id, const char *password_hash);

/*
 * Sessions: store the digest of a new session id with its CSRF token and
 * how it was opened (`auth`: "password" or "password+totp").
 */
int sessions_insert(struct db_conn *c, const unsigned char id_hash[32], int64_t user_id,
		    const char *csrf_token, int64_t expires_us, const char *source, const char *auth);

/*
 * Find a live session by digest: *out_user gets its owner, *out_csrf its
 * CSRF token, *out_auth how it was opened (strings in `a`).
 * OTCM_ENOTFOUND when absent or expired.
 */
int sessions_find(struct user *out_user, const char **out_csrf, const char **out_auth,
		  struct arena *a, struct db_conn *c, const unsigned char id_hash[32]);
int sessions_delete(struct db_conn *c, const unsigned char id_hash[32]);

/* End every session of a user; *out_count gets how many there were. */
int sessions_delete_user(int64_t *out_count, struct db_conn *c, int64_t user_id);

/* Revoke every live API token of a user; *out_count gets how many. */
int tokens_revoke_user(int64_t *out_count, struct db_conn *c, int64_t user_id);

/* Forget a user's one-time code enrolment.  OTCM_ENOTFOUND when there is none. */
int totp_delete(struct db_conn *c, int64_t user_id);

/*
 * Failed logins from client address `address` within the last
 * `quiet_seconds` (*out_failed, 0 when none) and the time before which no
 * attempt from it is checked (*out_next_us, 0 when none).
 */
int login_address_get(int *out_failed, int64_t *out_next_us, struct db_conn *c,
		      const char *address, unsigned quiet_seconds);

/*
 * Count one more failed login from `address` (restarting the count after
 * `quiet_seconds` without failures); from `throttle_after` failures on,
 * the address must wait 1 s, doubling with each failure, at most
 * `max_wait_us`.  *out_failed gets the new count.
 */
int login_address_failed(int *out_failed, struct db_conn *c, const char *address,
			 unsigned quiet_seconds, unsigned throttle_after, int64_t max_wait_us);

/* API tokens. */
int tokens_insert(int64_t *out_id, struct db_conn *c, int64_t user_id, const char *name,
		  const unsigned char token_hash[32], int64_t expires_us);

/*
 * The owner of a live (unrevoked, unexpired) token into *out_user (strings
 * in `a`; its password hash, e-mail and login counters are left empty) and
 * the token's id; stamps last_used_at at most once a minute.  Answered
 * from the pool's credential cache when it holds the token (no database
 * round trip), read from the database and kept there otherwise
 * (storage/credcache.h).  OTCM_ENOTFOUND for an unknown, revoked or
 * expired token.
 */
int tokens_find(struct user *out_user, int64_t *out_token_id, struct arena *a,
		struct db_pool *pool, const unsigned char token_hash[32]);
/* Tokens of a user as JSON (no secrets). */
int tokens_list(json_t **out, struct db_conn *c, int64_t user_id);

/* Revoke token `id` of `user_id` (admin: user_id 0 = any). */
int tokens_revoke(struct db_conn *c, int64_t id, int64_t user_id);

/* ---- one-time code (TOTP) enrolments ---- */

struct totp_state {
	unsigned char secret[64];
	size_t secret_len;
	bool enabled;
	int64_t last_step;
};
/* OTCM_ENOTFOUND when the user never enrolled; for_update locks the row. */
int totp_load(struct totp_state *out, struct db_conn *c, int64_t user_id, bool for_update);
/* Start (or restart, while not yet enabled) an enrolment; OTCM_ECONFLICT once enabled. */
int totp_store_pending(struct db_conn *c, int64_t user_id, const unsigned char *secret, size_t len);
/* Remember the last time step used (no code is taken twice) and, with `enable`, turn codes on. */
int totp_set(struct db_conn *c, int64_t user_id, bool enable, int64_t last_step);

#endif
