/* domain/auth.c - the authentication policy; see auth.h. */
#include "domain/auth.h"

#include "core/crypto.h"
#include "core/err.h"
#include "core/timeutil.h"
#include "core/totp.h"
#include "storage/changes.h"
#include "storage/users.h"

int dom_reauth(const char **out_method, const struct dom *d, struct db_conn *c,
	       const char *password, const char *totp_code)
{
	struct totp_state t;
	struct user u;
	int rc;

	if (!password)
		return err_set(OTCM_EINVAL, "password", "'password' is required");
	if ((rc = users_by_id(&u, d->arena, c, d->who->user_id, false)))
		return rc;
	rc = crypto_password_verify(u.password_hash, password);
	if (rc == OTCM_EAUTH)
		return err_set(OTCM_EAUTH, "password", "wrong password: a signature needs the signer's password");
	if (rc)
		return rc;
	rc = totp_load(&t, c, u.id, true);
	if (rc == OTCM_ENOTFOUND || (rc == 0 && !t.enabled)) {
		*out_method = "password";
		return 0;
	}
	if (rc)
		return rc;
	if (!totp_code)
		return err_set(OTCM_EAUTH, "totp_code", "'totp_code' is required: this account uses one-time codes");
	if ((rc = totp_verify(&t.last_step, t.secret, t.secret_len, totp_code, time_now_us() / 1000000)))
		return rc == OTCM_EINVAL ? rc : err_set(OTCM_EAUTH, "totp_code", "%s", err_message());
	if ((rc = totp_set(c, u.id, false, t.last_step)))
		return rc;
	*out_method = "password+totp";
	return 0;
}
