/*
 * web/page_incidents.c - the incident pages: the list with each
 * incident's next reporting deadline and a form to record one, and one
 * incident with its NIS2 Art. 23 deadlines counting down (the server
 * renders the time left; otcm.js keeps it ticking), its reports, links
 * and signed review.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "web/pages.h"

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* "2 d 03 h 12 min" for a number of seconds. */
static void span_text(char *out, size_t n, int64_t s)
{
	if (s >= 86400)
		snprintf(out, n, "%" PRId64 " d %02" PRId64 " h %02" PRId64 " min", s / 86400, s % 86400 / 3600,
			 s % 3600 / 60);
	else
		snprintf(out, n, "%" PRId64 " h %02" PRId64 " min %02" PRId64 " s", s / 3600, s % 3600 / 60, s % 60);
}

/* One deadline's state: met, late, overdue, or the time left with a ticking countdown. */
static void deadline_state(struct html *h, const json_t *dl)
{
	const char *status = str(dl, "status");
	char left[64];

	if (!strcmp(status, "met")) {
		html_raw(h, "<span class=\"good\">met</span> (sent ");
		html_text(h, str(dl, "sent_at"));
		html_raw(h, ")");
	} else if (!strcmp(status, "late")) {
		html_raw(h, "<span class=\"bad\">sent late</span> (");
		html_text(h, str(dl, "sent_at"));
		html_raw(h, ")");
	} else if (!strcmp(status, "overdue")) {
		html_raw(h, "<strong class=\"bad\">overdue</strong>");
	} else if (json_is_integer(json_object_get(dl, "seconds_left"))) {
		span_text(left, sizeof(left), json_integer_value(json_object_get(dl, "seconds_left")));
		html_raw(h, "<span class=\"countdown\" data-due=\"");
		html_attr(h, str(dl, "due_at"));
		html_raw(h, "\">");
		html_text(h, left);
		html_raw(h, " left</span>");
	} else {
		html_raw(h, "<span class=\"muted\">not yet due</span>");
	}
}

/* The first deadline not met, for the list; "" when none is open. */
static void next_deadline(struct html *h, const json_t *inc)
{
	const json_t *dl;
	size_t i;

	json_array_foreach(json_object_get(inc, "deadlines"), i, dl) {
		const char *status = str(dl, "status");

		if (!strcmp(status, "met") || !strcmp(status, "late"))
			continue;
		html_text(h, str(dl, "obligation"));
		html_raw(h, ": ");
		deadline_state(h, dl);
		return;
	}
	if (!json_is_string(json_object_get(inc, "significant_at")))
		html_raw(h, "<span class=\"muted\">not significant</span>");
	else
		html_raw(h, "<span class=\"good\">all reports sent</span>");
}

static void option(struct html *h, const char *value, const char *picked)
{
	html_raw(h, "<option value=\"");
	html_attr(h, value);
	html_raw(h, picked && !strcmp(picked, value) ? "\" selected>" : "\">");
	html_text(h, value);
	html_raw(h, "</option>");
}

static void create_form(struct html *h, const struct web_page *p, const json_t *values, const char *error)
{
	static const char *const categories[] = {
		"malware", "ransomware", "unauthorised_access", "unauthorised_change", "denial_of_service",
		"data_breach", "supply_chain", "physical", "misconfiguration", "other", NULL
	};
	static const char *const severities[] = { "low", "medium", "high", "critical", NULL };
	size_t i;

	html_raw(h, "<h2>Record an incident</h2>\n");
	if (error)
		layout_notice(h, "error", error);
	html_raw(h, "<form class=\"stack panel wide\" method=\"post\" action=\"/incidents/new\">\n");
	layout_csrf_field(h, p);
	html_raw(h, "<label for=\"title\">Title</label>\n<input type=\"text\" id=\"title\" name=\"title\" "
		    "maxlength=\"200\" required value=\"");
	html_attr(h, str(values, "title"));
	html_raw(h, "\">\n<label for=\"category\">Category</label>\n<select id=\"category\" name=\"category\">");
	for (i = 0; categories[i]; i++)
		option(h, categories[i], str(values, "category"));
	html_raw(h, "</select>\n<label for=\"severity\">Severity</label>\n<select id=\"severity\" name=\"severity\">");
	for (i = 0; severities[i]; i++)
		option(h, severities[i], str(values, "severity"));
	html_raw(h, "</select>\n<label for=\"description\">What happened</label>\n"
		    "<textarea rows=\"4\" id=\"description\" name=\"description\">");
	html_text(h, str(values, "description"));
	html_raw(h, "</textarea>\n<label for=\"assets\">Affected assets <span class=\"hint\">- asset ids, "
		    "separated by commas</span></label>\n<input type=\"text\" id=\"assets\" name=\"assets\">\n"
		    "<label><input type=\"checkbox\" name=\"significant\" value=\"yes\"> judged significant now "
		    "(NIS2 Art. 23: the reporting deadlines start)</label>\n"
		    "<button type=\"submit\">Record the incident</button>\n</form>\n");
}

void page_incidents(struct html *h, const struct web_page *p, const json_t *list, bool open_only,
		    const json_t *values, const char *error)
{
	const json_t *items = json_object_get(list, "items"), *x;
	size_t i;

	layout_begin(h, p);
	html_raw(h, "<h1>Incidents</h1>\n<p>Cyber incidents and their reporting deadlines under NIS2 "
		    "Art. 23, counted from the moment an incident was judged significant (server time ");
	html_text(h, str(list, "now"));
	html_raw(h, "). ");
	html_raw(h, open_only ? "<a href=\"/incidents\">Show all</a>" : "<a href=\"/incidents?open=true\">Open only</a>");
	html_raw(h, "</p>\n");
	if (!json_array_size(items)) {
		html_raw(h, "<p class=\"muted\">No incident has been recorded.</p>\n");
	} else {
		html_raw(h, "<table>\n<thead><tr><th>Incident</th><th>Title</th><th>Severity</th><th>State</th>"
			    "<th>Judged significant</th><th>Next deadline</th></tr></thead>\n<tbody>\n");
		json_array_foreach(items, i, x) {
			html_raw(h, "<tr><td><a href=\"/incidents/");
			html_url(h, str(x, "key"));
			html_raw(h, "\">");
			html_text(h, str(x, "key"));
			html_raw(h, "</a></td><td>");
			html_text(h, str(x, "title"));
			html_raw(h, "</td><td>");
			html_text(h, str(x, "severity"));
			html_raw(h, "</td><td>");
			html_text(h, str(x, "state"));
			html_raw(h, "</td><td>");
			html_text(h, str(x, "significant_at"));
			html_raw(h, "</td><td>");
			next_deadline(h, x);
			html_raw(h, "</td></tr>\n");
		}
		html_raw(h, "</tbody></table>\n");
	}
	if (p->user.role && strcmp(p->user.role, "auditor"))
		create_form(h, p, values, error);
	layout_end(h);
}

static void row(struct html *h, const char *label, const char *value)
{
	html_raw(h, "<tr><th>");
	html_text(h, label);
	html_raw(h, "</th><td>");
	html_text(h, value);
	html_raw(h, "</td></tr>\n");
}

/* The forms of an open incident (and its report form once closed), by the user's role. */
static void incident_forms(struct html *h, const struct web_page *p, const json_t *inc)
{
	static const char *const kinds[] = { "early_warning", "notification", "intermediate", "progress", "final",
					     NULL };
	static const char *const links[] = { "audit_event", "change", "test_run", "readback", NULL };
	const char *key = str(inc, "key"), *role = p->user.role ? p->user.role : "";
	bool open = !strcmp(str(inc, "state"), "open");
	bool significant = json_is_string(json_object_get(inc, "significant_at"));
	size_t i;

	if (!strcmp(role, "auditor") || !strcmp(role, "agent") || !*role)
		return;
	if (open) {
		html_raw(h, "<h2>Act on the incident</h2>\n<form class=\"inline\" method=\"post\" action=\"/incidents/");
		html_url(h, key);
		html_raw(h, "/edit\">");
		layout_csrf_field(h, p);
		if (!significant)
			html_raw(h, "<button type=\"submit\" name=\"action\" value=\"significant\">Judge significant now "
				    "(the NIS2 deadlines start)</button> ");
		html_raw(h, "<button type=\"submit\" name=\"action\" value=\"close\">Close the incident</button></form>\n");
	}
	if (significant) {
		html_raw(h, "<h3>Record a report sent</h3>\n<form class=\"stack panel\" method=\"post\" "
			    "enctype=\"multipart/form-data\" action=\"/incidents/");
		html_url(h, key);
		html_raw(h, "/reports\">");
		layout_csrf_field(h, p);
		html_raw(h, "<label for=\"kind\">Kind</label><select id=\"kind\" name=\"kind\">");
		for (i = 0; kinds[i]; i++)
			option(h, kinds[i], NULL);
		html_raw(h, "</select>\n<label for=\"authority\">Authority</label><input type=\"text\" id=\"authority\" "
			    "name=\"authority\" maxlength=\"200\" required>\n<label for=\"reference\">Its reference</label>"
			    "<input type=\"text\" id=\"reference\" name=\"reference\" maxlength=\"200\">\n"
			    "<label for=\"file\">The document as sent</label><input type=\"file\" id=\"file\" name=\"file\" "
			    "required>\n<button type=\"submit\">Record the report</button></form>\n");
	}
	if (!open)
		return;
	html_raw(h, "<h3>Link</h3>\n<form class=\"stack panel\" method=\"post\" action=\"/incidents/");
	html_url(h, key);
	html_raw(h, "/links\">");
	layout_csrf_field(h, p);
	html_raw(h, "<label for=\"link-kind\">What</label><select id=\"link-kind\" name=\"kind\">");
	for (i = 0; links[i]; i++)
		option(h, links[i], NULL);
	html_raw(h, "</select>\n<label for=\"ref\">Reference <span class=\"hint\">- the event's seq, CHG-n, or "
		    "the run's or read-back's id</span></label><input type=\"text\" id=\"ref\" name=\"ref\" maxlength=\"64\" "
		    "required>\n<label for=\"note\">Note</label><input type=\"text\" id=\"note\" name=\"note\">\n"
		    "<button type=\"submit\">Link</button></form>\n");
	if (strcmp(role, "approver"))
		return;
	html_raw(h, "<h3>Sign the post-incident review</h3>\n<form class=\"stack panel\" method=\"post\" "
		    "action=\"/incidents/");
	html_url(h, key);
	html_raw(h, "/review\">");
	layout_csrf_field(h, p);
	html_raw(h, "<label for=\"comment\">Review <span class=\"hint\">- root cause, what was done, what "
		    "changes</span></label><textarea rows=\"4\" id=\"comment\" name=\"comment\" required></textarea>\n"
		    "<label for=\"password\">Your password, to sign</label><input type=\"password\" id=\"password\" "
		    "name=\"password\" autocomplete=\"current-password\" required>\n<label for=\"totp_code\">One-time "
		    "code <span class=\"hint\">- when enrolled</span></label><input type=\"text\" id=\"totp_code\" "
		    "name=\"totp_code\" inputmode=\"numeric\" autocomplete=\"one-time-code\">\n"
		    "<button type=\"submit\">Sign as reviewed</button></form>\n");
}

void page_incident(struct html *h, const struct web_page *p, const json_t *inc, const char *done,
		   const char *error)
{
	const char *key = str(inc, "key");
	const json_t *x;
	size_t i;

	layout_begin(h, p);
	html_raw(h, "<div class=\"crumbs\"><a href=\"/incidents\">Incidents</a></div>\n<h1>");
	html_text(h, key);
	html_raw(h, ": ");
	html_text(h, str(inc, "title"));
	html_raw(h, "</h1>\n");
	if (done && !strcmp(done, "created"))
		layout_notice(h, "ok", "The incident is recorded.");
	else if (done && !strcmp(done, "reported"))
		layout_notice(h, "ok", "The report is recorded with its document's SHA-256.");
	else if (done && !strcmp(done, "reviewed"))
		layout_notice(h, "ok", "The review is signed.");
	else if (done && (!strcmp(done, "updated") || !strcmp(done, "linked") || !strcmp(done, "closed")))
		layout_notice(h, "ok", "Saved.");
	layout_notice(h, "error", error);
	html_raw(h, "<table class=\"facts\">\n");
	row(h, "State", str(inc, "state"));
	row(h, "Category", str(inc, "category"));
	row(h, "Severity", str(inc, "severity"));
	row(h, "Recorded (detected)", str(inc, "detected_at"));
	row(h, "Judged significant", json_is_string(json_object_get(inc, "significant_at"))
					      ? str(inc, "significant_at") : "not significant");
	row(h, "Recorded by", str(inc, "created_by"));
	if (json_is_string(json_object_get(inc, "closed_at")))
		row(h, "Closed", str(inc, "closed_at"));
	html_raw(h, "<tr><th>Affected assets</th><td>");
	json_array_foreach(json_object_get(inc, "assets"), i, x) {
		html_raw(h, i ? ", <a href=\"/assets/" : "<a href=\"/assets/");
		html_int(h, json_integer_value(json_object_get(x, "id")));
		html_raw(h, "\">");
		html_text(h, str(x, "path"));
		html_raw(h, "</a>");
	}
	html_raw(h, "</td></tr>\n</table>\n<p>");
	html_text(h, str(inc, "description"));
	html_raw(h, "</p>\n<h2>Reporting deadlines (NIS2 Art. 23)</h2>\n");
	if (!json_array_size(json_object_get(inc, "deadlines"))) {
		html_raw(h, "<p class=\"muted\">Not judged significant: no reporting obligation runs.</p>\n");
	} else {
		html_raw(h, "<table>\n<thead><tr><th>Obligation</th><th>Article</th><th>Due</th><th>Counted</th>"
			    "<th>State</th></tr></thead>\n<tbody>\n");
		json_array_foreach(json_object_get(inc, "deadlines"), i, x) {
			html_raw(h, "<tr><td>");
			html_text(h, str(x, "obligation"));
			html_raw(h, "</td><td>");
			html_text(h, str(x, "article"));
			html_raw(h, "</td><td>");
			html_text(h, json_is_string(json_object_get(x, "due_at")) ? str(x, "due_at") : "not yet known");
			html_raw(h, "</td><td>");
			html_text(h, str(x, "basis"));
			html_raw(h, "</td><td>");
			deadline_state(h, x);
			html_raw(h, "</td></tr>\n");
		}
		html_raw(h, "</tbody></table>\n");
	}
	html_raw(h, "<h2>Reports sent</h2>\n");
	if (!json_array_size(json_object_get(inc, "reports")))
		html_raw(h, "<p class=\"muted\">None yet.</p>\n");
	else
		html_raw(h, "<table>\n<thead><tr><th>Kind</th><th>Authority</th><th>Reference</th><th>Sent</th>"
			    "<th>By</th><th>Document</th><th>SHA-256</th></tr></thead>\n<tbody>\n");
	json_array_foreach(json_object_get(inc, "reports"), i, x) {
		html_raw(h, "<tr><td>");
		html_text(h, str(x, "kind"));
		html_raw(h, "</td><td>");
		html_text(h, str(x, "authority"));
		html_raw(h, "</td><td>");
		html_text(h, str(x, "reference"));
		html_raw(h, "</td><td>");
		html_text(h, str(x, "sent_at"));
		html_raw(h, "</td><td>");
		html_text(h, str(x, "sent_by"));
		html_raw(h, "</td><td><a href=\"/api/v1/incidents/");
		html_url(h, key);
		html_raw(h, "/reports/");
		html_int(h, json_integer_value(json_object_get(x, "id")));
		html_raw(h, "\">");
		html_text(h, str(x, "filename"));
		html_raw(h, "</a></td><td><code>");
		html_text(h, str(x, "sha256"));
		html_raw(h, "</code></td></tr>\n");
	}
	if (json_array_size(json_object_get(inc, "reports")))
		html_raw(h, "</tbody></table>\n");
	html_raw(h, "<h2>Linked events, changes and test runs</h2>\n<ul>\n");
	json_array_foreach(json_object_get(inc, "links"), i, x) {
		const char *kind = str(x, "kind");

		html_raw(h, "<li>");
		if (!strcmp(kind, "change")) {
			html_raw(h, "change <a href=\"/changes/");
			html_url(h, str(x, "ref"));
			html_raw(h, "\">");
			html_text(h, str(x, "ref"));
			html_raw(h, "</a>");
		} else if (!strcmp(kind, "test_run")) {
			html_raw(h, "test run <a href=\"/test-runs/");
			html_url(h, str(x, "ref"));
			html_raw(h, "\">");
			html_text(h, str(x, "ref"));
			html_raw(h, "</a>");
		} else if (!strcmp(kind, "readback")) {
			html_raw(h, "read-back ");
			html_text(h, str(x, "ref"));
		} else {
			html_raw(h, "audit event ");
			html_text(h, str(x, "ref"));
		}
		if (*str(x, "note")) {
			html_raw(h, ": ");
			html_text(h, str(x, "note"));
		}
		html_raw(h, "</li>\n");
	}
	html_raw(h, "</ul>\n<h2>Post-incident review</h2>\n");
	if (!json_array_size(json_object_get(inc, "reviews")))
		html_raw(h, "<p class=\"muted\">Not reviewed yet: an approver signs the review.</p>\n");
	json_array_foreach(json_object_get(inc, "reviews"), i, x) {
		html_raw(h, "<p>Reviewed by ");
		html_text(h, str(x, "printed_name"));
		html_raw(h, " (");
		html_text(h, str(x, "role"));
		html_raw(h, ") at ");
		html_text(h, str(x, "signed_at"));
		html_raw(h, ", re-authenticated with ");
		html_text(h, str(x, "reauthenticated_with"));
		html_raw(h, "; SHA-256 of what was signed <code>");
		html_text(h, str(x, "content_sha256"));
		html_raw(h, "</code></p>\n");
	}
	html_raw(h, "<p><a href=\"/api/v1/incidents/");
	html_url(h, key);
	html_raw(h, "/evidence\">Evidence bundle</a> (verify it offline with <code>otcm verify</code>)</p>\n");
	incident_forms(h, p, inc);
	layout_end(h);
}
