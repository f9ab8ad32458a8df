/*
 * web/page_profile.c - the caller's own page: name and role, one-time codes
 * (enrol, confirm with a first code) and API tokens (issue, list, revoke).
 * A new token and a new TOTP secret are shown once, on the answer to the
 * form that made them.
 */
#include <string.h>

#include "web/pages.h"

static void profile_fields(struct html *h, const json_t *user)
{
	html_raw(h, "<dl class=\"fields\"><dt>User name</dt><dd><code>");
	html_text(h, web_str(user, "username"));
	html_raw(h, "</code></dd><dt>Name</dt><dd>");
	html_text(h, web_str(user, "display_name"));
	html_raw(h, "</dd><dt>Role</dt><dd>");
	html_text(h, web_str(user, "role"));
	html_raw(h, "</dd><dt>E-mail</dt><dd>");
	if (web_str(user, "email") && *web_str(user, "email"))
		html_text(h, web_str(user, "email"));
	else
		html_raw(h, "<span class=\"muted\">-</span>");
	html_raw(h, "</dd><dt>Since</dt><dd>");
	web_time(h, web_str(user, "created_at"));
	html_raw(h, "</dd></dl>\n<p class=\"muted\">An administrator changes names and roles.</p>\n");
}

/* A password field for the one-time code forms: each asks for the password again. */
static void totp_password_field(struct html *h, const char *id)
{
	html_raw(h, "<label for=\"");
	html_attr(h, id);
	html_raw(h, "\">Your password</label><input type=\"password\" id=\"");
	html_attr(h, id);
	html_raw(h, "\" name=\"password\" autocomplete=\"current-password\" required>");
}

static void totp_section(struct html *h, const struct web_page *p, const char *totp,
			 const struct web_profile_once *once)
{
	bool fresh = once && once->totp_secret;

	html_raw(h, "<section class=\"panel\" id=\"totp\"><h2>One-time codes</h2>\n");
	if (strcmp(totp, "enabled") == 0) {
		html_raw(h, "<p><span class=\"badge badge-ok\">on</span> Logging in and signing ask for "
			    "the six-digit code of your authenticator app. To move to another device, give "
			    "your password and a code of the old one; if the old device is lost, ask an "
			    "administrator to reset your codes.</p>\n"
			    "<form class=\"stack\" method=\"post\" action=\"/profile/totp\">");
		layout_csrf_field(h, p);
		totp_password_field(h, "totp_password");
		html_raw(h, "<label for=\"totp_current\">Code from the old device</label>"
			    "<input type=\"text\" id=\"totp_current\" name=\"totp_code\" inputmode=\"numeric\" "
			    "pattern=\"[0-9]{6}\" maxlength=\"6\" autocomplete=\"one-time-code\" required>"
			    "<div><button type=\"submit\" class=\"secondary\">Move to another device</button></div>"
			    "</form>\n</section>\n");
		return;
	}
	if (fresh) {
		html_raw(h, "<ol class=\"howto\"><li>In your authenticator app, add an account by hand "
			    "with this secret (time-based, 6 digits, 30 seconds), or paste the whole "
			    "address into an app that takes <code>otpauth://</code> links.</li>\n"
			    "<li>Type the code the app shows now, with your password.</li></ol>\n"
			    "<dl class=\"fields\"><dt>Secret</dt>"
			    "<dd><code class=\"secret\" data-once=\"totp-secret\">");
		html_text(h, once->totp_secret);
		html_raw(h, "</code></dd><dt>Address</dt><dd><code class=\"secret wrap\" data-once=\"totp-uri\">");
		html_text(h, once->totp_uri);
		html_raw(h, "</code></dd></dl>\n<p class=\"muted\">This secret is shown only now. "
			    "Keep it out of screenshots and e-mail.</p>\n");
	} else if (strcmp(totp, "pending") == 0) {
		html_raw(h, "<p><span class=\"badge badge-warn\">not confirmed</span> Enrolment was started "
			    "but no code confirmed it yet. Type the code your app shows, or start again for a "
			    "new secret.</p>\n");
	} else {
		html_raw(h, "<p><span class=\"badge\">off</span> Protect your logins and signatures with "
			    "an authenticator app (RFC 6238 codes). Once on, every login and every signature "
			    "asks for a code.</p>\n");
	}
	if (fresh || strcmp(totp, "pending") == 0) {
		html_raw(h, "<form class=\"stack\" method=\"post\" action=\"/profile/totp/confirm\">");
		layout_csrf_field(h, p);
		totp_password_field(h, "totp_confirm_password");
		html_raw(h, "<label for=\"totp_code\">Code from the app</label>"
			    "<input type=\"text\" id=\"totp_code\" name=\"totp_code\" inputmode=\"numeric\" "
			    "pattern=\"[0-9]{6}\" maxlength=\"6\" autocomplete=\"one-time-code\" required>"
			    "<div><button type=\"submit\">Turn on one-time codes</button></div></form>\n");
	}
	html_raw(h, "<form class=\"stack\" method=\"post\" action=\"/profile/totp\">");
	layout_csrf_field(h, p);
	totp_password_field(h, "totp_password");
	html_raw(h, strcmp(totp, "none") == 0 && !fresh
		    ? "<div><button type=\"submit\">Set up one-time codes</button></div>"
		    : "<div><button type=\"submit\" class=\"secondary\">Start again with a new secret</button></div>");
	html_raw(h, "</form>\n</section>\n");
}

static void tokens_section(struct html *h, const struct web_page *p, const json_t *tokens,
			   const struct web_profile_once *once)
{
	const json_t *t;
	size_t i;

	html_raw(h, "<section class=\"panel\" id=\"tokens\"><h2>API tokens</h2>\n"
		    "<p class=\"muted\">For scripts and the <code>otcm</code> command line: send as "
		    "<code>Authorization: Bearer &lt;token&gt;</code>. A token acts as you, with your role.</p>\n");
	if (once && once->token) {
		html_raw(h, "<div class=\"notice notice-info\" role=\"status\"><p>Your new token <strong>");
		html_text(h, once->token_name);
		html_raw(h, "</strong>. Copy it now: it is not shown again, and only its digest is "
			    "stored.</p><p><code class=\"secret wrap\" data-once=\"token\">");
		html_text(h, once->token);
		html_raw(h, "</code></p></div>\n");
	}
	if (json_array_size(tokens) == 0) {
		html_raw(h, "<p class=\"muted\">You have no tokens.</p>\n");
	} else {
		html_raw(h, "<div class=\"table-wrap\"><table><thead><tr><th>name</th><th>issued</th>"
			    "<th>expires</th><th>last used</th><th>state</th><th></th></tr></thead><tbody>\n");
		json_array_foreach(tokens, i, t) {
			bool revoked = json_is_true(json_object_get(t, "revoked"));

			html_raw(h, "<tr><td>");
			html_text(h, web_str(t, "name"));
			html_raw(h, "</td><td>");
			web_time(h, web_str(t, "created_at"));
			html_raw(h, "</td><td>");
			if (web_str(t, "expires_at"))
				web_time(h, web_str(t, "expires_at"));
			else
				html_raw(h, "<span class=\"muted\">never</span>");
			html_raw(h, "</td><td>");
			web_time(h, web_str(t, "last_used_at"));
			html_raw(h, "</td><td>");
			html_raw(h, revoked ? "<span class=\"badge badge-bad\">revoked</span>"
					    : "<span class=\"badge badge-ok\">active</span>");
			html_raw(h, "</td><td>");
			if (!revoked) {
				html_raw(h, "<form method=\"post\" class=\"inline\" action=\"/profile/tokens/");
				html_int(h, json_integer_value(json_object_get(t, "id")));
				html_raw(h, "/revoke\">");
				layout_csrf_field(h, p);
				html_raw(h, "<button type=\"submit\" class=\"secondary\" data-confirm=\"Revoke this "
					    "token? Scripts using it stop working.\">Revoke</button></form>");
			}
			html_raw(h, "</td></tr>\n");
		}
		html_raw(h, "</tbody></table></div>\n");
	}
	html_raw(h, "<form class=\"stack\" method=\"post\" action=\"/profile/tokens\">");
	layout_csrf_field(h, p);
	html_raw(h, "<h3>Issue a token</h3><label for=\"token_name\">Name <span class=\"hint\">what uses it, "
		    "e.g. \"line 3 collection agent\"</span></label>"
		    "<input type=\"text\" id=\"token_name\" name=\"name\" maxlength=\"100\" required>"
		    "<label for=\"expires_in_days\">Expires after <span class=\"hint\">days; empty: never"
		    "</span></label><input type=\"number\" id=\"expires_in_days\" name=\"expires_in_days\" "
		    "min=\"1\" max=\"3650\" value=\"90\">"
		    "<div><button type=\"submit\">Issue token</button></div></form>\n</section>\n");
}

void page_profile(struct html *h, const struct web_page *p, const json_t *user,
		  const json_t *tokens, const char *totp, bool via_token,
		  const struct web_profile_once *once, const char *notice_kind, const char *notice)
{
	layout_begin(h, p);
	html_raw(h, "<h1>My profile</h1>\n");
	layout_notice(h, notice_kind ? notice_kind : "info", notice);
	profile_fields(h, user);
	if (via_token) {
		layout_notice(h, "info", "You are using an API token: log in with your password to "
			      "change one-time codes or tokens here.");
		layout_end(h);
		return;
	}
	if (totp)
		totp_section(h, p, totp, once);
	tokens_section(h, p, tokens, once);
	layout_end(h);
}
