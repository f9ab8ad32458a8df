/*
 * core/tar.h - the evidence bundle's tar in memory: a deterministic writer
 * and a bounded reader of untrusted bytes, over core/archive.h.
 *
 * The writer makes a pax (restricted) tar of regular files in the order
 * given, each mode 0644, owner and group 0 named "root", one fixed
 * modification time: the same entries give the same bytes.
 * The reader walks the entries one by one and leaves the policy (which
 * names, types and sizes are acceptable) to its caller.
 *
 * Errors: OTCM_ETOOBIG when the output buffer's cap is reached,
 * OTCM_EINVAL for bytes that are not a readable tar, OTCM_EIO otherwise.
 * Thread-safety: a tar_reader belongs to one thread; tar_write is
 * thread-safe.
 */
#ifndef OTCM_CORE_TAR_H
#define OTCM_CORE_TAR_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* One regular file to write; everything borrowed. */
struct tar_entry {
	const char *name;
	const void *data;
	size_t len;
};

/* Append a tar of the `n` entries, in that order, all with time `mtime` (Unix seconds), to out. */
int tar_write(struct buf *out, const struct tar_entry *entries, size_t n, int64_t mtime);

enum tar_type {
	TAR_FILE,
	TAR_DIR,
	TAR_OTHER    /* links, devices, fifos: whatever is neither */
};

struct tar_reader;

/* Read the tar of `len` bytes at `data` (borrowed; must outlive the reader). */
int tar_reader_open(struct tar_reader **out, const void *data, size_t len);
void tar_reader_free(struct tar_reader *t);

/*
 * The next entry: 1 with *out_name (borrowed, valid until the next call;
 * may be NULL for a nameless entry), *out_type and *out_size (as the header
 * claims); 0 at the end; OTCM_EINVAL when the archive is broken.
 */
int tar_reader_next(struct tar_reader *t, const char **out_name, enum tar_type *out_type,
		    int64_t *out_size);

/*
 * Read exactly `len` bytes of the current entry into out; OTCM_EINVAL when
 * the entry ends (or the archive breaks) first.
 */
int tar_reader_data(struct tar_reader *t, void *out, size_t len);

#endif
