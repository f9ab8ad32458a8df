/*
 * web/page_runs.c - test protocols and test runs: the protocol templates
 * QA writes (numbered steps of instruction and expected result), starting
 * a FAT or SAT run on an asset of a change, and the run itself, step by
 * step: result, observed value, comment, deviation with its disposition,
 * photos and logs, then the tester's and the witness's signatures.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "web/pages.h"

static const char *kind_label(const char *kind)
{
	return kind && strcmp(kind, "fat") == 0 ? "FAT" : kind && strcmp(kind, "sat") == 0 ? "SAT" : "test";
}

static void crumbs_change(struct html *h, const char *key)
{
	html_raw(h, "<div class=\"crumbs\"><a href=\"/changes\">Changes</a> / <a href=\"/changes/");
	html_url(h, key);
	html_raw(h, "\">");
	html_text(h, key);
	html_raw(h, "</a></div>\n");
}

/* ---- protocols ---- */

void page_protocols(struct html *h, const struct web_page *p, const json_t *protocols,
		    bool may_create, const char *notice)
{
	const json_t *pr;
	size_t i;

	layout_begin(h, p);
	html_raw(h, "<h1>Test protocols</h1>\n<p class=\"muted\">FAT and SAT templates: numbered steps with "
		    "the instruction and the expected result. A protocol is never edited: saving it again "
		    "makes its next version, and runs keep the version they were started with.</p>\n");
	layout_notice(h, "ok", notice);
	if (may_create)
		html_raw(h, "<p><a class=\"button\" href=\"/protocols/new\">New protocol</a></p>\n");
	if (json_array_size(protocols) == 0) {
		html_raw(h, "<p class=\"muted\">No protocol yet.</p>\n");
		layout_end(h);
		return;
	}
	html_raw(h, "<div class=\"table-wrap\"><table><thead><tr><th>name</th><th>version</th><th>kind</th>"
		    "<th>title</th><th>steps</th><th>witness</th><th>by</th><th>created</th></tr></thead><tbody>\n");
	json_array_foreach(protocols, i, pr) {
		html_rawf(h, "<tr><td><a href=\"/protocols/%" PRId64 "\">",
			  (int64_t)json_integer_value(json_object_get(pr, "id")));
		html_text(h, web_str(pr, "name"));
		html_raw(h, "</a></td><td>");
		html_int(h, json_integer_value(json_object_get(pr, "version")));
		html_raw(h, "</td><td>");
		html_text(h, kind_label(web_str(pr, "kind")));
		html_raw(h, "</td><td>");
		html_text(h, web_str(pr, "title"));
		html_raw(h, "</td><td>");
		html_int(h, (int64_t)json_array_size(json_object_get(pr, "steps")));
		html_raw(h, "</td><td>");
		html_raw(h, json_is_true(json_object_get(pr, "witness_required")) ? "required" : "-");
		html_raw(h, "</td><td>");
		html_text(h, web_str(pr, "created_by"));
		html_raw(h, "</td><td>");
		web_time(h, web_str(pr, "created_at"));
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table></div>\n");
	layout_end(h);
}

static void steps_table(struct html *h, const json_t *steps)
{
	const json_t *s;
	size_t i;

	html_raw(h, "<div class=\"table-wrap\"><table><thead><tr><th>#</th><th>instruction</th>"
		    "<th>expected result</th></tr></thead><tbody>\n");
	json_array_foreach(steps, i, s) {
		html_raw(h, "<tr><td>");
		html_int(h, (int64_t)i + 1);
		html_raw(h, "</td><td class=\"pre\">");
		html_text(h, web_str(s, "instruction"));
		html_raw(h, "</td><td class=\"pre\">");
		html_text(h, web_str(s, "expected"));
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table></div>\n");
}

void page_protocol(struct html *h, const struct web_page *p, const json_t *pr, bool may_create)
{
	layout_begin(h, p);
	html_raw(h, "<div class=\"crumbs\"><a href=\"/protocols\">Test protocols</a></div>\n<h1>");
	html_text(h, web_str(pr, "name"));
	html_raw(h, " <span class=\"badge\">v");
	html_int(h, json_integer_value(json_object_get(pr, "version")));
	html_raw(h, "</span> <span class=\"badge\">");
	html_text(h, kind_label(web_str(pr, "kind")));
	html_raw(h, "</span></h1>\n<p>");
	html_text(h, web_str(pr, "title"));
	html_raw(h, "</p>\n<p class=\"muted\">");
	html_raw(h, json_is_true(json_object_get(pr, "witness_required"))
		 ? "A witness who is not the tester must sign each run." : "No witness required.");
	html_raw(h, " Created by ");
	html_text(h, web_str(pr, "created_by"));
	html_raw(h, " at ");
	web_time(h, web_str(pr, "created_at"));
	html_raw(h, ".</p>\n");
	if (may_create) {
		html_raw(h, "<p><a class=\"button secondary\" href=\"/protocols/new?from=");
		html_int(h, json_integer_value(json_object_get(pr, "id")));
		html_raw(h, "\">Make the next version</a></p>\n");
	}
	steps_table(h, json_object_get(pr, "steps"));
	layout_end(h);
}

void page_protocol_form(struct html *h, const struct web_page *p, const json_t *values, size_t rows,
			const char *error)
{
	const json_t *steps = json_object_get(values, "steps");
	const char *kind = web_str(values, "kind");
	size_t i;

	layout_begin(h, p);
	html_raw(h, "<div class=\"crumbs\"><a href=\"/protocols\">Test protocols</a></div>\n"
		    "<h1>New test protocol</h1>\n<p class=\"muted\">Saving under an existing name makes its next "
		    "version. Empty rows are left out; the steps are numbered in order.</p>\n");
	layout_notice(h, "error", error);
	html_raw(h, "<form class=\"stack panel wide\" method=\"post\" action=\"/protocols/new\">\n");
	layout_csrf_field(h, p);
	html_rawf(h, "<input type=\"hidden\" name=\"rows\" value=\"%zu\" data-rows>\n", rows);
	html_raw(h, "<label for=\"name\">Name <span class=\"hint\">- short, stable: e.g. boiler-fat</span></label>\n"
		    "<input type=\"text\" id=\"name\" name=\"name\" required maxlength=\"200\" value=\"");
	html_attr(h, web_str(values, "name"));
	html_raw(h, "\">\n<label for=\"kind\">Kind</label>\n<select id=\"kind\" name=\"kind\">"
		    "<option value=\"fat\"");
	if (!kind || strcmp(kind, "fat") == 0)
		html_raw(h, " selected");
	html_raw(h, ">FAT: factory acceptance test, before deployment</option><option value=\"sat\"");
	if (kind && strcmp(kind, "sat") == 0)
		html_raw(h, " selected");
	html_raw(h, ">SAT: site acceptance test, after deployment</option></select>\n"
		    "<label for=\"title\">Title</label>\n"
		    "<input type=\"text\" id=\"title\" name=\"title\" required maxlength=\"200\" value=\"");
	html_attr(h, web_str(values, "title"));
	html_raw(h, "\">\n<label class=\"check\"><input type=\"checkbox\" id=\"witness_required\" "
		    "name=\"witness_required\" value=\"on\"");
	if (json_is_true(json_object_get(values, "witness_required")))
		html_raw(h, " checked");
	html_raw(h, "> Witness required <span class=\"hint\">- a second person, not the tester, signs each "
		    "run</span></label>\n<fieldset><legend>Steps</legend>\n<ol class=\"steps-form\" data-steps>\n");
	for (i = 0; i < rows; i++) {
		const json_t *s = json_array_get(steps, i);

		html_rawf(h, "<li><label for=\"instruction_%zu\">Instruction</label>"
			     "<textarea rows=\"2\" id=\"instruction_%zu\" name=\"instruction_%zu\">", i + 1, i + 1, i + 1);
		html_text(h, web_str(s, "instruction"));
		html_rawf(h, "</textarea><label for=\"expected_%zu\">Expected result</label>"
			     "<textarea rows=\"2\" id=\"expected_%zu\" name=\"expected_%zu\">", i + 1, i + 1, i + 1);
		html_text(h, web_str(s, "expected"));
		html_raw(h, "</textarea></li>\n");
	}
	html_raw(h, "</ol>\n<p><button type=\"button\" class=\"secondary\" data-add-step hidden>Add a step</button> "
		    "<a href=\"/protocols/new?rows=");
	html_rawf(h, "%zu", rows + 8);
	html_raw(h, "\" data-more-rows>more rows</a> <span class=\"hint\">(the typed text is not kept)</span></p>\n"
		    "</fieldset>\n<div><button type=\"submit\">Save the protocol</button> "
		    "<a href=\"/protocols\">cancel</a></div>\n</form>\n");
	layout_end(h);
}

/* ---- starting a run ---- */

void page_run_start(struct html *h, const struct web_page *p, const json_t *change,
		    const json_t *protocols, const char *kind, int64_t asset_id, const char *error)
{
	const char *key = web_str(change, "key");
	const json_t *pr;
	size_t i, nkind = 0;

	layout_begin(h, p);
	crumbs_change(h, key);
	html_raw(h, "<h1>Start a ");
	html_text(h, kind_label(kind));
	html_raw(h, " run on ");
	html_text(h, key);
	html_raw(h, "</h1>\n<p class=\"muted\">The run is bound to the asset's version under test: the head "
		    "of the change branch now. A newer upload makes the run stale.</p>\n");
	layout_notice(h, "error", error);
	html_raw(h, "<form class=\"stack panel wide\" method=\"post\" action=\"/changes/");
	html_url(h, key);
	html_raw(h, "/runs/new\">\n");
	layout_csrf_field(h, p);
	html_raw(h, "<input type=\"hidden\" name=\"kind\" value=\"");
	html_attr(h, kind);
	html_raw(h, "\">\n<fieldset><legend>Asset under test</legend>\n");
	web_asset_choice(h, change, asset_id, false, "no version to test yet");
	html_raw(h, "</fieldset>\n<label for=\"protocol_id\">Protocol</label>\n<select id=\"protocol_id\" "
		    "name=\"protocol_id\" required><option value=\"\">choose a protocol</option>");
	json_array_foreach(protocols, i, pr) {
		if (!kind || !web_str(pr, "kind") || strcmp(kind, web_str(pr, "kind")))
			continue;
		nkind++;
		html_rawf(h, "<option value=\"%" PRId64 "\">", (int64_t)json_integer_value(json_object_get(pr, "id")));
		html_text(h, web_str(pr, "name"));
		html_raw(h, " v");
		html_int(h, json_integer_value(json_object_get(pr, "version")));
		html_raw(h, " - ");
		html_text(h, web_str(pr, "title"));
		html_rawf(h, " (%zu steps%s)</option>", json_array_size(json_object_get(pr, "steps")),
			  json_is_true(json_object_get(pr, "witness_required")) ? ", witness required" : "");
	}
	html_raw(h, "</select>\n");
	if (nkind == 0) {
		html_raw(h, "<p class=\"notice notice-info\">There is no ");
		html_text(h, kind_label(kind));
		html_raw(h, " protocol yet: <a href=\"/protocols/new\">create one</a> first.</p>\n");
	}
	html_raw(h, "<div><button type=\"submit\">Start the run</button> <a href=\"/changes/");
	html_url(h, key);
	html_raw(h, "\">cancel</a></div>\n</form>\n");
	layout_end(h);
}

/* ---- a run ---- */

static void result_badge(struct html *h, const char *result)
{
	if (!result) {
		html_raw(h, "<span class=\"badge\">not recorded</span>");
		return;
	}
	html_raw(h, strcmp(result, "pass") == 0 ? "<span class=\"badge badge-ok\">"
		 : strcmp(result, "fail") == 0 ? "<span class=\"badge badge-bad\">" : "<span class=\"badge\">");
	html_text(h, result);
	html_raw(h, "</span>");
}

static void radio(struct html *h, int64_t no, const char *value, const char *label, const char *current)
{
	html_rawf(h, "<label class=\"check\"><input type=\"radio\" name=\"result\" required value=\"");
	html_attr(h, value);
	html_rawf(h, "\" id=\"result-%" PRId64 "-", no);
	html_text(h, strcmp(value, "n/a") == 0 ? "na" : value);
	html_raw(h, "\"");
	if (current && strcmp(current, value) == 0)
		html_raw(h, " checked");
	html_raw(h, "> ");
	html_text(h, label);
	html_raw(h, "</label>");
}

static void step_form(struct html *h, const struct web_page *p, int64_t run, const json_t *s)
{
	int64_t no = json_integer_value(json_object_get(s, "no"));
	const char *disp = web_str(s, "disposition");

	html_rawf(h, "<form class=\"step-form\" method=\"post\" action=\"/test-runs/%" PRId64 "/steps/%" PRId64 "\">",
		  run, no);
	layout_csrf_field(h, p);
	html_raw(h, "<div class=\"row\"><span class=\"label\">Result</span>");
	radio(h, no, "pass", "pass", web_str(s, "result"));
	radio(h, no, "fail", "fail", web_str(s, "result"));
	radio(h, no, "n/a", "n/a", web_str(s, "result"));
	html_rawf(h, "</div><div class=\"row\"><label for=\"observed-%" PRId64 "\">Observed</label>"
		     "<input type=\"text\" id=\"observed-%" PRId64 "\" name=\"observed\" maxlength=\"4000\" value=\"",
		  no, no);
	html_attr(h, web_str(s, "observed"));
	html_rawf(h, "\"><label for=\"comment-%" PRId64 "\">Comment</label>"
		     "<input type=\"text\" id=\"comment-%" PRId64 "\" name=\"comment\" maxlength=\"4000\" value=\"",
		  no, no);
	html_attr(h, web_str(s, "comment"));
	html_rawf(h, "\"></div><details class=\"deviation\"%s><summary>Deviation <span class=\"hint\">- "
		     "required for a failed step before the run is signed</span></summary><div class=\"row\">"
		     "<label for=\"deviation-%" PRId64 "\">What deviated</label>"
		     "<input type=\"text\" id=\"deviation-%" PRId64 "\" name=\"deviation\" maxlength=\"4000\" value=\"",
		  web_str(s, "deviation") || (web_str(s, "result") && strcmp(web_str(s, "result"), "fail") == 0)
		  ? " open" : "", no, no);
	html_attr(h, web_str(s, "deviation"));
	html_rawf(h, "\"><label for=\"disposition-%" PRId64 "\">Disposition</label>"
		     "<select id=\"disposition-%" PRId64 "\" name=\"disposition\"><option value=\"\">none</option>",
		  no, no);
	html_raw(h, "<option value=\"accepted\"");
	if (disp && strcmp(disp, "accepted") == 0)
		html_raw(h, " selected");
	html_raw(h, ">accepted: the run may still pass</option><option value=\"rejected\"");
	if (disp && strcmp(disp, "rejected") == 0)
		html_raw(h, " selected");
	html_raw(h, ">rejected: the run fails</option></select></div></details>");
	html_rawf(h, "<button type=\"submit\">%s step %" PRId64 "</button></form>\n",
		  web_str(s, "result") ? "Record again" : "Record", no);
}

static void attach_form(struct html *h, const struct web_page *p, int64_t run, int64_t no)
{
	html_rawf(h, "<form class=\"attach-form\" method=\"post\" enctype=\"multipart/form-data\" "
		     "action=\"/test-runs/%" PRId64 "/steps/%" PRId64 "/attachments\">", run, no);
	layout_csrf_field(h, p);
	html_rawf(h, "<label for=\"file-%" PRId64 "\">Photo or log</label> <input type=\"file\" id=\"file-%" PRId64
		     "\" name=\"file\" required accept=\"image/png,image/jpeg,application/pdf,text/plain,.txt,.log,.csv\"> "
		     "<button type=\"submit\" class=\"secondary\">Attach</button>"
		     " <span class=\"hint\">PNG, JPEG, PDF, text or CSV</span></form>\n", no, no);
}

static void step_attachments(struct html *h, int64_t run, int64_t no, const json_t *atts)
{
	const json_t *a;
	size_t i, n = 0;

	json_array_foreach(atts, i, a) {
		if (json_integer_value(json_object_get(a, "step")) != no)
			continue;
		if (n++ == 0)
			html_raw(h, "<ul class=\"attachments\">");
		html_rawf(h, "<li><a href=\"/api/v1/test-runs/%" PRId64 "/attachments/%" PRId64 "\">", run,
			  (int64_t)json_integer_value(json_object_get(a, "id")));
		html_text(h, web_str(a, "filename"));
		html_raw(h, "</a> <span class=\"muted\">");
		html_text(h, web_str(a, "content_type"));
		html_rawf(h, ", %" PRId64 " bytes, by ", (int64_t)json_integer_value(json_object_get(a, "size")));
		html_text(h, web_str(a, "uploaded_by"));
		html_raw(h, ", SHA-256 ");
		web_short(h, web_str(a, "sha256"));
		html_raw(h, "</span></li>");
	}
	if (n)
		html_raw(h, "</ul>\n");
}

static void sign_actions(struct html *h, const struct web_action *acts, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct web_action *a = &acts[i];

		html_raw(h, "<div class=\"action\">");
		if (a->allowed) {
			html_raw(h, "<a class=\"button\" href=\"");
			html_attr(h, a->href);
			html_raw(h, "\">");
			html_text(h, a->label);
			html_raw(h, "</a>");
		} else {
			html_raw(h, "<button type=\"button\" disabled aria-disabled=\"true\">");
			html_text(h, a->label);
			html_raw(h, "</button> <span class=\"why\">");
			html_text(h, a->why);
			if (a->rule) {
				html_raw(h, " <code class=\"rule\">");
				html_text(h, a->rule);
				html_raw(h, "</code>");
			}
			html_raw(h, "</span>");
		}
		html_raw(h, "</div>\n");
	}
}

void page_run(struct html *h, const struct web_page *p, const json_t *run, const json_t *change,
	      bool may_record, const struct web_action *signs, size_t nsigns, const char *notice_kind,
	      const char *notice)
{
	const json_t *proto = json_object_get(run, "protocol"), *steps = json_object_get(run, "steps");
	const json_t *atts = json_object_get(run, "attachments"), *s, *a;
	int64_t id = json_integer_value(json_object_get(run, "id"));
	int64_t asset = json_integer_value(json_object_get(run, "asset_id"));
	const char *key = web_str(change, "key"), *path = NULL, *state = web_str(run, "state");
	bool completed = state && strcmp(state, "completed") == 0;
	size_t i, recorded = 0;

	json_array_foreach(json_object_get(change, "affected_assets"), i, a)
		if (json_integer_value(json_object_get(a, "id")) == asset)
			path = web_str(a, "path");
	json_array_foreach(steps, i, s)
		if (web_str(s, "result"))
			recorded++;
	layout_begin(h, p);
	crumbs_change(h, key);
	html_raw(h, "<h1>");
	html_text(h, kind_label(web_str(proto, "kind")));
	html_rawf(h, " run #%" PRId64 ": ", id);
	html_text(h, web_str(proto, "name"));
	html_raw(h, " v");
	html_int(h, json_integer_value(json_object_get(proto, "version")));
	html_raw(h, completed ? " <span class=\"badge badge-ok\">completed</span>"
		 : " <span class=\"badge badge-warn\">open</span>");
	if (web_str(run, "verdict")) {
		html_raw(h, strcmp(web_str(run, "verdict"), "pass") == 0 ? " <span class=\"badge badge-ok\">verdict "
			 : " <span class=\"badge badge-bad\">verdict ");
		html_text(h, web_str(run, "verdict"));
		html_raw(h, "</span>");
	}
	if (json_is_true(json_object_get(run, "stale")))
		html_raw(h, " <span class=\"badge badge-bad\">stale</span>");
	html_raw(h, "</h1>\n");
	layout_notice(h, notice_kind, notice);
	if (json_is_true(json_object_get(run, "stale")))
		layout_notice(h, "error", "A newer version was uploaded for this asset after the run started: "
				 "the run no longer counts and cannot be recorded or signed. Start a new run on the "
				 "current version.");
	html_raw(h, "<div class=\"grid\">\n<div class=\"panel\"><dl class=\"fields\"><dt>change</dt><dd><a href=\"/changes/");
	html_url(h, key);
	html_raw(h, "\">");
	html_text(h, key);
	html_raw(h, "</a> ");
	html_text(h, web_str(change, "title"));
	html_raw(h, "</dd><dt>asset</dt><dd>");
	html_rawf(h, "<a href=\"/assets/%" PRId64 "\">", asset);
	html_text(h, path);
	html_raw(h, "</a></dd><dt>version under test</dt><dd>");
	html_rawf(h, "<a href=\"/assets/%" PRId64 "/versions/", asset);
	html_url(h, web_str(run, "commit"));
	html_raw(h, "\">");
	web_short(h, web_str(run, "commit"));
	html_raw(h, "</a> <span class=\"muted\">tree</span> ");
	web_short(h, web_str(run, "tree"));
	html_raw(h, "</dd><dt>tester</dt><dd>");
	html_text(h, web_str(run, "tester"));
	html_raw(h, "</dd><dt>started</dt><dd>");
	web_time(h, web_str(run, "created_at"));
	html_raw(h, "</dd><dt>completed</dt><dd>");
	web_time(h, web_str(run, "completed_at"));
	html_raw(h, "</dd><dt>witness</dt><dd>");
	if (json_is_true(json_object_get(proto, "witness_required")))
		html_raw(h, json_is_true(json_object_get(run, "witnessed")) ? "witnessed" : "required, not yet signed");
	else
		html_raw(h, "not required");
	html_rawf(h, "</dd><dt>steps recorded</dt><dd>%zu of %zu</dd></dl></div>\n", recorded, json_array_size(steps));
	html_raw(h, "<div class=\"panel\"><h3>Signatures</h3><div class=\"actions\">\n");
	sign_actions(h, signs, nsigns);
	json_array_foreach(json_object_get(run, "signatures"), i, s) {
		html_raw(h, "<div>");
		html_text(h, web_str(s, "meaning"));
		html_raw(h, " by ");
		html_text(h, web_str(s, "printed_name"));
		html_raw(h, " (");
		html_text(h, web_str(s, "role"));
		html_raw(h, ") ");
		web_time(h, web_str(s, "signed_at"));
		html_raw(h, " <a href=\"/changes/");
		html_url(h, key);
		html_rawf(h, "/signatures/%" PRId64 "\">manifestation</a></div>\n",
			  (int64_t)json_integer_value(json_object_get(s, "id")));
	}
	if (nsigns == 0 && json_array_size(json_object_get(run, "signatures")) == 0)
		html_raw(h, "<p class=\"muted\">Not signed yet.</p>\n");
	html_raw(h, "</div></div>\n</div>\n<h2>Steps</h2>\n");
	if (may_record)
		html_raw(h, "<p class=\"muted\">Record each step as you perform it; a step may be recorded again "
			    "until the tester signs the run. Attach photos or logs as evidence.</p>\n");
	json_array_foreach(steps, i, s) {
		int64_t no = json_integer_value(json_object_get(s, "no"));

		html_rawf(h, "<section class=\"step panel\" id=\"step-%" PRId64 "\"><h3>Step %" PRId64 " ", no, no);
		result_badge(h, web_str(s, "result"));
		html_raw(h, "</h3>\n<dl class=\"fields\"><dt>instruction</dt><dd>");
		html_text(h, web_str(s, "instruction"));
		html_raw(h, "</dd><dt>expected</dt><dd>");
		html_text(h, web_str(s, "expected"));
		html_raw(h, "</dd>");
		if (web_str(s, "result")) {
			html_raw(h, "<dt>observed</dt><dd>");
			html_text(h, web_str(s, "observed"));
			html_raw(h, "</dd><dt>comment</dt><dd>");
			html_text(h, web_str(s, "comment"));
			html_raw(h, "</dd>");
			if (web_str(s, "deviation")) {
				html_raw(h, "<dt>deviation</dt><dd>");
				html_text(h, web_str(s, "deviation"));
				html_raw(h, " <span class=\"badge\">");
				html_text(h, web_str(s, "disposition") ? web_str(s, "disposition") : "no disposition");
				html_raw(h, "</span></dd>");
			}
			html_raw(h, "<dt>recorded</dt><dd>");
			html_text(h, web_str(s, "tester"));
			html_raw(h, " ");
			web_time(h, web_str(s, "recorded_at"));
			html_raw(h, "</dd>");
		}
		html_raw(h, "</dl>\n");
		step_attachments(h, id, no, atts);
		if (may_record) {
			step_form(h, p, id, s);
			attach_form(h, p, id, no);
		}
		html_raw(h, "</section>\n");
	}
	layout_end(h);
}
