/*
 * storage/reports.h - the records behind the reports of a period
 * (docs/evidence.md): the population of changes, the exceptions to the
 * change process, and which checkpoints bound the period.
 *
 * Periods are [from, to) given as RFC 3339 texts the caller has checked
 * (core/timeutil.h, time_parse_rfc3339).  Results are JSON (owned by the
 * caller) with times in RFC 3339 UTC from the database server's clock.
 * This module reads; it does not decide.
 *
 * Errors: as db.h; OTCM_EINTERNAL when a result cannot be decoded.
 * Thread-safety: as the connection.
 */
#ifndef OTCM_STORAGE_REPORTS_H
#define OTCM_STORAGE_REPORTS_H

#include <stdint.h>

#include "core/json.h"
#include "storage/db.h"

/*
 * Every change open at some time in [from, to), oldest first: {key, type,
 * state, title, created_at, updated_at, deployed_at, released_at,
 * requester, implementers[], approvers[], testers[], assets[], trees[]}.
 */
int reports_population(json_t **out, struct db_conn *c, const char *from, const char *to);

/*
 * The exceptions of [from, to): {deployments_without_approval,
 * overdue_emergency_changes, refused_self_approvals, stale_approvals,
 * readback_mismatches, releases_outside_window}, each an array.
 */
int reports_exceptions(json_t **out, struct db_conn *c, const char *from, const char *to);

/*
 * The size of the newest checkpoint signed at or before `from`, else of
 * the oldest there is; 0 when none was signed.
 */
int reports_start_checkpoint(uint64_t *out, struct db_conn *c, const char *from);

/*
 * The newest event before `to` that a report may need: every event but the
 * exports of reports and evidence themselves (object types "report" and
 * "evidence"), so reading does not make the next report need a newer
 * checkpoint.  0 when there is none.
 */
int reports_needed_event(uint64_t *out, struct db_conn *c, const char *to);

#endif
