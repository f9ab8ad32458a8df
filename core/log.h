/*
 * core/log.h - structured logs: one JSON object per line on stderr.
 *
 * Each line carries "ts" (server time, RFC 3339 UTC with milliseconds),
 * "level", "msg", the request id of the current thread when one is set, and
 * any extra fields given as a jansson object.  Lines are written with one
 * write(2) call so threads never interleave within a line (access log
 * lines a buffer of whole lines at a time: log_fields_later()).
 *
 * Thread-safety: all functions are thread-safe; the request id is
 * thread-local.
 */
#ifndef OTCM_CORE_LOG_H
#define OTCM_CORE_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "core/json.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Lines below `min` are dropped (default LOG_INFO). */
void log_set_level(enum log_level min);

/* Set (or clear with NULL) the request id stamped on this thread's lines. */
void log_set_request_id(const char *id);
const char *log_request_id(void);

/* Write one line; `fields` (may be NULL) is consumed. */
void log_json(enum log_level level, const char *msg, json_t *fields);

/*
 * One field of log_fields(): a string (`str` not NULL) or an integer.
 * Names are written as given, so they must need no escaping.
 */
struct log_field {
	const char *name;
	const char *str;
	int64_t num;
};

/*
 * Write one line with `n` fields in order, as log_json() would write the
 * same object, without building one: for the access log, a line per
 * request.  A string that is not UTF-8 has each bad byte written as U+FFFD.
 */
void log_fields(enum log_level level, const char *msg, const struct log_field *f, size_t n);

/*
 * The same line, written within 100 ms instead of now: each thread gathers
 * its lines and they go out a buffer at a time (16 KiB, whole lines only),
 * when the buffer fills, every 100 ms, when the thread ends, at exit and
 * at log_flush().  For the access log, a line per request; lines of
 * different threads may come out of time order.
 */
void log_fields_later(enum log_level level, const char *msg, const struct log_field *f, size_t n);

/* Write out every line gathered by log_fields_later() now. */
void log_flush(void);

/* printf-style message without extra fields. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
