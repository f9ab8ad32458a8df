/*
 * domain/signing.h - writing an electronic signature: the canonical JSON
 * of what is signed (keys sorted, no spaces, UTF-8) with the meaning and
 * the signer added, its SHA-256, and the signature row with the signer's
 * printed name and role.  A building block of the operations that sign
 * (domain/signatures.h) and of the release (domain/changes.h), which check
 * permission and rules themselves; it lies below both.
 *
 * Errors: OTCM_EDB, OTCM_EINTERNAL.
 *
 * Thread-safety: per context.
 */
#ifndef OTCM_DOMAIN_SIGNING_H
#define OTCM_DOMAIN_SIGNING_H

#include <stdbool.h>
#include <stdint.h>

#include "core/crypto.h"
#include "core/json.h"
#include "domain/domain.h"
#include "storage/db.h"

/* What a signature binds: the canonical text and its digest, and who signs. */
struct dom_signed {
	char *text;                                /* canonical JSON, malloc'd: dom_signed_release() */
	char sha256[2 * CRYPTO_SHA256_LEN + 1];
	int64_t signer_id;
	const char *signer, *printed_name, *role;  /* in d's arena */
	bool second_factor_enrolled;               /* the signer had one-time codes on */
};

/*
 * Add `meaning` and the actor's user name to `content` and make its
 * canonical text (keys sorted, no spaces, UTF-8) and SHA-256, with the
 * signer's printed name and role as the user table has them now.  The
 * first half of dom_signing_write(), for records that sign something other
 * than a change or run (an incident's review, domain/incidents.h).
 */
int dom_signing_canonical(struct dom_signed *out, const struct dom *d, struct db_conn *c,
			  const char *meaning, json_t *content);

/* Free what dom_signing_canonical() allocated; a zeroed struct is fine. */
void dom_signed_release(struct dom_signed *s);

/*
 * Write the actor's signature `meaning` of `content` (consumed in part:
 * meaning and signer are added to it) on change `change_id` (and run
 * `run_id`, 0 for none) in c's transaction; `method` is how the actor
 * re-authenticated, `trees` ({asset id: tree}, borrowed) what it binds.
 * A building block of the signing operations and of the release, which
 * have checked permission and rules.  *out gets the signature.
 */
/*
 * What a signature seals: the canonical JSON text (keys sorted, no spaces,
 * UTF-8, in the context's arena) of `content` with "meaning" and "signer"
 * added (content is changed so), its SHA-256 in hex, and the signer as the
 * database knows them now.
 */
struct dom_seal {
	const char *text;
	char sha256[2 * CRYPTO_SHA256_LEN + 1];
	int64_t signer_id;
	const char *printed_name, *role;
	bool second_factor_enrolled;   /* whether the signer had one-time codes on */
};

/*
 * Seal `content` as the actor's signature `meaning` (dom_seal above), for
 * signing operations that keep their signatures in a record of their own
 * (assessments, domain/assessments.h).  The caller has re-authenticated
 * the actor and checked permission and rules.
 */
int dom_signing_seal(struct dom_seal *out, const struct dom *d, struct db_conn *c, const char *meaning,
		     json_t *content);

int dom_signing_write(json_t **out, const struct dom *d, struct db_conn *c, int64_t change_id,
		      int64_t run_id, const char *meaning, const char *method, json_t *content,
		      const json_t *trees);

#endif
