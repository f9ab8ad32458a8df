/* core/log.c - JSON line logging to stderr; see log.h. */
#include "core/log.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/timeutil.h"
#include "core/utf8.h"

static atomic_int log_min = LOG_INFO;
static _Thread_local char log_rid[64];

static const char *level_name(enum log_level l)
{
	switch (l) {
	case LOG_DEBUG: return "debug";
	case LOG_INFO: return "info";
	case LOG_WARN: return "warn";
	default: return "error";
	}
}

void log_set_level(enum log_level min)
{
	atomic_store(&log_min, (int)min);
}

void log_set_request_id(const char *id)
{
	/* three times a request: a copy, not a printf */
	size_t n = id ? strnlen(id, sizeof(log_rid) - 1) : 0;

	if (n)
		memcpy(log_rid, id, n);
	log_rid[n] = '\0';
}

const char *log_request_id(void)
{
	return log_rid[0] ? log_rid : NULL;
}

void log_json(enum log_level level, const char *msg, json_t *fields)
{
	char ts[TIME_RFC3339_LEN];
	json_t *o;
	char *line;
	size_t len;

	if ((int)level < atomic_load(&log_min)) {
		json_decref(fields);
		return;
	}
	time_now_rfc3339(ts);
	o = json_object();
	json_object_set_new(o, "ts", json_string(ts));
	json_object_set_new(o, "level", json_string(level_name(level)));
	json_object_set_new(o, "msg", json_string(msg));
	if (log_rid[0])
		json_object_set_new(o, "request_id", json_string(log_rid));
	if (fields && json_is_object(fields))
		json_object_update(o, fields);
	json_decref(fields);
	line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!line)
		return;
	len = strlen(line);
	line = realloc(line, len + 2);
	if (!line)
		return;
	line[len] = '\n';
	if (write(STDERR_FILENO, line, len + 1) < 0) {
		/* nowhere left to report it */
	}
	free(line);
}

/* A line being written by log_fields(): on the stack unless it grows past it. */
struct line {
	char *p;
	size_t len, cap;
	bool heap;
	char stack[2048];
};

static void line_put(struct line *l, const char *s, size_t n)
{
	if (l->len + n + 2 > l->cap) {
		size_t cap = (l->len + n + 2) * 2;
		char *p = l->heap ? realloc(l->p, cap) : malloc(cap);

		if (!p)
			return;   /* the line is cut short; logging never fails a request */
		if (!l->heap)
			memcpy(p, l->p, l->len);
		l->p = p;
		l->cap = cap;
		l->heap = true;
	}
	memcpy(l->p + l->len, s, n);
	l->len += n;
}

static void line_puts(struct line *l, const char *s)
{
	line_put(l, s, strlen(s));
}

/* A JSON string, escaped as jansson escapes it (quote, backslash, controls). */
static void line_string(struct line *l, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str), i = 0, run = 0;

	line_put(l, "\"", 1);
	while (i < n) {
		unsigned char c = s[i];
		size_t k = c >= 0x20 && c != '"' && c != '\\' ? utf8_seq(s + i, n - i) : 0;
		char esc[8];

		if (k) {
			i += k;
			run += k;
			continue;
		}
		line_put(l, (const char *)s + i - run, run);
		run = 0;
		switch (c) {
		case '"': line_put(l, "\\\"", 2); break;
		case '\\': line_put(l, "\\\\", 2); break;
		case '\b': line_put(l, "\\b", 2); break;
		case '\f': line_put(l, "\\f", 2); break;
		case '\n': line_put(l, "\\n", 2); break;
		case '\r': line_put(l, "\\r", 2); break;
		case '\t': line_put(l, "\\t", 2); break;
		default:
			if (c < 0x20) {
				snprintf(esc, sizeof(esc), "\\u%04X", c);
				line_put(l, esc, 6);
			} else {
				line_put(l, "\\ufffd", 6);
			}
		}
		i++;
	}
	line_put(l, (const char *)s + i - run, run);
	line_put(l, "\"", 1);
}

/* v in decimal into out (at least 21 bytes, not terminated); its length. */
static size_t fmt_i64(char *out, int64_t v)
{
	char tmp[24];
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	size_t n = 0, len = 0;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		out[len++] = '-';
	while (n)
		out[len++] = tmp[--n];
	return len;
}

static void line_key(struct line *l, const char *name)
{
	line_put(l, ",\"", 2);
	line_puts(l, name);
	line_put(l, "\":", 2);
}

/* The line of log_fields() into l (l->p set up by the caller). */
static void format_fields(struct line *l, enum log_level level, const char *msg,
			  const struct log_field *f, size_t n)
{
	char ts[TIME_RFC3339_LEN], num[24];

	time_now_rfc3339(ts);
	line_puts(l, "{\"ts\":\"");
	line_puts(l, ts);
	line_puts(l, "\",\"level\":\"");
	line_puts(l, level_name(level));
	line_puts(l, "\",\"msg\":");
	line_string(l, msg);
	if (log_rid[0]) {
		line_key(l, "request_id");
		line_string(l, log_rid);
	}
	for (size_t i = 0; i < n; i++) {
		line_key(l, f[i].name);
		if (f[i].str)
			line_string(l, f[i].str);
		else
			line_put(l, num, fmt_i64(num, f[i].num));
	}
	line_put(l, "}\n", 2);
}

void log_fields(enum log_level level, const char *msg, const struct log_field *f, size_t n)
{
	struct line l = { .cap = sizeof(l.stack) };

	if ((int)level < atomic_load(&log_min))
		return;
	l.p = l.stack;
	format_fields(&l, level, msg, f, n);
	if (write(STDERR_FILENO, l.p, l.len) < 0) {
		/* nowhere left to report it */
	}
	if (l.heap)
		free(l.p);
}

/*
 * Lines written later: each thread gathers its lines in a buffer of its
 * own, written out with one write(2) when it fills, by a background thread
 * every LOG_FLUSH_MS, when the thread ends, and by log_flush().  Buffers
 * hold whole lines only, so lines never mix; lines of different threads
 * may come out of time order.
 */
#define LOG_TBUF 16384
#define LOG_FLUSH_MS 100

struct tbuf {
	pthread_mutex_t mu;
	struct tbuf *next, **prev;   /* on `tbufs`, under tbufs_mu */
	size_t len;
	char data[LOG_TBUF];
};

static pthread_mutex_t tbufs_mu = PTHREAD_MUTEX_INITIALIZER;
static struct tbuf *tbufs;
static pthread_key_t tbuf_key;
static pthread_once_t tbuf_once = PTHREAD_ONCE_INIT;
static bool tbuf_ok;

/* Write out t's lines; t->mu held. */
static void tbuf_write(struct tbuf *t)
{
	if (t->len && write(STDERR_FILENO, t->data, t->len) < 0) {
		/* nowhere left to report it */
	}
	t->len = 0;
}

/* A thread ends: its lines go out and its buffer with them. */
static void tbuf_end(void *p)
{
	struct tbuf *t = p;

	pthread_mutex_lock(&tbufs_mu);
	*t->prev = t->next;
	if (t->next)
		t->next->prev = t->prev;
	pthread_mutex_unlock(&tbufs_mu);
	pthread_mutex_lock(&t->mu);
	tbuf_write(t);
	pthread_mutex_unlock(&t->mu);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

void log_flush(void)
{
	pthread_mutex_lock(&tbufs_mu);
	for (struct tbuf *t = tbufs; t; t = t->next) {
		pthread_mutex_lock(&t->mu);
		tbuf_write(t);
		pthread_mutex_unlock(&t->mu);
	}
	pthread_mutex_unlock(&tbufs_mu);
}

static void *flusher_main(void *arg)
{
	const struct timespec pause = { 0, LOG_FLUSH_MS * 1000000L };

	(void)arg;
	for (;;) {
		nanosleep(&pause, NULL);
		log_flush();
	}
	return NULL;
}

static void tbuf_setup(void)
{
	pthread_t flusher;
	pthread_attr_t attr;

	if (pthread_key_create(&tbuf_key, tbuf_end) != 0)
		return;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	tbuf_ok = pthread_create(&flusher, &attr, flusher_main, NULL) == 0;
	pthread_attr_destroy(&attr);
	if (tbuf_ok)
		atexit(log_flush);
}

/* This thread's buffer, made on first use; NULL when there can be none. */
static struct tbuf *tbuf_mine(void)
{
	struct tbuf *t;

	pthread_once(&tbuf_once, tbuf_setup);
	if (!tbuf_ok)
		return NULL;
	if ((t = pthread_getspecific(tbuf_key)) != NULL)
		return t;
	t = malloc(sizeof(*t));
	if (!t)
		return NULL;
	pthread_mutex_init(&t->mu, NULL);
	t->len = 0;
	if (pthread_setspecific(tbuf_key, t) != 0) {
		pthread_mutex_destroy(&t->mu);
		free(t);
		return NULL;
	}
	pthread_mutex_lock(&tbufs_mu);
	t->next = tbufs;
	t->prev = &tbufs;
	if (tbufs)
		tbufs->prev = &t->next;
	tbufs = t;
	pthread_mutex_unlock(&tbufs_mu);
	return t;
}

void log_fields_later(enum log_level level, const char *msg, const struct log_field *f, size_t n)
{
	struct line l = { .cap = sizeof(l.stack) };
	struct tbuf *t;

	if ((int)level < atomic_load(&log_min))
		return;
	l.p = l.stack;
	format_fields(&l, level, msg, f, n);
	t = tbuf_mine();
	if (!t || l.len > LOG_TBUF) {
		if (write(STDERR_FILENO, l.p, l.len) < 0) {
			/* nowhere left to report it */
		}
	} else {
		pthread_mutex_lock(&t->mu);
		if (t->len + l.len > LOG_TBUF)
			tbuf_write(t);
		memcpy(t->data + t->len, l.p, l.len);
		t->len += l.len;
		pthread_mutex_unlock(&t->mu);
	}
	if (l.heap)
		free(l.p);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_json(level, msg, NULL);
}
