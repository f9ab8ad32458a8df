/* storage/repo_release.c - merge commits for releases; see repo_release.h. */
#include "storage/repo_release.h"

#include <git2.h>
#include <git2/sys/odb_backend.h>
#include <git2/sys/repository.h>
#include <string.h>

#include "core/err.h"
#include "storage/odb.h"

struct view {
	git_repository *git;
	git_odb_backend *backend;   /* owned by the odb the repository holds */
};

static int git_failed(struct view *v, const char *what)
{
	const git_error *e = git_error_last();
	int rc = v && v->backend ? odb_backend_take_error(v->backend) : 0;

	if (rc)
		return rc;
	return err_set(OTCM_EGIT, NULL, "%s: %s", what, e && e->message ? e->message : "unknown error");
}

static void view_release(struct view *v)
{
	git_repository_free(v->git);
	v->git = NULL;
	v->backend = NULL;
}

static int view_open(struct view *v, struct db_conn *c)
{
	git_odb *odb = NULL;
	git_odb_backend *backend = NULL;
	int rc = 0;

	memset(v, 0, sizeof(*v));
	if (git_odb_new(&odb) < 0)
		return git_failed(NULL, "cannot create object database");
	if ((rc = odb_backend_new(&backend, c)))
		goto out;
	if (git_odb_add_backend(odb, backend, 1) < 0) {
		backend->free(backend);
		rc = git_failed(NULL, "cannot add object database backend");
		goto out;
	}
	v->backend = backend;
	if (git_repository_new(&v->git) < 0 || git_repository_set_odb(v->git, odb) < 0) {
		rc = git_failed(v, "cannot create repository");
		goto out;
	}
out:
	git_odb_free(odb);
	if (rc)
		view_release(v);
	return rc;
}

static int parse(git_oid *out, const char *hex, const char *field)
{
	if (!hex || strlen(hex) != 40 || git_oid_fromstr(out, hex) < 0)
		return err_set(OTCM_EINVAL, field, "'%s' is not a 40-digit object id", hex ? hex : "");
	return 0;
}

static int signature_of(git_signature **out, const struct repo_signature *who)
{
	if (git_signature_new(out, who->name, who->email, (git_time_t)(who->time_us / 1000000), 0) < 0)
		return git_failed(NULL, "cannot make signature");
	return 0;
}

int repo_release_merge(char out[REPO_OID_HEX], struct db_conn *c, const char *tree,
		       const char *parent1, const char *parent2, const struct repo_signature *who,
		       const char *message)
{
	struct view v = { NULL, NULL };
	git_oid tree_id, p1_id, p2_id, id;
	git_tree *t = NULL;
	git_commit *p[2] = { NULL, NULL };
	git_signature *sig = NULL;
	int rc;

	if ((rc = parse(&tree_id, tree, "tree")) || (rc = parse(&p1_id, parent1, "parent")) ||
	    (rc = parse(&p2_id, parent2, "parent")) || (rc = view_open(&v, c)))
		goto out;
	if (git_tree_lookup(&t, v.git, &tree_id) < 0 || git_commit_lookup(&p[0], v.git, &p1_id) < 0 ||
	    git_commit_lookup(&p[1], v.git, &p2_id) < 0) {
		rc = git_failed(&v, "cannot read the release's tree or parents");
		goto out;
	}
	if ((rc = signature_of(&sig, who)))
		goto out;
	if (git_commit_create(&id, v.git, NULL, sig, sig, "UTF-8", message, t, 2,
			      (const git_commit **)p) < 0) {
		rc = git_failed(&v, "cannot write merge commit");
		goto out;
	}
	git_oid_tostr(out, REPO_OID_HEX, &id);
out:
	git_signature_free(sig);
	git_commit_free(p[0]);
	git_commit_free(p[1]);
	git_tree_free(t);
	view_release(&v);
	return rc;
}
