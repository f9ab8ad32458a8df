/* core/err.c - thread-local error message store; see err.h. */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char err_msg[1024];
static _Thread_local char err_fld[128];
static _Thread_local char err_rul[64];
static _Thread_local int err_last;
static _Thread_local long long err_retry;

int err_set(int code, const char *field, const char *fmt, ...)
{
	char msg[sizeof(err_msg)];
	va_list ap;

	/*
	 * Format into a temporary, then copy: the arguments may point into
	 * err_msg itself (err_set(rc, f, "step %d: %s", n, err_message())),
	 * and vsnprintf into its own source is undefined.
	 */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memcpy(err_msg, msg, sizeof(err_msg));
	if (field) {
		/* memmove: field may be err_field() itself */
		size_t n = strnlen(field, sizeof(err_fld) - 1);

		memmove(err_fld, field, n);
		err_fld[n] = '\0';
	} else {
		err_fld[0] = '\0';
	}
	err_rul[0] = '\0';
	if (code != OTCM_ELOCKED && code != OTCM_ETHROTTLED)
		err_retry = 0;
	err_last = code;
	return code;
}

const char *err_message(void)
{
	return err_msg;
}

const char *err_field(void)
{
	return err_fld[0] ? err_fld : NULL;
}

int err_code(void)
{
	return err_last;
}

void err_set_rule(const char *rule)
{
	snprintf(err_rul, sizeof(err_rul), "%s", rule ? rule : "");
}

const char *err_rule(void)
{
	return err_rul[0] ? err_rul : NULL;
}

void err_set_retry_after(long long seconds)
{
	err_retry = seconds > 0 ? seconds : 1;
}

long long err_retry_after(void)
{
	return err_retry;
}

void err_clear(void)
{
	err_retry = 0;
	err_msg[0] = '\0';
	err_fld[0] = '\0';
	err_rul[0] = '\0';
	err_last = 0;
}

const char *err_name(int code)
{
	switch (code) {
	case OTCM_OK: return "ok";
	case OTCM_EINVAL: return "invalid-input";
	case OTCM_ENOTFOUND: return "not-found";
	case OTCM_ECONFLICT: return "conflict";
	case OTCM_EAUTH: return "unauthenticated";
	case OTCM_EFORBIDDEN: return "forbidden";
	case OTCM_ETOOBIG: return "too-large";
	case OTCM_ELOCKED: return "locked";
	case OTCM_ETHROTTLED: return "too-many-attempts";
	case OTCM_EUNAVAIL: return "unavailable";
	case OTCM_EMEDIA: return "unsupported-media-type";
	case OTCM_ERULE: return "rule-violation";
	case OTCM_EMETHOD: return "method-not-allowed";
	case OTCM_EIO: return "io-error";
	case OTCM_EDB: return "database-error";
	case OTCM_EGIT: return "git-error";
	case OTCM_ERETRY: return "retry";
	case OTCM_ETIMEOUT: return "timeout";
	case OTCM_EHEADERS: return "headers-too-large";
	default: return "internal-error";
	}
}
