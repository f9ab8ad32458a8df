/*
 * tests/unit/diff/test_fmt_st.c - structured text and SCL: the tree of real
 * sources (OpenPLC, matiec) and of inline SCL/TwinCAT-style text, and hand
 * edits of a real program giving exactly the expected changes.
 */
#include "tests/unit/diff/fmt_testutil.h"

#define BLINK "st/thiagoralves__OpenPLC_Editor/editor/examples/Blink/blink.st"
#define PID "st/beremiz__matiec/AnnexF/pid_st.txt"
#define WD "st/iotrustlab__sphere-usecases/sector-water/rovisys-distribution/implementations/openplc/st/wd_controller.st"

static void blink_tree(void **state)
{
	struct dnode *t = parse_corpus(&diff_fmt_st, BLINK);

	expect_kids(t, "", "POU[program0], CONFIGURATION[Config0]");
	expect_attr(t, "POU[program0]", "kind", "PROGRAM");
	/* the two VAR blocks merge into one section */
	expect_kids(t, "POU[program0]", "VAR");
	expect_kids(t, "POU[program0]/VAR", "LED_PIN, TON0, TOF0");
	expect_attr(t, "POU[program0]/VAR/LED_PIN", "data type", "BOOL");
	expect_attr(t, "POU[program0]/VAR/LED_PIN", "address", "%QX0.3");
	expect_attr(t, "POU[program0]/VAR/TON0", "data type", "TON");
	assert_string_equal(must(t, "POU[program0]")->body,
	                    "  TON0(IN := NOT(LED_PIN), PT := T#500ms);\n"
	                    "  TOF0(IN := TON0.Q, PT := T#500ms);\n"
	                    "  LED_PIN := TOF0.Q;");
	assert_string_equal(must(t, "POU[program0]")->body_what, "body");
	expect_attr(t, "CONFIGURATION[Config0]/RESOURCE[Res0]", "on", "PLC");
	expect_attr(t, "CONFIGURATION[Config0]/RESOURCE[Res0]/TASK[task0]", "interval", "T#20ms");
	expect_attr(t, "CONFIGURATION[Config0]/RESOURCE[Res0]/TASK[task0]", "priority", "0");
	expect_attr(t, "CONFIGURATION[Config0]/RESOURCE[Res0]/PROGRAM[instance0]", "task", "task0");
	expect_attr(t, "CONFIGURATION[Config0]/RESOURCE[Res0]/PROGRAM[instance0]", "type", "program0");
	dnode_free(t);
}

static void pid_comments(void **state)
{
	struct dnode *t = parse_corpus(&diff_fmt_st, PID);

	expect_kids(t, "", "POU[PID]");
	expect_attr(t, "POU[PID]", "kind", "FUNCTION_BLOCK");
	expect_kids(t, "POU[PID]", "VAR_INPUT, VAR_OUTPUT, VAR");
	expect_kids(t, "POU[PID]/VAR_INPUT", "AUTO, PV, SP, X0, KP, TR, TD, CYCLE");
	expect_attr(t, "POU[PID]/VAR_INPUT/AUTO", "comment", "0 - manual , 1 - automatic");
	/* a comment continued on the next line, aligned, stays with its variable */
	expect_attr(t, "POU[PID]/VAR_INPUT/X0", "comment",
	            "Manual output adjustment -\nTypically from transfer station");
	expect_attr(t, "POU[PID]/VAR_INPUT/KP", "leading comment", NULL);
	expect_attr(t, "POU[PID]/VAR_OUTPUT/XOUT", "data type", "REAL");
	expect_attr(t, "POU[PID]/VAR/ITERM", "data type", "INTEGRAL");
	dnode_free(t);
}

static void wd_tree(void **state)
{
	struct dnode *t = parse_corpus(&diff_fmt_st, WD);
	const struct dnode *pou = must(t, "POU[MainProgram]");

	expect_kids(t, "POU[MainProgram]", "VAR_INPUT, VAR_OUTPUT, VAR");
	assert_int_equal(must(t, "POU[MainProgram]/VAR_INPUT")->nkids, 15);
	assert_int_equal(must(t, "POU[MainProgram]/VAR_OUTPUT")->nkids, 8);
	expect_attr(t, "POU[MainProgram]/VAR_INPUT/ai_supply_tank_level", "comment",
	            "Supply tank level [mm]");
	expect_attr(t, "POU[MainProgram]/VAR_INPUT/ai_supply_tank_level", "leading comment",
	            "Analog Inputs from Simulator");
	expect_attr(t, "POU[MainProgram]/VAR/supply_tank_low_sp", "initial value", "500.0");
	expect_attr(t, "POU[MainProgram]/VAR/supply_tank_low_sp", "data type", "REAL");
	assert_non_null(pou->body);
	assert_non_null(strstr(pou->body, "CASE sys_state OF"));
	assert_null(strstr(pou->body, "END_PROGRAM"));
	dnode_free(t);
}

static const char scl[] =
	"TYPE \"UDT_Motor\"\n"
	"VERSION : 0.1\n"
	"   STRUCT\n"
	"      speed : Real := 0.0;   // rpm\n"
	"      running : Bool;\n"
	"   END_STRUCT;\n"
	"END_TYPE\n"
	"\n"
	"FUNCTION_BLOCK \"FB_Motor\"\n"
	"{ S7_Optimized_Access := 'TRUE' }\n"
	"VERSION : 0.1\n"
	"   VAR_INPUT\n"
	"      xStart { ExternalAccessible := 'False'} : Bool;   // start command\n"
	"      \"rSetpoint\" : Real := 50.0;\n"
	"   END_VAR\n"
	"   VAR\n"
	"      arr : Array[1..10] of Int;\n"
	"      s : String[20] := 'abc;def';\n"
	"   END_VAR\n"
	"\n"
	"BEGIN\n"
	"\tREGION Start\n"
	"\t    #xRunning := #xStart;   \n"
	"\tEND_REGION\n"
	"END_FUNCTION_BLOCK\n"
	"\n"
	"DATA_BLOCK \"DB_Motor1\"\n"
	"NON_RETAIN\n"
	"\"FB_Motor\"\n"
	"BEGIN\n"
	"   rSetpoint := 60.0;\n"
	"END_DATA_BLOCK\n"
	"\n"
	"ORGANIZATION_BLOCK \"Main\"\n"
	"TITLE = Main Program Sweep\n"
	"BEGIN\n"
	"\t\"DB_Motor1\"(xStart := TRUE);\n"
	"END_ORGANIZATION_BLOCK\n";

static void scl_tree(void **state)
{
	struct dnode *t;

	assert_true(diff_fmt_st.detect(scl, strlen(scl)) >= 75);
	t = parse_ok(&diff_fmt_st, scl);
	expect_kids(t, "", "TYPE[UDT_Motor], POU[FB_Motor], POU[DB_Motor1], POU[Main]");
	expect_attr(t, "TYPE[UDT_Motor]", "version", "0.1");
	expect_attr(t, "TYPE[UDT_Motor]", "data type", "STRUCT");
	expect_attr(t, "TYPE[UDT_Motor]/speed", "data type", "Real");
	expect_attr(t, "TYPE[UDT_Motor]/speed", "initial value", "0.0");
	expect_attr(t, "TYPE[UDT_Motor]/speed", "comment", "rpm");
	expect_attr(t, "POU[FB_Motor]", "kind", "FUNCTION_BLOCK");
	expect_attr(t, "POU[FB_Motor]", "pragma", "{ S7_Optimized_Access := 'TRUE' }");
	expect_attr(t, "POU[FB_Motor]/VAR_INPUT/xStart", "pragma", "{ ExternalAccessible := 'False'}");
	expect_attr(t, "POU[FB_Motor]/VAR_INPUT/xStart", "comment", "start command");
	expect_attr(t, "POU[FB_Motor]/VAR_INPUT/rSetpoint", "initial value", "50.0");
	expect_attr(t, "POU[FB_Motor]/VAR/arr", "data type", "Array[1..10] of Int");
	expect_attr(t, "POU[FB_Motor]/VAR/s", "initial value", "'abc;def'");
	/* trailing white space is not part of the body */
	assert_string_equal(must(t, "POU[FB_Motor]")->body,
	                    "\tREGION Start\n\t    #xRunning := #xStart;\n\tEND_REGION");
	expect_attr(t, "POU[DB_Motor1]", "kind", "DATA_BLOCK");
	expect_attr(t, "POU[DB_Motor1]", "instance of", "FB_Motor");
	expect_attr(t, "POU[DB_Motor1]", "flags", "NON_RETAIN");
	expect_attr(t, "POU[DB_Motor1]/Values/rSetpoint", "value", "60.0");
	expect_attr(t, "POU[Main]", "title", "Main Program Sweep");
	dnode_free(t);
}

static const char oop[] =
	"TYPE\n"
	"  E_Mode : (Auto := 1, Manual, Off) INT;\n"
	"  ST_Data EXTENDS ST_Base : STRUCT\n"
	"    a, b : INT := 3; // two\n"
	"    nested : STRUCT x : BOOL; END_STRUCT;\n"
	"  END_STRUCT;\n"
	"END_TYPE\n"
	"\n"
	"var_global constant\n"
	"  MAX_ITEMS : INT := 10;\n"
	"end_var\n"
	"\n"
	"(* Doc for motor *)\n"
	"FUNCTION_BLOCK PUBLIC FB_Motor EXTENDS FB_Base IMPLEMENTS I_Motor, I_Other\n"
	"VAR_INPUT\n"
	"  {attribute 'hide'}\n"
	"  nCount AT %IW10 : ARRAY [1..MAX_ITEMS] OF INT := [1, 2, 3];\n"
	"END_VAR\n"
	"VAR RETAIN\n"
	"  r : REAL := 1.5E+3;\n"
	"END_VAR\n"
	"  r := r + 1;\n"
	"METHOD PUBLIC M_Reset : BOOL\n"
	"VAR_INPUT\n"
	"  bForce : BOOL;\n"
	"END_VAR\n"
	"  r := 0;\n"
	"END_METHOD\n"
	"PROPERTY P_Speed : REAL\n"
	"GET\n"
	"  P_Speed := r;\n"
	"END_GET\n"
	"END_PROPERTY\n"
	"END_FUNCTION_BLOCK\n";

static void types_methods_tree(void **state)
{
	struct dnode *t = parse_ok(&diff_fmt_st, oop);

	expect_kids(t, "", "TYPE[E_Mode], TYPE[ST_Data], VAR_GLOBAL CONSTANT, POU[FB_Motor]");
	expect_attr(t, "TYPE[E_Mode]", "data type", "(Auto := 1, Manual, Off) INT");
	expect_attr(t, "TYPE[ST_Data]", "extends", "ST_Base");
	expect_kids(t, "TYPE[ST_Data]", "a, b, nested");
	expect_attr(t, "TYPE[ST_Data]/b", "initial value", "3");
	expect_attr(t, "TYPE[ST_Data]/b", "comment", "two");
	expect_attr(t, "TYPE[ST_Data]/nested/x", "data type", "BOOL");
	expect_attr(t, "VAR_GLOBAL CONSTANT/MAX_ITEMS", "initial value", "10");
	expect_attr(t, "POU[FB_Motor]", "comment", "Doc for motor");
	expect_attr(t, "POU[FB_Motor]", "modifiers", "PUBLIC");
	expect_attr(t, "POU[FB_Motor]", "extends", "FB_Base");
	expect_attr(t, "POU[FB_Motor]", "implements", "I_Motor, I_Other");
	expect_kids(t, "POU[FB_Motor]", "VAR_INPUT, VAR RETAIN, METHOD[M_Reset], PROPERTY[P_Speed]");
	expect_attr(t, "POU[FB_Motor]/VAR_INPUT/nCount", "data type", "ARRAY [1..MAX_ITEMS] OF INT");
	expect_attr(t, "POU[FB_Motor]/VAR_INPUT/nCount", "address", "%IW10");
	expect_attr(t, "POU[FB_Motor]/VAR_INPUT/nCount", "initial value", "[1, 2, 3]");
	expect_attr(t, "POU[FB_Motor]/VAR_INPUT/nCount", "pragma", "{attribute 'hide'}");
	expect_attr(t, "POU[FB_Motor]/VAR RETAIN/r", "initial value", "1.5E+3");
	assert_string_equal(must(t, "POU[FB_Motor]")->body, "  r := r + 1;");
	expect_attr(t, "POU[FB_Motor]/METHOD[M_Reset]", "return type", "BOOL");
	expect_attr(t, "POU[FB_Motor]/METHOD[M_Reset]/VAR_INPUT/bForce", "data type", "BOOL");
	assert_string_equal(must(t, "POU[FB_Motor]/METHOD[M_Reset]")->body, "  r := 0;");
	dnode_free(t);
}

static void not_st(void **state)
{
	struct dnode *t = NULL;
	static const char xml[] = "<?xml version=\"1.0\"?><project/>";
	static const char prose[] = "hello\nworld\n";

	assert_int_equal(diff_fmt_st.detect(xml, strlen(xml)), 0);
	assert_int_equal(diff_fmt_st.detect(prose, strlen(prose)), 0);
	assert_int_equal(diff_fmt_st.parse(&t, prose, strlen(prose)), OTCM_EINVAL);
	assert_null(t);
}

/* ---- hand-made edits of a real program, through diff_compare ---- */

#define P "POU[MainProgram]"

static void m_type_changed(void **state)
{
	const char *const exp[] = { "modified " P "/VAR/sys_state | data type", NULL };
	json_t *r = mutate(WD, "sys_state : INT := 0;", "sys_state : DINT := 0;", exp);

	expect_values(r, exp[0], "INT", "DINT");
	json_decref(r);
}

static void m_initial_value(void **state)
{
	const char *const exp[] = { "modified " P "/VAR/supply_tank_low_sp | initial value", NULL };
	json_t *r = mutate(WD, "supply_tank_low_sp : REAL := 500.0;",
	                   "supply_tank_low_sp : REAL := 550.0;", exp);

	expect_values(r, exp[0], "500.0", "550.0");
	assert_true(json_real_value(json_object_get(change_at(r, exp[0]), "delta")) == 50.0);
	json_decref(r);
}

static void m_pou_renamed(void **state)
{
	json_t *r = mutate(WD, "PROGRAM MainProgram", "PROGRAM MainProgram2",
	                   (const char *const[]){ "renamed POU[MainProgram2] | POU", NULL });

	json_decref(r);
}

static void m_statement_edited(void **state)
{
	const char *const exp[] = { "modified " P " | body", NULL };
	json_t *r = mutate(WD, "sys_state := 3;", "sys_state := 0;", exp);

	assert_non_null(strstr(json_string_value(json_object_get(change_at(r, exp[0]), "patch")),
	                       "+        sys_state := 0;"));
	json_decref(r);
}

static void m_variable_added(void **state)
{
	const char *const exp[] = { "added " P "/VAR/alarm_count | element", NULL };

	json_decref(mutate(WD, "    rws_pump_cmd : BOOL := FALSE;\n",
	                   "    rws_pump_cmd : BOOL := FALSE;\n    alarm_count : INT;\n", exp));
}

static void m_variable_removed(void **state)
{
	const char *const exp[] = { "removed " P "/VAR_INPUT/hmi_stop | element", NULL };

	json_decref(mutate(WD, "    hmi_stop : BOOL;                  (* Stop button *)\n", "", exp));
}

static void m_comment_changed(void **state)
{
	const char *const exp[] = { "modified " P "/VAR_OUTPUT/do_sys_idle | comment", NULL };
	json_t *r = mutate(WD, "(* System idle state *)", "(* System idle *)", exp);

	expect_values(r, exp[0], "System idle state", "System idle");
	json_decref(r);
}

static void m_moved_to_other_section(void **state)
{
	const char *const exp[] = {
		"removed " P "/VAR_INPUT/hmi_stop | element",
		"added " P "/VAR/hmi_stop | element",
		NULL
	};
	char *orig = corpus_read(WD, NULL);
	char *a = replace_once(orig, "    hmi_stop : BOOL;                  (* Stop button *)\n", "");
	char *b = replace_once(a, "    sys_state : INT := 0;\n",
	                       "    sys_state : INT := 0;\n    hmi_stop : BOOL; (* Stop button *)\n");
	json_t *r = diff_json(WD, orig, b);

	expect_changes(r, exp);
	json_decref(r);
	free(orig);
	free(a);
	free(b);
}

static void m_whitespace_only(void **state)
{
	const char *const exp[] = { NULL };

	/* re-indenting declarations and trailing blanks change nothing */
	json_decref(mutate(WD, "    sys_state : INT := 0;", "  sys_state:INT:=0;   ", exp));
	json_decref(mutate(WD, "        do_grid_elev_valve := TRUE;",
	                   "        do_grid_elev_valve := TRUE;    ", exp));
}

static void m_section_qualifier(void **state)
{
	const char *const exp[] = {
		"removed " P "/VAR | VAR",
		"added " P "/VAR RETAIN | VAR RETAIN",
		NULL
	};

	json_decref(mutate(WD, "  END_VAR\n\n  VAR\n", "  END_VAR\n\n  VAR RETAIN\n", exp));
}

static void m_array_bound(void **state)
{
	const char *const exp[] = { "modified " P "/VAR/permissive_grid_ok | data type", NULL };
	json_t *r = mutate(WD, "permissive_grid_ok : BOOL := FALSE;",
	                   "permissive_grid_ok : ARRAY[1..2] OF BOOL := [FALSE, FALSE];",
	                   (const char *const[]){ "modified " P "/VAR/permissive_grid_ok | data type",
	                                          "modified " P "/VAR/permissive_grid_ok | initial value",
	                                          NULL });

	expect_values(r, exp[0], "BOOL", "ARRAY[1..2] OF BOOL");
	json_decref(r);
}

static void m_pou_added(void **state)
{
	const char *const exp[] = { "added POU[F_Scale] | POU", NULL };
	char *orig = corpus_read(WD, NULL);
	char *edit = xasprintf("%s\nFUNCTION F_Scale : REAL\nVAR_INPUT x : REAL; END_VAR\n"
	                       "F_Scale := x * 2.0;\nEND_FUNCTION\n", orig);
	json_t *r = diff_json(WD, orig, edit);

	expect_changes(r, exp);
	json_decref(r);
	free(orig);
	free(edit);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(blink_tree),
		cmocka_unit_test(pid_comments),
		cmocka_unit_test(wd_tree),
		cmocka_unit_test(scl_tree),
		cmocka_unit_test(types_methods_tree),
		cmocka_unit_test(not_st),
		cmocka_unit_test(m_type_changed),
		cmocka_unit_test(m_initial_value),
		cmocka_unit_test(m_pou_renamed),
		cmocka_unit_test(m_statement_edited),
		cmocka_unit_test(m_variable_added),
		cmocka_unit_test(m_variable_removed),
		cmocka_unit_test(m_comment_changed),
		cmocka_unit_test(m_moved_to_other_section),
		cmocka_unit_test(m_whitespace_only),
		cmocka_unit_test(m_section_qualifier),
		cmocka_unit_test(m_array_bound),
		cmocka_unit_test(m_pou_added),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
