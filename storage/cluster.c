/*
 * storage/cluster.c - create, start and stop the private PostgreSQL
 * cluster under a data folder; see cluster.h.  The server is reached only
 * through a Unix socket in the folder, and talked to through db.h.
 */
#include "storage/cluster.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "storage/db.h"

#define CLUSTER_PORT "5432"
#define CLUSTER_USER "otcm"
#define CLUSTER_DB "otcm"
#define CLUSTER_ACCOUNT "postgres"      /* runs the server when we are root */
/*
 * Where a root-run cluster lives when the account cannot reach the data
 * folder (a clone in root's 0700 home): one folder per data folder, named
 * by the SHA-256 of its absolute path.
 */
#define CLUSTER_RELOCATED_ROOT "/var/lib/otcm/clusters"
#define CLUSTER_START_TIMEOUT_US (120 * 1000000LL)
#define CLUSTER_STOP_TIMEOUT_US (60 * 1000000LL)
#define CLUSTER_POLL_US 50000

/* Who initdb and postgres run as: ourselves, or a system account when we are root. */
struct account {
	bool drop;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	int ngroups;
};

struct cluster {
	char *data_dir;        /* absolute */
	char *home;            /* holds pg/ and run/: data_dir, or a folder under
				  CLUSTER_RELOCATED_ROOT the account can reach */
	char *pg_dir;
	char *run_dir;
	char *log_path;
	char *bindir;
	char *conninfo;        /* database otcm */
	char *admin_conninfo;  /* database postgres, for setting up */
	struct account acc;
	int lock_fd;
	pid_t pid;             /* the postmaster, our child; 0 when not running */
};

extern char **environ;

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static bool is_exec(const char *dir, const char *name)
{
	char *p = xasprintf("%s/%s", dir, name);
	bool ok = access(p, X_OK) == 0;

	free(p);
	return ok;
}

/* The newest /usr/lib/postgresql/N/bin with both initdb and postgres. */
static int find_bindir(char **out, const char *given)
{
	DIR *d = NULL;
	struct dirent *e;
	long best = -1;
	int rc = 0;

	if (given) {
		if (!is_exec(given, "initdb") || !is_exec(given, "postgres")) {
			rc = err_set(OTCM_EINVAL, NULL, "no initdb and postgres in '%s'", given);
			goto out;
		}
		*out = xstrdup(given);
		goto out;
	}
	d = opendir("/usr/lib/postgresql");
	while (d && (e = readdir(d))) {
		char *end, *bin;
		long v = strtol(e->d_name, &end, 10);

		if (end == e->d_name || *end || v <= best)
			continue;
		bin = xasprintf("/usr/lib/postgresql/%s/bin", e->d_name);
		if (is_exec(bin, "initdb") && is_exec(bin, "postgres")) {
			best = v;
			free(*out);
			*out = bin;
		} else {
			free(bin);
		}
	}
	if (best < 0)
		rc = err_set(OTCM_EIO, NULL,
			     "no PostgreSQL server binaries in '/usr/lib/postgresql/*/bin'");
out:
	if (d)
		closedir(d);
	return rc;
}

static int account_init(struct account *a)
{
	struct passwd *pw;
	int n = 16;

	memset(a, 0, sizeof(*a));
	if (geteuid() != 0) {
		a->uid = geteuid();
		a->gid = getegid();
		return 0;
	}
	pw = getpwnam(CLUSTER_ACCOUNT);
	if (!pw)
		return err_set(OTCM_EIO, NULL,
			       "system account '%s' not found (PostgreSQL cannot run as root)",
			       CLUSTER_ACCOUNT);
	a->drop = true;
	a->uid = pw->pw_uid;
	a->gid = pw->pw_gid;
	a->groups = xcalloc((size_t)n, sizeof(gid_t));
	if (getgrouplist(pw->pw_name, pw->pw_gid, a->groups, &n) < 0) {
		a->groups = xrealloc(a->groups, (size_t)n * sizeof(gid_t));
		getgrouplist(pw->pw_name, pw->pw_gid, a->groups, &n);
	}
	a->ngroups = n;
	return 0;
}

static bool account_in_group(const struct account *a, gid_t g)
{
	if (g == a->gid)
		return true;
	for (int i = 0; i < a->ngroups; i++)
		if (a->groups[i] == g)
			return true;
	return false;
}

static bool account_can_traverse(const struct account *a, const struct stat *st)
{
	if (st->st_uid == a->uid)
		return st->st_mode & S_IXUSR;
	if (account_in_group(a, st->st_gid))
		return st->st_mode & S_IXGRP;
	return st->st_mode & S_IXOTH;
}

/* Can the account get through every parent of `path` (not `path` itself)? */
static bool parents_traversable(const struct account *a, const char *path)
{
	char *p = xstrdup(path);
	struct stat st;
	bool ok = true;

	for (size_t i = 1; p[i] && ok; i++) {
		if (p[i] != '/')
			continue;
		p[i] = '\0';   /* each parent: "/a", "/a/b", ... */
		ok = stat(p, &st) == 0 && account_can_traverse(a, &st);
		p[i] = '/';
	}
	free(p);
	return ok;
}

/*
 * The account running the server must reach home/pg: widen the data
 * folder itself (it is ours) if needed.  A relocated home is made by us
 * under a root-owned path the account can always traverse.
 */
static int ensure_traversable(const struct cluster *c)
{
	struct stat st;

	if (!c->acc.drop || strcmp(c->home, c->data_dir) != 0)
		return 0;
	if (stat(c->data_dir, &st) < 0)
		return err_set(OTCM_EIO, NULL, "cannot stat '%s': %s", c->data_dir, strerror(errno));
	if (!account_can_traverse(&c->acc, &st) &&
	    chmod(c->data_dir, (st.st_mode & 07777) | S_IXGRP | S_IXOTH) < 0)
		return err_set(OTCM_EIO, NULL, "cannot open '%s' to account '%s': %s", c->data_dir,
			       CLUSTER_ACCOUNT, strerror(errno));
	return 0;
}

/*
 * Where pg/ and run/ live for the absolute data folder `data_dir`: the
 * folder itself, unless we are root and the account cannot traverse its
 * parents; then CLUSTER_RELOCATED_ROOT/<sha256 of the path, 32 hex>.
 */
static char *home_for(const struct account *a, const char *data_dir)
{
	unsigned char digest[CRYPTO_SHA256_LEN];
	char hex[2 * CRYPTO_SHA256_LEN + 1], *link = xasprintf("%s/cluster", data_dir);
	char target[PATH_MAX];
	ssize_t n = readlink(link, target, sizeof(target) - 1);

	free(link);
	if (n > 0) {
		/* placed outside once: it stays there, even if the parents open up later */
		target[n] = '\0';
		return xstrdup(target);
	}
	if (!a->drop || parents_traversable(a, data_dir))
		return xstrdup(data_dir);
	crypto_sha256(digest, data_dir, strlen(data_dir));
	crypto_hex(hex, digest, CRYPTO_SHA256_LEN);
	hex[32] = '\0';
	return xasprintf("%s/%s", CLUSTER_RELOCATED_ROOT, hex);
}

/* mkdir -m mode, then hand it to the account; an existing folder is fixed up. */
static int make_dir(const char *path, mode_t mode, const struct account *a)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return err_set(OTCM_EIO, NULL, "cannot create '%s': %s", path, strerror(errno));
	if (a->drop && chown(path, a->uid, a->gid) < 0)
		return err_set(OTCM_EIO, NULL, "cannot give '%s' to account '%s': %s", path,
			       CLUSTER_ACCOUNT, strerror(errno));
	if (chmod(path, mode) < 0)
		return err_set(OTCM_EIO, NULL, "cannot chmod '%s': %s", path, strerror(errno));
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 ? -1 : 0;
}

static int remove_tree(const char *path)
{
	if (access(path, F_OK) < 0)
		return 0;
	if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
		return err_set(OTCM_EIO, NULL, "cannot remove '%s': %s", path, strerror(errno));
	return 0;
}

static int open_log(int *out, const struct cluster *c)
{
	int fd = open(c->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	if (fd < 0)
		return err_set(OTCM_EIO, NULL, "cannot open '%s': %s", c->log_path, strerror(errno));
	*out = fd;
	return 0;
}

/*
 * Start argv[0] with output to pg.log, as the account, in its own process
 * group (a terminal's Ctrl-C is for us, not the server), receiving SIGINT
 * when the calling thread dies.  Between fork and exec only
 * async-signal-safe calls: the process may have other threads.
 */
static int spawn(pid_t *out, const struct cluster *c, char *const argv[])
{
	pid_t parent = getpid(), pid;
	int logfd = -1, rc;
	sigset_t none;

	if ((rc = open_log(&logfd, c)))
		return rc;
	sigemptyset(&none);
	pid = fork();
	if (pid < 0) {
		rc = err_set(OTCM_EIO, NULL, "cannot start '%s': %s", argv[0], strerror(errno));
		close(logfd);
		return rc;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		setpgid(0, 0);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)
			_exit(126);
		close_range(3, ~0U, 0);
		if (c->acc.drop &&
		    (setgroups((size_t)c->acc.ngroups, c->acc.groups) < 0 ||
		     setgid(c->acc.gid) < 0 || setuid(c->acc.uid) < 0))
			_exit(126);
		/* After setuid: changing credentials clears the death signal. */
		if (prctl(PR_SET_PDEATHSIG, SIGINT) < 0 || getppid() != parent)
			_exit(126);
		if (chdir(c->home) < 0)
			_exit(126);
		execve(argv[0], argv, environ);
		_exit(127);
	}
	close(logfd);
	*out = pid;
	return 0;
}

static int describe_exit(const char *what, int status, const struct cluster *c)
{
	if (WIFEXITED(status))
		return err_set(OTCM_EIO, NULL, "'%s' exited with status %d; see '%s'", what,
			       WEXITSTATUS(status), c->log_path);
	return err_set(OTCM_EIO, NULL, "'%s' killed by signal %d; see '%s'", what,
		       WIFSIGNALED(status) ? WTERMSIG(status) : 0, c->log_path);
}

/* Quote a value for postgresql.conf. */
static void conf_quote(struct buf *b, const char *s)
{
	buf_addch(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			buf_addch(b, '\'');
		buf_addch(b, *s);
	}
	buf_addch(b, '\'');
}

/* Quote a value for a libpq key=value connection string. */
static void conninfo_quote(struct buf *b, const char *s)
{
	buf_addch(b, '\'');
	for (; *s; s++) {
		if (*s == '\'' || *s == '\\')
			buf_addch(b, '\\');
		buf_addch(b, *s);
	}
	buf_addch(b, '\'');
}

/* The socket folder as a one-element unix_socket_directories list. */
static char *socket_dir_list(const struct cluster *c)
{
	return xasprintf("\"%s\"", c->run_dir);
}

static int write_conf(const struct cluster *c, const char *dir)
{
	char *path = xasprintf("%s/postgresql.conf", dir);
	char *list = socket_dir_list(c);
	struct buf b = BUF_INIT;
	FILE *f = NULL;
	int rc = 0;

	buf_adds(&b, "\n# otcm: a private cluster reached only through its Unix socket\n"
		 "listen_addresses = ''\nunix_socket_directories = ");
	conf_quote(&b, list);
	buf_adds(&b, "\nunix_socket_permissions = 0700\n");
	f = fopen(path, "a");
	if (!f || fwrite(b.data, 1, b.len, f) != b.len) {
		rc = err_set(OTCM_EIO, NULL, "cannot write '%s': %s", path, strerror(errno));
		goto out;
	}
out:
	if (f && fclose(f) != 0 && !rc)
		rc = err_set(OTCM_EIO, NULL, "cannot write '%s': %s", path, strerror(errno));
	buf_release(&b);
	free(list);
	free(path);
	return rc;
}

/*
 * First start: initdb into pg.init beside pg, configure it, then rename it
 * to pg, so that a crash half way leaves no cluster that looks complete.
 */
static int init_cluster(const struct cluster *c)
{
	char *tmp = xasprintf("%s/pg.init", c->home);
	char *initdb = xasprintf("%s/initdb", c->bindir);
	char *argv[] = { initdb, "-D", tmp, "-U", CLUSTER_USER, "--auth=trust", "-E", "UTF8",
			 "--locale=C", "--no-instructions", NULL };
	pid_t pid;
	int status, rc;

	log_json(LOG_INFO, "creating the private database cluster",
		 json_pack("{s:s}", "dir", c->pg_dir));
	if ((rc = remove_tree(tmp)) || (rc = make_dir(tmp, 0700, &c->acc)))
		goto out;
	if ((rc = spawn(&pid, c, argv)))
		goto out;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		rc = describe_exit("initdb", status, c);
		goto out;
	}
	if ((rc = write_conf(c, tmp)))
		goto out;
	if (rename(tmp, c->pg_dir) < 0)
		rc = err_set(OTCM_EIO, NULL, "cannot rename '%s': %s", tmp, strerror(errno));
out:
	free(initdb);
	free(tmp);
	return rc;
}

/* Is `pid` a live postmaster of our cluster (it runs with pg/ as its working directory)? */
static bool postmaster_alive(pid_t pid, const char *pg_dir)
{
	char link[64], cwd[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%ld/cwd", (long)pid);
	n = readlink(link, cwd, sizeof(cwd) - 1);
	if (n < 0)
		return false;     /* gone, a zombie, or someone else's */
	cwd[n] = '\0';
	return !strcmp(cwd, pg_dir);
}

/*
 * A postmaster left running by an earlier owner of the folder (we hold the
 * folder's lock, so it has no live owner): ask it to shut down and wait.
 */
static int stop_leftover(const struct cluster *c)
{
	char *pidfile = xasprintf("%s/postmaster.pid", c->pg_dir);
	FILE *f = fopen(pidfile, "r");
	long pid = 0;
	int64_t deadline;
	int rc = 0;

	if (!f || fscanf(f, "%ld", &pid) != 1 || pid <= 0)
		goto out;
	if (!postmaster_alive((pid_t)pid, c->pg_dir)) {
		/*
		 * The pid is gone, a zombie nobody reaped (a killed otcm's postmaster
		 * is reparented to an init that may never wait for it), or reused
		 * by another process.  PostgreSQL would take any of those for a
		 * running server and refuse to start, so drop the stale lock file;
		 * we hold the folder lock, so no other otcm owns this cluster.
		 */
		char *socklock = xasprintf("%s/.s.PGSQL." CLUSTER_PORT ".lock", c->run_dir);
		char *sock = xasprintf("%s/.s.PGSQL." CLUSTER_PORT, c->run_dir);

		if (unlink(pidfile) == 0)
			log_json(LOG_WARN, "removed the stale lock files of a database server that is gone",
				 json_pack("{s:I}", "pid", (json_int_t)pid));
		/* its socket lock names the same dead pid and would stop the start too */
		unlink(socklock);
		unlink(sock);
		free(socklock);
		free(sock);
		goto out;
	}
	log_json(LOG_WARN, "stopping a database server left running by an earlier process",
		 json_pack("{s:I}", "pid", (json_int_t)pid));
	kill((pid_t)pid, SIGINT);
	deadline = mono_us() + CLUSTER_STOP_TIMEOUT_US;
	while (postmaster_alive((pid_t)pid, c->pg_dir)) {
		if (mono_us() > deadline) {
			rc = err_set(OTCM_EIO, NULL, "database server %ld left running in '%s' does not stop",
				     pid, c->pg_dir);
			goto out;
		}
		sleep_us(CLUSTER_POLL_US);
	}
out:
	if (f)
		fclose(f);
	free(pidfile);
	return rc;
}

static int start_server(struct cluster *c)
{
	char *postgres = xasprintf("%s/postgres", c->bindir);
	char *list = socket_dir_list(c);
	char *sockdirs = xasprintf("unix_socket_directories=%s", list);
	char *argv[] = { postgres, "-D", c->pg_dir, "-p", CLUSTER_PORT,
			 "-c", "listen_addresses=", "-c", sockdirs,
			 "-c", "unix_socket_permissions=0700", NULL };
	int rc;

	rc = spawn(&c->pid, c, argv);
	free(sockdirs);
	free(list);
	free(postgres);
	return rc;
}

/* Poll until the server accepts connections, or it dies, or time runs out. */
static int wait_ready(struct cluster *c)
{
	int64_t deadline = mono_us() + CLUSTER_START_TIMEOUT_US;
	struct db_conn *conn = NULL;
	int status;

	for (;;) {
		pid_t w = waitpid(c->pid, &status, WNOHANG);

		if (w == c->pid) {
			c->pid = 0;
			return describe_exit("postgres", status, c);
		}
		if (db_connect(&conn, c->admin_conninfo) == 0) {
			db_disconnect(conn);
			err_clear();    /* the failed attempts are not news */
			return 0;
		}
		if (mono_us() > deadline)
			return err_set(OTCM_EUNAVAIL, NULL,
				       "database server in '%s' not ready in time; see '%s'",
				       c->pg_dir, c->log_path);
		sleep_us(CLUSTER_POLL_US);
	}
}

static int ensure_database(const struct cluster *c)
{
	static const char sql_exists[] = "SELECT 1 FROM pg_database WHERE datname = $1";
	static const char sql_create[] = "CREATE DATABASE " CLUSTER_DB;
	const char *name = CLUSTER_DB;
	struct db_conn *conn = NULL;
	struct db_res *res = NULL;
	int rc;

	if ((rc = db_connect(&conn, c->admin_conninfo)))
		goto out;
	if ((rc = db_execv(&res, conn, sql_exists, 1, &name)))
		goto out;
	if (db_res_rows(res) == 0)
		rc = db_exec(NULL, conn, sql_create, 0, NULL, false);
out:
	db_res_free(res);
	db_disconnect(conn);
	return rc;
}

static char *make_conninfo(const struct cluster *c, const char *db)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, "host=");
	conninfo_quote(&b, c->run_dir);
	buf_addf(&b, " port=" CLUSTER_PORT " user=" CLUSTER_USER " dbname=%s", db);
	return buf_detach(&b, NULL);
}

/* Take the folder's lock: one struct cluster per data folder at a time. */
static int lock_folder(struct cluster *c)
{
	char *path = xasprintf("%s/lock", c->data_dir);
	int rc = 0;

	c->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (c->lock_fd < 0) {
		rc = err_set(OTCM_EIO, NULL, "cannot open '%s': %s", path, strerror(errno));
		goto out;
	}
	if (flock(c->lock_fd, LOCK_EX | LOCK_NB) < 0)
		rc = err_set(errno == EWOULDBLOCK ? OTCM_ECONFLICT : OTCM_EIO, NULL,
			     "data folder '%s' is in use by another process", c->data_dir);
out:
	free(path);
	return rc;
}

static int check_paths(const struct cluster *c)
{
	struct sockaddr_un sa;
	size_t len = strlen(c->run_dir) + strlen("/.s.PGSQL." CLUSTER_PORT);

	if (len >= sizeof(sa.sun_path))
		return err_set(OTCM_EINVAL, NULL,
			       "data folder '%s' is too long for a Unix socket path (%zu bytes, limit %zu)",
			       c->data_dir, len, sizeof(sa.sun_path) - 1);
	if (strpbrk(c->data_dir, "\"\n"))
		return err_set(OTCM_EINVAL, NULL, "data folder '%s' has a quote or newline in its name",
			       c->data_dir);
	return 0;
}

/* mkdir -p for the root-owned parents of a relocated home, each 0755. */
static int make_parents(const char *path)
{
	char *p = xstrdup(path);
	int rc = 0;

	for (size_t i = 1; p[i]; i++) {
		if (p[i] != '/')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST) {
			rc = err_set(OTCM_EIO, NULL, "cannot create '%s': %s", p, strerror(errno));
			goto out;
		}
		p[i] = '/';
	}
out:
	free(p);
	return rc;
}

/*
 * A relocated home: created for the account, with a file naming the data
 * folder it serves and a link `DATA/cluster` to it, so both sides can be
 * found from the other.
 */
static int make_relocated_home(const struct cluster *c)
{
	char *owner = xasprintf("%s/data-folder", c->home);
	char *link = xasprintf("%s/cluster", c->data_dir);
	FILE *f = NULL;
	int rc;

	if ((rc = make_parents(c->home)) || (rc = make_dir(c->home, 0700, &c->acc)))
		goto out;
	f = fopen(owner, "w");
	if (!f || fprintf(f, "%s\n", c->data_dir) < 0) {
		rc = err_set(OTCM_EIO, NULL, "cannot write '%s': %s", owner, strerror(errno));
		goto out;
	}
	unlink(link);
	if (symlink(c->home, link) < 0)
		rc = err_set(OTCM_EIO, NULL, "cannot link '%s': %s", link, strerror(errno));
	if (!rc)
		log_json(LOG_INFO, "the database account cannot reach the data folder; "
			 "the private cluster lives outside it",
			 json_pack("{s:s,s:s,s:s}", "data", c->data_dir, "cluster", c->home,
				   "account", CLUSTER_ACCOUNT));
out:
	if (f && fclose(f) != 0 && !rc)
		rc = err_set(OTCM_EIO, NULL, "cannot write '%s': %s", owner, strerror(errno));
	free(link);
	free(owner);
	return rc;
}

int cluster_start(struct cluster **out, const char *data_dir, const char *pg_bindir)
{
	struct cluster *c = xcalloc(1, sizeof(*c));
	char real[PATH_MAX];
	struct stat st;
	int rc;

	assert(out && data_dir);
	c->lock_fd = -1;
	if (mkdir(data_dir, 0700) < 0 && errno != EEXIST) {
		rc = err_set(OTCM_EIO, NULL, "cannot create '%s': %s", data_dir, strerror(errno));
		goto out;
	}
	if (!realpath(data_dir, real)) {
		rc = err_set(OTCM_EIO, NULL, "cannot resolve '%s': %s", data_dir, strerror(errno));
		goto out;
	}
	c->data_dir = xstrdup(real);
	c->log_path = xasprintf("%s/pg.log", real);
	if ((rc = account_init(&c->acc)))
		goto out;
	c->home = home_for(&c->acc, real);
	c->pg_dir = xasprintf("%s/pg", c->home);
	c->run_dir = xasprintf("%s/run", c->home);
	c->conninfo = make_conninfo(c, CLUSTER_DB);
	c->admin_conninfo = make_conninfo(c, "postgres");
	if ((rc = check_paths(c)) || (rc = lock_folder(c)) || (rc = find_bindir(&c->bindir, pg_bindir)))
		goto out;
	if (strcmp(c->home, c->data_dir) != 0 && (rc = make_relocated_home(c)))
		goto out;
	if ((rc = ensure_traversable(c)) || (rc = make_dir(c->run_dir, 0700, &c->acc)))
		goto out;
	if (stat(c->pg_dir, &st) < 0) {
		if ((rc = init_cluster(c)))
			goto out;
	} else if (st.st_uid != c->acc.uid) {
		rc = err_set(OTCM_EINVAL, NULL, "cluster '%s' belongs to uid %ld, not to the account running it",
			     c->pg_dir, (long)st.st_uid);
		goto out;
	}
	if ((rc = stop_leftover(c)) || (rc = start_server(c)) || (rc = wait_ready(c)) ||
	    (rc = ensure_database(c)))
		goto out;
	log_json(LOG_INFO, "private database cluster running",
		 json_pack("{s:s,s:I}", "dir", c->pg_dir, "pid", (json_int_t)c->pid));
	*out = c;
	c = NULL;
out:
	cluster_free(c);
	return rc;
}

const char *cluster_conninfo(const struct cluster *c)
{
	return c->conninfo;
}

const char *cluster_data_dir(const struct cluster *c)
{
	return c->data_dir;
}

int cluster_stop(struct cluster *c)
{
	int64_t deadline;
	int status = 0;
	pid_t w;

	if (!c || c->pid <= 0)
		return 0;
	kill(c->pid, SIGINT);   /* fast shutdown */
	deadline = mono_us() + CLUSTER_STOP_TIMEOUT_US;
	while ((w = waitpid(c->pid, &status, WNOHANG)) == 0 && mono_us() < deadline)
		sleep_us(CLUSTER_POLL_US / 5);
	if (w == 0) {
		log_msg(LOG_WARN, "database server %ld slow to stop, asking for immediate shutdown",
			(long)c->pid);
		kill(c->pid, SIGQUIT);
		while ((w = waitpid(c->pid, &status, 0)) < 0 && errno == EINTR)
			;
	}
	c->pid = 0;
	if (w < 0)
		return err_set(OTCM_EIO, NULL, "cannot wait for the database server: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return describe_exit("postgres", status, c);
	return 0;
}

void cluster_free(struct cluster *c)
{
	if (!c)
		return;
	cluster_stop(c);
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	free(c->acc.groups);
	free(c->data_dir);
	free(c->home);
	free(c->pg_dir);
	free(c->run_dir);
	free(c->log_path);
	free(c->bindir);
	free(c->conninfo);
	free(c->admin_conninfo);
	free(c);
}

int cluster_running_conninfo(char **out, const char *data_dir)
{
	struct cluster probe = { 0 };
	char real[PATH_MAX];
	int rc;

	if (!realpath(data_dir, real))
		return err_set(OTCM_EIO, NULL, "cannot resolve '%s': %s", data_dir, strerror(errno));
	if ((rc = account_init(&probe.acc)))
		return rc;
	probe.home = home_for(&probe.acc, real);
	probe.run_dir = xasprintf("%s/run", probe.home);
	*out = make_conninfo(&probe, CLUSTER_DB);
	free(probe.run_dir);
	free(probe.home);
	free(probe.acc.groups);
	return 0;
}

int cluster_paths(char **out_pg_dir, char **out_run_dir, const char *data_dir)
{
	struct account acc;
	char real[PATH_MAX];
	char *home;
	int rc;

	if (!realpath(data_dir, real))
		return err_set(OTCM_EIO, NULL, "cannot resolve '%s': %s", data_dir, strerror(errno));
	if ((rc = account_init(&acc)))
		return rc;
	home = home_for(&acc, real);
	if (out_pg_dir)
		*out_pg_dir = xasprintf("%s/pg", home);
	if (out_run_dir)
		*out_run_dir = xasprintf("%s/run", home);
	free(home);
	free(acc.groups);
	return 0;
}

int cluster_bindir(char **out, const char *pg_bindir)
{
	*out = NULL;
	return find_bindir(out, pg_bindir);
}

/* Copy state for copy_entry(): nftw has no user pointer. */
static struct {
	const char *src;
	const char *dst;
	const struct account *acc;
} copying;

static int copy_file(const char *from, const char *to, mode_t mode)
{
	char block[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, rc = 0;
	ssize_t n;

	if (in < 0)
		return err_set(OTCM_EIO, NULL, "cannot read '%s': %s", from, strerror(errno));
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0700);
	if (out < 0) {
		rc = err_set(OTCM_EIO, NULL, "cannot create '%s': %s", to, strerror(errno));
		goto out;
	}
	while ((n = read(in, block, sizeof(block))) > 0) {
		if (write(out, block, (size_t)n) != n) {
			rc = err_set(OTCM_EIO, NULL, "cannot write '%s': %s", to, strerror(errno));
			goto out;
		}
	}
	if (n < 0)
		rc = err_set(OTCM_EIO, NULL, "cannot read '%s': %s", from, strerror(errno));
out:
	if (out >= 0 && close(out) < 0 && !rc)
		rc = err_set(OTCM_EIO, NULL, "cannot write '%s': %s", to, strerror(errno));
	close(in);
	return rc;
}

static int copy_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	char *to = xasprintf("%s%s", copying.dst, path + strlen(copying.src));
	int rc = 0;

	(void)ftw;
	if (flag == FTW_D)
		rc = make_dir(to, 0700, copying.acc);
	else if (S_ISREG(st->st_mode))
		rc = copy_file(path, to, st->st_mode);
	else if (S_ISLNK(st->st_mode))
		rc = err_set(OTCM_EINVAL, NULL, "'%s' is a link; a restored cluster holds no links "
			     "(tablespaces are not supported)", path);
	else
		rc = err_set(OTCM_EINVAL, NULL, "'%s' is not a file or folder", path);
	if (!rc && flag != FTW_D && copying.acc->drop &&
	    lchown(to, copying.acc->uid, copying.acc->gid) < 0)
		rc = err_set(OTCM_EIO, NULL, "cannot give '%s' to account '%s': %s", to,
			     CLUSTER_ACCOUNT, strerror(errno));
	free(to);
	return rc ? -1 : 0;
}

int cluster_install(const char *data_dir, const char *src_pg)
{
	struct cluster *c = xcalloc(1, sizeof(*c));
	char real[PATH_MAX], *tmp = NULL;
	struct stat st;
	int rc;

	c->lock_fd = -1;
	if (mkdir(data_dir, 0700) < 0 && errno != EEXIST) {
		rc = err_set(OTCM_EIO, NULL, "cannot create '%s': %s", data_dir, strerror(errno));
		goto out;
	}
	if (!realpath(data_dir, real)) {
		rc = err_set(OTCM_EIO, NULL, "cannot resolve '%s': %s", data_dir, strerror(errno));
		goto out;
	}
	c->data_dir = xstrdup(real);
	if ((rc = account_init(&c->acc)))
		goto out;
	c->home = home_for(&c->acc, real);
	c->pg_dir = xasprintf("%s/pg", c->home);
	c->run_dir = xasprintf("%s/run", c->home);
	if ((rc = check_paths(c)) || (rc = lock_folder(c)))
		goto out;
	if (stat(c->pg_dir, &st) == 0) {
		rc = err_set(OTCM_ECONFLICT, "data", "'%s' already holds a cluster", c->pg_dir);
		goto out;
	}
	if (strcmp(c->home, c->data_dir) != 0 && (rc = make_relocated_home(c)))
		goto out;
	if ((rc = ensure_traversable(c)))
		goto out;
	tmp = xasprintf("%s/pg.init", c->home);
	if ((rc = remove_tree(tmp)))
		goto out;
	copying.src = src_pg;
	copying.dst = tmp;
	copying.acc = &c->acc;
	err_clear();   /* copy_entry() reports through err_set() */
	if (nftw(src_pg, copy_entry, 16, FTW_PHYS) != 0) {
		if (!err_code())
			rc = err_set(OTCM_EIO, NULL, "cannot copy '%s': %s", src_pg, strerror(errno));
		else
			rc = err_code();
		goto out;
	}
	if (rename(tmp, c->pg_dir) < 0)
		rc = err_set(OTCM_EIO, NULL, "cannot rename '%s': %s", tmp, strerror(errno));
out:
	if (rc && tmp)
		remove_tree(tmp);
	free(tmp);
	cluster_free(c);
	return rc;
}
