/*
 * web/page_drills.c - the restore drills page: each recorded drill with
 * its recovery time and point, whether it passed, and whether one is due.
 */
#include "web/pages.h"

#include <string.h>

static void cell(struct html *h, const char *text)
{
	html_raw(h, "<td>");
	html_text(h, text ? text : "");
	html_raw(h, "</td>");
}

static void ms_cell(struct html *h, const json_t *v)
{
	html_raw(h, "<td class=\"num\">");
	if (json_is_integer(v))
		html_rawf(h, "%.1f s", (double)json_integer_value(v) / 1000.0);
	else
		html_raw(h, "&ndash;");
	html_raw(h, "</td>");
}

void page_drills(struct html *h, const struct web_page *p, const json_t *drills)
{
	const json_t *items = json_object_get(drills, "items"), *d;
	const char *last = json_string_value(json_object_get(drills, "last_passed_at"));
	size_t i;

	layout_begin(h, p);
	html_raw(h, "<h1>Restore drills</h1>\n<p>");
	if (json_is_true(json_object_get(drills, "overdue"))) {
		html_raw(h, "<strong class=\"bad\">A restore drill is due:</strong> ");
		if (last) {
			html_raw(h, "the last one that passed was recorded ");
			html_text(h, last);
			html_raw(h, ", more than ");
		} else {
			html_raw(h, "none has passed yet; one is expected every ");
		}
		html_int(h, json_integer_value(json_object_get(drills, "max_age_days")));
		html_raw(h, last ? " days ago." : " days.");
	} else {
		html_raw(h, "The last restore drill that passed was recorded ");
		html_text(h, last);
		html_raw(h, ".");
	}
	html_raw(h, " Run one with <code>otcm drill --from BACKUP</code>; each record is signed with "
		    "the server's key (<a href=\"/api/v1/drills\">JSON</a>, "
		    "<a href=\"/api/v1/keys/server.pub\">public key</a>).</p>\n");
	if (!json_array_size(items)) {
		html_raw(h, "<p class=\"muted\">No drill has been recorded.</p>\n");
		layout_end(h);
		return;
	}
	html_raw(h, "<table>\n<thead><tr><th>#</th><th>Recorded</th><th>Result</th><th>Backup finished</th>"
		    "<th>Recovery time</th><th>Recovery point</th><th>Checks</th></tr></thead>\n<tbody>\n");
	json_array_foreach(items, i, d) {
		bool ok = json_is_true(json_object_get(d, "ok"));
		json_error_t e;
		json_t *rec = json_loads(json_string_value(json_object_get(d, "record")), 0, &e);
		const json_t *checks = json_object_get(rec, "checks"), *c;
		size_t j, failed = 0;

		html_raw(h, "<tr><td>");
		html_int(h, json_integer_value(json_object_get(d, "id")));
		html_raw(h, "</td>");
		cell(h, json_string_value(json_object_get(d, "recorded_at")));
		html_raw(h, ok ? "<td class=\"good\">passed</td>" : "<td class=\"bad\">failed</td>");
		cell(h, json_string_value(json_object_get(d, "backup_finished_at")));
		ms_cell(h, json_object_get(d, "recovery_time_ms"));
		ms_cell(h, json_object_get(d, "recovery_point_ms"));
		html_raw(h, "<td>");
		json_array_foreach(checks, j, c)
			if (!json_is_true(json_object_get(c, "ok"))) {
				html_raw(h, failed++ ? "; " : "");
				html_text(h, json_string_value(json_object_get(c, "name")));
				html_raw(h, ": ");
				html_text(h, json_string_value(json_object_get(c, "detail")));
			}
		if (!failed) {
			html_int(h, (int64_t)json_array_size(checks));
			html_raw(h, " passed");
		}
		html_raw(h, "</td></tr>\n");
		json_decref(rec);
	}
	html_raw(h, "</tbody></table>\n");
	layout_end(h);
}
