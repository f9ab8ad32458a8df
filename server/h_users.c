/*
 * server/h_users.c - user administration, the REST door of domain/users.h:
 * create, list, read, change (role, name, e-mail, password reset, disable,
 * enable, unlock).
 *
 *   POST  /api/v1/users         admin            create a user
 *   GET   /api/v1/users         admin, auditor   list users
 *   GET   /api/v1/users/{id}    admin, auditor   one user
 *   PATCH /api/v1/users/{id}    admin            change a user
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "domain/users.h"
#include "server/handlers.h"

static int parse_id(int64_t *out, const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (*s == '\0' || *end || v <= 0)
		return err_set(OTCM_EINVAL, "id", "user id '%.40s' is not a number", s);
	*out = v;
	return 0;
}

int h_users_create(struct http_req *req)
{
	static const char *const fields[] = { "username", "display_name", "email", "role", "password", NULL };
	json_t *body = NULL, *out = NULL;
	struct dom_user_new in;
	int rc;

	memset(&in, 0, sizeof(in));
	if ((rc = h_body_json(&body, req)) || (rc = json_only_fields(body, fields)) ||
	    (rc = json_get_str(body, "username", true, &in.username)) ||
	    (rc = json_get_str(body, "display_name", true, &in.display_name)) ||
	    (rc = json_get_str(body, "email", false, &in.email)) ||
	    (rc = json_get_str(body, "role", true, &in.role)) ||
	    (rc = json_get_str(body, "password", true, &in.password)) ||
	    (rc = dom_user_create(&out, &req->dom, &in)))
		goto out;
	http_set_header(req, "Location", arena_printf(req->arena, "/api/v1/users/%" PRId64,
						      (int64_t)json_integer_value(json_object_get(out, "id"))));
	rc = http_reply_json(req, 201, out);
out:
	json_decref(body);
	return rc;
}

int h_users_list(struct http_req *req)
{
	json_t *list = NULL;
	int rc = dom_user_list(&list, &req->dom);

	if (rc)
		return rc;
	return http_reply_json(req, 200, json_pack("{s:o}", "items", list));
}

int h_users_get(struct http_req *req)
{
	json_t *out = NULL;
	int64_t id;
	int rc;

	if ((rc = parse_id(&id, http_param(req, 0))) || (rc = dom_user_read(&out, &req->dom, id)))
		return rc;
	return http_reply_json(req, 200, out);
}

int h_users_patch(struct http_req *req)
{
	static const char *const fields[] = { "display_name", "email", "role", "disabled", "unlock",
					      "password", NULL };
	json_t *body = NULL, *out = NULL;
	struct dom_user_change ch;
	bool disabled = false;
	int64_t id;
	int rc;

	memset(&ch, 0, sizeof(ch));
	if ((rc = parse_id(&id, http_param(req, 0))) || (rc = h_body_json(&body, req)) ||
	    (rc = json_only_fields(body, fields)) ||
	    (rc = json_get_str(body, "display_name", false, &ch.display_name)) ||
	    (rc = json_get_str(body, "email", false, &ch.email)) ||
	    (rc = json_get_str(body, "role", false, &ch.role)) ||
	    (rc = json_get_bool(body, "disabled", false, &disabled)) ||
	    (rc = json_get_bool(body, "unlock", false, &ch.unlock)) ||
	    (rc = json_get_str(body, "password", false, &ch.password)))
		goto out;
	ch.disabled = json_object_get(body, "disabled") ? disabled : -1;
	if ((rc = dom_user_update(&out, &req->dom, id, &ch)))
		goto out;
	rc = http_reply_json(req, 200, out);
out:
	json_decref(body);
	return rc;
}
