/*
 * storage/advisories.h - security advisories (CSAF documents exactly as
 * imported, and what was read from them), their matches against assets,
 * and assessments with their signatures (schema/0041_advisories.sql).
 *
 * Every function runs on the caller's connection; writes belong in the
 * caller's transaction together with their audit event.  JSON returned
 * through **out belongs to the caller.  Times are RFC 3339 UTC.
 *
 * Errors: OTCM_ENOTFOUND (naming the field given in each contract),
 * OTCM_EDB.
 *
 * Thread-safety: as the connection.
 */
#ifndef OTCM_STORAGE_ADVISORIES_H
#define OTCM_STORAGE_ADVISORIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/json.h"
#include "storage/db.h"

/* A document as imported. */
struct advisory_document {
	const char *tracking_id;
	const char *sha256;            /* hex */
	const void *bytes;
	size_t len;
	const char *source;            /* "upload" or "folder" */
	const char *file_name;         /* may be NULL */
	int64_t user_id;               /* 0: the server itself */
	const char *username;
};

/*
 * Store a document; *out_id gets its row.  When the same bytes (SHA-256)
 * were imported before, nothing is written, *out_id is that row and
 * *out_existing is set.
 */
int advisories_document_insert(int64_t *out_id, bool *out_existing, struct db_conn *c,
			       const struct advisory_document *doc);

/* What was read from a document, to make it the advisory's current revision. */
struct advisory_record {
	const char *tracking_id, *title, *publisher, *version, *released_at, *severity;
	double cvss;                   /* < 0: none */
	const json_t *summary, *products;
	int64_t document_id;
};

/*
 * The current revision of advisory `tracking_id` for a newer import:
 * *out = {id, tracking_id, version, released_at, sha256} or NULL when
 * there is none yet; the row is locked until the transaction ends.
 */
int advisories_current(json_t **out, struct db_conn *c, const char *tracking_id);

/* Insert or replace the advisory `r->tracking_id`; *out_id gets its id. */
int advisories_put(int64_t *out_id, struct db_conn *c, const struct advisory_record *r);

/*
 * Advisory `tracking_id`: {id, tracking_id, title, publisher, version,
 * released_at, cvss, severity, sha256, document_id, imported_at,
 * updated_at, summary, products, assets: [{asset_id, path, products, cves,
 * cvss, severity, undecided, matched_at, due_at, assessment}]}.
 * OTCM_ENOTFOUND naming "advisory".
 */
int advisories_get(json_t **out, struct db_conn *c, const char *tracking_id);

/* The id of advisory `tracking_id`; OTCM_ENOTFOUND naming "advisory". */
int advisories_id(int64_t *out, struct db_conn *c, const char *tracking_id);

/* The current document's bytes (malloc'd, the caller frees) and SHA-256. */
int advisories_document(char **out, size_t *out_len, char **out_sha256, struct db_conn *c,
			const char *tracking_id);

/* All advisories, newest release first, without products and summaries: [{...}]. */
int advisories_list(json_t **out, struct db_conn *c);

/* Every advisory's {id, tracking_id, severity, summary, products}, for matching an asset. */
int advisories_for_matching(json_t **out, struct db_conn *c);

/* Every asset's {id, path, vendor, model, firmware, order_number, cpe, purl}. */
int advisories_assets(json_t **out, struct db_conn *c);

/*
 * Replace the matches of advisory `advisory_id` (asset_id 0) or of asset
 * `asset_id` (advisory_id 0) by `matches`: [{advisory_id or asset_id,
 * products, cves, cvss, severity, undecided, due_days}].  A match seen
 * before keeps when it was first seen and its due date (a shorter one
 * wins); matches no longer in the list are removed.
 */
int advisories_matches_replace(struct db_conn *c, int64_t advisory_id, int64_t asset_id,
			       const json_t *matches);

/*
 * The advisories matching the assets `asset_id` (0: all) below path
 * `prefix` (NULL: everywhere), with each asset's assessment:
 * [{asset_id, path, tracking_id, title, severity, cvss, cves, products,
 *   undecided, matched_at, due_at, overdue, assessment: {...} | null}]
 * by asset path, then severity.  overdue: due_at has passed and the
 * assessment is neither fixed nor not_affected.
 */
int advisories_exposure(json_t **out, struct db_conn *c, int64_t asset_id, const char *prefix);

/*
 * For the exceptions report as of `as_of` (RFC 3339; the server's now at
 * the latest): *out_affected lists the assessments that say affected,
 * *out_overdue the matches whose due date has passed without a fixed or
 * not_affected assessment: [{asset, advisory, title, severity, status,
 * controls, assessed_by, assessed_at, due_at}], by due date.
 */
int advisories_exceptions(json_t **out_affected, json_t **out_overdue, struct db_conn *c,
			  const char *as_of);

/*
 * The assessments of asset `asset_id` (0: all) below `prefix` (NULL:
 * everywhere) whose advisory no longer matches (typically fixed by an
 * update), as exposure rows (advisories_exposure) whose "cves" are every
 * vulnerability of the advisory's summary.
 */
int advisories_assessed_unmatched(json_t **out, struct db_conn *c, int64_t asset_id, const char *prefix);

/* An assessment as JSON, or NULL (not an error) when there is none; locked for update. */
int advisories_assessment_get(json_t **out, struct db_conn *c, int64_t advisory_id, int64_t asset_id,
			      bool for_update);

/* What an assessment says. */
struct assessment_record {
	int64_t advisory_id, asset_id;
	const char *status, *justification, *impact, *controls, *change_key;
	int64_t user_id;
	const char *username;
};

/* Insert or replace the assessment of (advisory, asset); *out_id gets its id. */
int advisories_assessment_put(int64_t *out_id, struct db_conn *c, const struct assessment_record *r);

/* A signature on assessment `assessment_id`, which then points at it. */
struct assessment_signature {
	int64_t assessment_id, signer_id;
	const char *printed_name, *role, *auth_method, *content, *content_sha256;
	bool second_factor_enrolled;
};

/* Record signature `s`; *out gets {id, meaning, signer, printed_name, role, signed_at, content_sha256}. */
int advisories_assessment_sign(json_t **out, struct db_conn *c, const struct assessment_signature *s);

/* The signatures of assessment `assessment_id`, oldest first, with their content. */
int advisories_assessment_signatures(json_t **out, struct db_conn *c, int64_t assessment_id);

#endif
