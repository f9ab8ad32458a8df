/*
 * domain/metrics.h - who may read the server's metrics, and what the
 * database adds to the process's own counters: the audit trail's head, the
 * age of its newest signed checkpoint, the delivery backlogs, the assets
 * per read-back state.
 *
 * The door (server/h_metrics.c) renders them with the request counters
 * (core/metrics.h) in the Prometheus text format.
 *
 * Thread-safety: as the context (domain.h).
 */
#ifndef OTCM_DOMAIN_METRICS_H
#define OTCM_DOMAIN_METRICS_H

#include "domain/domain.h"
#include "storage/monitor.h"

/*
 * Needs OP_METRICS_READ (no audit event for a read: a scraper reads every
 * few seconds).  Fills *out (release with monitor_state_release) and
 * *out_pool with the pool's use at this moment.
 */
int dom_metrics_read(struct monitor_state *out, struct db_pool_stats *out_pool, const struct dom *d);

#endif
