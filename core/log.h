/*
 * core/log.h - structured logs: one JSON object per line on stderr.
 *
 * Each line carries "ts" (server time, RFC 3339 UTC with milliseconds),
 * "level", "msg", the request id of the current thread when one is set, and
 * any extra fields given as a jansson object.  Lines are written with one
 * write(2) call so threads never interleave within a line.
 *
 * Thread-safety: all functions are thread-safe; the request id is
 * thread-local.
 */
#ifndef OTCM_CORE_LOG_H
#define OTCM_CORE_LOG_H

#include "core/json.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Lines below `min` are dropped (default LOG_INFO). */
void log_set_level(enum log_level min);

/* Set (or clear with NULL) the request id stamped on this thread's lines. */
void log_set_request_id(const char *id);
const char *log_request_id(void);

/* Write one line; `fields` (may be NULL) is consumed. */
void log_json(enum log_level level, const char *msg, json_t *fields);

/* printf-style message without extra fields. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
