/* domain/rules.c - the change lifecycle's rules, pure; see rules.h. */
#include "domain/rules.h"

#include <inttypes.h>
#include <string.h>

#include "core/err.h"

static const char *const state_names[CHG_STATE_COUNT] = {
	"draft", "submitted", "authorised", "implementing", "fat", "approved",
	"deployed", "sat", "released", "closed", "rejected", "cancelled",
};

int rules_state_from_name(const char *name)
{
	int i;

	for (i = 0; name && i < CHG_STATE_COUNT; i++)
		if (strcmp(name, state_names[i]) == 0)
			return i;
	return -1;
}

const char *rules_state_name(int state)
{
	return state >= 0 && state < CHG_STATE_COUNT ? state_names[state] : "unknown";
}

bool rules_state_final(int state)
{
	return state == CHG_RELEASED || state == CHG_CLOSED || state == CHG_REJECTED ||
	       state == CHG_CANCELLED;
}

/* Record a refusal: the message, the field and the rule's name. */
static int refuse(const char *rule, const char *field, const char *sentence)
{
	err_set(OTCM_ERULE, field, "%s", sentence);
	err_set_rule(rule);
	return OTCM_ERULE;
}

static bool is_contributor(const struct rules_change *ch, int64_t user)
{
	size_t i;

	for (i = 0; i < ch->ncontributors; i++)
		if (ch->contributors[i] == user)
			return true;
	return false;
}

/* The transitions the endpoint offers and who may ask for them. */
static const struct {
	int from, to;
	unsigned roles;
	bool requester_or_admin;  /* the requester (any role above) or an administrator */
} moves[] = {
	{ CHG_DRAFT, CHG_SUBMITTED, ROLE_ENGINEER | ROLE_ADMIN, true },
	{ CHG_SUBMITTED, CHG_DRAFT, ROLE_ENGINEER | ROLE_ADMIN, true },
	{ CHG_SUBMITTED, CHG_REJECTED, ROLE_APPROVER | ROLE_ADMIN, false },
	{ CHG_AUTHORISED, CHG_IMPLEMENTING, ROLE_ENGINEER | ROLE_ADMIN, false },
	{ CHG_IMPLEMENTING, CHG_FAT, ROLE_ENGINEER | ROLE_ADMIN, false },
	{ CHG_FAT, CHG_IMPLEMENTING, ROLE_ENGINEER | ROLE_QA | ROLE_ADMIN, false },
	{ CHG_FAT, CHG_REJECTED, ROLE_APPROVER | ROLE_ADMIN, false },
	{ CHG_APPROVED, CHG_DEPLOYED, ROLE_ENGINEER | ROLE_ADMIN, false },
	{ CHG_IMPLEMENTING, CHG_DEPLOYED, ROLE_ENGINEER | ROLE_ADMIN, false },  /* emergency */
	{ CHG_FAT, CHG_DEPLOYED, ROLE_ENGINEER | ROLE_ADMIN, false },           /* emergency */
	{ CHG_DEPLOYED, CHG_SAT, ROLE_ENGINEER | ROLE_QA | ROLE_ADMIN, false },
	{ CHG_RELEASED, CHG_CLOSED, ROLE_ENGINEER | ROLE_APPROVER | ROLE_ADMIN, false },
};

static int cancel_allowed(const struct rules_change *ch, unsigned role, int64_t actor)
{
	if (ch->state >= CHG_DEPLOYED && !rules_state_final(ch->state))
		return refuse("deployed-cannot-cancel", "to",
			      "a deployed change cannot be cancelled: release it or deploy a rollback under a new change");
	if (role != ROLE_ADMIN && role != ROLE_APPROVER && actor != ch->requester_id)
		return refuse("transition-role", "to",
			      "only the requester, an approver or an administrator may cancel a change");
	return 0;
}

int rules_transition(const struct rules_change *ch, int to, unsigned role, int64_t actor)
{
	size_t i, k;

	if (rules_state_final(ch->state) && !(ch->state == CHG_RELEASED && to == CHG_CLOSED))
		return refuse("change-ended", "to", "the change has ended: no transition leaves this state");
	if (to == CHG_AUTHORISED || to == CHG_APPROVED)
		return refuse("signature-required", "to",
			      "this state is reached only by signing: POST a signature with that meaning");
	if (to == CHG_RELEASED)
		return refuse("release-endpoint", "to",
			      "a change is released only through its release endpoint");
	if (to == CHG_CANCELLED)
		return cancel_allowed(ch, role, actor);
	for (i = 0; i < sizeof(moves) / sizeof(moves[0]); i++)
		if (moves[i].from == ch->state && moves[i].to == to)
			break;
	if (i == sizeof(moves) / sizeof(moves[0]))
		return refuse("no-such-transition", "to", "the lifecycle has no such transition from this state");
	if (!(moves[i].roles & role) ||
	    (moves[i].requester_or_admin && role != ROLE_ADMIN && actor != ch->requester_id))
		return refuse("transition-role", "to", "this role may not make this transition");
	if (to == CHG_SUBMITTED && !ch->complete)
		return refuse("change-incomplete", "to",
			      "a change is submitted with a title, a reason, both plans and at least one affected asset");
	if (to == CHG_FAT)
		for (k = 0; k < ch->nassets; k++)
			if (!ch->assets[k].tree)
				return refuse("versions-required", "to",
					      "every affected asset needs a version on the change branch before FAT");
	if (to == CHG_DEPLOYED) {
		if (ch->state != CHG_APPROVED && !ch->emergency)
			return refuse("approval-required", "to",
				      "only an emergency change may deploy before it is approved");
		for (k = 0; k < ch->nassets; k++)
			if (!ch->assets[k].tree || !ch->assets[k].deployed)
				return refuse("deployment-required", "to",
					      "every affected asset needs a recorded deployment of its current tree");
	}
	if (to == CHG_CLOSED && ch->emergency)
		for (k = 0; k < ch->nassets; k++)
			if (!ch->assets[k].approved)
				return refuse("retrospective-approval-required", "to",
					      "an emergency change closes only after its retrospective approval");
	return 0;
}

static bool fat_passed_everywhere(const struct rules_change *ch)
{
	size_t k;

	for (k = 0; k < ch->nassets; k++)
		if (!ch->assets[k].tree || !ch->assets[k].fat_passed)
			return false;
	return ch->nassets > 0;
}

int rules_sign_change(int *out_state, const struct rules_change *ch, const char *meaning,
		      unsigned role, int64_t signer)
{
	*out_state = -1;
	if (strcmp(meaning, "tested") == 0 || strcmp(meaning, "witnessed") == 0)
		return refuse("run-signature", "meaning", "tested and witnessed are signed on a test run");
	if (strcmp(meaning, "released") == 0)
		return refuse("release-endpoint", "meaning",
			      "the released signature is given through the release endpoint");
	if (rules_state_final(ch->state))
		return refuse("change-ended", "meaning", "the change has ended: it takes no more signatures");
	if (strcmp(meaning, "reviewed") == 0) {
		if (!(role & (ROLE_ENGINEER | ROLE_QA | ROLE_APPROVER | ROLE_ADMIN)))
			return refuse("signature-role", "meaning", "this role may not sign reviews");
		return 0;
	}
	if (strcmp(meaning, "authorised") == 0) {
		if (!(role & (ROLE_APPROVER | ROLE_ADMIN)))
			return refuse("signature-role", "meaning", "only an approver may authorise a change");
		if (ch->state != CHG_SUBMITTED)
			return refuse("wrong-state", "meaning", "only a submitted change can be authorised");
		if (signer == ch->requester_id)
			return refuse("segregation-of-duties", "meaning",
				      "the requester cannot authorise their own change");
		*out_state = CHG_AUTHORISED;
		return 0;
	}
	if (strcmp(meaning, "approved") == 0) {
		bool retrospective = ch->emergency && (ch->state == CHG_DEPLOYED || ch->state == CHG_SAT);

		if (!(role & (ROLE_APPROVER | ROLE_ADMIN)))
			return refuse("signature-role", "meaning", "only an approver may approve a change");
		if (ch->state != CHG_FAT && !retrospective)
			return refuse("wrong-state", "meaning",
				      "a change is approved in FAT (or, for an emergency change, after deployment)");
		if (is_contributor(ch, signer))
			return refuse("segregation-of-duties", "meaning",
				      "whoever uploaded or committed content to the change cannot approve it");
		if (!fat_passed_everywhere(ch))
			return refuse("fat-required", "meaning",
				      "every affected asset needs a passed FAT run on its current tree");
		*out_state = retrospective ? -1 : CHG_APPROVED;
		return 0;
	}
	return refuse("unknown-meaning", "meaning", "unknown signature meaning");
}

static bool in_list(const int64_t *list, size_t n, int64_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i] == v)
			return true;
	return false;
}

int rules_sign_run(const struct rules_run *run, const char *meaning, unsigned role,
		   int64_t signer)
{
	if (strcmp(meaning, "tested") && strcmp(meaning, "witnessed"))
		return refuse("meaning-not-for-runs", "meaning", "a test run is signed tested or witnessed");
	if (!(role & (ROLE_QA | ROLE_ADMIN)))
		return refuse("signature-role", "meaning", "only QA signs test runs");
	if (run->stale)
		return refuse("stale-run", "meaning",
			      "a newer version was uploaded for this asset: the run no longer counts");
	if (strcmp(meaning, "tested") == 0) {
		if (run->completed)
			return refuse("run-completed", "meaning", "the run is already complete");
		if (signer != run->tester_id)
			return refuse("tester-signs", "meaning", "the run's tester signs it as tested");
		if (run->nrecorded < run->nsteps)
			return refuse("steps-incomplete", "meaning", "every step needs a result before the run completes");
		if (run->fail_undisposed)
			return refuse("deviation-required", "meaning",
				      "a failed step needs a deviation with a disposition before the run completes");
		return 0;
	}
	if (!run->completed)
		return refuse("run-not-completed", "meaning", "a run is witnessed after its tester completed it");
	if (run->witnessed)
		return refuse("already-witnessed", "meaning", "the run is already witnessed");
	if (signer == run->tester_id || in_list(run->step_testers, run->nstep_testers, signer))
		return refuse("segregation-of-duties", "meaning", "the witness of a run cannot be its tester");
	return 0;
}

int rules_can_start_run(const struct rules_change *ch, const char *kind)
{
	if (strcmp(kind, "fat") == 0 && ch->state != CHG_FAT)
		return refuse("wrong-state", "protocol_id", "FAT runs start while the change is in FAT");
	if (strcmp(kind, "sat") == 0 && ch->state != CHG_DEPLOYED && ch->state != CHG_SAT)
		return refuse("wrong-state", "protocol_id", "SAT runs start once the change is deployed");
	return 0;
}

bool rules_disposition_valid(const char *d)
{
	return d && (strcmp(d, "accepted") == 0 || strcmp(d, "rejected") == 0);
}

const char *rules_run_verdict(const char *const *results, const char *const *dispositions,
			      size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (results[i] && strcmp(results[i], "fail") == 0 &&
		    !(dispositions[i] && strcmp(dispositions[i], "accepted") == 0))
			return "fail";
	return "pass";
}

int rules_can_upload(bool *out_back_to_implementing, int state, bool affected)
{
	*out_back_to_implementing = false;
	if (state != CHG_IMPLEMENTING && state != CHG_FAT)
		return refuse("upload-state", "change",
			      "versions are uploaded to a change only while it is implementing or in FAT");
	if (!affected)
		return refuse("asset-not-affected", "change", "the asset is not one of the change's affected assets");
	*out_back_to_implementing = state == CHG_FAT;
	return 0;
}

int rules_can_deploy(const struct rules_change *ch, size_t idx, const char *tree)
{
	const struct rules_asset *a = &ch->assets[idx];

	if (ch->emergency) {
		if (ch->state < CHG_IMPLEMENTING || ch->state > CHG_SAT)
			return refuse("wrong-state", "commit", "an emergency change deploys from implementing to SAT");
		return 0;
	}
	if (ch->state != CHG_APPROVED && ch->state != CHG_DEPLOYED && ch->state != CHG_SAT)
		return refuse("approval-required", "commit", "a change deploys only after it is approved");
	if (!a->tree || strcmp(a->tree, tree) || !a->approved)
		return refuse("approval-required", "commit", "only the approved tree of the asset may be deployed");
	return 0;
}

int rules_can_release(const struct rules_change *ch)
{
	size_t k;

	if (ch->state != CHG_SAT)
		return refuse("wrong-state", NULL, "a change is released from SAT");
	if (!ch->authorised)
		return refuse("release-requirements", NULL, "the change was never authorised");
	if (ch->nassets == 0)
		return refuse("release-requirements", NULL, "the change has no affected asset");
	for (k = 0; k < ch->nassets; k++) {
		const struct rules_asset *a = &ch->assets[k];
		const char *missing = !a->tree ? "no version"
				    : !a->fat_passed ? "no passed FAT run"
				    : !a->approved ? "no approval"
				    : !a->deployed ? "no deployment"
				    : !a->sat_passed ? "no passed SAT run" : NULL;

		if (missing) {
			err_set(OTCM_ERULE, NULL,
				"asset %" PRId64 " has %s on the tree of its change branch head", a->asset_id,
				missing);
			err_set_rule("release-requirements");
			return OTCM_ERULE;
		}
	}
	return 0;
}

int rules_can_edit(int state, bool has_reason, bool touches_assets, bool touches_type)
{
	if (rules_state_final(state))
		return refuse("change-ended", "reason", "the change has ended: its fields cannot change");
	if (touches_type && state != CHG_DRAFT)
		return refuse("type-frozen", "type",
			      "the change was submitted: its type no longer changes, since it decides whether "
			      "the change may deploy before approval (cancel it and raise a new one)");
	if (state != CHG_DRAFT && !has_reason)
		return refuse("frozen-after-draft", "reason",
			      "the change left draft: an edit needs a 'reason' and is audited");
	if (touches_assets && state > CHG_SUBMITTED)
		return refuse("assets-frozen", "affected_assets",
			      "affected assets change only before the change is authorised");
	return 0;
}

/* ---- controlled firmware updates ---- */

int rules_firmware_record(int state)
{
	if (rules_state_final(state))
		return refuse("firmware-change-finished", NULL,
			      "the change has ended: its firmware update can no longer be recorded");
	return 0;
}

int rules_firmware_release(const struct rules_firmware *fw, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++) {
		const struct rules_firmware *f = &fw[k];
		const char *rule = NULL, *what = NULL;

		if (!f->before || !*f->before) {
			rule = "firmware-before-missing";
			what = "the firmware read before the update is not recorded";
		} else if (!f->after || !*f->after) {
			rule = "firmware-after-missing";
			what = "the firmware read after the update is not recorded";
		} else if (!strcmp(f->before, f->after)) {
			rule = "firmware-unchanged";
			what = "the firmware read after the update is the one read before it";
		} else if (!f->package_sha256) {
			rule = "firmware-package-missing";
			what = "the vendor's firmware package is not uploaded";
		} else if (!f->advisory || !*f->advisory) {
			rule = "firmware-advisory-missing";
			what = "the advisory the update addresses is not recorded";
		}
		if (rule) {
			err_set(OTCM_ERULE, NULL, "asset %" PRId64 ": %s", f->asset_id, what);
			err_set_rule(rule);
			return OTCM_ERULE;
		}
	}
	return 0;
}
