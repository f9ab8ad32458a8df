/*
 * storage/gitpack.c - packs in (libgit2's indexer, thin packs completed
 * from the store) and out (libgit2's packbuilder), and the walks a push
 * needs.  See gitpack.h for the contract.
 */
#include "storage/gitpack.h"

#include <dirent.h>
#include <git2.h>
#include <git2/sys/odb_backend.h>
#include <git2/sys/repository.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/mem.h"
#include "storage/db.h"
#include "storage/odb.h"

struct gitpack {
	git_repository *git;
	git_odb_backend *backend;   /* owned by the repository's odb */
};

static int failed(struct gitpack *g, const char *what)
{
	const git_error *e = git_error_last();
	int rc = g && g->backend ? odb_backend_take_error(g->backend) : 0;

	if (rc)
		return rc;
	return err_set(OTCM_EGIT, NULL, "%s: %s", what, e && e->message ? e->message : "unknown error");
}

int gitpack_open(struct gitpack **out, struct db_conn *c)
{
	struct gitpack *g = xcalloc(1, sizeof(*g));
	git_odb *odb = NULL;
	git_odb_backend *backend = NULL;
	int rc = 0;

	if (git_odb_new(&odb) < 0) {
		rc = failed(NULL, "cannot create object database");
		goto out;
	}
	if ((rc = odb_backend_new(&backend, c)))
		goto out;
	if (git_odb_add_backend(odb, backend, 1) < 0) {
		backend->free(backend);
		rc = failed(NULL, "cannot add object database backend");
		goto out;
	}
	g->backend = backend;
	if (git_repository_new(&g->git) < 0 || git_repository_set_odb(g->git, odb) < 0) {
		rc = failed(g, "cannot create repository");
		goto out;
	}
	*out = g;
	g = NULL;
out:
	git_odb_free(odb);
	gitpack_free(g);
	return rc;
}

void gitpack_free(struct gitpack *g)
{
	if (!g)
		return;
	git_repository_free(g->git);
	free(g);
}

static int parse_oid(git_oid *out, const char *hex, const char *field)
{
	if (!hex || strlen(hex) != GIT_OID_HEXSZ ||
	    strspn(hex, "0123456789abcdef") != GIT_OID_HEXSZ || git_oid_fromstr(out, hex) < 0)
		return err_set(OTCM_EINVAL, field, "invalid object id '%.64s'", hex ? hex : "");
	return 0;
}

static void hex_of(char out[GITPACK_OID_HEX], const git_oid *id)
{
	git_oid_tostr(out, GITPACK_OID_HEX, id);
}

/* ---- receiving ---- */

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d) {
		while ((de = readdir(d))) {
			char *p;

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			p = xasprintf("%s/%s", dir, de->d_name);
			unlink(p);
			free(p);
		}
		closedir(d);
	}
	rmdir(dir);
}

struct copy {
	struct gitpack *g;
	git_odb *from;
	git_odb *to;
	size_t n, max;
	int rc;
};

/* One object of the indexed pack: check it is well formed, then store it. */
static int copy_one(const git_oid *id, void *payload)
{
	struct copy *cp = payload;
	git_odb_object *obj = NULL;
	git_oid written;
	git_object_t type;
	int valid = 0;

	if (++cp->n > cp->max) {
		cp->rc = err_set(OTCM_ETOOBIG, "pack", "the pack holds more than %zu objects", cp->max);
		return -1;
	}
	if (git_odb_read(&obj, cp->from, id) < 0) {
		cp->rc = err_set(OTCM_EINVAL, "pack", "an object of the pack cannot be read: %s",
				 git_error_last() ? git_error_last()->message : "unknown error");
		return -1;
	}
	type = git_odb_object_type(obj);
	if (type != GIT_OBJECT_BLOB &&
	    (git_object_rawcontent_is_valid(&valid, git_odb_object_data(obj), git_odb_object_size(obj),
					    type) < 0 || !valid)) {
		char hex[GITPACK_OID_HEX];

		hex_of(hex, id);
		cp->rc = err_set(OTCM_EINVAL, "pack", "object %s is not a well-formed %s", hex,
				 git_object_type2string(type));
		git_odb_object_free(obj);
		return -1;
	}
	if (git_odb_write(&written, cp->to, git_odb_object_data(obj), git_odb_object_size(obj),
			  type) < 0) {
		cp->rc = failed(cp->g, "cannot store an object");
		git_odb_object_free(obj);
		return -1;
	}
	git_odb_object_free(obj);
	return 0;
}

int gitpack_receive(size_t *out_objects, struct gitpack *g, const void *pack, size_t len,
		    size_t max_objects)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = NULL, *idxpath = NULL;
	git_indexer *idx = NULL;
	git_indexer_options opts;
	git_indexer_progress stats;
	git_odb *store = NULL, *packodb = NULL;
	git_odb_backend *be = NULL;
	struct copy cp;
	int rc = 0;

	*out_objects = 0;
	dir = xasprintf("%s/otcm-push-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		free(dir);
		return err_set(OTCM_EIO, NULL, "cannot make a temporary folder for a pack");
	}
	if (git_repository_odb(&store, g->git) < 0) {
		rc = failed(g, "cannot open object database");
		goto out;
	}
	git_indexer_options_init(&opts, GIT_INDEXER_OPTIONS_VERSION);
	opts.verify = 1;   /* every object a pushed object names is in the pack or the store */
	if (git_indexer_new(&idx, dir, 0, store, &opts) < 0 ||
	    git_indexer_append(idx, pack, len, &stats) < 0 || git_indexer_commit(idx, &stats) < 0) {
		if ((rc = odb_backend_take_error(g->backend)))
			goto out;
		rc = err_set(OTCM_EINVAL, "pack", "the pack is not valid: %s",
			     git_error_last() ? git_error_last()->message : "unknown error");
		goto out;
	}
	if (stats.total_objects > max_objects) {
		rc = err_set(OTCM_ETOOBIG, "pack", "the pack holds more than %zu objects", max_objects);
		goto out;
	}
	idxpath = xasprintf("%s/pack-%s.idx", dir, git_indexer_name(idx));
	if (git_odb_new(&packodb) < 0 || git_odb_backend_one_pack(&be, idxpath) < 0) {
		rc = err_set(OTCM_EGIT, NULL, "cannot read the indexed pack: %s",
			     git_error_last() ? git_error_last()->message : "unknown error");
		goto out;
	}
	if (git_odb_add_backend(packodb, be, 1) < 0) {
		be->free(be);
		rc = failed(NULL, "cannot read the indexed pack");
		goto out;
	}
	memset(&cp, 0, sizeof(cp));
	cp.g = g;
	cp.from = packodb;
	cp.to = store;
	cp.max = max_objects + stats.local_objects;   /* bases a thin pack borrowed count too */
	if (git_odb_foreach(packodb, copy_one, &cp) < 0) {
		rc = cp.rc ? cp.rc : failed(g, "cannot store the pack");
		goto out;
	}
	*out_objects = stats.total_objects;
out:
	git_odb_free(packodb);
	git_odb_free(store);
	git_indexer_free(idx);
	free(idxpath);
	remove_dir(dir);
	free(dir);
	return rc;
}

/* ---- reading ---- */

int gitpack_object_type(const char **out, struct gitpack *g, const char *hex)
{
	git_odb *odb = NULL;
	git_object_t type;
	git_oid id;
	size_t size;
	int rc;

	*out = NULL;
	if ((rc = parse_oid(&id, hex, "object")))
		return rc;
	if (git_repository_odb(&odb, g->git) < 0)
		return failed(g, "cannot open object database");
	if (git_odb_read_header(&size, &type, odb, &id) < 0) {
		git_odb_free(odb);
		if ((rc = odb_backend_take_error(g->backend)))
			return rc;
		return err_set(OTCM_ENOTFOUND, "object", "object '%s' not found", hex);
	}
	git_odb_free(odb);
	*out = git_object_type2string(type);
	return 0;
}

int gitpack_peel(char out[GITPACK_OID_HEX], struct gitpack *g, const char *hex)
{
	git_object *obj = NULL, *peeled = NULL;
	git_oid id;
	int rc;

	if ((rc = parse_oid(&id, hex, "object")))
		return rc;
	if (git_object_lookup(&obj, g->git, &id, GIT_OBJECT_ANY) < 0 ||
	    git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0) {
		git_object_free(obj);
		if ((rc = odb_backend_take_error(g->backend)))
			return rc;
		return err_set(OTCM_ENOTFOUND, "object", "'%s' is not a commit or a tag of one", hex);
	}
	hex_of(out, git_object_id(peeled));
	git_object_free(peeled);
	git_object_free(obj);
	return 0;
}

/* ---- fetching ---- */

/* Is the commit `tag` peels to reachable from one of the wants? */
static int tag_sent(bool *out, struct gitpack *g, const git_oid *target, const git_oid *wants,
		    size_t n)
{
	size_t i;
	int r;

	*out = false;
	for (i = 0; i < n && !*out; i++) {
		if (git_oid_equal(target, &wants[i])) {
			*out = true;
			break;
		}
		r = git_graph_descendant_of(g->git, &wants[i], target);
		if (r < 0)
			return failed(g, "cannot walk history");
		*out = r == 1;
	}
	return 0;
}

/* A set of object ids: open addressing, grown at half full. */
struct oidset {
	git_oid *ids;
	unsigned char *used;
	size_t cap, n;
};

static size_t oidset_slot(const struct oidset *s, const git_oid *id)
{
	size_t h = ((size_t)id->id[0] << 24 | (size_t)id->id[1] << 16 | (size_t)id->id[2] << 8 |
		    id->id[3]) & (s->cap - 1);

	while (s->used[h] && !git_oid_equal(&s->ids[h], id))
		h = (h + 1) & (s->cap - 1);
	return h;
}

/* Add id; false when it was there already. */
static bool oidset_add(struct oidset *s, const git_oid *id)
{
	size_t h;

	if (2 * (s->n + 1) > s->cap) {
		struct oidset bigger = { NULL, NULL, s->cap ? 2 * s->cap : 64, 0 };
		size_t i;

		bigger.ids = xcalloc(bigger.cap, sizeof(*bigger.ids));
		bigger.used = xcalloc(bigger.cap, 1);
		for (i = 0; i < s->cap; i++)
			if (s->used[i])
				oidset_add(&bigger, &s->ids[i]);
		free(s->ids);
		free(s->used);
		*s = bigger;
	}
	h = oidset_slot(s, id);
	if (s->used[h])
		return false;
	s->used[h] = 1;
	git_oid_cpy(&s->ids[h], id);
	s->n++;
	return true;
}

static void oidset_release(struct oidset *s)
{
	free(s->ids);
	free(s->used);
}

/*
 * Commits up to `depth` from each want, each once at its smallest depth
 * (into pb unless it is NULL); the last level's commits with parents are
 * shallow, and the commits above it whose parents are sent go to `deep`
 * (when not NULL): a client's shallow commit among them is unshallowed.
 */
static int insert_shallow(git_packbuilder *pb, json_t *shallow, json_t *deep, struct gitpack *g,
			  const git_oid *wants, size_t n, unsigned depth)
{
	struct oidset seen = { NULL, NULL, 0, 0 };
	git_oid *level = xcalloc(n ? n : 1, sizeof(*level)), *next = NULL;
	size_t nlevel = 0, nnext, alloc, i;
	unsigned d;
	int rc = 0;

	for (i = 0; i < n; i++)
		if (oidset_add(&seen, &wants[i]))
			git_oid_cpy(&level[nlevel++], &wants[i]);
	for (d = 1; d <= depth && nlevel; d++) {
		nnext = 0;
		alloc = 0;
		next = NULL;
		for (i = 0; i < nlevel; i++) {
			git_commit *c = NULL;
			char hex[GITPACK_OID_HEX];
			unsigned p, np;

			if (git_commit_lookup(&c, g->git, &level[i]) < 0) {
				rc = failed(g, "cannot read a commit");
				goto out;
			}
			if (pb && git_packbuilder_insert_commit(pb, &level[i]) < 0) {
				git_commit_free(c);
				rc = failed(g, "cannot add a commit to the pack");
				goto out;
			}
			np = git_commit_parentcount(c);
			hex_of(hex, &level[i]);
			if (d == depth && np > 0)
				json_array_append_new(shallow, json_string(hex));
			else if (deep && np > 0)
				json_array_append_new(deep, json_string(hex));
			for (p = 0; d < depth && p < np; p++) {
				if (!oidset_add(&seen, git_commit_parent_id(c, p)))
					continue;
				if (nnext == alloc) {
					alloc = alloc ? 2 * alloc : 16;
					next = xrealloc(next, alloc * sizeof(*next));
				}
				git_oid_cpy(&next[nnext++], git_commit_parent_id(c, p));
			}
			git_commit_free(c);
		}
		free(level);
		level = next;
		nlevel = nnext;
		next = NULL;
	}
out:
	oidset_release(&seen);
	free(level);
	free(next);
	return rc;
}

/* The wants peeled to commits; *out is malloc'd. */
static int peel_wants(git_oid **out, struct gitpack *g, const char *const *wants, size_t n)
{
	git_oid *ids = xcalloc(n ? n : 1, sizeof(*ids));
	size_t i;
	int rc = 0;

	for (i = 0; i < n; i++) {
		char peeled[GITPACK_OID_HEX];

		if ((rc = gitpack_peel(peeled, g, wants[i])) || (rc = parse_oid(&ids[i], peeled, "want"))) {
			free(ids);
			return rc;
		}
	}
	*out = ids;
	return 0;
}

int gitpack_all_reach(bool *out, struct gitpack *g, const char *const *wants, size_t nwants,
		      const char *const *common, size_t ncommon)
{
	git_oid *ids = NULL, c;
	size_t i, k;
	int rc = 0, r;

	*out = false;
	if (nwants == 0 || ncommon == 0 || nwants * ncommon > GITPACK_READY_PAIRS)
		return 0;
	if ((rc = peel_wants(&ids, g, wants, nwants)))
		return rc;
	for (i = 0; i < nwants; i++) {
		bool reached = false;

		for (k = 0; k < ncommon && !reached; k++) {
			if ((rc = parse_oid(&c, common[k], "have")))
				goto out;
			if (git_oid_equal(&c, &ids[i])) {
				reached = true;
				break;
			}
			if ((r = git_graph_descendant_of(g->git, &ids[i], &c)) < 0) {
				rc = failed(g, "cannot walk history");
				goto out;
			}
			reached = r == 1;
		}
		if (!reached)
			goto out;
	}
	*out = true;
out:
	free(ids);
	return rc;
}

int gitpack_shallow(json_t **out, json_t **out_deep, struct gitpack *g, const char *const *wants,
		    size_t n, unsigned depth)
{
	json_t *shallow = json_array(), *deep = json_array();
	git_oid *ids = NULL;
	int rc;

	*out = NULL;
	if (out_deep)
		*out_deep = NULL;
	if ((rc = peel_wants(&ids, g, wants, n)) ||
	    (rc = insert_shallow(NULL, shallow, out_deep ? deep : NULL, g, ids, n, depth)))
		goto out;
	*out = shallow;
	shallow = NULL;
	if (out_deep) {
		*out_deep = deep;
		deep = NULL;
	}
out:
	free(ids);
	json_decref(shallow);
	json_decref(deep);
	return rc;
}

/* The stop a sink asked for, as an error code. */
static int stopped(void)
{
	return err_code() ? err_code() : err_set(OTCM_EIO, NULL, "the pack's reader stopped");
}

struct sink_call {
	const struct gitpack_sink *sink;
	bool stop;       /* a callback asked to stop */
};

static int pack_cb(void *data, size_t size, void *payload)
{
	struct sink_call *sc = payload;

	if (sc->sink->pack(sc->sink->ctx, data, size)) {
		sc->stop = true;
		return GIT_EUSER;
	}
	return 0;
}

static int progress_cb(int stage, uint32_t current, uint32_t total, void *payload)
{
	struct sink_call *sc = payload;
	enum gitpack_stage st = stage == GIT_PACKBUILDER_ADDING_OBJECTS ? GITPACK_COUNTING
									  : GITPACK_COMPRESSING;

	if (sc->sink->progress(sc->sink->ctx, st, current, total)) {
		sc->stop = true;
		return GIT_EUSER;
	}
	return 0;
}

int gitpack_build(json_t **out_shallow, struct gitpack *g, const struct gitpack_fetch *f,
		  const struct gitpack_sink *sink)
{
	git_packbuilder *pb = NULL;
	git_revwalk *walk = NULL;
	git_oid *wants = NULL, id;
	json_t *shallow = json_array();
	struct sink_call sc = { sink, false };
	size_t i;
	int rc = 0;

	*out_shallow = NULL;
	if ((rc = peel_wants(&wants, g, f->wants, f->nwants)))
		goto out;
	if (git_packbuilder_new(&pb, g->git) < 0) {
		rc = failed(g, "cannot start a pack");
		goto out;
	}
	git_packbuilder_set_threads(pb, 1);
	if (sink->progress)
		git_packbuilder_set_callbacks(pb, progress_cb, &sc);
	if (f->depth) {
		if ((rc = insert_shallow(pb, shallow, NULL, g, wants, f->nwants, f->depth)))
			goto out;
	} else {
		if (git_revwalk_new(&walk, g->git) < 0) {
			rc = failed(g, "cannot walk history");
			goto out;
		}
		git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME);
		for (i = 0; i < f->nwants; i++)
			if (git_revwalk_push(walk, &wants[i]) < 0) {
				rc = failed(g, "cannot walk history");
				goto out;
			}
		for (i = 0; i < f->ncommon; i++) {
			if ((rc = parse_oid(&id, f->common[i], "have")))
				goto out;
			if (git_revwalk_hide(walk, &id) < 0) {
				rc = failed(g, "cannot walk history");
				goto out;
			}
		}
		if (git_packbuilder_insert_walk(pb, walk) < 0) {
			rc = sc.stop ? stopped() : failed(g, "cannot add history to the pack");
			goto out;
		}
	}
	/* annotated tags: the ones asked for, and those whose commit is sent */
	for (i = 0; i < f->nwants; i++) {
		const char *type;

		if ((rc = gitpack_object_type(&type, g, f->wants[i])))
			goto out;
		if (strcmp(type, "tag") == 0 &&
		    ((rc = parse_oid(&id, f->wants[i], "want")) || git_packbuilder_insert(pb, &id, NULL) < 0)) {
			rc = rc ? rc : sc.stop ? stopped() : failed(g, "cannot add a tag to the pack");
			goto out;
		}
	}
	for (i = 0; i < f->ntags; i++) {
		char target[GITPACK_OID_HEX];
		git_oid tid;
		bool sent;

		if ((rc = gitpack_peel(target, g, f->tags[i])) || (rc = parse_oid(&tid, target, "tag")) ||
		    (rc = tag_sent(&sent, g, &tid, wants, f->nwants)))
			goto out;
		if (sent && ((rc = parse_oid(&id, f->tags[i], "tag")) ||
			     git_packbuilder_insert(pb, &id, NULL) < 0)) {
			rc = rc ? rc : sc.stop ? stopped() : failed(g, "cannot add a tag to the pack");
			goto out;
		}
	}
	/* the delta search reports progress; then each object is written as it is compressed */
	if (git_packbuilder_foreach(pb, pack_cb, &sc) < 0) {
		rc = sc.stop ? stopped() : failed(g, "cannot write the pack");
		goto out;
	}
	*out_shallow = shallow;
	shallow = NULL;
out:
	json_decref(shallow);
	git_revwalk_free(walk);
	git_packbuilder_free(pb);
	free(wants);
	return rc;
}

/* ---- walks for a push ---- */

static json_t *sig_json(const git_signature *s)
{
	return json_pack("{s:s, s:s}", "name", s && s->name ? s->name : "", "email",
			 s && s->email ? s->email : "");
}

int gitpack_new_commits(json_t **out, struct gitpack *g, const char *tip,
			const char *const *hide, size_t nhide, size_t max)
{
	git_revwalk *walk = NULL;
	git_commit *c = NULL;
	git_oid id;
	json_t *list = json_array();
	size_t i;
	int rc;

	*out = NULL;
	if ((rc = parse_oid(&id, tip, "commit")))
		goto out;
	if (git_revwalk_new(&walk, g->git) < 0) {
		rc = failed(g, "cannot walk history");
		goto out;
	}
	git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
	if (git_revwalk_push(walk, &id) < 0) {
		rc = failed(g, "cannot walk history");
		goto out;
	}
	for (i = 0; i < nhide; i++) {
		git_oid h;
		const char *type = NULL;

		if ((rc = parse_oid(&h, hide[i], "commit")))
			goto out;
		rc = gitpack_object_type(&type, g, hide[i]);
		if (rc == OTCM_ENOTFOUND || (rc == 0 && strcmp(type, "commit")))
			continue;
		if (rc)
			goto out;
		if (git_revwalk_hide(walk, &h) < 0) {
			rc = failed(g, "cannot walk history");
			goto out;
		}
	}
	rc = 0;
	while (git_revwalk_next(&id, walk) == 0) {
		char hex[GITPACK_OID_HEX], tree[GITPACK_OID_HEX];
		json_t *parents = json_array();
		const char *msg;
		unsigned p;

		if (json_array_size(list) == max) {
			json_decref(parents);
			rc = err_set(OTCM_ETOOBIG, "pack", "the push holds more than %zu new commits", max);
			goto out;
		}
		if (git_commit_lookup(&c, g->git, &id) < 0) {
			json_decref(parents);
			rc = failed(g, "cannot read a commit");
			goto out;
		}
		hex_of(hex, &id);
		hex_of(tree, git_commit_tree_id(c));
		for (p = 0; p < git_commit_parentcount(c); p++) {
			char ph[GITPACK_OID_HEX];

			hex_of(ph, git_commit_parent_id(c, p));
			json_array_append_new(parents, json_string(ph));
		}
		msg = git_commit_message_raw(c);
		json_array_append_new(list, json_pack("{s:s, s:s, s:o, s:o, s:o, s:s}", "commit", hex,
						      "tree", tree, "parents", parents, "author",
						      sig_json(git_commit_author(c)), "committer",
						      sig_json(git_commit_committer(c)), "message",
						      msg ? msg : ""));
		git_commit_free(c);
		c = NULL;
	}
	*out = list;
	list = NULL;
out:
	git_commit_free(c);
	git_revwalk_free(walk);
	json_decref(list);
	return rc;
}

struct entries {
	struct gitpack *g;
	git_odb *odb;
	json_t *list;
	size_t max;
	int rc;
};

static int entry_cb(const char *root, const git_tree_entry *entry, void *payload)
{
	struct entries *e = payload;
	git_filemode_t mode = git_tree_entry_filemode(entry);
	size_t size = 0;
	git_object_t type;
	char *path;

	if (json_array_size(e->list) == e->max) {
		e->rc = err_set(OTCM_ETOOBIG, "pack", "a pushed tree holds more than %zu entries", e->max);
		return -1;
	}
	if (mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE ||
	    mode == GIT_FILEMODE_LINK) {
		if (git_odb_read_header(&size, &type, e->odb, git_tree_entry_id(entry)) < 0) {
			e->rc = failed(e->g, "cannot read a blob");
			return -1;
		}
	}
	path = xasprintf("%s%s", root, git_tree_entry_name(entry));
	json_array_append_new(e->list, json_pack("{s:s, s:i, s:I}", "path", path, "mode", (int)mode,
						 "size", (json_int_t)size));
	free(path);
	return 0;
}

int gitpack_tree_entries(json_t **out, struct gitpack *g, const char *commit, size_t max)
{
	struct entries e;
	git_commit *c = NULL;
	git_tree *tree = NULL;
	git_oid id;
	int rc;

	*out = NULL;
	memset(&e, 0, sizeof(e));
	e.g = g;
	e.max = max;
	e.list = json_array();
	if ((rc = parse_oid(&id, commit, "commit")))
		goto out;
	if (git_repository_odb(&e.odb, g->git) < 0 || git_commit_lookup(&c, g->git, &id) < 0 ||
	    git_commit_tree(&tree, c) < 0) {
		rc = failed(g, "cannot read a commit's tree");
		goto out;
	}
	if (git_tree_walk(tree, GIT_TREEWALK_PRE, entry_cb, &e) < 0) {
		rc = e.rc ? e.rc : failed(g, "cannot read a tree");
		goto out;
	}
	*out = e.list;
	e.list = NULL;
out:
	json_decref(e.list);
	git_odb_free(e.odb);
	git_tree_free(tree);
	git_commit_free(c);
	return rc;
}

/* ---- the pack cache ---- */

static const char sql_cache_find[] =
	"UPDATE git_pack_cache SET used_at = now() WHERE asset_id = $1 AND key = $2 "
	"RETURNING octet_length(pack), parts";
static const char sql_cache_slice[] =
	"SELECT substring(pack FROM $3 FOR $4) FROM git_pack_cache WHERE asset_id = $1 AND key = $2";
static const char sql_cache_part[] =
	"SELECT data FROM git_pack_cache_part WHERE asset_id = $1 AND key = $2 AND seq = $3";

int gitpack_cache_send(bool *out_found, struct db_conn *c, int64_t asset_id,
		       const unsigned char key[GITPACK_CACHE_KEY], const struct gitpack_sink *sink)
{
	struct db_param p[4];
	struct db_res *res = NULL;
	char asset[24], from[24], count[24];
	uint64_t len, off, parts, i;
	int rc;

	*out_found = false;
	snprintf(asset, sizeof(asset), "%lld", (long long)asset_id);
	snprintf(count, sizeof(count), "%zu", GITPACK_CACHE_SLICE);
	p[0] = DB_TEXT(asset);
	p[1] = DB_BYTES(key, GITPACK_CACHE_KEY);
	p[2] = DB_TEXT(from);
	p[3] = DB_TEXT(count);
	if ((rc = db_exec(&res, c, sql_cache_find, 2, p, false)))
		goto out;
	if (db_res_rows(res) != 1)
		goto out;
	len = strtoull(db_res_get(res, 0, 0), NULL, 10);
	parts = strtoull(db_res_get(res, 0, 1), NULL, 10);
	*out_found = true;
	/* an entry emptied meanwhile (TRUNCATE) shows as a missing slice */
	for (i = 0; i < parts; i++) {
		db_res_free(res);
		res = NULL;
		snprintf(from, sizeof(from), "%llu", (unsigned long long)i);
		if ((rc = db_exec(&res, c, sql_cache_part, 3, p, true)))
			goto out;
		if (db_res_rows(res) != 1) {
			rc = err_set(OTCM_ECONFLICT, NULL, "the cached pack went away while it was sent");
			goto out;
		}
		if (sink->pack(sink->ctx, db_res_get(res, 0, 0), db_res_len(res, 0, 0))) {
			rc = stopped();
			goto out;
		}
	}
	for (off = 0; parts == 0 && off < len; off += GITPACK_CACHE_SLICE) {
		db_res_free(res);
		res = NULL;
		snprintf(from, sizeof(from), "%llu", (unsigned long long)off + 1);
		if ((rc = db_exec(&res, c, sql_cache_slice, 4, p, true)))
			goto out;
		if (db_res_rows(res) != 1 || db_res_len(res, 0, 0) == 0) {
			rc = err_set(OTCM_ECONFLICT, NULL, "the cached pack went away while it was sent");
			goto out;
		}
		if (sink->pack(sink->ctx, db_res_get(res, 0, 0), db_res_len(res, 0, 0))) {
			rc = stopped();
			goto out;
		}
	}
out:
	db_res_free(res);
	return rc;
}

struct gitpack_fill {
	FILE *file;
	uint64_t len;
	bool dropped;
};

int gitpack_fill_new(struct gitpack_fill **out)
{
	const char *tmp = getenv("TMPDIR");
	char *path = xasprintf("%s/otcm-pack-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int fd = mkstemp(path);
	struct gitpack_fill *f;

	*out = NULL;
	if (fd < 0) {
		free(path);
		return 0;
	}
	unlink(path);
	free(path);
	f = xcalloc(1, sizeof(*f));
	f->file = fdopen(fd, "w+b");
	if (!f->file) {
		close(fd);
		free(f);
		return 0;
	}
	*out = f;
	return 0;
}

void gitpack_fill_add(struct gitpack_fill *f, const void *data, size_t len)
{
	if (!f || f->dropped)
		return;
	if (f->len + len > GITPACK_CACHE_MAX || fwrite(data, 1, len, f->file) != len) {
		f->dropped = true;
		return;
	}
	f->len += len;
}

void gitpack_fill_free(struct gitpack_fill *f)
{
	if (!f)
		return;
	fclose(f->file);
	free(f);
}

static const char sql_cache_put[] =
	"INSERT INTO git_pack_cache (asset_id, key, pack, parts, size) VALUES ($1, $2, '', $3, $4) "
	"ON CONFLICT (asset_id, key) DO NOTHING RETURNING 1";
static const char sql_part_put[] =
	"INSERT INTO git_pack_cache_part (asset_id, key, seq, data) VALUES ($1, $2, $3, $4)";
static const char sql_cache_trim[] =
	"DELETE FROM git_pack_cache WHERE asset_id = $1 AND key NOT IN "
	"(SELECT key FROM git_pack_cache WHERE asset_id = $1 ORDER BY used_at DESC LIMIT $2)";

int gitpack_fill_put(struct gitpack_fill *f, struct db_conn *c, int64_t asset_id,
		     const unsigned char key[GITPACK_CACHE_KEY])
{
	struct db_param p[4];
	struct db_res *res = NULL;
	char asset[24], keep[16], parts[24], size[24], seq[24];
	char *slice = NULL;
	uint64_t n, i;
	bool open = false;
	int rc;

	if (!f || f->dropped || f->len == 0 || fflush(f->file) || fseek(f->file, 0, SEEK_SET))
		return 0;
	n = (f->len + GITPACK_CACHE_SLICE - 1) / GITPACK_CACHE_SLICE;
	snprintf(asset, sizeof(asset), "%lld", (long long)asset_id);
	snprintf(keep, sizeof(keep), "%d", GITPACK_CACHE_PER_ASSET);
	snprintf(parts, sizeof(parts), "%llu", (unsigned long long)n);
	snprintf(size, sizeof(size), "%llu", (unsigned long long)f->len);
	p[0] = DB_TEXT(asset);
	p[1] = DB_BYTES(key, GITPACK_CACHE_KEY);
	p[2] = DB_TEXT(parts);
	p[3] = DB_TEXT(size);
	if ((rc = db_begin(c)))
		return rc;
	open = true;
	if ((rc = db_exec(&res, c, sql_cache_put, 4, p, false)))
		goto out;
	if (db_res_rows(res) != 1)
		goto out;   /* another request kept it first: roll back */
	slice = xmalloc(GITPACK_CACHE_SLICE);
	p[2] = DB_TEXT(seq);
	for (i = 0; i < n; i++) {
		size_t want = i + 1 < n ? GITPACK_CACHE_SLICE : (size_t)(f->len - i * GITPACK_CACHE_SLICE);

		if (fread(slice, 1, want, f->file) != want) {
			rc = err_set(OTCM_EIO, NULL, "cannot read back the pack kept for the cache");
			goto out;
		}
		db_res_free(res);
		res = NULL;
		snprintf(seq, sizeof(seq), "%llu", (unsigned long long)i);
		p[3] = DB_BYTES(slice, want);
		if ((rc = db_exec(&res, c, sql_part_put, 4, p, false)))
			goto out;
	}
	db_res_free(res);
	res = NULL;
	p[1] = DB_TEXT(keep);
	if ((rc = db_exec(&res, c, sql_cache_trim, 2, p, false)))
		goto out;
	rc = db_commit(c);
	open = false;
out:
	if (open)
		db_rollback(c);
	db_res_free(res);
	free(slice);
	return rc;
}
