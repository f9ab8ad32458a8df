/*
 * server/evidence.c - building and verifying evidence bundles; see
 * evidence.h and docs/evidence.md.
 *
 * Two libraries beyond our own modules are used here, on purpose:
 * libarchive writes and reads the tar (pax, entries sorted, owner 0, mode
 * 0644, one fixed time), and libgit2 writes the git bundle's pack from the
 * object database in PostgreSQL (git_packbuilder over storage/odb.h's
 * backend) and, in the verifier, indexes it into a temporary folder to
 * read the bundled commits back.  Neither storage/repo.h nor the archive
 * code of the upload path offers these operations, and both are the
 * bundle's own formats.
 */
#include "server/evidence.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <git2.h>
#include <git2/sys/odb_backend.h>
#include <git2/sys/repository.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/dsse.h"
#include "core/err.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/merkle.h"
#include "core/signednote.h"
#include "diff/diff.h"
#include "storage/changes.h"
#include "storage/checkpoint.h"
#include "storage/odb.h"
#include "storage/repo.h"

#define EV_MAX_FILES 10000
#define EV_MAX_FILE ((size_t)256 << 20)
#define EV_MAX_TOTAL ((size_t)1 << 30)
#define EV_SEMANTIC_MAX ((size_t)64 << 20)
#define EV_MAX_EVENTS 100000

#define PRED_SIGNATURE "urn:otcm:evidence:signature:v1"
#define PRED_RUN "urn:otcm:evidence:test-run:v1"
#define PRED_DEPLOYMENT "urn:otcm:evidence:deployment:v1"

/* ---- the set of files of a bundle ---- */

struct ev_file {
	char *name;
	char *data;          /* NUL-terminated copy */
	size_t len;
};

struct ev_files {
	struct ev_file *v;
	size_t n, alloc;
};

static void files_release(struct ev_files *fs)
{
	size_t i;

	for (i = 0; i < fs->n; i++) {
		free(fs->v[i].name);
		free(fs->v[i].data);
	}
	free(fs->v);
	memset(fs, 0, sizeof(*fs));
}

/* Add `name` taking ownership of `data` (malloc'd, len bytes plus a NUL). */
static void files_take(struct ev_files *fs, const char *name, char *data, size_t len)
{
	if (fs->n == fs->alloc) {
		fs->alloc = fs->alloc ? 2 * fs->alloc : 64;
		fs->v = xrealloc(fs->v, fs->alloc * sizeof(*fs->v));
	}
	fs->v[fs->n].name = xstrdup(name);
	fs->v[fs->n].data = data;
	fs->v[fs->n].len = len;
	fs->n++;
}

static void files_add(struct ev_files *fs, const char *name, const void *data, size_t len)
{
	char *copy = xmalloc(len + 1);

	memcpy(copy, data, len);
	copy[len] = '\0';
	files_take(fs, name, copy, len);
}

/* A JSON value, pretty and with sorted keys, ending in a newline. */
static void files_add_json(struct ev_files *fs, const char *name, const json_t *v)
{
	char *text = json_dumps(v, JSON_INDENT(1) | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	size_t len;

	if (!text)
		text = xstrdup("null");
	len = strlen(text);
	text = xrealloc(text, len + 2);
	text[len] = '\n';
	text[len + 1] = '\0';
	files_take(fs, name, text, len + 1);
}

static const struct ev_file *files_get(const struct ev_files *fs, const char *name)
{
	size_t i;

	for (i = 0; i < fs->n; i++)
		if (strcmp(fs->v[i].name, name) == 0)
			return &fs->v[i];
	return NULL;
}

static int file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ev_file *)a)->name, ((const struct ev_file *)b)->name);
}

/* ---- the tar ---- */

static la_ssize_t tar_append(struct archive *a, void *ctx, const void *data, size_t len)
{
	if (buf_add(ctx, data, len)) {
		archive_set_error(a, 1, "bundle too large");
		return -1;
	}
	return (la_ssize_t)len;
}

/* Write the files, sorted, as a pax tar with fixed owners, modes and time. */
static int tar_write(struct buf *out, struct ev_files *fs, int64_t mtime)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	size_t i;
	int rc = 0;

	qsort(fs->v, fs->n, sizeof(*fs->v), file_cmp);
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_add_filter_none(a) != ARCHIVE_OK ||
	    archive_write_open(a, out, NULL, tar_append, NULL) != ARCHIVE_OK)
		goto fail;
	for (i = 0; i < fs->n; i++) {
		archive_entry_clear(e);
		archive_entry_set_pathname(e, fs->v[i].name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)fs->v[i].len);
		archive_entry_set_mtime(e, (time_t)mtime, 0);
		archive_entry_set_uid(e, 0);
		archive_entry_set_gid(e, 0);
		archive_entry_set_uname(e, "root");
		archive_entry_set_gname(e, "root");
		if (archive_write_header(a, e) != ARCHIVE_OK ||
		    (fs->v[i].len && archive_write_data(a, fs->v[i].data, fs->v[i].len) !=
		     (la_ssize_t)fs->v[i].len))
			goto fail;
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		goto fail;
	goto out;
fail:
	rc = buf_cstr(out) && out->cap && out->len >= out->cap ?
		err_set(OTCM_ETOOBIG, NULL, "the evidence bundle is larger than allowed") :
		err_set(OTCM_EIO, NULL, "cannot write the bundle: %s", archive_error_string(a));
out:
	archive_entry_free(e);
	archive_write_free(a);
	return rc;
}

/* A name inside a bundle: relative, no empty, "." or ".." segment, printable. */
static bool name_ok(const char *n)
{
	const char *s = n;

	if (!*n || *n == '/' || strlen(n) > 1024)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '\\')
			return false;
	for (s = n; *s;) {
		size_t l = strcspn(s, "/");

		if (l == 0 || (l == 1 && s[0] == '.') || (l == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		s += l;
		if (*s == '/')
			s++;
		if (!*s && s[-1] == '/')
			return false;
	}
	return true;
}

/* Read a tar (untrusted) into files: regular files only, checked names, bounded sizes. */
static int tar_read(struct ev_files *out, const void *data, size_t len)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	size_t total = 0;
	int rc = 0, r;

	archive_read_support_format_tar(a);
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		rc = err_set(OTCM_EINVAL, NULL, "not a tar archive: %s", archive_error_string(a));
		goto out;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);
		la_int64_t size = archive_entry_size(e);
		char *buf;
		la_ssize_t got;

		if (archive_entry_filetype(e) == AE_IFDIR)
			continue;
		if (!name || !name_ok(name)) {
			rc = err_set(OTCM_EINVAL, NULL, "bad entry name '%.200s'", name ? name : "");
			goto out;
		}
		if (archive_entry_filetype(e) != AE_IFREG) {
			rc = err_set(OTCM_EINVAL, NULL, "entry '%.200s' is not a regular file", name);
			goto out;
		}
		if (size < 0 || (size_t)size > EV_MAX_FILE || total + (size_t)size > EV_MAX_TOTAL ||
		    out->n >= EV_MAX_FILES) {
			rc = err_set(OTCM_ETOOBIG, NULL, "entry '%.200s' exceeds the bundle limits", name);
			goto out;
		}
		if (files_get(out, name)) {
			rc = err_set(OTCM_EINVAL, NULL, "entry '%.200s' appears twice", name);
			goto out;
		}
		buf = xmalloc((size_t)size + 1);
		got = size ? archive_read_data(a, buf, (size_t)size) : 0;
		if (got != size) {
			free(buf);
			rc = err_set(OTCM_EINVAL, NULL, "entry '%.200s' is truncated", name);
			goto out;
		}
		buf[size] = '\0';
		total += (size_t)size;
		files_take(out, name, buf, (size_t)size);
	}
	if (r != ARCHIVE_EOF)
		rc = err_set(OTCM_EINVAL, NULL, "not a readable tar archive: %s", archive_error_string(a));
out:
	archive_read_free(a);
	return rc;
}

/* ---- git bundles ---- */

static int git_failed(git_odb_backend *be, const char *what)
{
	const git_error *e = git_error_last();
	int rc = be ? odb_backend_take_error(be) : 0;

	if (rc)
		return rc;
	return err_set(OTCM_EGIT, NULL, "%s: %s", what, e && e->message ? e->message : "unknown error");
}

/*
 * "# v2 git bundle", one ref line "<head> <ref>", a blank line, then a pack
 * of every object reachable from head: no prerequisites, so the bundle
 * clones on its own.  The pack is built by one thread, so the same
 * objects give the same bytes.
 */
static int git_bundle_write(struct buf *out, struct db_conn *c, const char *ref, const char *head)
{
	git_odb *odb = NULL;
	git_odb_backend *be = NULL;
	git_repository *repo = NULL;
	git_packbuilder *pb = NULL;
	git_revwalk *walk = NULL;
	git_buf pack = { 0 };
	git_oid oid;
	int rc = 0;

	if (git_oid_fromstr(&oid, head) < 0)
		return err_set(OTCM_EINVAL, NULL, "bad commit id '%s'", head);
	if (git_odb_new(&odb) < 0)
		return git_failed(NULL, "cannot create object database");
	if ((rc = odb_backend_new(&be, c)))
		goto out;
	if (git_odb_add_backend(odb, be, 1) < 0) {
		be->free(be);
		be = NULL;
		rc = git_failed(NULL, "cannot add object database backend");
		goto out;
	}
	if (git_repository_new(&repo) < 0 || git_repository_set_odb(repo, odb) < 0) {
		rc = git_failed(be, "cannot create repository");
		goto out;
	}
	if (git_packbuilder_new(&pb, repo) < 0 || git_revwalk_new(&walk, repo) < 0) {
		rc = git_failed(be, "cannot start a pack");
		goto out;
	}
	git_packbuilder_set_threads(pb, 1);
	git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME);
	if (git_revwalk_push(walk, &oid) < 0 || git_packbuilder_insert_walk(pb, walk) < 0 ||
	    git_packbuilder_write_buf(&pack, pb) < 0) {
		rc = git_failed(be, "cannot write the pack");
		goto out;
	}
	if ((rc = buf_addf(out, "# v2 git bundle\n%s %s\n\n", head, ref)) ||
	    (rc = buf_add(out, pack.ptr, pack.size)))
		goto out;
out:
	git_buf_dispose(&pack);
	git_revwalk_free(walk);
	git_packbuilder_free(pb);
	git_repository_free(repo);
	git_odb_free(odb);
	return rc;
}

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

/*
 * Read a git bundle (untrusted): *out gets {commit: tree} of every commit
 * reachable from its refs, and *out_refs {ref: commit}.  The pack is
 * indexed (checksums, object ids, completeness) into a temporary folder
 * that is removed again.  Bundles with prerequisites are refused.
 */
static int git_bundle_read(json_t **out, json_t **out_refs, const char *data, size_t len)
{
	static const char hdr[] = "# v2 git bundle\n";
	char tmpl[] = "/tmp/otcm-verify-XXXXXX";
	const char *p = data, *end = data + len, *tmpdir = getenv("TMPDIR");
	git_indexer *idx = NULL;
	git_indexer_options opts;
	git_indexer_progress stats;
	git_odb *odb = NULL;
	git_odb_backend *be = NULL;
	json_t *commits = json_object(), *refs = json_object(), *todo = json_array();
	char *dir = NULL, *idxpath = NULL;
	int rc = 0;

	*out = NULL;
	*out_refs = NULL;
	if (len < sizeof(hdr) - 1 || memcmp(p, hdr, sizeof(hdr) - 1)) {
		rc = err_set(OTCM_EINVAL, NULL, "not a v2 git bundle");
		goto out;
	}
	p += sizeof(hdr) - 1;
	while (p < end && *p != '\n') {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		char oid[41], *ref;

		if (!nl || *p == '-' || nl - p < 42 || p[40] != ' ') {
			rc = err_set(OTCM_EINVAL, NULL, *p == '-' ? "the bundle has prerequisites" :
				     "bad ref line in the bundle header");
			goto out;
		}
		memcpy(oid, p, 40);
		oid[40] = '\0';
		ref = xstrndup(p + 41, (size_t)(nl - p - 41));
		json_object_set_new(refs, ref, json_string(oid));
		json_array_append_new(todo, json_string(oid));
		free(ref);
		p = nl + 1;
	}
	if (p >= end || json_object_size(refs) == 0) {
		rc = err_set(OTCM_EINVAL, NULL, "the bundle names no ref");
		goto out;
	}
	p++;
	if (tmpdir && *tmpdir) {
		if (asprintf(&dir, "%s/otcm-verify-XXXXXX", tmpdir) < 0)
			dir = NULL;
	} else {
		dir = xstrdup(tmpl);
	}
	if (!dir || !mkdtemp(dir)) {
		rc = err_set(OTCM_EIO, NULL, "cannot make a temporary folder");
		free(dir);
		dir = NULL;
		goto out;
	}
	git_indexer_options_init(&opts, GIT_INDEXER_OPTIONS_VERSION);
	opts.verify = 1;
	if (git_indexer_new(&idx, dir, 0, NULL, &opts) < 0 ||
	    git_indexer_append(idx, p, (size_t)(end - p), &stats) < 0 ||
	    git_indexer_commit(idx, &stats) < 0) {
		rc = err_set(OTCM_EINVAL, NULL, "the pack does not index: %s",
			     git_error_last() ? git_error_last()->message : "unknown error");
		goto out;
	}
	if (asprintf(&idxpath, "%s/pack-%s.idx", dir, git_indexer_name(idx)) < 0) {
		idxpath = NULL;
		rc = err_set(OTCM_EIO, NULL, "out of memory");
		goto out;
	}
	if (git_odb_new(&odb) < 0 || git_odb_backend_one_pack(&be, idxpath) < 0 ||
	    git_odb_add_backend(odb, be, 1) < 0) {
		rc = err_set(OTCM_EGIT, NULL, "cannot read the pack");
		goto out;
	}
	while (json_array_size(todo)) {
		char hex[41];
		git_oid oid;
		git_odb_object *obj = NULL;
		const char *text, *q, *tend;

		snprintf(hex, sizeof(hex), "%s", json_string_value(json_array_get(todo, 0)));
		json_array_remove(todo, 0);
		if (json_object_get(commits, hex))
			continue;
		if (git_oid_fromstr(&oid, hex) < 0 || git_odb_read(&obj, odb, &oid) < 0 ||
		    git_odb_object_type(obj) != GIT_OBJECT_COMMIT) {
			git_odb_object_free(obj);
			rc = err_set(OTCM_EINVAL, NULL, "commit %s is not in the bundle", hex);
			goto out;
		}
		text = git_odb_object_data(obj);
		tend = text + git_odb_object_size(obj);
		if (tend - text < 46 || memcmp(text, "tree ", 5)) {
			git_odb_object_free(obj);
			rc = err_set(OTCM_EINVAL, NULL, "commit %s has no tree", hex);
			goto out;
		}
		json_object_set_new(commits, hex, json_stringn(text + 5, 40));
		for (q = text + 46; tend - q >= 48 && memcmp(q, "parent ", 7) == 0; q += 48)
			json_array_append_new(todo, json_stringn(q + 7, 40));
		git_odb_object_free(obj);
	}
	*out = commits;
	commits = NULL;
	*out_refs = refs;
	refs = NULL;
out:
	git_odb_free(odb);
	git_indexer_free(idx);
	if (dir)
		remove_tree(dir);
	free(dir);
	free(idxpath);
	json_decref(commits);
	json_decref(refs);
	json_decref(todo);
	return rc;
}

/* ---- gathering the records of a change ---- */

/* Every version written on the change, oldest first, with its uploader. */
static int load_versions(json_t **out, struct db_conn *c, int64_t change_id)
{
	static const char sql[] =
		"SELECT coalesce(json_agg(json_build_object('asset_id', v.asset_id, 'path', a.path, "
		"'commit', v.commit_oid, 'tree', v.tree_oid, 'uploaded_by', u.username, 'uploaded_at', "
		"to_char(v.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')) "
		"ORDER BY v.id), '[]')::text FROM change_versions v JOIN assets a ON a.id = v.asset_id "
		"JOIN users u ON u.id = v.author_id WHERE v.change_id = $1";
	char id[24];
	const char *params[1] = { id };
	struct db_res *res = NULL;
	int rc;

	snprintf(id, sizeof(id), "%" PRId64, change_id);
	if ((rc = db_execv(&res, c, sql, 1, params)))
		return rc;
	*out = json_loads(db_res_get(res, 0, 0), 0, NULL);
	db_res_free(res);
	return *out ? 0 : err_set(OTCM_EINTERNAL, NULL, "cannot read the versions of a change");
}

/*
 * The audit events about a change, oldest first: the change itself, its
 * test runs and the versions written on it.  Evidence exports are events
 * of their own object type and are left out, so exporting does not change
 * the next export.  *out_at gets the newest event's time (seconds).
 */
static const char EVENTS_SQL[] =
	"SELECT e.seq, floor(extract(epoch FROM e.at))::bigint FROM audit_events e "
	"WHERE (e.object_type = 'change' AND e.object_id = $1) "
	"OR (e.object_type = 'test-run' AND e.object_id IN "
	"    (SELECT r.id::text FROM test_runs r WHERE r.change_id = $2)) "
	"OR (e.object_type = 'version' AND e.object_id IN "
	"    (SELECT v.commit_oid FROM change_versions v WHERE v.change_id = $2)) "
	"ORDER BY e.seq";

static int load_event_seqs(int64_t **out, size_t *out_n, int64_t *out_at, struct db_conn *c,
			   int64_t change_id)
{
	char key[32], id[24];
	const char *params[2] = { key, id };
	struct db_res *res = NULL;
	size_t i, n;
	int rc;

	snprintf(key, sizeof(key), "CHG-%" PRId64, change_id);
	snprintf(id, sizeof(id), "%" PRId64, change_id);
	if ((rc = db_execv(&res, c, EVENTS_SQL, 2, params)))
		return rc;
	n = db_res_rows(res);
	if (n > EV_MAX_EVENTS) {
		db_res_free(res);
		return err_set(OTCM_ETOOBIG, NULL, "change CHG-%" PRId64 " has too many events", change_id);
	}
	*out = xcalloc(n + 1, sizeof(int64_t));
	*out_at = 0;
	for (i = 0; i < n; i++) {
		(*out)[i] = strtoll(db_res_get(res, i, 0), NULL, 10);
		*out_at = strtoll(db_res_get(res, i, 1), NULL, 10);
	}
	*out_n = n;
	db_res_free(res);
	return 0;
}

int evidence_checkpoint_for(uint64_t *out, struct db_conn *c, const struct crypto_ed25519_key *key,
			    const char *origin, int64_t change_id)
{
	static const char sql[] =
		"SELECT tree_size FROM audit_checkpoints WHERE tree_size >= $1 ORDER BY tree_size LIMIT 1";
	struct checkpoint *cp = NULL;
	struct db_res *res = NULL;
	int64_t *seqs = NULL, at;
	size_t n = 0;
	char need[24];
	const char *params[1] = { need };
	bool made;
	int rc;

	if ((rc = load_event_seqs(&seqs, &n, &at, c, change_id)))
		goto out;
	if (n == 0) {
		rc = err_set(OTCM_ENOTFOUND, "key", "change CHG-%" PRId64 " has no audit events", change_id);
		goto out;
	}
	snprintf(need, sizeof(need), "%" PRId64, seqs[n - 1]);
	if ((rc = db_execv(&res, c, sql, 1, params)))
		goto out;
	if (db_res_rows(res)) {
		*out = strtoull(db_res_get(res, 0, 0), NULL, 10);
		goto out;
	}
	if ((rc = checkpoint_write(&cp, &made, c, key, origin)))
		goto out;
	*out = cp->tree_size;
out:
	checkpoint_free(cp);
	db_res_free(res);
	free(seqs);
	return rc;
}

/* "plant/line1/plc" of asset `id` in the change's affected assets, or "asset-<id>". */
static const char *asset_path(const json_t *full, json_int_t id, char *tmp, size_t n)
{
	json_t *a;
	size_t i;

	json_array_foreach(json_object_get(full, "affected_assets"), i, a)
		if (json_integer_value(json_object_get(a, "id")) == id)
			return json_string_value(json_object_get(a, "path"));
	snprintf(tmp, n, "asset-%" JSON_INTEGER_FORMAT, id);
	return tmp;
}

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* ---- statements ---- */

static int add_statement(struct ev_files *fs, const char *name, json_t *statement,
			 const struct crypto_ed25519_key *key)
{
	char *payload = json_dumps(statement, JSON_COMPACT | JSON_SORT_KEYS), *env = NULL;
	size_t len;
	int rc;

	json_decref(statement);
	if (!payload)
		return err_set(OTCM_EINTERNAL, NULL, "cannot encode a statement");
	rc = dsse_sign(&env, &len, DSSE_INTOTO_TYPE, payload, strlen(payload), key);
	free(payload);
	if (rc)
		return rc;
	files_take(fs, name, env, len);
	return 0;
}

static int add_statements(struct ev_files *fs, const json_t *full, const char *chg,
			  const struct crypto_ed25519_key *key)
{
	const json_t *runs = json_object_get(full, "test_runs");
	json_t *s, *subjects, *pred;
	char name[96], tmp[40];
	size_t i, j;
	int rc;

	json_array_foreach(json_object_get(full, "signatures"), i, s) {
		json_t *content = json_object_get(s, "content"), *a;

		subjects = json_array();
		if (json_object_get(content, "commit") && json_is_string(json_object_get(content, "commit"))) {
			json_int_t aid = json_integer_value(json_object_get(content, "asset_id"));

			json_array_append_new(subjects, dsse_git_subject(asset_path(full, aid, tmp, sizeof(tmp)),
					      jstr(content, "commit"), jstr(content, "tree")));
		}
		json_array_foreach(json_object_get(content, "affected_assets"), j, a)
			if (json_is_string(json_object_get(a, "commit")))
				json_array_append_new(subjects, dsse_git_subject(jstr(a, "path"),
						      jstr(a, "commit"), jstr(a, "tree")));
		if (json_array_size(subjects) == 0)
			json_array_append_new(subjects, json_pack("{s:s, s:{s:s}}", "name",
					      "signed-content", "digest", "sha256", jstr(s, "content_sha256")));
		pred = json_pack("{s:s, s:O, s:O, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
				 "change", chg, "signature_id", json_object_get(s, "id"),
				 "run_id", json_object_get(s, "run_id") ? json_object_get(s, "run_id") : json_null(),
				 "meaning", jstr(s, "meaning"), "signer", jstr(s, "signer"),
				 "printed_name", jstr(s, "printed_name"), "role", jstr(s, "role"),
				 "signed_at", jstr(s, "signed_at"),
				 "reauthenticated_with", jstr(s, "reauthenticated_with"),
				 "content_sha256", jstr(s, "content_sha256"));
		snprintf(name, sizeof(name), "statements/signature-%" JSON_INTEGER_FORMAT ".dsse.json",
			 json_integer_value(json_object_get(s, "id")));
		if ((rc = add_statement(fs, name, dsse_statement(subjects, PRED_SIGNATURE, pred), key)))
			return rc;
	}
	json_array_foreach(runs, i, s) {
		json_int_t aid = json_integer_value(json_object_get(s, "asset_id"));
		const char *path = asset_path(full, aid, tmp, sizeof(tmp));

		subjects = json_pack("[o]", dsse_git_subject(path, jstr(s, "commit"), jstr(s, "tree")));
		pred = json_pack("{s:s, s:O, s:s, s:O, s:s, s:O, s:O, s:O, s:O}",
				 "change", chg, "run_id", json_object_get(s, "id"), "asset", path,
				 "protocol", json_object_get(s, "protocol"), "tester", jstr(s, "tester"),
				 "state", json_object_get(s, "state"), "verdict", json_object_get(s, "verdict"),
				 "completed_at", json_object_get(s, "completed_at"),
				 "steps", json_object_get(s, "steps") ? json_object_get(s, "steps") : json_null());
		snprintf(name, sizeof(name), "statements/run-%" JSON_INTEGER_FORMAT ".dsse.json",
			 json_integer_value(json_object_get(s, "id")));
		if (!pred || (rc = add_statement(fs, name, dsse_statement(subjects, PRED_RUN, pred), key)))
			return pred ? rc : err_set(OTCM_EINTERNAL, NULL, "cannot make a run statement");
	}
	json_array_foreach(json_object_get(full, "deployments"), i, s) {
		json_int_t aid = json_integer_value(json_object_get(s, "asset_id"));
		const char *path = asset_path(full, aid, tmp, sizeof(tmp));

		subjects = json_pack("[o]", dsse_git_subject(path, jstr(s, "commit"), jstr(s, "tree")));
		pred = json_pack("{s:s, s:O, s:s, s:s, s:s, s:O, s:O, s:s}",
				 "change", chg, "deployment_id", json_object_get(s, "id"), "asset", path,
				 "deployed_by", jstr(s, "deployed_by"), "deployed_at", jstr(s, "deployed_at"),
				 "readback_sha256", json_object_get(s, "readback_sha256"),
				 "readback_match", json_object_get(s, "readback_match"), "note", jstr(s, "note"));
		snprintf(name, sizeof(name), "statements/deployment-%" JSON_INTEGER_FORMAT ".dsse.json",
			 json_integer_value(json_object_get(s, "id")));
		if (!pred || (rc = add_statement(fs, name, dsse_statement(subjects, PRED_DEPLOYMENT, pred), key)))
			return pred ? rc : err_set(OTCM_EINTERNAL, NULL, "cannot make a deployment statement");
	}
	return 0;
}

/* ---- diffs ---- */

/* Semantic changes of each changed text file between two commits. */
static int semantic_of(json_t *files, struct repo *r, const char *from, const char *to)
{
	json_t *f;
	size_t i;

	json_array_foreach(files, i, f) {
		const char *path = json_string_value(json_object_get(f, "path"));
		const char *old_path = json_string_value(json_object_get(f, "old_path"));
		const char *status = json_string_value(json_object_get(f, "status"));
		void *old = NULL, *new_data = NULL;
		size_t old_len = 0, new_len = 0;
		char blob[REPO_OID_HEX];
		struct diff_result *res = NULL;
		json_t *sem = NULL;
		const char *skipped = NULL;
		int rc = 0;

		if (!path || !status || json_is_true(json_object_get(f, "binary"))) {
			skipped = "binary";
			goto next;
		}
		if (from && strcmp(status, "added"))
			rc = repo_read_file(&old, &old_len, blob, r, from, old_path ? old_path : path);
		if (!rc && strcmp(status, "deleted"))
			rc = repo_read_file(&new_data, &new_len, blob, r, to, path);
		if (rc == OTCM_ENOTFOUND) {
			skipped = "not a file on both sides";
			goto next;
		}
		if (!rc && (old_len > EV_SEMANTIC_MAX || new_len > EV_SEMANTIC_MAX)) {
			skipped = "too large";
			goto next;
		}
		if (!rc)
			rc = diff_compare(&res, path, old, old_len, new_data, new_len);
		if (rc == OTCM_ETOOBIG) {
			skipped = "too large";
			rc = 0;
		} else if (!rc) {
			rc = diff_to_json(&sem, res);
		}
next:
		json_object_set_new(f, "semantic", sem ? sem : json_null());
		if (skipped)
			json_object_set_new(f, "semantic_skipped", json_string(skipped));
		diff_result_free(res);
		free(old);
		free(new_data);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * diffs/<asset path>/<n>-<commit>.patch and .json: each version of the
 * change against the asset's baseline, the commit the change branch
 * started from (the first version's parent).
 */
static int add_diffs(struct ev_files *fs, struct db_conn *c, const json_t *versions, size_t cap)
{
	json_t *v, *info = NULL, *files = NULL, *doc;
	struct repo *r = NULL;
	json_int_t cur = -1;
	char baseline[REPO_OID_HEX] = "", name[1200];
	unsigned n = 0;
	size_t i;
	int rc = 0;

	json_array_foreach(versions, i, v) {
		json_int_t aid = json_integer_value(json_object_get(v, "asset_id"));
		const char *commit = jstr(v, "commit"), *path = jstr(v, "path");
		struct buf patch = BUF_INIT;

		if (aid != cur) {
			repo_free(r);
			r = NULL;
			if ((rc = repo_open(&r, c, aid)) || (rc = repo_commit_info(&info, r, commit)))
				goto out;
			snprintf(baseline, sizeof(baseline), "%s",
				 json_string_value(json_array_get(json_object_get(info, "parents"), 0)) ?
				 json_string_value(json_array_get(json_object_get(info, "parents"), 0)) : "");
			json_decref(info);
			info = NULL;
			cur = aid;
			n = 0;
		}
		n++;
		buf_init(&patch, cap);
		if ((rc = repo_diff(&files, &patch, r, *baseline ? baseline : NULL, commit)) ||
		    (rc = semantic_of(files, r, *baseline ? baseline : NULL, commit))) {
			buf_release(&patch);
			goto out;
		}
		snprintf(name, sizeof(name), "diffs/%s/%u-%.12s.patch", path, n, commit);
		files_add(fs, name, patch.data ? patch.data : "", patch.len);
		buf_release(&patch);
		doc = json_pack("{s:s, s:s?, s:s, s:o}", "asset", path, "from", *baseline ? baseline : NULL,
				"to", commit, "files", files);
		files = NULL;
		snprintf(name, sizeof(name), "diffs/%s/%u-%.12s.json", path, n, commit);
		files_add_json(fs, name, doc);
		json_decref(doc);
	}
out:
	json_decref(files);
	json_decref(info);
	repo_free(r);
	return rc;
}

/* ---- the audit part ---- */

static int add_audit(struct ev_files *fs, struct db_conn *c, const int64_t *seqs, size_t n,
		     uint64_t tree_size)
{
	struct buf lines = BUF_INIT;
	struct checkpoint *cp = NULL;
	json_t *proofs = json_array(), *doc = NULL, *p = NULL;
	size_t i;
	int rc = 0;

	if ((rc = checkpoint_get(&cp, c, tree_size)))
		goto out;
	for (i = 0; i < n; i++) {
		if ((rc = checkpoint_inclusion(&p, c, seqs[i], tree_size)))
			goto out;
		if ((rc = buf_adds(&lines, jstr(p, "canonical"))) || (rc = buf_addch(&lines, '\n')))
			goto out;
		json_object_del(p, "canonical");
		json_object_del(p, "checkpoint");
		json_object_del(p, "tree_size");
		json_array_append_new(proofs, p);
		p = NULL;
	}
	files_add(fs, "audit/events.jsonl", lines.data ? lines.data : "", lines.len);
	doc = json_pack("{s:I, s:s, s:O}", "tree_size", (json_int_t)tree_size, "hash",
			"SHA-256(prev_hash || line) = event_hash; leaf = SHA-256(0x00 || event_hash)",
			"events", proofs);
	files_add_json(fs, "audit/proofs.json", doc);
	files_add(fs, "audit/checkpoint", cp->note, strlen(cp->note));
out:
	json_decref(p);
	json_decref(doc);
	json_decref(proofs);
	checkpoint_free(cp);
	buf_release(&lines);
	return rc;
}

/* ---- report.html ---- */

/* Append s with & < > " ' escaped; the only way dynamic text enters the report. */
static void esc(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': buf_adds(b, "&amp;"); break;
		case '<': buf_adds(b, "&lt;"); break;
		case '>': buf_adds(b, "&gt;"); break;
		case '"': buf_adds(b, "&quot;"); break;
		case '\'': buf_adds(b, "&#39;"); break;
		default: buf_addch(b, *s);
		}
	}
}

/* A JSON scalar as text ("" for null). */
static void esc_json(struct buf *b, const json_t *v)
{
	char num[48];

	if (json_is_string(v))
		esc(b, json_string_value(v));
	else if (json_is_integer(v))
		buf_addf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_true(v) || json_is_false(v))
		buf_adds(b, json_is_true(v) ? "yes" : "no");
	else if (json_is_real(v)) {
		snprintf(num, sizeof(num), "%g", json_real_value(v));
		buf_adds(b, num);
	}
}

static void cell(struct buf *b, const json_t *o, const char *k)
{
	buf_adds(b, "<td>");
	esc_json(b, json_object_get(o, k));
	buf_adds(b, "</td>");
}

static void row(struct buf *b, const char *label, const json_t *v)
{
	buf_adds(b, "<tr><th>");
	esc(b, label);
	buf_adds(b, "</th><td>");
	esc_json(b, v);
	buf_adds(b, "</td></tr>\n");
}

static int add_report(struct ev_files *fs, const json_t *full, const json_t *versions, size_t cap)
{
	static const char *const fields[] = { "key", "title", "type", "state", "risk", "safety_related",
		"requester", "reason", "implementation_plan", "rollback_plan", "created_at", "deployed_at",
		"retrospective_approval_due", NULL };
	struct buf b;
	json_t *s, *st;
	size_t i, j;

	buf_init(&b, cap);
	buf_adds(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		 "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
		 "<title>Evidence ");
	esc(&b, jstr(full, "key"));
	buf_adds(&b, "</title>\n<style>body{font:11pt sans-serif;margin:2em}table{border-collapse:collapse;"
		 "margin-bottom:1em}th,td{border:1px solid #999;padding:2px 6px;text-align:left;"
		 "vertical-align:top}h2{page-break-before:auto}@media print{a{color:#000}}</style>\n"
		 "</head><body>\n<h1>Change ");
	esc(&b, jstr(full, "key"));
	buf_adds(&b, ": ");
	esc(&b, jstr(full, "title"));
	buf_adds(&b, "</h1>\n<table>\n");
	for (i = 0; fields[i]; i++)
		row(&b, fields[i], json_object_get(full, fields[i]));
	row(&b, "planned window start", json_object_get(json_object_get(full, "planned_window"), "start"));
	row(&b, "planned window end", json_object_get(json_object_get(full, "planned_window"), "end"));
	buf_adds(&b, "</table>\n<h2>Assets and versions</h2>\n<table><tr><th>asset</th><th>commit</th>"
		 "<th>tree</th><th>uploaded by</th><th>at</th></tr>\n");
	json_array_foreach(versions, i, s) {
		buf_adds(&b, "<tr>");
		cell(&b, s, "path");
		cell(&b, s, "commit");
		cell(&b, s, "tree");
		cell(&b, s, "uploaded_by");
		cell(&b, s, "uploaded_at");
		buf_adds(&b, "</tr>\n");
	}
	buf_adds(&b, "</table>\n<h2>Signatures</h2>\n<table><tr><th>printed name</th><th>signer</th>"
		 "<th>role</th><th>meaning</th><th>date and time (UTC)</th><th>re-authenticated with</th>"
		 "<th>run</th><th>SHA-256 of what was signed</th><th>stale</th></tr>\n");
	json_array_foreach(json_object_get(full, "signatures"), i, s) {
		buf_adds(&b, "<tr>");
		cell(&b, s, "printed_name");
		cell(&b, s, "signer");
		cell(&b, s, "role");
		cell(&b, s, "meaning");
		cell(&b, s, "signed_at");
		cell(&b, s, "reauthenticated_with");
		cell(&b, s, "run_id");
		cell(&b, s, "content_sha256");
		cell(&b, s, "stale");
		buf_adds(&b, "</tr>\n");
	}
	buf_adds(&b, "</table>\n<h2>Test runs</h2>\n");
	json_array_foreach(json_object_get(full, "test_runs"), i, s) {
		json_t *proto = json_object_get(s, "protocol");

		buf_adds(&b, "<h3>Run ");
		esc_json(&b, json_object_get(s, "id"));
		buf_adds(&b, ": ");
		esc_json(&b, json_object_get(proto, "kind"));
		buf_adds(&b, " ");
		esc_json(&b, json_object_get(proto, "name"));
		buf_adds(&b, " version ");
		esc_json(&b, json_object_get(proto, "version"));
		buf_adds(&b, "</h3>\n<table>\n");
		row(&b, "commit", json_object_get(s, "commit"));
		row(&b, "tree", json_object_get(s, "tree"));
		row(&b, "tester", json_object_get(s, "tester"));
		row(&b, "state", json_object_get(s, "state"));
		row(&b, "verdict", json_object_get(s, "verdict"));
		row(&b, "witnessed", json_object_get(s, "witnessed"));
		row(&b, "completed at", json_object_get(s, "completed_at"));
		row(&b, "stale", json_object_get(s, "stale"));
		buf_adds(&b, "</table>\n<table><tr><th>step</th><th>instruction</th><th>expected</th>"
			 "<th>result</th><th>observed</th><th>comment</th><th>deviation</th>"
			 "<th>disposition</th><th>tester</th><th>recorded at</th></tr>\n");
		json_array_foreach(json_object_get(s, "steps"), j, st) {
			buf_adds(&b, "<tr>");
			cell(&b, st, "no");
			cell(&b, st, "instruction");
			cell(&b, st, "expected");
			cell(&b, st, "result");
			cell(&b, st, "observed");
			cell(&b, st, "comment");
			cell(&b, st, "deviation");
			cell(&b, st, "disposition");
			cell(&b, st, "tester");
			cell(&b, st, "recorded_at");
			buf_adds(&b, "</tr>\n");
		}
		buf_adds(&b, "</table>\n");
	}
	buf_adds(&b, "<h2>Deployments</h2>\n<table><tr><th>asset</th><th>commit</th><th>tree</th>"
		 "<th>deployed by</th><th>at</th><th>read-back SHA-256</th><th>read-back matched</th>"
		 "<th>note</th></tr>\n");
	json_array_foreach(json_object_get(full, "deployments"), i, s) {
		buf_adds(&b, "<tr>");
		cell(&b, s, "asset_id");
		cell(&b, s, "commit");
		cell(&b, s, "tree");
		cell(&b, s, "deployed_by");
		cell(&b, s, "deployed_at");
		cell(&b, s, "readback_sha256");
		cell(&b, s, "readback_match");
		cell(&b, s, "note");
		buf_adds(&b, "</tr>\n");
	}
	buf_adds(&b, "</table>\n<p>Test attachments: none are recorded by this server version.</p>\n"
		 "<p>How to check this bundle: README.txt.</p>\n</body></html>\n");
	if (b.cap && b.len + 1 >= b.cap) {
		buf_release(&b);
		return err_set(OTCM_ETOOBIG, NULL, "the report is larger than allowed");
	}
	{
		char *html = buf_detach(&b, &i);

		files_take(fs, "report.html", html, i);
	}
	return 0;
}

/* ---- README.txt ---- */

static const char README_FMT[] =
	"Evidence bundle of change %s\n"
	"=============================\n"
	"\n"
	"Made by otcm.  Everything in it can be checked offline, either with\n"
	"`otcm verify THIS.tar [--trust server.pub]`, which runs every check below\n"
	"and exits non-zero on any failure, or with stock tools as follows (run in\n"
	"the folder the tar was unpacked into: tar -xf THIS.tar).\n"
	"\n"
	"Files\n"
	"  change.json            the ticket, its versions, signatures, test runs\n"
	"                         (every step) and deployments\n"
	"  report.html            the same, printable; each signature's printed name,\n"
	"                         date and time, meaning and role\n"
	"  diffs/ASSET/N-C.patch  unified diff of version N (commit C) of the change\n"
	"                         against the asset's baseline; N-C.json the semantic\n"
	"                         changes of each file\n"
	"  tests/run-ID.json      each test run with its steps (attachments: none are\n"
	"                         recorded by this server version)\n"
	"  statements/*.dsse.json one in-toto Statement v1 per signature, test run and\n"
	"                         deployment, subjects = git commit and tree ids, in a\n"
	"                         DSSE envelope signed with the server's Ed25519 key\n"
	"  audit/events.jsonl     the change's audit events, one per line, exactly the\n"
	"                         bytes that were hashed\n"
	"  audit/proofs.json      per event: prev_hash, event_hash and its inclusion\n"
	"                         proof in the checkpoint\n"
	"  audit/checkpoint       the signed checkpoint (C2SP signed note)\n"
	"  git/ASSET.bundle       the change branch with its whole history\n"
	"  trust/server.pub       the server's public key (PEM); compare it with the\n"
	"                         key you obtained from the server's operator\n"
	"  MANIFEST.sha256        SHA-256 of every other file (sha256sum format)\n"
	"  MANIFEST.sha256.sig    raw 64-byte Ed25519 signature of MANIFEST.sha256\n"
	"\n"
	"1. The manifest is signed by the server key:\n"
	"     openssl pkeyutl -verify -pubin -inkey trust/server.pub -rawin \\\n"
	"         -in MANIFEST.sha256 -sigfile MANIFEST.sha256.sig\n"
	"2. Every file is the one listed (and check no file is missing or extra):\n"
	"     sha256sum -c --strict MANIFEST.sha256\n"
	"     find . -type f ! -name 'MANIFEST.sha256*' | sed 's|^\\./||' | sort \\\n"
	"         | diff - <(sed 's/^[0-9a-f]*  //' MANIFEST.sha256 | sort)\n"
	"3. The git bundles are complete and hold the versions named everywhere:\n"
	"     git init -q scratch && git -C scratch bundle verify ../git/ASSET.bundle\n"
	"     git clone -b changes/%s git/ASSET.bundle asset && git -C asset log --format='%%H %%T %%s'\n"
	"4. The checkpoint's signature (the three body lines, and the signature\n"
	"   line's base64 without its first 4 bytes, the key id):\n"
	"     head -n 3 audit/checkpoint > cp.txt\n"
	"     tail -n 1 audit/checkpoint | awk '{print $NF}' | base64 -d | tail -c 64 > cp.sig\n"
	"     openssl pkeyutl -verify -pubin -inkey trust/server.pub -rawin -in cp.txt -sigfile cp.sig\n"
	"5. Each event: line N of events.jsonl with events[N] of proofs.json:\n"
	"     SHA-256(prev_hash bytes || line without its newline) = event_hash, e.g.\n"
	"     (printf \"$PREV\" | xxd -r -p; sed -n Np audit/events.jsonl | tr -d '\\n') | sha256sum\n"
	"   and the inclusion proof leads from SHA-256(0x00 || event_hash) to the\n"
	"   checkpoint's root (RFC 9162 section 2.1.3.2); no stock tool does this\n"
	"   step, otcm verify does.\n"
	"6. A statement: payload = base64 -d of .payload; the signature covers\n"
	"     \"DSSEv1 28 application/vnd.in-toto+json <payload length> <payload>\"\n"
	"   e.g. with jq:\n"
	"     jq -j .payload F | base64 -d > p; jq -r '.signatures[0].sig' F | base64 -d > s\n"
	"     (printf 'DSSEv1 28 application/vnd.in-toto+json %%s ' $(stat -c %%s p); cat p) > pae\n"
	"     openssl pkeyutl -verify -pubin -inkey trust/server.pub -rawin -in pae -sigfile s\n"
	"   then compare the subject's gitCommit and gitTree with `git log --format='%%H %%T'`.\n"
	"7. Policy, from change.json: the approval was signed after the last version\n"
	"   and before the deployments, the approver uploaded none of the versions,\n"
	"   each deployed tree had a passed FAT run, and an emergency change was\n"
	"   approved by its retrospective_approval_due.\n";

/* ---- the bundle ---- */

int evidence_build(struct buf *out, struct db_conn *c, const struct crypto_ed25519_key *key,
		   int64_t change_id, uint64_t tree_size)
{
	struct ev_files fs = { 0 };
	json_t *full = NULL, *versions = NULL, *run = NULL, *r;
	int64_t *seqs = NULL, mtime = 0;
	size_t nseqs = 0, i, cap = out->cap ? out->cap : BUF_DEFAULT_CAP;
	struct buf manifest = BUF_INIT, readme = BUF_INIT;
	unsigned char pub[CRYPTO_ED25519_PUB_LEN], sig[CRYPTO_ED25519_SIG_LEN];
	char chg[32], name[1200], hex[2 * CRYPTO_SHA256_LEN + 1], *pem = NULL;
	int rc;

	snprintf(chg, sizeof(chg), "CHG-%" PRId64, change_id);
	if ((rc = changes_get_full(&full, c, change_id)) || (rc = load_versions(&versions, c, change_id)) ||
	    (rc = load_event_seqs(&seqs, &nseqs, &mtime, c, change_id)))
		goto out;
	/* the runs with their steps */
	json_array_foreach(json_object_get(full, "test_runs"), i, r) {
		if ((rc = runs_get(&run, c, json_integer_value(json_object_get(r, "id")), false)))
			goto out;
		snprintf(name, sizeof(name), "tests/run-%" JSON_INTEGER_FORMAT ".json",
			 json_integer_value(json_object_get(r, "id")));
		files_add_json(&fs, name, run);
		json_array_set_new(json_object_get(full, "test_runs"), i, run);
		run = NULL;
	}
	json_object_set(full, "versions", versions);
	files_add_json(&fs, "change.json", full);
	if ((rc = add_report(&fs, full, versions, cap)) || (rc = add_diffs(&fs, c, versions, cap)) ||
	    (rc = add_statements(&fs, full, chg, key)) || (rc = add_audit(&fs, c, seqs, nseqs, tree_size)))
		goto out;
	json_array_foreach(json_object_get(full, "affected_assets"), i, r) {
		struct buf bundle;

		if (!json_is_string(json_object_get(r, "commit")))
			continue;
		buf_init(&bundle, cap);
		snprintf(name, sizeof(name), "refs/heads/changes/%s", chg);
		if ((rc = git_bundle_write(&bundle, c, name, jstr(r, "commit")))) {
			buf_release(&bundle);
			goto out;
		}
		snprintf(name, sizeof(name), "git/%s.bundle", jstr(r, "path"));
		files_add(&fs, name, bundle.data, bundle.len);
		buf_release(&bundle);
	}
	crypto_ed25519_public(pub, key);
	pem = crypto_ed25519_public_pem(pub);
	files_add(&fs, "trust/server.pub", pem, strlen(pem));
	if ((rc = buf_addf(&readme, README_FMT, chg, chg)))
		goto out;
	files_add(&fs, "README.txt", readme.data, readme.len);

	qsort(fs.v, fs.n, sizeof(*fs.v), file_cmp);
	for (i = 0; i < fs.n; i++) {
		crypto_sha256_hex(hex, fs.v[i].data, fs.v[i].len);
		if ((rc = buf_addf(&manifest, "%s  %s\n", hex, fs.v[i].name)))
			goto out;
	}
	if ((rc = crypto_ed25519_sign(sig, key, manifest.data, manifest.len)))
		goto out;
	files_add(&fs, "MANIFEST.sha256", manifest.data, manifest.len);
	files_add(&fs, "MANIFEST.sha256.sig", sig, sizeof(sig));
	rc = tar_write(out, &fs, mtime);
out:
	free(pem);
	buf_release(&manifest);
	buf_release(&readme);
	files_release(&fs);
	json_decref(run);
	json_decref(versions);
	json_decref(full);
	free(seqs);
	return rc;
}

/* ---- the verifier ---- */

struct vctx {
	struct buf *rep;
	unsigned failed;
	const struct ev_files *fs;
	unsigned char pub[CRYPTO_ED25519_PUB_LEN];
	const char *key;             /* the change's key, from change.json */
	json_t *change;
	json_t *bundles;             /* {asset path: {commit: tree}} */
};

static void say(struct vctx *v, const char *tag, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void say(struct vctx *v, const char *tag, const char *fmt, va_list ap)
{
	buf_adds(v->rep, tag);
	buf_vaddf(v->rep, fmt, ap);
	buf_addch(v->rep, '\n');
}

static void ok(struct vctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ok(struct vctx *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(v, "ok    ", fmt, ap);
	va_end(ap);
}

static void fail(struct vctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct vctx *v, const char *fmt, ...)
{
	va_list ap;

	v->failed++;
	va_start(ap, fmt);
	say(v, "FAIL  ", fmt, ap);
	va_end(ap);
}

static void skip(struct vctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void skip(struct vctx *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(v, "skip  ", fmt, ap);
	va_end(ap);
}

static bool is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[n] == '\0' || s[n] == ' ' || s[n] == '\n';
}

static json_t *parse_json(const struct ev_file *f)
{
	return f ? json_loadb(f->data, f->len, JSON_REJECT_DUPLICATES, NULL) : NULL;
}

static void check_manifest(struct vctx *v)
{
	const struct ev_file *m = files_get(v->fs, "MANIFEST.sha256");
	const struct ev_file *s = files_get(v->fs, "MANIFEST.sha256.sig");
	json_t *listed = json_object();
	const char *p, *end;
	char hex[2 * CRYPTO_SHA256_LEN + 1];
	unsigned bad = v->failed;
	size_t i;

	if (!m || !s) {
		fail(v, "manifest: MANIFEST.sha256 or MANIFEST.sha256.sig is missing");
		goto out;
	}
	if (s->len != CRYPTO_ED25519_SIG_LEN ||
	    crypto_ed25519_verify(v->pub, m->data, m->len, (const unsigned char *)s->data))
		fail(v, "manifest signature: MANIFEST.sha256.sig is not the key's signature of MANIFEST.sha256");
	else
		ok(v, "manifest signature verifies");
	for (p = m->data, end = m->data + m->len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		char *name;
		const struct ev_file *f;

		if (!nl || nl - p < 67 || !is_hex(p, 64) || p[64] != ' ' || p[65] != ' ') {
			fail(v, "manifest: malformed line %.80s", p);
			break;
		}
		name = xstrndup(p + 66, (size_t)(nl - p - 66));
		f = files_get(v->fs, name);
		if (!f || !strcmp(name, "MANIFEST.sha256") || !strcmp(name, "MANIFEST.sha256.sig")) {
			fail(v, "manifest: %s is listed but missing from the bundle", name);
		} else {
			crypto_sha256_hex(hex, f->data, f->len);
			if (memcmp(hex, p, 64))
				fail(v, "manifest: %s was changed (its SHA-256 is not the one listed)", name);
		}
		json_object_set_new(listed, name, json_true());
		free(name);
		p = nl + 1;
	}
	for (i = 0; i < v->fs->n; i++) {
		const char *n = v->fs->v[i].name;

		if (strcmp(n, "MANIFEST.sha256") && strcmp(n, "MANIFEST.sha256.sig") &&
		    !json_object_get(listed, n))
			fail(v, "manifest: %s is in the bundle but not in the manifest (added)", n);
	}
	if (v->failed == bad)
		ok(v, "manifest: all %zu files are listed and match", json_object_size(listed));
out:
	json_decref(listed);
}

/* The checkpoint's signature; *out_size and out_root from its body. */
static bool check_checkpoint(struct vctx *v, uint64_t *out_size, merkle_hash out_root)
{
	const struct ev_file *f = files_get(v->fs, "audit/checkpoint");
	struct signednote *note = NULL;
	char *origin = NULL;
	bool good = false;

	if (!f) {
		fail(v, "checkpoint: audit/checkpoint is missing");
		return false;
	}
	if (signednote_parse(&note, f->data, f->len) ||
	    signednote_checkpoint_parse(&origin, out_size, out_root, note->text)) {
		fail(v, "checkpoint: audit/checkpoint is not a signed checkpoint: %s", err_message());
		goto out;
	}
	if (signednote_verify(note, origin, v->pub)) {
		fail(v, "checkpoint: the signature of %s over tree size %" PRIu64 " does not verify",
		     origin, *out_size);
		goto out;
	}
	ok(v, "checkpoint: %s, tree size %" PRIu64 ", signed by the key", origin, *out_size);
	good = true;
out:
	free(origin);
	signednote_free(note);
	return good;
}

static bool unhex32(merkle_hash out, const json_t *s)
{
	return json_is_string(s) && strlen(json_string_value(s)) == 64 &&
	       crypto_unhex(out, 32, json_string_value(s)) == 0;
}

static void check_events(struct vctx *v)
{
	const struct ev_file *ev = files_get(v->fs, "audit/events.jsonl");
	json_t *proofs = parse_json(files_get(v->fs, "audit/proofs.json")), *list, *p;
	merkle_hash root, prev, want, got, leaf, *path = NULL;
	uint64_t size = 0;
	const char *line, *end;
	unsigned bad = v->failed;
	size_t i = 0, j;

	if (!check_checkpoint(v, &size, root))
		skip(v, "events: no trusted checkpoint to prove them against");
	list = json_object_get(proofs, "events");
	if (!ev || !json_is_array(list)) {
		fail(v, "events: audit/events.jsonl or audit/proofs.json is missing or malformed");
		goto out;
	}
	for (line = ev->data, end = ev->data + ev->len; line < end; i++) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t len = nl ? (size_t)(nl - line) : (size_t)(end - line);
		struct crypto_sha256_ctx *h;
		json_t *e = json_loadb(line, len, 0, NULL), *pr;
		json_int_t seq = json_integer_value(json_object_get(e, "seq"));
		const char *otype = json_string_value(json_object_get(e, "object_type"));
		const char *oid = json_string_value(json_object_get(e, "object_id"));
		size_t plen;

		p = json_array_get(list, i);
		pr = json_object_get(p, "proof");
		if (!e || seq <= 0 || !p || json_integer_value(json_object_get(p, "seq")) != seq) {
			fail(v, "event line %zu: not an event, or its proof is not for it", i + 1);
			goto next;
		}
		if (otype && oid && !strcmp(otype, "change") && v->key && strcmp(oid, v->key))
			fail(v, "event %" JSON_INTEGER_FORMAT ": it is about %s, not %s", seq, oid, v->key);
		if (!unhex32(prev, json_object_get(p, "prev_hash")) ||
		    !unhex32(want, json_object_get(p, "event_hash")) || !json_is_array(pr) ||
		    json_array_size(pr) > MERKLE_MAX_PROOF) {
			fail(v, "event %" JSON_INTEGER_FORMAT ": malformed proof", seq);
			goto next;
		}
		h = crypto_sha256_new();
		crypto_sha256_update(h, prev, sizeof(prev));
		crypto_sha256_update(h, line, len);
		crypto_sha256_final(got, h);
		if (memcmp(got, want, sizeof(got))) {
			fail(v, "event %" JSON_INTEGER_FORMAT ": it was edited (its hash is not the recorded one)", seq);
			goto next;
		}
		if (!size)
			goto next;
		plen = json_array_size(pr);
		path = xcalloc(plen + 1, sizeof(merkle_hash));
		for (j = 0; j < plen; j++)
			if (!unhex32(path[j], json_array_get(pr, j)))
				break;
		merkle_leaf_hash(leaf, want, sizeof(want));
		if (j < plen || json_integer_value(json_object_get(p, "leaf_index")) != seq - 1 ||
		    merkle_inclusion_verify((uint64_t)seq - 1, size, leaf, (const merkle_hash *)path, plen, root))
			fail(v, "event %" JSON_INTEGER_FORMAT ": not included in the checkpoint of size %" PRIu64,
			     seq, size);
		free(path);
		path = NULL;
next:
		json_decref(e);
		line += len + 1;
	}
	if (i != json_array_size(list))
		fail(v, "events: %zu events but %zu proofs (an event was added or removed)", i,
		     json_array_size(list));
	if (v->failed == bad)
		ok(v, "events: %zu events hash to their recorded hashes and are included in the checkpoint", i);
out:
	free(path);
	json_decref(proofs);
}

static void check_git(struct vctx *v)
{
	size_t i;

	for (i = 0; i < v->fs->n; i++) {
		const struct ev_file *f = &v->fs->v[i];
		size_t n = strlen(f->name);
		json_t *commits = NULL, *refs = NULL;
		char *asset;

		if (strncmp(f->name, "git/", 4) || n < 12 || strcmp(f->name + n - 7, ".bundle"))
			continue;
		asset = xstrndup(f->name + 4, n - 11);
		if (git_bundle_read(&commits, &refs, f->data, f->len)) {
			fail(v, "git: %s does not read as a complete git bundle: %s", f->name, err_message());
		} else {
			ok(v, "git: %s holds %zu commits, no prerequisites", f->name, json_object_size(commits));
			json_object_set_new(v->bundles, asset, commits);
			commits = NULL;
		}
		free(asset);
		json_decref(commits);
		json_decref(refs);
	}
}

/* Is (commit, tree) of `asset` in its bundle? */
static bool in_bundle(struct vctx *v, const char *asset, const char *commit, const char *tree)
{
	const char *t = json_string_value(json_object_get(json_object_get(v->bundles, asset ? asset : ""),
							  commit ? commit : ""));

	return t && tree && strcmp(t, tree) == 0;
}

/* The statement of file `name`, verified; NULL (and a failure) when it does not verify. */
static json_t *statement(struct vctx *v, const char *name, const char *ptype)
{
	const struct ev_file *f = files_get(v->fs, name);
	char *payload = NULL;
	size_t len;
	json_t *st = NULL, *s;
	const json_t *pred;
	size_t i;

	if (!f) {
		fail(v, "statement: %s is missing", name);
		return NULL;
	}
	if (dsse_verify(&payload, &len, f->data, f->len, DSSE_INTOTO_TYPE, v->pub)) {
		fail(v, "statement: %s: its DSSE signature does not verify (%s)", name, err_message());
		goto out;
	}
	st = json_loadb(payload, len, JSON_REJECT_DUPLICATES, NULL);
	pred = json_object_get(st, "predicate");
	if (!st || strcmp(jstr(st, "_type"), DSSE_STATEMENT_V1) || strcmp(jstr(st, "predicateType"), ptype) ||
	    !json_is_object(pred)) {
		fail(v, "statement: %s is not an in-toto Statement v1 of type %s", name, ptype);
		goto bad;
	}
	if (!v->key || strcmp(jstr(pred, "change"), v->key)) {
		fail(v, "statement: %s belongs to %s, not to %s", name, jstr(pred, "change"),
		     v->key ? v->key : "this change");
		goto bad;
	}
	json_array_foreach(json_object_get(st, "subject"), i, s) {
		json_t *d = json_object_get(s, "digest");

		if (!json_object_get(d, "gitCommit"))
			continue;
		if (!in_bundle(v, jstr(s, "name"), jstr(d, "gitCommit"), jstr(d, "gitTree"))) {
			fail(v, "statement: %s names commit %.40s (tree %.40s) of %s, which is not in the git bundle",
			     name, jstr(d, "gitCommit"), jstr(d, "gitTree"), jstr(s, "name"));
			goto bad;
		}
	}
	goto out;
bad:
	json_decref(st);
	st = NULL;
out:
	free(payload);
	return st;
}

static void check_statements(struct vctx *v)
{
	json_t *x, *st, *seen = json_object();
	const json_t *pred;
	char name[96];
	unsigned bad = v->failed;
	size_t i;

	json_array_foreach(json_object_get(v->change, "signatures"), i, x) {
		snprintf(name, sizeof(name), "statements/signature-%" JSON_INTEGER_FORMAT ".dsse.json",
			 json_integer_value(json_object_get(x, "id")));
		json_object_set_new(seen, name, json_true());
		if (!(st = statement(v, name, PRED_SIGNATURE)))
			continue;
		pred = json_object_get(st, "predicate");
		if (strcmp(jstr(pred, "content_sha256"), jstr(x, "content_sha256")) ||
		    strcmp(jstr(pred, "meaning"), jstr(x, "meaning")) ||
		    strcmp(jstr(pred, "signer"), jstr(x, "signer")) ||
		    strcmp(jstr(pred, "signed_at"), jstr(x, "signed_at")))
			fail(v, "statement: %s does not match signature %" JSON_INTEGER_FORMAT " of change.json",
			     name, json_integer_value(json_object_get(x, "id")));
		json_decref(st);
	}
	json_array_foreach(json_object_get(v->change, "test_runs"), i, x) {
		json_t *sub;

		snprintf(name, sizeof(name), "statements/run-%" JSON_INTEGER_FORMAT ".dsse.json",
			 json_integer_value(json_object_get(x, "id")));
		json_object_set_new(seen, name, json_true());
		if (!(st = statement(v, name, PRED_RUN)))
			continue;
		pred = json_object_get(st, "predicate");
		sub = json_object_get(json_array_get(json_object_get(st, "subject"), 0), "digest");
		if (strcmp(jstr(sub, "gitTree"), jstr(x, "tree")) ||
		    !json_equal(json_object_get(pred, "verdict"), json_object_get(x, "verdict")))
			fail(v, "statement: %s does not match run %" JSON_INTEGER_FORMAT " of change.json",
			     name, json_integer_value(json_object_get(x, "id")));
		json_decref(st);
	}
	json_array_foreach(json_object_get(v->change, "deployments"), i, x) {
		json_t *sub;

		snprintf(name, sizeof(name), "statements/deployment-%" JSON_INTEGER_FORMAT ".dsse.json",
			 json_integer_value(json_object_get(x, "id")));
		json_object_set_new(seen, name, json_true());
		if (!(st = statement(v, name, PRED_DEPLOYMENT)))
			continue;
		pred = json_object_get(st, "predicate");
		sub = json_object_get(json_array_get(json_object_get(st, "subject"), 0), "digest");
		if (strcmp(jstr(sub, "gitTree"), jstr(x, "tree")) ||
		    strcmp(jstr(sub, "gitCommit"), jstr(x, "commit")) ||
		    strcmp(jstr(pred, "deployed_at"), jstr(x, "deployed_at")))
			fail(v, "statement: %s does not match deployment %" JSON_INTEGER_FORMAT " of change.json",
			     name, json_integer_value(json_object_get(x, "id")));
		json_decref(st);
	}
	for (i = 0; i < v->fs->n; i++)
		if (!strncmp(v->fs->v[i].name, "statements/", 11) && !json_object_get(seen, v->fs->v[i].name))
			fail(v, "statement: %s is not about any signature, run or deployment of change.json",
			     v->fs->v[i].name);
	json_array_foreach(json_object_get(v->change, "versions"), i, x)
		if (!in_bundle(v, jstr(x, "path"), jstr(x, "commit"), jstr(x, "tree")))
			fail(v, "git: version %.40s of %s (change.json) is not in its git bundle",
			     jstr(x, "commit"), jstr(x, "path"));
	if (v->failed == bad)
		ok(v, "statements: %zu verify, match change.json and name bundled commits and trees",
		   json_object_size(seen));
	json_decref(seen);
}

/* The change-process rules an auditor samples for, from change.json. */
static void check_policy(struct vctx *v)
{
	const json_t *c = v->change, *x, *appr = NULL;
	const char *type = jstr(c, "type"), *last_version = "";
	bool emergency = !strcmp(type, "emergency"), deployed = false;
	size_t i, j;

	json_array_foreach(json_object_get(c, "versions"), i, x)
		if (strcmp(jstr(x, "uploaded_at"), last_version) > 0)
			last_version = jstr(x, "uploaded_at");
	json_array_foreach(json_object_get(c, "signatures"), i, x)
		if (!strcmp(jstr(x, "meaning"), "approved") && !json_is_true(json_object_get(x, "stale")))
			appr = x;
	json_array_foreach(json_object_get(c, "deployments"), i, x)
		if (!json_is_false(json_object_get(x, "readback_match")))
			deployed = true;

	if (!appr) {
		if (deployed && !emergency)
			fail(v, "policy: deployed without an approval");
		else
			skip(v, "policy: the change has no current approval yet");
	} else {
		if (strcmp(jstr(appr, "signed_at"), last_version) > 0)
			ok(v, "policy: approved at %s, after the last version (%s)", jstr(appr, "signed_at"),
			   last_version);
		else
			fail(v, "policy: approved at %s, before the last version (%s)", jstr(appr, "signed_at"),
			     last_version);
		json_array_foreach(json_object_get(c, "versions"), i, x)
			if (!strcmp(jstr(x, "uploaded_by"), jstr(appr, "signer")))
				break;
		if (i < json_array_size(json_object_get(c, "versions")))
			fail(v, "policy: the approver %s uploaded a version of the change", jstr(appr, "signer"));
		else
			ok(v, "policy: the approver %s uploaded none of the versions", jstr(appr, "signer"));
	}
	if (!deployed) {
		skip(v, "policy: nothing was deployed yet");
		return;
	}
	json_array_foreach(json_object_get(c, "deployments"), i, x) {
		const json_t *r;
		bool tested = false;

		if (json_is_false(json_object_get(x, "readback_match")))
			continue;
		if (!emergency && appr && strcmp(jstr(x, "deployed_at"), jstr(appr, "signed_at")) < 0)
			fail(v, "policy: deployment %" JSON_INTEGER_FORMAT " at %s came before the approval",
			     json_integer_value(json_object_get(x, "id")), jstr(x, "deployed_at"));
		json_array_foreach(json_object_get(c, "test_runs"), j, r)
			if (!strcmp(jstr(json_object_get(r, "protocol"), "kind"), "fat") &&
			    !strcmp(jstr(r, "verdict"), "pass") && !strcmp(jstr(r, "tree"), jstr(x, "tree")) &&
			    json_equal(json_object_get(r, "asset_id"), json_object_get(x, "asset_id")))
				tested = true;
		if (tested)
			ok(v, "policy: deployed tree %.40s had a passed FAT", jstr(x, "tree"));
		else if (emergency)
			skip(v, "policy: emergency deployment of tree %.40s without a passed FAT", jstr(x, "tree"));
		else
			fail(v, "policy: deployed tree %.40s is not a tree that passed FAT", jstr(x, "tree"));
	}
	if (emergency) {
		const char *due = jstr(c, "retrospective_approval_due");

		if (appr && *due && strcmp(jstr(appr, "signed_at"), due) <= 0)
			ok(v, "policy: emergency change approved at %s, within its deadline %s",
			   jstr(appr, "signed_at"), due);
		else if (json_is_true(json_object_get(c, "overdue")) || appr)
			fail(v, "policy: emergency change not approved within its deadline %s", due);
		else
			skip(v, "policy: emergency change awaits its retrospective approval, due %s", due);
	}
}

int evidence_verify(struct buf *report, const void *tar, size_t len, const unsigned char *trusted)
{
	struct ev_files fs = { 0 };
	struct vctx v;
	const struct ev_file *pem;
	int rc;

	memset(&v, 0, sizeof(v));
	v.rep = report;
	v.fs = &fs;
	v.bundles = json_object();
	if (tar_read(&fs, tar, len)) {
		fail(&v, "bundle: %s", err_message());
		goto out;
	}
	ok(&v, "bundle: a tar of %zu files", fs.n);
	pem = files_get(&fs, "trust/server.pub");
	if (trusted)
		memcpy(v.pub, trusted, sizeof(v.pub));
	if (!pem || crypto_ed25519_public_from_pem(trusted ? (unsigned char[CRYPTO_ED25519_PUB_LEN]){ 0 } : v.pub,
						   pem->data, pem->len)) {
		fail(&v, "key: trust/server.pub is missing or not an Ed25519 public key");
		if (!trusted)
			goto out;
	} else if (trusted) {
		unsigned char inbundle[CRYPTO_ED25519_PUB_LEN];

		crypto_ed25519_public_from_pem(inbundle, pem->data, pem->len);
		if (memcmp(inbundle, trusted, sizeof(inbundle)))
			fail(&v, "key: trust/server.pub is not the trusted key");
		else
			ok(&v, "key: trust/server.pub is the trusted key");
	} else {
		skip(&v, "key: using the bundle's own trust/server.pub; pin the server's key with --trust");
	}
	check_manifest(&v);
	v.change = parse_json(files_get(&fs, "change.json"));
	v.key = json_string_value(json_object_get(v.change, "key"));
	if (!v.key)
		fail(&v, "change.json: missing or not a change");
	else
		ok(&v, "change.json: %s", v.key);
	check_events(&v);
	check_git(&v);
	check_statements(&v);
	if (v.change)
		check_policy(&v);
out:
	buf_addf(report, v.failed ? "FAILED: %u checks failed\n" : "verified: every check passed\n",
		 v.failed);
	rc = report->cap && report->len + 1 >= report->cap ? OTCM_ETOOBIG : v.failed ? OTCM_EAUTH : 0;
	json_decref(v.change);
	json_decref(v.bundles);
	files_release(&fs);
	return rc;
}
