/*
 * tests/unit/storage/test_repo.c - git objects and refs in PostgreSQL:
 * commits, refs by compare-and-swap, history, files, diffs, archives,
 * deduplication across assets, rollback, path rules, loose blobs, annotated
 * tags, git bundles written and read back (gitbundle.h), and stock git
 * reading what we wrote.  Runs against a fresh database (testdb.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"
#include "storage/db.h"
#include "storage/gitbundle.h"
#include "storage/repo.h"
#include "testdb.h"

static struct testdb tdb;
static struct db_conn *conn;
static int64_t asset1, asset2;
static char scratch[64];   /* a private folder for files stock git and unzip read */

static const struct repo_signature who = { "Ada Engineer", "ada@example.com",
					   1700000000LL * 1000000 };

static int64_t insert_id(const char *sql)
{
	struct db_res *res = NULL;
	int64_t id;

	assert_int_equal(db_exec(&res, conn, sql, 0, NULL, false), 0);
	id = strtoll(db_res_get(res, 0, 0), NULL, 10);
	db_res_free(res);
	return id;
}

static int group_setup(void **state)
{
	char sql[256];
	int64_t user;

	(void)state;
	if (testdb_setup(&tdb))
		return -1;
	if (db_connect(&conn, tdb.conninfo) || db_migrate(conn, db_schema, db_schema_count, NULL) ||
	    repo_global_init()) {
		fprintf(stderr, "setup: %s\n", err_message());
		return -1;
	}
	user = insert_id("INSERT INTO users (username, display_name, role, password_hash) "
			 "VALUES ('ada', 'Ada', 'engineer', 'x') RETURNING id");
	snprintf(sql, sizeof(sql), "INSERT INTO assets (path, type, created_by) "
		 "VALUES ('plant/line1/plc1', 'plc', %lld) RETURNING id", (long long)user);
	asset1 = insert_id(sql);
	snprintf(sql, sizeof(sql), "INSERT INTO assets (path, type, created_by) "
		 "VALUES ('plant/line2/plc2', 'plc', %lld) RETURNING id", (long long)user);
	asset2 = insert_id(sql);
	snprintf(scratch, sizeof(scratch), "/tmp/otcm-repo-test.XXXXXX");
	if (!mkdtemp(scratch))
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
	if (scratch[0] && system(cmd) != 0)
		fprintf(stderr, "cannot remove '%s'\n", scratch);
	db_disconnect(conn);
	repo_global_shutdown();
	testdb_teardown(&tdb);
	return 0;
}

static int64_t count(const char *sql, const char *param)
{
	struct db_res *res = NULL;
	const char *v[1] = { param };
	int64_t n;

	assert_int_equal(db_execv(&res, conn, sql, param ? 1 : 0, v), 0);
	n = strtoll(db_res_get(res, 0, 0), NULL, 10);
	db_res_free(res);
	return n;
}

static int64_t objects_with(const char *hex)
{
	return count("SELECT count(*) FROM git_objects WHERE oid = decode($1, 'hex')", hex);
}

/* Run a shell command and return its standard output (caller frees). */
static char *run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *run(const char *fmt, ...)
{
	struct buf out = BUF_INIT;
	char cmd[2048], chunk[4096], *text;
	va_list ap;
	FILE *p;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	assert_non_null(p);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		assert_int_equal(buf_add(&out, chunk, n), 0);
	assert_int_equal(pclose(p), 0);
	text = xstrdup(buf_cstr(&out));
	buf_release(&out);
	return text;
}

static const char l5x_v1[] =
	"<?xml version=\"1.0\"?>\n<RSLogix5000Content>\n<Controller Name=\"PLC1\">\n"
	"<Tag Name=\"Speed\" Value=\"10\"/>\n</Controller>\n</RSLogix5000Content>\n";
static const char l5x_v2[] =
	"<?xml version=\"1.0\"?>\n<RSLogix5000Content>\n<Controller Name=\"PLC1\">\n"
	"<Tag Name=\"Speed\" Value=\"12\"/>\n<Tag Name=\"Limit\" Value=\"90\"/>\n"
	"</Controller>\n</RSLogix5000Content>\n";
static const char binary_data[] = { 'P', 'K', 0, 1, 2, 3, 0, 0, 'x' };

/* The two versions most tests look at, built once on asset1's main. */
static char c1[REPO_OID_HEX], c2[REPO_OID_HEX];

static void make_history(struct repo *r)
{
	struct repo_file v1[] = {
		{ "programs/main.L5X", l5x_v1, sizeof(l5x_v1) - 1, false },
		{ "tools/deploy.sh", "#!/bin/sh\necho deploy\n", 22, true },
		{ "README", "plant line 1\n", 13, false },
	};
	struct repo_file v2[] = {
		{ "programs/main.L5X", l5x_v2, sizeof(l5x_v2) - 1, false },
		{ "programs/sub/new.txt", "new\n", 4, false },
		{ "logo.bin", binary_data, sizeof(binary_data), false },
	};
	char tree[REPO_OID_HEX], at[REPO_OID_HEX];

	if (c1[0])
		return;
	assert_int_equal(repo_commit_files(c1, tree, r, NULL, v1, 3, false, &who, "first version"), 0);
	assert_int_equal(repo_ref_cas(r, "refs/heads/main", NULL, c1), 0);
	assert_int_equal(repo_ref_get(at, r, "refs/heads/main"), 0);
	assert_string_equal(at, c1);
	assert_int_equal(repo_commit_files(c2, tree, r, c1, v2, 3, false, &who, "second\n\n\n"), 0);
	assert_int_equal(repo_ref_cas(r, "refs/heads/main", c1, c2), 0);
	assert_int_equal(repo_ref_get(at, r, "refs/heads/main"), 0);
	assert_string_equal(at, c2);
}

static struct repo *open_repo(int64_t asset)
{
	struct repo *r = NULL;

	assert_int_equal(repo_open(&r, conn, asset), 0);
	return r;
}

static void test_commit_list_read(void **state)
{
	struct repo *r = open_repo(asset1);
	json_t *files = NULL, *info = NULL, *refs = NULL, *f;
	void *data = NULL;
	size_t len, i;
	char blob[REPO_OID_HEX];
	bool anc = false;

	(void)state;
	make_history(r);

	assert_int_equal(repo_list_files(&files, r, c2), 0);
	assert_int_equal(json_array_size(files), 5);
	/* git's tree order, recursively */
	assert_string_equal(json_string_value(json_object_get(json_array_get(files, 0), "path")), "README");
	assert_string_equal(json_string_value(json_object_get(json_array_get(files, 1), "path")), "logo.bin");
	assert_string_equal(json_string_value(json_object_get(json_array_get(files, 2), "path")),
			    "programs/main.L5X");
	assert_string_equal(json_string_value(json_object_get(json_array_get(files, 3), "path")),
			    "programs/sub/new.txt");
	json_array_foreach(files, i, f) {
		const char *path = json_string_value(json_object_get(f, "path"));

		if (!strcmp(path, "programs/main.L5X"))
			assert_int_equal(json_integer_value(json_object_get(f, "size")), sizeof(l5x_v2) - 1);
		if (!strcmp(path, "tools/deploy.sh"))
			assert_string_equal(json_string_value(json_object_get(f, "mode")), "100755");
		if (!strcmp(path, "README"))
			assert_string_equal(json_string_value(json_object_get(f, "mode")), "100644");
	}

	assert_int_equal(repo_read_file(&data, &len, blob, r, c2, "programs/main.L5X"), 0);
	assert_int_equal(len, sizeof(l5x_v2) - 1);
	assert_memory_equal(data, l5x_v2, len);
	free(data);
	data = NULL;
	assert_int_equal(repo_read_file(&data, &len, blob, r, c1, "programs/main.L5X"), 0);
	assert_memory_equal(data, l5x_v1, len);
	free(data);
	data = NULL;
	assert_int_equal(repo_read_file(&data, &len, blob, r, c2, "logo.bin"), 0);
	assert_int_equal(len, sizeof(binary_data));
	assert_memory_equal(data, binary_data, len);
	free(data);
	data = NULL;
	assert_int_equal(repo_read_file(&data, &len, blob, r, c1, "logo.bin"), OTCM_ENOTFOUND);
	assert_int_equal(repo_read_file(&data, &len, blob, r, c2, "programs"), OTCM_ENOTFOUND);
	assert_int_equal(repo_read_file(&data, &len, blob, r, c2, "../etc/passwd"), OTCM_EINVAL);

	assert_int_equal(repo_commit_info(&info, r, c2), 0);
	assert_string_equal(json_string_value(json_object_get(info, "commit")), c2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(info, "parents"), 0)), c1);
	assert_string_equal(json_string_value(json_object_get(info, "message")), "second\n");
	assert_string_equal(json_string_value(json_object_get(info, "time")), "2023-11-14T22:13:20.000Z");
	assert_string_equal(json_string_value(json_object_get(json_object_get(info, "author"), "email")),
			    "ada@example.com");
	json_decref(info);
	info = NULL;
	assert_int_equal(repo_commit_info(&info, r, "0123456789012345678901234567890123456789"),
			 OTCM_ENOTFOUND);
	assert_int_equal(repo_commit_info(&info, r, "xyz"), OTCM_EINVAL);
	/* a blob id is not a commit */
	assert_int_equal(repo_commit_info(&info, r, blob), OTCM_ENOTFOUND);

	assert_int_equal(repo_is_ancestor(&anc, r, c1, c2), 0);
	assert_true(anc);
	assert_int_equal(repo_is_ancestor(&anc, r, c2, c1), 0);
	assert_false(anc);
	assert_int_equal(repo_is_ancestor(&anc, r, c2, c2), 0);
	assert_true(anc);

	assert_int_equal(repo_ref_list(&refs, r), 0);
	assert_int_equal(json_array_size(refs), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(refs, 0), "commit")), c2);

	json_decref(refs);
	json_decref(files);
	repo_free(r);
}

static void test_replace_tree(void **state)
{
	struct repo *r = open_repo(asset1);
	struct repo_file only[] = { { "README", "replaced\n", 9, false } };
	char c[REPO_OID_HEX], tree[REPO_OID_HEX];
	json_t *files = NULL;

	(void)state;
	make_history(r);
	assert_int_equal(repo_commit_files(c, tree, r, c2, only, 1, true, &who, "only a readme"), 0);
	assert_int_equal(repo_list_files(&files, r, c), 0);
	assert_int_equal(json_array_size(files), 1);
	json_decref(files);
	repo_free(r);
}

static void test_log_pagination(void **state)
{
	struct repo *r = open_repo(asset1);
	char commits[5][REPO_OID_HEX], tree[REPO_OID_HEX], next[REPO_OID_HEX], cursor[REPO_OID_HEX];
	json_t *page = NULL;
	size_t seen = 0;
	int pages = 0;

	(void)state;
	for (int i = 0; i < 5; i++) {
		char body[32], msg[32];
		struct repo_file f = { "counter.txt", body, 0, false };

		snprintf(body, sizeof(body), "%d\n", i);
		snprintf(msg, sizeof(msg), "step %d", i);
		f.len = strlen(body);
		assert_int_equal(repo_commit_files(commits[i], tree, r, i ? commits[i - 1] : NULL, &f, 1,
						   false, &who, msg), 0);
	}
	cursor[0] = '\0';
	do {
		assert_int_equal(repo_log(&page, next, r, commits[4], cursor[0] ? cursor : NULL, 2), 0);
		for (size_t i = 0; i < json_array_size(page); i++, seen++)
			assert_string_equal(json_string_value(json_object_get(json_array_get(page, i),
									      "commit")),
					    commits[4 - seen]);
		json_decref(page);
		page = NULL;
		memcpy(cursor, next, sizeof(cursor));
		pages++;
	} while (next[0]);
	assert_int_equal(seen, 5);
	assert_int_equal(pages, 3);

	/* exactly one page's worth: no cursor */
	assert_int_equal(repo_log(&page, next, r, commits[1], NULL, 2), 0);
	assert_int_equal(json_array_size(page), 2);
	assert_string_equal(next, "");
	json_decref(page);
	page = NULL;
	/* a cursor from elsewhere is refused */
	assert_int_equal(repo_log(&page, next, r, commits[1], commits[3], 2), OTCM_EINVAL);
	assert_int_equal(repo_log(&page, next, r, commits[1], NULL, 0), OTCM_EINVAL);
	repo_free(r);
}

static void test_diff(void **state)
{
	struct repo *r = open_repo(asset1);
	struct buf patch = BUF_INIT;
	json_t *files = NULL, *f;
	size_t i;
	int seen = 0;

	(void)state;
	make_history(r);
	assert_int_equal(repo_diff(&files, &patch, r, c1, c2), 0);
	assert_int_equal(json_array_size(files), 3);
	json_array_foreach(files, i, f) {
		const char *path = json_string_value(json_object_get(f, "path"));
		const char *status = json_string_value(json_object_get(f, "status"));

		if (!strcmp(path, "programs/main.L5X")) {
			assert_string_equal(status, "modified");
			assert_int_equal(json_integer_value(json_object_get(f, "additions")), 2);
			assert_int_equal(json_integer_value(json_object_get(f, "deletions")), 1);
			assert_false(json_is_true(json_object_get(f, "binary")));
			assert_true(json_is_string(json_object_get(f, "old_blob")));
			assert_true(json_integer_value(json_object_get(f, "old_size")) > 0);
			assert_true(json_integer_value(json_object_get(f, "new_size")) > 0);
			seen++;
		} else if (!strcmp(path, "logo.bin")) {
			assert_string_equal(status, "added");
			assert_true(json_is_true(json_object_get(f, "binary")));
			assert_true(json_is_null(json_object_get(f, "old_blob")));
			assert_true(json_is_null(json_object_get(f, "old_size")));
			assert_true(json_integer_value(json_object_get(f, "new_size")) > 0);
			seen++;
		} else if (!strcmp(path, "programs/sub/new.txt")) {
			assert_string_equal(status, "added");
			assert_int_equal(json_integer_value(json_object_get(f, "additions")), 1);
			seen++;
		}
	}
	assert_int_equal(seen, 3);
	assert_non_null(strstr(buf_cstr(&patch), "diff --git a/programs/main.L5X b/programs/main.L5X"));
	assert_non_null(strstr(buf_cstr(&patch), "-<Tag Name=\"Speed\" Value=\"10\"/>\n"));
	assert_non_null(strstr(buf_cstr(&patch), "+<Tag Name=\"Limit\" Value=\"90\"/>\n"));
	assert_non_null(strstr(buf_cstr(&patch), "Binary files /dev/null and b/logo.bin differ"));
	json_decref(files);
	files = NULL;
	buf_release(&patch);

	/* from the empty tree: everything added */
	assert_int_equal(repo_diff(&files, NULL, r, NULL, c1), 0);
	assert_int_equal(json_array_size(files), 3);
	json_array_foreach(files, i, f)
		assert_string_equal(json_string_value(json_object_get(f, "status")), "added");
	json_decref(files);
	files = NULL;

	/* a patch larger than the caller allows */
	buf_init(&patch, 64);
	assert_int_equal(repo_diff(&files, &patch, r, c1, c2), OTCM_ETOOBIG);
	buf_release(&patch);
	repo_free(r);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void test_archive(void **state)
{
	struct repo *r = open_repo(asset1);
	struct buf zip = BUF_INIT, tar = BUF_INIT, tar2 = BUF_INIT;
	char path[128], *out;

	(void)state;
	make_history(r);
	assert_int_equal(repo_archive(&zip, r, c2, "zip"), 0);
	assert_int_equal(repo_archive(&tar, r, c2, "tar"), 0);
	assert_int_equal(repo_archive(&tar2, r, c2, "tar"), 0);
	assert_int_equal(tar.len, tar2.len);
	assert_memory_equal(tar.data, tar2.data, tar.len);   /* deterministic */

	snprintf(path, sizeof(path), "%s/v2.zip", scratch);
	write_file(path, zip.data, zip.len);
	out = run("unzip -Z1 '%s'", path);
	assert_string_equal(out, "README\nlogo.bin\nprograms/\nprograms/main.L5X\nprograms/sub/\n"
				 "programs/sub/new.txt\ntools/\ntools/deploy.sh\n");
	free(out);
	out = run("unzip -p '%s' programs/main.L5X", path);
	assert_string_equal(out, l5x_v2);
	free(out);

	snprintf(path, sizeof(path), "%s/v2.tar", scratch);
	write_file(path, tar.data, tar.len);
	out = run("tar -tvf '%s' --utc | awk '{print $1, $4, $5, $6}'", path);
	assert_string_equal(out,
			    "-rw-r--r-- 2023-11-14 22:13 README\n"
			    "-rw-r--r-- 2023-11-14 22:13 logo.bin\n"
			    "drwxr-xr-x 2023-11-14 22:13 programs/\n"
			    "-rw-r--r-- 2023-11-14 22:13 programs/main.L5X\n"
			    "drwxr-xr-x 2023-11-14 22:13 programs/sub/\n"
			    "-rw-r--r-- 2023-11-14 22:13 programs/sub/new.txt\n"
			    "drwxr-xr-x 2023-11-14 22:13 tools/\n"
			    "-rwxr-xr-x 2023-11-14 22:13 tools/deploy.sh\n");
	free(out);

	buf_release(&zip);
	buf_init(&zip, 100);
	assert_int_equal(repo_archive(&zip, r, c2, "zip"), OTCM_ETOOBIG);
	assert_int_equal(repo_archive(&zip, r, c2, "rar"), OTCM_EINVAL);
	buf_release(&zip);
	buf_release(&tar);
	buf_release(&tar2);
	repo_free(r);
}

static void test_objects_stored_once(void **state)
{
	struct repo *r1 = open_repo(asset1), *r2 = open_repo(asset2);
	static const char shared[] = "the same program in two assets\n";
	struct repo_file f = { "shared.L5X", shared, sizeof(shared) - 1, false };
	char a[REPO_OID_HEX], b[REPO_OID_HEX], t1[REPO_OID_HEX], t2[REPO_OID_HEX];
	char blob1[REPO_OID_HEX], blob2[REPO_OID_HEX];
	int64_t before;
	void *data = NULL;
	size_t len;

	(void)state;
	assert_int_equal(repo_commit_files(a, t1, r1, NULL, &f, 1, false, &who, "in asset 1"), 0);
	before = count("SELECT count(*) FROM git_objects", NULL);
	assert_int_equal(repo_commit_files(b, t2, r2, NULL, &f, 1, false, &who, "in asset 2"), 0);
	/* only the commit is new: same blob, same tree */
	assert_int_equal(count("SELECT count(*) FROM git_objects", NULL), before + 1);
	assert_string_equal(t1, t2);
	assert_int_equal(repo_read_file(&data, &len, blob1, r1, a, "shared.L5X"), 0);
	free(data);
	assert_int_equal(repo_read_file(&data, &len, blob2, r2, b, "shared.L5X"), 0);
	free(data);
	assert_string_equal(blob1, blob2);
	assert_int_equal(objects_with(blob1), 1);
	assert_int_equal(repo_ref_cas(r2, "refs/heads/main", NULL, b), 0);
	repo_free(r1);
	repo_free(r2);
}

static void test_cas_conflict(void **state)
{
	struct repo *r = open_repo(asset1);
	struct repo_file f = { "README", "race\n", 5, false };
	char other[REPO_OID_HEX], tree[REPO_OID_HEX], at[REPO_OID_HEX];

	(void)state;
	make_history(r);
	assert_int_equal(repo_commit_files(other, tree, r, c1, &f, 1, false, &who, "racer"), 0);
	assert_int_equal(db_begin(conn), 0);
	/* main is at c2: a writer that still believes c1 loses */
	assert_int_equal(repo_ref_cas(r, "refs/heads/main", c1, other), OTCM_ECONFLICT);
	assert_int_equal(repo_ref_get(at, r, "refs/heads/main"), 0);   /* transaction still usable */
	assert_string_equal(at, c2);
	assert_int_equal(repo_ref_cas(r, "refs/heads/main", NULL, other), OTCM_ECONFLICT);
	assert_int_equal(repo_ref_get(at, r, "refs/heads/main"), 0);
	assert_string_equal(at, c2);
	assert_int_equal(db_commit(conn), 0);
	assert_int_equal(repo_ref_get(at, r, "refs/heads/nope"), OTCM_ENOTFOUND);
	assert_int_equal(repo_ref_cas(r, "refs/heads/x", NULL, tree), OTCM_EINVAL);   /* not a commit */
	assert_int_equal(repo_ref_cas(r, "refs/heads/x", NULL,
				      "0123456789012345678901234567890123456789"), OTCM_ENOTFOUND);
	assert_int_equal(repo_ref_cas(r, "refs/heads/../x", NULL, other), OTCM_EINVAL);
	assert_int_equal(repo_ref_cas(r, "HEAD", NULL, other), OTCM_EINVAL);
	repo_free(r);
}

static void test_rollback(void **state)
{
	struct repo *r = NULL;
	static const char body[] = "written, then rolled back\n";
	struct repo_file f = { "gone.txt", body, sizeof(body) - 1, false };
	char c[REPO_OID_HEX], tree[REPO_OID_HEX], at[REPO_OID_HEX], blob[REPO_OID_HEX];
	json_t *info = NULL;
	void *data = NULL;
	size_t len;

	(void)state;
	assert_int_equal(db_begin(conn), 0);
	r = open_repo(asset2);
	assert_int_equal(repo_commit_files(c, tree, r, NULL, &f, 1, false, &who, "doomed"), 0);
	assert_int_equal(repo_ref_cas(r, "refs/heads/doomed", NULL, c), 0);
	assert_int_equal(repo_read_file(&data, &len, blob, r, c, "gone.txt"), 0);
	free(data);
	assert_int_equal(objects_with(c), 1);
	repo_free(r);
	assert_int_equal(db_rollback(conn), 0);

	assert_int_equal(objects_with(c), 0);
	assert_int_equal(objects_with(tree), 0);
	assert_int_equal(objects_with(blob), 0);
	r = open_repo(asset2);
	assert_int_equal(repo_ref_get(at, r, "refs/heads/doomed"), OTCM_ENOTFOUND);
	assert_int_equal(repo_commit_info(&info, r, c), OTCM_ENOTFOUND);
	repo_free(r);
}

static void test_bad_paths(void **state)
{
	static const char *const bad[] = {
		"", "/abs", "a//b", "a/", "./a", "a/./b", "../a", "a/..", ".git/config", "a/.GIT/b",
		"a\\b", "tab\there", "new\nline", "del\x7f", ".Git", "latin1-\xfc.L5X", "\xc0\xaf",
		/* what git reads as .git on NTFS and HFS+ */
		".git./config", ".git /config", "a/GIT~1/x", ".git::$INDEX_ALLOCATION/x",
		".g\xe2\x80\x8cit/x", ".git\xe2\x80\x8f", "\xef\xbb\xbf.git/x",
	};
	static const char *const good[] = { "a", "a/b.L5X", ".gitignore", "a/.github/x", "...", "x..y",
					    "git~2/x", ".git-x", ".g\xe2\x80\x8cx" };
	char longpath[1100];
	struct repo *r = open_repo(asset1);
	char c[REPO_OID_HEX], tree[REPO_OID_HEX], base[REPO_OID_HEX];
	struct repo_file dup[] = { { "a/x", "1", 1, false }, { "a/x", "2", 1, false } };
	struct repo_file clash[] = { { "a/x", "1", 1, false }, { "a", "2", 1, false } };
	struct repo_file clash2[] = { { "a-b", "1", 1, false }, { "a", "2", 1, false },
				      { "a/b/c", "3", 1, false } };
	struct repo_file base_files[] = { { "dir/file", "1", 1, false } };
	struct repo_file onto_file[] = { { "dir/file/deeper", "2", 1, false } };
	struct repo_file onto_dir[] = { { "dir", "2", 1, false } };
	struct repo_file bad_file[] = { { "ok", "1", 1, false }, { "x/../y", "2", 1, false } };
	struct repo_file dotgit[] = { { ".git./config", "[core]", 6, false } };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (repo_check_path(bad[i]) != OTCM_EINVAL)
			fail_msg("path '%s' was accepted", bad[i]);
		assert_string_equal(err_field(), "path");
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (repo_check_path(good[i]))
			fail_msg("path '%s' was refused: %s", good[i], err_message());
	memset(longpath, 'a', sizeof(longpath));
	longpath[1024] = '\0';
	assert_int_equal(repo_check_path(longpath), 0);
	longpath[1024] = 'a';
	longpath[1025] = '\0';
	assert_int_equal(repo_check_path(longpath), OTCM_EINVAL);

	assert_int_equal(repo_commit_files(c, tree, r, NULL, dup, 2, false, &who, "m"), OTCM_EINVAL);
	assert_non_null(strstr(err_message(), "'a/x'"));
	/* refused before libgit2 sees it, naming the path */
	assert_int_equal(repo_commit_files(c, tree, r, NULL, dotgit, 1, false, &who, "m"), OTCM_EINVAL);
	assert_non_null(strstr(err_message(), ".git./config"));
	assert_int_equal(repo_commit_files(c, tree, r, NULL, clash, 2, false, &who, "m"), OTCM_EINVAL);
	assert_non_null(strstr(err_message(), "'a'"));
	assert_int_equal(repo_commit_files(c, tree, r, NULL, clash2, 3, false, &who, "m"), OTCM_EINVAL);
	assert_int_equal(repo_commit_files(c, tree, r, NULL, bad_file, 2, false, &who, "m"), OTCM_EINVAL);
	assert_non_null(strstr(err_message(), "'x/../y'"));

	assert_int_equal(repo_commit_files(base, tree, r, NULL, base_files, 1, false, &who, "m"), 0);
	assert_int_equal(repo_commit_files(c, tree, r, base, onto_file, 1, false, &who, "m"), OTCM_EINVAL);
	assert_non_null(strstr(err_message(), "'dir/file'"));
	assert_int_equal(repo_commit_files(c, tree, r, base, onto_dir, 1, false, &who, "m"), OTCM_EINVAL);
	assert_non_null(strstr(err_message(), "'dir'"));
	/* replacing the whole tree has nothing to clash with */
	assert_int_equal(repo_commit_files(c, tree, r, base, onto_dir, 1, true, &who, "m"), 0);

	repo_free(r);
}

static void test_branch_names(void **state)
{
	char ref[300];

	(void)state;
	assert_int_equal(repo_branch_ref(ref, sizeof(ref), "main"), 0);
	assert_string_equal(ref, "refs/heads/main");
	assert_int_equal(repo_branch_ref(ref, sizeof(ref), "release/2024-01"), 0);
	assert_int_equal(repo_branch_ref(ref, sizeof(ref), "a..b"), OTCM_EINVAL);
	assert_int_equal(repo_branch_ref(ref, sizeof(ref), "x.lock"), OTCM_EINVAL);
	assert_int_equal(repo_branch_ref(ref, sizeof(ref), "sp ace"), OTCM_EINVAL);
	assert_int_equal(repo_branch_ref(ref, sizeof(ref), ""), OTCM_EINVAL);
	assert_int_equal(repo_branch_ref(ref, sizeof(ref), "/lead"), OTCM_EINVAL);
}

/* Export every object of the database into a bare repository and let stock git check it. */
/* The release tag of test_tags, read back by stock git in test_stock_git_reads_it. */
static char tag_chg1[REPO_OID_HEX];

static void test_blobs(void **state)
{
	static const char photo[] = { (char)0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 1, 2 };
	struct repo *r = open_repo(asset2), *main_repo;
	char id[REPO_OID_HEX], again[REPO_OID_HEX];
	void *data = NULL;
	size_t len = 99;
	int64_t before;

	(void)state;
	/* ids are git's: the empty blob and "hello\n" as `git hash-object` names them */
	assert_int_equal(repo_blob_write(id, r, NULL, 0), 0);
	assert_string_equal(id, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
	assert_int_equal(repo_blob_read(&data, &len, r, id), 0);
	assert_non_null(data);
	assert_int_equal(len, 0);
	free(data);
	assert_int_equal(repo_blob_write(id, r, "hello\n", 6), 0);
	assert_string_equal(id, "ce013625030ba8dba906f756967f9e9ca394464a");

	/* binary bytes come back exactly, and are stored once */
	assert_int_equal(repo_blob_write(id, r, photo, sizeof(photo)), 0);
	before = count("SELECT count(*) FROM git_objects", NULL);
	assert_int_equal(repo_blob_write(again, r, photo, sizeof(photo)), 0);
	assert_string_equal(id, again);
	assert_int_equal(count("SELECT count(*) FROM git_objects", NULL), before);
	assert_int_equal(objects_with(id), 1);
	assert_int_equal(repo_blob_read(&data, &len, r, id), 0);
	assert_int_equal(len, sizeof(photo));
	assert_memory_equal(data, photo, sizeof(photo));
	free(data);

	/* absent, not a blob, not an id */
	assert_int_equal(repo_blob_read(&data, &len, r, "0123456789012345678901234567890123456789"),
			 OTCM_ENOTFOUND);
	main_repo = open_repo(asset1);
	make_history(main_repo);
	repo_free(main_repo);
	assert_int_equal(repo_blob_read(&data, &len, r, c1), OTCM_ENOTFOUND);   /* objects are shared */
	assert_int_equal(repo_blob_read(&data, &len, r, "xyz"), OTCM_EINVAL);
	repo_free(r);
}

/*
 * Blobs from 256 KiB on are streamed to the database with COPY (odb.c):
 * the same id as git's, the same bytes back, stored once, and undone with
 * the transaction they were written in.
 */
static void test_large_blobs(void **state)
{
	size_t big = (size_t)1 << 20 | 12345;
	unsigned char *bytes = xmalloc(big);
	struct repo *r = open_repo(asset2);
	struct repo_file f = { "big.bin", NULL, 0, false };
	char id[REPO_OID_HEX], again[REPO_OID_HEX], path[128], c[REPO_OID_HEX], tree[REPO_OID_HEX];
	char blob[REPO_OID_HEX], *want;
	void *data = NULL;
	size_t len = 0;
	int64_t before;

	(void)state;
	for (size_t i = 0; i < big; i++)
		bytes[i] = (unsigned char)(i * 2654435761u >> 13);   /* NULs and all */
	snprintf(path, sizeof(path), "%s/big.bin", scratch);
	write_file(path, bytes, big);
	want = run("git hash-object '%s'", path);
	want[strcspn(want, "\n")] = '\0';

	assert_int_equal(repo_blob_write(id, r, bytes, big), 0);
	assert_string_equal(id, want);
	assert_int_equal(repo_blob_read(&data, &len, r, id), 0);
	assert_int_equal(len, big);
	assert_memory_equal(data, bytes, big);
	free(data);
	data = NULL;
	before = count("SELECT count(*) FROM git_objects", NULL);
	assert_int_equal(repo_blob_write(again, r, bytes, big), 0);
	assert_string_equal(again, id);
	assert_int_equal(count("SELECT count(*) FROM git_objects", NULL), before);
	assert_int_equal(count("SELECT size FROM git_objects WHERE oid = decode($1, 'hex')", id),
			 (int64_t)big);

	/* in a transaction, as a version is written: gone with a rollback */
	bytes[0] ^= 1;
	f.data = bytes;
	f.len = big;
	assert_int_equal(db_begin(conn), 0);
	assert_int_equal(repo_commit_files(c, tree, r, NULL, &f, 1, false, &who, "large"), 0);
	assert_int_equal(repo_read_file(&data, &len, blob, r, c, "big.bin"), 0);
	assert_int_equal(len, big);
	assert_memory_equal(data, bytes, big);
	free(data);
	assert_int_equal(objects_with(blob), 1);
	/* the transaction goes on after the blob's COPY */
	assert_int_equal(repo_ref_cas(r, "refs/heads/large", NULL, c), 0);
	assert_int_equal(db_rollback(conn), 0);
	assert_int_equal(objects_with(blob), 0);
	assert_int_equal(objects_with(c), 0);
	free(want);
	free(bytes);
	repo_free(r);
}

static void test_tags(void **state)
{
	struct repo *r = open_repo(asset1);
	char tag[REPO_OID_HEX], at[REPO_OID_HEX], other[REPO_OID_HEX];
	const char *tree;
	json_t *info = NULL;

	(void)state;
	make_history(r);
	assert_int_equal(repo_tag_create(tag, r, "CHG-1", c2, &who, "CHG-1 released\n"), 0);
	assert_string_not_equal(tag, c2);
	assert_int_equal(objects_with(tag), 1);
	assert_int_equal(count("SELECT type FROM git_objects WHERE oid = decode($1, 'hex')", tag), 4);
	assert_int_equal(repo_ref_get(at, r, "refs/tags/CHG-1"), 0);
	assert_string_equal(at, tag);
	memcpy(tag_chg1, tag, REPO_OID_HEX);

	/* a tag is made once: a second one of the name is a conflict, the transaction goes on */
	assert_int_equal(db_begin(conn), 0);
	assert_int_equal(repo_tag_create(other, r, "CHG-1", c1, &who, "again\n"), OTCM_ECONFLICT);
	assert_int_equal(repo_ref_get(at, r, "refs/tags/CHG-1"), 0);
	assert_string_equal(at, tag);
	assert_int_equal(db_commit(conn), 0);

	/* tags point at commits; branches never at tag objects */
	assert_int_equal(repo_commit_info(&info, r, c2), 0);
	tree = json_string_value(json_object_get(info, "tree"));
	assert_int_equal(repo_tag_create(other, r, "CHG-2", tree, &who, "x\n"), OTCM_ENOTFOUND);
	json_decref(info);
	assert_int_equal(repo_tag_create(other, r, "CHG-2", "0123456789012345678901234567890123456789",
					 &who, "x\n"), OTCM_ENOTFOUND);
	assert_int_equal(repo_ref_get(at, r, "refs/tags/CHG-2"), OTCM_ENOTFOUND);
	assert_int_equal(repo_ref_cas(r, "refs/heads/tagged", NULL, tag), OTCM_EINVAL);
	assert_int_equal(repo_ref_cas(r, "refs/tags/lightweight", NULL, c1), 0);

	/* names a ref may not have */
	assert_int_equal(repo_tag_create(other, r, "", c2, &who, "x\n"), OTCM_EINVAL);
	assert_int_equal(repo_tag_create(other, r, "a..b", c2, &who, "x\n"), OTCM_EINVAL);
	assert_int_equal(repo_tag_create(other, r, "sp ace", c2, &who, "x\n"), OTCM_EINVAL);
	repo_free(r);
}

static void tree_of(char out[REPO_OID_HEX], struct repo *r, const char *commit)
{
	json_t *info = NULL;

	assert_int_equal(repo_commit_info(&info, r, commit), 0);
	snprintf(out, REPO_OID_HEX, "%s", json_string_value(json_object_get(info, "tree")));
	json_decref(info);
}

static void test_bundles(void **state)
{
	struct repo *r = open_repo(asset1);
	struct buf a = BUF_INIT, b = BUF_INIT, small;
	struct gitbundle *gb = NULL;
	json_t *commits = NULL;
	char t1[REPO_OID_HEX], t2[REPO_OID_HEX], got[GITBUNDLE_OID_HEX], *bad;
	bool has = true;

	(void)state;
	make_history(r);
	tree_of(t1, r, c1);
	tree_of(t2, r, c2);
	/* the same objects give the same bytes */
	assert_int_equal(repo_bundle_write(&a, r, "refs/heads/changes/CHG-1", c2), 0);
	assert_int_equal(repo_bundle_write(&b, r, "refs/heads/changes/CHG-1", c2), 0);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	assert_int_equal(strncmp(a.data, "# v2 git bundle\n", 16), 0);

	/* read back: the ref, every commit with its tree */
	assert_int_equal(gitbundle_open(&gb, a.data, a.len), 0);
	assert_string_equal(json_string_value(json_object_get(gitbundle_refs(gb), "refs/heads/changes/CHG-1")), c2);
	assert_int_equal(gitbundle_commits(&commits, gb), 0);
	assert_int_equal(json_object_size(commits), 2);
	assert_string_equal(json_string_value(json_object_get(commits, c1)), t1);
	assert_string_equal(json_string_value(json_object_get(commits, c2)), t2);
	assert_int_equal(gitbundle_commit_tree(got, gb, c1), 0);
	assert_string_equal(got, t1);
	assert_int_equal(gitbundle_has_commit(&has, gb, c2), 0);
	assert_true(has);
	assert_int_equal(gitbundle_has_commit(&has, gb, t1), 0);   /* a tree, not a commit */
	assert_false(has);
	assert_int_equal(gitbundle_commit_tree(got, gb, "0123456789012345678901234567890123456789"),
			 OTCM_ENOTFOUND);
	json_decref(commits);
	gitbundle_free(gb);
	gb = NULL;

	/* one byte of the pack changed, a prerequisite, no header, bad ids and refs */
	bad = xmemdup(a.data, a.len);
	bad[a.len - 30] ^= 1;
	assert_int_equal(gitbundle_open(&gb, bad, a.len), OTCM_EINVAL);
	free(bad);
	bad = xasprintf("# v2 git bundle\n-%s\n%s refs/heads/x\n\n", c1, c2);
	assert_int_equal(gitbundle_open(&gb, bad, strlen(bad)), OTCM_EINVAL);
	free(bad);
	assert_int_equal(gitbundle_open(&gb, "PACK", 4), OTCM_EINVAL);
	assert_null(gb);
	assert_int_equal(repo_bundle_write(&b, r, "refs/heads/x", "xyz"), OTCM_EINVAL);
	assert_int_equal(repo_bundle_write(&b, r, "HEAD", c2), OTCM_EINVAL);
	assert_int_equal(repo_bundle_write(&b, r, "refs/heads/x", "0123456789012345678901234567890123456789"),
			 OTCM_EGIT);
	/* the buffer's cap holds */
	buf_init(&small, 64);
	assert_int_equal(repo_bundle_write(&small, r, "refs/heads/changes/CHG-1", c2), OTCM_ETOOBIG);
	buf_release(&small);
	buf_release(&a);
	buf_release(&b);
	repo_free(r);
}

static void test_stock_git_reads_it(void **state)
{
	struct repo *r = open_repo(asset1);
	static const char *const names[] = { "", "commit", "tree", "blob", "tag" };
	struct db_res *res = NULL;
	char git[128], obj[128], *out, *log;

	(void)state;
	make_history(r);
	snprintf(git, sizeof(git), "%s/mirror.git", scratch);
	snprintf(obj, sizeof(obj), "%s/object", scratch);
	free(run("git init -q --bare '%s'", git));
	assert_int_equal(db_exec(&res, conn,
				 "SELECT encode(oid, 'hex'), int2send(type), data FROM git_objects", 0,
				 NULL, true), 0);
	for (size_t i = 0; i < db_res_rows(res); i++) {
		const unsigned char *type = (const unsigned char *)db_res_get(res, i, 1);
		char want[REPO_OID_HEX];

		/* with binary results the hex column arrives as its text bytes */
		snprintf(want, sizeof(want), "%.*s", (int)db_res_len(res, i, 0), db_res_get(res, i, 0));
		write_file(obj, db_res_get(res, i, 2), db_res_len(res, i, 2));
		/* without --literally git checks each commit and tree as it writes it */
		out = run("git --git-dir='%s' hash-object -w -t %s '%s'", git, names[type[1]], obj);
		out[strcspn(out, "\n")] = '\0';
		assert_string_equal(out, want);
		free(out);
	}
	db_res_free(res);
	free(run("git --git-dir='%s' update-ref refs/heads/main %s", git, c2));
	free(run("git --git-dir='%s' fsck --strict --no-dangling 2>&1", git));
	log = run("git --git-dir='%s' log --format='%%H %%an <%%ae> %%at %%s' main", git);
	out = xasprintf("%s Ada Engineer <ada@example.com> 1700000000 second\n"
			"%s Ada Engineer <ada@example.com> 1700000000 first version\n", c2, c1);
	assert_string_equal(log, out);
	free(out);
	free(log);
	out = run("git --git-dir='%s' show main:programs/main.L5X", git);
	assert_string_equal(out, l5x_v2);
	free(out);
	free(run("git --git-dir='%s' update-ref refs/tags/CHG-1 %s", git, tag_chg1));
	out = run("git --git-dir='%s' cat-file -t CHG-1 && git --git-dir='%s' rev-parse 'CHG-1^{commit}'",
		  git, git);
	log = xasprintf("tag\n%s\n", c2);
	assert_string_equal(out, log);
	free(out);
	free(log);
	out = run("git --git-dir='%s' ls-tree -r main | awk '{print $1, $4}'", git);
	assert_string_equal(out, "100644 README\n100644 logo.bin\n100644 programs/main.L5X\n"
				 "100644 programs/sub/new.txt\n100755 tools/deploy.sh\n");
	free(out);
	repo_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commit_list_read),
		cmocka_unit_test(test_replace_tree),
		cmocka_unit_test(test_log_pagination),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_archive),
		cmocka_unit_test(test_objects_stored_once),
		cmocka_unit_test(test_cas_conflict),
		cmocka_unit_test(test_rollback),
		cmocka_unit_test(test_bad_paths),
		cmocka_unit_test(test_branch_names),
		cmocka_unit_test(test_blobs),
		cmocka_unit_test(test_large_blobs),
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_bundles),
		cmocka_unit_test(test_stock_git_reads_it),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
