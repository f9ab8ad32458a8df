/* domain/git.c - stock git's fetches and pushes of an asset; see git.h. */
#include "domain/git.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/err.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "domain/changes.h"
#include "domain/upload.h"
#include "storage/assets.h"
#include "storage/changes.h"
#include "storage/gitpack.h"
#include "storage/repo.h"
#include "storage/versions.h"

#define ZERO_OID "0000000000000000000000000000000000000000"
#define HEADS_PREFIX "refs/heads/"
#define CHANGE_PREFIX HEADS_PREFIX "changes/"
#define WORK_BRANCH "work/"   /* free branches: refs/heads/ followed by this and a name */
#define PUSH_ATTEMPTS 3
#define PUSH_MAX_COMMITS 10000
#define PUSH_MAX_OBJECTS 1000000

/* ---- the asset and its refs ---- */

/* Is `ref` a free work branch (a branch named work/<name>)? */
static bool is_work_ref(const char *ref)
{
	size_t h = strlen(HEADS_PREFIX), w = strlen(WORK_BRANCH);

	return strncmp(ref, HEADS_PREFIX, h) == 0 && strncmp(ref + h, WORK_BRANCH, w) == 0 && ref[h + w];
}

/* The asset at `path`; OTCM_ENOTFOUND naming "asset". */
static int find_asset(int64_t *out, struct db_conn *c, const char *path)
{
	struct asset_query q;
	json_t *list = NULL;
	bool more = false;
	int rc;

	*out = 0;
	if (assets_check_path(path, "asset"))
		return err_set(OTCM_ENOTFOUND, "asset", "no asset at '%.255s'", path ? path : "");
	memset(&q, 0, sizeof(q));
	q.path = path;
	q.limit = 1;
	if ((rc = assets_list(&list, &more, c, &q)))
		return rc;
	if (json_array_size(list) == 1)
		*out = json_integer_value(json_object_get(json_array_get(list, 0), "id"));
	json_decref(list);
	if (!*out)
		return err_set(OTCM_ENOTFOUND, "asset", "no asset at '%.255s'", path);
	return 0;
}

static bool shown(const char *ref)
{
	return strncmp(ref, "refs/heads/", 11) == 0 || strncmp(ref, "refs/tags/", 10) == 0;
}

/* The advertised refs of `asset`: branches and tags, tags peeled. */
static int load_refs(struct dom_git_refs *out, const struct dom *d, struct repo *r,
		     struct gitpack *g)
{
	json_t *list = NULL, *ref;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = repo_ref_list(&list, r)))
		return rc;
	out->refs = arena_alloc(d->arena, (json_array_size(list) + 1) * sizeof(*out->refs));
	json_array_foreach(list, i, ref) {
		const char *name = json_string_value(json_object_get(ref, "name"));
		const char *oid = json_string_value(json_object_get(ref, "commit"));
		struct dom_git_ref *gr = &out->refs[out->n];
		const char *type = NULL;

		if (!name || !oid || strlen(oid) != 40 || !shown(name))
			continue;
		gr->name = arena_strdup(d->arena, name);
		memcpy(gr->oid, oid, DOM_GIT_OID_HEX);
		gr->peeled[0] = '\0';
		if (strncmp(name, "refs/tags/", 10) == 0) {
			if ((rc = gitpack_object_type(&type, g, oid)))
				goto out;
			if (strcmp(type, "tag") == 0 && (rc = gitpack_peel(gr->peeled, g, oid)))
				goto out;
		}
		if (strcmp(name, "refs/heads/main") == 0)
			out->head = gr->name;
		out->n++;
	}
out:
	json_decref(list);
	return rc;
}

/* A connection, the asset, its repository and a pack view, for reading. */
struct view {
	struct db_conn *c;
	struct repo *r;
	struct gitpack *g;
	int64_t asset;
};

static void view_close(struct view *v)
{
	gitpack_free(v->g);
	repo_free(v->r);
	dom_end(v->c);
	memset(v, 0, sizeof(*v));
}

static int view_open(struct view *v, const struct dom *d, const char *asset_path, bool tx)
{
	int rc;

	memset(v, 0, sizeof(*v));
	if ((rc = tx ? dom_begin(&v->c, d) : dom_conn(&v->c, d)) ||
	    (rc = find_asset(&v->asset, v->c, asset_path)) || (rc = repo_open(&v->r, v->c, v->asset)) ||
	    (rc = gitpack_open(&v->g, v->c)))
		view_close(v);
	return rc;
}

int dom_git_refs(struct dom_git_refs *out, const struct dom *d, const char *asset_path,
		 bool for_push)
{
	struct view v;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = dom_permit(d, for_push ? OP_VERSION_UPLOAD : OP_VERSION_READ)))
		return rc;
	if ((rc = view_open(&v, d, asset_path, false)))
		return rc;
	rc = load_refs(out, d, v.r, v.g);
	view_close(&v);
	return rc;
}

/* ---- fetch ---- */

/* Is `have` a commit reachable from one of the advertised refs? */
static int have_is_ours(bool *out, struct view *v, const struct dom_git_refs *refs,
			const char *have)
{
	const char *type = NULL;
	size_t i;
	int rc;

	*out = false;
	rc = gitpack_object_type(&type, v->g, have);
	if (rc == OTCM_ENOTFOUND || rc == OTCM_EINVAL)
		return 0;
	if (rc || strcmp(type, "commit"))
		return rc;
	for (i = 0; i < refs->n && !*out; i++) {
		const char *tip = refs->refs[i].peeled[0] ? refs->refs[i].peeled : refs->refs[i].oid;

		rc = repo_is_ancestor(out, v->r, have, tip);
		if (rc == OTCM_ENOTFOUND) {   /* a tag of a tree or blob */
			rc = 0;
			continue;
		}
		if (rc)
			return rc;
	}
	return 0;
}

static bool advertised(const struct dom_git_refs *refs, const char *oid)
{
	size_t i;

	for (i = 0; i < refs->n; i++)
		if (strcmp(refs->refs[i].oid, oid) == 0 || strcmp(refs->refs[i].peeled, oid) == 0)
			return true;
	return false;
}

/* A prepared pack: the view it reads through and what it holds. */
struct dom_git_pack {
	struct view v;
	struct gitpack_fetch f;
	bool cacheable;
	unsigned char key[GITPACK_CACHE_KEY];
};

static void pack_release(void *arg)
{
	struct dom_git_pack *p = arg;

	view_close(&p->v);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * What a pack holds is a pure function of object ids: the wants (sorted),
 * the annotated tags it may carry and the depth.  Their SHA-256 keys the
 * pack cache; a clone of refs that did not move finds its pack there.
 */
static void pack_key(unsigned char out[GITPACK_CACHE_KEY], const struct dom *d,
		     const struct gitpack_fetch *f)
{
	const char **wants = arena_alloc(d->arena, (f->nwants + 1) * sizeof(*wants));
	struct buf b = BUF_INIT;
	size_t i;

	if (f->nwants) {
		memcpy(wants, f->wants, f->nwants * sizeof(*wants));
		qsort(wants, f->nwants, sizeof(*wants), cmp_str);
	}
	buf_addf(&b, "otcm git pack 1\ndepth %u\n", f->depth);
	for (i = 0; i < f->nwants; i++)
		buf_addf(&b, "want %s\n", wants[i]);
	for (i = 0; i < f->ntags; i++)
		buf_addf(&b, "tag %s\n", f->tags[i]);
	crypto_sha256(out, b.data, b.len);
	buf_release(&b);
}

/* The client's shallow commits whose parents this fetch sends (in `deep`). */
static void unshallowed(struct dom_git_fetch_out *out, const struct dom *d,
			const struct dom_git_fetch_in *in, const json_t *deep)
{
	const json_t *e;
	size_t i, k;

	out->unshallow = arena_alloc(d->arena, (in->nshallows + 1) * sizeof(*out->unshallow));
	for (i = 0; i < in->nshallows; i++)
		json_array_foreach(deep, k, e)
			if (strcmp(json_string_value(e), in->shallows[i]) == 0) {
				out->unshallow[out->nunshallow++] = in->shallows[i];
				break;
			}
}

int dom_git_fetch(struct dom_git_fetch_out *out, const struct dom *d, const char *asset_path,
		  const struct dom_git_fetch_in *in)
{
	struct dom_git_refs refs;
	struct dom_git_pack *p;
	struct view v;
	json_t *shallow = NULL, *deep = NULL, *s;
	const char **tags = NULL;
	size_t i, ntags = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&v, 0, sizeof(v));
	if ((rc = dom_permit(d, OP_VERSION_READ)))
		return rc;
	if ((rc = view_open(&v, d, asset_path, false)) || (rc = load_refs(&refs, d, v.r, v.g)))
		goto out;
	for (i = 0; i < in->nwants; i++)
		if (!advertised(&refs, in->wants[i])) {
			rc = err_set(OTCM_ENOTFOUND, "want", "not our ref %.40s", in->wants[i]);
			goto out;
		}
	out->common = arena_alloc(d->arena, (in->nhaves + 1) * sizeof(*out->common));
	for (i = 0; i < in->nhaves; i++) {
		bool ours = false;

		if ((rc = have_is_ours(&ours, &v, &refs, in->haves[i])))
			goto out;
		if (ours)
			out->common[out->ncommon++] = in->haves[i];
	}
	/* with a depth, the new boundary (sent in every round) and what it deepens */
	if (in->depth && (rc = gitpack_shallow(&shallow, in->nshallows ? &deep : NULL, v.g, in->wants,
					       in->nwants, in->depth)))
		goto out;
	unshallowed(out, d, in, deep);
	out->shallow = arena_alloc(d->arena, (json_array_size(shallow) + 1) * sizeof(*out->shallow));
	json_array_foreach(shallow, i, s)
		out->shallow[out->nshallow++] = arena_strdup(d->arena, json_string_value(s));
	/* ready: no shallow boundary to settle, and every want descends from a common commit */
	if (!in->done && !in->depth && out->ncommon &&
	    (rc = gitpack_all_reach(&out->ready, v.g, in->wants, in->nwants, out->common, out->ncommon)))
		goto out;
	if (!in->done && !(in->no_done && out->ready))
		goto out;
	tags = arena_alloc(d->arena, (refs.n + 1) * sizeof(*tags));
	for (i = 0; in->include_tag && i < refs.n; i++)
		if (refs.refs[i].peeled[0])
			tags[ntags++] = refs.refs[i].oid;
	p = arena_alloc(d->arena, sizeof(*p));
	memset(p, 0, sizeof(*p));
	p->f.wants = in->wants;
	p->f.nwants = in->nwants;
	p->f.common = in->depth ? NULL : out->common;
	p->f.ncommon = in->depth ? 0 : out->ncommon;
	p->f.tags = tags;
	p->f.ntags = ntags;
	p->f.depth = in->depth;
	/* a clone (nothing in common) may find its pack built already */
	p->cacheable = p->f.ncommon == 0;
	if (p->cacheable)
		pack_key(p->key, d, &p->f);
	/* the view, and so the request's connection, goes with the pack */
	p->v = v;
	memset(&v, 0, sizeof(v));
	arena_on_free(d->arena, pack_release, p);
	out->pack = p;
out:
	json_decref(shallow);
	json_decref(deep);
	view_close(&v);
	return rc;
}

/* The sink the pack goes through: the door's, and the cache's copy for a clone. */
struct pack_pass {
	const struct dom_git_sink *to;
	struct gitpack_fill *keep;   /* NULL: not kept */
};

static int pass_pack(void *ctx, const void *data, size_t len)
{
	struct pack_pass *pp = ctx;

	gitpack_fill_add(pp->keep, data, len);
	return pp->to->pack(pp->to->ctx, data, len);
}

static int pass_progress(void *ctx, enum gitpack_stage stage, unsigned current, unsigned total)
{
	struct pack_pass *pp = ctx;

	return pp->to->progress(pp->to->ctx,
				stage == GITPACK_COUNTING ? "Counting objects" : "Compressing objects",
				current, total);
}

int dom_git_pack_send(struct dom_git_pack *p, const struct dom_git_sink *sink)
{
	struct pack_pass pp = { sink, NULL };
	struct gitpack_sink gs = { pass_pack, sink->progress ? pass_progress : NULL, &pp };
	json_t *built_shallow = NULL;
	bool cached = false;
	int rc = 0;

	if (p->cacheable &&
	    (rc = gitpack_cache_send(&cached, p->v.c, p->v.asset, p->key, &gs)))
		goto out;
	if (cached)
		goto out;
	/* a clone's pack is kept as it passes, in a file, never held in memory */
	if (p->cacheable && (rc = gitpack_fill_new(&pp.keep)))
		goto out;
	if ((rc = gitpack_build(&built_shallow, p->v.g, &p->f, &gs)))
		goto out;
	/* the views read through the connection: done with them before its transaction */
	gitpack_free(p->v.g);
	p->v.g = NULL;
	repo_free(p->v.r);
	p->v.r = NULL;
	/* a pack that cannot be kept is still sent */
	if (pp.keep && gitpack_fill_put(pp.keep, p->v.c, p->v.asset, p->key))
		log_msg(LOG_WARN, "git: cannot keep the pack of asset %lld: %s", (long long)p->v.asset,
			err_message());
out:
	gitpack_fill_free(pp.keep);
	json_decref(built_shallow);
	view_close(&p->v);
	return rc;
}

/* ---- push ---- */

enum kind { KIND_REFUSED, KIND_CHANGE, KIND_WORK };

struct update_state {
	enum kind kind;
	const char *change;          /* CHG-n for a change branch */
	json_t *commits;             /* new commits, parents first */
	char head[DOM_GIT_OID_HEX];  /* the ref now; "" when absent */
};

static void refuse(struct dom_git_update *u, const struct dom *d, const char *reason,
		   const char *message)
{
	if (u->refused)
		return;
	u->refused = arena_strdup(d->arena, reason);
	u->message = message ? arena_printf(d->arena, "%s: %s", u->ref, message) : NULL;
}

/* Which rule governs the ref (no database needed). */
static void classify(struct update_state *st, struct dom_git_update *u, const struct dom *d)
{
	char ref[300];
	bool del = strcmp(u->new_, ZERO_OID) == 0;

	st->kind = KIND_REFUSED;
	if (strncmp(u->ref, "refs/heads/", 11) == 0 &&
	    repo_branch_ref(ref, sizeof(ref), u->ref + 11) != 0) {
		refuse(u, d, "ref-namespace", "not a valid branch name");
		return;
	}
	if (strcmp(u->ref, "refs/heads/main") == 0) {
		refuse(u, d, "main-protected",
		       "main moves only when a change is released: push to refs/heads/changes/CHG-<n>");
		return;
	}
	if (strncmp(u->ref, "refs/tags/", 10) == 0) {
		refuse(u, d, "tag-protected", "tags are made by a change's release, not by a push");
		return;
	}
	if (strncmp(u->ref, CHANGE_PREFIX, strlen(CHANGE_PREFIX)) == 0) {
		const char *key = u->ref + strlen(CHANGE_PREFIX);
		int64_t id;

		if (changes_parse_key(&id, key)) {
			refuse(u, d, "ref-namespace", "a change branch is refs/heads/changes/CHG-<n>");
			return;
		}
		if (del) {
			refuse(u, d, "change-history",
			       "a change's history is evidence: its branch cannot be deleted");
			return;
		}
		st->kind = KIND_CHANGE;
		st->change = arena_strdup(d->arena, key);
		return;
	}
	if (is_work_ref(u->ref)) {
		st->kind = KIND_WORK;
		return;
	}
	refuse(u, d, "ref-namespace",
	       "push to branch changes/CHG-<n> (a change) or to a branch work/<name>");
}

/* Refuse every update still standing: an atomic push, or a pack refused as a whole. */
static void refuse_rest(struct dom_git_update *u, size_t n, const struct dom *d, const char *why)
{
	for (size_t i = 0; i < n; i++)
		if (!u[i].refused)
			refuse(&u[i], d, why, NULL);
}

static bool any_refused(const struct dom_git_update *u, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (u[i].refused)
			return true;
	return false;
}

/*
 * The content rules of one new commit's tree: the upload's path rules, no
 * symbolic link, no submodule, the upload limits.  OTCM_ERULE naming the
 * path (err_rule: bad-path, symlink, submodule or too-big).
 */
static int check_tree(const struct dom *d, struct gitpack *g, const char *commit)
{
	json_t *entries = NULL, *e;
	uint64_t bytes = 0;
	size_t i;
	int rc;

	rc = gitpack_tree_entries(&entries, g, commit, d->cfg->max_upload_entries);
	if (rc == OTCM_ETOOBIG) {
		rc = err_set(OTCM_ERULE, "pack", "commit %.12s holds more than %u files and folders",
			     commit, d->cfg->max_upload_entries);
		err_set_rule("too-big");
		return rc;
	}
	if (rc)
		return rc;
	json_array_foreach(entries, i, e) {
		const char *path = json_string_value(json_object_get(e, "path"));
		int mode = (int)json_integer_value(json_object_get(e, "mode"));

		if (mode == 0120000) {
			rc = err_set(OTCM_ERULE, "pack", "'%.300s' in commit %.12s is a symbolic link", path,
				     commit);
			err_set_rule("symlink");
			goto out;
		}
		if (mode == 0160000) {
			rc = err_set(OTCM_ERULE, "pack", "'%.300s' in commit %.12s is a submodule", path,
				     commit);
			err_set_rule("submodule");
			goto out;
		}
		if (upload_check_path(path, strlen(path), "pack")) {
			rc = err_set(OTCM_ERULE, "pack", "commit %.12s: %s", commit, err_message());
			err_set_rule("bad-path");
			goto out;
		}
		bytes += (uint64_t)json_integer_value(json_object_get(e, "size"));
		if (bytes > d->cfg->max_upload_bytes) {
			rc = err_set(OTCM_ERULE, "pack", "commit %.12s holds more than %llu bytes of files",
				     commit, (unsigned long long)d->cfg->max_upload_bytes);
			err_set_rule("too-big");
			goto out;
		}
	}
out:
	json_decref(entries);
	return rc;
}

/*
 * The rules of a change branch's new versions, each refusing the update
 * (not the push): every new version changes its first parent's tree (the
 * upload's "no-change": an empty commit is no version), and once the asset
 * has a history (`rooted`), a version descends from it: a commit without
 * parents is another history, perhaps another asset's, and never a
 * version of this one ("unrelated-history").
 */
static int check_versions(struct dom_git_update *u, const struct dom *d, struct view *v,
			  const struct update_state *st, bool rooted)
{
	json_t *cm, *info = NULL;
	size_t k;
	int rc = 0;

	json_array_foreach(st->commits, k, cm) {
		const char *commit = json_string_value(json_object_get(cm, "commit"));
		const char *tree = json_string_value(json_object_get(cm, "tree"));
		const char *parent = json_string_value(json_array_get(json_object_get(cm, "parents"), 0));
		const char *ptree = NULL;

		if (!parent && rooted) {
			refuse(u, d, "unrelated-history",
			       arena_printf(d->arena, "commit %.12s has no parent: a change's versions descend "
						      "from the asset's history (fetch, then rebase onto it)",
					    commit));
			break;
		}
		if (!parent)
			continue;
		if (k > 0 && strcmp(parent, json_string_value(json_object_get(
						    json_array_get(st->commits, k - 1), "commit"))) == 0) {
			ptree = json_string_value(json_object_get(json_array_get(st->commits, k - 1), "tree"));
		} else {
			json_decref(info);
			info = NULL;
			if ((rc = repo_commit_info(&info, v->r, parent)))
				break;
			ptree = json_string_value(json_object_get(info, "tree"));
		}
		if (ptree && tree && strcmp(ptree, tree) == 0) {
			refuse(u, d, "no-change",
			       arena_printf(d->arena, "commit %.12s changes nothing: its tree equals its "
						      "parent's", commit));
			break;
		}
	}
	json_decref(info);
	return rc;
}

/*
 * What a ref's new commits are measured against: every ref of the asset
 * (tags peeled too), or with `versions_only` every ref but the free work
 * branches, so that a commit first pushed to a work branch still becomes a
 * version when it reaches a change branch.
 */
static int known_tips(const char ***out, size_t *out_n, const struct dom *d, struct view *v,
		      bool versions_only)
{
	struct dom_git_refs refs;
	json_t *list = NULL, *ref;
	size_t i;
	int rc;

	if ((rc = load_refs(&refs, d, v->r, v->g)) || (rc = repo_ref_list(&list, v->r)))
		return rc;
	*out = arena_alloc(d->arena, (2 * json_array_size(list) + 1) * sizeof(**out));
	*out_n = 0;
	json_array_foreach(list, i, ref) {
		const char *name = json_string_value(json_object_get(ref, "name"));

		if (versions_only && name && is_work_ref(name))
			continue;
		(*out)[(*out_n)++] = arena_strdup(d->arena, json_string_value(json_object_get(ref, "commit")));
	}
	for (i = 0; i < refs.n; i++)
		if (refs.refs[i].peeled[0])
			(*out)[(*out_n)++] = refs.refs[i].peeled;
	json_decref(list);
	return 0;
}

/* The version records of a change branch's new commits, with their audit events. */
static int record_versions(const struct dom *d, struct view *v, const struct dom_git_update *u,
			   const struct update_state *st)
{
	const char *branch = u->ref + 11;
	int64_t change_id;
	json_t *cm;
	size_t i;
	int rc = 0;

	if ((rc = changes_parse_key(&change_id, st->change)))
		return rc;
	json_array_foreach(st->commits, i, cm) {
		const char *commit = json_string_value(json_object_get(cm, "commit"));
		const char *tree = json_string_value(json_object_get(cm, "tree"));
		json_t *parents = json_object_get(cm, "parents"), *after;
		const char *parent = json_string_value(json_array_get(parents, 0));
		struct version_record rec;

		memset(&rec, 0, sizeof(rec));
		rec.asset_id = v->asset;
		rec.commit = commit;
		rec.tree = tree;
		rec.parent = parent;
		rec.branch = branch;
		rec.message = json_string_value(json_object_get(cm, "message"));
		rec.author_id = d->who->user_id;
		rec.time_us = time_now_us();
		if ((rc = versions_insert(v->c, &rec)) ||
		    (rc = dom_change_upload_record(d, v->c, v->asset, st->change, commit, tree)) ||
		    (rc = changes_add_contributor_email(
			     v->c, change_id, v->asset,
			     json_string_value(json_object_get(json_object_get(cm, "author"), "email")))) ||
		    (rc = changes_add_contributor_email(
			     v->c, change_id, v->asset,
			     json_string_value(json_object_get(json_object_get(cm, "committer"), "email")))))
			return rc;
		after = json_pack("{s:I, s:s, s:s, s:s, s:o, s:s, s:O, s:O}", "asset", (json_int_t)v->asset,
				  "commit", commit, "tree", tree, "branch", branch,
				  "parent", parent ? json_string(parent) : json_null(), "change", st->change,
				  "author", json_object_get(cm, "author"), "committer",
				  json_object_get(cm, "committer"));
		rc = dom_audit(d, v->c, "version.create", "version", commit, NULL, after, NULL);
		json_decref(after);
		if (rc)
			return rc;
	}
	return 0;
}

static json_t *updates_json(const struct dom_git_update *u, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s?}", "ref", u[i].ref, "old",
						   u[i].old, "new", u[i].new_, "refused", u[i].refused));
	return a;
}

/*
 * One attempt at a push in one transaction.  *out_again is set when a
 * change's hook refused (it rolled back and audited on its own): the push
 * is judged again without that ref.
 */
static int push_once(bool *out_again, const struct dom *d, const char *asset_path,
		     struct dom_git_update *u, struct update_state *st, size_t n, const void *pack,
		     size_t pack_len, bool atomic)
{
	struct view v;
	const char **tips = NULL, **vtips = NULL;
	size_t i, ntips = 0, nvtips = 0, objects = 0;
	bool content_refused = false;
	json_t *after = NULL;
	int rc;

	*out_again = false;
	/* what this attempt judges again: all but the namespace's and the changes' refusals */
	for (i = 0; i < n; i++)
		if (st[i].kind != KIND_REFUSED)
			u[i].refused = u[i].message = NULL;
	if ((rc = view_open(&v, d, asset_path, true)))
		return rc;
	/* the change's own rules first, before anything is written */
	for (i = 0; i < n; i++) {
		char branch[64];

		if (u[i].refused || st[i].kind != KIND_CHANGE)
			continue;
		rc = dom_change_upload_check(branch, sizeof(branch), d, v.c, v.asset, st[i].change);
		if (rc == OTCM_ERULE) {
			refuse(&u[i], d, err_rule() ? err_rule() : "upload-state", err_message());
			st[i].kind = KIND_REFUSED;
			*out_again = true;
			rc = 0;
			goto out;
		}
		if (rc)
			goto out;
	}
	if (atomic && any_refused(u, n))
		refuse_rest(u, n, d, "atomic push failed");
	for (i = 0; i < n && u[i].refused; i++)
		;
	if (i == n)
		goto out;   /* nothing to write; the refusals are audited by the caller */
	if (pack_len && (rc = gitpack_receive(&objects, v.g, pack, pack_len, PUSH_MAX_OBJECTS)))
		goto out;
	if ((rc = known_tips(&tips, &ntips, d, &v, false)) ||
	    (rc = known_tips(&vtips, &nvtips, d, &v, true)))
		goto out;
	/* each ref: where it is now, what it would gain, and the content rules */
	for (i = 0; i < n; i++) {
		const char *type = NULL;
		json_t *cm;
		size_t k;

		if (u[i].refused)
			continue;
		st[i].head[0] = '\0';
		rc = repo_ref_get(st[i].head, v.r, u[i].ref);
		if (rc == OTCM_ENOTFOUND) {
			st[i].head[0] = '\0';
			rc = 0;
		}
		if (rc)
			goto out;
		if (strcmp(u[i].old, st[i].head[0] ? st[i].head : ZERO_OID)) {
			refuse(&u[i], d, "fetch first",
			       "the branch moved since you fetched: fetch, merge or rebase, and push again");
			continue;
		}
		if (strcmp(u[i].new_, ZERO_OID) == 0) {
			if (!st[i].head[0])
				refuse(&u[i], d, "fetch first", "there is no such branch to delete");
			continue;   /* a work branch's deletion */
		}
		rc = gitpack_object_type(&type, v.g, u[i].new_);
		if (rc == OTCM_ENOTFOUND || (rc == 0 && strcmp(type, "commit"))) {
			refuse(&u[i], d, "not-a-commit", "a branch points at a commit the push carries");
			rc = 0;
			continue;
		}
		if (rc)
			goto out;
		if (st[i].kind == KIND_CHANGE && st[i].head[0]) {
			bool ff = false;

			if ((rc = repo_is_ancestor(&ff, v.r, st[i].head, u[i].new_)))
				goto out;
			if (!ff) {
				refuse(&u[i], d, "fast-forward-only",
				       "a change's history is evidence: it can only grow (no force push)");
				continue;
			}
		}
		json_decref(st[i].commits);
		st[i].commits = NULL;
		if ((rc = gitpack_new_commits(&st[i].commits, v.g, u[i].new_,
					      st[i].kind == KIND_CHANGE ? vtips : tips,
					      st[i].kind == KIND_CHANGE ? nvtips : ntips, PUSH_MAX_COMMITS)))
			goto out;
		json_array_foreach(st[i].commits, k, cm) {
			rc = check_tree(d, v.g, json_string_value(json_object_get(cm, "commit")));
			if (rc == OTCM_ERULE) {
				refuse(&u[i], d, err_rule(), err_message());
				content_refused = true;
				rc = 0;
				break;
			}
			if (rc)
				goto out;
		}
		if (!u[i].refused && st[i].kind == KIND_CHANGE &&
		    (rc = check_versions(&u[i], d, &v, &st[i], nvtips > 0)))
			goto out;
	}
	/* a pack whose content breaks a rule writes nothing at all */
	if (content_refused)
		refuse_rest(u, n, d, "pack refused");
	if (atomic && any_refused(u, n))
		refuse_rest(u, n, d, "atomic push failed");
	for (i = 0; i < n; i++) {
		bool del = strcmp(u[i].new_, ZERO_OID) == 0;

		if (u[i].refused)
			continue;
		if (del)
			rc = repo_ref_delete(v.r, u[i].ref, st[i].head);
		else
			rc = repo_ref_cas(v.r, u[i].ref, st[i].head[0] ? st[i].head : NULL, u[i].new_);
		if (rc == OTCM_ECONFLICT) {
			refuse(&u[i], d, "fetch first", "the branch moved while you pushed: fetch and push again");
			rc = 0;
			if (atomic)
				break;
			continue;
		}
		if (rc)
			goto out;
		if (st[i].kind == KIND_CHANGE && (rc = record_versions(d, &v, &u[i], &st[i])))
			goto out;
	}
	if (atomic && any_refused(u, n))
		refuse_rest(u, n, d, "atomic push failed");
	for (i = 0; i < n && u[i].refused; i++)
		;
	if (i == n) {
		rc = 0;
		goto out;   /* nothing left: roll back whatever was stored */
	}
	after = json_pack("{s:I, s:s, s:o, s:I, s:b}", "asset", (json_int_t)v.asset, "path", asset_path,
			  "updates", updates_json(u, n), "objects", (json_int_t)objects, "atomic", atomic);
	if ((rc = dom_audit(d, v.c, "git.push", "asset", arena_printf(d->arena, "%" PRId64, v.asset),
			    NULL, after, NULL)))
		goto out;
	/* the views read through the connection: done with them before commit */
	gitpack_free(v.g);
	v.g = NULL;
	repo_free(v.r);
	v.r = NULL;
	rc = dom_commit(v.c);
out:
	json_decref(after);
	view_close(&v);
	return rc;
}

int dom_git_push(const struct dom *d, const char *asset_path, struct dom_git_update *u, size_t n,
		 const void *pack, size_t pack_len, bool atomic)
{
	struct update_state *st;
	json_t *after;
	bool again = false;
	size_t i, attempts = 0;
	int rc;

	if ((rc = dom_permit(d, OP_VERSION_UPLOAD)))
		return rc;
	st = arena_alloc(d->arena, (n + 1) * sizeof(*st));
	memset(st, 0, (n + 1) * sizeof(*st));
	for (i = 0; i < n; i++) {
		u[i].refused = NULL;
		u[i].message = NULL;
		classify(&st[i], &u[i], d);
	}
	for (;;) {
		rc = push_once(&again, d, asset_path, u, st, n, pack, pack_len, atomic);
		attempts++;
		if (again && attempts <= n + PUSH_ATTEMPTS)
			continue;
		if (rc == OTCM_ERETRY && attempts < PUSH_ATTEMPTS)
			continue;
		break;
	}
	for (i = 0; i < n; i++)
		json_decref(st[i].commits);
	if (rc || !any_refused(u, n))
		return rc;
	after = json_pack("{s:s, s:o, s:b, s:s}", "path", asset_path, "updates", updates_json(u, n),
			  "atomic", atomic, "door", door_name(d->who->door));
	dom_audit_alone(d, "git.push.refused", "asset", asset_path, NULL, after, NULL);
	json_decref(after);
	return 0;
}
