/*
 * tests/unit/diff/test_diff_l5x.c - the L5X format on a real Studio 5000
 * export: hand-made edits (string replacements on the real file) must give
 * exactly the expected change list, and export noise must not show.
 */
#include "tests/unit/diff/diff_testutil.h"

#define TEST_L5X "l5x/tnunnink__L5Sharp/tests/L5Sharp.Tests.Samples/Projects/Test.L5X"
#define MAIN "Program[MainProgram]/Routine[Main]"

static void rung_inserted(void **state)
{
	const char *const exp[] = { "added " MAIN "/Rung[2] | Rung", NULL };
	json_t *r = mutate(TEST_L5X, "<Rung Number=\"2\" Type=\"N\">\n<Text>\n<![CDATA[aoi_Test(",
	                   "<Rung Number=\"2\" Type=\"N\">\n<Text>\n<![CDATA[XIC(SimpleBool)OTE(BufferTag);]]>\n"
	                   "</Text>\n</Rung>\n<Rung Number=\"3\" Type=\"N\">\n<Text>\n<![CDATA[aoi_Test(", exp);

	expect_values(r, "added " MAIN "/Rung[2] | Rung", NULL, "XIC(SimpleBool)OTE(BufferTag);");
	json_decref(r);
}

static void rung_edited(void **state)
{
	const char *const exp[] = { "modified " MAIN "/Rung[8] | rung logic", NULL };
	json_t *r = mutate(TEST_L5X, "GT(SimpleInt,100)OTE(SimpleArray[4].0);",
	                   "GT(SimpleInt,150)OTE(SimpleArray[4].0);", exp);

	expect_values(r, "modified " MAIN "/Rung[8] | rung logic", "GT(SimpleInt,100)OTE(SimpleArray[4].0);",
	              "GT(SimpleInt,150)OTE(SimpleArray[4].0);");
	json_decref(r);
}

static void rung_deleted(void **state)
{
	const char *const exp[] = { "removed " MAIN "/Rung[5] | Rung", NULL };

	json_decref(mutate(TEST_L5X, "<Rung Number=\"5\" Type=\"N\">\n<Text>\n<![CDATA[MOVE(SimpleSint,AsciiTag);]]>\n</Text>\n</Rung>\n",
	                   "", exp));
}

static void rung_comment_added(void **state)
{
	const char *const exp[] = { "added " MAIN "/Rung[0] | comment", NULL };
	json_t *r = mutate(TEST_L5X, "<Rung Number=\"0\" Type=\"N\">\n<Text>\n<![CDATA[TON(TestTimer",
	                   "<Rung Number=\"0\" Type=\"N\">\n<Comment>\n<![CDATA[Start the test timer]]>\n</Comment>\n"
	                   "<Text>\n<![CDATA[TON(TestTimer", exp);

	expect_values(r, "added " MAIN "/Rung[0] | comment", NULL, "Start the test timer");
	json_decref(r);
}

static void st_line_changed(void **state)
{
	const char *const exp[] = { "modified Program[MainProgram]/Routine[ST] | ST", NULL };
	json_t *r = mutate(TEST_L5X, "_Test := TestSimpleTag.DintMember MOD 100;",
	                   "_Test := TestSimpleTag.DintMember MOD 200;", exp);
	const char *patch = json_string_value(json_object_get(
		change_at(r, "modified Program[MainProgram]/Routine[ST] | ST"), "patch"));

	assert_non_null(patch);
	assert_non_null(strstr(patch, "-_Test := TestSimpleTag.DintMember MOD 100;\n"));
	assert_non_null(strstr(patch, "+_Test := TestSimpleTag.DintMember MOD 200;\n"));
	json_decref(r);
}

static void tag_value_changed(void **state)
{
	const char *const exp[] = { "modified Program[MainProgram]/Tag[ADD_01]/Value[SourceA] | value", NULL };
	json_t *r = mutate(TEST_L5X, "<DataValueMember Name=\"SourceA\" DataType=\"REAL\" Radix=\"Float\" Value=\"0.0\"/>",
	                   "<DataValueMember Name=\"SourceA\" DataType=\"REAL\" Radix=\"Float\" Value=\"2.5\"/>", exp);
	json_t *c = change_at(r, "modified Program[MainProgram]/Tag[ADD_01]/Value[SourceA] | value");

	assert_true(json_real_value(json_object_get(c, "delta")) == 2.5);
	json_decref(r);
}

static void tag_type_changed(void **state)
{
	const char *const exp[] = { "modified Tag[SimpleInt] | DataType", NULL };
	json_t *r = mutate(TEST_L5X, "<Tag Name=\"SimpleInt\" TagType=\"Base\" DataType=\"INT\"",
	                   "<Tag Name=\"SimpleInt\" TagType=\"Base\" DataType=\"DINT\"", exp);

	expect_values(r, "modified Tag[SimpleInt] | DataType", "INT", "DINT");
	json_decref(r);
}

static void udt_member_dimension(void **state)
{
	const char *const exp[] = { "modified DataType[ArrayType]/Member[DintArray] | Dimension", NULL };
	json_t *r = mutate(TEST_L5X, "<Member Name=\"DintArray\" DataType=\"DINT\" Dimension=\"5\"",
	                   "<Member Name=\"DintArray\" DataType=\"DINT\" Dimension=\"10\"", exp);

	assert_true(json_real_value(json_object_get(
		change_at(r, "modified DataType[ArrayType]/Member[DintArray] | Dimension"), "delta")) == 5);
	json_decref(r);
}

static void aoi_parameter_changed(void **state)
{
	const char *const exp[] = { "modified AddOnInstructionDefinition[aoi_Test]/Parameter[Config] | Required", NULL };

	json_decref(mutate(TEST_L5X, "<Parameter Name=\"Config\" TagType=\"Base\" DataType=\"INT\" Usage=\"Input\" Radix=\"Decimal\" Required=\"true\"",
	                   "<Parameter Name=\"Config\" TagType=\"Base\" DataType=\"INT\" Usage=\"Input\" Radix=\"Decimal\" Required=\"false\"", exp));
}

static void task_rate_changed(void **state)
{
	const char *const exp[] = { "modified Task[Periodic] | Rate", NULL };

	json_decref(mutate(TEST_L5X, "<Task Name=\"Periodic\" Type=\"PERIODIC\" Rate=\"10\"",
	                   "<Task Name=\"Periodic\" Type=\"PERIODIC\" Rate=\"20\"", exp));
}

static void routine_renamed(void **state)
{
	const char *const exp[] = { "renamed Program[MainProgram]/Routine[ST2] | Routine", NULL };
	json_t *r = mutate(TEST_L5X, "<Routine Name=\"ST\" Type=\"ST\">", "<Routine Name=\"ST2\" Type=\"ST\">", exp);

	expect_values(r, "renamed Program[MainProgram]/Routine[ST2] | Routine", "ST", "ST2");
	json_decref(r);
}

static void fbd_operand_changed(void **state)
{
	const char *const exp[] = {
		"modified Program[MainProgram]/Routine[FBD]/FBDContent/Sheet[1]/IRef[1] | Operand", NULL };

	json_decref(mutate(TEST_L5X, "<IRef ID=\"1\" X=\"180\" Y=\"160\" Operand=\"SimpleBool\"",
	                   "<IRef ID=\"1\" X=\"180\" Y=\"160\" Operand=\"SimpleDint\"", exp));
}

static void fbd_layout_is_noise(void **state)
{
	const char *const exp[] = { NULL };

	json_decref(mutate(TEST_L5X, "<IRef ID=\"1\" X=\"180\" Y=\"160\"", "<IRef ID=\"1\" X=\"200\" Y=\"180\"", exp));
}

/* Noise rule: export date, software revision, last-modified and AOI edited dates are dropped; a real edit beside them is kept. */
static void export_stamps_are_noise(void **state)
{
	const char *const exp[] = { "modified " MAIN "/Rung[1] | rung logic", NULL };
	char *orig = corpus_read(TEST_L5X, NULL);
	char *a = replace_once(orig, "ExportDate=\"Tue Feb 17 15:38:50 2026\"", "ExportDate=\"Wed Mar 18 09:00:00 2026\"");
	char *b = replace_once(a, "SoftwareRevision=\"36.00\"", "SoftwareRevision=\"37.00\"");
	char *c = replace_once(b, "LastModifiedDate=\"Tue Feb 17 15:38:39 2026\"", "LastModifiedDate=\"Wed Mar 18 08:59:00 2026\"");
	char *e = replace_once(c, "EditedDate=\"2026-02-12T15:18:41.101Z\"", "EditedDate=\"2026-03-01T10:00:00.000Z\"");
	char *d = replace_once(e, "MOVE(16#20,SimpleSint);", "MOVE(16#21,SimpleSint);");
	json_t *r = diff_json(TEST_L5X, orig, e);

	expect_changes(r, (const char *const[]){ NULL });
	json_decref(r);
	r = diff_json(TEST_L5X, orig, d);
	expect_changes(r, exp);
	json_decref(r);
	free(orig);
	free(a);
	free(b);
	free(c);
	free(d);
	free(e);
}

/* Noise rule: CRLF line endings, attribute order and whitespace between elements are not changes. */
static void layout_of_xml_is_noise(void **state)
{
	char *orig = corpus_read(TEST_L5X, NULL);
	struct buf crlf = BUF_INIT;
	char *swapped, *spaced;
	json_t *r;

	for (const char *p = orig; *p; p++) {
		if (*p == '\n')
			assert_int_equal(buf_addch(&crlf, '\r'), 0);
		assert_int_equal(buf_addch(&crlf, *p), 0);
	}
	r = diff_json(TEST_L5X, orig, buf_cstr(&crlf));
	expect_changes(r, (const char *const[]){ NULL });
	json_decref(r);
	swapped = replace_once(orig, "<Task Name=\"Periodic\" Type=\"PERIODIC\" Rate=\"10\" Priority=\"10\"",
	                       "<Task Name=\"Periodic\" Priority=\"10\" Rate=\"10\" Type=\"PERIODIC\"");
	spaced = replace_once(swapped, "<RLLContent>\n<Rung Number=\"0\"", "<RLLContent>\n\n   \t<Rung Number=\"0\"");
	r = diff_json(TEST_L5X, orig, spaced);
	expect_changes(r, (const char *const[]){ NULL });
	json_decref(r);
	buf_release(&crlf);
	free(orig);
	free(swapped);
	free(spaced);
}

static void history_pair_has_changes(void **state)
{
	char *a = corpus_read("l5x/tnunnink__L5Sharp/tests/L5Sharp.Tests.Samples/Projects/Test@8859c88d.L5X", NULL);
	char *b = corpus_read(TEST_L5X, NULL);
	json_t *r = diff_json("Test.L5X", a, b);

	assert_string_equal(json_string_value(json_object_get(r, "format")), "l5x");
	assert_true(json_is_true(json_object_get(json_object_get(r, "parsed"), "old")));
	assert_true(json_array_size(json_object_get(r, "changes")) > 0);
	json_decref(r);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rung_inserted),
		cmocka_unit_test(rung_edited),
		cmocka_unit_test(rung_deleted),
		cmocka_unit_test(rung_comment_added),
		cmocka_unit_test(st_line_changed),
		cmocka_unit_test(tag_value_changed),
		cmocka_unit_test(tag_type_changed),
		cmocka_unit_test(udt_member_dimension),
		cmocka_unit_test(aoi_parameter_changed),
		cmocka_unit_test(task_rate_changed),
		cmocka_unit_test(routine_renamed),
		cmocka_unit_test(fbd_operand_changed),
		cmocka_unit_test(fbd_layout_is_noise),
		cmocka_unit_test(export_stamps_are_noise),
		cmocka_unit_test(layout_of_xml_is_noise),
		cmocka_unit_test(history_pair_has_changes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
