/*
 * storage/runs.h - test protocol templates (versioned, never
 * edited), test runs bound to one change, asset and tree, their steps,
 * and the photos and logs attached to steps.
 *
 * Records come back as JSON objects (owned by the caller) with times in
 * RFC 3339 UTC from the database server's clock.  This module stores and
 * reads; it does not decide (domain/ does).  Every function runs on the
 * caller's connection; writes belong in the caller's transaction with
 * their audit event, on a change the caller locked with changes_lock().
 *
 * Errors: OTCM_EINVAL naming the field, OTCM_ENOTFOUND, OTCM_EDB,
 * OTCM_ERETRY.
 *
 * Thread-safety: as the connection.
 */
#ifndef OTCM_STORAGE_RUNS_H
#define OTCM_STORAGE_RUNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/json.h"
#include "storage/db.h"

/* ---- test protocols ---- */

/*
 * Create protocol `name` at the next version (1 for a new name):
 * `steps` is [{instruction, expected}] (numbered here from 1).
 */
int protocols_create(json_t **out, struct db_conn *c, const char *name, const char *kind,
		     const char *title, bool witness_required, const json_t *steps,
		     int64_t created_by);
/* Protocol version `id`; OTCM_ENOTFOUND otherwise. */
int protocols_get(json_t **out, struct db_conn *c, int64_t id);
/* Every protocol version, or those named `name` (NULL: all), as a JSON array. */
int protocols_list(json_t **out, struct db_conn *c, const char *name);

/* ---- test runs ---- */

/* A new open run of `protocol_id` on (change, asset, commit, tree) tested by `tester`. */
int runs_create(int64_t *out_id, struct db_conn *c, int64_t change_id, int64_t asset_id,
		int64_t protocol_id, const char *commit, const char *tree, int64_t tester);

/*
 * Run `id` with its protocol, steps, stale flag, signatures and
 * attachments (without their bytes); for_update locks it.
 */
int runs_get(json_t **out, struct db_conn *c, int64_t id, bool for_update);
/* The runs of change `change_id` (without steps), oldest first, as a JSON array. */
int runs_list(json_t **out, struct db_conn *c, int64_t change_id);

/* Record (or record again) step `no` of run `run`. */
struct run_step {
	int no;
	const char *result, *observed, *comment, *deviation, *disposition;
};
int runs_record_step(struct db_conn *c, int64_t run, const struct run_step *s, int64_t tester);

/* Complete run `id` with `verdict`. */
int runs_complete(struct db_conn *c, int64_t id, const char *verdict);

struct run_facts {
	int64_t id, change_id, asset_id, tester_id;
	const char *kind, *state, *commit, *tree;
	bool witness_required, witnessed, stale;
	size_t nsteps, nrecorded;
	const char **results;          /* per protocol step, NULL when not recorded */
	const char **dispositions;
	bool fail_undisposed;
	int64_t *step_testers;
	size_t nstep_testers;
};
/* The facts of run `id` the signature rules read; strings and arrays in `a`. */
int runs_facts(struct run_facts *out, struct arena *a, struct db_conn *c, int64_t id);

/* ---- attachments of test-run steps ---- */

/*
 * A photo or log attached to step `no` of run `run_id`: its bytes are git
 * blob `blob` (written by the caller with repo_blob_write() in the same
 * transaction), `content_type` what the server recognised in them.
 */
struct attachment_record {
	int64_t run_id;
	int no;
	const char *blob;              /* 40-digit blob id */
	const char *filename;          /* 1 to 255 bytes, no path */
	const char *content_type;      /* image/png, image/jpeg, application/pdf, text/plain, text/csv */
	const char *sha256;            /* of the bytes, 64 hex digits */
	uint64_t size;
	int64_t uploaded_by;
};

/*
 * Record an attachment; *out gets it as {id, run_id, step, blob, filename,
 * content_type, size, sha256, uploaded_by, uploaded_at}.  The database
 * refuses it (OTCM_EDB) when the run is completed: callers check first.
 */
int attachments_insert(json_t **out, struct db_conn *c, const struct attachment_record *a);

/* Attachment `id` of run `run` (as attachments_insert gives); OTCM_ENOTFOUND otherwise. */
int attachments_get(json_t **out, struct db_conn *c, int64_t run, int64_t id);

/* Every attachment of run `run`, by step then id. */
int attachments_list(json_t **out, struct db_conn *c, int64_t run);

#endif
