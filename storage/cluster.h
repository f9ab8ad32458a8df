/*
 * storage/cluster.h - the private PostgreSQL cluster otcm runs by itself
 * when no database URL is configured (`make run`, tests).
 *
 * Layout under the data folder (made absolute with realpath):
 *
 *     pg/       the cluster (initdb: UTF8, locale C, superuser otcm, trust)
 *     run/      its Unix socket, mode 0700; no TCP listener at all
 *     pg.log    everything initdb and postgres print
 *     lock      held (flock) while a struct cluster owns the folder
 *
 * The postmaster is a direct child of the calling process and gets SIGINT
 * (fast shutdown) when the thread that started it dies, so a killed otcm
 * does not leave it running; a postmaster left over anyway (e.g. from a
 * process started otherwise) is recognised by its working directory and
 * stopped before a new one starts.  Call cluster_start() from the thread
 * that lives as long as the cluster (the main thread).
 *
 * When the process runs as root, initdb and postgres run as the `postgres`
 * system account, which is given pg/ and run/.  When that account can get
 * through the data folder's parents, the data folder's own mode is widened
 * to let it through if needed.  When it cannot (a data folder in root's
 * 0700 home), pg/ and run/ live in /var/lib/otcm/clusters/<first 32 hex of
 * the SHA-256 of the data folder's absolute path> instead, which names the
 * data folder in its file `data-folder`, and DATA/cluster links to it;
 * pg.log and lock stay in the data folder.  Once that link exists the
 * cluster stays where it points, whatever the folders' modes become.
 *
 * Errors: OTCM_EINVAL for an unusable data folder (socket path too long,
 * parents not traversable), OTCM_ECONFLICT when another process owns the
 * folder, OTCM_EIO for process and file failures (details in pg.log),
 * OTCM_EUNAVAIL when the server does not come up in time.
 *
 * Thread-safety: none; one thread starts and stops a cluster.
 */
#ifndef OTCM_STORAGE_CLUSTER_H
#define OTCM_STORAGE_CLUSTER_H

struct cluster;

/*
 * Create (first time) and start the cluster under `data_dir` (created if
 * missing), wait until it accepts connections and make sure the database
 * `otcm` exists.  `pg_bindir` names PostgreSQL's server binaries; NULL
 * picks the newest /usr/lib/postgresql/N/bin holding initdb and postgres.
 * *out is owned by the caller (cluster_free).
 */
int cluster_start(struct cluster **out, const char *data_dir, const char *pg_bindir);

/* libpq connection string for the `otcm` database; borrowed from c. */
const char *cluster_conninfo(const struct cluster *c);

/*
 * Connection string for the cluster another process (a running server)
 * owns under `data_dir`; *out is malloc'd and owned by the caller.
 */
int cluster_running_conninfo(char **out, const char *data_dir);

/*
 * Where the cluster of `data_dir` keeps its files (DATA/pg and DATA/run, or
 * their relocated places, see above), whether or not it exists yet.  Each
 * out-parameter may be NULL; what is returned is malloc'd and owned by the
 * caller.
 */
int cluster_paths(char **out_pg_dir, char **out_run_dir, const char *data_dir);

/*
 * The PostgreSQL binaries folder: `pg_bindir` when it holds initdb and
 * postgres, or the newest /usr/lib/postgresql/N/bin that does (NULL).
 * *out is malloc'd, owned by the caller.
 */
int cluster_bindir(char **out, const char *pg_bindir);

/*
 * Place a copy of the cluster folder `src_pg` (a plain base backup) as the
 * private cluster of `data_dir` (created if missing; made the account's
 * when root), where cluster_start() will find and start it.  Copied to
 * pg.init first and renamed, like a new cluster.  OTCM_ECONFLICT with
 * field "data" when data_dir already has a cluster or is in use; links
 * (tablespaces) are refused with OTCM_EINVAL.  Not thread-safe (nftw).
 */
int cluster_install(const char *data_dir, const char *src_pg);

/* The absolute data folder; borrowed from c. */
const char *cluster_data_dir(const struct cluster *c);

/*
 * Fast shutdown (clients disconnected, no crash recovery next start) and
 * wait for the postmaster to exit.  Stopping a stopped cluster is fine.
 */
int cluster_stop(struct cluster *c);

/* Stop the cluster if it is running and release c.  NULL is fine. */
void cluster_free(struct cluster *c);

#endif
