/*
 * domain/audit.h - reading the audit trail and proving it (docs/audit.md):
 * the events, the signed checkpoints (read, and signed on an
 * administrator's request), inclusion and consistency proofs, and the
 * trail's verification as the audit page shows it.
 *
 * Reading is not itself audited (an auditor's browsing would bloat the
 * trail it reads); neither is signing a checkpoint, which is its own
 * append-only record (an event would leave every checkpoint one event
 * behind), but refusing to sign one over a trail that does not verify is
 * (checkpoint.create, with its rule).  Exports are: reports (domain/reports.h) and evidence
 * (domain/evidence.h).
 *
 * Errors: OTCM_EAUTH / OTCM_EFORBIDDEN (dom_permit), OTCM_EINVAL naming
 * the field, OTCM_ENOTFOUND, OTCM_ERULE (rule "audit-trail-intact") when a
 * checkpoint is asked for over a trail that does not verify, as storage/.
 * Thread-safety: per context.
 */
#ifndef OTCM_DOMAIN_AUDIT_H
#define OTCM_DOMAIN_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "domain/domain.h"

/* Most events one page of the trail holds. */
#define DOM_AUDIT_MAX_LIMIT 1000

/*
 * Events oldest first, filtered by object (either may be NULL for all),
 * after sequence number `after` (>= 0, else OTCM_EINVAL naming "after"),
 * at most `limit` (1 to DOM_AUDIT_MAX_LIMIT, else naming "limit"):
 * {items: [...], next_after?: seq when the page is full}.  *out belongs
 * to the caller.
 */
int dom_audit_list(json_t **out, const struct dom *d, const char *object_type,
		   const char *object_id, int64_t after, int64_t limit);

/*
 * The checkpoint of exactly `tree_size` events, or the newest (0):
 * {tree_size, root_hash, origin, at, key_id, note, verifier_key}.
 * OTCM_ENOTFOUND when there is none.
 */
int dom_audit_checkpoint_get(json_t **out, const struct dom *d, uint64_t tree_size);

/*
 * Recompute the whole chain and sign a checkpoint over every event now
 * (administrators).  *out_new is false when the newest already covered
 * every event and *out is that one.  OTCM_ERULE when the trail does not
 * verify (nothing signed).
 */
int dom_audit_checkpoint_create(json_t **out, bool *out_new, const struct dom *d);

/*
 * The inclusion proof of event `seq` in the checkpoint of `tree_size`
 * (0: the newest), as checkpoint_inclusion() gives it.
 */
int dom_audit_inclusion(json_t **out, const struct dom *d, int64_t seq, uint64_t tree_size);

/* The consistency proof between the checkpoints of sizes first <= second. */
int dom_audit_consistency(json_t **out, const struct dom *d, uint64_t first, uint64_t second);

/*
 * The trail verified from the newest checkpoint on (docs/audit.md,
 * "Verifying from the newest checkpoint").  Strings live on d's arena.
 */
struct dom_audit_status {
	bool verified;                  /* the newest checkpoint and every event after it hold */
	bool have_key;                  /* the server has a signing key */
	uint64_t trusted;               /* events 1..trusted: signed by the newest checkpoint, whose
					   signature and root were checked (0: all were recomputed) */
	uint64_t chained;               /* events trusted+1..chained were recomputed and chain on */
	int64_t head_seq;               /* the newest event */
	int64_t bad_seq;                /* the first event that does not verify, 0: none */
	const char *chain_problem;
	uint64_t latest_size;           /* events the newest checkpoint signs, 0: none signed */
	uint64_t bad_size;              /* the newest checkpoint when it does not verify, 0: it does */
	const char *checkpoint_problem;
};

/* Fill *out (admins and auditors).  Errors only when the trail cannot be read. */
int dom_audit_verify(struct dom_audit_status *out, const struct dom *d);

#endif
