/*
 * core/timeutil.h - the server's clock.  All times otcm records come from
 * here, never from a client or from git metadata.  Thread-safe.
 */
#ifndef OTCM_CORE_TIMEUTIL_H
#define OTCM_CORE_TIMEUTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define TIME_RFC3339_LEN 32

/* Wall-clock time in microseconds since the Unix epoch. */
int64_t time_now_us(void);

/* Monotonic time in microseconds (for durations). */
int64_t time_mono_us(void);

/* Now as "2026-11-28T21:48:36.123Z". */
void time_now_rfc3339(char out[TIME_RFC3339_LEN]);

/* A Unix time in microseconds as RFC 3339 UTC with milliseconds. */
void time_format_rfc3339(char out[TIME_RFC3339_LEN], int64_t us);

/*
 * An RFC 3339 full-date ("2030-01-31", read as midnight UTC) or date-time
 * ("2030-01-31T08:00:00Z", "2030-01-31t08:00:00.5+01:00", a space allowed
 * for the T; a leap second only at 23:59:60): every field in range, the
 * day existing in its month.  *out_us gets the instant in microseconds
 * since the epoch (fractions past microseconds dropped), out the text
 * normalised (a date gets "T00:00:00Z", so a database session's time zone
 * never matters; 't' and 'z' are written upper case).  false, with *out_us
 * and out undefined, when s is not such a text.
 */
#define TIME_RFC3339_INPUT_LEN 48
bool time_parse_rfc3339(int64_t *out_us, char out[TIME_RFC3339_INPUT_LEN], const char *s);

#endif
