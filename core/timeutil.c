/* core/timeutil.c - clock helpers; see timeutil.h. */
#include "core/timeutil.h"

#include <stdio.h>

int64_t time_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t time_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void time_format_rfc3339(char out[TIME_RFC3339_LEN], int64_t us)
{
	time_t secs = (time_t)(us / 1000000);
	unsigned ms = (unsigned)((us % 1000000 + 1000000) % 1000000 / 1000);
	struct tm tm;
	size_t n;

	gmtime_r(&secs, &tm);
	n = strftime(out, TIME_RFC3339_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, TIME_RFC3339_LEN - n, ".%03uZ", ms % 1000);
}

void time_now_rfc3339(char out[TIME_RFC3339_LEN])
{
	time_format_rfc3339(out, time_now_us());
}
