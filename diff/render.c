/*
 * diff/render.c - a diff result as JSON (the stable form documented in
 * docs/diff.md), as a plain-text summary and as an escaped HTML fragment.
 */
#include "diff/diff.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "diff/model.h"

static void count(const struct dchanges *c, size_t k[5])
{
	memset(k, 0, 5 * sizeof(size_t));
	for (size_t i = 0; i < c->n; i++)
		k[c->v[i].kind]++;
}

static json_t *str_or_null(const char *s)
{
	json_t *v = s ? json_string(s) : NULL;

	/* json_string refuses invalid UTF-8; our text is decoded, but stay safe */
	return v ? v : s ? json_stringn_nocheck(s, strlen(s)) : json_null();
}

int diff_to_json(json_t **out, const struct diff_result *r)
{
	const struct dchanges *c = diff_result_changes(r);
	json_t *o = json_object(), *arr = json_array(), *parsed = json_object(), *sum = json_object();
	bool ho, hn, po, pn;
	size_t k[5];

	if (!out)
		return err_set(OTCM_EINVAL, NULL, "no output pointer");
	diff_result_sides(r, &ho, &hn, &po, &pn);
	json_object_set_new(o, "path", str_or_null(diff_result_path(r)));
	json_object_set_new(o, "format", json_string(diff_result_format(r)));
	json_object_set_new(parsed, "old", ho ? json_boolean(po) : json_null());
	json_object_set_new(parsed, "new", hn ? json_boolean(pn) : json_null());
	json_object_set_new(o, "parsed", parsed);
	if (diff_result_fallback(r))
		json_object_set_new(o, "fallback_reason", str_or_null(diff_result_fallback(r)));
	for (size_t i = 0; i < c->n; i++) {
		const struct dchange *ch = &c->v[i];
		json_t *e = json_object();

		json_object_set_new(e, "path", str_or_null(ch->path));
		json_object_set_new(e, "kind", json_string(dchange_kind_name(ch->kind)));
		json_object_set_new(e, "what", str_or_null(ch->what));
		json_object_set_new(e, "old", str_or_null(ch->old_value));
		json_object_set_new(e, "new", str_or_null(ch->new_value));
		if (ch->has_delta)
			json_object_set_new(e, "delta", json_real(ch->delta));
		if (ch->patch)
			json_object_set_new(e, "patch", str_or_null(ch->patch));
		json_array_append_new(arr, e);
	}
	json_object_set_new(o, "changes", arr);
	count(c, k);
	json_object_set_new(sum, "added", json_integer((json_int_t)k[DCHANGE_ADDED]));
	json_object_set_new(sum, "removed", json_integer((json_int_t)k[DCHANGE_REMOVED]));
	json_object_set_new(sum, "modified", json_integer((json_int_t)k[DCHANGE_MODIFIED]));
	json_object_set_new(sum, "moved", json_integer((json_int_t)k[DCHANGE_MOVED]));
	json_object_set_new(sum, "renamed", json_integer((json_int_t)k[DCHANGE_RENAMED]));
	json_object_set_new(sum, "total", json_integer((json_int_t)c->n));
	json_object_set_new(o, "summary", sum);
	json_object_set_new(o, "category", json_string(diff_result_category(r)));
	json_object_set_new(o, "generated", json_boolean(diff_result_generated(r)));
	{
		json_t *cats = json_object();

		for (size_t i = 0; i < c->n; i++) {
			const char *cat = diff_change_category(r, i);

			json_object_set_new(cats, cat,
			                    json_integer(json_integer_value(json_object_get(cats, cat)) + 1));
		}
		json_object_set_new(o, "categories", cats);
	}
	*out = o;
	return 0;
}

/* A delta as people write it: "+5", "-0.25". */
static void fmt_delta(char *b, size_t n, double d)
{
	if (fabs(d) < 1e15 && d == (double)(long long)d)
		snprintf(b, n, "%+lld", (long long)d);
	else
		snprintf(b, n, "%+.10g", d);
}

static const char kind_mark[] = "+-~>=";

static int text_value(struct buf *out, const char *v)
{
	if (!v)
		return buf_adds(out, "(none)");
	return buf_addf(out, "'%s'", v);
}

static int text_patch(struct buf *out, const char *patch)
{
	int rc = 0;

	while (patch && *patch && !rc) {
		const char *e = strchr(patch, '\n');
		size_t len = e ? (size_t)(e - patch) : strlen(patch);

		rc = buf_addf(out, "      %.*s\n", (int)len, patch);
		patch += len + (e ? 1 : 0);
	}
	return rc;
}

int diff_to_text(struct buf *out, const struct diff_result *r)
{
	const struct dchanges *c = diff_result_changes(r);
	size_t k[5];
	int rc;

	if ((rc = buf_addf(out, "%s (%s)\n", diff_result_path(r), diff_result_format(r))))
		return rc;
	if (diff_result_fallback(r) && (rc = buf_addf(out, "  note: compared as text: %s\n",
	                                              diff_result_fallback(r))))
		return rc;
	for (size_t i = 0; i < c->n && !rc; i++) {
		const struct dchange *ch = &c->v[i];
		const char *p = *ch->path ? ch->path : "(file)";

		rc = buf_addf(out, "  %c %s: %s %s", kind_mark[ch->kind], p, ch->what,
		              dchange_kind_name(ch->kind));
		if (!rc && (ch->old_value || ch->new_value)) {
			if (ch->kind == DCHANGE_ADDED) {
				rc = buf_adds(out, " ") || text_value(out, ch->new_value);
			} else if (ch->kind == DCHANGE_REMOVED) {
				rc = buf_adds(out, " ") || text_value(out, ch->old_value);
			} else {
				rc = buf_adds(out, ": ") || text_value(out, ch->old_value) ||
				     buf_adds(out, " -> ") || text_value(out, ch->new_value);
			}
		}
		if (!rc && ch->has_delta) {
			char d[48];

			fmt_delta(d, sizeof(d), ch->delta);
			rc = buf_addf(out, " (%s)", d);
		}
		if (!rc)
			rc = buf_addch(out, '\n');
		if (!rc && ch->patch)
			rc = text_patch(out, ch->patch);
	}
	count(c, k);
	if (!rc)
		rc = buf_addf(out, "  %zu change%s: %zu added, %zu removed, %zu modified, %zu moved, %zu renamed\n",
		              c->n, c->n == 1 ? "" : "s", k[DCHANGE_ADDED], k[DCHANGE_REMOVED],
		              k[DCHANGE_MODIFIED], k[DCHANGE_MOVED], k[DCHANGE_RENAMED]);
	return rc ? OTCM_ETOOBIG : 0;
}

/* Escape text for HTML element content and quoted attribute values. */
static int html_esc(struct buf *out, const char *s)
{
	int rc = 0;

	for (; s && *s && !rc; s++) {
		switch (*s) {
		case '&': rc = buf_adds(out, "&amp;"); break;
		case '<': rc = buf_adds(out, "&lt;"); break;
		case '>': rc = buf_adds(out, "&gt;"); break;
		case '"': rc = buf_adds(out, "&quot;"); break;
		case '\'': rc = buf_adds(out, "&#39;"); break;
		default: rc = buf_addch(out, *s); break;
		}
	}
	return rc;
}

static int html_patch(struct buf *out, const char *patch)
{
	int rc = buf_adds(out, "<pre class=\"otcm-diff-patch\">");

	while (patch && *patch && !rc) {
		const char *e = strchr(patch, '\n');
		size_t len = e ? (size_t)(e - patch) : strlen(patch);
		const char *cls = *patch == '+' ? "ins" : *patch == '-' ? "del" : *patch == '@' ? "hunk" : "ctx";
		char *line = xstrndup(patch, len);

		rc = buf_addf(out, "<span class=\"otcm-diff-%s\">", cls) || html_esc(out, line) ||
		     buf_adds(out, "</span>\n");
		free(line);
		patch += len + (e ? 1 : 0);
	}
	/* buffers fail only by growing past their cap */
	return rc || buf_adds(out, "</pre>") ? OTCM_ETOOBIG : 0;
}

int diff_to_html(struct buf *out, const struct diff_result *r)
{
	const struct dchanges *c = diff_result_changes(r);
	size_t k[5];
	int rc;

	rc = buf_adds(out, "<section class=\"otcm-diff\" data-format=\"") ||
	     html_esc(out, diff_result_format(r)) || buf_adds(out, "\">\n<h3 class=\"otcm-diff-file\">") ||
	     html_esc(out, diff_result_path(r)) || buf_adds(out, " <span class=\"otcm-diff-format\">") ||
	     html_esc(out, diff_result_format(r)) || buf_adds(out, "</span></h3>\n");
	if (!rc && diff_result_fallback(r))
		rc = buf_adds(out, "<p class=\"otcm-diff-fallback\">compared as text: ") ||
		     html_esc(out, diff_result_fallback(r)) || buf_adds(out, "</p>\n");
	count(c, k);
	if (!rc)
		rc = buf_addf(out, "<p class=\"otcm-diff-summary\">%zu change%s: %zu added, %zu removed, "
		              "%zu modified, %zu moved, %zu renamed</p>\n", c->n, c->n == 1 ? "" : "s",
		              k[DCHANGE_ADDED], k[DCHANGE_REMOVED], k[DCHANGE_MODIFIED],
		              k[DCHANGE_MOVED], k[DCHANGE_RENAMED]);
	if (!rc && c->n)
		rc = buf_adds(out, "<table class=\"otcm-diff-changes\">\n<thead><tr><th>change</th>"
		              "<th>object</th><th>what</th><th>old</th><th>new</th></tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < c->n && !rc; i++) {
		const struct dchange *ch = &c->v[i];
		const char *kind = dchange_kind_name(ch->kind);

		rc = buf_addf(out, "<tr class=\"otcm-diff-%s\"><td>%s</td><td><code>", kind, kind) ||
		     html_esc(out, *ch->path ? ch->path : "(file)") || buf_adds(out, "</code></td><td>") ||
		     html_esc(out, ch->what) || buf_adds(out, "</td><td>") || html_esc(out, ch->old_value) ||
		     buf_adds(out, "</td><td>") || html_esc(out, ch->new_value);
		if (!rc && ch->has_delta) {
			char d[48];

			fmt_delta(d, sizeof(d), ch->delta);
			rc = buf_addf(out, " <span class=\"otcm-diff-delta\">(%s)</span>", d);
		}
		if (!rc)
			rc = buf_adds(out, "</td></tr>\n");
		if (!rc && ch->patch)
			rc = buf_adds(out, "<tr class=\"otcm-diff-patchrow\"><td colspan=\"5\">") ||
			     html_patch(out, ch->patch) || buf_adds(out, "</td></tr>\n");
	}
	if (!rc && c->n)
		rc = buf_adds(out, "</tbody>\n</table>\n");
	if (!rc)
		rc = buf_adds(out, "</section>\n");
	return rc ? OTCM_ETOOBIG : 0;
}
