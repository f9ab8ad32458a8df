/*
 * domain/git.h - what stock git may do with an asset over smart HTTP
 * (server/h_git.c is the door): read its branches and tags, fetch the
 * objects reachable from them, and push, under the same rules, with the
 * same records and audit events as an upload (domain/versions.h,
 * domain/changes.h).
 *
 * Reading is OP_VERSION_READ.  Only refs/heads/... and refs/tags/... are
 * shown, and only objects reachable from them can be fetched: a commit id
 * of another asset is not ours even though objects are shared.
 *
 * Pushing is OP_VERSION_UPLOAD, per ref:
 *   refs/heads/changes/CHG-n  the change must be implementing or in FAT and
 *                             the asset one of its assets (rules
 *                             upload-state, asset-not-affected; FAT goes back
 *                             to implementing); fast-forward only (rule
 *                             fast-forward-only) and never deleted (rule
 *                             change-history); a new commit that does not
 *                             change its parent's tree is refused (rule
 *                             no-change, as an upload), and so is one
 *                             without parents once the asset has a history
 *                             (rule unrelated-history: another history,
 *                             perhaps another asset's, is no version of
 *                             this one); each new commit becomes a
 *                             version of the change (uploader: the pusher;
 *                             contributors: the pusher and every user whose
 *                             e-mail is a new commit's author or committer),
 *                             and runs and approvals of other trees go stale;
 *   branches work/<name>      free work branches: created, rewritten and
 *                             deleted at will, no version records;
 *   refs/heads/main           refused (rule main-protected): main moves by
 *                             release only;
 *   refs/tags/...               refused (rule tag-protected): a change's tag is
 *                             made by its release;
 *   anything else             refused (rule ref-namespace).
 * Every new commit's tree must pass the upload's path rules (no ".git" in
 * any spelling, no backslash, control character, "..", ...) and may hold
 * no symbolic link (rule symlink) and no submodule (rule submodule), at
 * most --max-upload-entries entries and --max-upload-bytes bytes of files
 * (rule too-big); a tree that breaks one refuses the whole push, naming the
 * path, and nothing is written.  A ref that moved since the pusher fetched
 * is refused with "fetch first".  With `atomic`, one refused ref refuses
 * them all.  Objects, ref compare-and-swaps, version records and audit
 * events ("version.create", "git.push") commit in one transaction;
 * refusals are audited ("git.push.refused", "change.upload.refused").
 *
 * Thread-safety: per context.
 */
#ifndef OTCM_DOMAIN_GIT_H
#define OTCM_DOMAIN_GIT_H

#include <stdbool.h>
#include <stddef.h>

#include "domain/domain.h"

#define DOM_GIT_OID_HEX 41

/* One ref as git sees it. */
struct dom_git_ref {
	const char *name;                /* "refs/heads/main" */
	char oid[DOM_GIT_OID_HEX];
	char peeled[DOM_GIT_OID_HEX];    /* an annotated tag's commit, else "" */
};

/* The refs of an asset, for git's advertisement; arrays and strings in d's arena. */
struct dom_git_refs {
	struct dom_git_ref *refs;        /* sorted by name */
	size_t n;
	const char *head;                /* "refs/heads/main" when main exists, else NULL */
};

/*
 * The refs of the asset at `asset_path` (as in the API, no ".git"), for a
 * fetch (`for_push` false: OP_VERSION_READ) or a push (OP_VERSION_UPLOAD,
 * so a role that may not push is refused before it sends anything).
 * OTCM_ENOTFOUND naming "asset".
 */
int dom_git_refs(struct dom_git_refs *out, const struct dom *d, const char *asset_path,
		 bool for_push);

/* What a fetch asks for (borrowed). */
struct dom_git_fetch_in {
	const char *const *wants;        /* advertised ids: branch heads, tag objects or peeled tags */
	size_t nwants;
	const char *const *haves;        /* commits the client has */
	size_t nhaves;
	const char *const *shallows;     /* commits the client has without their parents */
	size_t nshallows;
	unsigned depth;                  /* 0: all history */
	bool include_tag;                /* add annotated tags whose commit is sent */
	bool done;                       /* build the pack now */
	bool no_done;                    /* the client takes the pack as soon as the server is ready */
};

/* A fetch's answer; everything in d's arena. */
struct dom_git_fetch_out {
	const char **common;             /* the haves that are ours, in the order given */
	size_t ncommon;
	const char **shallow;            /* with a depth: commits sent (or to be sent, before
					    `done`) without their parents */
	size_t nshallow;
	const char **unshallow;          /* with a depth: the client's shallow commits whose
					    parents are sent now (git fetch --deepen, --unshallow) */
	size_t nunshallow;
	bool ready;                      /* every want has a common commit in its history: the
					    negotiation can stop (with no_done, the pack is prepared) */
	struct dom_git_pack *pack;       /* when `done`: the pack to send (dom_git_pack_send), else
					    NULL; released with d's arena if never sent */
};

/* A fetch's pack, prepared by dom_git_fetch() and sent by dom_git_pack_send(). */
struct dom_git_pack;

/*
 * Negotiate a fetch of the asset at `asset_path` and, when `in->done` (or
 * `in->no_done` and the answer is ready), prepare its pack: the objects reachable from the wants minus those
 * reachable from the common haves.  A want that is not one of the asset's
 * advertised ids is OTCM_ENOTFOUND naming "want" ("not our ref"); haves
 * that are not ours are ignored.  The prepared pack keeps the request's
 * database connection until it is sent or d's arena goes.
 */
int dom_git_fetch(struct dom_git_fetch_out *out, const struct dom *d, const char *asset_path,
		  const struct dom_git_fetch_in *in);

/* Where a pack goes as it is sent; the door frames it (side bands). */
struct dom_git_sink {
	/* the next bytes of the pack; non-zero (with err_set) stops the send */
	int (*pack)(void *ctx, const void *data, size_t len);
	/*
	 * How far the build is: `stage` "Counting objects" (`total` 0) or
	 * "Compressing objects", about twice a second at most; non-zero stops
	 * the send.  May be NULL.
	 */
	int (*progress)(void *ctx, const char *stage, unsigned current, unsigned total);
	void *ctx;
};

/*
 * Send the pack `p` (from dom_git_fetch) to `sink` as it is made, never
 * holding it whole: a clone's pack found in the pack cache is read in
 * slices; otherwise libgit2's packbuilder builds it, reporting progress
 * while it counts and compresses objects and handing each object to the
 * sink as it is written.  A clone's pack is kept in the cache as it
 * passes (up to the cache's size limit; beyond it the copy is dropped).
 * The pack's database connection goes back to the pool before this
 * returns.  May run on another thread than dom_git_fetch() did, as long as
 * no other thread uses the request meanwhile; once only.  0 when the whole
 * pack went to the sink; otherwise the sink's error or the store's, and
 * what the sink got is no complete pack.
 */
int dom_git_pack_send(struct dom_git_pack *p, const struct dom_git_sink *sink);

/* One ref update of a push; the door fills the first three. */
struct dom_git_update {
	const char *ref;
	const char *old;                 /* 40 hex digits; all zeros: the ref is new */
	const char *new_;                /* 40 hex digits; all zeros: delete */
	const char *refused;             /* out: NULL when done, else the reason git prints */
	const char *message;             /* out: a sentence for the pusher, or NULL */
};

/*
 * Push to the asset at `asset_path`: take the pack (`pack_len` 0: none,
 * for deletions), then apply the updates under the rules above, filling
 * each update's `refused` and `message`.  0 when the push was judged, even
 * if refs were refused; an error when nothing could be judged: the
 * permission (OTCM_EFORBIDDEN, before the pack is read), OTCM_ENOTFOUND
 * naming "asset", a pack that is not valid git (OTCM_EINVAL or
 * OTCM_ETOOBIG naming "pack"), the database's codes.
 */
int dom_git_push(const struct dom *d, const char *asset_path, struct dom_git_update *u, size_t n,
		 const void *pack, size_t pack_len, bool atomic);

#endif
