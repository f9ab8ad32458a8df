/*
 * storage/notify.c - one LISTEN connection and its thread; see notify.h.
 */
#include "storage/notify.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"

#define PING_EVERY_US (5LL * 1000000)    /* ask the connection a query this often */
#define PING_ANSWER_US (5LL * 1000000)   /* and give up on it when no answer came in this time */
#define RETRY_MIN_MS 100
#define RETRY_MAX_MS 5000

struct notify {
	char *conninfo;
	struct notify_sub *subs;
	size_t nsubs;
	pthread_t thread;
	bool started;
	int wake[2];              /* written to stop the thread */
	atomic_bool stop;
};

static void tell_state(struct notify *nt, bool listening)
{
	for (size_t i = 0; i < nt->nsubs; i++)
		nt->subs[i].on_state(nt->subs[i].ctx, listening);
}

/* Sleep `ms`, or less when asked to stop; true when asked to stop. */
static bool pause_ms(struct notify *nt, int ms)
{
	struct pollfd p = { .fd = nt->wake[0], .events = POLLIN };

	if (atomic_load(&nt->stop))
		return true;
	(void)poll(&p, 1, ms);
	return atomic_load(&nt->stop);
}

static PGconn *listen_connect(struct notify *nt)
{
	static const char *const keys[] = {
		"connect_timeout", "dbname", "fallback_application_name", "application_name",
		"client_encoding", NULL
	};
	const char *vals[] = { "10", nt->conninfo, "otcm", "otcm-listen", "UTF8", NULL };
	PGconn *pg = PQconnectdbParams(keys, vals, 1);
	struct buf sql = BUF_INIT;
	PGresult *r = NULL;

	if (!pg || PQstatus(pg) != CONNECTION_OK) {
		log_msg(LOG_WARN, "listening for changes: cannot connect: %s",
			pg ? PQerrorMessage(pg) : "out of memory");
		goto fail;
	}
	buf_init(&sql, 256);
	for (size_t i = 0; i < nt->nsubs; i++)
		buf_addf(&sql, "LISTEN %s;", nt->subs[i].channel);
	r = PQexec(pg, buf_cstr(&sql));
	buf_release(&sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		log_msg(LOG_WARN, "listening for changes: LISTEN refused: %s", PQerrorMessage(pg));
		goto fail;
	}
	PQclear(r);
	if (PQsetnonblocking(pg, 1) != 0)
		goto fail;
	return pg;
fail:
	PQclear(r);
	PQfinish(pg);
	return NULL;
}

/* Hand every notification that arrived to its subscriber; false when the connection is gone. */
static bool drain(struct notify *nt, PGconn *pg, bool *answered)
{
	PGnotify *n;
	PGresult *r;

	if (!PQconsumeInput(pg))
		return false;
	while ((n = PQnotifies(pg)) != NULL) {
		for (size_t i = 0; i < nt->nsubs; i++)
			if (strcmp(n->relname, nt->subs[i].channel) == 0)
				nt->subs[i].on_note(nt->subs[i].ctx, n->extra ? n->extra : "");
		PQfreemem(n);
	}
	while (!PQisBusy(pg) && (r = PQgetResult(pg)) != NULL) {
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			PQclear(r);
			return false;
		}
		*answered = true;
		PQclear(r);
	}
	return PQstatus(pg) == CONNECTION_OK;
}

/* Listen until the connection fails or the thread is stopped. */
static void listen_session(struct notify *nt, PGconn *pg)
{
	int64_t last_ping = time_mono_us(), asked = 0;

	tell_state(nt, true);
	log_msg(LOG_INFO, "listening for changes to cached rows");
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = PQsocket(pg), .events = POLLIN },
			{ .fd = nt->wake[0], .events = POLLIN },
		};
		bool answered = false;
		int64_t now;

		if (poll(p, 2, 1000) < 0 && errno != EINTR)
			break;
		if (atomic_load(&nt->stop) || !drain(nt, pg, &answered))
			break;
		now = time_mono_us();
		if (answered)
			asked = 0;
		if (asked && now - asked > PING_ANSWER_US) {
			log_msg(LOG_WARN, "listening for changes: the connection stopped answering");
			break;
		}
		if (!asked && now - last_ping > PING_EVERY_US) {
			if (!PQsendQuery(pg, "SELECT 1") || PQflush(pg) < 0)
				break;
			asked = last_ping = now;
		}
	}
	tell_state(nt, false);
	if (!atomic_load(&nt->stop))
		log_msg(LOG_WARN, "listening for changes: connection lost; "
				  "cached rows are read from the database until it is back");
}

static void *listen_main(void *arg)
{
	struct notify *nt = arg;
	int retry = RETRY_MIN_MS;

	while (!atomic_load(&nt->stop)) {
		PGconn *pg = listen_connect(nt);

		if (pg) {
			retry = RETRY_MIN_MS;
			listen_session(nt, pg);
			PQfinish(pg);
		} else if (retry < RETRY_MAX_MS) {
			retry *= 2;
		}
		if (pause_ms(nt, pg ? RETRY_MIN_MS : retry))
			break;
	}
	return NULL;
}

int notify_open(struct notify **out, const char *conninfo, const struct notify_sub *subs,
		size_t n)
{
	struct notify *nt;
	int rc;

	*out = NULL;
	nt = xcalloc(1, sizeof(*nt));
	nt->conninfo = xstrdup(conninfo);
	nt->subs = xmemdup(subs, n * sizeof(*subs));
	nt->nsubs = n;
	atomic_init(&nt->stop, false);
	if (pipe2(nt->wake, O_CLOEXEC) != 0) {
		rc = err_set(OTCM_EINTERNAL, NULL, "listening for changes: pipe: %s", strerror(errno));
		nt->wake[0] = nt->wake[1] = -1;
		notify_close(nt);
		return rc;
	}
	if ((rc = pthread_create(&nt->thread, NULL, listen_main, nt)) != 0) {
		rc = err_set(OTCM_EINTERNAL, NULL, "listening for changes: thread: %s", strerror(rc));
		notify_close(nt);
		return rc;
	}
	nt->started = true;
	*out = nt;
	return 0;
}

void notify_close(struct notify *nt)
{
	if (!nt)
		return;
	atomic_store(&nt->stop, true);
	if (nt->started) {
		ssize_t w = write(nt->wake[1], "x", 1);

		(void)w;
		pthread_join(nt->thread, NULL);
	}
	if (nt->wake[0] >= 0)
		close(nt->wake[0]);
	if (nt->wake[1] >= 0)
		close(nt->wake[1]);
	free(nt->subs);
	free(nt->conninfo);
	free(nt);
}
