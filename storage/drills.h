/*
 * storage/drills.h - the record store of restore drills (table drills,
 * schema/0010_drills.sql): append a signed record, list them, find the
 * newest.  The rules (what a drill checks, who may record one) are in
 * domain/drills.h.
 *
 * Errors: as db.h.  Thread-safety: as the connection.
 */
#ifndef OTCM_STORAGE_DRILLS_H
#define OTCM_STORAGE_DRILLS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/json.h"
#include "storage/db.h"

struct drill_row {
	const char *backup_finished_at;   /* ISO 8601 */
	bool ok;
	int64_t recovery_time_ms;
	int64_t recovery_point_ms;        /* < 0: none (the backup held no events) */
	const char *record;               /* the signed JSON text */
	const char *key_id;
	const char *signature;
};

/* Append `row` in c's open transaction; *out_id gets its id. */
int drills_insert(int64_t *out_id, struct db_conn *c, const struct drill_row *row);

/*
 * The newest `limit` drills, newest first: [{id, recorded_at, ok,
 * recovery_time_ms, recovery_point_ms, backup_finished_at, record,
 * key_id, signature}].  *out is owned by the caller.
 */
int drills_list(json_t **out, struct db_conn *c, unsigned limit);

/*
 * The newest drill that passed, recorded at or before `as_of` (a
 * timestamp; NULL or a time still to come: now, the database's clock):
 * *out_age_s gets the seconds from it to as_of and *out_at its time (ISO
 * 8601, malloc'd); -1 and NULL when none did.
 */
int drills_newest_passed(int64_t *out_age_s, char **out_at, struct db_conn *c, const char *as_of);

/*
 * The drills recorded in [from, to), oldest first, as drills_list() rows
 * without the record and signature: [{id, recorded_at, ok,
 * recovery_time_ms, recovery_point_ms, backup_finished_at, key_id}].
 */
int drills_in_period(json_t **out, struct db_conn *c, const char *from, const char *to);

#endif
