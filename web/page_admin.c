/*
 * web/page_admin.c - the administrator's pages: users (create, change role,
 * disable or enable, unlock) and the asset register (register an asset in
 * the site / area / line hierarchy, edit its fields).
 */
#include <string.h>

#include "web/pages.h"

static const char *const roles[] = { "engineer", "qa", "approver", "auditor", "admin", "agent" };
static const char *const asset_types[] = { "plc", "hmi", "drive", "robot", "scada", "recipe", "other" };

/* <option>s of `names`, `chosen` selected. */
static void options(struct html *h, const char *const *names, size_t n, const char *chosen)
{
	size_t i;

	for (i = 0; i < n; i++) {
		html_raw(h, "<option");
		if (chosen && strcmp(chosen, names[i]) == 0)
			html_raw(h, " selected");
		html_raw(h, ">");
		html_text(h, names[i]);
		html_raw(h, "</option>");
	}
}

/* A labelled text input `name` with its value; `extra` is markup written in the source. */
static void text_input(struct html *h, const char *id, const char *label, const char *hint,
		       const char *value, const char *extra)
{
	html_raw(h, "<label for=\"");
	html_raw(h, id);
	html_raw(h, "\">");
	html_text(h, label);
	if (hint) {
		html_raw(h, " <span class=\"hint\">");
		html_text(h, hint);
		html_raw(h, "</span>");
	}
	html_raw(h, "</label><input type=\"text\" id=\"");
	html_raw(h, id);
	html_raw(h, "\" name=\"");
	html_raw(h, id);
	html_raw(h, "\" value=\"");
	html_attr(h, value);
	html_raw(h, "\"");
	if (extra) {
		html_raw(h, " ");
		html_raw(h, extra);
	}
	html_raw(h, ">\n");
}

/* ---- users ---- */

static void user_state(struct html *h, const json_t *u)
{
	if (json_is_true(json_object_get(u, "disabled")))
		html_raw(h, "<span class=\"badge badge-bad\">disabled</span> ");
	if (json_is_true(json_object_get(u, "locked"))) {
		html_raw(h, "<span class=\"badge badge-warn\">locked</span> <span class=\"muted\">until ");
		web_time(h, web_str(u, "locked_until"));
		html_raw(h, "</span>");
	} else if (!json_is_true(json_object_get(u, "disabled"))) {
		html_raw(h, "<span class=\"badge badge-ok\">active</span>");
	}
}

/*
 * A one-button form posting `op` for user `id`; "totp-reset" posts to the
 * user's own action, /admin/users/{id}/totp-reset.
 */
static void user_button(struct html *h, const struct web_page *p, int64_t id, const char *op,
			const char *label, const char *confirm)
{
	html_raw(h, "<form method=\"post\" class=\"inline\" action=\"/admin/users/");
	html_int(h, id);
	if (strcmp(op, "totp-reset") == 0)
		html_raw(h, "/totp-reset");
	html_raw(h, "\">");
	layout_csrf_field(h, p);
	html_raw(h, "<input type=\"hidden\" name=\"op\" value=\"");
	html_attr(h, op);
	html_raw(h, "\"><button type=\"submit\" class=\"secondary\"");
	if (confirm) {
		html_raw(h, " data-confirm=\"");
		html_attr(h, confirm);
		html_raw(h, "\"");
	}
	html_raw(h, ">");
	html_text(h, label);
	html_raw(h, "</button></form> ");
}

void page_admin_users(struct html *h, const struct web_page *p, const json_t *users, int64_t me,
		      const json_t *refill, const char *notice_kind, const char *notice)
{
	const json_t *u;
	size_t i;

	layout_begin(h, p);
	html_raw(h, "<h1>Users</h1>\n");
	layout_notice(h, notice_kind ? notice_kind : "info", notice);
	html_raw(h, "<p class=\"muted\">Users are never deleted, since the audit trail names them: "
		    "disable those who left. Every change here is an audit event.</p>\n"
		    "<div class=\"table-wrap\"><table id=\"users\"><thead><tr><th>user</th><th>name</th>"
		    "<th>role</th><th>state</th><th>actions</th></tr></thead><tbody>\n");
	json_array_foreach(users, i, u) {
		int64_t id = json_integer_value(json_object_get(u, "id"));
		bool self = id == me, disabled = json_is_true(json_object_get(u, "disabled"));

		html_raw(h, "<tr data-user=\"");
		html_attr(h, web_str(u, "username"));
		html_raw(h, "\"><td><code>");
		html_text(h, web_str(u, "username"));
		html_raw(h, "</code>");
		if (self)
			html_raw(h, " <span class=\"muted\">(you)</span>");
		html_raw(h, "</td><td>");
		html_text(h, web_str(u, "display_name"));
		html_raw(h, "</td><td>");
		if (self) {
			html_text(h, web_str(u, "role"));
		} else {
			html_raw(h, "<form method=\"post\" class=\"inline\" action=\"/admin/users/");
			html_int(h, id);
			html_raw(h, "\">");
			layout_csrf_field(h, p);
			html_raw(h, "<input type=\"hidden\" name=\"op\" value=\"role\"><select name=\"role\" "
				    "aria-label=\"role of ");
			html_attr(h, web_str(u, "username"));
			html_raw(h, "\">");
			options(h, roles, sizeof(roles) / sizeof(roles[0]), web_str(u, "role"));
			html_raw(h, "</select> <button type=\"submit\" class=\"secondary\">Change role</button></form>");
		}
		html_raw(h, "</td><td>");
		user_state(h, u);
		html_raw(h, "</td><td>");
		if (json_is_true(json_object_get(u, "locked")))
			user_button(h, p, id, "unlocked", "Unlock", NULL);
		if (json_is_true(json_object_get(u, "totp")))
			user_button(h, p, id, "totp-reset", "Reset one-time codes",
				    "Turn off this user's one-time codes? They log in with the password "
				    "alone until they enrol a new device.");
		if (!self && disabled)
			user_button(h, p, id, "enabled", "Enable", NULL);
		else if (!self)
			user_button(h, p, id, "disabled", "Disable",
				    "Disable this user? Their sessions end and their API tokens are revoked.");
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table></div>\n"
		    "<form class=\"stack panel\" method=\"post\" action=\"/admin/users\" id=\"new-user\">"
		    "<h2>Create a user</h2>");
	layout_csrf_field(h, p);
	text_input(h, "username", "User name", "letters, digits, '.', '_' or '-'",
		   web_str(refill, "username"), "required autocapitalize=\"none\" spellcheck=\"false\"");
	text_input(h, "display_name", "Full name", "printed on their signatures",
		   web_str(refill, "display_name"), "required");
	text_input(h, "email", "E-mail", "optional", web_str(refill, "email"), NULL);
	html_raw(h, "<label for=\"role\">Role</label><select id=\"role\" name=\"role\">");
	options(h, roles, sizeof(roles) / sizeof(roles[0]),
		web_str(refill, "role") ? web_str(refill, "role") : "engineer");
	html_raw(h, "</select>\n<label for=\"password\">First password <span class=\"hint\">at least 12 "
		    "characters; give it to the user in person</span></label>"
		    "<input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"new-password\" "
		    "required>\n<div><button type=\"submit\">Create user</button></div></form>\n");
	layout_end(h);
}

/* ---- the asset register ---- */

/* Segment `level` (0: site) of paths with more than `level` + 1 segments, once each, as <option>s. */
static void segment_options(struct html *h, const json_t *assets, size_t level)
{
	json_t *seen = json_object();
	const json_t *a;
	size_t i;

	json_array_foreach(assets, i, a) {
		const char *path = web_str(a, "path"), *s = path;
		size_t k, n;
		char seg[256];

		for (k = 0; s && k < level; k++) {
			s = strchr(s, '/');
			s = s ? s + 1 : NULL;
		}
		if (!s || !strchr(s, '/'))
			continue;   /* the last segment is the asset's own name */
		n = strcspn(s, "/");
		if (n >= sizeof(seg))
			continue;
		memcpy(seg, s, n);
		seg[n] = '\0';
		if (json_object_get(seen, seg))
			continue;
		json_object_set_new(seen, seg, json_true());
		html_raw(h, "<option value=\"");
		html_attr(h, seg);
		html_raw(h, "\">");
	}
	json_decref(seen);
}

static void asset_text_fields(struct html *h, const json_t *values)
{
	text_input(h, "vendor", "Vendor", "e.g. Rockwell, Siemens, Beckhoff", web_str(values, "vendor"), NULL);
	text_input(h, "model", "Model", NULL, web_str(values, "model"), NULL);
	text_input(h, "firmware", "Firmware version", NULL, web_str(values, "firmware"), NULL);
	text_input(h, "serial_number", "Serial number", NULL, web_str(values, "serial_number"), NULL);
	text_input(h, "order_number", "Order number", "the vendor's catalogue number, e.g. 6ES7515-2AM02-0AB0",
		   web_str(values, "order_number"), NULL);
	text_input(h, "cpe", "CPE", "cpe:2.3:h:vendor:product:version:*:*:*:*:*:*:*",
		   web_str(values, "cpe"), NULL);
	text_input(h, "purl", "PURL", "pkg:generic/vendor/product@version", web_str(values, "purl"), NULL);
	html_raw(h, "<label for=\"description\">Description</label>"
		    "<textarea id=\"description\" name=\"description\" rows=\"3\">");
	html_text(h, web_str(values, "description"));
	html_raw(h, "</textarea>\n");
}

static void type_select(struct html *h, const char *chosen)
{
	html_raw(h, "<label for=\"type\">Type</label><select id=\"type\" name=\"type\">");
	options(h, asset_types, sizeof(asset_types) / sizeof(asset_types[0]), chosen ? chosen : "plc");
	html_raw(h, "</select>\n");
}

void page_admin_assets(struct html *h, const struct web_page *p, const json_t *assets, bool more,
		       const json_t *refill, const char *notice_kind, const char *notice)
{
	static const char *const lists[] = { "sites", "areas", "lines" };
	const json_t *a;
	size_t i;

	layout_begin(h, p);
	html_raw(h, "<h1>Manage assets</h1>\n");
	layout_notice(h, notice_kind ? notice_kind : "info", notice);
	html_raw(h, "<form class=\"stack panel\" method=\"post\" action=\"/admin/assets\" id=\"new-asset\">"
		    "<h2>Register an asset</h2><p class=\"muted\">Its place in the plant makes its path, "
		    "<code>site/area/line/name</code>: letters, digits, '.', '_' and '-' in each part. "
		    "Area and line may stay empty.</p>");
	layout_csrf_field(h, p);
	for (i = 0; i < 3; i++) {
		html_raw(h, "<datalist id=\"known-");
		html_raw(h, lists[i]);
		html_raw(h, "\">");
		segment_options(h, assets, i);
		html_raw(h, "</datalist>");
	}
	html_raw(h, "<div class=\"grid path-parts\">");
	text_input(h, "site", "Site", NULL, web_str(refill, "site"), "list=\"known-sites\" required");
	text_input(h, "area", "Area", NULL, web_str(refill, "area"), "list=\"known-areas\"");
	text_input(h, "line", "Line", NULL, web_str(refill, "line"), "list=\"known-lines\"");
	text_input(h, "name", "Name", "e.g. plc-main", web_str(refill, "name"), "required");
	html_raw(h, "</div>");
	type_select(h, web_str(refill, "type"));
	asset_text_fields(h, refill);
	html_raw(h, "<div><button type=\"submit\">Register asset</button></div></form>\n<h2>Assets</h2>\n");
	if (json_array_size(assets) == 0) {
		html_raw(h, "<p class=\"muted\">No asset is registered yet.</p>\n");
		layout_end(h);
		return;
	}
	html_raw(h, "<div class=\"table-wrap\"><table id=\"assets\"><thead><tr><th>path</th><th>type</th>"
		    "<th>vendor</th><th>model</th><th>firmware</th><th></th></tr></thead><tbody>\n");
	json_array_foreach(assets, i, a) {
		int64_t id = json_integer_value(json_object_get(a, "id"));

		html_raw(h, "<tr><td><a href=\"/admin/assets/");
		html_int(h, id);
		html_raw(h, "\">");
		html_text(h, web_str(a, "path"));
		html_raw(h, "</a></td><td>");
		html_text(h, web_str(a, "type"));
		html_raw(h, "</td><td>");
		html_text(h, web_str(a, "vendor"));
		html_raw(h, "</td><td>");
		html_text(h, web_str(a, "model"));
		html_raw(h, "</td><td>");
		html_text(h, web_str(a, "firmware"));
		html_raw(h, "</td><td><a href=\"/assets/");
		html_int(h, id);
		html_raw(h, "\">versions</a></td></tr>\n");
	}
	html_raw(h, "</tbody></table></div>\n");
	if (more)
		html_raw(h, "<p class=\"muted\">Only the first assets by path are listed.</p>\n");
	layout_end(h);
}

void page_admin_asset(struct html *h, const struct web_page *p, const json_t *asset,
		      const json_t *refill, const char *notice_kind, const char *notice)
{
	const json_t *v = refill ? refill : asset;
	int64_t id = json_integer_value(json_object_get(asset, "id"));

	layout_begin(h, p);
	html_raw(h, "<p class=\"crumbs\"><a href=\"/admin/assets\">Manage assets</a></p>\n<h1>");
	html_text(h, web_str(asset, "path"));
	html_raw(h, "</h1>\n");
	layout_notice(h, notice_kind ? notice_kind : "info", notice);
	html_raw(h, "<p><a href=\"/assets/");
	html_int(h, id);
	html_raw(h, "\">Open the asset: versions and changes</a></p>\n"
		    "<form class=\"stack panel\" method=\"post\" id=\"edit-asset\" action=\"/admin/assets/");
	html_int(h, id);
	html_raw(h, "\"><h2>Fields</h2>");
	layout_csrf_field(h, p);
	text_input(h, "path", "Path", "site/area/line/name; moving an asset keeps its versions",
		   web_str(v, "path"), "required");
	type_select(h, web_str(v, "type"));
	asset_text_fields(h, v);
	html_raw(h, "<div><button type=\"submit\">Save</button></div></form>\n<p class=\"muted\">Registered by ");
	html_text(h, web_str(asset, "created_by"));
	html_raw(h, " on ");
	web_time(h, web_str(asset, "created_at"));
	html_raw(h, ", last changed ");
	web_time(h, web_str(asset, "updated_at"));
	html_raw(h, ". Every change is an audit event.</p>\n");
	layout_end(h);
}
