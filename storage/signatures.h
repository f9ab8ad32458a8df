/*
 * storage/signatures.h - electronic signatures on changes and test
 * runs: what was signed (canonical JSON and its SHA-256), by whom, how
 * re-authenticated.  The database refuses to edit or delete them.
 *
 * Records come back as JSON objects (owned by the caller) with times in
 * RFC 3339 UTC from the database server's clock.  This module stores and
 * reads; it does not decide (domain/ does).  Every function runs on the
 * caller's connection; writes belong in the caller's transaction with
 * their audit event, on a change the caller locked with changes_lock().
 *
 * Errors: OTCM_EINVAL naming the field, OTCM_ENOTFOUND, OTCM_EDB,
 * OTCM_ERETRY.
 *
 * Thread-safety: as the connection.
 */
#ifndef OTCM_STORAGE_SIGNATURES_H
#define OTCM_STORAGE_SIGNATURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/json.h"
#include "storage/db.h"

/* ---- signatures ---- */

struct signature_record {
	int64_t change_id;
	int64_t run_id;                /* 0: a signature on the change */
	const char *meaning;
	int64_t signer_id;
	const char *printed_name, *role, *auth_method;
	bool second_factor_enrolled;   /* the signer had one-time codes enrolled */
	const char *content;           /* the canonical JSON signed */
	const char *content_sha256;
	const json_t *trees;           /* {asset id: tree} */
};
/*
 * Record signature `s`; *out gets it as {id, change, run_id, meaning,
 * signer, printed_name, role, reauthenticated_with, second_factor_enrolled
 * (true, false, or null for signatures older than the record of it),
 * signed_at, content, content_sha256, trees, stale}.
 */
int signatures_insert(json_t **out, struct db_conn *c, const struct signature_record *s);

/*
 * The signatures of change `change_id` (0: any) and run `run_id` (0: any,
 * the change's own and its runs'), oldest first, as a JSON array.
 */
int signatures_list(json_t **out, struct db_conn *c, int64_t change_id, int64_t run_id);

#endif
