/*
 * domain/users.h - user administration: create, list, read and change
 * users (role, display name, e-mail, password reset, disable, enable,
 * unlock).  Users are never deleted: the audit trail names them.
 *
 * A password reset and disabling an account end every session and revoke
 * every API token of the user, in the same transaction as the change and
 * its audit event: enabling the account again brings none of them back.
 *
 * Thread-safety: per context.
 */
#ifndef OTCM_DOMAIN_USERS_H
#define OTCM_DOMAIN_USERS_H

#include <stdbool.h>
#include <stdint.h>

#include "domain/domain.h"

/* A new user; every string borrowed. */
struct dom_user_new {
	const char *username;       /* required: auth_check_username() */
	const char *display_name;   /* required, 1 to 200 characters */
	const char *email;          /* may be NULL; at most 200 characters */
	const char *role;           /* required: admin, engineer, qa, approver, auditor, agent */
	const char *password;       /* required: auth_check_password() */
	bool first_admin;           /* the first start's break-glass administrator: created
				       whatever the directory holds or whether it answers */
};

/* A change to a user: NULL (or -1) keeps a field as it is. */
struct dom_user_change {
	const char *display_name;   /* 1 to 200 characters */
	const char *email;          /* "" clears it */
	const char *role;
	const char *password;       /* a reset: ends the user's sessions and tokens */
	int disabled;               /* 1 disable (ends sessions and tokens), 0 enable, -1 keep */
	bool unlock;                /* clear failed logins, throttling and a lock */
};

/*
 * Create a local user; *out (the caller's) is the user as public JSON.
 * With a directory configured the directory is asked first: a name it
 * holds is refused (OTCM_ERULE, rule "directory-name", audited), and a
 * directory that does not answer is OTCM_EUNAVAIL.
 * Errors: OTCM_EINVAL naming the field, OTCM_ECONFLICT naming "username"
 * when the name is taken.
 */
int dom_user_create(json_t **out, const struct dom *d, const struct dom_user_new *in);

/* All users as a JSON array (no secrets); *out is the caller's. */
int dom_user_list(json_t **out, const struct dom *d);

/* User `id` as public JSON; OTCM_ENOTFOUND when there is none. */
int dom_user_read(json_t **out, const struct dom *d, int64_t id);

/*
 * Change user `id`; *out (the caller's) is the user after the change.
 * A directory user's password and role belong to the directory (OTCM_ERULE,
 * rule "directory-user", audited).
 * Administrators cannot demote or disable themselves (OTCM_ERULE, rule
 * "keep-an-administrator", audited).  Errors: OTCM_EINVAL naming the field,
 * OTCM_ENOTFOUND.
 */
int dom_user_update(json_t **out, const struct dom *d, int64_t id, const struct dom_user_change *ch);

/* The id of user `username`, for doors that name users (the command line). */
int dom_user_id(int64_t *out, const struct dom *d, const char *username);

#endif
