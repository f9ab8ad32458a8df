/*
 * tests/unit/diff/test_fmt_ini.c - INI-style parameter files: sections,
 * keys, comments, repeated sections, and value changes.
 */
#include "tests/unit/diff/fmt_testutil.h"

static const char ini[] =
	"; drive parameters\n"
	"[Drive1]\n"
	"Ramp=2.5\n"
	"# the max\n"
	"Max Speed = 1500\n"
	"[General]\n"
	"name=Line 3\n"
	"[Drive1]\n"
	"Min=0\n";

static void tree(void **state)
{
	struct dnode *t;

	assert_true(diff_fmt_ini.detect(ini, strlen(ini)) >= 60);
	t = parse_ok(&diff_fmt_ini, ini);
	expect_kids(t, "", "Section[Drive1], Section[General]");
	expect_attr(t, "Section[Drive1]", "comment", "drive parameters");
	expect_kids(t, "Section[Drive1]", "Parameter[Ramp], Parameter[Max Speed], Parameter[Min]");
	expect_attr(t, "Section[Drive1]/Parameter[Max Speed]", "value", "1500");
	expect_attr(t, "Section[Drive1]/Parameter[Max Speed]", "comment", "the max");
	expect_attr(t, "Section[General]/Parameter[name]", "value", "Line 3");
	dnode_free(t);
}

static void not_ini(void **state)
{
	static const char st[] = "PROGRAM p\nVAR a : INT; END_VAR\n a := 1;\nEND_PROGRAM\n";
	static const char prose[] = "just words\n";

	assert_int_equal(diff_fmt_ini.detect(st, strlen(st)), 0);
	assert_int_equal(diff_fmt_ini.detect(prose, strlen(prose)), 0);
}

static void changed(void **state)
{
	char *b = replace_once(ini, "Ramp=2.5", "Ramp=3");
	const char *const exp[] = { "modified Section[Drive1]/Parameter[Ramp] | value", NULL };
	json_t *r = diff_json("drive.ini", ini, b);

	expect_changes(r, exp);
	assert_true(json_real_value(json_object_get(change_at(r, exp[0]), "delta")) == 0.5);
	json_decref(r);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tree),
		cmocka_unit_test(not_ini),
		cmocka_unit_test(changed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
