/*
 * server/h_changes.c - change tickets: raise, list, read, edit; lifecycle
 * transitions; deployments; release; the process settings; and the hook
 * the version upload calls for uploads made under a change.
 *
 *   POST  /api/v1/changes                          engineer, admin
 *   GET   /api/v1/changes                          all but agent
 *   GET   /api/v1/changes/{key}                    all but agent
 *   PATCH /api/v1/changes/{key}                    engineer, admin
 *   POST  /api/v1/changes/{key}/transitions        engineer, qa, approver, admin
 *   POST  /api/v1/changes/{key}/deployments        engineer, admin
 *   POST  /api/v1/changes/{key}/release            approver, admin
 *   GET   /api/v1/change-settings                  all but agent
 *   PUT   /api/v1/change-settings                  admin
 *
 * Every write locks the change's row first, so two requests on one change
 * run one after the other and the second sees what the first did.  The
 * rules are server/rules.c; a refusal rolls back, is audited on its own
 * and answers 409 with the rule's name.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/err.h"
#include "core/timeutil.h"
#include "server/handlers.h"
#include "domain/rules.h"
#include "server/svc.h"
#include "storage/assets.h"
#include "storage/audit.h"
#include "storage/changes.h"
#include "storage/deployments.h"
#include "storage/runs.h"
#include "storage/signatures.h"
#include "storage/repo.h"
#include "storage/repo_release.h"
#include "storage/users.h"

#define CHANGES_DEFAULT_LIMIT 50
#define READBACK_MAX_FILES 10000

/* ---- shared helpers ---- */

int chg_audit(struct http_req *req, struct db_conn *c, const char *action,
	      const char *object_type, const char *object_id, const json_t *before,
	      const json_t *after, const char *reason)
{
	struct audit_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.actor_id = req->who.user_id;
	ev.actor = req->who.user_id ? req->who.username : "anonymous";
	ev.role = req->who.user_id ? role_name(req->who.role) : NULL;
	ev.source = req->remote_addr;
	ev.request_id = req->request_id;
	ev.action = action;
	ev.object_type = object_type;
	ev.object_id = object_id;
	ev.before = before;
	ev.after = after;
	ev.reason = reason;
	return audit_append(NULL, c, &ev);
}

int chg_refused(struct http_req *req, struct db_conn **c, const char *action,
		const char *object_type, const char *object_id, int rc)
{
	char *msg, *field, *rule;
	json_t *after;

	if (rc != OTCM_ERULE && rc != OTCM_EAUTH)
		return rc;
	msg = arena_strdup(req->arena, err_message());
	field = err_field() ? arena_strdup(req->arena, err_field()) : NULL;
	rule = err_rule() ? arena_strdup(req->arena, err_rule()) : NULL;
	svc_end(*c);
	*c = NULL;
	after = json_pack("{s:s?, s:s?, s:s}", "rule", rule, "field", field, "message", msg);
	svc_audit_alone(req, action, object_type, object_id, NULL, after, msg);
	json_decref(after);
	err_set(rc, field, "%s", msg);
	if (rule)
		err_set_rule(rule);
	return rc;
}

int chg_load(struct rules_change *out, struct change_facts *facts, struct http_req *req,
	     struct db_conn *c, int64_t id)
{
	struct rules_asset *assets;
	size_t i;
	int rc;

	if ((rc = changes_facts(facts, req->arena, c, id)))
		return rc;
	assets = arena_alloc(req->arena, (facts->nassets + 1) * sizeof(*assets));
	for (i = 0; i < facts->nassets; i++) {
		assets[i].asset_id = facts->assets[i].asset_id;
		assets[i].tree = facts->assets[i].tree;
		assets[i].fat_passed = facts->assets[i].fat_passed;
		assets[i].approved = facts->assets[i].approved;
		assets[i].deployed = facts->assets[i].deployed;
		assets[i].sat_passed = facts->assets[i].sat_passed;
	}
	memset(out, 0, sizeof(*out));
	out->state = rules_state_from_name(facts->state);
	out->emergency = strcmp(facts->type, "emergency") == 0;
	out->requester_id = facts->requester_id;
	out->complete = facts->complete;
	out->authorised = facts->authorised;
	out->assets = assets;
	out->nassets = facts->nassets;
	out->contributors = facts->contributors;
	out->ncontributors = facts->ncontributors;
	return 0;
}

static const char *key_of(struct http_req *req, int64_t id)
{
	return arena_printf(req->arena, "CHG-%" PRId64, id);
}

/* ---- raise, read, edit ---- */

/* Read the editable fields of a body; planned_window is {start, end}. */
static int read_fields(struct change_fields *f, json_t *body)
{
	json_t *w = json_object_get(body, "planned_window");
	bool safety = false;
	int rc;

	memset(f, 0, sizeof(*f));
	f->safety_related = -1;
	if ((rc = json_get_str(body, "type", false, &f->type)) ||
	    (rc = json_get_str(body, "title", false, &f->title)) ||
	    (rc = json_get_str(body, "reason", false, &f->reason)) ||
	    (rc = json_get_str(body, "risk", false, &f->risk)) ||
	    (rc = json_get_str(body, "implementation_plan", false, &f->implementation_plan)) ||
	    (rc = json_get_str(body, "rollback_plan", false, &f->rollback_plan)) ||
	    (rc = json_get_bool(body, "safety_related", false, &safety)))
		return rc;
	if (json_object_get(body, "safety_related"))
		f->safety_related = safety;
	if (w) {
		json_t *s = json_object_get(w, "start"), *e = json_object_get(w, "end");

		if (!json_is_object(w) || (s && !json_is_string(s) && !json_is_null(s)) ||
		    (e && !json_is_string(e) && !json_is_null(e)))
			return err_set(OTCM_EINVAL, "planned_window",
				       "'planned_window' must be {\"start\": time, \"end\": time}");
		f->window_start = json_is_string(s) ? json_string_value(s) : "";
		f->window_end = json_is_string(e) ? json_string_value(e) : "";
	}
	return 0;
}

/* affected_assets: an array of asset ids; *out_n = -1 when absent. */
static int read_assets(int64_t **out, long *out_n, struct http_req *req, json_t *body)
{
	json_t *list = json_object_get(body, "affected_assets"), *v;
	size_t i;

	*out_n = -1;
	if (!list)
		return 0;
	if (!json_is_array(list) || json_array_size(list) > 1000)
		return err_set(OTCM_EINVAL, "affected_assets", "'affected_assets' must be an array of asset ids");
	*out = arena_alloc(req->arena, (json_array_size(list) + 1) * sizeof(int64_t));
	json_array_foreach(list, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) <= 0)
			return err_set(OTCM_EINVAL, "affected_assets", "'affected_assets' must be an array of asset ids");
		(*out)[i] = json_integer_value(v);
	}
	*out_n = (long)json_array_size(list);
	return 0;
}

int h_changes_create(struct http_req *req)
{
	static const char *const fields[] = { "type", "title", "reason", "risk", "safety_related",
		"implementation_plan", "rollback_plan", "planned_window", "affected_assets", NULL };
	json_t *body = NULL, *after = NULL;
	struct db_conn *c = NULL;
	struct change_fields f;
	int64_t *assets = NULL, id;
	long nassets;
	int rc;

	if ((rc = svc_body_json(&body, req)) || (rc = json_only_fields(body, fields)) ||
	    (rc = read_fields(&f, body)) || (rc = read_assets(&assets, &nassets, req, body)) ||
	    (rc = changes_check_fields(&f, true)))
		goto out;
	if ((rc = svc_begin(&c, req)) || (rc = changes_insert(&id, c, &f, req->who.user_id)) ||
	    (nassets > 0 && (rc = changes_set_assets(c, id, assets, (size_t)nassets))) ||
	    (rc = changes_get(&after, c, id)) ||
	    (rc = svc_audit(req, c, "change.create", "change", key_of(req, id), NULL, after)) ||
	    (rc = svc_commit(c)))
		goto out;
	http_set_header(req, "Location", arena_printf(req->arena, "/api/v1/changes/CHG-%" PRId64, id));
	rc = http_reply_json(req, 201, after);
	after = NULL;
out:
	svc_end(c);
	json_decref(body);
	json_decref(after);
	return rc;
}

static int query_flag(bool *out, struct http_req *req, const char *name)
{
	const char *v = http_query(req, name);

	*out = false;
	if (!v)
		return 0;
	if (strcmp(v, "true") && strcmp(v, "false"))
		return err_set(OTCM_EINVAL, name, "'%s' must be true or false", name);
	*out = strcmp(v, "true") == 0;
	return 0;
}

int h_changes_list(struct http_req *req)
{
	struct change_query q;
	const char *asset = http_query(req, "asset"), *limit = http_query(req, "limit");
	const char *cursor = http_query(req, "cursor");
	struct db_conn *c = NULL;
	json_t *list = NULL, *page;
	bool more;
	int rc;

	memset(&q, 0, sizeof(q));
	q.state = http_query(req, "state");
	q.type = http_query(req, "type");
	q.requester = http_query(req, "requester");
	q.from = http_query(req, "from");
	q.to = http_query(req, "to");
	q.limit = CHANGES_DEFAULT_LIMIT;
	if (q.state && rules_state_from_name(q.state) < 0)
		return err_set(OTCM_EINVAL, "state", "unknown state '%.40s'", q.state);
	if (asset && (rc = assets_parse_id(&q.asset_id, asset)))
		return err_set(OTCM_EINVAL, "asset", "'asset' must be an asset id");
	if (limit) {
		long v = strtol(limit, NULL, 10);

		if (v < 1 || v > CHANGES_MAX_LIMIT)
			return err_set(OTCM_EINVAL, "limit", "'limit' must be 1 to %d", CHANGES_MAX_LIMIT);
		q.limit = (unsigned)v;
	}
	if (cursor && changes_parse_key(&q.before_id, cursor))
		return err_set(OTCM_EINVAL, "cursor", "'cursor' must be a change key");
	if ((rc = query_flag(&q.overdue, req, "overdue")))
		return rc;
	if ((rc = svc_conn(&c, req)) || (rc = changes_list(&list, &more, c, &q)))
		goto out;
	page = json_pack("{s:o}", "items", list);
	if (more && json_array_size(list))
		json_object_set(page, "next_cursor",
				json_object_get(json_array_get(list, json_array_size(list) - 1), "key"));
	rc = http_reply_json(req, 200, page);
out:
	svc_end(c);
	return rc;
}

int h_changes_get(struct http_req *req)
{
	struct db_conn *c = NULL;
	json_t *out = NULL;
	int64_t id;
	int rc;

	if ((rc = changes_parse_key(&id, http_param(req, 0))))
		return rc;
	if ((rc = svc_conn(&c, req)) || (rc = changes_get_full(&out, c, id)))
		goto out;
	rc = http_reply_json(req, 200, out);
out:
	svc_end(c);
	return rc;
}

int h_changes_patch(struct http_req *req)
{
	static const char *const fields[] = { "type", "title", "reason", "risk", "safety_related",
		"implementation_plan", "rollback_plan", "planned_window", "affected_assets",
		"edit_reason", NULL };
	json_t *body = NULL, *before = NULL, *after = NULL;
	struct db_conn *c = NULL;
	struct change_fields f;
	const char *state, *why = NULL, *key = http_param(req, 0);
	int64_t *assets = NULL, id, requester;
	long nassets;
	int rc;

	if ((rc = changes_parse_key(&id, key)) || (rc = svc_body_json(&body, req)) ||
	    (rc = json_only_fields(body, fields)) || (rc = read_fields(&f, body)) ||
	    (rc = read_assets(&assets, &nassets, req, body)) ||
	    (rc = json_get_str(body, "edit_reason", false, &why)) ||
	    (rc = changes_check_fields(&f, false)))
		goto out;
	if ((rc = svc_begin(&c, req)) || (rc = changes_lock(&state, &requester, req->arena, c, id)))
		goto out;
	if (requester != req->who.user_id && req->who.role != ROLE_ADMIN) {
		err_set(OTCM_ERULE, "key", "only the requester or an administrator edits a change");
		err_set_rule("edit-role");
		rc = OTCM_ERULE;
	} else if ((rc = changes_get(&before, c, id)) == 0) {
		const char *type = json_string_value(json_object_get(before, "type"));

		rc = rules_can_edit(rules_state_from_name(state), why && *why, nassets >= 0,
				    f.type && type && strcmp(f.type, type) != 0);
	}
	if (rc) {
		rc = chg_refused(req, &c, "change.update.refused", "change", key, rc);
		goto out;
	}
	if ((rc = changes_update(c, id, &f)) ||
	    (nassets >= 0 && (rc = changes_set_assets(c, id, assets, (size_t)nassets))) ||
	    (rc = changes_get(&after, c, id)) ||
	    (rc = chg_audit(req, c, "change.update", "change", key, before, after, why)) ||
	    (rc = svc_commit(c)))
		goto out;
	rc = http_reply_json(req, 200, after);
	after = NULL;
out:
	svc_end(c);
	json_decref(body);
	json_decref(before);
	json_decref(after);
	return rc;
}

/* ---- transitions ---- */

int h_changes_transition(struct http_req *req)
{
	static const char *const fields[] = { "to", "reason", NULL };
	json_t *body = NULL, *before = NULL, *after = NULL;
	struct db_conn *c = NULL;
	struct change_facts facts;
	struct rules_change rc_view;
	const char *to, *why = NULL, *key = http_param(req, 0);
	int64_t id;
	int rc, target;

	if ((rc = changes_parse_key(&id, key)) || (rc = svc_body_json(&body, req)) ||
	    (rc = json_only_fields(body, fields)) || (rc = json_get_str(body, "to", true, &to)) ||
	    (rc = json_get_str(body, "reason", false, &why)))
		goto out;
	target = rules_state_from_name(to);
	if (target < 0) {
		rc = err_set(OTCM_EINVAL, "to", "unknown state '%.40s'", to);
		goto out;
	}
	if ((rc = svc_begin(&c, req)) ||
	    (rc = changes_lock(&facts.state, &facts.requester_id, req->arena, c, id)) ||
	    (rc = chg_load(&rc_view, &facts, req, c, id)))
		goto out;
	if ((rc = rules_transition(&rc_view, target, req->who.role, req->who.user_id))) {
		rc = chg_refused(req, &c, "change.transition.refused", "change", key, rc);
		goto out;
	}
	before = json_pack("{s:s}", "state", facts.state);
	if ((rc = changes_set_state(c, id, to)) || (rc = changes_get(&after, c, id)) ||
	    (rc = chg_audit(req, c, "change.transition", "change", key, before, after, why)) ||
	    (rc = svc_commit(c)))
		goto out;
	rc = http_reply_json(req, 200, after);
	after = NULL;
out:
	svc_end(c);
	json_decref(body);
	json_decref(before);
	json_decref(after);
	return rc;
}

/* ---- the upload hook ---- */

int chg_upload_check(struct http_req *req, struct db_conn *c, int64_t asset_id,
		     const char *change_key, char *out_branch, size_t n)
{
	struct change_facts facts;
	const char *state;
	json_t *before = NULL, *after = NULL;
	bool affected = false, back = false;
	int64_t id, requester;
	size_t i;
	int rc;

	if ((rc = changes_parse_key(&id, change_key)))
		return err_set(OTCM_EINVAL, "change", "'change' must name a change such as CHG-1");
	if ((rc = changes_lock(&state, &requester, req->arena, c, id)) ||
	    (rc = changes_facts(&facts, req->arena, c, id)))
		goto out;
	for (i = 0; i < facts.nassets; i++)
		if (facts.assets[i].asset_id == asset_id)
			affected = true;
	rc = rules_can_upload(&back, rules_state_from_name(state), affected);
	if (rc) {
		char *msg = arena_strdup(req->arena, err_message());
		const char *rule = arena_strdup(req->arena, err_rule() ? err_rule() : "");

		/* nothing is written yet: roll back, and keep only the audit of the refusal */
		after = json_pack("{s:s, s:I, s:s}", "rule", rule, "asset", (json_int_t)asset_id,
				  "message", msg);
		if (db_rollback(c) == 0 && db_begin(c) == 0 &&
		    chg_audit(req, c, "change.upload.refused", "change", change_key, NULL, after, msg) == 0)
			db_commit(c);
		err_set(OTCM_ERULE, "change", "%s", msg);
		err_set_rule(rule);
		rc = OTCM_ERULE;
		goto out;
	}
	if (back) {
		before = json_pack("{s:s}", "state", state);
		after = json_pack("{s:s}", "state", "implementing");
		if ((rc = changes_set_state(c, id, "implementing")) ||
		    (rc = chg_audit(req, c, "change.transition", "change", change_key, before, after,
				    "a new version was uploaded during FAT")))
			goto out;
	}
	if ((size_t)snprintf(out_branch, n, "changes/CHG-%" PRId64, id) >= n)
		rc = err_set(OTCM_EINTERNAL, NULL, "branch name does not fit");
out:
	json_decref(before);
	json_decref(after);
	return rc;
}

int chg_upload_record(struct http_req *req, struct db_conn *c, int64_t asset_id,
		      const char *change_key, const char *commit, const char *tree)
{
	json_t *stale = NULL;
	int64_t id;
	int rc;

	if ((rc = changes_parse_key(&id, change_key)) ||
	    (rc = changes_add_version(c, id, asset_id, commit, tree, req->who.user_id)) ||
	    (rc = changes_stale_for(&stale, c, id, asset_id, tree)))
		goto out;
	json_object_set_new(stale, "asset", json_integer(asset_id));
	json_object_set_new(stale, "commit", json_string(commit));
	json_object_set_new(stale, "tree", json_string(tree));
	rc = chg_audit(req, c, "change.version", "change", change_key, NULL, stale,
		       "runs and approvals of other trees of this asset no longer count");
out:
	json_decref(stale);
	return rc;
}

/* ---- deployments ---- */

/* Does `sha` equal the SHA-256 of one file of `commit` (what a device reads back)? */
static int readback_matches(bool *out, struct db_conn *c, int64_t asset, const char *commit,
			    const char *sha)
{
	struct repo *r = NULL;
	json_t *files = NULL, *f;
	size_t i;
	int rc;

	*out = false;
	if ((rc = repo_open(&r, c, asset)) || (rc = repo_list_files(&files, r, commit)))
		goto out;
	json_array_foreach(files, i, f) {
		const char *path = json_string_value(json_object_get(f, "path"));
		char blob[REPO_OID_HEX], hex[2 * CRYPTO_SHA256_LEN + 1];
		void *data = NULL;
		size_t len = 0;

		if (i >= READBACK_MAX_FILES || !path)
			break;
		if ((rc = repo_read_file(&data, &len, blob, r, commit, path)))
			goto out;
		crypto_sha256_hex(hex, data, len);
		free(data);
		if (strcmp(hex, sha) == 0) {
			*out = true;
			break;
		}
	}
out:
	json_decref(files);
	repo_free(r);
	return rc;
}

static bool is_hex(const char *s, size_t n)
{
	size_t i;

	if (!s || strlen(s) != n)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int h_changes_deploy(struct http_req *req)
{
	static const char *const fields[] = { "asset_id", "commit", "readback_sha256", "note", NULL };
	json_t *body = NULL, *after = NULL;
	struct db_conn *c = NULL;
	struct change_facts facts;
	struct rules_change view;
	struct deployment_record d;
	const char *key = http_param(req, 0), *commit, *sha = NULL, *note = NULL, *tree = NULL;
	int64_t id, asset = 0;
	size_t i, idx = 0;
	bool found = false, match = false;
	int rc;

	if ((rc = changes_parse_key(&id, key)) || (rc = svc_body_json(&body, req)) ||
	    (rc = json_only_fields(body, fields)) || (rc = json_get_int(body, "asset_id", true, &asset)) ||
	    (rc = json_get_str(body, "commit", true, &commit)) ||
	    (rc = json_get_str(body, "readback_sha256", false, &sha)) ||
	    (rc = json_get_str(body, "note", false, &note)))
		goto out;
	if (!is_hex(commit, 40)) {
		rc = err_set(OTCM_EINVAL, "commit", "'commit' must be a 40-digit lowercase commit id");
		goto out;
	}
	if (sha && !is_hex(sha, 64)) {
		rc = err_set(OTCM_EINVAL, "readback_sha256", "'readback_sha256' must be 64 lowercase hex digits");
		goto out;
	}
	if (note && strlen(note) > 4000) {
		rc = err_set(OTCM_EINVAL, "note", "'note' must be 4000 characters at most");
		goto out;
	}
	if ((rc = svc_begin(&c, req)) ||
	    (rc = changes_lock(&facts.state, &facts.requester_id, req->arena, c, id)) ||
	    (rc = chg_load(&view, &facts, req, c, id)))
		goto out;
	for (i = 0; i < facts.nassets; i++)
		if (facts.assets[i].asset_id == asset) {
			found = true;
			idx = i;
		}
	if (!found) {
		rc = err_set(OTCM_EINVAL, "asset_id", "asset %" PRId64 " is not affected by '%s'", asset, key);
		goto out;
	}
	if ((rc = changes_version_tree(&tree, req->arena, c, id, asset, commit)))
		goto out;
	if ((rc = rules_can_deploy(&view, idx, tree))) {
		rc = chg_refused(req, &c, "change.deployment.refused", "change", key, rc);
		goto out;
	}
	if (sha && (rc = readback_matches(&match, c, asset, commit, sha)))
		goto out;
	memset(&d, 0, sizeof(d));
	d.change_id = id;
	d.asset_id = asset;
	d.commit = commit;
	d.tree = tree;
	d.readback_sha256 = sha;
	d.readback_match = sha ? match : -1;
	d.note = note;
	d.deployed_by = req->who.user_id;
	if ((rc = deployments_insert(&after, c, &d)) ||
	    (rc = chg_audit(req, c, sha && !match ? "change.deployment.mismatch" : "change.deployment",
			    "change", key, NULL, after,
			    sha && !match ? "the device read-back does not match the deployed tree" : NULL)) ||
	    (rc = svc_commit(c)))
		goto out;
	rc = http_reply_json(req, 201, after);
	after = NULL;
out:
	svc_end(c);
	json_decref(body);
	json_decref(after);
	return rc;
}

/* ---- release ---- */

/* Move main of one asset to the change branch head and tag it; out gets {asset, main, tag}. */
static int release_asset(json_t **out, struct http_req *req, struct db_conn *c, int64_t change,
			 const struct change_asset_facts *a, const struct repo_signature *who)
{
	struct repo *r = NULL;
	char main_ref[300], old_main[REPO_OID_HEX] = "", new_main[REPO_OID_HEX], tag[REPO_OID_HEX];
	const char *key = key_of(req, change), *how;
	bool ancestor = false;
	int rc;

	if ((rc = repo_open(&r, c, a->asset_id)) || (rc = repo_branch_ref(main_ref, sizeof(main_ref), "main")))
		goto out;
	rc = repo_ref_get(old_main, r, main_ref);
	if (rc == OTCM_ENOTFOUND) {
		old_main[0] = '\0';
		rc = 0;
	}
	if (rc)
		goto out;
	if (old_main[0] && (rc = repo_is_ancestor(&ancestor, r, old_main, a->commit)))
		goto out;
	if (!old_main[0] || ancestor) {
		memcpy(new_main, a->commit, REPO_OID_HEX);
		how = old_main[0] && strcmp(old_main, a->commit) == 0 ? "unchanged" : "fast-forward";
	} else {
		char *msg = arena_printf(req->arena, "Release %s: merge %s into main\n", key, key);

		if ((rc = repo_release_merge(new_main, c, a->tree, old_main, a->commit, who, msg)))
			goto out;
		how = "merge";
	}
	if (strcmp(how, "unchanged") &&
	    (rc = repo_ref_cas(r, main_ref, old_main[0] ? old_main : NULL, new_main)))
		goto out;
	if ((rc = repo_tag_create(tag, r, key, new_main, who,
				  arena_printf(req->arena, "%s released\n", key))))
		goto out;
	*out = json_pack("{s:I, s:s, s:s?, s:s, s:s, s:s, s:s}", "asset", (json_int_t)a->asset_id,
			 "path", a->path, "old_main", old_main[0] ? old_main : NULL, "main", new_main,
			 "tree", a->tree, "how", how, "tag", tag);
out:
	repo_free(r);
	return rc;
}

int h_changes_release(struct http_req *req)
{
	static const char *const fields[] = { "password", "totp_code", "reason", NULL };
	json_t *body = NULL, *content = NULL, *trees = NULL, *assets = NULL, *sig = NULL;
	json_t *after = NULL, *before = NULL, *moved = NULL;
	struct db_conn *c = NULL;
	struct change_facts facts;
	struct rules_change view;
	struct repo_signature who;
	struct user u;
	const char *key = http_param(req, 0), *method = NULL, *why = NULL;
	int64_t id;
	size_t i;
	int rc;

	if ((rc = changes_parse_key(&id, key)) || (rc = svc_body_json(&body, req)) ||
	    (rc = json_only_fields(body, fields)) || (rc = json_get_str(body, "reason", false, &why)))
		goto out;
	if ((rc = svc_begin(&c, req)) ||
	    (rc = changes_lock(&facts.state, &facts.requester_id, req->arena, c, id)) ||
	    (rc = chg_load(&view, &facts, req, c, id)))
		goto out;
	if ((rc = chg_reauth(&method, req, c, body)) || (rc = rules_can_release(&view))) {
		rc = chg_refused(req, &c, "change.release.refused", "change", key, rc);
		goto out;
	}
	if ((rc = users_by_id(&u, req->arena, c, req->who.user_id, false)))
		goto out;
	who.name = u.display_name && *u.display_name ? u.display_name : u.username;
	who.email = u.email && *u.email ? u.email : arena_printf(req->arena, "%s@otcm.invalid", u.username);
	who.time_us = time_now_us();
	moved = json_array();
	for (i = 0; i < facts.nassets; i++) {
		json_t *one = NULL;

		if ((rc = release_asset(&one, req, c, id, &facts.assets[i], &who)))
			goto out;
		json_array_append_new(moved, one);
	}
	trees = json_object();
	for (i = 0; i < facts.nassets; i++)
		json_object_set_new(trees, arena_printf(req->arena, "%" PRId64, facts.assets[i].asset_id),
				    json_string(facts.assets[i].tree));
	if ((rc = changes_get(&content, c, id)))
		goto out;
	json_object_set(content, "release", moved);
	if ((rc = chg_sign(&sig, req, c, id, 0, "released", method, content, trees)))
		goto out;
	before = json_pack("{s:s}", "state", facts.state);
	if ((rc = changes_set_state(c, id, "released")) || (rc = changes_get(&after, c, id)))
		goto out;
	json_object_set(after, "release", moved);
	json_object_set(after, "signature", sig);
	if ((rc = chg_audit(req, c, "change.release", "change", key, before, after, why)) ||
	    (rc = svc_commit(c)))
		goto out;
	rc = http_reply_json(req, 200, after);
	after = NULL;
out:
	svc_end(c);
	json_decref(body);
	json_decref(content);
	json_decref(trees);
	json_decref(assets);
	json_decref(sig);
	json_decref(before);
	json_decref(after);
	json_decref(moved);
	return rc;
}

/* ---- settings ---- */

int h_change_settings_get(struct http_req *req)
{
	struct db_conn *c = NULL;
	json_t *out = NULL;
	int rc;

	if ((rc = svc_conn(&c, req)) || (rc = changes_settings_get(&out, c)))
		goto out;
	rc = http_reply_json(req, 200, out);
out:
	svc_end(c);
	return rc;
}

int h_change_settings_put(struct http_req *req)
{
	static const char *const fields[] = { "emergency_approval_seconds", NULL };
	json_t *body = NULL, *before = NULL, *after = NULL;
	struct db_conn *c = NULL;
	int64_t secs = 0;
	int rc;

	if ((rc = svc_body_json(&body, req)) || (rc = json_only_fields(body, fields)) ||
	    (rc = json_get_int(body, "emergency_approval_seconds", true, &secs)))
		goto out;
	if ((rc = svc_begin(&c, req)) || (rc = changes_settings_get(&before, c)) ||
	    (rc = changes_settings_set(c, secs)) || (rc = changes_settings_get(&after, c)) ||
	    (rc = svc_audit(req, c, "change.settings", "settings", "change", before, after)) ||
	    (rc = svc_commit(c)))
		goto out;
	rc = http_reply_json(req, 200, after);
	after = NULL;
out:
	svc_end(c);
	json_decref(body);
	json_decref(before);
	json_decref(after);
	return rc;
}
