/*
 * domain/samples.h - an auditor's random samples of a period's population
 * of changes, and the one archive that carries a sample's evidence
 * (docs/evidence.md, "Sampling a period").
 *
 * A sample is drawn from the population report of a period that has ended
 * (domain/reports.h) with a seed, given or generated from the CSPRNG, by a
 * deterministic algorithm anyone can redo from the seed and the population
 * report (SAMPLE_ALGORITHM):
 *
 *     the population's keys ordered by change number;
 *     each key's score: SHA-256 of the UTF-8 text  seed ":" key, in hex;
 *     the `size` keys of smallest score (all of them when the population
 *     is smaller), listed by change number.
 *
 * The sample, its seed and the population's SHA-256 (of its keys in change
 * number order, each followed by a newline) are recorded (table samples)
 * and audited (sample.draw).  Its archive (sample-ID.tar) holds
 *
 *     sample.json         the sample's record
 *     population.json     the period's population report with its
 *                         checkpoints and their consistency proof
 *     effectiveness.json  per control of the checklist, over the sampled
 *                         changes (domain/checklist.h, checklist_effectiveness)
 *     changes/KEY.tar     each sampled change's evidence bundle
 *                         (domain/evidence.h), every one proved against
 *                         the same checkpoint
 *     README.txt, trust/server.pub, MANIFEST.sha256, MANIFEST.sha256.sig
 *                         sealed as the bundles are (domain/bundle.h)
 *
 * and sample_verify() checks it offline, as `otcm verify` does.
 *
 * Errors: OTCM_EAUTH / OTCM_EFORBIDDEN (dom_permit), OTCM_EINVAL naming the
 * field, OTCM_ENOTFOUND naming "id", OTCM_ERULE ("period-not-ended",
 * "audit-trail-intact", "sample-population-changed"), as storage/.
 * Thread-safety: per context; the pure functions are thread-safe.
 */
#ifndef OTCM_DOMAIN_SAMPLES_H
#define OTCM_DOMAIN_SAMPLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/json.h"
#include "domain/domain.h"

#define SAMPLE_ALGORITHM "otcm-sample/1"
#define SAMPLE_MAX_SIZE 1000
#define SAMPLE_SEED_MAX 128

/*
 * The population's SHA-256 (hex into out) and its keys ordered by change
 * number (*out_sorted, a new array): `keys` is an array of "CHG-n"
 * strings.  OTCM_EINVAL (field "keys") when one is not a change key.
 */
int sample_population(json_t **out_sorted, char out[2 * CRYPTO_SHA256_LEN + 1], const json_t *keys);

/*
 * Draw: the keys of `population` (an array of change keys) that the
 * algorithm above picks with `seed` and `size`, as a new array in change
 * number order.  OTCM_EINVAL (field "keys") for a malformed population.
 */
int sample_draw(json_t **out, const json_t *population, const char *seed, size_t size);

/* Whether the tar (untrusted) is a sample archive (it holds sample.json). */
bool sample_archive_is(const void *tar, size_t len);

/*
 * Check a sample archive (untrusted bytes) offline: its manifest and
 * signature (`trusted` pins the key; NULL uses trust/server.pub and says
 * so), the population report's checkpoints and consistency proof, that
 * the population is the one the sample was drawn from and the seed gives
 * exactly the sampled changes, every inner bundle with bundle_verify()
 * under the same key (a bundle whose only failed checks are the
 * change-process policy's is authentic: its change's findings are
 * reported, and are no failure of the archive), and effectiveness.json
 * against the inner bundles' checklists.  One line per check is appended to `report`; a failed
 * check names the member.  Returns 0 when every check passed, OTCM_EAUTH
 * when any failed.  repo_global_init() (storage/repo.h) must have run.
 */
int sample_verify(struct buf *report, const void *tar, size_t len, const unsigned char *trusted);

/*
 * Draw a sample: body {from, to, size, seed?} (no other member).  from and
 * to as the population report takes them, and `to` must have passed (rule
 * "period-not-ended": a population still growing cannot be redrawn); size
 * 1..SAMPLE_MAX_SIZE; seed 1..SAMPLE_SEED_MAX characters of [A-Za-z0-9._-],
 * else 32 random bytes in hex.  Recorded with an audit event (sample.draw)
 * in one transaction.  *out gets the sample's record.
 */
int dom_sample_draw(json_t **out, const struct dom *d, const json_t *body);

/* Sample `id`'s record. */
int dom_sample_get(json_t **out, const struct dom *d, int64_t id);

/* {items: the newest samples first (at most 200)}. */
int dom_sample_list(json_t **out, const struct dom *d);

/*
 * Sample `id`'s archive into out (initialised here, its cap twice
 * --max-upload-bytes; buf_release it) and its SHA-256 as hex into
 * out_sha256; audited (sample.export, object type "evidence").  The same
 * sample gives the same bytes while nothing about its changes happens.
 */
int dom_sample_evidence(struct buf *out, char out_sha256[2 * CRYPTO_SHA256_LEN + 1], const struct dom *d,
			int64_t id);

#endif
