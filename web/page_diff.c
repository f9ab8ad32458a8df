/*
 * web/page_diff.c - what changed between two versions: per file, the
 * semantic changes grouped by the engineering object that holds them
 * (the parent of each change's object path: a routine's rungs together, a
 * program's tags together), then git's unified patch behind a switch.
 */
#include <stdio.h>
#include <string.h>

#include "web/pages.h"

/* Changes shown per file; the rest are counted, and the patch holds everything. */
#define DIFF_SHOWN_MAX 1000
/* Bytes of the patch shown on the page. */
#define PATCH_SHOWN_MAX ((size_t)4 << 20)

/*
 * Length of the group key of a change path: the parent path and the type
 * of the last segment, "Program[Main]/Routine[R]/Rung" for
 * "Program[Main]/Routine[R]/Rung[3]", "Tag" for "Tag[Tag_0]".
 */
static size_t group_len(const char *path)
{
	const char *last, *bracket;

	if (!path)
		return 0;
	last = strrchr(path, '/');
	last = last ? last + 1 : path;
	bracket = strchr(last, '[');
	return bracket ? (size_t)(bracket - path) : strlen(path);
}

/* Where the last segment of a change path starts. */
static const char *object_of(const char *path)
{
	const char *last = path ? strrchr(path, '/') : NULL;

	return last ? last + 1 : path;
}

static bool same_group(const char *a, const char *b)
{
	size_t la = group_len(a), lb = group_len(b);

	return la == lb && (la == 0 || memcmp(a, b, la) == 0);
}

static void change_row(struct html *h, const json_t *c)
{
	const char *kind = web_str(c, "kind"), *path = web_str(c, "path");
	const json_t *delta = json_object_get(c, "delta");

	html_raw(h, "<tr><td class=\"k-");
	html_attr(h, kind);
	html_raw(h, "\">");
	html_text(h, kind);
	html_raw(h, "</td><td><code>");
	html_text(h, path && *path ? object_of(path) : "(file)");
	html_raw(h, "</code></td><td>");
	html_text(h, web_str(c, "what"));
	html_raw(h, "</td><td class=\"old\">");
	html_text(h, web_str(c, "old"));
	html_raw(h, "</td><td class=\"new\">");
	html_text(h, web_str(c, "new"));
	if (delta && !json_is_null(delta)) {
		char d[64];

		if (json_is_string(delta))
			html_text(h, json_string_value(delta));
		else if (json_is_number(delta)) {
			snprintf(d, sizeof(d), " (%+g)", json_number_value(delta));
			html_text(h, d);
		}
	}
	html_raw(h, "</td></tr>\n");
	if (web_str(c, "patch")) {
		html_raw(h, "<tr><td></td><td colspan=\"4\"><pre class=\"patch\">");
		html_text(h, web_str(c, "patch"));
		html_raw(h, "</pre></td></tr>\n");
	}
}

static void semantic(struct html *h, const json_t *sem)
{
	const json_t *changes = json_object_get(sem, "changes"), *sum = json_object_get(sem, "summary");
	size_t i, n = json_array_size(changes), shown = n < DIFF_SHOWN_MAX ? n : DIFF_SHOWN_MAX;

	html_raw(h, "<p class=\"muted\">");
	html_text(h, web_str(sem, "format"));
	html_raw(h, ": ");
	html_int(h, json_integer_value(json_object_get(sum, "total")));
	html_raw(h, " changes - ");
	html_int(h, json_integer_value(json_object_get(sum, "added")));
	html_raw(h, " added, ");
	html_int(h, json_integer_value(json_object_get(sum, "removed")));
	html_raw(h, " removed, ");
	html_int(h, json_integer_value(json_object_get(sum, "modified")));
	html_raw(h, " modified, ");
	html_int(h, json_integer_value(json_object_get(sum, "moved")));
	html_raw(h, " moved, ");
	html_int(h, json_integer_value(json_object_get(sum, "renamed")));
	html_raw(h, " renamed</p>\n");
	if (web_str(sem, "fallback_reason")) {
		html_raw(h, "<p class=\"notice notice-info\">Compared as text: ");
		html_text(h, web_str(sem, "fallback_reason"));
		html_raw(h, "</p>\n");
	}
	for (i = 0; i < shown;) {
		const char *first = web_str(json_array_get(changes, i), "path");
		size_t j = i, g = group_len(first);

		while (j < shown && same_group(first, web_str(json_array_get(changes, j), "path")))
			j++;
		html_raw(h, "<details class=\"group\" open><summary>");
		if (g)
			html_textn(h, first, g);
		else
			html_raw(h, "the file");
		html_raw(h, " <span class=\"muted\">(");
		html_int(h, (int64_t)(j - i));
		html_raw(h, ")</span></summary>\n<div class=\"table-wrap\"><table><thead><tr><th>change</th>"
			    "<th>object</th><th>what</th><th>old</th><th>new</th></tr></thead><tbody>\n");
		for (; i < j; i++)
			change_row(h, json_array_get(changes, i));
		html_raw(h, "</tbody></table></div></details>\n");
	}
	if (n > shown) {
		html_raw(h, "<p class=\"notice notice-info\">");
		html_int(h, (int64_t)(n - shown));
		html_raw(h, " more changes are not shown here; the raw patch below holds everything.</p>\n");
	}
}

static void patch_lines(struct html *h, const char *patch, size_t len)
{
	size_t pos = 0, lim = len < PATCH_SHOWN_MAX ? len : PATCH_SHOWN_MAX;

	html_raw(h, "<pre class=\"patch\">");
	while (pos < lim) {
		const char *line = patch + pos, *nl = memchr(line, '\n', lim - pos);
		size_t n = nl ? (size_t)(nl - line) : lim - pos;
		const char *cls = *line == '+' ? "ins" : *line == '-' ? "del" : *line == '@' ? "hunk" : NULL;

		if (cls) {
			html_raw(h, "<span class=\"");
			html_raw(h, cls);
			html_raw(h, "\">");
		}
		html_textn(h, line, n);
		html_raw(h, cls ? "</span>" : "\n");
		pos += n + 1;
	}
	html_raw(h, "</pre>\n");
	if (len > lim)
		html_raw(h, "<p class=\"muted\">The patch is cut here; download it from the API with format=patch.</p>\n");
}

void page_diff(struct html *h, const struct web_page *p, const json_t *asset, const char *from,
	       const char *to, const json_t *files, const char *patch, size_t patch_len)
{
	const json_t *f;
	size_t i;
	int64_t id = json_integer_value(json_object_get(asset, "id"));

	layout_begin(h, p);
	html_raw(h, "<div class=\"crumbs\"><a href=\"/assets\">Assets</a> / <a href=\"/assets/");
	html_int(h, id);
	html_raw(h, "\">");
	html_text(h, web_str(asset, "path"));
	html_raw(h, "</a></div>\n<h1>What changed</h1>\n<p>From ");
	if (from) {
		html_raw(h, "<a href=\"/assets/");
		html_int(h, id);
		html_raw(h, "/versions/");
		html_url(h, from);
		html_raw(h, "\">");
		web_short(h, from);
		html_raw(h, "</a>");
	} else {
		html_raw(h, "nothing");
	}
	html_raw(h, " to <a href=\"/assets/");
	html_int(h, id);
	html_raw(h, "/versions/");
	html_url(h, to);
	html_raw(h, "\">");
	web_short(h, to);
	html_raw(h, "</a>: ");
	html_int(h, (int64_t)json_array_size(files));
	html_raw(h, json_array_size(files) == 1 ? " file changed.</p>\n" : " files changed.</p>\n");
	json_array_foreach(files, i, f) {
		const json_t *sem = json_object_get(f, "semantic");

		html_raw(h, "<section class=\"otcm-diff\"><h2 class=\"otcm-diff-file\">");
		html_text(h, web_str(f, "path"));
		html_raw(h, " <span class=\"badge\">");
		html_text(h, web_str(f, "status"));
		html_raw(h, "</span> <span class=\"muted\">+");
		html_int(h, json_integer_value(json_object_get(f, "additions")));
		html_raw(h, " -");
		html_int(h, json_integer_value(json_object_get(f, "deletions")));
		html_raw(h, " lines</span></h2>\n");
		if (sem && json_is_object(sem)) {
			semantic(h, sem);
		} else {
			html_raw(h, "<p class=\"muted\">No semantic comparison: ");
			html_text(h, web_str(f, "semantic_skipped") ? web_str(f, "semantic_skipped")
								    : "not available");
			html_raw(h, ".</p>\n");
		}
		html_raw(h, "</section>\n");
	}
	html_raw(h, "<details class=\"raw\"><summary>Raw patch (");
	html_int(h, (int64_t)patch_len);
	html_raw(h, " bytes)</summary>\n");
	patch_lines(h, patch, patch_len);
	html_raw(h, "</details>\n");
	layout_end(h);
}
