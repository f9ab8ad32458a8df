/*
 * storage/repo_release.h - the git writes of releasing a change: a merge
 * commit onto main and an annotated tag, next to storage/repo.h.
 *
 * repo.h writes commits of files on one parent and moves refs that point
 * at commits; a release also needs a commit with two parents whose tree is
 * exactly the approved tree, an annotated tag object, and a tag ref that
 * points at that object.  These functions open their own libgit2 view of
 * the object store over the caller's connection (storage/odb.h), so what
 * they write joins the caller's transaction.
 *
 * Errors: OTCM_EINVAL (bad id), OTCM_ENOTFOUND, OTCM_ECONFLICT (the tag
 * exists), OTCM_EGIT, OTCM_EDB.
 *
 * Thread-safety: as the connection.
 */
#ifndef OTCM_STORAGE_REPO_RELEASE_H
#define OTCM_STORAGE_REPO_RELEASE_H

#include <stdint.h>

#include "storage/db.h"
#include "storage/repo.h"

/*
 * Write a commit whose tree is `tree` with parents `parent1` (main's head)
 * and `parent2` (the change branch head); out gets its id.  Writes the
 * object only: the caller moves main with repo_ref_cas().
 */
int repo_release_merge(char out[REPO_OID_HEX], struct db_conn *c, const char *tree,
		       const char *parent1, const char *parent2, const struct repo_signature *who,
		       const char *message);

/*
 * Write an annotated tag object named `name` for `commit`, tagged by
 * `who`, and create refs/tags/<name> of asset `asset_id` pointing at it
 * (OTCM_ECONFLICT when that ref exists).  out gets the tag object's id.
 */
int repo_release_tag(char out[REPO_OID_HEX], struct db_conn *c, int64_t asset_id,
		     const char *name, const char *commit, const struct repo_signature *who,
		     const char *message);

#endif
