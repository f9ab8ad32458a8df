/*
 * domain/auth.h - the authentication policy: re-authentication at the
 * moment of signing (and, as it moves here, passwords, lockout, one-time
 * codes and tokens).
 *
 * Thread-safety: per context.
 */
#ifndef OTCM_DOMAIN_AUTH_H
#define OTCM_DOMAIN_AUTH_H

#include "domain/domain.h"
#include "storage/db.h"

/*
 * Re-authenticate the actor for a signature or a release: `password` must
 * be the actor's own, and `totp_code` a fresh one-time code when the actor
 * enrolled one (the code's step is remembered on `c`, so it cannot be used
 * twice).  *out_method gets "password" or "password+totp" (static text).
 * Errors: OTCM_EINVAL naming "password" when it is missing, OTCM_EAUTH
 * naming "password" or "totp_code" when one is wrong or missing.
 */
int dom_reauth(const char **out_method, const struct dom *d, struct db_conn *c,
	       const char *password, const char *totp_code);

#endif
