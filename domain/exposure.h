/*
 * domain/exposure.h - exporting what runs on an asset or a site and the
 * vulnerabilities that concern it: CycloneDX 1.5 JSON (a device component
 * per asset with its firmware as a sub-component, and the vulnerabilities
 * with their ratings and the plant's analysis), or a CSAF 2.0 VEX document
 * (which passes csaf_validate(), domain/csaf.h) (docs/patch.md).
 *
 * Thread-safety: per context (one request on one thread).
 */
#ifndef OTCM_DOMAIN_EXPOSURE_H
#define OTCM_DOMAIN_EXPOSURE_H

#include <stdint.h>

#include "domain/domain.h"

/*
 * Export asset `asset_id` (or, 0, every asset below `prefix`) as `format`
 * "cyclonedx" or "csaf-vex" (OP_EXPOSURE_EXPORT); *out is the document
 * (the caller's).  Besides the advisories that concern the assets now, the
 * assessments of advisories that no longer match (fixed by an update) are
 * stated.  OTCM_EINVAL naming "format" or "prefix", OTCM_ENOTFOUND naming
 * "id" or "prefix" (no asset there), OTCM_ERULE "vex-nothing-to-state"
 * (409, field "format") for a VEX document with no vulnerability to state.
 */
int dom_exposure_export(json_t **out, const struct dom *d, int64_t asset_id, const char *prefix,
			const char *format);

#endif
