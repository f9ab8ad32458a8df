/*
 * storage/repo_release.h - the merge commit of releasing a change, next to
 * storage/repo.h.
 *
 * repo.h writes commits of files on one parent, annotated tags, and moves
 * refs; a release also needs a commit with two parents whose tree is
 * exactly the approved tree.  This function opens its own libgit2 view of
 * the object store over the caller's connection (storage/odb.h), so what
 * it writes joins the caller's transaction.  The release's tag is
 * repo_tag_create().
 *
 * Errors: OTCM_EINVAL (bad id), OTCM_ENOTFOUND, OTCM_EGIT, OTCM_EDB.
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

#endif
