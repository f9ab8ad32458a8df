/*
 * storage/repo.h - an asset's git repository, stored in PostgreSQL.
 *
 * A struct repo is a libgit2 repository with no work tree and no refdb whose
 * object database is the git_objects table (odb.c), reached through one
 * database connection.  Objects written through it join the connection's
 * open transaction, so a commit, the ref update, the version record and the
 * audit event commit or vanish together.  Refs are rows of the refs table,
 * read and moved by this module; a move is a compare-and-swap.
 *
 * Object ids cross this API as 40-character lowercase hex strings
 * (REPO_OID_HEX bytes with the NUL).
 *
 * Errors: OTCM_ENOTFOUND (no such ref, commit or path), OTCM_ECONFLICT (a
 * ref moved under a compare-and-swap), OTCM_EINVAL (bad id or path),
 * OTCM_EGIT (libgit2 failure), OTCM_EDB.
 *
 * Thread-safety: a repo belongs to the thread that owns its connection.
 */
#ifndef OTCM_STORAGE_REPO_H
#define OTCM_STORAGE_REPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/json.h"
#include "storage/db.h"

#define REPO_OID_HEX 41

struct repo;

/* Call once at start-up (initialises libgit2) and once at exit. */
int repo_global_init(void);
void repo_global_shutdown(void);

/* A repository view of asset `asset_id` over connection `c` (borrowed). */
int repo_open(struct repo **out, struct db_conn *c, int64_t asset_id);
void repo_free(struct repo *r);

/* Full ref name for a branch: "main" -> "refs/heads/main".  Validates the name. */
int repo_branch_ref(char *out, size_t outlen, const char *branch);

/*
 * Object id a ref points at: a commit for a branch, a commit or an
 * annotated tag object for a tag.  OTCM_ENOTFOUND when the ref does not exist.
 */
int repo_ref_get(char out[REPO_OID_HEX], struct repo *r, const char *ref);

/*
 * Move (or create) `ref` to `new_oid` if it currently points at `expected`
 * (NULL: the ref must not exist yet).  OTCM_ECONFLICT if it does not.
 * Branches (refs/heads/...) and a device's read-backs (refs/readback/...,
 * domain/readbacks.h) point at commits; tags (refs/tags/...) at commits or
 * annotated tag objects.  Anything else is OTCM_EINVAL.
 */
int repo_ref_cas(struct repo *r, const char *ref, const char *expected, const char *new_oid);

/*
 * Delete `ref` if it currently points at `expected`.  OTCM_ECONFLICT when
 * it does not (or no longer exists); the transaction stays usable.
 */
int repo_ref_delete(struct repo *r, const char *ref, const char *expected);

/*
 * The branches and tags of the asset as a JSON array of {name, commit}.
 * Read-back refs (refs/readback/...) are never listed: they are not
 * versions, and nothing that lists refs (the API, git) may offer them.
 */
int repo_ref_list(json_t **out, struct repo *r);

/* One file of a new version. */
struct repo_file {
	const char *path;   /* validated: relative, no "..", ".git", NUL, control chars */
	const void *data;
	size_t len;
	bool executable;
};

/* Who and when (server time) for a new commit or tag. */
struct repo_signature {
	const char *name;
	const char *email;
	int64_t time_us;
};

/*
 * Write a commit whose tree is `parent`'s tree with `files` added or
 * replaced (replace_tree = false), or exactly `files` (replace_tree = true),
 * with parent `parent` (NULL: a root commit).  Writes objects only; the
 * caller moves the ref with repo_ref_cas().  Refuses duplicate paths and a
 * path that is both a file and a folder (OTCM_EINVAL naming the path).
 */
int repo_commit_files(char out_commit[REPO_OID_HEX], char out_tree[REPO_OID_HEX],
		      struct repo *r, const char *parent, const struct repo_file *files,
		      size_t nfiles, bool replace_tree, const struct repo_signature *who,
		      const char *message);

/*
 * Write an annotated tag object `name` for commit `target` by `tagger`
 * (server time) with `message`, and create refs/tags/<name> pointing at it
 * by compare-and-swap.  out gets the tag object's id.  OTCM_ECONFLICT when
 * the tag exists (the transaction stays usable), OTCM_EINVAL for a bad name
 * or id, OTCM_ENOTFOUND when `target` is not a commit of the store.
 */
int repo_tag_create(char out[REPO_OID_HEX], struct repo *r, const char *name, const char *target,
		    const struct repo_signature *tagger, const char *message);

/*
 * Does the path component name[0..len) (valid UTF-8) name git's own folder
 * as git itself reads names on NTFS and HFS+ (is_ntfs_dotgit and
 * is_hfs_dotgit): ".git" in any case, also with trailing dots or spaces or
 * an alternate data stream (".git.", ".git ", ".git::$INDEX_ALLOCATION"),
 * its 8.3 alias "git~1" likewise, and ".git" with code points HFS+ ignores
 * (U+200C..U+200F, U+202A..U+202E, U+206A..U+206F, U+FEFF) anywhere in it.
 */
bool repo_name_is_dotgit(const char *name, size_t len);

/*
 * Is `path` acceptable inside a tree?  0 or OTCM_EINVAL with a reason:
 * empty, absolute, control characters, backslashes, invalid UTF-8, empty,
 * "." or ".." components, or a component repo_name_is_dotgit() refuses.
 */
int repo_check_path(const char *path);

/*
 * Metadata of a commit as JSON: {commit, tree, parents[], author{name,email},
 * time, message}.  OTCM_ENOTFOUND when absent.
 */
int repo_commit_info(json_t **out, struct repo *r, const char *commit);

/*
 * *out = whether commit `ancestor` is `descendant` or one of its ancestors.
 * OTCM_ENOTFOUND when either commit is absent.
 */
int repo_is_ancestor(bool *out, struct repo *r, const char *ancestor, const char *descendant);

/*
 * History from `start` (a commit), newest first, following first parents;
 * skips up to and including `after` when given (pagination cursor); at most
 * `limit` entries (at least 1), each as repo_commit_info gives.  *out_next
 * gets the last commit listed when more remain, else "".  A cursor that is
 * not on the first-parent chain of `start` is OTCM_EINVAL.
 */
int repo_log(json_t **out, char out_next[REPO_OID_HEX], struct repo *r, const char *start,
	     const char *after, size_t limit);

/* Files of a commit's tree, recursively: [{path, size, blob, mode}]. */
int repo_list_files(json_t **out, struct repo *r, const char *commit);

/*
 * The bytes of `path` in `commit`; *out is malloc'd and owned by the caller.
 * out_blob gets the blob id (for ETags).
 */
int repo_read_file(void **out, size_t *out_len, char out_blob[REPO_OID_HEX], struct repo *r,
		   const char *commit, const char *path);

/*
 * Store `len` bytes as a git blob (attachments, evidence that belongs to no
 * tree); out gets its id.  The blob joins the connection's transaction and
 * is stored once however often it is written.
 */
int repo_blob_write(char out[REPO_OID_HEX], struct repo *r, const void *data, size_t len);

/*
 * The bytes of blob `blob`; *out is malloc'd (never NULL) and owned by the
 * caller.  OTCM_ENOTFOUND when no blob has that id, OTCM_EINVAL for a bad id.
 */
int repo_blob_read(void **out, size_t *out_len, struct repo *r, const char *blob);

/*
 * Differences between two commits (from may be NULL: the empty tree):
 * *out_files gets [{path, old_path, status, old_blob, new_blob, old_size,
 * new_size, binary, additions, deletions}] (blob and size null on the side
 * where the file does not exist), and `patch` (if not NULL) the unified diff.
 */
int repo_diff(json_t **out_files, struct buf *patch, struct repo *r, const char *from,
	      const char *to);

/* The whole tree of `commit` as an archive; format "zip" or "tar". */
int repo_archive(struct buf *out, struct repo *r, const char *commit, const char *format);

/*
 * Append a git bundle (v2) of `ref_name` at `head_commit` to out: the line
 * "# v2 git bundle", the line "<head_commit> <ref_name>", a blank line,
 * then a pack of every object reachable from head_commit.  No
 * prerequisites, so `git clone` reads it on its own.  The pack is built by
 * one thread, so the same objects give the same bytes.  OTCM_EINVAL for a
 * bad id, OTCM_ETOOBIG past out's cap, OTCM_EGIT or the database's code
 * when an object cannot be read.
 */
int repo_bundle_write(struct buf *out, struct repo *r, const char *ref_name, const char *head_commit);

#endif
