/* domain/signatures.c - electronic signatures on changes and test runs; see signatures.h. */
#include "domain/signatures.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "domain/auth.h"
#include "domain/changes.h"
#include "domain/rules.h"
#include "domain/runs.h"
#include "domain/signing.h"
#include "storage/changes.h"
#include "storage/runs.h"
#include "storage/signatures.h"
#include "storage/users.h"

/* {asset id: tree} of the change's branch heads. */
static json_t *trees_of(const struct dom *d, const struct change_facts *f)
{
	json_t *t = json_object();
	size_t i;

	for (i = 0; i < f->nassets; i++)
		if (f->assets[i].tree)
			json_object_set_new(t, arena_printf(d->arena, "%" PRId64, f->assets[i].asset_id),
					    json_string(f->assets[i].tree));
	return t;
}

/* password, totp_code, meaning and comment of a signing body. */
static int read_body(const char **meaning, const char **password, const char **code,
		     const char **comment, const json_t *in)
{
	static const char *const fields[] = { "meaning", "password", "totp_code", "comment", NULL };
	json_t *body = (json_t *)in;   /* the readers of core/json.h do not change it */
	int rc;

	if ((rc = json_only_fields(body, fields)) || (rc = json_get_str(body, "meaning", true, meaning)) ||
	    (rc = json_get_str(body, "comment", false, comment)) ||
	    (rc = json_get_str(body, "password", true, password)))
		return rc;
	return json_get_str(body, "totp_code", false, code);
}

int dom_change_sign(json_t **out, const struct dom *d, const char *key, const json_t *in)
{
	json_t *content = NULL, *trees = NULL, *sig = NULL, *before = NULL, *after = NULL;
	struct db_conn *c = NULL;
	struct dom_change_state ch;
	const char *meaning, *method = NULL, *comment = NULL, *password = NULL, *code = NULL;
	int rc, to = -1;

	memset(&ch, 0, sizeof(ch));
	if ((rc = dom_permit(d, OP_CHANGE_SIGN)))
		return rc;
	if ((rc = read_body(&meaning, &password, &code, &comment, in)))
		goto out;
	if ((rc = dom_begin(&c, d)) || (rc = dom_change_lock(&ch, d, c, key)) ||
	    (rc = dom_reauth(&method, d, c, password, code)) ||
	    (rc = rules_sign_change(&to, &ch.view, meaning, d->who->role, d->who->user_id)))
		goto out;
	trees = trees_of(d, &ch.facts);
	if ((rc = changes_get(&content, c, ch.id)))
		goto out;
	if (comment)
		json_object_set_new(content, "comment", json_string(comment));
	if ((rc = dom_signing_write(&sig, d, c, ch.id, 0, meaning, method, content, trees)))
		goto out;
	if (to >= 0) {
		before = json_pack("{s:s}", "state", ch.facts.state);
		after = json_pack("{s:s}", "state", rules_state_name(to));
		if ((rc = changes_set_state(c, ch.id, rules_state_name(to))) ||
		    (rc = dom_audit(d, c, "change.transition", "change", ch.key, before, after, meaning)))
			goto out;
	}
	if ((rc = dom_audit(d, c, "signature.create", "change", ch.key, NULL, sig, comment)) ||
	    (rc = dom_commit(c)))
		goto out;
	*out = sig;
	sig = NULL;
out:
	if (rc)
		rc = dom_refused(d, &c, "signature.refused", "change", ch.key ? ch.key : key, rc);
	dom_end(c);
	json_decref(content);
	json_decref(trees);
	json_decref(sig);
	json_decref(before);
	json_decref(after);
	return rc;
}

/* The rules' view of a run. */
static void run_view(struct rules_run *v, const struct run_facts *rf)
{
	memset(v, 0, sizeof(*v));
	v->completed = strcmp(rf->state, "completed") == 0;
	v->stale = rf->stale;
	v->tester_id = rf->tester_id;
	v->witness_required = rf->witness_required;
	v->witnessed = rf->witnessed;
	v->nsteps = rf->nsteps;
	v->nrecorded = rf->nrecorded;
	v->fail_undisposed = rf->fail_undisposed;
	v->step_testers = rf->step_testers;
	v->nstep_testers = rf->nstep_testers;
}

int dom_run_sign(json_t **out, const struct dom *d, const char *run_id, const json_t *in)
{
	json_t *content = NULL, *trees = NULL, *sig = NULL;
	struct db_conn *c = NULL;
	struct run_facts rf;
	struct rules_run view;
	const char *meaning, *method = NULL, *comment = NULL, *password = NULL, *code = NULL;
	const char *state, *verdict;
	int64_t run = 0, requester = 0;
	int rc;

	if ((rc = dom_permit(d, OP_RUN_SIGN)))
		return rc;
	if ((rc = dom_run_parse_id(&run, run_id, "test run")) ||
	    (rc = read_body(&meaning, &password, &code, &comment, in)))
		goto out;
	/* lock the run's change first: writes to one change queue on its row */
	if ((rc = dom_begin(&c, d)) || (rc = runs_facts(&rf, d->arena, c, run)) ||
	    (rc = changes_lock(&state, &requester, d->arena, c, rf.change_id)) ||
	    (rc = runs_get(&content, c, run, true)) || (rc = runs_facts(&rf, d->arena, c, run)))
		goto out;
	run_view(&view, &rf);
	if ((rc = dom_reauth(&method, d, c, password, code)) ||
	    (rc = rules_sign_run(&view, meaning, d->who->role, d->who->user_id)))
		goto out;
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
	trees = json_pack("{s:s}", arena_printf(d->arena, "%" PRId64, rf.asset_id), rf.tree);
	if ((rc = dom_signing_write(&sig, d, c, rf.change_id, run, meaning, method, content, trees)) ||
	    (rc = dom_audit(d, c, "signature.create", "test-run", arena_printf(d->arena, "%" PRId64, run),
			    NULL, sig, comment)) ||
	    (rc = dom_commit(c)))
		goto out;
	*out = sig;
	sig = NULL;
out:
	if (rc)
		rc = dom_refused(d, &c, "signature.refused", "test-run", run_id, rc);
	dom_end(c);
	json_decref(content);
	json_decref(trees);
	json_decref(sig);
	return rc;
}

int dom_signature_list(json_t **out, const struct dom *d, const char *key)
{
	struct db_conn *c = NULL;
	json_t *list = NULL, *change = NULL;
	int64_t id;
	int rc;

	if ((rc = dom_permit(d, OP_CHANGE_READ)))
		return rc;
	if ((rc = changes_parse_key(&id, key)))
		return rc;
	if ((rc = dom_conn(&c, d)) || (rc = changes_get(&change, c, id)) ||
	    (rc = signatures_list(&list, c, id, 0)))
		goto out;
	*out = json_pack("{s:o}", "items", list);
out:
	json_decref(change);
	dom_end(c);
	return rc;
}

int dom_change_sign_view(json_t **out_content, int *out_refused, const struct dom *d,
			 const char *key, const char *meaning)
{
	struct dom_change_state ch;
	struct db_conn *c = NULL;
	int64_t id;
	int rc, st;

	*out_content = NULL;
	*out_refused = 0;
	if ((rc = dom_permit(d, OP_CHANGE_READ)))
		return rc;
	if ((rc = changes_parse_key(&id, key)) || (rc = dom_conn(&c, d)) ||
	    (rc = dom_change_load(&ch, d, c, id)) || (rc = changes_get(out_content, c, id)))
		goto out;
	if (strcmp(meaning, "released") == 0) {
		*out_refused = dom_change_role_may(d, OP_CHANGE_RELEASE);
		if (*out_refused == 0)
			*out_refused = rules_can_release(&ch.view);
	} else {
		*out_refused = dom_change_role_may(d, OP_CHANGE_SIGN);
		if (*out_refused == 0)
			*out_refused = rules_sign_change(&st, &ch.view, meaning, d->who->role, d->who->user_id);
	}
out:
	if (rc) {
		json_decref(*out_content);
		*out_content = NULL;
	}
	dom_end(c);
	return rc;
}

int dom_run_sign_view(json_t **out_content, int *out_refused, const struct dom *d,
		      const char *run_id, const char *meaning)
{
	struct db_conn *c = NULL;
	struct run_facts rf;
	struct rules_run view;
	int64_t run;
	int rc;

	*out_content = NULL;
	*out_refused = 0;
	if ((rc = dom_permit(d, OP_RUN_READ)))
		return rc;
	if ((rc = dom_run_parse_id(&run, run_id, "test run")) || (rc = dom_conn(&c, d)) ||
	    (rc = runs_get(out_content, c, run, false)) || (rc = runs_facts(&rf, d->arena, c, run)))
		goto out;
	/* what dom_run_sign signs: the run without its signatures */
	json_object_del(*out_content, "signatures");
	json_object_del(*out_content, "witnessed");
	run_view(&view, &rf);
	*out_refused = dom_change_role_may(d, OP_RUN_SIGN);
	if (*out_refused == 0)
		*out_refused = rules_sign_run(&view, meaning, d->who->role, d->who->user_id);
out:
	if (rc) {
		json_decref(*out_content);
		*out_content = NULL;
	}
	dom_end(c);
	return rc;
}

int dom_signature_needs_code(bool *out, const struct dom *d)
{
	struct db_conn *c = NULL;
	struct totp_state t;
	int rc;

	*out = false;
	if ((rc = dom_conn(&c, d)))
		return rc;
	rc = totp_load(&t, c, d->who->user_id, false);
	if (rc == 0)
		*out = t.enabled;
	else if (rc == OTCM_ENOTFOUND)
		rc = 0;
	dom_end(c);
	return rc;
}
