/*
 * core/err.h - error codes and the per-thread error message.
 *
 * Every fallible function in otcm returns int: 0 on success or one of the
 * negative codes below.  The function that first detects a failure records
 * a human-readable message (and, for bad input, the name of the offending
 * field) with err_set(); callers pass the code up unchanged and never
 * overwrite the message.  Exactly one function in server/ turns a code into
 * an HTTP status and a problem+json body.
 *
 * Messages follow git's style: lowercase, no final full stop, the subject
 * quoted ("asset 'plant-a/plc-1' not found").
 *
 * Thread-safety: the message and field are thread-local.
 */
#ifndef OTCM_CORE_ERR_H
#define OTCM_CORE_ERR_H

enum otcm_err {
	OTCM_OK = 0,
	OTCM_EINVAL = -1,        /* bad input from the caller (400) */
	OTCM_ENOTFOUND = -2,     /* the named object does not exist (404) */
	OTCM_ECONFLICT = -3,     /* state changed under the caller, or duplicate (409) */
	OTCM_EAUTH = -4,         /* no or bad credentials (401) */
	OTCM_EFORBIDDEN = -5,    /* authenticated, but not allowed (403) */
	OTCM_ETOOBIG = -6,       /* a size limit was exceeded (413) */
	OTCM_ELOCKED = -7,       /* account locked (423) */
	OTCM_ETHROTTLED = -8,    /* too many attempts, retry later (429) */
	OTCM_EUNAVAIL = -9,      /* temporarily unavailable (503) */
	OTCM_EMEDIA = -10,       /* unsupported media type (415) */
	OTCM_ERULE = -11,        /* a business rule refused the request (409) */
	OTCM_EMETHOD = -12,      /* method not allowed for this path (405) */
	OTCM_EIO = -13,          /* operating system or process failure (500) */
	OTCM_EDB = -14,          /* database failure (500) */
	OTCM_EGIT = -15,         /* git object layer failure (500) */
	OTCM_EINTERNAL = -16,    /* a bug (500) */
	OTCM_ERETRY = -17,       /* transient: the whole transaction may be retried */
	OTCM_ETIMEOUT = -18,     /* the client was too slow (408) */
	OTCM_EHEADERS = -19,     /* request headers too large (431) */
};

/*
 * Record a failure and return `code` so callers can write
 * `return err_set(OTCM_EINVAL, "name", "name is required");`.
 * `field` names the offending input field or is NULL.  The arguments may
 * be err_message() or err_field() themselves, to add context to a message
 * recorded deeper down: err_set(rc, "steps", "step %d: %s", n, err_message()).
 */
int err_set(int code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The message recorded last on this thread ("" when none); borrowed. */
const char *err_message(void);

/* The field recorded last on this thread, or NULL; borrowed. */
const char *err_field(void);

/* The code recorded last on this thread, or 0. */
int err_code(void);

/*
 * A rule name for OTCM_ERULE failures (e.g. "segregation-of-duties"),
 * recorded with err_set_rule() after err_set(); NULL when none.
 */
void err_set_rule(const char *rule);
const char *err_rule(void);

/*
 * For OTCM_ETHROTTLED and OTCM_ELOCKED: how many seconds until the caller
 * may try again (at least 1), recorded with err_set_retry_after() after
 * err_set(); the door answers it as Retry-After.  err_retry_after() is 0
 * when none was recorded; err_set() with another code forgets it.
 */
void err_set_retry_after(long long seconds);
long long err_retry_after(void);

/* Forget the recorded message, field, rule and retry time. */
void err_clear(void);

/* A short stable name for a code ("not-found", "conflict", ...). */
const char *err_name(int code);

#endif
