/*
 * domain/runs.h - test protocol templates, test runs, their steps and the
 * photos and logs attached to steps.
 *
 * A run binds one protocol version to one change, one asset and the exact
 * commit and tree of the change branch under test.  Templates are never
 * edited in place: writing one with an existing name makes its next
 * version.  A run completes when its tester signs it "tested"
 * (dom_run_sign(), domain/signatures.h); from then on its steps and
 * attachments no longer change (rule run-completed), nor do those of a run
 * whose tree is no longer the branch head (rule stale-run).  Attachments
 * are git blobs of the run's asset, typed by their bytes, whatever the
 * client said.  Refusals are audited as test-run.refused,
 * test-run.step.refused and test-run.attachment.refused.
 *
 * Errors: OTCM_EINVAL naming the field, OTCM_ENOTFOUND naming "id" or
 * "no", OTCM_ETOOBIG and OTCM_EMEDIA naming "file", OTCM_ERULE, OTCM_EDB.
 *
 * Thread-safety: per context.
 */
#ifndef OTCM_DOMAIN_RUNS_H
#define OTCM_DOMAIN_RUNS_H

#include <stddef.h>
#include <stdint.h>

#include "core/json.h"
#include "domain/domain.h"

/*
 * A test protocol (OP_PROTOCOL_CREATE): `in` is {name, kind (fat, sat),
 * title, witness_required?, steps[{instruction, expected}]}.  *out gets it.
 */
int dom_protocol_create(json_t **out, const struct dom *d, const json_t *in);

/* Protocols, {items[]}, every version, or those named `name` (NULL: all) (OP_PROTOCOL_READ). */
int dom_protocol_list(json_t **out, const struct dom *d, const char *name);

/* Protocol version `id` (OP_PROTOCOL_READ). */
int dom_protocol_read(json_t **out, const struct dom *d, const char *id);

/*
 * Start a run on change `key` (OP_RUN_CREATE; rules_can_start_run()):
 * `in` is {protocol_id, asset_id, commit?}; without a commit the change
 * branch head of the asset.  The actor is its tester.  *out gets the run.
 */
int dom_run_create(json_t **out, const struct dom *d, const char *key, const json_t *in);

/* The runs of change `key`, {items[]} (OP_RUN_READ). */
int dom_run_list(json_t **out, const struct dom *d, const char *key);

/* Run `id` with its protocol, steps, signatures and attachments (OP_RUN_READ). */
int dom_run_read(json_t **out, const struct dom *d, const char *id);

/*
 * Record step `no` of run `id` (OP_RUN_STEP): `in` is {result (pass,
 * fail, n/a), observed?, comment?, deviation?, disposition? (accepted,
 * rejected; with a deviation)}.  *out gets the run.
 */
int dom_run_step(json_t **out, const struct dom *d, const char *id, const char *no, const json_t *in);

/* A file a client sent (borrowed). */
struct dom_file {
	const char *name;              /* as the client named it; may hold folders or be NULL */
	const void *data;
	size_t len;
};

/*
 * Attach `files[0]` (exactly one: n must be 1) to step `no` of run `id`
 * (OP_RUN_ATTACH): at most the configured max_attachment bytes, a PNG or
 * JPEG photo, a PDF, or a text log or CSV.  *out gets the attachment
 * {id, run_id, step, blob, filename, content_type, size, sha256, ...}.
 */
int dom_run_attach(json_t **out, const struct dom *d, const char *id, const char *no,
		   const struct dom_file *files, size_t n);

/* The bytes of an attachment and how to name and type them. */
struct dom_attachment {
	const char *filename;          /* in d's arena */
	const char *content_type;
	void *data;                    /* freed with d's arena */
	size_t len;
};

/* Attachment `attachment_id` of run `id` (OP_RUN_READ). */
int dom_run_attachment(struct dom_attachment *out, const struct dom *d, const char *id,
		       const char *attachment_id);

/*
 * A positive id from a path: *out gets it, or OTCM_ENOTFOUND naming "id"
 * ("<what> '<s>' not found").
 */
int dom_run_parse_id(int64_t *out, const char *s, const char *what);

#endif
