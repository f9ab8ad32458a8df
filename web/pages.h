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

/* The login form; `username` refills the field, `error` (or NULL) explains a refusal. */
void page_login(struct html *h, const struct web_page *p, const char *username, const char *next,
		const char *error);

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
 * One asset: the asset, its refs [{name, commit}], the history of main
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
 * with "semantic" (diff_to_json, or null with "semantic_skipped"); the
 * unified patch text behind a switch.  `from` may be NULL (first version).
 */
void page_diff(struct html *h, const struct web_page *p, const json_t *asset, const char *from,
	       const char *to, const json_t *files, const char *patch, size_t patch_len);

/* One action on a change: what it is, whether the user may take it now, or why not. */
struct web_action {
	const char *label;           /* "Submit for authorisation" */
	const char *kind;            /* "transition", "sign", "release", "upload" */
	const char *value;           /* target state or signature meaning */
	bool allowed;
	const char *why;             /* the rule's sentence when not allowed */
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

/* ---- helpers the page files share (web/page_common.c) ---- */

/* The string member `key` of object `o`, or NULL. */
const char *web_str(const json_t *o, const char *key);

/* An RFC 3339 time as "2024-05-01 12:00:03" (UTC), in a <time> element. */
void web_time(struct html *h, const char *rfc3339);

/* The first 12 digits of a commit id, in <code>. */
void web_short(struct html *h, const char *oid);

/* A badge with the state of a change. */
void web_state(struct html *h, const char *state);

/* A table of changes (key, title, type, state, requester, created). */
void web_change_table(struct html *h, const json_t *changes, const char *empty);

#endif
