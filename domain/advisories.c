/* domain/advisories.c - importing and matching advisories; see advisories.h. */
#include "domain/advisories.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/err.h"
#include "domain/csaf.h"
#include "storage/advisories.h"
#include "storage/assets.h"

unsigned dom_advisory_due_days(const struct dom *d, const char *severity)
{
	if (strcmp(severity, "critical") == 0)
		return d->cfg->assess_days_critical;
	if (strcmp(severity, "high") == 0)
		return d->cfg->assess_days_high;
	if (strcmp(severity, "medium") == 0)
		return d->cfg->assess_days_medium;
	return d->cfg->assess_days_low;
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* Does any id of `ids` name a matched product (a key of `matched`)? */
static bool any_matched(const json_t *ids, const json_t *matched)
{
	const json_t *e;
	size_t i;

	json_array_foreach(ids, i, e)
		if (json_is_string(e) && json_object_get(matched, json_string_value(e)))
			return true;
	return false;
}

/*
 * The match of advisory `adv` ({id, severity, summary, products}) on the
 * asset `asset` (advisories_assets() row): {products, cves, cvss, severity,
 * undecided, due_days} or NULL when it does not concern the asset.
 */
static json_t *match_one(const struct dom *d, const json_t *adv, const json_t *asset)
{
	struct csaf_asset a = {
		str(asset, "vendor"), str(asset, "model"), str(asset, "firmware"),
		str(asset, "order_number"), str(asset, "cpe"), str(asset, "purl"),
	};
	json_t *matched = json_object(), *products = json_array(), *cves = json_array(), *m = NULL;
	const json_t *p, *v;
	bool decided = false;
	double best = -1;
	size_t i;

	json_array_foreach(json_object_get(adv, "products"), i, p) {
		const char *why;
		enum csaf_match r = csaf_match(p, &a, &why);

		if (r == CSAF_MATCH_NO)
			continue;
		json_object_set_new(matched, str(p, "product_id"), json_true());
		json_array_append_new(products, json_pack("{s:s, s:s, s:s, s:s, s:s}", "product_id",
							  str(p, "product_id"), "name", str(p, "name"),
							  "version", str(p, "version"), "match",
							  r == CSAF_MATCH_YES ? "version" : "undecided",
							  "reason", why));
		if (r == CSAF_MATCH_YES)
			decided = true;
	}
	if (json_object_size(matched) == 0)
		goto out;
	/* only the CVEs that affect a matched product; a product listed as fixed is not exposed */
	json_array_foreach(json_object_get(json_object_get(adv, "summary"), "vulnerabilities"), i, v) {
		const json_t *cvss = json_object_get(v, "cvss"), *r;
		json_t *rems;
		size_t j;

		if (!any_matched(json_object_get(v, "affected"), matched))
			continue;
		rems = json_array();
		json_array_foreach(json_object_get(v, "remediations"), j, r) {
			const json_t *ids = json_object_get(r, "product_ids");

			if (json_array_size(ids) == 0 || any_matched(ids, matched))
				json_array_append(rems, (json_t *)r);
		}
		json_array_append_new(cves, json_pack("{s:s, s:s, s:s, s:O, s:o}", "cve", str(v, "cve"),
						      "title", str(v, "title"), "cwe", str(v, "cwe"),
						      "cvss", cvss ? cvss : json_null(), "remediations", rems));
		if (json_is_object(cvss) && json_number_value(json_object_get(cvss, "score")) > best)
			best = json_number_value(json_object_get(cvss, "score"));
	}
	if (json_array_size(cves) == 0)
		goto out;
	{
		const char *sev = best >= 0 ? csaf_severity(best) : str(adv, "severity");

		m = json_pack("{s:O, s:O, s:o, s:s, s:b, s:i}", "products", products, "cves", cves, "cvss",
			      best >= 0 ? json_real(best) : json_null(), "severity", *sev ? sev : "none",
			      "undecided", !decided, "due_days", (int)dom_advisory_due_days(d, sev));
	}
out:
	json_decref(matched);
	json_decref(products);
	json_decref(cves);
	return m;
}

int dom_advisory_match_asset(const struct dom *d, struct db_conn *c, int64_t asset_id)
{
	json_t *advs = NULL, *assets = NULL, *matches = json_array();
	const json_t *asset = NULL, *e, *adv;
	size_t i;
	int rc;

	if ((rc = advisories_assets(&assets, c)) || (rc = advisories_for_matching(&advs, c)))
		goto out;
	json_array_foreach(assets, i, e)
		if (json_integer_value(json_object_get(e, "id")) == asset_id)
			asset = e;
	if (asset) {
		json_array_foreach(advs, i, adv) {
			json_t *m = match_one(d, adv, asset);

			if (m) {
				json_object_set(m, "advisory_id", json_object_get(adv, "id"));
				json_array_append_new(matches, m);
			}
		}
	}
	rc = advisories_matches_replace(c, 0, asset_id, matches);
out:
	json_decref(advs);
	json_decref(assets);
	json_decref(matches);
	return rc;
}

/* Match advisory `id` (with summary and products) against every asset; *out_assets lists them. */
static int match_advisory(json_t **out_assets, const struct dom *d, struct db_conn *c, int64_t id,
			  const json_t *summary, const json_t *products)
{
	json_t *assets = NULL, *matches = json_array(), *adv, *list = json_array();
	const json_t *asset;
	size_t i;
	int rc;

	adv = json_pack("{s:I, s:s, s:O, s:O}", "id", (json_int_t)id, "severity",
			str(summary, "severity"), "summary", summary, "products", products);
	if ((rc = advisories_assets(&assets, c)))
		goto out;
	json_array_foreach(assets, i, asset) {
		json_t *m = match_one(d, adv, asset);

		if (!m)
			continue;
		json_object_set(m, "asset_id", json_object_get(asset, "id"));
		json_array_append_new(matches, m);
		json_array_append_new(list, json_pack("{s:O, s:O}", "asset_id", json_object_get(asset, "id"),
						      "path", json_object_get(asset, "path")));
	}
	if ((rc = advisories_matches_replace(c, id, 0, matches)))
		goto out;
	*out_assets = list;
	list = NULL;
out:
	json_decref(adv);
	json_decref(assets);
	json_decref(matches);
	json_decref(list);
	return rc;
}

/* Is the document `summary` a newer revision than `current` ({version, released_at})? */
static bool newer_revision(const json_t *summary, const json_t *current)
{
	int v = csaf_version_cmp(str(summary, "version"), str(current, "version"));
	int t = strcmp(str(summary, "current_release_date"), str(current, "released_at"));

	return v > 0 || (v == 0 && t > 0);
}

int dom_advisory_import(json_t **out, const struct dom *d, const char *bytes, size_t len,
			const char *source, const char *file_name)
{
	struct db_conn *c = NULL;
	json_t *doc = NULL, *summary = NULL, *products = NULL, *current = NULL, *assets = NULL;
	json_t *after = NULL, *before = NULL;
	struct advisory_document ad;
	struct advisory_record ar;
	char sha[2 * CRYPTO_SHA256_LEN + 1];
	const char *tracking = NULL;
	int64_t doc_id = 0, adv_id = 0;
	bool existing = false, created = false, unchanged = false;
	int rc;

	*out = NULL;
	if ((rc = dom_permit(d, OP_ADVISORY_IMPORT)))
		return rc;
	if ((rc = json_parse_object(&doc, bytes, len, (int)d->cfg->json_max_depth)))
		goto out;
	if ((rc = csaf_validate(doc)))
		goto out;
	csaf_summary(&summary, doc);
	csaf_products(&products, doc);
	tracking = str(summary, "tracking_id");
	crypto_sha256_hex(sha, bytes, len);
	if ((rc = dom_begin(&c, d)) || (rc = advisories_current(&current, c, tracking)))
		goto out;
	if (current && strcmp(str(current, "sha256"), sha) == 0) {
		unchanged = true;
		adv_id = json_integer_value(json_object_get(current, "id"));
	} else if (current && !newer_revision(summary, current)) {
		rc = err_set(OTCM_ERULE, "/document/tracking/version",
			     "advisory %s version %s of %s is not newer than the imported version %s of %s; "
			     "a changed advisory carries a higher version", tracking, str(summary, "version"),
			     str(summary, "current_release_date"), str(current, "version"),
			     str(current, "released_at"));
		err_set_rule("advisory-revision");
		goto out;
	}
	if (!unchanged) {
		memset(&ad, 0, sizeof(ad));
		ad.tracking_id = tracking;
		ad.sha256 = sha;
		ad.bytes = bytes;
		ad.len = len;
		ad.source = source;
		ad.file_name = file_name;
		ad.user_id = d->who->user_id;
		ad.username = d->who->username ? d->who->username : "system";
		if ((rc = advisories_document_insert(&doc_id, &existing, c, &ad)))
			goto out;
		memset(&ar, 0, sizeof(ar));
		ar.tracking_id = tracking;
		ar.title = str(summary, "title");
		ar.publisher = str(summary, "publisher");
		ar.version = str(summary, "version");
		ar.released_at = str(summary, "current_release_date");
		ar.severity = str(summary, "severity");
		ar.cvss = json_is_number(json_object_get(summary, "cvss")) ?
			  json_number_value(json_object_get(summary, "cvss")) : -1;
		ar.summary = summary;
		ar.products = products;
		ar.document_id = doc_id;
		created = current == NULL;
		if ((rc = advisories_put(&adv_id, c, &ar)) ||
		    (rc = match_advisory(&assets, d, c, adv_id, summary, products)))
			goto out;
		after = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:O}", "tracking_id", tracking, "version",
				  ar.version, "sha256", sha, "severity", ar.severity, "source", source,
				  "file_name", file_name ? file_name : "", "assets", assets);
		if (current)
			before = json_pack("{s:O, s:O}", "version", json_object_get(current, "version"),
					   "sha256", json_object_get(current, "sha256"));
		if ((rc = dom_audit(d, c, "advisory.import", "advisory", tracking, before, after, NULL)) ||
		    (rc = dom_commit(c)))
			goto out;
	} else {
		json_t *full = NULL;

		if ((rc = advisories_get(&full, c, tracking)))
			goto out;
		assets = json_array();
		{
			const json_t *e;
			size_t i;

			json_array_foreach(json_object_get(full, "assets"), i, e)
				json_array_append_new(assets, json_pack("{s:O, s:O}", "asset_id",
									json_object_get(e, "asset_id"), "path",
									json_object_get(e, "path")));
		}
		json_decref(full);
	}
	*out = json_pack("{s:s, s:s, s:s, s:s, s:O, s:s, s:b, s:b, s:b, s:O}", "tracking_id", tracking,
			 "title", str(summary, "title"), "version", str(summary, "version"), "severity",
			 str(summary, "severity"), "cvss", json_object_get(summary, "cvss"), "sha256", sha,
			 "created", created, "updated", !created && !unchanged, "unchanged", unchanged,
			 "assets", assets);
out:
	if (rc)
		rc = dom_refused(d, &c, "advisory.import", "advisory", tracking, rc);
	dom_end(c);
	json_decref(doc);
	json_decref(summary);
	json_decref(products);
	json_decref(current);
	json_decref(assets);
	json_decref(after);
	json_decref(before);
	return rc;
}

int dom_advisory_list(json_t **out, const struct dom *d)
{
	struct db_conn *c = NULL;
	json_t *items = NULL;
	int rc;

	*out = NULL;
	if ((rc = dom_permit(d, OP_ADVISORY_READ)))
		return rc;
	if ((rc = dom_conn(&c, d)) || (rc = advisories_list(&items, c)))
		goto out;
	*out = json_pack("{s:o}", "items", items);
out:
	dom_end(c);
	return rc;
}

int dom_advisory_read(json_t **out, const struct dom *d, const char *tracking_id)
{
	struct db_conn *c = NULL;
	int rc;

	*out = NULL;
	if ((rc = dom_permit(d, OP_ADVISORY_READ)))
		return rc;
	if ((rc = dom_conn(&c, d)) == 0)
		rc = advisories_get(out, c, tracking_id);
	dom_end(c);
	return rc;
}

int dom_advisory_document(const char **out, size_t *out_len, const char **out_sha256,
			  const struct dom *d, const char *tracking_id)
{
	struct db_conn *c = NULL;
	char *bytes = NULL, *sha = NULL;
	int rc;

	*out = NULL;
	if ((rc = dom_permit(d, OP_ADVISORY_READ)))
		return rc;
	if ((rc = dom_conn(&c, d)) || (rc = advisories_document(&bytes, out_len, &sha, c, tracking_id)))
		goto out;
	*out = arena_memdup(d->arena, bytes, *out_len);
	*out_sha256 = arena_strdup(d->arena, sha);
out:
	dom_end(c);
	free(bytes);
	free(sha);
	return rc;
}

int dom_exposure(json_t **out, const struct dom *d, int64_t asset_id, const char *prefix)
{
	struct db_conn *c = NULL;
	json_t *items = NULL, *asset = NULL, *seen_assets = NULL, *seen_advs = NULL;
	const json_t *e;
	size_t i, affected = 0, overdue = 0, unassessed = 0;
	char *p = NULL;
	int rc;

	*out = NULL;
	if ((rc = dom_permit(d, OP_ADVISORY_READ)))
		return rc;
	if (prefix) {
		size_t n;

		p = arena_strdup(d->arena, prefix);
		n = strlen(p);
		while (n > 0 && p[n - 1] == '/')
			p[--n] = '\0';
		if ((rc = assets_check_path(p, "prefix")))
			return rc;
	}
	if ((rc = dom_conn(&c, d)))
		goto out;
	if (asset_id && (rc = assets_get(&asset, c, asset_id, false)))
		goto out;
	if ((rc = advisories_exposure(&items, c, asset_id, p)))
		goto out;
	seen_assets = json_object();
	seen_advs = json_object();
	json_array_foreach(items, i, e) {
		const json_t *a = json_object_get(e, "assessment");
		const json_t *as = json_is_object(a) ? a : NULL;   /* null when not assessed */
		const char *status = as ? str(as, "status") : "";
		char k[24];

		snprintf(k, sizeof(k), "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(e, "asset_id")));
		json_object_set_new(seen_assets, k, json_true());
		json_object_set_new(seen_advs, str(e, "tracking_id"), json_true());
		if (!as)
			unassessed++;
		if (!as || strcmp(status, "affected") == 0 || strcmp(status, "under_investigation") == 0)
			affected++;
		if (json_is_true(json_object_get(e, "overdue")))
			overdue++;
	}
	*out = json_pack("{s:o, s:i, s:i, s:i, s:i, s:i}", "items", items, "assets",
			 (int)json_object_size(seen_assets), "advisories", (int)json_object_size(seen_advs),
			 "exposed", (int)affected, "overdue", (int)overdue, "unassessed", (int)unassessed);
	items = NULL;
	if (asset)
		json_object_set(*out, "asset", asset);
	if (p)
		json_object_set_new(*out, "prefix", json_string(p));
out:
	dom_end(c);
	json_decref(items);
	json_decref(asset);
	json_decref(seen_assets);
	json_decref(seen_advs);
	return rc;
}
