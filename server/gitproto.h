/*
 * server/gitproto.h - the git smart HTTP protocol as bytes: pkt-lines,
 * side bands, and the requests stock git sends (upload-pack v0/v1 and v2,
 * receive-pack v0).  Pure parsing and formatting over memory: no I/O, no
 * libgit2, no database.  The git door (server/h_git.c) parses with it,
 * calls one domain operation and writes its answer with it.
 *
 * A pkt-line is four hex digits of length (the four included) and the
 * payload; "0000" is a flush, "0001" a delimiter (v2), "0002" a response
 * end (v2).  Lengths 3 and 4 and anything above GITPROTO_PKT_MAX are
 * malformed.
 *
 * Errors: OTCM_EINVAL naming "body" with a sentence saying what is wrong
 * (truncated line, bad length, unknown command, bad object id), and
 * OTCM_ETOOBIG naming "body" when a request holds more lines than its
 * caller allows.  Object ids come out as 40 lowercase hex digits.
 *
 * Memory: everything parsed lives in the arena passed in, or points into
 * the body (borrowed; must outlive the result).
 *
 * Thread-safety: none needed; all state is in the arguments.
 */
#ifndef OTCM_SERVER_GITPROTO_H
#define OTCM_SERVER_GITPROTO_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/buf.h"

#define GITPROTO_PKT_MAX 65520          /* largest pkt-line, header included */
#define GITPROTO_BAND_MAX 65515         /* side-band-64k payload after the band byte */
#define GITPROTO_OID_HEX 41

/* ---- pkt-lines ---- */

enum gitproto_pkt {
	GITPROTO_DATA,
	GITPROTO_FLUSH,     /* 0000 */
	GITPROTO_DELIM,     /* 0001 */
	GITPROTO_END,       /* 0002 */
	GITPROTO_EOF,       /* no bytes left */
};

/* A cursor over a request body (borrowed). */
struct gitproto_reader {
	const char *data;
	size_t len;
	size_t off;
};

/* Start reading `len` bytes at `data`. */
void gitproto_reader_init(struct gitproto_reader *r, const char *data, size_t len);

/*
 * The next pkt-line: *out_type, and for GITPROTO_DATA its payload (borrowed,
 * not NUL-terminated; one trailing "\n" removed) in *out_data and *out_len.
 * OTCM_EINVAL for a malformed or truncated line.
 */
int gitproto_read(enum gitproto_pkt *out_type, const char **out_data, size_t *out_len,
		  struct gitproto_reader *r);

/* Append one data pkt-line of `len` bytes (at most GITPROTO_PKT_MAX - 4). */
int gitproto_write(struct buf *b, const void *data, size_t len);

/* Append one data pkt-line from a format. */
int gitproto_writef(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append a flush (0000) or a delimiter (0001). */
int gitproto_flush(struct buf *b);
int gitproto_delim(struct buf *b);

/*
 * Append `len` bytes on side band `band` (1 data, 2 progress, 3 error), cut
 * into pkt-lines of at most GITPROTO_BAND_MAX payload bytes.
 */
int gitproto_band(struct buf *b, int band, const void *data, size_t len);

/* ---- fetch: upload-pack v0/v1 and the v2 fetch command ---- */

/* What a fetch asked for; ids are GITPROTO_OID_HEX strings in the arena. */
struct gitproto_fetch {
	char **wants;
	size_t nwants;
	char **haves;
	size_t nhaves;
	char **shallows;          /* commits the client has without their parents */
	size_t nshallows;
	unsigned depth;           /* "deepen N"; 0: full history */
	bool done;                /* "done": send the pack now */
	bool haves_section;       /* v0: anything after the wants' flush */
	/* capabilities the client chose */
	bool side_band_64k;       /* v0 side-band-64k (v2 always multiplexes the pack) */
	bool side_band;
	bool multi_ack_detailed;
	bool no_done;             /* v0: take the pack right after "ACK ... ready", without "done" */
	bool include_tag;
	bool no_progress;
	bool ofs_delta;
	bool thin_pack;
};

/*
 * An upload-pack v0/v1 request: want lines (the first with capabilities),
 * shallow and deepen lines, a flush, then have lines ending with a flush or
 * "done" (or nothing, after a deepen).  At most `max_lines` lines.
 */
int gitproto_parse_upload_v0(struct gitproto_fetch *out, struct arena *a, const char *body,
			     size_t len, size_t max_lines);

/* A v2 command request. */
struct gitproto_v2 {
	const char *command;        /* "ls-refs" or "fetch" */
	/* ls-refs */
	bool peel;
	bool symrefs;
	bool unborn;
	const char **prefixes;      /* ref-prefix arguments */
	size_t nprefixes;
	/* fetch */
	struct gitproto_fetch fetch;
};

/*
 * A v2 request: "command=<name>", capability lines, a delimiter, then the
 * command's arguments up to a flush.  Commands other than ls-refs and
 * fetch, and arguments those two do not take, are OTCM_EINVAL.
 */
int gitproto_parse_v2(struct gitproto_v2 *out, struct arena *a, const char *body, size_t len,
		      size_t max_lines);

/* ---- push: receive-pack v0 ---- */

/* One ref update: "<old> <new> <ref>"; a zero id is "absent". */
struct gitproto_cmd {
	char old[GITPROTO_OID_HEX];
	char new_[GITPROTO_OID_HEX];
	const char *ref;
};

struct gitproto_push {
	struct gitproto_cmd *cmds;
	size_t ncmds;
	const char *pack;           /* the pack after the commands' flush (borrowed), or NULL */
	size_t pack_len;
	/* capabilities the client chose */
	bool report_status;
	bool side_band_64k;
	bool atomic;
	bool quiet;
};

/*
 * A receive-pack request: command lines (the first with capabilities after
 * a NUL), a flush, then the pack.  A lone flush is git's probe before a
 * chunked body (ncmds 0).  A push certificate or push options
 * (not advertised) are OTCM_EINVAL; so is a ref named twice.  At most
 * `max_cmds` commands.
 */
int gitproto_parse_receive(struct gitproto_push *out, struct arena *a, const char *body,
			   size_t len, size_t max_cmds);

/* Is `hex` the all-zero id git uses for "no object"? */
bool gitproto_is_zero(const char *hex);

#endif
