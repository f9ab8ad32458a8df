/*
 * domain/evidence.h - exporting a change's evidence bundle
 * (docs/evidence.md): the records of the change gathered into the files
 * of domain/bundle.h, sealed with the server's key.
 *
 * The bundle is proved against the smallest checkpoint that signs the
 * change's newest event, signed first when none does (after verifying the
 * trail from the newest checkpoint on), so downloading twice while nothing
 * about the change happened gives the same bytes.  Every export is an audit
 * event (evidence.export, object type "evidence", with the bundle's
 * SHA-256), written in the transaction that read the records; exports are
 * not part of any bundle.
 *
 * Thread-safety: per context.
 */
#ifndef OTCM_DOMAIN_EVIDENCE_H
#define OTCM_DOMAIN_EVIDENCE_H

#include "core/buf.h"
#include "core/crypto.h"
#include "domain/domain.h"
#include "storage/db.h"

/*
 * The bundle of change `key` ("CHG-n") into out (initialised here, its cap
 * twice --max-upload-bytes; release it with buf_release) and its SHA-256
 * as hex into out_sha256.
 * Errors: OTCM_EAUTH / OTCM_EFORBIDDEN (dom_permit), OTCM_ENOTFOUND naming
 * "key" for an unknown change, OTCM_ERULE (rule "audit-trail-intact") when
 * the trail does not verify, OTCM_ETOOBIG past the cap, as storage/.
 */
int dom_evidence_export(struct buf *out, char out_sha256[2 * CRYPTO_SHA256_LEN + 1],
			const struct dom *d, const char *key);

/*
 * The evidence bundle of incident `key` ("INC-n", OP_INCIDENT_EVIDENCE)
 * into out, as dom_evidence_export() does for a change and in the same
 * format (domain/bundle.h; docs/incidents.md lists its files):
 * incident.json (the record with its reporting deadlines as of its newest
 * event), reports/ID-NAME (each report's document as sent), the
 * incident's audit events and those it links with their inclusion proofs,
 * a DSSE statement per review signature, sealed with the server's key.
 * Audited as incident.evidence.  Errors as dom_evidence_export().
 */
int dom_incident_evidence_export(struct buf *out, char out_sha256[2 * CRYPTO_SHA256_LEN + 1],
				 const struct dom *d, const char *key);

/*
 * Building blocks of the operations that carry bundles or checklists of
 * several changes (domain/samples.h, domain/reports.h), which check
 * permission and write their audit event themselves; none of these does.
 */

/* The sequence number of change `change_id`'s newest event (0: none), on any connection. */
int dom_evidence_newest_event(uint64_t *out, struct db_conn *c, int64_t change_id);

/*
 * Append the bundle of change `change_id` to out (initialised by the
 * caller) as dom_evidence_export() builds it, but proved against the
 * checkpoint of `tree_size` (which must sign the change's newest event),
 * reading in c's open transaction.
 */
int dom_evidence_bundle(struct buf *out, const struct dom *d, struct db_conn *c, int64_t change_id,
			uint64_t tree_size);

/*
 * The control checklists (domain/checklist.h) of the changes `keys` (an
 * array of "CHG-n"), each decided from the records its bundle would hold
 * with its events proved against the checkpoint of `tree_size` (which must
 * sign every one of their events); the proofs of all of them are computed
 * in one pass over the trail.  *out (owned by the caller) is an array of
 * {key, checklist} in the order of keys.  Reads in c's open transaction.
 */
int dom_evidence_checklists(json_t **out, struct db_conn *c, const json_t *keys, uint64_t tree_size);

#endif
