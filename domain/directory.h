/*
 * domain/directory.h - logging in through the plant's LDAP or Active
 * Directory: who the directory says a user is, which otcm role the groups
 * give, and the administrators' view of the settings with a test lookup.
 *
 * The directory is asked with search-then-bind: otcm's service account
 * finds exactly one entry for the login name (--ldap-user-base,
 * --ldap-user-filter), asks each group of --ldap-role-map in order whether
 * the entry is a member (through nested groups too with
 * --ldap-nested-groups yes, on Active Directory), and only then binds as
 * the entry with the password given.  The first mapped group the user is
 * in gives the role; a user in none gets no access.  domain/auth.c decides
 * what the answer means for a login or a signature (auth.h).
 *
 * The libldap calls live in storage/directory.c; this file holds the
 * policy.  Thread-safety: per context.
 */
#ifndef OTCM_DOMAIN_DIRECTORY_H
#define OTCM_DOMAIN_DIRECTORY_H

#include <stdbool.h>

#include "core/config.h"
#include "domain/domain.h"

/* What the directory says of one user; strings in the context's arena. */
struct dom_directory_user {
	const char *dn;
	const char *display_name;   /* the entry's displayName or cn; the login name without */
	const char *email;          /* may be NULL */
	bool disabled;              /* disabled or locked in the directory */
	const char *role;           /* the mapped role, NULL when in no mapped group */
	const char *group;          /* the group DN that gave the role, else NULL */
};

/* Is a directory configured (--ldap-url)? */
bool dom_directory_on(const struct config *cfg);

/*
 * Not an operation (no permission check, no audit event; domain/auth.c
 * calls it): find `username` in the directory and its role and, when
 * `password` is not NULL, bind as the entry with it.  The role is looked
 * up before the password is checked, but the caller reveals nothing
 * about it unless the password was right.
 * Errors: OTCM_ENOTFOUND (no such user), OTCM_EAUTH naming "password"
 * (wrong password), OTCM_ECONFLICT (several entries), OTCM_EUNAVAIL (the
 * directory is down, slow or misconfigured: a clear sentence).
 */
int dom_directory_authenticate(struct dom_directory_user *out, const struct dom *d,
			       const char *username, const char *password);

/*
 * The directory settings as an administrator sees them (no password:
 * only whether one is set); *out is the caller's.
 */
int dom_directory_read(json_t **out, const struct dom *d);

/*
 * Test the directory: connect and bind the service account and, when
 * `username` is not NULL, look the user up with its groups and role.
 * *out (the caller's) says what worked: {connected, user: {dn,
 * display_name, email, disabled, role, group} | null} or {connected:
 * false, error}.  Audited as directory.test.  OTCM_ECONFLICT (rule
 * "directory-off") when no directory is configured.
 */
int dom_directory_test(json_t **out, const struct dom *d, const char *username);

#endif
