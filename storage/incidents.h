/*
 * storage/incidents.h - the record store of cyber incidents (tables
 * incidents, incident_assets, incident_reports, incident_links and
 * incident_reviews, schema/0045_incidents.sql): the incident, the assets
 * it affects, each report sent with its document, its links to audit
 * events, changes and test runs, and its signed review.
 *
 * This module stores and reads; the rules (who may, when, the NIS2
 * deadlines) are in domain/incidents.h.  Records come back as JSON
 * objects owned by the caller, times as RFC 3339 UTC with milliseconds
 * from the database server's clock.  Writes belong in the caller's
 * transaction with their audit event, on an incident locked with
 * incidents_lock().
 *
 * Errors: OTCM_ENOTFOUND, OTCM_EDB, OTCM_ERETRY.
 * Thread-safety: as the connection.
 */
#ifndef OTCM_STORAGE_INCIDENTS_H
#define OTCM_STORAGE_INCIDENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/json.h"
#include "storage/db.h"

/* The fields of an incident a caller sets; NULL leaves one as it is on update. */
struct incident_fields {
	const char *title, *category, *severity, *description;
};

/*
 * Create an incident detected now, judged significant now when
 * `significant`, recorded by `user_id`; *out_id gets its id.
 */
int incidents_insert(int64_t *out_id, struct db_conn *c, const struct incident_fields *f,
		     bool significant, int64_t user_id);

/* Lock incident `id` for the rest of the transaction; OTCM_ENOTFOUND when it does not exist. */
int incidents_lock(struct db_conn *c, int64_t id);

/* Set the fields of `f` that are not NULL. */
int incidents_update(struct db_conn *c, int64_t id, const struct incident_fields *f);

/* Record that incident `id` was judged significant now (when it was not yet). */
int incidents_mark_significant(struct db_conn *c, int64_t id);

/* Close incident `id` now. */
int incidents_close(struct db_conn *c, int64_t id);

/* How many of the n asset ids exist; *out gets the count of distinct existing ones. */
int incidents_assets_existing(size_t *out, struct db_conn *c, const int64_t *ids, size_t n);

/* Replace the affected assets of incident `id` with the n given (existing, distinct). */
int incidents_set_assets(struct db_conn *c, int64_t id, const int64_t *ids, size_t n);

/*
 * Incident `id` as {id, key, title, category, severity, description,
 * detected_at, significant_at (or null), state, closed_at, created_by,
 * created_at, now, assets [{id, path}], reports [{id, kind, authority,
 * reference, sent_at, sent_by, filename, content_type, size, sha256}],
 * links [{id, kind, ref, note, linked_by, linked_at}], reviews [{id,
 * meaning, signer, printed_name, role, reauthenticated_with, signed_at,
 * content, content_sha256}]}; "now" is the database's clock.
 */
int incidents_get(json_t **out, struct db_conn *c, int64_t id);

/*
 * Incidents, newest first, at most `limit` after id `before` (0: from the
 * newest), `open_only` to leave closed ones out: [{id, key, title,
 * category, severity, detected_at, significant_at, state, closed_at,
 * assets (count), reports [{kind, sent_at}], reviewed (bool)}].
 */
int incidents_list(json_t **out, struct db_conn *c, bool open_only, unsigned limit, int64_t before);

/*
 * The incidents a report of [from, to) needs: those detected before `to`
 * and either detected in the period or judged significant before `to`
 * and not closed before `from`; rows as incidents_list() with
 * only reports sent before `to`.
 */
int incidents_for_period(json_t **out, struct db_conn *c, const char *from, const char *to);

/* A report sent for incident `id`; the document's bytes stored with it. */
struct incident_report_row {
	const char *kind, *authority, *reference, *filename, *content_type, *sha256;
	const void *data;
	size_t len;
	int64_t sent_by;
};

/* Record report `r` of incident `id`, sent now; *out gets it as in incidents_get(). */
int incidents_report_insert(json_t **out, struct db_conn *c, int64_t id,
			    const struct incident_report_row *r);

/*
 * The document of report `report_id` of incident `id`: *out_data (malloc'd,
 * the caller frees), its length, and *out_meta {filename, content_type,
 * sha256}.  OTCM_ENOTFOUND when there is no such report.
 */
int incidents_report_content(void **out_data, size_t *out_len, json_t **out_meta, struct db_conn *c,
			     int64_t id, int64_t report_id);

/* Does the thing a link of `kind` names exist (an audit event's seq, CHG-n, a run's or read-back's id)? */
int incidents_ref_exists(bool *out, struct db_conn *c, const char *kind, const char *ref);

/* Record a link; OTCM_ECONFLICT when the same link exists.  *out gets it. */
int incidents_link_insert(json_t **out, struct db_conn *c, int64_t id, const char *kind, const char *ref,
			  const char *note, int64_t user_id);

/* A signed review of an incident. */
struct incident_review_row {
	const char *meaning, *printed_name, *role, *auth_method, *content, *content_sha256;
	int64_t signer_id;
};

/* Record review `r` of incident `id`, signed now; *out gets it as in incidents_get(). */
int incidents_review_insert(json_t **out, struct db_conn *c, int64_t id,
			    const struct incident_review_row *r);

/*
 * The audit events an incident's evidence holds, by seq ascending: its own
 * (object type "incident", object id "INC-n") and those it links by seq.
 * *out (malloc'd, the caller frees) holds *out_n seqs; *out_at the time of
 * the newest of them (Unix seconds).
 */
int incidents_event_seqs(int64_t **out, size_t *out_n, int64_t *out_at, struct db_conn *c, int64_t id);

#endif
