/* domain/exposure.c - CycloneDX and CSAF VEX exports; see exposure.h. */
#include "domain/exposure.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/err.h"
#include "core/timeutil.h"
#include "domain/csaf.h"
#include "storage/advisories.h"
#include "storage/assets.h"

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static const char *or(const char *s, const char *dflt)
{
	return s && *s ? s : dflt;
}

/* The assets to export: one, or every asset below `prefix`. */
static int export_assets(json_t **out, struct db_conn *c, int64_t asset_id, const char *prefix)
{
	struct asset_query q;
	json_t *all = json_array(), *page = NULL;
	bool more = true;
	int rc = 0;

	*out = NULL;
	if (asset_id) {
		json_t *a = NULL;

		if ((rc = assets_get(&a, c, asset_id, false))) {
			json_decref(all);
			return rc;
		}
		json_array_append_new(all, a);
		*out = all;
		return 0;
	}
	memset(&q, 0, sizeof(q));
	q.prefix = prefix;
	q.limit = ASSETS_MAX_LIMIT;
	while (more) {
		if ((rc = assets_list(&page, &more, c, &q)))
			break;
		json_array_extend(all, page);
		if (more)
			q.after = str(json_array_get(all, json_array_size(all) - 1), "path");
		json_decref(page);
		page = NULL;
	}
	if (rc == 0 && json_array_size(all) == 0)
		rc = err_set(OTCM_ENOTFOUND, "prefix", "no asset below '%.200s'", prefix);
	if (rc) {
		json_decref(all);
		return rc;
	}
	*out = all;
	return 0;
}

/* ---- CycloneDX 1.5 ---- */

static const char *cdx_state(const json_t *assessment)
{
	const char *s = str(assessment, "status");

	if (strcmp(s, "affected") == 0)
		return "exploitable";
	if (strcmp(s, "not_affected") == 0)
		return "not_affected";
	if (strcmp(s, "fixed") == 0)
		return "resolved";
	return "in_triage";
}

static const char *cdx_justification(const char *vex)
{
	if (strcmp(vex, "component_not_present") == 0 || strcmp(vex, "vulnerable_code_not_present") == 0)
		return "code_not_present";
	if (strcmp(vex, "vulnerable_code_not_in_execute_path") == 0)
		return "code_not_reachable";
	if (strcmp(vex, "vulnerable_code_cannot_be_controlled_by_adversary") == 0)
		return "requires_environment";
	return "protected_by_mitigating_control";
}

static json_t *cdx_device(const json_t *a)
{
	json_int_t id = json_integer_value(json_object_get(a, "id"));
	json_t *dev = json_object(), *fw = json_object(), *props = json_array();
	static const char *const extra[] = { "model", "serial_number", "order_number", "type" };
	size_t i;

	json_object_set_new(dev, "type", json_string("device"));
	json_object_set_new(dev, "bom-ref", json_sprintf("asset-%" JSON_INTEGER_FORMAT, id));
	json_object_set_new(dev, "name", json_string(or(str(a, "model"), str(a, "path"))));
	if (*str(a, "vendor"))
		json_object_set_new(dev, "supplier", json_pack("{s:s}", "name", str(a, "vendor")));
	json_object_set_new(dev, "description", json_string(str(a, "path")));
	if (*str(a, "cpe"))
		json_object_set_new(dev, "cpe", json_string(str(a, "cpe")));
	if (*str(a, "purl"))
		json_object_set_new(dev, "purl", json_string(str(a, "purl")));
	json_array_append_new(props, json_pack("{s:s, s:s}", "name", "otcm:path", "value", str(a, "path")));
	for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		if (*str(a, extra[i]))
			json_array_append_new(props, json_pack("{s:s, s:s}", "name",
							       extra[i][0] == 't' ? "otcm:asset_type" :
							       extra[i][0] == 'm' ? "otcm:model" :
							       extra[i][0] == 's' ? "otcm:serial_number" :
										    "otcm:order_number",
							       "value", str(a, extra[i])));
	}
	json_object_set_new(dev, "properties", props);
	json_object_set_new(fw, "type", json_string("firmware"));
	json_object_set_new(fw, "bom-ref", json_sprintf("asset-%" JSON_INTEGER_FORMAT "-firmware", id));
	json_object_set_new(fw, "name", json_sprintf("%s firmware", or(str(a, "model"), str(a, "path"))));
	if (*str(a, "firmware"))
		json_object_set_new(fw, "version", json_string(str(a, "firmware")));
	if (*str(a, "vendor"))
		json_object_set_new(fw, "supplier", json_pack("{s:s}", "name", str(a, "vendor")));
	json_object_set_new(dev, "components", json_pack("[o]", fw));
	return dev;
}

static json_t *cdx_rating(const json_t *cvss)
{
	const char *vector = str(cvss, "vector");

	return json_pack("{s:f, s:s, s:s, s:s}", "score", json_number_value(json_object_get(cvss, "score")),
			 "severity", str(cvss, "severity"), "method",
			 strncmp(vector, "CVSS:3.0", 8) == 0 ? "CVSSv3" : "CVSSv31", "vector", vector);
}

static json_t *cdx_vulnerability(const json_t *row, const json_t *cve)
{
	json_int_t asset = json_integer_value(json_object_get(row, "asset_id"));
	const json_t *as = json_object_get(row, "assessment"), *cvss = json_object_get(cve, "cvss"), *r;
	json_t *v = json_object(), *analysis = json_object(), *recs = json_array();
	const char *cwe = str(cve, "cwe");
	size_t i;

	json_object_set_new(v, "bom-ref", json_sprintf("vuln-%" JSON_INTEGER_FORMAT "-%s-%s", asset,
						       str(row, "tracking_id"), str(cve, "cve")));
	json_object_set_new(v, "id", json_string(or(str(cve, "cve"), str(row, "tracking_id"))));
	json_object_set_new(v, "source", json_pack("{s:s}", "name", "CSAF"));
	if (json_is_object(cvss)) {
		json_object_set_new(v, "ratings", json_pack("[o]", cdx_rating(cvss)));
	}
	if (strncmp(cwe, "CWE-", 4) == 0)
		json_object_set_new(v, "cwes", json_pack("[I]", (json_int_t)strtoll(cwe + 4, NULL, 10)));
	json_object_set_new(v, "description", json_string(or(str(cve, "title"), str(row, "title"))));
	json_array_foreach(json_object_get(cve, "remediations"), i, r)
		json_array_append_new(recs, json_pack("s", str(r, "details")));
	if (json_array_size(recs)) {
		char *text = NULL;
		size_t total = 0, k;
		const json_t *e;

		json_array_foreach(recs, k, e)
			total += strlen(json_string_value(e)) + 1;
		text = calloc(1, total + 1);
		if (text) {
			json_array_foreach(recs, k, e) {
				if (k)
					strcat(text, "\n");
				strcat(text, json_string_value(e));
			}
			json_object_set_new(v, "recommendation", json_string(text));
			free(text);
		}
	}
	json_decref(recs);
	json_object_set_new(v, "advisories", json_pack("[{s:s}]", "title", str(row, "tracking_id")));
	json_object_set_new(analysis, "state", json_string(cdx_state(as)));
	if (as && *str(as, "justification"))
		json_object_set_new(analysis, "justification", json_string(cdx_justification(str(as, "justification"))));
	if (as) {
		const char *impact = str(as, "impact"), *controls = str(as, "controls");

		if (*impact || *controls)
			json_object_set_new(analysis, "detail",
					    json_sprintf("%s%s%s%s", impact, *impact && *controls ? "\n" : "",
							 *controls ? "Compensating controls: " : "", controls));
		if (*str(as, "change_key"))
			json_object_set_new(analysis, "response", json_pack("[s]", "update"));
	}
	json_object_set_new(v, "analysis", analysis);
	json_object_set_new(v, "affects",
			    json_pack("[{s:o, s:[{s:s, s:s}]}]", "ref",
				      json_sprintf("asset-%" JSON_INTEGER_FORMAT "-firmware", asset), "versions",
				      "version", or(str(row, "firmware"), "unknown"), "status",
				      strcmp(cdx_state(as), "exploitable") == 0 || strcmp(cdx_state(as), "in_triage") == 0
				      ? (json_is_true(json_object_get(row, "undecided")) ? "unknown" : "affected")
				      : "unaffected"));
	return v;
}

static json_t *cyclonedx(const struct dom *d, const json_t *assets, const json_t *rows, const char *title)
{
	json_t *bom = json_object(), *components = json_array(), *vulns = json_array();
	const json_t *a, *row, *cve;
	unsigned char u[16];
	char now[TIME_RFC3339_LEN];
	size_t i, j;

	if (crypto_random(u, sizeof(u)))
		memset(u, 0, sizeof(u));
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
	time_now_rfc3339(now);
	json_object_set_new(bom, "bomFormat", json_string("CycloneDX"));
	json_object_set_new(bom, "specVersion", json_string("1.5"));
	json_object_set_new(bom, "serialNumber",
			    json_sprintf("urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
					 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
					 u[12], u[13], u[14], u[15]));
	json_object_set_new(bom, "version", json_integer(1));
	json_object_set_new(bom, "metadata",
			    json_pack("{s:s, s:{s:[{s:s, s:s}]}, s:{s:s, s:s, s:s}}", "timestamp", now, "tools",
				      "components", "type", "application", "name", "otcm", "component", "type",
				      "device", "name", title, "bom-ref", "scope"));
	(void)d;
	json_array_foreach(assets, i, a)
		json_array_append_new(components, cdx_device(a));
	json_array_foreach(rows, i, row) {
		json_array_foreach(json_object_get(row, "cves"), j, cve)
			json_array_append_new(vulns, cdx_vulnerability(row, cve));
	}
	json_object_set_new(bom, "components", components);
	json_object_set_new(bom, "vulnerabilities", vulns);
	return bom;
}

/* ---- CSAF VEX ---- */

static const char *vex_status(const json_t *assessment)
{
	const char *s = str(assessment, "status");

	if (strcmp(s, "affected") == 0)
		return "known_affected";
	if (strcmp(s, "not_affected") == 0)
		return "known_not_affected";
	if (strcmp(s, "fixed") == 0)
		return "fixed";
	return "under_investigation";
}

/* The product of asset `a` in the VEX product tree: vendor / model / firmware. */
static json_t *vex_branch(const json_t *a)
{
	json_int_t id = json_integer_value(json_object_get(a, "id"));
	json_t *prod = json_object(), *helper = json_object();

	json_object_set_new(prod, "name", json_sprintf("%s (%s %s %s)", str(a, "path"), or(str(a, "vendor"), "unknown vendor"),
						       or(str(a, "model"), "unknown model"),
						       or(str(a, "firmware"), "unknown firmware")));
	json_object_set_new(prod, "product_id", json_sprintf("OTCM-ASSET-%" JSON_INTEGER_FORMAT, id));
	if (*str(a, "cpe"))
		json_object_set_new(helper, "cpe", json_string(str(a, "cpe")));
	if (*str(a, "purl"))
		json_object_set_new(helper, "purl", json_string(str(a, "purl")));
	if (*str(a, "order_number"))
		json_object_set_new(helper, "model_numbers", json_pack("[s]", str(a, "order_number")));
	if (*str(a, "serial_number"))
		json_object_set_new(helper, "serial_numbers", json_pack("[s]", str(a, "serial_number")));
	if (json_object_size(helper))
		json_object_set_new(prod, "product_identification_helper", helper);
	else
		json_decref(helper);
	return json_pack("{s:s, s:s, s:[{s:s, s:s, s:[{s:s, s:s, s:o}]}]}", "category", "vendor", "name",
			 or(str(a, "vendor"), "unknown vendor"), "branches", "category", "product_name", "name",
			 or(str(a, "model"), "unknown model"), "branches", "category", "product_version", "name",
			 or(str(a, "firmware"), "unknown"), "product", prod);
}

/* Append `id` to the list `key` of object `o`, creating it. */
static void add_id(json_t *o, const char *key, const char *id)
{
	json_t *list = json_object_get(o, key);

	if (!list) {
		list = json_array();
		json_object_set_new(o, key, list);
	}
	json_array_append_new(list, json_string(id));
}

static json_t *vex_document(const struct dom *d, const json_t *assets, const json_t *rows, const char *title,
			    const char *id)
{
	json_t *doc, *branches = json_array(), *vulns = json_array(), *by_cve = json_object();
	const json_t *a, *row, *cve;
	char now[TIME_RFC3339_LEN];
	const char *server = d->origin && strncmp(d->origin, "otcm/", 5) == 0 ? d->origin + 5 : "otcm";
	const char *key;
	json_t *v;
	size_t i, j;

	time_now_rfc3339(now);
	json_array_foreach(assets, i, a)
		json_array_append_new(branches, vex_branch(a));
	/* one vulnerability per CVE; each asset is a product with its status */
	json_array_foreach(rows, i, row) {
		const json_t *as = json_object_get(row, "assessment");
		char *pid = NULL;

		if (asprintf(&pid, "OTCM-ASSET-%" JSON_INTEGER_FORMAT,
			     json_integer_value(json_object_get(row, "asset_id"))) < 0)
			continue;
		json_array_foreach(json_object_get(row, "cves"), j, cve) {
			const char *name = or(str(cve, "cve"), str(row, "tracking_id"));
			const json_t *cvss = json_object_get(cve, "cvss");
			const char *status = vex_status(as);
			json_t *ps, *e;

			v = json_object_get(by_cve, name);
			if (!v) {
				v = json_object();
				if (strncmp(name, "CVE-", 4) == 0)
					json_object_set_new(v, "cve", json_string(name));
				json_object_set_new(v, "title", json_string(or(str(cve, "title"), name)));
				json_object_set_new(v, "notes", json_pack("[{s:s, s:s, s:s}]", "category", "description",
									  "title", "advisory", "text",
									  str(row, "tracking_id")));
				json_object_set_new(v, "product_status", json_object());
				json_object_set_new(v, "scores", json_array());
				json_object_set_new(v, "remediations", json_array());
				json_object_set_new(v, "flags", json_array());
				json_object_set_new(v, "threats", json_array());
				json_object_set_new(by_cve, name, v);
			}
			ps = json_object_get(v, "product_status");
			add_id(ps, status, pid);
			if (json_is_object(cvss)) {
				const char *vector = str(cvss, "vector"), *sev = str(cvss, "severity");
				char upper[16];
				size_t k;

				for (k = 0; sev[k] && k + 1 < sizeof(upper); k++)
					upper[k] = (char)(sev[k] >= 'a' && sev[k] <= 'z' ? sev[k] - 32 : sev[k]);
				upper[k] = '\0';
				e = json_pack("{s:[s], s:{s:s, s:s, s:f, s:s}}", "products", pid, "cvss_v3", "version",
					      strncmp(vector, "CVSS:3.0", 8) == 0 ? "3.0" : "3.1", "vectorString", vector,
					      "baseScore", json_number_value(json_object_get(cvss, "score")),
					      "baseSeverity", upper);
				if (e && strncmp(vector, "CVSS:3.", 7) == 0)
					json_array_append_new(json_object_get(v, "scores"), e);
				else
					json_decref(e);
			}
			if (as && strcmp(status, "known_not_affected") == 0)
				json_array_append_new(json_object_get(v, "flags"),
						      json_pack("{s:s, s:[s]}", "label", str(as, "justification"),
								"product_ids", pid));
			if (as && *str(as, "impact"))
				json_array_append_new(json_object_get(v, "threats"),
						      json_pack("{s:s, s:s, s:[s]}", "category", "impact", "details",
								str(as, "impact"), "product_ids", pid));
			if (as && *str(as, "controls"))
				json_array_append_new(json_object_get(v, "remediations"),
						      json_pack("{s:s, s:s, s:[s]}", "category", "mitigation", "details",
								str(as, "controls"), "product_ids", pid));
			if (as && *str(as, "change_key"))
				json_array_append_new(json_object_get(v, "remediations"),
						      json_pack("{s:s, s:o, s:[s]}", "category", "vendor_fix", "details",
								json_sprintf("fixed by change %s", str(as, "change_key")),
								"product_ids", pid));
			if (strcmp(status, "known_affected") == 0 || strcmp(status, "under_investigation") == 0) {
				const json_t *r;
				size_t k;

				json_array_foreach(json_object_get(cve, "remediations"), k, r)
					json_array_append_new(json_object_get(v, "remediations"),
							      json_pack("{s:s, s:s, s:[s]}", "category",
									or(str(r, "category"), "mitigation"),
									"details", or(str(r, "details"), "see the advisory"),
									"product_ids", pid));
			}
		}
		free(pid);
	}
	json_object_foreach(by_cve, key, v) {
		static const char *const lists[] = { "scores", "remediations", "flags", "threats" };
		size_t k;

		/* CSAF wants no empty arrays */
		for (k = 0; k < sizeof(lists) / sizeof(lists[0]); k++)
			if (json_array_size(json_object_get(v, lists[k])) == 0)
				json_object_del(v, lists[k]);
		json_array_append(vulns, v);
	}
	doc = json_pack("{s:{s:s, s:s, s:{s:s, s:s, s:o}, s:s, s:{s:{s:s}}, s:{s:s, s:s, s:s, s:s, s:s,"
			" s:[{s:s, s:s, s:s}], s:{s:{s:s}, s:s}}}, s:{s:o}}",
			"document", "category", "csaf_vex", "csaf_version", "2.0", "publisher", "category", "user",
			"name", server, "namespace", json_sprintf("urn:otcm:%s", server), "title", title,
			"distribution", "tlp", "label", "AMBER",
			"tracking", "id", id, "status", "final", "version", "1", "initial_release_date", now,
			"current_release_date", now, "revision_history", "date", now, "number", "1", "summary",
			"exported by otcm", "generator", "engine", "name", "otcm", "date", now,
			"product_tree", "branches", branches);
	if (json_array_size(vulns))
		json_object_set_new(doc, "vulnerabilities", vulns);
	else
		json_decref(vulns);
	json_decref(by_cve);
	return doc;
}

int dom_exposure_export(json_t **out, const struct dom *d, int64_t asset_id, const char *prefix,
			const char *format)
{
	struct db_conn *c = NULL;
	json_t *assets = NULL, *rows = NULL, *doc = NULL, *unmatched = NULL;
	char *p = NULL, now[TIME_RFC3339_LEN];
	const char *title;
	int rc;

	*out = NULL;
	if ((rc = dom_permit(d, OP_EXPOSURE_EXPORT)))
		return rc;
	if (strcmp(format, "cyclonedx") != 0 && strcmp(format, "csaf-vex") != 0)
		return err_set(OTCM_EINVAL, "format", "format '%.40s' is not cyclonedx or csaf-vex", format);
	if (prefix) {
		size_t n;

		p = arena_strdup(d->arena, prefix);
		n = strlen(p);
		while (n > 0 && p[n - 1] == '/')
			p[--n] = '\0';
		if ((rc = assets_check_path(p, "prefix")))
			return rc;
	}
	if ((rc = dom_conn(&c, d)) || (rc = export_assets(&assets, c, asset_id, p)) ||
	    (rc = advisories_exposure(&rows, c, asset_id, p)) ||
	    (rc = advisories_assessed_unmatched(&unmatched, c, asset_id, p)))
		goto out;
	/* what was assessed and no longer matches (fixed by an update) is part of the statement too */
	json_array_extend(rows, unmatched);
	title = asset_id ? str(json_array_get(assets, 0), "path") : p;
	if (strcmp(format, "cyclonedx") == 0) {
		doc = cyclonedx(d, assets, rows, title);
	} else {
		char id[200];
		size_t i;

		if (json_array_size(rows) == 0) {
			rc = err_set(OTCM_ERULE, "format",
				     "no advisory concerns %s and none was assessed: a VEX document states the status "
				     "of vulnerabilities, and there is none to state", title);
			err_set_rule("vex-nothing-to-state");
			goto out;
		}
		time_now_rfc3339(now);
		snprintf(id, sizeof(id), "OTCM-VEX-%s-%.10s", title, now);
		for (i = 0; id[i]; i++)
			if (id[i] == '/')
				id[i] = '.';
		doc = vex_document(d, assets, rows, arena_printf(d->arena, "VEX of %s", title), id);
		/* what we publish passes our own import's check */
		if ((rc = csaf_validate(doc))) {
			rc = err_set(OTCM_EINTERNAL, NULL, "the VEX document fails CSAF validation at %s: %s",
				     err_field(), err_message());
			goto out;
		}
	}
	*out = doc;
	doc = NULL;
out:
	dom_end(c);
	json_decref(assets);
	json_decref(rows);
	json_decref(doc);
	json_decref(unmatched);
	return rc;
}
