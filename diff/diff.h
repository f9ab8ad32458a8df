/*
 * diff/diff.h - the semantic diff engine: detect a file's format by its
 * content, normalise away export noise, parse it into engineering objects
 * (programs, routines, rungs, POUs, tags, recipe parameters...) and report
 * what changed between two versions.
 *
 * The server, the CLI and git's textconv call only this header.  The
 * library does no I/O: callers hand it bytes.
 *
 * Errors: 0 or a negative code from core/err.h with err_set().  Input that
 * cannot be parsed is never an error: the engine falls back to a line diff
 * of the text and records why in the result ("fallback_reason").
 *
 * Thread-safety: results are independent; different threads may diff at
 * the same time.
 */
#ifndef OTCM_DIFF_DIFF_H
#define OTCM_DIFF_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/json.h"

struct diff_result;   /* opaque */

/*
 * Compare two versions of the file at `path` (path is only a label for the
 * output; the format is detected from the content).  `old` or `new_data`
 * may be NULL for a file that was added or removed.  *out receives a new
 * result the caller frees with diff_result_free().
 * Fails only with OTCM_EINVAL for programmer errors (NULL out) or
 * OTCM_ETOOBIG when an input exceeds DIFF_MAX_INPUT.
 */
int diff_compare(struct diff_result **out, const char *path,
                 const void *old, size_t old_len,
                 const void *new_data, size_t new_len);

/*
 * One side of a comparison handed over by its owner only while the engine
 * needs it, so that a caller with large files (the CLI) never holds both,
 * nor a side the engine is done with: `open` makes the bytes available
 * (*out_data and *out_len, with a NUL byte at out_data[*out_len] that is
 * not part of them; 0 or a negative code with err_set()) until `close`.
 * The engine opens a side at most a few times (once to detect its format,
 * once to parse it, again for a text fallback), and both sides at once
 * only to parse them together (below) or to fall back to a line diff; each
 * open must give the same bytes.  A side's bytes that decoding leaves unchanged are read in
 * place, without a copy.  When both sides can release (below) and their
 * format reads its text once from start to end, the engine parses the two
 * at once and calls the old side's callbacks from a second thread of its
 * own: a source's callbacks are never called at the same time as each
 * other, but the two sources' may be.
 */
struct diff_source {
	int (*open)(void *ctx, const void **out_data, size_t *out_len);
	void (*close)(void *ctx);
	/*
	 * Optional (NULL): the engine has read the bytes before out_data + upto
	 * of the current open while parsing, and the source may drop them from
	 * memory (a mapped file: madvise).  A hint: they may still be read
	 * again, rarely, and must then read the same.
	 */
	void (*release)(void *ctx, size_t upto);
	void *ctx;
};

/*
 * diff_compare() on two sources (either may be NULL for an added or removed
 * file).  Fails like diff_compare(), or with the error of a source's open
 * (the old side's when both fail).
 */
int diff_compare_sources(struct diff_result **out, const char *path,
                         const struct diff_source *old, const struct diff_source *new_src);

/* Inputs larger than this (per side) are refused with OTCM_ETOOBIG. */
#define DIFF_MAX_INPUT ((size_t)512 << 20)

/*
 * The result as JSON (new reference owned by the caller):
 *   {"path", "format", "parsed": {"old": bool, "new": bool},
 *    "fallback_reason"?: string,
 *    "changes": [{"path", "kind", "what", "old", "new", "delta"?, "patch"?}],
 *    "summary": {"added", "removed", "modified", "moved", "renamed", "total"},
 *    "category": diff_result_category(), "generated": bool,
 *    "categories": {category: number of changes, ...}}
 * The form is documented in docs/diff.md and kept stable.
 */
int diff_to_json(json_t **out, const struct diff_result *r);

/* A plain-text summary, one change per line plus patches; appended to out. */
int diff_to_text(struct buf *out, const struct diff_result *r);

/*
 * An HTML fragment (no <html>/<body>, no script, no style attributes; all
 * dynamic text escaped) appended to out.  Classes start with "otcm-diff".
 */
int diff_to_html(struct buf *out, const struct diff_result *r);

/*
 * A canonical, normalised text rendering of one file for git's textconv:
 * the same tree the differ compares, printed one object per line, so a
 * plain line diff of two renderings shows only meaningful changes.
 * Unparsable input is rendered as its decoded, line-ending-normalised text.
 */
int diff_textconv(struct buf *out, const char *path, const void *data, size_t len);

/* The detected format name ("l5x", "plcopen", ..., "text"); borrowed. */
const char *diff_result_format(const struct diff_result *r);

/* The number of changes. */
size_t diff_result_count(const struct diff_result *r);

/*
 * What kind of engineering the file belongs to, for the summary of a whole
 * version: "logic", "io" (I/O and hardware), "configuration", "libraries",
 * "hmi", "recipes", "generated" or "other".  Decided by the detected format
 * first, then by the file name (docs/diff.md, "Project summary").  Borrowed
 * static string.
 */
const char *diff_result_category(const struct diff_result *r);

/* Whether the file is generated by a tool (category "generated"): folded by default. */
bool diff_result_generated(const struct diff_result *r);

/*
 * The category of change i of the result (a library reference in a PLC
 * project is "libraries", a task of the system manager "configuration"; a
 * change inside an archive member parsed with its own format, or a member
 * added or removed, counts as that member's file would);
 * the file's category when i is out of range.  Borrowed static string.
 */
const char *diff_change_category(const struct diff_result *r, size_t i);

/* Free a result; NULL is fine. */
void diff_result_free(struct diff_result *r);

#endif
