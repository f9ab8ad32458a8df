/*
 * storage/gitpack.h - git packs in and out of the object store, for git
 * smart HTTP: libgit2's indexer takes a pushed pack (a thin pack is
 * completed from the store) and every object is checked before it joins
 * the store; libgit2's packbuilder builds the pack a fetch asks for.
 * Walks a push needs (the new commits of a ref, the entries of a tree with
 * their modes) are here too, since they read objects the way a pack does.
 *
 * A struct gitpack is a libgit2 view of the store over one database
 * connection (storage/odb.h): objects it writes join that connection's open
 * transaction and vanish with a rollback.  Which objects an asset may hand
 * out or take is the caller's (domain/git.c) decision, not this module's.
 *
 * Object ids cross this API as 40-character lowercase hex strings.
 * Errors: OTCM_EINVAL (a pack or object that is not valid git, a bad id;
 * the message says why), OTCM_ENOTFOUND (no such object), OTCM_ETOOBIG (a
 * pack past its limits), OTCM_EIO (temporary folder), OTCM_EGIT, OTCM_EDB.
 *
 * Thread-safety: a gitpack belongs to the thread that owns its connection.
 */
#ifndef OTCM_STORAGE_GITPACK_H
#define OTCM_STORAGE_GITPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/json.h"
#include "storage/db.h"

#define GITPACK_OID_HEX 41

struct gitpack;

/* A view of the object store over connection `c` (borrowed, must outlive it). */
int gitpack_open(struct gitpack **out, struct db_conn *c);

/* Free the view; NULL is fine. */
void gitpack_free(struct gitpack *g);

/*
 * Take the pack of `len` bytes at `pack` (untrusted, borrowed): index it in
 * a temporary folder ($TMPDIR or /tmp, removed before returning) with the
 * store as the base of a thin pack, check that every object is well formed
 * git and that every object it names is in the pack or the store, then
 * write every object to the store.  At most `max_objects` objects.
 * *out_objects gets how many objects the pack held.
 */
int gitpack_receive(size_t *out_objects, struct gitpack *g, const void *pack, size_t len,
		    size_t max_objects);

/*
 * Type of object `hex` in the store: "commit", "tree", "blob" or "tag"
 * (static text); OTCM_ENOTFOUND when absent.
 */
int gitpack_object_type(const char **out, struct gitpack *g, const char *hex);

/*
 * The commit an object peels to (itself for a commit, the target for an
 * annotated tag).  OTCM_ENOTFOUND when it is neither.
 */
int gitpack_peel(char out[GITPACK_OID_HEX], struct gitpack *g, const char *hex);

/* What a fetch pack holds. */
struct gitpack_fetch {
	const char *const *wants;    /* commits or annotated tags to send */
	size_t nwants;
	const char *const *common;   /* commits the client has: their history is left out */
	size_t ncommon;
	const char *const *tags;     /* annotated tag objects to add when their commit is sent */
	size_t ntags;
	unsigned depth;              /* 0: all history; N: N commits deep from each want */
};

/* Where a pack goes as it is built (gitpack_build()); callbacks on the building thread. */
enum gitpack_stage {
	GITPACK_COUNTING,      /* objects found so far (total 0) */
	GITPACK_COMPRESSING,   /* delta search: current of total objects */
};

struct gitpack_sink {
	/* the next bytes of the pack, in order; non-zero stops the build */
	int (*pack)(void *ctx, const void *data, size_t len);
	/* how far the build is, about twice a second at most; non-zero stops it; may be NULL */
	int (*progress)(void *ctx, enum gitpack_stage stage, unsigned current, unsigned total);
	void *ctx;
};

/*
 * Build the pack of `f` and hand it to `sink` as it is written: nothing is
 * held but libgit2's working set (the objects' list and the delta window),
 * never the whole pack.  With a depth, *out_shallow gets a JSON array of
 * the commits sent without their parents (the client's new shallow
 * boundary), owned by the caller; else an empty array.  A callback's
 * non-zero return stops the build: the error it set (err_set) is returned,
 * or OTCM_EIO.  The pack is complete only when 0 is returned.
 */
int gitpack_build(json_t **out_shallow, struct gitpack *g, const struct gitpack_fetch *f,
		  const struct gitpack_sink *sink);

/* ---- the pack cache (table git_pack_cache) ---- */

#define GITPACK_CACHE_KEY 32          /* SHA-256 of a pack's inputs */
#define GITPACK_CACHE_PER_ASSET 4     /* packs kept per asset, the most recently used */
#define GITPACK_CACHE_MAX ((size_t)256 << 20)   /* larger packs are not kept */

/*
 * The cached pack of asset `asset_id` under `key`, handed to `sink->pack`
 * in slices of GITPACK_CACHE_SLICE bytes (one round trip each, so memory
 * stays bounded whatever the pack's size); *out_found false (and nothing
 * handed) when there is none.  A hit marks the entry used.  A sink's
 * non-zero return stops it: its error, or OTCM_EIO.
 */
#define GITPACK_CACHE_SLICE ((size_t)1 << 20)

int gitpack_cache_send(bool *out_found, struct db_conn *c, int64_t asset_id,
		       const unsigned char key[GITPACK_CACHE_KEY], const struct gitpack_sink *sink);

/*
 * A pack on its way into the cache, collected as it is streamed in a
 * temporary file ($TMPDIR or /tmp, unlinked at once), never in memory.
 * Past GITPACK_CACHE_MAX bytes, or when the file cannot be written, the
 * fill is abandoned quietly: the pack is still sent, it is only not kept.
 */
struct gitpack_fill;

/* A new fill; *out NULL (and 0) when no temporary file can be made. */
int gitpack_fill_new(struct gitpack_fill **out);

/* Append the next `len` bytes of the pack. */
void gitpack_fill_add(struct gitpack_fill *f, const void *data, size_t len);

/*
 * Keep what was collected under `key` for asset `asset_id`, in parts of
 * GITPACK_CACHE_SLICE bytes, in one transaction on `c` (which must have
 * none open); drop the asset's least recently used entries beyond
 * GITPACK_CACHE_PER_ASSET.  Nothing when the fill was abandoned.  Another
 * request storing the same key first is fine.
 */
int gitpack_fill_put(struct gitpack_fill *f, struct db_conn *c, int64_t asset_id,
		     const unsigned char key[GITPACK_CACHE_KEY]);

/* Free the fill and its file; NULL is fine. */
void gitpack_fill_free(struct gitpack_fill *f);

/*
 * The shallow boundary alone, as gitpack_build() would give it for the
 * same wants and depth (a fetch's first round answers with it), and when
 * out_deep is not NULL the commits above it that have parents (a client's
 * shallow commit among them gets its history).  Both owned by the caller.
 */
/*
 * Does every want (peeled to its commit) have one of the `common` commits
 * in its history (or equal it)?  The server may then stop negotiating
 * ("ready").  Bounded work: more than GITPACK_READY_PAIRS want x common
 * pairs answer false (one more round costs the client little).
 */
#define GITPACK_READY_PAIRS 256

int gitpack_all_reach(bool *out, struct gitpack *g, const char *const *wants, size_t nwants,
		      const char *const *common, size_t ncommon);

int gitpack_shallow(json_t **out, json_t **out_deep, struct gitpack *g, const char *const *wants,
		    size_t n, unsigned depth);

/*
 * The commits reachable from `tip` and from none of `hide` (ids of
 * commits; ids absent from the store are ignored), parents before
 * children, at most `max` (more is OTCM_ETOOBIG): *out = [{commit, tree,
 * parents[], author{name,email}, committer{name,email}, message}], owned
 * by the caller.
 */
int gitpack_new_commits(json_t **out, struct gitpack *g, const char *tip,
			const char *const *hide, size_t nhide, size_t max);

/*
 * Every entry of `commit`'s tree, folders included, in tree order, at most
 * `max` (more is OTCM_ETOOBIG naming "pack"): *out = [{path, mode, size}]
 * with mode as git's number (0100644, 0100755, 040000, 0120000, 0160000)
 * and size the blob's bytes (0 for folders and submodules).  Owned by the
 * caller.
 */
int gitpack_tree_entries(json_t **out, struct gitpack *g, const char *commit, size_t max);

#endif
