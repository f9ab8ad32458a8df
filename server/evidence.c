/*
 * server/evidence.c - building and verifying evidence bundles; see
 * evidence.h and docs/evidence.md.
 *
 * The tar is written and read through core/tar.h, the git bundles are
 * written by storage/repo.h (repo_bundle_write) and read back by
 * storage/gitbundle.h: no external library but jansson is used here.
 */
#include "server/evidence.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/dsse.h"
#include "core/err.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/merkle.h"
#include "core/signednote.h"
#include "core/tar.h"
#include "domain/version_diff.h"
#include "storage/changes.h"
#include "storage/runs.h"
#include "storage/checkpoint.h"
#include "storage/gitbundle.h"
#include "storage/repo.h"
#include "web/html.h"

#define EV_MAX_FILES 10000
#define EV_MAX_FILE ((size_t)256 << 20)
#define EV_MAX_TOTAL ((size_t)1 << 30)
#define EV_MAX_EVENTS 100000

#define PRED_SIGNATURE "urn:otcm:evidence:signature:v1"
#define PRED_RUN "urn:otcm:evidence:test-run:v1"
#define PRED_DEPLOYMENT "urn:otcm:evidence:deployment:v1"

/* ---- the set of files of a bundle ---- */

struct ev_file {
	char *name;
	char *data;          /* NUL-terminated copy */
	size_t len;
};

struct ev_files {
	struct ev_file *v;
	size_t n, alloc;
};

static void files_release(struct ev_files *fs)
{
	size_t i;

	for (i = 0; i < fs->n; i++) {
		free(fs->v[i].name);
		free(fs->v[i].data);
	}
	free(fs->v);
	memset(fs, 0, sizeof(*fs));
}

/* Add `name` taking ownership of `data` (malloc'd, len bytes plus a NUL). */
static void files_take(struct ev_files *fs, const char *name, char *data, size_t len)
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

static void files_add(struct ev_files *fs, const char *name, const void *data, size_t len)
{
	char *copy = xmalloc(len + 1);

	memcpy(copy, data, len);
	copy[len] = '\0';
	files_take(fs, name, copy, len);
}

/* A JSON value, pretty and with sorted keys, ending in a newline. */
static void files_add_json(struct ev_files *fs, const char *name, const json_t *v)
{
	char *text = json_dumps(v, JSON_INDENT(1) | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	size_t len;

	if (!text)
		text = xstrdup("null");
	len = strlen(text);
	text = xrealloc(text, len + 2);
	text[len] = '\n';
	text[len + 1] = '\0';
	files_take(fs, name, text, len + 1);
}

static const struct ev_file *files_get(const struct ev_files *fs, const char *name)
{
	size_t i;

	for (i = 0; i < fs->n; i++)
		if (strcmp(fs->v[i].name, name) == 0)
			return &fs->v[i];
	return NULL;
}

static int file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ev_file *)a)->name, ((const struct ev_file *)b)->name);
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

/* Read a tar (untrusted) into files: regular files only, checked names, bounded sizes. */
static int tar_read(struct ev_files *out, const void *data, size_t len)
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
		if (size < 0 || (uint64_t)size > EV_MAX_FILE || total + (size_t)size > EV_MAX_TOTAL ||
		    out->n >= EV_MAX_FILES) {
			rc = err_set(OTCM_ETOOBIG, NULL, "entry '%.200s' exceeds the bundle limits", name);
			goto out;
		}
		if (files_get(out, name)) {
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
		files_take(out, name, buf, (size_t)size);
	}
out:
	tar_reader_free(t);
	return rc;
}

/* Write the files, sorted by name, as the bundle's tar. */
static int bundle_write(struct buf *out, struct ev_files *fs, int64_t mtime)
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

/* ---- gathering the records of a change ---- */

/* Every version written on the change, oldest first, with its uploader. */
static int load_versions(json_t **out, struct db_conn *c, int64_t change_id)
{
	static const char sql[] =
		"SELECT coalesce(json_agg(json_build_object('asset_id', v.asset_id, 'path', a.path, "
		"'commit', v.commit_oid, 'tree', v.tree_oid, 'uploaded_by', u.username, 'uploaded_at', "
		"to_char(v.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')) "
		"ORDER BY v.id), '[]')::text FROM change_versions v JOIN assets a ON a.id = v.asset_id "
		"JOIN users u ON u.id = v.author_id WHERE v.change_id = $1";
	char id[24];
	const char *params[1] = { id };
	struct db_res *res = NULL;
	int rc;

	snprintf(id, sizeof(id), "%" PRId64, change_id);
	if ((rc = db_execv(&res, c, sql, 1, params)))
		return rc;
	*out = json_loads(db_res_get(res, 0, 0), 0, NULL);
	db_res_free(res);
	return *out ? 0 : err_set(OTCM_EINTERNAL, NULL, "cannot read the versions of a change");
}

/*
 * The audit events about a change, oldest first: the change itself, its
 * test runs and the versions written on it.  Evidence exports are events
 * of their own object type and are left out, so exporting does not change
 * the next export.  *out_at gets the newest event's time (seconds).
 */
static const char EVENTS_SQL[] =
	"SELECT e.seq, floor(extract(epoch FROM e.at))::bigint FROM audit_events e "
	"WHERE (e.object_type = 'change' AND e.object_id = $1) "
	"OR (e.object_type = 'test-run' AND e.object_id IN "
	"    (SELECT r.id::text FROM test_runs r WHERE r.change_id = $2)) "
	"OR (e.object_type = 'version' AND e.object_id IN "
	"    (SELECT v.commit_oid FROM change_versions v WHERE v.change_id = $2)) "
	"ORDER BY e.seq";

static int load_event_seqs(int64_t **out, size_t *out_n, int64_t *out_at, struct db_conn *c,
			   int64_t change_id)
{
	char key[32], id[24];
	const char *params[2] = { key, id };
	struct db_res *res = NULL;
	size_t i, n;
	int rc;

	snprintf(key, sizeof(key), "CHG-%" PRId64, change_id);
	snprintf(id, sizeof(id), "%" PRId64, change_id);
	if ((rc = db_execv(&res, c, EVENTS_SQL, 2, params)))
		return rc;
	n = db_res_rows(res);
	if (n > EV_MAX_EVENTS) {
		db_res_free(res);
		return err_set(OTCM_ETOOBIG, NULL, "change CHG-%" PRId64 " has too many events", change_id);
	}
	*out = xcalloc(n + 1, sizeof(int64_t));
	*out_at = 0;
	for (i = 0; i < n; i++) {
		(*out)[i] = strtoll(db_res_get(res, i, 0), NULL, 10);
		*out_at = strtoll(db_res_get(res, i, 1), NULL, 10);
	}
	*out_n = n;
	db_res_free(res);
	return 0;
}

int evidence_checkpoint_for(uint64_t *out, struct db_conn *c, const struct crypto_ed25519_key *key,
			    const char *origin, int64_t change_id)
{
	static const char sql[] =
		"SELECT tree_size FROM audit_checkpoints WHERE tree_size >= $1 ORDER BY tree_size LIMIT 1";
	struct checkpoint *cp = NULL;
	struct db_res *res = NULL;
	int64_t *seqs = NULL, at;
	size_t n = 0;
	char need[24];
	const char *params[1] = { need };
	bool made;
	int rc;

	if ((rc = load_event_seqs(&seqs, &n, &at, c, change_id)))
		goto out;
	if (n == 0) {
		rc = err_set(OTCM_ENOTFOUND, "key", "change CHG-%" PRId64 " has no audit events", change_id);
		goto out;
	}
	snprintf(need, sizeof(need), "%" PRId64, seqs[n - 1]);
	if ((rc = db_execv(&res, c, sql, 1, params)))
		goto out;
	if (db_res_rows(res)) {
		*out = strtoull(db_res_get(res, 0, 0), NULL, 10);
		goto out;
	}
	if ((rc = checkpoint_write(&cp, &made, c, key, origin)))
		goto out;
	*out = cp->tree_size;
out:
	checkpoint_free(cp);
	db_res_free(res);
	free(seqs);
	return rc;
}

/* "plant/line1/plc" of asset `id` in the change's affected assets, or "asset-<id>". */
static const char *asset_path(const json_t *full, json_int_t id, char *tmp, size_t n)
{
	json_t *a;
	size_t i;

	json_array_foreach(json_object_get(full, "affected_assets"), i, a)
		if (json_integer_value(json_object_get(a, "id")) == id)
			return json_string_value(json_object_get(a, "path"));
	snprintf(tmp, n, "asset-%" JSON_INTEGER_FORMAT, id);
	return tmp;
}

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* ---- attachments ---- */

/*
 * tests/run-<run>/attachments/<id>-<name>: the attachment's file name with
 * every byte but A-Z a-z 0-9 . _ - replaced by '_', at most 100 bytes; the
 * id in front keeps names unique and never lets one start with '.'.
 */
static void attachment_file(char *out, size_t n, json_int_t run, const json_t *a)
{
	const char *fn = jstr(a, "filename");
	char safe[101];
	size_t j = 0;

	for (; *fn && j < sizeof(safe) - 1; fn++) {
		char ch = *fn;
		bool keep = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
			    ch == '.' || ch == '_' || ch == '-';

		safe[j++] = keep ? ch : '_';
	}
	safe[j] = '\0';
	snprintf(out, n, "tests/run-%" JSON_INTEGER_FORMAT "/attachments/%" JSON_INTEGER_FORMAT "-%s", run,
		 json_integer_value(json_object_get(a, "id")), j ? safe : "attachment");
}

/*
 * The bytes of every attachment of `run` (as runs_get gives it) as a file
 * of the bundle; each attachment of the run's JSON gets "file", its name
 * there.
 */
static int add_attachments(struct ev_files *fs, struct db_conn *c, json_t *run)
{
	json_int_t id = json_integer_value(json_object_get(run, "id"));
	struct repo *r = NULL;
	json_t *a;
	char name[256];
	size_t i;
	int rc = 0;

	json_array_foreach(json_object_get(run, "attachments"), i, a) {
		void *data = NULL;
		size_t len = 0;

		if (!r && (rc = repo_open(&r, c, json_integer_value(json_object_get(run, "asset_id")))))
			goto out;
		if ((rc = repo_blob_read(&data, &len, r, jstr(a, "blob"))))
			goto out;
		attachment_file(name, sizeof(name), id, a);
		files_add(fs, name, data, len);
		free(data);
		json_object_set_new(a, "file", json_string(name));
	}
out:
	repo_free(r);
	return rc;
}

/* ---- statements ---- */

static int add_statement(struct ev_files *fs, const char *name, json_t *statement,
			 const struct crypto_ed25519_key *key)
{
	char *payload = json_dumps(statement, JSON_COMPACT | JSON_SORT_KEYS), *env = NULL;
	size_t len;
	int rc;

	json_decref(statement);
	if (!payload)
		return err_set(OTCM_EINTERNAL, NULL, "cannot encode a statement");
	rc = dsse_sign(&env, &len, DSSE_INTOTO_TYPE, payload, strlen(payload), key);
	free(payload);
	if (rc)
		return rc;
	files_take(fs, name, env, len);
	return 0;
}

static int add_statements(struct ev_files *fs, const json_t *full, const char *chg,
			  const struct crypto_ed25519_key *key)
{
	const json_t *runs = json_object_get(full, "test_runs");
	json_t *s, *subjects, *pred;
	char name[96], tmp[40];
	size_t i, j;
	int rc;

	json_array_foreach(json_object_get(full, "signatures"), i, s) {
		json_t *content = json_object_get(s, "content"), *a;

		subjects = json_array();
		if (json_object_get(content, "commit") && json_is_string(json_object_get(content, "commit"))) {
			json_int_t aid = json_integer_value(json_object_get(content, "asset_id"));

			json_array_append_new(subjects, dsse_git_subject(asset_path(full, aid, tmp, sizeof(tmp)),
					      jstr(content, "commit"), jstr(content, "tree")));
		}
		json_array_foreach(json_object_get(content, "affected_assets"), j, a)
			if (json_is_string(json_object_get(a, "commit")))
				json_array_append_new(subjects, dsse_git_subject(jstr(a, "path"),
						      jstr(a, "commit"), jstr(a, "tree")));
		if (json_array_size(subjects) == 0)
			json_array_append_new(subjects, json_pack("{s:s, s:{s:s}}", "name",
					      "signed-content", "digest", "sha256", jstr(s, "content_sha256")));
		pred = json_pack("{s:s, s:O, s:O, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
				 "change", chg, "signature_id", json_object_get(s, "id"),
				 "run_id", json_object_get(s, "run_id") ? json_object_get(s, "run_id") : json_null(),
				 "meaning", jstr(s, "meaning"), "signer", jstr(s, "signer"),
				 "printed_name", jstr(s, "printed_name"), "role", jstr(s, "role"),
				 "signed_at", jstr(s, "signed_at"),
				 "reauthenticated_with", jstr(s, "reauthenticated_with"),
				 "content_sha256", jstr(s, "content_sha256"));
		snprintf(name, sizeof(name), "statements/signature-%" JSON_INTEGER_FORMAT ".dsse.json",
			 json_integer_value(json_object_get(s, "id")));
		if ((rc = add_statement(fs, name, dsse_statement(subjects, PRED_SIGNATURE, pred), key)))
			return rc;
	}
	json_array_foreach(runs, i, s) {
		json_int_t aid = json_integer_value(json_object_get(s, "asset_id"));
		const char *path = asset_path(full, aid, tmp, sizeof(tmp));

		subjects = json_pack("[o]", dsse_git_subject(path, jstr(s, "commit"), jstr(s, "tree")));
		pred = json_pack("{s:s, s:O, s:s, s:O, s:s, s:O, s:O, s:O, s:O}",
				 "change", chg, "run_id", json_object_get(s, "id"), "asset", path,
				 "protocol", json_object_get(s, "protocol"), "tester", jstr(s, "tester"),
				 "state", json_object_get(s, "state"), "verdict", json_object_get(s, "verdict"),
				 "completed_at", json_object_get(s, "completed_at"),
				 "steps", json_object_get(s, "steps") ? json_object_get(s, "steps") : json_null());
		snprintf(name, sizeof(name), "statements/run-%" JSON_INTEGER_FORMAT ".dsse.json",
			 json_integer_value(json_object_get(s, "id")));
		if (!pred || (rc = add_statement(fs, name, dsse_statement(subjects, PRED_RUN, pred), key)))
			return pred ? rc : err_set(OTCM_EINTERNAL, NULL, "cannot make a run statement");
	}
	json_array_foreach(json_object_get(full, "deployments"), i, s) {
		json_int_t aid = json_integer_value(json_object_get(s, "asset_id"));
		const char *path = asset_path(full, aid, tmp, sizeof(tmp));

		subjects = json_pack("[o]", dsse_git_subject(path, jstr(s, "commit"), jstr(s, "tree")));
		pred = json_pack("{s:s, s:O, s:s, s:s, s:s, s:O, s:O, s:s}",
				 "change", chg, "deployment_id", json_object_get(s, "id"), "asset", path,
				 "deployed_by", jstr(s, "deployed_by"), "deployed_at", jstr(s, "deployed_at"),
				 "readback_sha256", json_object_get(s, "readback_sha256"),
				 "readback_match", json_object_get(s, "readback_match"), "note", jstr(s, "note"));
		snprintf(name, sizeof(name), "statements/deployment-%" JSON_INTEGER_FORMAT ".dsse.json",
			 json_integer_value(json_object_get(s, "id")));
		if (!pred || (rc = add_statement(fs, name, dsse_statement(subjects, PRED_DEPLOYMENT, pred), key)))
			return pred ? rc : err_set(OTCM_EINTERNAL, NULL, "cannot make a deployment statement");
	}
	return 0;
}

/* ---- diffs ---- */

/*
 * diffs/<asset path>/<n>-<commit>.patch and .json: each version of the
 * change against the asset's baseline, the commit the change branch
 * started from (the first version's parent).
 */
static int add_diffs(struct ev_files *fs, struct db_conn *c, const json_t *versions, size_t cap)
{
	json_t *v, *info = NULL, *files = NULL, *doc;
	struct repo *r = NULL;
	json_int_t cur = -1;
	char baseline[REPO_OID_HEX] = "", name[1200];
	unsigned n = 0;
	size_t i;
	int rc = 0;

	json_array_foreach(versions, i, v) {
		json_int_t aid = json_integer_value(json_object_get(v, "asset_id"));
		const char *commit = jstr(v, "commit"), *path = jstr(v, "path");
		struct buf patch = BUF_INIT;

		if (aid != cur) {
			repo_free(r);
			r = NULL;
			if ((rc = repo_open(&r, c, aid)) || (rc = repo_commit_info(&info, r, commit)))
				goto out;
			snprintf(baseline, sizeof(baseline), "%s",
				 json_string_value(json_array_get(json_object_get(info, "parents"), 0)) ?
				 json_string_value(json_array_get(json_object_get(info, "parents"), 0)) : "");
			json_decref(info);
			info = NULL;
			cur = aid;
			n = 0;
		}
		n++;
		buf_init(&patch, cap);
		if ((rc = version_diff_files(&files, &patch, r, *baseline ? baseline : NULL, commit,
					     true))) {
			buf_release(&patch);
			goto out;
		}
		snprintf(name, sizeof(name), "diffs/%s/%u-%.12s.patch", path, n, commit);
		files_add(fs, name, patch.data ? patch.data : "", patch.len);
		buf_release(&patch);
		doc = json_pack("{s:s, s:s?, s:s, s:o}", "asset", path, "from", *baseline ? baseline : NULL,
				"to", commit, "files", files);
		files = NULL;
		snprintf(name, sizeof(name), "diffs/%s/%u-%.12s.json", path, n, commit);
		files_add_json(fs, name, doc);
		json_decref(doc);
	}
out:
	json_decref(files);
	json_decref(info);
	repo_free(r);
	return rc;
}

/* ---- the audit part ---- */

static int add_audit(struct ev_files *fs, struct db_conn *c, const int64_t *seqs, size_t n,
		     uint64_t tree_size)
{
	struct buf lines = BUF_INIT;
	struct checkpoint *cp = NULL;
	json_t *proofs = json_array(), *doc = NULL, *p = NULL;
	size_t i;
	int rc = 0;

	if ((rc = checkpoint_get(&cp, c, tree_size)))
		goto out;
	for (i = 0; i < n; i++) {
		if ((rc = checkpoint_inclusion(&p, c, seqs[i], tree_size)))
			goto out;
		if ((rc = buf_adds(&lines, jstr(p, "canonical"))) || (rc = buf_addch(&lines, '\n')))
			goto out;
		json_object_del(p, "canonical");
		json_object_del(p, "checkpoint");
		json_object_del(p, "tree_size");
		json_array_append_new(proofs, p);
		p = NULL;
	}
	files_add(fs, "audit/events.jsonl", lines.data ? lines.data : "", lines.len);
	doc = json_pack("{s:I, s:s, s:O}", "tree_size", (json_int_t)tree_size, "hash",
			"SHA-256(prev_hash || line) = event_hash; leaf = SHA-256(0x00 || event_hash)",
			"events", proofs);
	files_add_json(fs, "audit/proofs.json", doc);
	files_add(fs, "audit/checkpoint", cp->note, strlen(cp->note));
out:
	json_decref(p);
	json_decref(doc);
	json_decref(proofs);
	checkpoint_free(cp);
	buf_release(&lines);
	return rc;
}

/* ---- report.html ---- */

/* A JSON scalar as text ("" for null); dynamic text only through web/html.h's escapers. */
static void text_json(struct html *h, const json_t *v)
{
	if (json_is_string(v))
		html_text(h, json_string_value(v));
	else if (json_is_integer(v))
		html_int(h, json_integer_value(v));
	else if (json_is_true(v) || json_is_false(v))
		html_raw(h, json_is_true(v) ? "yes" : "no");
	else if (json_is_real(v))
		html_rawf(h, "%g", json_real_value(v));
}

static void cell(struct html *h, const json_t *o, const char *k)
{
	html_raw(h, "<td>");
	text_json(h, json_object_get(o, k));
	html_raw(h, "</td>");
}

static void row(struct html *h, const char *label, const json_t *v)
{
	html_raw(h, "<tr><th>");
	html_text(h, label);
	html_raw(h, "</th><td>");
	text_json(h, v);
	html_raw(h, "</td></tr>\n");
}

/* The attachments of a run: step, name, type, size, SHA-256 and the file in the bundle. */
static void attachments_table(struct html *h, const json_t *run)
{
	const json_t *list = json_object_get(run, "attachments"), *a;
	size_t i;

	if (json_array_size(list) == 0) {
		html_raw(h, "<p>No attachments.</p>\n");
		return;
	}
	html_raw(h, "<table><tr><th>step</th><th>attachment</th><th>type</th><th>bytes</th>"
		 "<th>SHA-256</th><th>attached by</th><th>at</th></tr>\n");
	json_array_foreach(list, i, a) {
		html_raw(h, "<tr>");
		cell(h, a, "step");
		html_raw(h, "<td><a href=\"");
		html_url_path(h, jstr(a, "file"));
		html_raw(h, "\">");
		html_text(h, jstr(a, "filename"));
		html_raw(h, "</a></td>");
		cell(h, a, "content_type");
		cell(h, a, "size");
		cell(h, a, "sha256");
		cell(h, a, "uploaded_by");
		cell(h, a, "uploaded_at");
		html_raw(h, "</tr>\n");
	}
	html_raw(h, "</table>\n");
}

static int add_report(struct ev_files *fs, const json_t *full, const json_t *versions, size_t cap)
{
	static const char *const fields[] = { "key", "title", "type", "state", "risk", "safety_related",
		"requester", "reason", "implementation_plan", "rollback_plan", "created_at", "deployed_at",
		"retrospective_approval_due", NULL };
	struct html b;
	json_t *s, *st;
	size_t i, j;

	html_init(&b, cap);
	html_raw(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		 "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
		 "<title>Evidence ");
	html_text(&b, jstr(full, "key"));
	html_raw(&b, "</title>\n<style>body{font:11pt sans-serif;margin:2em}table{border-collapse:collapse;"
		 "margin-bottom:1em}th,td{border:1px solid #999;padding:2px 6px;text-align:left;"
		 "vertical-align:top}h2{page-break-before:auto}@media print{a{color:#000}}</style>\n"
		 "</head><body>\n<h1>Change ");
	html_text(&b, jstr(full, "key"));
	html_raw(&b, ": ");
	html_text(&b, jstr(full, "title"));
	html_raw(&b, "</h1>\n<table>\n");
	for (i = 0; fields[i]; i++)
		row(&b, fields[i], json_object_get(full, fields[i]));
	row(&b, "planned window start", json_object_get(json_object_get(full, "planned_window"), "start"));
	row(&b, "planned window end", json_object_get(json_object_get(full, "planned_window"), "end"));
	html_raw(&b, "</table>\n<h2>Assets and versions</h2>\n<table><tr><th>asset</th><th>commit</th>"
		 "<th>tree</th><th>uploaded by</th><th>at</th></tr>\n");
	json_array_foreach(versions, i, s) {
		html_raw(&b, "<tr>");
		cell(&b, s, "path");
		cell(&b, s, "commit");
		cell(&b, s, "tree");
		cell(&b, s, "uploaded_by");
		cell(&b, s, "uploaded_at");
		html_raw(&b, "</tr>\n");
	}
	html_raw(&b, "</table>\n<h2>Signatures</h2>\n<table><tr><th>printed name</th><th>signer</th>"
		 "<th>role</th><th>meaning</th><th>date and time (UTC)</th><th>re-authenticated with</th>"
		 "<th>run</th><th>SHA-256 of what was signed</th><th>stale</th></tr>\n");
	json_array_foreach(json_object_get(full, "signatures"), i, s) {
		html_raw(&b, "<tr>");
		cell(&b, s, "printed_name");
		cell(&b, s, "signer");
		cell(&b, s, "role");
		cell(&b, s, "meaning");
		cell(&b, s, "signed_at");
		cell(&b, s, "reauthenticated_with");
		cell(&b, s, "run_id");
		cell(&b, s, "content_sha256");
		cell(&b, s, "stale");
		html_raw(&b, "</tr>\n");
	}
	html_raw(&b, "</table>\n<h2>Test runs</h2>\n");
	json_array_foreach(json_object_get(full, "test_runs"), i, s) {
		json_t *proto = json_object_get(s, "protocol");

		html_raw(&b, "<h3>Run ");
		text_json(&b, json_object_get(s, "id"));
		html_raw(&b, ": ");
		text_json(&b, json_object_get(proto, "kind"));
		html_raw(&b, " ");
		text_json(&b, json_object_get(proto, "name"));
		html_raw(&b, " version ");
		text_json(&b, json_object_get(proto, "version"));
		html_raw(&b, "</h3>\n<table>\n");
		row(&b, "commit", json_object_get(s, "commit"));
		row(&b, "tree", json_object_get(s, "tree"));
		row(&b, "tester", json_object_get(s, "tester"));
		row(&b, "state", json_object_get(s, "state"));
		row(&b, "verdict", json_object_get(s, "verdict"));
		row(&b, "witnessed", json_object_get(s, "witnessed"));
		row(&b, "completed at", json_object_get(s, "completed_at"));
		row(&b, "stale", json_object_get(s, "stale"));
		html_raw(&b, "</table>\n<table><tr><th>step</th><th>instruction</th><th>expected</th>"
			 "<th>result</th><th>observed</th><th>comment</th><th>deviation</th>"
			 "<th>disposition</th><th>tester</th><th>recorded at</th></tr>\n");
		json_array_foreach(json_object_get(s, "steps"), j, st) {
			html_raw(&b, "<tr>");
			cell(&b, st, "no");
			cell(&b, st, "instruction");
			cell(&b, st, "expected");
			cell(&b, st, "result");
			cell(&b, st, "observed");
			cell(&b, st, "comment");
			cell(&b, st, "deviation");
			cell(&b, st, "disposition");
			cell(&b, st, "tester");
			cell(&b, st, "recorded_at");
			html_raw(&b, "</tr>\n");
		}
		html_raw(&b, "</table>\n");
		attachments_table(&b, s);
	}
	html_raw(&b, "<h2>Deployments</h2>\n<table><tr><th>asset</th><th>commit</th><th>tree</th>"
		 "<th>deployed by</th><th>at</th><th>read-back SHA-256</th><th>read-back matched</th>"
		 "<th>note</th></tr>\n");
	json_array_foreach(json_object_get(full, "deployments"), i, s) {
		html_raw(&b, "<tr>");
		cell(&b, s, "asset_id");
		cell(&b, s, "commit");
		cell(&b, s, "tree");
		cell(&b, s, "deployed_by");
		cell(&b, s, "deployed_at");
		cell(&b, s, "readback_sha256");
		cell(&b, s, "readback_match");
		cell(&b, s, "note");
		html_raw(&b, "</tr>\n");
	}
	html_raw(&b, "</table>\n<p>How to check this bundle: README.txt.</p>\n</body></html>\n");
	if (b.err) {
		html_release(&b);
		return err_set(b.err, NULL, "the report is larger than allowed");
	}
	files_add(fs, "report.html", b.buf.data ? b.buf.data : "", b.buf.len);
	html_release(&b);
	return 0;
}

/* ---- README.txt ---- */

static const char README_FMT[] =
	"Evidence bundle of change %s\n"
	"=============================\n"
	"\n"
	"Made by otcm.  Everything in it can be checked offline, either with\n"
	"`otcm verify THIS.tar [--trust server.pub]`, which runs every check below\n"
	"and exits non-zero on any failure, or with stock tools as follows (run in\n"
	"the folder the tar was unpacked into: tar -xf THIS.tar).\n"
	"\n"
	"Files\n"
	"  change.json            the ticket, its versions, signatures, test runs\n"
	"                         (every step) and deployments\n"
	"  report.html            the same, printable; each signature's printed name,\n"
	"                         date and time, meaning and role\n"
	"  diffs/ASSET/N-C.patch  unified diff of version N (commit C) of the change\n"
	"                         against the asset's baseline; N-C.json the semantic\n"
	"                         changes of each file\n"
	"  tests/run-ID.json      each test run with its steps and its attachments\n"
	"                         (name, type, size, SHA-256 and file)\n"
	"  tests/run-ID/attachments/N-NAME\n"
	"                         the bytes of attachment N of run ID (NAME: its\n"
	"                         file name with unusual characters as '_')\n"
	"  statements/*.dsse.json one in-toto Statement v1 per signature, test run and\n"
	"                         deployment, subjects = git commit and tree ids, in a\n"
	"                         DSSE envelope signed with the server's Ed25519 key\n"
	"  audit/events.jsonl     the change's audit events, one per line, exactly the\n"
	"                         bytes that were hashed\n"
	"  audit/proofs.json      per event: prev_hash, event_hash and its inclusion\n"
	"                         proof in the checkpoint\n"
	"  audit/checkpoint       the signed checkpoint (C2SP signed note)\n"
	"  git/ASSET.bundle       the change branch with its whole history\n"
	"  trust/server.pub       the server's public key (PEM); compare it with the\n"
	"                         key you obtained from the server's operator\n"
	"  MANIFEST.sha256        SHA-256 of every other file (sha256sum format)\n"
	"  MANIFEST.sha256.sig    raw 64-byte Ed25519 signature of MANIFEST.sha256\n"
	"\n"
	"1. The manifest is signed by the server key:\n"
	"     openssl pkeyutl -verify -pubin -inkey trust/server.pub -rawin \\\n"
	"         -in MANIFEST.sha256 -sigfile MANIFEST.sha256.sig\n"
	"2. Every file is the one listed (and check no file is missing or extra):\n"
	"     sha256sum -c --strict MANIFEST.sha256\n"
	"     find . -type f ! -name 'MANIFEST.sha256*' | sed 's|^\\./||' | sort \\\n"
	"         | diff - <(sed 's/^[0-9a-f]*  //' MANIFEST.sha256 | sort)\n"
	"3. The git bundles are complete and hold the versions named everywhere:\n"
	"     git init -q scratch && git -C scratch bundle verify ../git/ASSET.bundle\n"
	"     git clone -b changes/%s git/ASSET.bundle asset && git -C asset log --format='%%H %%T %%s'\n"
	"4. The checkpoint's signature (the three body lines, and the signature\n"
	"   line's base64 without its first 4 bytes, the key id):\n"
	"     head -n 3 audit/checkpoint > cp.txt\n"
	"     tail -n 1 audit/checkpoint | awk '{print $NF}' | base64 -d | tail -c 64 > cp.sig\n"
	"     openssl pkeyutl -verify -pubin -inkey trust/server.pub -rawin -in cp.txt -sigfile cp.sig\n"
	"5. Each event: line N of events.jsonl with events[N] of proofs.json:\n"
	"     SHA-256(prev_hash bytes || line without its newline) = event_hash, e.g.\n"
	"     (printf \"$PREV\" | xxd -r -p; sed -n Np audit/events.jsonl | tr -d '\\n') | sha256sum\n"
	"   and the inclusion proof leads from SHA-256(0x00 || event_hash) to the\n"
	"   checkpoint's root (RFC 9162 section 2.1.3.2); no stock tool does this\n"
	"   step, otcm verify does.\n"
	"6. A statement: payload = base64 -d of .payload; the signature covers\n"
	"     \"DSSEv1 28 application/vnd.in-toto+json <payload length> <payload>\"\n"
	"   e.g. with jq:\n"
	"     jq -j .payload F | base64 -d > p; jq -r '.signatures[0].sig' F | base64 -d > s\n"
	"     (printf 'DSSEv1 28 application/vnd.in-toto+json %%s ' $(stat -c %%s p); cat p) > pae\n"
	"     openssl pkeyutl -verify -pubin -inkey trust/server.pub -rawin -in pae -sigfile s\n"
	"   then compare the subject's gitCommit and gitTree with `git log --format='%%H %%T'`.\n"
	"7. Policy, from change.json: the approval was signed after the last version\n"
	"   and before the deployments, the approver uploaded none of the versions,\n"
	"   each deployed tree had a passed FAT run, and an emergency change was\n"
	"   approved by its retrospective_approval_due.\n";

/* ---- the bundle ---- */

int evidence_build(struct buf *out, struct db_conn *c, const struct crypto_ed25519_key *key,
		   int64_t change_id, uint64_t tree_size)
{
	struct ev_files fs = { 0 };
	json_t *full = NULL, *versions = NULL, *run = NULL, *r;
	int64_t *seqs = NULL, mtime = 0;
	size_t nseqs = 0, i, cap = out->cap ? out->cap : BUF_DEFAULT_CAP;
	struct buf manifest = BUF_INIT, readme = BUF_INIT;
	unsigned char pub[CRYPTO_ED25519_PUB_LEN], sig[CRYPTO_ED25519_SIG_LEN];
	char chg[32], name[1200], hex[2 * CRYPTO_SHA256_LEN + 1], *pem = NULL;
	int rc;

	snprintf(chg, sizeof(chg), "CHG-%" PRId64, change_id);
	if ((rc = changes_get_full(&full, c, change_id)) || (rc = load_versions(&versions, c, change_id)) ||
	    (rc = load_event_seqs(&seqs, &nseqs, &mtime, c, change_id)))
		goto out;
	/* the runs with their steps and attachments */
	json_array_foreach(json_object_get(full, "test_runs"), i, r) {
		if ((rc = runs_get(&run, c, json_integer_value(json_object_get(r, "id")), false)) ||
		    (rc = add_attachments(&fs, c, run)))
			goto out;
		snprintf(name, sizeof(name), "tests/run-%" JSON_INTEGER_FORMAT ".json",
			 json_integer_value(json_object_get(r, "id")));
		files_add_json(&fs, name, run);
		json_array_set_new(json_object_get(full, "test_runs"), i, run);
		run = NULL;
	}
	json_object_set(full, "versions", versions);
	files_add_json(&fs, "change.json", full);
	if ((rc = add_report(&fs, full, versions, cap)) || (rc = add_diffs(&fs, c, versions, cap)) ||
	    (rc = add_statements(&fs, full, chg, key)) || (rc = add_audit(&fs, c, seqs, nseqs, tree_size)))
		goto out;
	json_array_foreach(json_object_get(full, "affected_assets"), i, r) {
		struct repo *repo = NULL;
		struct buf bundle;

		if (!json_is_string(json_object_get(r, "commit")))
			continue;
		buf_init(&bundle, cap);
		snprintf(name, sizeof(name), "refs/heads/changes/%s", chg);
		if ((rc = repo_open(&repo, c, json_integer_value(json_object_get(r, "id")))) ||
		    (rc = repo_bundle_write(&bundle, repo, name, jstr(r, "commit")))) {
			repo_free(repo);
			buf_release(&bundle);
			goto out;
		}
		repo_free(repo);
		snprintf(name, sizeof(name), "git/%s.bundle", jstr(r, "path"));
		files_add(&fs, name, bundle.data, bundle.len);
		buf_release(&bundle);
	}
	crypto_ed25519_public(pub, key);
	pem = crypto_ed25519_public_pem(pub);
	files_add(&fs, "trust/server.pub", pem, strlen(pem));
	if ((rc = buf_addf(&readme, README_FMT, chg, chg)))
		goto out;
	files_add(&fs, "README.txt", readme.data, readme.len);

	qsort(fs.v, fs.n, sizeof(*fs.v), file_cmp);
	for (i = 0; i < fs.n; i++) {
		crypto_sha256_hex(hex, fs.v[i].data, fs.v[i].len);
		if ((rc = buf_addf(&manifest, "%s  %s\n", hex, fs.v[i].name)))
			goto out;
	}
	if ((rc = crypto_ed25519_sign(sig, key, manifest.data, manifest.len)))
		goto out;
	files_add(&fs, "MANIFEST.sha256", manifest.data, manifest.len);
	files_add(&fs, "MANIFEST.sha256.sig", sig, sizeof(sig));
	rc = bundle_write(out, &fs, mtime);
out:
	free(pem);
	buf_release(&manifest);
	buf_release(&readme);
	files_release(&fs);
	json_decref(run);
	json_decref(versions);
	json_decref(full);
	free(seqs);
	return rc;
}

/* ---- the verifier ---- */

struct vctx {
	struct buf *rep;
	unsigned failed;
	const struct ev_files *fs;
	unsigned char pub[CRYPTO_ED25519_PUB_LEN];
	const char *key;             /* the change's key, from change.json */
	json_t *change;
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

static json_t *parse_json(const struct ev_file *f)
{
	return f ? json_loadb(f->data, f->len, JSON_REJECT_DUPLICATES, NULL) : NULL;
}

static void check_manifest(struct vctx *v)
{
	const struct ev_file *m = files_get(v->fs, "MANIFEST.sha256");
	const struct ev_file *s = files_get(v->fs, "MANIFEST.sha256.sig");
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
		const struct ev_file *f;

		if (!nl || nl - p < 67 || !is_hex(p, 64) || p[64] != ' ' || p[65] != ' ') {
			fail(v, "manifest: malformed line %.80s", p);
			break;
		}
		name = xstrndup(p + 66, (size_t)(nl - p - 66));
		f = files_get(v->fs, name);
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
	if (v->failed == bad)
		ok(v, "manifest: all %zu files are listed and match", json_object_size(listed));
out:
	json_decref(v->listed);
	v->listed = listed;
}

/* The checkpoint's signature; *out_size and out_root from its body. */
static bool check_checkpoint(struct vctx *v, uint64_t *out_size, merkle_hash out_root)
{
	const struct ev_file *f = files_get(v->fs, "audit/checkpoint");
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

static void check_events(struct vctx *v)
{
	const struct ev_file *ev = files_get(v->fs, "audit/events.jsonl");
	json_t *proofs = parse_json(files_get(v->fs, "audit/proofs.json")), *list, *p;
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
		if (otype && oid && !strcmp(otype, "change") && v->key && strcmp(oid, v->key))
			fail(v, "event %" JSON_INTEGER_FORMAT ": it is about %s, not %s", seq, oid, v->key);
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
		const struct ev_file *f = &v->fs->v[i];
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
	const struct ev_file *f = files_get(v->fs, name);
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
	if (!v->key || strcmp(jstr(pred, "change"), v->key)) {
		fail(v, "statement: %s belongs to %s, not to %s", name, jstr(pred, "change"),
		     v->key ? v->key : "this change");
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
		if (!(st = statement(v, name, PRED_SIGNATURE)))
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
		if (!(st = statement(v, name, PRED_RUN)))
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
		if (!(st = statement(v, name, PRED_DEPLOYMENT)))
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
		run = parse_json(files_get(v->fs, name));
		if (!run || !json_equal(run, x)) {
			fail(v, "tests: %s is missing or is not run %" JSON_INTEGER_FORMAT " of change.json", name, id);
			json_decref(run);
			continue;
		}
		json_array_foreach(json_object_get(run, "attachments"), j, a) {
			const char *file = jstr(a, "file");
			const struct ev_file *f = files_get(v->fs, file);
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

int evidence_verify(struct buf *report, const void *tar, size_t len, const unsigned char *trusted)
{
	struct ev_files fs = { 0 };
	struct vctx v;
	const struct ev_file *pem;
	int rc;

	memset(&v, 0, sizeof(v));
	v.rep = report;
	v.fs = &fs;
	v.bundles = json_object();
	if (tar_read(&fs, tar, len)) {
		fail(&v, "bundle: %s", err_message());
		goto out;
	}
	ok(&v, "bundle: a tar of %zu files", fs.n);
	pem = files_get(&fs, "trust/server.pub");
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
	v.change = parse_json(files_get(&fs, "change.json"));
	v.key = json_string_value(json_object_get(v.change, "key"));
	if (!v.key)
		fail(&v, "change.json: missing or not a change");
	else
		ok(&v, "change.json: %s", v.key);
	check_events(&v);
	check_git(&v);
	check_statements(&v);
	check_attachments(&v);
	if (v.change)
		check_policy(&v);
out:
	buf_addf(report, v.failed ? "FAILED: %u checks failed\n" : "verified: every check passed\n",
		 v.failed);
	rc = report->cap && report->len + 1 >= report->cap ? OTCM_ETOOBIG : v.failed ? OTCM_EAUTH : 0;
	json_decref(v.change);
	json_decref(v.bundles);
	json_decref(v.listed);
	files_release(&fs);
	return rc;
}
