/*
 * web/page_change_form.c - the forms that write a change's own record:
 * raising a change and editing it (the fields, the affected assets picked
 * from the asset register, the planned window), and recording a
 * deployment of one of its versions to a device.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "web/pages.h"

static void text_input(struct html *h, const char *name, const char *label, const char *hint,
		       const char *value, bool required, unsigned maxlength)
{
	html_raw(h, "<label for=\"");
	html_attr(h, name);
	html_raw(h, "\">");
	html_text(h, label);
	if (hint) {
		html_raw(h, " <span class=\"hint\">- ");
		html_text(h, hint);
		html_raw(h, "</span>");
	}
	html_raw(h, "</label>\n<input type=\"text\" id=\"");
	html_attr(h, name);
	html_raw(h, "\" name=\"");
	html_attr(h, name);
	html_rawf(h, "\" maxlength=\"%u\" value=\"", maxlength);
	html_attr(h, value);
	html_raw(h, required ? "\" required>\n" : "\">\n");
}

static void textarea(struct html *h, const char *name, const char *label, const char *hint,
		     const char *value)
{
	html_raw(h, "<label for=\"");
	html_attr(h, name);
	html_raw(h, "\">");
	html_text(h, label);
	if (hint) {
		html_raw(h, " <span class=\"hint\">- ");
		html_text(h, hint);
		html_raw(h, "</span>");
	}
	html_raw(h, "</label>\n<textarea rows=\"4\" id=\"");
	html_attr(h, name);
	html_raw(h, "\" name=\"");
	html_attr(h, name);
	html_raw(h, "\">");
	html_text(h, value);
	html_raw(h, "</textarea>\n");
}

static void choice(struct html *h, const char *name, const char *label, const char *const *choices,
		   const char *const *labels, const char *value)
{
	size_t i;

	html_raw(h, "<label for=\"");
	html_attr(h, name);
	html_raw(h, "\">");
	html_text(h, label);
	html_raw(h, "</label>\n<select id=\"");
	html_attr(h, name);
	html_raw(h, "\" name=\"");
	html_attr(h, name);
	html_raw(h, "\">");
	for (i = 0; choices[i]; i++) {
		html_raw(h, "<option value=\"");
		html_attr(h, choices[i]);
		html_raw(h, "\"");
		if (value && strcmp(value, choices[i]) == 0)
			html_raw(h, " selected");
		html_raw(h, ">");
		html_text(h, labels[i]);
		html_raw(h, "</option>");
	}
	html_raw(h, "</select>\n");
}

/* An RFC 3339 time as a datetime-local value: "2024-05-01T12:00". */
static void local_time_value(struct html *h, const char *t)
{
	if (t && strlen(t) >= 16)
		html_textn(h, t, 16);
}

/* Is asset `id` among `picked` (objects with "id", or ids)? */
static bool picked_has(const json_t *picked, int64_t id)
{
	const json_t *v;
	size_t i;

	json_array_foreach(picked, i, v) {
		const json_t *x = json_is_object(v) ? json_object_get(v, "id") : v;

		if (json_integer_value(x) == id)
			return true;
	}
	return false;
}

void page_change_form(struct html *h, const struct web_page *p, const json_t *change,
		      const json_t *values, const json_t *assets, const char *error)
{
	static const char *const types[] = { "normal", "standard", "emergency", NULL };
	static const char *const type_labels[] = { "normal: authorised, tested and approved before deployment",
		"standard: a pre-approved kind of change", "emergency: may deploy before approval, approved afterwards",
		NULL };
	static const char *const risks[] = { "low", "medium", "high", NULL };
	static const char *const risk_labels[] = { "low", "medium", "high", NULL };
	const char *key = web_str(change, "key"), *state = web_str(change, "state");
	const json_t *window = json_object_get(values, "planned_window");
	const json_t *picked = json_object_get(values, "affected_assets"), *a;
	bool draft = !change || (state && strcmp(state, "draft") == 0);
	bool assets_open = !change || (state && (strcmp(state, "draft") == 0 || strcmp(state, "submitted") == 0));
	size_t i;

	layout_begin(h, p);
	html_raw(h, "<div class=\"crumbs\"><a href=\"/changes\">Changes</a>");
	if (change) {
		html_raw(h, " / <a href=\"/changes/");
		html_url(h, key);
		html_raw(h, "\">");
		html_text(h, key);
		html_raw(h, "</a></div>\n<h1>Edit ");
		html_text(h, key);
		html_raw(h, " ");
		web_state(h, state);
		html_raw(h, "</h1>\n");
	} else {
		html_raw(h, "</div>\n<h1>Raise a change</h1>\n<p class=\"muted\">The change starts as a draft. "
			    "To submit it for authorisation it needs a title, a reason, both plans and at least "
			    "one affected asset.</p>\n");
	}
	layout_notice(h, "error", error);
	if (change && !draft)
		layout_notice(h, "info", "This change has left draft: every edit needs a reason and is kept "
				 "in the audit trail with the old and new values.");
	html_raw(h, "<form class=\"stack panel wide\" method=\"post\" action=\"");
	if (change) {
		html_raw(h, "/changes/");
		html_url(h, key);
		html_raw(h, "/edit\">\n");
	} else {
		html_raw(h, "/changes/new\">\n");
	}
	layout_csrf_field(h, p);
	if (change && !draft)
		text_input(h, "edit_reason", "Reason for this edit", "required once the change left draft",
			   web_str(values, "edit_reason"), true, 2000);
	choice(h, "type", "Type", types, type_labels, web_str(values, "type"));
	text_input(h, "title", "Title", "what changes, in a line", web_str(values, "title"), true, 200);
	textarea(h, "reason", "Reason", "why the plant needs it", web_str(values, "reason"));
	choice(h, "risk", "Risk", risks, risk_labels, web_str(values, "risk") ? web_str(values, "risk") : "medium");
	html_raw(h, "<label class=\"check\"><input type=\"checkbox\" id=\"safety_related\" name=\"safety_related\" "
		    "value=\"on\"");
	if (json_is_true(json_object_get(values, "safety_related")))
		html_raw(h, " checked");
	html_raw(h, "> Safety-related <span class=\"hint\">- touches a safety function or interlock</span></label>\n");
	html_raw(h, "<fieldset><legend>Affected assets");
	if (!assets_open)
		html_raw(h, " <span class=\"hint\">- fixed once the change is authorised</span>");
	html_raw(h, "</legend>\n");
	if (json_array_size(assets) == 0)
		html_raw(h, "<p class=\"muted\">No asset is registered yet: an administrator adds them.</p>\n");
	html_raw(h, "<div class=\"picklist\">\n");
	json_array_foreach(assets, i, a) {
		int64_t id = json_integer_value(json_object_get(a, "id"));

		html_rawf(h, "<label class=\"check\"><input type=\"checkbox\" name=\"asset_%" PRId64 "\" "
			     "value=\"on\" data-asset-path=\"", id);
		html_attr(h, web_str(a, "path"));
		html_raw(h, "\"");
		if (picked_has(picked, id))
			html_raw(h, " checked");
		if (!assets_open)
			html_raw(h, " disabled");
		html_raw(h, "> <code>");
		html_text(h, web_str(a, "path"));
		html_raw(h, "</code> <span class=\"muted\">");
		html_text(h, web_str(a, "type"));
		html_raw(h, "</span></label>\n");
	}
	html_raw(h, "</div></fieldset>\n");
	textarea(h, "implementation_plan", "Implementation plan", "the steps on site, in order",
		 web_str(values, "implementation_plan"));
	textarea(h, "rollback_plan", "Rollback plan", "how to go back if it fails",
		 web_str(values, "rollback_plan"));
	html_raw(h, "<fieldset><legend>Planned window <span class=\"hint\">- server time, UTC</span></legend>\n"
		    "<div class=\"row\"><label for=\"window_start\">from</label>"
		    "<input type=\"datetime-local\" id=\"window_start\" name=\"window_start\" value=\"");
	local_time_value(h, web_str(window, "start"));
	html_raw(h, "\"><label for=\"window_end\">to</label>"
		    "<input type=\"datetime-local\" id=\"window_end\" name=\"window_end\" value=\"");
	local_time_value(h, web_str(window, "end"));
	html_raw(h, "\"></div></fieldset>\n<div><button type=\"submit\">");
	html_text(h, change ? "Save" : "Raise the change");
	html_raw(h, "</button> <a href=\"");
	if (change) {
		html_raw(h, "/changes/");
		html_url(h, key);
	} else {
		html_raw(h, "/changes");
	}
	html_raw(h, "\">cancel</a></div>\n</form>\n");
	layout_end(h);
}

void page_deploy_form(struct html *h, const struct web_page *p, const json_t *change,
		      int64_t asset_id, const char *readback, const char *note, const char *error)
{
	const char *key = web_str(change, "key");

	layout_begin(h, p);
	html_raw(h, "<div class=\"crumbs\"><a href=\"/changes\">Changes</a> / <a href=\"/changes/");
	html_url(h, key);
	html_raw(h, "\">");
	html_text(h, key);
	html_raw(h, "</a></div>\n<h1>Record a deployment of ");
	html_text(h, key);
	html_raw(h, "</h1>\n<p class=\"muted\">Record which version went to which device. A normal change "
		    "deploys only the approved version of each asset. When the device can report a SHA-256 of "
		    "what it runs, enter it: a mismatch with the version's files is flagged and does not "
		    "count as deployed.</p>\n");
	layout_notice(h, "error", error);
	html_raw(h, "<form class=\"stack panel wide\" method=\"post\" action=\"/changes/");
	html_url(h, key);
	html_raw(h, "/deployments/new\">\n");
	layout_csrf_field(h, p);
	html_raw(h, "<fieldset><legend>Asset and version deployed</legend>\n");
	web_asset_choice(h, change, asset_id, true, "no version on the change branch");
	html_raw(h, "</fieldset>\n<label for=\"readback_sha256\">Read-back SHA-256 <span class=\"hint\">- "
		    "optional: 64 hex digits the device or its tool reports</span></label>\n"
		    "<input type=\"text\" id=\"readback_sha256\" name=\"readback_sha256\" maxlength=\"64\" "
		    "pattern=\"[0-9a-fA-F]{64}\" class=\"mono\" value=\"");
	html_attr(h, readback);
	html_raw(h, "\">\n<label for=\"note\">Note <span class=\"hint\">- how and where it was downloaded"
		    "</span></label>\n<input type=\"text\" id=\"note\" name=\"note\" maxlength=\"2000\" value=\"");
	html_attr(h, note);
	html_raw(h, "\">\n<div><button type=\"submit\">Record the deployment</button> <a href=\"/changes/");
	html_url(h, key);
	html_raw(h, "\">cancel</a></div>\n</form>\n");
	layout_end(h);
}
