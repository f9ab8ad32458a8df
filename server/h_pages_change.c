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
 * As in server/h_pages.c, every form runs the API handler behind it
 * through http_call() (so the rules, audit events and sentences are the
 * API's), then redirects (303) or shows the page again with the refusal,
 * its sentence and the rule's name.  The actions offered and greyed come
 * from server/rules.h; the server checks everything again when a form
 * arrives.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/err.h"
#include "server/h_pages.h"
#include "server/handlers.h"
#include "domain/rules.h"
#include "server/svc.h"
#include "storage/assets.h"
#include "storage/audit.h"
#include "storage/changes.h"
#include "storage/deployments.h"
#include "storage/runs.h"
#include "storage/signatures.h"
#include "storage/users.h"
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
	int rc = pg_call_json(out, req, h_changes_get);

	if (rc == 0)
		pg_keep(req, *out);
	return rc;
}

/* The message and the rule of a refusal as one sentence for a notice. */
static const char *refusal_text(struct http_req *req, const struct pg_failure *f)
{
	if (!f->rule)
		return f->message;
	return arena_printf(req->arena, "%s (rule %s)", f->message, f->rule);
}

/* Is `role` allowed by the mask? */
static bool role_in(struct http_req *req, unsigned mask)
{
	return (req->who.role & mask) != 0;
}

/* ---- one change: its actions ---- */

static const struct {
	int to;
	const char *label;
} transition_labels[] = {
	{ CHG_SUBMITTED, "Submit for authorisation" },
	{ CHG_DRAFT, "Back to draft" },
	{ CHG_IMPLEMENTING, "Start implementing" },
	{ CHG_FAT, "Ready for FAT" },
	{ CHG_DEPLOYED, "Mark deployed" },
	{ CHG_SAT, "Start SAT" },
	{ CHG_CLOSED, "Close" },
	{ CHG_REJECTED, "Reject" },
	{ CHG_CANCELLED, "Cancel the change" },
};

static const struct {
	const char *meaning;
	const char *label;
} sign_labels[] = {
	{ "authorised", "Authorise (sign)" },
	{ "reviewed", "Review (sign)" },
	{ "approved", "Approve for deployment (sign)" },
};

/* Rules that mean "not a step from here": such actions are not offered at all. */
static bool beside_the_point(const char *rule)
{
	return rule && (strcmp(rule, "no-such-transition") == 0 || strcmp(rule, "wrong-state") == 0 ||
			strcmp(rule, "change-ended") == 0 || strcmp(rule, "signature-required") == 0 ||
			strcmp(rule, "release-endpoint") == 0);
}

/*
 * Append an action when `rc` allows it, or greyed with the rule's sentence
 * and name when a rule forbids it (unless the rule says it is no step from
 * here).  `href` makes it a link to a page instead of a form.
 */
static void offer(struct web_action *a, size_t *n, struct http_req *req, const char *label,
		  const char *kind, const char *value, const char *href, int rc, bool password)
{
	if (rc && (rc != OTCM_ERULE || beside_the_point(err_rule())))
		return;
	memset(&a[*n], 0, sizeof(a[*n]));
	a[*n].label = label;
	a[*n].kind = kind;
	a[*n].value = value;
	a[*n].href = href;
	a[*n].allowed = rc == 0;
	a[*n].why = rc ? arena_strdup(req->arena, err_message()) : NULL;
	a[*n].rule = rc && err_rule() ? arena_strdup(req->arena, err_rule()) : NULL;
	a[*n].needs_password = password;
	(*n)++;
}

/* A refusal of our own for an action the role does not take. */
static int not_your_role(const char *rule, const char *sentence)
{
	err_set(OTCM_ERULE, NULL, "%s", sentence);
	err_set_rule(rule);
	return OTCM_ERULE;
}

/*
 * The actions `req`'s caller may take on the change now, and those one
 * step away that a rule forbids (with its sentence), from server/rules.h.
 */
static int change_actions(struct web_action **out, size_t *out_n, struct http_req *req,
			  struct db_conn *c, const json_t *change)
{
	size_t nmax = sizeof(transition_labels) / sizeof(transition_labels[0]) +
		      sizeof(sign_labels) / sizeof(sign_labels[0]) + 8, n = 0, i;
	struct web_action *a = arena_alloc(req->arena, nmax * sizeof(*a));
	const char *key = web_str(change, "key");
	int64_t id = json_integer_value(json_object_get(change, "id"));
	struct change_facts facts;
	struct rules_change ch;
	unsigned role = req->who.role;
	int64_t me = req->who.user_id;
	bool back;
	int rc, st;

	*out = a;
	*out_n = 0;
	if ((rc = chg_load(&ch, &facts, req, c, id)))
		return rc;
	if (role == ROLE_AUDITOR)
		return 0;   /* the auditor only reads */
	if (role & (ROLE_ENGINEER | ROLE_ADMIN)) {
		if (facts.requester_id == me || role == ROLE_ADMIN) {
			rc = rules_can_edit(ch.state, true, false, false);
			offer(a, &n, req, ch.state == CHG_DRAFT ? "Edit the change" : "Edit the change (with a reason)",
			      "edit", "", path_of(req, "/changes/", key, "/edit"), rc, false);
		}
		rc = rules_can_upload(&back, ch.state, true);
		offer(a, &n, req, "Upload a version", "upload", "", NULL, rc, false);
	}
	for (i = 0; i < sizeof(sign_labels) / sizeof(sign_labels[0]); i++) {
		const char *meaning = sign_labels[i].meaning;

		/* offer a signature only where it is the next step: the role rule comes first */
		if (strcmp(meaning, "authorised") == 0 && ch.state != CHG_SUBMITTED)
			continue;
		if (strcmp(meaning, "approved") == 0 && ch.state != CHG_FAT &&
		    !(ch.emergency && (ch.state == CHG_DEPLOYED || ch.state == CHG_SAT)))
			continue;
		rc = rules_sign_change(&st, &ch, meaning, role, me);
		/* reviews are possible in most states: offer them only when allowed */
		if (strcmp(meaning, "reviewed") == 0 && rc)
			continue;
		offer(a, &n, req, sign_labels[i].label, "sign", meaning,
		      path_of(req, "/changes/", key, arena_printf(req->arena, "/sign?meaning=%s", meaning)),
		      rc, true);
	}
	/* test runs: FAT while in FAT, SAT once deployed (greyed for engineers, not shown to approvers) */
	if ((ch.state == CHG_FAT || ch.state == CHG_DEPLOYED || ch.state == CHG_SAT) && role != ROLE_APPROVER) {
		const char *kind = ch.state == CHG_FAT ? "fat" : "sat";

		rc = role & (ROLE_QA | ROLE_ADMIN) ? rules_can_start_run(&ch, kind)
		     : not_your_role("run-role", "test runs are started and recorded by QA or an administrator");
		offer(a, &n, req, ch.state == CHG_FAT ? "Start a FAT run" : "Start a SAT run", "run", kind,
		      path_of(req, "/changes/", key, arena_printf(req->arena, "/runs/new?kind=%s", kind)),
		      rc, false);
	}
	/* deployments: once approved (emergency changes from implementing) until SAT */
	if (((ch.state >= CHG_APPROVED && ch.state <= CHG_SAT) ||
	     (ch.emergency && ch.state >= CHG_IMPLEMENTING && ch.state <= CHG_SAT)) && role != ROLE_APPROVER) {
		rc = OTCM_ERULE;
		if (!(role & (ROLE_ENGINEER | ROLE_ADMIN))) {
			rc = not_your_role("deployment-role", "deployments are recorded by an engineer or an administrator");
		} else {
			for (i = 0; i < ch.nassets && rc; i++)
				rc = rules_can_deploy(&ch, i, ch.assets[i].tree ? ch.assets[i].tree : "");
			if (ch.nassets == 0)
				rc = not_your_role("versions-required", "the change has no affected asset");
		}
		offer(a, &n, req, "Record a deployment", "deploy", "",
		      path_of(req, "/changes/", key, "/deployments/new"), rc, false);
	}
	for (i = 0; i < sizeof(transition_labels) / sizeof(transition_labels[0]); i++) {
		rc = rules_transition(&ch, transition_labels[i].to, role, me);
		offer(a, &n, req, transition_labels[i].label, "transition",
		      rules_state_name(transition_labels[i].to), NULL, rc, false);
	}
	if (ch.state == CHG_SAT) {
		rc = role & (ROLE_APPROVER | ROLE_ADMIN) ? rules_can_release(&ch)
		     : not_your_role("release-role", "only an approver or an administrator releases");
		offer(a, &n, req, "Release (sign)", "release", "released",
		      path_of(req, "/changes/", key, "/sign?meaning=released"), rc, true);
	}
	err_clear();
	*out_n = n;
	return 0;
}

static int change_page(struct http_req *req, unsigned status, const char *kind, const char *notice)
{
	struct web_page p;
	json_t *change = NULL, *events = NULL;
	struct web_action *acts = NULL;
	struct db_conn *c = NULL;
	size_t nacts = 0;
	struct html h;
	int rc;

	if ((rc = load_change(&change, req)))
		return rc;
	if ((rc = svc_conn(&c, req)) ||
	    (rc = change_actions(&acts, &nacts, req, c, change)) ||
	    (rc = audit_list(&events, c, "change", web_str(change, "key"), 0, TRAIL_LIMIT)))
		goto out;
	pg_keep(req, events);
	svc_end(c);
	c = NULL;
	p = pg_page(req, web_str(change, "key"), "changes");
	html_init(&h, PG_PAGE_CAP);
	page_change(&h, &p, change, events, acts, nacts, kind, notice);
	return pg_reply(req, status, &h);
out:
	svc_end(c);
	return rc;
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

/* Does the caller use one-time codes? */
static bool uses_totp(struct http_req *req, struct db_conn *c)
{
	struct totp_state t;

	return totp_load(&t, c, req->who.user_id, false) == 0 && t.enabled;
}

/*
 * The signing dialog.  `change` is the full change; `run` the run for run
 * meanings (else NULL); `content` what will be signed (consumed: meaning
 * and signer added here, as chg_sign() adds them).  A rule that forbids
 * signing now is checked first and shown instead of the form.
 */
static int sign_page(struct http_req *req, unsigned status, const json_t *change, const json_t *run,
		     const char *meaning, json_t *content, int refused, const struct pg_failure *f)
{
	struct web_page p = pg_page(req, "Sign", "changes");
	struct web_sign s;
	struct db_conn *c = NULL;
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
	if ((rc = svc_conn(&c, req)))
		return rc;
	s.totp = uses_totp(req, c);
	svc_end(c);
	html_init(&h, PG_PAGE_CAP);
	page_sign(&h, &p, change, &s);
	return pg_reply(req, status, &h);
}

/* The content a change signature would sign, and whether the rules allow it now (0). */
static int change_sign_view(json_t **out_content, int *out_refused, struct http_req *req,
			    const json_t *change, const char *meaning)
{
	int64_t id = json_integer_value(json_object_get(change, "id"));
	struct change_facts facts;
	struct rules_change ch;
	struct db_conn *c = NULL;
	int rc, st;

	*out_content = NULL;
	if ((rc = svc_conn(&c, req)) || (rc = chg_load(&ch, &facts, req, c, id)) ||
	    (rc = changes_get(out_content, c, id)))
		goto out;
	if (strcmp(meaning, "released") == 0)
		*out_refused = role_in(req, ROLE_APPROVER | ROLE_ADMIN) ? rules_can_release(&ch)
			       : not_your_role("release-role", "only an approver or an administrator releases");
	else
		*out_refused = rules_sign_change(&st, &ch, meaning, req->who.role, req->who.user_id);
out:
	svc_end(c);
	return rc;
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
	    (rc = change_sign_view(&content, &refused, req, change, meaning)))
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
	http_handler h = NULL;
	json_t *body = json_object(), *out = NULL;
	struct pg_failure f;
	int rc;

	if (kind && value && strcmp(kind, "transition") == 0) {
		h = h_changes_transition;
		json_object_set_new(body, "to", json_string(value));
		if (reason)
			json_object_set_new(body, "reason", json_string(reason));
	} else if (kind && value && strcmp(kind, "sign") == 0) {
		h = h_signatures_change;
		json_object_set_new(body, "meaning", json_string(value));
		if (reason)
			json_object_set_new(body, "comment", json_string(reason));
	} else if (kind && strcmp(kind, "release") == 0) {
		h = h_changes_release;
		value = "released";
		if (reason)
			json_object_set_new(body, "reason", json_string(reason));
	}
	if (!h) {
		json_decref(body);
		rc = err_set(OTCM_EINVAL, "kind", "unknown action");
		goto refused;
	}
	if (strcmp(kind, "transition") != 0) {
		json_object_set_new(body, "password", json_string(password ? password : ""));
		if (totp)
			json_object_set_new(body, "totp_code", json_string(totp));
	}
	pg_set_json_body(req, body);
	rc = pg_call_json(&out, req, h);
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
	if (f.status == 404)
		return rc;
	if (kind && (strcmp(kind, "sign") == 0 || strcmp(kind, "release") == 0))
		return change_sign_page(req, f.status, value, &f);
	return change_page(req, f.status, "error", refusal_text(req, &f));
}

/* ---- raising and editing a change ---- */

/* Every asset (the first ASSETS_MAX_LIMIT by path), to pick the affected ones from. */
static int all_assets(json_t **out, struct http_req *req)
{
	struct asset_query q;
	struct db_conn *c = NULL;
	bool more;
	int rc;

	memset(&q, 0, sizeof(q));
	q.limit = ASSETS_MAX_LIMIT;
	if ((rc = svc_conn(&c, req)) == 0 && (rc = assets_list(out, &more, c, &q)) == 0)
		pg_keep(req, *out);
	svc_end(c);
	return rc;
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
	body = change_body(req, assets, true);
	values = pg_keep(req, json_deep_copy(body));
	if (json_string_length(json_object_get(body, "reason")) == 0)
		json_object_del(body, "reason");   /* optional in a draft: empty means not given */
	pg_set_json_body(req, body);
	if ((rc = pg_call_json(&out, req, h_changes_create))) {
		pg_keep_failure(&f, req, rc);
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
	const char *why = pg_form(req, "edit_reason");
	int state;
	struct pg_failure f;
	int rc;

	if ((rc = load_change(&change, req)) || (rc = all_assets(&assets, req)))
		return rc;
	state = rules_state_from_name(web_str(change, "state"));
	/* affected assets change only before authorisation: later they are not sent at all */
	body = change_body(req, assets, state <= CHG_SUBMITTED);
	if (why)
		json_object_set_new(body, "edit_reason", json_string(why));
	values = pg_keep(req, json_deep_copy(body));
	if (!json_object_get(values, "affected_assets"))
		json_object_set(values, "affected_assets", json_object_get(change, "affected_assets"));
	pg_set_json_body(req, body);
	if ((rc = pg_call_json(&out, req, h_changes_patch))) {
		pg_keep_failure(&f, req, rc);
		if (f.status == 404)
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
	body = json_pack("{s:I, s:s}", "asset_id", (json_int_t)asset_id, "commit", commit);
	if (sha)
		json_object_set_new(body, "readback_sha256", json_string(sha));
	if (note)
		json_object_set_new(body, "note", json_string(note));
	pg_set_json_body(req, body);
	if ((rc = pg_call_json(&out, req, h_changes_deploy)))
		goto refused;
	json_decref(out);
	return pg_redirect(req, path_of(req, "/changes/", http_param(req, 0), "?done=deployed"));
refused:
	pg_keep_failure(&f, req, rc);
	return deploy_page(req, f.status, change, asset, sha, note, &f);
}

/* ---- test protocols ---- */

int h_page_protocols(struct http_req *req)
{
	struct web_page p = pg_page(req, "Test protocols", "protocols");
	json_t *list = NULL;
	struct html h;
	int rc;

	if ((rc = pg_call_json(&list, req, h_protocols_list)))
		return rc;
	pg_keep(req, list);
	html_init(&h, PG_PAGE_CAP);
	page_protocols(&h, &p, json_object_get(list, "items"), role_in(req, ROLE_QA | ROLE_ADMIN),
		       http_query(req, "done") ? "Protocol saved." : NULL);
	return pg_reply(req, 200, &h);
}

int h_page_protocol(struct http_req *req)
{
	struct web_page p;
	json_t *proto = NULL;
	struct html h;
	int rc;

	if ((rc = pg_call_json(&proto, req, h_protocols_get)))
		return rc;
	pg_keep(req, proto);
	p = pg_page(req, web_str(proto, "name"), "protocols");
	html_init(&h, PG_PAGE_CAP);
	page_protocol(&h, &p, proto, role_in(req, ROLE_QA | ROLE_ADMIN));
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
		req->params[0] = based;
		req->nparams = 1;
		if ((rc = pg_call_json(&from, req, h_protocols_get)))
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
	values = pg_keep(req, json_deep_copy(body));
	pg_set_json_body(req, body);
	if ((rc = pg_call_json(&out, req, h_protocols_create)) == 0) {
		pg_keep(req, out);
		return pg_redirect(req, arena_printf(req->arena, "/protocols/%" PRId64 "?done=saved",
						     (int64_t)json_integer_value(json_object_get(out, "id"))));
	}
	pg_keep_failure(&f, req, rc);
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
	struct db_conn *c = NULL;
	struct html h;
	int rc;

	if ((rc = load_change(&change, req)))
		return rc;
	if ((rc = svc_conn(&c, req)) == 0 && (rc = protocols_list(&protocols, c, NULL)) == 0)
		pg_keep(req, protocols);
	svc_end(c);
	if (rc)
		return rc;
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
		pg_set_json_body(req, json_pack("{s:I, s:I}", "protocol_id", (json_int_t)strtoll(protocol, NULL, 10),
						"asset_id", (json_int_t)strtoll(asset, NULL, 10)));
		rc = pg_call_json(&out, req, h_runs_create);
	}
	if (rc == 0) {
		pg_keep(req, out);
		return pg_redirect(req, arena_printf(req->arena, "/test-runs/%" PRId64,
						     (int64_t)json_integer_value(json_object_get(out, "id"))));
	}
	pg_keep_failure(&f, req, rc);
	if (f.status == 404)
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

/* The run of the route's first capture and its change (without runs and signatures). */
static int load_run(json_t **out_run, json_t **out_change, struct http_req *req)
{
	struct db_conn *c = NULL;
	int64_t cid;
	int rc;

	if ((rc = pg_call_json(out_run, req, h_runs_get)))
		return rc;
	pg_keep(req, *out_run);
	if ((rc = changes_parse_key(&cid, web_str(*out_run, "change"))) || (rc = svc_conn(&c, req)) ||
	    (rc = changes_get(out_change, c, cid)))
		goto out;
	pg_keep(req, *out_change);
out:
	svc_end(c);
	return rc;
}

/* The rules' view of run `id`: whether the caller may sign it `meaning` (0) or why not. */
static int run_may_sign(struct http_req *req, struct db_conn *c, int64_t id, const char *meaning)
{
	struct run_facts rf;
	struct rules_run v;
	int rc;

	if ((rc = runs_facts(&rf, req->arena, c, id)))
		return rc;
	memset(&v, 0, sizeof(v));
	v.completed = strcmp(rf.state, "completed") == 0;
	v.stale = rf.stale;
	v.tester_id = rf.tester_id;
	v.witness_required = rf.witness_required;
	v.witnessed = rf.witnessed;
	v.nsteps = rf.nsteps;
	v.nrecorded = rf.nrecorded;
	v.fail_undisposed = rf.fail_undisposed;
	v.step_testers = rf.step_testers;
	v.nstep_testers = rf.nstep_testers;
	return rules_sign_run(&v, meaning, req->who.role, req->who.user_id);
}

static int run_page(struct http_req *req, unsigned status, const char *kind, const char *notice)
{
	struct web_page p;
	json_t *run = NULL, *change = NULL;
	struct web_action *acts;
	struct db_conn *c = NULL;
	int64_t id;
	size_t n = 0, i;
	bool open;
	struct html h;
	int rc;

	if ((rc = load_run(&run, &change, req)))
		return rc;
	id = json_integer_value(json_object_get(run, "id"));
	open = strcmp(web_str(run, "state") ? web_str(run, "state") : "", "completed") != 0;
	acts = arena_alloc(req->arena, 2 * sizeof(*acts));
	if (role_in(req, ROLE_QA | ROLE_ADMIN)) {
		if ((rc = svc_conn(&c, req)))
			return rc;
		for (i = 0; i < 2 && rc == 0; i++) {
			const char *meaning = run_sign_labels[i].meaning;
			int may = run_may_sign(req, c, id, meaning);

			if (may && may != OTCM_ERULE) {
				rc = may;
				break;
			}
			/* witnessing is offered once the run is complete and needs a witness */
			if (strcmp(meaning, "witnessed") == 0 &&
			    (open || !json_is_true(json_object_get(json_object_get(run, "protocol"), "witness_required"))))
				continue;
			if (strcmp(meaning, "tested") == 0 && !open)
				continue;
			offer(acts, &n, req, run_sign_labels[i].label, "sign", meaning,
			      arena_printf(req->arena, "/test-runs/%" PRId64 "/sign?meaning=%s", id, meaning),
			      may, true);
		}
		err_clear();
		svc_end(c);
		if (rc)
			return rc;
	}
	p = pg_page(req, arena_printf(req->arena, "Test run %" PRId64, id), "changes");
	html_init(&h, PG_PAGE_CAP);
	page_run(&h, &p, run, change,
		 role_in(req, ROLE_QA | ROLE_ADMIN) && open && !json_is_true(json_object_get(run, "stale")),
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
	json_t *body = json_object(), *out = NULL;
	struct pg_failure f;
	size_t i;
	int rc;

	json_object_set_new(body, "result", json_string(result ? result : ""));
	for (i = 0; fields[i]; i++)
		if (pg_form(req, fields[i]))
			json_object_set_new(body, fields[i], json_string(pg_form(req, fields[i])));
	if (!result) {
		json_decref(body);
		rc = err_set(OTCM_EINVAL, "result", "choose the step's result: pass, fail or n/a");
	} else {
		pg_set_json_body(req, body);
		rc = pg_call_json(&out, req, h_runs_step);
	}
	if (rc == 0) {
		json_decref(out);
		return to_step(req, "step");
	}
	pg_keep_failure(&f, req, rc);
	if (f.status == 404)
		return rc;
	return run_page(req, f.status, "error", arena_printf(req->arena, "Step %s: %s", http_param(req, 1),
							      refusal_text(req, &f)));
}

int h_page_run_attach(struct http_req *req)
{
	json_t *out = NULL;
	struct pg_failure f;
	int rc;

	if (!req->parts && req->body_len)
		rc = err_set(OTCM_EMEDIA, "file", "send the attachment form as multipart/form-data");
	else
		rc = pg_call_json(&out, req, h_attachments_create);
	if (rc == 0) {
		json_decref(out);
		return to_step(req, "attached");
	}
	pg_keep_failure(&f, req, rc);
	if (f.status == 404)
		return rc;
	return run_page(req, f.status, "error", arena_printf(req->arena, "Attachment to step %s refused: %s",
							      http_param(req, 1), refusal_text(req, &f)));
}

static int run_sign_page(struct http_req *req, unsigned status, const char *meaning, const struct pg_failure *f)
{
	json_t *run = NULL, *change = NULL, *content = NULL;
	struct db_conn *c = NULL;
	int rc, refused;

	if (!meaning || (strcmp(meaning, "tested") && strcmp(meaning, "witnessed")))
		return err_set(OTCM_EINVAL, "meaning", "a test run is signed tested or witnessed");
	if ((rc = load_run(&run, &change, req)))
		return rc;
	if ((rc = svc_conn(&c, req)))
		return rc;
	refused = run_may_sign(req, c, json_integer_value(json_object_get(run, "id")), meaning);
	svc_end(c);
	if (refused && refused != OTCM_ERULE)
		return refused;
	/* what h_signatures_run signs: the run without its signatures */
	content = json_deep_copy(run);
	json_object_del(content, "signatures");
	json_object_del(content, "witnessed");
	return sign_page(req, status, change, run, meaning, content, refused, f);
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

	body = json_pack("{s:s, s:s}", "meaning", meaning ? meaning : "", "password", password ? password : "");
	if (totp)
		json_object_set_new(body, "totp_code", json_string(totp));
	if (comment)
		json_object_set_new(body, "comment", json_string(comment));
	pg_set_json_body(req, body);
	if ((rc = pg_call_json(&out, req, h_signatures_run)) == 0) {
		pg_keep(req, out);
		return to_signature(req, web_str(out, "change"), out);
	}
	pg_keep_failure(&f, req, rc);
	if (f.status == 404)
		return rc;
	return run_sign_page(req, f.status, meaning, &f);
}
