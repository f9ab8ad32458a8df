/*
 * web/page_directory.c - the LDAP / Active Directory settings page: what
 * the server was started with (read-only: the settings are options of
 * `otcm serve`), and a form that tests the connection and looks a user up.
 */
#include "web/pages.h"

#include <string.h>

static void row(struct html *h, const char *name, const char *value)
{
	html_raw(h, "<tr><th scope=\"row\">");
	html_text(h, name);
	html_raw(h, "</th><td>");
	if (value)
		html_text(h, value);
	else
		html_raw(h, "<span class=\"muted\">unset</span>");
	html_raw(h, "</td></tr>\n");
}

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void outcome(struct html *h, const json_t *test, const char *error)
{
	const json_t *user;

	html_raw(h, "<section aria-labelledby=\"outcome\"><h2 id=\"outcome\">Test result</h2>\n");
	if (error) {
		html_raw(h, "<p class=\"bad\">");
		html_text(h, error);
		html_raw(h, "</p></section>\n");
		return;
	}
	if (!json_is_true(json_object_get(test, "connected"))) {
		html_raw(h, "<p class=\"bad\">Not connected: ");
		html_text(h, str(test, "error"));
		html_raw(h, "</p></section>\n");
		return;
	}
	html_raw(h, "<p class=\"good\">Connected, and the service account is bound.</p>\n");
	if (!json_object_get(test, "username")) {
		html_raw(h, "</section>\n");
		return;
	}
	user = json_object_get(test, "user");
	if (!json_is_object(user)) {
		html_raw(h, "<p>");
		if (str(test, "error"))
			html_text(h, str(test, "error"));
		else {
			html_raw(h, "No user <code>");
			html_text(h, str(test, "username"));
			html_raw(h, "</code> in the directory.");
		}
		html_raw(h, "</p></section>\n");
		return;
	}
	html_raw(h, "<table>\n<tbody>\n");
	row(h, "DN", str(user, "dn"));
	row(h, "Name", str(user, "display_name"));
	row(h, "E-mail", str(user, "email"));
	row(h, "Disabled in the directory", json_is_true(json_object_get(user, "disabled")) ? "yes" : "no");
	row(h, "Role in otcm", str(user, "role") ? str(user, "role") : "none: in no mapped group (cannot log in)");
	row(h, "Through group", str(user, "group"));
	html_raw(h, "</tbody>\n</table>\n</section>\n");
}

void page_directory(struct html *h, const struct web_page *p, const json_t *settings,
		    const json_t *test, const char *error)
{
	const json_t *map = json_object_get(settings, "role_map"), *m;
	size_t i;

	layout_begin(h, p);
	html_raw(h, "<h1>Directory</h1>\n");
	if (!json_is_true(json_object_get(settings, "enabled"))) {
		html_raw(h, "<p>No directory is configured: everyone logs in with a local account. "
			    "Start <code>otcm serve</code> with <code>--ldap-url</code> and the other "
			    "<code>--ldap-*</code> options to log in through LDAP or Active Directory "
			    "(docs/operations.md).</p>\n");
		if (error) {
			html_raw(h, "<p class=\"bad\">");
			html_text(h, error);
			html_raw(h, "</p>\n");
		}
		layout_end(h);
		return;
	}
	html_raw(h, "<p>Users not known here log in through the directory: their password is "
		    "checked there, and the first group of the role map they are in gives their "
		    "role, read again at every login and every signature. These settings are "
		    "options of <code>otcm serve</code> (<a href=\"/api/v1/directory\">JSON</a>).</p>\n");
	html_raw(h, "<table>\n<tbody>\n");
	row(h, "URL", str(settings, "url"));
	row(h, "TLS", str(settings, "tls"));
	row(h, "CA file", str(settings, "ca"));
	row(h, "Service account", str(settings, "bind_dn"));
	row(h, "Its password", str(settings, "bind_password"));
	row(h, "User base", str(settings, "user_base"));
	row(h, "User filter", str(settings, "user_filter"));
	row(h, "Nested groups", json_is_true(json_object_get(settings, "nested_groups")) ? "yes" : "no");
	html_raw(h, "<tr><th scope=\"row\">Timeout</th><td>");
	html_int(h, json_integer_value(json_object_get(settings, "timeout_seconds")));
	html_raw(h, " s</td></tr>\n<tr><th scope=\"row\">Sessions and tokens checked again after</th><td>");
	html_int(h, json_integer_value(json_object_get(settings, "recheck_seconds")));
	html_raw(h, " s</td></tr>\n</tbody>\n</table>\n");
	html_raw(h, "<h2>Role map</h2>\n<table>\n<thead><tr><th>Role</th><th>Group</th></tr></thead>\n<tbody>\n");
	json_array_foreach(map, i, m) {
		html_raw(h, "<tr><td>");
		html_text(h, str(m, "role"));
		html_raw(h, "</td><td>");
		html_text(h, str(m, "group"));
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody>\n</table>\n");
	html_raw(h, "<h2>Test</h2>\n<form method=\"post\" action=\"/admin/directory/test\">\n");
	layout_csrf_field(h, p);
	html_raw(h, "<label>User name to look up (optional) <input name=\"username\" "
		    "autocomplete=\"off\" maxlength=\"256\"></label>\n"
		    "<button type=\"submit\">Test connection</button>\n</form>\n");
	if (test || error)
		outcome(h, test, error);
	layout_end(h);
}
