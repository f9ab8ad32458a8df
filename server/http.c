/*
 * server/http.c - the HTTP glue over libmicrohttpd (the only file that
 * includes <microhttpd.h>); see http.h.  It calls nothing above it: the
 * request's meaning is the dispatcher's (struct http_hooks).
 *
 * Life of a connection and a request here:
 *
 *   on_connection() a connection is accepted: counted for its address and
 *                  in total, and put on the watchdog's list
 *   uri_log()      the request line has arrived: a request state with its
 *                  own arena and a random request id is created
 *   on_access()    first call (headers in): the connection limits and the
 *                  header size, then hooks.begin() (route, caller, roles),
 *                  then the declared body size against what begin() allows,
 *                  each able to answer at once, before any body is read;
 *                  further calls: the body is buffered up to that limit;
 *                  last call: hooks.finish() runs the handler, the response
 *                  is queued
 *   a stream      when the handler chose http_reply_stream(): its producer
 *                  runs on a thread of its own, MHD drains what it writes
 *                  (stream_read), the connection sleeps suspended while
 *                  nothing is pending
 *   on_completed() the producer is stopped and waited for, the access log
 *                  line, then the arena and everything registered on it are
 *                  freed
 *   the watchdog   every 250 ms: 408 to a request whose headers are not in
 *                  within --header-timeout, that stalls for --conn-timeout,
 *                  or whose body arrives slower than --min-body-rate; 503 to
 *                  a connection over its address's limit that sends nothing;
 *                  a stream's keep-alive when its producer has been silent
 *
 * libmicrohttpd lets a response be queued only before the body is read or
 * after all of it has been, which shapes how the limits behave (see also
 * docs/http.md):
 *
 *   --max-connections  connections past it get 503 problem+json with
 *                      Connection: close; MHD's own limit (which drops
 *                      connections silently) is about twice as high
 *   --max-connections-per-address
 *                      an address's connections past it get 503 with
 *                      Retry-After and are not counted towards
 *                      --max-connections, so other clients keep being served;
 *                      MHD drops an address's connections past twice the limit
 *   --max-header       431 problem+json; past about twice the limit MHD's
 *                      memory pool overflows and MHD itself answers 431 with
 *                      a small HTML body and no request id
 *   body limits        hooks.begin() sets the request's limit (--max-form-body,
 *                      or --max-body for uploads); Content-Length too large:
 *                      413 before the body is read; a chunked body that
 *                      outgrows it is read and dropped for up to 1 MiB more,
 *                      then answered 413, and beyond that the connection is
 *                      closed after a 413 written to the socket; memory the
 *                      system refuses for a body is a 503, never an abort
 *   --header-timeout   from the connection's start (or its previous request's
 *                      end) to the end of the headers: 408, or for an idle
 *                      connection a silent close
 *   --conn-timeout     a client silent that long mid-request gets 408
 *   --min-body-rate    after --header-timeout seconds of body, a body that
 *                      averaged fewer bytes a second gets 408
 */
#include "server/http.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "core/utf8.h"

/* How much of an over-long chunked body is read and thrown away so the
 * client can still be told 413; past this the connection is closed. */
#define HTTP_DISCARD_MAX ((uint64_t)1 << 20)

/* How long shutdown waits for requests in flight. */
#define HTTP_DRAIN_SECONDS 30

/* How often the watchdog looks for stalled requests. */
#define HTTP_WATCHDOG_MS 250

/* How long a connection over its address's limit may take to send its
 * request (answered 503 by the glue) before the watchdog answers for it. */
#define HTTP_REFUSE_GRACE_US ((int64_t)1000000)

struct http_conn;

/* Why a connection is refused, decided when it is accepted. */
enum sock_limit {
	SOCK_OK,
	SOCK_OVER_TOTAL,          /* past --max-connections */
	SOCK_OVER_ADDR,           /* past --max-connections-per-address */
};

/* One accepted connection: MHD's socket context, on the watchdog's list. */
struct http_sock {
	struct http_sock *next, **prev;   /* d->socks; all fields under d->lock */
	int fd;
	char addr[INET6_ADDRSTRLEN];      /* the client's address, as text */
	enum sock_limit over;
	bool counted;                     /* counts towards open_conns */
	bool closing;                     /* the watchdog hung up */
	int64_t idle_since_us;            /* accepted, or its previous request ended */
	struct http_conn *cur;            /* the request in progress, or NULL */
};

/* The process-wide daemon state, handed to every callback as its cls. */
struct http_daemon {
	const struct server *srv;
	const struct http_hooks *hooks;
	atomic_uint open_conns;   /* connections accepted within their address's limit */
	atomic_uint inflight;     /* requests begun and not completed */
	atomic_bool stopping;     /* shutdown started: answer with Connection: close */
	bool tls;
	/*
	 * Open connections, for the per-address limit and for the watchdog
	 * that answers clients too slow with their headers or body
	 * (libmicrohttpd itself can only hang up: it answers nothing once its
	 * own timeout passes).
	 */
	pthread_mutex_t lock;
	struct http_sock *socks;
	pthread_t watchdog;
	atomic_bool watchdog_stop;
};

struct http_header {
	const char *name, *value;
	struct http_header *next;
};

/* One request; req.conn points back here. */
struct http_conn {
	struct http_req req;
	struct http_daemon *d;
	struct MHD_Connection *mhd;
	struct http_sock *sock;   /* its connection */
	int64_t start_us;
	bool started;             /* first access call done */
	bool too_big;             /* body grew past req.max_body */
	bool nomem;               /* the system refused memory for the body */
	bool replied;             /* a handler or the core chose a response */
	bool queued;              /* the response went to MHD */
	bool close;               /* close the connection after the response */
	struct buf body;
	uint64_t discarded;
	unsigned status;
	unsigned raw_status;      /* a status written straight to the socket */
	const char *content_type;
	const char *data;
	size_t len;
	struct http_header *headers, **tail;
	char rid[17];
	/* what the watchdog reads */
	atomic_llong last_us;     /* monotonic time of the last bytes read */
	atomic_llong begun_us;    /* when the headers were in; 0 before */
	atomic_ullong body_bytes; /* body bytes read so far */
	atomic_bool busy;         /* a callback of ours is running for it */
	atomic_bool received;     /* the whole request is in: no timeout now */
	atomic_bool responding;   /* a response went to MHD, which writes it now */
	atomic_bool timed_out;    /* the watchdog answered 408 and hung up */
	struct http_stream *stream;   /* a streamed body (http_reply_stream), or NULL */
};

/*
 * A streamed body: the producer's thread appends to `pending`, MHD's
 * reader callback takes from it on the connection's worker thread.  While
 * nothing is pending the connection is suspended (MHD polls nothing for
 * it) and resumed by the next write, the keep-alive or the end.
 */
struct http_stream {
	struct http_conn *c;
	http_producer produce;
	void *ctx;
	pthread_mutex_t lock;
	pthread_cond_t room;          /* the reader took bytes, or the client is gone */
	struct buf pending;
	size_t off;                   /* bytes of pending already taken */
	bool suspended;               /* the connection waits for bytes */
	bool done;                    /* the producer returned */
	bool failed;                  /* ... with an error: cut the connection */
	bool gone;                    /* the request is over: stop producing */
	bool running;                 /* the producer's thread was started */
	pthread_t thread;
	char keep[1024];              /* keep-alive bytes */
	size_t keep_len;
	int64_t every_us;
	int64_t last_write_us;
	uint64_t sent;                /* bytes handed to MHD */
};

static const char *conn_rid(const struct http_conn *c)
{
	return c->rid;
}

/* ---- errors to statuses --------------------------------------------- */

unsigned http_status_for(int code)
{
	switch (code) {
	case OTCM_OK: return 200;
	case OTCM_EINVAL: return 400;
	case OTCM_ENOTFOUND: return 404;
	case OTCM_ECONFLICT: return 409;
	case OTCM_EAUTH: return 401;
	case OTCM_EFORBIDDEN: return 403;
	case OTCM_ETOOBIG: return 413;
	case OTCM_ELOCKED: return 423;
	case OTCM_ETHROTTLED: return 429;
	case OTCM_EUNAVAIL: return 503;
	case OTCM_EMEDIA: return 415;
	case OTCM_ERULE: return 409;
	case OTCM_EMETHOD: return 405;
	case OTCM_ETIMEOUT: return 408;
	case OTCM_EHEADERS: return 431;
	default: return 500;   /* EIO, EDB, EGIT, EINTERNAL, ERETRY and anything unknown */
	}
}

static const char *status_title(unsigned status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 423: return "Locked";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

/* ---- request accessors ---------------------------------------------- */

static struct http_conn *conn_of(struct http_req *req)
{
	return req->conn;
}

const char *http_query(struct http_req *req, const char *name)
{
	struct http_conn *c = conn_of(req);

	return c && c->mhd ? MHD_lookup_connection_value(c->mhd, MHD_GET_ARGUMENT_KIND, name) : NULL;
}

const char *http_header(struct http_req *req, const char *name)
{
	struct http_conn *c = conn_of(req);

	return c && c->mhd ? MHD_lookup_connection_value(c->mhd, MHD_HEADER_KIND, name) : NULL;
}

const char *http_cookie(struct http_req *req, const char *name)
{
	struct http_conn *c = conn_of(req);

	return c && c->mhd ? MHD_lookup_connection_value(c->mhd, MHD_COOKIE_KIND, name) : NULL;
}

const char *http_param(struct http_req *req, size_t i)
{
	return i < req->nparams ? req->params[i] : NULL;
}

struct query_walk {
	int (*fn)(void *ctx, const char *name, const char *value);
	void *ctx;
	int rc;
};

static enum MHD_Result query_step(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *value)
{
	struct query_walk *w = cls;

	w->rc = w->fn(w->ctx, key, value);
	return w->rc ? MHD_NO : MHD_YES;
}

int http_query_each(struct http_req *req, int (*fn)(void *ctx, const char *name, const char *value),
		    void *ctx)
{
	struct http_conn *c = conn_of(req);
	struct query_walk w = { fn, ctx, 0 };

	if (c && c->mhd)
		MHD_get_connection_values(c->mhd, MHD_GET_ARGUMENT_KIND, query_step, &w);
	return w.rc;
}

bool http_replied(struct http_req *req)
{
	return conn_of(req)->replied;
}

/* ---- responses ------------------------------------------------------ */

void http_set_header(struct http_req *req, const char *name, const char *value)
{
	struct http_conn *c = conn_of(req);
	struct http_header *h = arena_alloc(req->arena, sizeof(*h));

	h->name = arena_strdup(req->arena, name);
	h->value = arena_strdup(req->arena, value);
	*c->tail = h;
	c->tail = &h->next;
}

/* Has a header been set already (case-insensitive)? */
static bool has_header(const struct http_conn *c, const char *name)
{
	const struct http_header *h;

	for (h = c->headers; h; h = h->next)
		if (strcasecmp(h->name, name) == 0)
			return true;
	return false;
}

int http_reply_bytes(struct http_req *req, unsigned status, const char *content_type,
		     const void *data, size_t len)
{
	struct http_conn *c = conn_of(req);

	if (c->replied) {
		log_msg(LOG_WARN, "second reply to '%s %s' ignored", req->method, req->path);
		return 0;
	}
	c->replied = true;
	c->status = status;
	c->content_type = content_type ? arena_strdup(req->arena, content_type) : NULL;
	c->data = len ? arena_memdup(req->arena, data, len) : NULL;
	c->len = len;
	return 0;
}

int http_reply_json(struct http_req *req, unsigned status, json_t *body)
{
	struct buf text = BUF_INIT;
	int rc;

	if (!body) {
		err_set(OTCM_EINTERNAL, NULL, "no response body");
		return http_reply_error(req, OTCM_EINTERNAL);
	}
	rc = json_render(&text, body);
	json_decref(body);
	if (rc) {
		buf_release(&text);
		err_set(OTCM_EINTERNAL, NULL, "response could not be serialised");
		return http_reply_error(req, OTCM_EINTERNAL);
	}
	rc = http_reply_bytes(req, status, "application/json", text.data, text.len);
	buf_release(&text);
	return rc;
}

int http_reply_empty(struct http_req *req, unsigned status)
{
	return http_reply_bytes(req, status, NULL, NULL, 0);
}

/* ---- streamed bodies ------------------------------------------------ */

static void stream_release(void *p)
{
	struct http_stream *s = p;

	buf_release(&s->pending);
	pthread_cond_destroy(&s->room);
	pthread_mutex_destroy(&s->lock);
}

int http_reply_stream(struct http_req *req, unsigned status, const char *content_type,
		      http_producer produce, void *ctx)
{
	struct http_conn *c = conn_of(req);
	struct http_stream *s;
	int rc;

	assert(produce);
	if (c->replied) {
		log_msg(LOG_WARN, "second reply to '%s %s' ignored", req->method, req->path);
		return 0;
	}
	if ((rc = http_reply_bytes(req, status, content_type, NULL, 0)))
		return rc;
	s = arena_alloc(req->arena, sizeof(*s));
	memset(s, 0, sizeof(*s));
	s->c = c;
	s->produce = produce;
	s->ctx = ctx;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->room, NULL);
	buf_init(&s->pending, 0);
	s->last_write_us = time_mono_us();
	arena_on_free(req->arena, stream_release, s);
	c->stream = s;
	return 0;
}

/* Under s->lock: let MHD take what is pending. */
static void stream_wake(struct http_stream *s)
{
	if (s->suspended) {
		s->suspended = false;
		MHD_resume_connection(s->c->mhd);
	}
}

int http_stream_write(struct http_stream *s, const void *data, size_t len)
{
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	while (!s->gone && s->pending.len - s->off > 0 &&
	       s->pending.len - s->off + len > HTTP_STREAM_BUFFER)
		pthread_cond_wait(&s->room, &s->lock);
	if (s->gone) {
		rc = err_set(OTCM_EIO, NULL, "the client is gone");
		goto out;
	}
	if (s->off == s->pending.len) {
		buf_reset(&s->pending);
		s->off = 0;
	} else if (s->off > HTTP_STREAM_BUFFER) {
		memmove(s->pending.data, s->pending.data + s->off, s->pending.len - s->off);
		s->pending.len -= s->off;
		s->off = 0;
	}
	if ((rc = buf_add(&s->pending, data, len)))
		goto out;
	s->last_write_us = time_mono_us();
	stream_wake(s);
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void http_stream_keepalive(struct http_stream *s, const void *data, size_t len, unsigned every_ms)
{
	int64_t half = (int64_t)s->c->d->srv->cfg->conn_timeout * 500000;

	pthread_mutex_lock(&s->lock);
	s->keep_len = len < sizeof(s->keep) ? len : 0;
	if (s->keep_len)
		memcpy(s->keep, data, len);
	s->every_us = (int64_t)every_ms * 1000;
	if (s->every_us > half)
		s->every_us = half;
	pthread_mutex_unlock(&s->lock);
}

/* The watchdog's part: the keep-alive when nothing was written for a while. */
static void stream_tick(struct http_stream *s, int64_t now)
{
	pthread_mutex_lock(&s->lock);
	if (s->running && !s->done && !s->gone && s->keep_len && s->every_us > 0 &&
	    s->off == s->pending.len && now - s->last_write_us >= s->every_us &&
	    buf_add(&s->pending, s->keep, s->keep_len) == 0) {
		s->last_write_us = now;
		stream_wake(s);
	}
	pthread_mutex_unlock(&s->lock);
}

static void *stream_main(void *arg)
{
	struct http_stream *s = arg;
	int rc;

	log_set_request_id(s->c->rid);
	err_clear();
	rc = s->produce(s, s->ctx);
	if (rc && !s->gone)
		log_msg(LOG_WARN, "streamed body of '%s %s' cut short: %s", s->c->req.method,
			s->c->req.path, err_message());
	pthread_mutex_lock(&s->lock);
	s->done = true;
	s->failed = rc != 0;
	stream_wake(s);
	pthread_mutex_unlock(&s->lock);
	log_set_request_id(NULL);
	return NULL;
}

/* MHD wants body bytes: what is pending, the end, or suspend until there is more. */
static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct http_stream *s = cls;
	ssize_t n;

	(void)pos;
	pthread_mutex_lock(&s->lock);
	if (s->pending.len > s->off) {
		size_t take = s->pending.len - s->off;

		if (take > max)
			take = max;
		memcpy(out, s->pending.data + s->off, take);
		s->off += take;
		s->sent += take;
		pthread_cond_broadcast(&s->room);
		n = (ssize_t)take;
	} else if (s->done) {
		n = s->failed ? MHD_CONTENT_READER_END_WITH_ERROR : MHD_CONTENT_READER_END_OF_STREAM;
	} else {
		s->suspended = true;
		MHD_suspend_connection(s->c->mhd);
		n = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* The request is over (sent, cut or timed out): stop the producer and wait for it. */
static void stream_end(struct http_stream *s)
{
	pthread_mutex_lock(&s->lock);
	s->gone = true;
	pthread_cond_broadcast(&s->room);
	pthread_mutex_unlock(&s->lock);
	if (s->running)
		pthread_join(s->thread, NULL);
	s->running = false;
}

/* Does the client take HTML (a browser)?  Others get problem+json everywhere. */
static bool wants_html(struct http_req *req)
{
	const char *accept = http_header(req, "Accept");

	return accept && strstr(accept, "text/html") != NULL;
}

/*
 * `s` as valid UTF-8 (JSON strings must be): itself when it is, else an
 * arena copy with every byte from 0x80 up replaced by '?'.  A message may
 * quote client input, such as a query value that failed the check.
 */
static const char *utf8_or_ascii(struct arena *a, const char *s)
{
	char *copy, *p;

	if (!s || utf8_valid(s, strlen(s)))
		return s;
	copy = arena_strdup(a, s);
	for (p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	return copy;
}

int http_reply_error(struct http_req *req, int code)
{
	struct http_conn *c = conn_of(req);
	const struct http_hooks *hooks = c->d->hooks;
	unsigned status = http_status_for(code);
	const char *msg = err_message(), *field = err_field(), *rule = err_rule();
	json_t *p = json_object();
	char *text;
	int rc;

	if (status >= 500 && status != 503) {
		/* the message may carry database or library internals: log it, do not send it */
		log_json(LOG_ERROR, "request failed",
			 json_pack("{s:s, s:i, s:s}", "error", err_name(code), "code", code,
				   "detail", msg));
		msg = "the server failed to handle the request; its log has the details";
		field = NULL;
		rule = NULL;
	}
	/* 503 is temporary (the database reconnecting, too many connections): say when to retry */
	if (status == 503 && !has_header(c, "Retry-After"))
		http_set_header(req, "Retry-After", "1");
	/* a throttle or a lock says how long it lasts, whichever operation refused */
	if ((code == OTCM_ETHROTTLED || code == OTCM_ELOCKED) && err_retry_after() > 0 &&
	    !has_header(c, "Retry-After")) {
		char wait[24];

		snprintf(wait, sizeof(wait), "%lld", err_retry_after());
		http_set_header(req, "Retry-After", wait);
	}
	msg = utf8_or_ascii(req->arena, msg);
	field = utf8_or_ascii(req->arena, field);
	if (hooks && hooks->html_error && http_is_page_path(req->path) && wants_html(req)) {
		json_decref(p);
		return hooks->html_error(req, status, status_title(status),
					 msg && *msg ? msg : status_title(status));
	}
	json_object_set_new(p, "type", json_sprintf("urn:otcm:problem:%s", err_name(code)));
	json_object_set_new(p, "title", json_string(status_title(status)));
	json_object_set_new(p, "status", json_integer(status));
	json_object_set_new(p, "detail", json_string(msg && *msg ? msg : status_title(status)));
	if (field)
		json_object_set_new(p, "field", json_string(field));
	if (rule)
		json_object_set_new(p, "rule", json_string(rule));
	json_object_set_new(p, "request_id", json_string(conn_rid(c)));
	if (status == 401 && !has_header(c, "WWW-Authenticate"))
		http_set_header(req, "WWW-Authenticate", "Bearer");
	text = json_dump_compact(p);
	json_decref(p);
	if (!text)
		return http_reply_bytes(req, status, NULL, NULL, 0);
	rc = http_reply_bytes(req, status, "application/problem+json", text, strlen(text));
	free(text);
	return rc;
}

bool http_is_page_path(const char *path)
{
	static const char *const not_pages[] = { "/api", "/git", "/healthz", "/readyz", "/metrics" };
	size_t i;

	if (!path)
		return false;
	for (i = 0; i < sizeof(not_pages) / sizeof(not_pages[0]); i++) {
		size_t n = strlen(not_pages[i]);

		if (strncmp(path, not_pages[i], n) == 0 && (path[n] == '/' || path[n] == '\0'))
			return false;
	}
	return true;
}

/* Record `code` with a message and answer with it. */
static void reply_fail(struct http_conn *c, int code, const char *field, const char *msg)
{
	err_set(code, field, "%s", msg);
	http_reply_error(&c->req, code);
}

/* Hand the chosen response to MHD, with the headers every response carries. */
static enum MHD_Result queue_response(struct http_conn *c)
{
	const struct server *srv = c->d->srv;
	struct MHD_Response *r;
	const struct http_header *h;
	enum MHD_Result ok;

	if (c->stream)   /* chunked; the stream is arena memory, alive until on_completed */
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 << 10, stream_read, c->stream,
						      NULL);
	else   /* the data is arena memory, alive until on_completed: MHD may borrow it */
		r = MHD_create_response_from_buffer(c->len, (void *)c->data, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "X-Request-Id", c->rid);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	if (srv->tls)
		MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
	if (c->req.path && strncmp(c->req.path, "/api", 4) == 0 &&
	    (c->req.path[4] == '/' || c->req.path[4] == '\0') && !has_header(c, "Cache-Control"))
		MHD_add_response_header(r, "Cache-Control", "no-store");
	if (c->content_type)
		MHD_add_response_header(r, "Content-Type", c->content_type);
	for (h = c->headers; h; h = h->next)
		MHD_add_response_header(r, h->name, h->value);
	if (c->close || atomic_load(&c->d->stopping))
		MHD_add_response_header(r, "Connection", "close");
	ok = MHD_queue_response(c->mhd, c->status, r);
	MHD_destroy_response(r);
	c->queued = ok == MHD_YES;
	atomic_store(&c->responding, c->queued);
	if (c->queued && c->stream) {
		struct http_stream *st = c->stream;

		pthread_mutex_lock(&st->lock);
		st->last_write_us = time_mono_us();
		st->running = pthread_create(&st->thread, NULL, stream_main, st) == 0;
		if (!st->running) {
			log_msg(LOG_ERROR, "cannot start the producer of '%s %s'", c->req.method, c->req.path);
			st->done = st->failed = true;
		}
		pthread_mutex_unlock(&st->lock);
	}
	return ok;
}

/* ---- the request path ----------------------------------------------- */

static void buf_release_cb(void *p)
{
	buf_release(p);
}

/* The socket context MHD keeps for us: the connection's struct http_sock. */
static struct http_sock *sock_of(struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

/* The client's address of a connection, as text ("" when unknown). */
static void addr_text(char out[INET6_ADDRSTRLEN], struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	out[0] = '\0';
	if (!ci || !ci->client_addr)
		return;
	if (ci->client_addr->sa_family == AF_INET) {
		struct sockaddr_in sin;

		memcpy(&sin, ci->client_addr, sizeof(sin));
		inet_ntop(AF_INET, &sin.sin_addr, out, INET6_ADDRSTRLEN);
	} else if (ci->client_addr->sa_family == AF_INET6) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, ci->client_addr, sizeof(sin6));
		inet_ntop(AF_INET6, &sin6.sin6_addr, out, INET6_ADDRSTRLEN);
	}
}

/*
 * A request id: 16 hex digits from a per-thread splitmix64 sequence whose
 * start is drawn from the system's random source once per thread.  Ids
 * name requests in logs and answers; they are not secrets, so they need
 * not cost a call into the cryptographic generator each.
 */
static void new_request_id(char *out)
{
	static _Thread_local uint64_t state;
	static _Thread_local bool seeded;
	uint64_t z;

	if (!seeded) {
		if (crypto_random(&state, sizeof(state)))
			state = (uint64_t)time_now_us() ^ ((uint64_t)pthread_self() << 17);
		seeded = true;
	}
	z = (state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	for (int i = 15; i >= 0; i--, z >>= 4)
		out[i] = "0123456789abcdef"[z & 15];
	out[16] = '\0';
}

static const char *remote_of(struct arena *a, struct MHD_Connection *mc)
{
	char text[INET6_ADDRSTRLEN];

	addr_text(text, mc);
	return arena_strdup(a, text);
}

/*
 * Called by MHD once the request line is read: the request state starts
 * here so that even requests MHD answers on its own get a log line.
 */
static void *uri_log(void *cls, const char *uri, struct MHD_Connection *mc)
{
	struct http_daemon *d = cls;
	struct arena *a = arena_new();
	struct http_conn *c = arena_alloc(a, sizeof(*c));

	c->d = d;
	c->mhd = mc;
	c->sock = sock_of(mc);
	c->start_us = time_mono_us();
	c->tail = &c->headers;
	c->req.arena = a;
	c->req.srv = d->srv;
	c->req.conn = c;
	c->req.request_id = c->rid;
	/* for the log line should the request end before on_access: raw, query cut off */
	c->req.path = arena_strndup(a, uri, strcspn(uri, "?"));
	/* the address was written once as the connection opened */
	c->req.remote_addr = c->sock ? arena_strdup(a, c->sock->addr) : remote_of(a, mc);
	new_request_id(c->rid);
	buf_init(&c->body, 0);
	arena_on_free(a, buf_release_cb, &c->body);
	atomic_fetch_add(&d->inflight, 1);
	atomic_store(&c->last_us, time_mono_us());
	if (c->sock) {
		pthread_mutex_lock(&d->lock);
		c->sock->cur = c;
		pthread_mutex_unlock(&d->lock);
	}
	return c;
}

/* The name of an error code for a status the watchdog writes itself. */
static int raw_code(unsigned status)
{
	switch (status) {
	case 408: return OTCM_ETIMEOUT;
	case 413: return OTCM_ETOOBIG;
	default: return OTCM_EUNAVAIL;
	}
}

/*
 * Write a whole problem+json answer straight to s's socket, for the cases
 * libmicrohttpd cannot answer: a request too slow, a chunked body far past
 * its limit, a connection over its address's limit that sends nothing.
 * Only where MHD is not writing itself (it is waiting for request bytes)
 * and never under TLS, whose records only MHD's session can make.
 */
static void raw_reply(struct http_daemon *d, const struct http_sock *s, const char *rid,
		      unsigned status, const char *detail)
{
	char msg[768];
	int body, n;

	if (d->tls || s->fd < 0)
		return;
	body = snprintf(msg, sizeof(msg),
			"{\"type\":\"urn:otcm:problem:%s\",\"title\":\"%s\",\"status\":%u,"
			"\"detail\":\"%s\",\"request_id\":\"%s\"}",
			err_name(raw_code(status)), status_title(status), status, detail, rid);
	if (body < 0 || (size_t)body >= sizeof(msg) / 2)
		return;
	n = snprintf(msg + body + 1, sizeof(msg) - (size_t)body - 1,
		     "HTTP/1.1 %u %s\r\nContent-Type: application/problem+json\r\n"
		     "Content-Length: %d\r\nX-Request-Id: %s\r\n%sConnection: close\r\n\r\n",
		     status, status_title(status), body, rid,
		     status == 503 ? "Retry-After: 1\r\n" : "");
	if (n <= 0 || (size_t)n >= sizeof(msg) - (size_t)body - 1)
		return;
	(void)send(s->fd, msg + body + 1, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)send(s->fd, msg, (size_t)body, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/*
 * What the watchdog does about one connection now: nothing (0), or answer
 * `*status` with `*detail` and hang up.  Called under d->lock.
 */
static unsigned overdue(struct http_daemon *d, const struct http_sock *s, int64_t now,
			const char **detail)
{
	const struct config *cfg = d->srv->cfg;
	const struct http_conn *c = s->cur;
	int64_t header_us = (int64_t)cfg->header_timeout * 1000000;
	int64_t begun;

	if (c && (atomic_load(&c->busy) || atomic_load(&c->received) || atomic_load(&c->timed_out) ||
		  atomic_load(&c->responding)))
		return 0;
	begun = c ? atomic_load(&c->begun_us) : 0;
	if (!begun) {
		/* the request (or its headers) has not arrived */
		if (s->over == SOCK_OVER_ADDR && now - s->idle_since_us >= HTTP_REFUSE_GRACE_US) {
			*detail = "too many open connections from this address";
			return 503;
		}
		if (now - s->idle_since_us >= header_us) {
			*detail = "the request headers did not arrive within the header timeout";
			return c ? 408 : 1; /* an idle connection is closed without a word */
		}
	}
	if (!c)
		return 0;
	if (now - atomic_load(&c->last_us) >= (int64_t)cfg->conn_timeout * 1000000) {
		*detail = "the request was not complete within the connection timeout";
		return 408;
	}
	if (begun && cfg->min_body_rate && now - begun >= header_us &&
	    atomic_load(&c->body_bytes) * 1000000 < (uint64_t)(now - begun) * cfg->min_body_rate) {
		*detail = "the request body arrived slower than the minimum rate";
		return 408;
	}
	return 0;
}

/*
 * Every HTTP_WATCHDOG_MS: answer and hang up on connections too slow (see
 * overdue()).  The socket stays open while the connection is on the list
 * (MHD closes it only after on_connection's CLOSED notice, which takes it
 * off under the same lock), and MHD writes nothing while it waits for
 * request bytes, so the few bytes written here cannot interleave with its
 * own.  Under TLS the connection is only closed.  MHD then sees the closed
 * socket and completes the request.
 */
static void *watchdog_main(void *arg)
{
	struct http_daemon *d = arg;

	while (!atomic_load(&d->watchdog_stop)) {
		struct timespec ts = { 0, HTTP_WATCHDOG_MS * 1000000L };
		struct http_sock *s;
		int64_t now;

		nanosleep(&ts, NULL);
		now = time_mono_us();
		pthread_mutex_lock(&d->lock);
		for (s = d->socks; s; s = s->next) {
			const char *detail = NULL;
			unsigned status;
			char rid[17];

			if (s->closing || s->fd < 0)
				continue;
			if (s->cur && s->cur->stream && atomic_load(&s->cur->responding))
				stream_tick(s->cur->stream, now);
			status = overdue(d, s, now, &detail);
			if (!status)
				continue;
			s->closing = true;
			if (s->cur && status == 408)
				atomic_store(&s->cur->timed_out, true);
			if (status > 1) {
				if (s->cur)
					memcpy(rid, s->cur->rid, sizeof(rid));
				else if (crypto_random_hex(rid, 8))
					snprintf(rid, sizeof(rid), "%016" PRIx64, (uint64_t)time_now_us());
				raw_reply(d, s, rid, status, detail);
				log_json(LOG_INFO, "connection refused",
					 json_pack("{s:s, s:i, s:s, s:s}", "remote", s->addr, "status",
						   (int)status, "detail", detail, "request_id", rid));
			}
			shutdown(s->fd, SHUT_RDWR);
		}
		pthread_mutex_unlock(&d->lock);
	}
	return NULL;
}

/* Answer 503 with Retry-After and close: the server or this address is at its limit. */
static void refuse_busy(struct http_conn *c, const char *msg)
{
	c->close = true;
	http_set_header(&c->req, "Retry-After", "1");
	reply_fail(c, OTCM_EUNAVAIL, NULL, msg);
}

/*
 * First call for a request: everything that can be decided from the
 * request line and headers is decided here, before the body is read.  A
 * response queued now makes MHD skip the body and close the connection
 * after answering.
 */
static enum MHD_Result begin(struct http_conn *c, const char *url, const char *method)
{
	const struct config *cfg = c->d->srv->cfg;
	struct http_req *req = &c->req;
	const union MHD_ConnectionInfo *ci;
	const char *cl;
	uint64_t declared = 0;

	req->method = arena_strdup(req->arena, method);
	req->path = arena_strdup(req->arena, url);
	cl = MHD_lookup_connection_value(c->mhd, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

	/* over a connection limit: MHD accepted it (its own limit is higher) so we can say why */
	if (c->sock && c->sock->over == SOCK_OVER_ADDR) {
		refuse_busy(c, "too many open connections from this address");
		goto answer;
	}
	if (c->sock && c->sock->over == SOCK_OVER_TOTAL) {
		refuse_busy(c, "the server has too many open connections");
		goto answer;
	}
	ci = MHD_get_connection_info(c->mhd, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	if (ci && ci->header_size > cfg->max_header) {
		err_set(OTCM_EHEADERS, NULL, "request headers of %zu bytes exceed the %" PRIu64 "-byte limit",
			ci->header_size, cfg->max_header);
		http_reply_error(req, OTCM_EHEADERS);
		goto answer;
	}
	/* route, caller, roles: the dispatcher answers or sets req->max_body */
	err_clear();
	req->max_body = 0;
	c->d->hooks->begin(req);
	if (c->replied)
		goto answer;
	if (cl) {
		char *end;

		errno = 0;
		declared = strtoull(cl, &end, 10);
		if (errno || *end || declared > req->max_body) {
			err_set(OTCM_ETOOBIG, "body", "request body exceeds the %" PRIu64 "-byte limit",
				req->max_body);
			http_reply_error(req, OTCM_ETOOBIG);
			goto answer;
		}
	}
	/*
	 * With a Content-Length the body is exactly that long (libmicrohttpd
	 * delivers no more): capped there, the buffer is one allocation of that
	 * size, where growing by halves would overshoot a large upload by up to
	 * half its size.
	 */
	buf_init(&c->body, declared ? (size_t)declared : (size_t)req->max_body);
	if (declared && buf_try_grow(&c->body, (size_t)declared)) {
		refuse_busy(c, "the server is short of memory for this request body");
		goto answer;
	}
	atomic_store(&c->begun_us, time_mono_us());
	return MHD_YES;
answer:
	atomic_store(&c->begun_us, time_mono_us());
	/*
	 * Answering now makes MHD close the connection, since it cannot skip an
	 * unread body.  Without a body the answer waits for the last call, a
	 * moment later, and the connection stays open.
	 */
	if (!cl && !MHD_lookup_connection_value(c->mhd, MHD_HEADER_KIND,
						 MHD_HTTP_HEADER_TRANSFER_ENCODING))
		return MHD_YES;
	return queue_response(c);
}

/* Body bytes arrive; past the limit they are thrown away (see HTTP_DISCARD_MAX). */
static enum MHD_Result take_body(struct http_conn *c, const char *data, size_t size)
{
	atomic_fetch_add(&c->body_bytes, size);
	if (!c->too_big && !c->nomem) {
		int rc = buf_try_grow(&c->body, size);

		if (rc == 0) {
			memcpy(c->body.data + c->body.len, data, size);
			c->body.len += size;
			c->body.data[c->body.len] = '\0';
			return MHD_YES;
		}
		if (rc == OTCM_ETOOBIG)
			c->too_big = true;
		else
			c->nomem = true;
		buf_release(&c->body);
	}
	c->discarded += size;
	if (c->discarded > HTTP_DISCARD_MAX) {
		unsigned status = c->too_big ? 413 : 503;

		/* MHD cannot answer in the middle of a body: answer on the socket, hang up */
		log_msg(LOG_WARN, "body of '%s %s' far beyond the limit, connection closed",
			c->req.method, c->req.path);
		c->raw_status = status;
		if (c->sock) {
			pthread_mutex_lock(&c->d->lock);
			raw_reply(c->d, c->sock, c->rid, status,
				  status == 413 ? "the request body exceeds the configured limit"
						: "the server is short of memory for this request body");
			pthread_mutex_unlock(&c->d->lock);
		}
		return MHD_NO;
	}
	return MHD_YES;
}

/* Last call: the whole body is here; the dispatcher answers. */
static enum MHD_Result finish(struct http_conn *c)
{
	struct http_req *req = &c->req;

	if (c->replied)
		return queue_response(c); /* decided in begin() */
	if (c->too_big) {
		c->close = true;
		err_set(OTCM_ETOOBIG, "body", "request body exceeds the %" PRIu64 "-byte limit",
			req->max_body);
		http_reply_error(req, OTCM_ETOOBIG);
		return queue_response(c);
	}
	if (c->nomem) {
		refuse_busy(c, "the server is short of memory for this request body");
		return queue_response(c);
	}
	if (c->body.len) {
		req->body = c->body.data;
		req->body_len = c->body.len;
	}
	err_clear();
	c->d->hooks->finish(req);
	if (!c->replied) {
		err_set(OTCM_EINTERNAL, NULL, "no response to '%s %s'", req->method, req->path);
		http_reply_error(req, OTCM_EINTERNAL);
	}
	return queue_response(c);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *mc, const char *url,
				 const char *method, const char *version, const char *upload_data,
				 size_t *upload_data_size, void **con_cls)
{
	struct http_conn *c = *con_cls;
	enum MHD_Result ret;

	if (!c) {
		c = uri_log(cls, url, mc);
		*con_cls = c;
	}
	atomic_store(&c->busy, true);
	atomic_store(&c->last_us, time_mono_us());
	log_set_request_id(c->rid);
	if (!c->started) {
		c->started = true;
		ret = begin(c, url, method);
	} else if (*upload_data_size) {
		ret = take_body(c, upload_data, *upload_data_size);
		*upload_data_size = 0;
	} else {
		atomic_store(&c->received, true);
		ret = finish(c);
	}
	log_set_request_id(NULL);
	atomic_store(&c->last_us, time_mono_us());
	atomic_store(&c->busy, false);
	return ret;
}

static const char *termination_name(enum MHD_RequestTerminationCode toe)
{
	switch (toe) {
	case MHD_REQUEST_TERMINATED_COMPLETED_OK: return "ok";
	case MHD_REQUEST_TERMINATED_WITH_ERROR: return "error";
	case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED: return "timeout";
	case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN: return "shutdown";
	case MHD_REQUEST_TERMINATED_READ_ERROR: return "read-error";
	case MHD_REQUEST_TERMINATED_CLIENT_ABORT: return "client-abort";
	default: return "unknown";
	}
}

/* The request is over: one access log line, then the arena goes. */
static void on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_daemon *d = cls;
	struct http_conn *c = *con_cls;
	unsigned status;
	int64_t duration_us;

	if (!c)
		return;
	*con_cls = NULL;
	if (c->stream)
		stream_end(c->stream);
	if (c->sock) {
		pthread_mutex_lock(&d->lock);
		if (c->sock->cur == c) {
			c->sock->cur = NULL;
			c->sock->idle_since_us = time_mono_us();
		}
		pthread_mutex_unlock(&d->lock);
	}
	log_set_request_id(c->rid);
	/*
	 * Status 0: no response of ours went out - MHD answered by itself
	 * (headers beyond its memory limit, malformed request) or the
	 * connection ended first, e.g. a client stalled past a timeout, which
	 * the watchdog answered with a 408 (unless under TLS); "end" says which.
	 */
	status = c->queued ? c->status : atomic_load(&c->timed_out) ? 408 : c->raw_status;
	duration_us = time_mono_us() - c->start_us;
	{
		/* the access log: a line per request, so written without building a JSON object */
		const struct log_field f[] = {
			{ "method", c->req.method ? c->req.method : "", 0 },
			{ "path", c->req.path ? c->req.path : "", 0 },
			{ "status", NULL, status },
			{ "bytes", NULL, !c->queued ? 0 : c->stream ? (int64_t)c->stream->sent : (int64_t)c->len },
			{ "duration_ms", NULL, duration_us / 1000 },
			{ "remote", c->req.remote_addr ? c->req.remote_addr : "", 0 },
			{ "user", c->req.who.username ? c->req.who.username : "", 0 },
			{ "end", termination_name(toe), 0 },
		};

		log_fields_later(LOG_INFO, "request", f, sizeof(f) / sizeof(f[0]));
	}
	log_set_request_id(NULL);
	if (d->hooks->completed)
		d->hooks->completed(&c->req, status, duration_us);
	arena_free(c->req.arena);
	atomic_fetch_sub(&d->inflight, 1);
}

/*
 * A connection opens or closes.  Opening: it goes on the list; past its
 * address's limit it is marked for a 503 and not counted in the total, so
 * one address cannot use up --max-connections; otherwise it counts, and
 * past --max-connections it is marked for a 503 too.
 */
static void on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct http_daemon *d = cls;
	const struct config *cfg = d->srv->cfg;
	struct http_sock *s, *o;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
		unsigned same = 0;

		s = xcalloc(1, sizeof(*s));
		s->fd = ci ? ci->connect_fd : -1;
		addr_text(s->addr, mc);
		s->idle_since_us = time_mono_us();
		pthread_mutex_lock(&d->lock);
		for (o = d->socks; o; o = o->next)
			if (strcmp(o->addr, s->addr) == 0)
				same++;
		if (same >= cfg->max_connections_per_address) {
			s->over = SOCK_OVER_ADDR;
		} else {
			s->counted = true;
			if (atomic_fetch_add(&d->open_conns, 1) + 1 > cfg->max_connections)
				s->over = SOCK_OVER_TOTAL;
		}
		s->next = d->socks;
		if (d->socks)
			d->socks->prev = &s->next;
		s->prev = &d->socks;
		d->socks = s;
		pthread_mutex_unlock(&d->lock);
		*socket_context = s;
		return;
	}
	s = *socket_context;
	if (!s)
		return;
	pthread_mutex_lock(&d->lock);
	*s->prev = s->next;
	if (s->next)
		s->next->prev = s->prev;
	pthread_mutex_unlock(&d->lock);
	if (s->counted)
		atomic_fetch_sub(&d->open_conns, 1);
	free(s);
	*socket_context = NULL;
}

/*
 * Percent-decoding of paths and query values, except that "%00" stays as
 * it is: a NUL would silently cut the string short.
 */
static size_t unescape(void *cls, struct MHD_Connection *mc, char *s)
{
	char *r = s, *w = s;

	while (*r) {
		if (r[0] == '%' && r[1] && r[2] && strchr("0123456789abcdefABCDEF", r[1]) &&
		    strchr("0123456789abcdefABCDEF", r[2])) {
			char hex[3] = { r[1], r[2], '\0' };
			char ch = (char)strtol(hex, NULL, 16);

			if (ch != '\0') {
				*w++ = ch;
				r += 3;
				continue;
			}
		}
		*w++ = *r++;
	}
	*w = '\0';
	return (size_t)(w - s);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	log_msg(LOG_WARN, "http: %s", msg);
}

/* ---- the server ----------------------------------------------------- */

/* The whole of a small file as a NUL-terminated string; caller frees. */
static int read_pem(char **out, const char *path)
{
	FILE *f = NULL;
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	int rc = 0;

	buf_init(&b, 1 << 20);
	f = fopen(path, "rb");
	if (!f) {
		rc = err_set(OTCM_EIO, NULL, "cannot open '%s': %s", path, strerror(errno));
		goto out;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if ((rc = buf_add(&b, chunk, n)))
			goto out;
	}
	if (ferror(f)) {
		rc = err_set(OTCM_EIO, NULL, "cannot read '%s'", path);
		goto out;
	}
	*out = buf_detach(&b, NULL);
out:
	if (f)
		fclose(f);
	buf_release(&b);
	return rc;
}

static int parse_listen(struct sockaddr_in *out, const char *listen)
{
	const char *colon = strrchr(listen, ':');
	char host[256];
	unsigned long port;
	char *end;

	if (!colon || (size_t)(colon - listen) >= sizeof(host))
		return err_set(OTCM_EINVAL, "listen", "--listen must be HOST:PORT, got '%s'", listen);
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	port = strtoul(colon + 1, &end, 10);
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	out->sin_port = htons((uint16_t)port);
	if (*end || port > 65535 || inet_pton(AF_INET, host, &out->sin_addr) != 1)
		return err_set(OTCM_EINVAL, "listen", "--listen needs an IPv4 address and a port, got '%s'",
			       listen);
	return 0;
}

/* Wait for SIGTERM or SIGINT for up to `ms` milliseconds (forever when negative). */
static int wait_signal(const sigset_t *set, long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	if (ms < 0) {
		int sig = 0;

		while (sigwait(set, &sig) != 0)
			;
		return sig;
	}
	return sigtimedwait(set, NULL, &ts) > 0;
}

int http_serve(const struct server *srv, const struct http_hooks *hooks)
{
	const struct config *cfg = srv->cfg;
	struct http_daemon d = { .srv = srv, .hooks = hooks, .tls = srv->cfg->tls_cert != NULL };
	bool watching = false;
	struct MHD_Daemon *mhd = NULL;
	struct sockaddr_in addr;
	char *cert = NULL, *key = NULL;
	sigset_t set, old;
	bool masked = false;
	unsigned flags, hard_limit, port;
	const union MHD_DaemonInfo *di;
	struct MHD_OptionItem opts[20];
	size_t mem_limit, nopts = 0;
	MHD_socket listen_fd;
	int64_t deadline;
	int rc;

	pthread_mutex_init(&d.lock, NULL);
	if ((rc = parse_listen(&addr, cfg->listen)))
		goto out;
	if (cfg->tls_cert) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			rc = err_set(OTCM_EINVAL, "tls-cert", "this libmicrohttpd has no TLS support");
			goto out;
		}
		if ((rc = read_pem(&cert, cfg->tls_cert)) || (rc = read_pem(&key, cfg->tls_key)))
			goto out;
	}
	/* workers inherit this mask, so only this thread ever sees the signals */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	masked = true;
	signal(SIGPIPE, SIG_IGN);

	/* suspend/resume: a streamed body's connection sleeps while its producer works */
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG |
		MHD_ALLOW_SUSPEND_RESUME;
	flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL : MHD_USE_POLL;
	if (cert)
		flags |= MHD_USE_TLS;
	/*
	 * MHD refuses connections beyond its own limit silently, so it is set
	 * well above --max-connections: the ones in between get a 503.  The
	 * thread pool splits the limit evenly between workers, hence the slack.
	 */
	hard_limit = cfg->max_connections * 2 + cfg->threads * 8;
	/*
	 * The per-connection memory pool holds the request line and headers,
	 * then the read buffer and the response headers.  Headers up to
	 * --max-header and 8 KiB beyond fit and get our own 431 problem;
	 * beyond, MHD answers 431 with its own small HTML body.  No larger:
	 * MHD zeroes the pool between a connection's requests, a cost each
	 * request pays in proportion to the pool's size (at twice the headers'
	 * limit plus 16 KiB it was a twentieth of a small GET's time).
	 */
	mem_limit = (size_t)cfg->max_header + 8192;
#define OPT(o, v, p) (opts[nopts++] = (struct MHD_OptionItem){ (o), (intptr_t)(v), (p) })
	OPT(MHD_OPTION_EXTERNAL_LOGGER, mhd_log, &d); /* first, or MHD logs a warning */
	OPT(MHD_OPTION_SOCK_ADDR, 0, &addr);
	OPT(MHD_OPTION_THREAD_POOL_SIZE, cfg->threads, NULL);
	OPT(MHD_OPTION_CONNECTION_LIMIT, hard_limit, NULL);
	/* a backstop: past twice its limit an address's connections are dropped unanswered */
	OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_connections_per_address * 2, NULL);
	/* a little beyond ours, so the watchdog's 408 comes first; it also ends idle connections */
	OPT(MHD_OPTION_CONNECTION_TIMEOUT, cfg->conn_timeout + 2, NULL);
	OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, mem_limit, NULL);
	OPT(MHD_OPTION_NOTIFY_COMPLETED, on_completed, &d);
	OPT(MHD_OPTION_NOTIFY_CONNECTION, on_connection, &d);
	OPT(MHD_OPTION_URI_LOG_CALLBACK, uri_log, &d);
	OPT(MHD_OPTION_UNESCAPE_CALLBACK, unescape, &d);
	OPT(MHD_OPTION_STRICT_FOR_CLIENT, 1, NULL);
	OPT(MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL);
	if (cert) {
		OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, cert);
		OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, key);
	}
	OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
	errno = 0;
	mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_access, &d,
			       MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (!mhd) {
		rc = err_set(OTCM_EIO, "listen", "cannot serve on '%s': %s", cfg->listen,
			     errno ? strerror(errno) : "libmicrohttpd refused the options");
		goto out;
	}
	if (pthread_create(&d.watchdog, NULL, watchdog_main, &d) != 0) {
		rc = err_set(OTCM_EIO, NULL, "cannot start the request watchdog");
		goto out;
	}
	watching = true;
	di = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_BIND_PORT);
	port = di ? di->port : ntohs(addr.sin_port);
	{
		char host[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &addr.sin_addr, host, sizeof(host));
		log_json(LOG_INFO, "serving",
			 json_pack("{s:s, s:i, s:b, s:i, s:i}", "address", host, "port", (int)port,
				   "tls", cert != NULL, "threads", (int)cfg->threads,
				   "max_connections", (int)cfg->max_connections));
		printf("otcm: serving on %s://%s:%u\n", cert ? "https" : "http", host, port);
		fflush(stdout);
	}

	wait_signal(&set, -1);
	log_msg(LOG_INFO, "shutting down: %u request(s) in flight", atomic_load(&d.inflight));
	atomic_store(&d.stopping, true);
	/* stop accepting; closing the socket now makes new clients fail fast, not queue */
	listen_fd = MHD_quiesce_daemon(mhd);
	if (listen_fd != MHD_INVALID_SOCKET)
		close(listen_fd);
	deadline = time_mono_us() + (int64_t)HTTP_DRAIN_SECONDS * 1000000;
	while (atomic_load(&d.inflight) > 0 && time_mono_us() < deadline) {
		if (wait_signal(&set, 50)) {
			log_msg(LOG_WARN, "second signal: stopping without waiting");
			break;
		}
	}
	if (atomic_load(&d.inflight) > 0)
		log_msg(LOG_WARN, "%u request(s) still in flight are cut off", atomic_load(&d.inflight));
	rc = 0;
out:
	if (mhd)
		MHD_stop_daemon(mhd);
	log_flush();   /* the access log lines of the last requests */
	if (watching) {
		atomic_store(&d.watchdog_stop, true);
		pthread_join(d.watchdog, NULL);
	}
	pthread_mutex_destroy(&d.lock);
	if (masked)
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	free(cert);
	free(key);
	return rc;
}

