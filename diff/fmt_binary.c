/*
 * diff/fmt_binary.c - the fallback for files no other format reads:
 * binary data and archives.
 *
 * Tree: the root ("File") with attrs "sha256" and "size".  A zip or tar
 * archive (also gzip, bzip2 or xz compressed) lists its members as
 * Member[path] with "sha256" and "size", and archives inside archives
 * (a zip in a zip, up to ARCHIVE_MAX_DEPTH) list theirs below the member.
 * Limits keep hostile archives cheap: member count, bytes expanded, the
 * size of a nested archive read into memory; when one is hit the node gets
 * attr "truncated".
 *
 * Through the registry (parse_nested), a member in a format the engine
 * knows (a .TcPOU, a .plcproj, an L5X...) is also parsed with that format
 * and its tree hangs below the member (Member[path]/POU[..]/..), so a
 * changed member reads as the file would on its own; such a member is
 * flagged DNODE_DIGEST, so its sha256 and size are compared only when a
 * side could not be parsed.  Members over MEMBER_MAX_PARSE, or past
 * ARCHIVE_MAX_PARSED bytes parsed per file, keep sha256 and size alone and
 * say so in attr "not compared".
 *
 * This is the only file of diff/ that reads archives, through core/archive.h.
 */
#include "diff/formats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/archive.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/mem.h"
#include "diff/text.h"

#define ARCHIVE_MAX_DEPTH 4
#define ARCHIVE_MAX_MEMBERS 100000
#define ARCHIVE_MAX_NESTED ((size_t)64 << 20)      /* a nested archive read into memory */
#define ARCHIVE_MAX_EXPANDED ((size_t)4 << 30)     /* all bytes expanded, per file */
#define MEMBER_MAX_PARSE ((size_t)16 << 20)        /* a member parsed with its own format */
#define ARCHIVE_MAX_PARSED ((size_t)512 << 20)     /* all members parsed, per file */
#define READ_CHUNK ((size_t)64 << 10)

struct budget {
	size_t members;
	size_t expanded;
	size_t parsed;
	diff_parse_file_fn parse_file;   /* NULL: members by sha256 and size only */
};

static bool is_zip(const unsigned char *p, size_t len)
{
	return len >= 4 && p[0] == 'P' && p[1] == 'K' &&
	       ((p[2] == 3 && p[3] == 4) || (p[2] == 5 && p[3] == 6));
}

static bool is_tar(const unsigned char *p, size_t len)
{
	return len >= 262 && memcmp(p + 257, "ustar", 5) == 0;
}

static bool is_compressed(const unsigned char *p, size_t len)
{
	return len >= 3 && ((p[0] == 0x1f && p[1] == 0x8b) ||               /* gzip */
	                    (p[0] == 'B' && p[1] == 'Z' && p[2] == 'h') ||  /* bzip2 */
	                    (len >= 6 && memcmp(p, "\xfd" "7zXZ", 5) == 0));
}

static bool may_be_archive(const unsigned char *p, size_t len)
{
	return is_zip(p, len) || is_tar(p, len) || is_compressed(p, len);
}

static void set_hash_size(struct dnode *n, const unsigned char digest[CRYPTO_SHA256_LEN],
                          size_t size)
{
	char hex[2 * CRYPTO_SHA256_LEN + 1];
	char num[32];

	crypto_hex(hex, digest, CRYPTO_SHA256_LEN);
	dnode_set_attr(n, "sha256", hex);
	snprintf(num, sizeof(num), "%zu", size);
	dnode_set_attr(n, "size", num);
}

static bool list_archive(struct dnode *parent, const void *data, size_t len, int depth,
                         struct budget *b);

/*
 * What member m holds, read whole into `keep` when `kept`: the members of
 * an archive, or the tree of a file in a format the engine knows, adopted
 * below m (its root names the format and the member's path).
 */
static void member_content(struct dnode *m, struct buf *keep, bool kept, size_t size, int depth,
                           struct budget *b)
{
	const struct diff_format *f = NULL;
	struct dnode *tree = NULL;
	char why[64];

	if (kept && keep->len && depth + 1 < ARCHIVE_MAX_DEPTH &&
	    may_be_archive((const unsigned char *)keep->data, keep->len)) {
		list_archive(m, keep->data, keep->len, depth + 1, b);
		return;
	}
	if (!b->parse_file || may_be_archive((const unsigned char *)keep->data, keep->len))
		return;
	if (!kept || size > MEMBER_MAX_PARSE) {
		snprintf(why, sizeof(why), "larger than %zu MiB", MEMBER_MAX_PARSE >> 20);
		dnode_set_attr(m, "not compared", why);
		return;
	}
	if (b->parsed + size > ARCHIVE_MAX_PARSED) {
		snprintf(why, sizeof(why), "past the %zu MiB parsed per archive",
		         ARCHIVE_MAX_PARSED >> 20);
		dnode_set_attr(m, "not compared", why);
		return;
	}
	b->parsed += size;
	if (b->parse_file(&tree, &f, keep->len ? keep->data : "", keep->len))
		return;
	tree->nest_format = f->name;
	dnode_set_nest_path(tree, m->name ? m->name : "");
	dnode_adopt(m, tree);
	m->flags |= DNODE_DIGEST;
}

/*
 * List the members of the archive data[0, len) under parent.  Returns
 * false when libarchive does not recognise it as an archive at all.
 */
static bool list_archive(struct dnode *parent, const void *data, size_t len, int depth,
                         struct budget *b)
{
	struct arc_reader *a = NULL;
	struct arc_member e;
	struct text_names *names = text_names_new();
	unsigned char *chunk = NULL;
	bool any = false;
	int rc;

	if (arc_reader_open(&a, data, len, ARC_READ_TAR | ARC_READ_ZIP | ARC_READ_COMPRESSED))
		goto out;
	chunk = xmalloc(READ_CHUNK);
	for (;;) {
		struct crypto_sha256_ctx *ctx;
		unsigned char digest[CRYPTO_SHA256_LEN];
		struct buf keep = BUF_INIT;
		struct dnode *m;
		size_t size = 0, blen;
		bool keeping = true, cut = false;

		rc = arc_reader_next(a, &e);
		if (rc == 0)
			break;
		if (rc < 0) {
			if (any)
				dnode_set_attr(parent, "error", *err_message() ? err_message()
				                                               : "unreadable archive");
			break;
		}
		any = true;
		if (e.type == ARC_DIR)
			continue;
		if (++b->members > ARCHIVE_MAX_MEMBERS) {
			dnode_set_attr(parent, "truncated", "too many members");
			break;
		}
		m = text_add_unique(names, parent, "Member", e.name ? e.name : "");
		if (e.type == ARC_SYMLINK) {
			dnode_set_attr(m, "symlink", e.link ? e.link : "");
			continue;
		}
		if (e.encrypted) {
			dnode_set_attr(m, "encrypted", "true");
			continue;
		}
		ctx = crypto_sha256_new();
		buf_init(&keep, ARCHIVE_MAX_NESTED);
		for (;;) {
			rc = arc_reader_read(a, &blen, chunk, READ_CHUNK);
			if (rc < 0) {
				dnode_set_attr(m, "error", *err_message() ? err_message()
				                                          : "unreadable member");
				break;
			}
			if (blen == 0)
				break;
			if (b->expanded + blen > ARCHIVE_MAX_EXPANDED) {
				cut = true;
				break;
			}
			b->expanded += blen;
			crypto_sha256_update(ctx, chunk, blen);
			size += blen;
			if (keeping && buf_add(&keep, chunk, blen))
				keeping = false;
			/* past the header, keep only what can be listed or parsed */
			if (keeping && keep.len >= 262 && keep.len > MEMBER_MAX_PARSE &&
			    !(depth + 1 < ARCHIVE_MAX_DEPTH &&
			      may_be_archive((const unsigned char *)keep.data, keep.len)))
				keeping = false;
			if (!keeping)
				buf_release(&keep);
		}
		crypto_sha256_final(digest, ctx);
		set_hash_size(m, digest, size);
		if (cut) {
			dnode_set_attr(m, "truncated", "expansion limit reached");
			buf_release(&keep);
			dnode_set_attr(parent, "truncated", "expansion limit reached");
			break;
		}
		if (rc >= 0)
			member_content(m, &keep, keeping, size, depth, b);
		buf_release(&keep);
		if (rc < 0)
			break;
	}
out:
	free(chunk);
	arc_reader_free(a);
	text_names_free(names);
	err_clear();
	return any;
}

static int binary_detect(const char *text, size_t len)
{
	const unsigned char *p = (const unsigned char *)text;

	/*
	 * An archive's magic at its start is certain, and must outscore the
	 * text formats that would find a stored member's XML in the raw bytes.
	 */
	if (is_zip(p, len) || (is_tar(p, len) && memchr(p, '\0', len < 512 ? len : 512)))
		return 100;
	if (is_compressed(p, len))
		return 30;
	/* binary data: other formats never claim text with NUL bytes */
	if (memchr(text, '\0', len < 65536 ? len : 65536))
		return 5;
	return 0;
}

static int binary_parse_nested(struct dnode **out, const char *text, size_t len,
                               diff_parse_file_fn parse_file)
{
	struct dnode *root = dnode_new("File", NULL);
	unsigned char digest[CRYPTO_SHA256_LEN];
	struct budget b = { 0, 0, 0, parse_file };

	crypto_sha256(digest, text, len);
	set_hash_size(root, digest, len);
	if (may_be_archive((const unsigned char *)text, len))
		list_archive(root, text, len, 0, &b);
	*out = root;
	return 0;
}

static int binary_parse(struct dnode **out, const char *text, size_t len)
{
	return binary_parse_nested(out, text, len, NULL);
}

const struct diff_format diff_fmt_binary = {
	.name = "binary",
	.description = "any other file: SHA-256 and size; archive members by name, "
	               "their contents in the formats the engine knows",
	.detect = binary_detect,
	.parse = binary_parse,
	.parse_nested = binary_parse_nested,
};
