/*
 * storage/evidence.h - the records of a change that its evidence bundle
 * needs and no other store reads: every version written on the change and
 * the audit events about it.  This module reads; it does not decide.
 *
 * Errors: as db.h; OTCM_ETOOBIG for a change with more events than a
 * bundle holds; OTCM_EINTERNAL when a result cannot be decoded.
 * Thread-safety: as the connection.
 */
#ifndef OTCM_STORAGE_EVIDENCE_H
#define OTCM_STORAGE_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include "core/json.h"
#include "storage/db.h"

/* Most audit events one bundle carries. */
#define EVIDENCE_MAX_EVENTS 100000

/*
 * Every version written on change `change_id`, oldest first, as a JSON
 * array of {asset_id, path, commit, tree, uploaded_by, uploaded_at}.
 */
int evidence_versions(json_t **out, struct db_conn *c, int64_t change_id);

/*
 * The sequence numbers of the audit events about change `change_id`,
 * oldest first: the change itself (object "change" "CHG-<id>"), its test
 * runs and the versions written on it.  Evidence exports are events of
 * their own object type and are left out, so exporting does not change the
 * next export.  *out (free()) holds *out_n numbers; *out_at gets the newest
 * event's time (seconds since the epoch, 0 when there is none).
 */
int evidence_event_seqs(int64_t **out, size_t *out_n, int64_t *out_at, struct db_conn *c,
			int64_t change_id);

#endif
