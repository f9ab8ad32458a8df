/*
 * domain/upload.c - multipart parts and zip/tar archives to validated files;
 * see upload.h.  Archives are read from memory through core/archive.h; every
 * uncompressed byte is counted as it is read, so the configured limits
 * bound both memory and work whatever the archive headers claim.
 */
#include "domain/upload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/archive.h"
#include "core/err.h"
#include "core/utf8.h"
#include "core/mem.h"

#define READ_CHUNK ((size_t)64 * 1024)


int upload_check_path(const char *path, size_t len, const char *field)
{
	const char *seg;
	size_t i;

	if (len == 0)
		return err_set(OTCM_EINVAL, field, "empty file path");
	if (strlen(path) != len)
		return err_set(OTCM_EINVAL, field, "path '%.200s' contains a NUL character", path);
	if (len > UPLOAD_MAX_PATH)
		return err_set(OTCM_EINVAL, field, "path '%.200s...' is longer than %d bytes", path,
			       UPLOAD_MAX_PATH);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)path[i];

		if (c < 0x20 || c == 0x7f)
			return err_set(OTCM_EINVAL, field, "path '%.200s' contains a control character",
				       path);
		if (c == '\\')
			return err_set(OTCM_EINVAL, field,
				       "path '%.200s' contains a backslash; separate folders with '/'",
				       path);
	}
	if (!utf8_valid(path, len))
		return err_set(OTCM_EINVAL, field, "path '%.200s' is not valid UTF-8", path);
	if (path[0] == '/')
		return err_set(OTCM_EINVAL, field, "path '%.200s' is absolute", path);
	seg = path;
	for (i = 0; i <= len; i++) {
		size_t n;

		if (i < len && path[i] != '/')
			continue;
		n = (size_t)(path + i - seg);
		if (n == 0)
			return err_set(OTCM_EINVAL, field, "path '%.200s' has an empty segment", path);
		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return err_set(OTCM_EINVAL, field, "path '%.200s' contains '%.*s'", path,
				       (int)n, seg);
		if (n == 4 && strncasecmp(seg, ".git", 4) == 0)
			return err_set(OTCM_EINVAL, field, "path '%.200s' enters a '.git' folder", path);
		if (repo_name_is_dotgit(seg, n))
			return err_set(OTCM_EINVAL, field,
				       "path '%.200s' enters a '.git' folder: git reads '%.*s' as '.git' "
				       "on Windows or macOS", path, (int)n, seg);
		seg = path + i + 1;
	}
	if (repo_check_path(path)) {
		char why[256];

		snprintf(why, sizeof(why), "%s", err_message());
		return err_set(OTCM_EINVAL, field, "path '%.200s' is refused: %s", path, why);
	}
	return 0;
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct repo_file *)a)->path, ((const struct repo_file *)b)->path);
}

int upload_check_set(struct repo_file *files, size_t n, const char *field)
{
	size_t i;

	if (n > 1)
		qsort(files, n, sizeof(*files), cmp_file);
	for (i = 1; i < n; i++) {
		if (strcmp(files[i - 1].path, files[i].path) == 0)
			return err_set(OTCM_EINVAL, field, "path '%.200s' appears twice",
				       files[i].path);
	}
	/* a file "a" and a file "a/b": "a" would be both a file and a folder */
	for (i = 0; i < n; i++) {
		const char *p = files[i].path;
		const char *slash;

		for (slash = strchr(p, '/'); slash; slash = strchr(slash + 1, '/')) {
			struct repo_file key = { 0 };
			char *prefix = xstrndup(p, (size_t)(slash - p));
			bool clash;

			key.path = prefix;
			clash = bsearch(&key, files, n, sizeof(*files), cmp_file) != NULL;
			if (clash) {
				int rc = err_set(OTCM_EINVAL, field,
						 "path '%.200s' is a file and also the folder of '%.200s'",
						 prefix, p);

				free(prefix);
				return rc;
			}
			free(prefix);
		}
	}
	return 0;
}

/* Read the current member's data into arena-owned memory, counting bytes. */
static int read_entry(const void **out, size_t *out_len, struct arc_reader *ar, struct arena *a,
		      const char *path, const char *label, uint64_t *total, uint64_t max_bytes,
		      unsigned char *chunk)
{
	struct buf b = BUF_INIT;
	char *data;
	size_t len, got;

	buf_init(&b, 0);
	for (;;) {
		if (arc_reader_read(ar, &got, chunk, READ_CHUNK)) {
			int rc = err_set(OTCM_EINVAL, "archive",
					 "cannot read entry '%.200s' of archive '%.200s': %s", path,
					 label, err_message());

			buf_release(&b);
			return rc;
		}
		if (got == 0)
			break;
		if ((uint64_t)got > max_bytes - *total) {
			buf_release(&b);
			return err_set(OTCM_ETOOBIG, "archive",
				       "archive '%.200s' unpacks to more than %llu bytes (at entry '%.200s')",
				       label, (unsigned long long)max_bytes, path);
		}
		*total += (uint64_t)got;
		if (buf_add(&b, chunk, got)) {
			buf_release(&b);
			return err_set(OTCM_ETOOBIG, "archive", "entry '%.200s' of archive '%.200s' is too large",
				       path, label);
		}
	}
	data = buf_detach(&b, &len);
	if (data)
		arena_on_free(a, free, data);
	*out = data ? (const void *)data : (const void *)"";
	*out_len = len;
	return 0;
}

int upload_read_archive(struct repo_file **out, size_t *out_n, struct arena *a,
			const void *data, size_t len, const char *label,
			const struct upload_limits *limits)
{
	struct arc_reader *ar = NULL;
	struct arc_member m;
	struct repo_file *files = NULL;
	size_t nfiles = 0, alloc = 0;
	unsigned entries = 0;
	uint64_t total = 0;
	unsigned char *chunk = NULL;
	int rc = 0;

	*out = NULL;
	*out_n = 0;
	if (arc_reader_open(&ar, data, len, ARC_READ_TAR | ARC_READ_ZIP | ARC_READ_COMPRESSED)) {
		rc = err_set(OTCM_EMEDIA, "archive",
			     "archive '%.200s' is not a zip or tar archive (gzip, bzip2 or xz compressed tar is fine): %s",
			     label, err_message());
		goto out;
	}
	chunk = xmalloc(READ_CHUNK);
	for (;;) {
		int r = arc_reader_next(ar, &m);
		const char *raw;
		char *path;
		size_t plen;

		if (r == 0)
			break;
		if (r < 0) {
			rc = err_set(entries ? OTCM_EINVAL : OTCM_EMEDIA, "archive",
				     "cannot read archive '%.200s' after %u entries: %s", label, entries,
				     err_message());
			goto out;
		}
		raw = m.name;
		if (!raw) {
			rc = err_set(OTCM_EINVAL, "archive",
				     "entry %u of archive '%.200s' has no usable name", entries + 1, label);
			goto out;
		}
		if (++entries > limits->max_entries) {
			rc = err_set(OTCM_ETOOBIG, "archive",
				     "archive '%.200s' has more than %u entries (at entry '%.200s')", label,
				     limits->max_entries, raw);
			goto out;
		}
		while (raw[0] == '.' && raw[1] == '/')
			raw += 2;
		plen = strlen(raw);
		if (m.type == ARC_HARDLINK) {
			rc = err_set(OTCM_EINVAL, "archive",
				     "entry '%.200s' of archive '%.200s' is a hard link; links are not accepted",
				     raw, label);
			goto out;
		}
		if (m.type == ARC_SYMLINK) {
			rc = err_set(OTCM_EINVAL, "archive",
				     "entry '%.200s' of archive '%.200s' is a symbolic link; links are not accepted",
				     raw, label);
			goto out;
		}
		if (m.type == ARC_DIR) {
			while (plen > 0 && raw[plen - 1] == '/')
				plen--;
			if (plen == 0)
				continue;   /* the archive's root folder */
			path = arena_strndup(a, raw, plen);
			if ((rc = upload_check_path(path, plen, "archive")))
				goto out;
			continue;   /* folders are implied by the files inside them */
		}
		if (m.type != ARC_FILE) {
			rc = err_set(OTCM_EINVAL, "archive",
				     "entry '%.200s' of archive '%.200s' is not a regular file or folder",
				     raw, label);
			goto out;
		}
		if (m.size > 0 && (uint64_t)m.size > limits->max_bytes - total) {
			rc = err_set(OTCM_ETOOBIG, "archive",
				     "archive '%.200s' unpacks to more than %llu bytes (at entry '%.200s')",
				     label, (unsigned long long)limits->max_bytes, raw);
			goto out;
		}
		path = arena_strndup(a, raw, plen);
		if ((rc = upload_check_path(path, plen, "archive")))
			goto out;
		if (nfiles == alloc) {
			alloc = alloc ? alloc * 2 : 16;
			files = xrealloc(files, alloc * sizeof(*files));
		}
		memset(&files[nfiles], 0, sizeof(files[nfiles]));
		files[nfiles].path = path;
		files[nfiles].executable = (m.perm & 0111) != 0;
		if ((rc = read_entry(&files[nfiles].data, &files[nfiles].len, ar, a, path, label,
				     &total, limits->max_bytes, chunk)))
			goto out;
		nfiles++;
	}
	if (nfiles == 0) {
		rc = err_set(OTCM_EINVAL, "archive", "archive '%.200s' holds no files", label);
		goto out;
	}
	if ((rc = upload_check_set(files, nfiles, "archive")))
		goto out;
	*out = arena_memdup(a, files, nfiles * sizeof(*files));
	*out_n = nfiles;
out:
	free(files);
	free(chunk);
	arc_reader_free(ar);
	return rc;
}

/* A plain text field of the form: no NUL or control characters but \t \r \n. */
static int text_field(const char **out, const struct upload_part *p)
{
	size_t i;

	if (*out)
		return err_set(OTCM_EINVAL, p->name, "field '%s' is given twice", p->name);
	if (p->filename)
		return err_set(OTCM_EINVAL, p->name, "field '%s' must be text, not a file", p->name);
	if (strlen(p->data) != p->len)
		return err_set(OTCM_EINVAL, p->name, "field '%s' contains a NUL character", p->name);
	for (i = 0; i < p->len; i++) {
		unsigned char c = (unsigned char)p->data[i];

		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
			return err_set(OTCM_EINVAL, p->name, "field '%s' contains a control character",
				       p->name);
	}
	if (!utf8_valid(p->data, p->len))
		return err_set(OTCM_EINVAL, p->name, "field '%s' is not valid UTF-8", p->name);
	*out = p->data;
	return 0;
}

int upload_from_parts(struct upload *out, struct arena *a, const struct upload_part *parts,
		      size_t nparts, const struct upload_limits *limits)
{
	const struct upload_part *archive = NULL;
	struct repo_file *files;
	size_t nfiles = 0, i;
	uint64_t total = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	files = arena_alloc(a, (nparts ? nparts : 1) * sizeof(*files));
	for (i = 0; i < nparts; i++) {
		const struct upload_part *p = &parts[i];
		const char *name = p->name ? p->name : "";

		if (strcmp(name, "message") == 0) {
			rc = text_field(&out->message, p);
		} else if (strcmp(name, "branch") == 0) {
			rc = text_field(&out->branch, p);
		} else if (strcmp(name, "parent") == 0) {
			rc = text_field(&out->parent, p);
		} else if (strcmp(name, "change") == 0) {
			rc = text_field(&out->change, p);
		} else if (strcmp(name, "archive") == 0) {
			if (!p->filename)
				rc = err_set(OTCM_EINVAL, "archive", "part 'archive' must be a file");
			else if (archive)
				rc = err_set(OTCM_EINVAL, "archive", "only one archive per upload");
			else
				rc = 0;
			archive = p;
		} else if (strcmp(name, "file") == 0 || strcmp(name, "files") == 0) {
			if (!p->filename) {
				rc = err_set(OTCM_EINVAL, "files", "part '%s' must be a file with a file name",
					     name);
			} else if (++nfiles > limits->max_entries) {
				rc = err_set(OTCM_ETOOBIG, "files",
					     "upload has more than %u files (at '%.200s')",
					     limits->max_entries, p->filename);
			} else if ((uint64_t)p->len > limits->max_bytes - total) {
				rc = err_set(OTCM_ETOOBIG, "files",
					     "upload is larger than %llu bytes (at '%.200s')",
					     (unsigned long long)limits->max_bytes, p->filename);
			} else {
				total += p->len;
				files[nfiles - 1].path = p->filename;
				files[nfiles - 1].data = p->data;
				files[nfiles - 1].len = p->len;
				rc = upload_check_path(p->filename, strlen(p->filename), "files");
			}
		} else {
			rc = err_set(OTCM_EINVAL, name[0] ? name : "body",
				     "unknown part '%.100s'; expected file, archive, message, branch or parent",
				     name);
		}
		if (rc)
			return rc;
	}
	if (archive && nfiles)
		return err_set(OTCM_EINVAL, "archive",
			       "send either one archive or files, not both");
	if (archive) {
		if ((rc = upload_read_archive(&out->files, &out->nfiles, a, archive->data, archive->len,
					      archive->filename, limits)))
			return rc;
		out->replace_tree = true;
		return 0;
	}
	if (nfiles == 0)
		return err_set(OTCM_EINVAL, "files",
			       "no file in the upload; send file parts or one 'archive' part");
	if ((rc = upload_check_set(files, nfiles, "files")))
		return rc;
	out->files = files;
	out->nfiles = nfiles;
	return 0;
}
