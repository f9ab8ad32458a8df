/*
 * web/page_audit.c - the auditor's pages: population and exceptions of a
 * period with their checkpoints and the consistency proof between them,
 * and the audit trail browser with the verification of the whole chain.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "web/pages.h"

/* A value of a report row as text: strings, numbers, arrays joined by ", ". */
static void cell_value(struct html *h, const char *key, const json_t *v)
{
	const json_t *e;
	size_t i;

	if (json_is_string(v)) {
		const char *s = json_string_value(v);

		if (strcmp(key, "change") == 0 || strcmp(key, "key") == 0) {
			html_raw(h, "<a href=\"/changes/");
			html_url(h, s);
			html_raw(h, "\">");
			html_text(h, s);
			html_raw(h, "</a>");
		} else if (strlen(s) == 40 && strspn(s, "0123456789abcdef") == 40) {
			web_short(h, s);
		} else if (strlen(s) >= 20 && s[4] == '-' && s[10] == 'T') {
			web_time(h, s);
		} else {
			html_text(h, s);
		}
	} else if (json_is_integer(v)) {
		html_int(h, json_integer_value(v));
	} else if (json_is_boolean(v)) {
		html_raw(h, json_is_true(v) ? "yes" : "no");
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			if (i)
				html_raw(h, ", ");
			if (json_is_object(e)) {
				html_text(h, web_str(e, "asset"));
				html_raw(h, " ");
				web_short(h, web_str(e, "tree"));
			} else {
				cell_value(h, "", e);
			}
		}
	} else if (!json_is_null(v) && v) {
		char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);

		html_raw(h, "<code>");
		html_text(h, text);
		html_raw(h, "</code>");
		free(text);
	}
}

/* A table of report rows with the given columns (keys of the row objects). */
static void report_table(struct html *h, const json_t *rows, const char *const *cols, const char *empty)
{
	const json_t *r;
	size_t i, k;

	if (json_array_size(rows) == 0) {
		html_raw(h, "<p class=\"muted\">");
		html_text(h, empty);
		html_raw(h, "</p>\n");
		return;
	}
	html_raw(h, "<div class=\"table-wrap\"><table><thead><tr>");
	for (k = 0; cols[k]; k++) {
		html_raw(h, "<th>");
		html_text(h, cols[k]);
		html_raw(h, "</th>");
	}
	html_raw(h, "</tr></thead><tbody>\n");
	json_array_foreach(rows, i, r) {
		html_raw(h, "<tr>");
		for (k = 0; cols[k]; k++) {
			html_raw(h, "<td>");
			cell_value(h, cols[k], json_object_get(r, cols[k]));
			html_raw(h, "</td>");
		}
		html_raw(h, "</tr>\n");
	}
	html_raw(h, "</tbody></table></div>\n");
}

/* Tree size, time and root of a checkpoint, as table cells. */
static void checkpoint_cells(struct html *h, const json_t *cp, const char *problem)
{
	html_raw(h, "<td>events 1 to ");
	html_int(h, json_integer_value(json_object_get(cp, "tree_size")));
	html_raw(h, "</td><td>");
	web_time(h, web_str(cp, "at"));
	html_raw(h, "</td><td>");
	web_short(h, web_str(cp, "root_hash"));
	html_raw(h, "</td><td>");
	if (problem) {
		html_raw(h, "<span class=\"badge badge-bad\">does not verify</span> ");
		html_text(h, problem);
	} else {
		html_raw(h, "<span class=\"badge badge-ok\">signature verified</span>");
	}
	html_raw(h, "</td>");
}

/* The query of a report URL: from, to (and what else is written in the source). */
static void period_query(struct html *h, const char *from, const char *to)
{
	html_raw(h, "from=");
	html_url(h, from);
	html_raw(h, "&amp;to=");
	html_url(h, to);
}

static void period_checkpoints(struct html *h, const json_t *population,
			       const struct web_consistency *check)
{
	const json_t *first = json_object_get(population, "start_checkpoint");
	const json_t *second = json_object_get(population, "end_checkpoint");

	html_raw(h, "<section class=\"panel\" id=\"consistency\"><h2>Tied to the audit trail</h2>\n<p>");
	if (check->verified)
		html_raw(h, "<span class=\"badge badge-ok\">consistent</span> Both checkpoints carry the "
			    "server's signature, and the consistency proof between them holds: between the "
			    "start and the end of the period the audit trail was only appended to.");
	else
		html_raw(h, "<span class=\"badge badge-bad\">not verified</span> ");
	html_text(h, check->consistency_problem);
	html_raw(h, "</p>\n<div class=\"table-wrap\"><table><thead><tr><th>checkpoint</th><th>signs</th>"
		    "<th>signed at</th><th>root hash</th><th>check</th></tr></thead><tbody>\n<tr><td>start</td>");
	checkpoint_cells(h, first, check->start_problem);
	html_raw(h, "</tr>\n<tr><td>end</td>");
	checkpoint_cells(h, second, check->end_problem);
	html_raw(h, "</tr>\n</tbody></table></div>\n<p class=\"muted\">The JSON downloads carry both "
		    "signed notes and the proof, to check offline against the server's "
		    "<a href=\"/api/v1/keys/server.pub\">public key</a>.</p>\n</section>\n");
}

static void exceptions_tables(struct html *h, const json_t *exceptions)
{
	static const struct {
		const char *key, *title;
		const char *const cols[9];
	} kinds[] = {
		{ "deployments_without_approval", "Deployments without an approval before them",
		  { "change", "type", "asset", "commit", "deployed_by", "deployed_at", NULL } },
		{ "overdue_emergency_changes", "Emergency changes not approved in time",
		  { "change", "title", "state", "deployed_at", "approval_due", "approved_at", NULL } },
		{ "refused_self_approvals", "Refused self-approvals (segregation of duties)",
		  { "seq", "at", "actor", "role", "object_id", "message", NULL } },
		{ "stale_approvals", "Approvals made stale by a new version",
		  { "seq", "at", "change", "by", "new_commit", "signatures", NULL } },
		{ "readback_mismatches", "Deployments whose read-back differs",
		  { "change", "asset", "tree", "readback_sha256", "deployed_by", "deployed_at", NULL } },
		{ "releases_outside_window", "Releases outside the planned window",
		  { "change", "released_at", "window_start", "window_end", "why", NULL } },
		{ "missing_restore_drills", "Restore drill overdue (SOC 2 A1.3)",
		  { "why", "as_of", "last_passed_at", "max_age_days", NULL } },
		{ "affected_assessments", "Assets assessed affected by an advisory",
		  { "asset", "advisory", "severity", "controls", "assessed_by", "assessed_at", "due_at", NULL } },
		{ "overdue_assessments", "Advisories past their due date, not fixed",
		  { "asset", "advisory", "severity", "status", "due_at", "assessed_by", NULL } },
		{ "readback_drift", "Devices found running what nobody approved, or not read",
		  { "path", "state", "read_at", "error", NULL } },
		{ "stale_readbacks", "Devices without a recent read-back",
		  { "path", "agent", "last_good_at", "max_age_seconds", "as_of", NULL } },
		{ "overdue_incident_reports", "Incident reports overdue or late (NIS2 Art. 23)",
		  { "incident", "obligation", "due_at", "sent_at", "rule", "why", NULL } },
	};
	size_t i, total = 0;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		total += json_array_size(json_object_get(exceptions, kinds[i].key));
	html_raw(h, "<h2 id=\"exceptions\">Exceptions: ");
	html_int(h, (int64_t)total);
	html_raw(h, "</h2>\n");
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const json_t *rows = json_object_get(exceptions, kinds[i].key);

		html_raw(h, "<h3>");
		html_text(h, kinds[i].title);
		html_raw(h, " <span class=\"badge");
		html_raw(h, json_array_size(rows) ? " badge-bad" : "");
		html_raw(h, "\">");
		html_int(h, (int64_t)json_array_size(rows));
		html_raw(h, "</span></h3>\n");
		report_table(h, rows, kinds[i].cols, "None.");
	}
}

/* Per control of the checklist: how many of the period's changes met it, and each exception. */
static void effectiveness_table(struct html *h, const json_t *exceptions)
{
	const json_t *rows = json_object_get(exceptions, "control_effectiveness"), *r, *e;
	size_t i, j;

	html_raw(h, "<h2 id=\"effectiveness\">Control effectiveness</h2>\n<p class=\"muted\">Each control of "
		    "the change checklist over the period's changes, decided as each change's evidence bundle "
		    "decides it.</p>\n<div class=\"table-wrap\"><table><thead><tr><th>control</th><th>met</th>"
		    "<th>not met</th><th>not applicable</th><th>exceptions</th></tr></thead><tbody>\n");
	json_array_foreach(rows, i, r) {
		html_raw(h, "<tr id=\"control-");
		html_attr(h, web_str(r, "id"));
		html_raw(h, "\"><td>");
		html_text(h, web_str(r, "control"));
		html_rawf(h, "</td><td class=\"num\">%" JSON_INTEGER_FORMAT "</td><td class=\"num\"><span "
			     "class=\"badge%s\">%" JSON_INTEGER_FORMAT "</span></td><td class=\"num\">%"
			     JSON_INTEGER_FORMAT "</td><td>",
			  json_integer_value(json_object_get(r, "met")),
			  json_integer_value(json_object_get(r, "not_met")) ? " badge-bad" : "",
			  json_integer_value(json_object_get(r, "not_met")),
			  json_integer_value(json_object_get(r, "not_applicable")));
		json_array_foreach(json_object_get(r, "exceptions"), j, e) {
			html_raw(h, j ? "<br>" : "");
			html_raw(h, "<a href=\"/changes/");
			html_url(h, web_str(e, "key"));
			html_raw(h, "\">");
			html_text(h, web_str(e, "key"));
			html_raw(h, "</a>: ");
			html_text(h, web_str(e, "detail"));
		}
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table></div>\n");
}

void page_reports(struct html *h, const struct web_page *p, const char *from_day, const char *to_day,
		  const char *from, const char *to, const json_t *population, const json_t *exceptions,
		  const struct web_consistency *check, const char *error)
{
	static const char *const cols[] = { "key", "type", "state", "title", "requester", "approvers",
		"testers", "assets", "created_at", "deployed_at", "released_at", NULL };

	layout_begin(h, p);
	html_raw(h, "<h1>Reports</h1>\n<p class=\"muted\">The population lists every change open at some "
		    "time in the period; the exceptions list where the change process was not followed. "
		    "Both are tied to signed checkpoints of the audit trail. Each report you ask for is "
		    "recorded in the audit trail.</p>\n"
		    "<form class=\"searchbar\" method=\"get\" action=\"/reports\" id=\"period\">"
		    "<label for=\"from_day\">From</label><input type=\"date\" id=\"from_day\" name=\"from_day\" "
		    "required value=\"");
	html_attr(h, from_day);
	html_raw(h, "\"><label for=\"to_day\">to, including</label><input type=\"date\" id=\"to_day\" "
		    "name=\"to_day\" required value=\"");
	html_attr(h, to_day);
	html_raw(h, "\"><button type=\"submit\">Show reports</button>"
		    "<span class=\"muted\">days in UTC</span></form>\n");
	layout_notice(h, "error", error);
	if (!population) {
		if (!error)
			html_raw(h, "<p>Choose a period and press <em>Show reports</em>.</p>\n");
		layout_end(h);
		return;
	}
	html_raw(h, "<p>Period ");
	web_time(h, from);
	html_raw(h, " to ");
	web_time(h, to);
	html_raw(h, " (not included). Download: <a download href=\"/api/v1/reports/population?");
	period_query(h, from, to);
	html_raw(h, "&amp;format=csv\" id=\"population-csv\">population (CSV)</a>, "
		    "<a download href=\"/api/v1/reports/population?");
	period_query(h, from, to);
	html_raw(h, "&amp;format=json\">population (JSON)</a>, <a download href=\"/api/v1/reports/exceptions?");
	period_query(h, from, to);
	html_raw(h, "\">exceptions (JSON)</a>.</p>\n");
	period_checkpoints(h, population, check);
	html_raw(h, "<h2 id=\"population\">Population: ");
	html_int(h, (int64_t)json_array_size(json_object_get(population, "items")));
	html_raw(h, json_array_size(json_object_get(population, "items")) == 1 ? " change</h2>\n"
										    : " changes</h2>\n");
	report_table(h, json_object_get(population, "items"), cols, "No change was open in this period.");
	exceptions_tables(h, exceptions);
	effectiveness_table(h, exceptions);
	if (p->user.role && (!strcmp(p->user.role, "auditor") || !strcmp(p->user.role, "admin")))
		html_raw(h, "<p>To test controls on a random sample of this period's changes, draw one on the "
			    "<a href=\"/samples\">samples</a> page.</p>\n");
	layout_end(h);
}

/* ---- the audit trail ---- */

static void verification(struct html *h, const json_t *checkpoint, const struct web_audit_status *st)
{
	html_raw(h, "<section class=\"panel\" id=\"verification\"><h2>Verification</h2>\n<p>");
	html_raw(h, st->verified ? "<span class=\"badge badge-ok\">verified</span> "
				 : "<span class=\"badge badge-bad\">does not verify</span> ");
	if (st->bad_seq) {
		html_rawf(h, "Event %" PRId64 " breaks the hash chain: ", st->bad_seq);
		html_text(h, st->chain_problem);
		html_raw(h, ". ");
	}
	if (st->trusted && st->chained > st->trusted)
		html_rawf(h, "Events 1 to %" PRIu64 " are signed by the newest checkpoint, checked just now; "
			     "events %" PRIu64 " to %" PRIu64 " were recomputed just now and each one's hash "
			     "covers the one before.", st->trusted, st->trusted + 1, st->chained);
	else if (st->trusted)
		html_rawf(h, "Events 1 to %" PRIu64 " are signed by the newest checkpoint, checked just now; "
			     "no event came after it.", st->trusted);
	else if (st->have_key && !st->bad_size)
		html_rawf(h, "Events 1 to %" PRIu64 " were recomputed just now and each one's hash covers the "
			     "one before.", st->chained);
	html_raw(h, "</p>\n<p>");
	if (!st->have_key) {
		html_raw(h, "The server has no signing key yet, so nothing could be checked.");
	} else if (st->bad_size) {
		html_rawf(h, "The newest checkpoint, of events 1 to %" PRIu64 ", does not verify: ", st->bad_size);
		html_text(h, st->checkpoint_problem);
	} else if (st->latest_size == 0) {
		html_raw(h, "No checkpoint has been signed yet.");
	} else {
		html_rawf(h, "The newest checkpoint signs events 1 to %" PRIu64 ": its signature verifies "
			     "with the server's key and its root with the stored event hashes.", st->latest_size);
		if (st->latest_size < st->chained)
			html_rawf(h, " Events %" PRIu64 " to %" PRIu64 " are not yet in a signed checkpoint.",
				  st->latest_size + 1, st->chained);
	}
	html_raw(h, " <code>otcm audit verify</code> recomputes every event and checks every checkpoint.");
	html_raw(h, "</p>\n");
	if (checkpoint) {
		html_raw(h, "<dl class=\"fields\" id=\"checkpoint\"><dt>Newest checkpoint</dt><dd>events 1 to ");
		html_int(h, json_integer_value(json_object_get(checkpoint, "tree_size")));
		html_raw(h, "</dd><dt>Signed at</dt><dd>");
		web_time(h, web_str(checkpoint, "at"));
		html_raw(h, "</dd><dt>Root hash</dt><dd><code class=\"wrap\">");
		html_text(h, web_str(checkpoint, "root_hash"));
		html_raw(h, "</code></dd><dt>Signed by</dt><dd><code>");
		html_text(h, web_str(checkpoint, "origin"));
		html_raw(h, "</code> key <code>");
		html_text(h, web_str(checkpoint, "key_id"));
		html_raw(h, "</code></dd></dl>\n");
	}
	html_raw(h, "<p class=\"muted\">To check offline: the <a href=\"/api/v1/audit/checkpoint\">signed "
		    "checkpoint</a>, the server's <a href=\"/api/v1/keys/server.pub\">public key</a>, and "
		    "each event's inclusion proof (the <em>proof</em> links below); "
		    "<code>otcm audit verify</code> runs this same check on the server.</p>\n</section>\n");
}

/* /audit?object_type=..&object_id=..&after=N (escaped) */
static void audit_href(struct html *h, const char *otype, const char *oid, int64_t after)
{
	html_raw(h, "/audit?after=");
	html_int(h, after);
	if (otype) {
		html_raw(h, "&amp;object_type=");
		html_url(h, otype);
	}
	if (oid) {
		html_raw(h, "&amp;object_id=");
		html_url(h, oid);
	}
}

static void event_changes(struct html *h, const json_t *e)
{
	static const char *const parts[] = { "before", "after" };
	size_t i;

	if (json_is_null(json_object_get(e, "before")) && json_is_null(json_object_get(e, "after")))
		return;
	html_raw(h, "<details><summary>values</summary>");
	for (i = 0; i < 2; i++) {
		const json_t *v = json_object_get(e, parts[i]);
		char *text;

		if (!v || json_is_null(v))
			continue;
		text = json_dumps(v, JSON_INDENT(1) | JSON_SORT_KEYS);
		html_raw(h, "<p class=\"muted\">");
		html_text(h, parts[i]);
		html_raw(h, "</p><pre class=\"values\">");
		html_text(h, text);
		html_raw(h, "</pre>");
		free(text);
	}
	html_raw(h, "</details>");
}

static void events_table(struct html *h, const json_t *events, uint64_t signed_size)
{
	const json_t *e;
	size_t i;

	html_raw(h, "<div class=\"table-wrap\"><table id=\"events\"><thead><tr><th>seq</th><th>time</th>"
		    "<th>actor</th><th>action</th><th>object</th><th>source</th><th>reason, values</th>"
		    "<th>hash</th></tr></thead><tbody>\n");
	json_array_foreach(events, i, e) {
		int64_t seq = json_integer_value(json_object_get(e, "seq"));
		const char *otype = web_str(e, "object_type"), *oid = web_str(e, "object_id");

		html_raw(h, "<tr><td>");
		html_int(h, seq);
		html_raw(h, "</td><td>");
		web_time(h, web_str(e, "at"));
		html_raw(h, "</td><td>");
		html_text(h, web_str(e, "actor"));
		if (web_str(e, "role")) {
			html_raw(h, " <span class=\"muted\">");
			html_text(h, web_str(e, "role"));
			html_raw(h, "</span>");
		}
		html_raw(h, "</td><td><code>");
		html_text(h, web_str(e, "action"));
		html_raw(h, "</code></td><td>");
		if (otype) {
			html_raw(h, "<a title=\"only this object's events\" href=\"");
			audit_href(h, otype, oid, 0);
			html_raw(h, "\">");
			html_text(h, otype);
			if (oid) {
				html_raw(h, " ");
				html_text(h, oid);
			}
			html_raw(h, "</a>");
		}
		html_raw(h, "</td><td>");
		html_text(h, web_str(e, "source"));
		html_raw(h, "</td><td>");
		html_text(h, web_str(e, "reason"));
		event_changes(h, e);
		html_raw(h, "</td><td>");
		web_short(h, web_str(e, "hash"));
		if (seq > 0 && (uint64_t)seq <= signed_size) {
			html_raw(h, " <a href=\"/api/v1/audit/events/");
			html_int(h, seq);
			html_raw(h, "/inclusion\" title=\"inclusion proof in the newest checkpoint\">proof</a>");
		} else {
			html_raw(h, " <span class=\"muted\" title=\"not yet in a signed checkpoint\">unsigned</span>");
		}
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table></div>\n");
}

void page_audit(struct html *h, const struct web_page *p, const json_t *events,
		const struct web_audit_view *view, const json_t *checkpoint,
		const struct web_audit_status *status)
{
	static const char *const types[] = { "user", "session", "token", "asset", "version", "change",
		"test_run", "protocol", "signature", "report", "settings" };
	bool filtered = view->object_type || view->object_id;
	size_t n = json_array_size(events), i;
	int64_t last = n ? json_integer_value(json_object_get(json_array_get(events, n - 1), "seq")) : 0;

	layout_begin(h, p);
	html_raw(h, "<h1>Audit trail</h1>\n");
	verification(h, checkpoint, status);
	html_raw(h, "<h2>Events</h2>\n<form class=\"searchbar\" method=\"get\" action=\"/audit\" id=\"filter\">"
		    "<label for=\"object_type\">Object type</label><input type=\"text\" id=\"object_type\" "
		    "name=\"object_type\" list=\"object-types\" value=\"");
	html_attr(h, view->object_type);
	html_raw(h, "\"><datalist id=\"object-types\">");
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		html_raw(h, "<option value=\"");
		html_attr(h, types[i]);
		html_raw(h, "\">");
	}
	html_raw(h, "</datalist><label for=\"object_id\">id</label><input type=\"text\" id=\"object_id\" "
		    "name=\"object_id\" placeholder=\"e.g. CHG-12, a user name\" value=\"");
	html_attr(h, view->object_id);
	html_raw(h, "\"><button type=\"submit\" class=\"secondary\">Filter</button>");
	if (filtered)
		html_raw(h, " <a href=\"/audit\">Show all</a>");
	html_raw(h, "</form>\n<p class=\"muted\">");
	if (n)
		html_rawf(h, "%zu events, oldest first, after event %" PRId64 ".", n, view->after);
	else
		html_raw(h, "No event matches.");
	html_raw(h, "</p>\n");
	if (n)
		events_table(h, events, status->latest_size);
	html_raw(h, "<nav class=\"pager\" aria-label=\"pages of events\">");
	if (view->after > 0) {
		html_raw(h, "<a href=\"");
		audit_href(h, view->object_type, view->object_id,
			   filtered || view->after < (int64_t)view->page_size ? 0
									 : view->after - (int64_t)view->page_size);
		html_raw(h, filtered ? "\">From the first</a> " : "\">Older events</a> ");
	}
	if (view->more) {
		html_raw(h, "<a href=\"");
		audit_href(h, view->object_type, view->object_id, last);
		html_raw(h, "\">Newer events</a> ");
	}
	if (!filtered && last < status->head_seq) {
		html_raw(h, "<a href=\"/audit\">Newest events</a>");
	}
	html_raw(h, "</nav>\n");
	layout_end(h);
}
