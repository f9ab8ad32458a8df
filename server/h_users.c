/*
 * server/h_users.c - user administration: create, list, read, change role,
 * disable and unlock.  Users are never deleted: the audit trail names them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "domain/auth.h"
#include "server/handlers.h"
#include "server/svc.h"
#include "storage/users.h"

static int parse_id(int64_t *out, const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (*s == '\0' || *end || v <= 0)
		return err_set(OTCM_EINVAL, "id", "user id '%s' is not a number", s);
	*out = v;
	return 0;
}

int h_users_create(struct http_req *req)
{
	static const char *const fields[] = { "username", "display_name", "email", "role", "password", NULL };
	const struct config *cfg = req->srv->cfg;
	json_t *body = NULL, *after = NULL;
	struct db_conn *c = NULL;
	const char *username, *display, *email, *role, *password;
	char hash[CRYPTO_PASSWORD_HASH_MAX], sid[32];
	struct user u;
	int64_t id;
	int rc;

	if ((rc = svc_body_json(&body, req)) || (rc = json_only_fields(body, fields)) ||
	    (rc = json_get_str(body, "username", true, &username)) ||
	    (rc = json_get_str(body, "display_name", true, &display)) ||
	    (rc = json_get_str(body, "email", false, &email)) ||
	    (rc = json_get_str(body, "role", true, &role)) ||
	    (rc = json_get_str(body, "password", true, &password)))
		goto out;
	if ((rc = auth_check_username(username)))
		goto out;
	if (role_from_name(role) == 0) {
		rc = err_set(OTCM_EINVAL, "role",
			     "'role' must be admin, engineer, qa, approver, auditor or agent");
		goto out;
	}
	if (strlen(display) > 200 || (email && strlen(email) > 200)) {
		rc = err_set(OTCM_EINVAL, strlen(display) > 200 ? "display_name" : "email",
			     "value too long (200 characters at most)");
		goto out;
	}
	if ((rc = auth_check_password(cfg, username, password)) ||
	    (rc = auth_hash_password(hash, cfg, password)))
		goto out;
	if ((rc = svc_begin(&c, req)) ||
	    (rc = users_insert(&id, c, username, display, email, role, hash)) ||
	    (rc = users_by_id(&u, req->arena, c, id, false)))
		goto out;
	after = users_to_json(&u);
	snprintf(sid, sizeof(sid), "%" PRId64, id);
	if ((rc = svc_audit(req, c, "user.create", "user", username, NULL, after)) ||
	    (rc = svc_commit(c)))
		goto out;
	http_set_header(req, "Location", arena_printf(req->arena, "/api/v1/users/%s", sid));
	rc = http_reply_json(req, 201, after);
	after = NULL;
out:
	svc_end(c);
	json_decref(body);
	json_decref(after);
	return rc;
}

int h_users_list(struct http_req *req)
{
	struct db_conn *c = NULL;
	json_t *list = NULL;
	int rc;

	if ((rc = svc_conn(&c, req)) || (rc = users_list(&list, c)))
		goto out;
	rc = http_reply_json(req, 200, json_pack("{s:o}", "items", list));
out:
	svc_end(c);
	return rc;
}

int h_users_get(struct http_req *req)
{
	struct db_conn *c = NULL;
	struct user u;
	int64_t id;
	int rc;

	if ((rc = parse_id(&id, http_param(req, 0))))
		return rc;
	if ((rc = svc_conn(&c, req)) || (rc = users_by_id(&u, req->arena, c, id, false)))
		goto out;
	rc = http_reply_json(req, 200, users_to_json(&u));
out:
	svc_end(c);
	return rc;
}

int h_users_patch(struct http_req *req)
{
	static const char *const fields[] = { "display_name", "role", "disabled", "unlock", "password", NULL };
	const struct config *cfg = req->srv->cfg;
	json_t *body = NULL, *before = NULL, *after = NULL;
	struct db_conn *c = NULL;
	const char *display = NULL, *role = NULL, *password = NULL;
	bool disabled = false, unlock = false, has_disabled;
	char hash[CRYPTO_PASSWORD_HASH_MAX];
	struct user u;
	int64_t id;
	int rc;

	if ((rc = parse_id(&id, http_param(req, 0))) || (rc = svc_body_json(&body, req)) ||
	    (rc = json_only_fields(body, fields)) ||
	    (rc = json_get_str(body, "display_name", false, &display)) ||
	    (rc = json_get_str(body, "role", false, &role)) ||
	    (rc = json_get_bool(body, "disabled", false, &disabled)) ||
	    (rc = json_get_bool(body, "unlock", false, &unlock)) ||
	    (rc = json_get_str(body, "password", false, &password)))
		goto out;
	has_disabled = json_object_get(body, "disabled") != NULL;
	if (role && role_from_name(role) == 0) {
		rc = err_set(OTCM_EINVAL, "role",
			     "'role' must be admin, engineer, qa, approver, auditor or agent");
		goto out;
	}
	if (display && (strlen(display) == 0 || strlen(display) > 200)) {
		rc = err_set(OTCM_EINVAL, "display_name", "'display_name' must be 1 to 200 characters");
		goto out;
	}
	if (id == req->who.user_id && ((role && strcmp(role, "admin")) || (has_disabled && disabled))) {
		rc = err_set(OTCM_ERULE, has_disabled ? "disabled" : "role",
			     "administrators cannot demote or disable themselves");
		err_set_rule("keep-an-administrator");
		goto out;
	}
	if ((rc = svc_begin(&c, req)) || (rc = users_by_id(&u, req->arena, c, id, true)))
		goto out;
	if (password && ((rc = auth_check_password(cfg, u.username, password)) ||
			 (rc = auth_hash_password(hash, cfg, password)) ||
			 (rc = users_set_password(c, id, hash))))
		goto out;
	before = users_to_json(&u);
	if ((rc = users_update(c, id, display, NULL, role, has_disabled ? disabled : -1, unlock)) ||
	    (rc = users_by_id(&u, req->arena, c, id, false)))
		goto out;
	after = users_to_json(&u);
	if (password)
		json_object_set_new(after, "password_changed", json_true());
	if ((rc = svc_audit(req, c, "user.update", "user", u.username, before, after)) ||
	    (rc = svc_commit(c)))
		goto out;
	json_object_del(after, "password_changed");
	rc = http_reply_json(req, 200, after);
	after = NULL;
out:
	svc_end(c);
	json_decref(body);
	json_decref(before);
	json_decref(after);
	return rc;
}
