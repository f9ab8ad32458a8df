/*
 * tests/unit/diff/test_diff_twincat.c - the TwinCAT 3 format on a real
 * .TcPOU: hand-made edits give exactly the expected changes; LineIds,
 * product version stamps and declaration whitespace do not show.
 */
#include "tests/unit/diff/diff_testutil.h"

#define TC "twincat/pcdshub__lcls-twincat-general/LCLSGeneral/LCLSGeneral/POUs/Functions/FB_Index@b63aba17.TcPOU"

static void variable_type_changed(void **state)
{
	const char *const exp[] = { "modified POU[FB_Index]/VAR_INPUT/ValInc | data type", NULL };
	json_t *r = mutate(TC, "ValInc : INT := 1;", "ValInc : DINT := 1;", exp);

	expect_values(r, exp[0], "INT", "DINT");
	json_decref(r);
}

static void initial_value_changed(void **state)
{
	const char *const exp[] = { "modified POU[FB_Index]/VAR_INPUT/LowerLimit | initial value", NULL };
	json_t *r = mutate(TC, "LowerLimit : INT := 1;", "LowerLimit : INT := 0;", exp);

	assert_true(json_real_value(json_object_get(change_at(r, exp[0]), "delta")) == -1.0);
	json_decref(r);
}

static void variable_added(void **state)
{
	const char *const exp[] = { "added POU[FB_Index]/VAR_OUTPUT/Done | element", NULL };

	json_decref(mutate(TC, "VAR_OUTPUT", "VAR_OUTPUT\n\tDone : BOOL;", exp));
}

static void variable_removed(void **state)
{
	const char *const exp[] = { "removed POU[FB_Index]/VAR_INPUT/ValInc | element", NULL };

	json_decref(mutate(TC, "ValInc : INT := 1;", "", exp));
}

static void action_body_changed(void **state)
{
	const char *const exp[] = { "modified POU[FB_Index]/Action[Dec] | implementation", NULL };

	json_decref(mutate(TC, "Val := Val - ValInc;", "Val := Val - 2 * ValInc;", exp));
}

static void action_renamed(void **state)
{
	const char *const exp[] = { "renamed POU[FB_Index]/Action[Increment] | Action", NULL };

	json_decref(mutate(TC, "<Action Name=\"Inc\"", "<Action Name=\"Increment\"", exp));
}

static void method_header_changed(void **state)
{
	const char *const exp[] = { "modified POU[FB_Index]/Method[IncVal] | header", NULL };
	json_t *r = mutate(TC, "METHOD PUBLIC IncVal : INT", "METHOD PRIVATE IncVal : INT", exp);

	expect_values(r, exp[0], "METHOD PUBLIC IncVal : INT", "METHOD PRIVATE IncVal : INT");
	json_decref(r);
}

static void method_added(void **state)
{
	const char *const exp[] = { "added POU[FB_Index]/Method[Reset] | Method", NULL };

	json_decref(mutate(TC, "    <LineIds Name=\"FB_Index\">",
	                   "    <Method Name=\"Reset\" Id=\"{00000000-0000-0000-0000-000000000001}\">\n"
	                   "      <Declaration><![CDATA[METHOD Reset : BOOL\n]]></Declaration>\n"
	                   "      <Implementation>\n        <ST><![CDATA[Val := LowerLimit;]]></ST>\n"
	                   "      </Implementation>\n    </Method>\n    <LineIds Name=\"FB_Index\">", exp));
}

static void variable_comment_added(void **state)
{
	const char *const exp[] = { "added POU[FB_Index]/VAR_INPUT/UpperLimit | comment", NULL };
	json_t *r = mutate(TC, "UpperLimit\t:\tINT := 1;", "UpperLimit\t:\tINT := 1; // top of the range", exp);

	expect_values(r, exp[0], NULL, "top of the range");
	json_decref(r);
}

static void section_qualifier_added(void **state)
{
	const char *const exp[] = { "added POU[FB_Index]/VAR/Val | qualifiers", NULL };

	json_decref(mutate(TC, "VAR\r\n\tVal\t:\tINT := LowerLimit;", "VAR PERSISTENT\r\n\tVal\t:\tINT := LowerLimit;", exp));
}

/* Noise rule: whitespace inside a declaration is not a change. */
static void declaration_whitespace_is_noise(void **state)
{
	const char *const exp[] = { NULL };

	json_decref(mutate(TC, "UpperLimit\t:\tINT := 1;", "UpperLimit :  INT:=1;", exp));
}

/* Noise rule: LineIds and ProductVersion are dropped; a real edit beside them is kept. */
static void lineids_and_version_are_noise(void **state)
{
	const char *const exp[] = { "modified POU[FB_Index]/Method[DecVal] | implementation", NULL };
	char *orig = corpus_read(TC, NULL);
	char *a = replace_once(orig, "<LineId Id=\"3\" Count=\"3\" />", "<LineId Id=\"3\" Count=\"4\" />\n      <LineId Id=\"40\" Count=\"0\" />");
	char *b = replace_once(a, "ProductVersion=\"3.1.4022.10\"", "ProductVersion=\"3.1.4024.12\"");
	char *c = replace_once(b, "DecVal := Val;", "DecVal := Val - 1;");
	json_t *r = diff_json(TC, orig, b);

	expect_changes(r, (const char *const[]){ NULL });
	json_decref(r);
	r = diff_json(TC, orig, c);
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
		cmocka_unit_test(variable_added),
		cmocka_unit_test(variable_removed),
		cmocka_unit_test(action_body_changed),
		cmocka_unit_test(action_renamed),
		cmocka_unit_test(method_header_changed),
		cmocka_unit_test(method_added),
		cmocka_unit_test(variable_comment_added),
		cmocka_unit_test(section_qualifier_added),
		cmocka_unit_test(declaration_whitespace_is_noise),
		cmocka_unit_test(lineids_and_version_are_noise),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
