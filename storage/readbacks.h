/*
 * storage/readbacks.h - the records of device read-backs: the agents that
 * call in, each asset's read-back settings and schedule, and every
 * read-back with its metadata and comparison (schema/0030_readbacks.sql).
 * The files themselves are git commits on refs/readback/<source>
 * (storage/repo.h); this module stores and reads rows, it decides nothing.
 *
 * Records come back as JSON (owned by the caller), times as RFC 3339 UTC
 * from the database server's clock.  Writes belong in the caller's
 * transaction with their audit event.
 *
 * Errors: OTCM_ENOTFOUND, OTCM_ECONFLICT (an agent's sequence number used
 * twice), OTCM_EDB.
 *
 * Thread-safety: as the connection.
 */
#ifndef OTCM_STORAGE_READBACKS_H
#define OTCM_STORAGE_READBACKS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/json.h"
#include "storage/db.h"

/* Record that agent `user_id` called in now, with its version and host name (may be NULL). */
int readbacks_agent_touch(struct db_conn *c, int64_t user_id, const char *version,
			  const char *hostname);

/* Store the agent's Ed25519 public key (base64) that signs its offline files. */
int readbacks_agent_set_key(struct db_conn *c, int64_t user_id, const char *public_key_b64);

/*
 * The agents: [{id, username, version, hostname, public_key, first_contact_at,
 * last_contact_at, assets, readbacks, failures, last_failure}] where
 * failures counts failed read-backs of the last 7 days.
 */
int readbacks_agent_list(json_t **out, struct db_conn *c);

/* The agent's public key (base64, NUL-terminated in out) or OTCM_ENOTFOUND. */
int readbacks_agent_key(char out[64], struct db_conn *c, int64_t user_id);

/*
 * The settings of asset `asset_id`: {asset_id, agent_id, agent, interval_seconds,
 * daily_at, cron, after_deploy, max_age_seconds, normalise, due_at, due_reason,
 * due_deployment}.  An asset never configured gets the defaults with agent_id null.
 */
int readbacks_settings_get(json_t **out, struct db_conn *c, int64_t asset_id);

/*
 * Write the settings of `asset_id` from `s`, an object with every member of
 * readbacks_settings_get() but due_* (validated by the caller), and set the
 * next due time from the schedule.
 */
int readbacks_settings_put(struct db_conn *c, int64_t asset_id, const json_t *s);

/*
 * Make asset `asset_id` due now for `reason` ("on demand", "deployment");
 * deployment_id > 0 names the deployment the read-back will confirm.
 * *out_has_agent tells whether an agent is set to read the asset back.
 */
int readbacks_make_due(bool *out_has_agent, struct db_conn *c, int64_t asset_id,
		       const char *reason, int64_t deployment_id);

/*
 * The read-backs due for agent `agent_id`: [{job_id (the asset id), asset_id,
 * asset, reason, deployment_id}] at most `limit`, the longest due first.
 */
int readbacks_due(json_t **out, struct db_conn *c, int64_t agent_id, unsigned limit);

/*
 * After a read-back of `asset_id`: the next due time from the schedule
 * (interval, daily time) or none, and the due deployment cleared.
 */
int readbacks_schedule_next(struct db_conn *c, int64_t asset_id);

/*
 * The newest good read-back of `asset_id` by `source`: {id, commit, tree,
 * files, state, released_commit, comparison} or OTCM_ENOTFOUND.
 */
int readbacks_previous(json_t **out, struct db_conn *c, int64_t asset_id, const char *source);

/*
 * The key (CHG-n) of the newest change on `asset_id` in state approved,
 * deployed or sat whose head tree is `tree`, in out; "" when none.
 */
int readbacks_pending_change(char out[32], struct db_conn *c, int64_t asset_id, const char *tree);

/* The id of the asset at `path`, or OTCM_ENOTFOUND naming "asset". */
int readbacks_asset_by_path(int64_t *out, struct db_conn *c, const char *path);

/* One read-back to record. */
struct readback_row {
	int64_t asset_id, agent_id, agent_seq, duration_ms;   /* duration_ms < 0: unknown */
	int64_t deployment_id;                                /* 0: none */
	const char *source, *via, *collector;
	bool ok, unchanged;
	const char *error, *stderr_text;                      /* may be NULL */
	int exit_status;                                      /* INT32_MIN: none */
	const char *commit, *tree, *released_commit;          /* may be NULL */
	const char *files, *identity, *comparison;            /* JSON texts */
	const char *state;
};

/*
 * Insert `row`; *out_id gets its id and out_read_at (33 bytes) the server
 * time it was recorded.  OTCM_ECONFLICT naming "seq" when the agent sent
 * this sequence number before (the caller answers with the first one).
 */
int readbacks_insert(int64_t *out_id, char out_read_at[40], struct db_conn *c,
		     const struct readback_row *row);

/* The read-back the agent recorded under `seq`: its record, or OTCM_ENOTFOUND. */
int readbacks_by_seq(json_t **out, struct db_conn *c, int64_t agent_id, const char *via,
		     int64_t seq);

/* One read-back of `asset_id`, with its comparison; OTCM_ENOTFOUND. */
int readbacks_get(json_t **out, struct db_conn *c, int64_t asset_id, int64_t id);

/* The newest `limit` read-backs of `asset_id` without their comparison's details. */
int readbacks_list(json_t **out, struct db_conn *c, int64_t asset_id, unsigned limit);

/*
 * The read-back state of every asset under `prefix` (NULL: all), ordered
 * by path: [{asset_id, path, type, main_commit, max_age_seconds, agent,
 * last: {id, ok, state, read_at, error, released_commit} | null, good: {id,
 * commit, tree, read_at, age_seconds, state, released_commit} | null,
 * pending_change: key of a change approved/deployed/sat whose tree the good
 * read-back holds | null}].
 */
int readbacks_states(json_t **out, struct db_conn *c, const char *prefix);

/*
 * The latest read-back of each deployment of change `change_id`, recorded
 * for that deployment: [{deployment_id, asset_id, readback: record}].
 */
int readbacks_for_change(json_t **out, struct db_conn *c, int64_t change_id);

/*
 * Read-backs of the period [from, to) in state drift or read_failed:
 * [{id, asset_id, path, state, read_at, error}].
 */
int readbacks_exceptions(json_t **out, struct db_conn *c, const char *from, const char *to);

/*
 * Assets read back by an agent whose newest good read-back as of `as_of`
 * is older than their max_age_seconds, or that have none though an agent
 * was set before then: [{asset_id, path, agent, last_good_at | null,
 * max_age_seconds, as_of}].
 */
int readbacks_stale_at(json_t **out, struct db_conn *c, const char *as_of);

#endif
