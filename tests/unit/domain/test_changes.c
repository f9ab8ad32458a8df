/*
 * tests/unit/domain/test_changes.c - the permission previews of the
 * change process agree with the operation table: what the pages grey is
 * what dom_permit() would refuse, with the same rule and sentence.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/err.h"
#include "domain/changes.h"

static int may(unsigned role, enum dom_op op)
{
	struct actor who;
	struct dom d;

	memset(&who, 0, sizeof(who));
	memset(&d, 0, sizeof(d));
	who.user_id = 7;
	who.username = "someone";
	who.role = role;
	who.door = DOOR_PAGE;
	d.who = &who;
	return dom_change_role_may(&d, op);
}

static void test_release_is_for_approvers_and_administrators(void **state)
{
	(void)state;
	assert_int_equal(may(ROLE_APPROVER, OP_CHANGE_RELEASE), 0);
	assert_int_equal(may(ROLE_ADMIN, OP_CHANGE_RELEASE), 0);
	assert_int_equal(may(ROLE_ENGINEER, OP_CHANGE_RELEASE), OTCM_EFORBIDDEN);
	assert_string_equal(err_rule(), "role-permission");
	assert_string_equal(err_message(), "role 'engineer' may not release a change");
	assert_int_equal(may(ROLE_QA, OP_CHANGE_RELEASE), OTCM_EFORBIDDEN);
	assert_string_equal(err_message(), "role 'qa' may not release a change");
	assert_int_equal(may(ROLE_AUDITOR, OP_CHANGE_RELEASE), OTCM_EFORBIDDEN);
	err_clear();
}

static void test_previews_follow_the_operation_table(void **state)
{
	static const unsigned roles[] = { ROLE_ADMIN, ROLE_ENGINEER, ROLE_QA, ROLE_APPROVER, ROLE_AUDITOR,
					  ROLE_AGENT };
	static const enum dom_op ops[] = { OP_CHANGE_CREATE, OP_CHANGE_UPDATE, OP_CHANGE_TRANSITION,
					   OP_CHANGE_SIGN, OP_CHANGE_DEPLOY, OP_CHANGE_RELEASE, OP_RUN_CREATE,
					   OP_RUN_STEP, OP_RUN_SIGN, OP_PROTOCOL_CREATE, OP_VERSION_UPLOAD };
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
			bool allowed = (dom_op_info(ops[k])->roles & roles[i]) != 0;

			assert_int_equal(may(roles[i], ops[k]), allowed ? 0 : OTCM_EFORBIDDEN);
			err_clear();
		}
	/* nobody without a role */
	assert_int_equal(may(0, OP_CHANGE_TRANSITION), OTCM_EFORBIDDEN);
	err_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_release_is_for_approvers_and_administrators),
		cmocka_unit_test(test_previews_follow_the_operation_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
