/*
 * storage/odb.h - a libgit2 object database backend over the git_objects
 * table.
 *
 * Objects are rows (oid, type, size, data), content-addressed and stored once
 * for all assets.  The backend borrows one database connection; everything it
 * writes joins that connection's open transaction, so objects vanish with a
 * rollback.  Each read is one round trip (a short-id read is two); a write
 * of an object under 256 KiB is one INSERT ... ON CONFLICT DO NOTHING, never
 * preceded by an existence check.  A larger object is looked for first and,
 * when absent, streamed from the caller's buffer with COPY in a savepoint
 * (db_copy_in()), so that no second copy of it is made on our side; a
 * concurrent writer's copy of it counts as written.  A small direct-mapped
 * cache keeps the headers of recently read or written objects, and the bytes
 * of small ones (trees, commits), so the trees libgit2 reads again and again
 * cost one round trip per request, not one per read.  A read hands libgit2
 * exactly one buffer; large blobs are never kept.
 *
 * The cache trusts what it has seen: a backend must not outlive the
 * transaction it wrote in (repo.c creates one per repo_open).
 *
 * Thread-safety: a backend belongs to the thread that owns its connection.
 */
#ifndef OTCM_STORAGE_ODB_H
#define OTCM_STORAGE_ODB_H

#include <stddef.h>
#include <stdint.h>

#include <git2/types.h>

struct db_conn;

/* Counters for tests and measurements. */
struct odb_stats {
	uint64_t queries;     /* statements sent to the database */
	uint64_t reads;       /* object reads asked by libgit2 (full or header) */
	uint64_t cache_hits;  /* reads and existence checks answered from the cache */
	uint64_t writes;      /* objects written (inserted or already present) */
	uint64_t bytes_read;  /* object bytes fetched from the database */
};

/*
 * A new backend over connection `c` (borrowed; must outlive the backend).
 * *out belongs to the caller until handed to git_odb_add_backend(), after
 * which the git_odb frees it.
 */
int odb_backend_new(git_odb_backend **out, struct db_conn *c);

/*
 * The otcm error code of the last database failure inside a libgit2 call
 * (0 when none), forgotten as it is returned.  libgit2 only sees a generic
 * failure; callers use this to pass OTCM_EDB or OTCM_ERETRY up unchanged,
 * with the message db.c recorded.
 */
int odb_backend_take_error(git_odb_backend *backend);

/* Copy of the backend's counters. */
void odb_backend_stats(struct odb_stats *out, const git_odb_backend *backend);

/*
 * Sizes of `n` objects in one round trip per 500 ids: out[i] gets the size of
 * ids[i].  OTCM_ENOTFOUND naming the first missing object.
 */
int odb_backend_sizes(uint64_t *out, git_odb_backend *backend, const git_oid *ids, size_t n);

#endif
