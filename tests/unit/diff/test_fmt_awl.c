/*
 * tests/unit/diff/test_fmt_awl.c - AWL/STL: blocks, headers, declarations
 * and networks of real awlsim sources, the legacy bare-instruction format,
 * and edits of a real STEP 7 export giving exactly the expected changes.
 */
#include "tests/unit/diff/fmt_testutil.h"

#define HEADERS "siemens/mbuesch__awlsim/tests/tc000_base/headers.awl"
#define ACME "siemens/mbuesch__awlsim/tests/tc999_projects/acme-002.awl"
#define LEGACY "siemens/mbuesch__awlsim/tests/tc999_projects/trafficlights_1.awl"

static void headers_tree(void **state)
{
	struct dnode *t = parse_corpus(&diff_fmt_awl, HEADERS);
	const struct dnode *nets;

	expect_kids(t, "", "Block[OB 1], Block[FC 1], Block[FB 1], Block[DB 1], Block[DB 2], "
	                   "Block[DB 3], TYPE[UDT 1]");
	expect_attr(t, "Block[OB 1]", "kind", "ORGANIZATION_BLOCK");
	expect_attr(t, "Block[OB 1]", "title", "This is the title");
	expect_attr(t, "Block[OB 1]", "author", "This is the author");
	expect_attr(t, "Block[OB 1]", "version", "0.1");
	expect_attr(t, "Block[OB 1]", "flags", "KNOW_HOW_PROTECT STANDARD");
	expect_kids(t, "Block[OB 1]", "VAR_TEMP, Networks");
	expect_attr(t, "Block[OB 1]/VAR_TEMP/a", "data type", "INT");
	nets = must(t, "Block[OB 1]/Networks");
	assert_true(nets->flags & DNODE_SEQUENCE);
	assert_int_equal(nets->nkids, 2);
	assert_string_equal(nets->kids[0]->type, "Network");
	assert_string_equal(dnode_attr(nets->kids[0], "title"), "This is the first network title");
	assert_string_equal(nets->kids[0]->body, "\tNOP 0");
	assert_string_equal(nets->kids[0]->body_what, "network");
	assert_string_equal(nets->kids[1]->body, "\tNOP 0\n\n\n\tCALL SFC 46 // STOP CPU");
	expect_attr(t, "Block[FC 1]", "return type", "VOID");
	expect_kids(t, "Block[FC 1]", "VAR_INPUT, VAR_OUTPUT, VAR_IN_OUT, VAR_TEMP, Networks");
	expect_kids(t, "Block[FB 1]", "VAR, VAR_INPUT, VAR_OUTPUT, VAR_IN_OUT, VAR_TEMP, Networks");
	expect_attr(t, "Block[DB 1]/STRUCT/a", "data type", "INT");
	expect_attr(t, "Block[DB 2]", "instance of", "FB 1");
	expect_attr(t, "Block[DB 3]", "instance of", "SFB -1");
	expect_attr(t, "TYPE[UDT 1]/a", "data type", "INT");
	dnode_free(t);
}

static void acme_tree(void **state)
{
	struct dnode *t = parse_corpus(&diff_fmt_awl, ACME);
	const struct dnode *nets;

	expect_attr(t, "Block[DB 1]/STRUCT/OUT_FIL", "initial value", "2.000000e+001");
	expect_attr(t, "Block[DB 1]/STRUCT/OUT_FIL", "comment", "Filter OUTPUT");
	expect_attr(t, "Block[DB 1]/Values/OUT_FIL", "value", "2.000000e+001");
	expect_attr(t, "Block[FC 170]", "title", "SCALING VALUES");
	expect_attr(t, "Block[FC 170]", "family", "CONVERT");
	expect_attr(t, "Block[FC 170]", "return type", "WORD");
	expect_attr(t, "Block[FC 170]/VAR_INPUT/BIPOLAR", "comment", "1=bipolar; 0=unipolar");
	nets = must(t, "Block[FC 185]/Networks");
	assert_string_equal(dnode_attr(nets->kids[0], "title"), "read XE input");
	assert_string_equal(nets->kids[0]->body, "      L     #XE;\n      T     #MD232;\n      NOP   0;");
	dnode_free(t);
}

static void legacy_bare_instructions(void **state)
{
	size_t len;
	char *text = corpus_read(LEGACY, &len);
	struct dnode *t = NULL;

	assert_true(diff_fmt_awl.detect(text, len) >= 50);
	assert_int_equal(diff_fmt_awl.parse(&t, text, len), 0);
	expect_kids(t, "", "Block[OB 1]");
	assert_non_null(strstr(must(t, "Block[OB 1]")->body, "spl:\tL\tZ 0"));
	dnode_free(t);
	free(text);
}

static void detection(void **state)
{
	size_t len;
	char *text = corpus_read(HEADERS, &len);

	/* AWL beats ST on AWL, ST beats AWL on ST */
	assert_true(diff_fmt_awl.detect(text, len) > diff_fmt_st.detect(text, len));
	free(text);
	text = corpus_read("st/beremiz__matiec/AnnexF/pid_st.txt", &len);
	assert_true(diff_fmt_st.detect(text, len) > diff_fmt_awl.detect(text, len));
	free(text);
}

/* ---- edits of a real STEP 7 export ---- */

static void m_network_edited(void **state)
{
	const char *const exp[] = { "modified Block[FC 185]/Networks/Network[0] | network", NULL };

	json_decref(mutate(ACME, "      L     #XE; \r\n      T     #MD232; ",
	                   "      L     #XE; \r\n      T     #MD204; ", exp));
}

static void m_network_title(void **state)
{
	const char *const exp[] = { "modified Block[FC 185]/Networks/Network[0] | title", NULL };
	json_t *r = mutate(ACME, "TITLE =read XE input", "TITLE =read the XE input", exp);

	expect_values(r, exp[0], "read XE input", "read the XE input");
	json_decref(r);
}

static void m_network_inserted(void **state)
{
	const char *const exp[] = { "added Block[FC 185]/Networks/Network[1] | Network", NULL };

	json_decref(mutate(ACME, "      NOP   0; \r\nNETWORK\r\nTITLE =\r\n\r\n      AN    #INIT; ",
	                   "      NOP   0; \r\nNETWORK\r\nTITLE =new one\r\n      SET   ; \r\n"
	                   "NETWORK\r\nTITLE =\r\n\r\n      AN    #INIT; ", exp));
}

static void m_declaration_type(void **state)
{
	const char *const exp[] = { "modified Block[FC 170]/VAR_INPUT/IN | data type", NULL };

	json_decref(mutate(ACME, "  IN : INT ;", "  IN : DINT ;", exp));
}

static void m_db_value(void **state)
{
	const char *const exp[] = { "modified Block[DB 1]/Values/OUT_FIL | value", NULL };
	json_t *r = mutate(ACME, "   OUT_FIL := 2.000000e+001; ", "   OUT_FIL := 2.500000e+001; ", exp);

	assert_true(json_real_value(json_object_get(change_at(r, exp[0]), "delta")) == 5.0);
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(headers_tree),
		cmocka_unit_test(acme_tree),
		cmocka_unit_test(legacy_bare_instructions),
		cmocka_unit_test(detection),
		cmocka_unit_test(m_network_edited),
		cmocka_unit_test(m_network_title),
		cmocka_unit_test(m_network_inserted),
		cmocka_unit_test(m_declaration_type),
		cmocka_unit_test(m_db_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
