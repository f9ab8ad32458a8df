/*
 * domain/drills.h - restore drills: what a drill must find in a restored
 * backup for it to count, and the signed record of each drill.
 *
 * `otcm drill` (server/cmd_backup.c) restores a backup into a scratch
 * cluster and measures it (storage/backup.h); dom_drill_assess() turns the
 * measurements into named checks, and dom_drill_record() signs the result
 * with the server's key and appends it to the drills table with its audit
 * event.  A drill whose checks fail is recorded too, as failed: the record
 * is the evidence either way.
 *
 * Thread-safety: as the context (domain.h).
 */
#ifndef OTCM_DOMAIN_DRILLS_H
#define OTCM_DOMAIN_DRILLS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/json.h"
#include "domain/domain.h"

/* What a drill measured in the restored database (all borrowed). */
struct drill_probe {
	const json_t *restored;        /* backup_snapshot() of the restored database */
	bool chain_ok;                 /* the audit hash chain recomputes */
	uint64_t events_chained;
	const char *chain_problem;     /* first problem, or NULL */
	bool have_key;                 /* the backup had the key that signs checkpoints */
	bool checkpoints_ok;
	uint64_t checkpoints_checked;
	const char *checkpoint_problem;
	uint64_t git_checked;          /* objects rehashed */
	uint64_t git_bad;              /* whose id did not match */
	const char *git_first_bad;
	const char *hash_at_last_seq;  /* restored hash of the manifest's last event, or NULL */
	int64_t recovery_time_ms;      /* drill start to the restored database serving */
	int64_t recovery_point_ms;     /* backup end minus the newest restored event; < 0: none */
};

/*
 * The drill's record: {"backup": {started_at, finished_at, source, format},
 * "checks": [{name, ok, detail}], "ok", "recovery_time_ms",
 * "recovery_point_ms" (null when no events), "restored": counts}.  Checks:
 * audit-chain, checkpoints, git-objects, and per count (assets, versions,
 * changes, events, git_objects) that the restore holds at least what the
 * manifest's snapshot listed, and last-event: the event the snapshot named
 * has the same chain hash.  Pure: no database, no permission.  *out is owned
 * by the caller.
 */
int dom_drill_assess(json_t **out, const json_t *manifest, const struct drill_probe *probe);

/*
 * Sign `record` (from dom_drill_assess) with the server's key, append it to
 * the drills and audit it as "drill.record", in one transaction.  Needs
 * OP_DRILL_RECORD and d->key (OTCM_EINVAL, field "key", without one); a
 * record without "ok", "recovery_time_ms" or "backup.finished_at" is
 * OTCM_EINVAL naming the field.  *out: {id, ok, recovery_time_ms,
 * recovery_point_ms, key_id, signature}, owned by the caller.
 */
int dom_drill_record(json_t **out, const struct dom *d, const json_t *record);

/*
 * The newest `limit` drills and whether one is due (OP_DRILL_READ):
 * {"items": [drills_list() rows, newest first], "max_age_days":
 * cfg->drill_max_age_days, "last_passed_at": time or null, "overdue":
 * true when no drill passed within max_age_days}.  *out is the caller's.
 */
int dom_drill_list(json_t **out, const struct dom *d, unsigned limit);

/*
 * The restore-drill rule on c (a report's open transaction): *out is []
 * when a drill passed within `max_age_days` before `as_of` (the end of the
 * report's period; NULL: now), else [{"rule": "restore-drill-overdue",
 * "last_passed_at": time or null, "max_age_days", "as_of", "why"}], for
 * the exceptions report.  No permission of its own: the report's.
 */
int dom_drill_exceptions(json_t **out, struct db_conn *c, const char *as_of, unsigned max_age_days);

#endif
