/* domain/directory.c - logging in through LDAP or Active Directory; see directory.h. */
#include "domain/directory.h"

#include <string.h>

#include "core/err.h"
#include "storage/directory.h"

bool dom_directory_on(const struct config *cfg)
{
	return cfg && cfg->ldap_url != NULL;
}

/*
 * The role of `user_dn`: the first group of --ldap-role-map ("ROLE:DN;...",
 * checked by core/config.c) the user is a member of.
 */
static int map_role(struct dom_directory_user *out, const struct dom *d, struct directory *dir,
		    const char *username)
{
	const char *p = d->cfg->ldap_role_map;
	bool nested = strcmp(d->cfg->ldap_nested_groups, "yes") == 0, member;
	int rc;

	while (*p) {
		const char *colon = strchr(p, ':'), *end = strchr(p, ';');
		const char *role, *group;

		if (!end)
			end = p + strlen(p);
		role = arena_strndup(d->arena, p, (size_t)(colon - p));
		group = arena_strndup(d->arena, colon + 1, (size_t)(end - colon - 1));
		if ((rc = directory_is_member(&member, dir, group, out->dn, username, nested)))
			return rc;
		if (member) {
			out->role = role;
			out->group = group;
			return 0;
		}
		p = *end ? end + 1 : end;
	}
	return 0;
}

int dom_directory_authenticate(struct dom_directory_user *out, const struct dom *d,
			       const char *username, const char *password)
{
	struct directory *dir = NULL;
	struct directory_entry e;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!dom_directory_on(d->cfg))
		return err_set(OTCM_EUNAVAIL, NULL, "no directory is configured (--ldap-url)");
	if ((rc = directory_open(&dir, d->cfg)) ||
	    (rc = directory_find_user(&e, d->arena, dir, username)))
		goto out;
	out->dn = e.dn;
	out->display_name = e.display_name ? e.display_name : username;
	out->email = e.email;
	out->disabled = e.disabled;
	if ((rc = map_role(out, d, dir, username)))
		goto out;
	/* last: the bind turns the connection into the user's */
	if (password)
		rc = directory_check_password(dir, e.dn, password);
out:
	directory_close(dir);
	return rc;
}

int dom_directory_read(json_t **out, const struct dom *d)
{
	const struct config *cfg = d->cfg;
	json_t *o, *map;
	const char *p;
	int rc;

	if ((rc = dom_permit(d, OP_DIRECTORY_READ)))
		return rc;
	o = json_object();
	json_object_set_new(o, "enabled", json_boolean(dom_directory_on(cfg)));
	if (!dom_directory_on(cfg)) {
		*out = o;
		return 0;
	}
	json_object_set_new(o, "url", json_string(cfg->ldap_url));
	json_object_set_new(o, "tls", json_string(strncmp(cfg->ldap_url, "ldaps://", 8) == 0 ? "ldaps"
						  : strncmp(cfg->ldap_url, "ldap://", 7) == 0 ? "starttls"
						  : "none (local socket)"));
	json_object_set_new(o, "ca", cfg->ldap_ca ? json_string(cfg->ldap_ca) : json_null());
	json_object_set_new(o, "bind_dn", cfg->ldap_bind_dn ? json_string(cfg->ldap_bind_dn) : json_null());
	json_object_set_new(o, "bind_password", json_string(cfg->ldap_bind_password
							     ? (cfg->ldap_bind_password_file ? "from a file"
								: "from the environment")
							     : "none (anonymous searches)"));
	json_object_set_new(o, "user_base", json_string(cfg->ldap_user_base));
	json_object_set_new(o, "user_filter", json_string(cfg->ldap_user_filter));
	json_object_set_new(o, "nested_groups", json_boolean(strcmp(cfg->ldap_nested_groups, "yes") == 0));
	json_object_set_new(o, "timeout_seconds", json_integer(cfg->ldap_timeout));
	json_object_set_new(o, "recheck_seconds", json_integer(cfg->ldap_recheck_seconds));
	map = json_array();
	for (p = cfg->ldap_role_map; *p;) {
		const char *colon = strchr(p, ':'), *end = strchr(p, ';');

		if (!end)
			end = p + strlen(p);
		json_array_append_new(map, json_pack("{s:s%, s:s%}", "role", p, (size_t)(colon - p),
						     "group", colon + 1, (size_t)(end - colon - 1)));
		p = *end ? end + 1 : end;
	}
	json_object_set_new(o, "role_map", map);
	*out = o;
	return 0;
}

int dom_directory_test(json_t **out, const struct dom *d, const char *username)
{
	struct dom_directory_user u;
	json_t *o = NULL, *after = NULL;
	int rc, found;

	if ((rc = dom_permit(d, OP_DIRECTORY_TEST)))
		return rc;
	if (username && (!*username || strlen(username) > 256))
		return err_set(OTCM_EINVAL, "username", "'username' must be 1 to 256 characters");
	if (!dom_directory_on(d->cfg)) {
		rc = err_set(OTCM_ERULE, NULL, "no directory is configured: start otcm with --ldap-url");
		err_set_rule("directory-off");
		return rc;
	}
	o = json_object();
	if (username) {
		found = dom_directory_authenticate(&u, d, username, NULL);
	} else {
		struct directory *dir = NULL;

		found = directory_open(&dir, d->cfg);
		directory_close(dir);
	}
	json_object_set_new(o, "connected", json_boolean(found == 0 || found == OTCM_ENOTFOUND ||
							  found == OTCM_ECONFLICT));
	if (found && found != OTCM_ENOTFOUND)
		json_object_set_new(o, "error", json_string(err_message()));
	if (username) {
		json_object_set_new(o, "username", json_string(username));
		if (found == 0)
			json_object_set_new(o, "user",
					    json_pack("{s:s, s:s, s:s?, s:b, s:s?, s:s?}", "dn", u.dn,
						      "display_name", u.display_name, "email", u.email,
						      "disabled", u.disabled, "role", u.role, "group",
						      u.group));
		else
			json_object_set_new(o, "user", json_null());
	}
	err_clear();
	after = json_deep_copy(o);
	if ((rc = dom_audit_alone(d, "directory.test", "directory", d->cfg->ldap_url, NULL, after,
				  NULL)))
		goto out;
	*out = o;
	o = NULL;
out:
	json_decref(o);
	json_decref(after);
	return rc;
}
