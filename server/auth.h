/*
 * server/auth.h - password policy and the session cookie, shared by the
 * login handlers, the bootstrap and the command line.
 */
#ifndef OTCM_SERVER_AUTH_H
#define OTCM_SERVER_AUTH_H

#include "core/config.h"
#include "core/crypto.h"

#define AUTH_COOKIE "otcm_session"
#define AUTH_CSRF_HEADER "X-CSRF-Token"

/*
 * Check a new password against the policy (length, not the username, not
 * all one character); OTCM_EINVAL naming "password" when it fails.
 */
int auth_check_password(const struct config *cfg, const char *username, const char *password);

/* Hash a new password at the configured cost. */
int auth_hash_password(char out[CRYPTO_PASSWORD_HASH_MAX], const struct config *cfg,
		       const char *password);

/* Is `username` a valid user name (lowercase letters, digits, . _ -; 2-63)? */
int auth_check_username(const char *username);

#endif
