/*
 * server/h_protocols.c - test protocol templates, test runs and their steps.
 *
 *   POST /api/v1/protocols                       qa, admin: a new template, or the next
 *                                                version of one with the same name
 *   GET  /api/v1/protocols                       all but agent (?name=)
 *   GET  /api/v1/protocols/{id}                  all but agent
 *   POST /api/v1/changes/{key}/test-runs         qa, admin
 *   GET  /api/v1/changes/{key}/test-runs         all but agent
 *   GET  /api/v1/test-runs/{id}                  all but agent
 *   PUT  /api/v1/test-runs/{id}/steps/{no}       qa, admin
 *   POST /api/v1/test-runs/{id}/steps/{no}/attachments        qa, admin (multipart "file")
 *   GET  /api/v1/test-runs/{id}/attachments/{attachment_id}   all but agent
 *
 * A run binds one protocol version to one change, one asset and the exact
 * commit and tree of the change branch under test.  Templates are never
 * edited in place.  A run completes when its tester signs it "tested"
 * (h_signatures.c); its verdict is computed then from the steps, and from
 * then on its steps and attachments no longer change (rule run-completed).
 * Attachments are git blobs of the run's asset, typed by their bytes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/err.h"
#include "core/utf8.h"
#include "server/handlers.h"
#include "domain/rules.h"
#include "server/svc.h"
#include "storage/changes.h"
#include "storage/deployments.h"
#include "storage/runs.h"
#include "storage/signatures.h"
#include "storage/repo.h"

#define PROTOCOL_MAX_STEPS 500
#define STEP_TEXT_MAX 4000
#define ATTACHMENT_NAME_MAX 255

static int parse_id(int64_t *out, const char *s, const char *what)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (*s == '\0' || *end || v <= 0)
		return err_set(OTCM_ENOTFOUND, "id", "%s '%.40s' not found", what, s);
	*out = v;
	return 0;
}

static int check_steps(const json_t *steps)
{
	static const char *const fields[] = { "instruction", "expected", NULL };
	json_t *s;
	size_t i;
	int rc;

	if (!json_is_array(steps) || json_array_size(steps) == 0 ||
	    json_array_size(steps) > PROTOCOL_MAX_STEPS)
		return err_set(OTCM_EINVAL, "steps", "'steps' must be 1 to %d steps", PROTOCOL_MAX_STEPS);
	json_array_foreach(steps, i, s) {
		const char *ins, *exp;

		if (!json_is_object(s))
			return err_set(OTCM_EINVAL, "steps", "step %zu must be {instruction, expected}", i + 1);
		if ((rc = json_only_fields((json_t *)s, fields)) ||
		    (rc = json_get_str((json_t *)s, "instruction", true, &ins)) ||
		    (rc = json_get_str((json_t *)s, "expected", true, &exp)))
			return err_set(rc, "steps", "step %zu: %s", i + 1, err_message());
		if (strlen(ins) > STEP_TEXT_MAX || strlen(exp) > STEP_TEXT_MAX)
			return err_set(OTCM_EINVAL, "steps", "step %zu is longer than %d characters", i + 1,
				       STEP_TEXT_MAX);
	}
	return 0;
}

int h_protocols_create(struct http_req *req)
{
	static const char *const fields[] = { "name", "kind", "title", "witness_required", "steps", NULL };
	json_t *body = NULL, *after = NULL;
	struct db_conn *c = NULL;
	const char *name, *kind, *title;
	bool witness = false;
	size_t i;
	int rc;

	if ((rc = svc_body_json(&body, req)) || (rc = json_only_fields(body, fields)) ||
	    (rc = json_get_str(body, "name", true, &name)) ||
	    (rc = json_get_str(body, "kind", true, &kind)) ||
	    (rc = json_get_str(body, "title", true, &title)) ||
	    (rc = json_get_bool(body, "witness_required", false, &witness)) ||
	    (rc = check_steps(json_object_get(body, "steps"))))
		goto out;
	if (strlen(name) > 100) {
		rc = err_set(OTCM_EINVAL, "name", "'name' must be 100 characters at most");
		goto out;
	}
	for (i = 0; name[i]; i++)
		if (!(name[i] == '-' || name[i] == '_' || name[i] == '.' ||
		      (name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= 'A' && name[i] <= 'Z')) || (i == 0 && !(name[0] >= '0' && name[0] <= 'z'))) {
			rc = err_set(OTCM_EINVAL, "name", "'name' may hold letters, digits, '.', '_' and '-'");
			goto out;
		}
	if (strcmp(kind, "fat") && strcmp(kind, "sat")) {
		rc = err_set(OTCM_EINVAL, "kind", "'kind' must be fat or sat");
		goto out;
	}
	if (strlen(title) > 200) {
		rc = err_set(OTCM_EINVAL, "title", "'title' must be 200 characters at most");
		goto out;
	}
	if ((rc = svc_begin(&c, req)) ||
	    (rc = protocols_create(&after, c, name, kind, title, witness, json_object_get(body, "steps"),
				   req->who.user_id)) ||
	    (rc = svc_audit(req, c, "protocol.create", "protocol",
			    arena_printf(req->arena, "%" JSON_INTEGER_FORMAT,
					 json_integer_value(json_object_get(after, "id"))), NULL, after)) ||
	    (rc = svc_commit(c)))
		goto out;
	rc = http_reply_json(req, 201, after);
	after = NULL;
out:
	svc_end(c);
	json_decref(body);
	json_decref(after);
	return rc;
}

int h_protocols_list(struct http_req *req)
{
	struct db_conn *c = NULL;
	json_t *list = NULL;
	int rc;

	if ((rc = svc_conn(&c, req)) || (rc = protocols_list(&list, c, http_query(req, "name"))))
		goto out;
	rc = http_reply_json(req, 200, json_pack("{s:o}", "items", list));
out:
	svc_end(c);
	return rc;
}

int h_protocols_get(struct http_req *req)
{
	struct db_conn *c = NULL;
	json_t *p = NULL;
	int64_t id;
	int rc;

	if ((rc = parse_id(&id, http_param(req, 0), "protocol")))
		return rc;
	if ((rc = svc_conn(&c, req)) || (rc = protocols_get(&p, c, id)))
		goto out;
	rc = http_reply_json(req, 200, p);
out:
	svc_end(c);
	return rc;
}

int h_runs_create(struct http_req *req)
{
	static const char *const fields[] = { "protocol_id", "asset_id", "commit", NULL };
	json_t *body = NULL, *protocol = NULL, *after = NULL;
	struct db_conn *c = NULL;
	struct change_facts facts;
	struct rules_change view;
	const char *key = http_param(req, 0), *commit = NULL, *tree = NULL, *kind;
	int64_t id = 0, protocol_id = 0, asset = 0, run = 0;
	size_t i;
	bool found = false;
	int rc;

	if ((rc = changes_parse_key(&id, key)) || (rc = svc_body_json(&body, req)) ||
	    (rc = json_only_fields(body, fields)) ||
	    (rc = json_get_int(body, "protocol_id", true, &protocol_id)) ||
	    (rc = json_get_int(body, "asset_id", true, &asset)) ||
	    (rc = json_get_str(body, "commit", false, &commit)))
		goto out;
	if ((rc = svc_begin(&c, req)) ||
	    (rc = changes_lock(&facts.state, &facts.requester_id, req->arena, c, id)) ||
	    (rc = chg_load(&view, &facts, req, c, id)))
		goto out;
	rc = protocols_get(&protocol, c, protocol_id);
	if (rc == OTCM_ENOTFOUND)
		rc = err_set(OTCM_EINVAL, "protocol_id", "protocol %" PRId64 " not found", protocol_id);
	if (rc)
		goto out;
	kind = json_string_value(json_object_get(protocol, "kind"));
	for (i = 0; i < facts.nassets; i++)
		if (facts.assets[i].asset_id == asset) {
			found = true;
			if (!commit)
				commit = facts.assets[i].commit;
		}
	if (!found) {
		rc = err_set(OTCM_EINVAL, "asset_id", "asset %" PRId64 " is not affected by '%s'", asset, key);
		goto out;
	}
	if (!commit) {
		rc = err_set(OTCM_EINVAL, "asset_id", "asset %" PRId64 " has no version on the change branch yet", asset);
		goto out;
	}
	if ((rc = changes_version_tree(&tree, req->arena, c, id, asset, commit)))
		goto out;
	if ((rc = rules_can_start_run(&view, kind))) {
		rc = chg_refused(req, &c, "test-run.refused", "change", key, rc);
		goto out;
	}
	if ((rc = runs_create(&run, c, id, asset, protocol_id, commit, tree, req->who.user_id)) ||
	    (rc = runs_get(&after, c, run, false)) ||
	    (rc = svc_audit(req, c, "test-run.create", "test-run",
			    arena_printf(req->arena, "%" PRId64, run), NULL, after)) ||
	    (rc = svc_commit(c)))
		goto out;
	http_set_header(req, "Location", arena_printf(req->arena, "/api/v1/test-runs/%" PRId64, run));
	rc = http_reply_json(req, 201, after);
	after = NULL;
out:
	svc_end(c);
	json_decref(body);
	json_decref(protocol);
	json_decref(after);
	return rc;
}

int h_runs_list(struct http_req *req)
{
	struct db_conn *c = NULL;
	json_t *list = NULL, *change = NULL;
	int64_t id;
	int rc;

	if ((rc = changes_parse_key(&id, http_param(req, 0))))
		return rc;
	if ((rc = svc_conn(&c, req)) || (rc = changes_get(&change, c, id)) ||
	    (rc = runs_list(&list, c, id)))
		goto out;
	rc = http_reply_json(req, 200, json_pack("{s:o}", "items", list));
out:
	json_decref(change);
	svc_end(c);
	return rc;
}

int h_runs_get(struct http_req *req)
{
	struct db_conn *c = NULL;
	json_t *run = NULL;
	int64_t id;
	int rc;

	if ((rc = parse_id(&id, http_param(req, 0), "test run")))
		return rc;
	if ((rc = svc_conn(&c, req)) || (rc = runs_get(&run, c, id, false)))
		goto out;
	rc = http_reply_json(req, 200, run);
out:
	svc_end(c);
	return rc;
}

static int check_step_text(const char *v, const char *field)
{
	if (v && strlen(v) > STEP_TEXT_MAX)
		return err_set(OTCM_EINVAL, field, "'%s' must be %d characters at most", field, STEP_TEXT_MAX);
	return 0;
}

/*
 * Open the transaction of a write to step `no` of run `run`: lock the
 * run's change (writes to one change queue on its row), read the run
 * again under that lock, and refuse with a rule, audited as `action`,
 * when the run is completed (signed tested) or stale.
 */
static int step_begin(struct db_conn **c, struct run_facts *rf, struct http_req *req,
		      int64_t run, int64_t no, const char *sid, const char *action)
{
	const char *state;
	int64_t requester = 0;
	int rc;

	if ((rc = svc_begin(c, req)) || (rc = runs_facts(rf, req->arena, *c, run)) ||
	    (rc = changes_lock(&state, &requester, req->arena, *c, rf->change_id)) ||
	    (rc = runs_facts(rf, req->arena, *c, run)))
		return rc;
	if ((size_t)no > rf->nsteps)
		return err_set(OTCM_ENOTFOUND, "no", "the protocol has no step %" PRId64, no);
	if (strcmp(rf->state, "open")) {
		err_set(OTCM_ERULE, "no", "the run is complete: its steps no longer change");
		err_set_rule("run-completed");
		return chg_refused(req, c, action, "test-run", sid, OTCM_ERULE);
	}
	if (rf->stale) {
		err_set(OTCM_ERULE, "no", "a newer version was uploaded for this asset: start a new run");
		err_set_rule("stale-run");
		return chg_refused(req, c, action, "test-run", sid, OTCM_ERULE);
	}
	return 0;
}

int h_runs_step(struct http_req *req)
{
	static const char *const fields[] = { "result", "observed", "comment", "deviation",
					      "disposition", NULL };
	json_t *body = NULL, *before = NULL, *after = NULL;
	struct db_conn *c = NULL;
	struct run_facts rf;
	struct run_step s;
	const char *sid = http_param(req, 0), *sno = http_param(req, 1);
	int64_t run = 0, no = 0;
	int rc;

	memset(&s, 0, sizeof(s));
	if ((rc = parse_id(&run, sid, "test run")) || (rc = parse_id(&no, sno, "step")) ||
	    (rc = svc_body_json(&body, req)) || (rc = json_only_fields(body, fields)) ||
	    (rc = json_get_str(body, "result", true, &s.result)) ||
	    (rc = json_get_str(body, "observed", false, &s.observed)) ||
	    (rc = json_get_str(body, "comment", false, &s.comment)) ||
	    (rc = json_get_str(body, "deviation", false, &s.deviation)) ||
	    (rc = json_get_str(body, "disposition", false, &s.disposition)) ||
	    (rc = check_step_text(s.observed, "observed")) || (rc = check_step_text(s.comment, "comment")) ||
	    (rc = check_step_text(s.deviation, "deviation")))
		goto out;
	if (strcmp(s.result, "pass") && strcmp(s.result, "fail") && strcmp(s.result, "n/a")) {
		rc = err_set(OTCM_EINVAL, "result", "'result' must be pass, fail or n/a");
		goto out;
	}
	if (s.disposition && !rules_disposition_valid(s.disposition)) {
		rc = err_set(OTCM_EINVAL, "disposition", "'disposition' must be accepted or rejected");
		goto out;
	}
	if (s.disposition && !s.deviation) {
		rc = err_set(OTCM_EINVAL, "deviation", "a disposition belongs to a 'deviation'");
		goto out;
	}
	s.no = (int)no;
	if ((rc = step_begin(&c, &rf, req, run, no, sid, "test-run.step.refused")))
		goto out;
	if (rf.results[no - 1])
		before = json_pack("{s:I, s:s, s:s?}", "no", (json_int_t)no, "result", rf.results[no - 1],
				   "disposition", rf.dispositions[no - 1]);
	after = json_pack("{s:I, s:s, s:s?, s:s?, s:s?, s:s?}", "no", (json_int_t)no, "result", s.result,
			  "observed", s.observed, "comment", s.comment, "deviation", s.deviation,
			  "disposition", s.disposition);
	if ((rc = runs_record_step(c, run, &s, req->who.user_id)) ||
	    (rc = svc_audit(req, c, "test-run.step", "test-run", sid, before, after)))
		goto out;
	json_decref(after);
	after = NULL;
	if ((rc = runs_get(&after, c, run, false)) || (rc = svc_commit(c)))
		goto out;
	rc = http_reply_json(req, 200, after);
	after = NULL;
out:
	svc_end(c);
	json_decref(body);
	json_decref(before);
	json_decref(after);
	return rc;
}

/* ---- attachments ---- */

/* Text: valid UTF-8 without control characters other than tab, line ends, form feed and escape. */
static bool is_text(const unsigned char *d, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((d[i] < 0x20 && d[i] != '\t' && d[i] != '\n' && d[i] != '\r' && d[i] != '\f' &&
		     d[i] != 0x1b) || d[i] == 0x7f)
			return false;
	return utf8_valid((const char *)d, n);
}

static bool ends_with_ci(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix), i;

	if (n < m)
		return false;
	for (i = 0; i < m; i++) {
		char a = s[n - m + i];

		if ((a >= 'A' && a <= 'Z' ? (char)(a + 32) : a) != suffix[i])
			return false;
	}
	return true;
}

/*
 * What the bytes are, whatever the client said: PNG, JPEG and PDF by
 * their signatures, text (a log; CSV when the name says so) by being
 * UTF-8 without binary control characters.  NULL for anything else.
 */
static const char *sniff_type(const unsigned char *d, size_t n, const char *filename)
{
	if (n >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0)
		return "image/png";
	if (n >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff)
		return "image/jpeg";
	if (n >= 5 && memcmp(d, "%PDF-", 5) == 0)
		return "application/pdf";
	if (is_text(d, n))
		return ends_with_ci(filename, ".csv") ? "text/csv" : "text/plain";
	return NULL;
}

/* The part's file name without folders; "attachment" when none is given. */
static int attachment_name(const char **out, struct http_req *req, const struct http_part *p)
{
	const char *name = p->filename && *p->filename ? p->filename : "attachment", *slash;
	size_t i, n;

	for (slash = name; *slash; slash++)
		if (*slash == '/' || *slash == '\\')
			name = slash + 1;
	n = strlen(name);
	if (n == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		name = "attachment";
	n = strlen(name);
	if (n > ATTACHMENT_NAME_MAX)
		return err_set(OTCM_EINVAL, "file", "file name '%.40s...' is longer than %d bytes", name,
			       ATTACHMENT_NAME_MAX);
	for (i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f || name[i] == '"')
			return err_set(OTCM_EINVAL, "file", "file name holds a control character or a quote");
	if (!utf8_valid(name, n))
		return err_set(OTCM_EINVAL, "file", "file name is not valid UTF-8");
	*out = arena_strdup(req->arena, name);
	return 0;
}

int h_attachments_create(struct http_req *req)
{
	const struct http_part *file = NULL;
	json_t *after = NULL;
	struct db_conn *c = NULL;
	struct run_facts rf;
	struct repo *r = NULL;
	struct attachment_record a;
	const char *sid = http_param(req, 0), *sno = http_param(req, 1), *name = NULL, *type;
	char blob[REPO_OID_HEX], sha[2 * CRYPTO_SHA256_LEN + 1];
	int64_t run = 0, no = 0;
	size_t i;
	int rc;

	if ((rc = parse_id(&run, sid, "test run")) || (rc = parse_id(&no, sno, "step")))
		goto out;
	for (i = 0; i < req->nparts; i++) {
		if (!req->parts[i].name || strcmp(req->parts[i].name, "file"))
			continue;
		if (file) {
			rc = err_set(OTCM_EINVAL, "file", "one 'file' per attachment");
			goto out;
		}
		file = &req->parts[i];
	}
	if (!file) {
		rc = err_set(OTCM_EINVAL, "file", "'file' is required: a multipart/form-data part");
		goto out;
	}
	if (file->len > req->srv->cfg->max_attachment) {
		rc = err_set(OTCM_ETOOBIG, "file", "'file' is larger than %llu bytes",
			     (unsigned long long)req->srv->cfg->max_attachment);
		goto out;
	}
	if (file->len == 0) {
		rc = err_set(OTCM_EINVAL, "file", "'file' is empty");
		goto out;
	}
	if ((rc = attachment_name(&name, req, file)))
		goto out;
	type = sniff_type((const unsigned char *)file->data, file->len, name);
	if (!type) {
		rc = err_set(OTCM_EMEDIA, "file",
			     "'file' is not a PNG or JPEG photo, a PDF, or a text log or CSV");
		goto out;
	}
	if ((rc = step_begin(&c, &rf, req, run, no, sid, "test-run.attachment.refused")))
		goto out;
	crypto_sha256_hex(sha, file->data, file->len);
	if ((rc = repo_open(&r, c, rf.asset_id)) || (rc = repo_blob_write(blob, r, file->data, file->len)))
		goto out;
	memset(&a, 0, sizeof(a));
	a.run_id = run;
	a.no = (int)no;
	a.blob = blob;
	a.filename = name;
	a.content_type = type;
	a.sha256 = sha;
	a.size = file->len;
	a.uploaded_by = req->who.user_id;
	if ((rc = attachments_insert(&after, c, &a)) ||
	    (rc = svc_audit(req, c, "test-run.attachment", "test-run", sid, NULL, after)) ||
	    (rc = svc_commit(c)))
		goto out;
	http_set_header(req, "Location",
			arena_printf(req->arena, "/api/v1/test-runs/%" PRId64 "/attachments/%" JSON_INTEGER_FORMAT,
				     run, json_integer_value(json_object_get(after, "id"))));
	rc = http_reply_json(req, 201, after);
	after = NULL;
out:
	repo_free(r);
	svc_end(c);
	json_decref(after);
	return rc;
}

/* A file name for Content-Disposition: ASCII with unsafe characters as '_'. */
static const char *ascii_name(struct http_req *req, const char *name)
{
	char *out = arena_strdup(req->arena, name), *p;

	for (p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f || *p == '"' || *p == '\\' ||
		    *p == ';')
			*p = '_';
	return out;
}

/* RFC 8187 ext-value: UTF-8 with everything but attr-chars percent-encoded. */
static const char *ext_name(struct http_req *req, const char *name)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(name), i, j = 0;
	char *out = arena_alloc(req->arena, 3 * n + 1);

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    strchr("!#$&+-.^_`|~", ch)) {
			out[j++] = (char)ch;
		} else {
			out[j++] = '%';
			out[j++] = hex[ch >> 4];
			out[j++] = hex[ch & 15];
		}
	}
	out[j] = '\0';
	return out;
}

int h_attachments_get(struct http_req *req)
{
	struct db_conn *c = NULL;
	struct repo *r = NULL;
	struct run_facts rf;
	json_t *a = NULL;
	const char *name;
	void *data = NULL;
	size_t len = 0;
	int64_t run = 0, id = 0;
	int rc;

	if ((rc = parse_id(&run, http_param(req, 0), "test run")) ||
	    (rc = parse_id(&id, http_param(req, 1), "attachment")))
		return rc;
	if ((rc = svc_conn(&c, req)) || (rc = attachments_get(&a, c, run, id)) ||
	    (rc = runs_facts(&rf, req->arena, c, run)) || (rc = repo_open(&r, c, rf.asset_id)) ||
	    (rc = repo_blob_read(&data, &len, r, json_string_value(json_object_get(a, "blob")))))
		goto out;
	name = json_string_value(json_object_get(a, "filename"));
	http_set_header(req, "Content-Disposition",
			arena_printf(req->arena, "attachment; filename=\"%s\"; filename*=UTF-8''%s",
				     ascii_name(req, name), ext_name(req, name)));
	http_set_header(req, "Content-Security-Policy", "sandbox; default-src 'none'");
	rc = http_reply_bytes(req, 200, json_string_value(json_object_get(a, "content_type")), data, len);
out:
	free(data);
	repo_free(r);
	json_decref(a);
	svc_end(c);
	return rc;
}
