/*
 * web/layout.h - the frame every page shares: the document head with the
 * stylesheet and script (content-hashed URLs), the top bar with navigation
 * and the logged-in user, and the closing tags.  Also the embedded static
 * files themselves (core/embed.h), found by name for /static/{name}.
 *
 * Pages are rendered into a struct html (web/html.h).
 *
 * Thread-safety: all functions are thread-safe.
 */
#ifndef OTCM_WEB_LAYOUT_H
#define OTCM_WEB_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>

#include "web/html.h"

/* Who is looking at a page; all members NULL for an anonymous visitor. */
struct web_user {
	const char *username;
	const char *display_name;
	const char *role;            /* "engineer", ... */
	const char *csrf_token;      /* the session's token for forms; NULL with a bearer token */
};

/* What the frame needs to know about one page. */
struct web_page {
	const char *title;           /* <title>, followed by " - otcm" */
	const char *section;         /* navigation entry to mark: "home", "assets", "changes",
				        "reports", "audit", "users", "admin-assets", "webhooks",
				        "profile", "advisories", "plant",
				        "incidents" */
	struct web_user user;
};

/* Doctype, head, top bar, and the opening <main>. */
void layout_begin(struct html *h, const struct web_page *p);

/* Closing </main>, footer and </html>. */
void layout_end(struct html *h);

/* <input type=hidden name=csrf_token> with the session's token (nothing without one). */
void layout_csrf_field(struct html *h, const struct web_page *p);

/* A notice box: kind "error", "ok" or "info"; message escaped; NULL message: nothing. */
void layout_notice(struct html *h, const char *kind, const char *message);

/* One embedded static file. */
struct web_static {
	const char *name;            /* "otcm.css" */
	const char *data;
	size_t len;
	const char *content_type;
	char hash[17];               /* first 16 hex digits of the SHA-256 of data */
};

/* Find static file `name` ("otcm.css"); false when there is none. */
bool web_static_find(struct web_static *out, const char *name);

#endif
