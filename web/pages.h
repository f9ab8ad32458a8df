/*
 * web/pages.h - one renderer per page (web/page_*.c).  Each is given the
 * frame (struct web_page) and plain data read by server/h_pages.c, as the
 * JSON objects the storage layer and the API produce (borrowed, never
 * changed), and appends a whole HTML document to `h`.  None touches
 * storage or the request; every dynamic value goes through web/html.h.
 *
 * Thread-safety: all renderers are thread-safe.
 */
#ifndef OTCM_WEB_PAGES_H
#define OTCM_WEB_PAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/json.h"
#include "web/html.h"
#include "web/layout.h"

/* An error page: status, its title, the message and the request id to quote. */
void page_error(struct html *h, const struct web_page *p, unsigned status, const char *title,
		const char *detail, const char *request_id);

/*
 * The login form; `username` refills the field, `error` (or NULL) explains
 * a refusal, `login_token` is the value of the pre-session cookie the form
 * must carry back (server/h_pages.c: login CSRF).
 */
void page_login(struct html *h, const struct web_page *p, const char *username, const char *next,
		const char *error, const char *login_token);

/*
 * Home, "my work": `mine` the changes the user requested, `to_sign` changes
 * waiting in a state where the user's role signs or acts, `overdue`
 * emergency changes past their retrospective approval (arrays of change
 * objects as GET /api/v1/changes lists them).
 */
void page_home(struct html *h, const struct web_page *p, const json_t *mine, const json_t *to_sign,
	       const char *to_sign_label, const json_t *overdue);

/* Changes list: `changes` as GET /api/v1/changes lists them; `state` the filter or NULL. */
void page_changes(struct html *h, const struct web_page *p, const json_t *changes, const char *state);

/* The asset tree: `assets` ordered by path; `query` the search text or NULL. */
void page_assets(struct html *h, const struct web_page *p, const json_t *assets, const char *query);

/*
 * One asset (with "clone_url", the URL git clones it from), its refs
 * [{name, commit}], the history of main
 * (newest first, repo_log entries), the files of main's head, and the
 * changes naming it.  `head` is main's head or NULL without versions.
 */
void page_asset(struct html *h, const struct web_page *p, const json_t *asset, const json_t *refs,
		const char *head, const json_t *history, const json_t *files, const json_t *changes,
		bool may_upload);

/* One version: commit info (repo_commit_info), its record or NULL, its files. */
void page_version(struct html *h, const struct web_page *p, const json_t *asset, const json_t *info,
		  const json_t *record, const json_t *files);

/*
 * What changed between two versions: `files` as repo_diff gives them, each
 * with "semantic" (diff_to_json, or null with "semantic_skipped").  Without
 * `file`: a summary by category, the file list, each file collapsible with
 * its first changes (generated files folded) and the unified patch behind a
 * switch, or a download link when it is large.  With `file` (an element of
 * `files`): that file's changes alone, page `page` (0-based; past the end
 * shows the last).  `from` may be NULL (first version).
 */
void page_diff(struct html *h, const struct web_page *p, const json_t *asset, const char *from,
	       const char *to, const json_t *files, const char *patch, size_t patch_len,
	       const json_t *file, size_t page);

/*
 * What changed, for a printed evidence report rather than a page: the
 * summary by category of `files` (as for page_diff) and each file's
 * semantic changes grouped by engineering object, rendered as the diff
 * page renders them, with no link to the server.  After about `byte_cap`
 * bytes of changes the rest of each file is counted, not written.
 */
void page_diff_report(struct html *h, const json_t *files, size_t byte_cap);

/* One action on a change: what it is, whether the user may take it now, or why not. */
struct web_action {
	const char *label;           /* "Submit for authorisation" */
	const char *kind;            /* "transition", "sign", "release", "upload" */
	const char *value;           /* target state or signature meaning */
	bool allowed;
	const char *why;             /* the rule's sentence when not allowed */
	const char *rule;            /* the rule's name when not allowed, or NULL */
	const char *href;            /* a page that takes the action (signing dialog, forms), or NULL: a form here */
	bool needs_password;         /* a signature: password (and TOTP) again */
};

/*
 * One change: the full change (GET /api/v1/changes/{key}), its audit
 * events (audit_list), the actions computed from the rules, and a notice
 * (the outcome of the last action, or NULL) of kind "ok" or "error".
 */
void page_change(struct html *h, const struct web_page *p, const json_t *change,
		 const json_t *events, const struct web_action *actions, size_t nactions,
		 const char *notice_kind, const char *notice);

/*
 * The upload form for a new version of `asset`, optionally under change
 * `change_key` (with the changes open for uploads as choices); `error` shows
 * a refused upload.
 */
void page_upload(struct html *h, const struct web_page *p, const json_t *asset,
		 const char *change_key, const json_t *open_changes, const char *error);

/* ---- the profile, the administrator's and the auditor's pages ---- */

/* Secrets shown once, on the answer to the form that made them (members may be NULL). */
struct web_profile_once {
	const char *token;           /* a new API token */
	const char *token_name;
	const char *totp_secret;     /* an enrolment just started: the base32 secret */
	const char *totp_uri;        /* and its otpauth:// provisioning URI */
};

/*
 * The caller's profile (web/page_profile.c): `user` as GET /api/v1/session
 * gives it, `tokens` as GET /api/v1/tokens lists them, `totp` the state of
 * one-time codes ("none", "pending", "enabled", or NULL for a role that
 * cannot enrol), `via_token` when the page is read with a bearer token
 * (forms need a session), `once` what to show once (may be NULL).
 */
void page_profile(struct html *h, const struct web_page *p, const json_t *user,
		  const json_t *tokens, const char *totp, bool via_token,
		  const struct web_profile_once *once, const char *notice_kind, const char *notice);

/*
 * Users (web/page_admin.c): `users` as GET /api/v1/users lists them, with a
 * form per user (role, disable or enable, unlock, reset one-time codes when
 * the user's "totp" is true) and one to create a
 * user, refilled from `refill` ({username, display_name, email, role}, or
 * NULL).  `me` is the administrator's own id: no demoting or disabling
 * oneself.
 */
void page_admin_users(struct html *h, const struct web_page *p, const json_t *users, int64_t me,
		      const json_t *refill, const char *notice_kind, const char *notice);

/*
 * The asset register (web/page_admin.c): `assets` ordered by path (`more`
 * when there are others), a form to register one by site / area / line /
 * name, refilled from `refill` (those keys, type, vendor, model, firmware,
 * description, or NULL).
 */
void page_admin_assets(struct html *h, const struct web_page *p, const json_t *assets, bool more,
		       const json_t *refill, const char *notice_kind, const char *notice);

/* One asset's fields to edit; `refill` (the fields as sent, or NULL) overrides the stored ones. */
void page_admin_asset(struct html *h, const struct web_page *p, const json_t *asset,
		      const json_t *refill, const char *notice_kind, const char *notice);

/* What the server found checking a report's checkpoints and the proof between them. */
struct web_consistency {
	bool verified;                  /* both checkpoints and the consistency proof hold */
	const char *start_problem;      /* why a checkpoint does not verify, or NULL */
	const char *end_problem;
	const char *consistency_problem;
};

/*
 * Population and exceptions of a period (web/page_audit.c): the form's
 * days, the period as the API took it (`from`, `to`, NULL before a report
 * was asked for), the two reports as the API answers them (or NULL), the
 * check of their checkpoints, and an error (or NULL).
 */
void page_reports(struct html *h, const struct web_page *p, const char *from_day, const char *to_day,
		  const char *from, const char *to, const json_t *population, const json_t *exceptions,
		  const struct web_consistency *check, const char *error);

/* The verification of the whole audit trail, as `otcm audit verify` does it. */
struct web_audit_status {
	bool verified;                  /* the chain and every checkpoint hold */
	bool have_key;                  /* the server has a signing key (else no checkpoint is checked) */
	uint64_t trusted;               /* events 1..trusted: signed by the newest checkpoint, whose
					   signature and root were checked (0: all were recomputed) */
	uint64_t chained;               /* events trusted+1..chained recompute and chain */
	int64_t head_seq;               /* the newest event */
	int64_t bad_seq;                /* the first event that does not verify, 0: none */
	const char *chain_problem;
	uint64_t latest_size;           /* events the newest checkpoint signs, 0: none signed */
	uint64_t bad_size;              /* the newest checkpoint when it does not verify, 0: it does */
	const char *checkpoint_problem;
};

/* Which events a page of the audit browser shows. */
struct web_audit_view {
	const char *object_type;        /* filter, or NULL */
	const char *object_id;
	int64_t after;                  /* events after this sequence number */
	unsigned page_size;
	bool more;                      /* a full page: there may be more */
};

/*
 * The audit trail (web/page_audit.c): the verification, the newest signed
 * checkpoint (GET /api/v1/audit/checkpoint, or NULL when none was signed),
 * and one page of `events` as audit_list gives them.
 */
void page_audit(struct html *h, const struct web_page *p, const json_t *events,
		const struct web_audit_view *view, const json_t *checkpoint,
		const struct web_audit_status *status);

/* ---- the change process (web/page_change_form.c, page_runs.c, page_sign.c) ---- */

/*
 * Raise a change (`change` NULL) or edit `change`: the form filled from
 * `values` (a change object, or the body just refused: affected_assets as
 * objects with "id" or as ids), the assets to pick from, and the refusal.
 * After draft the form asks for the reason of the edit; after submission
 * the affected assets are shown but no longer change.
 */
void page_change_form(struct html *h, const struct web_page *p, const json_t *change,
		      const json_t *values, const json_t *assets, const char *error);

/*
 * Record a deployment of the change: the affected asset (`asset_id`
 * preselected, 0 for none), the version (its change branch head), an
 * optional read-back SHA-256 and note (refilled after a refusal).
 */
void page_deploy_form(struct html *h, const struct web_page *p, const json_t *change,
		      int64_t asset_id, const char *readback, const char *note, const char *error);

/* Test protocol templates (GET /api/v1/protocols items), newest versions with the older. */
void page_protocols(struct html *h, const struct web_page *p, const json_t *protocols,
		    bool may_create, const char *notice);

/* One protocol version with its numbered steps. */
void page_protocol(struct html *h, const struct web_page *p, const json_t *protocol, bool may_create);

/*
 * A new protocol, or the next version of one: name, kind, title,
 * witness-required and `rows` numbered rows of instruction and expected
 * result, filled from `values` (a protocol or the refused body) or blank.
 */
void page_protocol_form(struct html *h, const struct web_page *p, const json_t *values, size_t rows,
			const char *error);

/*
 * Start a run on `change`: pick the protocol (of kind `kind` first) and the
 * affected asset (`asset_id` preselected); the run binds the asset's change
 * branch head.
 */
void page_run_start(struct html *h, const struct web_page *p, const json_t *change,
		    const json_t *protocols, const char *kind, int64_t asset_id, const char *error);

/*
 * A test run (GET /api/v1/test-runs/{id}) of `change`: what it is bound
 * to, each step with its result, and while `may_record` a form per step
 * (result, observed, comment, deviation and disposition, attachments);
 * the run's signatures and the signing actions.
 */
void page_run(struct html *h, const struct web_page *p, const json_t *run, const json_t *change,
	      bool may_record, const struct web_action *signs, size_t nsigns, const char *notice_kind,
	      const char *notice);

/* What the signing dialog shows. */
struct web_sign {
	const char *meaning;         /* "approved", "tested", ... */
	const char *sentence;        /* what signing with it means */
	const json_t *content;       /* what is signed: the change (with assets' commits and trees) or the run */
	const json_t *run;           /* the run signed, or NULL for the change */
	const char *canonical;       /* the canonical JSON text of content */
	const char *sha256;          /* its SHA-256 as it will be recorded, or NULL when signing changes it */
	const char *digest_note;     /* when sha256 is NULL: what signing adds to the content */
	const char *action;          /* where the form posts */
	const char *back;            /* the page to return to */
	const char *kind;            /* the form's "kind": "sign", "release" or "run" */
	bool totp;                   /* the signer uses one-time codes */
	const char *blocked;         /* the rule's sentence when the signer may not sign now */
	const char *blocked_rule;
	const char *error;           /* the server's refusal of the last attempt */
	const char *error_rule;
};

/* The signing dialog for `change` (a change object). */
void page_sign(struct html *h, const struct web_page *p, const json_t *change, const struct web_sign *s);

/*
 * A signature's manifestation: printed name, date and time, meaning (with
 * `sentence`), role, re-authentication, the SHA-256 of what was signed and
 * the content itself.  `just_signed` adds the confirmation.
 */
void page_signature(struct html *h, const struct web_page *p, const json_t *change,
		    const json_t *sig, const char *sentence, bool just_signed);

/* ---- helpers the page files share (web/page_common.c) ---- */

/* The string member `key` of object `o`, or NULL. */
const char *web_str(const json_t *o, const char *key);

/* An RFC 3339 time as "2024-05-01 12:00:03" (UTC), in a <time> element. */
void web_time(struct html *h, const char *rfc3339);

/* The first 12 digits of a commit id, in <code>. */
void web_short(struct html *h, const char *oid);

/*
 * Radio buttons choosing one of a change's affected assets (field
 * "asset_id"), each with the head of its change branch; an asset with no
 * version there is disabled and says `none`.  `asset_id` (or the only
 * asset) is preselected; with_branch also names the branch.
 */
void web_asset_choice(struct html *h, const json_t *change, int64_t asset_id, bool with_branch,
		      const char *none);

/* A badge with the state of a change. */
void web_state(struct html *h, const char *state);

/* A table of changes (key, title, type, state, requester, created). */
void web_change_table(struct html *h, const json_t *changes, const char *empty);

/*
 * Restore drills: `drills` as dom_drill_list() gives it ({items, max_age_days,
 * last_passed_at, overdue}); each item's failed checks are named.
 */
void page_drills(struct html *h, const struct web_page *p, const json_t *drills);

/*
 * The incident list: `list` as dom_incident_list() gives it, `open_only`
 * the filter; below it the form to record an incident (not for
 * auditors), refilled from `values` with `error` shown when one was
 * refused (both may be NULL).
 */
void page_incidents(struct html *h, const struct web_page *p, const json_t *list, bool open_only,
		    const json_t *values, const char *error);

/*
 * One incident as dom_incident_read() gives it, its deadlines counting
 * down, and the forms the user's role may use (judge significant, close,
 * record a report, link, and for approvers sign the review); `done` a
 * notice or NULL, `error` a refusal to show or NULL.
 */
void page_incident(struct html *h, const struct web_page *p, const json_t *inc, const char *done,
		   const char *error);

/*
 * The webhook subscriptions (dom_webhook_list's {items, disabled}) with a
 * banner naming the disabled ones, and the form to subscribe one (refilled
 * from `refill` after a refusal; `kind`/`notice` as layout_notice).
 */
void page_webhooks(struct html *h, const struct web_page *p, const json_t *list,
		   const json_t *refill, const char *kind, const char *notice);

/*
 * One subscription (dom_webhook_read with deliveries) with its delivery log
 * and the forms to disable or enable it, replace its secret and delete it;
 * `secret` (or NULL) is shown once, after it was made.
 */
void page_webhook(struct html *h, const struct web_page *p, const json_t *w, const char *secret,
		  const char *kind, const char *notice);

/*
 * The directory settings: `settings` as GET /api/v1/directory gives them,
 * the form that tests the connection and looks a user up, and the outcome
 * of a test (`test` as POST /api/v1/directory/test answers, or `error`);
 * both may be NULL.
 */
void page_directory(struct html *h, const struct web_page *p, const json_t *settings,
		    const json_t *test, const char *error);

/*
 * The plant: `states` as dom_readback_states() gives it with diffs
 * ({items, counts}), grouped by site / area / line (the asset path without
 * its last segment), each asset's read-back state in its colour, its last
 * and last good read-back, the error of a failed one, the change a pending
 * device runs, and for each drift the semantic changes that make it.
 */
void page_plant(struct html *h, const struct web_page *p, const json_t *states, const char *prefix);

/* The collection agents: `agents` as dom_agent_list() gives it. */
void page_agents(struct html *h, const struct web_page *p, const json_t *agents);

/*
 * Samples of a period (web/page_samples.c): `samples` as dom_sample_list()
 * gives it ({items}), the draw form refilled from `refill` (from, to, size,
 * seed; may be NULL) and a notice (kind "error", "ok"; NULL for none).
 */
void page_samples(struct html *h, const struct web_page *p, const json_t *samples, const json_t *refill,
		  const char *notice_kind, const char *notice);

/* ---- patch management (web/page_patch.c; docs/patch.md) ---- */

/* The advisories (dom_advisory_list's items), with the import form when `may_import`. */
void page_advisories(struct html *h, const struct web_page *p, const json_t *items, bool may_import,
		     const char *kind, const char *notice);

/* One advisory as dom_advisory_read() gives it. */
void page_advisory(struct html *h, const struct web_page *p, const json_t *adv, const char *kind,
		   const char *notice);

/*
 * The exposure (dom_exposure()) of one asset (`asset` not NULL) or of the
 * assets below `prefix` (NULL: all), with the export links.
 */
void page_exposure(struct html *h, const struct web_page *p, const json_t *exposure, const json_t *asset,
		   const char *prefix);

/*
 * One assessment (dom_assessment_read()) with its signatures, and the form
 * to sign a new one when `may_sign` (a one-time code field when
 * `needs_code`); `refill` holds the fields a refused form had.
 */
void page_assessment(struct html *h, const struct web_page *p, const json_t *view, bool may_sign,
		     bool needs_code, const json_t *refill, const char *kind, const char *notice);

#endif
