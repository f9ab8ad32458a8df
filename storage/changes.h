/*
 * storage/changes.h - the records of the change process: change tickets
 * and their affected assets, the versions written on change branches and
 * who contributed them, test protocols and runs with their steps,
 * the photos and logs attached to their steps, signatures, deployments,
 * TOTP enrolments and the process settings.
 *
 * A change's key is "CHG-<id>"; its branch in every affected asset is
 * "changes/CHG-<id>", and the newest version recorded for (change, asset)
 * is that branch's head.  Object ids are 40-digit lowercase hex strings.
 * Records come back as JSON objects (owned by the caller) with times in
 * RFC 3339 UTC from the database server's clock.
 *
 * This module stores and reads; it does not decide.  The lifecycle rules
 * live in server/rules.c, fed by changes_facts() and runs_facts().
 * Every function runs on the caller's connection; writes belong in the
 * caller's transaction with their audit event.  Functions that change a
 * ticket expect the caller to have locked it with changes_lock(), so two
 * requests on one change are serialised by its row lock.
 *
 * Errors: OTCM_EINVAL naming the field, OTCM_ENOTFOUND, OTCM_ECONFLICT,
 * OTCM_EDB, OTCM_ERETRY.
 *
 * Thread-safety: as the connection.
 */
#ifndef OTCM_STORAGE_CHANGES_H
#define OTCM_STORAGE_CHANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/json.h"
#include "storage/db.h"

#define CHANGES_KEY_MAX 32
#define CHANGES_TEXT_MAX 20000
#define CHANGES_MAX_LIMIT 500

/* "CHG-12" -> 12; anything else is OTCM_ENOTFOUND naming "key". */
int changes_parse_key(int64_t *out, const char *key);

/* The editable fields of a change; NULL members (and safety_related < 0) are "not given". */
struct change_fields {
	const char *type;                 /* standard, normal, emergency */
	const char *title;
	const char *reason;
	const char *risk;                 /* low, medium, high */
	int safety_related;               /* -1, 0 or 1 */
	const char *implementation_plan;
	const char *rollback_plan;
	const char *window_start;         /* RFC 3339, or "" to clear */
	const char *window_end;
};

/* Check the given members; `creating` requires type, title and risk. */
int changes_check_fields(const struct change_fields *f, bool creating);

/* Insert a draft change requested by `requester`; *out_id gets its id. */
int changes_insert(int64_t *out_id, struct db_conn *c, const struct change_fields *f,
		   int64_t requester);

/* Change the given members of change `id`. */
int changes_update(struct db_conn *c, int64_t id, const struct change_fields *f);

/* Replace the affected assets; OTCM_EINVAL naming "affected_assets" for an unknown asset. */
int changes_set_assets(struct db_conn *c, int64_t id, const int64_t *assets, size_t n);

/*
 * Lock change `id` for the rest of the transaction; *out_state (arena
 * string) gets its state and *out_requester its requester.
 */
int changes_lock(const char **out_state, int64_t *out_requester, struct arena *a,
		 struct db_conn *c, int64_t id);

/*
 * Change `id` as JSON: {key, id, type, title, reason, risk, safety_related,
 * implementation_plan, rollback_plan, planned_window{start,end}, requester,
 * state, created_at, updated_at, deployed_at, retrospective_approval_due,
 * overdue, affected_assets[{id, path, branch, commit, tree}]}.
 */
int changes_get(json_t **out, struct db_conn *c, int64_t id);

/* The same plus signatures[], test_runs[], deployments[], each with stale flags. */
int changes_get_full(json_t **out, struct db_conn *c, int64_t id);

/* A page of the change list, newest first. */
struct change_query {
	const char *state, *type, *requester;   /* NULL: any */
	int64_t asset_id;                       /* 0: any */
	const char *from, *to;                  /* created in [from, to), RFC 3339, or NULL */
	bool overdue;                           /* emergency changes whose approval is overdue */
	int64_t before_id;                      /* cursor: ids below this, 0: from the newest */
	unsigned limit;
};
int changes_list(json_t **out, bool *out_more, struct db_conn *c, const struct change_query *q);

/*
 * Set the state.  Reaching "deployed" the first time stamps deployed_at
 * and, for an emergency change, the retrospective approval's due time.
 */
int changes_set_state(struct db_conn *c, int64_t id, const char *state);

/* Facts the lifecycle rules read, gathered in a few statements. */
struct change_asset_facts {
	int64_t asset_id;
	const char *path;
	const char *commit, *tree;    /* branch head; NULL before the first upload */
	bool fat_passed, approved, deployed, sat_passed;
};
struct change_facts {
	int64_t id;
	const char *state, *type;
	int64_t requester_id;
	bool complete, authorised;
	struct change_asset_facts *assets;
	size_t nassets;
	int64_t *contributors;
	size_t ncontributors;
};
int changes_facts(struct change_facts *out, struct arena *a, struct db_conn *c, int64_t id);

/* Record a version written on the change branch and its uploader as a contributor. */
int changes_add_version(struct db_conn *c, int64_t change_id, int64_t asset_id,
			const char *commit, const char *tree, int64_t user_id);

/* Runs and approvals of (change, asset) bound to another tree than `tree`, as {runs[], signatures[]}. */
int changes_stale_for(json_t **out, struct db_conn *c, int64_t change_id, int64_t asset_id,
		      const char *tree);

/* Settings: {emergency_approval_seconds}. */
int changes_settings_get(json_t **out, struct db_conn *c);
int changes_settings_set(struct db_conn *c, int64_t emergency_approval_seconds);

/* ---- test protocols ---- */

/*
 * Create protocol `name` at the next version (1 for a new name):
 * `steps` is [{instruction, expected}] (numbered here from 1).
 */
int protocols_create(json_t **out, struct db_conn *c, const char *name, const char *kind,
		     const char *title, bool witness_required, const json_t *steps,
		     int64_t created_by);
int protocols_get(json_t **out, struct db_conn *c, int64_t id);
int protocols_list(json_t **out, struct db_conn *c, const char *name);

/* ---- test runs ---- */

int runs_create(int64_t *out_id, struct db_conn *c, int64_t change_id, int64_t asset_id,
		int64_t protocol_id, const char *commit, const char *tree, int64_t tester);

/*
 * Run `id` with its protocol, steps, stale flag, signatures and
 * attachments (without their bytes); for_update locks it.
 */
int runs_get(json_t **out, struct db_conn *c, int64_t id, bool for_update);
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

/* ---- signatures ---- */

struct signature_record {
	int64_t change_id;
	int64_t run_id;                /* 0: a signature on the change */
	const char *meaning;
	int64_t signer_id;
	const char *printed_name, *role, *auth_method;
	const char *content;           /* the canonical JSON signed */
	const char *content_sha256;
	const json_t *trees;           /* {asset id: tree} */
};
int signatures_insert(json_t **out, struct db_conn *c, const struct signature_record *s);
int signatures_list(json_t **out, struct db_conn *c, int64_t change_id, int64_t run_id);

/* ---- deployments ---- */

struct deployment_record {
	int64_t change_id, asset_id;
	const char *commit, *tree;
	const char *readback_sha256;   /* NULL: none */
	int readback_match;            /* -1 none, 0 mismatch, 1 match */
	const char *note;
	int64_t deployed_by;
};
int deployments_insert(json_t **out, struct db_conn *c, const struct deployment_record *d);

/* Is `commit` a version recorded for the change on this asset?  *out_tree gets its tree. */
int changes_version_tree(const char **out_tree, struct arena *a, struct db_conn *c,
			 int64_t change_id, int64_t asset_id, const char *commit);

/* ---- TOTP enrolment ---- */

struct totp_state {
	unsigned char secret[64];
	size_t secret_len;
	bool enabled;
	int64_t last_step;
};
/* OTCM_ENOTFOUND when the user never enrolled; for_update locks the row. */
int totp_load(struct totp_state *out, struct db_conn *c, int64_t user_id, bool for_update);
/* Start (or restart, while not yet enabled) an enrolment. */
int totp_store_pending(struct db_conn *c, int64_t user_id, const unsigned char *secret, size_t len);
int totp_set(struct db_conn *c, int64_t user_id, bool enable, int64_t last_step);

#endif
