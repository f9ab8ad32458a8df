/*
 * web/page_diff.c - what changed between two versions: a summary across
 * all files by category (logic, I/O, configuration, libraries, HMI,
 * recipes, generated), a file list to navigate, then per file the semantic
 * changes grouped by the engineering object that holds them (the parent of
 * each change's object path: a routine's rungs together, a program's tags
 * together), and git's unified patch behind a switch.
 *
 * The page stays small however large the change: each file is a collapsible
 * section, generated files are folded, at most DIFF_FILE_INLINE changes of a
 * file and DIFF_PAGE_INLINE in all are written inline (and at most
 * DIFF_FILE_BYTES of a file, DIFF_PAGE_BYTES in all), long patches are cut,
 * and the rest is one link away on the page of that file
 * (?file=PATH&page=N, DIFF_FILE_PAGE changes a page).  No script needed.
 */
#include <stdio.h>
#include <string.h>

#include "web/pages.h"

/* Changes of one file written on the overview; the rest are on the file's page. */
#define DIFF_FILE_INLINE 100
/* Changes written on the overview in all, so a 50-file change stays a small page. */
#define DIFF_PAGE_INLINE 400
/* Changes per page of one file, and bytes of one change's patch there. */
#define DIFF_FILE_PAGE 200
#define CHANGE_PATCH_PAGE ((size_t)64 << 10)
/* Bytes of one change's patch shown on the overview. */
#define CHANGE_PATCH_INLINE ((size_t)2048)
/* Bytes of one file's changes on the overview, and of all files' changes. */
#define DIFF_FILE_BYTES ((size_t)48 << 10)
#define DIFF_PAGE_BYTES ((size_t)240 << 10)
/* Bytes of the raw patch written into the overview; larger ones are a download. */
#define RAW_PATCH_INLINE ((size_t)64 << 10)
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

static void change_row(struct html *h, const json_t *c, size_t patch_cap)
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
		const char *patch = web_str(c, "patch");
		size_t len = strlen(patch);

		html_raw(h, "<tr><td></td><td colspan=\"4\"><pre class=\"patch\">");
		html_textn(h, patch, len < patch_cap ? len : patch_cap);
		html_raw(h, "</pre>");
		if (len > patch_cap)
			html_raw(h, patch_cap < CHANGE_PATCH_PAGE
				    ? "<p class=\"muted\">The patch is cut here; the file's page shows more of it.</p>"
				    : "<p class=\"muted\">The patch is cut here; the raw patch holds all of it.</p>");
		html_raw(h, "</td></tr>\n");
	}
}

/*
 * The semantic changes [from, last) of one file, grouped, stopping early
 * once `byte_cap` bytes of rows are written; the counts line covers the
 * whole file.  Returns the index after the last change written.
 */
static size_t semantic(struct html *h, const json_t *sem, size_t from, size_t last, size_t patch_cap,
		       size_t byte_cap)
{
	const json_t *changes = json_object_get(sem, "changes"), *sum = json_object_get(sem, "summary");
	size_t i, n = json_array_size(changes), shown = last < n ? last : n, start;

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
	start = h->buf.len;
	for (i = from; i < shown && h->buf.len - start <= byte_cap;) {
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
		for (; i < j && h->buf.len - start <= byte_cap; i++)
			change_row(h, json_array_get(changes, i), patch_cap);
		html_raw(h, "</tbody></table></div></details>\n");
	}
	return i < from ? from : i;
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

/* The categories of docs/diff.md ("Project summary") in summary order, with their labels. */
static const char *const categories[][2] = {
	{ "logic", "Logic" },
	{ "io", "I/O and hardware" },
	{ "configuration", "Configuration" },
	{ "libraries", "Libraries" },
	{ "hmi", "HMI" },
	{ "recipes", "Recipes" },
	{ "generated", "Generated" },
	{ "other", "Other" },
};
#define NCATEGORIES (sizeof(categories) / sizeof(categories[0]))

static size_t category_index(const char *name)
{
	for (size_t i = 0; i < NCATEGORIES; i++)
		if (name && !strcmp(categories[i][0], name))
			return i;
	return NCATEGORIES - 1;
}

/* The category of a file: its semantic result's, or "other" when it was not compared. */
static const char *file_category(const json_t *f)
{
	const json_t *sem = json_object_get(f, "semantic");
	const char *c = json_is_object(sem) ? web_str(sem, "category") : NULL;

	return c ? c : "other";
}

static size_t file_changes(const json_t *f)
{
	const json_t *sem = json_object_get(f, "semantic");

	return json_is_object(sem) ? json_array_size(json_object_get(sem, "changes")) : 0;
}

/*
 * The query of a diff between `from` (NULL: `to`'s parent) and `to`, after
 * `prefix` ("/assets/" for the page, "/api/v1/assets/" for the API).
 */
static void diff_href(struct html *h, const char *prefix, int64_t id, const char *from, const char *to)
{
	html_raw(h, prefix);
	html_int(h, id);
	html_raw(h, "/diff?");
	if (from) {
		html_raw(h, "from=");
		html_url(h, from);
		html_raw(h, "&amp;");
	}
	html_raw(h, "to=");
	html_url(h, to);
}

/* The link to the page of one file (page 0 is the first). */
static void file_href(struct html *h, int64_t id, const char *from, const char *to, const char *path,
		      size_t page)
{
	diff_href(h, "/assets/", id, from, to);
	html_raw(h, "&amp;file=");
	html_url(h, path);
	if (page) {
		html_raw(h, "&amp;page=");
		html_int(h, (int64_t)page);
	}
}

/* Files and changes per category, across all files. */
static void project_summary(struct html *h, const json_t *files)
{
	size_t nfiles[NCATEGORIES] = { 0 }, nchanges[NCATEGORIES] = { 0 }, i;
	const json_t *f;

	json_array_foreach(files, i, f) {
		const json_t *sem = json_object_get(f, "semantic"), *cats = json_object_get(sem, "categories");
		const char *cat;
		json_t *count;

		nfiles[category_index(file_category(f))]++;
		json_object_foreach((json_t *)cats, cat, count)
			nchanges[category_index(cat)] += (size_t)json_integer_value(count);
	}
	html_raw(h, "<div class=\"table-wrap\"><table class=\"otcm-diff-summary\"><thead><tr><th>category</th>"
		    "<th>files</th><th>changes</th></tr></thead><tbody>\n");
	for (i = 0; i < NCATEGORIES; i++) {
		if (!nfiles[i] && !nchanges[i])
			continue;
		html_raw(h, "<tr><td>");
		html_text(h, categories[i][1]);
		html_raw(h, "</td><td>");
		html_int(h, (int64_t)nfiles[i]);
		html_raw(h, "</td><td>");
		html_int(h, (int64_t)nchanges[i]);
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table></div>\n");
}

/* The list of files: each links to its section below and to its own page. */
static void file_list(struct html *h, int64_t id, const char *from, const char *to, const json_t *files)
{
	const json_t *f;
	size_t i;

	html_raw(h, "<div class=\"table-wrap\"><table class=\"otcm-diff-files\"><thead><tr><th>file</th>"
		    "<th>category</th><th>status</th><th>lines</th><th>changes</th><th></th></tr></thead><tbody>\n");
	json_array_foreach(files, i, f) {
		html_raw(h, "<tr><td><a class=\"otcm-diff-file\" href=\"#f-");
		html_int(h, (int64_t)i);
		html_raw(h, "\">");
		html_text(h, web_str(f, "path"));
		html_raw(h, "</a></td><td>");
		html_text(h, categories[category_index(file_category(f))][1]);
		html_raw(h, "</td><td>");
		html_text(h, web_str(f, "status"));
		html_raw(h, "</td><td class=\"muted\">+");
		html_int(h, json_integer_value(json_object_get(f, "additions")));
		html_raw(h, " -");
		html_int(h, json_integer_value(json_object_get(f, "deletions")));
		html_raw(h, "</td><td>");
		html_int(h, (int64_t)file_changes(f));
		html_raw(h, "</td><td><a href=\"");
		file_href(h, id, from, to, web_str(f, "path"), 0);
		html_raw(h, "\">open</a></td></tr>\n");
	}
	html_raw(h, "</tbody></table></div>\n");
}

static void file_heading(struct html *h, const json_t *f)
{
	html_raw(h, "<span class=\"otcm-diff-file\">");
	html_text(h, web_str(f, "path"));
	html_raw(h, "</span> <span class=\"badge\">");
	html_text(h, web_str(f, "status"));
	html_raw(h, "</span> <span class=\"muted\">+");
	html_int(h, json_integer_value(json_object_get(f, "additions")));
	html_raw(h, " -");
	html_int(h, json_integer_value(json_object_get(f, "deletions")));
	html_raw(h, " lines</span>");
}

static void not_compared(struct html *h, const json_t *f)
{
	html_raw(h, "<p class=\"muted\">No semantic comparison: ");
	html_text(h, web_str(f, "semantic_skipped") ? web_str(f, "semantic_skipped") : "not available");
	html_raw(h, ".</p>\n");
}

/*
 * One file's section on the overview: open unless generated or the page's
 * budget of inline changes is spent; *budget shrinks by the rows written.
 */
static void file_section(struct html *h, int64_t id, const char *from, const char *to,
			 const json_t *f, size_t index, size_t *budget, size_t *bytes_left)
{
	size_t before = h->buf.len;
	const json_t *sem = json_object_get(f, "semantic");
	size_t n = file_changes(f), inline_max = n < DIFF_FILE_INLINE ? n : DIFF_FILE_INLINE;
	bool generated = json_is_object(sem) && json_is_true(json_object_get(sem, "generated"));

	if (inline_max > *budget || generated || *bytes_left == 0)
		inline_max = 0;
	html_raw(h, "<details class=\"otcm-diff\" id=\"f-");
	html_int(h, (int64_t)index);
	html_raw(h, !generated && (inline_max || !n) ? "\" open>" : "\">");
	html_raw(h, "<summary>");
	file_heading(h, f);
	if (generated)
		html_raw(h, " <span class=\"badge\">generated</span>");
	html_raw(h, "</summary>\n");
	if (json_is_object(sem))
		inline_max = semantic(h, sem, 0, inline_max, CHANGE_PATCH_INLINE,
				      *bytes_left < DIFF_FILE_BYTES ? *bytes_left : DIFF_FILE_BYTES);
	else
		not_compared(h, f);
	if (n > inline_max) {
		html_raw(h, "<p class=\"notice notice-info\">");
		if (inline_max) {
			html_int(h, (int64_t)(n - inline_max));
			html_raw(h, " more changes of this file are on <a href=\"");
		} else {
			html_int(h, (int64_t)n);
			html_raw(h, generated ? " changes of this generated file are on <a href=\""
					      : " changes of this file are on <a href=\"");
		}
		file_href(h, id, from, to, web_str(f, "path"), 0);
		html_raw(h, "\">its own page</a>.</p>\n");
	}
	html_raw(h, "</details>\n");
	*budget -= inline_max;
	*bytes_left -= h->buf.len - before < *bytes_left ? h->buf.len - before : *bytes_left;
}

static void versions_line(struct html *h, int64_t id, const char *from, const char *to)
{
	html_raw(h, "<p>From ");
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
	html_raw(h, "</a>");
}

/* The page of one file: its changes DIFF_FILE_PAGE at a time, patches up to CHANGE_PATCH_PAGE. */
static void one_file(struct html *h, int64_t id, const char *from, const char *to, const json_t *f,
		     size_t page)
{
	const json_t *sem = json_object_get(f, "semantic");
	size_t n = file_changes(f), pages = n ? (n + DIFF_FILE_PAGE - 1) / DIFF_FILE_PAGE : 1;

	if (page >= pages)
		page = pages - 1;
	html_raw(h, "<section class=\"otcm-diff\"><h2>");
	file_heading(h, f);
	html_raw(h, "</h2>\n");
	if (json_is_object(sem))
		(void)semantic(h, sem, page * DIFF_FILE_PAGE, (page + 1) * DIFF_FILE_PAGE, CHANGE_PATCH_PAGE,
			       (size_t)-1);
	else
		not_compared(h, f);
	if (pages > 1) {
		html_raw(h, "<p class=\"pager\">Page ");
		html_int(h, (int64_t)page + 1);
		html_raw(h, " of ");
		html_int(h, (int64_t)pages);
		if (page > 0) {
			html_raw(h, " <a rel=\"prev\" href=\"");
			file_href(h, id, from, to, web_str(f, "path"), page - 1);
			html_raw(h, "\">previous</a>");
		}
		if (page + 1 < pages) {
			html_raw(h, " <a rel=\"next\" href=\"");
			file_href(h, id, from, to, web_str(f, "path"), page + 1);
			html_raw(h, "\">next</a>");
		}
		html_raw(h, "</p>\n");
	}
	html_raw(h, "</section>\n");
}

void page_diff(struct html *h, const struct web_page *p, const json_t *asset, const char *from,
	       const char *to, const json_t *files, const char *patch, size_t patch_len,
	       const json_t *file, size_t page)
{
	const json_t *f;
	size_t i, budget = DIFF_PAGE_INLINE, bytes_left = DIFF_PAGE_BYTES;
	int64_t id = json_integer_value(json_object_get(asset, "id"));

	layout_begin(h, p);
	html_raw(h, "<div class=\"crumbs\"><a href=\"/assets\">Assets</a> / <a href=\"/assets/");
	html_int(h, id);
	html_raw(h, "\">");
	html_text(h, web_str(asset, "path"));
	html_raw(h, "</a></div>\n<h1>What changed</h1>\n");
	versions_line(h, id, from, to);
	if (file) {
		html_raw(h, ": <a href=\"");
		diff_href(h, "/assets/", id, from, to);
		html_raw(h, "\">all files</a>.</p>\n");
		one_file(h, id, from, to, file, page);
		layout_end(h);
		return;
	}
	html_raw(h, ": ");
	html_int(h, (int64_t)json_array_size(files));
	html_raw(h, json_array_size(files) == 1 ? " file changed.</p>\n" : " files changed.</p>\n");
	project_summary(h, files);
	file_list(h, id, from, to, files);
	json_array_foreach(files, i, f)
		file_section(h, id, from, to, f, i, &budget, &bytes_left);
	if (patch_len <= RAW_PATCH_INLINE) {
		html_raw(h, "<details class=\"raw\"><summary>Raw patch (");
		html_int(h, (int64_t)patch_len);
		html_raw(h, " bytes)</summary>\n");
		patch_lines(h, patch, patch_len);
		html_raw(h, "</details>\n");
	} else {
		html_raw(h, "<p class=\"raw\">Raw patch (");
		html_int(h, (int64_t)patch_len);
		html_raw(h, " bytes): <a href=\"");
		diff_href(h, "/api/v1/assets/", id, from, to);
		html_raw(h, "&amp;format=patch\">download</a></p>\n");
	}
	layout_end(h);
}

void page_diff_report(struct html *h, const json_t *files, size_t byte_cap)
{
	const json_t *f;
	size_t i, start = h->buf.len, written = 0;

	project_summary(h, files);
	json_array_foreach(files, i, f) {
		const json_t *sem = json_object_get(f, "semantic");
		size_t n = file_changes(f), left = byte_cap > h->buf.len - start ? byte_cap - (h->buf.len - start) : 0;

		html_raw(h, "<section class=\"otcm-diff\"><h4>");
		file_heading(h, f);
		html_raw(h, "</h4>\n");
		if (!json_is_object(sem))
			not_compared(h, f);
		else if (left)
			written = semantic(h, sem, 0, n, CHANGE_PATCH_INLINE, left);
		else
			written = 0;
		if (json_is_object(sem) && written < n) {
			html_raw(h, "<p class=\"muted\">");
			html_int(h, (int64_t)(n - written));
			html_raw(h, " more changes of this file are in the full diff.</p>\n");
		}
		html_raw(h, "</section>\n");
	}
}
