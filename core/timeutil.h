/*
 * core/timeutil.h - the server's clock.  All times otcm records come from
 * here, never from a client or from git metadata.  Thread-safe.
 */
#ifndef OTCM_CORE_TIMEUTIL_H
#define OTCM_CORE_TIMEUTIL_H

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

#endif
