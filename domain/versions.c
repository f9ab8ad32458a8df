/* domain/versions.c - the versions of an asset; see versions.h. */
#include "domain/versions.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/timeutil.h"
#include "core/utf8.h"
#include "domain/changes.h"
#include "domain/version_diff.h"
#include "storage/assets.h"
#include "storage/repo.h"
#include "storage/users.h"
#include "storage/versions.h"

#define DEFAULT_BRANCH "main"
#define REF_MAX 300
#define MESSAGE_MAX ((size_t)64 * 1024)
/* Attempts of an upload without "parent" that lost a race for its branch. */
#define UPLOAD_ATTEMPTS 5

/*
 * Archives and patches are built in memory; they may not exceed twice the
 * upload limit (a tree grows by overlays beyond one upload's size, so the
 * bound is generous, but it is a bound).
 */
static size_t output_cap(const struct dom *d)
{
	return (size_t)d->cfg->max_upload_bytes * 2;
}

/* What a new version consists of, whatever way it arrived. */
struct new_version {
	const struct repo_file *files;
	size_t nfiles;
	bool replace_tree;
	const char *message;
	const char *branch;
	const char *change;          /* CHG-n: the version belongs to that change */
	char parent[REPO_OID_HEX];   /* expected head; "" when not given */
};

/* ---- naming versions ---- */

static bool is_hex40(const char *s)
{
	return s && strlen(s) == 40 && strspn(s, "0123456789abcdefABCDEF") == 40;
}

static void lower_hex(char out[REPO_OID_HEX], const char *s)
{
	for (size_t i = 0; i < 40; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[40] = '\0';
}

/* A connection and the asset's repository for reads; the asset must exist. */
static int open_read(struct db_conn **out_c, struct repo **out_r, const struct dom *d,
		     int64_t asset)
{
	struct db_conn *c = NULL;
	json_t *a = NULL;
	int rc;

	*out_c = NULL;
	*out_r = NULL;
	if ((rc = dom_conn(&c, d)))
		return rc;
	if ((rc = assets_get(&a, c, asset, false)) || (rc = repo_open(out_r, c, asset))) {
		dom_end(c);
		return rc;
	}
	json_decref(a);
	*out_c = c;
	return 0;
}

/* The repository first: it reads through the connection. */
static void close_read(struct db_conn *c, struct repo *r)
{
	repo_free(r);
	dom_end(c);
}

/*
 * Does `commit` belong to the asset: recorded as one of its versions, or
 * reachable from one of its refs?  Objects are shared across assets, so
 * without this check one asset's URL could read another asset's content.
 */
static int commit_belongs(bool *out, struct repo *r, struct db_conn *c, int64_t asset,
			  const char *commit)
{
	json_t *refs = NULL, *ref;
	size_t i;
	int rc;

	*out = false;
	if ((rc = versions_has(out, c, asset, commit)) || *out)
		return rc;
	if ((rc = repo_ref_list(&refs, r)))
		return rc;
	json_array_foreach(refs, i, ref) {
		const char *head = json_string_value(json_object_get(ref, "commit"));

		rc = repo_is_ancestor(out, r, commit, head);
		if (rc == OTCM_ENOTFOUND) {   /* no such commit object at all */
			rc = 0;
			break;
		}
		if (rc || *out)
			break;
	}
	json_decref(refs);
	return rc;
}

/*
 * Resolve a version: a 40-digit commit id of this asset, or a branch name
 * (its head).  OTCM_ENOTFOUND naming `field` otherwise.
 */
static int resolve_version(char out[REPO_OID_HEX], struct repo *r, struct db_conn *c,
			   int64_t asset, const char *spec, const char *field)
{
	char ref[REF_MAX];
	bool ok = false;
	int rc;

	if (!spec || !*spec)
		return err_set(OTCM_EINVAL, field, "'%s' is required", field);
	if (is_hex40(spec)) {
		lower_hex(out, spec);
		if ((rc = commit_belongs(&ok, r, c, asset, out)))
			return rc;
		if (!ok)
			return err_set(OTCM_ENOTFOUND, field, "version '%s' not found in asset %" PRId64,
				       out, asset);
		return 0;
	}
	if (repo_branch_ref(ref, sizeof(ref), spec))
		return err_set(OTCM_EINVAL, field,
			       "'%.100s' is neither a 40-digit commit id nor a branch name", spec);
	rc = repo_ref_get(out, r, ref);
	if (rc == OTCM_ENOTFOUND)
		return err_set(OTCM_ENOTFOUND, field, "branch '%s' not found in asset %" PRId64, spec,
			       asset);
	return rc;
}

/* ---- writing a version ---- */

/* Check message, branch and parent of a new version (before any write). */
static int check_version_fields(struct new_version *nv, struct arena *arena, const char *parent)
{
	char ref[REF_MAX];
	const char *m = nv->message;
	size_t i, len;

	if (!m)
		return err_set(OTCM_EINVAL, "message", "'message' is required");
	len = strlen(m);
	for (i = 0; i < len && isspace((unsigned char)m[i]); i++)
		;
	if (i == len)
		return err_set(OTCM_EINVAL, "message", "'message' must not be empty");
	if (len > MESSAGE_MAX)
		return err_set(OTCM_EINVAL, "message", "'message' is longer than %zu bytes", MESSAGE_MAX);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)m[i];

		if ((ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') || ch == 0x7f)
			return err_set(OTCM_EINVAL, "message", "'message' contains a control character");
	}
	if (!utf8_valid(m, len))
		return err_set(OTCM_EINVAL, "message", "'message' is not valid UTF-8");
	if (nv->change) {
		/* a change's versions live on its own branch, and nowhere else */
		const char *own = arena_printf(arena, "changes/%s", nv->change);

		if (strncmp(nv->change, "CHG-", 4) || !nv->change[4] ||
		    strspn(nv->change + 4, "0123456789") != strlen(nv->change + 4))
			return err_set(OTCM_EINVAL, "change", "'change' must be a change key like CHG-12");
		if (nv->branch && *nv->branch && strcmp(nv->branch, own))
			return err_set(OTCM_EINVAL, "branch",
				       "the versions of %s go to branch '%s'; omit 'branch'", nv->change, own);
		nv->branch = own;
	} else if (nv->branch && strncmp(nv->branch, "changes/", 8) == 0) {
		return err_set(OTCM_EINVAL, "change",
			       "branch '%.100s' belongs to a change: upload with 'change' instead", nv->branch);
	}
	if (!nv->branch || !*nv->branch)
		nv->branch = DEFAULT_BRANCH;
	if (repo_branch_ref(ref, sizeof(ref), nv->branch))
		return err_set(OTCM_EINVAL, "branch", "invalid branch name '%.100s'", nv->branch);
	nv->parent[0] = '\0';
	if (parent && *parent) {
		if (!is_hex40(parent))
			return err_set(OTCM_EINVAL, "parent",
				       "'parent' must be a 40-digit commit id, got '%.60s'", parent);
		lower_hex(nv->parent, parent);
	}
	return 0;
}

/* The author of a new commit: the actor, with their email when known. */
static int author_of(struct repo_signature *out, const struct dom *d, struct db_conn *c)
{
	struct user u;
	int rc;

	memset(&u, 0, sizeof(u));
	if ((rc = users_by_id(&u, d->arena, c, d->who->user_id, false)))
		return rc;
	out->name = u.display_name && *u.display_name ? u.display_name : u.username;
	out->email = u.email && *u.email ? u.email
					 : arena_printf(d->arena, "%s@otcm.invalid", u.username);
	out->time_us = time_now_us();
	return 0;
}

/* How one attempt at writing a version ended, beyond its code. */
struct attempt {
	bool raced;           /* the branch moved under us: a retry may cure it */
	bool hook_refused;    /* the change refused, and audited that itself */
};

/* One attempt at writing a version in one transaction. */
static int write_version(json_t **out, struct attempt *at, const struct dom *d, int64_t asset,
			 const struct new_version *nv)
{
	struct db_conn *c = NULL;
	struct repo *r = NULL;
	struct repo_signature who;
	struct version_record rec;
	json_t *asset_json = NULL, *base_info = NULL, *after = NULL;
	char ref[REF_MAX], head[REPO_OID_HEX] = "", base[REPO_OID_HEX] = "";
	char commit[REPO_OID_HEX], tree[REPO_OID_HEX], main_ref[REF_MAX], change_branch[64];
	bool have_head;
	int rc;

	*out = NULL;
	memset(at, 0, sizeof(*at));
	if ((rc = dom_begin(&c, d)) ||
	    (rc = assets_get(&asset_json, c, asset, false)))
		goto out;
	if (nv->change &&
	    (rc = dom_change_upload_check(change_branch, sizeof(change_branch), d, c, asset,
					  nv->change))) {
		at->hook_refused = rc == OTCM_ERULE;
		goto out;
	}
	if ((rc = repo_open(&r, c, asset)) ||
	    (rc = repo_branch_ref(ref, sizeof(ref), nv->branch)))
		goto out;
	rc = repo_ref_get(head, r, ref);
	if (rc && rc != OTCM_ENOTFOUND)
		goto out;
	have_head = rc == 0;
	rc = 0;
	if (have_head && strcmp(nv->branch, DEFAULT_BRANCH) == 0) {
		/* main moves only by a change's release; only its first version is uploaded */
		rc = err_set(OTCM_ERULE, "branch",
			     "main moves only when a change is released: upload to another branch, "
			     "or to a change with 'change'");
		err_set_rule("main-protected");
		goto out;
	}
	if (nv->parent[0]) {
		if (!have_head) {
			rc = err_set(OTCM_ECONFLICT, "parent",
				     "branch '%s' does not exist yet; omit 'parent' to create it",
				     nv->branch);
			goto out;
		}
		if (strcmp(head, nv->parent)) {
			rc = err_set(OTCM_ECONFLICT, "parent",
				     "branch '%s' has moved: its head is '%s', not '%s'", nv->branch,
				     head, nv->parent);
			goto out;
		}
	}
	if (have_head) {
		memcpy(base, head, REPO_OID_HEX);
	} else if (strcmp(nv->branch, DEFAULT_BRANCH)) {
		/* a new branch starts from main when there is one */
		if ((rc = repo_branch_ref(main_ref, sizeof(main_ref), DEFAULT_BRANCH)))
			goto out;
		rc = repo_ref_get(base, r, main_ref);
		if (rc == OTCM_ENOTFOUND) {
			base[0] = '\0';
			rc = 0;
		}
		if (rc)
			goto out;
	}
	if ((rc = author_of(&who, d, c)) ||
	    (rc = repo_commit_files(commit, tree, r, base[0] ? base : NULL, nv->files, nv->nfiles,
				    nv->replace_tree, &who, nv->message)))
		goto out;
	if (base[0]) {
		const char *base_tree;

		if ((rc = repo_commit_info(&base_info, r, base)))
			goto out;
		base_tree = json_string_value(json_object_get(base_info, "tree"));
		if (base_tree && strcmp(base_tree, tree) == 0) {
			rc = err_set(OTCM_ERULE, "files",
				     "the upload changes nothing: its tree equals that of '%s'", base);
			err_set_rule("no-change");
			goto out;
		}
	}
	rc = repo_ref_cas(r, ref, have_head ? head : NULL, commit);
	if (rc == OTCM_ECONFLICT) {
		at->raced = true;
		rc = err_set(OTCM_ECONFLICT, nv->parent[0] ? "parent" : "branch",
			     "branch '%s' moved while this version was written; upload again on top "
			     "of its new head", nv->branch);
		goto out;
	}
	if (rc)
		goto out;
	memset(&rec, 0, sizeof(rec));
	rec.asset_id = asset;
	rec.commit = commit;
	rec.tree = tree;
	rec.parent = base[0] ? base : NULL;
	rec.branch = nv->branch;
	rec.message = nv->message;
	rec.author_id = d->who->user_id;
	rec.time_us = who.time_us;
	if ((rc = versions_insert(c, &rec)))
		goto out;
	if (nv->change &&
	    (rc = dom_change_upload_record(d, c, asset, nv->change, commit, tree)))
		goto out;
	after = json_pack("{s:I, s:s, s:s, s:s, s:o}", "asset", (json_int_t)asset, "commit", commit,
			  "tree", tree, "branch", nv->branch,
			  "parent", base[0] ? json_string(base) : json_null());
	/* the first version of main: the baseline import of what runs today */
	if (after && !have_head && strcmp(nv->branch, DEFAULT_BRANCH) == 0)
		json_object_set_new(after, "baseline", json_true());
	if ((rc = dom_audit(d, c, "version.create", "version", commit, NULL, after, NULL)))
		goto out;
	/* the repository reads through the connection: done with it before commit */
	repo_free(r);
	r = NULL;
	if ((rc = dom_commit(c)))
		goto out;
	*out = after;
	after = NULL;
out:
	repo_free(r);
	dom_end(c);
	json_decref(asset_json);
	json_decref(base_info);
	json_decref(after);
	return rc;
}

/*
 * Audit an upload refused by a rule of its own ("main-protected",
 * "no-change") in a transaction of its own, keeping the refusal as the
 * answer.  The change's refusals are audited by the change's hook.
 */
static int upload_refused(const struct dom *d, int64_t asset, const struct new_version *nv, int rc)
{
	char *msg = arena_strdup(d->arena, err_message());
	char *field = err_field() ? arena_strdup(d->arena, err_field()) : NULL;
	char *rule = err_rule() ? arena_strdup(d->arena, err_rule()) : NULL;
	json_t *after;

	after = json_pack("{s:s?, s:s?, s:I, s:s, s:s, s:s}", "rule", rule, "field", field,
			  "asset", (json_int_t)asset, "branch", nv->branch, "message", msg,
			  "door", door_name(d->who->door));
	dom_audit_alone(d, "version.create.refused", "asset",
			arena_printf(d->arena, "%" PRId64, asset), NULL, after, msg);
	json_decref(after);
	err_set(rc, field, "%s", msg);
	if (rule)
		err_set_rule(rule);
	return rc;
}

/*
 * Write a version.  With an explicit parent a moved branch is a conflict
 * (the client based its work on an old head).  Without one the client
 * asked for "on top of whatever is there", so a lost race is retried on
 * the new head a few times; so is a serialization failure.
 */
static int create_version(json_t **out, const struct dom *d, int64_t asset,
			  const struct new_version *nv)
{
	struct attempt at;
	int rc, attempt;

	for (attempt = 1;; attempt++) {
		rc = write_version(out, &at, d, asset, nv);
		if (attempt < UPLOAD_ATTEMPTS &&
		    ((rc == OTCM_ECONFLICT && at.raced && !nv->parent[0]) || rc == OTCM_ERETRY))
			continue;
		break;
	}
	if (rc == OTCM_ERULE && !at.hook_refused)
		return upload_refused(d, asset, nv, rc);
	return rc;
}

static struct upload_limits limits_of(const struct dom *d)
{
	struct upload_limits l;

	l.max_entries = d->cfg->max_upload_entries;
	l.max_bytes = d->cfg->max_upload_bytes;
	return l;
}

int dom_version_upload(json_t **out, const struct dom *d, int64_t asset,
		       const struct upload_part *parts, size_t nparts)
{
	struct upload_limits lim = limits_of(d);
	struct new_version nv;
	struct upload up;
	int rc;

	*out = NULL;
	if ((rc = dom_permit(d, OP_VERSION_UPLOAD)) ||
	    (rc = upload_from_parts(&up, d->arena, parts, nparts, &lim)))
		return rc;
	memset(&nv, 0, sizeof(nv));
	nv.files = up.files;
	nv.nfiles = up.nfiles;
	nv.replace_tree = up.replace_tree;
	nv.message = up.message;
	nv.branch = up.branch;
	nv.change = up.change;
	if ((rc = check_version_fields(&nv, d->arena, up.parent)))
		return rc;
	return create_version(out, d, asset, &nv);
}

int dom_version_put_file(json_t **out, const struct dom *d, int64_t asset, const char *path,
			 const void *data, size_t len, const struct dom_version_fields *f)
{
	struct upload_limits lim = limits_of(d);
	struct new_version nv;
	struct repo_file file;
	int rc;

	*out = NULL;
	if ((rc = dom_permit(d, OP_VERSION_UPLOAD)) ||
	    (rc = upload_check_path(path ? path : "", path ? strlen(path) : 0, "path")))
		return rc;
	if ((uint64_t)len > lim.max_bytes)
		return err_set(OTCM_ETOOBIG, "body", "file '%.200s' is larger than %llu bytes", path,
			       (unsigned long long)lim.max_bytes);
	memset(&file, 0, sizeof(file));
	file.path = path;
	file.data = data ? data : "";
	file.len = data ? len : 0;
	memset(&nv, 0, sizeof(nv));
	nv.files = &file;
	nv.nfiles = 1;
	nv.message = f->message;
	nv.branch = f->branch;
	nv.change = f->change;
	if ((rc = check_version_fields(&nv, d->arena, f->parent)))
		return rc;
	return create_version(out, d, asset, &nv);
}

/* ---- reading ---- */

int dom_version_history(json_t **out, const struct dom *d, int64_t asset, const char *branch,
			const char *cursor, size_t limit)
{
	struct db_conn *c = NULL;
	struct repo *r = NULL;
	char ref[REF_MAX], head[REPO_OID_HEX], next[REPO_OID_HEX] = "", after[REPO_OID_HEX];
	json_t *items = NULL, *page;
	int rc;

	*out = NULL;
	if ((rc = dom_permit(d, OP_VERSION_READ)))
		return rc;
	if (!branch || !*branch)
		branch = DEFAULT_BRANCH;
	if (!limit)
		limit = DOM_VERSIONS_DEFAULT_LIMIT;
	if (limit > DOM_VERSIONS_MAX_LIMIT)
		return err_set(OTCM_EINVAL, "limit", "limit must be a number from 1 to %d",
			       DOM_VERSIONS_MAX_LIMIT);
	if (repo_branch_ref(ref, sizeof(ref), branch))
		return err_set(OTCM_EINVAL, "branch", "invalid branch name '%.100s'", branch);
	if (cursor && !is_hex40(cursor))
		return err_set(OTCM_EINVAL, "cursor", "'cursor' must be a 'next_cursor' from a previous page");
	if ((rc = open_read(&c, &r, d, asset)))
		return rc;
	rc = repo_ref_get(head, r, ref);
	if (rc == OTCM_ENOTFOUND && strcmp(branch, DEFAULT_BRANCH) == 0) {
		/* an asset without versions yet has an empty history */
		items = json_array();
		head[0] = '\0';
		rc = 0;
	} else if (rc == OTCM_ENOTFOUND) {
		rc = err_set(OTCM_ENOTFOUND, "branch", "branch '%s' not found in asset %" PRId64,
			     branch, asset);
		goto out;
	} else if (rc) {
		goto out;
	} else {
		if (cursor)
			lower_hex(after, cursor);
		rc = repo_log(&items, next, r, head, cursor ? after : NULL, limit);
		if (rc == OTCM_EINVAL)
			rc = err_set(OTCM_EINVAL, "cursor", "'cursor' is not in the history of '%s'",
				     branch);
		if (rc)
			goto out;
	}
	page = json_object();
	json_object_set_new(page, "branch", json_string(branch));
	json_object_set_new(page, "head", head[0] ? json_string(head) : json_null());
	json_object_set_new(page, "items", items);
	items = NULL;
	json_object_set_new(page, "next_cursor", next[0] ? json_string(next) : json_null());
	*out = page;
out:
	json_decref(items);
	close_read(c, r);
	return rc;
}

int dom_version_refs(json_t **out, const struct dom *d, int64_t asset)
{
	struct db_conn *c = NULL;
	struct repo *r = NULL;
	int rc;

	*out = NULL;
	if ((rc = dom_permit(d, OP_VERSION_READ)) || (rc = open_read(&c, &r, d, asset)))
		return rc;
	rc = repo_ref_list(out, r);
	close_read(c, r);
	return rc;
}

int dom_version_read(json_t **out, const struct dom *d, int64_t asset, const char *version)
{
	struct db_conn *c = NULL;
	struct repo *r = NULL;
	char commit[REPO_OID_HEX];
	json_t *info = NULL, *files = NULL, *rec = NULL;
	int rc;

	*out = NULL;
	if ((rc = dom_permit(d, OP_VERSION_READ)) || (rc = open_read(&c, &r, d, asset)))
		return rc;
	if ((rc = resolve_version(commit, r, c, asset, version, "commit")) ||
	    (rc = repo_commit_info(&info, r, commit)) ||
	    (rc = repo_list_files(&files, r, commit)))
		goto out;
	rc = versions_get(&rec, c, asset, commit);
	if (rc && rc != OTCM_ENOTFOUND)
		goto out;
	rc = 0;
	json_object_set_new(info, "asset", json_integer(asset));
	json_object_set_new(info, "recorded", rec ? rec : json_null());
	rec = NULL;
	json_object_set_new(info, "files", files);
	files = NULL;
	*out = info;
	info = NULL;
out:
	close_read(c, r);
	json_decref(info);
	json_decref(files);
	json_decref(rec);
	return rc;
}

int dom_version_file(struct dom_file *out, const struct dom *d, int64_t asset,
		     const char *version, const char *path)
{
	struct db_conn *c = NULL;
	struct repo *r = NULL;
	char commit[REPO_OID_HEX];
	void *data = NULL;
	size_t len = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = dom_permit(d, OP_VERSION_READ)) ||
	    (rc = upload_check_path(path ? path : "", path ? strlen(path) : 0, "path")) ||
	    (rc = open_read(&c, &r, d, asset)))
		return rc;
	if ((rc = resolve_version(commit, r, c, asset, version, "commit")) ||
	    (rc = repo_read_file(&data, &len, out->blob, r, commit, path)))
		goto out;
	if (data)
		arena_on_free(d->arena, free, data);
	out->data = data ? data : "";
	out->len = len;
	data = NULL;
out:
	free(data);
	close_read(c, r);
	return rc;
}

/* The asset's path as a file name: "plant-a/line-3/plc-1" -> "plant-a-line-3-plc-1". */
static char *download_name(const struct dom *d, struct db_conn *c, int64_t asset,
			   const char *commit, const char *ext)
{
	json_t *a = NULL;
	char *name;

	if (assets_get(&a, c, asset, false) == 0) {
		name = arena_printf(d->arena, "%s-%.12s.%s",
				    json_string_value(json_object_get(a, "path")), commit, ext);
		for (char *p = name; *p; p++)
			if (*p == '/')
				*p = '-';
	} else {
		name = arena_printf(d->arena, "asset-%" PRId64 "-%.12s.%s", asset, commit, ext);
	}
	json_decref(a);
	return name;
}

int dom_version_archive(struct dom_archive *out, const struct dom *d, int64_t asset,
			const char *version, const char *format)
{
	struct db_conn *c = NULL;
	struct repo *r = NULL;
	char commit[REPO_OID_HEX], *data;
	struct buf b = BUF_INIT;
	size_t len;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = dom_permit(d, OP_VERSION_READ)))
		return rc;
	if (!format || !*format)
		format = "zip";
	if (strcmp(format, "zip") && strcmp(format, "tar"))
		return err_set(OTCM_EINVAL, "format", "format must be 'zip' or 'tar', got '%.20s'",
			       format);
	if ((rc = open_read(&c, &r, d, asset)))
		return rc;
	buf_init(&b, output_cap(d));
	if ((rc = resolve_version(commit, r, c, asset, version, "commit")) ||
	    (rc = repo_archive(&b, r, commit, format)))
		goto out;
	out->filename = download_name(d, c, asset, commit, format);
	out->content_type = strcmp(format, "zip") ? "application/x-tar" : "application/zip";
	data = buf_detach(&b, &len);
	if (data)
		arena_on_free(d->arena, free, data);
	out->data = data ? data : "";
	out->len = len;
out:
	buf_release(&b);
	close_read(c, r);
	return rc;
}

/*
 * Text for a JSON string: a patch of files in legacy encodings (Latin-1
 * exports) is not UTF-8; each invalid byte becomes U+FFFD.
 */
static json_t *json_text_lossy(const char *s, size_t len)
{
	struct buf b = BUF_INIT;
	json_t *v;
	size_t i = 0;

	if (utf8_valid(s, len))
		return json_stringn(s, len);
	buf_init(&b, 0);
	while (i < len) {
		size_t n = 1;

		if ((unsigned char)s[i] >= 0x80) {
			/* the longest valid sequence starting here, if any */
			for (n = 4; n >= 2; n--)
				if (i + n <= len && utf8_valid(s + i, n))
					break;
			if (n < 2) {
				buf_adds(&b, "\xEF\xBF\xBD");
				i++;
				continue;
			}
		}
		buf_add(&b, s + i, n);
		i += n;
	}
	v = json_stringn(buf_cstr(&b), b.len);
	buf_release(&b);
	return v;
}

int dom_version_diff(json_t **out, const char **out_patch, size_t *out_patch_len,
		     const struct dom *d, int64_t asset, const char *from_spec, const char *to_spec,
		     bool semantic)
{
	struct db_conn *c = NULL;
	struct repo *r = NULL;
	char from[REPO_OID_HEX] = "", to[REPO_OID_HEX], *bytes;
	struct buf patch = BUF_INIT;
	json_t *files = NULL, *info = NULL, *body;
	size_t len;
	int rc;

	*out = NULL;
	if (out_patch) {
		*out_patch = NULL;
		*out_patch_len = 0;
	}
	if ((rc = dom_permit(d, OP_VERSION_DIFF)) || (rc = open_read(&c, &r, d, asset)))
		return rc;
	buf_init(&patch, output_cap(d));
	if ((rc = resolve_version(to, r, c, asset, to_spec && *to_spec ? to_spec : DEFAULT_BRANCH,
				  "to")))
		goto out;
	if (from_spec && *from_spec) {
		if ((rc = resolve_version(from, r, c, asset, from_spec, "from")))
			goto out;
	} else {
		/* default: what `to` changed against its first parent */
		json_t *parents;

		if ((rc = repo_commit_info(&info, r, to)))
			goto out;
		parents = json_object_get(info, "parents");
		if (json_array_size(parents) > 0)
			snprintf(from, sizeof(from), "%s", json_string_value(json_array_get(parents, 0)));
	}
	if ((rc = version_diff_files(&files, &patch, r, from[0] ? from : NULL, to,
				     semantic && !out_patch)))
		goto out;
	body = json_object();
	json_object_set_new(body, "asset", json_integer(asset));
	json_object_set_new(body, "from", from[0] ? json_string(from) : json_null());
	json_object_set_new(body, "to", json_string(to));
	if (out_patch) {
		bytes = buf_detach(&patch, &len);
		if (bytes)
			arena_on_free(d->arena, free, bytes);
		*out_patch = bytes ? bytes : "";
		*out_patch_len = len;
	} else {
		if (semantic)
			json_object_set_new(body, "summary", version_diff_summary(files));
		json_object_set_new(body, "files", files);
		files = NULL;
		json_object_set_new(body, "patch", json_text_lossy(buf_cstr(&patch), patch.len));
	}
	*out = body;
out:
	buf_release(&patch);
	json_decref(files);
	json_decref(info);
	close_read(c, r);
	return rc;
}
