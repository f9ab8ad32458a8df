/*
 * web/page_plant.c - the plant page (each asset's read-back state by site,
 * area and line, with the diff of each drift) and the agents page.
 */
#include "web/pages.h"

#include <string.h>

#define CHANGES_SHOWN 20

static void cell(struct html *h, const char *text)
{
	html_raw(h, "<td>");
	html_text(h, text ? text : "");
	html_raw(h, "</td>");
}

/* The state's colour: the stylesheet's badges, plain for never read. */
static const char *state_class(const char *state)
{
	if (strcmp(state, "in_sync") == 0)
		return "badge-ok";
	if (strcmp(state, "pending_release") == 0)
		return "badge-warn";
	if (strcmp(state, "never_read") == 0)
		return "";
	return "badge-bad";
}

static void state_label(struct html *h, const char *state)
{
	html_raw(h, "<span class=\"badge state-");
	html_attr(h, state);
	html_raw(h, " ");
	html_raw(h, state_class(state));
	html_raw(h, "\">");
	html_text(h, state);
	html_raw(h, "</span>");
}

/* The semantic changes of a drift, file by file. */
static void drift_diff(struct html *h, const json_t *files)
{
	const json_t *f, *ch;
	size_t i, j;

	html_raw(h, "<ul class=\"drift\">");
	json_array_foreach(files, i, f) {
		const json_t *changes = json_object_get(json_object_get(f, "semantic"), "changes");

		html_raw(h, "<li><code>");
		html_text(h, json_string_value(json_object_get(f, "path")));
		html_raw(h, "</code> ");
		html_text(h, json_string_value(json_object_get(f, "status")));
		if (json_array_size(changes)) {
			html_raw(h, "<ul>");
			json_array_foreach(changes, j, ch) {
				const char *old = json_string_value(json_object_get(ch, "old"));
				const char *new_value = json_string_value(json_object_get(ch, "new"));

				if (j == CHANGES_SHOWN) {
					html_raw(h, "<li class=\"muted\">and ");
					html_int(h, (int64_t)(json_array_size(changes) - CHANGES_SHOWN));
					html_raw(h, " more</li>");
					break;
				}
				html_raw(h, "<li>");
				html_text(h, json_string_value(json_object_get(ch, "kind")));
				html_raw(h, " <code>");
				html_text(h, json_string_value(json_object_get(ch, "path")));
				html_raw(h, "</code> ");
				html_text(h, json_string_value(json_object_get(ch, "what")));
				if (old || new_value) {
					html_raw(h, ": <del>");
					html_text(h, old ? old : "");
					html_raw(h, "</del> &rarr; <ins>");
					html_text(h, new_value ? new_value : "");
					html_raw(h, "</ins>");
				}
				html_raw(h, "</li>");
			}
			html_raw(h, "</ul>");
		}
		html_raw(h, "</li>");
	}
	html_raw(h, "</ul>");
}

/* "site/area/line" of an asset path: all but its last segment. */
static size_t group_len(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? (size_t)(slash - path) : 0;
}

void page_plant(struct html *h, const struct web_page *p, const json_t *states, const char *prefix)
{
	static const char *const order[] = { "drift", "read_failed", "stale", "pending_release", "in_sync",
					     "never_read" };
	const json_t *items = json_object_get(states, "items"), *counts = json_object_get(states, "counts");
	const json_t *it;
	const char *group = NULL;
	size_t group_n = 0, i;

	layout_begin(h, p);
	html_raw(h, "<h1>Plant</h1>\n<p class=\"muted\">What the collection agents read back from each "
		    "device, compared with the released version and the approved changes. A drift is a "
		    "difference nobody approved; it is resolved only by a change.</p>\n"
		    "<form class=\"searchbar\" method=\"get\" action=\"/plant\"><label for=\"prefix\">Under"
		    "</label><input id=\"prefix\" name=\"prefix\" value=\"");
	html_attr(h, prefix ? prefix : "");
	html_raw(h, "\" placeholder=\"site/area\"><button>Show</button></form>\n<p class=\"counts\">");
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		state_label(h, order[i]);
		html_raw(h, " ");
		html_int(h, json_integer_value(json_object_get(counts, order[i])));
		html_raw(h, " &nbsp; ");
	}
	html_raw(h, "<a href=\"/api/v1/readbacks\">JSON</a></p>\n");
	if (!json_array_size(items)) {
		html_raw(h, "<p class=\"muted\">No asset here.</p>\n");
		layout_end(h);
		return;
	}
	json_array_foreach(items, i, it) {
		const char *path = json_string_value(json_object_get(it, "path"));
		const char *state = json_string_value(json_object_get(it, "state"));
		const json_t *diff = json_object_get(it, "drift_files");
		size_t glen = group_len(path);

		if (!group || glen != group_n || strncmp(group, path, glen)) {
			if (group)
				html_raw(h, "</tbody></table>\n");
			group = path;
			group_n = glen;
			html_raw(h, "<h2>");
			if (glen)
				html_textn(h, path, glen);
			else
				html_raw(h, "(top level)");
			html_raw(h, "</h2>\n<table>\n<thead><tr><th>Asset</th><th>State</th><th>Agent</th>"
				    "<th>Last read-back</th><th>Last good</th><th>Detail</th></tr></thead>\n<tbody>\n");
		}
		html_raw(h, "<tr><td><a href=\"/assets/");
		html_int(h, json_integer_value(json_object_get(it, "asset_id")));
		html_raw(h, "\">");
		html_text(h, path + (glen ? glen + 1 : 0));
		html_raw(h, "</a></td><td>");
		state_label(h, state);
		html_raw(h, "</td>");
		cell(h, json_string_value(json_object_get(it, "agent")));
		cell(h, json_string_value(json_object_get(it, "last_read_at")));
		cell(h, json_string_value(json_object_get(it, "last_good_at")));
		html_raw(h, "<td>");
		if (json_is_string(json_object_get(it, "error")))
			html_text(h, json_string_value(json_object_get(it, "error")));
		if (json_is_string(json_object_get(it, "pending_change"))) {
			html_raw(h, "runs <a href=\"/changes/");
			html_attr(h, json_string_value(json_object_get(it, "pending_change")));
			html_raw(h, "\">");
			html_text(h, json_string_value(json_object_get(it, "pending_change")));
			html_raw(h, "</a>, not released yet");
		}
		if (json_is_string(json_object_get(it, "note")))
			html_text(h, json_string_value(json_object_get(it, "note")));
		if (json_is_array(diff))
			drift_diff(h, diff);
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table>\n");
	layout_end(h);
}

void page_agents(struct html *h, const struct web_page *p, const json_t *agents)
{
	const json_t *a;
	size_t i;

	layout_begin(h, p);
	html_raw(h, "<h1>Collection agents</h1>\n<p class=\"muted\">Each user of role agent: when it last "
		    "called in, what it runs, the assets it reads back and its failures of the last 7 days "
		    "(<a href=\"/api/v1/agents\">JSON</a>).</p>\n");
	if (!json_array_size(agents)) {
		html_raw(h, "<p class=\"muted\">No agent yet: create a user of role agent.</p>\n");
		layout_end(h);
		return;
	}
	html_raw(h, "<table>\n<thead><tr><th>Agent</th><th>Last contact</th><th>Version</th><th>Host</th>"
		    "<th>Assets</th><th>Read-backs</th><th>Failures (7 days)</th><th>Last failure</th>"
		    "</tr></thead>\n<tbody>\n");
	json_array_foreach(agents, i, a) {
		const json_t *lf = json_object_get(a, "last_failure");
		json_int_t failures = json_integer_value(json_object_get(a, "failures"));

		html_raw(h, "<tr>");
		cell(h, json_string_value(json_object_get(a, "username")));
		cell(h, json_is_string(json_object_get(a, "last_contact_at"))
				? json_string_value(json_object_get(a, "last_contact_at")) : "never");
		cell(h, json_string_value(json_object_get(a, "version")));
		cell(h, json_string_value(json_object_get(a, "hostname")));
		html_raw(h, "<td class=\"num\">");
		html_int(h, json_integer_value(json_object_get(a, "assets")));
		html_raw(h, "</td><td class=\"num\">");
		html_int(h, json_integer_value(json_object_get(a, "readbacks")));
		html_raw(h, "</td><td class=\"num\">");
		html_raw(h, failures ? "<span class=\"badge badge-bad\">" : "<span>");
		html_int(h, failures);
		html_raw(h, "</span></td>");
		cell(h, json_is_object(lf) ? json_string_value(json_object_get(lf, "error")) : "");
		html_raw(h, "</tr>\n");
	}
	html_raw(h, "</tbody></table>\n");
	layout_end(h);
}
