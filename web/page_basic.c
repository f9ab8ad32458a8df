/*
 * web/page_basic.c - the pages without much data: errors, the login form,
 * "my work" and the change list.
 */
#include <string.h>

#include "web/pages.h"

void page_error(struct html *h, const struct web_page *p, unsigned status, const char *title,
		const char *detail, const char *request_id)
{
	layout_begin(h, p);
	html_raw(h, "<h1>");
	html_int(h, status);
	html_raw(h, " ");
	html_text(h, title);
	html_raw(h, "</h1>\n");
	layout_notice(h, "error", detail);
	html_raw(h, "<p class=\"muted\">Request id <code>");
	html_text(h, request_id);
	html_raw(h, "</code> - quote it when you report a problem.</p>\n"
		    "<p><a href=\"/\">Back to my work</a></p>\n");
	layout_end(h);
}

void page_login(struct html *h, const struct web_page *p, const char *username, const char *next,
		const char *error, const char *login_token)
{
	layout_begin(h, p);
	html_raw(h, "<h1>Log in</h1>\n");
	layout_notice(h, "error", error);
	html_raw(h, "<form class=\"stack panel\" method=\"post\" action=\"/login\">\n"
		    "<input type=\"hidden\" name=\"login_token\" value=\"");
	html_attr(h, login_token);
	html_raw(h, "\">\n");
	if (next) {
		html_raw(h, "<input type=\"hidden\" name=\"next\" value=\"");
		html_attr(h, next);
		html_raw(h, "\">\n");
	}
	html_raw(h, "<label for=\"username\">User name</label>\n"
		    "<input type=\"text\" id=\"username\" name=\"username\" autocomplete=\"username\" "
		    "autocapitalize=\"none\" spellcheck=\"false\" required autofocus value=\"");
	html_attr(h, username);
	html_raw(h, "\">\n<label for=\"password\">Password</label>\n"
		    "<input type=\"password\" id=\"password\" name=\"password\" "
		    "autocomplete=\"current-password\" required>\n"
		    "<label for=\"totp_code\">One-time code <span class=\"hint\">only if you set up "
		    "an authenticator app</span></label>\n"
		    "<input type=\"text\" id=\"totp_code\" name=\"totp_code\" inputmode=\"numeric\" "
		    "pattern=\"[0-9]{6}\" maxlength=\"6\" autocomplete=\"one-time-code\">\n"
		    "<div><button type=\"submit\">Log in</button></div>\n</form>\n"
		    "<p class=\"muted\">Repeated failed logins slow down, then lock the account; "
		    "an administrator can unlock it.</p>\n");
	layout_end(h);
}

void page_home(struct html *h, const struct web_page *p, const json_t *mine, const json_t *to_sign,
	       const char *to_sign_label, const json_t *overdue)
{
	layout_begin(h, p);
	html_raw(h, "<h1>My work</h1>\n");
	if (json_array_size(overdue)) {
		html_raw(h, "<h2>Emergency changes past their retrospective approval</h2>\n");
		web_change_table(h, overdue, "");
	}
	html_raw(h, "<h2>");
	html_text(h, to_sign_label);
	html_raw(h, "</h2>\n");
	web_change_table(h, to_sign, "Nothing is waiting for you.");
	html_raw(h, "<h2>Changes I requested</h2>\n");
	web_change_table(h, mine, "You have not requested any change.");
	if (json_array_size(overdue) == 0)
		html_raw(h, "<p class=\"muted\">No emergency change is overdue for its retrospective approval.</p>\n");
	layout_end(h);
}

void page_changes(struct html *h, const struct web_page *p, const json_t *changes, const char *state)
{
	static const char *const states[] = { "draft", "submitted", "authorised", "implementing",
		"fat", "approved", "deployed", "sat", "released", "closed", "rejected", "cancelled" };
	size_t i;

	layout_begin(h, p);
	html_raw(h, "<h1>Changes</h1>\n");
	if (p->user.role && (strcmp(p->user.role, "engineer") == 0 || strcmp(p->user.role, "admin") == 0))
		html_raw(h, "<p><a class=\"button\" href=\"/changes/new\">Raise a change</a></p>\n");
	html_raw(h, "<form class=\"searchbar\" method=\"get\" action=\"/changes\">"
		    "<label for=\"state\" class=\"muted\">State</label><select id=\"state\" name=\"state\">"
		    "<option value=\"\">any</option>");
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		html_raw(h, "<option");
		if (state && strcmp(state, states[i]) == 0)
			html_raw(h, " selected");
		html_raw(h, ">");
		html_text(h, states[i]);
		html_raw(h, "</option>");
	}
	html_raw(h, "</select><button type=\"submit\" class=\"secondary\">Filter</button></form>\n");
	web_change_table(h, changes, "No change matches.");
	layout_end(h);
}
