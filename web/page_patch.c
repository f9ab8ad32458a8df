/*
 * web/page_patch.c - the patch management pages: advisories (list, import
 * form, one advisory), the exposure of an asset or a site, and one
 * assessment with its signatures and the form to sign a new one
 * (docs/patch.md).  Data comes from domain/advisories.h and
 * domain/assessments.h through server/h_pages_patch.c.
 */
#include <stdio.h>
#include <string.h>

#include "web/pages.h"

static void severity_badge(struct html *h, const char *sev)
{
	bool bad = sev && (strcmp(sev, "critical") == 0 || strcmp(sev, "high") == 0);

	html_raw(h, "<span class=\"badge");
	html_raw(h, bad ? " badge-bad" : "");
	html_raw(h, "\">");
	html_text(h, sev && *sev ? sev : "none");
	html_raw(h, "</span>");
}

static void cvss(struct html *h, const json_t *v)
{
	if (json_is_number(v))
		html_rawf(h, "%.1f", json_number_value(v));
	else
		html_raw(h, "<span class=\"muted\">-</span>");
}

static void advisory_link(struct html *h, const char *tracking)
{
	html_raw(h, "<a href=\"/advisories/");
	html_url(h, tracking);
	html_raw(h, "\"><code>");
	html_text(h, tracking);
	html_raw(h, "</code></a>");
}

void page_advisories(struct html *h, const struct web_page *p, const json_t *items, bool may_import,
		     const char *kind, const char *notice)
{
	const json_t *e;
	size_t i;

	layout_begin(h, p);
	html_raw(h, "<h1>Advisories</h1>\n<p class=\"muted\">Security advisories imported as CSAF 2.0 documents, "
		    "matched against every asset's inventory. <a href=\"/exposure\">Exposure of all sites</a>.</p>\n");
	layout_notice(h, kind, notice);
	if (may_import) {
		html_raw(h, "<form class=\"stack panel\" method=\"post\" enctype=\"multipart/form-data\" "
			    "action=\"/advisories\">\n");
		layout_csrf_field(h, p);
		html_raw(h, "<label for=\"file\">CSAF 2.0 document <span class=\"hint\">- JSON, as the vendor or "
			    "CISA publishes it</span></label>\n<input type=\"file\" id=\"file\" name=\"file\" "
			    "accept=\".json,application/json\">\n<div><button type=\"submit\">Import</button></div>\n"
			    "</form>\n");
	}
	html_raw(h, "<div class=\"table-wrap\"><table><thead><tr><th>advisory</th><th>title</th><th>publisher</th>"
		    "<th>version</th><th>released</th><th>severity</th><th>CVSS</th><th>assets</th></tr></thead>"
		    "<tbody>\n");
	json_array_foreach(items, i, e) {
		html_raw(h, "<tr><td>");
		advisory_link(h, web_str(e, "tracking_id"));
		html_raw(h, "</td><td>");
		html_text(h, web_str(e, "title"));
		html_raw(h, "</td><td>");
		html_text(h, web_str(e, "publisher"));
		html_raw(h, "</td><td>");
		html_text(h, web_str(e, "version"));
		html_raw(h, "</td><td>");
		html_text(h, web_str(e, "released_at"));
		html_raw(h, "</td><td>");
		severity_badge(h, web_str(e, "severity"));
		html_raw(h, "</td><td>");
		cvss(h, json_object_get(e, "cvss"));
		html_raw(h, "</td><td>");
		html_int(h, json_integer_value(json_object_get(e, "assets")));
		html_raw(h, "</td></tr>\n");
	}
	if (json_array_size(items) == 0)
		html_raw(h, "<tr><td colspan=\"8\" class=\"muted\">No advisory imported yet.</td></tr>\n");
	html_raw(h, "</tbody></table></div>\n");
	layout_end(h);
}

static void exposure_rows(struct html *h, const json_t *items, bool with_asset)
{
	const json_t *e, *c;
	size_t i, j;

	html_raw(h, "<div class=\"table-wrap\"><table class=\"exposure\"><thead><tr>");
	if (with_asset)
		html_raw(h, "<th>asset</th>");
	html_raw(h, "<th>advisory</th><th>severity</th><th>CVSS</th><th>CVEs</th><th>version</th>"
		    "<th>assessment</th><th>due</th><th></th></tr></thead><tbody>\n");
	json_array_foreach(items, i, e) {
		const json_t *as = json_object_get(e, "assessment");
		char asset[24];

		snprintf(asset, sizeof(asset), "%lld", (long long)json_integer_value(json_object_get(e, "asset_id")));
		html_raw(h, "<tr>");
		if (with_asset) {
			html_raw(h, "<td><a href=\"/assets/");
			html_url(h, asset);
			html_raw(h, "/advisories\">");
			html_text(h, web_str(e, "path"));
			html_raw(h, "</a></td>");
		}
		html_raw(h, "<td>");
		advisory_link(h, web_str(e, "tracking_id"));
		html_raw(h, "<br><span class=\"muted\">");
		html_text(h, web_str(e, "title"));
		html_raw(h, "</span></td><td>");
		severity_badge(h, web_str(e, "severity"));
		html_raw(h, "</td><td>");
		cvss(h, json_object_get(e, "cvss"));
		html_raw(h, "</td><td>");
		json_array_foreach(json_object_get(e, "cves"), j, c) {
			if (j)
				html_raw(h, " ");
			html_raw(h, "<code>");
			html_text(h, web_str(c, "cve"));
			html_raw(h, "</code>");
		}
		html_raw(h, "</td><td>");
		html_raw(h, json_is_true(json_object_get(e, "undecided")) ?
			    "<span class=\"badge\">undecided</span>" : "in range");
		html_raw(h, "</td><td>");
		if (json_is_object(as)) {
			html_raw(h, "<strong>");
			html_text(h, web_str(as, "status"));
			html_raw(h, "</strong>");
			if (web_str(as, "justification")) {
				html_raw(h, "<br><span class=\"muted\">");
				html_text(h, web_str(as, "justification"));
				html_raw(h, "</span>");
			}
		} else {
			html_raw(h, "<span class=\"muted\">not assessed</span>");
		}
		html_raw(h, "</td><td>");
		web_time(h, web_str(e, "due_at"));
		if (json_is_true(json_object_get(e, "overdue")))
			html_raw(h, " <span class=\"badge badge-bad\">overdue</span>");
		html_raw(h, "</td><td><a href=\"/assets/");
		html_url(h, asset);
		html_raw(h, "/advisories/");
		html_url(h, web_str(e, "tracking_id"));
		html_raw(h, "\">assessment</a></td></tr>\n");
	}
	if (json_array_size(items) == 0)
		html_raw(h, "<tr><td colspan=\"9\" class=\"muted\">No advisory concerns these assets.</td></tr>\n");
	html_raw(h, "</tbody></table></div>\n");
}

static void exposure_counts(struct html *h, const json_t *x)
{
	html_raw(h, "<p>");
	html_int(h, json_integer_value(json_object_get(x, "advisories")));
	html_raw(h, " advisories on ");
	html_int(h, json_integer_value(json_object_get(x, "assets")));
	html_raw(h, " assets: <strong>");
	html_int(h, json_integer_value(json_object_get(x, "exposed")));
	html_raw(h, " exposed</strong> (not assessed, affected or under investigation), ");
	html_int(h, json_integer_value(json_object_get(x, "unassessed")));
	html_raw(h, " not assessed, <span class=\"badge");
	html_raw(h, json_integer_value(json_object_get(x, "overdue")) ? " badge-bad" : "");
	html_raw(h, "\">");
	html_int(h, json_integer_value(json_object_get(x, "overdue")));
	html_raw(h, " overdue</span></p>\n");
}

static void export_links(struct html *h, const char *base, const char *sep)
{
	html_raw(h, "<p>Export: <a href=\"");
	html_attr(h, base);
	html_attr(h, sep);
	html_raw(h, "format=cyclonedx\">CycloneDX 1.5</a> · <a href=\"");
	html_attr(h, base);
	html_attr(h, sep);
	html_raw(h, "format=csaf-vex\">CSAF VEX</a></p>\n");
}

void page_exposure(struct html *h, const struct web_page *p, const json_t *exposure, const json_t *asset,
		   const char *prefix)
{
	layout_begin(h, p);
	if (asset) {
		char id[24];

		snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(json_object_get(asset, "id")));
		html_raw(h, "<div class=\"crumbs\"><a href=\"/assets\">Assets</a> / <a href=\"/assets/");
		html_url(h, id);
		html_raw(h, "\">");
		html_text(h, web_str(asset, "path"));
		html_raw(h, "</a></div>\n<h1>Advisories of ");
		html_text(h, web_str(asset, "path"));
		html_raw(h, "</h1>\n<p class=\"muted\">");
		html_text(h, web_str(asset, "vendor"));
		html_raw(h, " ");
		html_text(h, web_str(asset, "model"));
		html_raw(h, ", firmware <code>");
		html_text(h, web_str(asset, "firmware"));
		html_raw(h, "</code></p>\n");
		exposure_counts(h, exposure);
		{
			char base[64];

			snprintf(base, sizeof(base), "/api/v1/assets/%s/export", id);
			export_links(h, base, "?");
		}
		exposure_rows(h, json_object_get(exposure, "items"), false);
	} else {
		html_raw(h, "<h1>Exposure");
		if (prefix) {
			html_raw(h, " of ");
			html_text(h, prefix);
		}
		html_raw(h, "</h1>\n<form class=\"searchbar\" method=\"get\" action=\"/exposure\">"
			    "<label for=\"prefix\">Site, area or line</label><input type=\"text\" id=\"prefix\" "
			    "name=\"prefix\" placeholder=\"plant-a/packaging\" value=\"");
		html_attr(h, prefix ? prefix : "");
		html_raw(h, "\"><button type=\"submit\">Show</button></form>\n");
		exposure_counts(h, exposure);
		if (prefix) {
			html_raw(h, "<p>Export: <a href=\"/api/v1/exposure/export?prefix=");
			html_url(h, prefix);
			html_raw(h, "&amp;format=cyclonedx\">CycloneDX 1.5</a> · <a href=\"/api/v1/exposure/export?prefix=");
			html_url(h, prefix);
			html_raw(h, "&amp;format=csaf-vex\">CSAF VEX</a></p>\n");
		}
		exposure_rows(h, json_object_get(exposure, "items"), true);
	}
	layout_end(h);
}

void page_advisory(struct html *h, const struct web_page *p, const json_t *adv, const char *kind,
		   const char *notice)
{
	const json_t *v, *r, *a;
	size_t i, j;

	layout_begin(h, p);
	html_raw(h, "<div class=\"crumbs\"><a href=\"/advisories\">Advisories</a></div>\n<h1>");
	html_text(h, web_str(adv, "tracking_id"));
	html_raw(h, ": ");
	html_text(h, web_str(adv, "title"));
	html_raw(h, "</h1>\n");
	layout_notice(h, kind, notice);
	html_raw(h, "<div class=\"panel\"><dl class=\"fields\"><dt>publisher</dt><dd>");
	html_text(h, web_str(adv, "publisher"));
	html_raw(h, "</dd><dt>version</dt><dd>");
	html_text(h, web_str(adv, "version"));
	html_raw(h, "</dd><dt>released</dt><dd>");
	html_text(h, web_str(adv, "released_at"));
	html_raw(h, "</dd><dt>severity</dt><dd>");
	severity_badge(h, web_str(adv, "severity"));
	html_raw(h, " CVSS ");
	cvss(h, json_object_get(adv, "cvss"));
	html_raw(h, "</dd><dt>document</dt><dd><a href=\"/api/v1/advisories/");
	html_url(h, web_str(adv, "tracking_id"));
	html_raw(h, "/document\">as imported</a>, SHA-256 <code>");
	html_text(h, web_str(adv, "sha256"));
	html_raw(h, "</code></dd></dl></div>\n<h2>Assets it concerns</h2>\n");
	exposure_rows(h, json_object_get(adv, "assets"), true);
	html_raw(h, "<h2>Vulnerabilities</h2>\n");
	json_array_foreach(json_object_get(json_object_get(adv, "summary"), "vulnerabilities"), i, v) {
		const json_t *c = json_object_get(v, "cvss");

		html_raw(h, "<section class=\"panel\"><h3><code>");
		html_text(h, web_str(v, "cve"));
		html_raw(h, "</code> ");
		html_text(h, web_str(v, "title"));
		html_raw(h, "</h3><p>");
		if (json_is_object(c)) {
			severity_badge(h, web_str(c, "severity"));
			html_raw(h, " ");
			cvss(h, json_object_get(c, "score"));
			html_raw(h, " <code>");
			html_text(h, web_str(c, "vector"));
			html_raw(h, "</code>");
		}
		html_raw(h, "</p><ul>");
		json_array_foreach(json_object_get(v, "remediations"), j, r) {
			html_raw(h, "<li><strong>");
			html_text(h, web_str(r, "category"));
			html_raw(h, "</strong>: ");
			html_text(h, web_str(r, "details"));
			if (web_str(r, "url")) {
				html_raw(h, " <span class=\"muted\">");
				html_text(h, web_str(r, "url"));
				html_raw(h, "</span>");
			}
			html_raw(h, "</li>");
		}
		html_raw(h, "</ul></section>\n");
	}
	html_raw(h, "<h2>Products</h2>\n<div class=\"table-wrap\"><table><thead><tr><th>id</th><th>vendor</th>"
		    "<th>product</th><th>versions</th><th>model numbers</th></tr></thead><tbody>\n");
	json_array_foreach(json_object_get(adv, "products"), i, a) {
		const json_t *m;

		html_raw(h, "<tr><td><code>");
		html_text(h, web_str(a, "product_id"));
		html_raw(h, "</code></td><td>");
		html_text(h, web_str(a, "vendor"));
		html_raw(h, "</td><td>");
		html_text(h, web_str(a, "product"));
		html_raw(h, "</td><td><code>");
		html_text(h, web_str(a, "version"));
		html_raw(h, "</code></td><td>");
		json_array_foreach(json_object_get(a, "model_numbers"), j, m) {
			if (j)
				html_raw(h, ", ");
			html_text(h, json_string_value(m));
		}
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</tbody></table></div>\n");
	layout_end(h);
}

static const char *const statuses[] = { "under_investigation", "affected", "not_affected", "fixed" };
static const char *const justifications[] = {
	"component_not_present", "vulnerable_code_not_present", "vulnerable_code_not_in_execute_path",
	"vulnerable_code_cannot_be_controlled_by_adversary", "inline_mitigations_already_exist"
};

static void select_of(struct html *h, const char *id, const char *label, const char *const *values, size_t n,
		      const char *chosen, bool empty)
{
	size_t i;

	html_raw(h, "<label for=\"");
	html_attr(h, id);
	html_raw(h, "\">");
	html_text(h, label);
	html_raw(h, "</label><select id=\"");
	html_attr(h, id);
	html_raw(h, "\" name=\"");
	html_attr(h, id);
	html_raw(h, "\">");
	if (empty)
		html_raw(h, "<option value=\"\">-</option>");
	for (i = 0; i < n; i++) {
		html_raw(h, "<option value=\"");
		html_attr(h, values[i]);
		html_raw(h, "\"");
		if (chosen && strcmp(chosen, values[i]) == 0)
			html_raw(h, " selected");
		html_raw(h, ">");
		html_text(h, values[i]);
		html_raw(h, "</option>");
	}
	html_raw(h, "</select>\n");
}

void page_assessment(struct html *h, const struct web_page *p, const json_t *view, bool may_sign,
		     bool needs_code, const json_t *refill, const char *kind, const char *notice)
{
	const json_t *match = json_object_get(view, "match"), *as = json_object_get(view, "assessment"), *s, *c;
	char asset[24];
	size_t i;

	snprintf(asset, sizeof(asset), "%lld", (long long)json_integer_value(json_object_get(view, "asset_id")));
	layout_begin(h, p);
	html_raw(h, "<div class=\"crumbs\"><a href=\"/assets/");
	html_url(h, asset);
	html_raw(h, "\">");
	html_text(h, web_str(view, "path"));
	html_raw(h, "</a> / <a href=\"/assets/");
	html_url(h, asset);
	html_raw(h, "/advisories\">advisories</a></div>\n<h1>Assessment of ");
	html_text(h, web_str(view, "tracking_id"));
	html_raw(h, "</h1>\n");
	layout_notice(h, kind, notice);
	if (json_is_object(match)) {
		html_raw(h, "<div class=\"panel\"><p>");
		advisory_link(h, web_str(view, "tracking_id"));
		html_raw(h, " ");
		html_text(h, web_str(match, "title"));
		html_raw(h, " — ");
		severity_badge(h, web_str(match, "severity"));
		html_raw(h, ", due ");
		web_time(h, web_str(match, "due_at"));
		if (json_is_true(json_object_get(match, "overdue")))
			html_raw(h, " <span class=\"badge badge-bad\">overdue</span>");
		html_raw(h, "</p><ul>");
		json_array_foreach(json_object_get(match, "cves"), i, c) {
			html_raw(h, "<li><code>");
			html_text(h, web_str(c, "cve"));
			html_raw(h, "</code> ");
			html_text(h, web_str(c, "title"));
			html_raw(h, "</li>");
		}
		html_raw(h, "</ul></div>\n");
	} else {
		html_raw(h, "<p class=\"muted\">The advisory no longer concerns this asset by its inventory.</p>\n");
	}
	html_raw(h, "<h2>Current decision</h2>\n");
	if (json_is_object(as)) {
		html_raw(h, "<div class=\"panel\"><dl class=\"fields\"><dt>status</dt><dd><strong>");
		html_text(h, web_str(as, "status"));
		html_raw(h, "</strong></dd><dt>justification</dt><dd>");
		html_text(h, web_str(as, "justification"));
		html_raw(h, "</dd><dt>impact</dt><dd>");
		html_text(h, web_str(as, "impact"));
		html_raw(h, "</dd><dt>compensating controls</dt><dd>");
		html_text(h, web_str(as, "controls"));
		html_raw(h, "</dd><dt>fixed by change</dt><dd>");
		html_text(h, web_str(as, "change_key"));
		html_raw(h, "</dd><dt>by</dt><dd>");
		html_text(h, web_str(as, "assessed_by"));
		html_raw(h, ", ");
		web_time(h, web_str(as, "assessed_at"));
		html_raw(h, "</dd></dl></div>\n");
	} else {
		html_raw(h, "<p class=\"muted\">Not assessed yet.</p>\n");
	}
	html_raw(h, "<h2>Signatures</h2>\n<div class=\"table-wrap\"><table><thead><tr><th>signed</th><th>by</th>"
		    "<th>role</th><th>with</th><th>SHA-256 of what was signed</th></tr></thead><tbody>\n");
	json_array_foreach(json_object_get(view, "signatures"), i, s) {
		html_raw(h, "<tr><td>");
		web_time(h, web_str(s, "signed_at"));
		html_raw(h, "</td><td>");
		html_text(h, web_str(s, "printed_name"));
		html_raw(h, "</td><td>");
		html_text(h, web_str(s, "role"));
		html_raw(h, "</td><td>");
		html_text(h, web_str(s, "reauthenticated_with"));
		html_raw(h, "</td><td><code>");
		html_text(h, web_str(s, "content_sha256"));
		html_raw(h, "</code></td></tr>\n");
	}
	if (json_array_size(json_object_get(view, "signatures")) == 0)
		html_raw(h, "<tr><td colspan=\"5\" class=\"muted\">None.</td></tr>\n");
	html_raw(h, "</tbody></table></div>\n");
	if (may_sign) {
		html_raw(h, "<h2>Sign an assessment</h2>\n<form class=\"stack panel\" method=\"post\" action=\"/assets/");
		html_url(h, asset);
		html_raw(h, "/advisories/");
		html_url(h, web_str(view, "tracking_id"));
		html_raw(h, "\">\n");
		layout_csrf_field(h, p);
		select_of(h, "status", "Status", statuses, 4, web_str(refill, "status"), false);
		select_of(h, "justification", "Justification (not_affected only)", justifications, 5,
			  web_str(refill, "justification"), true);
		html_raw(h, "<label for=\"impact\">Impact statement</label><textarea id=\"impact\" name=\"impact\" "
			    "rows=\"3\" maxlength=\"4000\">");
		html_text(h, web_str(refill, "impact"));
		html_raw(h, "</textarea>\n<label for=\"controls\">Compensating controls <span class=\"hint\">- "
			    "required when affected</span></label><textarea id=\"controls\" name=\"controls\" rows=\"3\" "
			    "maxlength=\"4000\">");
		html_text(h, web_str(refill, "controls"));
		html_raw(h, "</textarea>\n<label for=\"password\">Your password, to sign (meaning: assessed)</label>"
			    "<input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\">\n");
		if (needs_code)
			html_raw(h, "<label for=\"totp_code\">One-time code</label><input type=\"text\" id=\"totp_code\" "
				    "name=\"totp_code\" inputmode=\"numeric\" autocomplete=\"one-time-code\">\n");
		html_raw(h, "<div><button type=\"submit\">Sign</button></div>\n</form>\n");
	}
	layout_end(h);
}
