/*
 * server/h_health.h - liveness and readiness probes for load balancers and
 * orchestrators.  Both are public and cheap.
 */
#ifndef OTCM_SERVER_H_HEALTH_H
#define OTCM_SERVER_H_HEALTH_H

#include "server/http.h"

/* GET /healthz: 200 {"status":"ok"} while the process serves requests. */
int h_healthz(struct http_req *req);

/*
 * GET /readyz: 200 {"status":"ready"} when a pooled database connection
 * answers SELECT 1, else 503 problem+json.
 */
int h_readyz(struct http_req *req);

#endif
