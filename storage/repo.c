/*
 * storage/repo.c - an asset's git repository over PostgreSQL: commits built
 * in memory, annotated tags, loose blobs, refs as rows moved by
 * compare-and-swap, history, files, diffs, archives and git bundles.  See
 * repo.h for the contract, odb.c for the objects.
 */
#include "storage/repo.h"

#include <ctype.h>
#include <git2.h>
#include <git2/sys/commit.h>
#include <git2/sys/odb_backend.h>
#include <git2/sys/repository.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/archive.h"
#include "core/err.h"
#include "core/utf8.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "storage/odb.h"

#define REPO_PATH_MAX 1024
#define REPO_REF_MAX 255

struct repo {
	git_repository *git;
	git_odb_backend *backend;   /* owned by the repository's odb */
	struct db_conn *c;
	char asset[24];             /* asset id as text, for statements */
};

/*
 * A libgit2 call failed: pass up the database's code if the backend saw one
 * (its message is already recorded), else OTCM_EGIT with libgit2's message.
 */
static int git_fail(struct repo *r, const char *what)
{
	const git_error *e = git_error_last();
	int rc = r ? odb_backend_take_error(r->backend) : 0;

	if (rc)
		return rc;
	return err_set(OTCM_EGIT, NULL, "%s: %s", what, e && e->message ? e->message : "unknown error");
}

int repo_global_init(void)
{
	static const int levels[] = {
		GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG,
		GIT_CONFIG_LEVEL_GLOBAL, GIT_CONFIG_LEVEL_PROGRAMDATA,
	};

	if (git_libgit2_init() < 0)
		return git_fail(NULL, "cannot initialise libgit2");
	/* Every object written must name objects that exist and be well formed. */
	if (git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, 1) < 0 ||
	    git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 1) < 0)
		return git_fail(NULL, "cannot set libgit2 options");
	/*
	 * No repository of ours has a configuration; never read the server
	 * account's ~/.gitconfig or /etc/gitconfig into diffs and commits.
	 */
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, levels[i], "") < 0)
			return git_fail(NULL, "cannot set libgit2 options");
	/*
	 * libgit2 caches parsed trees and commits per repository, and a
	 * repository lives for one request: a small ceiling keeps a request's
	 * memory bounded.  Blobs are never cached (the default).
	 */
	if (git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, (ssize_t)(32 * 1024 * 1024)) < 0)
		return git_fail(NULL, "cannot set libgit2 options");
	return 0;
}

void repo_global_shutdown(void)
{
	git_libgit2_shutdown();
}

int repo_open(struct repo **out, struct db_conn *c, int64_t asset_id)
{
	struct repo *r = xcalloc(1, sizeof(*r));
	git_odb *odb = NULL;
	git_odb_backend *backend = NULL;
	int rc;

	r->c = c;
	snprintf(r->asset, sizeof(r->asset), "%" PRId64, asset_id);
	if (git_odb_new(&odb) < 0) {
		rc = git_fail(NULL, "cannot create object database");
		goto out;
	}
	if ((rc = odb_backend_new(&backend, c)))
		goto out;
	if (git_odb_add_backend(odb, backend, 1) < 0) {
		backend->free(backend);
		rc = git_fail(NULL, "cannot add object database backend");
		goto out;
	}
	r->backend = backend;
	if (git_repository_new(&r->git) < 0) {
		rc = git_fail(NULL, "cannot create repository");
		goto out;
	}
	if (git_repository_set_odb(r->git, odb) < 0) {
		rc = git_fail(NULL, "cannot attach object database");
		goto out;
	}
	*out = r;
	r = NULL;
	rc = 0;
out:
	git_odb_free(odb);   /* the repository holds its own reference */
	repo_free(r);
	return rc;
}

void repo_free(struct repo *r)
{
	if (!r)
		return;
	git_repository_free(r->git);
	free(r);
}

/*
 * Names are 'refs/heads/...', 'refs/tags/...' or 'refs/readback/...' (a
 * device's read-backs) in the characters the schema allows.
 */
static int check_ref(const char *ref)
{
	size_t len;
	int valid = 0;

	if (!ref || !*ref)
		return err_set(OTCM_EINVAL, "ref", "ref name is empty");
	len = strlen(ref);
	if (len > REPO_REF_MAX)
		return err_set(OTCM_EINVAL, "ref", "ref name is longer than %d bytes", REPO_REF_MAX);
	if (strncmp(ref, "refs/heads/", 11) && strncmp(ref, "refs/tags/", 10) &&
	    strncmp(ref, "refs/readback/", 14))
		return err_set(OTCM_EINVAL, "ref", "ref '%s' is not a branch, tag or read-back", ref);
	if (strspn(ref, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._/-") != len ||
	    git_reference_name_is_valid(&valid, ref) < 0 || !valid)
		return err_set(OTCM_EINVAL, "ref", "invalid ref name '%.*s'", REPO_REF_MAX, ref);
	return 0;
}

int repo_branch_ref(char *out, size_t outlen, const char *branch)
{
	int rc, n;

	if (!branch || !*branch)
		return err_set(OTCM_EINVAL, "branch", "branch name is empty");
	if (strlen(branch) > REPO_REF_MAX - 11)
		return err_set(OTCM_EINVAL, "branch", "branch name is too long");
	n = snprintf(out, outlen, "refs/heads/%s", branch);
	if (n < 0 || (size_t)n >= outlen)
		return err_set(OTCM_EINTERNAL, NULL, "no room for ref of branch '%s'", branch);
	if ((rc = check_ref(out)))
		return err_set(rc, "branch", "invalid branch name '%s'", branch);
	return 0;
}

/* Exactly 40 hex digits. */
static int parse_oid(git_oid *out, const char *hex, const char *field)
{
	if (!hex || strlen(hex) != GIT_OID_HEXSZ ||
	    strspn(hex, "0123456789abcdefABCDEF") != GIT_OID_HEXSZ ||
	    git_oid_fromstr(out, hex) < 0)
		return err_set(OTCM_EINVAL, field, "invalid object id '%.64s'", hex ? hex : "");
	return 0;
}

static void oid_hex(char out[REPO_OID_HEX], const git_oid *id)
{
	git_oid_tostr(out, REPO_OID_HEX, id);
}

static int lookup_commit(git_commit **out, struct repo *r, const git_oid *id)
{
	char hex[REPO_OID_HEX];
	int rc = git_commit_lookup(out, r->git, id);

	if (rc == 0)
		return 0;
	if (rc != GIT_ENOTFOUND)   /* also what libgit2 says for "not a commit" */
		return git_fail(r, "cannot read commit");
	odb_backend_take_error(r->backend);
	oid_hex(hex, id);
	return err_set(OTCM_ENOTFOUND, "commit", "commit '%s' not found", hex);
}

static int lookup_commit_hex(git_commit **out, struct repo *r, const char *hex, const char *field)
{
	git_oid id;
	int rc;

	if ((rc = parse_oid(&id, hex, field)))
		return rc;
	return lookup_commit(out, r, &id);
}

static const char sql_ref_get[] =
	"SELECT oid FROM refs WHERE asset_id = $1 AND name = $2";

int repo_ref_get(char out[REPO_OID_HEX], struct repo *r, const char *ref)
{
	struct db_param p[2];
	struct db_res *res = NULL;
	git_oid id;
	int rc;

	if ((rc = check_ref(ref)))
		return rc;
	p[0] = DB_TEXT(r->asset);
	p[1] = DB_TEXT(ref);
	if ((rc = db_exec(&res, r->c, sql_ref_get, 2, p, true)))
		goto out;
	if (db_res_rows(res) == 0) {
		rc = err_set(OTCM_ENOTFOUND, "ref", "ref '%s' not found", ref);
		goto out;
	}
	if (db_res_len(res, 0, 0) != GIT_OID_RAWSZ) {
		rc = err_set(OTCM_EDB, NULL, "ref '%s' holds a malformed id", ref);
		goto out;
	}
	git_oid_fromraw(&id, (const unsigned char *)db_res_get(res, 0, 0));
	oid_hex(out, &id);
	rc = 0;
out:
	db_res_free(res);
	return rc;
}

/*
 * Creation uses ON CONFLICT DO NOTHING rather than catching the unique
 * violation: an error would abort the caller's whole transaction, while a
 * row count of 0 leaves it usable and still reports the conflict.
 */
static const char sql_ref_create[] =
	"INSERT INTO refs (asset_id, name, oid) VALUES ($1, $2, $3) "
	"ON CONFLICT (asset_id, name) DO NOTHING";
static const char sql_ref_move[] =
	"UPDATE refs SET oid = $4, updated_at = now() "
	"WHERE asset_id = $1 AND name = $2 AND oid = $3";

int repo_ref_cas(struct repo *r, const char *ref, const char *expected, const char *new_oid)
{
	git_oid want, have;
	git_object_t type;
	size_t size;
	git_odb *odb = NULL;
	struct db_param p[4];
	struct db_res *res = NULL;
	bool is_tag;
	int rc;

	if ((rc = check_ref(ref)) || (rc = parse_oid(&want, new_oid, "commit")))
		goto out;
	if (expected && (rc = parse_oid(&have, expected, "expected")))
		goto out;
	is_tag = strncmp(ref, "refs/tags/", 10) == 0;
	/*
	 * Branches point at commits, tags at commits or tag objects (the
	 * foreign key checks existence alone).
	 */
	if (git_repository_odb(&odb, r->git) < 0) {
		rc = git_fail(r, "cannot open object database");
		goto out;
	}
	if (git_odb_read_header(&size, &type, odb, &want) < 0) {
		if ((rc = odb_backend_take_error(r->backend)))
			goto out;
		rc = err_set(OTCM_ENOTFOUND, "commit", "commit '%s' not found", new_oid);
		goto out;
	}
	if (type != GIT_OBJECT_COMMIT && !(is_tag && type == GIT_OBJECT_TAG)) {
		rc = err_set(OTCM_EINVAL, "commit", "object '%s' is not a commit%s", new_oid,
			     is_tag ? " or a tag" : "");
		goto out;
	}
	p[0] = DB_TEXT(r->asset);
	p[1] = DB_TEXT(ref);
	if (expected) {
		p[2] = DB_BYTES(have.id, GIT_OID_RAWSZ);
		p[3] = DB_BYTES(want.id, GIT_OID_RAWSZ);
		rc = db_exec(&res, r->c, sql_ref_move, 4, p, false);
	} else {
		p[2] = DB_BYTES(want.id, GIT_OID_RAWSZ);
		rc = db_exec(&res, r->c, sql_ref_create, 3, p, false);
	}
	if (rc)
		goto out;
	if (db_res_affected(res) != 1) {
		if (expected)
			rc = err_set(OTCM_ECONFLICT, "ref", "ref '%s' is no longer at '%s'", ref, expected);
		else
			rc = err_set(OTCM_ECONFLICT, "ref", "ref '%s' already exists", ref);
		goto out;
	}
	rc = 0;
out:
	db_res_free(res);
	git_odb_free(odb);
	return rc;
}

static const char sql_ref_delete[] =
	"DELETE FROM refs WHERE asset_id = $1 AND name = $2 AND oid = $3";

int repo_ref_delete(struct repo *r, const char *ref, const char *expected)
{
	struct db_param p[3];
	struct db_res *res = NULL;
	git_oid have;
	int rc;

	if ((rc = check_ref(ref)) || (rc = parse_oid(&have, expected, "expected")))
		return rc;
	p[0] = DB_TEXT(r->asset);
	p[1] = DB_TEXT(ref);
	p[2] = DB_BYTES(have.id, GIT_OID_RAWSZ);
	if ((rc = db_exec(&res, r->c, sql_ref_delete, 3, p, false)))
		goto out;
	if (db_res_affected(res) != 1)
		rc = err_set(OTCM_ECONFLICT, "ref", "ref '%s' is no longer at '%s'", ref, expected);
out:
	db_res_free(res);
	return rc;
}

static const char sql_ref_list[] =
	"SELECT name, encode(oid, 'hex') FROM refs WHERE asset_id = $1"
	" AND name NOT LIKE 'refs/readback/%' ORDER BY name";

int repo_ref_list(json_t **out, struct repo *r)
{
	struct db_param p[1] = { DB_TEXT(r->asset) };
	struct db_res *res = NULL;
	json_t *list = json_array();
	int rc;

	if ((rc = db_exec(&res, r->c, sql_ref_list, 1, p, false)))
		goto out;
	for (size_t i = 0; i < db_res_rows(res); i++)
		json_array_append_new(list, json_pack("{s:s, s:s}", "name", db_res_get(res, i, 0),
						      "commit", db_res_get(res, i, 1)));
	*out = list;
	list = NULL;
out:
	json_decref(list);
	db_res_free(res);
	return rc;
}

/*
 * The code point starting at *p (before end), advancing *p past it.  The
 * text has been checked as UTF-8; a truncated sequence reads as U+FFFD.
 */
static uint32_t next_code_point(const unsigned char **p, const unsigned char *end)
{
	const unsigned char *s = *p;
	uint32_t cp;
	size_t n, i;

	if (s[0] < 0x80) {
		*p = s + 1;
		return s[0];
	}
	n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
	if ((size_t)(end - s) < n) {
		*p = end;
		return 0xfffd;
	}
	cp = s[0] & (0x7f >> n);
	for (i = 1; i < n; i++)
		cp = (cp << 6) | (s[i] & 0x3f);
	*p = s + n;
	return cp;
}

/* Code points HFS+ drops from names (git's list in utf8.c, next_hfs_char). */
static bool hfs_ignores(uint32_t cp)
{
	return (cp >= 0x200c && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x206a && cp <= 0x206f) || cp == 0xfeff;
}

/* The next code point of name that HFS+ keeps, or 0 at the end. */
static uint32_t next_hfs_char(const unsigned char **p, const unsigned char *end)
{
	while (*p < end) {
		uint32_t cp = next_code_point(p, end);

		if (!hfs_ignores(cp))
			return cp;
	}
	return 0;
}

/* git's is_hfs_dotgit: ".git" in any case once the ignored code points are gone. */
static bool is_hfs_dotgit(const char *name, size_t len)
{
	const unsigned char *p = (const unsigned char *)name, *end = p + len;
	const char *needle = "git";
	uint32_t cp;

	if (next_hfs_char(&p, end) != '.')
		return false;
	for (; *needle; needle++) {
		cp = next_hfs_char(&p, end);
		if (cp > 127 || tolower((int)cp) != *needle)
			return false;
	}
	return next_hfs_char(&p, end) == 0;
}

/*
 * git's is_ntfs_dotgit: ".git" or its 8.3 alias "git~1", in any case,
 * followed only by dots and spaces (which NTFS strips) up to the end or a
 * ':' (an alternate data stream of the folder).
 */
static bool is_ntfs_dotgit(const char *name, size_t len)
{
	size_t i;

	if (len >= 4 && strncasecmp(name, ".git", 4) == 0)
		i = 4;
	else if (len >= 5 && strncasecmp(name, "git~1", 5) == 0)
		i = 5;
	else
		return false;
	for (; i < len && name[i] != ':'; i++)
		if (name[i] != '.' && name[i] != ' ')
			return false;
	return true;
}

bool repo_name_is_dotgit(const char *name, size_t len)
{
	return is_ntfs_dotgit(name, len) || is_hfs_dotgit(name, len);
}

int repo_check_path(const char *path)
{
	const char *seg, *end;
	size_t len;

	if (!path || !*path)
		return err_set(OTCM_EINVAL, "path", "path is empty");
	len = strlen(path);
	if (len > REPO_PATH_MAX)
		return err_set(OTCM_EINVAL, "path", "path '%.64s...' is longer than %d bytes", path,
			       REPO_PATH_MAX);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)path[i];

		if (ch < 0x20 || ch == 0x7f)
			return err_set(OTCM_EINVAL, "path", "path contains a control character");
		if (ch == '\\')
			return err_set(OTCM_EINVAL, "path", "path '%s' contains a backslash", path);
	}
	if (!utf8_valid(path, len))
		return err_set(OTCM_EINVAL, "path", "path is not valid UTF-8");
	if (path[0] == '/')
		return err_set(OTCM_EINVAL, "path", "path '%s' is absolute", path);
	for (seg = path; ; seg = end + 1) {
		size_t n;

		end = strchr(seg, '/');
		n = end ? (size_t)(end - seg) : strlen(seg);
		if (n == 0)
			return err_set(OTCM_EINVAL, "path", "path '%s' has an empty segment", path);
		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return err_set(OTCM_EINVAL, "path", "path '%s' has a '.' or '..' segment", path);
		if (repo_name_is_dotgit(seg, n))
			return err_set(OTCM_EINVAL, "path",
				       "path '%s' has a segment that git reads as '.git'", path);
		if (!end)
			break;
	}
	return 0;
}

static int cmp_file_path(const void *a, const void *b)
{
	const struct repo_file *fa = *(const struct repo_file *const *)a;
	const struct repo_file *fb = *(const struct repo_file *const *)b;

	return strcmp(fa->path, fb->path);
}

static int cmp_path_key(const void *key, const void *elem)
{
	const struct repo_file *f = *(const struct repo_file *const *)elem;

	return strcmp((const char *)key, f->path);
}

/*
 * Valid paths, no duplicates, and no path that is also a folder of another
 * (sorted: the folders of a path can be found by binary search).
 */
static int check_new_files(const struct repo_file **sorted, size_t n)
{
	char prefix[REPO_PATH_MAX + 1];
	int rc;

	for (size_t i = 0; i < n; i++) {
		const char *path = sorted[i]->path;

		if ((rc = repo_check_path(path)))
			return rc;
		if (!sorted[i]->data && sorted[i]->len)
			return err_set(OTCM_EINVAL, "path", "file '%s' has no data", path);
	}
	for (size_t i = 0; i + 1 < n; i++)
		if (strcmp(sorted[i]->path, sorted[i + 1]->path) == 0)
			return err_set(OTCM_EINVAL, "path", "duplicate path '%s'", sorted[i]->path);
	for (size_t i = 0; i < n; i++) {
		const char *path = sorted[i]->path;

		for (const char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
			memcpy(prefix, path, (size_t)(s - path));
			prefix[s - path] = '\0';
			if (bsearch(prefix, sorted, n, sizeof(*sorted), cmp_path_key))
				return err_set(OTCM_EINVAL, "path",
					       "path '%s' is both a file and a folder", prefix);
		}
	}
	return 0;
}

/* Overlaying `path` on the parent's files must not turn a file into a folder or back. */
static int check_overlay(git_index *idx, const char *path)
{
	char prefix[REPO_PATH_MAX + 2];
	size_t len = strlen(path), pos;

	for (const char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
		memcpy(prefix, path, (size_t)(s - path));
		prefix[s - path] = '\0';
		if (git_index_get_bypath(idx, prefix, 0))
			return err_set(OTCM_EINVAL, "path",
				       "path '%s' is a file in the parent version, not a folder", prefix);
	}
	memcpy(prefix, path, len);
	prefix[len] = '/';
	prefix[len + 1] = '\0';
	if (git_index_find_prefix(&pos, idx, prefix) == 0)
		return err_set(OTCM_EINVAL, "path",
			       "path '%s' is a folder in the parent version, not a file", path);
	return 0;
}

/*
 * Write a blob straight through the object database.  libgit2's
 * git_blob_create_from_buffer() goes through a write stream, which for a
 * backend without streams of its own (ours) keeps a second copy of the
 * whole blob until the stream is finished; git_odb_write() hashes the
 * caller's bytes and hands the same buffer to the backend.  The id is the
 * same either way.  Negative (libgit2's code) on failure.
 */
static int write_blob(git_oid *out, struct repo *r, const void *data, size_t len)
{
	git_odb *odb = NULL;
	int rc;

	rc = git_repository_odb(&odb, r->git);
	if (rc == 0)
		rc = git_odb_write(out, odb, len ? data : "", len, GIT_OBJECT_BLOB);
	git_odb_free(odb);
	return rc;
}

int repo_commit_files(char out_commit[REPO_OID_HEX], char out_tree[REPO_OID_HEX],
		      struct repo *r, const char *parent, const struct repo_file *files,
		      size_t nfiles, bool replace_tree, const struct repo_signature *who,
		      const char *message)
{
	const struct repo_file **sorted = NULL;
	git_commit *parent_commit = NULL;
	git_tree *parent_tree = NULL;
	git_index *idx = NULL;
	git_signature *sig = NULL;
	git_buf msg = GIT_BUF_INIT_CONST(NULL, 0);
	git_oid tree_id, commit_id, parent_id;
	const git_oid *parents[1];
	git_time_t when;
	int rc;

	if (!who || !who->name || !who->email || !message)
		return err_set(OTCM_EINVAL, NULL, "a commit needs an author and a message");
	sorted = xcalloc(nfiles ? nfiles : 1, sizeof(*sorted));
	for (size_t i = 0; i < nfiles; i++)
		sorted[i] = &files[i];
	qsort(sorted, nfiles, sizeof(*sorted), cmp_file_path);
	if ((rc = check_new_files(sorted, nfiles)))
		goto out;

	if (git_index_new(&idx) < 0) {
		rc = git_fail(r, "cannot create index");
		goto out;
	}
	if (parent) {
		if ((rc = parse_oid(&parent_id, parent, "parent")) ||
		    (rc = lookup_commit(&parent_commit, r, &parent_id)))
			goto out;
		if (!replace_tree) {
			if (git_commit_tree(&parent_tree, parent_commit) < 0 ||
			    git_index_read_tree(idx, parent_tree) < 0) {
				rc = git_fail(r, "cannot read parent tree");
				goto out;
			}
		}
	}
	for (size_t i = 0; i < nfiles; i++) {
		const struct repo_file *f = sorted[i];
		git_index_entry e;

		if (parent_tree && (rc = check_overlay(idx, f->path)))
			goto out;
		memset(&e, 0, sizeof(e));
		if (write_blob(&e.id, r, f->data, f->len) < 0) {
			rc = git_fail(r, "cannot write file");
			goto out;
		}
		e.path = f->path;
		e.mode = f->executable ? GIT_FILEMODE_BLOB_EXECUTABLE : GIT_FILEMODE_BLOB;
		e.file_size = (uint32_t)f->len;
		if (git_index_add(idx, &e) < 0) {
			rc = git_fail(r, "cannot add file");
			goto out;
		}
	}
	if (git_index_write_tree_to(&tree_id, idx, r->git) < 0) {
		rc = git_fail(r, "cannot write tree");
		goto out;
	}

	when = (git_time_t)(who->time_us / 1000000);
	if (who->time_us < 0 && who->time_us % 1000000)
		when--;
	if (git_signature_new(&sig, who->name, who->email, when, 0) < 0) {
		rc = err_set(OTCM_EINVAL, "author", "invalid author '%s <%s>'", who->name, who->email);
		goto out;
	}
	if (git_message_prettify(&msg, message, 0, 0) < 0) {
		rc = git_fail(r, "cannot clean up message");
		goto out;
	}
	parents[0] = &parent_id;
	if (git_commit_create_from_ids(&commit_id, r->git, NULL, sig, sig, NULL, msg.ptr ? msg.ptr : "",
				       &tree_id, parent ? 1 : 0, parents) < 0) {
		rc = git_fail(r, "cannot write commit");
		goto out;
	}
	oid_hex(out_commit, &commit_id);
	oid_hex(out_tree, &tree_id);
	rc = 0;
out:
	git_buf_dispose(&msg);
	git_signature_free(sig);
	git_index_free(idx);
	git_tree_free(parent_tree);
	git_commit_free(parent_commit);
	free(sorted);
	return rc;
}

int repo_tag_create(char out[REPO_OID_HEX], struct repo *r, const char *name, const char *target,
		    const struct repo_signature *tagger, const char *message)
{
	char ref[REPO_REF_MAX + 2], hex[REPO_OID_HEX];
	git_commit *commit = NULL;
	git_signature *sig = NULL;
	git_oid id;
	git_time_t when;
	int n, rc;

	if (!tagger || !tagger->name || !tagger->email || !message)
		return err_set(OTCM_EINVAL, NULL, "a tag needs a tagger and a message");
	n = snprintf(ref, sizeof(ref), "refs/tags/%s", name ? name : "");
	if (n < 0 || (size_t)n >= sizeof(ref))
		return err_set(OTCM_EINVAL, "tag", "tag name is too long");
	if ((rc = check_ref(ref)))
		return err_set(rc, "tag", "invalid tag name '%s'", name ? name : "");
	if ((rc = lookup_commit_hex(&commit, r, target, "commit")))
		goto out;
	when = (git_time_t)(tagger->time_us / 1000000);
	if (tagger->time_us < 0 && tagger->time_us % 1000000)
		when--;
	if (git_signature_new(&sig, tagger->name, tagger->email, when, 0) < 0) {
		rc = err_set(OTCM_EINVAL, "tagger", "invalid tagger '%s <%s>'", tagger->name, tagger->email);
		goto out;
	}
	if (git_tag_annotation_create(&id, r->git, name, (const git_object *)commit, sig, message) < 0) {
		rc = git_fail(r, "cannot write tag");
		goto out;
	}
	oid_hex(hex, &id);
	/* a tag is created once: a second release of one name is a conflict, not a move */
	if ((rc = repo_ref_cas(r, ref, NULL, hex)))
		goto out;
	memcpy(out, hex, REPO_OID_HEX);
out:
	git_signature_free(sig);
	git_commit_free(commit);
	return rc;
}

static json_t *commit_json(const git_commit *c)
{
	char hex[REPO_OID_HEX], tree[REPO_OID_HEX], when[TIME_RFC3339_LEN];
	const git_signature *author = git_commit_author(c);
	json_t *parents = json_array();
	unsigned n = git_commit_parentcount(c);

	for (unsigned i = 0; i < n; i++) {
		oid_hex(hex, git_commit_parent_id(c, i));
		json_array_append_new(parents, json_string(hex));
	}
	time_format_rfc3339(when, (int64_t)git_commit_time(c) * 1000000);
	oid_hex(hex, git_commit_id(c));
	oid_hex(tree, git_commit_tree_id(c));
	return json_pack("{s:s, s:s, s:o, s:{s:s, s:s}, s:s, s:s}",
			 "commit", hex,
			 "tree", tree,
			 "parents", parents,
			 "author", "name", author->name, "email", author->email,
			 "time", when,
			 "message", git_commit_message(c) ? git_commit_message(c) : "");
}

int repo_commit_info(json_t **out, struct repo *r, const char *commit)
{
	git_commit *c = NULL;
	json_t *info;
	int rc;

	if ((rc = lookup_commit_hex(&c, r, commit, "commit")))
		goto out;
	if (!(info = commit_json(c))) {
		rc = err_set(OTCM_EINTERNAL, NULL, "cannot describe commit '%s'", commit);
		goto out;
	}
	*out = info;
out:
	git_commit_free(c);
	return rc;
}

int repo_is_ancestor(bool *out, struct repo *r, const char *ancestor, const char *descendant)
{
	git_commit *a = NULL, *d = NULL;
	int rc;

	if ((rc = lookup_commit_hex(&a, r, ancestor, "ancestor")) ||
	    (rc = lookup_commit_hex(&d, r, descendant, "descendant")))
		goto out;
	if (git_oid_equal(git_commit_id(a), git_commit_id(d))) {
		*out = true;
		goto out;
	}
	rc = git_graph_descendant_of(r->git, git_commit_id(d), git_commit_id(a));
	if (rc < 0) {
		rc = git_fail(r, "cannot walk history");
		goto out;
	}
	*out = rc == 1;
	rc = 0;
out:
	git_commit_free(a);
	git_commit_free(d);
	return rc;
}

/*
 * Following first parents is a chain, so this walks it directly instead of
 * through git_revwalk: a sorted revwalk reads the whole history before
 * returning its first commit, this reads only the commits up to the page's
 * end (one round trip each unless cached).
 */
int repo_log(json_t **out, char out_next[REPO_OID_HEX], struct repo *r, const char *start,
	     const char *after, size_t limit)
{
	git_commit *cur = NULL, *next = NULL;
	git_oid after_id;
	json_t *list = json_array();
	bool skipping = after && *after;
	size_t count = 0;
	int rc;

	out_next[0] = '\0';
	if (limit == 0) {
		rc = err_set(OTCM_EINVAL, "limit", "limit must be at least 1");
		goto out;
	}
	if (skipping && (rc = parse_oid(&after_id, after, "after")))
		goto out;
	if ((rc = lookup_commit_hex(&cur, r, start, "start")))
		goto out;
	while (cur) {
		if (skipping) {
			skipping = !git_oid_equal(git_commit_id(cur), &after_id);
		} else if (count == limit) {
			char hex[REPO_OID_HEX];

			/* More remain: the cursor is the last commit listed. */
			json_t *last = json_array_get(list, count - 1);

			snprintf(hex, sizeof(hex), "%s", json_string_value(json_object_get(last, "commit")));
			memcpy(out_next, hex, REPO_OID_HEX);
			break;
		} else {
			json_array_append_new(list, commit_json(cur));
			count++;
		}
		if (git_commit_parentcount(cur) == 0)
			break;
		if (git_commit_parent(&next, cur, 0) < 0) {
			rc = git_fail(r, "cannot read parent commit");
			goto out;
		}
		git_commit_free(cur);
		cur = next;
		next = NULL;
	}
	if (skipping) {
		rc = err_set(OTCM_EINVAL, "after", "commit '%s' is not in the history of '%s'", after,
			     start);
		goto out;
	}
	*out = list;
	list = NULL;
	rc = 0;
out:
	git_commit_free(cur);
	json_decref(list);
	return rc;
}

/* Entries of a tree walk (pre-order, tree order, so deterministic). */
struct walk_file {
	char *path;
	git_oid id;
	git_filemode_t mode;
};

struct walk {
	struct walk_file *files;
	size_t n, alloc;
	bool with_dirs;   /* also record folders (mode GIT_FILEMODE_TREE) */
};

static int walk_cb(const char *root, const git_tree_entry *entry, void *payload)
{
	struct walk *w = payload;
	git_filemode_t mode = git_tree_entry_filemode(entry);

	if (mode == GIT_FILEMODE_TREE && !w->with_dirs)
		return 0;
	if (w->n == w->alloc) {
		w->alloc = w->alloc ? 2 * w->alloc : 64;
		w->files = xrealloc(w->files, w->alloc * sizeof(*w->files));
	}
	w->files[w->n].path = xasprintf("%s%s", root, git_tree_entry_name(entry));
	git_oid_cpy(&w->files[w->n].id, git_tree_entry_id(entry));
	w->files[w->n].mode = mode;
	w->n++;
	return 0;
}

static void walk_release(struct walk *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->files[i].path);
	free(w->files);
}

static int walk_commit(struct walk *w, struct repo *r, const char *commit, git_commit **out_commit)
{
	git_commit *c = NULL;
	git_tree *tree = NULL;
	int rc;

	if ((rc = lookup_commit_hex(&c, r, commit, "commit")))
		goto out;
	if (git_commit_tree(&tree, c) < 0 || git_tree_walk(tree, GIT_TREEWALK_PRE, walk_cb, w) < 0) {
		rc = git_fail(r, "cannot read tree");
		goto out;
	}
	if (out_commit) {
		*out_commit = c;
		c = NULL;
	}
out:
	git_tree_free(tree);
	git_commit_free(c);
	return rc;
}

int repo_list_files(json_t **out, struct repo *r, const char *commit)
{
	struct walk w = { NULL, 0, 0, false };
	git_oid *ids = NULL;
	uint64_t *sizes = NULL;
	json_t *list = json_array();
	char hex[REPO_OID_HEX], mode[8];
	int rc;

	if ((rc = walk_commit(&w, r, commit, NULL)))
		goto out;
	ids = xcalloc(w.n ? w.n : 1, sizeof(*ids));
	sizes = xcalloc(w.n ? w.n : 1, sizeof(*sizes));
	for (size_t i = 0; i < w.n; i++)
		git_oid_cpy(&ids[i], &w.files[i].id);
	/* One round trip for all sizes, not one per file. */
	if ((rc = odb_backend_sizes(sizes, r->backend, ids, w.n)))
		goto out;
	for (size_t i = 0; i < w.n; i++) {
		oid_hex(hex, &w.files[i].id);
		snprintf(mode, sizeof(mode), "%06o", (unsigned)w.files[i].mode);
		json_array_append_new(list, json_pack("{s:s, s:I, s:s, s:s}", "path", w.files[i].path,
						      "size", (json_int_t)sizes[i], "blob", hex,
						      "mode", mode));
	}
	*out = list;
	list = NULL;
out:
	json_decref(list);
	free(ids);
	free(sizes);
	walk_release(&w);
	return rc;
}

int repo_read_file(void **out, size_t *out_len, char out_blob[REPO_OID_HEX], struct repo *r,
		   const char *commit, const char *path)
{
	git_commit *c = NULL;
	git_tree *tree = NULL;
	git_tree_entry *entry = NULL;
	git_blob *blob = NULL;
	size_t len;
	int rc;

	if ((rc = repo_check_path(path)) || (rc = lookup_commit_hex(&c, r, commit, "commit")))
		goto out;
	if (git_commit_tree(&tree, c) < 0) {
		rc = git_fail(r, "cannot read tree");
		goto out;
	}
	if (git_tree_entry_bypath(&entry, tree, path) < 0) {
		if ((rc = odb_backend_take_error(r->backend)))
			goto out;
		rc = err_set(OTCM_ENOTFOUND, "path", "file '%s' not found in commit '%s'", path, commit);
		goto out;
	}
	if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB) {
		rc = err_set(OTCM_ENOTFOUND, "path", "'%s' is a folder, not a file", path);
		goto out;
	}
	if (git_blob_lookup(&blob, r->git, git_tree_entry_id(entry)) < 0) {
		rc = git_fail(r, "cannot read file");
		goto out;
	}
	len = (size_t)git_blob_rawsize(blob);
	*out = xmemdup(len ? git_blob_rawcontent(blob) : "", len ? len : 1);
	*out_len = len;
	oid_hex(out_blob, git_blob_id(blob));
	rc = 0;
out:
	git_blob_free(blob);
	git_tree_entry_free(entry);
	git_tree_free(tree);
	git_commit_free(c);
	return rc;
}

int repo_blob_write(char out[REPO_OID_HEX], struct repo *r, const void *data, size_t len)
{
	git_oid id;

	if (!data && len)
		return err_set(OTCM_EINVAL, NULL, "blob of %zu bytes has no data", len);
	if (write_blob(&id, r, data, len) < 0)
		return git_fail(r, "cannot write blob");
	oid_hex(out, &id);
	return 0;
}

int repo_blob_read(void **out, size_t *out_len, struct repo *r, const char *blob)
{
	git_blob *b = NULL;
	git_oid id;
	size_t len;
	int rc;

	if ((rc = parse_oid(&id, blob, "blob")))
		return rc;
	rc = git_blob_lookup(&b, r->git, &id);
	if (rc == GIT_ENOTFOUND) {   /* also what libgit2 says for "not a blob" */
		if ((rc = odb_backend_take_error(r->backend)))
			return rc;
		return err_set(OTCM_ENOTFOUND, "blob", "blob '%s' not found", blob);
	}
	if (rc < 0)
		return git_fail(r, "cannot read blob");
	len = (size_t)git_blob_rawsize(b);
	*out = xmemdup(len ? git_blob_rawcontent(b) : "", len ? len : 1);
	*out_len = len;
	git_blob_free(b);
	return 0;
}

int repo_bundle_write(struct buf *out, struct repo *r, const char *ref_name, const char *head_commit)
{
	git_packbuilder *pb = NULL;
	git_revwalk *walk = NULL;
	git_buf pack = { 0 };
	git_oid oid;
	char head[REPO_OID_HEX];
	int rc;

	if ((rc = parse_oid(&oid, head_commit, "commit")))
		return rc;
	if ((rc = check_ref(ref_name)))
		return rc;
	oid_hex(head, &oid);
	if (git_packbuilder_new(&pb, r->git) < 0 || git_revwalk_new(&walk, r->git) < 0) {
		rc = git_fail(r, "cannot start a pack");
		goto out;
	}
	git_packbuilder_set_threads(pb, 1);
	git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME);
	if (git_revwalk_push(walk, &oid) < 0 || git_packbuilder_insert_walk(pb, walk) < 0 ||
	    git_packbuilder_write_buf(&pack, pb) < 0) {
		rc = git_fail(r, "cannot write the pack");
		goto out;
	}
	if ((rc = buf_addf(out, "# v2 git bundle\n%s %s\n\n", head, ref_name)) ||
	    (rc = buf_add(out, pack.ptr, pack.size)))
		goto out;
out:
	git_buf_dispose(&pack);
	git_revwalk_free(walk);
	git_packbuilder_free(pb);
	return rc;
}

static const char *delta_status(git_delta_t status)
{
	switch (status) {
	case GIT_DELTA_ADDED: return "added";
	case GIT_DELTA_DELETED: return "deleted";
	case GIT_DELTA_RENAMED: return "renamed";
	case GIT_DELTA_COPIED: return "copied";
	case GIT_DELTA_TYPECHANGE: return "typechange";
	default: return "modified";
	}
}

static json_t *blob_or_null(const git_diff_file *f)
{
	char hex[REPO_OID_HEX];

	if (!(f->flags & GIT_DIFF_FLAG_EXISTS))
		return json_null();
	oid_hex(hex, &f->id);
	return json_string(hex);
}

/*
 * The size in bytes of one side of a delta, or null where the file does not
 * exist.  libgit2 fills in sizes only for the blobs it loaded, so the rest
 * are asked of the object itself (already in libgit2's cache after the patch).
 */
static int size_or_null(json_t **out, struct repo *r, const git_diff_file *f)
{
	git_blob *b = NULL;

	if (!(f->flags & GIT_DIFF_FLAG_EXISTS)) {
		*out = json_null();
		return 0;
	}
	if (f->size > 0) {
		*out = json_integer((json_int_t)f->size);
		return 0;
	}
	if (git_blob_lookup(&b, r->git, &f->id) < 0)
		return git_fail(r, "cannot read file");
	*out = json_integer((json_int_t)git_blob_rawsize(b));
	git_blob_free(b);
	return 0;
}

/* One file's patch text; libgit2 makes no patch for a binary file, git's words stand in. */
static int append_patch(struct buf *patch, git_patch *p, const git_diff_delta *d)
{
	git_buf text = GIT_BUF_INIT_CONST(NULL, 0);
	int rc;

	if (p) {
		if (git_patch_to_buf(&text, p) < 0)
			return git_fail(NULL, "cannot format patch");
		rc = buf_add(patch, text.ptr, text.size);
		git_buf_dispose(&text);
		return rc;
	}
	return buf_addf(patch, "diff --git a/%s b/%s\nBinary files %s%s and %s%s differ\n",
			d->old_file.path, d->new_file.path,
			d->status == GIT_DELTA_ADDED ? "" : "a/",
			d->status == GIT_DELTA_ADDED ? "/dev/null" : d->old_file.path,
			d->status == GIT_DELTA_DELETED ? "" : "b/",
			d->status == GIT_DELTA_DELETED ? "/dev/null" : d->new_file.path);
}

int repo_diff(json_t **out_files, struct buf *patch, struct repo *r, const char *from,
	      const char *to)
{
	git_commit *from_c = NULL, *to_c = NULL;
	git_tree *from_t = NULL, *to_t = NULL;
	git_diff *diff = NULL;
	git_patch *p = NULL;
	git_diff_options opts;
	git_diff_find_options find;
	json_t *list = json_array();
	size_t n;
	int rc;

	if ((from && (rc = lookup_commit_hex(&from_c, r, from, "from"))) ||
	    (rc = lookup_commit_hex(&to_c, r, to, "to")))
		goto out;
	if ((from_c && git_commit_tree(&from_t, from_c) < 0) || git_commit_tree(&to_t, to_c) < 0) {
		rc = git_fail(r, "cannot read tree");
		goto out;
	}
	if (git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION) < 0 ||
	    git_diff_find_options_init(&find, GIT_DIFF_FIND_OPTIONS_VERSION) < 0) {
		rc = git_fail(r, "cannot set diff options");
		goto out;
	}
	if (git_diff_tree_to_tree(&diff, r->git, from_t, to_t, &opts) < 0) {
		rc = git_fail(r, "cannot compare trees");
		goto out;
	}
	find.flags = GIT_DIFF_FIND_RENAMES;
	if (git_diff_find_similar(diff, &find) < 0) {
		rc = git_fail(r, "cannot find renames");
		goto out;
	}
	n = git_diff_num_deltas(diff);
	for (size_t i = 0; i < n; i++) {
		const git_diff_delta *d;
		size_t adds = 0, dels = 0;
		json_t *old_size = NULL, *new_size = NULL;
		bool renamed;

		if (git_patch_from_diff(&p, diff, i) < 0) {
			rc = git_fail(r, "cannot compute patch");
			goto out;
		}
		d = git_diff_get_delta(diff, i);
		if (p && git_patch_line_stats(NULL, &adds, &dels, p) < 0) {
			rc = git_fail(r, "cannot count lines");
			goto out;
		}
		renamed = d->status == GIT_DELTA_RENAMED || d->status == GIT_DELTA_COPIED;
		if ((rc = size_or_null(&old_size, r, &d->old_file)))
			goto out;
		if ((rc = size_or_null(&new_size, r, &d->new_file))) {
			json_decref(old_size);
			goto out;
		}
		json_array_append_new(list, json_pack("{s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:b, s:I, s:I}",
			"path", d->new_file.path,
			"old_path", renamed ? json_string(d->old_file.path) : json_null(),
			"status", delta_status(d->status),
			"old_blob", blob_or_null(&d->old_file),
			"new_blob", blob_or_null(&d->new_file),
			"old_size", old_size,
			"new_size", new_size,
			"binary", (d->flags & GIT_DIFF_FLAG_BINARY) != 0,
			"additions", (json_int_t)adds,
			"deletions", (json_int_t)dels));
		if (patch && (rc = append_patch(patch, p, d)))
			goto out;
		git_patch_free(p);
		p = NULL;
	}
	*out_files = list;
	list = NULL;
	rc = 0;
out:
	json_decref(list);
	git_patch_free(p);
	git_diff_free(diff);
	git_tree_free(from_t);
	git_tree_free(to_t);
	git_commit_free(from_c);
	git_commit_free(to_c);
	return rc;
}

/*
 * Entries in tree order, folders before their contents, every entry with the
 * commit's time, owner 0, mode 0755 (folders, executables) or 0644: the same
 * commit always gives the same tar.  (zip also stores an MS-DOS time, which
 * libarchive derives in the server's local time zone.)
 */
int repo_archive(struct buf *out, struct repo *r, const char *commit, const char *format)
{
	struct walk w = { NULL, 0, 0, true };
	struct arc_writer *aw = NULL;
	struct arc_entry e;
	git_commit *c = NULL;
	git_blob *blob = NULL;
	char *dirname = NULL;
	int rc;

	if (!format || (strcmp(format, "zip") && strcmp(format, "tar")))
		return err_set(OTCM_EINVAL, "format", "unknown archive format '%s'",
			       format ? format : "");
	if ((rc = walk_commit(&w, r, commit, &c)) ||
	    (rc = arc_writer_open(&aw, out, strcmp(format, "zip") ? ARC_TAR : ARC_ZIP)))
		goto out;
	for (size_t i = 0; i < w.n; i++) {
		const struct walk_file *f = &w.files[i];
		bool dir = f->mode == GIT_FILEMODE_TREE;

		if (!dir && f->mode != GIT_FILEMODE_BLOB && f->mode != GIT_FILEMODE_BLOB_EXECUTABLE) {
			rc = err_set(OTCM_EGIT, "path", "tree entry '%s' is not a regular file", f->path);
			goto out;
		}
		memset(&e, 0, sizeof(e));
		if (dir) {
			dirname = xasprintf("%s/", f->path);
			e.name = dirname;
			e.type = ARC_DIR;
		} else {
			if (git_blob_lookup(&blob, r->git, &f->id) < 0) {
				rc = git_fail(r, "cannot read file");
				goto out;
			}
			e.name = f->path;
			e.type = ARC_FILE;
			e.len = (size_t)git_blob_rawsize(blob);
			e.data = git_blob_rawcontent(blob);
		}
		e.mode = dir || f->mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644;
		e.mtime = (int64_t)git_commit_time(c);
		if ((rc = arc_writer_add(aw, &e)))
			goto out;
		free(dirname);
		dirname = NULL;
		git_blob_free(blob);
		blob = NULL;
	}
	rc = arc_writer_close(aw);
out:
	free(dirname);
	git_blob_free(blob);
	arc_writer_free(aw);
	git_commit_free(c);
	walk_release(&w);
	return rc;
}
