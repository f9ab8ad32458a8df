/*
 * tests/unit/storage/test_cluster.c - the private cluster: create, restart,
 * one owner per folder, and starting again after the owner was killed.
 * Always starts its own clusters (it tests cluster_start itself).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "core/err.h"
#include "core/log.h"
#include "storage/cluster.h"
#include "storage/db.h"
#include "testdb.h"

static char *tmpdir;

static int group_setup(void **state)
{
	const char *tmp = getenv("TMPDIR");

	(void)state;
	log_set_level(LOG_WARN);
	tmpdir = xasprintf("%s/otcm-cluster.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tmpdir))
		return -1;
	/* The clusters live one level down: the server's account must get through. */
	return chmod(tmpdir, 0711);
}

static int group_teardown(void **state)
{
	(void)state;
	nftw(tmpdir, testdb_rm, 16, FTW_DEPTH | FTW_PHYS);
	free(tmpdir);
	return 0;
}

/* Connect to the cluster's otcm database and check it is ours. */
static void assert_usable(const struct cluster *c)
{
	struct db_conn *conn = NULL;
	struct db_res *r = NULL;

	assert_int_equal(db_connect(&conn, cluster_conninfo(c)), 0);
	assert_int_equal(db_exec(&r, conn, "SELECT current_database(), current_user,"
				 " current_setting('listen_addresses')", 0, NULL, false), 0);
	assert_string_equal(db_res_get(r, 0, 0), "otcm");
	assert_string_equal(db_res_get(r, 0, 1), "otcm");
	assert_string_equal(db_res_get(r, 0, 2), "");
	db_res_free(r);
	db_disconnect(conn);
}

static void test_create_stop_restart(void **state)
{
	char *dir = xasprintf("%s/a", tmpdir), *run = xasprintf("%s/a/run", tmpdir);
	struct cluster *c = NULL, *other = NULL;
	struct db_conn *conn = NULL;
	struct stat st;

	(void)state;
	if (cluster_start(&c, dir, NULL))
		fail_msg("cannot start: %s", err_message());
	assert_usable(c);
	assert_string_equal(cluster_data_dir(c), dir);
	assert_int_equal(stat(run, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	/* One owner per folder. */
	assert_int_equal(cluster_start(&other, dir, NULL), OTCM_ECONFLICT);
	assert_null(other);

	assert_int_equal(cluster_stop(c), 0);
	assert_int_equal(cluster_stop(c), 0);
	assert_int_equal(db_connect(&conn, cluster_conninfo(c)), OTCM_EUNAVAIL);
	cluster_free(c);

	/* Second start reuses the cluster. */
	c = NULL;
	assert_int_equal(cluster_start(&c, dir, NULL), 0);
	assert_usable(c);
	cluster_free(c);     /* stops it */
	free(dir);
	free(run);
}

static void test_start_after_owner_killed(void **state)
{
	char *dir = xasprintf("%s/b", tmpdir);
	struct cluster *c = NULL;
	int fds[2], status;
	char ok = 0;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		if (cluster_start(&c, dir, NULL) == 0 && write(fds[1], "y", 1) == 1)
			for (;;)
				pause();
		_exit(1);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &ok, 1), 1);
	close(fds[0]);
	assert_int_equal(ok, 'y');
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);

	assert_int_equal(cluster_start(&c, dir, NULL), 0);
	assert_usable(c);
	cluster_free(c);
	free(dir);
}

static void test_refuses_long_paths(void **state)
{
	char *dir = xasprintf("%s/%0100d", tmpdir, 0);
	struct cluster *c = NULL;

	(void)state;
	assert_int_equal(cluster_start(&c, dir, NULL), OTCM_EINVAL);
	assert_non_null(strstr(err_message(), "too long"));
	assert_null(c);
	assert_int_equal(cluster_start(&c, tmpdir, "/nonexistent"), OTCM_EINVAL);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_stop_restart),
		cmocka_unit_test(test_start_after_owner_killed),
		cmocka_unit_test(test_refuses_long_paths),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
