/*
 * tests/unit/diff/test_fmt_csv.c - recipe CSV: delimiter and key column
 * detection, RFC 4180 quoting, and value changes with their delta.
 */
#include "tests/unit/diff/fmt_testutil.h"

static const char recipe[] =
	"Step;Parameter;Value;Unit\n"
	"1;Temp;80.5;degC\n"
	"1;\"Speed \"\"max\"\"\";1200;rpm\n"
	"\n"
	"2;\"Note\";\"mix; then\nwait\";\n";

static void semicolon_recipe(void **state)
{
	struct dnode *t;

	assert_true(diff_fmt_csv.detect(recipe, strlen(recipe)) >= 60);
	t = parse_ok(&diff_fmt_csv, recipe);
	assert_string_equal(t->type, "Recipe");
	/* the key is the column named Parameter, not the first one */
	expect_kids(t, "", "Parameter[Temp], Parameter[Speed \"max\"], Parameter[Note]");
	expect_attr(t, "Parameter[Temp]", "value", "80.5");
	expect_attr(t, "Parameter[Temp]", "unit", "degC");
	expect_attr(t, "Parameter[Temp]", "step", "1");
	expect_attr(t, "Parameter[Note]", "value", "mix; then\nwait");
	expect_attr(t, "Parameter[Note]", "unit", "");
	dnode_free(t);
}

static void comma_first_column_key(void **state)
{
	static const char csv[] = "Tag,Setpoint,Max\nFIC101,12.5,20\nFIC101,13,20\nTIC7,80,95\n";
	struct dnode *t = parse_ok(&diff_fmt_csv, csv);

	/* duplicate keys stay distinct */
	expect_kids(t, "", "Parameter[FIC101], Parameter[FIC101 (2)], Parameter[TIC7]");
	expect_attr(t, "Parameter[TIC7]", "setpoint", "80");
	dnode_free(t);
}

static void tab_no_key_header(void **state)
{
	static const char csv[] = "a\tb\tc\nx\t1\t2\n\t3\t4\n";
	struct dnode *t = parse_ok(&diff_fmt_csv, csv);

	expect_kids(t, "", "Parameter[x], Parameter[row 3]");
	expect_attr(t, "Parameter[row 3]", "b", "3");
	dnode_free(t);
}

static void not_csv(void **state)
{
	static const char prose[] = "Hello, world\nthis is text\n";
	static const char st[] = "PROGRAM p\nVAR a : INT; END_VAR\nEND_PROGRAM\n";
	struct dnode *t = NULL;

	assert_int_equal(diff_fmt_csv.detect(prose, strlen(prose)), 0);
	assert_int_equal(diff_fmt_csv.detect(st, strlen(st)), 0);
	assert_int_equal(diff_fmt_csv.parse(&t, prose, strlen(prose)), OTCM_EINVAL);
}

static void value_changed(void **state)
{
	static const char a[] = "Name,Value,Unit\nTemp,80,degC\nTime,30,s\nSpeed,1200,rpm\n";
	static const char b[] = "Name,Value,Unit\nTime,30,s\nTemp,82.5,degC\nSpeed,1200,rpm\nPH,7,\n";
	const char *const exp[] = {
		"modified Parameter[Temp] | value",
		"added Parameter[PH] | Parameter",
		NULL
	};
	json_t *r = diff_json("recipe.csv", a, b);

	assert_string_equal(json_string_value(json_object_get(r, "format")), "csv");
	expect_changes(r, exp);
	expect_values(r, exp[0], "80", "82.5");
	assert_true(json_real_value(json_object_get(change_at(r, exp[0]), "delta")) == 2.5);
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(semicolon_recipe),
		cmocka_unit_test(comma_first_column_key),
		cmocka_unit_test(tab_no_key_header),
		cmocka_unit_test(not_csv),
		cmocka_unit_test(value_changed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
