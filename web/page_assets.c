/*
 * web/page_assets.c - the asset tree (site / area / line from the asset
 * paths), one asset with its baseline, branches, timeline and files, and
 * one version with its files and downloads.
 */
#include <inttypes.h>
#include <string.h>

#include "web/pages.h"

#define TREE_DEPTH_MAX 32

/* Segment i of "a/b/c" into out; false past the last one. */
static bool segment(char *out, size_t n, const char *path, size_t i)
{
	const char *s = path;
	size_t len;

	while (i--) {
		s = strchr(s, '/');
		if (!s)
			return false;
		s++;
	}
	len = strcspn(s, "/");
	if (len >= n)
		len = n - 1;
	memcpy(out, s, len);
	out[len] = '\0';
	return true;
}

static size_t nsegments(const char *path)
{
	size_t n = 1;

	for (; *path; path++)
		if (*path == '/')
			n++;
	return n;
}

void page_assets(struct html *h, const struct web_page *p, const json_t *assets, const char *query)
{
	char open[TREE_DEPTH_MAX][256];
	size_t depth = 0, i, shown = 0;
	const json_t *a;

	layout_begin(h, p);
	html_raw(h, "<h1>Assets</h1>\n<form class=\"searchbar\" method=\"get\" action=\"/assets\" role=\"search\">"
		    "<label for=\"q\" class=\"muted\">Search</label>"
		    "<input type=\"search\" id=\"q\" name=\"q\" data-filter=\"asset-tree\" "
		    "placeholder=\"path, vendor, model\" value=\"");
	html_attr(h, query);
	html_raw(h, "\"><button type=\"submit\" class=\"secondary\">Search</button></form>\n"
		    "<ul class=\"tree\" id=\"asset-tree\">\n");
	json_array_foreach(assets, i, a) {
		const char *path = web_str(a, "path"), *type = web_str(a, "type");
		char seg[256];
		size_t n, k, common = 0;

		if (!path)
			continue;
		if (query && *query && !strcasestr(path, query) &&
		    !(web_str(a, "vendor") && strcasestr(web_str(a, "vendor"), query)) &&
		    !(web_str(a, "model") && strcasestr(web_str(a, "model"), query)))
			continue;
		shown++;
		n = nsegments(path);
		if (n > TREE_DEPTH_MAX)
			n = TREE_DEPTH_MAX;
		/* folders this asset shares with the open ones; close the rest */
		while (common < depth && common < n - 1 && segment(seg, sizeof(seg), path, common) &&
		       strcmp(seg, open[common]) == 0)
			common++;
		for (; depth > common; depth--)
			html_raw(h, "</ul></details></li>\n");
		for (k = depth; k + 1 < n; k++) {
			segment(open[k], sizeof(open[k]), path, k);
			html_raw(h, "<li><details open><summary>");
			html_text(h, open[k]);
			html_raw(h, "</summary><ul>\n");
			depth++;
		}
		segment(seg, sizeof(seg), path, n - 1);
		html_raw(h, "<li data-path=\"");
		html_attr(h, path);
		html_raw(h, "\"><a href=\"/assets/");
		html_int(h, json_integer_value(json_object_get(a, "id")));
		html_raw(h, "\">");
		html_text(h, seg);
		html_raw(h, "</a> <span class=\"badge\">");
		html_text(h, type);
		html_raw(h, "</span> <span class=\"muted\">");
		html_text(h, web_str(a, "vendor"));
		html_raw(h, " ");
		html_text(h, web_str(a, "model"));
		html_raw(h, "</span></li>\n");
	}
	for (; depth > 0; depth--)
		html_raw(h, "</ul></details></li>\n");
	html_raw(h, "</ul>\n");
	if (shown == 0)
		html_raw(h, "<p class=\"muted\">No asset matches.</p>\n");
	layout_end(h);
}

/* Breadcrumbs of an asset path, then its last segment as the heading. */
static void asset_heading(struct html *h, const json_t *asset, const char *suffix)
{
	const char *path = web_str(asset, "path");

	html_raw(h, "<div class=\"crumbs\"><a href=\"/assets\">Assets</a> / ");
	html_text(h, path);
	html_raw(h, "</div>\n<h1>");
	html_text(h, path);
	if (suffix) {
		html_raw(h, " <span class=\"muted\">");
		html_text(h, suffix);
		html_raw(h, "</span>");
	}
	html_raw(h, "</h1>\n");
}

static void asset_link(struct html *h, const json_t *asset)
{
	html_raw(h, "/assets/");
	html_int(h, json_integer_value(json_object_get(asset, "id")));
}

static void file_table(struct html *h, const json_t *asset, const char *commit, const json_t *files)
{
	const json_t *f;
	size_t i;

	if (json_array_size(files) == 0) {
		html_raw(h, "<p class=\"muted\">No files.</p>\n");
		return;
	}
	html_raw(h, "<div class=\"table-wrap\"><table>\n<thead><tr><th>file</th><th>size</th>"
		    "<th>blob</th></tr></thead>\n<tbody>\n");
	json_array_foreach(files, i, f) {
		html_raw(h, "<tr><td><a href=\"/api/v1/assets/");
		html_int(h, json_integer_value(json_object_get(asset, "id")));
		html_raw(h, "/versions/");
		html_url(h, commit);
		html_raw(h, "/files/");
		html_url_path(h, web_str(f, "path"));
		html_raw(h, "\" download>");
		html_text(h, web_str(f, "path"));
		html_raw(h, "</a></td><td>");
		html_int(h, json_integer_value(json_object_get(f, "size")));
		html_raw(h, "</td><td>");
		web_short(h, web_str(f, "blob"));
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table></div>\n");
}

/* "</dd><dt>label</dt><dd>value" for an inventory field that is set. */
static void optional_field(struct html *h, const json_t *asset, const char *key, const char *label)
{
	const char *v = web_str(asset, key);

	if (!v || !*v)
		return;
	html_raw(h, "</dd><dt>");
	html_text(h, label);
	html_raw(h, "</dt><dd>");
	html_text(h, v);
}

/* The inventory's history (domain/inventory.h), newest first. */
static void inventory_history(struct html *h, const json_t *history)
{
	const json_t *e;
	size_t i;

	html_raw(h, "<h2 id=\"inventory\">Inventory history</h2>\n");
	if (json_array_size(history) == 0) {
		html_raw(h, "<p class=\"muted\">No inventory field has been set yet.</p>\n");
		return;
	}
	html_raw(h, "<table class=\"inventory\"><thead><tr><th>when</th><th>field</th><th>from</th>"
		    "<th>to</th><th>source</th><th>by</th></tr></thead><tbody>\n");
	json_array_foreach(history, i, e) {
		const char *ref = web_str(e, "source_ref");

		html_raw(h, "<tr><td>");
		web_time(h, web_str(e, "at"));
		html_raw(h, "</td><td>");
		html_text(h, web_str(e, "field"));
		html_raw(h, "</td><td><code>");
		html_text(h, web_str(e, "old"));
		html_raw(h, "</code></td><td><code>");
		html_text(h, web_str(e, "new"));
		html_raw(h, "</code></td><td>");
		html_text(h, web_str(e, "source"));
		if (ref) {
			html_raw(h, " ");
			html_text(h, ref);
		}
		html_raw(h, "</td><td>");
		html_text(h, web_str(e, "by"));
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table>\n");
}

void page_asset(struct html *h, const struct web_page *p, const json_t *asset, const json_t *refs,
		const char *head, const json_t *history, const json_t *files, const json_t *changes,
		bool may_upload)
{
	const json_t *e, *r;
	size_t i;

	layout_begin(h, p);
	asset_heading(h, asset, NULL);
	html_raw(h, "<div class=\"grid\">\n<div class=\"panel\"><dl class=\"fields\">"
		    "<dt>type</dt><dd>");
	html_text(h, web_str(asset, "type"));
	html_raw(h, "</dd><dt>vendor</dt><dd>");
	html_text(h, web_str(asset, "vendor"));
	html_raw(h, "</dd><dt>model</dt><dd>");
	html_text(h, web_str(asset, "model"));
	html_raw(h, "</dd><dt>firmware</dt><dd>");
	html_text(h, web_str(asset, "firmware"));
	optional_field(h, asset, "serial_number", "serial number");
	optional_field(h, asset, "order_number", "order number");
	optional_field(h, asset, "cpe", "CPE");
	optional_field(h, asset, "purl", "PURL");
	html_raw(h, "</dd><dt>description</dt><dd>");
	html_text(h, web_str(asset, "description"));
	html_raw(h, "</dd><dt>baseline</dt><dd>");
	if (head) {
		html_raw(h, "<a href=\"");
		asset_link(h, asset);
		html_raw(h, "/versions/");
		html_url(h, head);
		html_raw(h, "\">");
		web_short(h, head);
		html_raw(h, "</a> on <code>main</code>");
	} else {
		html_raw(h, "<span class=\"muted\">no version yet</span>");
	}
	html_raw(h, "</dd><dt>git</dt><dd><code class=\"clone-url\">git clone ");
	html_text(h, web_str(asset, "clone_url"));
	html_raw(h, "</code> <span class=\"muted\">(your user name and an API token)</span>");
	html_raw(h, "</dd></dl>");
	if (may_upload) {
		html_raw(h, "<p><a class=\"button\" href=\"");
		asset_link(h, asset);
		html_raw(h, "/upload\">Upload a new version</a></p>");
	}
	html_raw(h, "</div>\n<div class=\"panel\"><h3>Branches</h3><ul>");
	json_array_foreach(refs, i, r) {
		const char *name = web_str(r, "name");

		html_raw(h, "<li><code>");
		html_text(h, name && strncmp(name, "refs/heads/", 11) == 0 ? name + 11 : name);
		html_raw(h, "</code> at <a href=\"");
		asset_link(h, asset);
		html_raw(h, "/versions/");
		html_url(h, web_str(r, "commit"));
		html_raw(h, "\">");
		web_short(h, web_str(r, "commit"));
		html_raw(h, "</a></li>");
	}
	if (json_array_size(refs) == 0)
		html_raw(h, "<li class=\"muted\">none</li>");
	html_raw(h, "</ul></div>\n</div>\n");

	html_raw(h, "<h2>Timeline of main</h2>\n");
	if (json_array_size(history) == 0) {
		html_raw(h, "<p class=\"muted\">No versions on main yet.</p>\n");
	} else {
		html_raw(h, "<ol class=\"timeline\">\n");
		json_array_foreach(history, i, e) {
			const char *commit = web_str(e, "commit");
			const json_t *parents = json_object_get(e, "parents");

			html_raw(h, "<li>");
			web_time(h, web_str(e, "time"));
			html_raw(h, " <a href=\"");
			asset_link(h, asset);
			html_raw(h, "/versions/");
			html_url(h, commit);
			html_raw(h, "\">");
			web_short(h, commit);
			html_raw(h, "</a> ");
			html_text(h, web_str(e, "message"));
			html_raw(h, " <span class=\"muted\">by ");
			html_text(h, web_str(json_object_get(e, "author"), "name"));
			html_raw(h, "</span>");
			if (json_array_size(parents)) {
				html_raw(h, " <a href=\"");
				asset_link(h, asset);
				html_raw(h, "/diff?from=");
				html_url(h, json_string_value(json_array_get(parents, 0)));
				html_raw(h, "&amp;to=");
				html_url(h, commit);
				html_raw(h, "\">what changed</a>");
			}
			html_raw(h, "</li>\n");
		}
		html_raw(h, "</ol>\n");
	}
	if (json_array_size(history) > 1) {
		/* compare any two versions: a plain GET form */
		html_raw(h, "<form class=\"searchbar\" method=\"get\" action=\"");
		asset_link(h, asset);
		html_raw(h, "/diff\"><label for=\"from\" class=\"muted\">Compare</label><select id=\"from\" name=\"from\">");
		json_array_foreach(history, i, e) {
			html_raw(h, "<option value=\"");
			html_attr(h, web_str(e, "commit"));
			html_raw(h, "\"");
			if (i == 1)
				html_raw(h, " selected");
			html_raw(h, ">");
			html_textn(h, web_str(e, "commit"), 12);
			html_raw(h, " ");
			html_text(h, web_str(e, "message"));
			html_raw(h, "</option>");
		}
		html_raw(h, "</select><label for=\"to\" class=\"muted\">with</label><select id=\"to\" name=\"to\">");
		json_array_foreach(history, i, e) {
			html_raw(h, "<option value=\"");
			html_attr(h, web_str(e, "commit"));
			html_raw(h, "\">");
			html_textn(h, web_str(e, "commit"), 12);
			html_raw(h, " ");
			html_text(h, web_str(e, "message"));
			html_raw(h, "</option>");
		}
		html_raw(h, "</select><button type=\"submit\" class=\"secondary\">Compare</button></form>\n");
	}
	html_raw(h, "<p><a href=\"");
	asset_link(h, asset);
	html_raw(h, "/advisories\">Advisories that concern this asset</a></p>\n");
	inventory_history(h, json_object_get(json_object_get(asset, "inventory"), "history"));
	html_raw(h, "<h2>Files of the baseline</h2>\n");
	if (head)
		file_table(h, asset, head, files);
	else
		html_raw(h, "<p class=\"muted\">No files yet.</p>\n");
	html_raw(h, "<h2>Changes naming this asset</h2>\n");
	web_change_table(h, changes, "No change names this asset.");
	layout_end(h);
}

void page_version(struct html *h, const struct web_page *p, const json_t *asset, const json_t *info,
		  const json_t *record, const json_t *files)
{
	const char *commit = web_str(info, "commit");
	const json_t *parents = json_object_get(info, "parents");
	static const char *const formats[] = { "zip", "tar" };
	size_t i;

	layout_begin(h, p);
	asset_heading(h, asset, "version");
	html_raw(h, "<div class=\"panel\"><dl class=\"fields\"><dt>commit</dt><dd><code>");
	html_text(h, commit);
	html_raw(h, "</code></dd><dt>tree</dt><dd><code>");
	html_text(h, web_str(info, "tree"));
	html_raw(h, "</code></dd><dt>message</dt><dd>");
	html_text(h, web_str(info, "message"));
	html_raw(h, "</dd><dt>author</dt><dd>");
	html_text(h, web_str(json_object_get(info, "author"), "name"));
	html_raw(h, "</dd><dt>time</dt><dd>");
	web_time(h, web_str(info, "time"));
	html_raw(h, "</dd>");
	if (record) {
		html_raw(h, "<dt>branch</dt><dd><code>");
		html_text(h, web_str(record, "branch"));
		html_raw(h, "</code></dd><dt>uploaded by</dt><dd>");
		html_text(h, web_str(record, "uploaded_by"));
		html_raw(h, "</dd>");
	}
	html_raw(h, "<dt>parent</dt><dd>");
	if (json_array_size(parents)) {
		html_raw(h, "<a href=\"");
		asset_link(h, asset);
		html_raw(h, "/versions/");
		html_url(h, json_string_value(json_array_get(parents, 0)));
		html_raw(h, "\">");
		web_short(h, json_string_value(json_array_get(parents, 0)));
		html_raw(h, "</a> - <a href=\"");
		asset_link(h, asset);
		html_raw(h, "/diff?from=");
		html_url(h, json_string_value(json_array_get(parents, 0)));
		html_raw(h, "&amp;to=");
		html_url(h, commit);
		html_raw(h, "\">what changed</a>");
	} else {
		html_raw(h, "<span class=\"muted\">none: the first version</span>");
	}
	html_raw(h, "</dd><dt>download</dt><dd>");
	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		html_raw(h, i ? " | " : "");
		html_raw(h, "<a href=\"/api/v1/assets/");
		html_int(h, json_integer_value(json_object_get(asset, "id")));
		html_raw(h, "/versions/");
		html_url(h, commit);
		html_raw(h, "/archive?format=");
		html_raw(h, formats[i]);
		html_raw(h, "\" download>");
		html_text(h, formats[i]);
		html_raw(h, "</a>");
	}
	html_raw(h, "</dd></dl></div>\n<h2>Files</h2>\n");
	file_table(h, asset, commit, files);
	layout_end(h);
}
