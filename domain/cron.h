/*
 * domain/cron.h - read-back schedules as standard five-field cron
 * expressions, evaluated in UTC.
 *
 *     minute hour day-of-month month day-of-week
 *     0-59   0-23 1-31         1-12  0-7 (0 and 7: Sunday)
 *
 * Each field is "*" or a comma-separated list of items; an item is a
 * number, a range "a-b", or either ("*" too) followed by a step "/n"
 * ("*\/15", "8-18/2", "5/20" = 5 to the field's end every 20).  Month and
 * day names (JAN..DEC, SUN..SAT, any case) stand for their numbers.  As in
 * Vixie cron, when both day-of-month and day-of-week are restricted (not
 * starting with "*"), a day matches when either does.  Fields are separated
 * by spaces or tabs; nothing else is accepted (no seconds field, no "@daily",
 * no "L", "W", "#", "?").  Times are UTC: a plant spread over time zones,
 * and the server's clock, have one meaning; daylight saving time never
 * skips or repeats a run.
 *
 * Pure functions over plain data: no I/O, no allocation.
 *
 * Thread-safety: all functions are thread-safe.
 */
#ifndef OTCM_DOMAIN_CRON_H
#define OTCM_DOMAIN_CRON_H

#include <stdbool.h>
#include <stdint.h>

/* The longest expression accepted (the settings' column holds 100 bytes). */
#define CRON_MAX_LEN 100

/* A parsed expression: one bit per allowed value of each field. */
struct cron {
	uint64_t minutes;       /* bits 0..59 */
	uint32_t hours;         /* bits 0..23 */
	uint32_t days;          /* bits 1..31 */
	uint16_t months;        /* bits 1..12 */
	uint8_t weekdays;       /* bits 0..6, Sunday 0 */
	bool days_star;         /* day-of-month began with "*" */
	bool weekdays_star;     /* day-of-week began with "*" */
};

/*
 * Parse `expr` into *out.  OTCM_EINVAL naming "cron" with a sentence that
 * names the field and what is wrong with it; *out is then undefined.
 */
int cron_parse(struct cron *out, const char *expr);

/*
 * The first minute strictly after `after` (seconds since the epoch, UTC)
 * that `c` matches, in *out (seconds since the epoch, a whole minute).
 * OTCM_EINVAL naming "cron" when it matches no minute within the next
 * eight years (a day that never comes, such as "0 0 30 2 *").
 */
int cron_next(int64_t *out, const struct cron *c, int64_t after);

#endif
