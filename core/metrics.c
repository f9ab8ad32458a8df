/* core/metrics.c - the process's counters and their exposition; see metrics.h. */
#include "core/metrics.h"

#include <assert.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/err.h"
#include "core/mem.h"

#define STATUSES 600   /* 0 and 100..599; anything else counts as 0 */

static const double bucket_bounds[METRICS_BUCKETS] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
};

struct route_counts {
	atomic_uint_fast64_t status[STATUSES];
	atomic_uint_fast64_t bucket[METRICS_BUCKETS + 1];  /* not cumulative; last is +Inf only */
	atomic_uint_fast64_t sum_us;
};

struct metrics {
	size_t nroutes;
	struct route_counts *routes;     /* nroutes + 1 */
	atomic_uint_fast64_t login_failures;
};

void metrics_new(struct metrics **out, size_t nroutes)
{
	struct metrics *m = xcalloc(1, sizeof(*m));

	m->nroutes = nroutes;
	m->routes = xcalloc(nroutes + 1, sizeof(*m->routes));
	for (size_t i = 0; i <= nroutes; i++) {
		for (size_t s = 0; s < STATUSES; s++)
			atomic_init(&m->routes[i].status[s], 0);
		for (size_t b = 0; b <= METRICS_BUCKETS; b++)
			atomic_init(&m->routes[i].bucket[b], 0);
		atomic_init(&m->routes[i].sum_us, 0);
	}
	atomic_init(&m->login_failures, 0);
	*out = m;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	free(m->routes);
	free(m);
}

void metrics_count_request(struct metrics *m, size_t route, unsigned status, int64_t duration_us)
{
	struct route_counts *r;
	size_t b = 0;
	double secs;

	if (!m)
		return;
	assert(route <= m->nroutes);
	r = &m->routes[route];
	if (status >= STATUSES || (status > 0 && status < 100))
		status = 0;
	if (duration_us < 0)
		duration_us = 0;
	secs = (double)duration_us / 1e6;
	while (b < METRICS_BUCKETS && secs > bucket_bounds[b])
		b++;
	atomic_fetch_add_explicit(&r->status[status], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->sum_us, (uint_fast64_t)duration_us, memory_order_relaxed);
}

void metrics_count_login_failure(struct metrics *m)
{
	if (m)
		atomic_fetch_add_explicit(&m->login_failures, 1, memory_order_relaxed);
}

uint64_t metrics_login_failures(const struct metrics *m)
{
	return m ? atomic_load_explicit(&m->login_failures, memory_order_relaxed) : 0;
}

/* Append s escaped for HELP text (\\ and \n) or, with quote, a label value (also \"). */
static int escape(struct buf *out, const char *s, int quote)
{
	int rc = 0;

	for (; *s && rc == 0; s++) {
		if (*s == '\\')
			rc = buf_adds(out, "\\\\");
		else if (*s == '\n')
			rc = buf_adds(out, "\\n");
		else if (*s == '"' && quote)
			rc = buf_adds(out, "\\\"");
		else
			rc = buf_addch(out, *s);
	}
	return rc;
}

int metrics_render_family(struct buf *out, const char *name, const char *type, const char *help)
{
	int rc;

	if ((rc = buf_addf(out, "# HELP %s ", name)) || (rc = escape(out, help, 0)) ||
	    (rc = buf_addf(out, "\n# TYPE %s %s\n", name, type)))
		return rc;
	return 0;
}

static int add_value(struct buf *out, double v)
{
	if (isnan(v))
		return buf_adds(out, "NaN");
	if (isinf(v))
		return buf_adds(out, v > 0 ? "+Inf" : "-Inf");
	char text[32];

	/* the shortest of %.15g and %.17g that reads back as v */
	snprintf(text, sizeof(text), "%.15g", v);
	if (strtod(text, NULL) != v)
		snprintf(text, sizeof(text), "%.17g", v);
	return buf_adds(out, text);
}

int metrics_render_sample(struct buf *out, const char *name, const char *const *labels,
			  size_t nlabels, double value)
{
	int rc;

	if ((rc = buf_adds(out, name)))
		return rc;
	for (size_t i = 0; i < nlabels && rc == 0; i++) {
		if ((rc = buf_addf(out, "%s%s=\"", i ? "," : "{", labels[2 * i])) ||
		    (rc = escape(out, labels[2 * i + 1], 1)) || (rc = buf_addch(out, '"')))
			break;
	}
	if (rc == 0 && nlabels)
		rc = buf_addch(out, '}');
	if (rc == 0)
		rc = buf_addch(out, ' ');
	if (rc == 0)
		rc = add_value(out, value);
	if (rc == 0)
		rc = buf_addch(out, '\n');
	return rc;
}

int metrics_render_requests(struct buf *out, const struct metrics *m, const char *const *methods,
			    const char *const *routes)
{
	static const char count_name[] = "otcm_http_requests_total";
	static const char hist_name[] = "otcm_http_request_duration_seconds";
	char status_s[8], le[32];
	int rc;

	assert(out && m && methods && routes);
	if ((rc = metrics_render_family(out, count_name, "counter",
					"HTTP requests answered, by route template and status "
					"(status 0: the connection ended before an answer)")))
		return rc;
	for (size_t i = 0; i <= m->nroutes; i++) {
		const char *labels[6] = { "method", i < m->nroutes ? methods[i] : "",
					  "route", i < m->nroutes ? routes[i] : "unmatched",
					  "status", status_s };

		for (size_t s = 0; s < STATUSES; s++) {
			uint64_t n = atomic_load_explicit(&m->routes[i].status[s], memory_order_relaxed);

			if (n == 0)
				continue;
			snprintf(status_s, sizeof(status_s), "%zu", s);
			if ((rc = metrics_render_sample(out, count_name, labels, 3, (double)n)))
				return rc;
		}
	}
	if ((rc = metrics_render_family(out, hist_name, "histogram",
					"time from a request's first byte to its answer's last, "
					"by route template")))
		return rc;
	for (size_t i = 0; i <= m->nroutes; i++) {
		const struct route_counts *r = &m->routes[i];
		const char *labels[6] = { "method", i < m->nroutes ? methods[i] : "",
					  "route", i < m->nroutes ? routes[i] : "unmatched",
					  "le", le };
		uint64_t cumulative = 0;

		for (size_t b = 0; b <= METRICS_BUCKETS; b++)
			cumulative += atomic_load_explicit(&r->bucket[b], memory_order_relaxed);
		if (cumulative == 0)
			continue;
		cumulative = 0;
		for (size_t b = 0; b <= METRICS_BUCKETS; b++) {
			cumulative += atomic_load_explicit(&r->bucket[b], memory_order_relaxed);
			if (b < METRICS_BUCKETS)
				snprintf(le, sizeof(le), "%g", bucket_bounds[b]);
			else
				snprintf(le, sizeof(le), "+Inf");
			if ((rc = metrics_render_sample(out, "otcm_http_request_duration_seconds_bucket",
							labels, 3, (double)cumulative)))
				return rc;
		}
		if ((rc = metrics_render_sample(out, "otcm_http_request_duration_seconds_sum", labels, 2,
						(double)atomic_load_explicit(&r->sum_us,
									     memory_order_relaxed) / 1e6)) ||
		    (rc = metrics_render_sample(out, "otcm_http_request_duration_seconds_count", labels, 2,
						(double)cumulative)))
			return rc;
	}
	return 0;
}
