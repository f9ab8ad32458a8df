/*
 * web/page_change.c - one change ticket: its fields and state, the actions
 * the user may take now (and the greyed ones with the rule that forbids
 * them), each affected asset with its change branch, runs, approvals and
 * deployments, staleness, and the change's audit trail.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "web/pages.h"

static void field(struct html *h, const char *name, const char *value)
{
	html_raw(h, "<dt>");
	html_text(h, name);
	html_raw(h, "</dt><dd>");
	if (value && *value)
		html_text(h, value);
	else
		html_raw(h, "<span class=\"muted\">-</span>");
	html_raw(h, "</dd>");
}

static void time_field(struct html *h, const char *name, const char *t)
{
	html_raw(h, "<dt>");
	html_text(h, name);
	html_raw(h, "</dt><dd>");
	web_time(h, t);
	html_raw(h, "</dd>");
}

static void stale_badge(struct html *h, const json_t *o)
{
	if (json_is_true(json_object_get(o, "stale")))
		html_raw(h, " <span class=\"badge badge-bad\" title=\"made on an earlier version of the "
			    "change branch\">stale</span>");
}

static void actions(struct html *h, const struct web_page *p, const char *key,
		    const struct web_action *acts, size_t n)
{
	size_t i;

	html_raw(h, "<div class=\"panel\"><h3>Actions</h3><div class=\"actions\">\n");
	for (i = 0; i < n; i++) {
		const struct web_action *a = &acts[i];

		html_raw(h, "<div class=\"action\">");
		if (!a->allowed) {
			html_raw(h, "<button type=\"button\" disabled aria-disabled=\"true\">");
			html_text(h, a->label);
			html_raw(h, "</button> <span class=\"why\">");
			html_text(h, a->why ? a->why : "not allowed now");
			if (a->rule) {
				html_raw(h, " <code class=\"rule\" title=\"the rule that forbids it\">");
				html_text(h, a->rule);
				html_raw(h, "</code>");
			}
			html_raw(h, "</span></div>\n");
			continue;
		}
		if (strcmp(a->kind, "upload") == 0) {
			html_raw(h, "<span>");
			html_text(h, a->label);
			html_raw(h, ": <a href=\"#affected\">next to each affected asset</a></span></div>\n");
			continue;
		}
		if (a->href) {
			/* signatures and forms of their own: a page shows what is signed or asks for more */
			html_raw(h, "<a class=\"button\" href=\"");
			html_attr(h, a->href);
			html_raw(h, "\">");
			html_text(h, a->label);
			html_raw(h, "</a></div>\n");
			continue;
		}
		html_raw(h, "<form method=\"post\" class=\"action\" action=\"/changes/");
		html_url(h, key);
		html_raw(h, "/actions\">");
		layout_csrf_field(h, p);
		html_raw(h, "<input type=\"hidden\" name=\"kind\" value=\"");
		html_attr(h, a->kind);
		html_raw(h, "\"><input type=\"hidden\" name=\"value\" value=\"");
		html_attr(h, a->value);
		html_raw(h, "\">");
		if (a->needs_password) {
			html_raw(h, "<input type=\"password\" name=\"password\" required "
				    "autocomplete=\"current-password\" placeholder=\"password to sign\" "
				    "aria-label=\"password to sign\">"
				    "<input type=\"text\" name=\"totp_code\" inputmode=\"numeric\" "
				    "autocomplete=\"one-time-code\" placeholder=\"TOTP code if enrolled\" "
				    "aria-label=\"one-time code, when enrolled\">");
		}
		html_raw(h, "<input type=\"text\" name=\"reason\" placeholder=\"reason or comment\" "
			    "aria-label=\"reason or comment\">");
		html_raw(h, "<button type=\"submit\">");
		html_text(h, a->label);
		html_raw(h, "</button></form></div>\n");
	}
	if (n == 0)
		html_raw(h, "<p class=\"muted\">Nothing more happens to this change.</p>");
	html_raw(h, "</div></div>\n");
}

/* Is any run or signature of the change stale? */
static bool any_stale(const json_t *change)
{
	static const char *const lists[] = { "test_runs", "signatures", NULL };
	const json_t *o;
	size_t i, j;

	for (i = 0; lists[i]; i++)
		json_array_foreach(json_object_get(change, lists[i]), j, o)
			if (json_is_true(json_object_get(o, "stale")))
				return true;
	return false;
}

/* The affected assets, with what was tested, approved and deployed on each. */
static void assets(struct html *h, const json_t *change, bool may_upload)
{
	const json_t *list = json_object_get(change, "affected_assets"), *a;
	const json_t *runs = json_object_get(change, "test_runs");
	const json_t *sigs = json_object_get(change, "signatures");
	const json_t *deps = json_object_get(change, "deployments");
	size_t i, j;

	html_raw(h, "<h2 id=\"affected\">Affected assets</h2>\n");
	if (json_array_size(list) == 0) {
		html_raw(h, "<p class=\"muted\">No asset yet.</p>\n");
		return;
	}
	html_raw(h, "<div class=\"table-wrap\"><table><thead><tr><th>asset</th><th>change branch head</th>"
		    "<th>test runs</th><th>approvals</th><th>deployments</th></tr></thead><tbody>\n");
	json_array_foreach(list, i, a) {
		int64_t id = json_integer_value(json_object_get(a, "id"));
		const char *commit = web_str(a, "commit");
		const json_t *o;
		char sid[24];

		snprintf(sid, sizeof(sid), "%" PRId64, id);
		html_raw(h, "<tr><td><a href=\"/assets/");
		html_int(h, id);
		html_raw(h, "\">");
		html_text(h, web_str(a, "path"));
		html_raw(h, "</a><br><code class=\"muted\">");
		html_text(h, web_str(a, "branch"));
		html_raw(h, "</code></td><td>");
		if (commit) {
			html_raw(h, "<a href=\"/assets/");
			html_int(h, id);
			html_raw(h, "/versions/");
			html_url(h, commit);
			html_raw(h, "\">");
			web_short(h, commit);
			html_raw(h, "</a> <a href=\"/assets/");
			html_int(h, id);
			html_raw(h, "/diff?from=main&amp;to=");
			html_url(h, commit);
			html_raw(h, "\">diff to baseline</a>");
		} else {
			html_raw(h, "<span class=\"muted\">no version yet</span>");
		}
		if (may_upload) {
			html_raw(h, "<br><a href=\"/assets/");
			html_int(h, id);
			html_raw(h, "/upload?change=");
			html_url(h, web_str(change, "key"));
			html_raw(h, "\">upload a version</a>");
		}
		html_raw(h, "</td><td>");
		json_array_foreach(runs, j, o) {
			if (json_integer_value(json_object_get(o, "asset_id")) != id)
				continue;
			html_raw(h, "<div><a href=\"/test-runs/");
			html_int(h, json_integer_value(json_object_get(o, "id")));
			html_raw(h, "\">#");
			html_int(h, json_integer_value(json_object_get(o, "id")));
			html_raw(h, "</a> ");
			html_text(h, web_str(json_object_get(o, "protocol"), "kind"));
			html_raw(h, " ");
			html_text(h, web_str(json_object_get(o, "protocol"), "name"));
			html_raw(h, " <span class=\"badge\">");
			html_text(h, web_str(o, "verdict") ? web_str(o, "verdict") : web_str(o, "state"));
			html_raw(h, "</span>");
			stale_badge(h, o);
			html_raw(h, "</div>");
		}
		html_raw(h, "</td><td>");
		json_array_foreach(sigs, j, o) {
			const json_t *trees = json_object_get(o, "trees");
			const json_t *run = json_object_get(o, "run_id");

			if ((run && !json_is_null(run)) || !json_object_get(trees, sid))
				continue;
			html_raw(h, "<div>");
			html_text(h, web_str(o, "meaning"));
			html_raw(h, " by ");
			html_text(h, web_str(o, "printed_name"));
			stale_badge(h, o);
			html_raw(h, "</div>");
		}
		html_raw(h, "</td><td>");
		json_array_foreach(deps, j, o) {
			if (json_integer_value(json_object_get(o, "asset_id")) != id)
				continue;
			html_raw(h, "<div>");
			web_short(h, web_str(o, "commit"));
			html_raw(h, " by ");
			html_text(h, web_str(o, "deployed_by"));
			if (json_is_true(json_object_get(o, "flagged")))
				html_raw(h, " <span class=\"badge badge-bad\">read-back mismatch</span>");
			if (json_is_false(json_object_get(o, "current")))
				html_raw(h, " <span class=\"badge badge-warn\">not the current tree</span>");
			html_raw(h, "</div>");
		}
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table></div>\n");
	if (any_stale(change))
		html_raw(h, "<p class=\"notice notice-info\"><span class=\"badge badge-bad\">stale</span> marks "
			    "test runs and approvals made on an earlier version of the change branch: a newer "
			    "upload replaced what they tested or approved, so they no longer count. Run the tests "
			    "and approve again on the current version.</p>\n");
}

static void signatures(struct html *h, const char *key, const json_t *sigs)
{
	const json_t *s;
	size_t i;

	html_raw(h, "<h2>Signatures</h2>\n");
	if (json_array_size(sigs) == 0) {
		html_raw(h, "<p class=\"muted\">None yet.</p>\n");
		return;
	}
	html_raw(h, "<div class=\"table-wrap\"><table><thead><tr><th>meaning</th><th>signer</th>"
		    "<th>role</th><th>signed</th><th>re-authenticated</th><th>SHA-256 of what was signed</th>"
		    "</tr></thead><tbody>\n");
	json_array_foreach(sigs, i, s) {
		html_raw(h, "<tr><td><a href=\"/changes/");
		html_url(h, key);
		html_raw(h, "/signatures/");
		html_int(h, json_integer_value(json_object_get(s, "id")));
		html_raw(h, "\" title=\"the signature's manifestation and what was signed\">");
		html_text(h, web_str(s, "meaning"));
		html_raw(h, "</a>");
		if (!json_is_null(json_object_get(s, "run_id")) && json_object_get(s, "run_id")) {
			html_raw(h, " <span class=\"muted\">run #");
			html_int(h, json_integer_value(json_object_get(s, "run_id")));
			html_raw(h, "</span>");
		}
		stale_badge(h, s);
		html_raw(h, "</td><td>");
		html_text(h, web_str(s, "printed_name"));
		html_raw(h, " <span class=\"muted\">(");
		html_text(h, web_str(s, "signer"));
		html_raw(h, ")</span></td><td>");
		html_text(h, web_str(s, "role"));
		html_raw(h, "</td><td>");
		web_time(h, web_str(s, "signed_at"));
		html_raw(h, "</td><td>");
		html_text(h, web_str(s, "reauthenticated_with"));
		html_raw(h, "</td><td>");
		web_short(h, web_str(s, "content_sha256"));
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table></div>\n");
}

static void trail(struct html *h, const json_t *events)
{
	const json_t *e;
	size_t i;

	html_raw(h, "<h2>Audit trail</h2>\n");
	if (json_array_size(events) == 0) {
		html_raw(h, "<p class=\"muted\">No events.</p>\n");
		return;
	}
	html_raw(h, "<div class=\"table-wrap\"><table><thead><tr><th>#</th><th>time</th><th>who</th>"
		    "<th>action</th><th>reason</th></tr></thead><tbody>\n");
	json_array_foreach(events, i, e) {
		html_raw(h, "<tr><td>");
		html_int(h, json_integer_value(json_object_get(e, "seq")));
		html_raw(h, "</td><td>");
		web_time(h, web_str(e, "at"));
		html_raw(h, "</td><td>");
		html_text(h, web_str(e, "actor"));
		html_raw(h, " <span class=\"muted\">");
		html_text(h, web_str(e, "role"));
		html_raw(h, "</span></td><td><code>");
		html_text(h, web_str(e, "action"));
		html_raw(h, "</code>");
		if (json_is_object(json_object_get(e, "after")) &&
		    web_str(json_object_get(e, "after"), "state")) {
			html_raw(h, " &rarr; ");
			html_text(h, web_str(json_object_get(e, "after"), "state"));
		}
		html_raw(h, "</td><td>");
		html_text(h, web_str(e, "reason"));
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table></div>\n");
}

void page_change(struct html *h, const struct web_page *p, const json_t *change,
		 const json_t *events, const struct web_action *acts, size_t nacts,
		 const char *notice_kind, const char *notice)
{
	const char *key = web_str(change, "key");
	const json_t *window = json_object_get(change, "planned_window");
	bool may_upload = false;

	layout_begin(h, p);
	html_raw(h, "<div class=\"crumbs\"><a href=\"/changes\">Changes</a> / ");
	html_text(h, key);
	html_raw(h, "</div>\n<h1>");
	html_text(h, key);
	html_raw(h, " ");
	html_text(h, web_str(change, "title"));
	html_raw(h, " ");
	web_state(h, web_str(change, "state"));
	html_raw(h, "</h1>\n<p><span class=\"badge\">");
	html_text(h, web_str(change, "type"));
	html_raw(h, "</span> <span class=\"badge\">risk ");
	html_text(h, web_str(change, "risk"));
	html_raw(h, "</span>");
	if (json_is_true(json_object_get(change, "safety_related")))
		html_raw(h, " <span class=\"badge badge-bad\">safety-related</span>");
	if (json_is_true(json_object_get(change, "overdue")))
		html_raw(h, " <span class=\"badge badge-bad\">retrospective approval overdue</span>");
	html_raw(h, " <a class=\"evidence\" href=\"/api/v1/changes/");
	html_url(h, key);
	html_raw(h, "/evidence\" download title=\"a signed tar of the ticket, diffs, test runs, signatures and "
		    "audit events, to verify offline with otcm verify or stock tools\">Download the evidence bundle</a>");
	html_raw(h, "</p>\n");
	if (notice)
		layout_notice(h, notice_kind, notice);
	html_raw(h, "<div class=\"grid\">\n<div class=\"panel\"><dl class=\"fields\">");
	field(h, "requester", web_str(change, "requester"));
	time_field(h, "created", web_str(change, "created_at"));
	time_field(h, "updated", web_str(change, "updated_at"));
	time_field(h, "window start", web_str(window, "start"));
	time_field(h, "window end", web_str(window, "end"));
	time_field(h, "deployed", web_str(change, "deployed_at"));
	if (web_str(change, "retrospective_approval_due"))
		time_field(h, "approval due", web_str(change, "retrospective_approval_due"));
	html_raw(h, "</dl></div>\n");
	actions(h, p, key, acts, nacts);
	html_raw(h, "</div>\n<h2>Why and how</h2>\n<div class=\"panel\"><dl class=\"fields\">");
	field(h, "reason", web_str(change, "reason"));
	field(h, "implementation plan", web_str(change, "implementation_plan"));
	field(h, "rollback plan", web_str(change, "rollback_plan"));
	html_raw(h, "</dl></div>\n");
	for (size_t i = 0; i < nacts; i++)
		if (strcmp(acts[i].kind, "upload") == 0 && acts[i].allowed)
			may_upload = true;
	assets(h, change, may_upload);
	signatures(h, key, json_object_get(change, "signatures"));
	trail(h, events);
	layout_end(h);
}
