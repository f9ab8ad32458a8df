/*
 * server/mlisten.h - `--metrics-listen HOST:PORT`: a second address that
 * serves GET /metrics (and nothing else) without credentials, for a
 * Prometheus server on a management network that should hold no otcm
 * credential (docs/operations.md, "Metrics").
 *
 * One thread, one connection at a time (a scraper asks serially), HTTP/1.1
 * with Connection: close; a client gets 5 seconds to send at most 8 KiB
 * of request head and to take the answer.  The answer is the one
 * GET /metrics gives a token (h_metrics_render()), read as the server's
 * own actor "metrics" (door cli, as the background threads act; role
 * auditor): the operation metrics.read and nothing more, since this
 * listener routes nothing else.  Other paths are
 * 404, other methods 405.
 *
 * Thread-safety: mlisten_start and mlisten_stop from one thread.
 */
#ifndef OTCM_SERVER_MLISTEN_H
#define OTCM_SERVER_MLISTEN_H

#include "server/http.h"

struct mlisten;

/*
 * Bind `where` (HOST:PORT, IPv4 or [IPv6]) and start serving; `srv` is
 * borrowed and must outlive the listener.  OTCM_EINVAL (field
 * "metrics-listen") for an address that cannot be bound.  *out is the
 * caller's (mlisten_stop).
 */
int mlisten_start(struct mlisten **out, const char *where, const struct server *srv);

/* Stop serving (a request in flight ends within its timeout), close, free.  NULL is fine. */
void mlisten_stop(struct mlisten *l);

#endif
