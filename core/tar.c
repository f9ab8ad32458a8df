/* core/tar.c - the evidence bundle's tar, over core/archive.h; see tar.h. */
#include "core/tar.h"

#include <stdlib.h>

#include "core/archive.h"
#include "core/err.h"
#include "core/mem.h"

int tar_write(struct buf *out, const struct tar_entry *entries, size_t n, int64_t mtime)
{
	struct arc_writer *w = NULL;
	struct arc_entry e;
	size_t i;
	int rc;

	if ((rc = arc_writer_open(&w, out, ARC_TAR)))
		return rc;
	for (i = 0; i < n; i++) {
		e.name = entries[i].name;
		e.type = ARC_FILE;
		e.data = entries[i].data;
		e.len = entries[i].len;
		e.mode = 0644;
		e.mtime = mtime;
		e.owner = "root";
		if ((rc = arc_writer_add(w, &e)))
			goto out;
	}
	rc = arc_writer_close(w);
out:
	arc_writer_free(w);
	return rc;
}

struct tar_reader {
	struct arc_reader *r;
};

int tar_reader_open(struct tar_reader **out, const void *data, size_t len)
{
	struct tar_reader *t = xcalloc(1, sizeof(*t));
	int rc;

	if ((rc = arc_reader_open(&t->r, data, len, ARC_READ_TAR))) {
		rc = err_set(OTCM_EINVAL, NULL, "not a tar archive: %s", err_message());
		free(t);
		return rc;
	}
	*out = t;
	return 0;
}

void tar_reader_free(struct tar_reader *t)
{
	if (!t)
		return;
	arc_reader_free(t->r);
	free(t);
}

int tar_reader_next(struct tar_reader *t, const char **out_name, enum tar_type *out_type,
		    int64_t *out_size)
{
	struct arc_member m;
	int rc = arc_reader_next(t->r, &m);

	if (rc == 0)
		return 0;
	if (rc < 0)
		return err_set(OTCM_EINVAL, NULL, "not a readable tar archive: %s", err_message());
	/* an evidence bundle is written by us: a header libarchive warns about is broken */
	if (m.warned)
		return err_set(OTCM_EINVAL, NULL, "not a readable tar archive: entry '%s' has a damaged header",
			       m.name ? m.name : "");
	*out_name = m.name;
	*out_type = m.type == ARC_FILE ? TAR_FILE : m.type == ARC_DIR ? TAR_DIR : TAR_OTHER;
	*out_size = m.size < 0 ? 0 : m.size;
	return 1;
}

int tar_reader_data(struct tar_reader *t, void *out, size_t len)
{
	size_t done = 0, got;

	while (done < len) {
		if (arc_reader_read(t->r, &got, (char *)out + done, len - done) || got == 0)
			return err_set(OTCM_EINVAL, NULL, "entry is truncated");
		done += got;
	}
	return 0;
}
