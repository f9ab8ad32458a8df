/* core/timeutil.c - clock helpers; see timeutil.h. */
#include "core/timeutil.h"

#include <stdio.h>
#include <string.h>

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

/* y-m-d of a day count from 1970-01-01 (Howard Hinnant's civil_from_days). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void put2(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

void time_format_rfc3339(char out[TIME_RFC3339_LEN], int64_t us)
{
	int64_t secs = us / 1000000, rem = us % 1000000, days, y;
	unsigned ms, m, d, sod;

	if (rem < 0) {
		rem += 1000000;
		secs--;
	}
	ms = (unsigned)(rem / 1000);
	days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
	sod = (unsigned)(secs - days * 86400);
	civil_from_days(days, &y, &m, &d);
	if (y < 1000 || y > 9999) {
		/* outside four digits: as strftime writes it */
		time_t t = (time_t)secs;
		struct tm tm;
		size_t n;

		gmtime_r(&t, &tm);
		n = strftime(out, TIME_RFC3339_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(out + n, TIME_RFC3339_LEN - n, ".%03uZ", ms);
		return;
	}
	put2(out, (unsigned)(y / 100));
	put2(out + 2, (unsigned)(y % 100));
	out[4] = '-';
	put2(out + 5, m);
	out[7] = '-';
	put2(out + 8, d);
	out[10] = 'T';
	put2(out + 11, sod / 3600);
	out[13] = ':';
	put2(out + 14, sod / 60 % 60);
	out[16] = ':';
	put2(out + 17, sod % 60);
	out[19] = '.';
	out[20] = (char)('0' + ms / 100);
	put2(out + 21, ms % 100);
	out[23] = 'Z';
	out[24] = '\0';
}

void time_now_rfc3339(char out[TIME_RFC3339_LEN])
{
	time_format_rfc3339(out, time_now_us());
}

/* Days in month `m` (1-12) of year `y`, proleptic Gregorian. */
static int month_days(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* `n` decimal digits at s as *out; false unless all n are digits. */
static bool digits(int *out, const char *s, int n)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

bool time_parse_rfc3339(int64_t *out_us, char out[TIME_RFC3339_INPUT_LEN], const char *s)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, sign = 0;
	int64_t frac = 0, scale = 1000000;
	size_t len = strlen(s), i = 19;

	if (len < 10 || len > 40 || !digits(&y, s, 4) || s[4] != '-' || !digits(&mo, s + 5, 2) ||
	    s[7] != '-' || !digits(&d, s + 8, 2) || y < 1 || mo < 1 || mo > 12 || d < 1 ||
	    d > month_days(y, mo))
		return false;
	if (len == 10) {
		snprintf(out, TIME_RFC3339_INPUT_LEN, "%.10sT00:00:00Z", s);
	} else {
		if (len < 20 || !strchr("Tt ", s[10]) || !digits(&h, s + 11, 2) || s[13] != ':' ||
		    !digits(&mi, s + 14, 2) || s[16] != ':' || !digits(&sec, s + 17, 2) || h > 23 ||
		    mi > 59 || sec > 60 || (sec == 60 && (h != 23 || mi != 59)))
			return false;
		if (s[i] == '.') {
			size_t start = ++i;

			for (; s[i] >= '0' && s[i] <= '9'; i++) {
				if (scale > 1) {
					scale /= 10;
					frac += (s[i] - '0') * scale;
				}
			}
			if (i == start || i - start > 9)
				return false;
		}
		if ((s[i] == 'Z' || s[i] == 'z') && s[i + 1] == '\0') {
			sign = 0;
		} else if ((s[i] == '+' || s[i] == '-') && len - i == 6 && digits(&oh, s + i + 1, 2) &&
			   s[i + 3] == ':' && digits(&om, s + i + 4, 2) && oh <= 23 && om <= 59) {
			sign = s[i] == '+' ? 1 : -1;
		} else {
			return false;
		}
		snprintf(out, TIME_RFC3339_INPUT_LEN, "%s", s);
		out[10] = 'T';
		if (out[i] == 'z')
			out[i] = 'Z';
	}
	*out_us = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) -
		   sign * (oh * 3600 + om * 60)) * 1000000 + frac;
	return true;
}
