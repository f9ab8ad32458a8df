/*
 * web/page_webhooks.c - the administrator's webhook pages: the
 * subscriptions with a banner for those the server disabled, the form to
 * subscribe one, and one subscription with its delivery log.
 */
#include "web/pages.h"

#include <string.h>

static void input(struct html *h, const char *id, const char *label, const char *hint,
		  const char *value, const char *extra)
{
	html_rawf(h, "<label for=\"%s\">", id);
	html_text(h, label);
	if (hint) {
		html_raw(h, " <span class=\"hint\">");
		html_text(h, hint);
		html_raw(h, "</span>");
	}
	html_rawf(h, "</label><input type=\"text\" id=\"%s\" name=\"%s\" value=\"", id, id);
	html_attr(h, value ? value : "");
	html_raw(h, "\"");
	if (extra) {
		html_raw(h, " ");
		html_raw(h, extra);
	}
	html_raw(h, ">\n");
}

static void events_text(struct html *h, const json_t *events)
{
	const json_t *e;
	size_t i;

	json_array_foreach(events, i, e) {
		if (i)
			html_raw(h, ", ");
		html_raw(h, "<code>");
		html_text(h, json_string_value(e));
		html_raw(h, "</code>");
	}
}

static void time_or_dash(struct html *h, const char *t)
{
	if (t)
		web_time(h, t);
	else
		html_raw(h, "&ndash;");
}

static void state_cell(struct html *h, const json_t *w)
{
	if (!json_is_true(json_object_get(w, "enabled")))
		html_raw(h, "<td class=\"bad\">disabled</td>");
	else if (web_str(w, "failing_since"))
		html_raw(h, "<td class=\"bad\">failing</td>");
	else
		html_raw(h, "<td class=\"good\">delivering</td>");
}

static void secret_notice(struct html *h, const char *secret)
{
	if (!secret)
		return;
	html_raw(h, "<div class=\"notice ok\" id=\"secret\"><p>The signing secret, shown this once: "
		    "give it to the receiver, which checks each delivery's <code>webhook-signature</code> "
		    "with it.</p><p><code>");
	html_text(h, secret);
	html_raw(h, "</code></p></div>\n");
}

void page_webhooks(struct html *h, const struct web_page *p, const json_t *list,
		   const json_t *refill, const char *kind, const char *notice)
{
	const json_t *items = json_object_get(list, "items"), *w;
	json_int_t disabled = json_integer_value(json_object_get(list, "disabled"));
	size_t i;

	layout_begin(h, p);
	html_raw(h, "<h1>Webhooks</h1>\n");
	layout_notice(h, kind, notice);
	if (disabled > 0) {
		html_raw(h, "<div class=\"notice error\" id=\"disabled-banner\"><p><strong>");
		html_int(h, disabled);
		html_raw(h, disabled == 1 ? " subscription is" : " subscriptions are");
		html_raw(h, " disabled</strong> and receive nothing:");
		json_array_foreach(items, i, w) {
			if (json_is_true(json_object_get(w, "enabled")))
				continue;
			html_raw(h, " <a href=\"/admin/webhooks/");
			html_int(h, json_integer_value(json_object_get(w, "id")));
			html_raw(h, "\">");
			html_text(h, web_str(w, "url"));
			html_raw(h, "</a> (");
			html_text(h, web_str(w, "disabled_reason"));
			html_raw(h, ")");
		}
		html_raw(h, ". Enabling one resumes delivery at the event it stopped at.</p></div>\n");
	}
	html_raw(h, "<p>Each audit event whose action matches a subscription's patterns is posted to "
		    "its URL, in order, signed with its secret (Standard Webhooks: "
		    "<code>webhook-id</code>, <code>webhook-timestamp</code>, "
		    "<code>webhook-signature</code>), and retried with backoff until the receiver "
		    "answers 2xx.</p>\n");
	if (json_array_size(items)) {
		html_raw(h, "<div class=\"scroll\"><table>\n<thead><tr><th>#</th><th>URL</th><th>Events</th>"
			    "<th>State</th><th>Last success</th><th>Failing since</th></tr></thead>\n<tbody>\n");
		json_array_foreach(items, i, w) {
			html_raw(h, "<tr><td><a href=\"/admin/webhooks/");
			html_int(h, json_integer_value(json_object_get(w, "id")));
			html_raw(h, "\">");
			html_int(h, json_integer_value(json_object_get(w, "id")));
			html_raw(h, "</a></td><td>");
			html_text(h, web_str(w, "url"));
			html_raw(h, "</td><td>");
			events_text(h, json_object_get(w, "events"));
			html_raw(h, "</td>");
			state_cell(h, w);
			html_raw(h, "<td>");
			time_or_dash(h, web_str(w, "last_success_at"));
			html_raw(h, "</td><td>");
			time_or_dash(h, web_str(w, "failing_since"));
			html_raw(h, "</td></tr>\n");
		}
		html_raw(h, "</tbody></table></div>\n");
	} else {
		html_raw(h, "<p class=\"muted\">No subscription yet.</p>\n");
	}
	html_raw(h, "<form class=\"stack panel\" method=\"post\" action=\"/admin/webhooks\" id=\"new-webhook\">"
		    "<h2>Subscribe a receiver</h2>");
	layout_csrf_field(h, p);
	input(h, "url", "URL", "https:// (or http://) of the receiver", web_str(refill, "url"),
	      "required spellcheck=\"false\"");
	input(h, "events", "Events", "patterns separated by commas: change.*, signature.*, drift.*, or *",
	      web_str(refill, "events") ? web_str(refill, "events") : "change.*", "required spellcheck=\"false\"");
	input(h, "description", "Description", "optional", web_str(refill, "description"), NULL);
	input(h, "secret", "Secret", "optional: whsec_ and base64; leave empty and the server makes one",
	      NULL, "autocomplete=\"off\" spellcheck=\"false\"");
	html_raw(h, "<div><button type=\"submit\">Subscribe</button></div></form>\n");
	layout_end(h);
}

static void button(struct html *h, const struct web_page *p, int64_t id, const char *path,
		   const char *action, const char *label, const char *confirm)
{
	html_raw(h, "<form method=\"post\" class=\"inline\" action=\"/admin/webhooks/");
	html_int(h, id);
	html_raw(h, path);
	html_raw(h, "\">");
	layout_csrf_field(h, p);
	if (action)
		html_rawf(h, "<input type=\"hidden\" name=\"action\" value=\"%s\">", action);
	html_raw(h, "<button type=\"submit\" class=\"secondary\"");
	if (confirm) {
		html_raw(h, " data-confirm=\"");
		html_attr(h, confirm);
		html_raw(h, "\"");
	}
	html_raw(h, ">");
	html_text(h, label);
	html_raw(h, "</button></form>\n");
}

void page_webhook(struct html *h, const struct web_page *p, const json_t *w, const char *secret,
		  const char *kind, const char *notice)
{
	const json_t *log = json_object_get(w, "deliveries"), *d;
	int64_t id = json_integer_value(json_object_get(w, "id"));
	bool enabled = json_is_true(json_object_get(w, "enabled"));
	size_t i;

	layout_begin(h, p);
	html_raw(h, "<p><a href=\"/admin/webhooks\">Webhooks</a></p>\n<h1>Webhook ");
	html_int(h, id);
	html_raw(h, "</h1>\n");
	layout_notice(h, kind, notice);
	secret_notice(h, secret);
	if (!enabled) {
		html_raw(h, "<div class=\"notice error\" id=\"disabled-banner\"><p><strong>Disabled</strong> ");
		time_or_dash(h, web_str(w, "disabled_at"));
		html_raw(h, ": ");
		html_text(h, web_str(w, "disabled_reason"));
		html_raw(h, "</p></div>\n");
	}
	html_raw(h, "<dl class=\"facts\"><dt>URL</dt><dd>");
	html_text(h, web_str(w, "url"));
	html_raw(h, "</dd><dt>Events</dt><dd>");
	events_text(h, json_object_get(w, "events"));
	html_raw(h, "</dd><dt>Description</dt><dd>");
	html_text(h, web_str(w, "description"));
	html_raw(h, "</dd><dt>Delivered up to audit event</dt><dd>");
	html_int(h, json_integer_value(json_object_get(w, "seq")));
	html_raw(h, "</dd><dt>Failed tries of the next event</dt><dd>");
	html_int(h, json_integer_value(json_object_get(w, "attempts")));
	html_raw(h, "</dd><dt>Failing since</dt><dd>");
	time_or_dash(h, web_str(w, "failing_since"));
	html_raw(h, "</dd><dt>Last success</dt><dd>");
	time_or_dash(h, web_str(w, "last_success_at"));
	html_raw(h, "</dd><dt>Created</dt><dd>");
	time_or_dash(h, web_str(w, "created_at"));
	html_raw(h, " by ");
	html_text(h, web_str(w, "created_by"));
	html_raw(h, "</dd></dl>\n<p>");
	if (enabled)
		button(h, p, id, "", "disable", "Disable", "Stop delivering to this receiver?");
	else
		button(h, p, id, "", "enable", "Enable", NULL);
	button(h, p, id, "", "rotate", "New secret",
	       "Make a new secret? The receiver must be given it before the next delivery verifies.");
	button(h, p, id, "/delete", NULL, "Delete",
	       "Delete this subscription and its delivery log? The audit trail keeps its history.");
	html_raw(h, "</p>\n<h2>Deliveries</h2>\n");
	if (!json_array_size(log)) {
		html_raw(h, "<p class=\"muted\">Nothing delivered yet.</p>\n");
		layout_end(h);
		return;
	}
	html_raw(h, "<div class=\"scroll\"><table id=\"deliveries\">\n<thead><tr><th>When</th><th>Audit event</th>"
		    "<th>Try</th><th>Status</th><th>Time</th><th>Error</th></tr></thead>\n<tbody>\n");
	json_array_foreach(log, i, d) {
		const json_t *status = json_object_get(d, "status");
		bool ok = !web_str(d, "error");

		html_raw(h, "<tr><td>");
		time_or_dash(h, web_str(d, "at"));
		html_raw(h, "</td><td class=\"num\">");
		html_int(h, json_integer_value(json_object_get(d, "seq")));
		html_raw(h, "</td><td class=\"num\">");
		html_int(h, json_integer_value(json_object_get(d, "attempt")));
		html_raw(h, ok ? "</td><td class=\"num good\">" : "</td><td class=\"num bad\">");
		if (json_is_integer(status))
			html_int(h, json_integer_value(status));
		else
			html_raw(h, "&ndash;");
		html_raw(h, "</td><td class=\"num\">");
		html_int(h, json_integer_value(json_object_get(d, "duration_ms")));
		html_raw(h, " ms</td><td>");
		html_text(h, web_str(d, "error"));
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table></div>\n");
	layout_end(h);
}
