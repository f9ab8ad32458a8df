/*
 * storage/gitbundle.h - reading a git bundle (v2) someone handed us, such
 * as git/ASSET.bundle of an evidence bundle that `otcm verify` checks.
 *
 * Opening a bundle parses its header (one "<commit> <ref>" line per ref;
 * bundles with prerequisites are refused) and indexes its pack with
 * libgit2's indexer into a temporary folder ($TMPDIR or /tmp), which checks
 * the pack's checksum and every object id; the folder is removed by
 * gitbundle_free().  Nothing here touches the database: this is the
 * storage side of an offline check.  repo_global_init() must have run.
 *
 * Object ids cross this API as 40-character lowercase hex strings.
 * Errors: OTCM_EINVAL for bytes that are not a complete bundle (the
 * message says why), OTCM_ENOTFOUND for a commit the bundle lacks,
 * OTCM_EIO when the temporary folder cannot be made.
 * Thread-safety: a gitbundle belongs to one thread; distinct bundles may
 * be used on distinct threads.
 */
#ifndef OTCM_STORAGE_GITBUNDLE_H
#define OTCM_STORAGE_GITBUNDLE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/json.h"

#define GITBUNDLE_OID_HEX 41

struct gitbundle;

/*
 * Open the bundle of `len` bytes at `data` (untrusted; borrowed only during
 * the call).  *out belongs to the caller, who frees it with gitbundle_free().
 */
int gitbundle_open(struct gitbundle **out, const void *data, size_t len);

/* Remove the temporary folder and free; NULL is fine. */
void gitbundle_free(struct gitbundle *b);

/* The refs the header names as {ref name: commit}; borrowed, lives as long as b. */
const json_t *gitbundle_refs(const struct gitbundle *b);

/* *out = whether `commit` is a commit object of the bundle's pack. */
int gitbundle_has_commit(bool *out, struct gitbundle *b, const char *commit);

/* The tree of commit `commit` of the bundle; OTCM_ENOTFOUND when the bundle lacks it. */
int gitbundle_commit_tree(char out[GITBUNDLE_OID_HEX], struct gitbundle *b, const char *commit);

/*
 * Every commit reachable from the bundle's refs as {commit: tree} (owned by
 * the caller).  OTCM_EINVAL naming the first reachable commit the bundle
 * lacks: a bundle without prerequisites must hold its whole history.
 */
int gitbundle_commits(json_t **out, struct gitbundle *b);

#endif
