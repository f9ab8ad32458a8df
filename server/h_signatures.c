/*
 * server/h_signatures.c - electronic signatures on changes and test runs,
 * each with the signer's password again (and a one-time code when the
 * signer enrolled one).
 *
 *   POST /api/v1/changes/{key}/signatures     engineer, qa, approver, admin
 *   GET  /api/v1/changes/{key}/signatures     all but agent
 *   POST /api/v1/test-runs/{id}/signatures    qa, admin
 *
 * What is signed is a canonical JSON (keys sorted, no spaces, UTF-8) of
 * the change's fields and, for every affected asset, the commit and tree
 * of its change branch at that moment (for a run: the run, its steps and
 * its verdict); the signature row keeps that text and its SHA-256.
 * Signatures are never edited or deleted (the database refuses it).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "core/totp.h"
#include "server/handlers.h"
#include "server/rules.h"
#include "server/svc.h"
#include "storage/changes.h"
#include "storage/users.h"

int chg_reauth(const char **out_method, struct http_req *req, struct db_conn *c, json_t *body)
{
	const char *password = NULL, *code = NULL;
	struct totp_state t;
	struct user u;
	int rc;

	if ((rc = json_get_str(body, "password", true, &password)) ||
	    (rc = json_get_str(body, "totp_code", false, &code)))
		return rc;
	if ((rc = users_by_id(&u, req->arena, c, req->who.user_id, false)))
		return rc;
	rc = crypto_password_verify(u.password_hash, password);
	if (rc == OTCM_EAUTH)
		return err_set(OTCM_EAUTH, "password", "wrong password: a signature needs the signer's password");
	if (rc)
		return rc;
	rc = totp_load(&t, c, u.id, true);
	if (rc == OTCM_ENOTFOUND || (rc == 0 && !t.enabled)) {
		*out_method = "password";
		return 0;
	}
	if (rc)
		return rc;
	if (!code)
		return err_set(OTCM_EAUTH, "totp_code", "'totp_code' is required: this account uses one-time codes");
	if ((rc = totp_verify(&t.last_step, t.secret, t.secret_len, code, time_now_us() / 1000000)))
		return rc == OTCM_EINVAL ? rc : err_set(OTCM_EAUTH, "totp_code", "%s", err_message());
	if ((rc = totp_set(c, u.id, false, t.last_step)))
		return rc;
	*out_method = "password+totp";
	return 0;
}

int chg_sign(json_t **out, struct http_req *req, struct db_conn *c, int64_t change_id,
	     int64_t run_id, const char *meaning, const char *method, json_t *content,
	     const json_t *trees)
{
	struct signature_record s;
	struct user u;
	char sha[2 * CRYPTO_SHA256_LEN + 1], *text = NULL;
	int rc;

	if ((rc = users_by_id(&u, req->arena, c, req->who.user_id, false)))
		return rc;
	json_object_set_new(content, "meaning", json_string(meaning));
	json_object_set_new(content, "signer", json_string(u.username));
	text = json_dumps(content, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		return err_set(OTCM_EINTERNAL, NULL, "cannot serialise what is signed");
	crypto_sha256_hex(sha, text, strlen(text));
	memset(&s, 0, sizeof(s));
	s.change_id = change_id;
	s.run_id = run_id;
	s.meaning = meaning;
	s.signer_id = u.id;
	s.printed_name = u.display_name;
	s.role = u.role;
	s.auth_method = method;
	s.content = text;
	s.content_sha256 = sha;
	s.trees = trees;
	rc = signatures_insert(out, c, &s);
	free(text);
	return rc;
}

/* {asset id: tree} of the change's branch heads, and the signed content. */
static json_t *trees_of(struct http_req *req, const struct change_facts *f)
{
	json_t *t = json_object();
	size_t i;

	for (i = 0; i < f->nassets; i++)
		if (f->assets[i].tree)
			json_object_set_new(t, arena_printf(req->arena, "%" PRId64, f->assets[i].asset_id),
					    json_string(f->assets[i].tree));
	return t;
}

int h_signatures_change(struct http_req *req)
{
	static const char *const fields[] = { "meaning", "password", "totp_code", "comment", NULL };
	json_t *body = NULL, *content = NULL, *trees = NULL, *sig = NULL, *before = NULL, *after = NULL;
	struct db_conn *c = NULL;
	struct change_facts facts;
	struct rules_change view;
	const char *key = http_param(req, 0), *meaning, *method = NULL, *comment = NULL;
	int64_t id;
	int rc, to = -1;

	if ((rc = changes_parse_key(&id, key)) || (rc = svc_body_json(&body, req)) ||
	    (rc = json_only_fields(body, fields)) || (rc = json_get_str(body, "meaning", true, &meaning)) ||
	    (rc = json_get_str(body, "comment", false, &comment)))
		goto out;
	if ((rc = svc_begin(&c, req)) ||
	    (rc = changes_lock(&facts.state, &facts.requester_id, req->arena, c, id)) ||
	    (rc = chg_load(&view, &facts, req, c, id)))
		goto out;
	if ((rc = chg_reauth(&method, req, c, body)) ||
	    (rc = rules_sign_change(&to, &view, meaning, req->who.role, req->who.user_id))) {
		rc = chg_refused(req, &c, "signature.refused", "change", key, rc);
		goto out;
	}
	trees = trees_of(req, &facts);
	if ((rc = changes_get(&content, c, id)))
		goto out;
	if (comment)
		json_object_set_new(content, "comment", json_string(comment));
	if ((rc = chg_sign(&sig, req, c, id, 0, meaning, method, content, trees)))
		goto out;
	if (to >= 0) {
		before = json_pack("{s:s}", "state", facts.state);
		after = json_pack("{s:s}", "state", rules_state_name(to));
		if ((rc = changes_set_state(c, id, rules_state_name(to))) ||
		    (rc = chg_audit(req, c, "change.transition", "change", key, before, after, meaning)))
			goto out;
	}
	if ((rc = chg_audit(req, c, "signature.create", "change", key, NULL, sig, comment)) ||
	    (rc = svc_commit(c)))
		goto out;
	rc = http_reply_json(req, 201, sig);
	sig = NULL;
out:
	svc_end(c);
	json_decref(body);
	json_decref(content);
	json_decref(trees);
	json_decref(sig);
	json_decref(before);
	json_decref(after);
	return rc;
}

static int parse_run_id(int64_t *out, const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (*s == '\0' || *end || v <= 0)
		return err_set(OTCM_ENOTFOUND, "id", "test run '%.40s' not found", s);
	*out = v;
	return 0;
}

int h_signatures_run(struct http_req *req)
{
	static const char *const fields[] = { "meaning", "password", "totp_code", "comment", NULL };
	json_t *body = NULL, *content = NULL, *trees = NULL, *sig = NULL;
	struct db_conn *c = NULL;
	struct run_facts rf;
	struct rules_run view;
	const char *sid = http_param(req, 0), *meaning, *method = NULL, *comment = NULL, *verdict = NULL;
	const char *state;
	int64_t run = 0, requester = 0;
	int rc;

	if ((rc = parse_run_id(&run, sid)) || (rc = svc_body_json(&body, req)) ||
	    (rc = json_only_fields(body, fields)) || (rc = json_get_str(body, "meaning", true, &meaning)) ||
	    (rc = json_get_str(body, "comment", false, &comment)))
		goto out;
	if ((rc = svc_begin(&c, req)) || (rc = runs_facts(&rf, req->arena, c, run)) ||
	    (rc = changes_lock(&state, &requester, req->arena, c, rf.change_id)) ||
	    (rc = runs_get(&content, c, run, true)) || (rc = runs_facts(&rf, req->arena, c, run)))
		goto out;
	memset(&view, 0, sizeof(view));
	view.completed = strcmp(rf.state, "completed") == 0;
	view.stale = rf.stale;
	view.tester_id = rf.tester_id;
	view.witness_required = rf.witness_required;
	view.witnessed = rf.witnessed;
	view.nsteps = rf.nsteps;
	view.nrecorded = rf.nrecorded;
	view.fail_undisposed = rf.fail_undisposed;
	view.step_testers = rf.step_testers;
	view.nstep_testers = rf.nstep_testers;
	if ((rc = chg_reauth(&method, req, c, body)) ||
	    (rc = rules_sign_run(&view, meaning, req->who.role, req->who.user_id))) {
		rc = chg_refused(req, &c, "signature.refused", "test-run", sid, rc);
		goto out;
	}
	if (strcmp(meaning, "tested") == 0) {
		verdict = rules_run_verdict(rf.results, rf.dispositions, rf.nsteps);
		if ((rc = runs_complete(c, run, verdict)))
			goto out;
		json_decref(content);
		content = NULL;
		if ((rc = runs_get(&content, c, run, false)))
			goto out;
	}
	json_object_del(content, "signatures");
	json_object_del(content, "witnessed");
	trees = json_pack("{s:s}", arena_printf(req->arena, "%" PRId64, rf.asset_id), rf.tree);
	if ((rc = chg_sign(&sig, req, c, rf.change_id, run, meaning, method, content, trees)) ||
	    (rc = chg_audit(req, c, "signature.create", "test-run", sid, NULL, sig, comment)) ||
	    (rc = svc_commit(c)))
		goto out;
	rc = http_reply_json(req, 201, sig);
	sig = NULL;
out:
	svc_end(c);
	json_decref(body);
	json_decref(content);
	json_decref(trees);
	json_decref(sig);
	return rc;
}

int h_signatures_list(struct http_req *req)
{
	struct db_conn *c = NULL;
	json_t *list = NULL, *change = NULL;
	int64_t id;
	int rc;

	if ((rc = changes_parse_key(&id, http_param(req, 0))))
		return rc;
	if ((rc = svc_conn(&c, req)) || (rc = changes_get(&change, c, id)) ||
	    (rc = signatures_list(&list, c, id, 0)))
		goto out;
	rc = http_reply_json(req, 200, json_pack("{s:o}", "items", list));
out:
	json_decref(change);
	svc_end(c);
	return rc;
}
