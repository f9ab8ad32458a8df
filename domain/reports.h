/*
 * domain/reports.h - reports of a period for auditors (docs/evidence.md):
 * the population of changes and the exceptions to the change process.
 *
 * Both carry the signed checkpoints at the start and at the end of the
 * period and the consistency proof between them, so an auditor can tie the
 * report to the audit trail and check that the trail only grew in between.
 * The start checkpoint is the newest signed at or before `from` (else the
 * oldest there is); the end checkpoint is the smallest that signs every
 * event before `to` (clamped to now) that the report may need — the
 * exports of reports and evidence excluded — signed first when none does.
 * Every report verifies the trail from the newest checkpoint on
 * (storage/checkpoint.h, checkpoint_cover) and refuses, with rule
 * "audit-trail-intact", when it does not verify.  Every report is an audit
 * event (report.population, report.exceptions).
 *
 * Errors: OTCM_EAUTH / OTCM_EFORBIDDEN (dom_permit), OTCM_EINVAL naming
 * "from", "to" or "format", OTCM_ERULE, as storage/.
 * Thread-safety: per context.
 */
#ifndef OTCM_DOMAIN_REPORTS_H
#define OTCM_DOMAIN_REPORTS_H

#include <stdbool.h>

#include "domain/domain.h"

/*
 * The population of the period [from, to): {from, to, items,
 * restore_drills (the drills recorded in the period, domain/drills.h),
 * incidents (those detected in the period or whose reporting ran in it,
 * with their deadlines as of `to`, domain/incidents.h),
 * start_checkpoint, end_checkpoint, consistency_proof}.  from and to are
 * RFC 3339 dates or date-times as given (core/timeutil.h,
 * time_parse_rfc3339), from not after to; they come back normalised.
 * `format` ("json", "csv" or NULL for json) is the form the caller renders
 * it in, recorded in the audit event.  *out belongs to the caller.
 */
int dom_report_population(json_t **out, const struct dom *d, const char *from, const char *to,
			  const char *format);

/*
 * The population report as dom_report_population() gives it, for an
 * operation that carries one (domain/samples.h) and has checked
 * permission: no audit event of its own.  c is an idle connection, left
 * with the transaction the report was read in open for the caller's audit
 * event and commit.
 */
int dom_report_population_in(json_t **out, const struct dom *d, struct db_conn *c, const char *from,
			     const char *to);

/*
 * The exceptions of the period [from, to): {from, to,
 * deployments_without_approval, overdue_emergency_changes,
 * refused_self_approvals, stale_approvals, readback_mismatches,
 * releases_outside_window, missing_restore_drills (none passed within
 * --drill-max-age-days before `to`), overdue_incident_reports (NIS2
 * reports overdue at `to` or sent late in the period, domain/incidents.h),
 * affected_assessments and
 * overdue_assessments (advisories: assets assessed affected, and matches
 * past their due date without a fixed or not_affected assessment, as they
 * stand now up to `to`; storage/advisories.h), control_effectiveness (per control of
 * the checklist, domain/checklist.h: how many of the population's changes
 * met it, did not, or to which it did not apply, with every exception and
 * its change; checklist_effectiveness), start_checkpoint, end_checkpoint,
 * consistency_proof}.  *out belongs to the caller.
 */
int dom_report_exceptions(json_t **out, const struct dom *d, const char *from, const char *to);

/* What dom_report_check() found; the sentences are static text. */
struct dom_report_check {
	bool verified;                  /* both checkpoints and the consistency proof hold */
	const char *start_problem;      /* why the start checkpoint does not verify, or NULL */
	const char *end_problem;
	const char *consistency_problem;
};

/*
 * Check a report as dom_report_population() or dom_report_exceptions()
 * gave it, the way an auditor would offline: both checkpoints' signed
 * notes against the server's key and against what the report says of
 * them, and the consistency proof between them.  Reads only `report` and
 * the key; no permission is needed to check what one already holds.
 */
void dom_report_check(struct dom_report_check *out, const struct dom *d, const json_t *report);

/*
 * The same check against the public key `pub` (CRYPTO_ED25519_PUB_LEN
 * bytes; NULL: none, and both checkpoints fail), for verifiers that hold
 * no private key (`otcm verify` of a sample archive).  Pure; thread-safe.
 */
void report_check_key(struct dom_report_check *out, const unsigned char *pub, const json_t *report);

#endif
