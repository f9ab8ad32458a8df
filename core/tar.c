/* core/tar.c - tar archives in memory over libarchive; see tar.h. */
#include "core/tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <time.h>

#include "core/err.h"
#include "core/mem.h"

struct sink {
	struct buf *out;
	int err;                     /* the buffer's code when an append failed */
};

static la_ssize_t sink_write(struct archive *a, void *ctx, const void *data, size_t len)
{
	struct sink *s = ctx;
	int rc = buf_add(s->out, data, len);

	if (rc) {
		s->err = rc;
		archive_set_error(a, 1, "archive too large");
		return -1;
	}
	return (la_ssize_t)len;
}

int tar_write(struct buf *out, const struct tar_entry *entries, size_t n, int64_t mtime)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	struct sink s = { out, 0 };
	size_t i;
	int rc = 0;

	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_add_filter_none(a) != ARCHIVE_OK ||
	    archive_write_open(a, &s, NULL, sink_write, NULL) != ARCHIVE_OK)
		goto fail;
	for (i = 0; i < n; i++) {
		archive_entry_clear(e);
		archive_entry_set_pathname(e, entries[i].name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)entries[i].len);
		archive_entry_set_mtime(e, (time_t)mtime, 0);
		archive_entry_set_uid(e, 0);
		archive_entry_set_gid(e, 0);
		archive_entry_set_uname(e, "root");
		archive_entry_set_gname(e, "root");
		if (archive_write_header(a, e) != ARCHIVE_OK ||
		    (entries[i].len && archive_write_data(a, entries[i].data, entries[i].len) !=
		     (la_ssize_t)entries[i].len))
			goto fail;
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		goto fail;
	goto out;
fail:
	rc = s.err ? err_set(s.err, NULL, "the archive is larger than allowed") :
		err_set(OTCM_EIO, NULL, "cannot write the archive: %s",
			archive_error_string(a) ? archive_error_string(a) : "unknown error");
out:
	archive_entry_free(e);
	archive_write_free(a);
	return rc;
}

struct tar_reader {
	struct archive *a;
};

static const char *reader_error(struct tar_reader *t)
{
	const char *m = archive_error_string(t->a);

	return m ? m : "unknown error";
}

int tar_reader_open(struct tar_reader **out, const void *data, size_t len)
{
	struct tar_reader *t = xcalloc(1, sizeof(*t));

	t->a = archive_read_new();
	archive_read_support_format_tar(t->a);
	if (archive_read_open_memory(t->a, data, len) != ARCHIVE_OK) {
		int rc = err_set(OTCM_EINVAL, NULL, "not a tar archive: %s", reader_error(t));

		tar_reader_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

void tar_reader_free(struct tar_reader *t)
{
	if (!t)
		return;
	archive_read_free(t->a);
	free(t);
}

int tar_reader_next(struct tar_reader *t, const char **out_name, enum tar_type *out_type,
		    int64_t *out_size)
{
	struct archive_entry *e;
	int r = archive_read_next_header(t->a, &e);

	if (r == ARCHIVE_EOF)
		return 0;
	if (r != ARCHIVE_OK)
		return err_set(OTCM_EINVAL, NULL, "not a readable tar archive: %s", reader_error(t));
	*out_name = archive_entry_pathname(e);
	*out_type = archive_entry_filetype(e) == AE_IFREG ? TAR_FILE :
		    archive_entry_filetype(e) == AE_IFDIR ? TAR_DIR : TAR_OTHER;
	*out_size = archive_entry_size(e);
	return 1;
}

int tar_reader_data(struct tar_reader *t, void *out, size_t len)
{
	size_t done = 0;

	while (done < len) {
		la_ssize_t got = archive_read_data(t->a, (char *)out + done, len - done);

		if (got <= 0)
			return err_set(OTCM_EINVAL, NULL, "entry is truncated");
		done += (size_t)got;
	}
	return 0;
}
