/* domain/cron.c - five-field cron expressions in UTC; see cron.h. */
#include "domain/cron.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/err.h"

struct field {
	const char *name;
	unsigned lo, hi;
	const char *const *names;  /* names[i] stands for lo + i, or NULL */
};

static const char *const month_names[] = { "jan", "feb", "mar", "apr", "may", "jun",
					   "jul", "aug", "sep", "oct", "nov", "dec", NULL };
static const char *const day_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL };

static const struct field fields[5] = {
	{ "minute", 0, 59, NULL },
	{ "hour", 0, 23, NULL },
	{ "day-of-month", 1, 31, NULL },
	{ "month", 1, 12, month_names },
	{ "day-of-week", 0, 7, day_names },
};

/* A number or (where the field has them) a name at *p; advances *p. */
static int value(unsigned *out, const char **p, const struct field *f)
{
	const char *s = *p;
	unsigned v = 0;
	size_t i;

	if (isdigit((unsigned char)*s)) {
		while (isdigit((unsigned char)*s)) {
			v = v * 10 + (unsigned)(*s - '0');
			if (v > 1000)
				return -1;
			s++;
		}
	} else if (f->names) {
		for (i = 0; f->names[i]; i++)
			if (strncasecmp(s, f->names[i], 3) == 0)
				break;
		if (!f->names[i] || isalpha((unsigned char)s[3]))
			return -1;
		v = f->lo + (unsigned)i;
		s += 3;
	} else {
		return -1;
	}
	if (v < f->lo || v > f->hi)
		return -1;
	*out = v;
	*p = s;
	return 0;
}

/* One field's text [s, end) into the bits of *out. */
static int parse_field(uint64_t *out, bool *out_star, const char *s, const char *end,
		       const struct field *f)
{
	uint64_t bits = 0;
	unsigned a, b, step, v;
	bool single;

	*out_star = *s == '*';
	while (s < end) {
		step = 1;
		single = false;
		if (*s == '*') {
			a = f->lo;
			b = f->hi;
			s++;
		} else {
			if (value(&a, &s, f))
				return -1;
			b = a;
			single = true;
			if (*s == '-') {
				s++;
				single = false;
				if (value(&b, &s, f) || b < a)
					return -1;
			}
		}
		if (*s == '/') {
			const char *t = ++s;

			step = 0;
			while (s < end && isdigit((unsigned char)*s) && step <= f->hi)
				step = step * 10 + (unsigned)(*s++ - '0');
			if (s == t || step == 0 || step > f->hi + 1)
				return -1;
			/* "5/20": from 5 to the field's end */
			if (single)
				b = f->hi;
		}
		for (v = a; v <= b; v += step)
			bits |= (uint64_t)1 << v;
		if (s == end)
			break;
		if (*s != ',' || s + 1 == end)
			return -1;
		s++;
	}
	*out = bits;
	return 0;
}

int cron_parse(struct cron *out, const char *expr)
{
	const char *s = expr, *start;
	uint64_t bits[5];
	bool star[5];
	int i;

	if (!expr)
		return err_set(OTCM_EINVAL, "cron", "'cron' is required");
	if (strlen(expr) > CRON_MAX_LEN)
		return err_set(OTCM_EINVAL, "cron", "'cron' is at most %d characters", CRON_MAX_LEN);
	for (i = 0; i < 5; i++) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			return err_set(OTCM_EINVAL, "cron", "'cron' needs five fields (minute hour day-of-month "
				       "month day-of-week, UTC); the %s field is missing", fields[i].name);
		start = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
		if (parse_field(&bits[i], &star[i], start, s, &fields[i]))
			return err_set(OTCM_EINVAL, "cron", "'cron': the %s field '%.*s' is not a number %u-%u, "
				       "a range, a list or a step", fields[i].name,
				       (int)(s - start > 20 ? 20 : s - start), start, fields[i].lo, fields[i].hi);
	}
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s)
		return err_set(OTCM_EINVAL, "cron", "'cron' takes five fields (minute hour day-of-month month "
			       "day-of-week, UTC); found more: '%.20s'", s);
	memset(out, 0, sizeof(*out));
	out->minutes = bits[0];
	out->hours = (uint32_t)bits[1];
	out->days = (uint32_t)bits[2];
	out->months = (uint16_t)bits[3];
	/* 7 is Sunday too */
	out->weekdays = (uint8_t)((bits[4] | (bits[4] >> 7)) & 0x7f);
	out->days_star = star[2];
	out->weekdays_star = star[4];
	return 0;
}

/* Does the day `tm` (its mday, mon, wday) match? */
static bool day_matches(const struct cron *c, const struct tm *tm)
{
	bool dom = (c->days >> tm->tm_mday) & 1u, dow = (c->weekdays >> tm->tm_wday) & 1u;

	if (!((c->months >> (tm->tm_mon + 1)) & 1u))
		return false;
	if (c->days_star || c->weekdays_star)
		return dom && dow;
	return dom || dow;
}

int cron_next(int64_t *out, const struct cron *c, int64_t after)
{
	/* eight years reach a 29 February from anywhere (2100 is no leap year) */
	const int max_days = 8 * 366 + 1;
	int64_t day, t;
	struct tm tm;
	time_t tt;
	int d, h, m, first_h, first_m;

	/* the minute after `after`, whole */
	t = (after >= 0 ? after / 60 : (after - 59) / 60) * 60 + 60;
	day = (t >= 0 ? t / 86400 : (t - 86399) / 86400) * 86400;
	for (d = 0; d < max_days; d++, day += 86400) {
		tt = (time_t)day;
		if (!gmtime_r(&tt, &tm))
			break;
		if (!day_matches(c, &tm))
			continue;
		first_h = d == 0 ? (int)((t - day) / 3600) : 0;
		for (h = first_h; h < 24; h++) {
			if (!((c->hours >> h) & 1u))
				continue;
			first_m = d == 0 && h == first_h ? (int)((t - day) % 3600 / 60) : 0;
			for (m = first_m; m < 60; m++) {
				if ((c->minutes >> m) & 1u) {
					*out = day + h * 3600 + m * 60;
					return 0;
				}
			}
		}
	}
	return err_set(OTCM_EINVAL, "cron", "'cron' never fires: no day within eight years matches its "
		       "day-of-month, month and day-of-week");
}
