/* tests/unit/domain/test_rules.c - each lifecycle rule, by trying to break it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/err.h"
#include "domain/rules.h"

#define REQUESTER 1
#define ENGINEER 2
#define APPROVER 3
#define QA 4
#define WITNESS 5

static struct rules_asset assets[2];
static int64_t contributors[1] = { ENGINEER };

/* A normal change in `state` whose two assets passed everything on tree "t1". */
static struct rules_change good(int state)
{
	struct rules_change ch;
	size_t i;

	for (i = 0; i < 2; i++) {
		assets[i].asset_id = (int64_t)i + 10;
		assets[i].tree = "t1";
		assets[i].fat_passed = assets[i].approved = assets[i].deployed = true;
		assets[i].sat_passed = true;
	}
	memset(&ch, 0, sizeof(ch));
	ch.state = state;
	ch.requester_id = REQUESTER;
	ch.complete = true;
	ch.authorised = true;
	ch.assets = assets;
	ch.nassets = 2;
	ch.contributors = contributors;
	ch.ncontributors = 1;
	return ch;
}

static void assert_rule(int rc, const char *rule)
{
	assert_int_equal(rc, OTCM_ERULE);
	assert_non_null(err_rule());
	assert_string_equal(err_rule(), rule);
	assert_true(strlen(err_message()) > 0);
	err_clear();
}

static void test_state_names(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < CHG_STATE_COUNT; i++)
		assert_int_equal(rules_state_from_name(rules_state_name(i)), i);
	assert_int_equal(rules_state_from_name("fat "), -1);
	assert_int_equal(rules_state_from_name(NULL), -1);
}

static void test_transitions_follow_the_lifecycle(void **state)
{
	struct rules_change ch = good(CHG_DRAFT);

	(void)state;
	assert_int_equal(rules_transition(&ch, CHG_SUBMITTED, ROLE_ENGINEER, REQUESTER), 0);
	assert_rule(rules_transition(&ch, CHG_SUBMITTED, ROLE_ENGINEER, ENGINEER), "transition-role");
	assert_int_equal(rules_transition(&ch, CHG_SUBMITTED, ROLE_ADMIN, 99), 0);
	assert_rule(rules_transition(&ch, CHG_FAT, ROLE_ENGINEER, REQUESTER), "no-such-transition");
	assert_rule(rules_transition(&ch, CHG_DEPLOYED, ROLE_ADMIN, REQUESTER), "no-such-transition");
	ch.complete = false;
	assert_rule(rules_transition(&ch, CHG_SUBMITTED, ROLE_ENGINEER, REQUESTER), "change-incomplete");

	ch = good(CHG_SUBMITTED);
	assert_rule(rules_transition(&ch, CHG_AUTHORISED, ROLE_APPROVER, APPROVER), "signature-required");
	assert_rule(rules_transition(&ch, CHG_REJECTED, ROLE_ENGINEER, REQUESTER), "transition-role");
	assert_int_equal(rules_transition(&ch, CHG_REJECTED, ROLE_APPROVER, APPROVER), 0);

	ch = good(CHG_FAT);
	assert_rule(rules_transition(&ch, CHG_APPROVED, ROLE_ADMIN, APPROVER), "signature-required");
	ch = good(CHG_SAT);
	assert_rule(rules_transition(&ch, CHG_RELEASED, ROLE_ADMIN, APPROVER), "release-endpoint");

	ch = good(CHG_IMPLEMENTING);
	assets[1].tree = NULL;
	assert_rule(rules_transition(&ch, CHG_FAT, ROLE_ENGINEER, ENGINEER), "versions-required");
	ch = good(CHG_IMPLEMENTING);
	assert_int_equal(rules_transition(&ch, CHG_FAT, ROLE_ENGINEER, ENGINEER), 0);

	ch = good(CHG_CLOSED);
	assert_rule(rules_transition(&ch, CHG_CANCELLED, ROLE_ADMIN, 1), "change-ended");
	ch = good(CHG_RELEASED);
	assert_int_equal(rules_transition(&ch, CHG_CLOSED, ROLE_APPROVER, APPROVER), 0);
}

static void test_cancel(void **state)
{
	struct rules_change ch = good(CHG_IMPLEMENTING);

	(void)state;
	assert_int_equal(rules_transition(&ch, CHG_CANCELLED, ROLE_ENGINEER, REQUESTER), 0);
	assert_rule(rules_transition(&ch, CHG_CANCELLED, ROLE_ENGINEER, ENGINEER), "transition-role");
	ch = good(CHG_DEPLOYED);
	assert_rule(rules_transition(&ch, CHG_CANCELLED, ROLE_ADMIN, REQUESTER), "deployed-cannot-cancel");
}

static void test_emergency_may_deploy_before_approval(void **state)
{
	struct rules_change ch = good(CHG_IMPLEMENTING);

	(void)state;
	assert_rule(rules_transition(&ch, CHG_DEPLOYED, ROLE_ENGINEER, ENGINEER), "approval-required");
	assert_rule(rules_can_deploy(&ch, 0, "t1"), "approval-required");
	ch.emergency = true;
	assert_int_equal(rules_can_deploy(&ch, 0, "t1"), 0);
	assets[1].deployed = false;
	assert_rule(rules_transition(&ch, CHG_DEPLOYED, ROLE_ENGINEER, ENGINEER), "deployment-required");
	assets[1].deployed = true;
	assert_int_equal(rules_transition(&ch, CHG_DEPLOYED, ROLE_ENGINEER, ENGINEER), 0);

	/* closing needs the retrospective approval */
	ch = good(CHG_RELEASED);
	ch.emergency = true;
	assets[0].approved = false;
	assert_rule(rules_transition(&ch, CHG_CLOSED, ROLE_ADMIN, APPROVER), "retrospective-approval-required");
}

static void test_deploy_only_the_approved_tree(void **state)
{
	struct rules_change ch = good(CHG_APPROVED);

	(void)state;
	assert_int_equal(rules_can_deploy(&ch, 0, "t1"), 0);
	assert_rule(rules_can_deploy(&ch, 0, "t0"), "approval-required");
	assets[0].approved = false;
	assert_rule(rules_can_deploy(&ch, 0, "t1"), "approval-required");
	ch = good(CHG_FAT);
	assert_rule(rules_can_deploy(&ch, 0, "t1"), "approval-required");
}

static void test_requester_cannot_authorise(void **state)
{
	struct rules_change ch = good(CHG_SUBMITTED);
	int to;

	(void)state;
	assert_rule(rules_sign_change(&to, &ch, "authorised", ROLE_APPROVER, REQUESTER),
		    "segregation-of-duties");
	assert_rule(rules_sign_change(&to, &ch, "authorised", ROLE_ENGINEER, APPROVER), "signature-role");
	assert_int_equal(rules_sign_change(&to, &ch, "authorised", ROLE_APPROVER, APPROVER), 0);
	assert_int_equal(to, CHG_AUTHORISED);
	ch = good(CHG_DRAFT);
	assert_rule(rules_sign_change(&to, &ch, "authorised", ROLE_APPROVER, APPROVER), "wrong-state");
}

static void test_contributor_cannot_approve(void **state)
{
	struct rules_change ch = good(CHG_FAT);
	int to;

	(void)state;
	assert_rule(rules_sign_change(&to, &ch, "approved", ROLE_APPROVER, ENGINEER), "segregation-of-duties");
	/* not even an administrator who contributed */
	assert_rule(rules_sign_change(&to, &ch, "approved", ROLE_ADMIN, ENGINEER), "segregation-of-duties");
	assert_int_equal(rules_sign_change(&to, &ch, "approved", ROLE_APPROVER, APPROVER), 0);
	assert_int_equal(to, CHG_APPROVED);
	assets[1].fat_passed = false;
	assert_rule(rules_sign_change(&to, &ch, "approved", ROLE_APPROVER, APPROVER), "fat-required");

	ch = good(CHG_APPROVED);
	assert_rule(rules_sign_change(&to, &ch, "approved", ROLE_APPROVER, APPROVER), "wrong-state");
	/* an emergency change is approved retrospectively without moving */
	ch = good(CHG_DEPLOYED);
	ch.emergency = true;
	assert_int_equal(rules_sign_change(&to, &ch, "approved", ROLE_APPROVER, APPROVER), 0);
	assert_int_equal(to, -1);

	assert_rule(rules_sign_change(&to, &ch, "tested", ROLE_QA, QA), "run-signature");
	assert_rule(rules_sign_change(&to, &ch, "released", ROLE_APPROVER, APPROVER), "release-endpoint");
	assert_rule(rules_sign_change(&to, &ch, "liked", ROLE_APPROVER, APPROVER), "unknown-meaning");
	assert_int_equal(rules_sign_change(&to, &ch, "reviewed", ROLE_QA, QA), 0);
	assert_int_equal(to, -1);
}

static void test_run_signatures(void **state)
{
	int64_t testers[1] = { QA };
	struct rules_run run;

	(void)state;
	memset(&run, 0, sizeof(run));
	run.tester_id = QA;
	run.nsteps = 3;
	run.nrecorded = 2;
	run.step_testers = testers;
	run.nstep_testers = 1;
	run.witness_required = true;
	assert_rule(rules_sign_run(&run, "tested", ROLE_QA, QA), "steps-incomplete");
	run.nrecorded = 3;
	run.fail_undisposed = true;
	assert_rule(rules_sign_run(&run, "tested", ROLE_QA, QA), "deviation-required");
	run.fail_undisposed = false;
	assert_rule(rules_sign_run(&run, "tested", ROLE_QA, WITNESS), "tester-signs");
	assert_rule(rules_sign_run(&run, "tested", ROLE_ENGINEER, QA), "signature-role");
	assert_rule(rules_sign_run(&run, "witnessed", ROLE_QA, WITNESS), "run-not-completed");
	assert_int_equal(rules_sign_run(&run, "tested", ROLE_QA, QA), 0);
	run.completed = true;
	assert_rule(rules_sign_run(&run, "tested", ROLE_QA, QA), "run-completed");
	assert_rule(rules_sign_run(&run, "witnessed", ROLE_QA, QA), "segregation-of-duties");
	run.tester_id = 77; /* someone else opened it, QA recorded a step */
	assert_rule(rules_sign_run(&run, "witnessed", ROLE_QA, QA), "segregation-of-duties");
	assert_int_equal(rules_sign_run(&run, "witnessed", ROLE_QA, WITNESS), 0);
	run.witnessed = true;
	assert_rule(rules_sign_run(&run, "witnessed", ROLE_QA, WITNESS), "already-witnessed");
	run.stale = true;
	assert_rule(rules_sign_run(&run, "witnessed", ROLE_QA, WITNESS), "stale-run");
	assert_rule(rules_sign_run(&run, "approved", ROLE_QA, WITNESS), "meaning-not-for-runs");
}

static void test_verdict_is_computed(void **state)
{
	const char *pass[] = { "pass", "n/a", "pass" };
	const char *fail[] = { "pass", "fail", "pass" };
	const char *none[] = { NULL, NULL, NULL };
	const char *accepted[] = { NULL, "accepted", NULL };
	const char *rejected[] = { NULL, "rejected", NULL };

	(void)state;
	assert_string_equal(rules_run_verdict(pass, none, 3), "pass");
	assert_string_equal(rules_run_verdict(fail, none, 3), "fail");
	assert_string_equal(rules_run_verdict(fail, rejected, 3), "fail");
	assert_string_equal(rules_run_verdict(fail, accepted, 3), "pass");
	assert_true(rules_disposition_valid("accepted"));
	assert_false(rules_disposition_valid("fine"));
	assert_false(rules_disposition_valid(NULL));
}

static void test_uploads_and_runs_by_state(void **state)
{
	struct rules_change ch = good(CHG_APPROVED);
	bool back;

	(void)state;
	assert_int_equal(rules_can_upload(&back, CHG_IMPLEMENTING, true), 0);
	assert_false(back);
	assert_int_equal(rules_can_upload(&back, CHG_FAT, true), 0);
	assert_true(back);
	assert_rule(rules_can_upload(&back, CHG_FAT, false), "asset-not-affected");
	assert_rule(rules_can_upload(&back, CHG_APPROVED, true), "upload-state");
	assert_rule(rules_can_upload(&back, CHG_AUTHORISED, true), "upload-state");

	assert_rule(rules_can_start_run(&ch, "fat"), "wrong-state");
	assert_rule(rules_can_start_run(&ch, "sat"), "wrong-state");
	ch = good(CHG_FAT);
	assert_int_equal(rules_can_start_run(&ch, "fat"), 0);
	ch = good(CHG_DEPLOYED);
	assert_int_equal(rules_can_start_run(&ch, "sat"), 0);
}

static void test_release_needs_everything_on_one_tree(void **state)
{
	struct rules_change ch = good(CHG_SAT);
	bool *flags[] = { &assets[1].fat_passed, &assets[1].approved, &assets[1].deployed,
			  &assets[1].sat_passed };
	size_t i;

	(void)state;
	assert_int_equal(rules_can_release(&ch), 0);
	for (i = 0; i < 4; i++) {
		ch = good(CHG_SAT);
		*flags[i] = false;
		assert_rule(rules_can_release(&ch), "release-requirements");
	}
	ch = good(CHG_SAT);
	ch.authorised = false;
	assert_rule(rules_can_release(&ch), "release-requirements");
	ch = good(CHG_DEPLOYED);
	assert_rule(rules_can_release(&ch), "wrong-state");
}

static void test_edits_freeze_after_draft(void **state)
{
	(void)state;
	assert_int_equal(rules_can_edit(CHG_DRAFT, false, true, false), 0);
	assert_rule(rules_can_edit(CHG_SUBMITTED, false, false, false), "frozen-after-draft");
	assert_int_equal(rules_can_edit(CHG_SUBMITTED, true, true, false), 0);
	assert_int_equal(rules_can_edit(CHG_FAT, true, false, false), 0);
	assert_rule(rules_can_edit(CHG_FAT, true, true, false), "assets-frozen");
	assert_rule(rules_can_edit(CHG_CLOSED, true, false, false), "change-ended");
	/* the type decides whether a change may deploy before approval: frozen once submitted */
	assert_int_equal(rules_can_edit(CHG_DRAFT, false, false, true), 0);
	assert_rule(rules_can_edit(CHG_SUBMITTED, true, false, true), "type-frozen");
	assert_rule(rules_can_edit(CHG_AUTHORISED, true, false, true), "type-frozen");
	assert_rule(rules_can_edit(CHG_IMPLEMENTING, false, false, true), "type-frozen");
	assert_rule(rules_can_edit(CHG_SAT, true, true, true), "type-frozen");
	assert_int_equal(rules_can_edit(CHG_AUTHORISED, true, false, false), 0);
}

static void test_firmware_release_needs_every_fact(void **state)
{
	struct rules_firmware fw[2] = {
		{ 1, "V2.9", "V3.1", "ab12", "ICSA-24-123-01" },
		{ 2, "V1.0", "V1.1", "cd34", "ICSA-24-123-01" },
	};

	(void)state;
	assert_int_equal(rules_firmware_release(fw, 2), 0);
	assert_int_equal(rules_firmware_release(NULL, 0), 0);
	fw[1].before = NULL;
	assert_rule(rules_firmware_release(fw, 2), "firmware-before-missing");
	fw[1].before = "";
	assert_rule(rules_firmware_release(fw, 2), "firmware-before-missing");
	fw[1].before = "V1.0";
	fw[1].after = NULL;
	assert_rule(rules_firmware_release(fw, 2), "firmware-after-missing");
	fw[1].after = "V1.0";
	assert_rule(rules_firmware_release(fw, 2), "firmware-unchanged");
	fw[1].after = "V1.1";
	fw[1].package_sha256 = NULL;
	assert_rule(rules_firmware_release(fw, 2), "firmware-package-missing");
	fw[1].package_sha256 = "cd34";
	fw[1].advisory = NULL;
	assert_rule(rules_firmware_release(fw, 2), "firmware-advisory-missing");
	fw[1].advisory = "ICSA-24-123-01";
	assert_int_equal(rules_firmware_release(fw, 2), 0);
	/* once the change ended nothing about its firmware is recorded */
	assert_int_equal(rules_firmware_record(CHG_SAT), 0);
	assert_rule(rules_firmware_record(CHG_RELEASED), "firmware-change-finished");
	assert_rule(rules_firmware_record(CHG_CANCELLED), "firmware-change-finished");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_transitions_follow_the_lifecycle),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_emergency_may_deploy_before_approval),
		cmocka_unit_test(test_deploy_only_the_approved_tree),
		cmocka_unit_test(test_requester_cannot_authorise),
		cmocka_unit_test(test_contributor_cannot_approve),
		cmocka_unit_test(test_run_signatures),
		cmocka_unit_test(test_verdict_is_computed),
		cmocka_unit_test(test_uploads_and_runs_by_state),
		cmocka_unit_test(test_release_needs_everything_on_one_tree),
		cmocka_unit_test(test_edits_freeze_after_draft),
		cmocka_unit_test(test_firmware_release_needs_every_fact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
