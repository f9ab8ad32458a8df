/*
 * storage/delivery.h - reading the audit trail in order for an outside
 * destination, and the mark of how far that destination has taken it.
 *
 * The audit trail is the outbox (its sequence numbers are gapless and
 * committed in order, storage/audit.h); table delivery_marks keeps, per
 * destination, the last sequence number it took.  Moving a mark is a
 * compare-and-swap, so two nodes that both believe they deliver cannot
 * move one mark past events the other has not sent.
 *
 * Thread-safety: as the connection.
 */
#ifndef OTCM_STORAGE_DELIVERY_H
#define OTCM_STORAGE_DELIVERY_H

#include <stddef.h>
#include <stdint.h>

#include "core/siem.h"
#include "storage/db.h"

/*
 * The mark of `destination` into *out (0 for a destination never seen
 * before, whose row this creates: a new destination gets the whole trail).
 */
int delivery_mark_get(int64_t *out, struct db_conn *c, const char *destination);

/*
 * Move the mark of `destination` from `from` to `to` (to > from).
 * OTCM_ECONFLICT when the mark is no longer `from` (another node moved it).
 */
int delivery_mark_move(struct db_conn *c, const char *destination, int64_t from, int64_t to);

/* Events after `after_seq`, oldest first, at most `limit`. */
struct delivery_batch {
	struct siem_event *events;   /* n of them; texts point into the result */
	size_t n;
	struct db_res *res;          /* owns the texts */
};

/* Fill *out (release with delivery_batch_release) with the next events. */
int delivery_batch_read(struct delivery_batch *out, struct db_conn *c, int64_t after_seq,
			unsigned limit);

/* Free what b holds and zero it; NULL and a zeroed batch are fine. */
void delivery_batch_release(struct delivery_batch *b);

#endif
