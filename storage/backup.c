/*
 * storage/backup.c - online backups with pg_basebackup (or pg_dump for a
 * role that may not replicate), our manifest of
 * every file's SHA-256, verification with pg_verifybackup and our own
 * checks, restore into a new data folder, and the rehash of git objects a
 * restore drill runs; see backup.h.
 */
#include "storage/backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "storage/checkpoint.h"
#include "storage/cluster.h"

#define BACKUP_RULE "backup-integrity"
#define BACKUP_LOG "backup.log"        /* beside the backup, for the tools' output */
#define REHASH_BATCH "256"

extern char **environ;

/* Run argv with stdin from /dev/null and stdout/stderr appended to `log`; wait. */
static int run_tool(const char *log, char *const argv[])
{
	int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600), status = 0;
	pid_t pid;

	if (fd < 0)
		return err_set(OTCM_EIO, NULL, "cannot open '%s': %s", log, strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(fd);
		return err_set(OTCM_EIO, NULL, "cannot start '%s': %s", argv[0], strerror(errno));
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		execve(argv[0], argv, environ);
		_exit(127);
	}
	close(fd);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return err_set(OTCM_EIO, NULL, "cannot wait for '%s': %s", argv[0], strerror(errno));
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return err_set(OTCM_EIO, NULL, "'%s' failed (status %d); see '%s'", argv[0],
			       WIFEXITED(status) ? WEXITSTATUS(status) : -1, log);
	return 0;
}

int backup_snapshot(json_t **out, struct db_conn *c)
{
	static const char sql_tx[] = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY";
	static const char sql_counts[] =
		"SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
		" current_setting('server_version'),"
		" (SELECT count(*) FROM assets), (SELECT count(*) FROM versions),"
		" (SELECT count(*) FROM changes), (SELECT count(*) FROM audit_events),"
		" (SELECT count(*) FROM git_objects)";
	static const char sql_last[] =
		"SELECT seq, encode(hash, 'hex'),"
		" to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
		" FROM audit_events ORDER BY seq DESC LIMIT 1";
	struct db_res *counts = NULL, *last = NULL;
	json_t *snap = NULL, *ev = NULL;
	int rc;

	if ((rc = db_begin(c)) || (rc = db_exec(NULL, c, sql_tx, 0, NULL, false)) ||
	    (rc = db_exec(&counts, c, sql_counts, 0, NULL, false)) ||
	    (rc = db_exec(&last, c, sql_last, 0, NULL, false)) || (rc = db_commit(c)))
		goto out;
	if (db_res_rows(last) == 1)
		ev = json_pack("{s:I,s:s,s:s}", "seq", (json_int_t)strtoll(db_res_get(last, 0, 0), NULL, 10),
			       "hash", db_res_get(last, 0, 1), "at", db_res_get(last, 0, 2));
	else
		ev = json_null();
	snap = json_pack("{s:s,s:s,s:{s:I,s:I,s:I,s:I,s:I},s:o}",
			 "at", db_res_get(counts, 0, 0), "server_version", db_res_get(counts, 0, 1),
			 "counts",
			 "assets", (json_int_t)strtoll(db_res_get(counts, 0, 2), NULL, 10),
			 "versions", (json_int_t)strtoll(db_res_get(counts, 0, 3), NULL, 10),
			 "changes", (json_int_t)strtoll(db_res_get(counts, 0, 4), NULL, 10),
			 "events", (json_int_t)strtoll(db_res_get(counts, 0, 5), NULL, 10),
			 "git_objects", (json_int_t)strtoll(db_res_get(counts, 0, 6), NULL, 10),
			 "last_event", ev);
	ev = NULL;
	*out = snap;
out:
	if (rc)
		db_rollback(c);
	json_decref(ev);
	db_res_free(counts);
	db_res_free(last);
	return rc;
}

/* ---- the file list ---- */

static struct {
	const char *root;
	json_t *files;
	int rc;
} walking;

static int hash_file(char out[2 * CRYPTO_SHA256_LEN + 1], uint64_t *out_size, const char *path)
{
	struct crypto_sha256_ctx *ctx = crypto_sha256_new();
	unsigned char block[65536], digest[CRYPTO_SHA256_LEN];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint64_t size = 0;
	ssize_t n = 0;

	if (fd >= 0) {
		while ((n = read(fd, block, sizeof(block))) > 0) {
			crypto_sha256_update(ctx, block, (size_t)n);
			size += (uint64_t)n;
		}
		close(fd);
	}
	crypto_sha256_final(digest, ctx);
	if (fd < 0 || n < 0)
		return err_set(OTCM_EIO, NULL, "cannot read '%s': %s", path, strerror(errno));
	crypto_hex(out, digest, sizeof(digest));
	*out_size = size;
	return 0;
}

static int list_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	const char *rel = path + strlen(walking.root) + 1;
	char hex[2 * CRYPTO_SHA256_LEN + 1];
	uint64_t size;

	(void)ftw;
	if (flag == FTW_D || flag == FTW_DP)
		return 0;
	if (ftw->level == 1 && (!strcmp(rel, BACKUP_MANIFEST) || !strcmp(rel, BACKUP_LOG)))
		return 0;
	if (!S_ISREG(st->st_mode)) {
		walking.rc = err_set(OTCM_ERULE, NULL, "'%s' is not a regular file", rel);
		return 1;
	}
	if ((walking.rc = hash_file(hex, &size, path)))
		return 1;
	json_array_append_new(walking.files, json_pack("{s:s,s:I,s:s}", "path", rel,
						       "size", (json_int_t)size, "sha256", hex));
	return 0;
}

static int by_path(const void *a, const void *b)
{
	const json_t *const *x = a, *const *y = b;

	return strcmp(json_string_value(json_object_get(*x, "path")),
		      json_string_value(json_object_get(*y, "path")));
}

/* Every regular file under root but the manifest and the log, sorted by path. */
static int list_files(json_t **out, const char *root)
{
	json_t *sorted = NULL;
	json_t **items = NULL;
	size_t n;
	int rc = 0;

	walking.root = root;
	walking.files = json_array();
	walking.rc = 0;
	if (nftw(root, list_entry, 16, FTW_PHYS) != 0) {
		rc = walking.rc ? walking.rc
				: err_set(OTCM_EIO, NULL, "cannot read '%s': %s", root, strerror(errno));
		goto out;
	}
	n = json_array_size(walking.files);
	items = xcalloc(n ? n : 1, sizeof(*items));
	for (size_t i = 0; i < n; i++)
		items[i] = json_array_get(walking.files, i);
	qsort(items, n, sizeof(*items), by_path);
	sorted = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append(sorted, items[i]);
	*out = sorted;
out:
	free(items);
	json_decref(walking.files);
	walking.files = NULL;
	return rc;
}

static json_t *walking_dirs;

static int dir_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	if (flag == FTW_D && ftw->level > 0)
		json_array_append_new(walking_dirs, json_string(path + strlen(walking.root) + 1));
	return 0;
}

/* Every folder under root (relative, parents first): empty ones matter to PostgreSQL. */
static json_t *list_dirs(const char *root)
{
	json_t *dirs;

	walking.root = root;
	walking_dirs = json_array();
	nftw(root, dir_entry, 16, FTW_PHYS);
	dirs = walking_dirs;
	walking_dirs = NULL;
	return dirs;
}

/* ---- backup ---- */

static int copy_small(const char *from, const char *to)
{
	char buf[65536];
	FILE *in = fopen(from, "rb"), *out = NULL;
	size_t n;
	int rc = 0, fd;

	if (!in)
		return err_set(OTCM_EIO, NULL, "cannot read '%s': %s", from, strerror(errno));
	fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	out = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (!out) {
		rc = err_set(OTCM_EIO, NULL, "cannot create '%s': %s", to, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n) {
			rc = err_set(OTCM_EIO, NULL, "cannot write '%s': %s", to, strerror(errno));
			break;
		}
out:
	if (out && fclose(out) != 0 && !rc)
		rc = err_set(OTCM_EIO, NULL, "cannot write '%s': %s", to, strerror(errno));
	fclose(in);
	return rc;
}

/* `dir` exists and is empty, or is created; anything else is refused. */
static int empty_folder(const char *dir, const char *field)
{
	DIR *d;
	struct dirent *e;
	int rc = 0;

	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno != EEXIST)
		return err_set(OTCM_EINVAL, field, "cannot create '%s': %s", dir, strerror(errno));
	d = opendir(dir);
	if (!d)
		return err_set(OTCM_EINVAL, field, "'%s' is not a folder we can read", dir);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			rc = err_set(OTCM_EINVAL, field, "'%s' is not empty", dir);
			break;
		}
	closedir(d);
	return rc;
}

static int write_manifest(const char *dir, const json_t *m)
{
	char *path = xasprintf("%s/" BACKUP_MANIFEST, dir);
	char *tmp = xasprintf("%s.tmp", path);
	int rc = 0;

	if (json_dump_file(m, tmp, JSON_INDENT(1) | JSON_SORT_KEYS) != 0 || rename(tmp, path) < 0)
		rc = err_set(OTCM_EIO, NULL, "cannot write '%s'", path);
	free(tmp);
	free(path);
	return rc;
}

/* mkdir -p of the folders above `path`, each 0700. */
static int make_parents(const char *path)
{
	char *p = xstrdup(path);
	int rc = 0;

	for (size_t i = 1; p[i]; i++) {
		if (p[i] != '/')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			rc = err_set(OTCM_EIO, NULL, "cannot create '%s': %s", p, strerror(errno));
			p[i] = '/';
			break;
		}
		p[i] = '/';
	}
	free(p);
	return rc;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 ? -1 : 0;
}

static void remove_tree(const char *path)
{
	if (access(path, F_OK) == 0)
		nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* "aes-256-gcm" key id: the first 8 bytes of SHA-256 of the key, hex. */
static void key_id(char out[17], const unsigned char key[CRYPTO_FILE_KEY_LEN])
{
	unsigned char d[CRYPTO_SHA256_LEN];

	crypto_sha256(d, key, CRYPTO_FILE_KEY_LEN);
	crypto_hex(out, d, 8);
}

/*
 * Each file of `plain` (its list `files`, paths relative to it) encrypted
 * into `to`/<path>.enc, or decrypted from `from`/<path> (ending in .enc)
 * into `to`/<path without .enc>.
 */
static int crypt_tree(const char *from, const char *to, const json_t *files,
		      const unsigned char key[CRYPTO_FILE_KEY_LEN], bool enc)
{
	const json_t *f;
	size_t i;
	int rc = 0;

	json_array_foreach(files, i, f) {
		const char *rel = json_string_value(json_object_get(f, "path"));
		size_t len = strlen(rel);
		char *src = xasprintf("%s/%s", from, rel), *dst;

		if (enc)
			dst = xasprintf("%s/%s.enc", to, rel);
		else if (len > 4 && strcmp(rel + len - 4, ".enc") == 0)
			dst = xasprintf("%s/%.*s", to, (int)(len - 4), rel);
		else
			dst = NULL;
		if (!dst)
			rc = err_set(OTCM_ERULE, NULL, "'%s' in an encrypted backup is not encrypted", rel);
		else if (!(rc = make_parents(dst)))
			rc = enc ? crypto_file_encrypt(src, dst, key) : crypto_file_decrypt(src, dst, key);
		free(src);
		free(dst);
		if (rc)
			break;
	}
	return rc;
}

/*
 * Whether the login role of c may stream a base backup (REPLICATION or
 * superuser), and *out_roles the roles the database's objects name as
 * owners or in their privileges (the dump needs them on restore).
 */
static int dump_facts(bool *out_replicate, json_t **out_roles, struct db_conn *c)
{
	static const char sql[] =
		"SELECT (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user),"
		" (SELECT coalesce(json_agg(r.rolname ORDER BY r.rolname), '[]') FROM pg_roles r"
		"  WHERE r.rolname !~ '^pg_' AND (r.oid IN (SELECT relowner FROM pg_class)"
		"   OR r.oid IN (SELECT (aclexplode(relacl)).grantee FROM pg_class WHERE relacl IS NOT NULL)"
		"   OR r.oid IN (SELECT nspowner FROM pg_namespace)"
		"   OR r.oid IN (SELECT (aclexplode(nspacl)).grantee FROM pg_namespace WHERE nspacl IS NOT NULL)"
		"   OR r.oid IN (SELECT defaclrole FROM pg_default_acl)"
		"   OR r.oid IN (SELECT (aclexplode(defaclacl)).grantee FROM pg_default_acl)"
		"   OR r.oid IN (SELECT proowner FROM pg_proc WHERE pronamespace = 'public'::regnamespace)"
		"   OR r.oid IN (SELECT typowner FROM pg_type WHERE typnamespace = 'public'::regnamespace)))";
	struct db_res *r = NULL;
	json_error_t jerr;
	int rc;

	if ((rc = db_exec(&r, c, sql, 0, NULL, false)))
		return rc;
	*out_replicate = db_res_get(r, 0, 0) && strcmp(db_res_get(r, 0, 0), "t") == 0;
	*out_roles = json_loads(db_res_get(r, 0, 1), 0, &jerr);
	db_res_free(r);
	if (!*out_roles)
		return err_set(OTCM_EDB, NULL, "backup: unreadable role list: %s", jerr.text);
	return 0;
}

int backup_create(json_t **out, const char *to, const char *conninfo, const char *bindir,
		  const char *data_dir, const char *source, const char *method, const unsigned char *key)
{
	char *plain = key ? xasprintf("%s/.plain", to) : xstrdup(to);
	char *tool = xasprintf("%s/pg_basebackup", bindir);
	char *pg = xasprintf("%s/pg", plain), *log = xasprintf("%s/" BACKUP_LOG, to);
	char *server_key = data_dir ? checkpoint_key_path(data_dir) : NULL;
	char *keys = xasprintf("%s/keys", plain), *key_copy = xasprintf("%s/keys/server.key", plain);
	char *dump_tool = xasprintf("%s/pg_dump", bindir), *dump = xasprintf("%s/dump", plain);
	char *argv[] = { tool, "-d", (char *)conninfo, "-D", pg, "-Fp", "-Xstream", "-c", "fast",
			 "--manifest-checksums=SHA256", "--no-password", NULL };
	char *dump_argv[] = { dump_tool, "-d", (char *)conninfo, "-Fd", "-f", dump, "--no-password", NULL };
	struct db_conn *c = NULL;
	json_t *before = NULL, *after = NULL, *files = NULL, *m = NULL, *dirs = NULL, *roles = NULL;
	bool replicate = true;
	char kid[17];
	int rc;

	if (method && strcmp(method, "auto") && strcmp(method, "pg_basebackup") && strcmp(method, "pg_dump")) {
		rc = err_set(OTCM_EINVAL, "method", "--method must be auto, pg_basebackup or pg_dump, not '%.40s'",
			     method);
		goto out;
	}
	if ((rc = empty_folder(to, "to")) || (key && mkdir(plain, 0700) < 0 &&
					      (rc = err_set(OTCM_EIO, NULL, "cannot create '%s': %s",
							    plain, strerror(errno)))) ||
	    (rc = db_connect(&c, conninfo)) || (rc = dump_facts(&replicate, &roles, c)) ||
	    (rc = backup_snapshot(&before, c)))
		goto out;
	if (method && strcmp(method, "auto"))
		replicate = strcmp(method, "pg_basebackup") == 0;
	log_json(LOG_INFO, "backup started", json_pack("{s:s,s:s,s:b,s:s}", "to", to, "source", source,
						       "encrypted", key != NULL, "method",
						       replicate ? "pg_basebackup" : "pg_dump"));
	/* a role that may not replicate gets a logical dump, one consistent snapshot of the database */
	if ((rc = run_tool(log, replicate ? argv : dump_argv)) || (rc = backup_snapshot(&after, c)))
		goto out;
	if (server_key && access(server_key, R_OK) == 0) {
		if (mkdir(keys, 0700) < 0 && errno != EEXIST) {
			rc = err_set(OTCM_EIO, NULL, "cannot create '%s': %s", keys, strerror(errno));
			goto out;
		}
		if ((rc = copy_small(server_key, key_copy)))
			goto out;
	}
	if (key) {
		/* only ciphertext stays: each file sealed on its own, then the clear copy goes */
		json_t *clear = NULL;

		dirs = list_dirs(plain);
		if ((rc = list_files(&clear, plain)))
			goto out;
		rc = crypt_tree(plain, to, clear, key, true);
		json_decref(clear);
		remove_tree(plain);
		if (rc)
			goto out;
	}
	if ((rc = list_files(&files, to)))
		goto out;
	m = json_pack("{s:s,s:s,s:s,s:s,s:s,s:O,s:o}", "format", BACKUP_FORMAT,
		      "method", replicate ? "pg_basebackup" : "pg_dump", "source", source,
		      "started_at", json_string_value(json_object_get(before, "at")),
		      "finished_at", json_string_value(json_object_get(after, "at")),
		      "snapshot", before, "files", files);
	files = NULL;
	if (!replicate)
		json_object_set(m, "roles", roles);
	if (key) {
		key_id(kid, key);
		json_object_set_new(m, "encryption", json_pack("{s:s,s:s,s:o}", "cipher",
							       "aes-256-gcm, 1 MiB chunks (otcm)",
							       "key_id", kid, "dirs", dirs));
		dirs = NULL;
	}
	if ((rc = write_manifest(to, m)))
		goto out;
	log_json(LOG_INFO, "backup finished",
		 json_pack("{s:s,s:I}", "to", to, "files", (json_int_t)json_array_size(json_object_get(m, "files"))));
	if (out) {
		*out = m;
		m = NULL;
	}
out:
	if (key && rc)
		remove_tree(plain);
	json_decref(before);
	json_decref(after);
	json_decref(files);
	json_decref(dirs);
	json_decref(roles);
	json_decref(m);
	db_disconnect(c);
	free(plain);
	free(tool);
	free(dump_tool);
	free(dump);
	free(pg);
	free(log);
	free(server_key);
	free(keys);
	free(key_copy);
	return rc;
}

/* ---- verify ---- */

static int read_manifest(json_t **out, const char *dir)
{
	char *path = xasprintf("%s/" BACKUP_MANIFEST, dir);
	json_error_t jerr;
	json_t *m = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	int rc = 0;

	if (!m) {
		rc = err_set(access(path, F_OK) == 0 ? OTCM_ERULE : OTCM_EINVAL, "from",
			     "'%s': %s", path, jerr.text);
		goto out;
	}
	if (!json_is_object(m) || !json_is_string(json_object_get(m, "format")) ||
	    strcmp(json_string_value(json_object_get(m, "format")), BACKUP_FORMAT) != 0 ||
	    !json_is_array(json_object_get(m, "files")) ||
	    !json_is_object(json_object_get(m, "snapshot"))) {
		rc = err_set(OTCM_ERULE, NULL, "'%s' is not an " BACKUP_FORMAT " manifest", path);
		goto out;
	}
	*out = m;
	m = NULL;
out:
	json_decref(m);
	free(path);
	return rc;
}

/* The files in dir match the manifest's list exactly. */
static int check_files(const char *dir, const json_t *want)
{
	json_t *have = NULL;
	size_t i, j, nw = json_array_size(want), nh;
	int rc;

	if ((rc = list_files(&have, dir)))
		goto out;
	nh = json_array_size(have);
	for (i = 0, j = 0; i < nw || j < nh;) {
		const json_t *w = json_array_get(want, i), *h = json_array_get(have, j);
		const char *wp = w ? json_string_value(json_object_get(w, "path")) : NULL;
		const char *hp = h ? json_string_value(json_object_get(h, "path")) : NULL;
		int cmp = !wp ? 1 : !hp ? -1 : strcmp(wp, hp);

		if (!wp && w) {
			rc = err_set(OTCM_ERULE, NULL, "file %zu of the manifest has no path", i);
			goto out;
		}
		if (cmp < 0) {
			rc = err_set(OTCM_ERULE, NULL, "'%s' is missing", wp);
			goto out;
		}
		if (cmp > 0) {
			rc = err_set(OTCM_ERULE, NULL, "'%s' is not in the manifest", hp);
			goto out;
		}
		if (!json_equal(json_object_get(w, "sha256"), json_object_get(h, "sha256")) ||
		    !json_equal(json_object_get(w, "size"), json_object_get(h, "size"))) {
			rc = err_set(OTCM_ERULE, NULL, "'%s' does not match its SHA-256 in the manifest", wp);
			goto out;
		}
		i++;
		j++;
	}
out:
	json_decref(have);
	return rc;
}

/* Whether manifest m is of a logical dump (pg_dump -Fd in dump/) rather than a base backup. */
static bool is_dump(const json_t *m)
{
	const char *method = json_string_value(json_object_get(m, "method"));

	return method && strcmp(method, "pg_dump") == 0;
}

/*
 * Verify the backup in dir and give the folder holding it in clear:
 * *out_plain is dir itself, or for an encrypted backup (and a key) a new
 * temporary folder with every file decrypted, which the caller removes
 * (remove_tree) and frees.  Without a key an encrypted backup gets our
 * checks only, and *out_plain is NULL.
 */
static int verify_open(json_t **out_m, char **out_plain, const char *dir, const char *bindir,
		       const unsigned char *key)
{
	char *tool = xasprintf("%s/pg_verifybackup", bindir), *pg = NULL, *log = NULL;
	char *plain = NULL, kid[17];
	const char *tmp = getenv("TMPDIR");
	const json_t *enc = NULL, *d;
	json_t *m = NULL;
	struct stat st;
	bool dump;
	size_t i;
	int rc;

	*out_plain = NULL;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		rc = err_set(OTCM_EINVAL, "from", "'%s' is not a folder", dir);
		goto out;
	}
	if ((rc = read_manifest(&m, dir)) || (rc = check_files(dir, json_object_get(m, "files"))))
		goto out;
	enc = json_object_get(m, "encryption");
	if (enc && !key)
		goto done;    /* the caller says pg_verifybackup needs the key */
	if (enc) {
		key_id(kid, key);
		if (!json_is_string(json_object_get(enc, "key_id")) ||
		    strcmp(json_string_value(json_object_get(enc, "key_id")), kid) != 0) {
			rc = err_set(OTCM_EINVAL, "key", "the key (id %s) is not the one this backup was "
				     "encrypted with (id %s)", kid,
				     json_string_value(json_object_get(enc, "key_id")) ?
				     json_string_value(json_object_get(enc, "key_id")) : "none");
			goto out;
		}
		plain = xasprintf("%s/otcm-restore.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(plain)) {
			rc = err_set(OTCM_EIO, NULL, "cannot create a temporary folder: %s", strerror(errno));
			free(plain);
			plain = NULL;
			goto out;
		}
		/* the folders first: PostgreSQL needs its empty ones (pg_wal/archive_status, ...) */
		json_array_foreach(json_object_get(enc, "dirs"), i, d) {
			char *path = xasprintf("%s/%s", plain, json_string_value(d) ? json_string_value(d) : "");
			bool bad = !json_string_value(d) || strstr(json_string_value(d), "..") ||
				   (mkdir(path, 0700) < 0 && errno != EEXIST);

			free(path);
			if (bad) {
				rc = err_set(OTCM_ERULE, NULL, "the manifest's folder %zu is unusable", i);
				goto out;
			}
		}
		if ((rc = crypt_tree(dir, plain, json_object_get(m, "files"), key, false))) {
			if (rc == OTCM_EAUTH)
				rc = err_set(OTCM_ERULE, NULL, "%s", err_message());
			goto out;
		}
	} else {
		plain = xstrdup(dir);
	}
	dump = is_dump(m);
	pg = xasprintf(dump ? "%s/dump" : "%s/pg", plain);
	{
		/* a dump's own check: pg_restore reads its table of contents (our SHA-256 cover the data) */
		char *restore = xasprintf("%s/pg_restore", bindir);
		char *argv[] = { tool, "--quiet", pg, NULL }, *dump_argv[] = { restore, "--list", pg, NULL };

		/* the tool's output goes beside the caller's temporary files, not into the backup */
		log = xasprintf("%s/otcm-verifybackup.%ld.log", tmp && *tmp ? tmp : "/tmp", (long)getpid());
		rc = run_tool(log, dump ? dump_argv : argv);
		free(restore);
	}
	if (rc) {
		char *why = xstrdup(err_message());

		rc = err_set(OTCM_ERULE, NULL, "%s: %s", dump ? "pg_restore --list" : "pg_verifybackup", why);
		free(why);
		goto out;
	}
	unlink(log);
done:
	*out_m = m;
	m = NULL;
	*out_plain = plain;
	plain = NULL;
out:
	if (rc == OTCM_ERULE)
		err_set_rule(BACKUP_RULE);
	if (plain && enc)
		remove_tree(plain);
	free(plain);
	json_decref(m);
	free(tool);
	free(pg);
	free(log);
	return rc;
}

int backup_verify(json_t **out, bool *out_full, const char *dir, const char *bindir,
		  const unsigned char *key)
{
	json_t *m = NULL;
	char *plain = NULL;
	int rc;

	if ((rc = verify_open(&m, &plain, dir, bindir, key)))
		return rc;
	*out_full = plain != NULL;
	if (plain && strcmp(plain, dir) != 0)
		remove_tree(plain);
	free(plain);
	if (out)
		*out = m;
	else
		json_decref(m);
	return 0;
}

/* ---- restore ---- */

/*
 * A new private cluster under data_dir (which must have none) holding the
 * dump in `dump`: the roles the dump names created (NOLOGIN) where
 * missing, so owners and privileges come back as they were, then
 * pg_restore in one transaction that stops at the first error.
 */
static int restore_dump(const char *data_dir, const char *dump, const char *bindir, const json_t *roles)
{
	static const char sql_role[] =
		"SELECT format('CREATE ROLE %I NOLOGIN', $1::text) WHERE NOT EXISTS "
		"(SELECT 1 FROM pg_roles WHERE rolname = $1::text)";
	char *pg_dir = NULL, *tool = xasprintf("%s/pg_restore", bindir), *log = NULL;
	struct cluster *cl = NULL;
	struct db_conn *c = NULL;
	struct db_res *r = NULL;
	const json_t *role;
	struct stat st;
	size_t i;
	int rc;

	if (mkdir(data_dir, 0700) < 0 && errno != EEXIST) {
		rc = err_set(OTCM_EIO, "data", "cannot create '%s': %s", data_dir, strerror(errno));
		goto out;
	}
	if ((rc = cluster_paths(&pg_dir, NULL, data_dir)))
		goto out;
	if (stat(pg_dir, &st) == 0) {
		rc = err_set(OTCM_ECONFLICT, "data", "'%s' already holds a cluster", data_dir);
		goto out;
	}
	if ((rc = cluster_start(&cl, data_dir, bindir)) || (rc = db_connect(&c, cluster_conninfo(cl))))
		goto out;
	json_array_foreach(roles, i, role) {
		const char *name = json_string_value(role);

		if (!name) {
			rc = err_set(OTCM_ERULE, NULL, "the manifest's role %zu is not a name", i);
			goto out;
		}
		if ((rc = db_execv(&r, c, sql_role, 1, (const char *[]){ name })))
			goto out;
		if (db_res_rows(r) == 1 && (rc = db_exec(NULL, c, db_res_get(r, 0, 0), 0, NULL, false)))
			goto out;
		db_res_free(r);
		r = NULL;
	}
	db_disconnect(c);
	c = NULL;
	log = xasprintf("%s/restore.log", cluster_data_dir(cl));
	{
		char *argv[] = { tool, "-d", (char *)cluster_conninfo(cl), "--exit-on-error", "--single-transaction",
				 "--no-password", (char *)dump, NULL };

		rc = run_tool(log, argv);
	}
	if (rc == 0)
		rc = cluster_stop(cl);
out:
	db_res_free(r);
	db_disconnect(c);
	cluster_free(cl);
	free(pg_dir);
	free(tool);
	free(log);
	return rc;
}

int backup_restore(json_t **out, const char *from, const char *data_dir, const char *bindir,
		   const unsigned char *key)
{
	char *plain = NULL, *pg = NULL, *server_key = NULL, *to_key = NULL, *to_keys = NULL;
	json_t *m = NULL;
	int rc;

	if ((rc = verify_open(&m, &plain, from, bindir, key)))
		goto out;
	if (!plain) {
		rc = err_set(OTCM_EINVAL, "key", "'%s' is encrypted: give its key file", from);
		goto out;
	}
	pg = xasprintf(is_dump(m) ? "%s/dump" : "%s/pg", plain);
	server_key = xasprintf("%s/keys/server.key", plain);
	if ((rc = is_dump(m) ? restore_dump(data_dir, pg, bindir, json_object_get(m, "roles")) :
		  cluster_install(data_dir, pg)))
		goto out;
	if (access(server_key, R_OK) == 0) {
		to_key = checkpoint_key_path(data_dir);
		to_keys = xstrdup(to_key);
		*strrchr(to_keys, '/') = '\0';
		if (mkdir(to_keys, 0700) < 0 && errno != EEXIST) {
			rc = err_set(OTCM_EIO, NULL, "cannot create '%s': %s", to_keys, strerror(errno));
			goto out;
		}
		if ((rc = copy_small(server_key, to_key)))
			goto out;
	}
	if (out) {
		*out = m;
		m = NULL;
	}
out:
	if (plain && strcmp(plain, from) != 0)
		remove_tree(plain);
	json_decref(m);
	free(plain);
	free(pg);
	free(server_key);
	free(to_key);
	free(to_keys);
	return rc;
}

/* ---- what a restore holds ---- */

int backup_probe_events(char **out_hash, int64_t *out_rpo_ms, struct db_conn *c, int64_t seq,
			const char *finished_at)
{
	static const char sql[] =
		"SELECT (SELECT encode(hash, 'hex') FROM audit_events WHERE seq = $1::bigint),"
		" (SELECT greatest(0, floor(extract(epoch FROM ($2::timestamptz - max(at))) * 1000))::bigint"
		"  FROM audit_events)";
	char seq_text[24];
	const char *v[2] = { seq_text, finished_at };
	struct db_res *res = NULL;
	int rc;

	snprintf(seq_text, sizeof(seq_text), "%" PRId64, seq);
	if ((rc = db_execv(&res, c, sql, 2, v)))
		goto out;
	*out_hash = db_res_isnull(res, 0, 0) || seq <= 0 ? NULL : xstrdup(db_res_get(res, 0, 0));
	*out_rpo_ms = db_res_isnull(res, 0, 1) ? -1 : strtoll(db_res_get(res, 0, 1), NULL, 10);
out:
	db_res_free(res);
	return rc;
}

/* ---- git objects ---- */

static const char *const git_type_names[] = { NULL, "commit", "tree", "blob", "tag" };

int backup_git_rehash(uint64_t *out_checked, uint64_t *out_bad, char out_first_bad[41],
		      struct db_conn *c)
{
	static const char sql_batch[] =
		"SELECT oid, type::text, data FROM git_objects WHERE oid > $1 ORDER BY oid LIMIT "
		REHASH_BATCH;
	unsigned char last[20] = { 0 }, id[20];
	struct db_res *res = NULL;
	uint64_t checked = 0, bad = 0;
	int rc = 0;

	out_first_bad[0] = '\0';
	for (;;) {
		struct db_param p[1] = { DB_BYTES(last, sizeof(last)) };
		size_t rows;

		db_res_free(res);
		res = NULL;
		if ((rc = db_exec(&res, c, sql_batch, 1, p, true)))
			goto out;
		rows = db_res_rows(res);
		if (rows == 0)
			break;
		for (size_t i = 0; i < rows; i++) {
			const char *oid = db_res_get(res, i, 0);
			long type = strtol(db_res_get(res, i, 1), NULL, 10);
			size_t len = db_res_len(res, i, 2);
			char head[64];
			int hlen;

			hlen = snprintf(head, sizeof(head), "%s %zu",
					type >= 1 && type <= 4 ? git_type_names[type] : "?", len);
			crypto_sha1(id, head, (size_t)hlen + 1, db_res_get(res, i, 2), len);
			checked++;
			if (db_res_len(res, i, 0) != 20 || memcmp(id, oid, 20) != 0) {
				if (!bad)
					crypto_hex(out_first_bad, oid, 20);
				bad++;
			}
			if (i + 1 == rows)
				memcpy(last, oid, 20);
		}
	}
	*out_checked = checked;
	*out_bad = bad;
out:
	db_res_free(res);
	return rc;
}
