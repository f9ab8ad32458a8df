/*
 * storage/changes.h - the change tickets: their fields and affected
 * assets, the versions written on change branches and who contributed
 * them, the facts the lifecycle rules read, and the process settings.
 * The other records of the change process have stores of their own:
 * storage/runs.h (protocols, runs, steps, attachments),
 * storage/signatures.h and storage/deployments.h.
 *
 * A change's key is "CHG-<id>"; its branch in every affected asset is
 * "changes/CHG-<id>", and the newest version recorded for (change, asset)
 * is that branch's head.  Object ids are 40-digit lowercase hex strings.
 * Records come back as JSON objects (owned by the caller) with times in
 * RFC 3339 UTC from the database server's clock.
 *
 * This module stores and reads; it does not decide.  The lifecycle rules
 * live in domain/rules.c, fed by changes_facts() and runs_facts().
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

/*
 * Record every user whose e-mail is `email` (compared without case) as a
 * contributor of change `change_id` for asset `asset_id`: the author or
 * committer of a pushed commit.  An e-mail nobody has changes nothing.
 */
int changes_add_contributor_email(struct db_conn *c, int64_t change_id, int64_t asset_id,
				  const char *email);

/* Record a version written on the change branch and its uploader as a contributor. */
int changes_add_version(struct db_conn *c, int64_t change_id, int64_t asset_id,
			const char *commit, const char *tree, int64_t user_id);

/* Runs and approvals of (change, asset) bound to another tree than `tree`, as {runs[], signatures[]}. */
int changes_stale_for(json_t **out, struct db_conn *c, int64_t change_id, int64_t asset_id,
		      const char *tree);

/* Settings: {emergency_approval_seconds}. */
int changes_settings_get(json_t **out, struct db_conn *c);
int changes_settings_set(struct db_conn *c, int64_t emergency_approval_seconds);

/* Is `commit` a version recorded for the change on this asset?  *out_tree gets its tree. */
int changes_version_tree(const char **out_tree, struct arena *a, struct db_conn *c,
			 int64_t change_id, int64_t asset_id, const char *commit);

#endif
