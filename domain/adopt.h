/*
 * domain/adopt.h - accepting a drift: a device's read-back adopted as an
 * asset's version under a change (docs/readbacks.md).
 *
 * Apart from domain/readbacks.h because it writes through the versions'
 * upload (domain/versions.h), which itself reaches the change process.
 *
 * Thread-safety: per context (one request on one thread).
 */
#ifndef OTCM_DOMAIN_ADOPT_H
#define OTCM_DOMAIN_ADOPT_H

#include <stdint.h>

#include "core/json.h"
#include "domain/domain.h"

/*
 * Adopt read-back `id` of `asset` as the asset's new version under change
 * `in`.change (CHG-n): its files become the whole tree of the change's
 * branch, with the message naming the read-back, through the same upload
 * as any version (dom_version_upload: the change's state and rules, the
 * contributor record, "version.create").  This is how a drift is accepted:
 * the change then goes through approval (retrospectively for an emergency
 * change), test and release.  OTCM_EINVAL naming "change"; OTCM_ENOTFOUND
 * naming "readback" (also for a failed one, which has no files); the
 * change's refusals.  Needs OP_VERSION_UPLOAD (and OP_READBACK_READ).
 */
int dom_readback_adopt(json_t **out, const struct dom *d, int64_t asset, int64_t id, const json_t *in);

#endif
