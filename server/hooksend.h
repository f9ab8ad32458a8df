/*
 * server/hooksend.h - the webhook deliveries: a background thread that
 * posts each audit event matching a subscription (domain/webhooks.h) to
 * its URL, in order, signed after the Standard Webhooks convention
 * (docs/operations.md, "Webhooks"):
 *
 *   webhook-id: evt_<seq>           the same on every retry of the event
 *   webhook-timestamp: <unix seconds of this attempt>
 *   webhook-signature: v1,<base64 HMAC-SHA256(key, id "." timestamp "." body)>
 *
 * where key is the base64-decoded part of the subscription's "whsec_"
 * secret (core/hooksig.h), and the body is {"type": action, "timestamp", "data": {seq,
 * hash, action, actor, role, source, request_id, object_type, object_id,
 * reason, at}}.
 *
 * Durable and at-least-once, like the syslog delivery: each subscription's
 * mark (storage/webhooks.h) moves past an event only once its receiver
 * answered 2xx; any other answer, a timeout (10 s) or a refused address is
 * logged in the delivery log and retried after 1 s, doubling to 10
 * minutes, the subscription's later events waiting behind it.  A
 * subscription failing for --webhook-disable-after-hours is disabled by
 * dom_webhook_disable_failing().  Each look posts to every due
 * subscription at once (libcurl's multi interface), so a receiver that
 * hangs until the timeout holds up no other.  Only the node holding the webhook lead
 * (storage/leader.h, LEADER_WEBHOOK_KEY) delivers, and it deletes the
 * delivery log's attempts older than --webhook-log-days when it takes the
 * lead and hourly after that; it borrows a pooled
 * connection only to read what is due and to record each attempt, never
 * while waiting for a receiver.
 *
 * The HTTP client is libcurl (Debian's libcurl4-openssl-dev: https with
 * the peer's certificate and host name verified against --webhook-ca or
 * the system's store; redirects not followed; proxies from the
 * environment ignored); this file is its only user.  Unless
 * --webhook-private-networks allow, every address a receiver's name
 * resolves to is checked at connect time (core/netaddr.h), so neither a
 * name nor DNS rebinding reaches loopback or a private network.
 *
 * Thread-safety: hooksend_start and hooksend_stop from one thread.
 */
#ifndef OTCM_SERVER_HOOKSEND_H
#define OTCM_SERVER_HOOKSEND_H

#include "core/config.h"
#include "storage/db.h"

struct hooksend;

/*
 * Start the thread.  `cfg` and `pool` are borrowed and must outlive it;
 * `version` goes into the User-Agent (copied).  *out is the caller's
 * (hooksend_stop).
 */
int hooksend_start(struct hooksend **out, struct db_pool *pool, const struct config *cfg,
		   const char *version);

/* Stop the thread (an attempt in flight ends within its timeout) and free.  NULL is fine. */
void hooksend_stop(struct hooksend *h);

#endif
