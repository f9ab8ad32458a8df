/*
 * domain/readbacks.h - device read-backs: what a collection agent read from
 * a controller or HMI, kept and compared with what was approved.
 *
 * A read-back's files become a commit on the asset's ref
 * refs/readback/<source> (source: the agent's user name) — never main,
 * never a change branch, never promoted to a version by itself; a
 * read-back whose files equal the previous one's keeps only its metadata.
 * Each is compared, with the semantic diff engine, against the released
 * tree (main), the head trees of the asset's changes that are approved,
 * deployed or in SAT, and the previous read-back.  An asset's read-back
 * state is one of
 *
 *   never_read       no read-back yet
 *   read_failed      the newest read-back failed (its error is kept)
 *   stale            the newest good read-back is older than the asset's
 *                    max_age_seconds
 *   in_sync          the device holds the released tree (equal trees, or
 *                    differences the asset's normalisation rules allow)
 *   pending_release  the device holds an approved or deployed change's tree
 *   drift            anything else: a difference nobody approved
 *
 * A drift is resolved only by a change: one that deploys the approved
 * version back (the next read-back is in_sync), or one that adopts the
 * read-back as its content (dom_readback_adopt) and goes through the
 * change process (retrospective approval for an emergency change).
 *
 * Agents call in with an API token of role agent through DOOR_AGENT
 * (/api/v1/agent/...); anything else, a password session of an agent user
 * included, is refused (OTCM_EAUTH naming "Authorization", rule
 * "agent-token", audited): dom_agent_poll() hands each agent its due jobs,
 * dom_readback_record() stores what it read.  An agent may only record
 * read-backs of the assets set to it.
 *
 * Every json_t returned through **out belongs to the caller.
 *
 * Thread-safety: per context (one request on one thread).
 */
#ifndef OTCM_DOMAIN_READBACKS_H
#define OTCM_DOMAIN_READBACKS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/json.h"
#include "domain/domain.h"

/* The most files one read-back may carry. */
#define DOM_READBACK_MAX_FILES 10000

/*
 * An agent calls in: `in` = {"version"?, "hostname"?, "public_key"?
 * (base64 Ed25519, registers the key its offline files are signed with)}.
 * *out = {"agent", "jobs": [{job_id, asset_id, asset, reason,
 * deployment_id}], "poll_seconds"}.  OP_AGENT_POLL.
 */
int dom_agent_poll(json_t **out, const struct dom *d, const json_t *in);

/*
 * Record one read-back by the calling agent.  `in`:
 *
 *   {"asset": path, "seq": the agent's sequence number (> 0, unique per agent),
 *    "collector": "folder" | "command" | "opcua", "ok": bool,
 *    "duration_ms"?, "error"?, "exit_status"?, "stderr"?,
 *    "identity"?: {"manufacturer", "model", "serial_number", "firmware", ...},
 *    "files": [{"path", "sha256", "content": base64}]}   (ok only)
 *
 * A sequence number recorded before answers with that first record (and
 * "duplicate": true), so an agent retrying after a lost answer records
 * nothing twice.  *out = the record: {id, asset_id, state, commit, tree,
 * unchanged, read_at, comparison, ...}.  OTCM_EINVAL naming the field,
 * OTCM_ENOTFOUND naming "asset", OTCM_EFORBIDDEN with rule
 * "agent-not-assigned" when the asset is not set to this agent.
 * OP_READBACK_RECORD.
 */
int dom_readback_record(json_t **out, const struct dom *d, const json_t *in);

/*
 * Import an offline read-back file written by `otcm agent --offline`:
 * {"format": "otcm-readback/1", "agent": username, "readbacks": [records as
 * dom_readback_record takes], "signature": base64 Ed25519 by the agent's
 * registered key over the compact, key-sorted JSON of the object without
 * "signature"}.  A file whose signature does not verify is refused with
 * rule "readback-signature" and nothing is recorded.  *out = {"imported":
 * [records]}.  OP_READBACK_IMPORT.
 */
int dom_readback_import(json_t **out, const struct dom *d, const json_t *in);

/*
 * The read-back state of every asset under `prefix` (NULL: all), by path:
 * *out = {"items": [{asset_id, path, type, state, agent, last_read_at,
 * last_good_at, error, readback_id, pending_change, max_age_seconds,
 * note?, drift_files? (with_diffs: for a drift, the files that differ with
 * their semantic diff)}], "counts": {state: n}}.  OP_READBACK_READ.
 */
int dom_readback_states(json_t **out, const struct dom *d, const char *prefix, bool with_diffs);

/* The newest `limit` read-backs of `asset`, newest first.  OP_READBACK_READ. */
int dom_readback_list(json_t **out, const struct dom *d, int64_t asset, unsigned limit);

/* One read-back of `asset` with its comparison.  OP_READBACK_READ. */
int dom_readback_read(json_t **out, const struct dom *d, int64_t asset, int64_t id);

/*
 * The files of read-back `id` of `asset` as a zip or tar (format NULL:
 * zip): the device's backup.  Bytes in the context's arena.  OP_READBACK_READ.
 */
int dom_readback_archive(const void **out, size_t *out_len, const struct dom *d, int64_t asset,
			 int64_t id, const char *format);

/* The read-back settings of `asset`.  OP_READBACK_READ. */
int dom_readback_settings(json_t **out, const struct dom *d, int64_t asset);

/*
 * Set how `asset` is read back: `in` = {"agent": username of role agent |
 * null, "interval_seconds"?: >= 60, "daily_at"?: "HH:MM" (UTC),
 * "cron"?: a five-field cron expression evaluated in UTC (domain/cron.h),
 * one of the three schedules at most, "after_deploy"?: bool,
 * "max_age_seconds"?: > 0, "normalise"?: [{"path": glob, "object"?: glob,
 * "reason": text}]}.  Audited as "readback.settings".  OP_READBACK_CONFIGURE.
 */
int dom_readback_configure(json_t **out, const struct dom *d, int64_t asset, const json_t *in);

/*
 * The same settings for every asset of a site, area or line: `in` holds
 * "prefix" (a path prefix of whole segments) beside the settings.  One
 * transaction, one "readback.settings" event per asset; *out =
 * {prefix, items: [each asset's settings after]}.  OTCM_ENOTFOUND (field
 * "prefix") when no asset is there.  OP_READBACK_CONFIGURE.
 */
int dom_readback_configure_group(json_t **out, const struct dom *d, const json_t *in);

/*
 * Ask for a read-back of `asset` now (on demand).  OTCM_ERULE "no-agent"
 * when no agent is set to read it back.  OP_READBACK_REQUEST.
 */
int dom_readback_request(json_t **out, const struct dom *d, int64_t asset);

/*
 * Ask for a read-back now of every asset of a site, area or line: `in` =
 * {"prefix": path prefix}.  *out = {prefix, requested: [asset ids],
 * without_agent: [asset ids no agent reads]}; OTCM_ERULE "no-agent" when
 * no asset there has an agent.  Audited once as "readback.request" on the
 * prefix.  OP_READBACK_REQUEST.
 */
int dom_readback_request_group(json_t **out, const struct dom *d, const json_t *in);

/*
 * Called by the deployment operation in its own transaction: when the
 * asset is read back after deployments, make it due now for deployment
 * `deployment_id`, so the read-back confirms what was deployed.
 */
int dom_readback_after_deploy(const struct dom *d, struct db_conn *c, int64_t asset,
			      int64_t deployment_id);

/* The agents with their last contact, version, jobs and failures.  OP_AGENT_LIST. */
int dom_agent_list(json_t **out, const struct dom *d);

/*
 * Register by hand the key agent `agent` (a user name of role agent)
 * signs its offline read-back files with, for a site that never connects:
 * `in` = {"public_key": base64 Ed25519, as `otcm agent --key` prints it}.
 * Replaces any key the agent registered itself; the agent may later
 * replace it again by calling in with its own.  Audited as "agent.key"
 * (before and after).  *out = {agent, public_key, registered_by}.
 * OTCM_EINVAL naming "public_key" or the unknown field, OTCM_ENOTFOUND
 * naming "agent".  OP_AGENT_KEY_REGISTER.
 */
int dom_agent_key_register(json_t **out, const struct dom *d, const char *agent, const json_t *in);

/*
 * For a change's evidence, on the caller's connection: per deployment of
 * `change_id`, the read-back that followed it with its comparison
 * ([{deployment_id, asset_id, readback}]).  No permission check: the
 * caller's operation has made it.
 */
int dom_readback_for_change(json_t **out, struct db_conn *c, int64_t change_id);

/*
 * For the exceptions report, on the caller's connection: read-backs in
 * drift or failed in [from, to), as exceptions {rule: "readback-drift" |
 * "readback-failed", ...}.
 */
int dom_readback_exceptions(json_t **out, struct db_conn *c, const char *from, const char *to);

/*
 * For the population report, on the caller's connection: every read-back
 * received in [from, to), oldest first, each with its outcome ("good",
 * "drift", "failed") and the sequence numbers of its audit events
 * (audit_seq; drift_audit_seq for a new drift), so a sample drawn from it
 * can be traced to the trail.
 */
int dom_readback_population(json_t **out, struct db_conn *c, const char *from, const char *to);

/*
 * For the population report, on the caller's connection: every time an
 * asset set to an agent was stale in [from, to) — no good read-back within
 * its max_age_seconds (as set now; changes to it are audited as
 * readback.settings) — with rule "readback-stale": [{asset_id, path,
 * agent, max_age_seconds, last_good_at, stale_from, stale_until | null}].
 * An asset never read back at all is not here: dom_readback_stale() names
 * it at the period's end.
 */
int dom_readback_stale_periods(json_t **out, struct db_conn *c, const char *from, const char *to);

/*
 * For the exceptions report: assets whose read-back is stale as of `as_of`
 * (rule "readback-stale"): an agent is set but no good read-back came within
 * the asset's max_age_seconds before then.
 */
int dom_readback_stale(json_t **out, struct db_conn *c, const char *as_of);

#endif
