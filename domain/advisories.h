/*
 * domain/advisories.h - security advisories: importing CSAF 2.0 documents,
 * matching them against the inventory, and what concerns each asset and
 * each site (docs/patch.md).
 *
 * An import checks the document (domain/csaf.h: a refusal names the JSON
 * pointer at fault), keeps it byte for byte with its SHA-256, makes it the
 * advisory's current revision (an older or equal revision of a different
 * text is refused, rule "advisory-revision"), matches its products against
 * every asset, and writes "advisory.import" in the same transaction.  An
 * identical document imported again changes nothing.
 *
 * A match names the asset's products in the advisory, the CVEs that affect
 * them with CVSS and the vendor's remediations, whether the version range
 * could be decided, when it was first seen and its due date: first seen
 * plus the days the severity policy gives (--assess-days-critical, -high,
 * -medium, -low).  Matches are recomputed when an advisory is imported and
 * when an asset's inventory moves (dom_inventory_observe()).
 *
 * Thread-safety: per context (one request on one thread).
 */
#ifndef OTCM_DOMAIN_ADVISORIES_H
#define OTCM_DOMAIN_ADVISORIES_H

#include <stddef.h>
#include <stdint.h>

#include "domain/domain.h"

/*
 * Import the CSAF document `bytes` (len bytes of JSON) from `source`
 * ("upload" or "folder"; `file_name` may be NULL) (OP_ADVISORY_IMPORT).
 * *out = {tracking_id, title, version, severity, cvss, sha256, created
 * (a new advisory), updated (a newer revision), unchanged (the same
 * document again), assets: [{asset_id, path}]}.  Errors: OTCM_EINVAL
 * naming "body" (not JSON) or the JSON pointer at fault, OTCM_ERULE
 * "advisory-revision" (409) naming /document/tracking/version.
 */
int dom_advisory_import(json_t **out, const struct dom *d, const char *bytes, size_t len,
			const char *source, const char *file_name);

/* All advisories, {items: [...]}, newest release first (OP_ADVISORY_READ). */
int dom_advisory_list(json_t **out, const struct dom *d);

/*
 * Advisory `tracking_id` with its summary, products and the assets it
 * concerns (storage/advisories.h: advisories_get).  OTCM_ENOTFOUND naming
 * "advisory".
 */
int dom_advisory_read(json_t **out, const struct dom *d, const char *tracking_id);

/*
 * The document of advisory `tracking_id` exactly as imported: *out (len
 * *out_len) and *out_sha256 live in the context's arena.
 */
int dom_advisory_document(const char **out, size_t *out_len, const char **out_sha256,
			  const struct dom *d, const char *tracking_id);

/*
 * What concerns asset `asset_id` (0: every asset) below `prefix` (NULL:
 * everywhere) (OP_ADVISORY_READ): *out = {items: [{asset_id, path,
 * tracking_id, title, severity, cvss, cves, products, undecided,
 * matched_at, due_at, overdue, assessment}], assets, advisories, exposed
 * (not assessed, affected or under investigation), overdue, unassessed}.  OTCM_ENOTFOUND naming "id" for an unknown asset,
 * OTCM_EINVAL naming "prefix".
 */
int dom_exposure(json_t **out, const struct dom *d, int64_t asset_id, const char *prefix);

/*
 * Recompute the matches of asset `asset_id` against every advisory in c's
 * open transaction, after its inventory moved.  No permission check: the
 * caller's operation has checked its own.
 */
int dom_advisory_match_asset(const struct dom *d, struct db_conn *c, int64_t asset_id);

/* Days to the due date of a match of `severity` by the configured policy. */
unsigned dom_advisory_due_days(const struct dom *d, const char *severity);

#endif
