/*
 * web/page_upload.c - the form for a new version of an asset: several
 * files or one archive, a message and the change it belongs to.  It posts
 * to its own page route as multipart/form-data; web/static/otcm.js sends
 * the same body to the API instead, with a progress bar and the refusal
 * shown in place.
 */
#include <string.h>

#include "web/pages.h"

void page_upload(struct html *h, const struct web_page *p, const json_t *asset,
		 const char *change_key, const json_t *open_changes, const char *error)
{
	int64_t id = json_integer_value(json_object_get(asset, "id"));
	const json_t *c;
	size_t i;

	layout_begin(h, p);
	html_raw(h, "<div class=\"crumbs\"><a href=\"/assets\">Assets</a> / <a href=\"/assets/");
	html_int(h, id);
	html_raw(h, "\">");
	html_text(h, web_str(asset, "path"));
	html_raw(h, "</a></div>\n<h1>Upload a new version</h1>\n");
	layout_notice(h, "error", error);
	html_raw(h, "<form class=\"stack panel\" method=\"post\" enctype=\"multipart/form-data\" action=\"/assets/");
	html_int(h, id);
	html_raw(h, "/upload\" data-upload-api=\"/api/v1/assets/");
	html_int(h, id);
	html_raw(h, "/versions\" data-upload-done=\"/assets/");
	html_int(h, id);
	html_raw(h, "/versions/{commit}\">\n");
	layout_csrf_field(h, p);
	html_raw(h, "<label for=\"change\">Change <span class=\"hint\">- uploads go to the change's own "
		    "branch while it is implementing or in FAT</span></label>\n"
		    "<select id=\"change\" name=\"change\"><option value=\"\">none: main, only for the asset's first version (its baseline)</option>");
	json_array_foreach(open_changes, i, c) {
		const char *key = web_str(c, "key");

		html_raw(h, "<option value=\"");
		html_attr(h, key);
		html_raw(h, "\"");
		if (change_key && key && strcmp(change_key, key) == 0)
			html_raw(h, " selected");
		html_raw(h, ">");
		html_text(h, key);
		html_raw(h, " ");
		html_text(h, web_str(c, "title"));
		html_raw(h, " (");
		html_text(h, web_str(c, "state"));
		html_raw(h, ")</option>");
	}
	if (change_key && !json_array_size(open_changes)) {
		/* keep the choice the link asked for even when it is not open: the server will say why */
		html_raw(h, "<option selected value=\"");
		html_attr(h, change_key);
		html_raw(h, "\">");
		html_text(h, change_key);
		html_raw(h, "</option>");
	}
	html_raw(h, "</select>\n"
		    "<label for=\"files\">Files <span class=\"hint\">- one or more exports; each replaces "
		    "the file of the same name</span></label>\n"
		    "<input type=\"file\" id=\"files\" name=\"files\" multiple>\n"
		    "<label for=\"archive\">or one archive <span class=\"hint\">- zip or tar: becomes the whole "
		    "tree of the version</span></label>\n"
		    "<input type=\"file\" id=\"archive\" name=\"archive\" accept=\".zip,.tar,.tgz,.tar.gz\">\n"
		    "<label for=\"message\">Message <span class=\"hint\">- required: what this version "
		    "changes and why</span></label>\n"
		    "<input type=\"text\" id=\"message\" name=\"message\" maxlength=\"2000\" "
		    "placeholder=\"what this version changes\">\n"
		    "<progress max=\"1\" value=\"0\" hidden></progress>\n"
		    "<p data-upload-status hidden></p>\n"
		    "<div><button type=\"submit\">Upload</button></div>\n</form>\n");
	layout_end(h);
}
