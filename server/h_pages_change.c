/*
 * server/h_pages_change.c - the pages of the change process: one change
 * with its actions, raising and editing a change, recording a deployment,
 * test protocols, test runs step by step with attachments, and the
 * signing dialog with the signature manifestation it leads to.
 *
 *   GET  /changes/new, POST                      engineer, admin   raise a change
 *   GET  /changes/{key}                          all but agent     one change
 *   POST /changes/{key}/actions                  engineer, qa, approver, admin
 *   GET  /changes/{key}/edit, POST               engineer, admin   edit (after draft with a reason)
 *   GET  /changes/{key}/sign?meaning=, POST …/actions   the signing dialog of a change
 *   GET  /changes/{key}/signatures/{id}          all but agent     a signature's manifestation
 *   GET  /changes/{key}/deployments/new, POST    engineer, admin   record a deployment
 *   GET  /changes/{key}/runs/new, POST           qa, admin         start a FAT or SAT run
 *   GET  /protocols, /protocols/{id}             all but agent     test protocol templates
 *   GET  /protocols/new, POST                    qa, admin         a new protocol (version)
 *   GET  /test-runs/{id}                         all but agent     a run, step by step
 *   POST /test-runs/{id}/steps/{no}              qa, admin         record a step
 *   POST /test-runs/{id}/steps/{no}/attachments  qa, admin         attach a photo or log
 *   GET  /test-runs/{id}/sign?meaning=, POST     qa, admin         sign a run tested or witnessed
 *
 * Every form calls the same domain operation as the API route behind it
 * (domain/changes.h, signatures.h, runs.h) with the request's context, so
 * the permissions, rules, audit events and sentences are the API's; then
 * it redirects (303) or shows the page again with the refusal, its
 * sentence and the rule's name.  A refused permission (403) or a missing
 * object (404) is answered as an error, as the API answers it.  The
 * actions offered and greyed come from dom_change_offers(); the operation
 * decides again when a form arrives.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/err.h"
#include "domain/assets.h"
#include "domain/changes.h"
#include "domain/runs.h"
#include "domain/signatures.h"
#include "server/h_pages.h"
#include "server/handlers.h"
#include "storage/assets.h"
#include "storage/audit.h"
#include "web/pages.h"

#define TRAIL_LIMIT 500
#define URL_CAP 4096

/* A local path from escaped parts: "/changes/" key "..." */
static const char *path_of(struct http_req *req, const char *prefix, const char *id, const char *suffix)
{
	struct html u;
	const char *out;

	html_init(&u, URL_CAP);
	html_raw(&u, prefix);
	html_url(&u, id);
	html_raw(&u, suffix);
	out = u.err ? "/" : arena_strdup(req->arena, buf_cstr(&u.buf));
	html_release(&u);
	return out;
}

/* The change of the route's first capture, with runs, signatures and deployments. */
static int load_change(json_t **out, struct http_req *req)
{
	int rc = dom_change_read(out, &req->dom, http_param(req, 0));

	if (rc == 0)
		pg_keep(req, *out);
	return rc;
}

/* Is the failure one the page answers as an error page (or problem) rather than on its form? */
static bool answered_as_error(const struct pg_failure *f)
{
	return f->status == 403 || f->status == 404;
}

/* The message and the rule of a refusal as one sentence for a notice. */
static const char *refusal_text(struct http_req *req, const struct pg_failure *f)
{
	if (!f->rule)
		return f->message;
	return arena_printf(req->arena, "%s (rule %s)", f->message, f->rule);
}

/* Would the caller's role be permitted `op` (to show or hide a link)? */
static bool may(struct http_req *req, enum dom_op op)
{
	bool ok = dom_change_role_may(&req->dom, op) == 0;

	err_clear();
	return ok;
}

/* ---- one change: its actions ---- */

static const struct {
	const char *kind, *value;     /* value NULL: any */
	const char *label;
} labels[] = {
	{ "edit", NULL, "Edit the change" },
	{ "upload", NULL, "Upload a version" },
	{ "sign", "authorised", "Authorise (sign)" },
	{ "sign", "reviewed", "Review (sign)" },
	{ "sign", "approved", "Approve for deployment (sign)" },
	{ "run", "fat", "Start a FAT run" },
	{ "run", "sat", "Start a SAT run" },
	{ "deploy", NULL, "Record a deployment" },
	{ "transition", "submitted", "Submit for authorisation" },
	{ "transition", "draft", "Back to draft" },
	{ "transition", "implementing", "Start implementing" },
	{ "transition", "fat", "Ready for FAT" },
	{ "transition", "deployed", "Mark deployed" },
	{ "transition", "sat", "Start SAT" },
	{ "transition", "closed", "Close" },
	{ "transition", "rejected", "Reject" },
	{ "transition", "cancelled", "Cancel the change" },
	{ "release", NULL, "Release (sign)" },
};

static const char *label_of(const struct dom_offer *o)
{
	size_t i;

	for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strcmp(labels[i].kind, o->kind) == 0 && (!labels[i].value || strcmp(labels[i].value, o->value) == 0))
			return labels[i].label;
	return o->value;
}

/*
 * The actions the caller may take on the change now, and those one step
 * away that a permission or a rule forbids (with its sentence), as
 * dom_change_offers() gives them, with their labels and the pages that
 * take them.
 */
static int change_actions(struct web_action **out, size_t *out_n, struct http_req *req,
			  const json_t *change)
{
	const char *key = web_str(change, "key");
	struct dom_offer *o = NULL;
	struct web_action *a;
	size_t n = 0, i;
	int rc;

	*out = NULL;
	*out_n = 0;
	if ((rc = dom_change_offers(&o, &n, &req->dom, key)))
		return rc;
	a = arena_alloc(req->arena, (n + 1) * sizeof(*a));
	for (i = 0; i < n; i++) {
		memset(&a[i], 0, sizeof(a[i]));
		a[i].label = label_of(&o[i]);
		a[i].kind = o[i].kind;
		a[i].value = o[i].value;
		a[i].allowed = o[i].allowed;
		a[i].why = o[i].why;
		a[i].rule = o[i].rule;
		if (strcmp(o[i].kind, "edit") == 0) {
			a[i].href = path_of(req, "/changes/", key, "/edit");
			if (strcmp(web_str(change, "state") ? web_str(change, "state") : "", "draft"))
				a[i].label = "Edit the change (with a reason)";
		} else if (strcmp(o[i].kind, "sign") == 0 || strcmp(o[i].kind, "release") == 0) {
			a[i].href = path_of(req, "/changes/", key,
					    arena_printf(req->arena, "/sign?meaning=%s", o[i].value));
			a[i].needs_password = true;
		} else if (strcmp(o[i].kind, "run") == 0) {
			a[i].href = path_of(req, "/changes/", key,
					    arena_printf(req->arena, "/runs/new?kind=%s", o[i].value));
		} else if (strcmp(o[i].kind, "deploy") == 0) {
			a[i].href = path_of(req, "/changes/", key, "/deployments/new");
		}
	}
	*out = a;
	*out_n = n;
	return 0;
}

static int change_page(struct http_req *req, unsigned status, const char *kind, const char *notice)
{
	struct web_page p;
	json_t *change = NULL, *events = NULL;
	struct web_action *acts = NULL;
	size_t nacts = 0;
	struct html h;
	int rc;

	if ((rc = load_change(&change, req)) || (rc = change_actions(&acts, &nacts, req, change)) ||
	    (rc = dom_change_trail(&events, &req->dom, web_str(change, "key"), TRAIL_LIMIT)))
		return rc;
	pg_keep(req, events);
	p = pg_page(req, web_str(change, "key"), "changes");
	html_init(&h, PG_PAGE_CAP);
	page_change(&h, &p, change, events, acts, nacts, kind, notice);
	return pg_reply(req, status, &h);
}

int h_page_change(struct http_req *req)
{
	static const struct {
		const char *done;
		const char *sentence;
	} done[] = {
		{ "transition", "The change moved on." },
		{ "sign", "Signed." },
		{ "release", "Released: main now holds the approved versions." },
		{ "created", "Change raised as a draft: submit it for authorisation when it is complete." },
		{ "edited", "Saved." },
		{ "deployed", "Deployment recorded." },
	};
	const char *d = http_query(req, "done");
	size_t i;

	/* only fixed sentences: nothing from the URL reaches the page */
	for (i = 0; d && i < sizeof(done) / sizeof(done[0]); i++)
		if (strcmp(d, done[i].done) == 0)
			return change_page(req, 200, "ok", done[i].sentence);
	return change_page(req, 200, NULL, NULL);
}

/* ---- the signing dialog and the manifestation ---- */

/*
 * What signing `meaning` means, shown before and after signing; NULL for
 * a meaning that is no signature.
 */
static const char *meaning_sentence(const char *meaning)
{
	static const struct {
		const char *meaning, *sentence;
	} m[] = {
		{ "authorised", "I authorise this change to be implemented as described." },
		{ "reviewed", "I have reviewed this change as it stands." },
		{ "approved", "I approve the versions below, tested in FAT, for deployment to the devices." },
		{ "released", "I release this change: main of every asset moves to the approved, tested "
			      "version and is tagged with the change key." },
		{ "tested", "I performed this test run and its recorded results are true and complete." },
		{ "witnessed", "I witnessed this test run being performed as recorded." },
	};
	size_t i;

	for (i = 0; meaning && i < sizeof(m) / sizeof(m[0]); i++)
		if (strcmp(meaning, m[i].meaning) == 0)
			return m[i].sentence;
	return NULL;
}

/*
 * The signing dialog.  `change` is the full change; `run` the run for run
 * meanings (else NULL); `content` what will be signed (consumed: meaning
 * and signer added here, as dom_signing_write() adds them).  A rule that forbids
 * signing now is checked first and shown instead of the form.
 */
static int sign_page(struct http_req *req, unsigned status, const json_t *change, const json_t *run,
		     const char *meaning, json_t *content, int refused, const struct pg_failure *f)
{
	struct web_page p = pg_page(req, "Sign", "changes");
	struct web_sign s;
	char sha[2 * CRYPTO_SHA256_LEN + 1];
	char *text = NULL;
	struct html h;
	int rc;

	memset(&s, 0, sizeof(s));
	pg_keep(req, content);
	json_object_set_new(content, "meaning", json_string(meaning));
	json_object_set_new(content, "signer", json_string(req->who.username));
	text = json_dumps(content, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		return err_set(OTCM_EINTERNAL, NULL, "cannot serialise what is signed");
	crypto_sha256_hex(sha, text, strlen(text));
	s.canonical = arena_strdup(req->arena, text);
	free(text);
	/* signing "tested" completes the run first; "released" adds the moved mains and tags */
	if (strcmp(meaning, "tested") == 0)
		s.digest_note = "Signing as tester completes the run: its state and verdict are set as you "
				"sign, so the digest is shown on the signature afterwards.";
	else if (strcmp(meaning, "released") == 0)
		s.digest_note = "Releasing adds the new head of main and the tag of every asset to what is "
				"signed, so the digest is shown on the signature afterwards.";
	else
		s.sha256 = arena_strdup(req->arena, sha);
	s.meaning = meaning;
	s.sentence = meaning_sentence(meaning);
	s.content = content;
	s.run = run;
	if (refused) {
		s.blocked = arena_strdup(req->arena, err_message());
		s.blocked_rule = err_rule() ? arena_strdup(req->arena, err_rule()) : NULL;
	}
	if (f) {
		s.error = f->message;
		s.error_rule = f->rule;
	}
	if (run) {
		s.action = path_of(req, "/test-runs/", arena_printf(req->arena, "%" PRId64,
			  (int64_t)json_integer_value(json_object_get(run, "id"))), "/sign");
		s.back = path_of(req, "/test-runs/", arena_printf(req->arena, "%" PRId64,
			(int64_t)json_integer_value(json_object_get(run, "id"))), "");
	} else {
		s.action = path_of(req, "/changes/", web_str(change, "key"), "/actions");
		s.back = path_of(req, "/changes/", web_str(change, "key"), "");
	}
	s.kind = run ? "run" : strcmp(meaning, "released") == 0 ? "release" : "sign";
	if ((rc = dom_signature_needs_code(&s.totp, &req->dom)))
		return rc;
	html_init(&h, PG_PAGE_CAP);
	page_sign(&h, &p, change, &s);
	return pg_reply(req, status, &h);
}

static int change_sign_page(struct http_req *req, unsigned status, const char *meaning,
			    const struct pg_failure *f)
{
	json_t *change = NULL, *content = NULL;
	int rc, refused = 0;

	if (!meaning || !meaning_sentence(meaning) || strcmp(meaning, "tested") == 0 ||
	    strcmp(meaning, "witnessed") == 0)
		return err_set(OTCM_EINVAL, "meaning", "a change is signed authorised, reviewed, approved or released");
	if ((rc = load_change(&change, req)) ||
	    (rc = dom_change_sign_view(&content, &refused, &req->dom, http_param(req, 0), meaning)))
		return rc;
	return sign_page(req, status, change, NULL, meaning, content, refused, f);
}

int h_page_change_sign(struct http_req *req)
{
	return change_sign_page(req, 200, http_query(req, "meaning"), NULL);
}

/* The signature `sig_id` of the change, with the change (for its key and assets). */
int h_page_signature(struct http_req *req)
{
	struct web_page p;
	json_t *change = NULL;
	const json_t *s, *found = NULL;
	const char *sid = http_param(req, 1);
	size_t i;
	struct html h;
	int rc;

	if ((rc = load_change(&change, req)))
		return rc;
	json_array_foreach(json_object_get(change, "signatures"), i, s) {
		if (strcmp(arena_printf(req->arena, "%" PRId64, (int64_t)json_integer_value(json_object_get(s, "id"))),
			   sid) == 0)
			found = s;
	}
	if (!found)
		return err_set(OTCM_ENOTFOUND, "id", "signature '%.40s' not found on %s", sid, web_str(change, "key"));
	p = pg_page(req, "Signature", "changes");
	html_init(&h, PG_PAGE_CAP);
	page_signature(&h, &p, change, found, meaning_sentence(web_str(found, "meaning")),
		       http_query(req, "new") != NULL);
	return pg_reply(req, 200, &h);
}

/* 303 to the manifestation of signature `sig` of change `key`. */
static int to_signature(struct http_req *req, const char *key, const json_t *sig)
{
	return pg_redirect(req, path_of(req, "/changes/", key,
					arena_printf(req->arena, "/signatures/%" PRId64 "?new=1",
						     (int64_t)json_integer_value(json_object_get(sig, "id")))));
}

int h_page_change_action(struct http_req *req)
{
	const char *kind = pg_form(req, "kind"), *value = pg_form(req, "value"), *reason = pg_form(req, "reason");
	const char *password = pg_form(req, "password"), *totp = pg_form(req, "totp_code");
	const char *key = http_param(req, 0);
	json_t *body = pg_keep(req, json_object()), *out = NULL;
	struct pg_failure f;
	int rc;

	/* the operation of each kind decides who may take it and when */
	if (kind && value && strcmp(kind, "transition") == 0) {
		json_object_set_new(body, "to", json_string(value));
		if (reason)
			json_object_set_new(body, "reason", json_string(reason));
		rc = dom_change_transition(&out, &req->dom, key, body);
	} else if (kind && value && strcmp(kind, "sign") == 0) {
		json_object_set_new(body, "meaning", json_string(value));
		json_object_set_new(body, "password", json_string(password ? password : ""));
		if (totp)
			json_object_set_new(body, "totp_code", json_string(totp));
		if (reason)
			json_object_set_new(body, "comment", json_string(reason));
		rc = dom_change_sign(&out, &req->dom, key, body);
	} else if (kind && strcmp(kind, "release") == 0) {
		value = "released";
		json_object_set_new(body, "password", json_string(password ? password : ""));
		if (totp)
			json_object_set_new(body, "totp_code", json_string(totp));
		if (reason)
			json_object_set_new(body, "reason", json_string(reason));
		rc = dom_change_release(&out, &req->dom, key, body);
	} else {
		rc = err_set(OTCM_EINVAL, "kind", "unknown action");
	}
	if (rc)
		goto refused;
	pg_keep(req, out);
	if (strcmp(kind, "sign") == 0)
		return to_signature(req, key, out);
	if (strcmp(kind, "release") == 0 && json_object_get(out, "signature"))
		return to_signature(req, key, json_object_get(out, "signature"));
	return pg_redirect(req, path_of(req, "/changes/", key, arena_printf(req->arena, "?done=%s", kind)));
refused:
	pg_keep_failure(&f, req, rc);
	if (answered_as_error(&f))
		return rc;
	if (kind && (strcmp(kind, "sign") == 0 || strcmp(kind, "release") == 0))
		return change_sign_page(req, f.status, value, &f);
	return change_page(req, f.status, "error", refusal_text(req, &f));
}

/* ---- raising and editing a change ---- */

/* Every asset (the first ASSETS_MAX_LIMIT by path), to pick the affected ones from. */
static int all_assets(json_t **out, struct http_req *req)
{
	struct dom_asset_query q;
	json_t *page = NULL;
	int rc;

	memset(&q, 0, sizeof(q));
	q.limit = DOM_ASSETS_MAX_LIMIT;
	if ((rc = dom_asset_list(&page, &req->dom, &q)))
		return rc;
	pg_keep(req, page);
	*out = json_object_get(page, "items");
	return 0;
}

/* A datetime-local value ("2024-05-01T12:00") as RFC 3339 UTC; "" stays "" (no time). */
static const char *window_time(struct http_req *req, const char *name)
{
	const char *v = pg_form(req, name);
	size_t n;

	if (!v)
		return "";
	n = strlen(v);
	if (n == 16)
		return arena_printf(req->arena, "%s:00Z", v);
	if (n == 19)
		return arena_printf(req->arena, "%sZ", v);
	return v;   /* anything else: the API says what is wrong with it */
}

/*
 * The change fields of the posted form as the API's body; the affected
 * assets from the checkboxes asset_<id> of `assets` when `with_assets`.
 */
static json_t *change_body(struct http_req *req, const json_t *assets, bool with_assets)
{
	static const char *const texts[] = { "type", "title", "reason", "risk", "implementation_plan",
					     "rollback_plan", NULL };
	json_t *body = json_object(), *picked = json_array();
	const json_t *a;
	size_t i;

	for (i = 0; texts[i]; i++)
		json_object_set_new(body, texts[i], json_string(pg_form(req, texts[i]) ? pg_form(req, texts[i]) : ""));
	json_object_set_new(body, "safety_related", json_boolean(pg_form(req, "safety_related") != NULL));
	json_object_set_new(body, "planned_window", json_pack("{s:s, s:s}", "start",
			    window_time(req, "window_start"), "end", window_time(req, "window_end")));
	json_array_foreach(assets, i, a) {
		int64_t id = json_integer_value(json_object_get(a, "id"));

		if (pg_form(req, arena_printf(req->arena, "asset_%" PRId64, id)))
			json_array_append_new(picked, json_integer(id));
	}
	if (with_assets)
		json_object_set_new(body, "affected_assets", picked);
	else
		json_decref(picked);
	return body;
}

static int change_form_page(struct http_req *req, unsigned status, const json_t *change,
			    const json_t *values, const json_t *assets, const struct pg_failure *f)
{
	struct web_page p = pg_page(req, change ? "Edit the change" : "Raise a change", "changes");
	struct html h;

	html_init(&h, PG_PAGE_CAP);
	page_change_form(&h, &p, change, values, assets, f ? refusal_text(req, f) : NULL);
	return pg_reply(req, status, &h);
}

int h_page_change_new_form(struct http_req *req)
{
	json_t *assets = NULL;
	int rc;

	if ((rc = all_assets(&assets, req)))
		return rc;
	return change_form_page(req, 200, NULL, NULL, assets, NULL);
}

int h_page_change_new(struct http_req *req)
{
	json_t *assets = NULL, *body, *out = NULL, *values;
	struct pg_failure f;
	int rc;

	if ((rc = all_assets(&assets, req)))
		return rc;
	body = pg_keep(req, change_body(req, assets, true));
	values = pg_keep(req, json_deep_copy(body));
	if (json_string_length(json_object_get(body, "reason")) == 0)
		json_object_del(body, "reason");   /* optional in a draft: empty means not given */
	if ((rc = dom_change_create(&out, &req->dom, body))) {
		pg_keep_failure(&f, req, rc);
		if (answered_as_error(&f))
			return rc;
		return change_form_page(req, f.status, NULL, values, assets, &f);
	}
	pg_keep(req, out);
	return pg_redirect(req, path_of(req, "/changes/", web_str(out, "key"), "?done=created"));
}

int h_page_change_edit_form(struct http_req *req)
{
	json_t *change = NULL, *assets = NULL;
	int rc;

	if ((rc = load_change(&change, req)) || (rc = all_assets(&assets, req)))
		return rc;
	return change_form_page(req, 200, change, change, assets, NULL);
}

int h_page_change_edit(struct http_req *req)
{
	json_t *change = NULL, *assets = NULL, *body, *out = NULL, *values;
	const char *why = pg_form(req, "edit_reason"), *state;
	struct pg_failure f;
	int rc;

	if ((rc = load_change(&change, req)) || (rc = all_assets(&assets, req)))
		return rc;
	state = web_str(change, "state") ? web_str(change, "state") : "";
	/* the form offers the affected assets only before authorisation: later they are not sent */
	body = pg_keep(req, change_body(req, assets, strcmp(state, "draft") == 0 || strcmp(state, "submitted") == 0));
	if (why)
		json_object_set_new(body, "edit_reason", json_string(why));
	values = pg_keep(req, json_deep_copy(body));
	if (!json_object_get(values, "affected_assets"))
		json_object_set(values, "affected_assets", json_object_get(change, "affected_assets"));
	if ((rc = dom_change_update(&out, &req->dom, http_param(req, 0), body))) {
		pg_keep_failure(&f, req, rc);
		if (answered_as_error(&f))
			return rc;
		return change_form_page(req, f.status, change, values, assets, &f);
	}
	json_decref(out);
	return pg_redirect(req, path_of(req, "/changes/", http_param(req, 0), "?done=edited"));
}

/* ---- deployments ---- */

static int deploy_page(struct http_req *req, unsigned status, const json_t *change, const char *asset,
		       const char *sha, const char *note, const struct pg_failure *f)
{
	struct web_page p = pg_page(req, "Record a deployment", "changes");
	struct html h;

	html_init(&h, PG_PAGE_CAP);
	page_deploy_form(&h, &p, change, asset ? strtoll(asset, NULL, 10) : 0, sha, note,
			 f ? refusal_text(req, f) : NULL);
	return pg_reply(req, status, &h);
}

int h_page_deploy_form(struct http_req *req)
{
	json_t *change = NULL;
	int rc;

	if ((rc = load_change(&change, req)))
		return rc;
	return deploy_page(req, 200, change, http_query(req, "asset"), NULL, NULL, NULL);
}

int h_page_deploy(struct http_req *req)
{
	const char *asset = pg_form(req, "asset_id"), *commit = pg_form(req, "commit");
	const char *sha = pg_form(req, "readback_sha256"), *note = pg_form(req, "note");
	json_t *change = NULL, *body, *out = NULL;
	const json_t *a;
	int64_t asset_id = asset ? strtoll(asset, NULL, 10) : 0;
	struct pg_failure f;
	size_t i;
	int rc;

	if ((rc = load_change(&change, req)))
		return rc;
	/* no commit given: the change branch head of the asset, the version to deploy */
	json_array_foreach(json_object_get(change, "affected_assets"), i, a)
		if (!commit && json_integer_value(json_object_get(a, "id")) == asset_id)
			commit = web_str(a, "commit");
	if (!asset_id) {
		rc = err_set(OTCM_EINVAL, "asset_id", "choose the asset that was deployed");
		goto refused;
	}
	if (!commit) {
		rc = err_set(OTCM_EINVAL, "commit", "the asset has no version on the change branch to deploy");
		goto refused;
	}
	body = pg_keep(req, json_pack("{s:I, s:s}", "asset_id", (json_int_t)asset_id, "commit", commit));
	if (sha)
		json_object_set_new(body, "readback_sha256", json_string(sha));
	if (note)
		json_object_set_new(body, "note", json_string(note));
	if ((rc = dom_change_deploy(&out, &req->dom, http_param(req, 0), body)))
		goto refused;
	json_decref(out);
	return pg_redirect(req, path_of(req, "/changes/", http_param(req, 0), "?done=deployed"));
refused:
	pg_keep_failure(&f, req, rc);
	if (answered_as_error(&f))
		return rc;
	return deploy_page(req, f.status, change, asset, sha, note, &f);
}

/* ---- test protocols ---- */

int h_page_protocols(struct http_req *req)
{
	struct web_page p = pg_page(req, "Test protocols", "protocols");
	json_t *list = NULL;
	struct html h;
	int rc;

	if ((rc = dom_protocol_list(&list, &req->dom, http_query(req, "name"))))
		return rc;
	pg_keep(req, list);
	html_init(&h, PG_PAGE_CAP);
	page_protocols(&h, &p, json_object_get(list, "items"), may(req, OP_PROTOCOL_CREATE),
		       http_query(req, "done") ? "Protocol saved." : NULL);
	return pg_reply(req, 200, &h);
}

int h_page_protocol(struct http_req *req)
{
	struct web_page p;
	json_t *proto = NULL;
	struct html h;
	int rc;

	if ((rc = dom_protocol_read(&proto, &req->dom, http_param(req, 0))))
		return rc;
	pg_keep(req, proto);
	p = pg_page(req, web_str(proto, "name"), "protocols");
	html_init(&h, PG_PAGE_CAP);
	page_protocol(&h, &p, proto, may(req, OP_PROTOCOL_CREATE));
	return pg_reply(req, 200, &h);
}

#define PROTOCOL_FORM_ROWS 8
#define PROTOCOL_FORM_MAX_ROWS 500

/* The rows a protocol form shows: `?rows=`, at least PROTOCOL_FORM_ROWS. */
static size_t form_rows(const char *s, size_t at_least)
{
	long v = s ? strtol(s, NULL, 10) : 0;

	if (v < (long)at_least)
		v = (long)at_least;
	return v > PROTOCOL_FORM_MAX_ROWS ? PROTOCOL_FORM_MAX_ROWS : (size_t)v;
}

int h_page_protocol_new_form(struct http_req *req)
{
	struct web_page p = pg_page(req, "New test protocol", "protocols");
	json_t *values = NULL, *from = NULL;
	const char *based = http_query(req, "from");
	struct html h;
	int rc;

	/* "next version of": start from an existing protocol's fields and steps */
	if (based) {
		if ((rc = dom_protocol_read(&from, &req->dom, based)))
			return rc;
		values = pg_keep(req, from);
	}
	html_init(&h, PG_PAGE_CAP);
	page_protocol_form(&h, &p, values, form_rows(http_query(req, "rows"),
			   json_array_size(json_object_get(values, "steps")) + 3), NULL);
	return pg_reply(req, 200, &h);
}

int h_page_protocol_new(struct http_req *req)
{
	struct web_page p = pg_page(req, "New test protocol", "protocols");
	json_t *body, *steps = json_array(), *out = NULL, *values;
	struct pg_failure f;
	struct html h;
	size_t i, rows = form_rows(pg_form(req, "rows"), PROTOCOL_FORM_ROWS);
	int rc;

	for (i = 1; i <= rows; i++) {
		const char *ins = pg_form(req, arena_printf(req->arena, "instruction_%zu", i));
		const char *exp = pg_form(req, arena_printf(req->arena, "expected_%zu", i));

		if (!ins && !exp)
			continue;   /* blank rows are not steps */
		json_array_append_new(steps, json_pack("{s:s, s:s}", "instruction", ins ? ins : "",
						       "expected", exp ? exp : ""));
	}
	body = json_pack("{s:s, s:s, s:s, s:b, s:o}", "name", pg_form(req, "name") ? pg_form(req, "name") : "",
			 "kind", pg_form(req, "kind") ? pg_form(req, "kind") : "",
			 "title", pg_form(req, "title") ? pg_form(req, "title") : "",
			 "witness_required", pg_form(req, "witness_required") != NULL, "steps", steps);
	pg_keep(req, body);
	values = pg_keep(req, json_deep_copy(body));
	if ((rc = dom_protocol_create(&out, &req->dom, body)) == 0) {
		pg_keep(req, out);
		return pg_redirect(req, arena_printf(req->arena, "/protocols/%" PRId64 "?done=saved",
						     (int64_t)json_integer_value(json_object_get(out, "id"))));
	}
	pg_keep_failure(&f, req, rc);
	if (answered_as_error(&f))
		return rc;
	html_init(&h, PG_PAGE_CAP);
	page_protocol_form(&h, &p, values, form_rows(NULL, json_array_size(steps) + 3),
			   refusal_text(req, &f));
	return pg_reply(req, f.status, &h);
}

/* ---- test runs ---- */

static int run_start_page(struct http_req *req, unsigned status, const char *kind, const char *asset,
			  const struct pg_failure *f)
{
	struct web_page p = pg_page(req, "Start a test run", "changes");
	json_t *change = NULL, *protocols = NULL;
	struct html h;
	int rc;

	if ((rc = load_change(&change, req)) || (rc = dom_protocol_list(&protocols, &req->dom, NULL)))
		return rc;
	pg_keep(req, protocols);
	protocols = json_object_get(protocols, "items");
	if (!kind || (strcmp(kind, "fat") && strcmp(kind, "sat")))
		kind = strcmp(web_str(change, "state") ? web_str(change, "state") : "", "fat") == 0 ? "fat" : "sat";
	html_init(&h, PG_PAGE_CAP);
	page_run_start(&h, &p, change, protocols, kind, asset ? strtoll(asset, NULL, 10) : 0,
		       f ? refusal_text(req, f) : NULL);
	return pg_reply(req, status, &h);
}

int h_page_run_new_form(struct http_req *req)
{
	return run_start_page(req, 200, http_query(req, "kind"), http_query(req, "asset"), NULL);
}

int h_page_run_new(struct http_req *req)
{
	const char *protocol = pg_form(req, "protocol_id"), *asset = pg_form(req, "asset_id");
	const char *kind = pg_form(req, "kind");
	json_t *out = NULL;
	struct pg_failure f;
	int rc;

	if (!protocol) {
		rc = err_set(OTCM_EINVAL, "protocol_id", "choose a protocol (QA creates them under Protocols)");
	} else if (!asset) {
		rc = err_set(OTCM_EINVAL, "asset_id", "choose the asset under test");
	} else {
		json_t *body = pg_keep(req, json_pack("{s:I, s:I}", "protocol_id",
						       (json_int_t)strtoll(protocol, NULL, 10),
						       "asset_id", (json_int_t)strtoll(asset, NULL, 10)));

		rc = dom_run_create(&out, &req->dom, http_param(req, 0), body);
	}
	if (rc == 0) {
		pg_keep(req, out);
		return pg_redirect(req, arena_printf(req->arena, "/test-runs/%" PRId64,
						     (int64_t)json_integer_value(json_object_get(out, "id"))));
	}
	pg_keep_failure(&f, req, rc);
	if (answered_as_error(&f))
		return rc;
	return run_start_page(req, f.status, kind, asset, &f);
}

static const struct {
	const char *meaning;
	const char *label;
} run_sign_labels[] = {
	{ "tested", "Sign as tester (completes the run)" },
	{ "witnessed", "Sign as witness" },
};

/* The run of the route's first capture and its change. */
static int load_run(json_t **out_run, json_t **out_change, struct http_req *req)
{
	int rc;

	if ((rc = dom_run_read(out_run, &req->dom, http_param(req, 0))))
		return rc;
	pg_keep(req, *out_run);
	if ((rc = dom_change_read(out_change, &req->dom, web_str(*out_run, "change"))))
		return rc;
	pg_keep(req, *out_change);
	return 0;
}

/*
 * May the caller sign run `id` with `meaning` now?  *out_refused 0, or the
 * refusal (its sentence and rule kept); *out_content what would be signed
 * (tied to the request).
 */
static int run_may_sign(json_t **out_content, int *out_refused, struct http_req *req, const char *id,
			const char *meaning)
{
	int rc = dom_run_sign_view(out_content, out_refused, &req->dom, id, meaning);

	if (rc == 0)
		pg_keep(req, *out_content);
	return rc;
}

static int run_page(struct http_req *req, unsigned status, const char *kind, const char *notice)
{
	struct web_page p;
	json_t *run = NULL, *change = NULL, *content = NULL;
	struct web_action *acts;
	const char *sid = http_param(req, 0);
	int64_t id;
	size_t n = 0, i;
	bool open;
	struct html h;
	int rc, refused;

	if ((rc = load_run(&run, &change, req)))
		return rc;
	id = json_integer_value(json_object_get(run, "id"));
	open = strcmp(web_str(run, "state") ? web_str(run, "state") : "", "completed") != 0;
	acts = arena_alloc(req->arena, 2 * sizeof(*acts));
	for (i = 0; i < 2 && may(req, OP_RUN_SIGN); i++) {
		const char *meaning = run_sign_labels[i].meaning;

		/* witnessing is offered once the run is complete and needs a witness */
		if (strcmp(meaning, "witnessed") == 0 &&
		    (open || !json_is_true(json_object_get(json_object_get(run, "protocol"), "witness_required"))))
			continue;
		if (strcmp(meaning, "tested") == 0 && !open)
			continue;
		if ((rc = run_may_sign(&content, &refused, req, sid, meaning)))
			return rc;
		if (refused && refused != OTCM_ERULE)
			continue;
		memset(&acts[n], 0, sizeof(acts[n]));
		acts[n].label = run_sign_labels[i].label;
		acts[n].kind = "sign";
		acts[n].value = meaning;
		acts[n].href = arena_printf(req->arena, "/test-runs/%" PRId64 "/sign?meaning=%s", id, meaning);
		acts[n].allowed = refused == 0;
		acts[n].why = refused ? arena_strdup(req->arena, err_message()) : NULL;
		acts[n].rule = refused && err_rule() ? arena_strdup(req->arena, err_rule()) : NULL;
		acts[n].needs_password = true;
		n++;
	}
	err_clear();
	p = pg_page(req, arena_printf(req->arena, "Test run %" PRId64, id), "changes");
	html_init(&h, PG_PAGE_CAP);
	page_run(&h, &p, run, change,
		 may(req, OP_RUN_STEP) && open && !json_is_true(json_object_get(run, "stale")),
		 acts, n, kind, notice);
	return pg_reply(req, status, &h);
}

int h_page_run(struct http_req *req)
{
	const char *d = http_query(req, "done");

	if (d && strcmp(d, "step") == 0)
		return run_page(req, 200, "ok", "Step recorded.");
	if (d && strcmp(d, "attached") == 0)
		return run_page(req, 200, "ok", "Attachment stored.");
	return run_page(req, 200, NULL, NULL);
}

/* 303 to the run's page at step `no`. */
static int to_step(struct http_req *req, const char *done)
{
	return pg_redirect(req, path_of(req, "/test-runs/", http_param(req, 0),
					arena_printf(req->arena, "?done=%s#step-%s", done,
						     strspn(http_param(req, 1), "0123456789") == strlen(http_param(req, 1))
						     ? http_param(req, 1) : "")));
}

int h_page_run_step(struct http_req *req)
{
	static const char *const fields[] = { "observed", "comment", "deviation", "disposition", NULL };
	const char *result = pg_form(req, "result");
	json_t *body = pg_keep(req, json_object()), *out = NULL;
	struct pg_failure f;
	size_t i;
	int rc;

	json_object_set_new(body, "result", json_string(result ? result : ""));
	for (i = 0; fields[i]; i++)
		if (pg_form(req, fields[i]))
			json_object_set_new(body, fields[i], json_string(pg_form(req, fields[i])));
	if (!result)
		rc = err_set(OTCM_EINVAL, "result", "choose the step's result: pass, fail or n/a");
	else
		rc = dom_run_step(&out, &req->dom, http_param(req, 0), http_param(req, 1), body);
	if (rc == 0) {
		json_decref(out);
		return to_step(req, "step");
	}
	pg_keep_failure(&f, req, rc);
	if (answered_as_error(&f))
		return rc;
	return run_page(req, f.status, "error", arena_printf(req->arena, "Step %s: %s", http_param(req, 1),
							      refusal_text(req, &f)));
}

int h_page_run_attach(struct http_req *req)
{
	struct dom_file *files = arena_alloc(req->arena, (req->nparts + 1) * sizeof(*files));
	json_t *out = NULL;
	struct pg_failure f;
	size_t i, n = 0;
	int rc;

	for (i = 0; i < req->nparts; i++)
		if (req->parts[i].name && strcmp(req->parts[i].name, "file") == 0) {
			files[n].name = req->parts[i].filename;
			files[n].data = req->parts[i].data;
			files[n].len = req->parts[i].len;
			n++;
		}
	if (!req->parts && req->body_len)
		rc = err_set(OTCM_EMEDIA, "file", "send the attachment form as multipart/form-data");
	else
		rc = dom_run_attach(&out, &req->dom, http_param(req, 0), http_param(req, 1), files, n);
	if (rc == 0) {
		json_decref(out);
		return to_step(req, "attached");
	}
	pg_keep_failure(&f, req, rc);
	if (answered_as_error(&f))
		return rc;
	return run_page(req, f.status, "error", arena_printf(req->arena, "Attachment to step %s refused: %s",
							      http_param(req, 1), refusal_text(req, &f)));
}

static int run_sign_page(struct http_req *req, unsigned status, const char *meaning, const struct pg_failure *f)
{
	json_t *run = NULL, *change = NULL, *content = NULL;
	int rc, refused;

	if (!meaning || (strcmp(meaning, "tested") && strcmp(meaning, "witnessed")))
		return err_set(OTCM_EINVAL, "meaning", "a test run is signed tested or witnessed");
	if ((rc = load_run(&run, &change, req)) ||
	    (rc = run_may_sign(&content, &refused, req, http_param(req, 0), meaning)))
		return rc;
	if (refused && refused != OTCM_ERULE)
		return refused;
	/* sign_page adds meaning and signer: a copy of its own */
	return sign_page(req, status, change, run, meaning, json_deep_copy(content), refused, f);
}

int h_page_run_sign_form(struct http_req *req)
{
	return run_sign_page(req, 200, http_query(req, "meaning"), NULL);
}

int h_page_run_sign(struct http_req *req)
{
	const char *meaning = pg_form(req, "value"), *password = pg_form(req, "password");
	const char *totp = pg_form(req, "totp_code"), *comment = pg_form(req, "reason");
	json_t *body, *out = NULL;
	struct pg_failure f;
	int rc;

	body = pg_keep(req, json_pack("{s:s, s:s}", "meaning", meaning ? meaning : "", "password",
				      password ? password : ""));
	if (totp)
		json_object_set_new(body, "totp_code", json_string(totp));
	if (comment)
		json_object_set_new(body, "comment", json_string(comment));
	if ((rc = dom_run_sign(&out, &req->dom, http_param(req, 0), body)) == 0) {
		pg_keep(req, out);
		return to_signature(req, web_str(out, "change"), out);
	}
	pg_keep_failure(&f, req, rc);
	if (answered_as_error(&f))
		return rc;
	return run_sign_page(req, f.status, meaning, &f);
}
