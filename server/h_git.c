/*
 * server/h_git.c - git smart HTTP, a door onto domain/git.h: stock git
 * clones, fetches and pushes /git/<asset path>.git.
 *
 *   GET  /git/{asset+}.git/info/refs?service=...   dom_git_refs
 *   POST /git/{asset+}.git/git-upload-pack         dom_git_refs (v2 ls-refs)
 *                                                  or dom_git_fetch
 *   POST /git/{asset+}.git/git-receive-pack        dom_git_push
 *
 * What is left here is the protocol (server/gitproto.h): the ref
 * advertisement of v0 and the capabilities of v2, the request's pkt-lines,
 * a gzip-encoded body, ACK/NAK, the pack on side band 1, and the push's
 * report with each refusal's sentence on side band 2 so that git prints
 * "remote: ..." and "! [remote rejected] ... (<rule>)".  A fetch's pack is
 * streamed (http_reply_stream) as the domain builds it, with progress and
 * keep-alives, so a long build never leaves the connection silent.  The door decides
 * nothing: which refs are shown, which objects may be fetched and which
 * updates a push may make are the domain's.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/archive.h"
#include "core/err.h"
#include "core/log.h"
#include "domain/git.h"
#include "server/gitproto.h"
#include "server/handlers.h"

#define AGENT "agent=otcm/1"
#define UPLOAD_CAPS "multi_ack_detailed no-done side-band-64k ofs-delta shallow include-tag"
#define RECEIVE_CAPS "report-status delete-refs atomic quiet ofs-delta side-band-64k"
#define MAX_LINES 100000          /* pkt-lines in one fetch request */
#define MAX_COMMANDS 1000         /* ref updates in one push */
#define GUNZIP_FACTOR 64          /* a gzip body may grow to this many times the body limit */

/* The asset path: the capture before ".git". */
static const char *asset_of(struct http_req *req)
{
	return http_param(req, 0);
}

static bool wants_v2(struct http_req *req)
{
	const char *p = http_header(req, "Git-Protocol");

	return p && strstr(p, "version=2") != NULL;
}

static void no_cache(struct http_req *req)
{
	http_set_header(req, "Cache-Control", "no-cache, max-age=0, must-revalidate");
	http_set_header(req, "Expires", "Fri, 01 Jan 1980 00:00:00 GMT");
	http_set_header(req, "Pragma", "no-cache");
}

/* Answer 200 with the bytes of b (the glue keeps its own copy) and release b. */
static int reply_buf(struct http_req *req, const char *ctype, struct buf *b)
{
	int rc;

	no_cache(req);
	rc = http_reply_bytes(req, 200, ctype, b->data ? b->data : "", b->len);
	buf_release(b);
	return rc;
}

/* The request's body, gunzipped when git sent it with Content-Encoding: gzip. */
static int body_of(const char **out, size_t *out_len, struct http_req *req, const char *ctype)
{
	const char *enc = http_header(req, "Content-Encoding");
	const char *got = http_header(req, "Content-Type");
	struct buf b = BUF_INIT;
	uint64_t cap;
	int rc;

	if (!got || strcasecmp(got, ctype) != 0)
		return err_set(OTCM_EMEDIA, "Content-Type", "the body must be %s", ctype);
	if (!enc || strcasecmp(enc, "identity") == 0) {
		*out = req->body;
		*out_len = req->body_len;
		return 0;
	}
	if (strcasecmp(enc, "gzip") && strcasecmp(enc, "x-gzip"))
		return err_set(OTCM_EMEDIA, "Content-Encoding", "content encoding '%.40s' is not supported",
			       enc);
	/* git gzips only fetch requests; a bomb stops at the cap, never past --max-body */
	cap = req->max_body * GUNZIP_FACTOR;
	if (cap > req->srv->cfg->max_body)
		cap = req->srv->cfg->max_body;
	buf_init(&b, (size_t)cap);
	rc = arc_gunzip(&b, req->body ? req->body : "", req->body_len);
	if (rc) {
		buf_release(&b);
		return err_set(rc, "Content-Encoding", "the gzip body: %s", err_message());
	}
	*out_len = b.len;
	*out = arena_memdup(req->arena, b.data ? b.data : "", b.len + 1);
	buf_release(&b);
	return 0;
}

/* ---- the ref advertisement ---- */

static int advertise_v0(struct buf *b, const struct dom_git_refs *refs, bool push)
{
	const char *caps = push ? RECEIVE_CAPS " " AGENT : UPLOAD_CAPS " " AGENT;
	bool first = true;
	size_t i;
	int rc = 0;

	if (!push && refs->head) {
		for (i = 0; i < refs->n; i++)
			if (strcmp(refs->refs[i].name, refs->head) == 0)
				break;
		if (i < refs->n) {
			char line[512];
			int n = snprintf(line, sizeof(line), "%s HEAD%c%s symref=HEAD:%s\n", refs->refs[i].oid,
					 '\0', caps, refs->head);

			if ((rc = gitproto_write(b, line, (size_t)n)))
				return rc;
			first = false;
		}
	}
	for (i = 0; i < refs->n; i++) {
		const struct dom_git_ref *r = &refs->refs[i];

		if (first) {
			char line[1024];
			int n = snprintf(line, sizeof(line), "%s %s%c%s\n", r->oid, r->name, '\0', caps);

			if (n < 0 || (size_t)n >= sizeof(line))
				return err_set(OTCM_EINTERNAL, NULL, "ref name too long");
			rc = gitproto_write(b, line, (size_t)n);
			first = false;
		} else {
			rc = gitproto_writef(b, "%s %s\n", r->oid, r->name);
		}
		if (rc == 0 && r->peeled[0])
			rc = gitproto_writef(b, "%s %s^{}\n", r->peeled, r->name);
		if (rc)
			return rc;
	}
	if (first) {
		char line[512];
		int n = snprintf(line, sizeof(line), "%s capabilities^{}%c%s\n",
				 "0000000000000000000000000000000000000000", '\0', caps);

		if ((rc = gitproto_write(b, line, (size_t)n)))
			return rc;
	}
	return gitproto_flush(b);
}

static int advertise_v2(struct buf *b)
{
	int rc;

	if ((rc = gitproto_writef(b, "version 2\n")) || (rc = gitproto_writef(b, AGENT "\n")) ||
	    (rc = gitproto_writef(b, "ls-refs\n")) || (rc = gitproto_writef(b, "fetch=shallow\n")) ||
	    (rc = gitproto_writef(b, "object-format=sha1\n")))
		return rc;
	return gitproto_flush(b);
}

int h_git_info_refs(struct http_req *req)
{
	const char *service = http_query(req, "service");
	struct dom_git_refs refs;
	struct buf b = BUF_INIT;
	bool push;
	int rc;

	if (!service || (strcmp(service, "git-upload-pack") && strcmp(service, "git-receive-pack")))
		return err_set(OTCM_EINVAL, "service",
			       "only git's smart protocol is served: service=git-upload-pack or "
			       "service=git-receive-pack");
	push = strcmp(service, "git-receive-pack") == 0;
	if ((rc = dom_git_refs(&refs, &req->dom, asset_of(req), push)))
		return rc;
	buf_init(&b, 0);
	if (!push && wants_v2(req)) {
		rc = advertise_v2(&b);
	} else {
		if ((rc = gitproto_writef(&b, "# service=%s\n", service)) || (rc = gitproto_flush(&b)))
			goto out;
		rc = advertise_v0(&b, &refs, push);
	}
	if (rc)
		goto out;
	return reply_buf(req, push ? "application/x-git-receive-pack-advertisement"
				   : "application/x-git-upload-pack-advertisement", &b);
out:
	buf_release(&b);
	return rc;
}

/* ---- fetch ---- */

/* An error git prints as "remote error: ..." (v0) or "error: ..." (v2). */
static int reply_err(struct http_req *req, const char *ctype, const char *message)
{
	struct buf b = BUF_INIT;
	int rc;

	buf_init(&b, 0);
	if ((rc = gitproto_writef(&b, "ERR upload-pack: %.900s\n", message))) {
		buf_release(&b);
		return rc;
	}
	return reply_buf(req, ctype, &b);
}

/*
 * A fetch's pack, streamed: the pkt-lines before it (`head`), then the pack
 * on side band 1 as it is built, with git's progress lines on side band 2
 * unless the client asked for none, then a flush.  While the build sends
 * nothing the glue repeats the last progress line, or an empty band-1
 * packet (what git's own upload-pack sends), every few seconds.  A failure
 * once the stream has started goes out on side band 3 and cuts the
 * connection: git dies with it, never taking a half pack for a whole one.
 */
#define KEEPALIVE_MS 2000
#define KEEPALIVE_EMPTY "0005\1"

struct pack_out {
	struct http_stream *s;
	struct http_req *req;
	struct dom_git_pack *pack;
	struct buf head;
	bool band;                  /* side-band-64k */
	bool progress;              /* progress wanted */
	const char *stage;          /* the progress line not yet finished with ", done." */
	unsigned count;             /* its last figure */
};

/* One packet (or raw bytes without a band) to the stream. */
static int out_band(struct pack_out *po, int band, const void *data, size_t len)
{
	struct buf b = BUF_INIT;
	int rc;

	if (!po->band)
		return band == 1 ? http_stream_write(po->s, data, len) : 0;
	buf_init(&b, 0);
	if ((rc = gitproto_band(&b, band, data, len)) == 0)
		rc = http_stream_write(po->s, b.data, b.len);
	buf_release(&b);
	return rc;
}

/* A progress line on band 2; one ending in "\r" is also the keep-alive until the next. */
static int out_progress(struct pack_out *po, const char *line)
{
	struct buf b = BUF_INIT;
	size_t n = strlen(line);
	int rc;

	buf_init(&b, 0);
	if ((rc = gitproto_band(&b, 2, line, n)) == 0 && (rc = http_stream_write(po->s, b.data, b.len)) == 0) {
		if (line[n - 1] == '\r')
			http_stream_keepalive(po->s, b.data, b.len, KEEPALIVE_MS);
		else
			http_stream_keepalive(po->s, KEEPALIVE_EMPTY, 5, KEEPALIVE_MS);
	}
	buf_release(&b);
	return rc;
}

/* Close the open progress line as git does: "Counting objects: 12, done." */
static int finish_stage(struct pack_out *po, unsigned total)
{
	char line[128];
	const char *stage = po->stage;

	if (!stage)
		return 0;
	po->stage = NULL;
	if (strcmp(stage, "Counting objects") == 0)
		snprintf(line, sizeof(line), "%s: %u, done.\n", stage, total);
	else
		snprintf(line, sizeof(line), "%s: 100%% (%u/%u), done.\n", stage, total, total);
	return out_progress(po, line);
}

static int sink_progress(void *ctx, const char *stage, unsigned current, unsigned total)
{
	struct pack_out *po = ctx;
	char line[128];
	int rc;

	if (po->stage && strcmp(po->stage, stage) &&
	    (rc = finish_stage(po, strcmp(po->stage, "Counting objects") == 0 && total ? total : po->count)))
		return rc;
	po->stage = stage;
	po->count = total ? total : current;
	if (total)
		snprintf(line, sizeof(line), "%s: %3u%% (%u/%u)\r", stage,
			 (unsigned)((uint64_t)current * 100 / total), current, total);
	else
		snprintf(line, sizeof(line), "%s: %u\r", stage, current);
	return out_progress(po, line);
}

static int sink_pack(void *ctx, const void *data, size_t len)
{
	struct pack_out *po = ctx;
	int rc;

	if (po->progress && po->stage && (rc = finish_stage(po, po->count)))
		return rc;
	return out_band(po, 1, data, len);
}

/* The producer (server/http.h): runs on a thread of its own. */
static int send_pack(struct http_stream *s, void *ctx)
{
	struct pack_out *po = ctx;
	struct dom_git_sink sink = { sink_pack, po->progress ? sink_progress : NULL, po };
	struct buf b = BUF_INIT;
	int rc, code;

	po->s = s;
	http_stream_keepalive(s, KEEPALIVE_EMPTY, po->band ? 5 : 0, KEEPALIVE_MS);
	if ((rc = http_stream_write(s, po->head.data ? po->head.data : "", po->head.len)))
		return rc;
	rc = dom_git_pack_send(po->pack, &sink);
	if (rc == 0) {
		if (!po->band)
			return 0;
		buf_init(&b, 0);
		if ((rc = gitproto_flush(&b)) == 0)
			rc = http_stream_write(s, b.data, b.len);
		buf_release(&b);
		return rc;
	}
	code = rc;
	if (po->band && code != OTCM_EIO) {
		/* git prints it as "remote: fatal: ..."; internals stay in the log */
		char msg[512];
		int n;

		if (http_status_for(code) >= 500)
			n = snprintf(msg, sizeof(msg),
				     "fatal: the server failed to build the pack; its log has the details "
				     "(request %s)\n", po->req->request_id);
		else
			n = snprintf(msg, sizeof(msg), "fatal: %.400s\n", err_message());
		log_msg(LOG_WARN, "git: the pack stopped after it started: %s", err_message());
		err_clear();
		(void)out_band(po, 3, msg, (size_t)n);
		err_set(code, NULL, "the pack stopped after it started");
	}
	return code;
}

static void pack_out_release(void *p)
{
	buf_release(&((struct pack_out *)p)->head);
}

/* Answer with `head` (taken over) and then the pack of `fo`, streamed. */
static int reply_pack(struct http_req *req, const char *ctype, struct buf *head,
		      const struct dom_git_fetch_out *fo, bool band, bool progress)
{
	struct pack_out *po = arena_alloc(req->arena, sizeof(*po));

	memset(po, 0, sizeof(*po));
	po->req = req;
	po->pack = fo->pack;
	po->head = *head;
	*head = (struct buf)BUF_INIT;
	po->band = band;
	po->progress = band && progress;
	arena_on_free(req->arena, pack_out_release, po);
	no_cache(req);
	return http_reply_stream(req, 200, ctype, send_pack, po);
}

static void fetch_in(struct dom_git_fetch_in *in, const struct gitproto_fetch *f)
{
	memset(in, 0, sizeof(*in));
	in->wants = (const char *const *)f->wants;
	in->nwants = f->nwants;
	in->haves = (const char *const *)f->haves;
	in->nhaves = f->nhaves;
	in->shallows = (const char *const *)f->shallows;
	in->nshallows = f->nshallows;
	in->depth = f->depth;
	in->include_tag = f->include_tag;
	in->done = f->done;
	/* "ready" is multi_ack_detailed's word: without it no-done means nothing */
	in->no_done = f->no_done && f->multi_ack_detailed;
}

static int upload_v0(struct http_req *req, const char *body, size_t len)
{
	static const char ctype[] = "application/x-git-upload-pack-result";
	struct gitproto_fetch f;
	struct dom_git_fetch_in in;
	struct dom_git_fetch_out fo;
	struct buf b = BUF_INIT;
	size_t i;
	int rc;

	if ((rc = gitproto_parse_upload_v0(&f, req->arena, body, len, MAX_LINES)))
		return rc;
	fetch_in(&in, &f);
	rc = dom_git_fetch(&fo, &req->dom, asset_of(req), &in);
	if (rc == OTCM_ENOTFOUND && err_field() && strcmp(err_field(), "want") == 0)
		return reply_err(req, ctype, err_message());
	if (rc)
		return rc;
	buf_init(&b, 0);
	if (f.depth) {
		for (i = 0; i < fo.nshallow && rc == 0; i++)
			rc = gitproto_writef(&b, "shallow %s\n", fo.shallow[i]);
		for (i = 0; i < fo.nunshallow && rc == 0; i++)
			rc = gitproto_writef(&b, "unshallow %s\n", fo.unshallow[i]);
		if (rc || (rc = gitproto_flush(&b)))
			goto out;
		/* a first request with the depth alone asks only for the shallow list */
		if (!f.haves_section && !f.done)
			return reply_buf(req, ctype, &b);
	}
	for (i = 0; i < fo.ncommon && rc == 0; i++)
		rc = gitproto_writef(&b, f.multi_ack_detailed ? "ACK %s common\n" : "ACK %s continue\n",
				     fo.common[i]);
	if (rc)
		goto out;
	if (!f.done) {
		/* as git's upload-pack: ready, the round's NAK, and with no-done the final ACK and the pack */
		if (fo.ready && f.multi_ack_detailed &&
		    (rc = gitproto_writef(&b, "ACK %s ready\n", fo.common[fo.ncommon - 1])))
			goto out;
		if ((rc = gitproto_writef(&b, "NAK\n")))
			goto out;
		if (!fo.pack)
			return reply_buf(req, ctype, &b);
		if ((rc = gitproto_writef(&b, "ACK %s\n", fo.common[fo.ncommon - 1])))
			goto out;
		return reply_pack(req, ctype, &b, &fo, f.side_band_64k, !f.no_progress);
	}
	if (fo.ncommon)
		rc = gitproto_writef(&b, "ACK %s\n", fo.common[fo.ncommon - 1]);
	else
		rc = gitproto_writef(&b, "NAK\n");
	if (rc)
		goto out;
	return reply_pack(req, ctype, &b, &fo, f.side_band_64k, !f.no_progress);
out:
	buf_release(&b);
	return rc;
}

static bool prefix_match(const struct gitproto_v2 *v, const char *name)
{
	size_t i;

	if (v->nprefixes == 0)
		return true;
	for (i = 0; i < v->nprefixes; i++)
		if (strncmp(name, v->prefixes[i], strlen(v->prefixes[i])) == 0)
			return true;
	return false;
}

static int ls_refs(struct buf *b, const struct gitproto_v2 *v, const struct dom_git_refs *refs)
{
	size_t i;
	int rc = 0;

	for (i = 0; refs->head && i < refs->n && prefix_match(v, "HEAD"); i++) {
		if (strcmp(refs->refs[i].name, refs->head))
			continue;
		if (v->symrefs)
			rc = gitproto_writef(b, "%s HEAD symref-target:%s\n", refs->refs[i].oid, refs->head);
		else
			rc = gitproto_writef(b, "%s HEAD\n", refs->refs[i].oid);
		if (rc)
			return rc;
	}
	for (i = 0; i < refs->n; i++) {
		const struct dom_git_ref *r = &refs->refs[i];

		if (!prefix_match(v, r->name))
			continue;
		if (v->peel && r->peeled[0])
			rc = gitproto_writef(b, "%s %s peeled:%s\n", r->oid, r->name, r->peeled);
		else
			rc = gitproto_writef(b, "%s %s\n", r->oid, r->name);
		if (rc)
			return rc;
	}
	return gitproto_flush(b);
}

static int upload_v2(struct http_req *req, const char *body, size_t len)
{
	static const char ctype[] = "application/x-git-upload-pack-result";
	struct gitproto_v2 v;
	struct dom_git_fetch_in in;
	struct dom_git_fetch_out fo;
	struct dom_git_refs refs;
	struct buf b = BUF_INIT;
	size_t i;
	int rc;

	if ((rc = gitproto_parse_v2(&v, req->arena, body, len, MAX_LINES)))
		return rc;
	buf_init(&b, 0);
	if (strcmp(v.command, "ls-refs") == 0) {
		if ((rc = dom_git_refs(&refs, &req->dom, asset_of(req), false)) ||
		    (rc = ls_refs(&b, &v, &refs)))
			goto out;
		return reply_buf(req, ctype, &b);
	}
	fetch_in(&in, &v.fetch);
	rc = dom_git_fetch(&fo, &req->dom, asset_of(req), &in);
	if (rc == OTCM_ENOTFOUND && err_field() && strcmp(err_field(), "want") == 0) {
		buf_release(&b);
		return reply_err(req, ctype, err_message());
	}
	if (rc)
		goto out;
	if (!v.fetch.done) {
		/* no "ready": the client sends "done" with its next request */
		if ((rc = gitproto_writef(&b, "acknowledgments\n")))
			goto out;
		for (i = 0; i < fo.ncommon && rc == 0; i++)
			rc = gitproto_writef(&b, "ACK %s\n", fo.common[i]);
		if (rc == 0 && fo.ncommon == 0)
			rc = gitproto_writef(&b, "NAK\n");
		if (rc || (rc = gitproto_flush(&b)))
			goto out;
		return reply_buf(req, ctype, &b);
	}
	if (v.fetch.depth) {
		if ((rc = gitproto_writef(&b, "shallow-info\n")))
			goto out;
		for (i = 0; i < fo.nshallow && rc == 0; i++)
			rc = gitproto_writef(&b, "shallow %s\n", fo.shallow[i]);
		for (i = 0; i < fo.nunshallow && rc == 0; i++)
			rc = gitproto_writef(&b, "unshallow %s\n", fo.unshallow[i]);
		if (rc || (rc = gitproto_delim(&b)))
			goto out;
	}
	if ((rc = gitproto_writef(&b, "packfile\n")))
		goto out;
	return reply_pack(req, ctype, &b, &fo, true, !v.fetch.no_progress);
out:
	buf_release(&b);
	return rc;
}

int h_git_upload_pack(struct http_req *req)
{
	const char *body = NULL;
	size_t len = 0;
	int rc;

	if ((rc = body_of(&body, &len, req, "application/x-git-upload-pack-request")))
		return rc;
	return wants_v2(req) ? upload_v2(req, body, len) : upload_v0(req, body, len);
}

/* ---- push ---- */

/* The report git reads: "unpack ok", then "ok <ref>" or "ng <ref> <reason>" per update. */
static int report(struct buf *out, const struct gitproto_push *p, const struct dom_git_update *u,
		  const char *unpack_error)
{
	struct buf r = BUF_INIT, msgs = BUF_INIT;
	size_t i;
	int rc;

	buf_init(&r, 0);
	buf_init(&msgs, 0);
	if (unpack_error)
		rc = gitproto_writef(&r, "unpack %.200s\n", unpack_error);
	else
		rc = gitproto_writef(&r, "unpack ok\n");
	for (i = 0; i < p->ncmds && rc == 0; i++) {
		if (unpack_error)
			rc = gitproto_writef(&r, "ng %s unpacker error\n", p->cmds[i].ref);
		else if (u[i].refused)
			rc = gitproto_writef(&r, "ng %s %s\n", p->cmds[i].ref, u[i].refused);
		else
			rc = gitproto_writef(&r, "ok %s\n", p->cmds[i].ref);
		if (rc == 0 && !unpack_error && u[i].message)
			rc = buf_addf(&msgs, "%s\n", u[i].message);
	}
	if (rc == 0 && unpack_error)
		rc = buf_addf(&msgs, "%s\n", unpack_error);
	if (rc == 0)
		rc = gitproto_flush(&r);
	if (rc)
		goto out;
	if (p->side_band_64k) {
		if ((msgs.len && (rc = gitproto_band(out, 2, msgs.data, msgs.len))) ||
		    (p->report_status && (rc = gitproto_band(out, 1, r.data, r.len))) ||
		    (rc = gitproto_flush(out)))
			goto out;
	} else if (p->report_status) {
		rc = buf_add(out, r.data, r.len);
	}
out:
	buf_release(&r);
	buf_release(&msgs);
	return rc;
}

int h_git_receive_pack(struct http_req *req)
{
	static const char ctype[] = "application/x-git-receive-pack-result";
	struct gitproto_push p;
	struct dom_git_update *u;
	struct buf b = BUF_INIT;
	const char *body = NULL, *unpack_error = NULL;
	size_t len = 0, i;
	int rc;

	if ((rc = body_of(&body, &len, req, "application/x-git-receive-pack-request")) ||
	    (rc = gitproto_parse_receive(&p, req->arena, body, len, MAX_COMMANDS)))
		return rc;
	if (p.ncmds == 0) {
		/* git's probe before a chunked body: credentials and route are good */
		no_cache(req);
		return http_reply_bytes(req, 200, ctype, "", 0);
	}
	u = arena_alloc(req->arena, (p.ncmds + 1) * sizeof(*u));
	memset(u, 0, (p.ncmds + 1) * sizeof(*u));
	for (i = 0; i < p.ncmds; i++) {
		u[i].ref = p.cmds[i].ref;
		u[i].old = p.cmds[i].old;
		u[i].new_ = p.cmds[i].new_;
	}
	rc = dom_git_push(&req->dom, asset_of(req), u, p.ncmds, p.pack, p.pack_len, p.atomic);
	if ((rc == OTCM_EINVAL || rc == OTCM_ETOOBIG) && err_field() && strcmp(err_field(), "pack") == 0) {
		unpack_error = arena_strdup(req->arena, err_message());
		rc = 0;
	}
	if (rc)
		return rc;
	buf_init(&b, 0);
	if ((rc = report(&b, &p, u, unpack_error))) {
		buf_release(&b);
		return rc;
	}
	return reply_buf(req, ctype, &b);
}
