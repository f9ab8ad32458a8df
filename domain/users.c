/* domain/users.c - user administration; see users.h. */
#include "domain/users.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/crypto.h"
#include "core/err.h"
#include "domain/auth.h"
#include "domain/directory.h"
#include "storage/users.h"

#define TEXT_MAX 200

static int check_role(const char *role)
{
	if (role_from_name(role) == 0)
		return err_set(OTCM_EINVAL, "role",
			       "'role' must be admin, engineer, qa, approver, auditor or agent");
	return 0;
}

static int check_text(const char *field, const char *v, bool may_be_empty)
{
	size_t n = strlen(v);

	if ((!may_be_empty && n == 0) || n > TEXT_MAX)
		return err_set(OTCM_EINVAL, field, "'%s' must be %d to %d characters", field,
			       may_be_empty ? 0 : 1, TEXT_MAX);
	return 0;
}

int dom_user_create(json_t **out, const struct dom *d, const struct dom_user_new *in)
{
	char hash[CRYPTO_PASSWORD_HASH_MAX];
	struct db_conn *c = NULL;
	json_t *after = NULL;
	struct user u;
	int64_t id;
	int rc;

	if ((rc = dom_permit(d, OP_USER_CREATE)))
		return rc;
	if (!in->username)
		return err_set(OTCM_EINVAL, "username", "'username' is required");
	if (!in->display_name)
		return err_set(OTCM_EINVAL, "display_name", "'display_name' is required");
	if (!in->role)
		return err_set(OTCM_EINVAL, "role", "'role' is required");
	if (!in->password)
		return err_set(OTCM_EINVAL, "password", "'password' is required");
	if ((rc = auth_check_username(in->username)) || (rc = check_role(in->role)) ||
	    (rc = check_text("display_name", in->display_name, false)) ||
	    (in->email && (rc = check_text("email", in->email, true))) ||
	    (rc = auth_check_password(d->cfg, in->username, in->password)))
		return rc;
	/* a name is local or the directory's, never both */
	if (dom_directory_on(d->cfg) && !in->first_admin) {
		struct dom_directory_user du;

		rc = dom_directory_authenticate(&du, d, in->username, NULL);
		if (rc == OTCM_ENOTFOUND) {
			err_clear();
		} else if (rc == 0 || rc == OTCM_ECONFLICT) {
			rc = err_set(OTCM_ERULE, "username",
				     "'%s' is a name in the directory: that user logs in with the "
				     "directory's password, and a local account cannot share the name",
				     in->username);
			err_set_rule("directory-name");
			goto out;
		} else {
			goto out;
		}
	}
	/* hash before taking a connection: the hash is the slow part */
	if ((rc = auth_hash_password(hash, d->cfg, in->password)))
		goto out;
	if ((rc = dom_begin(&c, d)) ||
	    (rc = users_insert(&id, c, in->username, in->display_name,
			       in->email && *in->email ? in->email : NULL, in->role, hash)) ||
	    (rc = users_by_id(&u, d->arena, c, id, false)))
		goto out;
	after = users_to_json(&u);
	if ((rc = dom_audit(d, c, "user.create", "user", u.username, NULL, after, NULL)) ||
	    (rc = dom_commit(c)))
		goto out;
	*out = after;
	after = NULL;
out:
	if (rc)
		rc = dom_refused(d, &c, "user.create.refused", "user", in->username, rc);
	memset(hash, 0, sizeof(hash));
	json_decref(after);
	dom_end(c);
	return rc;
}

int dom_user_list(json_t **out, const struct dom *d)
{
	struct db_conn *c = NULL;
	int rc;

	if ((rc = dom_permit(d, OP_USER_LIST)) || (rc = dom_conn(&c, d)))
		return rc;
	rc = users_list(out, c);
	dom_end(c);
	return rc;
}

int dom_user_read(json_t **out, const struct dom *d, int64_t id)
{
	struct db_conn *c = NULL;
	struct user u;
	int rc;

	if ((rc = dom_permit(d, OP_USER_READ)) || (rc = dom_conn(&c, d)))
		return rc;
	rc = users_by_id(&u, d->arena, c, id, false);
	if (rc == OTCM_ENOTFOUND)
		rc = err_set(OTCM_ENOTFOUND, "id", "user %" PRId64 " not found", id);
	if (rc == 0)
		*out = users_to_json(&u);
	dom_end(c);
	return rc;
}

int dom_user_id(int64_t *out, const struct dom *d, const char *username)
{
	struct db_conn *c = NULL;
	struct user u;
	int rc;

	if ((rc = dom_permit(d, OP_USER_READ)) || (rc = dom_conn(&c, d)))
		return rc;
	rc = users_by_name(&u, d->arena, c, username, false);
	if (rc == OTCM_ENOTFOUND)
		rc = err_set(OTCM_ENOTFOUND, "username", "user '%s' not found", username);
	if (rc == 0)
		*out = u.id;
	dom_end(c);
	return rc;
}

int dom_user_update(json_t **out, const struct dom *d, int64_t id, const struct dom_user_change *ch)
{
	char hash[CRYPTO_PASSWORD_HASH_MAX];
	struct db_conn *c = NULL;
	json_t *before = NULL, *after = NULL;
	const char *object = NULL;
	int64_t sessions = 0, tokens = 0;
	bool revoke;
	struct user u;
	int rc;

	if ((rc = dom_permit(d, OP_USER_UPDATE)))
		return rc;
	if ((ch->role && (rc = check_role(ch->role))) ||
	    (ch->display_name && (rc = check_text("display_name", ch->display_name, false))) ||
	    (ch->email && (rc = check_text("email", ch->email, true))))
		return rc;
	if (id == d->who->user_id &&
	    ((ch->role && strcmp(ch->role, "admin") != 0) || ch->disabled == 1)) {
		rc = err_set(OTCM_ERULE, ch->disabled == 1 ? "disabled" : "role",
			     "administrators cannot demote or disable themselves");
		err_set_rule("keep-an-administrator");
		object = d->who->username;
		goto out;
	}
	if ((rc = dom_begin(&c, d)) || (rc = users_by_id(&u, d->arena, c, id, true))) {
		if (rc == OTCM_ENOTFOUND)
			rc = err_set(OTCM_ENOTFOUND, "id", "user %" PRId64 " not found", id);
		goto out;
	}
	object = u.username;
	if (u.directory && (ch->password || ch->role)) {
		rc = err_set(OTCM_ERULE, ch->password ? "password" : "role",
			     "'%s' logs in through the directory, which holds the password and gives "
			     "the role (--ldap-role-map): change them there", u.username);
		err_set_rule("directory-user");
		goto out;
	}
	if (ch->password) {
		if ((rc = auth_check_password(d->cfg, u.username, ch->password)))
			goto out;
		/* the hash is slow: do not hold the row and a connection meanwhile */
		dom_end(c);
		c = NULL;
		if ((rc = auth_hash_password(hash, d->cfg, ch->password)) || (rc = dom_begin(&c, d)) ||
		    (rc = users_by_id(&u, d->arena, c, id, true)) ||
		    (rc = users_set_password(c, id, hash)))
			goto out;
	}
	before = users_to_json(&u);
	revoke = ch->password || ch->disabled == 1;
	if ((rc = users_update(c, id, ch->display_name, ch->email, ch->role, ch->disabled, ch->unlock)) ||
	    (revoke && ((rc = sessions_delete_user(&sessions, c, id)) ||
			(rc = tokens_revoke_user(&tokens, c, id)))) ||
	    (rc = users_by_id(&u, d->arena, c, id, false)))
		goto out;
	after = users_to_json(&u);
	if (ch->password)
		json_object_set_new(after, "password_changed", json_true());
	if (revoke) {
		json_object_set_new(after, "sessions_ended", json_integer(sessions));
		json_object_set_new(after, "tokens_revoked", json_integer(tokens));
	}
	if ((rc = dom_audit(d, c, "user.update", "user", u.username, before, after, NULL)) ||
	    (rc = dom_commit(c)))
		goto out;
	json_object_del(after, "password_changed");
	json_object_del(after, "sessions_ended");
	json_object_del(after, "tokens_revoked");
	*out = after;
	after = NULL;
out:
	if (rc)
		rc = dom_refused(d, &c, "user.update.refused", "user", object, rc);
	memset(hash, 0, sizeof(hash));
	json_decref(before);
	json_decref(after);
	dom_end(c);
	return rc;
}
