/*
 * storage/db.c - the one file that talks to libpq: a fixed-size connection
 * pool, transactions, parameterised statements, SQLSTATE to error code
 * mapping and migrations under an advisory lock.  See db.h.
 */
#include "storage/db.h"

#include <assert.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "core/mem.h"
#include "storage/credcache.h"
#include "storage/notify.h"
#include "storage/rowcache.h"

/*
 * Key of the session advisory lock db_migrate() holds: "otcm" in ASCII
 * followed by "mig", so that it cannot collide with locks an application
 * would pick by hashing a row id.
 */
#define DB_MIGRATE_LOCK_KEY "8031153355318192487" /* 0x6f74636d006d6967 */

/*
 * Reconnecting after the database went away (a restart, a failover): the
 * first borrower to find it unreachable waits DB_BACKOFF_MIN_US before the
 * next attempt, doubling up to DB_BACKOFF_MAX_US; meanwhile borrowers get
 * OTCM_EUNAVAIL at once instead of each waiting out a connect timeout.
 */
#define DB_BACKOFF_MIN_US 100000LL
#define DB_BACKOFF_MAX_US 2000000LL

/*
 * Statements a pooled connection has prepared, so that the parse and plan of
 * the same SQL text is done once per connection instead of on every call.
 * Keyed by the text itself; the cache belongs to one server process
 * (backend pid) and is forgotten when the connection is replaced.
 */
#define DB_STMT_MAX 256
/* entries of the credential cache: tokens in use at once, with room for collisions */
#define DB_CREDCACHE_SLOTS 4096
/* rows of each kind in memory (storage/rowcache.h) */
#define DB_ROWCACHE_SLOTS 16384

struct db_stmt {
	char *sql;
	uint32_t hash;
};

struct db_conn {
	PGconn *pg;
	struct db_pool *pool;   /* NULL for a one-off connection */
	bool busy;              /* pooled: lent out (guarded by pool->mu) */
	struct db_stmt *stmts;  /* pooled: prepared as "otcm_<index>" */
	size_t nstmts;
	int stmt_pid;           /* backend the statements were prepared in */
	unsigned epoch;         /* pooled: pool->epoch when this session was opened */
	bool lost;              /* a statement found the server gone or read-only */
	unsigned changed;       /* caches the open transaction changed rows of: 1 << enum, 1 creds */
};

struct db_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *conninfo;
	unsigned size;
	struct db_conn *conns;  /* `size` slots, connected lazily */
	char *role;             /* SET ROLE after connecting; NULL: none (db_pool_set_role) */
	/* guarded by mu: */
	unsigned epoch;         /* bumped when a session is found lost: older ones are suspect */
	int64_t retry_at_us;    /* no connection attempt before this (monotonic); 0: any time */
	int64_t backoff_us;     /* the wait after the next failed attempt */
	unsigned waiting;       /* borrowers waiting for a free slot */
	struct credcache *creds; /* API tokens' owners in memory; NULL: none */
	struct rowcache *rows[DB_ROWS_COUNT]; /* rows in memory by kind; NULL: none */
	struct notify *notify;   /* the connection that keeps them true */
};

struct db_res {
	PGresult *r;
};

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Server notices (e.g. "relation already exists, skipping") go to the log, never stderr as text. */
static void notice_to_log(void *arg, const PGresult *r)
{
	const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);

	(void)arg;
	log_msg(LOG_DEBUG, "database notice: %s", msg ? msg : "");
}

/* The last line of libpq's connection message, without its newline. */
static int conn_error(int code, PGconn *pg, const char *what)
{
	const char *msg = pg ? PQerrorMessage(pg) : "out of memory";
	size_t len = strlen(msg);

	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
		len--;
	return err_set(code, NULL, "%s: %.*s", what, (int)len, msg);
}

/* Start a connection with our defaults; the caller's conninfo overrides them. */
static int conn_open(PGconn **out, const char *conninfo)
{
	static const char *const keys[] = {
		"connect_timeout", "dbname", "fallback_application_name", "client_encoding", NULL
	};
	const char *vals[] = { "10", conninfo, "otcm", "UTF8", NULL };
	PGconn *pg;

	pg = PQconnectdbParams(keys, vals, 1);
	if (!pg || PQstatus(pg) != CONNECTION_OK) {
		int rc = conn_error(OTCM_EUNAVAIL, pg, "cannot connect to the database");

		PQfinish(pg);
		return rc;
	}
	PQsetNoticeReceiver(pg, notice_to_log, NULL);
	*out = pg;
	return 0;
}

/* SET ROLE on a fresh session (pool->role); on failure the session is closed. */
static int conn_set_role(struct db_conn *c, const char *role)
{
	char *ident = PQescapeIdentifier(c->pg, role, strlen(role));
	char *sql = ident ? xasprintf("SET ROLE %s", ident) : NULL;
	PGresult *r = sql ? PQexec(c->pg, sql) : NULL;
	int rc = 0;

	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;

		rc = err_set(OTCM_EUNAVAIL, NULL, "cannot switch to database role '%s': %s", role,
			     msg ? msg : PQerrorMessage(c->pg));
		PQfinish(c->pg);
		c->pg = NULL;
	}
	PQclear(r);
	free(sql);
	PQfreemem(ident);
	return rc;
}

static void stmts_forget(struct db_conn *c);

/*
 * Make sure c->pg is a live connection: connect lazily, replace a broken
 * one, and one opened before the pool last lost a session (`epoch`): after
 * a failover every session to the old server is dead, though libpq learns
 * it only on its next use, which would fail a request.  With a multi-host
 * conninfo each new session goes to whichever host qualifies
 * (target_session_attrs).
 */
static int conn_ready(struct db_conn *c, const char *conninfo, unsigned epoch)
{
	const char *role = c->pool ? c->pool->role : NULL;
	int rc;

	if (c->pg && PQstatus(c->pg) == CONNECTION_OK && c->epoch == epoch)
		return 0;
	PQfinish(c->pg);
	c->pg = NULL;
	stmts_forget(c);   /* a new session, perhaps on another server, has none prepared */
	if ((rc = conn_open(&c->pg, conninfo)))
		return rc;
	c->epoch = epoch;
	return role ? conn_set_role(c, role) : 0;
}

int db_pool_new(struct db_pool **out, const char *conninfo, unsigned size)
{
	struct db_pool *p;

	assert(out && conninfo && size > 0);
	p = xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->conninfo = xstrdup(conninfo);
	p->size = size;
	p->conns = xcalloc(size, sizeof(*p->conns));
	for (unsigned i = 0; i < size; i++)
		p->conns[i].pool = p;
	p->backoff_us = DB_BACKOFF_MIN_US;
	*out = p;
	return 0;
}

void db_pool_set_role(struct db_pool *pool, const char *role)
{
	assert(pool);
	free(pool->role);
	pool->role = role ? xstrdup(role) : NULL;
}

/* the channels the triggers notify (schema 0090), by enum db_rows */
static const char *const row_channels[DB_ROWS_COUNT] = { [DB_ROWS_ASSETS] = "otcm_assets" };
static const unsigned row_columns[DB_ROWS_COUNT] = { [DB_ROWS_ASSETS] = DB_ASSET_COLUMNS };

int db_pool_start_caches(struct db_pool *pool)
{
	struct notify_sub subs[1 + DB_ROWS_COUNT];
	size_t n = 0;

	assert(pool && !pool->notify);
	pool->creds = credcache_new(DB_CREDCACHE_SLOTS);
	subs[n++] = (struct notify_sub){ "otcm_credentials", credcache_on_note, credcache_on_state,
					 pool->creds };
	for (int i = 0; i < DB_ROWS_COUNT; i++) {
		pool->rows[i] = rowcache_new(DB_ROWCACHE_SLOTS, row_columns[i]);
		subs[n++] = (struct notify_sub){ row_channels[i], rowcache_on_note, rowcache_on_state,
						 pool->rows[i] };
	}
	return notify_open(&pool->notify, pool->conninfo, subs, n);
}

struct credcache *db_pool_credcache(struct db_pool *pool)
{
	return pool ? pool->creds : NULL;
}

struct rowcache *db_pool_rowcache(struct db_pool *pool, enum db_rows which)
{
	return pool ? pool->rows[which] : NULL;
}

/* The transaction on c has ended, whichever way: forget what it may have changed. */
static void changes_settle(struct db_conn *c)
{
	unsigned changed = c->changed;

	c->changed = 0;
	if (!changed || !c->pool)
		return;
	if ((changed & 1) && c->pool->creds)
		credcache_clear(c->pool->creds);
	for (int i = 0; i < DB_ROWS_COUNT; i++)
		if ((changed & (2u << i)) && c->pool->rows[i])
			rowcache_clear(c->pool->rows[i]);
}

static void mark_changed(struct db_conn *c, unsigned bit)
{
	if (!c->pool || !c->pool->notify)
		return;
	c->changed |= bit;
	if (!db_in_transaction(c))
		changes_settle(c);
}

void db_credentials_changed(struct db_conn *c)
{
	mark_changed(c, 1);
}

void db_rows_changed(struct db_conn *c, enum db_rows which)
{
	mark_changed(c, 2u << which);
}

static void stmts_forget(struct db_conn *c)
{
	for (size_t i = 0; i < c->nstmts; i++)
		free(c->stmts[i].sql);
	free(c->stmts);
	c->stmts = NULL;
	c->nstmts = 0;
}

void db_pool_free(struct db_pool *pool)
{
	if (!pool)
		return;
	notify_close(pool->notify);   /* first: its thread calls into the caches */
	credcache_free(pool->creds);
	for (int i = 0; i < DB_ROWS_COUNT; i++)
		rowcache_free(pool->rows[i]);
	for (unsigned i = 0; i < pool->size; i++) {
		assert(!pool->conns[i].busy);
		PQfinish(pool->conns[i].pg);
		stmts_forget(&pool->conns[i]);
	}
	free(pool->conns);
	free(pool->conninfo);
	free(pool->role);
	pthread_cond_destroy(&pool->cv);
	pthread_mutex_destroy(&pool->mu);
	free(pool);
}

static void pool_give_back(struct db_conn *c)
{
	struct db_pool *p = c->pool;

	pthread_mutex_lock(&p->mu);
	c->busy = false;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* A session of the pool was found lost: make every older one suspect. */
static void pool_lost(struct db_pool *p)
{
	pthread_mutex_lock(&p->mu);
	p->epoch++;
	pthread_mutex_unlock(&p->mu);
}

void db_pool_stats(struct db_pool_stats *out, struct db_pool *pool)
{
	assert(out && pool);
	pthread_mutex_lock(&pool->mu);
	out->size = pool->size;
	out->in_use = 0;
	for (unsigned i = 0; i < pool->size; i++)
		out->in_use += pool->conns[i].busy;
	out->waiting = pool->waiting;
	pthread_mutex_unlock(&pool->mu);
	out->creds = pool->creds != NULL;
	if (pool->creds) {
		struct credcache_stats cs;

		credcache_stats(&cs, pool->creds);
		out->creds_listening = cs.listening;
		out->creds_hits = cs.hits;
		out->creds_misses = cs.misses;
		out->creds_notifications = cs.notifications;
		out->creds_connects = cs.connects;
	}
	if (pool->rows[DB_ROWS_ASSETS]) {
		struct rowcache_stats rs;

		rowcache_stats(&rs, pool->rows[DB_ROWS_ASSETS]);
		out->asset_hits = rs.hits;
		out->asset_misses = rs.misses;
	}
}

int db_acquire(struct db_conn **out, struct db_pool *pool)
{
	struct db_conn *c = NULL;
	int64_t wait_us = 0;
	unsigned epoch;
	int rc;

	assert(out && pool);
	pthread_mutex_lock(&pool->mu);
	for (;;) {
		/* Prefer a slot that is already connected. */
		for (unsigned i = 0; i < pool->size && !c; i++)
			if (!pool->conns[i].busy && pool->conns[i].pg)
				c = &pool->conns[i];
		for (unsigned i = 0; i < pool->size && !c; i++)
			if (!pool->conns[i].busy)
				c = &pool->conns[i];
		if (c)
			break;
		pool->waiting++;
		pthread_cond_wait(&pool->cv, &pool->mu);
		pool->waiting--;
	}
	epoch = pool->epoch;
	if (!(c->pg && PQstatus(c->pg) == CONNECTION_OK && c->epoch == epoch) &&
	    pool->retry_at_us > mono_us())
		wait_us = pool->retry_at_us - mono_us();
	c->busy = !wait_us;
	pthread_mutex_unlock(&pool->mu);
	if (wait_us)
		return err_set(OTCM_EUNAVAIL, NULL,
			       "the database is unreachable; reconnecting (next attempt in %" PRId64 " ms)",
			       wait_us / 1000 + 1);

	/* Connecting happens outside the lock so one slow server does not block other borrowers. */
	rc = conn_ready(c, pool->conninfo, epoch);
	pthread_mutex_lock(&pool->mu);
	if (rc) {
		/* back off: the next attempt waits, and waits longer each time */
		if (pool->retry_at_us <= mono_us()) {
			pool->retry_at_us = mono_us() + pool->backoff_us;
			pool->backoff_us = pool->backoff_us * 2 > DB_BACKOFF_MAX_US ? DB_BACKOFF_MAX_US
										  : pool->backoff_us * 2;
		}
	} else if (pool->retry_at_us) {
		log_msg(LOG_INFO, "reconnected to the database");
		pool->retry_at_us = 0;
		pool->backoff_us = DB_BACKOFF_MIN_US;
	}
	pthread_mutex_unlock(&pool->mu);
	if (rc) {
		pool_give_back(c);
		return rc;
	}
	*out = c;
	return 0;
}

/* Leave the connection idle: roll back what is open; on failure, mark it for a reset. */
static void conn_settle(struct db_conn *c)
{
	PGresult *r;

	changes_settle(c);   /* a rolled-back change needs no forgetting, but it does no harm */
	if (!c->pg || PQstatus(c->pg) != CONNECTION_OK)
		return;
	switch (PQtransactionStatus(c->pg)) {
	case PQTRANS_IDLE:
		return;
	case PQTRANS_INTRANS:
	case PQTRANS_INERROR:
		r = PQexec(c->pg, "ROLLBACK");
		if (PQresultStatus(r) == PGRES_COMMAND_OK &&
		    PQtransactionStatus(c->pg) == PQTRANS_IDLE) {
			PQclear(r);
			return;
		}
		PQclear(r);
		break;
	default:
		break;
	}
	/* Unknown state: start over with a fresh session next time. */
	log_msg(LOG_WARN, "database connection left in an unknown state, closing it");
	PQfinish(c->pg);
	c->pg = NULL;
}

void db_release(struct db_conn *c)
{
	if (!c)
		return;
	if (c->pool && c->pg && (c->lost || PQstatus(c->pg) != CONNECTION_OK)) {
		/* this session is gone, and the others to the same server likely too */
		PQfinish(c->pg);
		c->pg = NULL;
		c->lost = false;
		pool_lost(c->pool);
	}
	conn_settle(c);
	if (c->pool)
		pool_give_back(c);
}

int db_connect(struct db_conn **out, const char *conninfo)
{
	struct db_conn *c = NULL;
	PGconn *pg = NULL;
	int rc;

	assert(out && conninfo);
	rc = conn_open(&pg, conninfo);
	if (rc)
		goto out;
	c = xcalloc(1, sizeof(*c));
	c->pg = pg;
	*out = c;
out:
	return rc;
}

void db_disconnect(struct db_conn *c)
{
	if (!c)
		return;
	assert(!c->pool);
	PQfinish(c->pg);
	free(c);
}

/*
 * Turn a failed result (or none) into an error code and message.  `r` may
 * be NULL when libpq could not even send the query.
 */
static int result_error(PGconn *pg, const PGresult *r)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	int code = OTCM_EDB;

	if (PQstatus(pg) != CONNECTION_OK || !state)
		return conn_error(PQstatus(pg) != CONNECTION_OK ? OTCM_EUNAVAIL : OTCM_EDB, pg,
				  "database request failed");
	/* 25006: a read-only server (a standby, or a primary demoted under us) */
	if (!strcmp(state, "23505"))
		code = OTCM_ECONFLICT;
	else if (!strcmp(state, "40001") || !strcmp(state, "40P01"))
		code = OTCM_ERETRY;
	else if (!strncmp(state, "08", 2) || !strcmp(state, "57P01") ||
		 !strcmp(state, "57P02") || !strcmp(state, "57P03") || !strcmp(state, "25006"))
		code = OTCM_EUNAVAIL;
	return err_set(code, NULL, "%s", msg ? msg : PQresultErrorMessage(r));
}

static bool result_ok(const PGresult *r)
{
	ExecStatusType st = PQresultStatus(r);

	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

static uint32_t sql_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/*
 * *out_name gets the name of a prepared statement for `sql` on pooled
 * connection c, prepared the first time, or NULL when it is not prepared
 * (one-off connection, cache full, transaction already failed) and the
 * caller sends the text instead.  A statement the server refuses to
 * prepare is the caller's error, reported as running it would report it
 * (preparing in a transaction aborts it just as running would).
 */
static int stmt_for(const char **out_name, char *name, size_t n, struct db_conn *c,
		    const char *sql, int nparams)
{
	uint32_t h;
	PGresult *r;
	size_t i;
	int rc;

	*out_name = NULL;
	if (!c->pool || PQstatus(c->pg) != CONNECTION_OK)
		return 0;
	if (c->stmt_pid != PQbackendPID(c->pg)) {
		stmts_forget(c);
		c->stmt_pid = PQbackendPID(c->pg);
	}
	h = sql_hash(sql);
	for (i = 0; i < c->nstmts; i++) {
		if (c->stmts[i].hash == h && strcmp(c->stmts[i].sql, sql) == 0) {
			snprintf(name, n, "otcm_%zu", i);
			*out_name = name;
			return 0;
		}
	}
	if (c->nstmts >= DB_STMT_MAX || PQtransactionStatus(c->pg) == PQTRANS_INERROR)
		return 0;
	snprintf(name, n, "otcm_%zu", c->nstmts);
	r = PQprepare(c->pg, name, sql, nparams, NULL);
	if (!result_ok(r)) {
		rc = result_error(c->pg, r);
		PQclear(r);
		return rc;
	}
	PQclear(r);
	if (c->nstmts % 16 == 0)
		c->stmts = xrealloc(c->stmts, (c->nstmts + 16) * sizeof(*c->stmts));
	c->stmts[c->nstmts].sql = xstrdup(sql);
	c->stmts[c->nstmts].hash = h;
	c->nstmts++;
	*out_name = name;
	return 0;
}

int db_exec(struct db_res **out, struct db_conn *c, const char *sql,
	    size_t nparams, const struct db_param *params, bool binary_results)
{
	char name[32];
	const char *stmt;
	const char **vals = NULL;
	int *lens = NULL, *fmts = NULL;
	PGresult *r = NULL;
	int rc = 0;

	assert(c && c->pg && sql && (nparams == 0 || params));
	if (nparams > 65535) {
		rc = err_set(OTCM_EINTERNAL, NULL, "too many statement parameters (%zu)", nparams);
		goto out;
	}
	if (nparams) {
		vals = xcalloc(nparams, sizeof(*vals));
		lens = xcalloc(nparams, sizeof(*lens));
		fmts = xcalloc(nparams, sizeof(*fmts));
	}
	for (size_t i = 0; i < nparams; i++) {
		vals[i] = params[i].value;
		if (params[i].binary && params[i].value) {
			if (params[i].len > INT32_MAX) {
				rc = err_set(OTCM_ETOOBIG, NULL, "statement parameter %zu too large", i + 1);
				goto out;
			}
			lens[i] = (int)params[i].len;
			fmts[i] = 1;
		}
	}
	if ((rc = stmt_for(&stmt, name, sizeof(name), c, sql, (int)nparams)))
		goto out;
	if (stmt)
		r = PQexecPrepared(c->pg, stmt, (int)nparams, vals, lens, fmts, binary_results ? 1 : 0);
	else
		r = PQexecParams(c->pg, sql, (int)nparams, NULL, vals, lens, fmts, binary_results ? 1 : 0);
	if (!result_ok(r)) {
		rc = result_error(c->pg, r);
		c->lost = c->lost || rc == OTCM_EUNAVAIL;
		goto out;
	}
	if (out) {
		struct db_res *res = xcalloc(1, sizeof(*res));

		res->r = r;
		r = NULL;
		*out = res;
	}
out:
	PQclear(r);
	free(vals);
	free(lens);
	free(fmts);
	return rc;
}

int db_execv(struct db_res **out, struct db_conn *c, const char *sql,
	     size_t nparams, const char *const *values)
{
	struct db_param *params = NULL;
	int rc;

	if (nparams) {
		params = xcalloc(nparams, sizeof(*params));
		for (size_t i = 0; i < nparams; i++)
			params[i] = DB_TEXT(values[i]);
	}
	rc = db_exec(out, c, sql, nparams, params, false);
	free(params);
	return rc;
}

/* Run a command without parameters (transaction control, migration scripts). */
static int exec_simple(struct db_conn *c, const char *sql)
{
	PGresult *r = PQexec(c->pg, sql);
	int rc = 0;

	if (!result_ok(r))
		rc = result_error(c->pg, r);
	c->lost = c->lost || rc == OTCM_EUNAVAIL;
	PQclear(r);
	return rc;
}

bool db_in_transaction(const struct db_conn *c)
{
	PGTransactionStatusType st;

	if (!c || !c->pg)
		return false;
	st = PQtransactionStatus(c->pg);
	return st == PQTRANS_INTRANS || st == PQTRANS_INERROR || st == PQTRANS_ACTIVE;
}

/* Send the chunks of a COPY's data in pieces of at most DB_COPY_PIECE bytes. */
static int copy_send(struct db_conn *c, const struct db_chunk *chunks, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *p = chunks[i].data;
		size_t left = chunks[i].len;

		while (left > 0) {
			size_t piece = left < DB_COPY_PIECE ? left : DB_COPY_PIECE;

			if (PQputCopyData(c->pg, p, (int)piece) != 1)
				return conn_error(OTCM_EUNAVAIL, c->pg, "cannot send COPY data");
			p += piece;
			left -= piece;
		}
	}
	return 0;
}

/* The COPY itself: start it, stream the data, end it and read its result. */
static int copy_run(struct db_conn *c, const char *sql, const struct db_chunk *chunks, size_t n)
{
	PGresult *r = PQexec(c->pg, sql);
	int rc = 0;

	if (PQresultStatus(r) != PGRES_COPY_IN) {
		rc = result_ok(r) ? err_set(OTCM_EINTERNAL, NULL, "statement is not a COPY FROM STDIN")
				  : result_error(c->pg, r);
		PQclear(r);
		return rc;
	}
	PQclear(r);
	rc = copy_send(c, chunks, n);
	/* a COPY cut short is ended with an error, so the server drops its rows */
	if (PQputCopyEnd(c->pg, rc ? "the client could not send all the data" : NULL) != 1 && !rc)
		rc = conn_error(OTCM_EUNAVAIL, c->pg, "cannot end COPY");
	while ((r = PQgetResult(c->pg))) {
		if (!rc && !result_ok(r))
			rc = result_error(c->pg, r);
		PQclear(r);
	}
	return rc;
}

int db_copy_in(struct db_conn *c, const char *sql, const struct db_chunk *chunks, size_t n)
{
	bool savepoint;
	int rc;

	assert(c && c->pg && sql && (n == 0 || chunks));
	for (size_t i = 0; i < n; i++)
		assert(chunks[i].data || chunks[i].len == 0);
	savepoint = db_in_transaction(c);
	if (savepoint && (rc = exec_simple(c, "SAVEPOINT otcm_copy")))
		return rc;
	rc = copy_run(c, sql, chunks, n);
	c->lost = c->lost || rc == OTCM_EUNAVAIL;
	if (savepoint && rc && !c->lost) {
		/* undo the COPY alone; its error stays the answer */
		char *why = xstrdup(err_message());

		if (exec_simple(c, "ROLLBACK TO SAVEPOINT otcm_copy") == 0)
			exec_simple(c, "RELEASE SAVEPOINT otcm_copy");
		err_set(rc, NULL, "%s", why);
		free(why);
	} else if (savepoint && !rc) {
		rc = exec_simple(c, "RELEASE SAVEPOINT otcm_copy");
	}
	return rc;
}

int db_begin(struct db_conn *c)
{
	assert(c && c->pg);
	if (db_in_transaction(c))
		return err_set(OTCM_EINTERNAL, NULL, "a transaction is already open");
	return exec_simple(c, "BEGIN");
}

int db_begin_snapshot(struct db_conn *c, bool read_only)
{
	assert(c && c->pg);
	if (db_in_transaction(c))
		return err_set(OTCM_EINTERNAL, NULL, "a transaction is already open");
	return exec_simple(c, read_only ? "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
				       : "BEGIN ISOLATION LEVEL REPEATABLE READ");
}

int db_commit(struct db_conn *c)
{
	PGresult *r = NULL;
	int rc = 0;

	assert(c && c->pg);
	switch (PQtransactionStatus(c->pg)) {
	case PQTRANS_INTRANS:
		break;
	case PQTRANS_INERROR:
		/* COMMIT would answer "ROLLBACK" with success: say what happened instead. */
		exec_simple(c, "ROLLBACK");
		rc = err_set(OTCM_EINTERNAL, NULL,
			     "commit of a transaction aborted by an earlier error");
		goto out;
	default:
		if (PQstatus(c->pg) != CONNECTION_OK)
			rc = conn_error(OTCM_EUNAVAIL, c->pg, "database connection lost");
		else
			rc = err_set(OTCM_EINTERNAL, NULL, "commit without an open transaction");
		goto out;
	}
	r = PQexec(c->pg, "COMMIT");
	if (!result_ok(r)) {
		/* lost here, the outcome is unknown to us: the caller answers 503, never success */
		rc = result_error(c->pg, r);
		c->lost = c->lost || rc == OTCM_EUNAVAIL;
		goto out;
	}
	if (strcmp(PQcmdStatus(r), "COMMIT") != 0)
		rc = err_set(OTCM_EDB, NULL, "transaction rolled back at commit ('%s')", PQcmdStatus(r));
out:
	PQclear(r);
	changes_settle(c);
	return rc;
}

int db_rollback(struct db_conn *c)
{
	assert(c && c->pg);
	int rc;

	if (!db_in_transaction(c)) {
		changes_settle(c);
		return 0;
	}
	rc = exec_simple(c, "ROLLBACK");
	changes_settle(c);
	return rc;
}

size_t db_res_rows(const struct db_res *r)
{
	return r ? (size_t)PQntuples(r->r) : 0;
}

size_t db_res_cols(const struct db_res *r)
{
	return r ? (size_t)PQnfields(r->r) : 0;
}

const char *db_res_get(const struct db_res *r, size_t row, size_t col)
{
	assert(r && row < db_res_rows(r) && col < db_res_cols(r));
	if (PQgetisnull(r->r, (int)row, (int)col))
		return NULL;
	return PQgetvalue(r->r, (int)row, (int)col);
}

size_t db_res_len(const struct db_res *r, size_t row, size_t col)
{
	assert(r && row < db_res_rows(r) && col < db_res_cols(r));
	return (size_t)PQgetlength(r->r, (int)row, (int)col);
}

bool db_res_isnull(const struct db_res *r, size_t row, size_t col)
{
	assert(r && row < db_res_rows(r) && col < db_res_cols(r));
	return PQgetisnull(r->r, (int)row, (int)col) != 0;
}

int db_res_col(const struct db_res *r, const char *name)
{
	assert(r && name);
	return PQfnumber(r->r, name);
}

uint64_t db_res_affected(const struct db_res *r)
{
	const char *s = r ? PQcmdTuples(r->r) : "";

	return *s ? strtoull(s, NULL, 10) : 0;
}

void db_res_free(struct db_res *r)
{
	if (!r)
		return;
	PQclear(r->r);
	free(r);
}

/* Apply one migration and record it, in one transaction. */
static int migrate_one(struct db_conn *c, const struct db_migration *m)
{
	static const char sql_record[] = "INSERT INTO schema_migrations (name) VALUES ($1)";
	int rc;

	if ((rc = db_begin(c)))
		goto out;
	if ((rc = exec_simple(c, m->sql))) {
		char *why = xstrdup(err_message());

		err_set(rc, NULL, "migration '%s' failed: %s", m->name, why);
		free(why);
		goto out;
	}
	if ((rc = db_exec(NULL, c, sql_record, 1, &DB_TEXT(m->name), false)))
		goto out;
	rc = db_commit(c);
out:
	if (rc)
		db_rollback(c);
	return rc;
}

static bool applied_has(const struct db_res *r, const char *name)
{
	for (size_t i = 0; i < db_res_rows(r); i++)
		if (!strcmp(db_res_get(r, i, 0), name))
			return true;
	return false;
}

static bool known_has(const struct db_migration *m, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(m[i].name, name))
			return true;
	return false;
}

int db_migrate(struct db_conn *c, const struct db_migration *m, size_t n, unsigned *out_applied)
{
	static const char sql_lock[] = "SELECT pg_advisory_lock(" DB_MIGRATE_LOCK_KEY ")";
	static const char sql_unlock[] = "SELECT pg_advisory_unlock(" DB_MIGRATE_LOCK_KEY ")";
	static const char sql_table[] =
		"CREATE TABLE IF NOT EXISTS schema_migrations ("
		" name text PRIMARY KEY,"
		" applied_at timestamptz NOT NULL DEFAULT now())";
	static const char sql_applied[] = "SELECT name FROM schema_migrations ORDER BY name";
	struct db_res *applied = NULL;
	unsigned count = 0;
	bool locked = false;
	int rc;

	assert(c && c->pg && (n == 0 || m));
	if (db_in_transaction(c)) {
		rc = err_set(OTCM_EINTERNAL, NULL, "migrations need a connection outside a transaction");
		goto out;
	}
	/* Concurrent starters queue here; the table is created under the lock too. */
	if ((rc = exec_simple(c, sql_lock)))
		goto out;
	locked = true;
	if ((rc = exec_simple(c, sql_table)))
		goto out;
	if ((rc = db_exec(&applied, c, sql_applied, 0, NULL, false)))
		goto out;
	for (size_t i = 0; i < db_res_rows(applied); i++)
		if (!known_has(m, n, db_res_get(applied, i, 0)))
			log_json(LOG_WARN, "database has a migration this build does not know",
				 json_pack("{s:s}", "migration", db_res_get(applied, i, 0)));
	for (size_t i = 0; i < n; i++) {
		if (applied_has(applied, m[i].name))
			continue;
		if ((rc = migrate_one(c, &m[i])))
			goto out;
		count++;
		log_json(LOG_INFO, "migration applied", json_pack("{s:s}", "migration", m[i].name));
	}
out:
	if (locked && PQstatus(c->pg) == CONNECTION_OK) {
		PGresult *r = PQexec(c->pg, sql_unlock);

		PQclear(r);
	}
	db_res_free(applied);
	if (out_applied)
		*out_applied = count;
	return rc;
}

int db_pool_connect(struct db_conn **out, struct db_pool *pool)
{
	assert(out && pool);
	return db_connect(out, pool->conninfo);
}

int db_try_lock(bool *out, struct db_conn *c, int64_t key)
{
	static const char sql[] = "SELECT pg_try_advisory_lock($1::bigint)";
	char k[24];
	const char *v[1] = { k };
	struct db_res *res = NULL;
	int rc;

	*out = false;
	snprintf(k, sizeof(k), "%" PRId64, key);
	if ((rc = db_execv(&res, c, sql, 1, v)))
		return rc;
	*out = strcmp(db_res_get(res, 0, 0), "t") == 0;
	db_res_free(res);
	return 0;
}

int db_ping(struct db_conn *c)
{
	return exec_simple(c, "SELECT 1");
}
