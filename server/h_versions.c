/*
 * server/h_versions.c - versions of an asset: upload, history, files,
 * archives and diffs.
 *
 *   POST /api/v1/assets/{id}/versions                     engineer, admin
 *   PUT  /api/v1/assets/{id}/files/{path+}                engineer, admin
 *   GET  /api/v1/assets/{id}/versions                     any role
 *   GET  /api/v1/assets/{id}/versions/{commit}            any role
 *   GET  /api/v1/assets/{id}/versions/{commit}/files/{path+}   any role
 *   GET  /api/v1/assets/{id}/versions/{commit}/archive    any role
 *   GET  /api/v1/assets/{id}/diff                         any role
 *
 * A new version is one transaction: the git objects, the compare-and-swap
 * of the branch, the versions row and the audit event "version.create"
 * commit together or not at all.  Branch main moves only when a change is
 * released (h_changes.c): an upload may create it (the asset's baseline,
 * the first version of main) but never move it; such an attempt is refused
 * with rule "main-protected" and audited as "version.create.refused".
 * Git objects are shared by all assets, so every read first proves that
 * the commit belongs to the asset in the URL (recorded as its version, or
 * reachable from one of its refs) and answers 404 otherwise.  Diffs carry,
 * per changed text file, the semantic diff of diff/diff.h next to git's
 * line statistics and patch.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "core/utf8.h"
#include "core/timeutil.h"
#include "domain/upload.h"
#include "domain/version_diff.h"
#include "server/handlers.h"
#include "server/svc.h"
#include "storage/assets.h"
#include "storage/repo.h"
#include "storage/users.h"
#include "storage/versions.h"

#define DEFAULT_BRANCH "main"
#define REF_MAX 300
#define MESSAGE_MAX ((size_t)64 * 1024)
#define VERSIONS_DEFAULT_LIMIT 50
#define VERSIONS_MAX_LIMIT 500
/*
 * Archives and patches are built in memory; they may not exceed twice the
 * upload limit (a tree grows by overlays beyond one upload's size, so the
 * bound is generous, but it is a bound).
 */
#define OUTPUT_CAP(req) ((size_t)(req)->srv->cfg->max_upload_bytes * 2)
/* Attempts of an upload without "parent" that lost a race for its branch. */
#define UPLOAD_ATTEMPTS 5

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

static void repo_cleanup(void *p)
{
	repo_free(p);
}

static void conn_cleanup(void *p)
{
	svc_end(p);
}

/* A connection and repository for reads, both released with the arena. */
static int open_read(struct db_conn **out_c, struct repo **out_r, struct http_req *req,
		     int64_t *out_asset)
{
	struct db_conn *c = NULL;
	struct repo *r = NULL;
	json_t *asset = NULL;
	int rc;

	if ((rc = assets_parse_id(out_asset, http_param(req, 0))))
		return rc;
	if ((rc = svc_conn(&c, req)))
		return rc;
	arena_on_free(req->arena, conn_cleanup, c);
	if ((rc = assets_get(&asset, c, *out_asset, false)))
		return rc;
	json_decref(asset);
	if ((rc = repo_open(&r, c, *out_asset)))
		return rc;
	/* registered after the connection, so freed before it */
	arena_on_free(req->arena, repo_cleanup, r);
	*out_c = c;
	*out_r = r;
	return 0;
}

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
 * Resolve a version named in a request: a 40-digit commit id of this
 * asset, or a branch name (its head).  404 naming `field` otherwise.
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

static struct upload_limits limits_of(const struct http_req *req)
{
	struct upload_limits l;

	l.max_entries = req->srv->cfg->max_upload_entries;
	l.max_bytes = req->srv->cfg->max_upload_bytes;
	return l;
}

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

/* The author of a new commit: the caller, with their email when known. */
static int author_of(struct repo_signature *out, struct http_req *req, struct db_conn *c)
{
	struct user u;
	int rc;

	memset(&u, 0, sizeof(u));
	if ((rc = users_by_id(&u, req->arena, c, req->who.user_id, false)))
		return rc;
	out->name = u.display_name && *u.display_name ? u.display_name : u.username;
	out->email = u.email && *u.email ? u.email
					 : arena_printf(req->arena, "%s@otcm.invalid", u.username);
	out->time_us = time_now_us();
	return 0;
}

/*
 * One attempt at writing a version in one transaction.  *out_raced is set
 * when the branch moved under us (the only conflict a retry can cure).
 */
static int write_version(json_t **out, bool *out_raced, bool *out_main_refused,
			 struct http_req *req, int64_t asset, const struct new_version *nv)
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
	*out_raced = false;
	*out_main_refused = false;
	if ((rc = svc_begin(&c, req)) ||
	    (rc = assets_get(&asset_json, c, asset, false)))
		goto out;
	if (nv->change &&
	    (rc = chg_upload_check(req, c, asset, nv->change, change_branch, sizeof(change_branch))))
		goto out;
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
		*out_main_refused = true;
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
	if ((rc = author_of(&who, req, c)) ||
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
		*out_raced = true;
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
	rec.author_id = req->who.user_id;
	rec.time_us = who.time_us;
	if ((rc = versions_insert(c, &rec)))
		goto out;
	if (nv->change && (rc = chg_upload_record(req, c, asset, nv->change, commit, tree)))
		goto out;
	after = json_pack("{s:I, s:s, s:s, s:s, s:o}", "asset", (json_int_t)asset, "commit", commit,
			  "tree", tree, "branch", nv->branch,
			  "parent", base[0] ? json_string(base) : json_null());
	/* the first version of main: the baseline import of what runs today */
	if (after && !have_head && strcmp(nv->branch, DEFAULT_BRANCH) == 0)
		json_object_set_new(after, "baseline", json_true());
	if ((rc = svc_audit(req, c, "version.create", "version", commit, NULL, after)))
		goto out;
	/* the repository reads through the connection: done with it before commit */
	repo_free(r);
	r = NULL;
	if ((rc = svc_commit(c)))
		goto out;
	*out = after;
	after = NULL;
out:
	repo_free(r);
	svc_end(c);
	json_decref(asset_json);
	json_decref(base_info);
	json_decref(after);
	return rc;
}

/*
 * Audit an upload refused because it would move main (write_version has
 * rolled back everything else), keeping the refusal as the answer.
 */
static int main_refused_audit(struct http_req *req, int64_t asset, const struct new_version *nv)
{
	char *msg = arena_strdup(req->arena, err_message());
	json_t *after;

	after = json_pack("{s:s, s:s, s:I, s:s, s:s}", "rule", "main-protected", "field", "branch",
			  "asset", (json_int_t)asset, "branch", nv->branch, "message", msg);
	svc_audit_alone(req, "version.create.refused", "asset",
			arena_printf(req->arena, "%" PRId64, asset), NULL, after, msg);
	json_decref(after);
	err_set(OTCM_ERULE, "branch", "%s", msg);
	err_set_rule("main-protected");
	return OTCM_ERULE;
}

/*
 * Write a version.  With an explicit parent a moved branch is a 409 (the
 * client based its work on an old head).  Without one the client asked for
 * "on top of whatever is there", so a lost race is retried on the new head
 * a few times; so is a serialization failure.
 */
static int create_version(struct http_req *req, int64_t asset, const struct new_version *nv)
{
	json_t *result = NULL;
	bool raced = false, main_refused = false;
	int rc, attempt;

	for (attempt = 1;; attempt++) {
		rc = write_version(&result, &raced, &main_refused, req, asset, nv);
		if (attempt < UPLOAD_ATTEMPTS &&
		    ((rc == OTCM_ECONFLICT && raced && !nv->parent[0]) || rc == OTCM_ERETRY))
			continue;
		break;
	}
	if (rc && main_refused)
		return main_refused_audit(req, asset, nv);
	if (rc)
		return rc;
	http_set_header(req, "Location",
			arena_printf(req->arena, "/api/v1/assets/%" PRId64 "/versions/%s", asset,
				     json_string_value(json_object_get(result, "commit"))));
	return http_reply_json(req, 201, result);
}

int h_versions_create(struct http_req *req)
{
	struct upload_limits lim = limits_of(req);
	struct upload_part *parts;
	struct new_version nv;
	struct upload up;
	int64_t asset;
	int rc;

	if ((rc = assets_parse_id(&asset, http_param(req, 0))))
		return rc;
	if (!req->parts && req->body_len)
		return err_set(OTCM_EMEDIA, "body",
			       "send the version as multipart/form-data (file parts or one 'archive' part)");
	parts = arena_alloc(req->arena, (req->nparts + 1) * sizeof(*parts));
	for (size_t i = 0; i < req->nparts; i++) {
		parts[i].name = req->parts[i].name;
		parts[i].filename = req->parts[i].filename;
		parts[i].data = req->parts[i].data;
		parts[i].len = req->parts[i].len;
	}
	if ((rc = upload_from_parts(&up, req->arena, parts, req->nparts, &lim)))
		return rc;
	memset(&nv, 0, sizeof(nv));
	nv.files = up.files;
	nv.nfiles = up.nfiles;
	nv.replace_tree = up.replace_tree;
	nv.message = up.message;
	nv.branch = up.branch;
	nv.change = up.change;
	if ((rc = check_version_fields(&nv, req->arena, up.parent)))
		return rc;
	return create_version(req, asset, &nv);
}

int h_versions_put_file(struct http_req *req)
{
	struct upload_limits lim = limits_of(req);
	struct new_version nv;
	struct repo_file file;
	const char *path = http_param(req, 1);
	int64_t asset;
	int rc;

	if ((rc = assets_parse_id(&asset, http_param(req, 0))) ||
	    (rc = upload_check_path(path ? path : "", path ? strlen(path) : 0, "path")))
		return rc;
	if ((uint64_t)req->body_len > lim.max_bytes)
		return err_set(OTCM_ETOOBIG, "body", "file '%.200s' is larger than %llu bytes", path,
			       (unsigned long long)lim.max_bytes);
	memset(&file, 0, sizeof(file));
	file.path = path;
	file.data = req->body ? req->body : "";
	file.len = req->body ? req->body_len : 0;
	memset(&nv, 0, sizeof(nv));
	nv.files = &file;
	nv.nfiles = 1;
	nv.message = http_query(req, "message");
	nv.branch = http_query(req, "branch");
	nv.change = http_query(req, "change");
	if ((rc = check_version_fields(&nv, req->arena, http_query(req, "parent"))))
		return rc;
	return create_version(req, asset, &nv);
}

/* ?limit=: 1..max, default `def`; OTCM_EINVAL naming "limit". */
static int query_limit(size_t *out, struct http_req *req, size_t def, size_t max)
{
	const char *s = http_query(req, "limit");
	unsigned long v;

	*out = def;
	if (!s)
		return 0;
	if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 6 ||
	    (v = strtoul(s, NULL, 10)) < 1 || v > max)
		return err_set(OTCM_EINVAL, "limit", "limit must be a number from 1 to %zu", max);
	*out = v;
	return 0;
}

int h_versions_list(struct http_req *req)
{
	struct db_conn *c;
	struct repo *r;
	const char *branch = http_query(req, "branch");
	const char *cursor = http_query(req, "cursor");
	char ref[REF_MAX], head[REPO_OID_HEX], next[REPO_OID_HEX] = "", after[REPO_OID_HEX];
	json_t *items = NULL, *page;
	int64_t asset;
	size_t limit;
	int rc;

	if (!branch || !*branch)
		branch = DEFAULT_BRANCH;
	if ((rc = query_limit(&limit, req, VERSIONS_DEFAULT_LIMIT, VERSIONS_MAX_LIMIT)))
		return rc;
	if (repo_branch_ref(ref, sizeof(ref), branch))
		return err_set(OTCM_EINVAL, "branch", "invalid branch name '%.100s'", branch);
	if (cursor && !is_hex40(cursor))
		return err_set(OTCM_EINVAL, "cursor", "'cursor' must be a 'next_cursor' from a previous page");
	if ((rc = open_read(&c, &r, req, &asset)))
		return rc;
	rc = repo_ref_get(head, r, ref);
	if (rc == OTCM_ENOTFOUND && strcmp(branch, DEFAULT_BRANCH) == 0) {
		/* an asset without versions yet has an empty history */
		items = json_array();
		head[0] = '\0';
		rc = 0;
	} else if (rc == OTCM_ENOTFOUND) {
		return err_set(OTCM_ENOTFOUND, "branch", "branch '%s' not found in asset %" PRId64,
			       branch, asset);
	} else if (rc) {
		return rc;
	} else {
		if (cursor)
			lower_hex(after, cursor);
		rc = repo_log(&items, next, r, head, cursor ? after : NULL, limit);
		if (rc == OTCM_EINVAL)
			return err_set(OTCM_EINVAL, "cursor", "'cursor' is not in the history of '%s'",
				       branch);
		if (rc)
			return rc;
	}
	page = json_object();
	json_object_set_new(page, "branch", json_string(branch));
	json_object_set_new(page, "head", head[0] ? json_string(head) : json_null());
	json_object_set_new(page, "items", items);
	json_object_set_new(page, "next_cursor", next[0] ? json_string(next) : json_null());
	return http_reply_json(req, 200, page);
}

int h_versions_get(struct http_req *req)
{
	struct db_conn *c;
	struct repo *r;
	char commit[REPO_OID_HEX];
	json_t *info = NULL, *files = NULL, *rec = NULL;
	int64_t asset;
	int rc;

	if ((rc = open_read(&c, &r, req, &asset)) ||
	    (rc = resolve_version(commit, r, c, asset, http_param(req, 1), "commit")) ||
	    (rc = repo_commit_info(&info, r, commit)) ||
	    (rc = repo_list_files(&files, r, commit)))
		goto out;
	rc = versions_get(&rec, c, asset, commit);
	if (rc && rc != OTCM_ENOTFOUND)
		goto out;
	json_object_set_new(info, "asset", json_integer(asset));
	json_object_set_new(info, "recorded", rec ? rec : json_null());
	rec = NULL;
	json_object_set_new(info, "files", files);
	files = NULL;
	rc = http_reply_json(req, 200, info);
	info = NULL;
out:
	json_decref(info);
	json_decref(files);
	json_decref(rec);
	return rc;
}

/* Does the If-None-Match header name entity tag `etag` (quoted)? */
static bool etag_matches(const char *header, const char *etag)
{
	const char *p = header;
	size_t n = strlen(etag);

	while (p && *p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*')
			return true;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (strncmp(p, etag, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' ' ||
						 p[n] == '\t'))
			return true;
		p = strchr(p, ',');
	}
	return false;
}

static const struct {
	const char *ext;
	const char *type;
	bool text;
} content_types[] = {
	{ "l5x", "application/xml", false }, { "xml", "application/xml", false },
	{ "tcpou", "application/xml", false }, { "tcdut", "application/xml", false },
	{ "tcgvl", "application/xml", false }, { "tctask", "application/xml", false },
	{ "tsproj", "application/xml", false }, { "plcproj", "application/xml", false },
	{ "xsd", "application/xml", false }, { "svg", "application/xml", false },
	{ "json", "application/json", false }, { "csv", "text/csv", true },
	{ "l5k", "text/plain", true }, { "st", "text/plain", true }, { "scl", "text/plain", true },
	{ "awl", "text/plain", true }, { "stl", "text/plain", true }, { "txt", "text/plain", true },
	{ "ini", "text/plain", true }, { "cfg", "text/plain", true }, { "md", "text/plain", true },
	{ "log", "text/plain", true }, { "html", "text/plain", true }, { "htm", "text/plain", true },
	{ "zip", "application/zip", false }, { "gz", "application/gzip", false },
	{ "tgz", "application/gzip", false }, { "tar", "application/x-tar", false },
	{ "pdf", "application/pdf", false }, { "png", "image/png", false },
	{ "jpg", "image/jpeg", false }, { "jpeg", "image/jpeg", false },
};

/*
 * A content type for a stored file: by extension, else by content (text
 * when it is UTF-8 without NUL bytes).  Never text/html or an SVG image
 * type: stored files are data, not pages (the response is sandboxed too).
 */
static const char *guess_type(const char *path, const void *data, size_t len)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(slash ? slash + 1 : path, '.');
	size_t probe = len < 8192 ? len : 8192;
	bool utf8 = !memchr(data, '\0', probe) && utf8_valid(data, len);

	if (dot && dot[1]) {
		for (size_t i = 0; i < sizeof(content_types) / sizeof(content_types[0]); i++) {
			if (strcasecmp(dot + 1, content_types[i].ext))
				continue;
			if (content_types[i].text)
				return utf8 ? "text/plain; charset=utf-8" : content_types[i].type;
			return content_types[i].type;
		}
	}
	return utf8 ? "text/plain; charset=utf-8" : "application/octet-stream";
}

int h_versions_file(struct http_req *req)
{
	struct db_conn *c;
	struct repo *r;
	const char *path = http_param(req, 2), *inm;
	char commit[REPO_OID_HEX], blob[REPO_OID_HEX], *etag;
	void *data = NULL;
	size_t len = 0;
	int64_t asset;
	int rc;

	if ((rc = upload_check_path(path ? path : "", path ? strlen(path) : 0, "path")) ||
	    (rc = open_read(&c, &r, req, &asset)) ||
	    (rc = resolve_version(commit, r, c, asset, http_param(req, 1), "commit")) ||
	    (rc = repo_read_file(&data, &len, blob, r, commit, path)))
		goto out;
	etag = arena_printf(req->arena, "\"%s\"", blob);
	http_set_header(req, "ETag", etag);
	http_set_header(req, "Cache-Control", "private, no-cache");
	inm = http_header(req, "If-None-Match");
	if (inm && etag_matches(inm, etag)) {
		rc = http_reply_empty(req, 304);
		goto out;
	}
	http_set_header(req, "Content-Security-Policy", "sandbox; default-src 'none'");
	rc = http_reply_bytes(req, 200, guess_type(path, data ? data : "", len), data, len);
out:
	free(data);
	return rc;
}

/* The asset's path as a file name: "plant-a/line-3/plc-1" -> "plant-a-line-3-plc-1". */
static char *download_name(struct http_req *req, struct db_conn *c, int64_t asset,
			   const char *commit, const char *ext)
{
	json_t *a = NULL;
	char *name;

	if (assets_get(&a, c, asset, false) == 0) {
		name = arena_printf(req->arena, "%s-%.12s.%s",
				    json_string_value(json_object_get(a, "path")), commit, ext);
		for (char *p = name; *p; p++)
			if (*p == '/')
				*p = '-';
	} else {
		name = arena_printf(req->arena, "asset-%" PRId64 "-%.12s.%s", asset, commit, ext);
	}
	json_decref(a);
	return name;
}

int h_versions_archive(struct http_req *req)
{
	struct db_conn *c;
	struct repo *r;
	const char *format = http_query(req, "format");
	char commit[REPO_OID_HEX];
	struct buf out = BUF_INIT;
	int64_t asset;
	int rc;

	if (!format || !*format)
		format = "zip";
	if (strcmp(format, "zip") && strcmp(format, "tar"))
		return err_set(OTCM_EINVAL, "format", "format must be 'zip' or 'tar', got '%.20s'",
			       format);
	buf_init(&out, OUTPUT_CAP(req));
	if ((rc = open_read(&c, &r, req, &asset)) ||
	    (rc = resolve_version(commit, r, c, asset, http_param(req, 1), "commit")) ||
	    (rc = repo_archive(&out, r, commit, format)))
		goto out;
	http_set_header(req, "Content-Disposition",
			arena_printf(req->arena, "attachment; filename=\"%s\"",
				     download_name(req, c, asset, commit, format)));
	rc = http_reply_bytes(req, 200, strcmp(format, "zip") ? "application/x-tar" : "application/zip",
			      buf_cstr(&out), out.len);
out:
	buf_release(&out);
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

/* Does the Accept header ask for a patch? */
static bool wants_patch(struct http_req *req)
{
	const char *fmt = http_query(req, "format");
	const char *accept = http_header(req, "Accept");

	if (fmt && strcmp(fmt, "patch") == 0)
		return true;
	return accept && strstr(accept, "text/x-diff") != NULL;
}

int h_versions_diff(struct http_req *req)
{
	struct db_conn *c;
	struct repo *r;
	const char *from_q = http_query(req, "from"), *to_q = http_query(req, "to");
	const char *fmt = http_query(req, "format"), *sem_q;
	char from[REPO_OID_HEX] = "", to[REPO_OID_HEX];
	struct buf patch = BUF_INIT;
	json_t *files = NULL, *info = NULL, *body;
	bool as_patch, semantic;
	int64_t asset;
	int rc;

	if (fmt && strcmp(fmt, "patch") && strcmp(fmt, "json"))
		return err_set(OTCM_EINVAL, "format", "format must be 'json' or 'patch', got '%.20s'",
			       fmt);
	buf_init(&patch, OUTPUT_CAP(req));
	if ((rc = open_read(&c, &r, req, &asset)) ||
	    (rc = resolve_version(to, r, c, asset, to_q && *to_q ? to_q : DEFAULT_BRANCH, "to")))
		goto out;
	if (from_q && *from_q) {
		if ((rc = resolve_version(from, r, c, asset, from_q, "from")))
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
	as_patch = wants_patch(req) && !(fmt && strcmp(fmt, "json") == 0);
	sem_q = http_query(req, "semantic");
	semantic = !as_patch && !(sem_q && (strcmp(sem_q, "false") == 0 || strcmp(sem_q, "0") == 0));
	if ((rc = version_diff_files(&files, &patch, r, from[0] ? from : NULL, to, semantic)))
		goto out;
	if (as_patch) {
		rc = http_reply_bytes(req, 200, "text/x-diff; charset=utf-8", buf_cstr(&patch),
				      patch.len);
		goto out;
	}
	body = json_object();
	json_object_set_new(body, "asset", json_integer(asset));
	json_object_set_new(body, "from", from[0] ? json_string(from) : json_null());
	json_object_set_new(body, "to", json_string(to));
	json_object_set_new(body, "files", files);
	files = NULL;
	json_object_set_new(body, "patch", json_text_lossy(buf_cstr(&patch), patch.len));
	rc = http_reply_json(req, 200, body);
out:
	buf_release(&patch);
	json_decref(files);
	json_decref(info);
	return rc;
}
