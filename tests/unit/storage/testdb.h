/*
 * tests/unit/storage/testdb.h - a fresh database for one test binary.
 *
 * The test runner exports OTCM_TEST_DATABASE_URL (a throwaway cluster's
 * maintenance database); without it the binary starts its own cluster with
 * cluster_start() in a temporary folder, so it also runs standalone.  Either
 * way testdb_setup() creates a database with a random name and
 * testdb_teardown() drops it, so test binaries never see each other's rows.
 */
#ifndef OTCM_TESTS_STORAGE_TESTDB_H
#define OTCM_TESTS_STORAGE_TESTDB_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/mem.h"
#include "core/crypto.h"
#include "storage/cluster.h"
#include "storage/db.h"

struct testdb {
	struct cluster *cluster;  /* when we started our own */
	char *tmpdir;
	char *admin;              /* conninfo of the maintenance database */
	char *conninfo;           /* conninfo of the fresh database */
	char name[40];
};

static inline int testdb_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* conninfo (key=value or URL) with its database replaced by `db`. */
static inline char *testdb_with_db(const char *conninfo, const char *db)
{
	if (!strncmp(conninfo, "postgres://", 11) || !strncmp(conninfo, "postgresql://", 13))
		return xasprintf("%s%sdbname=%s", conninfo, strchr(conninfo, '?') ? "&" : "?", db);
	return xasprintf("%s dbname=%s", conninfo, db);
}

static inline int testdb_setup(struct testdb *t)
{
	const char *url = getenv("OTCM_TEST_DATABASE_URL");
	struct db_conn *c = NULL;
	unsigned char rnd[6];
	char *sql = NULL;
	int rc;

	memset(t, 0, sizeof(*t));
	if (url && *url) {
		t->admin = xstrdup(url);
	} else {
		const char *tmp = getenv("TMPDIR");

		t->tmpdir = xasprintf("%s/otcm-test.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(t->tmpdir)) {
			fprintf(stderr, "cannot create '%s'\n", t->tmpdir);
			return -1;
		}
		if ((rc = cluster_start(&t->cluster, t->tmpdir, NULL))) {
			fprintf(stderr, "cannot start a cluster: %s\n", err_message());
			return -1;
		}
		t->admin = testdb_with_db(cluster_conninfo(t->cluster), "postgres");
	}
	crypto_random(rnd, sizeof(rnd));
	snprintf(t->name, sizeof(t->name), "otcm_test_%02x%02x%02x%02x%02x%02x",
		 rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
	t->conninfo = testdb_with_db(t->admin, t->name);
	sql = xasprintf("CREATE DATABASE %s", t->name);
	rc = db_connect(&c, t->admin);
	if (!rc)
		rc = db_exec(NULL, c, sql, 0, NULL, false);
	if (rc)
		fprintf(stderr, "cannot create database '%s': %s\n", t->name, err_message());
	db_disconnect(c);
	free(sql);
	return rc ? -1 : 0;
}

static inline void testdb_teardown(struct testdb *t)
{
	struct db_conn *c = NULL;
	char *sql = xasprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", t->name);

	if (t->name[0] && db_connect(&c, t->admin) == 0)
		db_exec(NULL, c, sql, 0, NULL, false);
	db_disconnect(c);
	free(sql);
	cluster_free(t->cluster);
	if (t->tmpdir)
		nftw(t->tmpdir, testdb_rm, 16, FTW_DEPTH | FTW_PHYS);
	free(t->tmpdir);
	free(t->admin);
	free(t->conninfo);
	memset(t, 0, sizeof(*t));
}

/*
 * testdb_setup(), then every migration compiled into otcm applied to the
 * fresh database: what a test of the record stores starts from.  0, or -1
 * with the reason on stderr (a cmocka group setup's answer).
 */
static inline int testdb_setup_migrated(struct testdb *t)
{
	struct db_conn *c = NULL;
	int rc;

	if (testdb_setup(t))
		return -1;
	rc = db_connect(&c, t->conninfo);
	if (!rc)
		rc = db_migrate(c, db_schema, db_schema_count, NULL);
	if (rc)
		fprintf(stderr, "cannot migrate: %s\n", err_message());
	db_disconnect(c);
	return rc ? -1 : 0;
}

#endif
