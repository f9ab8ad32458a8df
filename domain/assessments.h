/*
 * domain/assessments.h - the plant's decision on an advisory for an asset,
 * in the VEX vocabulary, signed as an electronic signature with meaning
 * "assessed" (docs/patch.md).
 *
 * Statuses: affected, not_affected (with a justification from the CSAF
 * flags: component_not_present, vulnerable_code_not_present,
 * vulnerable_code_not_in_execute_path,
 * vulnerable_code_cannot_be_controlled_by_adversary,
 * inline_mitigations_already_exist), fixed, under_investigation.  Signing
 * needs the password again (and a one-time code when enrolled), like every
 * signature (domain/signing.h); the signed text is the canonical JSON of
 * the advisory (tracking id, version, SHA-256 of its document), the asset
 * and its inventory, and the decision.
 *
 * Thread-safety: per context (one request on one thread).
 */
#ifndef OTCM_DOMAIN_ASSESSMENTS_H
#define OTCM_DOMAIN_ASSESSMENTS_H

#include <stdint.h>

#include "domain/domain.h"

/*
 * Sign the assessment of advisory `tracking_id` on asset `asset_id`
 * (OP_ASSESSMENT_SIGN): `in` is {status, justification?, impact?,
 * controls?, password, totp_code?}.  Rules: justification is required for
 * not_affected and refused otherwise (field "justification"); an affected
 * asset names its compensating controls (rule "assessment-controls", field
 * "controls"); only an advisory that concerns the asset now, or one
 * assessed before, can be assessed (rule "assessment-not-matched", field
 * "advisory"); impact and controls at most 4000 characters.  *out =
 * {assessment, signature}.  Audited as "assessment.sign"; refusals as
 * "assessment.refused".  OTCM_EAUTH naming "password" or "totp_code" when
 * re-authentication fails.
 */
int dom_assessment_sign(json_t **out, const struct dom *d, const char *tracking_id, int64_t asset_id,
			const json_t *in);

/*
 * The assessment of advisory `tracking_id` on asset `asset_id`
 * (OP_ADVISORY_READ): *out = {tracking_id, asset_id, path, match (the
 * exposure row, or null), assessment (or null), signatures: [...]}.
 */
int dom_assessment_read(json_t **out, const struct dom *d, const char *tracking_id, int64_t asset_id);

/*
 * Inside the caller's open transaction on `c`: mark the assessment of the
 * advisory whose CSAF /document/tracking/id is `advisory_id` on asset
 * `asset_id` (a decimal id) fixed by the released change `change_key`,
 * creating it when absent, with an "assessment.fixed" audit event.  For
 * the release of a firmware update, which checks its own permission and
 * rules.  OTCM_ENOTFOUND naming "advisory" or "id", OTCM_EINVAL naming
 * "change_key" when it is empty.
 */
int dom_assessment_fixed_by_change(const struct dom *d, struct db_conn *c, const char *advisory_id, const char *asset_id, const char *change_key);

#endif
