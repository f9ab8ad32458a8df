/*
 * domain/bundle.c - the evidence bundle's format: the file set, sealing
 * and writing it, reading it back and verifying it offline; see bundle.h
 * and docs/evidence.md.
 *
 * The tar is written and read through core/tar.h and the git bundles are
 * read by storage/gitbundle.h: no external library but jansson is used
 * here, and no database.
 */
#include "domain/bundle.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dsse.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/merkle.h"
#include "core/signednote.h"
#include "core/tar.h"
#include "core/timeutil.h"
#include "domain/checklist.h"
#include "domain/incidents.h"
#include "storage/gitbundle.h"

#define BUNDLE_MAX_FILES 10000
#define BUNDLE_MAX_FILE ((size_t)256 << 20)
#define BUNDLE_MAX_TOTAL ((size_t)1 << 30)

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* ---- the set of files ---- */

void bundle_files_release(struct bundle_files *fs)
{
	size_t i;

	for (i = 0; i < fs->n; i++) {
		free(fs->v[i].name);
		free(fs->v[i].data);
	}
	free(fs->v);
	memset(fs, 0, sizeof(*fs));
}

void bundle_files_take(struct bundle_files *fs, const char *name, char *data, size_t len)
{
	if (fs->n == fs->alloc) {
		fs->alloc = fs->alloc ? 2 * fs->alloc : 64;
		fs->v = xrealloc(fs->v, fs->alloc * sizeof(*fs->v));
	}
	fs->v[fs->n].name = xstrdup(name);
	fs->v[fs->n].data = data;
	fs->v[fs->n].len = len;
	fs->n++;
}

void bundle_files_add(struct bundle_files *fs, const char *name, const void *data, size_t len)
{
	char *copy = xmalloc(len + 1);

	memcpy(copy, data, len);
	copy[len] = '\0';
	bundle_files_take(fs, name, copy, len);
}

void bundle_files_add_json(struct bundle_files *fs, const char *name, const json_t *v)
{
	char *text = json_dumps(v, JSON_INDENT(1) | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	size_t len;

	if (!text)
		text = xstrdup("null");
	len = strlen(text);
	text = xrealloc(text, len + 2);
	text[len] = '\n';
	text[len + 1] = '\0';
	bundle_files_take(fs, name, text, len + 1);
}

const struct bundle_file *bundle_files_get(const struct bundle_files *fs, const char *name)
{
	size_t i;

	for (i = 0; i < fs->n; i++)
		if (strcmp(fs->v[i].name, name) == 0)
			return &fs->v[i];
	return NULL;
}

static int file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct bundle_file *)a)->name, ((const struct bundle_file *)b)->name);
}

/* ---- the tar ---- */

/* A name inside a bundle: relative, no empty, "." or ".." segment, printable. */
static bool name_ok(const char *n)
{
	const char *s = n;

	if (!*n || *n == '/' || strlen(n) > 1024)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '\\')
			return false;
	for (s = n; *s;) {
		size_t l = strcspn(s, "/");

		if (l == 0 || (l == 1 && s[0] == '.') || (l == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		s += l;
		if (*s == '/')
			s++;
		if (!*s && s[-1] == '/')
			return false;
	}
	return true;
}

int bundle_read(struct bundle_files *out, const void *data, size_t len)
{
	struct tar_reader *t = NULL;
	const char *name;
	enum tar_type type;
	int64_t size;
	size_t total = 0;
	int rc;

	if ((rc = tar_reader_open(&t, data, len)))
		return rc;
	while ((rc = tar_reader_next(t, &name, &type, &size)) == 1) {
		char *buf;

		if (type == TAR_DIR)
			continue;
		if (!name || !name_ok(name)) {
			rc = err_set(OTCM_EINVAL, NULL, "bad entry name '%.200s'", name ? name : "");
			goto out;
		}
		if (type != TAR_FILE) {
			rc = err_set(OTCM_EINVAL, NULL, "entry '%.200s' is not a regular file", name);
			goto out;
		}
		if (size < 0 || (uint64_t)size > BUNDLE_MAX_FILE || total + (size_t)size > BUNDLE_MAX_TOTAL ||
		    out->n >= BUNDLE_MAX_FILES) {
			rc = err_set(OTCM_ETOOBIG, NULL, "entry '%.200s' exceeds the bundle limits", name);
			goto out;
		}
		if (bundle_files_get(out, name)) {
			rc = err_set(OTCM_EINVAL, NULL, "entry '%.200s' appears twice", name);
			goto out;
		}
		buf = xmalloc((size_t)size + 1);
		if (tar_reader_data(t, buf, (size_t)size)) {
			free(buf);
			rc = err_set(OTCM_EINVAL, NULL, "entry '%.200s' is truncated", name);
			goto out;
		}
		buf[size] = '\0';
		total += (size_t)size;
		bundle_files_take(out, name, buf, (size_t)size);
	}
out:
	tar_reader_free(t);
	return rc;
}

/* Write the files, sorted by name, as the bundle's tar. */
static int bundle_write(struct buf *out, struct bundle_files *fs, int64_t mtime)
{
	struct tar_entry *e = xcalloc(fs->n + 1, sizeof(*e));
	size_t i;
	int rc;

	qsort(fs->v, fs->n, sizeof(*fs->v), file_cmp);
	for (i = 0; i < fs->n; i++) {
		e[i].name = fs->v[i].name;
		e[i].data = fs->v[i].data;
		e[i].len = fs->v[i].len;
	}
	rc = tar_write(out, e, fs->n, mtime);
	if (rc == OTCM_ETOOBIG)
		rc = err_set(OTCM_ETOOBIG, NULL, "the evidence bundle is larger than allowed");
	free(e);
	return rc;
}

int bundle_seal(struct buf *out, struct bundle_files *fs, const struct crypto_ed25519_key *key,
		int64_t mtime)
{
	struct buf manifest = BUF_INIT;
	unsigned char pub[CRYPTO_ED25519_PUB_LEN], sig[CRYPTO_ED25519_SIG_LEN];
	char hex[2 * CRYPTO_SHA256_LEN + 1], *pem;
	size_t i;
	int rc;

	crypto_ed25519_public(pub, key);
	pem = crypto_ed25519_public_pem(pub);
	bundle_files_take(fs, "trust/server.pub", pem, strlen(pem));
	qsort(fs->v, fs->n, sizeof(*fs->v), file_cmp);
	for (i = 0; i < fs->n; i++) {
		crypto_sha256_hex(hex, fs->v[i].data, fs->v[i].len);
		if ((rc = buf_addf(&manifest, "%s  %s\n", hex, fs->v[i].name)))
			goto out;
	}
	if ((rc = crypto_ed25519_sign(sig, key, manifest.data, manifest.len)))
		goto out;
	bundle_files_add(fs, "MANIFEST.sha256", manifest.data, manifest.len);
	bundle_files_add(fs, "MANIFEST.sha256.sig", sig, sizeof(sig));
	rc = bundle_write(out, fs, mtime);
out:
	buf_release(&manifest);
	return rc;
}

/* ---- the verifier ---- */

struct vctx {
	struct buf *rep;
	unsigned failed;
	const struct bundle_files *fs;
	unsigned char pub[CRYPTO_ED25519_PUB_LEN];
	const char *key;             /* the change's key (change.json) or the incident's (incident.json) */
	const char *kind;            /* "change" or "incident": whose bundle, the statements' key field */
	json_t *change;
	json_t *incident;            /* incident.json of an incident's bundle, else NULL */
	json_t *bundles;             /* {asset path: {commit: tree}} */
	json_t *listed;              /* {name: true} of every file the manifest lists */
};

static void say(struct vctx *v, const char *tag, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void say(struct vctx *v, const char *tag, const char *fmt, va_list ap)
{
	buf_adds(v->rep, tag);
	buf_vaddf(v->rep, fmt, ap);
	buf_addch(v->rep, '\n');
}

static void ok(struct vctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ok(struct vctx *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(v, "ok    ", fmt, ap);
	va_end(ap);
}

static void fail(struct vctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct vctx *v, const char *fmt, ...)
{
	va_list ap;

	v->failed++;
	va_start(ap, fmt);
	say(v, "FAIL  ", fmt, ap);
	va_end(ap);
}

static void skip(struct vctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void skip(struct vctx *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(v, "skip  ", fmt, ap);
	va_end(ap);
}

static bool is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[n] == '\0' || s[n] == ' ' || s[n] == '\n';
}

static json_t *parse_json(const struct bundle_file *f)
{
	return f ? json_loadb(f->data, f->len, JSON_REJECT_DUPLICATES, NULL) : NULL;
}

static void check_manifest(struct vctx *v)
{
	const struct bundle_file *m = bundle_files_get(v->fs, "MANIFEST.sha256");
	const struct bundle_file *s = bundle_files_get(v->fs, "MANIFEST.sha256.sig");
	json_t *listed = json_object();
	const char *p, *end;
	char hex[2 * CRYPTO_SHA256_LEN + 1];
	unsigned bad = v->failed;
	size_t i;

	if (!m || !s) {
		fail(v, "manifest: MANIFEST.sha256 or MANIFEST.sha256.sig is missing");
		goto out;
	}
	if (s->len != CRYPTO_ED25519_SIG_LEN ||
	    crypto_ed25519_verify(v->pub, m->data, m->len, (const unsigned char *)s->data))
		fail(v, "manifest signature: MANIFEST.sha256.sig is not the key's signature of MANIFEST.sha256");
	else
		ok(v, "manifest signature verifies");
	for (p = m->data, end = m->data + m->len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		char *name;
		const struct bundle_file *f;

		if (!nl || nl - p < 67 || !is_hex(p, 64) || p[64] != ' ' || p[65] != ' ') {
			fail(v, "manifest: malformed line %.80s", p);
			break;
		}
		name = xstrndup(p + 66, (size_t)(nl - p - 66));
		f = bundle_files_get(v->fs, name);
		if (!f || !strcmp(name, "MANIFEST.sha256") || !strcmp(name, "MANIFEST.sha256.sig")) {
			fail(v, "manifest: %s is listed but missing from the bundle", name);
		} else {
			crypto_sha256_hex(hex, f->data, f->len);
			if (memcmp(hex, p, 64))
				fail(v, "manifest: %s was changed (its SHA-256 is not the one listed)", name);
		}
		json_object_set_new(listed, name, json_true());
		free(name);
		p = nl + 1;
	}
	for (i = 0; i < v->fs->n; i++) {
		const char *n = v->fs->v[i].name;

		if (strcmp(n, "MANIFEST.sha256") && strcmp(n, "MANIFEST.sha256.sig") &&
		    !json_object_get(listed, n))
			fail(v, "manifest: %s is in the bundle but not in the manifest (added)", n);
	}
	if (v->failed == bad) {
		crypto_sha256_hex(hex, m->data, m->len);
		ok(v, "manifest: all %zu files are listed and match; SHA-256 of MANIFEST.sha256 %s",
		   json_object_size(listed), hex);
	}
out:
	json_decref(v->listed);
	v->listed = listed;
}

/* The checkpoint's signature; *out_size and out_root from its body. */
static bool check_checkpoint(struct vctx *v, uint64_t *out_size, merkle_hash out_root)
{
	const struct bundle_file *f = bundle_files_get(v->fs, "audit/checkpoint");
	struct signednote *note = NULL;
	char *origin = NULL;
	bool good = false;

	if (!f) {
		fail(v, "checkpoint: audit/checkpoint is missing");
		return false;
	}
	if (signednote_parse(&note, f->data, f->len) ||
	    signednote_checkpoint_parse(&origin, out_size, out_root, note->text)) {
		fail(v, "checkpoint: audit/checkpoint is not a signed checkpoint: %s", err_message());
		goto out;
	}
	if (signednote_verify(note, origin, v->pub)) {
		fail(v, "checkpoint: the signature of %s over tree size %" PRIu64 " does not verify",
		     origin, *out_size);
		goto out;
	}
	ok(v, "checkpoint: %s, tree size %" PRIu64 ", signed by the key", origin, *out_size);
	good = true;
out:
	free(origin);
	signednote_free(note);
	return good;
}

static bool unhex32(merkle_hash out, const json_t *s)
{
	return json_is_string(s) && strlen(json_string_value(s)) == 64 &&
	       crypto_unhex(out, 32, json_string_value(s)) == 0;
}

/* Does incident.json link audit event `seq`? */
static bool linked(struct vctx *v, json_int_t seq)
{
	const json_t *l;
	char ref[24];
	size_t i;

	snprintf(ref, sizeof(ref), "%" JSON_INTEGER_FORMAT, seq);
	json_array_foreach(json_object_get(v->incident, "links"), i, l)
		if (!strcmp(jstr(l, "kind"), "audit_event") && !strcmp(jstr(l, "ref"), ref))
			return true;
	return false;
}

static void check_events(struct vctx *v)
{
	const struct bundle_file *ev = bundle_files_get(v->fs, "audit/events.jsonl");
	json_t *proofs = parse_json(bundle_files_get(v->fs, "audit/proofs.json")), *list, *p;
	merkle_hash root, prev, want, got, leaf, *path = NULL;
	uint64_t size = 0;
	const char *line, *end;
	unsigned bad = v->failed;
	size_t i = 0, j;

	if (!check_checkpoint(v, &size, root))
		skip(v, "events: no trusted checkpoint to prove them against");
	list = json_object_get(proofs, "events");
	if (!ev || !json_is_array(list)) {
		fail(v, "events: audit/events.jsonl or audit/proofs.json is missing or malformed");
		goto out;
	}
	for (line = ev->data, end = ev->data + ev->len; line < end; i++) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t len = nl ? (size_t)(nl - line) : (size_t)(end - line);
		struct crypto_sha256_ctx *h;
		json_t *e = json_loadb(line, len, 0, NULL), *pr;
		json_int_t seq = json_integer_value(json_object_get(e, "seq"));
		const char *otype = json_string_value(json_object_get(e, "object_type"));
		const char *oid = json_string_value(json_object_get(e, "object_id"));
		size_t plen;

		p = json_array_get(list, i);
		pr = json_object_get(p, "proof");
		if (!e || seq <= 0 || !p || json_integer_value(json_object_get(p, "seq")) != seq) {
			fail(v, "event line %zu: not an event, or its proof is not for it", i + 1);
			goto next;
		}
		if (otype && oid && !strcmp(otype, v->kind) && v->key && strcmp(oid, v->key) &&
		    !(v->incident && linked(v, seq)))
			fail(v, "event %" JSON_INTEGER_FORMAT ": it is about %s, not %s", seq, oid, v->key);
		else if (v->incident && !(otype && oid && !strcmp(otype, "incident")) && !linked(v, seq))
			fail(v, "event %" JSON_INTEGER_FORMAT ": it is neither about %s nor linked by it", seq,
			     v->key ? v->key : "the incident");
		if (!unhex32(prev, json_object_get(p, "prev_hash")) ||
		    !unhex32(want, json_object_get(p, "event_hash")) || !json_is_array(pr) ||
		    json_array_size(pr) > MERKLE_MAX_PROOF) {
			fail(v, "event %" JSON_INTEGER_FORMAT ": malformed proof", seq);
			goto next;
		}
		h = crypto_sha256_new();
		crypto_sha256_update(h, prev, sizeof(prev));
		crypto_sha256_update(h, line, len);
		crypto_sha256_final(got, h);
		if (memcmp(got, want, sizeof(got))) {
			fail(v, "event %" JSON_INTEGER_FORMAT ": it was edited (its hash is not the recorded one)", seq);
			goto next;
		}
		if (!size)
			goto next;
		plen = json_array_size(pr);
		path = xcalloc(plen + 1, sizeof(merkle_hash));
		for (j = 0; j < plen; j++)
			if (!unhex32(path[j], json_array_get(pr, j)))
				break;
		merkle_leaf_hash(leaf, want, sizeof(want));
		if (j < plen || json_integer_value(json_object_get(p, "leaf_index")) != seq - 1 ||
		    merkle_inclusion_verify((uint64_t)seq - 1, size, leaf, (const merkle_hash *)path, plen, root))
			fail(v, "event %" JSON_INTEGER_FORMAT ": not included in the checkpoint of size %" PRIu64,
			     seq, size);
		free(path);
		path = NULL;
next:
		json_decref(e);
		line += len + 1;
	}
	if (i != json_array_size(list))
		fail(v, "events: %zu events but %zu proofs (an event was added or removed)", i,
		     json_array_size(list));
	if (v->failed == bad)
		ok(v, "events: %zu events hash to their recorded hashes and are included in the checkpoint", i);
out:
	free(path);
	json_decref(proofs);
}

static void check_git(struct vctx *v)
{
	size_t i;

	for (i = 0; i < v->fs->n; i++) {
		const struct bundle_file *f = &v->fs->v[i];
		size_t n = strlen(f->name);
		struct gitbundle *gb = NULL;
		json_t *commits = NULL;
		char *asset;

		if (strncmp(f->name, "git/", 4) || n < 12 || strcmp(f->name + n - 7, ".bundle"))
			continue;
		asset = xstrndup(f->name + 4, n - 11);
		if (gitbundle_open(&gb, f->data, f->len) || gitbundle_commits(&commits, gb)) {
			fail(v, "git: %s does not read as a complete git bundle: %s", f->name, err_message());
		} else {
			ok(v, "git: %s holds %zu commits, no prerequisites", f->name, json_object_size(commits));
			json_object_set_new(v->bundles, asset, commits);
			commits = NULL;
		}
		free(asset);
		json_decref(commits);
		gitbundle_free(gb);
	}
}

/* Is (commit, tree) of `asset` in its bundle? */
static bool in_bundle(struct vctx *v, const char *asset, const char *commit, const char *tree)
{
	const char *t = json_string_value(json_object_get(json_object_get(v->bundles, asset ? asset : ""),
							  commit ? commit : ""));

	return t && tree && strcmp(t, tree) == 0;
}

/* The statement of file `name`, verified; NULL (and a failure) when it does not verify. */
static json_t *statement(struct vctx *v, const char *name, const char *ptype)
{
	const struct bundle_file *f = bundle_files_get(v->fs, name);
	char *payload = NULL;
	size_t len;
	json_t *st = NULL, *s;
	const json_t *pred;
	size_t i;

	if (!f) {
		fail(v, "statement: %s is missing", name);
		return NULL;
	}
	if (dsse_verify(&payload, &len, f->data, f->len, DSSE_INTOTO_TYPE, v->pub)) {
		fail(v, "statement: %s: its DSSE signature does not verify (%s)", name, err_message());
		goto out;
	}
	st = json_loadb(payload, len, JSON_REJECT_DUPLICATES, NULL);
	pred = json_object_get(st, "predicate");
	if (!st || strcmp(jstr(st, "_type"), DSSE_STATEMENT_V1) || strcmp(jstr(st, "predicateType"), ptype) ||
	    !json_is_object(pred)) {
		fail(v, "statement: %s is not an in-toto Statement v1 of type %s", name, ptype);
		goto bad;
	}
	if (!v->key || strcmp(jstr(pred, v->kind), v->key)) {
		fail(v, "statement: %s belongs to %s, not to %s", name, jstr(pred, v->kind),
		     v->key ? v->key : "this bundle's record");
		goto bad;
	}
	json_array_foreach(json_object_get(st, "subject"), i, s) {
		json_t *d = json_object_get(s, "digest");

		if (!json_object_get(d, "gitCommit"))
			continue;
		if (!in_bundle(v, jstr(s, "name"), jstr(d, "gitCommit"), jstr(d, "gitTree"))) {
			fail(v, "statement: %s names commit %.40s (tree %.40s) of %s, which is not in the git bundle",
			     name, jstr(d, "gitCommit"), jstr(d, "gitTree"), jstr(s, "name"));
			goto bad;
		}
	}
	goto out;
bad:
	json_decref(st);
	st = NULL;
out:
	free(payload);
	return st;
}

static void check_statements(struct vctx *v)
{
	json_t *x, *st, *seen = json_object();
	const json_t *pred;
	char name[96];
	unsigned bad = v->failed;
	size_t i;

	json_array_foreach(json_object_get(v->change, "signatures"), i, x) {
		snprintf(name, sizeof(name), "statements/signature-%" JSON_INTEGER_FORMAT ".dsse.json",
			 json_integer_value(json_object_get(x, "id")));
		json_object_set_new(seen, name, json_true());
		if (!(st = statement(v, name, BUNDLE_PRED_SIGNATURE)))
			continue;
		pred = json_object_get(st, "predicate");
		if (strcmp(jstr(pred, "content_sha256"), jstr(x, "content_sha256")) ||
		    strcmp(jstr(pred, "meaning"), jstr(x, "meaning")) ||
		    strcmp(jstr(pred, "signer"), jstr(x, "signer")) ||
		    strcmp(jstr(pred, "signed_at"), jstr(x, "signed_at")))
			fail(v, "statement: %s does not match signature %" JSON_INTEGER_FORMAT " of change.json",
			     name, json_integer_value(json_object_get(x, "id")));
		json_decref(st);
	}
	json_array_foreach(json_object_get(v->change, "test_runs"), i, x) {
		json_t *sub;

		snprintf(name, sizeof(name), "statements/run-%" JSON_INTEGER_FORMAT ".dsse.json",
			 json_integer_value(json_object_get(x, "id")));
		json_object_set_new(seen, name, json_true());
		if (!(st = statement(v, name, BUNDLE_PRED_RUN)))
			continue;
		pred = json_object_get(st, "predicate");
		sub = json_object_get(json_array_get(json_object_get(st, "subject"), 0), "digest");
		if (strcmp(jstr(sub, "gitTree"), jstr(x, "tree")) ||
		    !json_equal(json_object_get(pred, "verdict"), json_object_get(x, "verdict")))
			fail(v, "statement: %s does not match run %" JSON_INTEGER_FORMAT " of change.json",
			     name, json_integer_value(json_object_get(x, "id")));
		json_decref(st);
	}
	json_array_foreach(json_object_get(v->change, "deployments"), i, x) {
		json_t *sub;

		snprintf(name, sizeof(name), "statements/deployment-%" JSON_INTEGER_FORMAT ".dsse.json",
			 json_integer_value(json_object_get(x, "id")));
		json_object_set_new(seen, name, json_true());
		if (!(st = statement(v, name, BUNDLE_PRED_DEPLOYMENT)))
			continue;
		pred = json_object_get(st, "predicate");
		sub = json_object_get(json_array_get(json_object_get(st, "subject"), 0), "digest");
		if (strcmp(jstr(sub, "gitTree"), jstr(x, "tree")) ||
		    strcmp(jstr(sub, "gitCommit"), jstr(x, "commit")) ||
		    strcmp(jstr(pred, "deployed_at"), jstr(x, "deployed_at")))
			fail(v, "statement: %s does not match deployment %" JSON_INTEGER_FORMAT " of change.json",
			     name, json_integer_value(json_object_get(x, "id")));
		json_decref(st);
	}
	for (i = 0; i < v->fs->n; i++)
		if (!strncmp(v->fs->v[i].name, "statements/", 11) && !json_object_get(seen, v->fs->v[i].name))
			fail(v, "statement: %s is not about any signature, run or deployment of change.json",
			     v->fs->v[i].name);
	json_array_foreach(json_object_get(v->change, "versions"), i, x)
		if (!in_bundle(v, jstr(x, "path"), jstr(x, "commit"), jstr(x, "tree")))
			fail(v, "git: version %.40s of %s (change.json) is not in its git bundle",
			     jstr(x, "commit"), jstr(x, "path"));
	if (v->failed == bad)
		ok(v, "statements: %zu verify, match change.json and name bundled commits and trees",
		   json_object_size(seen));
	json_decref(seen);
}

/*
 * Each run's attachments: tests/run-ID.json is the run of change.json, and
 * every attachment it lists is a file under tests/run-ID/attachments/ that
 * the manifest lists, of the recorded size and SHA-256; no attachment file
 * is left that no run lists.
 */
static void check_attachments(struct vctx *v)
{
	json_t *seen = json_object(), *x, *a;
	unsigned bad = v->failed;
	char name[96], hex[2 * CRYPTO_SHA256_LEN + 1];
	size_t i, j, n = 0;

	json_array_foreach(json_object_get(v->change, "test_runs"), i, x) {
		json_int_t id = json_integer_value(json_object_get(x, "id"));
		json_t *run;
		char prefix[64];

		snprintf(name, sizeof(name), "tests/run-%" JSON_INTEGER_FORMAT ".json", id);
		snprintf(prefix, sizeof(prefix), "tests/run-%" JSON_INTEGER_FORMAT "/attachments/", id);
		run = parse_json(bundle_files_get(v->fs, name));
		if (!run || !json_equal(run, x)) {
			fail(v, "tests: %s is missing or is not run %" JSON_INTEGER_FORMAT " of change.json", name, id);
			json_decref(run);
			continue;
		}
		json_array_foreach(json_object_get(run, "attachments"), j, a) {
			const char *file = jstr(a, "file");
			const struct bundle_file *f = bundle_files_get(v->fs, file);
			json_t *size = json_object_get(a, "size");

			n++;
			if (strncmp(file, prefix, strlen(prefix)) || !f) {
				fail(v, "attachment %" JSON_INTEGER_FORMAT " of %s: its file %s is missing from the bundle",
				     json_integer_value(json_object_get(a, "id")), name, *file ? file : "(none)");
				continue;
			}
			json_object_set_new(seen, file, json_true());
			if (!json_object_get(v->listed, file))
				fail(v, "attachment %s is not in the manifest", file);
			crypto_sha256_hex(hex, f->data, f->len);
			if (strcmp(hex, jstr(a, "sha256")))
				fail(v, "attachment %s: its SHA-256 is not the one %s records", file, name);
			if (!json_is_integer(size) || (uint64_t)json_integer_value(size) != (uint64_t)f->len)
				fail(v, "attachment %s: %zu bytes, not the size %s records", file, f->len, name);
		}
		json_decref(run);
	}
	for (i = 0; i < v->fs->n; i++) {
		const char *fn = v->fs->v[i].name;

		if (!strncmp(fn, "tests/run-", 10) && strstr(fn, "/attachments/") && !json_object_get(seen, fn))
			fail(v, "attachment %s is not listed by any run", fn);
	}
	if (v->failed == bad)
		ok(v, "attachments: %zu files, each listed by its run with its size and SHA-256", n);
	json_decref(seen);
}

/* The change-process rules an auditor samples for, from change.json. */
static void check_policy(struct vctx *v)
{
	const json_t *c = v->change, *x, *appr = NULL;
	const char *type = jstr(c, "type"), *last_version = "";
	bool emergency = !strcmp(type, "emergency"), deployed = false;
	size_t i, j;

	json_array_foreach(json_object_get(c, "versions"), i, x)
		if (strcmp(jstr(x, "uploaded_at"), last_version) > 0)
			last_version = jstr(x, "uploaded_at");
	json_array_foreach(json_object_get(c, "signatures"), i, x)
		if (!strcmp(jstr(x, "meaning"), "approved") && !json_is_true(json_object_get(x, "stale")))
			appr = x;
	json_array_foreach(json_object_get(c, "deployments"), i, x)
		if (!json_is_false(json_object_get(x, "readback_match")))
			deployed = true;

	if (!appr) {
		if (deployed && !emergency)
			fail(v, "policy: deployed without an approval");
		else
			skip(v, "policy: the change has no current approval yet");
	} else {
		if (strcmp(jstr(appr, "signed_at"), last_version) > 0)
			ok(v, "policy: approved at %s, after the last version (%s)", jstr(appr, "signed_at"),
			   last_version);
		else
			fail(v, "policy: approved at %s, before the last version (%s)", jstr(appr, "signed_at"),
			     last_version);
		json_array_foreach(json_object_get(c, "versions"), i, x)
			if (!strcmp(jstr(x, "uploaded_by"), jstr(appr, "signer")))
				break;
		if (i < json_array_size(json_object_get(c, "versions")))
			fail(v, "policy: the approver %s uploaded a version of the change", jstr(appr, "signer"));
		else
			ok(v, "policy: the approver %s uploaded none of the versions", jstr(appr, "signer"));
	}
	if (!deployed) {
		skip(v, "policy: nothing was deployed yet");
		return;
	}
	json_array_foreach(json_object_get(c, "deployments"), i, x) {
		const json_t *r;
		bool tested = false;

		if (json_is_false(json_object_get(x, "readback_match")))
			continue;
		if (!emergency && appr && strcmp(jstr(x, "deployed_at"), jstr(appr, "signed_at")) < 0)
			fail(v, "policy: deployment %" JSON_INTEGER_FORMAT " at %s came before the approval",
			     json_integer_value(json_object_get(x, "id")), jstr(x, "deployed_at"));
		json_array_foreach(json_object_get(c, "test_runs"), j, r)
			if (!strcmp(jstr(json_object_get(r, "protocol"), "kind"), "fat") &&
			    !strcmp(jstr(r, "verdict"), "pass") && !strcmp(jstr(r, "tree"), jstr(x, "tree")) &&
			    json_equal(json_object_get(r, "asset_id"), json_object_get(x, "asset_id")))
				tested = true;
		if (tested)
			ok(v, "policy: deployed tree %.40s had a passed FAT", jstr(x, "tree"));
		else if (emergency)
			skip(v, "policy: emergency deployment of tree %.40s without a passed FAT", jstr(x, "tree"));
		else
			fail(v, "policy: deployed tree %.40s is not a tree that passed FAT", jstr(x, "tree"));
	}
	if (emergency) {
		const char *due = jstr(c, "retrospective_approval_due");

		if (appr && *due && strcmp(jstr(appr, "signed_at"), due) <= 0)
			ok(v, "policy: emergency change approved at %s, within its deadline %s",
			   jstr(appr, "signed_at"), due);
		else if (json_is_true(json_object_get(c, "overdue")) || appr)
			fail(v, "policy: emergency change not approved within its deadline %s", due);
		else
			skip(v, "policy: emergency change awaits its retrospective approval, due %s", due);
	}
}

/*
 * An incident's bundle: every report listed in incident.json is a file
 * under reports/ of the recorded size and SHA-256 and no other file is
 * there; every review has its verified statement and no other statement
 * is there; the deadlines are the ones its records give as of
 * deadlines_as_of (domain/incidents.h), each printed.
 */
static void check_incident(struct vctx *v)
{
	const json_t *inc = v->incident, *x, *pred, *stored = json_object_get(inc, "deadlines");
	json_t *seen = json_object(), *st, *mine = NULL;
	char name[96], hex[2 * CRYPTO_SHA256_LEN + 1], norm[TIME_RFC3339_INPUT_LEN];
	unsigned bad = v->failed;
	int64_t as_of = 0;
	size_t i;

	json_array_foreach(json_object_get(inc, "reports"), i, x) {
		const char *file = jstr(x, "file");
		const struct bundle_file *f = bundle_files_get(v->fs, file);
		const json_t *size = json_object_get(x, "size");

		if (strncmp(file, "reports/", 8) || strchr(file + 8, '/') || !f) {
			fail(v, "report %" JSON_INTEGER_FORMAT ": its document %s is missing from the bundle",
			     json_integer_value(json_object_get(x, "id")), *file ? file : "(none)");
			continue;
		}
		json_object_set_new(seen, file, json_true());
		crypto_sha256_hex(hex, f->data, f->len);
		if (strcmp(hex, jstr(x, "sha256")))
			fail(v, "report %s: its SHA-256 is not the one incident.json records", file);
		if (!json_is_integer(size) || (uint64_t)json_integer_value(size) != (uint64_t)f->len)
			fail(v, "report %s: %zu bytes, not the size incident.json records", file, f->len);
	}
	json_array_foreach(json_object_get(inc, "reviews"), i, x) {
		snprintf(name, sizeof(name), "statements/review-%" JSON_INTEGER_FORMAT ".dsse.json",
			 json_integer_value(json_object_get(x, "id")));
		json_object_set_new(seen, name, json_true());
		if (!(st = statement(v, name, BUNDLE_PRED_REVIEW)))
			continue;
		pred = json_object_get(st, "predicate");
		if (strcmp(jstr(pred, "content_sha256"), jstr(x, "content_sha256")) ||
		    strcmp(jstr(pred, "meaning"), jstr(x, "meaning")) || strcmp(jstr(pred, "signer"), jstr(x, "signer")) ||
		    strcmp(jstr(pred, "signed_at"), jstr(x, "signed_at")))
			fail(v, "statement: %s does not match review %" JSON_INTEGER_FORMAT " of incident.json", name,
			     json_integer_value(json_object_get(x, "id")));
		json_decref(st);
	}
	for (i = 0; i < v->fs->n; i++) {
		const char *fn = v->fs->v[i].name;

		if ((!strncmp(fn, "reports/", 8) || !strncmp(fn, "statements/", 11)) && !json_object_get(seen, fn))
			fail(v, "%s is not about any report or review of incident.json", fn);
		else if (!strncmp(fn, "git/", 4) || !strncmp(fn, "tests/", 6) || !strcmp(fn, "change.json"))
			fail(v, "%s does not belong in an incident's bundle", fn);
	}
	if (v->failed == bad)
		ok(v, "reports and reviews: %zu documents of the recorded size and SHA-256, %zu signed reviews",
		   json_array_size(json_object_get(inc, "reports")), json_array_size(json_object_get(inc, "reviews")));

	if (!time_parse_rfc3339(&as_of, norm, jstr(inc, "deadlines_as_of")) ||
	    dom_incident_deadlines(&mine, inc, as_of)) {
		fail(v, "deadlines: incident.json has no readable deadlines_as_of");
		goto out;
	}
	json_array_foreach(mine, i, x)
		buf_addf(v->rep, "%-6s%s (%s) due %s: %s%s%s\n", jstr(x, "status"), jstr(x, "obligation"),
			 jstr(x, "article"), json_is_string(json_object_get(x, "due_at")) ? jstr(x, "due_at") : "not yet known",
			 jstr(x, "basis"), json_is_string(json_object_get(x, "sent_at")) ? "; sent " : "",
			 jstr(x, "sent_at"));
	if (!json_equal(stored, mine))
		fail(v, "deadlines: the deadlines in incident.json are not the ones its records give");
	else
		ok(v, "deadlines: %zu, as of %s, are the ones its records give", json_array_size(mine),
		   jstr(inc, "deadlines_as_of"));
out:
	json_decref(mine);
	json_decref(seen);
}

/*
 * The control checklist: decided again from the bundle's own records
 * (change.json without its checklist, audit/events.jsonl,
 * audit/proofs.json and audit/checkpoint) by the function the server used, printed control by
 * control, and refused when change.json's stored checklist differs.
 */
static void check_checklist(struct vctx *v)
{
	const struct bundle_file *events = bundle_files_get(v->fs, "audit/events.jsonl");
	const struct bundle_file *cp = bundle_files_get(v->fs, "audit/checkpoint");
	struct checklist_records in;
	json_t *records = json_deep_copy(v->change), *proofs, *mine = NULL, *c;
	const json_t *stored = json_object_get(v->change, "checklist");
	size_t i, met = 0, notmet = 0, na = 0;

	proofs = parse_json(bundle_files_get(v->fs, "audit/proofs.json"));
	json_object_del(records, "checklist");
	in = (struct checklist_records){ records, events ? events->data : NULL, events ? events->len : 0, proofs,
					 cp ? cp->data : NULL, cp ? cp->len : 0 };
	if (checklist_compute(&mine, &in)) {
		fail(v, "checklist: %s", err_message());
		goto out;
	}
	json_array_foreach(mine, i, c) {
		const char *result = jstr(c, "result");

		if (!strcmp(result, CHECKLIST_MET))
			met++;
		else if (!strcmp(result, CHECKLIST_NA))
			na++;
		else
			notmet++;
		buf_addf(v->rep, "%-6s%zu. %s: %s\n", !strcmp(result, CHECKLIST_MET) ? "met" :
			 !strcmp(result, CHECKLIST_NA) ? "n/a" : "NOT", i + 1, jstr(c, "control"), jstr(c, "detail"));
	}
	if (!stored)
		fail(v, "checklist: change.json holds no checklist");
	else if (!json_equal(stored, mine))
		fail(v, "checklist: the checklist in change.json is not the one its records give");
	else
		ok(v, "checklist: %zu met, %zu not met, %zu not applicable; change.json's checklist is the one "
		   "its records give", met, notmet, na);
out:
	json_decref(mine);
	json_decref(proofs);
	json_decref(records);
}

int bundle_verify(struct buf *report, const void *tar, size_t len, const unsigned char *trusted)
{
	struct bundle_files fs = { 0 };
	struct vctx v;
	const struct bundle_file *pem;
	int rc;

	memset(&v, 0, sizeof(v));
	v.rep = report;
	v.fs = &fs;
	v.bundles = json_object();
	if (bundle_read(&fs, tar, len)) {
		fail(&v, "bundle: %s", err_message());
		goto out;
	}
	ok(&v, "bundle: a tar of %zu files", fs.n);
	pem = bundle_files_get(&fs, "trust/server.pub");
	if (trusted)
		memcpy(v.pub, trusted, sizeof(v.pub));
	if (!pem || crypto_ed25519_public_from_pem(trusted ? (unsigned char[CRYPTO_ED25519_PUB_LEN]){ 0 } : v.pub,
						   pem->data, pem->len)) {
		fail(&v, "key: trust/server.pub is missing or not an Ed25519 public key");
		if (!trusted)
			goto out;
	} else if (trusted) {
		unsigned char inbundle[CRYPTO_ED25519_PUB_LEN];

		crypto_ed25519_public_from_pem(inbundle, pem->data, pem->len);
		if (memcmp(inbundle, trusted, sizeof(inbundle)))
			fail(&v, "key: trust/server.pub is not the trusted key");
		else
			ok(&v, "key: trust/server.pub is the trusted key");
	} else {
		skip(&v, "key: using the bundle's own trust/server.pub; pin the server's key with --trust");
	}
	check_manifest(&v);
	if (bundle_files_get(&fs, "incident.json")) {
		/* an incident's bundle: the same format, its own record and checks */
		v.kind = "incident";
		v.incident = parse_json(bundle_files_get(&fs, "incident.json"));
		v.key = json_string_value(json_object_get(v.incident, "key"));
		if (!v.key || strncmp(v.key, "INC-", 4))
			fail(&v, "incident.json: missing or not an incident");
		else
			ok(&v, "incident.json: %s", v.key);
		check_events(&v);
		if (v.incident)
			check_incident(&v);
		goto out;
	}
	v.kind = "change";
	v.change = parse_json(bundle_files_get(&fs, "change.json"));
	v.key = json_string_value(json_object_get(v.change, "key"));
	if (!v.key)
		fail(&v, "change.json: missing or not a change");
	else
		ok(&v, "change.json: %s", v.key);
	check_events(&v);
	check_git(&v);
	check_statements(&v);
	check_attachments(&v);
	if (v.change) {
		check_policy(&v);
		check_checklist(&v);
	}
out:
	buf_addf(report, v.failed ? "FAILED: %u checks failed\n" : "verified: every check passed\n",
		 v.failed);
	rc = report->cap && report->len + 1 >= report->cap ? OTCM_ETOOBIG : v.failed ? OTCM_EAUTH : 0;
	json_decref(v.change);
	json_decref(v.incident);
	json_decref(v.bundles);
	json_decref(v.listed);
	bundle_files_release(&fs);
	return rc;
}
