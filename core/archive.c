/* core/archive.c - zip and tar archives in memory over libarchive; see archive.h. */
#include "core/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <time.h>

#include "core/err.h"
#include "core/mem.h"

/* ---- writing ---- */

struct arc_writer {
	struct archive *a;
	struct archive_entry *e;
	struct buf *out;
	int err;                 /* the buffer's code when an append failed */
};

static la_ssize_t sink_write(struct archive *a, void *ctx, const void *data, size_t len)
{
	struct arc_writer *w = ctx;
	int rc = buf_add(w->out, data, len);

	if (rc) {
		w->err = rc;
		archive_set_error(a, 1, "archive too large");
		return -1;
	}
	return (la_ssize_t)len;
}

static const char *why(struct archive *a)
{
	const char *m = archive_error_string(a);

	return m ? m : "unknown error";
}

static int write_fail(struct arc_writer *w)
{
	if (w->err)
		return err_set(w->err, NULL, "the archive is larger than allowed");
	return err_set(OTCM_EIO, NULL, "cannot write the archive: %s", why(w->a));
}

int arc_writer_open(struct arc_writer **out, struct buf *dst, enum arc_format format)
{
	struct arc_writer *w = xcalloc(1, sizeof(*w));
	int rc;

	*out = NULL;
	w->out = dst;
	w->a = archive_write_new();
	w->e = archive_entry_new();
	if (!w->a || !w->e) {
		rc = err_set(OTCM_EINTERNAL, NULL, "cannot allocate an archive writer");
		goto fail;
	}
	if ((format == ARC_ZIP ? archive_write_set_format_zip(w->a)
			       : archive_write_set_format_pax_restricted(w->a)) != ARCHIVE_OK ||
	    (format == ARC_TAR_GZ ? archive_write_add_filter_gzip(w->a)
				  : archive_write_add_filter_none(w->a)) != ARCHIVE_OK ||
	    archive_write_open(w->a, w, NULL, sink_write, NULL) != ARCHIVE_OK) {
		rc = write_fail(w);
		goto fail;
	}
	*out = w;
	return 0;
fail:
	arc_writer_free(w);
	return rc;
}

int arc_writer_add(struct arc_writer *w, const struct arc_entry *in)
{
	static const unsigned types[] = {
		[ARC_FILE] = AE_IFREG, [ARC_DIR] = AE_IFDIR, [ARC_SYMLINK] = AE_IFLNK,
		[ARC_HARDLINK] = AE_IFREG, [ARC_OTHER] = AE_IFIFO,
	};
	struct archive_entry *e = w->e;
	const char *data = in->data;
	size_t len = in->type == ARC_FILE ? in->len : 0;

	archive_entry_clear(e);
	archive_entry_set_pathname_utf8(e, in->name);
	archive_entry_set_filetype(e, types[in->type]);
	if (in->type == ARC_SYMLINK)
		archive_entry_set_symlink_utf8(e, in->link);
	else if (in->type == ARC_HARDLINK)
		archive_entry_set_hardlink_utf8(e, in->link);
	archive_entry_set_perm(e, (mode_t)in->mode);
	archive_entry_set_size(e, (la_int64_t)len);
	archive_entry_set_mtime(e, (time_t)in->mtime, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	if (in->owner) {
		archive_entry_set_uname(e, in->owner);
		archive_entry_set_gname(e, in->owner);
	}
	if (archive_write_header(w->a, e) != ARCHIVE_OK)
		return write_fail(w);
	for (size_t done = 0; done < len;) {
		la_ssize_t n = archive_write_data(w->a, data + done, len - done);

		if (n <= 0)
			return write_fail(w);
		done += (size_t)n;
	}
	return 0;
}

int arc_writer_close(struct arc_writer *w)
{
	if (archive_write_close(w->a) != ARCHIVE_OK)
		return write_fail(w);
	return 0;
}

void arc_writer_free(struct arc_writer *w)
{
	if (!w)
		return;
	archive_entry_free(w->e);
	archive_write_free(w->a);
	free(w);
}

/* ---- reading ---- */

struct arc_reader {
	struct archive *a;
};

int arc_reader_open(struct arc_reader **out, const void *data, size_t len, unsigned formats)
{
	struct arc_reader *r = xcalloc(1, sizeof(*r));
	int rc;

	*out = NULL;
	r->a = archive_read_new();
	if (!r->a) {
		free(r);
		return err_set(OTCM_EINTERNAL, NULL, "cannot allocate an archive reader");
	}
	if (formats & ARC_READ_COMPRESSED) {
		archive_read_support_filter_gzip(r->a);
		archive_read_support_filter_bzip2(r->a);
		archive_read_support_filter_xz(r->a);
	}
	if (formats & ARC_READ_ZIP)
		archive_read_support_format_zip(r->a);
	if (formats & ARC_READ_TAR)
		archive_read_support_format_tar(r->a);
	if (archive_read_open_memory(r->a, data, len) != ARCHIVE_OK) {
		rc = err_set(OTCM_EMEDIA, NULL, "%s", why(r->a));
		arc_reader_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int arc_gunzip(struct buf *out, const void *data, size_t len)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char chunk[16384];
	la_ssize_t n;
	int rc = 0;

	if (!a)
		return err_set(OTCM_EINTERNAL, NULL, "cannot allocate an archive reader");
	/* the raw "format" hands back the filtered stream itself */
	archive_read_support_filter_gzip(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		rc = err_set(OTCM_EMEDIA, NULL, "not a gzip stream: %s", why(a));
		goto out;
	}
	if (archive_filter_code(a, 0) != ARCHIVE_FILTER_GZIP) {
		rc = err_set(OTCM_EMEDIA, NULL, "not a gzip stream");
		goto out;
	}
	while ((n = archive_read_data(a, chunk, sizeof(chunk))) > 0)
		if ((rc = buf_add(out, chunk, (size_t)n)))
			goto out;
	if (n < 0)
		rc = err_set(OTCM_EINVAL, NULL, "broken gzip stream: %s", why(a));
out:
	archive_read_free(a);
	return rc;
}

int arc_reader_next(struct arc_reader *r, struct arc_member *out)
{
	struct archive_entry *e;
	int rc = archive_read_next_header(r->a, &e);
	unsigned type;

	if (rc == ARCHIVE_EOF)
		return 0;
	if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
		return err_set(OTCM_EINVAL, NULL, "%s", why(r->a));
	out->name = archive_entry_pathname_utf8(e);
	if (!out->name)
		out->name = archive_entry_pathname(e);
	type = archive_entry_filetype(e);
	if (archive_entry_hardlink(e)) {
		out->type = ARC_HARDLINK;
		out->link = archive_entry_hardlink(e);
	} else if (type == AE_IFLNK || archive_entry_symlink(e)) {
		out->type = ARC_SYMLINK;
		out->link = archive_entry_symlink(e);
	} else {
		out->type = type == AE_IFREG ? ARC_FILE : type == AE_IFDIR ? ARC_DIR : ARC_OTHER;
		out->link = NULL;
	}
	out->size = archive_entry_size_is_set(e) ? (int64_t)archive_entry_size(e) : -1;
	out->perm = (unsigned)archive_entry_perm(e);
	out->encrypted = archive_entry_is_encrypted(e) != 0;
	out->warned = rc == ARCHIVE_WARN;
	return 1;
}

int arc_reader_read(struct arc_reader *r, size_t *out_len, void *buf, size_t cap)
{
	la_ssize_t got = archive_read_data(r->a, buf, cap);

	*out_len = 0;
	if (got < 0)
		return err_set(OTCM_EINVAL, NULL, "%s", why(r->a));
	*out_len = (size_t)got;
	return 0;
}

void arc_reader_free(struct arc_reader *r)
{
	if (!r)
		return;
	archive_read_free(r->a);
	free(r);
}
