/*
 * web/page_sign.c - the signing dialog and the signature manifestation.
 * The dialog shows exactly what will be signed: the meaning and what it
 * stands for, the signer, the change's fields with the commit and tree of
 * every affected asset (or the run with its steps), and the canonical text
 * whose SHA-256 the signature records; it asks for the password again and
 * the one-time code when the signer uses them.  The manifestation is the
 * signature as recorded: printed name, date and time, meaning, role.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
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

/* The affected assets of a change object with the commit and tree of each. */
static void asset_trees(struct html *h, const json_t *assets)
{
	const json_t *a;
	size_t i;

	html_raw(h, "<div class=\"table-wrap\"><table><thead><tr><th>asset</th><th>branch</th><th>commit</th>"
		    "<th>tree</th></tr></thead><tbody>\n");
	json_array_foreach(assets, i, a) {
		html_raw(h, "<tr><td><code>");
		html_text(h, web_str(a, "path"));
		html_raw(h, "</code></td><td><code>");
		html_text(h, web_str(a, "branch"));
		html_raw(h, "</code></td><td class=\"mono\">");
		html_text(h, web_str(a, "commit") ? web_str(a, "commit") : "no version yet");
		html_raw(h, "</td><td class=\"mono\">");
		html_text(h, web_str(a, "tree") ? web_str(a, "tree") : "-");
		html_raw(h, "</td></tr>\n");
	}
	if (json_array_size(assets) == 0)
		html_raw(h, "<tr><td colspan=\"4\" class=\"muted\">no affected asset</td></tr>\n");
	html_raw(h, "</tbody></table></div>\n");
}

static void change_content(struct html *h, const json_t *c)
{
	const json_t *w = json_object_get(c, "planned_window");

	html_raw(h, "<dl class=\"fields\">");
	field(h, "change", web_str(c, "key"));
	field(h, "title", web_str(c, "title"));
	field(h, "type", web_str(c, "type"));
	field(h, "state", web_str(c, "state"));
	field(h, "risk", web_str(c, "risk"));
	field(h, "safety-related", json_is_true(json_object_get(c, "safety_related")) ? "yes" : "no");
	field(h, "requester", web_str(c, "requester"));
	field(h, "reason", web_str(c, "reason"));
	field(h, "implementation plan", web_str(c, "implementation_plan"));
	field(h, "rollback plan", web_str(c, "rollback_plan"));
	html_raw(h, "<dt>window start</dt><dd>");
	web_time(h, web_str(w, "start"));
	html_raw(h, "</dd><dt>window end</dt><dd>");
	web_time(h, web_str(w, "end"));
	html_raw(h, "</dd></dl>\n<h3>Versions signed, per affected asset</h3>\n");
	asset_trees(h, json_object_get(c, "affected_assets"));
}

static void run_content(struct html *h, const json_t *run, const json_t *change)
{
	const json_t *proto = json_object_get(run, "protocol"), *s, *a;
	int64_t asset = json_integer_value(json_object_get(run, "asset_id"));
	const char *path = NULL;
	size_t i;

	json_array_foreach(json_object_get(change, "affected_assets"), i, a)
		if (json_integer_value(json_object_get(a, "id")) == asset)
			path = web_str(a, "path");
	html_raw(h, "<dl class=\"fields\">");
	field(h, "change", web_str(run, "change"));
	html_rawf(h, "<dt>test run</dt><dd>#%" PRId64 " ", (int64_t)json_integer_value(json_object_get(run, "id")));
	html_text(h, web_str(proto, "kind"));
	html_raw(h, " ");
	html_text(h, web_str(proto, "name"));
	html_raw(h, " v");
	html_int(h, json_integer_value(json_object_get(proto, "version")));
	html_raw(h, "</dd>");
	field(h, "asset", path);
	html_raw(h, "<dt>commit</dt><dd class=\"mono\">");
	html_text(h, web_str(run, "commit"));
	html_raw(h, "</dd><dt>tree</dt><dd class=\"mono\">");
	html_text(h, web_str(run, "tree"));
	html_raw(h, "</dd>");
	field(h, "tester", web_str(run, "tester"));
	field(h, "state", web_str(run, "state"));
	field(h, "verdict", web_str(run, "verdict"));
	html_raw(h, "</dl>\n<h3>Steps signed</h3>\n<div class=\"table-wrap\"><table><thead><tr><th>#</th>"
		    "<th>expected</th><th>result</th><th>observed</th><th>deviation</th></tr></thead><tbody>\n");
	json_array_foreach(json_object_get(run, "steps"), i, s) {
		html_raw(h, "<tr><td>");
		html_int(h, json_integer_value(json_object_get(s, "no")));
		html_raw(h, "</td><td>");
		html_text(h, web_str(s, "expected"));
		html_raw(h, "</td><td>");
		html_text(h, web_str(s, "result") ? web_str(s, "result") : "not recorded");
		html_raw(h, "</td><td>");
		html_text(h, web_str(s, "observed"));
		html_raw(h, "</td><td>");
		html_text(h, web_str(s, "deviation"));
		if (web_str(s, "disposition")) {
			html_raw(h, " (");
			html_text(h, web_str(s, "disposition"));
			html_raw(h, ")");
		}
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table></div>\n");
	if (json_array_size(json_object_get(run, "attachments"))) {
		html_raw(h, "<p class=\"muted\">Also signed: the attachments listed with their SHA-256 digests ");
		html_rawf(h, "(%zu).</p>\n", json_array_size(json_object_get(run, "attachments")));
	}
}

static void rule_code(struct html *h, const char *rule)
{
	if (!rule)
		return;
	html_raw(h, " <span class=\"muted\">rule</span> <code class=\"rule\">");
	html_text(h, rule);
	html_raw(h, "</code>");
}

void page_sign(struct html *h, const struct web_page *p, const json_t *change, const struct web_sign *s)
{
	const char *key = web_str(change, "key");

	layout_begin(h, p);
	html_raw(h, "<div class=\"crumbs\"><a href=\"/changes\">Changes</a> / <a href=\"/changes/");
	html_url(h, key);
	html_raw(h, "\">");
	html_text(h, key);
	html_raw(h, "</a>");
	if (s->run) {
		html_rawf(h, " / <a href=\"/test-runs/%" PRId64 "\">test run #%" PRId64 "</a>",
			  (int64_t)json_integer_value(json_object_get(s->run, "id")),
			  (int64_t)json_integer_value(json_object_get(s->run, "id")));
	}
	html_raw(h, "</div>\n<h1>Sign ");
	if (s->run)
		html_rawf(h, "test run #%" PRId64, (int64_t)json_integer_value(json_object_get(s->run, "id")));
	else
		html_text(h, key);
	html_raw(h, ": <span class=\"meaning\">");
	html_text(h, s->meaning);
	html_raw(h, "</span></h1>\n<div class=\"panel sign-meaning\"><p><strong>Meaning of this signature:</strong> ");
	html_text(h, s->sentence);
	html_raw(h, "</p><p>You sign as <strong>");
	html_text(h, p->user.display_name && *p->user.display_name ? p->user.display_name : p->user.username);
	html_raw(h, "</strong> (");
	html_text(h, p->user.username);
	html_raw(h, "), role ");
	html_text(h, p->user.role);
	html_raw(h, ". The server records its own time, your printed name and role, and the SHA-256 of the "
		    "text below. A signature cannot be changed or withdrawn.</p></div>\n");
	if (s->error) {
		html_raw(h, "<p class=\"notice notice-error\" role=\"alert\">Not signed: ");
		html_text(h, s->error);
		rule_code(h, s->error_rule);
		html_raw(h, "</p>\n");
	}
	if (s->blocked) {
		html_raw(h, "<p class=\"notice notice-error refusal\" role=\"alert\">You cannot sign this now: ");
		html_text(h, s->blocked);
		rule_code(h, s->blocked_rule);
		html_raw(h, "</p>\n");
	}
	html_raw(h, "<h2>What you sign</h2>\n<div class=\"panel\">");
	if (s->run)
		run_content(h, s->content, change);
	else
		change_content(h, s->content);
	html_raw(h, "</div>\n<details class=\"raw\"><summary>The exact text signed (canonical JSON)</summary>\n<pre class=\"canonical\">");
	html_text(h, s->canonical);
	html_raw(h, "</pre></details>\n<p>");
	if (s->sha256) {
		html_raw(h, "SHA-256 of this text: <code class=\"digest\" data-sha256>");
		html_text(h, s->sha256);
		html_raw(h, "</code> <span class=\"hint\">- the digest recorded, unless the change moves on before "
			    "you sign or you add a comment (a comment is signed too)</span>");
	} else {
		html_raw(h, "<span class=\"hint\">");
		html_text(h, s->digest_note);
		html_raw(h, "</span>");
	}
	html_raw(h, "</p>\n");
	if (!s->blocked) {
		html_raw(h, "<form class=\"stack panel\" method=\"post\" action=\"");
		html_attr(h, s->action);
		html_raw(h, "\">\n");
		layout_csrf_field(h, p);
		html_raw(h, "<input type=\"hidden\" name=\"kind\" value=\"");
		html_attr(h, s->kind);
		html_raw(h, "\"><input type=\"hidden\" name=\"value\" value=\"");
		html_attr(h, s->meaning);
		html_raw(h, "\">\n<label for=\"password\">Your password <span class=\"hint\">- again, for this "
			    "signature</span></label>\n<input type=\"password\" id=\"password\" name=\"password\" "
			    "required autocomplete=\"current-password\">\n");
		if (s->totp)
			html_raw(h, "<label for=\"totp_code\">One-time code <span class=\"hint\">- from your "
				    "authenticator</span></label>\n<input type=\"text\" id=\"totp_code\" "
				    "name=\"totp_code\" required inputmode=\"numeric\" autocomplete=\"one-time-code\" "
				    "maxlength=\"6\" pattern=\"[0-9]{6}\">\n");
		html_raw(h, "<label for=\"reason\">Comment <span class=\"hint\">- optional; part of what is "
			    "signed</span></label>\n<input type=\"text\" id=\"reason\" name=\"reason\" maxlength=\"2000\">\n"
			    "<div><button type=\"submit\">Sign: ");
		html_text(h, s->meaning);
		html_raw(h, "</button> <a href=\"");
		html_attr(h, s->back);
		html_raw(h, "\">cancel</a></div>\n</form>\n");
	} else {
		html_raw(h, "<p><a href=\"");
		html_attr(h, s->back);
		html_raw(h, "\">Back</a></p>\n");
	}
	layout_end(h);
}

void page_signature(struct html *h, const struct web_page *p, const json_t *change,
		    const json_t *sig, const char *sentence, bool just_signed)
{
	const char *key = web_str(change, "key");
	const json_t *run = json_object_get(sig, "run_id"), *trees = json_object_get(sig, "trees"), *a;
	const json_t *content = json_object_get(sig, "content");
	char *text;
	size_t i;

	layout_begin(h, p);
	html_raw(h, "<div class=\"crumbs\"><a href=\"/changes\">Changes</a> / <a href=\"/changes/");
	html_url(h, key);
	html_raw(h, "\">");
	html_text(h, key);
	html_raw(h, "</a></div>\n<h1>Signature #");
	html_int(h, json_integer_value(json_object_get(sig, "id")));
	html_raw(h, " on ");
	html_text(h, key);
	if (json_is_integer(run))
		html_rawf(h, ", test run #%" PRId64, (int64_t)json_integer_value(run));
	html_raw(h, "</h1>\n");
	if (just_signed)
		layout_notice(h, "ok", "Signed. This is the signature as recorded; the evidence bundle and the "
				 "printable report show the same manifestation.");
	if (json_is_true(json_object_get(sig, "stale")))
		layout_notice(h, "error", "Stale: a newer version was uploaded since this signature; it no longer "
				 "counts for the current version.");
	html_raw(h, "<div class=\"manifestation panel\">\n<p class=\"printed-name\">");
	html_text(h, web_str(sig, "printed_name"));
	html_raw(h, "</p>\n<dl class=\"fields\"><dt>meaning</dt><dd><strong class=\"meaning\">");
	html_text(h, web_str(sig, "meaning"));
	html_raw(h, "</strong>");
	if (sentence) {
		html_raw(h, ": ");
		html_text(h, sentence);
	}
	html_raw(h, "</dd><dt>date and time</dt><dd>");
	web_time(h, web_str(sig, "signed_at"));
	html_raw(h, " UTC, server clock</dd>");
	field(h, "role", web_str(sig, "role"));
	field(h, "account", web_str(sig, "signer"));
	field(h, "re-authenticated with", web_str(sig, "reauthenticated_with"));
	html_raw(h, "<dt>SHA-256 of what was signed</dt><dd class=\"mono digest\" data-sha256>");
	html_text(h, web_str(sig, "content_sha256"));
	html_raw(h, "</dd></dl>\n</div>\n<h2>Versions it covers</h2>\n<div class=\"table-wrap\"><table><thead><tr>"
		    "<th>asset</th><th>tree</th></tr></thead><tbody>\n");
	json_array_foreach(json_object_get(change, "affected_assets"), i, a) {
		char sid[24];
		const char *tree;

		snprintf(sid, sizeof(sid), "%" PRId64, (int64_t)json_integer_value(json_object_get(a, "id")));
		tree = json_string_value(json_object_get(trees, sid));
		if (!tree)
			continue;
		html_raw(h, "<tr><td><code>");
		html_text(h, web_str(a, "path"));
		html_raw(h, "</code></td><td class=\"mono\">");
		html_text(h, tree);
		html_raw(h, "</td></tr>\n");
	}
	if (json_object_size(trees) == 0)
		html_raw(h, "<tr><td colspan=\"2\" class=\"muted\">none: signed before any version existed</td></tr>\n");
	html_raw(h, "</tbody></table></div>\n");
	text = content ? json_dumps(content, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	html_raw(h, "<details class=\"raw\"><summary>The text that was signed</summary>\n<pre class=\"canonical\">");
	html_text(h, text);
	html_raw(h, "</pre></details>\n<p><a href=\"/changes/");
	free(text);
	html_url(h, key);
	html_raw(h, "\">Back to the change</a>");
	if (json_is_integer(run)) {
		html_rawf(h, " &middot; <a href=\"/test-runs/%" PRId64 "\">the test run</a>", (int64_t)json_integer_value(run));
	}
	html_raw(h, "</p>\n");
	layout_end(h);
}
