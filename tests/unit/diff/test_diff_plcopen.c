/*
 * tests/unit/diff/test_diff_plcopen.c - the PLCopen TC6 format on a real
 * Beremiz project: hand-made edits give exactly the expected changes, and
 * export noise and graphical layout do not show.
 */
#include "tests/unit/diff/diff_testutil.h"

#define PLC "plcopen/beremiz__beremiz/exemples/first_steps/plc.xml"

static void variable_type_changed(void **state)
{
	const char *const exp[] = { "modified POU[AverageVal]/VAR/InputsNumber | data type", NULL };
	json_t *r = mutate(PLC, "<variable name=\"InputsNumber\">\n              <type>\n                <REAL/>",
	                   "<variable name=\"InputsNumber\">\n              <type>\n                <LREAL/>", exp);

	expect_values(r, exp[0], "REAL", "LREAL");
	json_decref(r);
}

static void initial_value_changed(void **state)
{
	const char *const exp[] = { "modified POU[AverageVal]/VAR/InputsNumber | initial value", NULL };
	json_t *r = mutate(PLC, "<simpleValue value=\"5.0\"/>", "<simpleValue value=\"6.0\"/>", exp);

	assert_true(json_real_value(json_object_get(change_at(r, exp[0]), "delta")) == 1.0);
	json_decref(r);
}

static void st_body_changed(void **state)
{
	const char *const exp[] = { "modified POU[AverageVal] | ST body", NULL };

	json_decref(mutate(PLC, "AverageVal := INT_TO_REAL(Cnt1+Cnt2+Cnt3+Cnt4+Cnt5)/InputsNumber;",
	                   "AverageVal := INT_TO_REAL(Cnt1+Cnt2+Cnt3+Cnt4)/InputsNumber;", exp));
}

static void il_body_changed(void **state)
{
	const char *const exp[] = { "modified POU[CounterIL] | IL body", NULL };
	json_t *r = mutate(PLC, "LD Cnt\nADD 1\n", "LD Cnt\nADD 2\n", exp);
	const char *patch = json_string_value(json_object_get(change_at(r, exp[0]), "patch"));

	assert_non_null(strstr(patch, "-ADD 1\n+ADD 2\n"));
	json_decref(r);
}

static void pou_renamed(void **state)
{
	const char *const exp[] = { "renamed POU[CounterST2] | POU", NULL };
	json_t *r = mutate(PLC, "<pou name=\"CounterST\" pouType=\"functionBlock\">",
	                   "<pou name=\"CounterST2\" pouType=\"functionBlock\">", exp);

	expect_values(r, exp[0], "CounterST", "CounterST2");
	json_decref(r);
}

static void variable_added(void **state)
{
	const char *const exp[] = { "added POU[AverageVal]/VAR/Scale | element", NULL };
	json_t *r = mutate(PLC, "<localVars>\n            <variable name=\"InputsNumber\">",
	                   "<localVars>\n            <variable name=\"Scale\"><type><REAL/></type></variable>\n"
	                   "            <variable name=\"InputsNumber\">", exp);

	expect_values(r, exp[0], NULL, "data type=REAL");
	json_decref(r);
}

static void task_interval_changed(void **state)
{
	const char *const exp[] = { "modified Configuration[config]/Resource[resource1]/Task[plc_task] | interval", NULL };

	json_decref(mutate(PLC, "interval=\"T#100ms\"", "interval=\"T#200ms\"", exp));
}

static void global_initial_value(void **state)
{
	const char *const exp[] = { "modified Configuration[config]/VAR_GLOBAL/ResetCounterValue | initial value", NULL };
	json_t *r = mutate(PLC, "<simpleValue value=\"17\"/>", "<simpleValue value=\"18\"/>", exp);

	expect_values(r, exp[0], "17", "18");
	json_decref(r);
}

static void fbd_element_changed(void **state)
{
	const char *const exp[] = { "modified POU[plc_prg]/FBD/inVariable[2] | expression", NULL };

	json_decref(mutate(PLC, "<expression>Reset</expression>", "<expression>ResetAll</expression>", exp));
}

static void external_var_not_constant(void **state)
{
	const char *const exp[] = { "removed POU[CounterST]/VAR_EXTERNAL/ResetCounterValue | constant", NULL };

	json_decref(mutate(PLC, "<externalVars constant=\"true\">\n            <variable name=\"ResetCounterValue\">",
	                   "<externalVars>\n            <variable name=\"ResetCounterValue\">", exp));
}

/* Noise rule: graphical positions are layout, not logic. */
static void layout_is_noise(void **state)
{
	const char *const exp[] = { NULL };

	json_decref(mutate(PLC, "negated=\"false\">\n              <position x=\"35\" y=\"78\"/>",
	                   "negated=\"false\">\n              <position x=\"55\" y=\"98\"/>", exp));
}

/* Noise rule: creation and modification stamps are dropped; a real edit beside them is kept. */
static void header_stamps_are_noise(void **state)
{
	const char *const exp[] = { "modified Configuration[config]/Resource[resource1]/Task[plc_task] | priority", NULL };
	char *orig = corpus_read(PLC, NULL);
	char *a = replace_once(orig, "modificationDateTime=\"2024-07-12T16:04:57\"", "modificationDateTime=\"2025-01-01T00:00:00\"");
	char *b = replace_once(a, "creationDateTime=\"2016-10-24T18:09:22\"", "creationDateTime=\"2017-10-24T18:09:22\"");
	char *c = replace_once(b, "priority=\"1\" interval", "priority=\"2\" interval");
	json_t *r = diff_json(PLC, orig, b);

	expect_changes(r, (const char *const[]){ NULL });
	json_decref(r);
	r = diff_json(PLC, orig, c);
	expect_changes(r, exp);
	json_decref(r);
	free(orig);
	free(a);
	free(b);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(variable_type_changed),
		cmocka_unit_test(initial_value_changed),
		cmocka_unit_test(st_body_changed),
		cmocka_unit_test(il_body_changed),
		cmocka_unit_test(pou_renamed),
		cmocka_unit_test(variable_added),
		cmocka_unit_test(task_interval_changed),
		cmocka_unit_test(global_initial_value),
		cmocka_unit_test(fbd_element_changed),
		cmocka_unit_test(external_var_not_constant),
		cmocka_unit_test(layout_is_noise),
		cmocka_unit_test(header_stamps_are_noise),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
