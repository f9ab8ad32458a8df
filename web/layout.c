/*
 * web/layout.c - the shared page frame and the embedded static files; see
 * layout.h.  The stylesheet and script are linked as /static/NAME?v=HASH,
 * so browsers may cache them for a year and still fetch every new build.
 */
#include "web/layout.h"

#include <string.h>

#include "core/crypto.h"
#include "core/embed.h"

#define STATIC_PREFIX "web/static/"

bool web_static_find(struct web_static *out, const char *name)
{
	size_t i, len;

	if (!name || !*name || strchr(name, '/'))
		return false;
	for (i = 0; i < embed_static_count; i++) {
		const char *n = embed_static[i].name;
		char hex[2 * CRYPTO_SHA256_LEN + 1];

		if (strncmp(n, STATIC_PREFIX, strlen(STATIC_PREFIX)) == 0)
			n += strlen(STATIC_PREFIX);
		if (strcmp(n, name) != 0)
			continue;
		len = strlen(n);
		out->name = n;
		out->data = embed_static[i].data;
		out->len = strlen(out->data);
		if (len > 4 && strcmp(n + len - 4, ".css") == 0)
			out->content_type = "text/css; charset=utf-8";
		else if (len > 3 && strcmp(n + len - 3, ".js") == 0)
			out->content_type = "text/javascript; charset=utf-8";
		else if (len > 4 && strcmp(n + len - 4, ".svg") == 0)
			out->content_type = "image/svg+xml";
		else
			out->content_type = "application/octet-stream";
		crypto_sha256_hex(hex, out->data, out->len);
		memcpy(out->hash, hex, 16);
		out->hash[16] = '\0';
		return true;
	}
	return false;
}

/* /static/NAME?v=HASH */
static void static_href(struct html *h, const char *name)
{
	struct web_static s;

	html_raw(h, "/static/");
	html_url(h, name);
	if (web_static_find(&s, name)) {
		html_raw(h, "?v=");
		html_url(h, s.hash);
	}
}

static void nav_item(struct html *h, const struct web_page *p, const char *section,
		     const char *href, const char *label)
{
	html_raw(h, "<a href=\"");
	html_raw(h, href);
	html_raw(h, "\"");
	if (p->section && strcmp(p->section, section) == 0)
		html_raw(h, " aria-current=\"page\"");
	html_raw(h, ">");
	html_text(h, label);
	html_raw(h, "</a>");
}

static bool role_is(const struct web_page *p, const char *role)
{
	return p->user.role && strcmp(p->user.role, role) == 0;
}

void layout_begin(struct html *h, const struct web_page *p)
{
	html_raw(h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		    "<title>");
	html_text(h, p->title);
	html_raw(h, " - otcm</title>\n<link rel=\"icon\" type=\"image/svg+xml\" href=\"/favicon.ico\">\n"
		    "<link rel=\"stylesheet\" href=\"");
	static_href(h, "otcm.css");
	html_raw(h, "\">\n<script defer src=\"");
	static_href(h, "otcm.js");
	html_raw(h, "\"></script>\n");
	if (p->user.csrf_token) {
		/* for the script's API calls; the same token the forms carry */
		html_raw(h, "<meta name=\"otcm-csrf\" content=\"");
		html_attr(h, p->user.csrf_token);
		html_raw(h, "\">\n");
	}
	html_raw(h, "</head>\n<body>\n<a class=\"skip\" href=\"#main\">Skip to content</a>\n"
		    "<header class=\"top\">\n<a class=\"brand\" href=\"/\">otcm</a>\n");
	if (p->user.username) {
		html_raw(h, "<nav aria-label=\"main\">");
		nav_item(h, p, "home", "/", "My work");
		nav_item(h, p, "assets", "/assets", "Assets");
		nav_item(h, p, "changes", "/changes", "Changes");
		if (!role_is(p, "agent")) {
			nav_item(h, p, "advisories", "/advisories", "Advisories");
			nav_item(h, p, "plant", "/plant", "Plant");
			nav_item(h, p, "incidents", "/incidents", "Incidents");
		}
		if (role_is(p, "auditor") || role_is(p, "admin")) {
			nav_item(h, p, "reports", "/reports", "Reports");
			nav_item(h, p, "samples", "/samples", "Samples");
			nav_item(h, p, "audit", "/audit", "Audit trail");
		}
		if (role_is(p, "admin")) {
			nav_item(h, p, "users", "/admin/users", "Users");
			nav_item(h, p, "admin-assets", "/admin/assets", "Manage assets");
			nav_item(h, p, "webhooks", "/admin/webhooks", "Webhooks");
			nav_item(h, p, "directory", "/admin/directory", "Directory");
		}
		html_raw(h, "</nav>\n<div class=\"who\"><a href=\"/profile\" title=\"my profile: ");
		html_attr(h, p->user.username);
		html_raw(h, "\"");
		if (p->section && strcmp(p->section, "profile") == 0)
			html_raw(h, " aria-current=\"page\"");
		html_raw(h, ">");
		html_text(h, p->user.display_name && *p->user.display_name ? p->user.display_name
									   : p->user.username);
		html_raw(h, "</a> <span class=\"role\">");
		html_text(h, p->user.role);
		html_raw(h, "</span>");
		if (p->user.csrf_token) {
			html_raw(h, "<form method=\"post\" action=\"/logout\" class=\"inline\">");
			layout_csrf_field(h, p);
			html_raw(h, "<button type=\"submit\" class=\"link\">Log out</button></form>");
		}
		html_raw(h, "</div>\n");
	}
	html_raw(h, "</header>\n<main id=\"main\">\n");
}

void layout_end(struct html *h)
{
	html_raw(h, "</main>\n<footer class=\"foot\">otcm - all times are the server's clock, UTC</footer>\n"
		    "</body>\n</html>\n");
}

void layout_csrf_field(struct html *h, const struct web_page *p)
{
	if (!p->user.csrf_token)
		return;
	html_raw(h, "<input type=\"hidden\" name=\"csrf_token\" value=\"");
	html_attr(h, p->user.csrf_token);
	html_raw(h, "\">");
}

void layout_notice(struct html *h, const char *kind, const char *message)
{
	if (!message)
		return;
	html_raw(h, "<p class=\"notice notice-");
	html_attr(h, kind);
	html_raw(h, "\" role=\"");
	html_raw(h, strcmp(kind, "error") == 0 ? "alert" : "status");
	html_raw(h, "\">");
	html_text(h, message);
	html_raw(h, "</p>\n");
}
