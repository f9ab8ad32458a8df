/*
 * storage/db.h - PostgreSQL: connection pool, transactions, parameterised
 * statements, migrations.  The only module that includes <libpq-fe.h>.
 *
 * Usage on a request path:
 *
 *     struct db_conn *c = NULL;
 *     if ((rc = db_acquire(&c, pool)) || (rc = db_begin(c))) goto out;
 *     ... db_exec(&res, c, SQL, n, params) ...
 *     rc = db_commit(c);
 *   out:
 *     db_release(c);        // rolls back anything still open
 *
 * Parameters are always sent separately from the SQL text; results come in
 * text format except columns the statement casts to bytea, which are
 * returned as raw bytes when the caller asks for binary results.
 *
 * Errors: OTCM_EDB for database failures (message from the server),
 * OTCM_ECONFLICT for unique-violation (23505), OTCM_ERETRY for
 * serialization failure and deadlock (40001, 40P01), OTCM_EUNAVAIL when the
 * pool cannot connect, the session is lost (08xxx, 57P0x) or the server is
 * read-only (25006: a standby).
 *
 * Thread-safety: the pool is thread-safe; a connection belongs to one
 * thread between acquire and release.
 */
#ifndef OTCM_STORAGE_DB_H
#define OTCM_STORAGE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct credcache;
struct db_pool;
struct db_conn;
struct db_res;

/* Open `size` connections lazily to `conninfo` (a URL or key=value string). */
int db_pool_new(struct db_pool **out, const char *conninfo, unsigned size);
void db_pool_free(struct db_pool *pool);

/*
 * Have every pooled connection `SET ROLE role` right after it connects
 * (and after a reconnect), so the server works with the application role's
 * privileges rather than the login role's (docs/audit.md: the application
 * role may not update or delete the audit trail).  Call before the first
 * db_acquire; NULL keeps the login role.  The role name is quoted as an
 * identifier.  A connection whose SET ROLE fails is not lent out.
 */
void db_pool_set_role(struct db_pool *pool, const char *role);

/* Rows kept in memory by id (storage/rowcache.h), by kind. */
enum db_rows {
	DB_ROWS_ASSETS,     /* storage/assets.c's columns of an asset */
	DB_ROWS_COUNT
};
#define DB_ASSET_COLUMNS 14

/*
 * Keep API tokens' owners (storage/credcache.h) and rows read often
 * (storage/rowcache.h) in memory, with a connection of its own to `pool`'s
 * database listening for their changes (storage/notify.h).  For a server;
 * a command line tool reads the database each time.  The caches are the
 * pool's from then on and freed with it.
 */
int db_pool_start_caches(struct db_pool *pool);

/* The pool's credential cache, or NULL. */
struct credcache *db_pool_credcache(struct db_pool *pool);

/* The pool's cache of rows of kind `which`, or NULL. */
struct rowcache *db_pool_rowcache(struct db_pool *pool, enum db_rows which);

/*
 * Say that the statement just run on `c` changed a user or a token, or a
 * row of kind `which`: the pool's cache forgets what it holds when the
 * transaction commits or rolls back (at once outside a transaction).
 */
void db_credentials_changed(struct db_conn *c);
void db_rows_changed(struct db_conn *c, enum db_rows which);

/*
 * Borrow a connection, waiting while all are in use.  Reconnects broken
 * ones, and after any session of the pool was found lost (the server
 * restarted or failed over) replaces every session opened before that, so
 * that requests after a failover do not fail one by one on dead sessions.
 * While the server is unreachable, attempts back off (100 ms doubling to
 * 2 s) and borrowers in between get OTCM_EUNAVAIL at once, which the HTTP
 * door answers 503 with Retry-After.  With a multi-host conninfo
 * ("host=a,b target_session_attrs=read-write") each new session goes to
 * whichever host is the primary now.
 */
int db_acquire(struct db_conn **out, struct db_pool *pool);

/* How busy a pool is now (for metrics). */
struct db_pool_stats {
	unsigned size;       /* connections the pool may hold */
	unsigned in_use;     /* lent out */
	unsigned waiting;    /* borrowers waiting for one */
	bool creds;          /* the pool has a credential cache (the fields below) */
	bool creds_listening;           /* its listening connection is up */
	uint64_t creds_hits, creds_misses;   /* token lookups answered from memory, or not */
	uint64_t creds_notifications;   /* changes heard of (each forgets a user's entries) */
	uint64_t creds_connects;        /* times the listening connection was opened */
	uint64_t asset_hits, asset_misses;   /* asset reads answered from memory, or not */
};

/* Fill *out under the pool's lock (a moment's snapshot). */
void db_pool_stats(struct db_pool_stats *out, struct db_pool *pool);

/* Return a connection; an open transaction is rolled back.  NULL is fine. */
void db_release(struct db_conn *c);

/* One-off connection outside a pool (CLI tools, migrations). */
int db_connect(struct db_conn **out, const char *conninfo);
void db_disconnect(struct db_conn *c);

/* A one-off connection (db_disconnect) to the pool's database, outside its slots. */
int db_pool_connect(struct db_conn **out, struct db_pool *pool);

/*
 * pg_try_advisory_lock(key) on the session c: *out true when c now holds
 * it (until it unlocks or the session ends, e.g. with the process).
 */
int db_try_lock(bool *out, struct db_conn *c, int64_t key);

/* A round trip ("SELECT 1"): OTCM_EUNAVAIL when the session is gone. */
int db_ping(struct db_conn *c);

int db_begin(struct db_conn *c);

/*
 * Begin a REPEATABLE READ transaction (READ ONLY with `read_only`): every
 * statement in it sees the same snapshot, for reads that must agree, such
 * as a chain of hashes and the checkpoints over it.
 */
int db_begin_snapshot(struct db_conn *c, bool read_only);
int db_commit(struct db_conn *c);
int db_rollback(struct db_conn *c);
bool db_in_transaction(const struct db_conn *c);

/* A query parameter: text (len ignored, NUL-terminated) or binary bytes. */
struct db_param {
	const char *value;    /* NULL = SQL NULL */
	size_t len;
	bool binary;
};

#define DB_TEXT(s) ((struct db_param){ (s), 0, false })
#define DB_BYTES(p, n) ((struct db_param){ (const char *)(p), (n), true })
#define DB_NULL ((struct db_param){ NULL, 0, false })

/*
 * Run one statement.  *out (if out is not NULL) receives the result, owned
 * by the caller (db_res_free).  binary_results asks for raw column bytes.
 */
int db_exec(struct db_res **out, struct db_conn *c, const char *sql,
	    size_t nparams, const struct db_param *params, bool binary_results);

/* One range of bytes of the data of a COPY (db_copy_in). */
struct db_chunk {
	const void *data;
	size_t len;
};

/*
 * Run `sql`, a `COPY ... FROM STDIN` statement without parameters, with
 * the `n` chunks, in order, as its data (the caller frames them in the
 * COPY's format).  The data is streamed in pieces of at most
 * DB_COPY_PIECE bytes, so neither libpq nor we hold a second copy of it:
 * a parameter of db_exec() is copied whole into libpq's output buffer,
 * which keeps that size for the connection's life.  Inside an open
 * transaction the COPY runs in a savepoint, so that its failure (e.g.
 * OTCM_ECONFLICT for a unique violation) leaves the transaction usable,
 * as it was before the COPY.  Errors as for db_exec().
 */
#define DB_COPY_PIECE ((size_t)64 * 1024)
int db_copy_in(struct db_conn *c, const char *sql, const struct db_chunk *chunks, size_t n);

/* Shorthand for text parameters and text results. */
int db_execv(struct db_res **out, struct db_conn *c, const char *sql,
	     size_t nparams, const char *const *values);

size_t db_res_rows(const struct db_res *r);
size_t db_res_cols(const struct db_res *r);
/* Value of (row, col): borrowed, NUL-terminated; NULL for SQL NULL. */
const char *db_res_get(const struct db_res *r, size_t row, size_t col);
size_t db_res_len(const struct db_res *r, size_t row, size_t col);
bool db_res_isnull(const struct db_res *r, size_t row, size_t col);
/* Column index by name, or -1. */
int db_res_col(const struct db_res *r, const char *name);
/* Rows affected by INSERT/UPDATE/DELETE. */
uint64_t db_res_affected(const struct db_res *r);
void db_res_free(struct db_res *r);

/* One migration: the file name (schema/NNNN_what.sql) and its SQL text. */
struct db_migration {
	const char *name;
	const char *sql;
};

/*
 * The migrations compiled into the binary from the .sql files in schema/, in file-name
 * order (generated at build time by scripts/embed.sh).
 */
extern const struct db_migration db_schema[];
extern const size_t db_schema_count;

/*
 * Apply each of the `n` migrations not yet recorded in schema_migrations, in
 * order, each in its own transaction, all under a session advisory lock so
 * that concurrent starters wait for each other.  *out_applied (may be NULL)
 * gets the number applied.
 */
int db_migrate(struct db_conn *c, const struct db_migration *m, size_t n, unsigned *out_applied);

#endif
