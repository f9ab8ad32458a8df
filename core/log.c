/* core/log.c - JSON line logging to stderr; see log.h. */
#include "core/log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/timeutil.h"

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
	snprintf(log_rid, sizeof(log_rid), "%s", id ? id : "");
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

/* Length of the UTF-8 sequence at s (at most n bytes), or 0 if it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
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

static void line_key(struct line *l, const char *name)
{
	line_put(l, ",\"", 2);
	line_puts(l, name);
	line_put(l, "\":", 2);
}

void log_fields(enum log_level level, const char *msg, const struct log_field *f, size_t n)
{
	struct line l = { .cap = sizeof(l.stack) };
	char ts[TIME_RFC3339_LEN], num[24];

	if ((int)level < atomic_load(&log_min))
		return;
	l.p = l.stack;
	time_now_rfc3339(ts);
	line_puts(&l, "{\"ts\":\"");
	line_puts(&l, ts);
	line_puts(&l, "\",\"level\":\"");
	line_puts(&l, level_name(level));
	line_puts(&l, "\",\"msg\":");
	line_string(&l, msg);
	if (log_rid[0]) {
		line_key(&l, "request_id");
		line_string(&l, log_rid);
	}
	for (size_t i = 0; i < n; i++) {
		line_key(&l, f[i].name);
		if (f[i].str) {
			line_string(&l, f[i].str);
		} else {
			snprintf(num, sizeof(num), "%" PRId64, f[i].num);
			line_puts(&l, num);
		}
	}
	line_put(&l, "}\n", 2);
	if (write(STDERR_FILENO, l.p, l.len) < 0) {
		/* nowhere left to report it */
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
