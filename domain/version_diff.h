/*
 * domain/version_diff.h - what changed between two versions of an asset,
 * file by file, with the semantic diff of each changed file.
 *
 * This is the one place that walks a diff's files and asks the semantic
 * engine (diff/diff.h) about each: the versions diff endpoint, the diff
 * page and the evidence bundle's diffs/ all show exactly its answer, so a
 * file never reads one way on screen and another way in the evidence.
 *
 * Thread-safety: a repo belongs to one thread; so does the call.
 */
#ifndef OTCM_DOMAIN_VERSION_DIFF_H
#define OTCM_DOMAIN_VERSION_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/json.h"
#include "storage/repo.h"

/* Files larger than this (either side) get no semantic diff ("too large"). */
#define VERSION_DIFF_SEMANTIC_MAX ((size_t)64 << 20)

/*
 * The files that differ between commits `from` (NULL: the empty tree) and
 * `to` of repository `r`, as a new JSON array owned by the caller:
 *
 *   [{"path", "old_path", "status", "old_blob", "new_blob", "old_size",
 *     "new_size", "binary", "additions", "deletions",
 *     "semantic": {diff_to_json} | null, "semantic_skipped"?: reason}]
 *
 * status is "added", "deleted", "modified", "renamed", "copied" or
 * "typechange"; old_path is set for renames and copies, blobs and sizes
 * are null on the side where the file does not exist.  With `semantic`
 * false the last two keys are left out.  When the engine does not compare
 * a file, "semantic" is null and "semantic_skipped" says why, one of:
 *   "not a file on both sides"  a side is not a regular file in its tree
 *   "too large"                 a side is over VERSION_DIFF_SEMANTIC_MAX
 *                               or the engine's own limit
 * `patch` (may be NULL) gets the unified diff appended; its cap bounds it
 * (OTCM_ETOOBIG).
 *
 * Errors: OTCM_ENOTFOUND naming "from" or "to" when a commit is absent,
 * OTCM_ETOOBIG, OTCM_EGIT, the database's code.
 */
int version_diff_files(json_t **out, struct buf *patch, struct repo *r, const char *from,
		       const char *to, bool semantic);

/*
 * The project summary of a list made by version_diff_files(), as a new
 * JSON object owned by the caller:
 *
 *   {"files": N, "changes": total semantic changes, "generated_files": n,
 *    "not_compared": files without a semantic diff,
 *    "categories": {category: {"files": n, "changes": m}}}
 *
 * A file counts under its own category (or "other" when it has no
 * semantic diff); its changes count under each change's category, so a
 * logic file whose changes touch I/O counts there too.
 */
json_t *version_diff_summary(const json_t *files);

#endif
