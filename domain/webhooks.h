/*
 * domain/webhooks.h - signed webhooks: administrators subscribe a URL to
 * audit actions (`change.*`, `signature.*`, `drift.*`, ...), and the
 * delivering thread (server/hooksend.h) posts each matching audit event,
 * in order, signed after the Standard Webhooks convention.
 *
 * The rules: only administrators subscribe, read, change or delete (the
 * operations webhook.*); a URL is http:// or https:// with a host, no
 * user name or password in it, at most 2048 bytes; unless
 * --webhook-private-networks allow, a literal address outside the public
 * internet is refused here (and every address, named or literal, at
 * connect time); an event pattern is "*", an action ("change.create") or
 * a prefix ending in ".*" ("change.*"), 1 to 32 of them; a secret given
 * is "whsec_" and the base64 of 24 to 64 bytes, and without one the
 * server makes one; it is shown once, in the answer that set it.  A
 * subscription failing for --webhook-disable-after-hours is disabled by
 * the server with the audit event "webhook.disabled".
 *
 * Each write is one transaction with its audit event (webhook.create,
 * webhook.update, webhook.delete, webhook.disabled), never carrying the
 * secret.
 *
 * Thread-safety: as the context (domain.h).
 */
#ifndef OTCM_DOMAIN_WEBHOOKS_H
#define OTCM_DOMAIN_WEBHOOKS_H

#include <stdint.h>

#include "core/json.h"
#include "domain/domain.h"

/* The newest delivery attempts a read returns at most. */
#define DOM_WEBHOOK_DELIVERIES_MAX 500

/* "12" -> 12; anything but a positive integer: OTCM_EINVAL naming "id". */
int dom_webhook_id(int64_t *out, const char *s);

/*
 * Subscribe: `in` is {url, events: [...], description?, secret?}.  *out:
 * the subscription (storage/webhooks.h) with "secret", owned by the caller.
 * It receives the events after the newest one at its creation.
 */
int dom_webhook_create(json_t **out, const struct dom *d, const json_t *in);

/* Every subscription, {items: [...], disabled: N}; *out the caller's. */
int dom_webhook_list(json_t **out, const struct dom *d);

/*
 * One subscription; with `deliveries` > 0 (at most
 * DOM_WEBHOOK_DELIVERIES_MAX, else OTCM_EINVAL naming "limit") it carries
 * "deliveries": its newest attempts, newest first.  *out the caller's.
 */
int dom_webhook_read(json_t **out, const struct dom *d, int64_t id, unsigned deliveries);

/*
 * Change a subscription: `in` has any of url, events, description,
 * enabled (true re-enables a disabled one: delivery resumes at the event
 * it stopped at), secret (a given one) or rotate_secret: true.  *out: the
 * subscription, with "secret" when it changed.
 */
int dom_webhook_update(json_t **out, const struct dom *d, int64_t id, const json_t *in);

/* Delete a subscription and its delivery log. */
int dom_webhook_delete(const struct dom *d, int64_t id);

/*
 * The server disables subscription `id`, failing since `failing_for_s`
 * seconds, when that is at least --webhook-disable-after-hours: the
 * operation webhook.update by the actor (the delivering thread acts as
 * "system"), audited as "webhook.disabled" with the reason.  0 and
 * nothing done when the window has not passed or the subscription is
 * already disabled.
 */
int dom_webhook_disable_failing(const struct dom *d, int64_t id, int64_t failing_for_s,
				const char *last_error);

#endif
