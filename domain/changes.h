/*
 * domain/changes.h - change tickets through their lifecycle: raise, list,
 * read and edit them, move them from state to state, record deployments,
 * release them (main of every asset moves and is tagged), and the process
 * settings; the hooks a version upload under a change calls; and what an
 * actor may do on a change now, for the pages to offer.
 *
 * Every operation checks the actor's permission first (dom_permit() with
 * its OP_ from domain/ops.h), then the rules of domain/rules.h on facts
 * read under the change's row lock, and runs its writes and their audit
 * event in one transaction.  A rule refusal is OTCM_ERULE (409) with the
 * field, the sentence and the rule's name, audited as "<action>.refused";
 * nothing is written.  Bodies are the API's JSON objects (borrowed); what
 * comes back through *out is owned by the caller (json_decref).
 *
 * Errors besides refusals: OTCM_EINVAL naming the field, OTCM_ENOTFOUND
 * (a key that names no change), OTCM_EDB, OTCM_EGIT, OTCM_ERETRY.
 *
 * Thread-safety: per context (one request on one thread).
 */
#ifndef OTCM_DOMAIN_CHANGES_H
#define OTCM_DOMAIN_CHANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/json.h"
#include "domain/domain.h"
#include "domain/rules.h"
#include "storage/changes.h"
#include "storage/db.h"

/*
 * Raise a change as a draft requested by the actor (OP_CHANGE_CREATE).
 * `in`: {type, title, risk (required), reason, safety_related,
 * implementation_plan, rollback_plan, planned_window{start, end},
 * affected_assets[ids]}.  *out gets the change.
 */
int dom_change_create(json_t **out, const struct dom *d, const json_t *in);

/* The filters of the change list, as given (NULL: not given); checked here. */
struct dom_change_query {
	const char *state, *type, *asset, *requester, *from, *to;
	const char *overdue;          /* "true" or "false" */
	const char *limit;            /* 1 to CHANGES_MAX_LIMIT, default 50 */
	const char *cursor;           /* a change key: changes older than it */
};

/* A page of changes, newest first (OP_CHANGE_READ): {items[], next_cursor?}. */
int dom_change_list(json_t **out, const struct dom *d, const struct dom_change_query *q);

/* Change `key` with its signatures, test runs and deployments (OP_CHANGE_READ). */
int dom_change_read(json_t **out, const struct dom *d, const char *key);

/*
 * The audit events of change `key`, oldest first, at most `limit`
 * (OP_CHANGE_READ: whoever may read a change reads its own trail; the
 * whole trail is OP_AUDIT_READ, domain/audit.h).  *out is a new array.
 */
int dom_change_trail(json_t **out, const struct dom *d, const char *key, unsigned limit);

/*
 * Edit change `key` (OP_CHANGE_UPDATE): the fields of dom_change_create
 * and "edit_reason".  Only the requester or an administrator (rule
 * edit-role); after draft only with an edit_reason; affected assets only
 * before authorisation; its type only in draft (rule type-frozen).
 * *out gets the change as edited.
 */
int dom_change_update(json_t **out, const struct dom *d, const char *key, const json_t *in);

/*
 * Move change `key` to state `in.to` with an optional `in.reason`
 * (OP_CHANGE_TRANSITION; rules_transition()).  *out gets the change.
 */
int dom_change_transition(json_t **out, const struct dom *d, const char *key, const json_t *in);

/*
 * Record that `in.commit` (a version of the change for affected asset
 * `in.asset_id`) was deployed (OP_CHANGE_DEPLOY; rules_can_deploy()).
 * `in.readback_sha256`, when given, is compared with the SHA-256 of every
 * file of the commit; a mismatch is recorded and audited as
 * change.deployment.mismatch.  `in.note` at most 4000 characters.
 * *out gets the deployment.
 */
int dom_change_deploy(json_t **out, const struct dom *d, const char *key, const json_t *in);

/*
 * Release change `key` (OP_CHANGE_RELEASE: approvers and administrators):
 * the actor re-authenticates (`in.password`, `in.totp_code`), the change
 * meets rules_can_release() and, when it updates firmware,
 * rules_firmware_release() (its facts: domain/firmware.h), main of every affected
 * asset moves to the change branch head (fast-forward, or a merge keeping
 * the approved tree) and is tagged with the key, the released signature is
 * written, each firmware update's after-firmware goes into its asset's
 * inventory, and the change becomes released, all in one transaction.  *out gets the change
 * with "release" (per asset {asset, path, old_main, main, tree, how, tag})
 * and "signature".
 */
int dom_change_release(json_t **out, const struct dom *d, const char *key, const json_t *in);

/* The process settings {emergency_approval_seconds} (OP_SETTINGS_READ). */
int dom_change_settings_read(json_t **out, const struct dom *d);

/* Change the settings (OP_SETTINGS_UPDATE); `in`: {emergency_approval_seconds}. */
int dom_change_settings_update(json_t **out, const struct dom *d, const json_t *in);

/*
 * The hooks of a version upload made under change `change_key` (the
 * `change` field of an upload), both run inside the upload's transaction
 * on `c`; the upload operation has checked OP_VERSION_UPLOAD.
 *
 * dom_change_upload_check, before anything is written: locks the change,
 * and refuses unless it is implementing or in FAT (rule upload-state) and
 * the asset is one of its affected assets (rule asset-not-affected); a
 * refusal rolls `c` back, commits its audit event (change.upload.refused)
 * on `c`, and returns OTCM_ERULE naming "change", so the caller only ends
 * `c`.  A change in FAT goes back to implementing (audited).  The branch
 * to write, "changes/CHG-<n>", is written to out_branch (n bytes).  A key
 * that is no change key is OTCM_EINVAL naming "change".
 *
 * dom_change_upload_record, after the version row: records the version
 * on the change and the actor as a contributor (who can then not approve
 * it), and audits (change.version) which runs and approvals of other trees
 * of the asset no longer count.
 */
int dom_change_upload_check(char *out_branch, size_t n, const struct dom *d, struct db_conn *c,
			    int64_t asset_id, const char *change_key);
int dom_change_upload_record(const struct dom *d, struct db_conn *c, int64_t asset_id,
			     const char *change_key, const char *commit, const char *tree);

/*
 * One change as the rules see it, for the operations of domain/ that act
 * on a change (runs and signatures too).  Strings live in d's arena.
 */
struct dom_change_state {
	int64_t id;
	const char *key;                  /* "CHG-<id>" */
	struct change_facts facts;
	struct rules_change view;
};

/*
 * Lock change `key` on `c` (a transaction is open) and read its facts:
 * writes to one change run one after the other.  OTCM_ENOTFOUND naming
 * "key" for no such change.
 */
int dom_change_lock(struct dom_change_state *out, const struct dom *d, struct db_conn *c,
		    const char *key);

/* The same without the lock, for reads (change `id`). */
int dom_change_load(struct dom_change_state *out, const struct dom *d, struct db_conn *c,
		    int64_t id);

/* Something the actor could do on a change, offered by the pages. */
struct dom_offer {
	const char *kind;      /* "edit", "upload", "sign", "run", "deploy", "transition", "release" */
	const char *value;     /* the meaning, run kind ("fat", "sat") or target state; else "" */
	bool allowed;          /* the operation would be permitted now */
	const char *why;       /* when not: the sentence of the refusal */
	const char *rule;      /* and its rule's name */
};

/*
 * What the actor may do on change `key` now, and the steps one move away
 * that a permission or a rule refuses (with the refusal's sentence and
 * rule, exactly as the operation would answer); steps that are no move
 * from the current state are left out.  Checks OP_CHANGE_READ; refusals
 * shown here are not audited (nothing was attempted).  *out (in d's arena)
 * gets *out_n offers, in a stable order.
 */
int dom_change_offers(struct dom_offer **out, size_t *out_n, const struct dom *d, const char *key);

/*
 * Would the actor's role be permitted `op` (as dom_permit() decides, but
 * without auditing: for previews)?  0, or OTCM_EFORBIDDEN with rule
 * role-permission and dom_permit()'s sentence.
 */
int dom_change_role_may(const struct dom *d, enum dom_op op);

#endif
