/*
 * storage/directory.h - the plant's LDAP or Active Directory server, the
 * only user of libldap.
 *
 * The directory is a store of people otcm reads, as PostgreSQL is a store
 * otcm reads and writes, so it sits in storage/ and knows no rule: which
 * group gives which role, and what a refusal means, is domain/directory.c.
 *
 * A struct directory is one connection: ldap:// upgrades with StartTLS
 * before anything is sent, ldaps:// speaks TLS from the start (both check
 * the server's certificate against --ldap-ca or the system's store and its
 * name), ldapi:// is a local Unix socket.  Opening binds as the service
 * account (--ldap-bind-dn) or stays anonymous.  Every step is bounded by
 * --ldap-timeout: connecting, TLS, binds and searches; a directory that is
 * down or does not answer in time is OTCM_EUNAVAIL, never a hang.
 *
 * Errors: OTCM_EUNAVAIL (unreachable, too slow, TLS failed, the service
 * account refused, or an answer we cannot use; the message says which and
 * is fit for an administrator), OTCM_ENOTFOUND, OTCM_ECONFLICT (a filter
 * matched several users), OTCM_EAUTH (a user's wrong password).
 *
 * Thread-safety: a struct directory belongs to one thread; the pure
 * functions are thread-safe.
 */
#ifndef OTCM_STORAGE_DIRECTORY_H
#define OTCM_STORAGE_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/config.h"

struct directory;

/* A user's entry as found by the service account. */
struct directory_entry {
	const char *dn;
	const char *display_name;   /* displayName, else cn, else NULL */
	const char *email;          /* mail, else NULL */
	bool disabled;              /* AD's userAccountControl ACCOUNTDISABLE, or a
				       password-policy lock (pwdAccountLockedTime) */
};

/*
 * Connect to cfg->ldap_url and bind as the service account.  *out is the
 * caller's (directory_close()).
 */
int directory_open(struct directory **out, const struct config *cfg);

/* Unbind and disconnect; NULL is fine. */
void directory_close(struct directory *dir);

/*
 * Search cfg->ldap_user_base (subtree) with cfg->ldap_user_filter for
 * `username`; strings of *out live in `a`.  OTCM_ENOTFOUND when no entry
 * matches, OTCM_ECONFLICT when several do.
 */
int directory_find_user(struct directory_entry *out, struct arena *a, struct directory *dir,
			const char *username);

/*
 * Is the user `user_dn` (login name `username`) a member of group
 * `group_dn`?  The group entry itself is asked (member, uniqueMember or
 * memberUid; through nested groups with `nested`), so no memberOf overlay
 * is needed.  A group that does not exist has no members (and is logged).
 */
int directory_is_member(bool *out, struct directory *dir, const char *group_dn,
			const char *user_dn, const char *username, bool nested);

/*
 * Bind as `user_dn` with `password` (not empty): OTCM_EAUTH when the
 * directory refuses it.  The connection then acts as that user: search
 * with the service account before.
 */
int directory_check_password(struct directory *dir, const char *user_dn, const char *password);

/* ---- pure helpers (tests/unit/storage/test_directory.c) ---- */

/*
 * `value` escaped for an LDAP filter (RFC 4515: '*', '(', ')', '\' and
 * NUL as \XX), in `a`.
 */
char *directory_filter_escape(struct arena *a, const char *value);

/*
 * The user filter `tmpl` with every "%s" replaced by `username` escaped;
 * in `a`.  NULL when the result would exceed 4096 bytes.
 */
char *directory_user_filter(struct arena *a, const char *tmpl, const char *username);

/*
 * The filter a group entry is searched with, base scope, to learn whether
 * `user_dn` is a member: (|(member=DN)(uniqueMember=DN)(memberUid=NAME)),
 * or with `nested` Active Directory's transitive
 * (member:1.2.840.113556.1.4.1941:=DN); in `a`.
 */
char *directory_member_filter(struct arena *a, const char *user_dn, const char *username,
			      bool nested);

/* Does an Active Directory userAccountControl value say "disabled" (bit 0x2)? */
bool directory_uac_disabled(const char *value);

#endif
