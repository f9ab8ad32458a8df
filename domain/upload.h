/*
 * domain/upload.h - turning an upload into a list of validated files.
 *
 * A new version arrives either as multipart/form-data (one or more file
 * parts whose file names are their paths in the tree, or one part named
 * "archive" holding a zip or tar, optionally gzip/bzip2/xz compressed) or as
 * the raw body of a PUT.  This module checks every path and every archive
 * entry and hands back plain struct repo_file records ready for
 * repo_commit_files(); it never touches storage.
 *
 * Refused, with nothing written because nothing has been written yet:
 *   - absolute paths, empty, "." and ".." segments, a segment git reads as
 *     ".git" (repo_name_is_dotgit: any case, trailing dots and spaces, the
 *     8.3 alias "git~1", code points HFS+ ignores), backslashes, NUL and control
 *     characters, paths that are not UTF-8, paths longer than
 *     UPLOAD_MAX_PATH: OTCM_EINVAL;
 *   - the same path twice, or a path that is both a file and a folder:
 *     OTCM_EINVAL;
 *   - in archives, symbolic links, hard links, devices, FIFOs and sockets:
 *     OTCM_EINVAL;
 *   - more entries than limits->max_entries or more uncompressed bytes than
 *     limits->max_bytes (counted while decompressing, so a decompression
 *     bomb stops at the limit): OTCM_ETOOBIG.
 * The error's field is "files" for file parts, "archive" for archive
 * entries and "body" for PUT bodies; the message names the entry.
 *
 * Memory: file records, paths and contents are allocated from (or tied to)
 * the arena passed in and live as long as it does.
 *
 * Thread-safety: none needed; all state is in the arguments.
 */
#ifndef OTCM_DOMAIN_UPLOAD_H
#define OTCM_DOMAIN_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "storage/repo.h"

#define UPLOAD_MAX_PATH 1024

struct upload_limits {
	unsigned max_entries;    /* files (and folders) in one upload or archive */
	uint64_t max_bytes;      /* uncompressed bytes in one upload */
};

/* One part of a multipart upload, as the door received it (all borrowed). */
struct upload_part {
	const char *name;        /* form field name; NULL reads as "" */
	const char *filename;    /* NULL for plain fields */
	const char *data;        /* NUL-terminated; len excludes the NUL */
	size_t len;
};

/* A parsed multipart upload. */
struct upload {
	struct repo_file *files;   /* validated, sorted by path */
	size_t nfiles;
	bool replace_tree;         /* true: an archive, the whole new tree */
	const char *message;       /* "message" field; NULL when absent */
	const char *branch;        /* "branch" field; NULL when absent */
	const char *parent;        /* "parent" field; NULL when absent */
	const char *change;        /* "change" field (CHG-n); NULL when absent */
};

/*
 * Check one path of an upload; `field` names the input for err_set().
 * 0 or OTCM_EINVAL with a message quoting the path.
 */
int upload_check_path(const char *path, size_t len, const char *field);

/*
 * Read the multipart parts of a version upload into *out.  Parts: "file" or
 * "files" (with a file name: a file at that path, overlaid onto the parent's
 * tree), "archive" (with a file name: a zip or tar that becomes the whole
 * tree; at most one, and not together with file parts), "message",
 * "branch" and "parent" (plain fields).  Any other part is OTCM_EINVAL
 * naming it; no file at all is OTCM_EINVAL naming "files".
 */
int upload_from_parts(struct upload *out, struct arena *a, const struct upload_part *parts,
		      size_t nparts, const struct upload_limits *limits);

/*
 * Unpack the archive in data[0..len) into validated files (sorted by path).
 * Folders are implied by file paths and not returned; a leading "./" is
 * dropped.  `label` names the archive in messages.  An archive holding no
 * file is OTCM_EINVAL; one libarchive cannot read is OTCM_EMEDIA.
 */
int upload_read_archive(struct repo_file **out, size_t *out_n, struct arena *a,
			const void *data, size_t len, const char *label,
			const struct upload_limits *limits);

/*
 * Sort `files` by path and refuse duplicates and file/folder clashes
 * (OTCM_EINVAL naming `field` and the path).
 */
int upload_check_set(struct repo_file *files, size_t n, const char *field);

#endif
