/* web/page_common.c - small pieces several pages share; see pages.h. */
#include <inttypes.h>
#include <string.h>

#include "web/pages.h"

const char *web_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

void web_time(struct html *h, const char *t)
{
	char shown[32];
	size_t n;

	if (!t || !*t) {
		html_raw(h, "<span class=\"muted\">-</span>");
		return;
	}
	/* "2024-05-01T12:00:03.123456Z" -> "2024-05-01 12:00:03" */
	n = strcspn(t, ".Z+");
	if (n >= sizeof(shown))
		n = sizeof(shown) - 1;
	memcpy(shown, t, n);
	shown[n] = '\0';
	if (n > 10 && shown[10] == 'T')
		shown[10] = ' ';
	html_raw(h, "<time datetime=\"");
	html_attr(h, t);
	html_raw(h, "\">");
	html_text(h, shown);
	html_raw(h, "</time>");
}

void web_short(struct html *h, const char *oid)
{
	html_raw(h, "<code title=\"");
	html_attr(h, oid);
	html_raw(h, "\">");
	html_textn(h, oid ? oid : "", oid ? (strlen(oid) < 12 ? strlen(oid) : 12) : 0);
	html_raw(h, "</code>");
}

void web_state(struct html *h, const char *state)
{
	const char *cls = "";

	if (!state)
		state = "unknown";
	if (strcmp(state, "released") == 0 || strcmp(state, "closed") == 0 ||
	    strcmp(state, "approved") == 0 || strcmp(state, "authorised") == 0)
		cls = " badge-ok";
	else if (strcmp(state, "rejected") == 0 || strcmp(state, "cancelled") == 0)
		cls = " badge-bad";
	else if (strcmp(state, "draft") != 0)
		cls = " badge-warn";
	html_raw(h, "<span class=\"badge state");
	html_raw(h, cls);
	html_raw(h, "\">");
	html_text(h, state);
	html_raw(h, "</span>");
}

void web_change_table(struct html *h, const json_t *changes, const char *empty)
{
	const json_t *c;
	size_t i;

	if (json_array_size(changes) == 0) {
		html_raw(h, "<p class=\"muted\">");
		html_text(h, empty);
		html_raw(h, "</p>\n");
		return;
	}
	html_raw(h, "<div class=\"table-wrap\"><table>\n<thead><tr><th>change</th><th>title</th>"
		    "<th>type</th><th>state</th><th>requester</th><th>created</th></tr></thead>\n<tbody>\n");
	json_array_foreach(changes, i, c) {
		html_raw(h, "<tr><td><a href=\"/changes/");
		html_url(h, web_str(c, "key"));
		html_raw(h, "\">");
		html_text(h, web_str(c, "key"));
		html_raw(h, "</a></td><td>");
		html_text(h, web_str(c, "title"));
		if (json_is_true(json_object_get(c, "overdue")))
			html_raw(h, " <span class=\"badge badge-bad\">approval overdue</span>");
		html_raw(h, "</td><td>");
		html_text(h, web_str(c, "type"));
		html_raw(h, "</td><td>");
		web_state(h, web_str(c, "state"));
		html_raw(h, "</td><td>");
		html_text(h, web_str(c, "requester"));
		html_raw(h, "</td><td>");
		web_time(h, web_str(c, "created_at"));
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table></div>\n");
}

void web_asset_choice(struct html *h, const json_t *change, int64_t asset_id, bool with_branch,
		      const char *none)
{
	const json_t *assets = json_object_get(change, "affected_assets");
	json_t *a;
	size_t i;

	json_array_foreach(assets, i, a) {
		int64_t id = json_integer_value(json_object_get(a, "id"));
		const char *commit = web_str(a, "commit");

		html_rawf(h, "<label class=\"check\"><input type=\"radio\" name=\"asset_id\" value=\"%" PRId64 "\"", id);
		if (id == asset_id || (asset_id == 0 && json_array_size(assets) == 1))
			html_raw(h, " checked");
		if (!commit)
			html_raw(h, " disabled");
		html_raw(h, " required> <code>");
		html_text(h, web_str(a, "path"));
		html_raw(h, "</code> ");
		if (commit) {
			html_raw(h, "version ");
			web_short(h, commit);
			if (with_branch) {
				html_raw(h, " <span class=\"muted\">(head of ");
				html_text(h, web_str(a, "branch"));
				html_raw(h, ", tree ");
				web_short(h, web_str(a, "tree"));
				html_raw(h, ")</span>");
			} else {
				html_raw(h, " <span class=\"muted\">tree ");
				web_short(h, web_str(a, "tree"));
				html_raw(h, "</span>");
			}
		} else {
			html_raw(h, "<span class=\"muted\">");
			html_text(h, none);
			html_raw(h, "</span>");
		}
		html_raw(h, "</label>\n");
	}
}
