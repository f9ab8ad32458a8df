/*
 * domain/incidents.h - cyber incidents and their reporting under NIS2
 * Art. 23 (docs/incidents.md).
 *
 * An incident (key "INC-n") records what happened (title, category,
 * severity, description, the affected assets), when it was recorded
 * (detected_at) and when it was judged significant (significant_at), both
 * from the server's clock.  From significance follow the reporting
 * deadlines of Art. 23(4): an early warning within 24 hours, an incident
 * notification within 72 hours, and a final report within one month of
 * the notification (or, when a progress report was sent because the
 * incident was still being handled, within one month of closing it).
 * Each report sent to an authority is recorded with its document and the
 * document's SHA-256; links tie the incident to audit events (drift,
 * refusals), emergency changes and test runs; an approver signs the
 * post-incident review with re-authentication, as every signature.  An
 * incident closes only once reviewed and, when significant, with its
 * final report sent.
 *
 * Every operation checks its permission (domain/ops.h) first, writes its
 * audit event (object type "incident", object id the key) in the
 * transaction of its writes, and audits its refusals; business rules are
 * named (err_rule()).
 *
 * Errors: OTCM_EAUTH / OTCM_EFORBIDDEN (dom_permit), OTCM_EINVAL naming
 * the field, OTCM_ENOTFOUND naming "key", OTCM_ERULE naming the rule,
 * OTCM_ETOOBIG, as storage/.
 * Thread-safety: per context; the pure functions are thread-safe.
 */
#ifndef OTCM_DOMAIN_INCIDENTS_H
#define OTCM_DOMAIN_INCIDENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/json.h"
#include "domain/domain.h"
#include "domain/runs.h"

/* The deadlines of Art. 23(4), in seconds (the month is a calendar month). */
#define INCIDENT_EARLY_WARNING_S (24 * 3600)
#define INCIDENT_NOTIFICATION_S (72 * 3600)

/*
 * The reporting deadlines of an incident as a list of {obligation
 * ("early_warning", "notification", "final_report"), article, due_at (RFC
 * 3339, or null while it cannot be known), basis (what the due time counts
 * from), met_by (the kind of the report that met it, or null), sent_at
 * (or null), status ("met", "late", "overdue", "pending"), seconds_left
 * (due minus now while pending, else null)}, from `incident`'s
 * significant_at, closed_at and reports [{kind, sent_at}] (as the
 * incident reads or the list gives them) at `now_us` (microseconds since
 * the epoch).  [] for an incident not judged significant.  Pure: no
 * database, no permission.  *out belongs to the caller.
 */
int dom_incident_deadlines(json_t **out, const json_t *incident, int64_t now_us);

/* Add `months` calendar months to `us` (clamping the day to the month's last), in microseconds. */
int64_t dom_incident_add_months(int64_t us, int months);

/*
 * Record an incident (OP_INCIDENT_CREATE): `in` is {title, category,
 * severity (low, medium, high, critical), description?, assets? [asset
 * ids], significant? (true: judged significant now)}.  Categories are
 * listed in docs/incidents.md.  *out gets the incident as
 * dom_incident_read() gives it.
 */
int dom_incident_create(json_t **out, const struct dom *d, const json_t *in);

/*
 * Incidents, newest first (OP_INCIDENT_READ): {items: [rows with their
 * deadlines and "overdue" (how many are overdue)], now}; `open_only`
 * leaves closed ones out.  At most `limit` (1 to 500) rows before id
 * `before` (0: from the newest).
 */
int dom_incident_list(json_t **out, const struct dom *d, bool open_only, unsigned limit, int64_t before);

/* Incident `key` with its assets, reports, links, reviews and deadlines (OP_INCIDENT_READ). */
int dom_incident_read(json_t **out, const struct dom *d, const char *key);

/*
 * Change incident `key` (OP_INCIDENT_UPDATE): `in` may hold title,
 * category, severity, description, assets (replacing the list),
 * significant (only true: judged significant now; it cannot be taken
 * back, rule "incident-significance-final") and state ("closed": rules
 * "incident-review-missing" and, when significant,
 * "incident-final-report-missing").  A closed incident refuses every
 * change (rule "incident-closed").  *out: the incident.
 */
int dom_incident_update(json_t **out, const struct dom *d, const char *key, const json_t *in);

/* A report sent to an authority, as the door read it (strings borrowed). */
struct dom_incident_report {
	const char *kind;        /* early_warning, notification, intermediate, progress, final */
	const char *authority;   /* the CSIRT or competent authority it went to */
	const char *reference;   /* the authority's reference, may be NULL */
	const struct dom_file *files;
	size_t nfiles;           /* exactly one document */
};

/*
 * Record that report `r` was sent for incident `key` now (OP_INCIDENT_REPORT),
 * with its document (at most --max-attachment bytes) and the document's
 * SHA-256.  A final report needs a notification first (rule
 * "incident-notification-first"); reports need a significant incident
 * (rule "incident-not-significant").  *out gets the report.
 */
int dom_incident_report(json_t **out, const struct dom *d, const char *key,
			const struct dom_incident_report *r);

/* The document of report `report_id` of incident `key` (OP_INCIDENT_READ). */
int dom_incident_report_document(struct dom_attachment *out, const struct dom *d, const char *key,
				 const char *report_id);

/*
 * Link incident `key` to an audit event, a change or a test run
 * (OP_INCIDENT_LINK): `in` is {kind (audit_event, change, test_run,
 * readback), ref (the event's seq, "CHG-n", the run's or the read-back's
 * id), note?}.  What it names must
 * exist (OTCM_ENOTFOUND naming "ref"); the same link twice is
 * OTCM_ECONFLICT.  *out gets the link.
 */
int dom_incident_link(json_t **out, const struct dom *d, const char *key, const json_t *in);

/*
 * Sign the post-incident review of incident `key` (OP_INCIDENT_REVIEW):
 * `in` is {meaning ("reviewed"), password, totp_code?, comment}.  What is
 * signed is the canonical JSON of the incident (its fields, assets,
 * reports with their SHA-256, links) and the comment, with the meaning
 * and the signer.  *out gets the signature.
 */
int dom_incident_review(json_t **out, const struct dom *d, const char *key, const json_t *in);

/*
 * For the reports of a period [from, to) on c (a report's transaction; no
 * permission of its own): the incidents the period concerns with their
 * deadlines as of `to` (or now, when earlier), for the population.
 */
int dom_incident_population(json_t **out, struct db_conn *c, const char *from, const char *to);

/*
 * The exceptions: [{rule "incident-report-overdue" or
 * "incident-report-late", incident, title, obligation, due_at, sent_at,
 * why}] for every deadline of those incidents that had passed by `to` (or
 * now) unmet, or was met late within the period.
 */
int dom_incident_exceptions(json_t **out, struct db_conn *c, const char *from, const char *to);

/* "INC-12" -> 12; OTCM_ENOTFOUND naming "key" otherwise. */
int dom_incident_parse_key(int64_t *out, const char *key);

#endif
