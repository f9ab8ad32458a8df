/*
 * server/forward.h - the audit trail to the plant's SIEM: a background
 * thread that sends every audit event, in order, to a syslog collector
 * over TCP (RFC 5424 messages, octet-counted framing, RFC 6587) or TLS
 * (RFC 5425), as `otcm serve --syslog tcp://HOST:PORT` or
 * `tls://HOST:PORT` asks (docs/operations.md).
 *
 * Durable and at-least-once: the thread reads the events after the
 * destination's mark (storage/delivery.h), sends them, and moves the mark
 * only once the collector's TCP stack acknowledged every byte.  A broken
 * or refused connection is retried with backoff (250 ms doubling to 5 s)
 * and delivery resumes from the mark, so after an outage or a restart the
 * collector gets every event in order, the last unacknowledged ones
 * possibly twice (the `seq` parameter tells them apart).  Only the node
 * holding the syslog lead (storage/leader.h, LEADER_SYSLOG_KEY) delivers.
 * Requests never wait for it: it has its own thread and borrows a pooled
 * connection only to read a batch and to move the mark.
 *
 * Thread-safety: forward_start and forward_stop from one thread.
 */
#ifndef OTCM_SERVER_FORWARD_H
#define OTCM_SERVER_FORWARD_H

#include "core/siem.h"
#include "storage/db.h"

struct forward;

/*
 * Start delivering to `url` (tcp:// or tls://HOST:PORT, checked by
 * siem_url_parse) in `format`; a tls:// collector's certificate must chain
 * to `ca_file` (PEM; NULL: the system's store) and name HOST.  `host`
 * names this server in each message's HOSTNAME and `version` is otcm's
 * (for CEF).  The strings are copied; the pool must outlive the thread.
 * *out is the caller's (forward_stop).
 */
int forward_start(struct forward **out, struct db_pool *pool, const char *url,
		  const char *ca_file, enum siem_format format, const char *host,
		  const char *version);

/* Stop the thread (a send in flight ends within its timeout), close, free.  NULL is fine. */
void forward_stop(struct forward *f);

#endif
