/*
 * storage/gitbundle.c - reading an untrusted git bundle: the header by hand,
 * the pack through libgit2's indexer into a temporary folder and a
 * one-pack object database over it.  See gitbundle.h for the contract.
 */
#include "storage/gitbundle.h"

#include <dirent.h>
#include <git2.h>
#include <git2/sys/odb_backend.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/mem.h"

#define HEX_DIGITS "0123456789abcdef"

struct gitbundle {
	char *dir;                  /* the temporary folder holding the indexed pack */
	git_odb *odb;
	json_t *refs;               /* {ref: commit} */
};

static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d) {
		while ((de = readdir(d))) {
			char *p;

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if (asprintf(&p, "%s/%s", dir, de->d_name) < 0)
				continue;
			if (unlink(p) != 0)
				remove_tree(p);
			free(p);
		}
		closedir(d);
	}
	rmdir(dir);
}

void gitbundle_free(struct gitbundle *b)
{
	if (!b)
		return;
	git_odb_free(b->odb);
	if (b->dir)
		remove_tree(b->dir);
	free(b->dir);
	json_decref(b->refs);
	free(b);
}

static const char *git_message(void)
{
	const git_error *e = git_error_last();

	return e && e->message ? e->message : "unknown error";
}

/* The ref lines; *out_pack gets where the pack starts. */
static int parse_header(json_t *refs, const char **out_pack, const char *p, const char *end)
{
	static const char hdr[] = "# v2 git bundle\n";

	if ((size_t)(end - p) < sizeof(hdr) - 1 || memcmp(p, hdr, sizeof(hdr) - 1))
		return err_set(OTCM_EINVAL, NULL, "not a v2 git bundle");
	p += sizeof(hdr) - 1;
	while (p < end && *p != '\n') {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		char oid[GITBUNDLE_OID_HEX], *ref;

		if (*p == '-')
			return err_set(OTCM_EINVAL, NULL, "the bundle has prerequisites");
		if (!nl || nl - p < 42 || p[40] != ' ' || strspn(p, HEX_DIGITS) != 40)
			return err_set(OTCM_EINVAL, NULL, "bad ref line in the bundle header");
		memcpy(oid, p, 40);
		oid[40] = '\0';
		ref = xstrndup(p + 41, (size_t)(nl - p - 41));
		json_object_set_new(refs, ref, json_string(oid));
		free(ref);
		p = nl + 1;
	}
	if (p >= end || json_object_size(refs) == 0)
		return err_set(OTCM_EINVAL, NULL, "the bundle names no ref");
	*out_pack = p + 1;
	return 0;
}

static int make_tmpdir(char **out)
{
	const char *tmpdir = getenv("TMPDIR");
	char *dir = NULL;

	if (asprintf(&dir, "%s/otcm-gitbundle-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp") < 0)
		return err_set(OTCM_EIO, NULL, "cannot make a temporary folder");
	if (!mkdtemp(dir)) {
		free(dir);
		return err_set(OTCM_EIO, NULL, "cannot make a temporary folder");
	}
	*out = dir;
	return 0;
}

int gitbundle_open(struct gitbundle **out, const void *data, size_t len)
{
	struct gitbundle *b = xcalloc(1, sizeof(*b));
	const char *p = data ? data : "", *pack = NULL;
	git_indexer *idx = NULL;
	git_indexer_options opts;
	git_indexer_progress stats;
	git_odb_backend *be = NULL;
	char *idxpath = NULL;
	int rc;

	b->refs = json_object();
	if ((rc = parse_header(b->refs, &pack, p, p + len)) || (rc = make_tmpdir(&b->dir)))
		goto out;
	git_indexer_options_init(&opts, GIT_INDEXER_OPTIONS_VERSION);
	opts.verify = 1;
	if (git_indexer_new(&idx, b->dir, 0, NULL, &opts) < 0 ||
	    git_indexer_append(idx, pack, (size_t)(p + len - pack), &stats) < 0 ||
	    git_indexer_commit(idx, &stats) < 0) {
		rc = err_set(OTCM_EINVAL, NULL, "the pack does not index: %s", git_message());
		goto out;
	}
	if (asprintf(&idxpath, "%s/pack-%s.idx", b->dir, git_indexer_name(idx)) < 0) {
		idxpath = NULL;
		rc = err_set(OTCM_EIO, NULL, "out of memory");
		goto out;
	}
	if (git_odb_new(&b->odb) < 0 || git_odb_backend_one_pack(&be, idxpath) < 0) {
		rc = err_set(OTCM_EGIT, NULL, "cannot read the pack: %s", git_message());
		goto out;
	}
	if (git_odb_add_backend(b->odb, be, 1) < 0) {
		be->free(be);
		rc = err_set(OTCM_EGIT, NULL, "cannot read the pack: %s", git_message());
		goto out;
	}
	*out = b;
	b = NULL;
out:
	git_indexer_free(idx);
	free(idxpath);
	gitbundle_free(b);
	return rc;
}

const json_t *gitbundle_refs(const struct gitbundle *b)
{
	return b->refs;
}

/*
 * Read commit `hex`: *out_obj gets the object (the caller frees it) and
 * *out_text / *out_end its bytes.  OTCM_ENOTFOUND when it is not a commit
 * of the pack.
 */
static int read_commit(git_odb_object **out_obj, struct gitbundle *b, const char *hex)
{
	git_odb_object *obj = NULL;
	git_oid oid;

	if (!hex || strlen(hex) != 40 || strspn(hex, HEX_DIGITS) != 40 || git_oid_fromstr(&oid, hex) < 0)
		return err_set(OTCM_EINVAL, "commit", "invalid object id '%.64s'", hex ? hex : "");
	if (git_odb_read(&obj, b->odb, &oid) < 0 || git_odb_object_type(obj) != GIT_OBJECT_COMMIT) {
		git_odb_object_free(obj);
		return err_set(OTCM_ENOTFOUND, "commit", "commit %s is not in the bundle", hex);
	}
	*out_obj = obj;
	return 0;
}

int gitbundle_has_commit(bool *out, struct gitbundle *b, const char *commit)
{
	git_odb_object *obj = NULL;
	int rc = read_commit(&obj, b, commit);

	git_odb_object_free(obj);
	*out = rc == 0;
	return rc == OTCM_ENOTFOUND ? 0 : rc;
}

/* The tree of a commit object's text and, when parents is not NULL, its parents appended. */
static int commit_tree_of(char out[GITBUNDLE_OID_HEX], json_t *parents, git_odb_object *obj,
			  const char *hex)
{
	const char *text = git_odb_object_data(obj), *q;
	const char *end = text + git_odb_object_size(obj);

	if (end - text < 46 || memcmp(text, "tree ", 5) || text[45] != '\n' ||
	    strspn(text + 5, HEX_DIGITS) < 40)
		return err_set(OTCM_EINVAL, NULL, "commit %s has no tree", hex);
	memcpy(out, text + 5, 40);
	out[40] = '\0';
	for (q = text + 46; parents && end - q >= 48 && memcmp(q, "parent ", 7) == 0; q += 48)
		json_array_append_new(parents, json_stringn(q + 7, 40));
	return 0;
}

int gitbundle_commit_tree(char out[GITBUNDLE_OID_HEX], struct gitbundle *b, const char *commit)
{
	git_odb_object *obj = NULL;
	int rc;

	if ((rc = read_commit(&obj, b, commit)))
		return rc;
	rc = commit_tree_of(out, NULL, obj, commit);
	git_odb_object_free(obj);
	return rc;
}

int gitbundle_commits(json_t **out, struct gitbundle *b)
{
	json_t *commits = json_object(), *todo = json_array(), *c;
	const char *ref;
	int rc = 0;

	json_object_foreach(b->refs, ref, c)
		json_array_append(todo, c);
	while (json_array_size(todo)) {
		char hex[GITBUNDLE_OID_HEX], tree[GITBUNDLE_OID_HEX];
		git_odb_object *obj = NULL;

		snprintf(hex, sizeof(hex), "%s", json_string_value(json_array_get(todo, 0)));
		json_array_remove(todo, 0);
		if (json_object_get(commits, hex))
			continue;
		if ((rc = read_commit(&obj, b, hex))) {
			rc = err_set(OTCM_EINVAL, NULL, "commit %s is not in the bundle", hex);
			goto out;
		}
		rc = commit_tree_of(tree, todo, obj, hex);
		git_odb_object_free(obj);
		if (rc)
			goto out;
		json_object_set_new(commits, hex, json_string(tree));
	}
	*out = commits;
	commits = NULL;
out:
	json_decref(commits);
	json_decref(todo);
	return rc;
}
