/*
 * diff/registry.c - the list of formats and the engine's entry points:
 * decode both sides, detect the format by content, parse, compare the
 * trees, and fall back to a line diff (saying why) whenever a side cannot
 * be parsed.  See diff.h.
 */
#include "diff/diff.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "diff/formats.h"
#include "diff/model.h"

/*
 * Detection asks every format and keeps the highest score, so the order
 * only breaks ties.
 */
static const struct diff_format *const formats[] = {
	&diff_fmt_l5x,
	&diff_fmt_plcopen,
	&diff_fmt_twincat,
	&diff_fmt_batchml,
	&diff_fmt_tcsm,
	&diff_fmt_tmc,
	&diff_fmt_plcproj,
	&diff_fmt_xml,
	&diff_fmt_st,
	&diff_fmt_awl,
	&diff_fmt_csv,
	&diff_fmt_ini,
	&diff_fmt_json,
	&diff_fmt_sln,
	&diff_fmt_binary,
};

const struct diff_format *const *diff_formats(size_t *out_count)
{
	*out_count = sizeof(formats) / sizeof(formats[0]);
	return formats;
}

const struct diff_format *diff_format_find(const char *name)
{
	size_t n;
	const struct diff_format *const *f = diff_formats(&n);

	for (size_t i = 0; i < n; i++)
		if (!strcmp(f[i]->name, name))
			return f[i];
	return NULL;
}

struct diff_result {
	char *path;
	const char *format;
	bool has_old, has_new;
	bool parsed_old, parsed_new;
	char *fallback_reason;
	struct dchanges changes;
};

/*
 * One side: its bytes (a caller's buffer, or a source opened for as long as
 * they are needed) and its decoded text, which is what formats see (the raw
 * bytes when they look binary).  The text is a copy, or -- for a source,
 * whose bytes are followed by a NUL -- the bytes themselves when decoding
 * would not change them.
 */
struct side {
	const struct diff_source *src;   /* NULL: raw is the caller's buffer */
	bool open;                       /* src is open: raw is its bytes */
	bool decoded;                    /* text or view holds the text */
	int plain;                       /* a source's bytes need no decoding: -1 unknown, 0, 1 */
	size_t plain_skip;
	const char *plain_encoding;
	struct buf text;
	const char *view;                /* the text in place, or NULL */
	size_t view_len;
	const char *encoding;
	bool binary;
	const void *raw;
	size_t raw_len;
};

static void side_init(struct side *s, const struct diff_source *src, const void *data, size_t len)
{
	memset(s, 0, sizeof(*s));
	buf_init(&s->text, 0);
	s->src = src;
	s->raw = data;
	s->raw_len = len;
	s->plain = -1;
}

/* Decode a side's bytes (opening its source first), unless done already. */
static int side_load(struct side *s)
{
	int rc;

	if (s->src && !s->open) {
		if ((rc = s->src->open(s->src->ctx, &s->raw, &s->raw_len)))
			return rc;
		s->open = true;
		if (s->raw_len > DIFF_MAX_INPUT)
			return err_set(OTCM_ETOOBIG, NULL, "a file is larger than the diff limit of %zu bytes",
			               DIFF_MAX_INPUT);
	}
	if (s->decoded || !s->raw)
		return 0;
	s->decoded = true;
	/* every open gives the same bytes (diff_source): check them once */
	if (s->src && s->plain < 0)
		s->plain = diff_decode_plain(s->raw, s->raw_len, &s->plain_skip, &s->plain_encoding);
	if (s->src && s->plain) {
		s->encoding = s->plain_encoding;
		s->view = (const char *)s->raw + s->plain_skip;
		s->view_len = s->raw_len - s->plain_skip;
		return 0;
	}
	return diff_decode(&s->text, s->raw, s->raw_len, &s->encoding, &s->binary);
}

/* Give back a side's text, and its bytes when they come from a source. */
static void side_unload(struct side *s)
{
	buf_release(&s->text);
	s->view = NULL;
	s->decoded = false;
	s->binary = false;
	if (s->src && s->open) {
		s->src->close(s->src->ctx);
		s->open = false;
		s->raw = NULL;
		s->raw_len = 0;
	}
}

static const char *side_text(const struct side *s, size_t *len)
{
	if (s->binary) {
		*len = s->raw_len;
		return s->raw;
	}
	if (s->view) {
		*len = s->view_len;
		return s->view;
	}
	*len = s->text.len;
	return buf_cstr(&s->text);
}

static const struct diff_format *detect(const struct side *s, int *out_score)
{
	size_t n, len;
	const struct diff_format *const *f = diff_formats(&n), *best = NULL;
	const char *t = side_text(s, &len);
	int score = 0;

	for (size_t i = 0; i < n; i++) {
		int sc = f[i]->detect(t, len);

		if (sc > score) {
			score = sc;
			best = f[i];
		}
	}
	*out_score = score;
	return best;
}

/*
 * A file held in another one (an archive member), parsed as the engine
 * parses a file of its own: see diff_parse_file_fn in model.h.  Binary
 * formats are left out: an archive lists the archives it holds itself, and
 * other bytes have nothing to parse.
 */
static int parse_file(struct dnode **out, const struct diff_format **out_format,
                      const void *data, size_t len)
{
	struct side s;
	const struct diff_format *f = NULL;
	size_t n, tlen;
	const struct diff_format *const *fs = diff_formats(&n);
	const char *t;
	int rc, score = 0;

	*out = NULL;
	*out_format = NULL;
	side_init(&s, NULL, data, len);
	if ((rc = side_load(&s)))
		goto out;
	if (s.binary) {
		rc = err_set(OTCM_EMEDIA, NULL, "binary content");
		goto out;
	}
	t = side_text(&s, &tlen);
	for (size_t i = 0; i < n; i++) {
		int sc;

		if (fs[i] == &diff_fmt_binary || fs[i]->parse_nested)
			continue;
		sc = fs[i]->detect(t, tlen);
		if (sc > score) {
			score = sc;
			f = fs[i];
		}
	}
	if (!f) {
		rc = err_set(OTCM_EMEDIA, NULL, "format not recognised");
		goto out;
	}
	rc = f->parse(out, t, tlen);
	if (!rc && !*out)
		rc = err_set(OTCM_EINVAL, NULL, "%s parser gave no tree", f->name);
	if (rc) {
		dnode_free(*out);
		*out = NULL;
		goto out;
	}
	*out_format = f;
out:
	side_unload(&s);
	return rc;
}

/* A format read a side's text in place up to `upto`: its source may drop those bytes. */
static void side_consumed(void *ctx, size_t upto)
{
	const struct side *s = ctx;

	s->src->release(s->src->ctx, (size_t)(s->view - (const char *)s->raw) + upto);
}

/* Parse one side; on failure *reason receives the message. */
static int parse_side(struct dnode **out, const struct diff_format *f, const struct side *s,
                      const char *label, char **reason)
{
	size_t len;
	const char *t = side_text(s, &len);
	int rc;

	err_clear();
	if (f->parse_nested)
		rc = f->parse_nested(out, t, len, parse_file);
	else if (f->parse_consumed && s->view && s->src && s->src->release)
		rc = f->parse_consumed(out, t, len, side_consumed, (void *)s);
	else
		rc = f->parse(out, t, len);
	if (rc || !*out) {
		if (!*reason)
			*reason = xasprintf("%s file is not valid %s: %s", label, f->name,
			                    *err_message() ? err_message() : "parse failed");
		dnode_free(*out);
		*out = NULL;
		return rc ? rc : OTCM_EINVAL;
	}
	return 0;
}

/*
 * Parse one side present in the pair; a side that parsed gives its text back
 * at once (the tree holds what is compared, and a text fallback decodes
 * again), and a source its bytes, so the old side's are gone before the new
 * side is parsed.
 */
static int parse_present_side(struct dnode **out, bool *out_parsed, const struct diff_format *f,
                              struct side *s, const char *label, char **reason)
{
	int rc;

	*out_parsed = false;
	if ((rc = side_load(s)))
		return rc;
	*out_parsed = !parse_side(out, f, s, label, reason);
	if (*out_parsed)
		side_unload(s);
	return 0;
}

static int text_fallback(struct diff_result *r, struct side *o, struct side *n)
{
	struct buf patch = BUF_INIT;
	size_t lo = 0, ln = 0;
	const char *to, *tn;
	struct dchange *c;
	int rc;

	/* a side whose parse succeeded gave its text back (parse_present_side) */
	if (r->has_old && (rc = side_load(o)))
		return rc;
	if (r->has_new && (rc = side_load(n)))
		return rc;
	to = r->has_old ? side_text(o, &lo) : "";
	tn = r->has_new ? side_text(n, &ln) : "";
	r->format = "text";
	if (lo == ln && (!lo || !memcmp(to, tn, lo)))
		return 0;
	if (o->binary || n->binary) {
		char *a = r->has_old ? xasprintf("%zu bytes", o->raw_len) : NULL;
		char *b = r->has_new ? xasprintf("%zu bytes", n->raw_len) : NULL;

		r->changes.alloc = 1;
		r->changes.v = xcalloc(1, sizeof(*r->changes.v));
		c = &r->changes.v[r->changes.n++];
		c->path = xstrdup("");
		c->kind = !r->has_old ? DCHANGE_ADDED : !r->has_new ? DCHANGE_REMOVED : DCHANGE_MODIFIED;
		c->what = xstrdup("binary content");
		c->old_value = a;
		c->new_value = b;
		return 0;
	}
	(void)dtext_patch(&patch, r->has_old ? to : "", r->has_new ? tn : "");
	r->changes.alloc = 1;
	r->changes.v = xcalloc(1, sizeof(*r->changes.v));
	c = &r->changes.v[r->changes.n++];
	c->path = xstrdup("");
	c->kind = !r->has_old ? DCHANGE_ADDED : !r->has_new ? DCHANGE_REMOVED : DCHANGE_MODIFIED;
	c->what = xstrdup("text");
	c->patch = patch.data ? buf_detach(&patch, NULL) : NULL;
	return 0;
}

/* One side's parse, run on a thread of its own (parse_both). */
struct parse_job {
	const struct diff_format *f;
	struct side *s;
	const char *label;
	struct dnode *tree;
	bool parsed;
	char *reason;
	int rc;
};

static void *parse_job_run(void *arg)
{
	struct parse_job *j = arg;

	j->rc = parse_present_side(&j->tree, &j->parsed, j->f, j->s, j->label, &j->reason);
	err_clear();
	return NULL;
}

/*
 * Both sides at once, the old one on a second thread, when that costs no
 * memory: a format that reads its text once from start to end, from
 * sources that drop what was read (diff_source.release), so each side
 * holds only its tree, as it would one after the other.  0 with the
 * results as parse_present_side() gives them in order (the old side's
 * error or fallback reason first); 1 when this does not apply or no
 * thread could be started (nothing done).
 */
static int parse_both(struct diff_result *r, struct dnode **out_old, struct dnode **out_new,
                      int *out_rc, const struct diff_format *f, struct side *o, struct side *n)
{
	struct parse_job jo = { f, o, "old", NULL, false, NULL, 0 };
	struct parse_job jn = { f, n, "new", NULL, false, NULL, 0 };
	pthread_t t;

	if (!f->parse_consumed || f->parse_nested || !o->src || !n->src || !o->src->release ||
	    !n->src->release || o->plain != 1 || n->plain != 1)
		return 1;
	if (pthread_create(&t, NULL, parse_job_run, &jo))
		return 1;
	(void)parse_job_run(&jn);
	pthread_join(t, NULL);
	*out_rc = jo.rc ? jo.rc : jn.rc;
	r->parsed_old = jo.parsed;
	r->parsed_new = jn.parsed;
	r->fallback_reason = jo.reason ? jo.reason : jn.reason;
	if (jo.reason)
		free(jn.reason);
	*out_old = jo.tree;
	*out_new = jn.tree;
	return 0;
}

/*
 * Detect the format of a present side; a source gives its bytes back
 * afterwards (they are opened again to be parsed), a buffer keeps its text.
 */
static int detect_side(const struct diff_format **out, int *out_score, struct side *s)
{
	int rc;

	*out = NULL;
	*out_score = 0;
	if ((rc = side_load(s)))
		return rc;
	*out = detect(s, out_score);
	if (s->src)
		side_unload(s);
	return 0;
}

/* diff_compare() and diff_compare_sources(), on two sides set up by side_init(). */
static int compare(struct diff_result **out, const char *path, bool has_old, bool has_new,
                   struct side *o, struct side *n)
{
	struct diff_result *r = NULL;
	struct dnode *to = NULL, *tn = NULL;
	const struct diff_format *f = NULL, *fo = NULL, *fn = NULL;
	int rc = 0, so = 0, sn = 0;

	if (has_old && (rc = detect_side(&fo, &so, o)))
		goto out;
	if (has_new && (rc = detect_side(&fn, &sn, n)))
		goto out;
	r = xcalloc(1, sizeof(*r));
	r->path = xstrdup(path ? path : "");
	r->has_old = has_old;
	r->has_new = has_new;
	f = fn ? fn : fo;
	if (fo && fn && fo != fn && so > sn)
		f = fo;
	if (!f) {
		r->fallback_reason = xstrdup("format not recognised");
		rc = text_fallback(r, o, n);
		goto done;
	}
	r->format = f->name;
	if (r->has_old && r->has_new && !parse_both(r, &to, &tn, &rc, f, o, n)) {
		if (rc)
			goto done;
	} else {
		if (r->has_old &&
		    (rc = parse_present_side(&to, &r->parsed_old, f, o, "old", &r->fallback_reason)))
			goto done;
		if (r->has_new &&
		    (rc = parse_present_side(&tn, &r->parsed_new, f, n, "new", &r->fallback_reason)))
			goto done;
	}
	if (r->fallback_reason) {
		dnode_free(to);
		dnode_free(tn);
		to = tn = NULL;
		rc = text_fallback(r, o, n);
		r->format = f->name;
		goto done;
	}
	rc = dtree_diff(&r->changes, to, tn);
done:
	err_clear();
	if (!rc) {
		*out = r;
		r = NULL;
	}
	dnode_free(to);
	dnode_free(tn);
	diff_result_free(r);
out:
	side_unload(o);
	side_unload(n);
	return rc;
}

int diff_compare(struct diff_result **out, const char *path,
                 const void *old, size_t old_len,
                 const void *new_data, size_t new_len)
{
	struct side o, n;

	if (!out)
		return err_set(OTCM_EINVAL, NULL, "no result pointer");
	*out = NULL;
	if ((old && old_len > DIFF_MAX_INPUT) || (new_data && new_len > DIFF_MAX_INPUT))
		return err_set(OTCM_ETOOBIG, NULL, "file '%s' is larger than the diff limit of %zu bytes",
		               path ? path : "", DIFF_MAX_INPUT);
	side_init(&o, NULL, old, old_len);
	side_init(&n, NULL, new_data, new_len);
	return compare(out, path, old != NULL, new_data != NULL, &o, &n);
}

int diff_compare_sources(struct diff_result **out, const char *path,
                         const struct diff_source *old, const struct diff_source *new_src)
{
	struct side o, n;

	if (!out)
		return err_set(OTCM_EINVAL, NULL, "no result pointer");
	*out = NULL;
	side_init(&o, old, NULL, 0);
	side_init(&n, new_src, NULL, 0);
	return compare(out, path, old != NULL, new_src != NULL, &o, &n);
}

int diff_textconv(struct buf *out, const char *path, const void *data, size_t len)
{
	struct side s;
	struct dnode *t = NULL;
	const struct diff_format *f;
	char *reason = NULL;
	int rc, score = 0;

	if (len > DIFF_MAX_INPUT)
		return err_set(OTCM_ETOOBIG, NULL, "file '%s' is larger than the diff limit of %zu bytes",
		               path ? path : "", DIFF_MAX_INPUT);
	side_init(&s, NULL, data ? data : "", data ? len : 0);
	if ((rc = side_load(&s)))
		goto out;
	f = detect(&s, &score);
	if (f && !parse_side(&t, f, &s, "the", &reason)) {
		rc = dtree_render(out, t);
	} else if (s.binary) {
		rc = buf_addf(out, "binary content, %zu bytes\n", len);
	} else {
		rc = buf_add(out, s.text.data ? s.text.data : "", s.text.len);
	}
	err_clear();
out:
	free(reason);
	dnode_free(t);
	side_unload(&s);
	return rc;
}

const char *diff_result_format(const struct diff_result *r)
{
	return r->format ? r->format : "text";
}

size_t diff_result_count(const struct diff_result *r)
{
	return r->changes.n;
}

void diff_result_free(struct diff_result *r)
{
	if (!r)
		return;
	free(r->path);
	free(r->fallback_reason);
	dchanges_release(&r->changes);
	free(r);
}

const char *diff_result_path(const struct diff_result *r)
{
	return r->path;
}

const char *diff_result_fallback(const struct diff_result *r)
{
	return r->fallback_reason;
}

void diff_result_sides(const struct diff_result *r, bool *out_has_old, bool *out_has_new,
                       bool *out_parsed_old, bool *out_parsed_new)
{
	*out_has_old = r->has_old;
	*out_has_new = r->has_new;
	*out_parsed_old = r->parsed_old;
	*out_parsed_new = r->parsed_new;
}

const struct dchanges *diff_result_changes(const struct diff_result *r)
{
	return &r->changes;
}
