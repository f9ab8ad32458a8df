/*
 * domain/evidence.c - a change's evidence bundle: its records gathered
 * from storage/ into the bundle's files (domain/bundle.h seals them); see
 * evidence.h and docs/evidence.md.
 */
#include "domain/evidence.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dsse.h"
#include "core/err.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "domain/bundle.h"
#include "domain/checklist.h"
#include "domain/incidents.h"
#include "domain/readbacks.h"
#include "domain/version_diff.h"
#include "storage/changes.h"
#include "storage/checkpoint.h"
#include "storage/evidence.h"
#include "storage/firmware.h"
#include "storage/incidents.h"
#include "storage/repo.h"
#include "storage/runs.h"
#include "web/html.h"
#include "web/pages.h"

/* ---- gathering the records of a change ---- */

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
static int add_attachments(struct bundle_files *fs, struct db_conn *c, json_t *run)
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
		bundle_files_add(fs, name, data, len);
		free(data);
		json_object_set_new(a, "file", json_string(name));
	}
out:
	repo_free(r);
	return rc;
}

/* ---- statements ---- */

static int add_statement(struct bundle_files *fs, const char *name, json_t *statement,
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
	bundle_files_take(fs, name, env, len);
	return 0;
}

static int add_statements(struct bundle_files *fs, const json_t *full, const char *chg,
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
		if ((rc = add_statement(fs, name, dsse_statement(subjects, BUNDLE_PRED_SIGNATURE, pred), key)))
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
		if (!pred || (rc = add_statement(fs, name, dsse_statement(subjects, BUNDLE_PRED_RUN, pred), key)))
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
		if (!pred || (rc = add_statement(fs, name, dsse_statement(subjects, BUNDLE_PRED_DEPLOYMENT, pred), key)))
			return pred ? rc : err_set(OTCM_EINTERNAL, NULL, "cannot make a deployment statement");
	}
	return 0;
}

/* ---- diffs ---- */

/*
 * diffs/<asset path>/<n>-<commit>.patch and .json: each version of the
 * change against the asset's baseline, the commit the change branch
 * started from (the first version's parent).  `changed` gets, per asset
 * path, its newest version's {"from", "to", "files", "patch", "json"}
 * (the last two: names in the bundle), for the report.
 */
static int add_diffs(json_t *changed, struct bundle_files *fs, struct db_conn *c, const json_t *versions,
		     size_t cap)
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
		bundle_files_add(fs, name, patch.data ? patch.data : "", patch.len);
		buf_release(&patch);
		doc = json_pack("{s:s, s:s?, s:s, s:o}", "asset", path, "from", *baseline ? baseline : NULL,
				"to", commit, "files", files);
		files = NULL;
		snprintf(name, sizeof(name), "diffs/%s/%u-%.12s.json", path, n, commit);
		bundle_files_add_json(fs, name, doc);
		json_object_set_new(doc, "json", json_string(name));
		snprintf(name, sizeof(name), "diffs/%s/%u-%.12s.patch", path, n, commit);
		json_object_set_new(doc, "patch", json_string(name));
		json_object_set_new(changed, path, doc);
	}
out:
	json_decref(files);
	json_decref(info);
	repo_free(r);
	return rc;
}

/* ---- the audit part ---- */

/*
 * audit/events.jsonl, audit/proofs.json and audit/checkpoint; the events'
 * lines and the proofs' document are also left in *out_lines (the
 * caller releases it) and *out_proofs (the caller's reference), from
 * which the checklist is decided.
 */
/*
 * The event lines and the proofs' document of `proofs` (n entries of
 * checkpoint_inclusions() from `first` on, each losing "canonical" and
 * "tree_size" here): *out_lines (the caller releases it) and *out_doc.
 */
static int audit_part(struct buf *out_lines, json_t **out_doc, json_t *proofs, size_t first, size_t n,
		      uint64_t tree_size)
{
	struct buf lines = BUF_INIT;
	json_t *events = json_array(), *p;
	size_t i;
	int rc = 0;

	for (i = first; i < first + n; i++) {
		p = json_array_get(proofs, i);
		if ((rc = buf_adds(&lines, jstr(p, "canonical"))) || (rc = buf_addch(&lines, '\n')))
			goto out;
		json_object_del(p, "canonical");
		json_object_del(p, "tree_size");
		json_array_append(events, p);
	}
	*out_doc = json_pack("{s:I, s:s, s:O}", "tree_size", (json_int_t)tree_size, "hash",
			     "SHA-256(prev_hash || line) = event_hash; leaf = SHA-256(0x00 || event_hash)",
			     "events", events);
	*out_lines = lines;
	lines = (struct buf)BUF_INIT;
out:
	json_decref(events);
	buf_release(&lines);
	return rc;
}

static int add_audit(struct buf *out_lines, json_t **out_proofs, struct bundle_files *fs,
		     struct db_conn *c, const int64_t *seqs, size_t n, uint64_t tree_size)
{
	struct buf lines = BUF_INIT;
	struct checkpoint *cp = NULL;
	json_t *proofs = NULL, *doc = NULL;
	int rc = 0;

	/* the event hashes are read once for every proof: O(trail + events), not O(trail x events) */
	if ((rc = checkpoint_get(&cp, c, tree_size)) ||
	    (rc = checkpoint_inclusions(&proofs, c, seqs, n, tree_size)) ||
	    (rc = audit_part(&lines, &doc, proofs, 0, n, tree_size)))
		goto out;
	bundle_files_add(fs, "audit/events.jsonl", lines.data ? lines.data : "", lines.len);
	bundle_files_add_json(fs, "audit/proofs.json", doc);
	bundle_files_add(fs, "audit/checkpoint", cp->note, strlen(cp->note));
	*out_lines = lines;
	lines = (struct buf)BUF_INIT;
	*out_proofs = doc;
	doc = NULL;
out:
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

/* The checklist (change.json's "checklist") as the report's first table. */
static void checklist_table(struct html *h, const json_t *checklist)
{
	const json_t *c, *e;
	size_t i, j;

	html_raw(h, "<h2>Control checklist</h2>\n<table class=\"checklist\"><thead><tr><th>control</th>"
		 "<th>result</th><th>why</th><th>evidence</th></tr></thead>\n");
	json_array_foreach(checklist, i, c) {
		const char *result = jstr(c, "result");

		html_raw(h, "<tr><td>");
		html_text(h, jstr(c, "control"));
		html_raw(h, "</td><td class=\"");
		html_raw(h, !strcmp(result, CHECKLIST_MET) ? "met" : !strcmp(result, CHECKLIST_NA) ? "na" : "notmet");
		html_raw(h, "\">");
		html_text(h, result);
		html_raw(h, "</td><td>");
		html_text(h, jstr(c, "detail"));
		html_raw(h, "</td><td>");
		json_array_foreach(json_object_get(c, "evidence"), j, e) {
			if (j)
				html_raw(h, "<br>");
			html_text(h, json_string_value(e) ? json_string_value(e) : "");
		}
		html_raw(h, "</td></tr>\n");
	}
	html_raw(h, "</table>\n");
}

/*
 * The report's style: the paper is the printer's (A4 or Letter: the
 * layout is fluid and A4 is the narrower), every long hash and text wraps,
 * tables fit the printable width with fixed layouts, each printed page is
 * headed with the change's key and numbered.
 */
static const char REPORT_STYLE[] =
	"<style>\n"
	"body{font:10pt sans-serif;margin:1.5em;max-width:100%}\n"
	"table{border-collapse:collapse;margin-bottom:1em;width:100%;table-layout:fixed}\n"
	"th,td{border:1px solid #999;padding:2px 4px;text-align:left;vertical-align:top;"
	"overflow-wrap:anywhere;word-break:break-word}\n"
	"table.fields th{width:28%}\n"
	"td.met{color:#064}td.notmet{color:#a00;font-weight:bold}td.na{color:#555}\n"
	"table.checklist th:nth-child(2),table.checklist td:nth-child(2){width:5.5em}\n"
	".hash,code{font-family:monospace;font-size:8.5pt;overflow-wrap:anywhere}\n"
	"pre{white-space:pre-wrap;overflow-wrap:anywhere;font-size:8.5pt;margin:0}\n"
	".muted{color:#555}.k-added{color:#064}.k-removed{color:#a00}.old{background:#fee}.new{background:#efe}\n"
	"details>summary{font-weight:bold;list-style:none}section.otcm-diff{margin-bottom:1em}\n"
	"@page{margin:18mm 12mm 16mm 12mm;"
	"@bottom-right{content:\"page \" counter(page) \" of \" counter(pages);font:8pt sans-serif}}\n"
	"@media print{body{margin:0}a{color:#000}thead{display:table-header-group}tr{break-inside:avoid}"
	"h2,h3{break-after:avoid}}\n"
	"</style>\n";

/*
 * The head of every printed page: the change's key (only when it is a key,
 * "CHG-" and digits, since it goes into a CSS string) and the SHA-256 of
 * change.json, the records this report shows, which a printed page is
 * matched against in the signed manifest.  The manifest's own SHA-256
 * cannot be printed here: the manifest covers this report.
 */
static void page_head_style(struct html *h, const char *key, const char *records_sha256)
{
	size_t n = strlen(key);

	if (n < 5 || n > 24 || strncmp(key, "CHG-", 4) || strspn(key + 4, "0123456789") != n - 4 ||
	    strspn(records_sha256, "0123456789abcdef") != 2 * CRYPTO_SHA256_LEN)
		return;
	html_rawf(h, "<style>@page{@top-left{content:\"Evidence of change %s\";font:8pt sans-serif}"
		  "@top-right{content:\"change.json SHA-256 %s\";font:7pt monospace}}</style>\n", key,
		  records_sha256);
}

/* A label for people of a ticket field. */
static const struct {
	const char *field, *label;
} FIELDS[] = {
	{ "key", "Change" }, { "title", "Title" }, { "type", "Type" }, { "state", "State" }, { "risk", "Risk" },
	{ "safety_related", "Safety related" }, { "requester", "Requester" }, { "reason", "Reason" },
	{ "implementation_plan", "Implementation plan" }, { "rollback_plan", "Rollback plan" },
	{ "created_at", "Created (UTC)" }, { "deployed_at", "Deployed (UTC)" },
	{ "retrospective_approval_due", "Retrospective approval due (UTC)" },
};

/* Bytes of semantic changes the report writes per asset; the full diffs are files of the bundle. */
#define REPORT_CHANGES_BYTES ((size_t)128 << 10)

/* What changed, per asset: its newest version against the baseline, as the diff page shows it. */
static void what_changed(struct html *h, const json_t *changed)
{
	const char *path;
	json_t *d;

	html_raw(h, "<h2>What changed</h2>\n");
	if (json_object_size(changed) == 0)
		html_raw(h, "<p>No versions.</p>\n");
	json_object_foreach((json_t *)changed, path, d) {
		html_raw(h, "<h3>");
		html_text(h, path);
		html_raw(h, "</h3>\n<p>From <span class=\"hash\">");
		html_text(h, json_is_string(json_object_get(d, "from")) ? jstr(d, "from") : "nothing");
		html_raw(h, "</span> to <span class=\"hash\">");
		html_text(h, jstr(d, "to"));
		html_raw(h, "</span>: ");
		html_int(h, (int64_t)json_array_size(json_object_get(d, "files")));
		html_raw(h, " files changed.  Full diffs: <a href=\"");
		html_url_path(h, jstr(d, "patch"));
		html_raw(h, "\">");
		html_text(h, jstr(d, "patch"));
		html_raw(h, "</a> (unified), <a href=\"");
		html_url_path(h, jstr(d, "json"));
		html_raw(h, "\">");
		html_text(h, jstr(d, "json"));
		html_raw(h, "</a> (semantic).</p>\n");
		page_diff_report(h, json_object_get(d, "files"), REPORT_CHANGES_BYTES);
	}
}

/*
 * report.html: the checklist, the ticket, what changed, versions,
 * signatures, runs and deployments; `records_sha256` is change.json's.
 */
static int add_report(struct bundle_files *fs, const json_t *full, const json_t *versions,
		      const json_t *changed, const char *records_sha256, size_t cap)
{
	struct html b;
	json_t *s, *st;
	size_t i, j;

	html_init(&b, cap);
	html_raw(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		 "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
		 "<title>Evidence ");
	html_text(&b, jstr(full, "key"));
	html_raw(&b, "</title>\n");
	html_raw(&b, REPORT_STYLE);
	page_head_style(&b, jstr(full, "key"), records_sha256);
	html_raw(&b, "</head><body>\n<h1>Change ");
	html_text(&b, jstr(full, "key"));
	html_raw(&b, ": ");
	html_text(&b, jstr(full, "title"));
	html_raw(&b, "</h1>\n");
	checklist_table(&b, json_object_get(full, "checklist"));
	html_raw(&b, "<h2>The ticket</h2>\n<table class=\"fields\">\n");
	for (i = 0; i < sizeof(FIELDS) / sizeof(FIELDS[0]); i++)
		row(&b, FIELDS[i].label, json_object_get(full, FIELDS[i].field));
	row(&b, "Planned window start (UTC)", json_object_get(json_object_get(full, "planned_window"), "start"));
	row(&b, "Planned window end (UTC)", json_object_get(json_object_get(full, "planned_window"), "end"));
	html_raw(&b, "</table>\n");
	what_changed(&b, changed);
	html_raw(&b, "<h2>Assets and versions</h2>\n<table><tr><th>asset</th><th>commit</th>"
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
		char tmp[40];

		html_raw(&b, "<tr><td>");
		html_text(&b, asset_path(full, json_integer_value(json_object_get(s, "asset_id")), tmp, sizeof(tmp)));
		html_raw(&b, "</td>");
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
	bundle_files_add(fs, "report.html", b.buf.data ? b.buf.data : "", b.buf.len);
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
	"                         (every step), deployments and \"checklist\": each\n"
	"                         control an auditor tests, met / not met / not\n"
	"                         applicable, why, and the evidence it rests on\n"
	"  report.html            the same, printable (A4): the checklist first, what\n"
	"                         changed per asset; each signature's printed name,\n"
	"                         date and time, meaning and role; every printed\n"
	"                         page is headed with the SHA-256 of change.json\n"
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
	"   approved by its retrospective_approval_due.  otcm verify decides the\n"
	"   whole checklist again from these records and prints it.\n";

/* ---- the bundle ---- */

/*
 * The records of change `change_id` as change.json holds them, without its
 * checklist (*out_full, the runs with their steps, the versions) and its
 * versions (*out_versions); the runs' files (tests/run-ID.json, and the
 * attachments only with `attachments`) added to fs.  Reads on c.
 */
static int load_records(json_t **out_full, json_t **out_versions, struct bundle_files *fs, struct db_conn *c,
			int64_t change_id, bool attachments)
{
	json_t *full = NULL, *versions = NULL, *run = NULL, *r, *firmware = NULL;
	char name[64];
	size_t i;
	int rc;

	if ((rc = changes_get_full(&full, c, change_id)) || (rc = evidence_versions(&versions, c, change_id)))
		goto out;
	/* the runs with their steps and attachments */
	json_array_foreach(json_object_get(full, "test_runs"), i, r) {
		if ((rc = runs_get(&run, c, json_integer_value(json_object_get(r, "id")), false)) ||
		    (attachments && (rc = add_attachments(fs, c, run))))
			goto out;
		snprintf(name, sizeof(name), "tests/run-%" JSON_INTEGER_FORMAT ".json",
			 json_integer_value(json_object_get(r, "id")));
		bundle_files_add_json(fs, name, run);
		json_array_set_new(json_object_get(full, "test_runs"), i, run);
		run = NULL;
	}
	json_object_set(full, "versions", versions);
	/* a firmware update's facts: before and after, the advisory, the vendor's files by SHA-256 */
	if ((rc = firmware_list(&firmware, c, change_id)))
		goto out;
	json_object_set_new(full, "firmware", firmware);
	*out_full = full;
	full = NULL;
	*out_versions = versions;
	versions = NULL;
out:
	json_decref(run);
	json_decref(versions);
	json_decref(full);
	return rc;
}

/*
 * The records of change `change_id` as change.json holds them (*out_full,
 * its checklist included, decided from exactly the records the bundle
 * holds, as the verifier will), its versions (*out_versions) and the
 * newest event's time (*out_mtime), with the files they come with added
 * to fs: tests/run-ID.json, the attachments (only with `attachments`) and
 * audit/.  Proved against the checkpoint of `tree_size`; reads in c's open
 * transaction.
 */
static int gather(json_t **out_full, json_t **out_versions, int64_t *out_mtime, struct bundle_files *fs,
		  struct db_conn *c, int64_t change_id, uint64_t tree_size, bool attachments)
{
	json_t *full = NULL, *versions = NULL, *proofs = NULL, *checklist = NULL;
	int64_t *seqs = NULL;
	size_t nseqs = 0;
	struct buf events = BUF_INIT;
	struct checklist_records records;
	const struct bundle_file *cp;
	int rc;

	if ((rc = load_records(&full, &versions, fs, c, change_id, attachments)) ||
	    (rc = evidence_event_seqs(&seqs, &nseqs, out_mtime, c, change_id)) ||
	    (rc = add_audit(&events, &proofs, fs, c, seqs, nseqs, tree_size)))
		goto out;
	cp = bundle_files_get(fs, "audit/checkpoint");
	records = (struct checklist_records){ full, events.data, events.len, proofs, cp->data, cp->len };
	if ((rc = checklist_compute(&checklist, &records)))
		goto out;
	json_object_set(full, "checklist", checklist);
	*out_full = full;
	full = NULL;
	*out_versions = versions;
	versions = NULL;
out:
	buf_release(&events);
	json_decref(proofs);
	json_decref(checklist);
	json_decref(versions);
	json_decref(full);
	free(seqs);
	return rc;
}

/*
 * readbacks.json: per deployment of the change, the read-back an agent made
 * right after it and its comparison with the released and approved trees
 * (domain/readbacks.h) — what runs is what was approved, read from the
 * device rather than typed.  Left out when no deployment was read back.
 */
static int add_readbacks(struct bundle_files *fs, struct db_conn *c, int64_t change_id)
{
	json_t *list = NULL, *kept = json_array(), *x;
	size_t i;
	int rc;

	if ((rc = dom_readback_for_change(&list, c, change_id)))
		goto out;
	json_array_foreach(list, i, x)
		if (json_is_object(json_object_get(x, "readback")))
			json_array_append(kept, x);
	if (json_array_size(kept))
		bundle_files_add_json(fs, "readbacks.json", kept);
out:
	json_decref(list);
	json_decref(kept);
	return rc;
}

/*
 * Append the bundle of change `change_id`, proved against the checkpoint
 * of `tree_size`, to out.  Reads in c's open transaction (REPEATABLE READ,
 * for a consistent view).
 */
static int build(struct buf *out, struct db_conn *c, const struct crypto_ed25519_key *key,
		 int64_t change_id, uint64_t tree_size)
{
	struct bundle_files fs = { 0 };
	json_t *full = NULL, *versions = NULL, *r;
	json_t *changed = json_object();
	int64_t mtime = 0;
	size_t i, cap = out->cap ? out->cap : BUF_DEFAULT_CAP;
	struct buf readme = BUF_INIT;
	char chg[32], name[1200], records_sha256[2 * CRYPTO_SHA256_LEN + 1];
	int rc;

	snprintf(chg, sizeof(chg), "CHG-%" PRId64, change_id);
	if ((rc = gather(&full, &versions, &mtime, &fs, c, change_id, tree_size, true)))
		goto out;
	bundle_files_add_json(&fs, "change.json", full);
	crypto_sha256_hex(records_sha256, bundle_files_get(&fs, "change.json")->data,
			  bundle_files_get(&fs, "change.json")->len);
	if ((rc = add_diffs(changed, &fs, c, versions, cap)) ||
	    (rc = add_report(&fs, full, versions, changed, records_sha256, cap)) ||
	    (rc = add_statements(&fs, full, chg, key)) || (rc = add_readbacks(&fs, c, change_id)))
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
		bundle_files_add(&fs, name, bundle.data, bundle.len);
		buf_release(&bundle);
	}
	if ((rc = buf_addf(&readme, README_FMT, chg, chg)))
		goto out;
	bundle_files_add(&fs, "README.txt", readme.data, readme.len);
	rc = bundle_seal(out, &fs, key, mtime);
out:
	buf_release(&readme);
	json_decref(changed);
	bundle_files_release(&fs);
	json_decref(versions);
	json_decref(full);
	return rc;
}

int dom_evidence_newest_event(uint64_t *out, struct db_conn *c, int64_t change_id)
{
	int64_t *seqs = NULL, at = 0;
	size_t n = 0;
	int rc;

	if ((rc = evidence_event_seqs(&seqs, &n, &at, c, change_id)))
		return rc;
	*out = n ? (uint64_t)seqs[n - 1] : 0;
	free(seqs);
	return 0;
}

int dom_evidence_bundle(struct buf *out, const struct dom *d, struct db_conn *c, int64_t change_id,
			uint64_t tree_size)
{
	if (!d->key)
		return err_set(OTCM_EINTERNAL, NULL, "no signing key to sign evidence with");
	return build(out, c, d->key, change_id, tree_size);
}

int dom_evidence_checklists(json_t **out, struct db_conn *c, const json_t *keys, uint64_t tree_size)
{
	struct checkpoint *cp = NULL;
	json_t *fulls = json_array(), *list = json_array(), *proofs = NULL, *full = NULL, *versions = NULL;
	json_t *doc = NULL, *checklist = NULL;
	const json_t *k;
	int64_t *all = NULL, *seqs = NULL, id, at;
	size_t *counts = NULL, n = json_array_size(keys), nall = 0, cap = 0, nseqs, i, first = 0;
	struct buf lines = BUF_INIT;
	int rc = 0;

	counts = xcalloc(n + 1, sizeof(*counts));
	/* every change's records and events, then all their proofs in one pass over the trail */
	json_array_foreach(keys, i, k) {
		struct bundle_files fs = { 0 };

		rc = changes_parse_key(&id, json_string_value(k));
		if (rc == 0)
			rc = load_records(&full, &versions, &fs, c, id, false);
		bundle_files_release(&fs);
		if (rc || (rc = evidence_event_seqs(&seqs, &nseqs, &at, c, id)))
			goto out;
		json_array_append_new(fulls, full);
		full = NULL;
		json_decref(versions);
		versions = NULL;
		if (nall + nseqs > cap) {
			cap = 2 * (nall + nseqs);
			all = xrealloc(all, cap * sizeof(*all));
		}
		memcpy(all + nall, seqs, nseqs * sizeof(*seqs));
		nall += nseqs;
		counts[i] = nseqs;
		free(seqs);
		seqs = NULL;
	}
	if ((rc = checkpoint_get(&cp, c, tree_size)) ||
	    (rc = checkpoint_inclusions(&proofs, c, all ? all : (int64_t[1]){ 0 }, nall, tree_size)))
		goto out;
	json_array_foreach(keys, i, k) {
		struct checklist_records records;

		if ((rc = audit_part(&lines, &doc, proofs, first, counts[i], tree_size)))
			goto out;
		first += counts[i];
		records = (struct checklist_records){ json_array_get(fulls, i), lines.data, lines.len, doc, cp->note,
						      strlen(cp->note) };
		if ((rc = checklist_compute(&checklist, &records)))
			goto out;
		json_array_append_new(list, json_pack("{s:O, s:o}", "key", k, "checklist", checklist));
		checklist = NULL;
		json_decref(doc);
		doc = NULL;
		buf_release(&lines);
	}
	*out = list;
	list = NULL;
out:
	buf_release(&lines);
	checkpoint_free(cp);
	json_decref(doc);
	json_decref(checklist);
	json_decref(proofs);
	json_decref(full);
	json_decref(versions);
	json_decref(fulls);
	json_decref(list);
	free(all);
	free(seqs);
	free(counts);
	return rc;
}

/* What exporting one kind of record's bundle needs: its events and its builder. */
struct export_kind {
	enum dom_op op;
	const char *action;        /* audited as this, and its refusals too */
	const char *noun;          /* "change", "incident" */
	int (*parse_key)(int64_t *out, const char *key);
	int (*event_seqs)(int64_t **out, size_t *out_n, int64_t *out_at, struct db_conn *c, int64_t id);
	int (*build)(struct buf *out, struct db_conn *c, const struct crypto_ed25519_key *key, int64_t id,
		     uint64_t tree_size);
};

/*
 * Build, sign and audit the bundle of record `key`, proved against the
 * smallest checkpoint that signs its newest event (the same bundle while
 * nothing happens), read in one snapshot.
 */
static int export_bundle(struct buf *out, char out_sha256[2 * CRYPTO_SHA256_LEN + 1],
			 const struct dom *d, const char *key, const struct export_kind *k)
{
	struct checkpoint *cp = NULL;
	struct db_conn *c = NULL;
	json_t *after = NULL;
	int64_t id, *seqs = NULL, at;
	size_t n = 0;
	int rc;

	if ((rc = dom_permit(d, k->op)))
		return rc;
	if (!d->key || !d->origin)
		return err_set(OTCM_EINTERNAL, NULL, "no signing key to sign evidence with");
	buf_init(out, 2 * d->cfg->max_upload_bytes);
	if ((rc = k->parse_key(&id, key)) || (rc = dom_conn(&c, d)) ||
	    (rc = k->event_seqs(&seqs, &n, &at, c, id)))
		goto out;
	if (n == 0) {
		rc = err_set(OTCM_ENOTFOUND, "key", "%s %s has no audit events", k->noun, key);
		goto out;
	}
	rc = checkpoint_cover(&cp, NULL, c, d->key, d->origin, (uint64_t)seqs[n - 1]);
	if (rc == OTCM_ERULE)
		err_set_rule("audit-trail-intact");
	if (rc || (rc = db_begin_snapshot(c, false)) || (rc = k->build(out, c, d->key, id, cp->tree_size)))
		goto out;
	crypto_sha256_hex(out_sha256, out->data, out->len);
	after = json_pack("{s:s, s:I, s:I}", "sha256", out_sha256, "bytes", (json_int_t)out->len,
			  "checkpoint_tree_size", (json_int_t)cp->tree_size);
	if ((rc = dom_audit(d, c, k->action, "evidence", key, NULL, after, NULL)) || (rc = dom_commit(c)))
		goto out;
out:
	if (rc) {
		buf_release(out);
		rc = dom_refused(d, &c, k->action, "evidence", key, rc);
	}
	json_decref(after);
	checkpoint_free(cp);
	free(seqs);
	dom_end(c);
	return rc;
}

int dom_evidence_export(struct buf *out, char out_sha256[2 * CRYPTO_SHA256_LEN + 1],
			const struct dom *d, const char *key)
{
	static const struct export_kind change = { OP_EVIDENCE_EXPORT, "evidence.export", "change",
						   changes_parse_key, evidence_event_seqs, build };

	return export_bundle(out, out_sha256, d, key, &change);
}

/* ---- an incident's evidence ---- */

static const char INCIDENT_README_FMT[] =
	"Evidence bundle of incident %s\n"
	"===============================\n"
	"\n"
	"Made by otcm in the format of its change bundles, checked the same way:\n"
	"`otcm verify THIS.tar [--trust server.pub]` runs every check and exits\n"
	"non-zero on any failure; steps 1, 2, 4, 5 and 6 of a change bundle's\n"
	"README hold for stock tools as they are.\n"
	"\n"
	"Files\n"
	"  incident.json          the incident: what, when detected and judged\n"
	"                         significant (server time), affected assets, each\n"
	"                         report sent (authority, time, who, document name,\n"
	"                         size and SHA-256, and \"file\", its name here), links\n"
	"                         to audit events, changes and test runs, the signed\n"
	"                         review, and \"deadlines\": NIS2 Art. 23(4) as of\n"
	"                         \"deadlines_as_of\", the time of its newest event\n"
	"  reports/ID-NAME        the document of report ID exactly as recorded\n"
	"  statements/review-ID.dsse.json\n"
	"                         an in-toto Statement v1 per review signature in a\n"
	"                         DSSE envelope signed with the server's key\n"
	"  audit/events.jsonl     the incident's audit events and the events it links\n"
	"  audit/proofs.json      per event: prev_hash, event_hash, inclusion proof\n"
	"  audit/checkpoint       the signed checkpoint (C2SP signed note)\n"
	"  trust/server.pub       the server's public key (PEM)\n"
	"  MANIFEST.sha256        SHA-256 of every other file (sha256sum format)\n"
	"  MANIFEST.sha256.sig    raw 64-byte Ed25519 signature of MANIFEST.sha256\n"
	"\n"
	"A report's document: sha256sum reports/ID-NAME equals the report's\n"
	"sha256 in incident.json.  The deadlines: otcm verify computes them again\n"
	"from significant_at, closed_at and the reports' times and refuses an\n"
	"incident.json whose deadlines differ.\n";

/* reports/<id>-<name>: the name with every byte but A-Z a-z 0-9 . _ - as '_'. */
static void report_file(char *out, size_t n, const json_t *r)
{
	const char *fn = jstr(r, "filename");
	char safe[101];
	size_t j = 0;

	for (; *fn && j < sizeof(safe) - 1; fn++) {
		char ch = *fn;
		bool keep = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
			    ch == '.' || ch == '_' || ch == '-';

		safe[j++] = keep ? ch : '_';
	}
	safe[j] = '\0';
	snprintf(out, n, "reports/%" JSON_INTEGER_FORMAT "-%s", json_integer_value(json_object_get(r, "id")),
		 j ? safe : "report");
}

static int build_incident(struct buf *out, struct db_conn *c, const struct crypto_ed25519_key *key,
			  int64_t id, uint64_t tree_size)
{
	struct bundle_files fs = { 0 };
	struct buf readme = BUF_INIT, events = BUF_INIT;
	json_t *inc = NULL, *proofs = NULL, *deadlines = NULL, *r, *pred;
	int64_t *seqs = NULL, mtime = 0;
	size_t nseqs = 0, i;
	char key_text[32], name[160], as_of[TIME_RFC3339_LEN];
	int rc;

	snprintf(key_text, sizeof(key_text), "INC-%" PRId64, id);
	if ((rc = incidents_get(&inc, c, id)) || (rc = incidents_event_seqs(&seqs, &nseqs, &mtime, c, id)))
		goto out;
	json_object_del(inc, "now");
	json_array_foreach(json_object_get(inc, "reports"), i, r) {
		void *data = NULL;
		size_t len = 0;
		json_t *meta = NULL;

		if ((rc = incidents_report_content(&data, &len, &meta, c, id,
						   json_integer_value(json_object_get(r, "id")))))
			goto out;
		json_decref(meta);
		report_file(name, sizeof(name), r);
		bundle_files_take(&fs, name, data, len);
		json_object_set_new(r, "file", json_string(name));
	}
	/* the deadlines as of the newest event: the same bytes while nothing happens */
	time_format_rfc3339(as_of, mtime * 1000000);
	if ((rc = dom_incident_deadlines(&deadlines, inc, mtime * 1000000)))
		goto out;
	json_object_set_new(inc, "deadlines_as_of", json_string(as_of));
	json_object_set(inc, "deadlines", deadlines);
	bundle_files_add_json(&fs, "incident.json", inc);
	json_array_foreach(json_object_get(inc, "reviews"), i, r) {
		json_t *subjects = json_pack("[{s:s, s:{s:s}}]", "name", "signed-content", "digest", "sha256",
					     jstr(r, "content_sha256"));

		pred = json_pack("{s:s, s:O, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "incident", key_text,
				 "review_id", json_object_get(r, "id"), "meaning", jstr(r, "meaning"),
				 "signer", jstr(r, "signer"), "printed_name", jstr(r, "printed_name"),
				 "role", jstr(r, "role"), "signed_at", jstr(r, "signed_at"),
				 "reauthenticated_with", jstr(r, "reauthenticated_with"),
				 "content_sha256", jstr(r, "content_sha256"));
		snprintf(name, sizeof(name), "statements/review-%" JSON_INTEGER_FORMAT ".dsse.json",
			 json_integer_value(json_object_get(r, "id")));
		if ((rc = add_statement(&fs, name, dsse_statement(subjects, BUNDLE_PRED_REVIEW, pred), key)))
			goto out;
	}
	if ((rc = add_audit(&events, &proofs, &fs, c, seqs, nseqs, tree_size)) ||
	    (rc = buf_addf(&readme, INCIDENT_README_FMT, key_text)))
		goto out;
	bundle_files_add(&fs, "README.txt", readme.data, readme.len);
	rc = bundle_seal(out, &fs, key, mtime);
out:
	buf_release(&readme);
	buf_release(&events);
	json_decref(proofs);
	json_decref(deadlines);
	json_decref(inc);
	bundle_files_release(&fs);
	free(seqs);
	return rc;
}

int dom_incident_evidence_export(struct buf *out, char out_sha256[2 * CRYPTO_SHA256_LEN + 1],
				 const struct dom *d, const char *key)
{
	static const struct export_kind incident = { OP_INCIDENT_EVIDENCE, "incident.evidence", "incident",
						     dom_incident_parse_key, incidents_event_seqs,
						     build_incident };

	return export_bundle(out, out_sha256, d, key, &incident);
}
