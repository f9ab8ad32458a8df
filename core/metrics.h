/*
 * core/metrics.h - the process's own counters for Prometheus, and the
 * text exposition format (version 0.0.4) they are served in.
 *
 * struct metrics counts requests by route and status, their durations in
 * a histogram per route, and failed logins.  Counting is a few relaxed
 * atomic additions: no lock, no allocation, no database on the request's
 * path.  Rendering reads the counters without stopping the writers, so a
 * scrape may see a request in one counter and not yet in another; each
 * histogram is rendered from its buckets alone, so its buckets, +Inf and
 * _count always agree.
 *
 * The metric names and what they mean are in docs/operations.md
 * ("Metrics").
 *
 * Thread-safety: metrics_count_* and metrics_render_* from any thread.
 */
#ifndef OTCM_CORE_METRICS_H
#define OTCM_CORE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Upper bounds of the duration histogram's buckets, seconds (+Inf follows). */
#define METRICS_BUCKETS 12

struct metrics;

/*
 * Counters for `nroutes` routes (0 .. nroutes-1) and one more, index
 * `nroutes`, for requests that matched no route.  *out is the caller's
 * (metrics_free).
 */
void metrics_new(struct metrics **out, size_t nroutes);

/* Free m.  NULL is fine. */
void metrics_free(struct metrics *m);

/*
 * Count one finished request of route `route` (nroutes: none matched)
 * answered with `status` (0: no answer of ours went out; beyond 599
 * counts as 0) that took `duration_us`.  m NULL does nothing.
 */
void metrics_count_request(struct metrics *m, size_t route, unsigned status, int64_t duration_us);

/* Count one failed or refused login.  m NULL does nothing. */
void metrics_count_login_failure(struct metrics *m);

/* Failed logins counted so far. */
uint64_t metrics_login_failures(const struct metrics *m);

/*
 * Append the request families to out:
 *   otcm_http_requests_total{method,route,status}   counter
 *   otcm_http_request_duration_seconds{method,route} histogram
 * `methods[i]` and `routes[i]` label route i (i < nroutes); the unmatched
 * requests are method "", route "unmatched".  Only routes with requests
 * appear.  OTCM_ETOOBIG when out's cap is reached.
 */
int metrics_render_requests(struct buf *out, const struct metrics *m, const char *const *methods,
			    const char *const *routes);

/* Append "# HELP name help\n# TYPE name type\n" (help escaped as the format asks). */
int metrics_render_family(struct buf *out, const char *name, const char *type, const char *help);

/*
 * Append one sample line: `name`, then the labels (`nlabels` name/value
 * pairs in `labels`: name0, value0, name1, value1, ...; values escaped),
 * then `value` (the shortest of %.15g and %.17g that reads back exactly;
 * NaN and infinities as Prometheus spells them).
 */
int metrics_render_sample(struct buf *out, const char *name, const char *const *labels,
			  size_t nlabels, double value);

#endif
