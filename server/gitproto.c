/* server/gitproto.c - git smart HTTP pkt-lines and requests; see gitproto.h. */
#include "server/gitproto.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"

#define ZERO_OID "0000000000000000000000000000000000000000"

void gitproto_reader_init(struct gitproto_reader *r, const char *data, size_t len)
{
	r->data = data;
	r->len = data ? len : 0;
	r->off = 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int gitproto_read(enum gitproto_pkt *out_type, const char **out_data, size_t *out_len,
		  struct gitproto_reader *r)
{
	size_t left = r->len - r->off, n = 0;
	const char *p;
	int i;

	*out_data = NULL;
	*out_len = 0;
	if (left == 0) {
		*out_type = GITPROTO_EOF;
		return 0;
	}
	p = r->data + r->off;
	if (left < 4)
		return err_set(OTCM_EINVAL, "body", "truncated pkt-line length at byte %zu", r->off);
	for (i = 0; i < 4; i++) {
		int v = hexval(p[i]);

		if (v < 0)
			return err_set(OTCM_EINVAL, "body", "malformed pkt-line length at byte %zu", r->off);
		n = n * 16 + (size_t)v;
	}
	if (n < 4) {
		if (n == 3)
			return err_set(OTCM_EINVAL, "body", "malformed pkt-line length at byte %zu", r->off);
		r->off += 4;
		*out_type = n == 0 ? GITPROTO_FLUSH : n == 1 ? GITPROTO_DELIM : GITPROTO_END;
		return 0;
	}
	if (n == 4 || n > GITPROTO_PKT_MAX)
		return err_set(OTCM_EINVAL, "body", "pkt-line of length %zu at byte %zu", n, r->off);
	if (n > left)
		return err_set(OTCM_EINVAL, "body", "truncated pkt-line at byte %zu", r->off);
	r->off += n;
	*out_type = GITPROTO_DATA;
	*out_data = p + 4;
	*out_len = n - 4;
	if (*out_len && (*out_data)[*out_len - 1] == '\n')
		(*out_len)--;
	return 0;
}

int gitproto_write(struct buf *b, const void *data, size_t len)
{
	char head[5];
	int rc;

	if (len > GITPROTO_PKT_MAX - 4)
		return err_set(OTCM_EINTERNAL, NULL, "pkt-line of %zu bytes is too long", len);
	snprintf(head, sizeof(head), "%04zx", len + 4);
	if ((rc = buf_add(b, head, 4)))
		return rc;
	return buf_add(b, data, len);
}

int gitproto_writef(struct buf *b, const char *fmt, ...)
{
	char line[GITPROTO_PKT_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 4, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 4)
		return err_set(OTCM_EINTERNAL, NULL, "pkt-line too long");
	return gitproto_write(b, line, (size_t)n);
}

int gitproto_flush(struct buf *b)
{
	return buf_add(b, "0000", 4);
}

int gitproto_delim(struct buf *b)
{
	return buf_add(b, "0001", 4);
}

int gitproto_band(struct buf *b, int band, const void *data, size_t len)
{
	const unsigned char *p = data;
	char head[6];
	int rc;

	while (len) {
		size_t n = len > GITPROTO_BAND_MAX ? GITPROTO_BAND_MAX : len;

		snprintf(head, sizeof(head), "%04zx", n + 5);
		head[4] = (char)band;
		if ((rc = buf_add(b, head, 5)) || (rc = buf_add(b, p, n)))
			return rc;
		p += n;
		len -= n;
	}
	return 0;
}

bool gitproto_is_zero(const char *hex)
{
	return strcmp(hex, ZERO_OID) == 0;
}

/* ---- parsing helpers ---- */

/* Does line[0..len) start with `word`?  *rest gets what follows it. */
static bool starts(const char *line, size_t len, const char *word, const char **rest,
		   size_t *rest_len)
{
	size_t n = strlen(word);

	if (len < n || memcmp(line, word, n) != 0)
		return false;
	*rest = line + n;
	*rest_len = len - n;
	return true;
}

static bool is_word(const char *line, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(line, word, len) == 0;
}

/* 40 hex digits at p, lowercased into the arena. */
static int take_oid(char **out, struct arena *a, const char *p, size_t len, const char *what)
{
	char *o;
	size_t i;

	if (len < 40)
		return err_set(OTCM_EINVAL, "body", "%s: object id too short", what);
	o = arena_alloc(a, GITPROTO_OID_HEX);
	for (i = 0; i < 40; i++) {
		if (hexval(p[i]) < 0)
			return err_set(OTCM_EINVAL, "body", "%s: malformed object id", what);
		o[i] = (char)(p[i] >= 'A' && p[i] <= 'F' ? p[i] + 32 : p[i]);
	}
	o[40] = '\0';
	*out = o;
	return 0;
}

/* A growable array of ids in the arena (doubling; the old block stays in the arena). */
static int push_oid(char ***arr, size_t *n, size_t *alloc, struct arena *a, char *oid)
{
	if (*n == *alloc) {
		size_t m = *alloc ? 2 * *alloc : 16;
		char **grown = arena_alloc(a, m * sizeof(*grown));

		if (*n)
			memcpy(grown, *arr, *n * sizeof(*grown));
		*arr = grown;
		*alloc = m;
	}
	(*arr)[(*n)++] = oid;
	return 0;
}

static bool has_cap(const char *caps, size_t len, const char *cap)
{
	size_t n = strlen(cap), i = 0;

	while (i < len) {
		size_t j = i;

		while (j < len && caps[j] != ' ')
			j++;
		if (j - i == n && memcmp(caps + i, cap, n) == 0)
			return true;
		i = j + 1;
	}
	return false;
}

static void fetch_caps(struct gitproto_fetch *f, const char *caps, size_t len)
{
	f->side_band_64k = has_cap(caps, len, "side-band-64k");
	f->side_band = has_cap(caps, len, "side-band");
	f->multi_ack_detailed = has_cap(caps, len, "multi_ack_detailed");
	f->no_done = has_cap(caps, len, "no-done");
	f->include_tag = has_cap(caps, len, "include-tag");
	f->no_progress = has_cap(caps, len, "no-progress");
	f->ofs_delta = has_cap(caps, len, "ofs-delta");
	f->thin_pack = has_cap(caps, len, "thin-pack");
}

/* "deepen N": 1 to 2^31 - 1. */
static int take_depth(unsigned *out, const char *p, size_t len)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 10)
		return err_set(OTCM_EINVAL, "body", "deepen: malformed depth");
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return err_set(OTCM_EINVAL, "body", "deepen: malformed depth");
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	if (v == 0 || v > 0x7fffffffUL)
		return err_set(OTCM_EINVAL, "body", "deepen: depth out of range");
	*out = (unsigned)v;
	return 0;
}

struct arrays {
	size_t wants, haves, shallows;
};

/* One line of a fetch's argument list that both protocol versions share. */
static int fetch_line(bool *out_known, struct gitproto_fetch *f, struct arrays *al, struct arena *a,
		      const char *line, size_t len, bool v2)
{
	const char *rest;
	size_t rlen;
	char *oid;
	int rc;

	*out_known = true;
	if (starts(line, len, "want ", &rest, &rlen)) {
		if ((rc = take_oid(&oid, a, rest, rlen, "want")))
			return rc;
		if (rlen > 40 && !(rest[40] == ' ' && !v2 && f->nwants == 0))
			return err_set(OTCM_EINVAL, "body", "want: unexpected text after the object id");
		if (rlen > 40)
			fetch_caps(f, rest + 41, rlen - 41);
		return push_oid(&f->wants, &f->nwants, &al->wants, a, oid);
	}
	if (starts(line, len, "have ", &rest, &rlen)) {
		if (rlen != 40 || (rc = take_oid(&oid, a, rest, rlen, "have")))
			return rlen != 40 ? err_set(OTCM_EINVAL, "body", "have: malformed object id") : rc;
		return push_oid(&f->haves, &f->nhaves, &al->haves, a, oid);
	}
	if (starts(line, len, "shallow ", &rest, &rlen)) {
		if (rlen != 40 || (rc = take_oid(&oid, a, rest, rlen, "shallow")))
			return rlen != 40 ? err_set(OTCM_EINVAL, "body", "shallow: malformed object id") : rc;
		return push_oid(&f->shallows, &f->nshallows, &al->shallows, a, oid);
	}
	if (starts(line, len, "deepen ", &rest, &rlen))
		return take_depth(&f->depth, rest, rlen);
	if (is_word(line, len, "done")) {
		f->done = true;
		return 0;
	}
	*out_known = false;
	return 0;
}

int gitproto_parse_upload_v0(struct gitproto_fetch *out, struct arena *a, const char *body,
			     size_t len, size_t max_lines)
{
	struct gitproto_reader r;
	struct arrays al = { 0, 0, 0 };
	enum gitproto_pkt t;
	const char *line;
	size_t n, lines = 0;
	bool in_haves = false, known;
	int rc;

	memset(out, 0, sizeof(*out));
	gitproto_reader_init(&r, body, len);
	for (;;) {
		if ((rc = gitproto_read(&t, &line, &n, &r)))
			return rc;
		if (t == GITPROTO_EOF)
			break;
		if (++lines > max_lines)
			return err_set(OTCM_ETOOBIG, "body", "more than %zu lines in one request", max_lines);
		if (t == GITPROTO_FLUSH) {
			if (!in_haves) {
				in_haves = true;
				continue;
			}
			/* the end of one round of haves; a stateless request ends here */
			break;
		}
		if (t != GITPROTO_DATA)
			return err_set(OTCM_EINVAL, "body", "unexpected delimiter in a v0 request");
		if ((rc = fetch_line(&known, out, &al, a, line, n, false)))
			return rc;
		if (!known)
			return err_set(OTCM_EINVAL, "body", "unknown line '%.*s'", (int)(n > 40 ? 40 : n), line);
		if (in_haves) {
			out->haves_section = true;
			if (out->done)
				break;
		} else if ((n >= 5 && memcmp(line, "have ", 5) == 0) || out->done) {
			return err_set(OTCM_EINVAL, "body", "'have' or 'done' before the wants' flush");
		}
	}
	if (out->nwants == 0)
		return err_set(OTCM_EINVAL, "body", "no 'want' line");
	if (r.off != r.len)
		return err_set(OTCM_EINVAL, "body", "bytes after the request's end");
	return 0;
}

int gitproto_parse_v2(struct gitproto_v2 *out, struct arena *a, const char *body, size_t len,
		      size_t max_lines)
{
	struct gitproto_reader r;
	struct arrays al = { 0, 0, 0 };
	enum gitproto_pkt t;
	const char *line, *rest;
	size_t n, rlen, lines = 0, pref_alloc = 0;
	bool args = false, known;
	int rc;

	memset(out, 0, sizeof(*out));
	gitproto_reader_init(&r, body, len);
	for (;;) {
		if ((rc = gitproto_read(&t, &line, &n, &r)))
			return rc;
		if (t == GITPROTO_EOF)
			return err_set(OTCM_EINVAL, "body", "the request ends before its flush");
		if (++lines > max_lines)
			return err_set(OTCM_ETOOBIG, "body", "more than %zu lines in one request", max_lines);
		if (t == GITPROTO_FLUSH)
			break;
		if (t == GITPROTO_DELIM) {
			if (args || !out->command)
				return err_set(OTCM_EINVAL, "body", "unexpected delimiter");
			args = true;
			continue;
		}
		if (t != GITPROTO_DATA)
			return err_set(OTCM_EINVAL, "body", "unexpected response-end packet");
		if (!out->command) {
			if (!starts(line, n, "command=", &rest, &rlen))
				return err_set(OTCM_EINVAL, "body", "a v2 request starts with 'command='");
			if (is_word(rest, rlen, "ls-refs"))
				out->command = "ls-refs";
			else if (is_word(rest, rlen, "fetch"))
				out->command = "fetch";
			else
				return err_set(OTCM_EINVAL, "body", "unknown command '%.*s'",
					       (int)(rlen > 40 ? 40 : rlen), rest);
			continue;
		}
		if (!args)
			continue;   /* capabilities (agent=, object-format=): nothing depends on them */
		if (strcmp(out->command, "ls-refs") == 0) {
			if (is_word(line, n, "peel"))
				out->peel = true;
			else if (is_word(line, n, "symrefs"))
				out->symrefs = true;
			else if (is_word(line, n, "unborn"))
				out->unborn = true;
			else if (starts(line, n, "ref-prefix ", &rest, &rlen)) {
				if (out->nprefixes == pref_alloc) {
					size_t m = pref_alloc ? 2 * pref_alloc : 8;
					const char **grown = arena_alloc(a, m * sizeof(*grown));

					if (out->nprefixes)
						memcpy(grown, out->prefixes, out->nprefixes * sizeof(*grown));
					out->prefixes = grown;
					pref_alloc = m;
				}
				out->prefixes[out->nprefixes++] = arena_strndup(a, rest, rlen);
			} else
				return err_set(OTCM_EINVAL, "body", "ls-refs: unknown argument '%.*s'",
					       (int)(n > 40 ? 40 : n), line);
			continue;
		}
		if ((rc = fetch_line(&known, &out->fetch, &al, a, line, n, true)))
			return rc;
		if (known)
			continue;
		if (is_word(line, n, "thin-pack"))
			out->fetch.thin_pack = true;
		else if (is_word(line, n, "no-progress"))
			out->fetch.no_progress = true;
		else if (is_word(line, n, "include-tag"))
			out->fetch.include_tag = true;
		else if (is_word(line, n, "ofs-delta"))
			out->fetch.ofs_delta = true;
		else
			return err_set(OTCM_EINVAL, "body", "fetch: unknown argument '%.*s'",
				       (int)(n > 40 ? 40 : n), line);
	}
	if (!out->command)
		return err_set(OTCM_EINVAL, "body", "no command");
	if (strcmp(out->command, "fetch") == 0 && out->fetch.nwants == 0)
		return err_set(OTCM_EINVAL, "body", "fetch: no 'want' line");
	if (r.off != r.len)
		return err_set(OTCM_EINVAL, "body", "bytes after the request's flush");
	return 0;
}

int gitproto_parse_receive(struct gitproto_push *out, struct arena *a, const char *body,
			   size_t len, size_t max_cmds)
{
	struct gitproto_reader r;
	enum gitproto_pkt t;
	const char *line;
	size_t n, alloc = 0, i;
	int rc;

	memset(out, 0, sizeof(*out));
	gitproto_reader_init(&r, body, len);
	for (;;) {
		struct gitproto_cmd *cmd;
		const char *nul, *ref;
		size_t reflen;
		char *oid;

		if ((rc = gitproto_read(&t, &line, &n, &r)))
			return rc;
		if (t == GITPROTO_EOF)
			return err_set(OTCM_EINVAL, "body", "the command list ends before its flush");
		if (t == GITPROTO_FLUSH)
			break;
		if (t != GITPROTO_DATA)
			return err_set(OTCM_EINVAL, "body", "unexpected delimiter in the command list");
		if (out->ncmds == 0 && n >= 12 && memcmp(line, "push-cert", 9) == 0)
			return err_set(OTCM_EINVAL, "body", "signed pushes are not supported");
		if (out->ncmds == max_cmds)
			return err_set(OTCM_ETOOBIG, "body", "more than %zu ref updates in one push", max_cmds);
		nul = memchr(line, '\0', n);
		if (nul && out->ncmds)
			return err_set(OTCM_EINVAL, "body", "capabilities after the first command");
		if (nul) {
			size_t clen = n - (size_t)(nul + 1 - line);

			out->report_status = has_cap(nul + 1, clen, "report-status");
			out->side_band_64k = has_cap(nul + 1, clen, "side-band-64k");
			out->atomic = has_cap(nul + 1, clen, "atomic");
			out->quiet = has_cap(nul + 1, clen, "quiet");
			if (has_cap(nul + 1, clen, "push-options"))
				return err_set(OTCM_EINVAL, "body", "push options are not supported");
			n = (size_t)(nul - line);
		}
		if (n < 83 || line[40] != ' ' || line[81] != ' ')
			return err_set(OTCM_EINVAL, "body", "malformed command line %zu", out->ncmds + 1);
		if (out->ncmds == alloc) {
			size_t m = alloc ? 2 * alloc : 8;
			struct gitproto_cmd *grown = arena_alloc(a, m * sizeof(*grown));

			if (out->ncmds)
				memcpy(grown, out->cmds, out->ncmds * sizeof(*grown));
			out->cmds = grown;
			alloc = m;
		}
		cmd = &out->cmds[out->ncmds];
		if ((rc = take_oid(&oid, a, line, 40, "command")))
			return rc;
		memcpy(cmd->old, oid, GITPROTO_OID_HEX);
		if ((rc = take_oid(&oid, a, line + 41, 40, "command")))
			return rc;
		memcpy(cmd->new_, oid, GITPROTO_OID_HEX);
		ref = line + 82;
		reflen = n - 82;
		if (memchr(ref, '\0', reflen) || memchr(ref, ' ', reflen))
			return err_set(OTCM_EINVAL, "body", "malformed ref name in command %zu", out->ncmds + 1);
		cmd->ref = arena_strndup(a, ref, reflen);
		for (i = 0; i < out->ncmds; i++)
			if (strcmp(out->cmds[i].ref, cmd->ref) == 0)
				return err_set(OTCM_EINVAL, "body", "ref '%.200s' named twice", cmd->ref);
		out->ncmds++;
	}
	if (out->ncmds == 0 && r.off < r.len)
		return err_set(OTCM_EINVAL, "body", "a pack without a ref update");
	if (r.off < r.len) {
		out->pack = r.data + r.off;   /* r.len > 0: data is not NULL */
		out->pack_len = r.len - r.off;
	}
	return 0;
}
