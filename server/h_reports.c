/*
 * server/h_reports.c - the door to the reports of a period
 * (domain/reports.h, docs/evidence.md).
 *
 *   GET /api/v1/reports/population?from=&to=&format=json|csv   all but agent
 *   GET /api/v1/reports/exceptions?from=&to=                   all but agent
 *
 * Reads the query, calls the domain operation and renders its answer as
 * JSON, or the population as CSV.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "domain/reports.h"
#include "server/handlers.h"

/* One CSV field: quoted when it holds a comma, quote, newline or leading formula character. */
static void csv_field(struct buf *b, const char *s)
{
	bool quote = strpbrk(s, ",\"\r\n") != NULL || strchr("=+-@", s[0]) != NULL;

	if (!quote) {
		buf_adds(b, s);
		return;
	}
	buf_addch(b, '"');
	if (strchr("=+-@", s[0]) && s[0])
		buf_addch(b, '\'');
	for (; *s; s++) {
		if (*s == '"')
			buf_addch(b, '"');
		buf_addch(b, *s);
	}
	buf_addch(b, '"');
}

/* A JSON value as one CSV field: arrays joined by ';', tree objects as asset=tree. */
static void csv_value(struct buf *b, const json_t *v)
{
	struct buf t = BUF_INIT;
	const json_t *e;
	size_t i;

	if (json_is_string(v)) {
		csv_field(b, json_string_value(v));
		return;
	}
	json_array_foreach(v, i, e) {
		if (i)
			buf_addch(&t, ';');
		if (json_is_object(e))
			buf_addf(&t, "%s=%s", json_string_value(json_object_get(e, "asset")),
				 json_string_value(json_object_get(e, "tree")));
		else if (json_is_string(e))
			buf_adds(&t, json_string_value(e));
	}
	csv_field(b, buf_cstr(&t));
	buf_release(&t);
}

int h_reports_population(struct http_req *req)
{
	static const char *const cols[] = { "key", "type", "state", "title", "created_at", "deployed_at",
		"released_at", "requester", "implementers", "approvers", "testers", "assets", "trees", NULL };
	const char *format = http_query(req, "format");
	json_t *out = NULL, *row;
	struct buf csv = BUF_INIT;
	size_t i, k;
	int rc;

	if ((rc = dom_report_population(&out, &req->dom, http_query(req, "from"), http_query(req, "to"),
					format)))
		return rc;
	if (!format || strcmp(format, "csv"))
		return http_reply_json(req, 200, out);
	for (k = 0; cols[k]; k++)
		buf_addf(&csv, "%s%s", k ? "," : "", cols[k]);
	buf_adds(&csv, "\r\n");
	json_array_foreach(json_object_get(out, "items"), i, row) {
		for (k = 0; cols[k]; k++) {
			if (k)
				buf_addch(&csv, ',');
			csv_value(&csv, json_object_get(row, cols[k]));
		}
		buf_adds(&csv, "\r\n");
	}
	http_set_header(req, "X-Otcm-Checkpoint-Start", arena_printf(req->arena, "%" JSON_INTEGER_FORMAT,
			json_integer_value(json_object_get(json_object_get(out, "start_checkpoint"), "tree_size"))));
	http_set_header(req, "X-Otcm-Checkpoint-End", arena_printf(req->arena, "%" JSON_INTEGER_FORMAT,
			json_integer_value(json_object_get(json_object_get(out, "end_checkpoint"), "tree_size"))));
	http_set_header(req, "Content-Disposition", "attachment; filename=\"population.csv\"");
	rc = http_reply_bytes(req, 200, "text/csv; charset=utf-8", csv.data ? csv.data : "", csv.len);
	buf_release(&csv);
	json_decref(out);
	return rc;
}

int h_reports_exceptions(struct http_req *req)
{
	json_t *out = NULL;
	int rc;

	if ((rc = dom_report_exceptions(&out, &req->dom, http_query(req, "from"), http_query(req, "to"))))
		return rc;
	return http_reply_json(req, 200, out);
}
