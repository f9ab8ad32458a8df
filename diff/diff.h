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

/* Inputs larger than this (per side) are refused with OTCM_ETOOBIG. */
#define DIFF_MAX_INPUT ((size_t)512 << 20)

/*
 * The result as JSON (new reference owned by the caller):
 *   {"path", "format", "parsed": {"old": bool, "new": bool},
 *    "fallback_reason"?: string,
 *    "changes": [{"path", "kind", "what", "old", "new", "delta"?, "patch"?}],
 *    "summary": {"added", "removed", "modified", "moved", "renamed", "total"}}
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

/* Free a result; NULL is fine. */
void diff_result_free(struct diff_result *r);

#endif
