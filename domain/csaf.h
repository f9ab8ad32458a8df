/*
 * domain/csaf.h - CSAF 2.0 advisories as pure functions over jansson
 * values: checking a document against the required structure of the CSAF
 * 2.0 JSON schema, flattening its product tree, summarising its
 * vulnerabilities, and matching products against an asset's inventory
 * (vendor, product name, model numbers, CPE, PURL, version ranges in the
 * vers: syntax and as CISA writes them, "<=V4.1", "<V33.017_V34.014").
 *
 * No I/O, no database, no allocation beyond the jansson values returned.
 * Every refusal is OTCM_EINVAL whose field is the JSON pointer (RFC 6901)
 * of the offending member, "/document/tracking/id", the way CSAF's own
 * tests name them.
 *
 * Thread-safety: all functions are thread-safe.
 */
#ifndef OTCM_DOMAIN_CSAF_H
#define OTCM_DOMAIN_CSAF_H

#include <stdbool.h>

#include "core/json.h"

/*
 * Check `doc` against the CSAF 2.0 schema's required structure: the
 * required members of the document, its publisher and tracking (with the
 * enumerations of category, status and TLP label, RFC 3339 dates, a
 * non-empty revision history), the product tree's branches (category and
 * name, a branch or a product each), products (name and product_id),
 * relationships, and each vulnerability's CVE syntax, product status lists,
 * scores (CVSS v3 version, vector, base score 0-10 and severity),
 * remediations (category and details), notes and flags; and that every
 * product id a vulnerability names is defined in the product tree (CSAF
 * 6.1.1).  A "csaf_vex" document must also carry a product tree and, per
 * vulnerability, a product status (CSAF 4.5).  0, or OTCM_EINVAL naming the
 * JSON pointer at fault with a sentence saying what is wrong.
 */
int csaf_validate(const json_t *doc);

/*
 * The products of a valid document's tree, flattened: *out (the caller's)
 * is an array of {product_id, name (the full product name), vendor,
 * product (the product_name or product_family branch), version (the
 * product_version or product_version_range branch's name, or ""), range
 * (true for a product_version_range), model_numbers [], cpe, purl (or
 * "")}.  Products named by relationships inherit the vendor, product and
 * version of their product_reference.
 */
int csaf_products(json_t **out, const json_t *doc);

/*
 * A summary of a valid document: *out (the caller's) is {tracking_id,
 * title, publisher, category, status, version, initial_release_date,
 * current_release_date, tlp, cvss (the highest base score, or null),
 * severity (none, low, medium, high, critical by that score),
 * vulnerabilities: [{cve, title, cwe, cvss: {score, vector, severity} or
 * null, affected: [product ids known_affected, first_affected,
 * last_affected or under_investigation], fixed: [...], not_affected:
 * [...], remediations: [{category, details, url, product_ids}]}]}.
 */
int csaf_summary(json_t **out, const json_t *doc);

/* The severity band of a CVSS v3 base score: none, low, medium, high, critical. */
const char *csaf_severity(double score);

/*
 * Compare two version strings as vendors write them: a leading "V", "v",
 * "Ver." or "Version" is ignored, digit runs compare as numbers, letter
 * runs case-insensitively, separators (. _ - space) only separate; a
 * version that goes on is the greater ("V2.9.4" < "2.10" < "v2.10.0").
 * <0, 0 or >0.
 */
int csaf_version_cmp(const char *a, const char *b);

/*
 * Is `version` within `spec`?  For a product_version (`range` false) spec
 * is one version (equal, as csaf_version_cmp, or "All versions").  For a
 * range: "vers:<scheme>/" constraints separated by '|' ("vers:all/ *" for all,
 * "vers:generic/>=1.2|<2.0"), or CISA's bare comparators ("<V4.1.8",
 * "<=3.3.23", ">=R5.01.00|<=R5.04.20", "12.0|13.0|14.0"), and a '<' over
 * several fixed versions joined by '_' ("<V33.017_V34.014_V35.013": on
 * the line of a listed major version, below its fix; on older lines,
 * affected; on newer ones, not).  A '>' or ">=" followed by a '<' or "<="
 * bounds one interval; other constraints each stand alone.
 * 1 within, 0 outside, -1 undecidable (empty version, free text).
 */
int csaf_version_in(const char *version, const char *spec, bool range);

/* What is known of an asset, for matching (members may be "" or NULL). */
struct csaf_asset {
	const char *vendor, *model, *firmware, *order_number, *cpe, *purl;
};

enum csaf_match {
	CSAF_MATCH_NO = 0,
	CSAF_MATCH_YES = 1,       /* the product and its version range match */
	CSAF_MATCH_VERSION = 2,   /* the product matches; the version cannot be decided */
};

/*
 * Does `product` (an element of csaf_products()) concern asset `a`?  A CPE
 * on both sides decides by vendor and product (and version, when the
 * product's CPE names one); so does a PURL on both sides (type, namespace
 * and name).  Otherwise the vendors must match (letters and digits only,
 * case-insensitive, one containing the other: "Siemens" and "Siemens AG"),
 * then the model numbers when the product lists them and the asset has an
 * order number or model ('*' and '?' wildcards), else the product name
 * and the asset's model (one's words a run of the other's, at least one
 * with a digit or four letters long); then the version range against the
 * firmware.  *out_reason (static text) says what decided.
 */
enum csaf_match csaf_match(const json_t *product, const struct csaf_asset *a, const char **out_reason);

#endif
