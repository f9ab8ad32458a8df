/*
 * core/archive.h - zip and tar archives in memory: the only module that
 * talks to libarchive.
 *
 * Writing: a tar (pax restricted) or a zip of the entries given, in the
 * order given, into a capped buffer; every attribute (mode, time, owner)
 * comes from the caller, nothing from the machine, so the same entries
 * give the same bytes.  core/tar.h builds the evidence bundle's tar on it,
 * storage/repo.h a version's download.
 *
 * Reading: bounded walks over untrusted bytes, member by member, with
 * each member's type (file, folder, symbolic or hard link, other) and its
 * data in chunks the caller counts, so the caller's limits bound memory
 * and work whatever the headers claim.  The policy (which names, types
 * and sizes are acceptable) stays with the caller: domain/upload.h for
 * uploads, diff/'s binary format for archive members, core/tar.h for
 * evidence bundles.
 *
 * Errors: OTCM_ETOOBIG when the output buffer's cap is reached,
 * OTCM_EMEDIA for bytes that are not an archive of the formats asked for,
 * OTCM_EINVAL for an archive that breaks after its start, OTCM_EIO for
 * other write failures; the message carries libarchive's reason.
 *
 * Thread-safety: a reader or writer belongs to one thread; different ones
 * may be used at the same time.
 */
#ifndef OTCM_CORE_ARCHIVE_H
#define OTCM_CORE_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

enum arc_format {
	ARC_TAR,     /* pax restricted: ustar unless a name or size needs more */
	ARC_TAR_GZ,  /* the same, gzip compressed */
	ARC_ZIP,
};

enum arc_type {
	ARC_FILE,
	ARC_DIR,
	ARC_SYMLINK,
	ARC_HARDLINK,
	ARC_OTHER,   /* devices, FIFOs, sockets */
};

/* ---- writing ---- */

/* One entry to write; everything borrowed for the call. */
struct arc_entry {
	const char *name;      /* UTF-8; a folder's name ends with '/' by convention */
	enum arc_type type;    /* ARC_OTHER writes a FIFO */
	const void *data;      /* len bytes (files) */
	size_t len;
	unsigned mode;         /* permission bits, e.g. 0644 */
	int64_t mtime;         /* Unix seconds */
	const char *owner;     /* user and group name, or NULL for none; ids are 0 */
	const char *link;      /* the target of a symbolic or hard link */
};

struct arc_writer;

/* Start an archive of `format` appended to `out` (borrowed; its cap bounds the archive). */
int arc_writer_open(struct arc_writer **out, struct buf *dst, enum arc_format format);

/* Append one entry. */
int arc_writer_add(struct arc_writer *w, const struct arc_entry *e);

/* Write the archive's end (a zip's central directory, a tar's trailer). */
int arc_writer_close(struct arc_writer *w);

/* Free a writer (closed or not; an unclosed archive is incomplete).  NULL is fine. */
void arc_writer_free(struct arc_writer *w);

/* ---- reading ---- */

/* What a reader accepts (bits). */
#define ARC_READ_TAR 1u           /* tar in all its dialects */
#define ARC_READ_ZIP 2u
#define ARC_READ_COMPRESSED 4u    /* gzip, bzip2 or xz around the archive */

/* One member as its header describes it; strings valid until the next call. */
struct arc_member {
	const char *name;      /* UTF-8 when the archive says how, else as stored; NULL if none */
	enum arc_type type;
	int64_t size;          /* as the header claims; -1 when it does not say */
	unsigned perm;         /* permission bits */
	const char *link;      /* the target of a symbolic or hard link, else NULL */
	bool encrypted;        /* a zip member whose data cannot be read */
	bool warned;           /* libarchive read the header with a warning */
};

struct arc_reader;

/*
 * Read the archive of `len` bytes at `data` (borrowed; must outlive the
 * reader) in one of the `formats` (ARC_READ_* bits).  OTCM_EMEDIA when
 * the bytes are none of them.
 */
int arc_reader_open(struct arc_reader **out, const void *data, size_t len, unsigned formats);

/*
 * The next member: 1 with *out filled, 0 at the end, OTCM_EINVAL when the
 * archive breaks (the message says why).
 */
int arc_reader_next(struct arc_reader *r, struct arc_member *out);

/*
 * Read up to `cap` bytes of the current member's data into buf; *out_len
 * gets how many, 0 at the member's end.  OTCM_EINVAL when the data cannot
 * be read (the message says why).
 */
int arc_reader_read(struct arc_reader *r, size_t *out_len, void *buf, size_t cap);

/*
 * Append the gzip stream of `len` bytes at `data` (untrusted, borrowed)
 * decompressed to `out` (its cap bounds the output, so a decompression
 * bomb stops at it: OTCM_ETOOBIG).  OTCM_EMEDIA when the bytes are not
 * gzip, OTCM_EINVAL when the stream breaks.
 */
int arc_gunzip(struct buf *out, const void *data, size_t len);

/* Free a reader; NULL is fine. */
void arc_reader_free(struct arc_reader *r);

#endif
