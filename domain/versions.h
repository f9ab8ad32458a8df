/*
 * domain/versions.h - the versions of an asset: uploads, history, one
 * version, its files, archives and diffs.
 *
 * A new version is one transaction: the git objects, the compare-and-swap
 * of the branch, the versions row, the change's record of it (when it is
 * uploaded under a change, through domain/changes.h's upload hooks) and
 * the audit event "version.create" commit together or not at all.  Branch
 * main moves only when a change is released: an upload may create it (the
 * asset's baseline, the first version of main) but never move it; such an
 * attempt is refused with rule "main-protected" and audited as
 * "version.create.refused".  Uploading is the engineer's and the
 * administrator's (OP_VERSION_UPLOAD), reading everyone's
 * (OP_VERSION_READ, OP_VERSION_DIFF).
 *
 * Git objects are shared by all assets, so every read first proves that
 * the commit belongs to the asset it is asked through (recorded as one of
 * its versions, or reachable from one of its refs) and answers
 * OTCM_ENOTFOUND otherwise.  A version is named by a 40-digit commit id or
 * a branch name (its head).
 *
 * Every json_t returned through **out belongs to the caller; bytes
 * returned live in the context's arena.
 *
 * Thread-safety: per context (one request on one thread).
 */
#ifndef OTCM_DOMAIN_VERSIONS_H
#define OTCM_DOMAIN_VERSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/domain.h"
#include "domain/upload.h"

#define DOM_VERSIONS_DEFAULT_LIMIT 50
#define DOM_VERSIONS_MAX_LIMIT 500

/*
 * Upload a version of asset `asset` from the parts of a multipart form
 * (domain/upload.h: file parts or one archive, and the fields "message",
 * "branch", "parent", "change").  *out = {"asset", "commit", "tree",
 * "branch", "parent", "baseline"?}.
 *
 * Without "parent" the version goes on top of whatever the branch's head
 * is (a lost race is retried a few times); with it, a branch that moved is
 * OTCM_ECONFLICT naming "parent".  With "change" (CHG-n) the version goes
 * to the change's branch changes/CHG-n and the change's rules decide.
 * Errors: OTCM_EINVAL/OTCM_ETOOBIG/OTCM_EMEDIA naming the field or part,
 * OTCM_ENOTFOUND naming "id" for no such asset, OTCM_ECONFLICT, OTCM_ERULE
 * ("main-protected", "no-change", the change's rules).
 */
int dom_version_upload(json_t **out, const struct dom *d, int64_t asset,
		       const struct upload_part *parts, size_t nparts);

/* The plain fields of a one-file upload (dom_version_put_file); NULL: not given. */
struct dom_version_fields {
	const char *message;
	const char *branch;
	const char *parent;
	const char *change;
};

/*
 * Upload one file, `path` with `len` bytes at `data`, as a new version of
 * `asset` (the rest of the tree stays as it is).  A bad path is
 * OTCM_EINVAL naming "path"; otherwise as dom_version_upload.
 */
int dom_version_put_file(json_t **out, const struct dom *d, int64_t asset, const char *path,
			 const void *data, size_t len, const struct dom_version_fields *f);

/*
 * The history of `branch` (NULL: main), newest first, at most `limit`
 * entries (0: DOM_VERSIONS_DEFAULT_LIMIT) after commit `cursor` (NULL:
 * from the head): *out = {"branch", "head": commit | null, "items":
 * [{commit, tree, parents, author, time, message}], "next_cursor"}.  An
 * asset without versions has an empty history of main.  OTCM_EINVAL
 * naming "branch", "cursor" or "limit"; OTCM_ENOTFOUND naming "branch".
 */
int dom_version_history(json_t **out, const struct dom *d, int64_t asset, const char *branch,
			const char *cursor, size_t limit);

/* The branches and tags of `asset`: *out = [{name, commit}]. */
int dom_version_refs(json_t **out, const struct dom *d, int64_t asset);

/*
 * One version: *out = {commit, tree, parents, author, time, message,
 * "asset", "recorded": the upload's record | null, "files": [{path, size,
 * blob, mode}]}.  OTCM_ENOTFOUND naming "commit".
 */
int dom_version_read(json_t **out, const struct dom *d, int64_t asset, const char *version);

/* One stored file's bytes (in the context's arena) and its blob id. */
struct dom_file {
	const void *data;
	size_t len;
	char blob[41];
};

/*
 * The bytes of `path` in `version` of `asset`.  OTCM_EINVAL naming "path"
 * for a path no upload could have stored, OTCM_ENOTFOUND naming "commit"
 * or "path".
 */
int dom_version_file(struct dom_file *out, const struct dom *d, int64_t asset,
		     const char *version, const char *path);

/* A version packed as a download (bytes in the context's arena). */
struct dom_archive {
	const void *data;
	size_t len;
	const char *filename;       /* "<asset path, / as ->-<12 digits of the commit>.<format>" */
	const char *content_type;   /* application/zip or application/x-tar */
};

/*
 * `version` of `asset` as an archive, `format` "zip" (NULL: zip) or "tar"
 * (deterministic: the same commit gives the same bytes).  Archives are
 * built in memory and refused with OTCM_ETOOBIG beyond twice
 * --max-upload-bytes.  OTCM_EINVAL naming "format"; OTCM_ENOTFOUND.
 */
int dom_version_archive(struct dom_archive *out, const struct dom *d, int64_t asset,
			const char *version, const char *format);

/*
 * What changed in `asset` from version `from` (NULL: the first parent of
 * `to`, or nothing for a first version) to `to` (NULL: main):
 * *out = {"asset", "from": commit | null, "to", "files": as
 * domain/version_diff.h gives them (with the semantic diff when `semantic`),
 * "patch": the unified diff as text, invalid UTF-8 bytes as U+FFFD}.
 * When out_patch is not NULL it gets the patch's exact bytes (in the
 * arena) and *out only the resolved "from" and "to" (no files: the caller
 * wants the patch alone).  Patches beyond twice --max-upload-bytes are
 * OTCM_ETOOBIG.  OTCM_ENOTFOUND naming "from" or "to".
 */
int dom_version_diff(json_t **out, const char **out_patch, size_t *out_patch_len,
		     const struct dom *d, int64_t asset, const char *from, const char *to,
		     bool semantic);

#endif
