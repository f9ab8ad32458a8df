/*
 * server/cmd_backup.c - `otcm backup`, `otcm backup verify`, `otcm restore`
 * and `otcm drill`: the command-line door to storage/backup.h and
 * domain/drills.h (docs/operations.md).
 *
 *   otcm backup --to DIR [--key FILE] [--data D | --database URL] [--pg-bindir B]
 *               [--method auto|pg_basebackup|pg_dump]
 *   otcm backup verify DIR [--key FILE] [--pg-bindir B]
 *   otcm restore --from DIR --data NEWDIR [--key FILE] [--pg-bindir B]
 *   otcm drill --from DIR [--key FILE] [--data D | --database URL] [--pg-bindir B]
 *              [--as ADMIN] [--scratch S] [--keep]
 *
 * --key names a file of 64 hex digits (openssl rand -hex 32, mode 0600):
 * the backup is stored encrypted with it, and reading one needs it.
 *
 * The drill restores into a scratch folder, starts a throwaway cluster on
 * it, measures and checks it, and records the signed result in the live
 * database (the private cluster of --data, or --database) as the
 * administrator --as (default "admin"), through the domain like any door.
 */
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "domain/drills.h"
#include "server/cmd.h"
#include "storage/audit.h"
#include "storage/backup.h"
#include "storage/checkpoint.h"
#include "storage/cluster.h"
#include "storage/db.h"
#include "storage/users.h"

struct backup_args {
	const char *to, *from, *as, *scratch, *key_path, *method;
	bool keep;
	const char *verify_dir;
	unsigned char key[CRYPTO_FILE_KEY_LEN];
	const unsigned char *key_or_null;   /* key, once loaded from key_path */
};

static void usage(void)
{
	fprintf(stderr,
		"usage: otcm backup --to DIR [--key FILE] [--data D | --database URL] [--pg-bindir B]\n"
		"                   [--method auto|pg_basebackup|pg_dump]\n"
		"       otcm backup verify DIR [--key FILE] [--pg-bindir B]\n"
		"       otcm restore --from DIR --data NEWDIR [--key FILE] [--pg-bindir B]\n"
		"       otcm drill --from DIR [--key FILE] [--data D | --database URL] [--pg-bindir B]\n"
		"                  [--as ADMIN] [--scratch DIR] [--keep]\n"
		"An online backup (pg_basebackup; pg_dump -Fd of a --database whose role may not\n"
		"replicate) with a manifest of every file's SHA-256;\n"
		"its verification; its restore into a new data folder; and a restore drill\n"
		"that checks a restore and records the signed result (docs/operations.md).\n"
		"--key FILE (64 hex digits, mode 0600) encrypts a backup, and reads one.\n");
}

/* Parse argv (after the subcommand) into *a and the overrides of *cfg; 2 on misuse. */
static int parse(struct backup_args *a, struct config *cfg, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *opt = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(opt, "--keep") == 0) {
			a->keep = true;
			continue;
		}
		if (!v || strncmp(opt, "--", 2) != 0) {
			fprintf(stderr, "otcm: unexpected argument '%s'\n", opt);
			return 2;
		}
		if (strcmp(opt, "--to") == 0)
			a->to = v;
		else if (strcmp(opt, "--from") == 0)
			a->from = v;
		else if (strcmp(opt, "--as") == 0)
			a->as = v;
		else if (strcmp(opt, "--scratch") == 0)
			a->scratch = v;
		else if (strcmp(opt, "--key") == 0)
			a->key_path = v;
		else if (strcmp(opt, "--method") == 0)
			a->method = v;
		else if (strcmp(opt, "--data") == 0)
			cfg->data = (char *)v;
		else if (strcmp(opt, "--database") == 0)
			cfg->database = (char *)v;
		else if (strcmp(opt, "--pg-bindir") == 0)
			cfg->pg_bindir = (char *)v;
		else {
			fprintf(stderr, "otcm: unknown option '%s'\n", opt);
			return 2;
		}
		i++;
	}
	return 0;
}

/*
 * The live database: cfg->database, the private cluster a running server
 * owns, or the private cluster started here (*out_cluster, stop it after).
 */
static int open_live(struct cluster **out_cluster, char **out_conninfo, const struct config *cfg)
{
	int rc;

	*out_cluster = NULL;
	if (cfg->database) {
		*out_conninfo = xstrdup(cfg->database);
		return 0;
	}
	rc = cluster_start(out_cluster, cfg->data, cfg->pg_bindir);
	if (rc == OTCM_ECONFLICT)
		return cluster_running_conninfo(out_conninfo, cfg->data);
	if (rc)
		return rc;
	*out_conninfo = xstrdup(cluster_conninfo(*out_cluster));
	return 0;
}

static int run_backup(const struct config *cfg, const struct backup_args *a)
{
	struct cluster *cl = NULL;
	char *conninfo = NULL, *bindir = NULL;
	json_t *m = NULL;
	int rc;

	if (!a->to) {
		usage();
		return 2;
	}
	if ((rc = cluster_bindir(&bindir, cfg->pg_bindir)) || (rc = open_live(&cl, &conninfo, cfg)) ||
	    (rc = backup_create(&m, a->to, conninfo, bindir, cfg->data,
				cfg->database ? "database" : "private cluster", a->method, a->key_or_null)))
		goto out;
	printf("backup written to %s: %zu files%s, finished at %s\n", a->to,
	       json_array_size(json_object_get(m, "files")), a->key_or_null ? ", encrypted" : "",
	       json_string_value(json_object_get(m, "finished_at")));
out:
	json_decref(m);
	cluster_free(cl);
	free(conninfo);
	free(bindir);
	return rc;
}

static int run_verify(const struct config *cfg, const struct backup_args *a)
{
	char *bindir = NULL;
	json_t *m = NULL;
	bool full = false;
	int rc;

	if ((rc = cluster_bindir(&bindir, cfg->pg_bindir)) ||
	    (rc = backup_verify(&m, &full, a->verify_dir, bindir, a->key_or_null)))
		goto out;
	if (full)
		printf("ok: %s verifies (pg_verifybackup and %zu files against their SHA-256)\n",
		       a->verify_dir, json_array_size(json_object_get(m, "files")));
	else
		printf("ok: %s: %zu encrypted files match their SHA-256; pg_verifybackup needs the "
		       "key (--key FILE) to check what they hold\n", a->verify_dir,
		       json_array_size(json_object_get(m, "files")));
out:
	json_decref(m);
	free(bindir);
	return rc;
}

static int run_restore(const struct config *cfg, const struct backup_args *a, bool data_given)
{
	char *bindir = NULL;
	json_t *m = NULL;
	int rc;

	if (!a->from || !data_given) {
		usage();
		return 2;
	}
	if ((rc = cluster_bindir(&bindir, cfg->pg_bindir)) ||
	    (rc = backup_restore(&m, a->from, cfg->data, bindir, a->key_or_null)))
		goto out;
	printf("restored %s (finished at %s) into %s; start it with: otcm serve --data %s\n", a->from,
	       json_string_value(json_object_get(m, "finished_at")), cfg->data, cfg->data);
out:
	json_decref(m);
	free(bindir);
	return rc;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 ? -1 : 0;
}

/* Remove a scratch data folder and, when the cluster was relocated, its home. */
static void remove_scratch(const char *data)
{
	char *pg = NULL;

	/* cleanup must not replace the error being reported: touch only what exists */
	if (access(data, F_OK) != 0)
		return;
	if (cluster_paths(&pg, NULL, data) == 0 && strncmp(pg, data, strlen(data)) != 0) {
		*strrchr(pg, '/') = '\0';
		nftw(pg, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
	free(pg);
	nftw(data, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Restore into scratch, serve it, and measure; fills *p (strings owned by the caller). */
static int probe_restore(json_t **out_manifest, json_t **out_restored, struct drill_probe *p,
			 char **out_hash, struct audit_chain *chain, struct checkpoint_check *ck,
			 const char *from, const char *data, const char *bindir,
			 const unsigned char *backup_key)
{
	int64_t started = mono_ms();
	struct cluster *cl = NULL;
	struct db_conn *c = NULL;
	struct crypto_ed25519_key *key = NULL;
	unsigned char pub[CRYPTO_ED25519_PUB_LEN];
	const json_t *last;
	char first_bad[41];
	int rc;

	if ((rc = backup_restore(out_manifest, from, data, bindir, backup_key)) ||
	    (rc = cluster_start(&cl, data, bindir)) ||
	    (rc = db_connect(&c, cluster_conninfo(cl))) ||
	    (rc = db_migrate(c, db_schema, db_schema_count, NULL)))
		goto out;
	p->recovery_time_ms = mono_ms() - started;

	if ((rc = backup_snapshot(out_restored, c)))
		goto out;
	p->restored = *out_restored;
	if ((rc = db_begin_snapshot(c, true)) ||
	    (rc = audit_verify_chain(chain, c)))
		goto out;
	p->chain_ok = chain->bad_seq == 0;
	p->events_chained = chain->verified;
	p->chain_problem = chain->bad_seq ? chain->problem : NULL;
	rc = checkpoint_key_open(&key, NULL, data, false);
	if (rc == 0) {
		crypto_ed25519_public(pub, key);
		p->have_key = true;
		if ((rc = checkpoint_verify_all(ck, c, chain, pub)))
			goto out;
		p->checkpoints_ok = ck->bad_size == 0;
		p->checkpoints_checked = ck->checked;
		p->checkpoint_problem = ck->bad_size ? ck->problem : NULL;
	} else if (rc != OTCM_ENOTFOUND) {
		goto out;
	}
	if ((rc = db_commit(c)))
		goto out;

	if ((rc = backup_git_rehash(&p->git_checked, &p->git_bad, first_bad, c)))
		goto out;
	p->git_first_bad = p->git_bad ? xstrdup(first_bad) : NULL;

	last = json_object_get(json_object_get(*out_manifest, "snapshot"), "last_event");
	if ((rc = backup_probe_events(out_hash, &p->recovery_point_ms, c,
				      json_integer_value(json_object_get(last, "seq")),
				      json_string_value(json_object_get(*out_manifest, "finished_at")))))
		goto out;
	p->hash_at_last_seq = *out_hash;
	rc = cluster_stop(cl);
out:
	crypto_ed25519_free(key);
	db_disconnect(c);
	cluster_free(cl);
	return rc;
}

/* Record `record` in the live database as administrator `as`, signed with the live key. */
static int record_drill(json_t **out, const struct config *cfg, const json_t *record, const char *as)
{
	struct cluster *cl = NULL;
	struct db_pool *pool = NULL;
	struct db_conn *c = NULL;
	struct crypto_ed25519_key *key = NULL;
	struct arena *arena = arena_new();
	struct user u = { 0 };
	struct actor who = { 0 };
	struct dom d = { 0 };
	char *conninfo = NULL;
	int rc;

	if ((rc = open_live(&cl, &conninfo, cfg)) || (rc = db_pool_new(&pool, conninfo, 1)) ||
	    (rc = checkpoint_key_open(&key, NULL, cfg->data, false)))
		goto out;
	if ((rc = db_acquire(&c, pool)))
		goto out;
	rc = users_by_name(&u, arena, c, as, false);
	db_release(c);
	if (rc == OTCM_ENOTFOUND)
		rc = err_set(OTCM_EINVAL, "as", "no user '%s' to record the drill as", as);
	if (rc)
		goto out;
	who.user_id = u.id;
	who.username = u.username;
	who.display_name = u.display_name;
	who.role = u.disabled ? 0 : role_from_name(u.role);
	who.auth = "cli";
	who.door = DOOR_CLI;
	d.who = &who;
	d.arena = arena;
	d.db = pool;
	d.cfg = cfg;
	d.key = key;
	rc = dom_drill_record(out, &d, record);
out:
	crypto_ed25519_free(key);
	db_pool_free(pool);
	cluster_free(cl);
	arena_free(arena);
	free(conninfo);
	return rc;
}

static int run_drill(const struct config *cfg, const struct backup_args *a)
{
	struct drill_probe p = { 0 };
	struct audit_chain chain = { 0 };
	struct checkpoint_check ck = { 0 };
	json_t *manifest = NULL, *restored = NULL, *record = NULL, *saved = NULL;
	char *bindir = NULL, *scratch = NULL, *data = NULL, *hash = NULL, *text = NULL;
	char *problem = NULL;
	int rc;

	if (!a->from) {
		usage();
		return 2;
	}
	p.recovery_point_ms = -1;
	if (a->scratch) {
		scratch = xstrdup(a->scratch);
		if (mkdir(scratch, 0755) < 0 && errno != EEXIST) {
			rc = err_set(OTCM_EINVAL, "scratch", "cannot create '%s': %s", scratch, strerror(errno));
			goto out;
		}
	} else {
		const char *tmp = getenv("TMPDIR");

		scratch = xasprintf("%s/otcm-drill.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(scratch)) {
			rc = err_set(OTCM_EIO, NULL, "cannot create a scratch folder: %s", strerror(errno));
			goto out;
		}
	}
	data = xasprintf("%s/data", scratch);
	if ((rc = cluster_bindir(&bindir, cfg->pg_bindir)))
		goto out;
	rc = probe_restore(&manifest, &restored, &p, &hash, &chain, &ck, a->from, data, bindir,
			   a->key_or_null);
	if (rc && !manifest)
		goto out;     /* not even a backup: nothing to record */
	if (rc) {
		/* restored but could not be measured: a failed drill, recorded as such */
		problem = xstrdup(err_message());
		p.chain_problem = problem;
		log_json(LOG_WARN, "the restore drill could not finish its checks",
			 json_pack("{s:s}", "error", err_message()));
	}
	if ((rc = dom_drill_assess(&record, manifest, &p)) ||
	    (rc = record_drill(&saved, cfg, record, a->as ? a->as : "admin")))
		goto out;
	text = json_dumps(record, JSON_INDENT(2) | JSON_SORT_KEYS);
	printf("%s\n", text ? text : "");
	printf("drill %s recorded as #%" JSON_INTEGER_FORMAT ": %s, recovery time %" PRId64 " ms\n",
	       json_is_true(json_object_get(record, "ok")) ? "passed" : "FAILED",
	       json_integer_value(json_object_get(saved, "id")),
	       json_is_true(json_object_get(record, "ok")) ? "every check passed" : "see the checks above",
	       p.recovery_time_ms);
	if (!json_is_true(json_object_get(record, "ok")))
		rc = err_set(OTCM_ERULE, NULL, "the restore drill failed");
out:
	if (scratch && !a->keep) {
		if (data)
			remove_scratch(data);
		rmdir(scratch);
	}
	audit_chain_release(&chain);
	free((char *)p.git_first_bad);
	json_decref(manifest);
	json_decref(restored);
	json_decref(record);
	json_decref(saved);
	free(text);
	free(hash);
	free(problem);
	free(data);
	free(scratch);
	free(bindir);
	return rc;
}

int cmd_backup(const struct config *cfg, const char *name, int argc, char **argv)
{
	struct config local = *cfg;    /* shallow: overrides below are borrowed from argv */
	struct backup_args a = { 0 };
	bool data_given;
	int rc;

	if (strcmp(name, "backup") == 0 && argc >= 1 && strcmp(argv[0], "verify") == 0) {
		if (argc < 2 || argv[1][0] == '-') {
			usage();
			return 2;
		}
		a.verify_dir = argv[1];
		argc -= 2;
		argv += 2;
	}
	local.data = NULL;
	if (parse(&a, &local, argc, argv)) {
		usage();
		return 2;
	}
	data_given = local.data != NULL;
	if (!local.data)
		local.data = cfg->data;
	if (a.key_path) {
		rc = crypto_file_key_load(a.key, a.key_path);
		if (rc) {
			fprintf(stderr, "otcm: %s\n", err_message());
			return 1;
		}
		a.key_or_null = a.key;
	}
	if (a.verify_dir)
		rc = run_verify(&local, &a);
	else if (strcmp(name, "backup") == 0)
		rc = run_backup(&local, &a);
	else if (strcmp(name, "restore") == 0)
		rc = run_restore(&local, &a, data_given);
	else
		rc = run_drill(&local, &a);
	memset(a.key, 0, sizeof(a.key));
	if (rc == 2)
		return 2;
	if (rc) {
		if (err_rule())
			fprintf(stderr, "otcm: %s (rule %s)\n", err_message(), err_rule());
		else
			fprintf(stderr, "otcm: %s\n", err_message());
		return 1;
	}
	return 0;
}
