/* core/log.c - JSON line logging to stderr; see log.h. */
#include "core/log.h"

#include <stdarg.h>
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

void log_msg(enum log_level level, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_json(level, msg, NULL);
}
