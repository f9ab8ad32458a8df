/*
 * server/h_metrics.c - GET /metrics: the server's metrics in the
 * Prometheus text exposition format (version 0.0.4), for an administrator's
 * or an auditor's bearer token (docs/operations.md, "Metrics").
 *
 * h_metrics_render() serves the --metrics-listen address too
 * (server/mlisten.h).  The request counters are the process's own (core/metrics.h: each node
 * counts what it served); the audit trail, checkpoint and delivery figures
 * come from the shared database through dom_metrics_read(), so every node
 * reports the same for them.
 */
#include <string.h>

#include "core/err.h"
#include "core/metrics.h"
#include "domain/metrics.h"
#include "server/handlers.h"
#include "server/routes.h"

#define METRICS_CAP ((size_t)16 << 20)

/* Route labels, built once: method and pattern of each row. */
static int render_requests(struct buf *out, const struct metrics *m, struct arena *a)
{
	const char **methods = arena_alloc(a, (routes_count + 1) * sizeof(*methods));
	const char **patterns = arena_alloc(a, (routes_count + 1) * sizeof(*patterns));

	for (size_t i = 0; i < routes_count; i++) {
		methods[i] = routes[i].method;
		patterns[i] = routes[i].pattern;
	}
	return metrics_render_requests(out, m, methods, patterns);
}

static int gauge(struct buf *out, const char *name, const char *help, double v)
{
	int rc;

	if ((rc = metrics_render_family(out, name, "gauge", help)))
		return rc;
	return metrics_render_sample(out, name, NULL, 0, v);
}

static int counter(struct buf *out, const char *name, const char *help, double v)
{
	int rc;

	if ((rc = metrics_render_family(out, name, "counter", help)))
		return rc;
	return metrics_render_sample(out, name, NULL, 0, v);
}

/* The credential cache of this node (storage/credcache.h). */
static int render_creds(struct buf *out, const struct db_pool_stats *pool)
{
	int rc;

	if (!pool->creds)
		return 0;
	if ((rc = gauge(out, "otcm_credential_cache_listening",
			"1 while this node hears of changes to users, tokens and assets and answers them from memory",
			pool->creds_listening)) ||
	    (rc = counter(out, "otcm_credential_cache_hits_total",
			  "API token lookups answered from memory", (double)pool->creds_hits)) ||
	    (rc = counter(out, "otcm_credential_cache_misses_total",
			  "API token lookups read from the database", (double)pool->creds_misses)) ||
	    (rc = counter(out, "otcm_credential_cache_notifications_total",
			  "changes to users or tokens this node heard of", (double)pool->creds_notifications)))
		return rc;
	if ((rc = counter(out, "otcm_credential_cache_connects_total",
			  "times the listening connection was opened", (double)pool->creds_connects)) ||
	    (rc = counter(out, "otcm_asset_cache_hits_total",
			  "asset reads answered from memory", (double)pool->asset_hits)))
		return rc;
	return counter(out, "otcm_asset_cache_misses_total", "asset reads from the database",
		       (double)pool->asset_misses);
}

static int render_state(struct buf *out, const struct monitor_state *s,
			const struct db_pool_stats *pool, const struct metrics *m)
{
	static const char backlog[] = "otcm_delivery_backlog_events";
	static const char enabled[] = "otcm_webhook_enabled";
	int rc;

	if ((rc = metrics_render_family(out, "otcm_login_failures_total", "counter",
					"logins refused by this node: wrong password or code, "
					"throttled, locked, or without the login form's token")) ||
	    (rc = metrics_render_sample(out, "otcm_login_failures_total", NULL, 0,
					(double)metrics_login_failures(m))) ||
	    (rc = gauge(out, "otcm_db_pool_connections", "database connections the pool may hold",
			pool->size)) ||
	    (rc = gauge(out, "otcm_db_pool_in_use", "database connections lent out now",
			pool->in_use)) ||
	    (rc = gauge(out, "otcm_db_pool_waiting", "borrowers waiting for a database connection now",
			pool->waiting)) ||
	    (rc = render_creds(out, pool)) ||
	    (rc = gauge(out, "otcm_audit_last_seq", "sequence number of the newest audit event",
			(double)s->audit_seq)) ||
	    (rc = gauge(out, "otcm_audit_checkpoint_tree_size",
			"audit events the newest signed checkpoint covers (0: none signed)",
			(double)s->checkpoint_size)))
		return rc;
	if (s->checkpoint_age_s >= 0 &&
	    (rc = gauge(out, "otcm_audit_checkpoint_age_seconds",
			"seconds since the newest audit checkpoint was signed", s->checkpoint_age_s)))
		return rc;
	if ((rc = metrics_render_family(out, backlog, "gauge",
					"audit events a destination has not yet taken "
					"(syslog collector, or webhook subscription by id)")))
		return rc;
	for (size_t i = 0; i < s->nbacklog; i++) {
		const char *labels[4] = { "kind", s->backlog[i].kind,
					  "destination", s->backlog[i].destination };

		if ((rc = metrics_render_sample(out, backlog, labels, 2, (double)s->backlog[i].events)))
			return rc;
	}
	if ((rc = metrics_render_family(out, enabled, "gauge",
					"1 while a webhook subscription delivers, 0 once disabled")))
		return rc;
	for (size_t i = 0; i < s->nbacklog; i++) {
		const char *labels[2] = { "destination", s->backlog[i].destination };

		if (strcmp(s->backlog[i].kind, "webhook") != 0)
			continue;
		if ((rc = metrics_render_sample(out, enabled, labels, 1, s->backlog[i].enabled)))
			return rc;
	}
	return 0;
}

/*
 * Read-back states: assets per state (every state, zeros included, so a
 * state that empties reads 0 rather than vanishing) and the age of the
 * oldest newest-good read-back among the assets of each state.
 */
static int render_readbacks(struct buf *out, const struct monitor_state *s)
{
	static const char *const states[] = { "in_sync", "pending_release", "drift", "read_failed",
					      "stale", "never_read", NULL };
	static const char assets[] = "otcm_readback_assets";
	static const char age[] = "otcm_readback_oldest_good_age_seconds";
	int rc;

	if ((rc = metrics_render_family(out, assets, "gauge",
					"assets by read-back state, as each asset's newest read-back left it")))
		return rc;
	for (size_t i = 0; states[i]; i++) {
		const char *labels[2] = { "state", states[i] };
		double n = 0;

		for (size_t j = 0; j < s->nreadbacks; j++)
			if (strcmp(s->readbacks[j].state, states[i]) == 0)
				n = (double)s->readbacks[j].assets;
		if ((rc = metrics_render_sample(out, assets, labels, 1, n)))
			return rc;
	}
	if ((rc = metrics_render_family(out, age, "gauge",
					"seconds since the oldest of the newest good read-backs of the "
					"assets in a state (states whose assets have one)")))
		return rc;
	for (size_t j = 0; j < s->nreadbacks; j++) {
		const char *labels[2] = { "state", s->readbacks[j].state };

		if (s->readbacks[j].oldest_good_age_s >= 0 &&
		    (rc = metrics_render_sample(out, age, labels, 1, s->readbacks[j].oldest_good_age_s)))
			return rc;
	}
	return 0;
}

int h_metrics_render(struct buf *out, const struct dom *d, const struct metrics *m)
{
	struct monitor_state s = { 0 };
	struct db_pool_stats pool = { 0 };
	int rc;

	if ((rc = dom_metrics_read(&s, &pool, d)))
		goto out;
	buf_init(out, METRICS_CAP);
	if ((rc = render_requests(out, m, d->arena)))
		goto out;
	if ((rc = render_state(out, &s, &pool, m)))
		goto out;
	rc = render_readbacks(out, &s);
out:
	monitor_state_release(&s);
	return rc;
}

int h_metrics(struct http_req *req)
{
	struct buf out = BUF_INIT;
	int rc;

	if ((rc = h_metrics_render(&out, &req->dom, req->srv->metrics)) == 0)
		rc = http_reply_bytes(req, 200, "text/plain; version=0.0.4; charset=utf-8", out.data,
				      out.len);
	buf_release(&out);
	return rc;
}
