/*
 * domain/changes.c - change tickets through their lifecycle; see changes.h.
 *
 * Every write locks the change's row first (dom_change_lock), so two
 * requests on one change run one after the other and the second sees
 * what the first did.  The rules are domain/rules.c; a refusal rolls back,
 * is audited on its own (dom_refused) and answers 409 with the rule's name.
 */
#include "domain/changes.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "domain/assessments.h"
#include "domain/auth.h"
#include "domain/inventory.h"
#include "domain/readbacks.h"
#include "domain/signing.h"
#include "storage/assets.h"
#include "storage/audit.h"
#include "storage/deployments.h"
#include "storage/firmware.h"
#include "storage/repo.h"
#include "storage/repo_release.h"
#include "storage/users.h"

#define CHANGES_DEFAULT_LIMIT 50
#define READBACK_MAX_FILES 10000
#define NOTE_MAX 4000

/* ---- shared ---- */

int dom_change_role_may(const struct dom *d, enum dom_op op)
{
	const struct dom_op_info *info = dom_op_info(op);
	unsigned role = d->who ? d->who->role : 0;

	if (role & info->roles)
		return 0;
	err_set(OTCM_EFORBIDDEN, NULL, "role '%s' may not %s", role_name(role) ? role_name(role) : "none",
		info->what);
	err_set_rule("role-permission");
	return OTCM_EFORBIDDEN;
}

static const char *key_of(const struct dom *d, int64_t id)
{
	return arena_printf(d->arena, "CHG-%" PRId64, id);
}

int dom_change_load(struct dom_change_state *out, const struct dom *d, struct db_conn *c, int64_t id)
{
	struct change_facts *f = &out->facts;
	struct rules_asset *assets;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	out->id = id;
	out->key = key_of(d, id);
	if ((rc = changes_facts(f, d->arena, c, id)))
		return rc;
	assets = arena_alloc(d->arena, (f->nassets + 1) * sizeof(*assets));
	for (i = 0; i < f->nassets; i++) {
		assets[i].asset_id = f->assets[i].asset_id;
		assets[i].tree = f->assets[i].tree;
		assets[i].fat_passed = f->assets[i].fat_passed;
		assets[i].approved = f->assets[i].approved;
		assets[i].deployed = f->assets[i].deployed;
		assets[i].sat_passed = f->assets[i].sat_passed;
	}
	out->view.state = rules_state_from_name(f->state);
	out->view.emergency = strcmp(f->type, "emergency") == 0;
	out->view.requester_id = f->requester_id;
	out->view.complete = f->complete;
	out->view.authorised = f->authorised;
	out->view.assets = assets;
	out->view.nassets = f->nassets;
	out->view.contributors = f->contributors;
	out->view.ncontributors = f->ncontributors;
	return 0;
}

int dom_change_lock(struct dom_change_state *out, const struct dom *d, struct db_conn *c,
		    const char *key)
{
	const char *state;
	int64_t id, requester;
	int rc;

	if ((rc = changes_parse_key(&id, key)) ||
	    (rc = changes_lock(&state, &requester, d->arena, c, id)))
		return rc;
	return dom_change_load(out, d, c, id);
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
static int read_assets(int64_t **out, long *out_n, const struct dom *d, json_t *body)
{
	json_t *list = json_object_get(body, "affected_assets"), *v;
	size_t i;

	*out_n = -1;
	if (!list)
		return 0;
	if (!json_is_array(list) || json_array_size(list) > 1000)
		return err_set(OTCM_EINVAL, "affected_assets", "'affected_assets' must be an array of asset ids");
	*out = arena_alloc(d->arena, (json_array_size(list) + 1) * sizeof(int64_t));
	json_array_foreach(list, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) <= 0)
			return err_set(OTCM_EINVAL, "affected_assets", "'affected_assets' must be an array of asset ids");
		(*out)[i] = json_integer_value(v);
	}
	*out_n = (long)json_array_size(list);
	return 0;
}

/* The body as jansson's mutable type: the readers of core/json.h do not change it. */
static json_t *body_of(const json_t *in)
{
	return (json_t *)in;
}

int dom_change_create(json_t **out, const struct dom *d, const json_t *in)
{
	static const char *const fields[] = { "type", "title", "reason", "risk", "safety_related",
		"implementation_plan", "rollback_plan", "planned_window", "affected_assets", NULL };
	json_t *body = body_of(in), *after = NULL;
	struct db_conn *c = NULL;
	struct change_fields f;
	int64_t *assets = NULL, id;
	long nassets;
	int rc;

	if ((rc = dom_permit(d, OP_CHANGE_CREATE)))
		return rc;
	if ((rc = json_only_fields(body, fields)) || (rc = read_fields(&f, body)) ||
	    (rc = read_assets(&assets, &nassets, d, body)) || (rc = changes_check_fields(&f, true)))
		goto out;
	if ((rc = dom_begin(&c, d)) || (rc = changes_insert(&id, c, &f, d->who->user_id)) ||
	    (nassets > 0 && (rc = changes_set_assets(c, id, assets, (size_t)nassets))) ||
	    (rc = changes_get(&after, c, id)) ||
	    (rc = dom_audit(d, c, "change.create", "change", key_of(d, id), NULL, after, NULL)) ||
	    (rc = dom_commit(c)))
		goto out;
	*out = after;
	after = NULL;
out:
	dom_end(c);
	json_decref(after);
	return rc;
}

static int query_flag(bool *out, const char *v, const char *name)
{
	*out = false;
	if (!v)
		return 0;
	if (strcmp(v, "true") && strcmp(v, "false"))
		return err_set(OTCM_EINVAL, name, "'%s' must be true or false", name);
	*out = strcmp(v, "true") == 0;
	return 0;
}

int dom_change_list(json_t **out, const struct dom *d, const struct dom_change_query *in)
{
	struct change_query q;
	struct db_conn *c = NULL;
	json_t *list = NULL, *page;
	bool more;
	int rc;

	if ((rc = dom_permit(d, OP_CHANGE_READ)))
		return rc;
	memset(&q, 0, sizeof(q));
	q.state = in->state;
	q.type = in->type;
	q.requester = in->requester;
	q.from = in->from;
	q.to = in->to;
	q.limit = CHANGES_DEFAULT_LIMIT;
	if (q.state && rules_state_from_name(q.state) < 0)
		return err_set(OTCM_EINVAL, "state", "unknown state '%.40s'", q.state);
	if (in->asset && assets_parse_id(&q.asset_id, in->asset))
		return err_set(OTCM_EINVAL, "asset", "'asset' must be an asset id");
	if (in->limit) {
		long v = strtol(in->limit, NULL, 10);

		if (v < 1 || v > CHANGES_MAX_LIMIT)
			return err_set(OTCM_EINVAL, "limit", "'limit' must be 1 to %d", CHANGES_MAX_LIMIT);
		q.limit = (unsigned)v;
	}
	if (in->cursor && changes_parse_key(&q.before_id, in->cursor))
		return err_set(OTCM_EINVAL, "cursor", "'cursor' must be a change key");
	if ((rc = query_flag(&q.overdue, in->overdue, "overdue")))
		return rc;
	if ((rc = dom_conn(&c, d)) || (rc = changes_list(&list, &more, c, &q)))
		goto out;
	page = json_pack("{s:o}", "items", list);
	if (more && json_array_size(list))
		json_object_set(page, "next_cursor",
				json_object_get(json_array_get(list, json_array_size(list) - 1), "key"));
	*out = page;
out:
	dom_end(c);
	return rc;
}

int dom_change_read(json_t **out, const struct dom *d, const char *key)
{
	struct db_conn *c = NULL;
	int64_t id;
	int rc;

	if ((rc = dom_permit(d, OP_CHANGE_READ)))
		return rc;
	if ((rc = changes_parse_key(&id, key)))
		return rc;
	if ((rc = dom_conn(&c, d)) == 0)
		rc = changes_get_full(out, c, id);
	dom_end(c);
	return rc;
}

int dom_change_trail(json_t **out, const struct dom *d, const char *key, unsigned limit)
{
	struct db_conn *c = NULL;
	int64_t id;
	int rc;

	if ((rc = dom_permit(d, OP_CHANGE_READ)) || (rc = changes_parse_key(&id, key)))
		return rc;
	if ((rc = dom_conn(&c, d)) == 0)
		rc = audit_list(out, c, "change", arena_printf(d->arena, "CHG-%" PRId64, id), 0, limit);
	dom_end(c);
	return rc;
}

int dom_change_update(json_t **out, const struct dom *d, const char *key, const json_t *in)
{
	static const char *const fields[] = { "type", "title", "reason", "risk", "safety_related",
		"implementation_plan", "rollback_plan", "planned_window", "affected_assets",
		"edit_reason", NULL };
	json_t *body = body_of(in), *before = NULL, *after = NULL;
	struct db_conn *c = NULL;
	struct change_fields f;
	const char *state, *type, *why = NULL;
	int64_t *assets = NULL, id = 0, requester;
	long nassets;
	int rc;

	if ((rc = dom_permit(d, OP_CHANGE_UPDATE)))
		return rc;
	if ((rc = changes_parse_key(&id, key)) || (rc = json_only_fields(body, fields)) ||
	    (rc = read_fields(&f, body)) || (rc = read_assets(&assets, &nassets, d, body)) ||
	    (rc = json_get_str(body, "edit_reason", false, &why)) ||
	    (rc = changes_check_fields(&f, false)))
		goto out;
	if ((rc = dom_begin(&c, d)) || (rc = changes_lock(&state, &requester, d->arena, c, id)) ||
	    (rc = changes_get(&before, c, id)))
		goto out;
	if (requester != d->who->user_id && d->who->role != ROLE_ADMIN) {
		err_set(OTCM_ERULE, "key", "only the requester or an administrator edits a change");
		err_set_rule("edit-role");
		rc = OTCM_ERULE;
		goto out;
	}
	type = json_string_value(json_object_get(before, "type"));
	if ((rc = rules_can_edit(rules_state_from_name(state), why && *why, nassets >= 0,
				 f.type && type && strcmp(f.type, type) != 0)))
		goto out;
	if ((rc = changes_update(c, id, &f)) ||
	    (nassets >= 0 && (rc = changes_set_assets(c, id, assets, (size_t)nassets))) ||
	    (rc = changes_get(&after, c, id)) ||
	    (rc = dom_audit(d, c, "change.update", "change", key_of(d, id), before, after, why)) ||
	    (rc = dom_commit(c)))
		goto out;
	*out = after;
	after = NULL;
out:
	if (rc)
		rc = dom_refused(d, &c, "change.update.refused", "change", id ? key_of(d, id) : key, rc);
	dom_end(c);
	json_decref(before);
	json_decref(after);
	return rc;
}

/* ---- transitions ---- */

int dom_change_transition(json_t **out, const struct dom *d, const char *key, const json_t *in)
{
	static const char *const fields[] = { "to", "reason", NULL };
	json_t *body = body_of(in), *before = NULL, *after = NULL;
	struct db_conn *c = NULL;
	struct dom_change_state ch;
	const char *to, *why = NULL;
	int rc, target;

	memset(&ch, 0, sizeof(ch));
	if ((rc = dom_permit(d, OP_CHANGE_TRANSITION)))
		return rc;
	if ((rc = json_only_fields(body, fields)) || (rc = json_get_str(body, "to", true, &to)) ||
	    (rc = json_get_str(body, "reason", false, &why)))
		goto out;
	target = rules_state_from_name(to);
	if (target < 0) {
		rc = err_set(OTCM_EINVAL, "to", "unknown state '%.40s'", to);
		goto out;
	}
	if ((rc = dom_begin(&c, d)) || (rc = dom_change_lock(&ch, d, c, key)) ||
	    (rc = rules_transition(&ch.view, target, d->who->role, d->who->user_id)))
		goto out;
	before = json_pack("{s:s}", "state", ch.facts.state);
	if ((rc = changes_set_state(c, ch.id, to)) || (rc = changes_get(&after, c, ch.id)) ||
	    (rc = dom_audit(d, c, "change.transition", "change", ch.key, before, after, why)) ||
	    (rc = dom_commit(c)))
		goto out;
	*out = after;
	after = NULL;
out:
	if (rc)
		rc = dom_refused(d, &c, "change.transition.refused", "change", ch.key ? ch.key : key, rc);
	dom_end(c);
	json_decref(before);
	json_decref(after);
	return rc;
}

/* ---- the upload hooks ---- */

int dom_change_upload_check(char *out_branch, size_t n, const struct dom *d, struct db_conn *c,
			    int64_t asset_id, const char *change_key)
{
	struct dom_change_state ch;
	json_t *before = NULL, *after = NULL;
	bool affected = false, back = false;
	int64_t id;
	size_t i;
	int rc;

	if (changes_parse_key(&id, change_key))
		return err_set(OTCM_EINVAL, "change", "'change' must name a change such as CHG-1");
	if ((rc = dom_change_lock(&ch, d, c, change_key)))
		goto out;
	for (i = 0; i < ch.facts.nassets; i++)
		if (ch.facts.assets[i].asset_id == asset_id)
			affected = true;
	rc = rules_can_upload(&back, ch.view.state, affected);
	if (rc) {
		char *msg = arena_strdup(d->arena, err_message());
		const char *rule = arena_strdup(d->arena, err_rule() ? err_rule() : "");

		/* nothing is written yet: roll back, and keep only the audit of the refusal */
		after = json_pack("{s:s, s:s, s:I, s:s, s:s}", "rule", rule, "field", "change", "asset",
				  (json_int_t)asset_id, "message", msg, "door",
				  door_name(d->who ? d->who->door : DOOR_API));
		if (db_rollback(c) == 0 && db_begin(c) == 0 &&
		    dom_audit(d, c, "change.upload.refused", "change", ch.key, NULL, after, msg) == 0)
			db_commit(c);
		err_set(OTCM_ERULE, "change", "%s", msg);
		err_set_rule(rule);
		rc = OTCM_ERULE;
		goto out;
	}
	if (back) {
		before = json_pack("{s:s}", "state", ch.facts.state);
		after = json_pack("{s:s}", "state", "implementing");
		if ((rc = changes_set_state(c, ch.id, "implementing")) ||
		    (rc = dom_audit(d, c, "change.transition", "change", ch.key, before, after,
				    "a new version was uploaded during FAT")))
			goto out;
	}
	if ((size_t)snprintf(out_branch, n, "changes/%s", ch.key) >= n)
		rc = err_set(OTCM_EINTERNAL, NULL, "branch name does not fit");
out:
	json_decref(before);
	json_decref(after);
	return rc;
}

int dom_change_upload_record(const struct dom *d, struct db_conn *c, int64_t asset_id,
			     const char *change_key, const char *commit, const char *tree)
{
	json_t *stale = NULL;
	int64_t id;
	int rc;

	if ((rc = changes_parse_key(&id, change_key)) ||
	    (rc = changes_add_version(c, id, asset_id, commit, tree, d->who->user_id)) ||
	    (rc = changes_stale_for(&stale, c, id, asset_id, tree)))
		goto out;
	json_object_set_new(stale, "asset", json_integer(asset_id));
	json_object_set_new(stale, "commit", json_string(commit));
	json_object_set_new(stale, "tree", json_string(tree));
	rc = dom_audit(d, c, "change.version", "change", key_of(d, id), NULL, stale,
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

int dom_change_deploy(json_t **out, const struct dom *d, const char *key, const json_t *in)
{
	static const char *const fields[] = { "asset_id", "commit", "readback_sha256", "note", NULL };
	json_t *body = body_of(in), *after = NULL;
	struct db_conn *c = NULL;
	struct dom_change_state ch;
	struct deployment_record rec;
	const char *commit, *sha = NULL, *note = NULL, *tree = NULL;
	int64_t asset = 0;
	size_t i, idx = 0;
	bool found = false, match = false;
	int rc;

	memset(&ch, 0, sizeof(ch));
	if ((rc = dom_permit(d, OP_CHANGE_DEPLOY)))
		return rc;
	if ((rc = json_only_fields(body, fields)) || (rc = json_get_int(body, "asset_id", true, &asset)) ||
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
	if (note && strlen(note) > NOTE_MAX) {
		rc = err_set(OTCM_EINVAL, "note", "'note' must be %d characters at most", NOTE_MAX);
		goto out;
	}
	if ((rc = dom_begin(&c, d)) || (rc = dom_change_lock(&ch, d, c, key)))
		goto out;
	for (i = 0; i < ch.facts.nassets; i++)
		if (ch.facts.assets[i].asset_id == asset) {
			found = true;
			idx = i;
		}
	if (!found) {
		rc = err_set(OTCM_EINVAL, "asset_id", "asset %" PRId64 " is not affected by '%s'", asset, ch.key);
		goto out;
	}
	if ((rc = changes_version_tree(&tree, d->arena, c, ch.id, asset, commit)) ||
	    (rc = rules_can_deploy(&ch.view, idx, tree)))
		goto out;
	if (sha && (rc = readback_matches(&match, c, asset, commit, sha)))
		goto out;
	memset(&rec, 0, sizeof(rec));
	rec.change_id = ch.id;
	rec.asset_id = asset;
	rec.commit = commit;
	rec.tree = tree;
	rec.readback_sha256 = sha;
	rec.readback_match = sha ? match : -1;
	rec.note = note;
	rec.deployed_by = d->who->user_id;
	if ((rc = deployments_insert(&after, c, &rec)) ||
	    /* an agent reads the device back now: that read-back replaces the typed hash */
	    (rc = dom_readback_after_deploy(d, c, asset,
					    json_integer_value(json_object_get(after, "id")))) ||
	    (rc = dom_audit(d, c, sha && !match ? "change.deployment.mismatch" : "change.deployment",
			    "change", ch.key, NULL, after,
			    sha && !match ? "the device read-back does not match the deployed tree" : NULL)) ||
	    (rc = dom_commit(c)))
		goto out;
	*out = after;
	after = NULL;
out:
	if (rc)
		rc = dom_refused(d, &c, "change.deployment.refused", "change", ch.key ? ch.key : key, rc);
	dom_end(c);
	json_decref(after);
	return rc;
}

/* ---- release ---- */

/* Move main of one asset to the change branch head and tag it; out gets {asset, main, tag}. */
static int release_asset(json_t **out, const struct dom *d, struct db_conn *c, const char *key,
			 const struct change_asset_facts *a, const struct repo_signature *who)
{
	struct repo *r = NULL;
	char main_ref[300], old_main[REPO_OID_HEX] = "", new_main[REPO_OID_HEX], tag[REPO_OID_HEX];
	const char *how;
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
		char *msg = arena_printf(d->arena, "Release %s: merge %s into main\n", key, key);

		if ((rc = repo_release_merge(new_main, c, a->tree, old_main, a->commit, who, msg)))
			goto out;
		how = "merge";
	}
	if (strcmp(how, "unchanged") &&
	    (rc = repo_ref_cas(r, main_ref, old_main[0] ? old_main : NULL, new_main)))
		goto out;
	if ((rc = repo_tag_create(tag, r, key, new_main, who, arena_printf(d->arena, "%s released\n", key))))
		goto out;
	*out = json_pack("{s:I, s:s, s:s?, s:s, s:s, s:s, s:s}", "asset", (json_int_t)a->asset_id,
			 "path", a->path, "old_main", old_main[0] ? old_main : NULL, "main", new_main,
			 "tree", a->tree, "how", how, "tag", tag);
out:
	repo_free(r);
	return rc;
}

/*
 * A firmware update's release conditions (rules_firmware_release) on c,
 * the change locked: *out gets the change's updates ([] for a change that
 * updates no firmware), the caller's.
 */
static int firmware_release_check(json_t **out, struct db_conn *c, int64_t change_id)
{
	struct rules_firmware *fw;
	json_t *list = NULL, *x, *pkg;
	size_t i;
	int rc;

	if ((rc = firmware_list(&list, c, change_id)))
		return rc;
	fw = xcalloc(json_array_size(list) + 1, sizeof(*fw));
	json_array_foreach(list, i, x) {
		pkg = json_object_get(x, "package");
		fw[i].asset_id = json_integer_value(json_object_get(x, "asset_id"));
		fw[i].before = json_string_value(json_object_get(x, "before"));
		fw[i].after = json_string_value(json_object_get(x, "after"));
		fw[i].package_sha256 = json_string_value(json_object_get(pkg, "sha256"));
		fw[i].advisory = json_string_value(json_object_get(x, "advisory"));
	}
	rc = rules_firmware_release(fw, json_array_size(list));
	free(fw);
	if (rc) {
		json_decref(list);
		return rc;
	}
	*out = list;
	return 0;
}

/*
 * Each released firmware update's after-firmware into its asset's inventory
 * (source "change"), and its advisory's assessment on the asset marked fixed
 * by the change (domain/assessments.h).
 */
static int firmware_released(const struct dom *d, struct db_conn *c, const char *key, const json_t *updates)
{
	const json_t *x;
	size_t i;
	int rc;

	json_array_foreach(updates, i, x) {
		struct inv_observation obs;
		char aid[24];

		memset(&obs, 0, sizeof(obs));
		obs.firmware = json_string_value(json_object_get(x, "after"));
		snprintf(aid, sizeof(aid), "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(x, "asset_id")));
		if ((rc = dom_inventory_observe(d, c, aid, &obs, "change", key)) ||
		    (rc = dom_assessment_fixed_by_change(d, c, json_string_value(json_object_get(x, "advisory")), aid,
							 key)))
			return rc;
	}
	return 0;
}

int dom_change_release(json_t **out, const struct dom *d, const char *key, const json_t *in)
{
	static const char *const fields[] = { "password", "totp_code", "reason", NULL };
	json_t *body = body_of(in), *content = NULL, *trees = NULL, *sig = NULL;
	json_t *after = NULL, *before = NULL, *moved = NULL, *firmware = NULL;
	struct db_conn *c = NULL;
	struct dom_change_state ch;
	struct repo_signature who;
	struct user u;
	const char *method = NULL, *why = NULL, *password = NULL, *code = NULL;
	size_t i;
	int rc;

	memset(&ch, 0, sizeof(ch));
	if ((rc = dom_permit(d, OP_CHANGE_RELEASE)))
		return rc;
	if ((rc = json_only_fields(body, fields)) || (rc = json_get_str(body, "reason", false, &why)) ||
	    (rc = json_get_str(body, "password", true, &password)) ||
	    (rc = json_get_str(body, "totp_code", false, &code)))
		goto out;
	if ((rc = dom_begin(&c, d)) || (rc = dom_change_lock(&ch, d, c, key)) ||
	    (rc = dom_reauth(&method, d, c, password, code)) || (rc = rules_can_release(&ch.view)) ||
	    (rc = firmware_release_check(&firmware, c, ch.id)))
		goto out;
	if ((rc = users_by_id(&u, d->arena, c, d->who->user_id, false)))
		goto out;
	who.name = u.display_name && *u.display_name ? u.display_name : u.username;
	who.email = u.email && *u.email ? u.email : arena_printf(d->arena, "%s@otcm.invalid", u.username);
	who.time_us = time_now_us();
	moved = json_array();
	for (i = 0; i < ch.facts.nassets; i++) {
		json_t *one = NULL;

		if ((rc = release_asset(&one, d, c, ch.key, &ch.facts.assets[i], &who)))
			goto out;
		json_array_append_new(moved, one);
	}
	trees = json_object();
	for (i = 0; i < ch.facts.nassets; i++)
		json_object_set_new(trees, arena_printf(d->arena, "%" PRId64, ch.facts.assets[i].asset_id),
				    json_string(ch.facts.assets[i].tree));
	if ((rc = changes_get(&content, c, ch.id)))
		goto out;
	json_object_set(content, "release", moved);
	/* the released signature binds a firmware update's facts and the package's SHA-256 */
	if (json_array_size(firmware))
		json_object_set(content, "firmware", firmware);
	if ((rc = dom_signing_write(&sig, d, c, ch.id, 0, "released", method, content, trees)))
		goto out;
	before = json_pack("{s:s}", "state", ch.facts.state);
	/* a firmware update's after-firmware is what the asset runs now */
	if ((rc = changes_set_state(c, ch.id, "released")) || (rc = firmware_released(d, c, ch.key, firmware)) ||
	    (rc = changes_get(&after, c, ch.id)))
		goto out;
	json_object_set(after, "release", moved);
	json_object_set(after, "signature", sig);
	if ((rc = dom_audit(d, c, "change.release", "change", ch.key, before, after, why)) ||
	    (rc = dom_commit(c)))
		goto out;
	*out = after;
	after = NULL;
out:
	if (rc)
		rc = dom_refused(d, &c, "change.release.refused", "change", ch.key ? ch.key : key, rc);
	dom_end(c);
	json_decref(content);
	json_decref(trees);
	json_decref(sig);
	json_decref(before);
	json_decref(after);
	json_decref(moved);
	json_decref(firmware);
	return rc;
}

/* ---- settings ---- */

int dom_change_settings_read(json_t **out, const struct dom *d)
{
	struct db_conn *c = NULL;
	int rc;

	if ((rc = dom_permit(d, OP_SETTINGS_READ)))
		return rc;
	if ((rc = dom_conn(&c, d)) == 0)
		rc = changes_settings_get(out, c);
	dom_end(c);
	return rc;
}

int dom_change_settings_update(json_t **out, const struct dom *d, const json_t *in)
{
	static const char *const fields[] = { "emergency_approval_seconds", NULL };
	json_t *body = body_of(in), *before = NULL, *after = NULL;
	struct db_conn *c = NULL;
	int64_t secs = 0;
	int rc;

	if ((rc = dom_permit(d, OP_SETTINGS_UPDATE)))
		return rc;
	if ((rc = json_only_fields(body, fields)) ||
	    (rc = json_get_int(body, "emergency_approval_seconds", true, &secs)))
		goto out;
	if ((rc = dom_begin(&c, d)) || (rc = changes_settings_get(&before, c)) ||
	    (rc = changes_settings_set(c, secs)) || (rc = changes_settings_get(&after, c)) ||
	    (rc = dom_audit(d, c, "change.settings", "settings", "change", before, after, NULL)) ||
	    (rc = dom_commit(c)))
		goto out;
	*out = after;
	after = NULL;
out:
	dom_end(c);
	json_decref(before);
	json_decref(after);
	return rc;
}

/* ---- what the pages offer ---- */

/* Rules that mean "not a step from here": such actions are not offered at all. */
static bool beside_the_point(const char *rule)
{
	return rule && (strcmp(rule, "no-such-transition") == 0 || strcmp(rule, "wrong-state") == 0 ||
			strcmp(rule, "change-ended") == 0 || strcmp(rule, "signature-required") == 0 ||
			strcmp(rule, "release-endpoint") == 0);
}

/*
 * Append an offer when `rc` allows it, or refused with the sentence and
 * rule when a permission or a rule forbids it (unless the rule says it is
 * no step from here).
 */
static void offer(struct dom_offer *a, size_t *n, const struct dom *d, const char *kind,
		  const char *value, int rc)
{
	if (rc && ((rc != OTCM_ERULE && rc != OTCM_EFORBIDDEN) || beside_the_point(err_rule())))
		return;
	a[*n].kind = kind;
	a[*n].value = value;
	a[*n].allowed = rc == 0;
	a[*n].why = rc ? arena_strdup(d->arena, err_message()) : NULL;
	a[*n].rule = rc && err_rule() ? arena_strdup(d->arena, err_rule()) : NULL;
	(*n)++;
}

/* A refusal of our own, for a step that has nothing to act on. */
static int nothing_to(const char *rule, const char *sentence)
{
	err_set(OTCM_ERULE, NULL, "%s", sentence);
	err_set_rule(rule);
	return OTCM_ERULE;
}

/* The signatures a change takes, in the order the pages show them. */
static const char *const change_meanings[] = { "authorised", "reviewed", "approved" };

/* The transitions the pages offer, in their order. */
static const int offered_states[] = {
	CHG_SUBMITTED, CHG_DRAFT, CHG_IMPLEMENTING, CHG_FAT, CHG_DEPLOYED, CHG_SAT, CHG_CLOSED,
	CHG_REJECTED, CHG_CANCELLED,
};

int dom_change_offers(struct dom_offer **out, size_t *out_n, const struct dom *d, const char *key)
{
	size_t nmax = sizeof(offered_states) / sizeof(offered_states[0]) +
		      sizeof(change_meanings) / sizeof(change_meanings[0]) + 8, n = 0, i;
	struct dom_offer *a;
	struct dom_change_state ch;
	struct db_conn *c = NULL;
	const struct rules_change *v = &ch.view;
	unsigned role = d->who->role;
	int64_t me = d->who->user_id, id;
	bool back;
	int rc, st;

	*out = NULL;
	*out_n = 0;
	if ((rc = dom_permit(d, OP_CHANGE_READ)))
		return rc;
	if ((rc = changes_parse_key(&id, key)) || (rc = dom_conn(&c, d)) ||
	    (rc = dom_change_load(&ch, d, c, id)))
		goto out;
	a = arena_alloc(d->arena, nmax * sizeof(*a));
	memset(a, 0, nmax * sizeof(*a));
	*out = a;
	if (role == ROLE_AUDITOR)
		goto out;   /* the auditor only reads */
	if (dom_change_role_may(d, OP_CHANGE_UPDATE) == 0) {
		if (ch.facts.requester_id == me || role == ROLE_ADMIN)
			offer(a, &n, d, "edit", "", rules_can_edit(v->state, true, false, false));
		rc = dom_change_role_may(d, OP_VERSION_UPLOAD);
		offer(a, &n, d, "upload", "", rc ? rc : rules_can_upload(&back, v->state, true));
	}
	for (i = 0; i < sizeof(change_meanings) / sizeof(change_meanings[0]); i++) {
		const char *meaning = change_meanings[i];

		/* offer a signature only where it is the next step: the role rule comes first */
		if (strcmp(meaning, "authorised") == 0 && v->state != CHG_SUBMITTED)
			continue;
		if (strcmp(meaning, "approved") == 0 && v->state != CHG_FAT &&
		    !(v->emergency && (v->state == CHG_DEPLOYED || v->state == CHG_SAT)))
			continue;
		rc = dom_change_role_may(d, OP_CHANGE_SIGN);
		if (rc == 0)
			rc = rules_sign_change(&st, v, meaning, role, me);
		/* reviews are possible in most states: offer them only when allowed */
		if (strcmp(meaning, "reviewed") == 0 && rc)
			continue;
		offer(a, &n, d, "sign", meaning, rc);
	}
	/* test runs: FAT while in FAT, SAT once deployed (refused for engineers, not shown to approvers) */
	if ((v->state == CHG_FAT || v->state == CHG_DEPLOYED || v->state == CHG_SAT) && role != ROLE_APPROVER) {
		const char *kind = v->state == CHG_FAT ? "fat" : "sat";

		rc = dom_change_role_may(d, OP_RUN_CREATE);
		offer(a, &n, d, "run", kind, rc ? rc : rules_can_start_run(v, kind));
	}
	/* deployments: once approved (emergency changes from implementing) until SAT */
	if (((v->state >= CHG_APPROVED && v->state <= CHG_SAT) ||
	     (v->emergency && v->state >= CHG_IMPLEMENTING && v->state <= CHG_SAT)) && role != ROLE_APPROVER) {
		rc = dom_change_role_may(d, OP_CHANGE_DEPLOY);
		if (rc == 0 && v->nassets == 0)
			rc = nothing_to("versions-required", "the change has no affected asset");
		else if (rc == 0) {
			rc = OTCM_ERULE;
			for (i = 0; i < v->nassets && rc; i++)
				rc = rules_can_deploy(v, i, v->assets[i].tree ? v->assets[i].tree : "");
		}
		offer(a, &n, d, "deploy", "", rc);
	}
	for (i = 0; i < sizeof(offered_states) / sizeof(offered_states[0]); i++) {
		rc = dom_change_role_may(d, OP_CHANGE_TRANSITION);
		if (rc == 0)
			rc = rules_transition(v, offered_states[i], role, me);
		offer(a, &n, d, "transition", rules_state_name(offered_states[i]), rc);
	}
	if (v->state == CHG_SAT) {
		rc = dom_change_role_may(d, OP_CHANGE_RELEASE);
		offer(a, &n, d, "release", "released", rc ? rc : rules_can_release(v));
	}
	rc = 0;
	err_clear();
	*out_n = n;
out:
	dom_end(c);
	return rc;
}
