/*
 * domain/signatures.h - electronic signatures on changes and test runs.
 *
 * A signature needs the signer's password again, and a one-time code when
 * the signer enrolled one (dom_reauth(), domain/auth.h), at the moment of
 * signing.  What is signed is a canonical JSON (keys sorted, no spaces,
 * UTF-8) of the change's fields and, for every affected asset, the commit
 * and tree of its change branch at that moment (for a run: the run, its
 * steps and its verdict), with the meaning and the signer added; the
 * signature row keeps that text and its SHA-256, the signer's printed name
 * and role.  Signatures are never edited or deleted (the database refuses
 * it).  Refusals are audited as signature.refused.
 *
 * Errors: those of domain/changes.h; OTCM_EAUTH naming "password" or
 * "totp_code" when re-authentication fails (401).
 *
 * Thread-safety: per context.
 */
#ifndef OTCM_DOMAIN_SIGNATURES_H
#define OTCM_DOMAIN_SIGNATURES_H

#include <stdbool.h>
#include <stdint.h>

#include "core/json.h"
#include "domain/domain.h"

/*
 * Sign change `key` (OP_CHANGE_SIGN; rules_sign_change()): `in` is
 * {meaning (authorised, reviewed, approved), password, totp_code?,
 * comment?}.  Authorising and approving move the change on (audited as
 * change.transition).  *out gets the signature.
 */
int dom_change_sign(json_t **out, const struct dom *d, const char *key, const json_t *in);

/*
 * Sign test run `run_id` (OP_RUN_SIGN; rules_sign_run()): `in` as above
 * with meaning tested (by its tester: completes the run and sets its
 * verdict) or witnessed (by someone who did not test).  *out gets the
 * signature.
 */
int dom_run_sign(json_t **out, const struct dom *d, const char *run_id, const json_t *in);

/* The signatures of change `key`, {items[]} (OP_CHANGE_READ). */
int dom_signature_list(json_t **out, const struct dom *d, const char *key);

/*
 * For the signing dialog: what signing change `key` with `meaning`
 * (authorised, reviewed, approved or released) would sign now, into
 * *out_content (owned by the caller; meaning and signer not yet added),
 * and in *out_refused 0 when the actor may sign it, else the refusal's
 * code with its sentence and rule kept (as the operation would answer,
 * permission included).  Checks OP_CHANGE_READ; nothing is audited.
 */
int dom_change_sign_view(json_t **out_content, int *out_refused, const struct dom *d,
			 const char *key, const char *meaning);

/* The same for signing test run `run_id` with `meaning` (tested or witnessed). */
int dom_run_sign_view(json_t **out_content, int *out_refused, const struct dom *d,
		      const char *run_id, const char *meaning);

/* Does the actor sign with a one-time code as well (enrolled and enabled)? */
int dom_signature_needs_code(bool *out, const struct dom *d);

#endif
