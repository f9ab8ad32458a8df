/* domain/runs.c - test protocols, runs, steps and attachments; see runs.h. */
#include "domain/runs.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/err.h"
#include "core/utf8.h"
#include "domain/changes.h"
#include "domain/rules.h"
#include "storage/changes.h"
#include "storage/repo.h"
#include "storage/runs.h"

#define PROTOCOL_MAX_STEPS 500
#define PROTOCOL_NAME_MAX 100
#define PROTOCOL_TITLE_MAX 200
#define STEP_TEXT_MAX 4000
#define ATTACHMENT_NAME_MAX 255

int dom_run_parse_id(int64_t *out, const char *s, const char *what)
{
	char *end;
	long long v;

	if (!s)
		return err_set(OTCM_ENOTFOUND, "id", "%s not found", what);
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end || v <= 0)
		return err_set(OTCM_ENOTFOUND, "id", "%s '%.40s' not found", what, s);
	*out = v;
	return 0;
}

/* The body as jansson's mutable type: the readers of core/json.h do not change it. */
static json_t *body_of(const json_t *in)
{
	return (json_t *)in;
}

/* ---- protocols ---- */

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

static int check_name(const char *name)
{
	size_t i;

	if (strlen(name) > PROTOCOL_NAME_MAX)
		return err_set(OTCM_EINVAL, "name", "'name' must be %d characters at most", PROTOCOL_NAME_MAX);
	for (i = 0; name[i]; i++)
		if (!(name[i] == '-' || name[i] == '_' || name[i] == '.' ||
		      (name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= 'A' && name[i] <= 'Z')) || (i == 0 && !(name[0] >= '0' && name[0] <= 'z')))
			return err_set(OTCM_EINVAL, "name", "'name' may hold letters, digits, '.', '_' and '-'");
	return 0;
}

int dom_protocol_create(json_t **out, const struct dom *d, const json_t *in)
{
	static const char *const fields[] = { "name", "kind", "title", "witness_required", "steps", NULL };
	json_t *body = body_of(in), *after = NULL;
	struct db_conn *c = NULL;
	const char *name, *kind, *title;
	bool witness = false;
	int rc;

	if ((rc = dom_permit(d, OP_PROTOCOL_CREATE)))
		return rc;
	if ((rc = json_only_fields(body, fields)) || (rc = json_get_str(body, "name", true, &name)) ||
	    (rc = json_get_str(body, "kind", true, &kind)) ||
	    (rc = json_get_str(body, "title", true, &title)) ||
	    (rc = json_get_bool(body, "witness_required", false, &witness)) ||
	    (rc = check_steps(json_object_get(body, "steps"))) || (rc = check_name(name)))
		goto out;
	if (strcmp(kind, "fat") && strcmp(kind, "sat")) {
		rc = err_set(OTCM_EINVAL, "kind", "'kind' must be fat or sat");
		goto out;
	}
	if (strlen(title) > PROTOCOL_TITLE_MAX) {
		rc = err_set(OTCM_EINVAL, "title", "'title' must be %d characters at most", PROTOCOL_TITLE_MAX);
		goto out;
	}
	if ((rc = dom_begin(&c, d)) ||
	    (rc = protocols_create(&after, c, name, kind, title, witness, json_object_get(body, "steps"),
				   d->who->user_id)) ||
	    (rc = dom_audit(d, c, "protocol.create", "protocol",
			    arena_printf(d->arena, "%" JSON_INTEGER_FORMAT,
					 json_integer_value(json_object_get(after, "id"))), NULL, after, NULL)) ||
	    (rc = dom_commit(c)))
		goto out;
	*out = after;
	after = NULL;
out:
	dom_end(c);
	json_decref(after);
	return rc;
}

int dom_protocol_list(json_t **out, const struct dom *d, const char *name)
{
	struct db_conn *c = NULL;
	json_t *list = NULL;
	int rc;

	if ((rc = dom_permit(d, OP_PROTOCOL_READ)))
		return rc;
	if ((rc = dom_conn(&c, d)) == 0 && (rc = protocols_list(&list, c, name)) == 0)
		*out = json_pack("{s:o}", "items", list);
	dom_end(c);
	return rc;
}

int dom_protocol_read(json_t **out, const struct dom *d, const char *id)
{
	struct db_conn *c = NULL;
	int64_t pid;
	int rc;

	if ((rc = dom_permit(d, OP_PROTOCOL_READ)))
		return rc;
	if ((rc = dom_run_parse_id(&pid, id, "protocol")))
		return rc;
	if ((rc = dom_conn(&c, d)) == 0)
		rc = protocols_get(out, c, pid);
	dom_end(c);
	return rc;
}

/* ---- runs ---- */

int dom_run_create(json_t **out, const struct dom *d, const char *key, const json_t *in)
{
	static const char *const fields[] = { "protocol_id", "asset_id", "commit", NULL };
	json_t *body = body_of(in), *protocol = NULL, *after = NULL;
	struct db_conn *c = NULL;
	struct dom_change_state ch;
	const char *commit = NULL, *tree = NULL, *kind;
	int64_t protocol_id = 0, asset = 0, run = 0;
	size_t i;
	bool found = false;
	int rc;

	memset(&ch, 0, sizeof(ch));
	if ((rc = dom_permit(d, OP_RUN_CREATE)))
		return rc;
	if ((rc = json_only_fields(body, fields)) ||
	    (rc = json_get_int(body, "protocol_id", true, &protocol_id)) ||
	    (rc = json_get_int(body, "asset_id", true, &asset)) ||
	    (rc = json_get_str(body, "commit", false, &commit)))
		goto out;
	if ((rc = dom_begin(&c, d)) || (rc = dom_change_lock(&ch, d, c, key)))
		goto out;
	rc = protocols_get(&protocol, c, protocol_id);
	if (rc == OTCM_ENOTFOUND)
		rc = err_set(OTCM_EINVAL, "protocol_id", "protocol %" PRId64 " not found", protocol_id);
	if (rc)
		goto out;
	kind = json_string_value(json_object_get(protocol, "kind"));
	for (i = 0; i < ch.facts.nassets; i++)
		if (ch.facts.assets[i].asset_id == asset) {
			found = true;
			if (!commit)
				commit = ch.facts.assets[i].commit;
		}
	if (!found) {
		rc = err_set(OTCM_EINVAL, "asset_id", "asset %" PRId64 " is not affected by '%s'", asset, ch.key);
		goto out;
	}
	if (!commit) {
		rc = err_set(OTCM_EINVAL, "asset_id", "asset %" PRId64 " has no version on the change branch yet", asset);
		goto out;
	}
	if ((rc = changes_version_tree(&tree, d->arena, c, ch.id, asset, commit)) ||
	    (rc = rules_can_start_run(&ch.view, kind)))
		goto out;
	if ((rc = runs_create(&run, c, ch.id, asset, protocol_id, commit, tree, d->who->user_id)) ||
	    (rc = runs_get(&after, c, run, false)) ||
	    (rc = dom_audit(d, c, "test-run.create", "test-run", arena_printf(d->arena, "%" PRId64, run),
			    NULL, after, NULL)) ||
	    (rc = dom_commit(c)))
		goto out;
	*out = after;
	after = NULL;
out:
	if (rc)
		rc = dom_refused(d, &c, "test-run.refused", "change", ch.key ? ch.key : key, rc);
	dom_end(c);
	json_decref(protocol);
	json_decref(after);
	return rc;
}

int dom_run_list(json_t **out, const struct dom *d, const char *key)
{
	struct db_conn *c = NULL;
	json_t *list = NULL, *change = NULL;
	int64_t id;
	int rc;

	if ((rc = dom_permit(d, OP_RUN_READ)))
		return rc;
	if ((rc = changes_parse_key(&id, key)))
		return rc;
	if ((rc = dom_conn(&c, d)) || (rc = changes_get(&change, c, id)) || (rc = runs_list(&list, c, id)))
		goto out;
	*out = json_pack("{s:o}", "items", list);
out:
	json_decref(change);
	dom_end(c);
	return rc;
}

int dom_run_read(json_t **out, const struct dom *d, const char *id)
{
	struct db_conn *c = NULL;
	int64_t run;
	int rc;

	if ((rc = dom_permit(d, OP_RUN_READ)))
		return rc;
	if ((rc = dom_run_parse_id(&run, id, "test run")))
		return rc;
	if ((rc = dom_conn(&c, d)) == 0)
		rc = runs_get(out, c, run, false);
	dom_end(c);
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
 * again under that lock, and refuse with a rule when the run is completed
 * (signed tested) or stale.  The caller audits the refusal.
 */
static int step_begin(struct db_conn **c, struct run_facts *rf, const struct dom *d, int64_t run,
		      int64_t no)
{
	const char *state;
	int64_t requester = 0;
	int rc;

	if ((rc = dom_begin(c, d)) || (rc = runs_facts(rf, d->arena, *c, run)) ||
	    (rc = changes_lock(&state, &requester, d->arena, *c, rf->change_id)) ||
	    (rc = runs_facts(rf, d->arena, *c, run)))
		return rc;
	if ((size_t)no > rf->nsteps)
		return err_set(OTCM_ENOTFOUND, "no", "the protocol has no step %" PRId64, no);
	if (strcmp(rf->state, "open")) {
		err_set(OTCM_ERULE, "no", "the run is complete: its steps no longer change");
		err_set_rule("run-completed");
		return OTCM_ERULE;
	}
	if (rf->stale) {
		err_set(OTCM_ERULE, "no", "a newer version was uploaded for this asset: start a new run");
		err_set_rule("stale-run");
		return OTCM_ERULE;
	}
	return 0;
}

int dom_run_step(json_t **out, const struct dom *d, const char *id, const char *sno, const json_t *in)
{
	static const char *const fields[] = { "result", "observed", "comment", "deviation",
					      "disposition", NULL };
	json_t *body = body_of(in), *before = NULL, *after = NULL;
	struct db_conn *c = NULL;
	struct run_facts rf;
	struct run_step s;
	int64_t run = 0, no = 0;
	int rc;

	if ((rc = dom_permit(d, OP_RUN_STEP)))
		return rc;
	memset(&s, 0, sizeof(s));
	if ((rc = dom_run_parse_id(&run, id, "test run")) || (rc = dom_run_parse_id(&no, sno, "step")) ||
	    (rc = json_only_fields(body, fields)) || (rc = json_get_str(body, "result", true, &s.result)) ||
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
	if ((rc = step_begin(&c, &rf, d, run, no)))
		goto out;
	if (rf.results[no - 1])
		before = json_pack("{s:I, s:s, s:s?}", "no", (json_int_t)no, "result", rf.results[no - 1],
				   "disposition", rf.dispositions[no - 1]);
	after = json_pack("{s:I, s:s, s:s?, s:s?, s:s?, s:s?}", "no", (json_int_t)no, "result", s.result,
			  "observed", s.observed, "comment", s.comment, "deviation", s.deviation,
			  "disposition", s.disposition);
	if ((rc = runs_record_step(c, run, &s, d->who->user_id)) ||
	    (rc = dom_audit(d, c, "test-run.step", "test-run", id, before, after, NULL)))
		goto out;
	json_decref(after);
	after = NULL;
	if ((rc = runs_get(&after, c, run, false)) || (rc = dom_commit(c)))
		goto out;
	*out = after;
	after = NULL;
out:
	if (rc)
		rc = dom_refused(d, &c, "test-run.step.refused", "test-run", id, rc);
	dom_end(c);
	json_decref(before);
	json_decref(after);
	return rc;
}

/* ---- attachments ---- */

/* Text: valid UTF-8 without control characters other than tab, line ends, form feed and escape. */
static bool is_text(const unsigned char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((b[i] < 0x20 && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' && b[i] != '\f' &&
		     b[i] != 0x1b) || b[i] == 0x7f)
			return false;
	return utf8_valid((const char *)b, n);
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
static const char *sniff_type(const unsigned char *b, size_t n, const char *filename)
{
	if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0)
		return "image/png";
	if (n >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff)
		return "image/jpeg";
	if (n >= 5 && memcmp(b, "%PDF-", 5) == 0)
		return "application/pdf";
	if (is_text(b, n))
		return ends_with_ci(filename, ".csv") ? "text/csv" : "text/plain";
	return NULL;
}

/* The file's name without folders; "attachment" when none is given. */
static int attachment_name(const char **out, const struct dom *d, const char *given)
{
	const char *name = given && *given ? given : "attachment", *slash;
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
	*out = arena_strdup(d->arena, name);
	return 0;
}

int dom_run_attach(json_t **out, const struct dom *d, const char *id, const char *sno,
		   const struct dom_file *files, size_t n)
{
	const struct dom_file *file = files;
	json_t *after = NULL;
	struct db_conn *c = NULL;
	struct run_facts rf;
	struct repo *r = NULL;
	struct attachment_record a;
	const char *name = NULL, *type;
	char blob[REPO_OID_HEX], sha[2 * CRYPTO_SHA256_LEN + 1];
	int64_t run = 0, no = 0;
	int rc;

	if ((rc = dom_permit(d, OP_RUN_ATTACH)))
		return rc;
	if ((rc = dom_run_parse_id(&run, id, "test run")) || (rc = dom_run_parse_id(&no, sno, "step")))
		goto out;
	if (n > 1) {
		rc = err_set(OTCM_EINVAL, "file", "one 'file' per attachment");
		goto out;
	}
	if (n == 0) {
		rc = err_set(OTCM_EINVAL, "file", "'file' is required: a multipart/form-data part");
		goto out;
	}
	if (file->len > d->cfg->max_attachment) {
		rc = err_set(OTCM_ETOOBIG, "file", "'file' is larger than %llu bytes",
			     (unsigned long long)d->cfg->max_attachment);
		goto out;
	}
	if (file->len == 0) {
		rc = err_set(OTCM_EINVAL, "file", "'file' is empty");
		goto out;
	}
	if ((rc = attachment_name(&name, d, file->name)))
		goto out;
	type = sniff_type((const unsigned char *)file->data, file->len, name);
	if (!type) {
		rc = err_set(OTCM_EMEDIA, "file",
			     "'file' is not a PNG or JPEG photo, a PDF, or a text log or CSV");
		goto out;
	}
	if ((rc = step_begin(&c, &rf, d, run, no)))
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
	a.uploaded_by = d->who->user_id;
	if ((rc = attachments_insert(&after, c, &a)) ||
	    (rc = dom_audit(d, c, "test-run.attachment", "test-run", id, NULL, after, NULL)))
		goto out;
	/* the repository reads through the connection: done with it before commit */
	repo_free(r);
	r = NULL;
	if ((rc = dom_commit(c)))
		goto out;
	*out = after;
	after = NULL;
out:
	repo_free(r);
	if (rc)
		rc = dom_refused(d, &c, "test-run.attachment.refused", "test-run", id, rc);
	dom_end(c);
	json_decref(after);
	return rc;
}

int dom_run_attachment(struct dom_attachment *out, const struct dom *d, const char *id,
		       const char *attachment_id)
{
	struct db_conn *c = NULL;
	struct repo *r = NULL;
	struct run_facts rf;
	json_t *a = NULL;
	void *data = NULL;
	size_t len = 0;
	int64_t run = 0, aid = 0;
	int rc;

	if ((rc = dom_permit(d, OP_RUN_READ)))
		return rc;
	if ((rc = dom_run_parse_id(&run, id, "test run")) ||
	    (rc = dom_run_parse_id(&aid, attachment_id, "attachment")))
		return rc;
	if ((rc = dom_conn(&c, d)) || (rc = attachments_get(&a, c, run, aid)) ||
	    (rc = runs_facts(&rf, d->arena, c, run)) || (rc = repo_open(&r, c, rf.asset_id)) ||
	    (rc = repo_blob_read(&data, &len, r, json_string_value(json_object_get(a, "blob")))))
		goto out;
	arena_on_free(d->arena, free, data);
	out->data = data;
	out->len = len;
	out->filename = arena_strdup(d->arena, json_string_value(json_object_get(a, "filename")));
	out->content_type = arena_strdup(d->arena, json_string_value(json_object_get(a, "content_type")));
out:
	repo_free(r);
	json_decref(a);
	dom_end(c);
	return rc;
}
