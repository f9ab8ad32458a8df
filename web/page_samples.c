/*
 * web/page_samples.c - the auditor's samples page: the samples taken, each
 * with its period, seed, the population it was drawn from, the sampled
 * changes and its evidence archive; and the form that draws one.
 */
#include "web/pages.h"

#include <inttypes.h>

static void field(struct html *h, const json_t *refill, const char *name, const char *label, const char *type,
		  const char *extra)
{
	html_raw(h, "<label for=\"");
	html_attr(h, name);
	html_raw(h, "\">");
	html_text(h, label);
	html_raw(h, "</label><input id=\"");
	html_attr(h, name);
	html_raw(h, "\" name=\"");
	html_attr(h, name);
	html_raw(h, "\" type=\"");
	html_attr(h, type);
	html_raw(h, "\" ");
	html_raw(h, extra);
	html_raw(h, " value=\"");
	html_attr(h, web_str(refill, name));
	html_raw(h, "\">");
}

static void draw_form(struct html *h, const struct web_page *p, const json_t *refill)
{
	html_raw(h, "<section class=\"panel\" id=\"draw\"><h2>Draw a sample</h2>\n"
		    "<form method=\"post\" action=\"/samples\" class=\"searchbar\">");
	layout_csrf_field(h, p);
	field(h, refill, "from", "From", "date", "required");
	field(h, refill, "to", "to, not included", "date", "required");
	field(h, refill, "size", "Size", "number", "required min=\"1\" max=\"1000\"");
	field(h, refill, "seed", "Seed (empty: random)", "text", "maxlength=\"128\" pattern=\"[A-Za-z0-9._\\-]+\"");
	html_raw(h, "<button type=\"submit\">Draw</button></form>\n"
		    "<p class=\"muted\">Days in UTC; the period must have ended. The sample is drawn from the "
		    "period's population by <code>otcm-sample/1</code>: anyone can redo it from the seed and the "
		    "population report (docs/evidence.md). Every draw is recorded in the audit trail.</p>\n"
		    "</section>\n");
}

static void sample_row(struct html *h, const json_t *s)
{
	json_int_t id = json_integer_value(json_object_get(s, "id"));
	const json_t *k;
	size_t i;

	html_rawf(h, "<tr id=\"sample-%" JSON_INTEGER_FORMAT "\"><td class=\"num\">%" JSON_INTEGER_FORMAT
		     "</td><td>", id, id);
	web_time(h, web_str(s, "taken_at"));
	html_raw(h, "<br>");
	html_text(h, web_str(s, "taken_by"));
	html_raw(h, "</td><td>");
	web_time(h, web_str(s, "from"));
	html_raw(h, " to ");
	web_time(h, web_str(s, "to"));
	html_rawf(h, "</td><td class=\"num\">%zu of %" JSON_INTEGER_FORMAT "</td><td><code class=\"wrap\">",
		  json_array_size(json_object_get(s, "keys")),
		  json_integer_value(json_object_get(s, "population_size")));
	html_text(h, web_str(s, "seed"));
	html_raw(h, "</code> <span class=\"muted\">(");
	html_text(h, web_str(s, "seed_source"));
	html_raw(h, ")</span></td><td>");
	json_array_foreach(json_object_get(s, "keys"), i, k) {
		if (i)
			html_raw(h, ", ");
		html_raw(h, "<a href=\"/changes/");
		html_url(h, json_string_value(k));
		html_raw(h, "\">");
		html_text(h, json_string_value(k));
		html_raw(h, "</a>");
	}
	html_rawf(h, "</td><td><a download href=\"/api/v1/reports/samples/%" JSON_INTEGER_FORMAT "/evidence\">"
		     "sample-%" JSON_INTEGER_FORMAT ".tar</a></td></tr>\n", id, id);
}

void page_samples(struct html *h, const struct web_page *p, const json_t *samples, const json_t *refill,
		  const char *notice_kind, const char *notice)
{
	const json_t *items = json_object_get(samples, "items"), *s;
	size_t i;

	layout_begin(h, p);
	html_raw(h, "<h1>Samples</h1>\n<p class=\"muted\">Random samples of a period's changes for testing "
		    "controls, each with the evidence of every sampled change in one archive that "
		    "<code>otcm verify</code> checks offline.</p>\n");
	layout_notice(h, notice_kind, notice);
	draw_form(h, p, refill);
	html_rawf(h, "<h2 id=\"taken\">Samples taken: %zu</h2>\n", json_array_size(items));
	if (!json_array_size(items)) {
		html_raw(h, "<p>No sample has been drawn yet.</p>\n");
		layout_end(h);
		return;
	}
	html_raw(h, "<div class=\"table-wrap\"><table id=\"samples\"><thead><tr><th>#</th><th>taken</th>"
		    "<th>period</th><th>changes</th><th>seed</th><th>sampled</th><th>evidence</th></tr></thead>"
		    "<tbody>\n");
	json_array_foreach(items, i, s)
		sample_row(h, s);
	html_raw(h, "</tbody></table></div>\n");
	layout_end(h);
}
